/**
 * buildCGuest: C sources -> guest ELF, with the flags of flags.ts and the
 * prebuilt libhyperlight_guest.a.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { verifyStaticPie } from './elf-check.js';
import { defaultCompiler, guestCFlags, guestCPaths, guestLdFlags, guestLibraryBuilt, guestLibs, type OptimizeLevel } from './flags.js';
import { GuestBuildError } from './guest-build-error.js';

const run = promisify(execFile);

/** Options of {@link buildCGuest}. */
export interface BuildCGuestOptions {
  /** C (`.c`) or assembly (`.S`, `.s`) files to compile; `.o` and `.a` files are linked as they are. */
  sources: readonly string[];
  /** The guest ELF to write (directories are created). */
  outFile: string;
  /** Extra `-I` directories. */
  includeDirs?: readonly string[];
  /** Preprocessor definitions: `{ NAME: value }` (`true` = defined as 1) or `['NAME=value', ...]`. */
  defines?: Readonly<Record<string, string | number | boolean>> | readonly string[];
  /** Optimisation (default `true` = `-O2`). */
  optimize?: OptimizeLevel;
  /** Emit debug info (`-g`). */
  debug?: boolean;
  /**
   * Keep frame pointers (`-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer`)
   * so the stacks of memory-profile records reach through the guest's own
   * functions. Build traced guests with `defines: { HL_TRACE: true }` too.
   */
  framePointers?: boolean;
  /** C compiler (default `$CC`, else `gcc`; must be GCC-compatible and target x86-64). */
  cc?: string;
  /** Extra compiler flags, after ours. */
  cflags?: readonly string[];
  /** Extra linker flags, after ours. */
  ldflags?: readonly string[];
}

function defineFlags(defines: BuildCGuestOptions['defines']): string[] {
  if (!defines) return [];
  if (Array.isArray(defines)) return (defines as readonly string[]).map((d) => `-D${d}`);
  return Object.entries(defines as Record<string, string | number | boolean>).flatMap(([name, value]) =>
    value === false ? [] : [value === true ? `-D${name}` : `-D${name}=${value}`],
  );
}

async function exec(cmd: string, args: string[], what: string): Promise<void> {
  try {
    await run(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message?: string };
    throw new GuestBuildError(what, [cmd, ...args], `${err.stderr ?? ''}${err.stdout ?? ''}` || err.message, { cause: e });
  }
}

/** Runs `tasks` with at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Compiles and links a C guest: freestanding, against the guest libc and
 * runtime, into a static PIE whose entry point is the runtime's `hl_entry`.
 * The sources must define `void hyperlight_main(void)`.
 *
 * @returns the absolute path of the written ELF
 * @throws GuestBuildError when a compile or the link fails (the compiler's
 * diagnostics are in `output`), when the library has not been built, or when
 * the result is not a static PIE with only relative relocations
 *
 * @example
 * ```ts
 * import { buildCGuest } from '@hyperlight-ts/guest-c';
 * const elf = await buildCGuest({ sources: ['guest/main.c'], outFile: 'build/guest.elf' });
 * ```
 */
export async function buildCGuest(options: BuildCGuestOptions): Promise<string> {
  if (options.sources.length === 0) throw new GuestBuildError('buildCGuest: no sources given');
  if (!guestLibraryBuilt())
    throw new GuestBuildError(`${guestCPaths().library} is missing; build it with: pnpm --filter @hyperlight-ts/guest-c build`);
  const cc = defaultCompiler(options.cc);
  const outFile = resolve(options.outFile);
  const cflags = [
    ...(await guestCFlags({ cc, optimize: options.optimize, debug: options.debug, framePointers: options.framePointers })),
    ...(options.includeDirs ?? []).map((d) => `-I${resolve(d)}`),
    ...defineFlags(options.defines),
    ...(options.cflags ?? []),
  ];
  const work = await mkdtemp(join(tmpdir(), 'hl-c-guest-'));
  try {
    const compiled: string[] = [];
    const linkAsIs: string[] = [];
    const toCompile = options.sources.filter((s) => {
      if (/\.(o|a)$/.test(s)) {
        linkAsIs.push(resolve(s));
        return false;
      }
      return true;
    });
    await inParallel(toCompile, availableParallelism(), async (src, i) => {
      const obj = join(work, `${i}-${basename(src).replace(/\.[^.]*$/, '')}.o`);
      compiled[i] = obj;
      await exec(cc, [...cflags, '-c', resolve(src), '-o', obj], `compiling ${src} failed`);
    });
    await mkdir(dirname(outFile), { recursive: true });
    await exec(cc, [...guestLdFlags(), ...(options.ldflags ?? []), '-o', outFile, ...compiled, ...linkAsIs, ...guestLibs()], `linking ${outFile} failed`);
    await verifyStaticPie(outFile);
    return outFile;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
