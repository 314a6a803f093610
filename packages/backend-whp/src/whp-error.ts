/**
 * The WHP backend's error: a WinHvPlatform or kernel32 function failed.
 */
import { BackendError } from '@hyperlight-ts/core/backend';

/** A Windows Hypervisor Platform (or kernel32) function returned a failing HRESULT. */
export class WhpError extends BackendError {
  override readonly name = 'WhpError';
  /** The HRESULT as an unsigned 32-bit number (e.g. 0x80070057). */
  readonly hresult: number;

  /**
   * @param func - the WHv* or kernel32 function that failed
   * @param hresult - its HRESULT (or `HRESULT_FROM_WIN32(GetLastError())`), any sign
   * @param what - optional words on what it means here
   */
  constructor(readonly func: string, hresult: number, what?: string, options?: ErrorOptions) {
    const unsigned = hresult >>> 0;
    super('whp', func, `HRESULT ${hex32(unsigned)}${what === undefined ? '' : `: ${what}`}`, options);
    this.hresult = unsigned;
  }
}

/** Whether an HRESULT reports failure (its sign bit is set). */
export function failed(hresult: number): boolean {
  return (hresult >>> 0) >= 0x8000_0000;
}

/**
 * Throws a {@link WhpError} for a failing HRESULT of `func`.
 * @throws WhpError when `hresult` has its sign bit set.
 */
export function checkHresult(func: string, hresult: number, what?: string): void {
  if (failed(hresult)) throw new WhpError(func, hresult, what);
}

/** `HRESULT_FROM_WIN32(code)`: a kernel32 error code as an HRESULT (0 stays 0). */
export function hresultFromWin32(code: number): number {
  return code <= 0 ? code >>> 0 : ((code & 0xffff) | 0x8007_0000) >>> 0;
}

/** `0x` and eight hex digits. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
