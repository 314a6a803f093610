/**
 * Rust symbol demangling for trace output: legacy names (`_ZN…E`, the
 * Itanium-like scheme with a trailing hash) and v0 names (`_R…`, rustc's
 * newer scheme, which the precompiled `core` and `alloc` of current
 * toolchains use). Names come from an untrusted file, so parsing is bounded
 * (nesting depth, output length, backreferences only to earlier positions)
 * and anything unexpected leaves the name as it was.
 */
import { demangleRustV0 } from './demangle-rust-v0.js';

const LEGACY_ESCAPES: Readonly<Record<string, string>> = {
  SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',',
};

/**
 * The readable form of a Rust symbol name: `_ZN11simpleguest4main17h0123456789abcdefE`
 * becomes `simpleguest::main`, `_RNvCs1234_5crate4main` becomes `crate::main`.
 * Other names (C symbols, names this cannot parse) come back unchanged.
 * @example
 * demangleRust('_ZN4core3ptr13drop_in_place17h1234567890abcdefE'); // 'core::ptr::drop_in_place'
 */
export function demangleRust(name: string): string {
  if (name.startsWith('_R')) return demangleRustV0(name) ?? name;
  if (name.startsWith('_ZN')) return demangleLegacy(name) ?? name;
  return name;
}

function demangleLegacy(name: string): string | undefined {
  const parts: string[] = [];
  let at = 3;
  while (name[at] !== 'E') {
    const digits = /^[0-9]+/.exec(name.slice(at, at + 10))?.[0];
    if (!digits) return undefined;
    at += digits.length;
    const length = Number(digits);
    if (length === 0 || at + length > name.length) return undefined;
    parts.push(name.slice(at, at + length));
    at += length;
  }
  if (parts.length > 1 && /^h[0-9a-f]{16}$/.test(parts.at(-1)!)) parts.pop();
  return parts.map(unescapeLegacy).join('::');
}

function unescapeLegacy(part: string): string {
  const text = part.startsWith('_$') ? part.slice(1) : part;
  return text
    .replace(/\$([A-Z]{1,2}|u[0-9a-f]{1,6})\$/g, (whole, code: string) => {
      if (code.startsWith('u')) {
        const point = parseInt(code.slice(1), 16);
        return point <= 0x10ffff ? String.fromCodePoint(point) : whole;
      }
      return LEGACY_ESCAPES[code] ?? whole;
    })
    .replace(/\.\./g, '::');
}
