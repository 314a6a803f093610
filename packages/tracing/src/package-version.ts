/**
 * This package's name and version, for the `createdBy` of trace files and
 * the OpenTelemetry instrumentation scope. Read from package.json, which is
 * one directory up from both src/ and the bundled dist/.
 */
import { createRequire } from 'node:module';

/** The package's npm name. */
export const PACKAGE_NAME = '@hyperlight-ts/tracing';

/** The package's version. */
export const PACKAGE_VERSION: string = (createRequire(import.meta.url)('../package.json') as { readonly version: string }).version;
