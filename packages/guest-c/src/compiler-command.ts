/**
 * Turns an ordinary GCC command line into one that targets a guest: the
 * logic of `hyperlight-cc`, which buildCGuest and `hyperlight-build-c-guest`
 * run through as well.
 *
 *   compile (-c, -S, -E, -M, -fsyntax-only, queries such as --version):
 *     <guest compile flags> <user args> <trailing flags>
 *   link (anything else with an input file):
 *     <guest compile flags> <guest link flags> <user args> <trailing flags> -x none <runtime + libc group>
 */
import { GuestBuildError } from './guest-build-error.js';
import {
  compilerIncludeDir,
  defaultCompiler,
  GUEST_TRAILING_CFLAGS,
  guestCompileFlags,
  guestLdFlags,
  guestLibs,
  LIBC_PART_LIBRARIES,
  requireGuestLibraries,
} from './flags.js';

/** One argument of a compiler command line: an option with its value, or an input file. */
export interface CompilerArg {
  /** The words as written (`['-I', 'dir']`, `['-Idir']`, `['main.c']`). */
  readonly words: readonly string[];
  /** The option (`-I`, `-c`, `-Wall`), or `undefined` for an input file. */
  readonly option?: string;
  /** The option's value (`dir` of `-Idir` or `-I dir`), when it takes one. */
  readonly value?: string;
}

/** Options whose value is the next word (GCC's "Separate" options). */
const SEPARATE_VALUE_OPTIONS = new Set([
  '-include', '-imacros', '-isystem', '-idirafter', '-iquote', '-iprefix', '-iwithprefix', '-iwithprefixbefore', '-isysroot', '-imultilib',
  '-MF', '-MT', '-MQ', '-Xlinker', '-Xassembler', '-Xpreprocessor', '-aux-info', '-dumpbase', '-dumpbase-ext', '-dumpdir', '--param', '-z', '-e',
]);

/** Options whose value is attached (`-Idir`) or, when written alone, the next word (`-I dir`). */
const JOINED_OR_SEPARATE_OPTIONS = ['-I', '-D', '-U', '-L', '-l', '-o', '-x', '-T', '-u', '-A'] as const;

/**
 * Splits a GCC command line into options (with their values) and input files.
 * A value is never mistaken for an input file (`-include config.h`, `-MF x.d`).
 */
export function splitCompilerArgs(argv: readonly string[]): CompilerArg[] {
  const args: CompilerArg[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-') || word === '-') {
      args.push({ words: [word] });
      continue;
    }
    const separate = SEPARATE_VALUE_OPTIONS.has(word) || (JOINED_OR_SEPARATE_OPTIONS as readonly string[]).includes(word);
    if (separate && i + 1 < argv.length) {
      args.push({ words: [word, argv[i + 1]!], option: word, value: argv[i + 1]! });
      i++;
      continue;
    }
    const joined = JOINED_OR_SEPARATE_OPTIONS.find((o) => word.startsWith(o) && word.length > o.length);
    args.push(joined ? { words: [word], option: joined, value: word.slice(joined.length) } : { words: [word], option: word });
  }
  return args;
}

/** Options after which GCC does not link. */
const NO_LINK_OPTIONS = new Set(['-c', '-S', '-E', '-M', '-MM', '-fsyntax-only', '-r']);

/** Options that make GCC only report something (version, paths, specs, help) and compile nothing. */
function isQuery(option: string): boolean {
  return /^(--version|--help(=.*)?|--target-help|-dump(version|fullversion|machine|specs)|--?print-.*)$/.test(option);
}

/** Options a guest cannot be built with: it is one static, position-independent executable. */
const REFUSED_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['-shared', 'a guest is one static PIE, there are no shared libraries (link archives instead)'],
  ['-no-pie', 'a guest must be a static PIE (the host relocates it)'],
  ['-nopie', 'a guest must be a static PIE (the host relocates it)'],
  ['-fno-pie', 'guest code must be position independent (the host relocates it)'],
  ['-fno-PIE', 'guest code must be position independent (the host relocates it)'],
  ['-fno-pic', 'guest code must be position independent (the host relocates it)'],
  ['-fno-PIC', 'guest code must be position independent (the host relocates it)'],
]);

