/**
 * Builds and runs test/native/bench_tracing.c, the guest-side cost of
 * tracing timed natively, and passes its JSON line through on stdout.
 *
 *   node test/bench-tracing.mjs        (after `pnpm build`)
 *
 * Like test/bench-per-call.mjs, the harness links a copy of
 * dist/lib/libhyperlight_guest.a with every symbol prefixed hlt_. Build
 * output goes to build/bench/. HYPERLIGHT_BENCH_SAMPLES and
 * HYPERLIGHT_BENCH_BATCH pass through to the harness.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const library = join(pkg, 'dist', 'lib', 'libhyperlight_guest.a');
const out = join(pkg, 'build', 'bench');
const cc = process.env.CC ?? 'gcc';

if (!existsSync(library)) {
  console.error(`bench-tracing: ${library} is missing; run \`pnpm build\` first`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
const prefixed = join(out, 'libhlt_guest_tracing.a');
const harness = join(out, 'bench_tracing');
const build = (tool, args) => execFileSync(tool, args, { stdio: ['ignore', 'inherit', 'inherit'] });
build('objcopy', ['--prefix-symbols=hlt_', library, prefixed]);
build(cc, ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-I', join(pkg, 'include'), '-o', harness, join(pkg, 'test', 'native', 'bench_tracing.c'), prefixed]);
build(harness, []);
