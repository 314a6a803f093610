// Guest entry and exit costs through the backend, next to the raw-KVM floor
// (bench/floor/floor.c at the repository root: the same ioctls in plain C) on
// the same ring-3 guest: the page tables, GDT, TSS and code below are the
// ones floor.c writes. Needs /dev/kvm (or tools/kvm-vm/run.sh) and a build.
//   node bench/run-loop.mjs [iterations]
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backend, loadNative } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const iterations = Number(process.argv[2] ?? 2000);
const WARMUP = 100;

const floorSource = join(here, '..', '..', '..', 'bench', 'floor', 'floor.c');
const floor = join(here, 'build', 'floor');
mkdirSync(join(here, 'build'), { recursive: true });
execFileSync('gcc', ['-O2', '-o', floor, floorSource]);
const floorResult = JSON.parse(
  execFileSync(floor, ['--warmup', String(WARMUP), '--iterations', String(iterations)], { encoding: 'utf8' }),
);
console.log('raw KVM in C (floor):');
report('resume: KVM_RUN to the next `out` exit', floorResult.roundTripUs);
report('entry: sync_regs + KVM_RUN to the `out` exit', floorResult.entryUs);

const status = backend.check();
if (!status.usable) throw new Error(`KVM not usable: ${status.reason}: ${status.detail}`);

// floor.c's guest: identity-mapped pages, guest code at CPL3, exits through
// the TSS I/O bitmap. Page 0 is unmapped.
const PAGE = 0x1000;
const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
const SYSTEM = 0x5000, GDT = SYSTEM, IDT = SYSTEM + 0x100, TSS = SYSTEM + 0x400;
const CODE = 0x6000, STACK = 0x7000, EXCEPTION_STACK = 0x8000;
const MEMORY_SIZE = 0x10000;
const HALT_PORT = 0x10, CALL_HOST_PORT = 0x11;
const IO_BITMAP = 0x68, TSS_LIMIT = IO_BITMAP + 32;
// nop (the entry: KVM skips a completed `out` only when RIP still points at it);
// out HALT_PORT, al; out CALL_HOST_PORT, al; jmp back to that second `out`.
const GUEST_CODE = [0x90, 0xe6, HALT_PORT, 0xe6, CALL_HOST_PORT, 0xeb, 0xfc];

function writeGuest(memory) {
  const bytes = new Uint8Array(memory);
  const view = new DataView(memory);
  const entry = (gpa, low, executeDisable) => {
    view.setUint32(gpa, low, true);
    view.setUint32(gpa + 4, executeDisable ? 0x8000_0000 : 0, true);
  };
  const P = 0x1, W = 0x2, U = 0x4, A = 0x20, D = 0x40;
  entry(PML4, PDPT | P | W | U | A, false);
  entry(PDPT, PD | P | W | U | A, false);
  entry(PD, PT | P | W | U | A, false);
  for (let gpa = PML4; gpa <= SYSTEM; gpa += PAGE) entry(PT + (gpa / PAGE) * 8, gpa | P | A, true);
  entry(PT + (CODE / PAGE) * 8, CODE | P | A | U, false);
  entry(PT + (STACK / PAGE) * 8, STACK | P | A | W | D | U, true);
  entry(PT + (EXCEPTION_STACK / PAGE) * 8, EXCEPTION_STACK | P | A | W | D, true);
  // Flat segments (high dwords; the low dwords all hold limit 0xFFFF, base 0):
  // kernel code 0x08, kernel data 0x10, user data 0x18 (0x1b), user code 0x20 (0x23).
  const highs = [[0x08, 0x00af9b00], [0x10, 0x00cf9300], [0x18, 0x00cff300], [0x20, 0x00affb00]];
  for (const [offset, high] of highs) {
    view.setUint32(GDT + offset, 0xffff, true);
    view.setUint32(GDT + offset + 4, high, true);
  }
  // 64-bit TSS descriptor at 0x28: busy, byte-granular, base TSS.
  view.setUint32(GDT + 0x28, ((TSS & 0xffff) << 16) | TSS_LIMIT, true);
  view.setUint32(GDT + 0x2c, ((TSS >>> 16) & 0xff) | 0x8b00, true);
  view.setBigUint64(TSS + 0x04, BigInt(EXCEPTION_STACK + PAGE), true);
  view.setBigUint64(TSS + 0x24, BigInt(EXCEPTION_STACK + PAGE), true);
  view.setUint16(TSS + 0x66, IO_BITMAP, true);
  bytes.fill(0xff, TSS + IO_BITMAP, TSS + TSS_LIMIT + 1);
  for (const port of [HALT_PORT, CALL_HOST_PORT]) bytes[TSS + IO_BITMAP + (port >> 3)] &= ~(1 << (port & 7));
  bytes.set(GUEST_CODE, CODE);
}

