// The compiler and linker arguments of a Linux backend's Node-API addon, for
// each C library it is built for. Build-time only (not in the package).
//
// gnu:  g++ as installed, libstdc++ linked statically with its symbols kept
//       local, libgcc_s dynamically; every glibc symbol bound to a version
//       glibc 2.28 has (gnu/glibc-2.28-symbols.h, gnu/single-threaded.cc), so
//       the addon needs only glibc 2.28+, libgcc_s and Node-API.
// musl: the same g++ with its own C++ headers but musl's C headers, linked
//       against musl's libc.so under the name Alpine gives it
//       (libc.musl-x86_64.so.1) and against libstdc++.so.6/libgcc_s.so.1,
//       which every musl Node already loads. Debian's musl-tools has no C++
//       toolchain; glibcxx-on-musl.h adapts the glibc-configured C++ headers.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The directory of the shared C++ sources and headers. */
export const SHARED_SOURCE_DIR = fileURLToPath(new URL('../src/native', import.meta.url));

/** musl's headers, libc.so and crt files as Debian's musl-dev installs them. */
export const MUSL = {
  includeDir: '/usr/include/x86_64-linux-musl',
  libDir: '/usr/lib/x86_64-linux-musl',
  /** The name musl's libc has on Alpine, which the addon must ask for. */
  soname: 'libc.musl-x86_64.so.1',
};

/** Compiler flags both variants share. */
const COMMON_CXX_FLAGS = [
  '-std=c++17', '-O2', '-fPIC', '-pthread', '-fvisibility=hidden', '-ffunction-sections', '-fdata-sections',
  '-Wall', '-Wextra', '-Wno-missing-field-initializers',
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
];

/**
 * Linker flags both variants share: drop unused sections, strip, no executable
 * stack, and bind every symbol at load (full RELRO), so a symbol an old C
 * library lacks fails the require(), which the loader explains, instead of
 * killing the process at its first call.
 */
const COMMON_LINK_FLAGS = ['-shared', '-Wl,--gc-sections', '-Wl,-z,noexecstack', '-Wl,-z,relro', '-Wl,-z,now', '-s'];

/**
 * The Node-API headers of the Node running this script (official builds and
 * distro packages install them under `<prefix>/include/node`), so nothing is
 * downloaded. Throws an explanation when they are missing.
 */
export function nodeIncludeDir() {
  const dir = resolve(process.execPath, '..', '..', 'include', 'node');
  if (!existsSync(join(dir, 'node_api.h'))) {
    throw new Error(
      `node_api.h not found in ${dir} (the headers of ${process.execPath}, ${process.version}). ` +
        'Use a Node.js build that ships its headers (official tarballs and nodesource packages do; ' +
        'Debian/Ubuntu distro Node needs "libnode-dev").',
    );
  }
  return dir;
}

/** Include directories every variant needs: Node-API, node-addon-api and the shared sources. */
function addonIncludeFlags() {
  const addonApiDir = require('node-addon-api').include_dir;
  return ['-I', nodeIncludeDir(), '-I', addonApiDir, '-I', SHARED_SOURCE_DIR];
}

/** g++'s C++ header directories and its own (stddef.h, intrinsics), in search order; no C library ones. */
function gxxHeaderDirs() {
  const verbose = spawnSync('g++', ['-xc++', '-E', '-v', '/dev/null'], { encoding: 'utf8' }).stderr;
  const list = verbose.split('#include <...> search starts here:')[1]?.split('End of search list.')[0] ?? '';
  const gccInclude = execFileSync('g++', ['-print-file-name=include'], { encoding: 'utf8' }).trim();
  const dirs = list.split('\n').map((line) => line.trim()).filter((dir) => dir.includes('/c++/') || resolve(dir) === resolve(gccInclude));
  if (dirs.length < 2) throw new Error(`cannot find g++'s C++ headers in:\n${verbose}`);
  return dirs;
}

/**
 * Makes `<buildDir>/kernel-include` hold the Linux UAPI headers (linux/, asm/,
 * asm-generic/) without the rest of /usr/include, so glibc's headers never
 * stand in for musl's.
 */
