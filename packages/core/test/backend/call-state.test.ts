import { describe, expect, it } from 'vitest';
import { CALL_STATE, reasonOf, reasonOfCode, seqOf, setCancelReason } from '../../src/backend/call-state.js';

const open = (seq: number): number => ((seq << CALL_STATE.seqShift) | CALL_STATE.open) >>> 0;

describe('call-state word', () => {
  it('reads the reason and the sequence number, including the top sequence bit', () => {
    const word = (open(CALL_STATE.seqMask) | (CALL_STATE.aborted << CALL_STATE.reasonShift)) >>> 0;
    expect(reasonOf(word)).toBe('aborted');
    expect(seqOf(word)).toBe(CALL_STATE.seqMask);
    expect(reasonOf(open(3))).toBeUndefined();
    expect(reasonOfCode(4)).toBe('disposed');
    expect(reasonOfCode(5)).toBeUndefined();
  });

  it('setCancelReason lands on an open, uncancelled call only; the first reason wins', () => {
    const state = Uint32Array.of(0, open(9));
    expect(setCancelReason(state, 0, CALL_STATE.killed)).toBeUndefined(); // closed
    expect(setCancelReason(state, 1, CALL_STATE.timeout)).toBe(open(9));
    expect(setCancelReason(state, 1, CALL_STATE.killed)).toBeUndefined();
    expect(reasonOf(state[1]!)).toBe('timeout');
    expect(state[0]).toBe(0);
  });

  it('setCancelReason with a sequence number leaves other calls alone', () => {
    const state = Uint32Array.of(open(CALL_STATE.seqMask));
    expect(setCancelReason(state, 0, CALL_STATE.timeout, 8)).toBeUndefined();
    expect(setCancelReason(state, 0, CALL_STATE.timeout, CALL_STATE.seqMask)).toBe(open(CALL_STATE.seqMask));
    expect(reasonOf(state[0]!)).toBe('timeout');
  });
});
