/**
 * The real-world libraries: where their pinned sources are, how each is built
 * with its own build system (unmodified, its own flags), which of its files
 * are test corpora, and which of our C files wrap it.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { run } from './run.mjs';

const JOBS = String(availableParallelism());

/**
 * @typedef {object} BuiltLibrary
 * @property {string[]} archives - static libraries to link, dependents first
 * @property {string[]} includeDirs - where the library's headers are
 * @property {string} flags - the compiler flags the library's build system chose (for the record and the tests)
 */

/** @returns the value of the first `NAME = value` / `NAME=value` line of a generated makefile. */
async function makeVariable(file, name) {
  const match = new RegExp(`^${name} *= *(.*)$`, 'm').exec(await readFile(file, 'utf8'));
  if (!match) throw new Error(`${file} has no ${name} line`);
  return match[1].trim();
}

/** cJSON with its CMakeLists.txt: static libraries, cJSON_Utils on, its tests off, everything else its default. */
const cjson = {
  id: 'cjson',
  pin: 'sources/cjson.json',
  corpus: ['tests/inputs', 'tests/json-patch-tests', 'fuzzing/inputs'],
  sources: ['cjson/logic.c'],
  /** @returns {Promise<BuiltLibrary>} */
  async build(toolchain, srcDir, workDir) {
    const buildDir = join(workDir, 'cmake-build');
    const options = ['-DBUILD_SHARED_LIBS=Off', '-DENABLE_CJSON_TEST=Off', '-DENABLE_CJSON_UTILS=On'];
    await run('cmake', ['-S', srcDir, '-B', buildDir, ...toolchain.cmakeArgs(), ...options], { env: { CC: undefined, CFLAGS: undefined } });
    await run('cmake', ['--build', buildDir, '--parallel', JOBS]);
    const flags = await makeVariable(join(buildDir, 'CMakeFiles', 'cjson.dir', 'flags.make'), 'C_FLAGS');
    return { archives: [join(buildDir, 'libcjson_utils.a'), join(buildDir, 'libcjson.a')], includeDirs: [srcDir], flags };
  },
};

/** zlib with its configure script and Makefile: `./configure --static`, `make libz.a`. */
const zlib = {
  id: 'zlib',
  pin: 'sources/zlib.json',
  corpus: ['ChangeLog', 'zlib.3.pdf', 'doc/algorithm.txt', 'deflate.c', 'inflate.c', 'trees.c', 'zlib.h', 'crc32.h'],
  sources: ['zlib/logic.c'],
  /** @returns {Promise<BuiltLibrary>} */
  async build(toolchain, srcDir) {
    await run('./configure', ['--static'], { cwd: srcDir, env: { CC: toolchain.cc, CFLAGS: undefined, LDFLAGS: undefined } });
    await run('make', ['-j', JOBS, 'libz.a'], { cwd: srcDir });
    return { archives: [join(srcDir, 'libz.a')], includeDirs: [srcDir], flags: await makeVariable(join(srcDir, 'Makefile'), 'CFLAGS') };
  },
};

/** Every library, in build order. */
export const LIBRARIES = [cjson, zlib];
