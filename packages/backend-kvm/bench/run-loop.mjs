// Guest entry costs through the backend, next to bench/floor.c (raw ioctls in
// C) on the same guest. Needs /dev/kvm (or tools/kvm-vm/run.sh) and a build.
//   node bench/run-loop.mjs [iterations]
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backend, loadNative } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const iterations = Number(process.argv[2] ?? 2000);

const floor = join(here, 'build', 'floor');
execFileSync('mkdir', ['-p', join(here, 'build')]);
execFileSync('gcc', ['-O2', '-o', floor, join(here, 'floor.c')]);
console.log('raw KVM in C (floor):');
process.stdout.write(execFileSync(floor, [String(iterations)], { encoding: 'utf8' }));

const status = backend.check();
if (!status.usable) throw new Error(`KVM not usable: ${status.reason}: ${status.detail}`);

const vm = backend.createVm({ memorySize: 0x10000 });
new Uint8Array(vm.memory).set([0xe6, 0x10, 0xeb, 0xfc], 0x1000); // out 0x10, al; jmp 0x1000
const sregs = vm.getSpecialRegisters();
vm.setSpecialRegisters({ ...sregs, cs: { ...sregs.cs, base: 0n, selector: 0 } });
const zero = { rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n };
const entry = { ...zero, rip: 0x1000n, rflags: 2n };

function measure(label, fn) {
  for (let i = 0; i < 100; i++) fn();
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  console.log(`${times[times.length >> 1].toFixed(2).padStart(8)} us median  ${times[0].toFixed(2).padStart(8)} us min  ${label}`);
}

console.log('backend (this package):');
const expectOut = (exit) => {
  if (exit.kind !== 'io-out') throw new Error(`unexpected exit ${JSON.stringify(exit)}`);
};
measure('resume: vm.run() to the next `out` exit', () => expectOut(vm.run()));
measure('entry: vm.run(registers) to the `out` exit', () => expectOut(vm.run(entry)));
measure('entry + vm.getRegisters()', () => {
  expectOut(vm.run(entry));
  return vm.getRegisters();
});
vm.dispose();

// The alternative the run block avoids: registers as an object through KVM_SET_REGS.
const { Kvm, GuestMemory } = loadNative();
const kvm = new Kvm();
const memory = new GuestMemory(0x10000);
new Uint8Array(memory.buffer).set([0xe6, 0x10, 0xeb, 0xfc], 0x1000);
const vmFd = kvm.createVm();
vmFd.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory });
const vcpu = vmFd.createVcpu(0);
vcpu.setSregs({ ...vcpu.getSregs(), cs: { ...sregs.cs, base: 0n, selector: 0 } });
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
