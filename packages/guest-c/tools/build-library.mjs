/**
 * Builds dist/lib/libhyperlight_guest.a (runtime + guest libc) with the same
 * flags guests are compiled with (dist/index.js, built by tsup first), plus
 * frame pointers: memory-profile stacks then walk through the runtime's and
 * the libc's frames (malloc's caller, the dispatcher) to the entry point.
 * Run by `pnpm build`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { defaultCompiler, guestCFlags, guestCPaths } from '../dist/index.js';

const run = promisify(execFile);
const paths = guestCPaths();
const cc = defaultCompiler();
const cflags = [
  ...(await guestCFlags({ cc, framePointers: true })),
  '-std=gnu11',
  '-Wall',
  '-Wextra',
  // The libc's own mem*/str* loops must not be turned back into calls to themselves.
  '-fno-tree-loop-distribute-patterns',
];

const sources = [];
for (const dir of ['src', 'libc/src']) {
  for (const f of (await readdir(join(paths.root, dir))).sort()) if (f.endsWith('.c')) sources.push(join(dir, f));
}

const work = await mkdtemp(join(tmpdir(), 'hl-guest-lib-'));
try {
  const objects = sources.map((s) => join(work, s.replace(/[/.]/g, '_') + '.o'));
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const i = next++;
      const { stderr } = await run(cc, [...cflags, '-c', join(paths.root, sources[i]), '-o', objects[i]]);
      if (stderr) process.stderr.write(stderr);
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), sources.length) }, worker));
  await mkdir(join(paths.root, 'dist', 'lib'), { recursive: true });
  await rm(paths.library, { force: true });
  await run('ar', ['rcsD', paths.library, ...objects]); // D: deterministic (no timestamps)
  console.log(`built ${paths.library} (${sources.length} objects)`);
} finally {
  await rm(work, { recursive: true, force: true });
}
