/**
 * buildCGuest: C sources -> guest ELF. Each step is a `hyperlight-cc`
 * command line (compiler-command.ts), so the API, the CLI and build systems
 * using the wrapper build guests the same way.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { guestCompilerCommand, isLinkOption, splitCompilerArgs, type GuestCompilerCommand } from './compiler-command.js';
import { FRAME_POINTER_FLAGS, optimizeFlag, requireGuestLibraries, type OptimizeLevel } from './flags.js';
import { GuestBuildError } from './guest-build-error.js';
import { runGuestCompiler } from './run-guest-compiler.js';

/** Options of {@link buildCGuest}. */
export interface BuildCGuestOptions {
  /** C (`.c`) or assembly (`.S`, `.s`) files to compile; `.o` and `.a` files are linked as they are. */
  sources: readonly string[];
  /** The guest ELF to write (directories are created). */
  outFile: string;
  /** Extra `-I` directories. */
  includeDirs?: readonly string[];
  /** Preprocessor definitions: `{ NAME: value }` (`true` = defined, `false` = left out) or `['NAME=value', ...]`. */
  defines?: Readonly<Record<string, string | number | boolean>> | readonly string[];
  /** Optimisation (default `true` = `-O2`); a `-O` in `cflags` wins. */
  optimize?: OptimizeLevel;
  /** Emit debug info (`-g`). */
  debug?: boolean;
  /**
   * Keep frame pointers (`-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer`)
   * so the stacks of memory-profile records reach through the guest's own
   * functions. Build traced guests with `defines: { HL_TRACE: true }` too.
   */
  framePointers?: boolean;
  /** The real C compiler (default `$HYPERLIGHT_CC`, else `gcc`; GCC-compatible, targeting x86-64). */
  cc?: string;
  /**
   * Ordinary compiler flags, after ours (`-std=c89`, `-pedantic`, `-Wall`,
   * `-include cfg.h`, `-UNDEBUG`, ...). Link options among them (`-l`, `-L`,
   * `-Wl,...`, `-f...`) also reach the link.
   */
  cflags?: readonly string[];
  /** Extra linker flags (`-Wl,...`, `-L`, `-l`), after ours. */
  ldflags?: readonly string[];
  /**
   * Receives what the compiler wrote in each step that succeeded (warnings,
   * notes), one call per step that wrote anything; a failed step's output is
   * in the thrown error instead. Default: this process's stderr.
   */
  onOutput?: (text: string) => void;
}

function defineFlags(defines: BuildCGuestOptions['defines']): string[] {
  if (!defines) return [];
  if (Array.isArray(defines)) return (defines as readonly string[]).map((d) => `-D${d}`);
  return Object.entries(defines as Record<string, string | number | boolean>).flatMap(([name, value]) =>
    value === false ? [] : [value === true ? `-D${name}` : `-D${name}=${value}`],
  );
}

/** Runs `task` over `items` with at most `limit` at a time. */
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

async function runStep(command: GuestCompilerCommand, what: string, onOutput: (text: string) => void): Promise<void> {
  const { exitCode, output } = await runGuestCompiler(command, { onOutput });
  if (exitCode !== 0) throw new GuestBuildError(what, [command.cc, ...command.args], output);
}

/**
 * Compiles and links a C guest against the guest runtime and musl, into a
 * static PIE whose entry point is the runtime's `hyperlight_entry`. The
 * guest's `void hyperlight_main(void)` registers its functions (without one,
 * the guest has none).
 *
 * @returns the absolute path of the written ELF
 * @throws GuestBuildError when a compile or the link fails (the compiler's
 * diagnostics are in `output`), when the guest libraries of
 * `@hyperlight-ts/guest-rs` have not been built, when a flag cannot build a
 * guest (`-shared`, `-fno-pie`, ...), or when the result is not a static PIE
 * with only relative relocations
 *
 * @example
 * ```ts
 * import { buildCGuest } from '@hyperlight-ts/guest-c';
 * const elf = await buildCGuest({ sources: ['guest/main.c'], outFile: 'build/guest.elf', cflags: ['-std=c99', '-Wall'] });
 * ```
 */
export async function buildCGuest(options: BuildCGuestOptions): Promise<string> {
  if (options.sources.length === 0) throw new GuestBuildError('buildCGuest: no sources given');
  requireGuestLibraries();
  const onOutput = options.onOutput ?? ((text: string) => void process.stderr.write(text));
  const outFile = resolve(options.outFile);
  const userFlags = [
    optimizeFlag(options.optimize),
    ...(options.debug ? ['-g'] : []),
    ...(options.framePointers ? FRAME_POINTER_FLAGS : []),
    ...(options.includeDirs ?? []).map((d) => `-I${resolve(d)}`),
    ...defineFlags(options.defines),
    ...(options.cflags ?? []),
  ];
  const linkFlags = [...splitCompilerArgs(userFlags).filter(isLinkOption).flatMap((arg) => arg.words), ...(options.ldflags ?? [])];
  const work = await mkdtemp(join(tmpdir(), 'hl-c-guest-'));
  try {
    const objects: string[] = [];
    await inParallel(options.sources, availableParallelism(), async (src, i) => {
      if (/\.(o|a)$/.test(src)) {
        objects[i] = resolve(src);
        return;
      }
      const obj = join(work, `${i}-${basename(src).replace(/\.[^.]*$/, '')}.o`);
      await runStep(await guestCompilerCommand([...userFlags, '-c', resolve(src), '-o', obj], { cc: options.cc }), `compiling ${src} failed`, onOutput);
      objects[i] = obj;
    });
    await mkdir(dirname(outFile), { recursive: true });
    await runStep(await guestCompilerCommand([...linkFlags, '-o', outFile, ...objects], { cc: options.cc }), `linking ${outFile} failed`, onOutput);
    return outFile;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
