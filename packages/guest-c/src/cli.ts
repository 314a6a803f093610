/**
 * hyperlight-build-c-guest: command-line front end of buildCGuest, plus the
 * flags for build systems that call the real compiler themselves.
 */
import { buildCGuest } from './build-guest.js';
import { splitCompilerArgs } from './compiler-command.js';
import { guestCFlags, guestLdFlags, guestLibs, requireGuestLibraries, shellQuote } from './flags.js';
import { GuestBuildError } from './guest-build-error.js';

const USAGE = `usage: hyperlight-build-c-guest -o OUT.elf [options] [compiler flags] SOURCE...
       hyperlight-build-c-guest --print-cflags | --print-ldflags | --print-libs

Builds a hyperlight-ts guest (static PIE, entry hyperlight_entry) from C and
assembly sources against the guest runtime and musl; .o and .a files are
linked as they are. Compiler flags (-std=c89, -pedantic, -Wall, -I, -D, -U,
-include FILE, -O2, -g, -Wl,..., -l...) go to the compiler as they are,
after the guest flags (default -O2); its warnings go to stderr.

options:
  -o FILE            output ELF (required)
  --frame-pointers   keep frame pointers (stack traces in memory profiles)
  --cc CC            the real C compiler (default: $HYPERLIGHT_CC, else gcc)
  --print-cflags     print compile flags for your own build system
  --print-ldflags    print link flags (put them before your objects)
  --print-libs       print libraries (put them after your objects)
  -h, --help         show this help

For Make, configure scripts and CMake, the compiler driver hyperlight-cc
(CC=hyperlight-cc) is usually simpler.`;

class UsageError extends Error {}

interface Parsed {
  out?: string;
  sources: string[];
  flags: string[];
  framePointers: boolean;
  cc?: string;
  print?: 'cflags' | 'ldflags' | 'libs';
  help: boolean;
}

function parse(argv: readonly string[]): Parsed {
  const p: Parsed = { sources: [], flags: [], framePointers: false, help: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') p.help = true;
    else if (a === '--print-cflags') p.print = 'cflags';
    else if (a === '--print-ldflags') p.print = 'ldflags';
    else if (a === '--print-libs') p.print = 'libs';
    else if (a === '--frame-pointers') p.framePointers = true;
    else if (a === '--cc') p.cc = next();
    else if (a.startsWith('--cc=')) p.cc = a.slice('--cc='.length);
    else if (a === '--output') p.out = next();
    else rest.push(a);
  }
  for (const arg of splitCompilerArgs(rest)) {
    if (arg.option === '-o') p.out = arg.value;
    else if (arg.option === undefined) p.sources.push(arg.words[0]!);
    else p.flags.push(...arg.words);
  }
  return p;
}

async function main(argv: string[]): Promise<number> {
  let p: Parsed;
  try {
    p = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`hyperlight-build-c-guest: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (p.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (p.print) {
    requireGuestLibraries();
    const flags =
      p.print === 'cflags' ? [...(await guestCFlags({ cc: p.cc, framePointers: p.framePointers })), ...p.flags] : p.print === 'ldflags' ? guestLdFlags() : guestLibs();
    process.stdout.write(`${flags.map(shellQuote).join(' ')}\n`);
    return 0;
  }
  if (!p.out || p.sources.length === 0) {
    process.stderr.write(`hyperlight-build-c-guest: ${p.out ? 'no sources given' : '-o is required'}\n${USAGE}\n`);
    return 2;
  }
  const out = await buildCGuest({ sources: p.sources, outFile: p.out, framePointers: p.framePointers, cc: p.cc, cflags: p.flags });
  process.stdout.write(`${out}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`hyperlight-build-c-guest: ${e instanceof GuestBuildError ? e.message : String((e as Error)?.stack ?? e)}\n`);
    process.exit(1);
  },
);
