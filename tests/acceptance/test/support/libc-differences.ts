/**
 * Where the guest's libc (musl 1.2.3) may differ from the host's glibc in
 * the conformance outputs, and why. Each entry names the lines it covers and
 * says exactly what the guest must print there; nothing else may differ.
 * Found by running the case files natively against both libraries.
 */

/** One documented difference. */
export interface LibcDifference {
  /** Why the two libraries differ (and which one the C standard favours, when it does). */
  readonly why: string;
  /** Whether a line id is covered. */
  matches(id: string): boolean;
  /** Whether the guest's value is the documented one, given the native value and the line id. */
  accepts(guest: string, native: string, id: string): boolean;
}

/** A difference on a fixed set of lines, where the guest must print exactly `guest[id]`. */
function fixed(why: string, guest: Readonly<Record<string, string>>): LibcDifference {
  return { why, matches: (id) => id in guest, accepts: (value, _native, id) => guest[id] === value };
}

/** A difference on the lines `pattern` matches, checked by `accepts`. */
function rule(why: string, pattern: RegExp, accepts: LibcDifference['accepts']): LibcDifference {
  return { why, matches: (id) => pattern.test(id), accepts };
}

// ---- %a / %La ---------------------------------------------------------------

interface Dyadic {
  readonly mantissa: bigint; // signed
  readonly exponent: number; // value = mantissa * 2^exponent
}

/** A double (16 hex digits) or x87 long double (20) given by its bits, as an exact dyadic rational (finite values only). */
function dyadicFromBits(hex: string): Dyadic | undefined {
  const bits = BigInt(`0x${hex}`);
  if (hex.length === 16) {
    const sign = bits >> 63n ? -1n : 1n;
    const e = Number((bits >> 52n) & 0x7ffn);
    const f = bits & ((1n << 52n) - 1n);
    if (e === 0x7ff) return undefined;
    return e === 0 ? { mantissa: sign * f, exponent: -1074 } : { mantissa: sign * (f | (1n << 52n)), exponent: e - 1075 };
  }
  if (hex.length === 20) {
    const sign = (bits >> 79n) & 1n ? -1n : 1n;
    const e = Number((bits >> 64n) & 0x7fffn);
    if (e === 0x7fff) return undefined;
    return { mantissa: sign * (bits & ((1n << 64n) - 1n)), exponent: (e === 0 ? 1 : e) - 16383 - 63 };
  }
  return undefined;
}