function kernelHeaderDir(buildDir) {
  const dir = join(buildDir, 'kernel-include');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const links = { linux: '/usr/include/linux', 'asm-generic': '/usr/include/asm-generic', asm: '/usr/include/x86_64-linux-gnu/asm' };
  for (const [name, target] of Object.entries(links)) {
    if (!existsSync(target)) throw new Error(`Linux UAPI headers missing: ${target} (Debian package linux-libc-dev)`);
    symlinkSync(target, join(dir, name));
  }
  return dir;
}

/** Makes `<buildDir>/lib/libc.musl-x86_64.so.1` name musl's libc.so, so the addon's NEEDED entry is Alpine's name. */
function muslLibDir(buildDir) {
  const dir = join(buildDir, 'lib');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(MUSL.libDir, 'libc.so'), join(dir, MUSL.soname));
  return dir;
}

/**
 * What `g++` needs to compile and link one variant.
 * @param {'gnu' | 'musl'} libc
 * @param {string} buildDir scratch directory of this variant
 * @returns {{ compile: string[], linkBefore: string[], linkAfter: string[], sources: string[] }} arguments
 *   before and after the objects when linking; `sources`: extra sources of this variant
 */
export function toolchainFlags(libc, buildDir) {
  if (libc === 'gnu') {
    const gnuFile = (name) => fileURLToPath(new URL(`./gnu/${name}`, import.meta.url));
    return {
      compile: [...COMMON_CXX_FLAGS, '-include', gnuFile('glibc-2.28-symbols.h'), ...addonIncludeFlags()],
      linkBefore: [...COMMON_LINK_FLAGS, '-pthread'],
      // libpthread.so.0 NEEDED even though no symbol binds to it here: glibc < 2.34 defines the pthread functions there.
      linkAfter: ['-static-libstdc++', '-Wl,--exclude-libs,ALL', '-Wl,--push-state,--no-as-needed', '-l:libpthread.so.0', '-Wl,--pop-state'],
      sources: [gnuFile('single-threaded.cc')],
    };
  }
  const gccFile = (name) => execFileSync('g++', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
  const compat = fileURLToPath(new URL('./musl/glibcxx-on-musl.h', import.meta.url));
  const systemDirs = [...gxxHeaderDirs(), MUSL.includeDir, kernelHeaderDir(buildDir)];
  return {
    compile: [
      ...COMMON_CXX_FLAGS, '-nostdinc', ...systemDirs.flatMap((dir) => ['-isystem', dir]),
      '-include', compat, ...addonIncludeFlags(),
    ],
    linkBefore: [...COMMON_LINK_FLAGS, '-nostdlib', join(MUSL.libDir, 'crti.o'), gccFile('crtbeginS.o')],
    linkAfter: [
      '-L', muslLibDir(buildDir), `-l:${MUSL.soname}`,
      gccFile('libstdc++.so'), gccFile('libgcc_s.so.1'), gccFile('libgcc.a'),
      gccFile('crtendS.o'), join(MUSL.libDir, 'crtn.o'),
    ],
    sources: [],
  };
}

/**
 * Makes sure musl's headers and libc.so are installed: installs Debian's
 * musl-tools (with musl-dev) when running as root with apt-get, otherwise
 * throws saying what to install.
 */
export function ensureMuslTools() {
  const present = () => existsSync(join(MUSL.includeDir, 'stdlib.h')) && existsSync(join(MUSL.libDir, 'libc.so'));
  if (present()) return;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.getuid?.() === 0 && hasApt) {
    process.stderr.write('build:musl: installing musl-tools (musl headers and libc.so) with apt-get\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'musl-tools', 'musl-dev'], { stdio: 'inherit', env }).status;
    if (install() !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      install();
    }
    if (present()) return;
  }
  throw new Error(
    `musl's headers and libc.so are missing (${MUSL.includeDir}/stdlib.h, ${MUSL.libDir}/libc.so). ` +
      'Install them with "sudo apt-get install musl-tools musl-dev" (Debian/Ubuntu), then run "pnpm build:musl" again. ' +
      'Only the musl prebuild needs them; "pnpm build" (glibc) does not.',
  );
}
