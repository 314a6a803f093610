/**
 * The layout constants against WinHvPlatformDefs.h of Debian mingw-w64-common
 * 10.0.0-3, as measured by compiling an offset probe against it (recorded in
 * /work/notes/issue13-facts.md §2.3; test/check-mingw-offsets.sh re-measures
 * them when the headers are installed).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { KERNEL32_PROTOTYPES, WHP_PROTOTYPES } from '../src/koffi-binding.js';
import { EXIT_CONTEXT, SEGMENT_REGISTER, TABLE_REGISTER, WHV_EXIT_REASON, WHV_REGISTER } from '../src/whp-abi.js';

describe('whp-abi', () => {
  it('matches the measured WHV_RUN_VP_EXIT_CONTEXT offsets', () => {
    expect(EXIT_CONTEXT).toMatchObject({
      size: 224, exitReason: 0, instructionLengthCr8: 10, rip: 32, rflags: 40, accessInfo: 68, ioPort: 72, ioRax: 80,
      memoryGpa: 72, memoryGva: 80, unsupportedFeatureCode: 48, unsupportedFeatureParameter: 56, cancelReason: 48,
    });
    expect(SEGMENT_REGISTER).toEqual({ base: 0, limit: 8, selector: 12, attributes: 14 });
    expect(TABLE_REGISTER).toEqual({ limit: 6, base: 8 });
    expect(WHV_EXIT_REASON).toMatchObject({ memoryAccess: 1, x64IoPortAccess: 2, unrecoverableException: 4, x64Halt: 8, canceled: 0x2001 });
    expect(WHV_REGISTER).toMatchObject({ rip: 0x10, tr: 0x19, gdtr: 0x1b, cr8: 0x20, xcr0: 0x27, efer: 0x2001, apicBase: 0x2003 });
  });

  it('declares prototypes koffi parses (on any OS, no DLL needed)', () => {
    const koffi = createRequire(import.meta.url)('koffi') as { proto(definition: string): unknown };
    for (const prototype of [...Object.values(WHP_PROTOTYPES), ...Object.values(KERNEL32_PROTOTYPES)]) {
      expect(() => koffi.proto(prototype)).not.toThrow();
    }
  });
});
