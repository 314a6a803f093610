/**
 * Builds a Rust guest crate into a guest ELF: `cargo rustc` for
 * `x86_64-unknown-linux-gnu` with the freestanding static-PIE link line, then
 * a check that the result is loadable. Works on stable Rust, offline, with no
 * build script or cargo config in the guest crate.
 *
 * A guest whose build enables `hyperlight-guest`'s `libc` feature also gets
 * the C library (musl, `guestNativeLibraries().libcArchive`) and libgcc on its
 * link line, after any C objects or archives it asks for (`link`).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { checkStaticPie, GUEST_ENTRY_SYMBOL } from './elf-check.js';
import { RustGuestBuildError } from './errors.js';
import { guestNativeLibraries } from './native-libraries.js';

/** The only target this toolchain setup needs: guests are linux-gnu code with no libc. */
export const GUEST_TARGET = 'x86_64-unknown-linux-gnu';

/**
 * Linker arguments for the guest binary (and only it: `cargo rustc` passes
 * them to the final crate, so dependencies, build scripts and proc macros
 * are untouched).
 */
export const GUEST_LINK_ARGS: readonly string[] = [
  // No C runtime: the entry point is the guest runtime's.
  '-nostartfiles',
  '-nostdlib',
  // ET_DYN with only R_X86_64_RELATIVE relocations and no PT_INTERP: the host
  // loads it anywhere and applies the relocations itself.
  '-static-pie',
  '-Wl,--no-dynamic-linker',
  `-Wl,--entry=${GUEST_ENTRY_SYMBOL}`,
  '-Wl,-z,noexecstack',
  '-Wl,--gc-sections',
];

/** Options of {@link buildRustGuest}. */
export interface BuildRustGuestOptions {
  /** Directory of the guest crate (its `Cargo.toml`; the package needs a binary target). */
  readonly crateDir: string;
  /** Optimised build (`--release`); defaults to `true`. */
  readonly release?: boolean;
  /** Copy the ELF to this path (parent directories are created). */
  readonly outFile?: string;
  /** The binary target to build when the package has several; defaults to the only one. */
  readonly bin?: string;
  /** The cargo executable; defaults to `$CARGO`, then `cargo` on `PATH`. */
  readonly cargo?: string;
  /** Receives every line cargo writes to stderr (progress, warnings) as it arrives. */
  readonly onOutput?: (line: string) => void;
  /**
   * Keep frame pointers in every crate of the guest (`-C force-frame-pointers=yes`), so that
   * memory profiles (the `trace` feature of `hyperlight-guest`) get whole stacks. Defaults to the
   * guest package's `[package.metadata.hyperlight] frame-pointers`, else `false`.
   */
  readonly framePointers?: boolean;
  /**
   * C objects (`.o`) or archives (`.a`) to link into the guest, e.g. C compiled with
   * `hyperlight-cc -c` (`@hyperlight-ts/guest-c`); relative paths are resolved from the current
   * directory. They come after the package's `[package.metadata.hyperlight] link` list (paths
   * relative to the crate) and before the C library.
   */
  readonly link?: readonly string[];
}

/** The runtime crate whose `libc` feature brings in the C library. */
export const RUNTIME_CRATE = 'hyperlight-guest';

/** The rustc flag that keeps frame pointers. */
export const FRAME_POINTERS_FLAG = '-Cforce-frame-pointers=yes';

/**
 * `env` with {@link FRAME_POINTERS_FLAG} added to the rustflags of the build, as
 * `CARGO_ENCODED_RUSTFLAGS` (which cargo prefers over `RUSTFLAGS` and config files): flags already
 * in `CARGO_ENCODED_RUSTFLAGS` or `RUSTFLAGS` are kept. With `--target`, cargo applies them to the
 * guest and its dependencies only, not to proc macros or build scripts.
 *
 * @param env - the environment cargo would otherwise get
 * @returns a new environment
 */