/** Parses the hex-float in printf output ("-0x1.8p+3", zero padding allowed). */
function parseHexFloat(text: string): (Dyadic & { readonly printedExponent: number }) | undefined {
  const m = /([-+ ]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([-+]?\d+)/.exec(text);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  const digits = `${m[2]}${fraction}` || '0';
  const printedExponent = Number(m[4]);
  const sign = m[1] === '-' ? -1n : 1n;
  return { mantissa: sign * BigInt(`0x${digits}`), exponent: printedExponent - 4 * fraction.length, printedExponent };
}

/** 2·|a − b| ≤ 2^unitExponent, exactly. */
function withinHalfUnit(a: Dyadic, b: Dyadic, unitExponent: number): boolean {
  const base = Math.min(a.exponent, b.exponent, unitExponent - 1);
  const diff = (a.mantissa << BigInt(a.exponent - base)) - (b.mantissa << BigInt(b.exponent - base));
  const twice = (diff < 0n ? -diff : diff) << 1n;
  return twice <= 1n << BigInt(unitExponent - base);
}

/** a = b, exactly. */
function exactlyEqual(a: Dyadic, b: Dyadic): boolean {
  const base = Math.min(a.exponent, b.exponent);
  return a.mantissa << BigInt(a.exponent - base) === b.mantissa << BigInt(b.exponent - base);
}

const HEX_FLOAT_LINE = /^%[-+ #0]*(\d*)(?:\.(\d+))?L?([aA])\|? of ([0-9a-f]{16}|[0-9a-f]{20})$/;

/**
 * musl always prints a leading digit 1 (0x1p-1074, 0x1.921fb54442d1846ap+1);
 * glibc keeps subnormals denormalised (0x0.0000000000001p-1022) and gives a
 * long double a leading digit of up to 4 bits (0xc.90fdaa22168c235p-2). C
 * allows both. The guest's text must be the input value, exactly when no
 * precision is given, else rounded to its last printed digit (so with a
 * precision the two may print different values: they round at different
 * bits), with the case the conversion asks for and the length it returns.
 */
const hexFloat = rule(
  '%a/%La: musl normalises to a leading 1, glibc prints subnormals as 0x0.… and long doubles with a leading 8–f; both valid C',
  HEX_FLOAT_LINE,
  (value, _native, id) => {
    const [, width = '', precision, conversion, bits = ''] = HEX_FLOAT_LINE.exec(id)!;
    const out = /^(\d+) "(.*)"$/.exec(value);
    const x = dyadicFromBits(bits);
    if (!out || !x) return false;
    const text = out[2]!;
    const printed = parseHexFloat(text);
    if (!printed || Number(out[1]) !== text.length || text.length < Number(width || 0)) return false;
    if ((conversion === 'A') !== (text === text.toUpperCase())) return false;
    if (precision === undefined) return exactlyEqual(printed, x);
    return withinHalfUnit(printed, x, printed.printedExponent - 4 * Number(precision));
  },
);

// ---- strerror -----------------------------------------------------------------

/** musl's own wording where it differs from glibc's; every other code below 134 has glibc's text. */
const MUSL_STRERROR: ReadonlyMap<number, string> = new Map([
  [5, 'I/O error'], [10, 'No child process'], [12, 'Out of memory'], [16, 'Resource busy'], [18, 'Cross-device link'],
  [24, 'No file descriptors available'], [25, 'Not a tty'], [29, 'Invalid seek'], [33, 'Domain error'],
  [34, 'Result not representable'], [35, 'Resource deadlock would occur'], [36, 'Filename too long'],
  [40, 'Symbolic link loop'], [62, 'Device timeout'], [75, 'Value too large for data type'], [84, 'Illegal byte sequence'],
  [88, 'Not a socket'], [90, 'Message too large'], [95, 'Not supported'], [98, 'Address in use'],
  [99, 'Address not available'], [101, 'Network unreachable'], [102, 'Connection reset by network'],
  [103, 'Connection aborted'], [106, 'Socket is connected'], [107, 'Socket not connected'],
  [108, 'Cannot send after socket shutdown'], [110, 'Operation timed out'], [113, 'Host is unreachable'],
  [115, 'Operation in progress'], [122, 'Quota exceeded'], [130, 'Previous owner died'],
  // No text of its own in musl: 0 ("Success" in glibc), the obsolete STREAMS/RFS/XENIX codes, codes past the table.
  ...[0, 41, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 64, 65, 66, 68, 69, 70, 73, 76, 78, 79, 80, 81,
    82, 83, 85, 86, 87, 109, 117, 118, 119, 120, 132, 133, -1, 134, 4096, 100000].map((code): [number, string] => [code, 'No error information']),
]);

const strerrorTexts = rule(
  'strerror texts are not standardised: musl words many differently and has one "No error information" for codes it does not describe; the codes themselves (the E* lines) are compared exactly',
  /^strerror\(-?\d+\)$/,
  (value, _native, id) => MUSL_STRERROR.get(Number(/^strerror\((-?\d+)\)$/.exec(id)![1])) === value,
);

// ---- numbers from text --------------------------------------------------------

/** The native value with every "errno=0" / "/0" errno field turned into EINVAL's letter. */
const withEinval = (native: string): string => native.replace(/errno=0/g, 'errno=I').replace(/\/0( |$)/g, '/I$1');

const noConversionEinval = rule(
  'no conversion performed: POSIX lets strto* set errno EINVAL; musl does, glibc leaves errno alone',
  /^(strto(d|f|ld)\("(|\s+|abc|\.|-\.|\.e1)"\)|strtol family\("(|\s+|-|\+-3)", 10\))$/,
  (value, native) => value === withEinval(native),
);

const invalidBase = rule(
  'invalid base (EINVAL in both): glibc leaves the end pointer unset, musl sets it to the start of the string',
  /^strtol family\("12", (1|37|-1)\)$/,
  (value, native) => value === native.replace(/\/-1\//g, '/0/'),
);

const ulpAllowance = (why: string, pattern: RegExp, ulps: number): LibcDifference =>
  rule(why, pattern, (value, native) => {
    const a = BigInt(`0x${value}`);
    const b = BigInt(`0x${native}`);
    const d = a > b ? a - b : b - a;
    // Same sign and exponent range: the bit distance is the ulp distance.
    return value.length === native.length && (a >> BigInt(value.length * 4 - 1)) === (b >> BigInt(native.length * 4 - 1)) && d <= BigInt(ulps);
  });

/** Every documented difference. */
export const LIBC_DIFFERENCES: readonly LibcDifference[] = [
  hexFloat,
  fixed('%p of a null pointer is implementation-defined: glibc prints "(nil)", musl "0"', { '%p of NULL': '1 "0"' }),
  fixed(
    'sscanf: C takes the longest prefix of a possible number as the input item ("0x", "1e", "1e+"); when that prefix is not a number the conversion fails (musl), where glibc converts the shorter "0"/"1"',
    {
      'sscanf("0x", "%x")': 'ret=0 -',
      'sscanf("0xg", "%i")': 'ret=0 -',
      'sscanf("1e", "%lf")': 'ret=0 -',
      'sscanf("1e+", "%lf%s")': 'ret=0 - -',
    },
  ),
  fixed('sscanf: musl reads "nan(12ab)" (a valid n-char-sequence), then INF and infinity; glibc stops after the NaN', {
    'sscanf("nan(12ab) INF infinity", "%lf %lf %lf")': 'ret=3 7ff8000000000000 7ff0000000000000 7ff0000000000000',
  }),
  fixed('the sign of a NaN read from "-nan": musl drops it, glibc keeps it (C leaves NaN signs unspecified)', {
    'sscanf("0.1 1e-320 inf -nan", "%lf %lg %lf %lf")': 'ret=4 3fb999999999999a 00000000000007e8 7ff0000000000000 7ff8000000000000',
    'strtod("-nan")': '7ff8000000000000 end=4 errno=0',
    'strtof("-nan")': '7fc00000 end=4 errno=0',
    'strtold("-nan")': '7fffc000000000000000 end=4 errno=0',
  }),
  fixed('NaN payloads: what nan(n-char-sequence) means is implementation-defined; musl ignores it, glibc puts the number in the payload', {
    'strtod("nan(123)")': '7ff8000000000000 end=8 errno=0',
    'strtof("nan(123)")': '7fc00000 end=8 errno=0',
    'strtold("nan(123)")': '7fffc000000000000000 end=8 errno=0',
    'strtod("nan(0x7ff)")': '7ff8000000000000 end=10 errno=0',
    'strtof("nan(0x7ff)")': '7fc00000 end=10 errno=0',
    'strtold("nan(0x7ff)")': '7fffc000000000000000 end=10 errno=0',
  }),
  fixed(
    'underflow: whether strto* set ERANGE for a tiny result is implementation-defined (C 7.22.1.3); glibc does for every inexact result below the normal range, musl only when the result is 0',
    {
      'strtod("4.9406564584124654e-324")': '0000000000000001 end=23 errno=0',
      'strtod("2.4703282292062328e-324")': '0000000000000001 end=23 errno=0',
      'strtof("1e-45")': '00000001 end=5 errno=0',
      'strtof("1.1754943e-38")': '00800000 end=13 errno=0',
    },
  ),
  fixed('musl defect: a hex float that overflows to infinity in strtod does not set ERANGE (C requires it; musl rounds in long double first, where 2^1024 is finite)', {
    'strtod("0x1p1024")': '7ff0000000000000 end=8 errno=0',
  }),
  noConversionEinval,
  invalidBase,
  fixed(
    'setlocale: musl accepts any locale name (unknown ones behave as C) and its default locale for "" with no LANG/LC_* is C.UTF-8 for LC_CTYPE; glibc rejects unknown names and defaults to C',
    {
      'setlocale(LC_ALL, "")': 'C.UTF-8;C;C;C;C;C',
      'setlocale(LC_ALL, "xx_YY.bogus")': 'xx_YY.bogus',
      'setlocale(LC_CTYPE, NULL)': 'xx_YY.bogus',
    },
  ),
  strerrorTexts,
  fixed('math errno: musl reports math errors through floating-point exceptions only (math_errhandling == MATH_ERREXCEPT), glibc also sets errno', {
    'sqrt(-1) sets errno EDOM (math_errhandling & MATH_ERRNO)': '0',
    'log(0) sets errno ERANGE': '0',
    'exp(1000) sets errno ERANGE': '0',
    math_errhandling: '2',
  }),
  rule(
    'fmax/fmin of +0 and -0: C does not fix which zero comes back; musl orders -0 below +0, glibc returns one of its arguments',
    /^fm(ax|in)f?\((0{8}|0{16}|80{7}|80{15}), (0{8}|0{16}|80{7}|80{15})\)$/,
    (value) => /^(0+|80+)$/.test(value),
  ),
  ulpAllowance('cbrt: musl is within 0.5 ulp, glibc errs by up to 2 ulp (checked with mpmath), so they can differ by 2', /^cbrt\(/, 2),
  ulpAllowance('tgamma: musl errs by up to ~3 ulp (glibc < 1 ulp, checked with mpmath)', /^tgamma\(/, 4),
  ulpAllowance('tgammaf/log10f: glibc errs by up to ~1.9 ulp, musl < 0.5 ulp (checked with mpmath)', /^(tgammaf|log10f)\(/, 2),
  ulpAllowance('lgamma/lgammaf near a zero of lgamma (x = -2.5): relative error is large in both; musl ~10 ulp, glibc ~2.5 ulp', /^lgammaf?\(c0(04|20)0+\)$/, 8),
  ulpAllowance('expm1l: musl errs by up to ~3 ulp in long double', /^expm1l\(/, 3),
  fixed('musl defect: powl with a base near ±LDBL_MAX overflows inside (returns inf or 0) where the result is finite (or NaN for a negative base and fractional exponent)', {
    'powl(7ffeffffffffffffffff, 00018000000000000000)': '7fff8000000000000000',
    'powl(7ffeffffffffffffffff, 3ffe8000000000000000)': '7fff8000000000000000',
    'powl(fffeffffffffffffffff, 00018000000000000000)': '7fff8000000000000000',
    'powl(fffeffffffffffffffff, 3ffe8000000000000000)': '7fff8000000000000000',
    'powl(fffeffffffffffffffff, c000a000000000000000)': '00000000000000000000',
  }),
  rule(
    'files: the guest has no file system; creating, removing or renaming fails with EROFS or ENOENT (docs/libc.md), natively with ENOENT for a missing directory',
    /^(fopen\(new file, "w"\)|remove\(missing\)|rename\(missing\))$/,
    (value, native) => value === native || value === native.replace('ENOENT', 'EROFS'),
  ),
];
