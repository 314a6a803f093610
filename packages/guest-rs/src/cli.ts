/**
 * `hyperlight-build-rust-guest <crate-dir> [--out <file>] [--debug] [--bin <name>] [--frame-pointers]`:
 * builds a Rust guest crate and prints the path of the guest ELF.
 */
import { parseArgs } from 'node:util';

import { buildRustGuest } from './build-guest.js';
import { RustGuestBuildError } from './errors.js';

const USAGE = `usage: hyperlight-build-rust-guest <crate-dir> [--out <file>] [--debug] [--bin <name>] [--frame-pointers]

Builds the Rust guest crate in <crate-dir> into a static-PIE guest ELF and
prints its path.

  --out <file>   copy the ELF to <file> (directories are created)
  --debug        unoptimised build (cargo's dev profile); default is --release
  --bin <name>   the binary target, when the package has several
  --frame-pointers
                 keep frame pointers in every crate (whole stacks in memory
                 profiles); the default is the package's
                 [package.metadata.hyperlight] frame-pointers, else off
  -h, --help     show this help`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        debug: { type: 'boolean', default: false },
        bin: { type: 'string' },
        'frame-pointers': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [crateDir, ...extra] = positionals;
  if (crateDir === undefined || extra.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let streamed = false;
  try {
    const elf = await buildRustGuest({
      crateDir,
      release: !values.debug,
      ...(values.out === undefined ? {} : { outFile: values.out }),
      ...(values.bin === undefined ? {} : { bin: values.bin }),
      // Absent: the package's metadata decides.
      ...(values['frame-pointers'] ? { framePointers: true } : {}),
      // cargo's progress and warnings, as a user running cargo would see them.
      onOutput: (line) => {
        streamed = true;
        process.stderr.write(`${line}\n`);
      },
    });
    process.stdout.write(`${elf}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof RustGuestBuildError)) throw e;
    // When cargo's output was streamed above, repeat only the summary.
    process.stderr.write(`hyperlight-build-rust-guest: ${streamed ? e.summary : e.message}\n`);
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
