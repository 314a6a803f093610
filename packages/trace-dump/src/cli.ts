import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import type { CliStreams } from './cli-context.js';
import { flameCommand } from './commands/flame.js';
import { memCommand } from './commands/mem.js';
import { perfettoCommand } from './commands/perfetto.js';
import { summaryCommand } from './commands/summary.js';
import { treeCommand } from './commands/tree.js';

/** The program's name in messages. */
const NAME = 'hyperlight-trace-dump';

/** Exit codes: success, a failure reading or writing, a usage error. */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/**
 * Runs `hyperlight-trace-dump` with `argv` (the arguments after the program
 * name) and returns its exit code: 0 on success, 1 when the trace, the guest
 * binary or an output fails (one line on stderr), 2 for a usage error
 * (unknown command or option, bad value). Nothing is thrown.
 * @example
 * process.exitCode = await runTraceDump(process.argv.slice(2));
 */
export async function runTraceDump(argv: readonly string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(streams);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" that exit 0; commander has already printed its message.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    // Output cut off by a reader that went away (`| head`) is not a failure.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK;
    const message = error instanceof Error ? error.message : String(error);
    streams.stderr.write(`${NAME}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return EXIT_FAILURE;
  }
}

function buildProgram(streams: CliStreams): Command {
  const program = new Command(NAME)
    .description('Summaries, span trees, Perfetto JSON, flame graphs and heap plots from hyperlight-ts guest trace files.')
    .usage('<command> <trace-file> [--guest <elf>] [options]')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
      outputError: (text, write) => write(`${NAME}: ${text.replace(/^error: /, '').trim()}\n`),
    });
  const command = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .argument('<trace-file>', 'the trace file (JSON Lines) to read')
      .option('--guest <elf>', 'the guest binary the trace was recorded with, to name addresses')
      .option('--ignore-hash', 'use --guest even if its SHA-256 differs from the trace header')
      .option('--progress', 'show progress on stderr even when it is not a terminal');
  const top = () => new Option('--top <n>', 'rows in each table').argParser(positiveInteger).default(10);

  command('summary', 'counts, drops, duration, top spans and events')
    .addOption(top())
    .action((path: string, options) => summaryCommand(path, options, streams));
  command('tree', 'the span tree of each run, with durations and events')
    .option('--run <n>', 'only this run', positiveInteger)
    .option('--min-duration <µs>', 'hide spans shorter than this many microseconds', nonNegativeNumber)
    .option('--depth <n>', 'show spans down to this depth (1: root spans)', positiveInteger)
    .action((path: string, options) => treeCommand(path, options, streams));
  command('perfetto', 'Chrome trace-event JSON for Perfetto and chrome://tracing')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action((path: string, options) => perfettoCommand(path, options, streams));
  command('flame', 'a flame graph SVG of span self time, or of allocated bytes with --alloc')
    .option('-o, --output <file>', 'write the SVG to this file instead of stdout')
    .option('--alloc', 'weigh allocation stacks by bytes instead of spans by self time')
    .action((path: string, options) => flameCommand(path, options, streams));
  command('mem', 'a live-heap SVG plot and the top allocation sites')
    .requiredOption('-o, --output <file>', 'write the SVG plot to this file')
    .addOption(top())
    .action((path: string, options) => memCommand(path, options, streams));
  return program;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError('expected a positive integer');
  return value;
}

function nonNegativeNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError('expected a number >= 0');
  return value;
}