/** Options that matter when linking, passed to the link step of a two-step build (buildCGuest). */
export function isLinkOption(arg: CompilerArg): boolean {
  const o = arg.option;
  if (o === undefined) return false;
  return ['-l', '-L', '-T', '-u', '-z', '-e', '-Xlinker', '-static', '-rdynamic', '-pie', '-s'].includes(o) || /^-(Wl,|f|m|O|g|B|-sysroot)/.test(o);
}

/**
 * Whether an argument names a library musl's `libc.a` already has: `-lm`,
 * `-l m`, or a shared object such as `/usr/lib/x86_64-linux-gnu/libm.so`
 * (CMake's `find_library` without the toolchain file finds the host's). An
 * archive path is kept: `libutil.a` may well be the project's own.
 */
function libcPartLibrary(arg: CompilerArg): boolean {
  if (arg.option === '-l') return LIBC_PART_LIBRARIES.has(arg.value!);
  const file = arg.option === undefined ? /(?:^|\/)lib(\w+)\.so(?:\.\d+)*$/.exec(arg.words[0]!) : null;
  return file !== null && LIBC_PART_LIBRARIES.has(file[1]!);
}

/** A compiler command that targets a guest. */
export interface GuestCompilerCommand {
  /** The real compiler. */
  readonly cc: string;
  /** Its arguments. */
  readonly args: readonly string[];
  /** The file the command links, which must then be verified; `undefined` when it does not link (or only prints what it would run). */
  readonly linkedFile?: string;
  /** Libraries left out because musl's `libc.a` has them (`-lm`, `-lpthread`, `/usr/lib/.../libm.so`, ...). */
  readonly droppedLibraries: readonly string[];
}

/** Options of {@link guestCompilerCommand}. */
export interface GuestCompilerCommandOptions {
  /** The real compiler (default {@link defaultCompiler}). */
  cc?: string;
}

/**
 * Builds the real compiler's command line for a GCC-style `argv`: adds the
 * guest flags, drops `-l` libraries musl's `libc.a` already has, and, when
 * the command links, the guest link flags and libraries.
 *
 * @throws GuestBuildError when `argv` asks for something a guest cannot be
 * (`-shared`, `-no-pie`, `-fno-pie`, ...), when the command links and the guest
 * libraries are not built, or when the compiler cannot be run
 * @example
 * ```ts
 * const { cc, args } = await guestCompilerCommand(['-std=c99', '-c', 'main.c']);
 * ```
 */
export async function guestCompilerCommand(argv: readonly string[], options: GuestCompilerCommandOptions = {}): Promise<GuestCompilerCommand> {
  const cc = defaultCompiler(options.cc);
  const parsed = splitCompilerArgs(argv);
  for (const arg of parsed) {
    const why = arg.option === undefined ? undefined : REFUSED_OPTIONS.get(arg.option);
    if (why) throw new GuestBuildError(`${arg.option} is not supported: ${why}`);
  }
  const droppedLibraries: string[] = [];
  const kept = parsed.filter((arg) => {
    const drop = libcPartLibrary(arg);
    if (drop) droppedLibraries.push(arg.words.join(''));
    return !drop;
  });
  const hasInput = parsed.some((arg) => arg.option === undefined);
  const links = hasInput && !parsed.some((arg) => arg.option !== undefined && (NO_LINK_OPTIONS.has(arg.option) || isQuery(arg.option)));
  const userArgs = kept.flatMap((arg) => arg.words);
  const compileFlags = guestCompileFlags(await compilerIncludeDir(cc));
  if (!links) return { cc, args: [...compileFlags, ...userArgs, ...GUEST_TRAILING_CFLAGS], droppedLibraries };
  requireGuestLibraries();
  const output = parsed.findLast((arg) => arg.option === '-o')?.value ?? 'a.out';
  const dryRun = parsed.some((arg) => arg.option === '-###');
  return {
    cc,
    // `-x none`: a user's `-x c` must not make the archives read as C source.
    args: [...compileFlags, ...guestLdFlags(), ...userArgs, ...GUEST_TRAILING_CFLAGS, '-x', 'none', ...guestLibs()],
    ...(dryRun ? {} : { linkedFile: output }),
    droppedLibraries,
  };
}
