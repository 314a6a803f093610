/** `hyperlight-trace-dump`: the CLI entry point, and the symbol helpers it uses. */
export { runTraceDump } from './cli.js';
export { Symbolizer, type SymbolizerOptions } from './symbols/symbolizer.js';
export { demangleRust } from './symbols/demangle-rust.js';
export { TraceDumpError } from './trace-dump-error.js';
