// Compiles bench/restore.cc with the shared memory_image.cc (@hyperlight-ts/native-linux) and
// runs it: restore strategies and snapshot cost of 64 MiB of guest memory.
// Pure memory management, so it runs without /dev/kvm.
//   node bench/restore.mjs [iterations]
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const native = join(here, '..', '..', 'native-linux', 'src', 'native');
const binary = join(here, 'build', 'restore');
mkdirSync(join(here, 'build'), { recursive: true });
execFileSync('g++', ['-O2', '-std=c++17', '-Wall', '-Wextra', `-I${native}`, '-o', binary,
  join(here, 'restore.cc'), join(native, 'memory_image.cc')], { stdio: 'inherit' });
execFileSync(binary, process.argv.slice(2, 3), { stdio: 'inherit' });
