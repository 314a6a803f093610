import { readFileSync } from 'node:fs';

import { parseElf, readElfSymbols } from '@hyperlight-ts/core';
import type { TraceFileHeader } from '@hyperlight-ts/tracing';
import { describe, expect, it } from 'vitest';

import { Symbolizer } from '../../src/symbols/symbolizer.js';
import { GUEST_ELF, sha256Of } from '../support/realistic-trace.js';

const header = (sha256: string, imageBase = '0x40000000'): TraceFileHeader => ({
  format: 'hyperlight-trace',
  version: 1,
  guest: { sha256, imageBase, linkBase: `0x${parseElf(readFileSync(GUEST_ELF)).vaddrBase.toString(16)}` },
  clock: { tscFrequencyHz: 1e9, source: 'estimated', invariantTsc: null },
  startTimeUnixNano: '0',
  createdBy: 'test',
});

describe('Symbolizer', () => {
  it('finds the function of every address inside it and none past its end', async () => {
    const symbols = await Symbolizer.load(GUEST_ELF, header(sha256Of(GUEST_ELF)));
    const functions = readElfSymbols(readFileSync(GUEST_ELF)).filter((s) => s.kind === 'function' && s.size > 2n);
    const linkBase = parseElf(readFileSync(GUEST_ELF)).vaddrBase;
    const guest = (value: bigint) => value - linkBase + 0x40000000n;
    const main = functions.find((s) => s.name.startsWith('_ZN11simpleguest14call_host_many'))!;
    for (const offset of [0n, 1n, main.size - 1n]) expect(symbols.functionAt(guest(main.value + offset))).toBe('simpleguest::call_host_many');
    expect(symbols.functionAt(guest(main.value + main.size))).not.toBe('simpleguest::call_host_many');
    expect(symbols.functionAt(0n)).toBeUndefined();
    // A return address names the function of the call before it, and an unknown one stays hex.
    expect(symbols.frameName(`0x${guest(main.value + main.size).toString(16)}`)).toBe('simpleguest::call_host_many');
    expect(symbols.frameName('0x10')).toBe('0x10');
    for (const symbol of functions.slice(0, 50)) expect(symbols.functionAt(guest(symbol.value))).toBeDefined();
  });

  it('refuses a binary whose hash differs unless told to ignore it', async () => {
    await expect(Symbolizer.load(GUEST_ELF, header('0'.repeat(64)))).rejects.toThrow(
      `trace was recorded with guest ${'0'.repeat(64)}, but ${GUEST_ELF} has ${sha256Of(GUEST_ELF)}`,
    );
    const symbols = await Symbolizer.load(GUEST_ELF, header('0'.repeat(64)), { ignoreHash: true });
    expect(symbols.hasSymbols).toBe(true);
    expect(Symbolizer.none().frameName('0xABC')).toBe('0xabc');
  });
});
