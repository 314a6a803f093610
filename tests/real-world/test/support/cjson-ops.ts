/** Records for the cJSON logic (src/cjson/logic.h) and reading its text reports. */
import type { BatchRecord } from './batch.js';
import type { NamedInput } from './json-corpus.js';

/** Op codes of src/cjson/logic.h. */
export const CJSON_OP = { parsePrint: 1, patchSuite: 2, version: 3 } as const;

/** Status of a document that does not parse. */
export const CJSON_PARSE_ERROR = 1;

/** A parse-and-print record. */
export function parseRecord(input: NamedInput): BatchRecord {
  return { op: CJSON_OP.parsePrint, arg: 0, data: input.data, label: `parse ${input.name}` };
}

/** A JSON-patch suite record. */
export function patchSuiteRecord(input: NamedInput): BatchRecord {
  return { op: CJSON_OP.patchSuite, arg: 0, data: input.data, label: `patch suite ${input.name}` };
}

/** A version record. */
export const VERSION_RECORD: BatchRecord = { op: CJSON_OP.version, arg: 0, data: new Uint8Array(), label: 'version' };

/**
 * @returns the text of section `label` (`formatted`, `unformatted`, `buffered`,
 * `minified`) of a parse-and-print report, undefined when absent or null
 */
export function reportSection(report: string, label: string): string | undefined {
  const header = new RegExp(`^${label} (\\d+)\\n`, 'm').exec(report);
  if (!header) return undefined;
  const start = header.index + header[0].length;
  return report.slice(start, start + Number(header[1]));
}
