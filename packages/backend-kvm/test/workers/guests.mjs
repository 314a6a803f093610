// Real-mode guests for the worker scripts (plain JavaScript: workers load the
// built package from dist/, so `pnpm build` must have run, as `pnpm test` does).

/** `jmp $`: spins until something stops the vCPU. */
export const SPIN = [0xeb, 0xfe];
/** `out 0x10, al; jmp $-2`: an exit on every iteration, for ever. */
export const OUT_LOOP = [0xe6, 0x10, 0xeb, 0xfc];

/** All-zero registers with `rip` and RFLAGS bit 1. */
export function registersAt(rip) {
  return {
    rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
    rip: BigInt(rip), rflags: 0x2n,
  };
}

/** Writes `code` at 0x1000 and prepares real mode with CS base 0; returns the entry registers. */
export function loadGuest(vm, code) {
  new Uint8Array(vm.memory).set(code, 0x1000);
  const sregs = vm.getSpecialRegisters();
  vm.setSpecialRegisters({ ...sregs, cs: { ...sregs.cs, base: 0n, selector: 0 } });
  return registersAt(0x1000);
}

/** Absolute high-resolution time in ms, comparable across threads. */
export function nowMs() {
  return performance.timeOrigin + performance.now();
}
