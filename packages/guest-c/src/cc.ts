/**
 * hyperlight-cc: a GCC-compatible compiler driver that targets guests, for
 * `CC=hyperlight-cc` in Make, configure scripts and CMake. It runs the real
 * compiler (`--cc`, else `$HYPERLIGHT_CC`, else `gcc`) with the command line
 * of {@link guestCompilerCommand}; the compiler's output and exit code pass
 * through unchanged.
 */
import { guestCompilerCommand } from './compiler-command.js';
import { WRAPPED_ENV } from './flags.js';
import { GuestBuildError } from './guest-build-error.js';
import { runGuestCompiler } from './run-guest-compiler.js';

/** Takes `--cc X` / `--cc=X` (ours, not GCC's) out of `argv`. */
function takeCompiler(argv: string[]): string | undefined {
  let cc: string | undefined;
  for (let i = 0; i < argv.length; ) {
    const word = argv[i]!;
    if (word === '--cc' && i + 1 < argv.length) cc = argv.splice(i, 2)[1];
    else if (word.startsWith('--cc=')) cc = argv.splice(i, 1)[0]!.slice('--cc='.length);
    else i++;
  }
  return cc;
}

async function main(argv: string[]): Promise<number> {
  if (process.env[WRAPPED_ENV]) {
    throw new GuestBuildError('the real compiler is hyperlight-cc itself: set HYPERLIGHT_CC (or --cc) to a real compiler such as gcc');
  }
  const cc = takeCompiler(argv);
  const command = await guestCompilerCommand(argv, { cc });
  if (argv.includes('-v') && command.droppedLibraries.length > 0) {
    process.stderr.write(`hyperlight-cc: left out ${command.droppedLibraries.join(' ')} (part of musl's libc.a)\n`);
  }
  return (await runGuestCompiler(command)).exitCode;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`hyperlight-cc: ${e instanceof GuestBuildError ? e.message : String((e as Error)?.stack ?? e)}\n`);
    process.exit(1);
  },
);