export function withFramePointers(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const encoded = env['CARGO_ENCODED_RUSTFLAGS'];
  const existing = encoded ? encoded.split('\x1f') : (env['RUSTFLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
  const flags = existing.includes(FRAME_POINTERS_FLAG) ? existing : [...existing, FRAME_POINTERS_FLAG];
  return { ...env, CARGO_ENCODED_RUSTFLAGS: flags.join('\x1f') };
}

/** `[package.metadata.hyperlight] frame-pointers` of a package, when it is a boolean. */
function metadataFramePointers(pkg: CargoPackage): boolean | undefined {
  const value = (pkg.metadata as { hyperlight?: { 'frame-pointers'?: unknown } } | null | undefined)?.hyperlight?.['frame-pointers'];
  return typeof value === 'boolean' ? value : undefined;
}

/**
 * `[package.metadata.hyperlight] link` of a package as absolute paths (relative to the crate).
 *
 * @throws {@link RustGuestBuildError} `bad-crate` when it is not a list of strings
 */
function metadataLink(pkg: CargoPackage, crateDir: string): string[] {
  const value = (pkg.metadata as { hyperlight?: { link?: unknown } } | null | undefined)?.hyperlight?.link;
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new RustGuestBuildError('bad-crate', `[package.metadata.hyperlight] link of package "${pkg.name}" must be a list of paths`);
  }
  return value.map((v) => resolve(crateDir, v));
}

/**
 * Linker arguments that add `inputs` and, for a guest with the C library, the library and
 * libgcc (in one group: each may need the others).
 *
 * @param inputs - C objects and archives of the guest
 * @param libcArchive - the C library, or `undefined` when the guest does not use it
 * @returns arguments for `-C link-arg=`
 */
export function cLinkArgs(inputs: readonly string[], libcArchive: string | undefined): string[] {
  if (libcArchive === undefined) return [...inputs];
  return ['-Wl,--start-group', ...inputs, libcArchive, '-lgcc', '-Wl,--end-group'];
}

interface RunResult { code: number; stdout: string; stderr: string }

/** Runs `command`; rejects only when it cannot be started. */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, onStderr?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!onStderr) return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onStderr(line);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (onStderr && partial) onStderr(partial);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(stdout).toString('utf8'), stderr });
    });
  });
}

interface CargoTarget { name: string; kind: string[] }
interface CargoPackage { id: string; name: string; manifest_path: string; targets: CargoTarget[]; metadata?: unknown }
interface CargoArtifact { reason: string; package_id?: string; target?: CargoTarget; executable?: string | null }

/**
 * Builds the guest crate in `crateDir` and returns the path of the ELF.
 *
 * @param options - see {@link BuildRustGuestOptions}
 * @returns the absolute path of the guest ELF (`outFile` when given, else cargo's output)
 * @throws {@link RustGuestBuildError} saying what failed: `cargo-not-found`, `bad-crate`,
 *   `cargo-failed` (with cargo's output, e.g. compile errors, link errors), `libc-not-built`,
 *   `missing-link-input`, `no-binary` or `not-static-pie`
 * @example
 * const elf = await buildRustGuest({ crateDir: 'guest', outFile: 'dist/guest.elf' });
 */
