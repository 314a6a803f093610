// Reads the output of test runs line by line and keeps what the end-of-run summary needs: per
// package, vitest's "Tests  N passed | M skipped (T)" counts, the names vitest prints after
// "FAIL", and the tasks that turbo or pnpm report as failed. Memory stays bounded: counts, and at
// most MAX_FAILURE_NAMES names.

/** How many failure names a summary keeps; the rest are only counted. */
export const MAX_FAILURE_NAMES = 100;

/** The package a line belongs to when nothing in the output names one. */
const UNNAMED_PACKAGE = '(workspace)';

// A package name as npm spells it: optional @scope/, then name characters (no ':' or spaces).
const PACKAGE = String.raw`(?:@[\w.-]+\/)?[\w.-]+`;
// turbo prefixes every line of a task: "@scope/pkg:test: ...".
const TURBO_PREFIX = new RegExp(String.raw`^(${PACKAGE}):(test[\w:-]*): ?(.*)$`);
// pnpm announces each script it runs: "> @scope/pkg@1.2.3 test:hypervisor /path".
const PNPM_HEADER = new RegExp(String.raw`^> (${PACKAGE})@\S* ([\w:-]+)(?: |$)`);
// pnpm's report of a failed script: " ERROR  @scope/pkg@1.2.3 test:hypervisor: `vitest run`".
const PNPM_FAILED = new RegExp(String.raw`^\s*(?:ERROR|ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL)\s+(${PACKAGE})@\S* ([\w:-]+): \``);
// turbo's closing list: "Failed:    @scope/a#test, @scope/b#test".
const TURBO_FAILED = /^\s*Failed:\s+(\S+#\S+(?:,\s*\S+#\S+)*)\s*$/;
// vitest's totals line: "      Tests  1 failed | 2 passed | 2 skipped (5)" (or "Tests  no tests").
const VITEST_TESTS = /^\s*Tests\s+(\d+ (?:passed|failed|skipped|todo)\b.*)$/;
const VITEST_COUNT = /(\d+) (passed|failed|skipped|todo)\b/g;
// vitest's failure headings: " FAIL  test/a.test.ts > group > name" and, for a file that failed
// as a whole (an import or top-level error, a failed hook), " FAIL  test/b.test.ts [ test/b.test.ts ]".
const VITEST_FAIL = /^\s*FAIL\s+(\S.*?)\s*$/;
const SUITE_SUFFIX = /\s*\[ [^\]]* \]$/;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * Counts for one package (or the whole run).
 * @typedef {{ passed: number, failed: number, skipped: number }} Counts
 */

/**
 * What the output said about one package.
 * @typedef {Counts & { name: string }} PackageCounts
 */

/**
 * A summary being built from output lines (see {@link addLine}).
 * @typedef {object} Summary
 * @property {Map<string, PackageCounts>} packages per package, in the order they first appeared
 * @property {string[]} failures "package: test name", at most MAX_FAILURE_NAMES
 * @property {number} failuresOmitted failure names past the limit
 * @property {string[]} failedTasks "package script" or turbo's "package#task" that failed
 * @property {string} current the package the last unprefixed line belongs to
 * @property {Set<string>} seen failure names already recorded, to drop repeats
 */

/**
 * Starts an empty summary.
 * @param {string} [defaultPackage] the package unprefixed lines belong to until output names one
 * @returns {Summary}
 */
export function createSummary(defaultPackage = UNNAMED_PACKAGE) {
  return { packages: new Map(), failures: [], failuresOmitted: 0, failedTasks: [], current: defaultPackage, seen: new Set() };
}

/**
 * Takes one line of output (colours and a trailing carriage return are ignored) into the summary.
 * @param {Summary} summary updated in place
 * @param {string} rawLine one line, without its newline
 * @returns {void}
 */
export function addLine(summary, rawLine) {
  let line = rawLine.replace(ANSI, '').replace(/\r$/, '');
  let pkg = summary.current;
  const turbo = TURBO_PREFIX.exec(line);
  if (turbo) {
    pkg = turbo[1];
    line = turbo[3];
  } else {
    const header = PNPM_HEADER.exec(line);
    if (header) {
      summary.current = header[1];
      return;
    }
  }

  const tests = VITEST_TESTS.exec(line);
  if (tests) {
    const counts = packageCounts(summary, pkg);
    for (const [, n, kind] of tests[1].matchAll(VITEST_COUNT)) {
      // A todo test did not run: it counts as skipped.
      counts[kind === 'todo' ? 'skipped' : kind] += Number(n);
    }
    return;
  }
  const fail = VITEST_FAIL.exec(line);
  if (fail) {
    const wholeFile = SUITE_SUFFIX.test(fail[1]);
    const name = `${pkg}: ${wholeFile ? `${fail[1].replace(SUITE_SUFFIX, '')} (the whole file)` : fail[1]}`;
    if (summary.seen.has(name)) return;
    summary.seen.add(name);
    // vitest's counts leave out a file that failed before its tests ran: count it here.
    if (wholeFile) packageCounts(summary, pkg).failed += 1;
    if (summary.failures.length < MAX_FAILURE_NAMES) summary.failures.push(name);
    else summary.failuresOmitted += 1;
    return;
  }
  const pnpmFailed = PNPM_FAILED.exec(line);
  if (pnpmFailed) {
    addFailedTask(summary, `${pnpmFailed[1]} ${pnpmFailed[2]}`);
    return;
  }
  const turboFailed = turbo ? null : TURBO_FAILED.exec(line);
  if (turboFailed) {
    for (const task of turboFailed[1].split(',')) addFailedTask(summary, task.trim());
  }
}

/**
 * Builds a summary from a whole output text.
 * @param {string} text output, lines separated by "\n"
 * @param {string} [defaultPackage] as for {@link createSummary}
 * @returns {Summary}
 */
export function summarize(text, defaultPackage) {
  const summary = createSummary(defaultPackage);
  for (const line of text.split('\n')) addLine(summary, line);
  return summary;
}

/**
 * Adds up the counts of every package.
 * @param {Summary} summary
 * @returns {Counts}
 */
export function totals(summary) {
  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const counts of summary.packages.values()) {
    sum.passed += counts.passed;
    sum.failed += counts.failed;
    sum.skipped += counts.skipped;
  }
  return sum;
}

/**
 * Renders counts the way the end of the run prints them.
 * @param {Counts} counts
 * @returns {string} "P passed, F failed, S skipped"
 */
export function formatCounts(counts) {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

/**
 * The packages that skipped tests, for messages such as "skipped: @scope/a 3, @scope/b 1".
 * @param {Summary} summary
 * @returns {string} "" when nothing was skipped
 */
export function skippedByPackage(summary) {
  return [...summary.packages.values()].filter((c) => c.skipped > 0).map((c) => `${c.name} ${c.skipped}`).join(', ');
}

function packageCounts(summary, name) {
  let counts = summary.packages.get(name);
  if (!counts) {
    counts = { name, passed: 0, failed: 0, skipped: 0 };
    summary.packages.set(name, counts);
  }
  return counts;
}

function addFailedTask(summary, task) {
  if (task && !summary.failedTasks.includes(task)) summary.failedTasks.push(task);
}
