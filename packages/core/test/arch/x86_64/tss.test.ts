import { describe, expect, it } from 'vitest';
import { Ports } from '../../../src/abi/generated.js';
import { isGuestPortAllowed, TSS_LIMIT } from '../../../src/arch/x86_64/tss.js';
import { builtMemory, smallLayout } from './fixture.js';

describe('TSS', () => {
  const layout = smallLayout();
  const memory = builtMemory(layout);
  const tss = layout.tssGpa;
  const iomapBase = memory.readU16(tss + 0x66);

  it('puts RSP0 and IST1 at the top of the exception stack and leaves the other stacks 0', () => {
    expect(memory.readU64(tss + 0x04)).toBe(BigInt(layout.exceptionStackTopGva)); // RSP0
    expect(memory.readU64(tss + 0x24)).toBe(BigInt(layout.exceptionStackTopGva)); // IST1
    for (const offset of [0x0c, 0x14, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54]) {
      expect(memory.readU64(tss + offset), `offset 0x${offset.toString(16)}`).toBe(0n); // RSP1-2, IST2-7
    }
    expect(layout.exceptionStackTopGva % 16).toBe(0);
  });

  it('has a 32-byte bitmap right after the fixed part, a 0xFF terminator, and the limit on the terminator', () => {
    expect(iomapBase).toBe(0x68);
    expect(TSS_LIMIT).toBe(0x88);
    expect(memory.readU8(tss + iomapBase + 32)).toBe(0xff);
  });

  it('denies exactly the exception-stub ports below 0x100', () => {
    for (let port = 0; port < 0x100; port++) {
      const denied = (memory.readU8(tss + iomapBase + (port >> 3)) >> (port & 7)) & 1;
      const stub = port >= Ports.EXCEPTION_BASE && port < Ports.EXCEPTION_BASE + 32;
      expect(denied, `port 0x${port.toString(16)}`).toBe(stub ? 1 : 0);
      expect(isGuestPortAllowed(port)).toBe(!stub);
    }
    expect(isGuestPortAllowed(0x100)).toBe(false);
    expect(isGuestPortAllowed(-1)).toBe(false);
  });

  /**
   * The CPU's check for `in`/`out` at CPL > IOPL (SDM Vol. 1 §19.5.2): read two
   * bytes at `iomapBase + port / 8`; if either lies beyond the TSS limit, #GP;
   * otherwise every bit for `port .. port + size - 1` must be clear.
   */
  function cpuAllows(port: number, size: number): boolean {
    const at = iomapBase + (port >> 3);
    if (at + 1 > TSS_LIMIT) return false;
    const word = memory.readU8(tss + at) | (memory.readU8(tss + at + 1) << 8);
    const mask = ((1 << size) - 1) << (port & 7);
    return (word & mask) === 0;
  }

  it('lets the guest use every ABI port at every access size', () => {
    // Every port in the ABI but the stubs' (CLOCK and any added later included).
    const abiPorts = Object.entries(Ports).filter(([name]) => name !== 'EXCEPTION_BASE').map(([, port]) => port);
    expect(abiPorts).toContain(Ports.CLOCK);
    for (const port of abiPorts) {
      for (const size of [1, 2, 4]) expect(cpuAllows(port, size), `port 0x${port.toString(16)}/${size}`).toBe(true);
    }
    expect(cpuAllows(0xff, 1)).toBe(true); // unknown but allowed: the host reports GuestUnknownPortError
  });

  it('denies the stub ports, accesses spilling into them or past 0xFF, and every port above 0xFF', () => {
    for (let v = 0; v < 32; v++) expect(cpuAllows(Ports.EXCEPTION_BASE + v, 1)).toBe(false);
    expect(cpuAllows(Ports.EXCEPTION_BASE - 1, 2)).toBe(false);
    expect(cpuAllows(0xfe, 4)).toBe(false);
    for (const port of [0x100, 0x107, 0x108, 0x3f8, 0xcf8, 0xffff]) expect(cpuAllows(port, 1), `port 0x${port.toString(16)}`).toBe(false);
  });
});
