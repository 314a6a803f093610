/**
 * `hyperlight-build-rust-guest <crate-dir> [--out <file>] [--debug] [--bin <name>] [--frame-pointers] [--link <file>]...`:
 * builds a Rust guest crate and prints the path of the guest ELF.
 */
import { parseArgs } from 'node:util';

import { buildRustGuest } from './build-guest.js';
import { RustGuestBuildError } from './errors.js';

const USAGE = `usage: hyperlight-build-rust-guest <crate-dir> [--out <file>] [--debug] [--bin <name>] [--frame-pointers] [--link <file>]...

Builds the Rust guest crate in <crate-dir> into a static-PIE guest ELF and
prints its path.

  --out <file>   copy the ELF to <file> (directories are created)
  --debug        unoptimised build (cargo's dev profile); default is --release
  --bin <name>   the binary target, when the package has several
  --frame-pointers
                 keep frame pointers in every crate (whole stacks in memory
                 profiles); the default is the package's
                 [package.metadata.hyperlight] frame-pointers, else off
  --link <file>  also link this C object or archive (e.g. from hyperlight-cc -c);
                 repeatable, after the package's [package.metadata.hyperlight]
                 link list. A guest whose hyperlight-guest has the "libc"
                 feature gets the C library linked too
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
        link: { type: 'string', multiple: true, default: [] },
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
      link: values.link,
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
