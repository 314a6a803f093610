import { spawn } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { describe, expect, it } from 'vitest';
import { backend, KVM, loadNative } from '../src/index.js';
import { guestMemoryMappingCount, kvmStatus, kvmUsable, loadRealModeGuest, openFdCount, realModeSregs, registersAt, vmsDisposedAfterEach } from './helpers/kvm.js';

const MEMORY_SIZE = 0x10000;

describe.skipIf(!kvmUsable)('backend with KVM (needs /dev/kvm)', () => {
  const { createVm, track } = vmsDisposedAfterEach(MEMORY_SIZE);

  it('check() says KVM is usable', () => {
    expect(kvmStatus).toEqual({ usable: true, detail: 'KVM API 12 on /dev/kvm' });
  });

  it('runs a real-mode guest: `mov al,0x42; out 0x10,al; hlt` exits io-out 0x10 = 0x42, then halt', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [0xb0, 0x42, 0xe6, 0x10, 0xf4]);
    expect(vm.run(entry)).toEqual({ kind: 'io-out', port: 0x10, size: 1, value: 0x42 });
    expect(vm.run()).toEqual({ kind: 'halt' });
  });

  it('shares memory zero-copy both ways', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [
      0xa0, 0x00, 0x20, //             mov al, [0x2000]
      0xe6, 0x10, //                   out 0x10, al
      0xc6, 0x06, 0x01, 0x20, 0x99, // mov byte [0x2001], 0x99
      0xf4, //                         hlt
    ]);
    const bytes = new Uint8Array(vm.memory);
    bytes[0x2000] = 0x5a; // JS writes, the guest reads
    expect(vm.run(entry)).toEqual({ kind: 'io-out', port: 0x10, size: 1, value: 0x5a });
    expect(vm.run()).toEqual({ kind: 'halt' });
    expect(bytes[0x2001]).toBe(0x99); // the guest writes, JS sees
  });

  it('restoreMemory() takes back guest and host writes, and the guest sees it; createVm({ memory }) starts from a snapshot', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [
      0xa0, 0x00, 0x20, //             mov al, [0x2000]
      0xe6, 0x10, //                   out 0x10, al
      0xc6, 0x06, 0x00, 0x20, 0x77, // mov byte [0x2000], 0x77
      0xf4, //                         hlt
    ]);
    const bytes = new Uint8Array(vm.memory);
    bytes[0x2000] = 0x11;
    using snapshot = vm.snapshotMemory();
    expect(vm.privatePageCount()).toBe(0);
    for (let round = 0; round < 3; round++) {
      expect(vm.run(entry)).toEqual({ kind: 'io-out', port: 0x10, size: 1, value: 0x11 });
      expect(vm.run()).toEqual({ kind: 'halt' });
      expect(bytes[0x2000]).toBe(0x77); // the guest wrote after the snapshot
      bytes[0x5000] = 0xee; // so did the host
      expect(vm.privatePageCount()).toBeGreaterThanOrEqual(2);
      vm.restoreMemory(snapshot);
      expect([bytes[0x2000], bytes[0x5000]]).toEqual([0x11, 0]);
    }
    const copy = backend.createVm({ memorySize: MEMORY_SIZE, memory: snapshot });
    track(copy);
    expect(new Uint8Array(copy.memory)[0x2000]).toBe(0x11);
    copy.setSpecialRegisters(realModeSregs(copy.getSpecialRegisters())); // the code is already in its memory
    expect(copy.run(entry)).toEqual({ kind: 'io-out', port: 0x10, size: 1, value: 0x11 });
    expect(copy.run()).toEqual({ kind: 'halt' });
    expect(bytes[0x2000]).toBe(0x11); // the copy's write is its own
    expect(() => backend.createVm({ memorySize: MEMORY_SIZE * 2, memory: snapshot })).toThrow(RangeError);
  });

  it('the guest sees every memory switch: host writes after snapshotMemory(), restore to another snapshot and back', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [
      0xa0, 0x00, 0x20, //       mov al, [0x2000]
      0xe6, 0x10, //             out 0x10, al
      0xfe, 0x06, 0x00, 0x20, // inc byte [0x2000]
      0xf4, //                   hlt
    ]);
    const bytes = new Uint8Array(vm.memory);
    const readByGuest = (): number => {
      const exit = vm.run(entry);
      expect(vm.run()).toEqual({ kind: 'halt' });
      return exit.kind === 'io-out' ? exit.value : -1;
    };
    bytes[0x2000] = 0x11;
    expect(readByGuest()).toBe(0x11); // KVM now maps the page of the VM's own memfd
    using first = vm.snapshotMemory(); // holds 0x12
    bytes[0x2000] = 0x20; // the host's copy-on-write page, not the old memfd page
    expect(readByGuest()).toBe(0x20);
    using second = vm.snapshotMemory(); // holds 0x21
    expect(readByGuest()).toBe(0x21);
    vm.restoreMemory(first); // another snapshot: remapped
    expect(readByGuest()).toBe(0x12);
    vm.restoreMemory(second);
    expect(readByGuest()).toBe(0x21);
    vm.restoreMemory(second); // the same snapshot: private pages discarded
    expect(readByGuest()).toBe(0x21);
    expect(bytes[0x2000]).toBe(0x22);
    expect(() => vm.restoreMemory({ size: MEMORY_SIZE, read() {}, dispose() {}, [Symbol.dispose]() {} })).toThrow(TypeError);
    expect(() => backend.createVm({ memorySize: MEMORY_SIZE, memory: vm as never })).toThrow(TypeError);
  });

  it('getFpuState()/setFpuState() carry MXCSR and the x87 control word (FXSAVE layout: FCW at 0, MXCSR at 24)', () => {
    const vm = createVm();
    const state = vm.getFpuState();
    const view = new DataView(state.buffer, state.byteOffset, state.byteLength);
    expect([view.getUint16(0, true), view.getUint32(24, true)]).toEqual([0x37f, 0x1f80]);
    view.setUint16(0, 0x27f, true);
    view.setUint32(24, 0x7f80, true);
    // XSAVE header XSTATE_BV (byte 512): x87 and SSE are not in their initial state any more.
    if (state.byteLength > 512) state[512] = state[512]! | 0x3;
    vm.setFpuState(state);
    const back = vm.getFpuState();
    const backView = new DataView(back.buffer, back.byteOffset, back.byteLength);
    expect([backView.getUint16(0, true), backView.getUint32(24, true)]).toEqual([0x27f, 0x7f80]);
  });

  it('round-trips all general registers through sync_regs', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [0xf4]);
    let value = 0x8877_6655_4433_2211n;
    for (const name of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) {
      entry[name] = value;
      value = (value * 3n + 0x1234n) & 0xffff_ffff_ffff_ffffn;
    }
    expect(vm.run(entry)).toEqual({ kind: 'halt' });
    expect(vm.getRegisters()).toEqual({ ...entry, rip: 0x1001n });

    // setRegisters() is applied by the next run().
    vm.setRegisters({ ...entry, rip: 0x1000n, rax: 7n });
    expect(vm.getRegisters().rax).toBe(7n);
    expect(vm.run()).toEqual({ kind: 'halt' });
    expect(vm.getRegisters()).toEqual({ ...entry, rax: 7n, rip: 0x1001n });
  });

  it('round-trips the special registers', () => {
    const vm = createVm();
    const sregs = vm.getSpecialRegisters();
    const changed = {
      ...sregs,
      cs: { ...sregs.cs, base: 0n, selector: 0 },
      es: { ...sregs.es, base: 0x1000n, selector: 0x100 },
      gdt: { base: 0x3000n, limit: 0x27 },
      idt: { base: 0x4000n, limit: 0x3ff },
      cr2: 0xdead_beefn,
    };
    vm.setSpecialRegisters(changed);
    expect(vm.getSpecialRegisters()).toEqual(changed);
    new Uint8Array(vm.memory)[0x1000] = 0xf4;
    expect(vm.run(registersAt(0x1000))).toEqual({ kind: 'halt' });
    expect(vm.getSpecialRegisters()).toEqual(changed);
  });

  it('answers `in` with zeroes', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [0xe4, 0x60, 0xe6, 0x10, 0xf4]); // in al,0x60; out 0x10,al; hlt
    expect(vm.run({ ...entry, rax: 0x55n })).toEqual({ kind: 'io-in', port: 0x60, size: 1 });
    expect(vm.run()).toEqual({ kind: 'io-out', port: 0x10, size: 1, value: 0 });
  });

  it('reports accesses to unbacked guest-physical memory as unmapped memory faults (reads get zeroes)', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [
      0xb8, 0x00, 0x20, //             mov ax, 0x2000
      0x8e, 0xd8, //                   mov ds, ax      (ds base 0x20000: past the 64 KiB of memory)
      0xa0, 0x00, 0x00, //             mov al, [0]
      0xe6, 0x10, //                   out 0x10, al
      0xc6, 0x06, 0x01, 0x00, 0x77, // mov byte [1], 0x77
      0xf4, //                         hlt
    ]);
    expect(vm.run({ ...entry, rax: 0xffn })).toEqual({ kind: 'memory-fault', gpa: 0x20000n, access: 'read', unmapped: true });
    expect(vm.run()).toEqual({ kind: 'io-out', port: 0x10, size: 1, value: 0 });
    expect(vm.run()).toEqual({ kind: 'memory-fault', gpa: 0x20001n, access: 'write', unmapped: true });
    expect(vm.run()).toEqual({ kind: 'halt' });
  });

  it('loads a CPUID table, so `cpuid` answers in the guest (leaf 0 names the host vendor)', () => {
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, [
      0x66, 0x31, 0xc0, // xor eax, eax
      0x0f, 0xa2, //       cpuid
      0x66, 0x89, 0xd8, // mov eax, ebx
      0x66, 0xe7, 0x10, // out 0x10, eax
      0xf4,
    ]);
    using kvm = new (loadNative().Kvm)();
    const vendor = kvm.getSupportedCpuid().find((entry) => entry.function === 0)!.ebx;
    expect(vendor).not.toBe(0);
    expect(vm.run(entry)).toEqual({ kind: 'io-out', port: 0x10, size: 4, value: vendor });
  });

  it('a new VM starts at the power-on x87 control word, whatever an earlier VM on this thread left', () => {
    const fnstcw = [0xd9, 0x3e, 0x00, 0x30, 0xf4]; // fnstcw [0x3000]; hlt
    const first = createVm();
    const data = new DataView(first.memory);
    data.setUint16(0x3010, 0x027f, true);
    expect(first.run(loadRealModeGuest(first, 0x1000, [0xd9, 0x2e, 0x10, 0x30, ...fnstcw]))).toEqual({ kind: 'halt' }); // fldcw [0x3010]
    expect(data.getUint16(0x3000, true)).toBe(0x27f);
    const second = createVm();
    expect(second.run(loadRealModeGuest(second, 0x1000, fnstcw))).toEqual({ kind: 'halt' });
    expect(new DataView(second.memory).getUint16(0x3000, true)).toBe(0x37f);
  });

  it('reports xsaveEnabled as a boolean', () => {
    expect(typeof createVm().xsaveEnabled).toBe('boolean');
  });

  it('reports the guest TSC frequency (KVM_GET_TSC_KHZ) as a plausible number of Hz, the same on every read', () => {
    const vm = createVm();
    const hz = vm.tscFrequencyHz;
    expect(hz).toBeGreaterThan(100e6);
    expect(hz).toBeLessThan(10e9);
    expect(Number.isSafeInteger(hz)).toBe(true);
    expect(vm.tscFrequencyHz).toBe(hz);
  });

  it('a stray signal that stops KVM_RUN never surfaces: run() re-enters the guest, which completes', async () => {
    // A bounded loop, so a lost signal cannot hang the test.
    const code = [
      0x66, 0xb9, 0x00, 0x00, 0x10, 0x00, // 0x1000: mov ecx, 0x100000
      0x66, 0x49, //                         0x1006: dec ecx
      0x75, 0xfc, //                         0x1008: jnz 0x1006
      0xf4, //                               0x100a: hlt
    ];
    const vm = createVm();
    const entry = loadRealModeGuest(vm, 0x1000, code);
    // The same guest on a bare vCPU, whose run() reports the interruption itself.
    const addon = loadNative();
    using kvm = new addon.Kvm();
    using memory = new addon.GuestMemory(MEMORY_SIZE);
    using vmFd = kvm.createVm();
    vmFd.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory });
    using vcpu = vmFd.createVcpu(0);
    vcpu.setSregs(realModeSregs(vcpu.getSregs()));
    new Uint8Array(memory.buffer).set(code, 0x1000);

    const onSignal = (): void => {};
    process.on('SIGUSR2', onSignal);
    // Signal again and again until one lands while KVM_RUN runs the loop (one
    // that lands between runs is simply handled by Node).
    const killer = spawn('sh', ['-c', `while kill -USR2 ${process.pid}; do sleep 0.05; done`], { stdio: 'ignore' });
    const killerExited = new Promise((resolve) => killer.on('exit', resolve));
    let interrupted = 0;
    const kinds = new Set<string>();
    try {
      const deadline = Date.now() + 60_000;
      while (interrupted === 0 && Date.now() < deadline) {
        vcpu.setRegs(registersAt(0x1000));
        if (vcpu.run() === KVM.KVM_EXIT_INTR) interrupted++;
      }
      // The signals keep coming while the backend's VM runs the same loop.
      for (let i = 0; i < 20; i++) {
        kinds.add(vm.run(entry).kind);
        expect(vm.getRegisters()).toMatchObject({ rcx: 0n, rip: 0x100bn }); // the loop ran to the end
      }
    } finally {
      killer.kill();
      await killerExited; // no signal can arrive after this
      process.off('SIGUSR2', onSignal);
    }
    expect(interrupted).toBe(1); // signals do stop KVM_RUN here...
    expect([...kinds]).toEqual(['halt']); // ...but never surface from VirtualMachine.run()
  }, 120_000);

  it('creates VMs while signals keep arriving (the CPU profiler samples with SIGPROF): no EINTR surfaces', async () => {
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 50 }); // µs: far shorter than a VM creation
      await session.post('Profiler.start');
      for (let i = 0; i < 20; i++) backend.createVm({ memorySize: MEMORY_SIZE }).dispose();
      const { profile } = await session.post('Profiler.stop');
      expect(profile.samples?.length ?? 0).toBeGreaterThan(20); // the signals did arrive meanwhile
    } finally {
      session.disconnect();
    }
  }, 120_000);

  it('creating and disposing 50 VMs leaves the fd count and the mappings unchanged', () => {
    backend.createVm({ memorySize: MEMORY_SIZE }).dispose(); // opens the shared /dev/kvm fd once
    const fds = openFdCount();
    const mappings = guestMemoryMappingCount();
    for (let i = 0; i < 50; i++) {
      const vm = backend.createVm({ memorySize: MEMORY_SIZE });
      new Uint8Array(vm.memory)[0] = i;
      vm.dispose();
    }
    expect(openFdCount()).toBe(fds);
    expect(guestMemoryMappingCount()).toBe(mappings);
  }, 120_000); // VM creation is slow under nested emulation (tools/kvm-vm)

  it('dispose() closes every fd of the VM and detaches its memory; then every method throws', () => {
    backend.createVm({ memorySize: MEMORY_SIZE }).dispose();
    const fds = openFdCount();
    const vm = backend.createVm({ memorySize: MEMORY_SIZE });
    expect(openFdCount()).toBe(fds + 3); // memfd, VM, vCPU
    vm.dispose();
    vm.dispose();
    expect(openFdCount()).toBe(fds);
    expect(vm.memory.byteLength).toBe(0);
    const disposed = expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' });
    expect(() => vm.run()).toThrow(disposed);
    expect(() => vm.run(registersAt(0))).toThrow(disposed);
    expect(() => vm.getRegisters()).toThrow(disposed);
    expect(() => vm.getSpecialRegisters()).toThrow(disposed);
  });

  it('supports `using`', () => {
    let memory: ArrayBuffer;
    {
      using vm = backend.createVm({ memorySize: MEMORY_SIZE });
      memory = vm.memory;
      expect(memory.byteLength).toBe(MEMORY_SIZE);
    }
    expect(memory.byteLength).toBe(0);
  });
});
