#!/usr/bin/env node
/**
 * hyperlight-build-c-guest: command-line front end of buildCGuest, plus the
 * flags for building guests with your own Makefile or CMake.
 */
import { buildCGuest } from './build-guest.js';
import { guestCFlags, guestLdFlags, guestLibs, shellQuote, type OptimizeLevel } from './flags.js';
import { GuestBuildError } from './guest-build-error.js';

const USAGE = `usage: hyperlight-build-c-guest -o OUT.elf [options] SOURCE...
       hyperlight-build-c-guest --print-cflags | --print-ldflags | --print-libs

Builds a hyperlight-ts guest (static PIE, entry hl_entry) from C/assembly
sources; .o and .a files are linked as they are.

options:
  -o FILE            output ELF (required)
  -I DIR             add an include directory
  -D NAME[=VALUE]    define a macro
  -O0 -O1 -O2 -O3 -Os -Og   optimisation (default -O2)
  -g                 debug info
  --frame-pointers   keep frame pointers (stack traces in memory profiles)
  -Wl,FLAGS          pass FLAGS to the linker
  -W... -f... -m... -std=...  passed to the compiler
  --cc CC            C compiler (default: $CC, else gcc)
  --print-cflags     print compile flags for your own build system
  --print-ldflags    print link flags (put them before your objects)
  --print-libs       print libraries (put them after your objects)
  -h, --help         show this help`;

class UsageError extends Error {}

interface Parsed {
  out?: string;
  sources: string[];
  includeDirs: string[];
  defines: string[];
  cflags: string[];
  ldflags: string[];
  optimize: OptimizeLevel;
  debug: boolean;
  framePointers: boolean;
  cc?: string;
  print?: 'cflags' | 'ldflags' | 'libs';
  help: boolean;
}

function parse(argv: string[]): Parsed {
  const p: Parsed = { sources: [], includeDirs: [], defines: [], cflags: [], ldflags: [], optimize: true, debug: false, framePointers: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // Options that take a value either attached (-Ifoo) or as the next argument.
    const value = (flag: string): string => {
      if (a.length > flag.length) return a.slice(flag.length);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') p.help = true;
    else if (a === '--print-cflags') p.print = 'cflags';
    else if (a === '--print-ldflags') p.print = 'ldflags';
    else if (a === '--print-libs') p.print = 'libs';
    else if (a === '--cc') p.cc = value('--cc');
    else if (a.startsWith('--cc=')) p.cc = a.slice(5);
    else if (a === '--output' || a.startsWith('-o')) p.out = value(a === '--output' ? '--output' : '-o');
    else if (a.startsWith('-I')) p.includeDirs.push(value('-I'));
    else if (a.startsWith('-D')) p.defines.push(value('-D'));
    else if (/^-O[0-3sg]$/.test(a)) {
      const level = a.slice(2);
      p.optimize = level === 's' || level === 'g' ? level : (Number(level) as 0 | 1 | 2 | 3);
    } else if (a === '-g') p.debug = true;
    else if (a === '--frame-pointers') p.framePointers = true;
    else if (a.startsWith('-Wl,')) p.ldflags.push(a);
    else if (/^-(W|f|m|std=)/.test(a)) p.cflags.push(a);
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else p.sources.push(a);
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
    const flags =
      p.print === 'cflags' ? await guestCFlags({ cc: p.cc, optimize: p.optimize, debug: p.debug, framePointers: p.framePointers }) : p.print === 'ldflags' ? guestLdFlags() : guestLibs();
    process.stdout.write(`${flags.map(shellQuote).join(' ')}\n`);
    return 0;
  }
  if (!p.out || p.sources.length === 0) {
    process.stderr.write(`hyperlight-build-c-guest: ${p.out ? 'no sources given' : '-o is required'}\n${USAGE}\n`);
    return 2;
  }
  const out = await buildCGuest({
    sources: p.sources,
    outFile: p.out,
    includeDirs: p.includeDirs,
    defines: p.defines,
    optimize: p.optimize,
    debug: p.debug,
    framePointers: p.framePointers,
    cc: p.cc,
    cflags: p.cflags,
    ldflags: p.ldflags,
  });
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
