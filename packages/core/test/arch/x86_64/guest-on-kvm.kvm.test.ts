/**
 * End to end on a real hypervisor: core's ELF loader, layout, PEB, page
 * tables, GDT, IDT, TSS, stubs and register values run a gcc-built static
 * PIE on /dev/kvm (through a tiny C harness, not the backend package), and
 * every forbidden action comes back as the exception docs/abi.md promises.
 *
 * Needs /dev/kvm and gcc; on machines without /dev/kvm run it through
 * `tools/kvm-vm/run.sh --cwd packages/core -- npx vitest run test/arch/x86_64/guest-on-kvm.kvm.test.ts`.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Abi, Ports } from '../../../src/abi/generated.js';
import { entryRegisters } from '../../../src/arch/x86_64/entry-registers.js';
import { isStackGuardFault, readExceptionFrame, type ExceptionFrame } from '../../../src/arch/x86_64/exception-frame.js';
import { exceptionStubGva } from '../../../src/arch/x86_64/exception-stubs.js';
import { guestSpecialRegisters } from '../../../src/arch/x86_64/special-registers.js';
import { writeSystemStructures } from '../../../src/arch/x86_64/system-structures.js';
import type { Segment } from '../../../src/backend/backend.js';
import { loadElf, parseElf, readElfSymbols } from '../../../src/mem/elf-loader.js';
import { GuestMemory } from '../../../src/mem/guest-memory.js';
import { MemoryLayout } from '../../../src/mem/layout.js';
import { writePeb } from '../../../src/mem/peb.js';
import { hasGcc } from '../../fixtures/gcc-guest.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
const usable = hasGcc && kvmUsable();
const why = usable ? '' : ` (skipped: ${hasGcc ? '/dev/kvm is not available; use tools/kvm-vm/run.sh' : 'gcc is not installed'})`;
// CI sets HYPERLIGHT_REQUIRE_HYPERVISOR=1 when /dev/kvm is usable: then skipping is a failure.
if (!usable && process.env.HYPERLIGHT_REQUIRE_HYPERVISOR === '1') {
  throw new Error(`HYPERLIGHT_REQUIRE_HYPERVISOR=1 but this test cannot run${why}`);
}

interface Run {
  exits: { port: number; value: number; direction: string }[];
  other?: string;
  finalRip: bigint;
  finalCs: number;
  cr2: bigint;
  memory: GuestMemory;
  layout: MemoryLayout;
  symbol: (name: string) => bigint;
}

describe.skipIf(!usable)(`core's guest state on /dev/kvm${why}`, () => {
  const dir = usable ? mkdtempSync(join(tmpdir(), 'hl-kvm-')) : '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const build = (args: string[]) => {
    const result = spawnSync('gcc', args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`gcc ${args.join(' ')}: ${result.stderr}`);
  };
  const harness = join(dir, 'kvm-harness');
  const guestPath = join(dir, 'kvm-guest.elf');
  if (usable) {
    build(['-O2', '-o', harness, join(FIXTURES, 'kvm-harness.c')]);
    build([
      '-nostdlib', '-nostartfiles', '-static-pie', '-fPIE', '-Wl,--no-dynamic-linker', '-O1', '-fno-stack-protector',
      '-ffreestanding', '-fcf-protection=none', '-Wno-infinite-recursion', '-o', guestPath, join(FIXTURES, 'kvm-guest.c'),
    ]);
  }
  const guest = usable ? new Uint8Array(readFileSync(guestPath)) : new Uint8Array();
  // QEMU's TCG emulator (tools/kvm-vm) checks I/O permissions only with an available TR (QEMU target/i386/tcg
  // seg_helper.c, `check_io`), so there the harness loads TR as type 0x9, as backend-kvm does on such hosts.
  const qemuTcg = usable && spawnSync(harness, ['--hypervisor'], { encoding: 'utf8' }).stdout.trim() === 'TCGTCGTCGTCG';

  function segmentArg(s: Segment): string {
    return [s.base, s.limit, s.selector, s.type, +s.present, s.dpl, +s.db, +s.s, +s.l, +s.g, +s.avl, +s.unusable].join(':');
  }

  function runScenario(scenario: number, availableTss = qemuTcg): Run {
    const image = parseElf(guest);
    const layout = MemoryLayout.compute({
      imageSize: image.imageSize, imageSegments: image.segments,
      inputSize: 4096, outputSize: 4096, logSize: 4096, traceSize: 4096, heapSize: 16384, stackSize: 16384, initDataSize: 0,
    });
    const memory = new GuestMemory(new ArrayBuffer(layout.totalSize));
    writeSystemStructures(memory, layout);
    writePeb(memory, layout, { maxLogLevel: 2 });
    const { entryGva } = loadElf(image, guest, memory.subarray(layout.imageGpa, layout.imageSize), layout.imageGpa);
    memory.writeU8(layout.inputGpa, scenario);
    const input = join(dir, `in-${scenario}.bin`);
    const output = join(dir, `out-${scenario}.bin`);
    writeFileSync(input, memory.subarray(0, layout.totalSize));

    const busy = guestSpecialRegisters(layout, { xsave: false });
    const sregs = availableTss ? { ...busy, tr: { ...busy.tr, type: 0x9 } } : busy;
    const regs = entryRegisters(layout, Abi.OP_CALL, entryGva);
    const args = [
      input, output,
      `cr0=${sregs.cr0}`, `cr3=${sregs.cr3}`, `cr4=${sregs.cr4}`, `efer=${sregs.efer}`, `apic_base=${sregs.apicBase}`,
      `gdt_base=${sregs.gdt.base}`, `gdt_limit=${sregs.gdt.limit}`, `idt_base=${sregs.idt.base}`, `idt_limit=${sregs.idt.limit}`,
      ...(['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const).map((name) => `${name}=${segmentArg(sregs[name])}`),
      `rip=${regs.rip}`, `rsp=${regs.rsp}`, `rdi=${regs.rdi}`, `rsi=${regs.rsi}`, `rflags=${regs.rflags}`,
      `resume=${Ports.DEBUG_PRINT}`,
    ];
    const result = spawnSync(harness, args, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`kvm-harness failed (${result.status}): ${result.stderr}`);
    const run: Run = { exits: [], finalRip: 0n, finalCs: 0, cr2: 0n, memory: new GuestMemory(new Uint8Array(readFileSync(output)).buffer), layout,
      symbol: (name) => {
        const found = readElfSymbols(guest).find((s) => s.name === name);
        if (!found) throw new Error(`no symbol ${name}`);
        return BigInt(layout.imageGpa) + found.value - image.vaddrBase;
      } };
    for (const line of result.stdout.trim().split('\n')) {
      const io = /^exit io (\w+) port=(\d+) size=\d+ value=(\d+)$/.exec(line);
      const final = /^final rip=(\d+) cs=(\d+) cr2=(\d+)$/.exec(line);
      if (io) run.exits.push({ direction: io[1]!, port: Number(io[2]), value: Number(io[3]) });
      else if (final) Object.assign(run, { finalRip: BigInt(final[1]!), finalCs: Number(final[2]), cr2: BigInt(final[3]!) });
      else run.other = line;
    }
    return run;
  }

  /** Asserts the run ended in exception `vector` through its stub, and returns the CPU-pushed frame. */
  function expectException(run: Run, vector: number): ExceptionFrame {
    expect(run.other, 'no other exit').toBeUndefined();
    expect(run.exits.map((e) => e.port)).toEqual([Ports.EXCEPTION_BASE + vector]);
    // The vCPU sits in stub `vector` at CPL0, on its `out` (KVM completes it on the next entry).
    expect(run.finalCs).toBe(0x08);
    expect(run.finalRip).toBe(BigInt(exceptionStubGva(run.layout, vector)));
    const frame = readExceptionFrame(run.memory, run.layout, vector);
    // The fault happened in guest code at CPL3.
    expect(frame.cs).toBe(0x23n);
    expect(frame.ss).toBe(0x1bn);
    return frame;
  }

  const inImage = (run: Run, rip: bigint) => rip >= BigInt(run.layout.imageGpa) && rip < BigInt(run.layout.imageGpa + run.layout.imageSize);

  it('runs the guest at CPL3: PEB, relocations, writable areas, SSE, rdtsc and a resumed exit all work', () => {
    const run = runScenario(0);
    expect(run.other).toBeUndefined();
    expect(run.exits).toEqual([
      { direction: 'out', port: Ports.DEBUG_PRINT, value: 0xabc },
      { direction: 'out', port: Ports.HALT, value: 255 },
    ]);
    expect(run.finalCs).toBe(0x23);
  });

  it.runIf(qemuTcg)('needs an available TR under QEMU TCG: with a busy TR every `out` is #GP there', () => {
    const run = runScenario(0, false);
    expect(run.exits.map((e) => e.port)).toEqual([Ports.EXCEPTION_BASE + 13]);
  });

  it.each([
    ['writing the read-only PEB', 1, 0x7n, (r: Run) => BigInt(r.layout.pebGpa)],
    ['reading a supervisor page table', 2, 0x5n, () => 0x1000n],
    ['executing the no-execute heap', 3, 0x15n, (r: Run) => BigInt(r.layout.heapGpa)],
    ['dereferencing null', 5, 0x4n, () => 0n],
    ['writing its own code', 13, 0x7n, (r: Run) => r.symbol('_start')],
  ])('reports a page fault for %s with the right error code and CR2', (_what, scenario, errorCode, address) => {
    const run = runScenario(scenario);
    const frame = expectException(run, 14);
    expect(frame.errorCode).toBe(errorCode);
    expect(run.cr2).toBe(address(run));
    expect(isStackGuardFault(run.layout, run.cr2)).toBe(false);
    if (scenario !== 3) expect(inImage(run, frame.rip)).toBe(true);
    else expect(frame.rip).toBe(BigInt(run.layout.heapGpa));
  });

  it('reports a stack overflow as a fault in the guard page', () => {
    const run = runScenario(4);
    const frame = expectException(run, 14);
    expect(frame.errorCode).toBe(0x6n); // not present, write, user
    expect(isStackGuardFault(run.layout, run.cr2)).toBe(true);
  });

  it('keeps the guard page between heap and stack unmapped', () => {
    const run = runScenario(16);
    expect(expectException(run, 14).errorCode).toBe(0x4n);
    expect(run.cr2).toBe(BigInt(run.layout.stackGuardGpa));
  });

  it.each([
    ['an `out` to an exception-stub port', 6],
    ['an `out` to a port above 0xFF', 7],
    ['`hlt`', 8],
    ['`cli`', 12],
  ])('raises #GP(0) for %s', (_what, scenario) => {
    const run = runScenario(scenario);
    const frame = expectException(run, 13);
    expect(frame.errorCode).toBe(0n);
    expect(inImage(run, frame.rip)).toBe(true);
  });

  it('reports #UD at the faulting instruction, with no error code', () => {
    const run = runScenario(9);
    const frame = expectException(run, 6);
    expect(frame.rip).toBe(run.symbol('site_ud2'));
    expect(frame.errorCode).toBeUndefined();
  });

  it('lets int3 reach its DPL3 gate (#BP), RIP after the int3', () => {
    const run = runScenario(10);
    expect(expectException(run, 3).rip).toBe(run.symbol('after_int3'));
  });

  it('refuses `int n` through a DPL0 gate or beyond the IDT', () => {
    // Hardware gives #GP with an IDT error code (bit 1 set, vector * 8 + 2; QEMU TCG
    // computes vector * 16 + 2); kvm_pvm raises #UD instead.
    for (const [scenario, gate] of [[17, 13n], [11, 0x80n]] as const) {
      const run = runScenario(scenario);
      const vector = run.exits[0]!.port - Ports.EXCEPTION_BASE;
      expect([6, 13]).toContain(vector);
      const frame = expectException(run, vector);
      if (vector === 13) expect([gate * 8n + 2n, gate * 16n + 2n]).toContain(frame.errorCode);
    }
  });

  it('raises #UD for syscall (EFER.SCE clear)', () => {
    expectException(runScenario(14), 6);
  });

  it('lets the guest reach an allowed port that is not part of the ABI', () => {
    expect(runScenario(15).exits).toEqual([{ direction: 'out', port: 0x50, value: 0x55 }]);
  });
});