export async function buildRustGuest(options: BuildRustGuestOptions): Promise<string> {
  const crateDir = resolve(options.crateDir);
  const release = options.release ?? true;
  const cargo = options.cargo ?? process.env['CARGO'] ?? 'cargo';
  const manifest = join(crateDir, 'Cargo.toml');
  if (!(await stat(manifest).catch(() => undefined))?.isFile()) {
    throw new RustGuestBuildError('bad-crate', `${crateDir} has no Cargo.toml; pass the directory of the guest crate`);
  }
  const manifestPath = await realpath(manifest);

  const cargoRun = async (args: readonly string[], env: NodeJS.ProcessEnv, onStderr?: (line: string) => void): Promise<RunResult> => {
    try {
      return await run(cargo, args, crateDir, env, onStderr);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw new RustGuestBuildError(
        missing ? 'cargo-not-found' : 'cargo-failed',
        missing
          ? `cannot run "${cargo}": cargo is not installed or not on PATH (install Rust from https://rustup.rs, or set $CARGO)`
          : `cannot run "${cargo}": ${(e as Error).message}`,
        '',
        { cause: e },
      );
    }
  };

  const metadata = await cargoRun(['metadata', '--format-version', '1', '--no-deps', '--offline', '--manifest-path', manifestPath], process.env);
  if (metadata.code !== 0) {
    throw new RustGuestBuildError('cargo-failed', `cargo metadata failed for ${manifestPath}`, metadata.stderr.trimEnd());
  }
  const packages = (JSON.parse(metadata.stdout) as { packages: CargoPackage[] }).packages;
  const pkg = packages.find((p) => p.manifest_path === manifestPath);
  if (!pkg) {
    throw new RustGuestBuildError('bad-crate', `${manifestPath} is not a package (a workspace root?); pass the directory of the guest crate itself`);
  }
  const bins = pkg.targets.filter((t) => t.kind.includes('bin')).map((t) => t.name);
  const bin = options.bin ?? (bins.length === 1 ? bins[0] : undefined);
  if (bin === undefined || !bins.includes(bin)) {
    const has = bins.length ? `it has ${bins.map((b) => `"${b}"`).join(', ')}` : 'it has none';
    throw new RustGuestBuildError(
      'bad-crate',
      options.bin === undefined
        ? `package "${pkg.name}" must have exactly one binary target (src/main.rs) or name one with \`bin\`; ${has}`
        : `package "${pkg.name}" has no binary target "${options.bin}"; ${has}`,
    );
  }

  // Features as resolved for this package alone: `cargo metadata` unifies them over every member
  // of the workspace, so a sibling guest with the C library would drag it into this one.
  const tree = await cargoRun(
    ['tree', '--manifest-path', manifestPath, '--package', pkg.id, '--target', GUEST_TARGET, '--edges', 'normal', '--prefix', 'none', '--format', '{p}|{f}', '--offline'],
    process.env,
  );
  if (tree.code !== 0) {
    throw new RustGuestBuildError('cargo-failed', `cargo tree failed for ${manifestPath}`, tree.stderr.trimEnd());
  }
  const libc = usesLibc(tree.stdout);
  const libcArchive = guestNativeLibraries().libcArchive;
  if (libc && !(await isFile(libcArchive))) {
    throw new RustGuestBuildError(
      'libc-not-built',
      `guest "${bin}" enables ${RUNTIME_CRATE}'s "libc" feature, but the C library ${libcArchive} is not built (run \`pnpm build\` in @hyperlight-ts/guest-rs)`,
    );
  }
  const inputs = [...metadataLink(pkg, crateDir), ...(options.link ?? []).map((p) => resolve(p))];
  for (const input of inputs) {
    if (!(await isFile(input))) {
      throw new RustGuestBuildError('missing-link-input', `${input}, which guest "${bin}" links, does not exist (build the C code first)`);
    }
  }

  const linkArgs = [...GUEST_LINK_ARGS, ...cLinkArgs(inputs, libc ? libcArchive : undefined)];
  const args = [
    'rustc', '--manifest-path', manifestPath, '--package', pkg.name, '--bin', bin,
    '--target', GUEST_TARGET, '--offline', '--message-format=json-render-diagnostics',
    ...(release ? ['--release'] : []),
    '--', ...linkArgs.flatMap((a) => ['-C', `link-arg=${a}`]),
  ];
  // Guests abort on panic. Profile overrides apply to every crate of the
  // build (cargo ignores `panic` for proc macros and build scripts), so the
  // guest crate needs no [profile] of its own.
  const panicAbort = { ...process.env, CARGO_PROFILE_RELEASE_PANIC: 'abort', CARGO_PROFILE_DEV_PANIC: 'abort' };
  const framePointers = options.framePointers ?? metadataFramePointers(pkg) ?? false;
  const env = framePointers ? withFramePointers(panicAbort) : panicAbort;
  const build = await cargoRun(args, env, options.onOutput);
  if (build.code !== 0) {
    throw new RustGuestBuildError('cargo-failed', `cargo could not build guest "${bin}" (${crateDir})`, build.stderr.trimEnd());
  }

  const executable = build.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as CargoArtifact)
    .find((m) => m.reason === 'compiler-artifact' && m.package_id === pkg.id && m.target?.name === bin && m.target.kind.includes('bin') && m.executable)
    ?.executable;
  if (!executable) {
    throw new RustGuestBuildError('no-binary', `cargo reported no executable for binary "${bin}" of package "${pkg.name}"`);
  }

  checkStaticPie(await readFile(executable));

  if (options.outFile === undefined) return executable;
  const outFile = resolve(options.outFile);
  await mkdir(dirname(outFile), { recursive: true });
  await copyFile(executable, outFile);
  return outFile;
}

/** Whether `path` is an existing file. */
async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Whether `cargo tree --format '{p}|{f}'` output shows {@link RUNTIME_CRATE} built with its
 * `libc` feature.
 */
function usesLibc(tree: string): boolean {
  return tree.split('\n').some((line) => {
    const [spec = '', features = ''] = line.split('|');
    return spec.startsWith(`${RUNTIME_CRATE} v`) && features.split(',').includes('libc');
  });
}

/**
 * The directory of the `hyperlight-guest` crate shipped in this package, for
 * a guest's `Cargo.toml`: `hyperlight-guest = { path = "<this>" }`.
 *
 * @returns an absolute path
 */
export function guestCrateDir(): string {
  return fileURLToPath(new URL('../crates/hyperlight-guest', import.meta.url));
}
