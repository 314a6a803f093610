/** The trace file: its format's types, a writer and a streaming reader (docs/tracing-format.md, "The trace file"). */
export * from './trace-file.js';
export { TraceFileError, type TraceFileErrorReason } from './trace-file-error.js';
export { TraceFileWriter } from './trace-file-writer.js';
export { readTraceFile, streamTraceFile, type TraceFileEntry, type TraceFileReadOptions } from './trace-file-reader.js';