function guestSregs({ xsave, availableTss }) {
  const segment = (selector, type, dpl, code) => ({
    base: 0n, limit: 0xffffffff, selector, type, present: true, dpl, db: !code, s: true, l: code, g: true,
    avl: false, unusable: false,
  });
  const data = segment(0x1b, 0x3, 3, false);
  return {
    cs: segment(0x23, 0xb, 3, true), ds: data, es: data, fs: data, gs: data, ss: data,
    tr: {
      base: BigInt(TSS), limit: TSS_LIMIT, selector: 0x28, type: availableTss ? 0x9 : 0xb, present: true, dpl: 0,
      db: false, s: false, l: false, g: false, avl: false, unusable: false,
    },
    ldt: { base: 0n, limit: 0, selector: 0, type: 0, present: false, dpl: 0, db: false, s: false, l: false, g: false, avl: false, unusable: true },
    gdt: { base: BigInt(GDT), limit: 7 * 8 - 1 },
    idt: { base: BigInt(IDT), limit: 0 },
    cr0: 0x80010033n, cr2: 0n, cr3: BigInt(PML4), cr4: xsave ? 0x620n | (1n << 18n) : 0x620n, cr8: 0n,
    efer: 0xd00n, apicBase: 0xfee00900n,
  };
}

const zero = { rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n };
const entry = { ...zero, rip: BigInt(CODE), rsp: BigInt(STACK + PAGE - 8), rflags: 2n };

function report(label, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(`${sorted[sorted.length >> 1].toFixed(2).padStart(8)} us median  ${sorted[0].toFixed(2).padStart(8)} us min  ${label}`);
}

function measure(label, fn) {
  for (let i = 0; i < WARMUP; i++) fn();
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  report(label, times);
}

function expectOut(exit, port) {
  if (exit.kind !== 'io-out' || exit.port !== port) throw new Error(`expected an out to port ${port}, got ${JSON.stringify(exit)}`);
}

console.log('backend (this package):');
const vm = backend.createVm({ memorySize: MEMORY_SIZE });
writeGuest(vm.memory);
// A busy TR, as core loads it: the backend translates it where the host wants another type.
vm.setSpecialRegisters(guestSregs({ xsave: vm.xsaveEnabled, availableTss: false }));
expectOut(vm.run(entry), HALT_PORT);
measure('resume: vm.run() to the next `out` exit', () => expectOut(vm.run(), CALL_HOST_PORT));
measure('entry: vm.run(registers) to the `out` exit', () => expectOut(vm.run(entry), HALT_PORT));
measure('entry + vm.getRegisters()', () => {
  expectOut(vm.run(entry), HALT_PORT);
  return vm.getRegisters();
});
vm.dispose();

// The alternative the run block avoids: registers as an object through KVM_SET_REGS.
const { Kvm, GuestMemory } = loadNative();
const kvm = new Kvm();
const memory = new GuestMemory(MEMORY_SIZE);
writeGuest(memory.buffer);
const vmFd = kvm.createVm();
vmFd.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory });
const vcpu = vmFd.createVcpu(0);
// KVM accepts long mode (EFER.LME, NXE) only for a vCPU whose CPUID offers it.
vcpu.setCpuid2(kvm.getSupportedCpuid());
// Raw ioctls get no translation: take the TR type floor.c found this host needs.
vcpu.setSregs(guestSregs({ xsave: false, availableTss: floorResult.settings.availableTss }));
console.log('native, registers as objects:');
measure('entry: vcpu.setRegs(object) + vcpu.run()', () => {
  vcpu.setRegs(entry);
  vcpu.run(false);
});
measure('entry: vcpu.setRegs(object) + vcpu.run() + vcpu.getRegs()', () => {
  vcpu.setRegs(entry);
  vcpu.run(false);
  return vcpu.getRegs();
});
vcpu.dispose();
vmFd.dispose();
memory.dispose();
kvm.dispose();
