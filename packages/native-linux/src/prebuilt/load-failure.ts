/**
 * Turns the dynamic loader's refusal of a prebuilt addon into the real cause:
 * the wrong C library's build, a glibc or libstdc++ too old, a Node.js without
 * a Node-API function, another machine's binary, a damaged file.
 */
import { type ElfFinding, inspectElf } from './elf-header.js';
import { describeLibc, type HostSystem, type PrebuildLibc } from './host-system.js';
import { PREBUILD_REQUIREMENTS } from './prebuild-requirements.js';

/** What was being loaded, for {@link explainLoadFailure}. */
export interface FailedLoad {
  /** Absolute path of the `.node` file. */
  readonly path: string;
  /** The variant it is. */
  readonly libc: PrebuildLibc;
  /** The system it failed on. */
  readonly host: HostSystem;
  /** The message of the error `require()` threw (the dynamic loader's, for a native addon). */
  readonly loaderMessage: string;
}

/** Why the addon did not load, in one or two sentences (without the loader's message). */
export function explainLoadFailure(failure: FailedLoad): string {
  const { libc, host, loaderMessage } = failure;
  const system = describeLibc(host);
  const fromFile = explainFromFile(failure.path);
  if (fromFile !== undefined) return fromFile;
  if (/libc\.musl-x86_64\.so\.1/.test(loaderMessage)) {
    return `this is the musl build (linux-x64-musl) but this system's C library is ${system}, not musl: ` +
      'the wrong prebuild was chosen or copied here.';
  }
  if (libc === 'gnu' && /(libc\.so\.6|ld-linux-x86-64\.so\.2|__\w+_chk|GLIBC_)/.test(loaderMessage) && host.libcFamily === 'musl') {
    return `this is the glibc build (linux-x64-gnu) but this system's C library is ${system}.`;
  }
  const glibc = /GLIBC_(\d+(?:\.\d+)+)' not found/.exec(loaderMessage);
  if (glibc !== null) {
    return `the glibc build needs glibc ${PREBUILD_REQUIREMENTS.glibc} or later (RHEL/Rocky/Alma 8, Debian 10, Ubuntu 20.04 ` +
      `and newer; the loader is missing GLIBC_${glibc[1]}); this system has ${system}, older than official Node.js 20 ` +
      'builds support too. Upgrade the distribution, or build the addon from a source checkout on this system ' +
      '(docs/installing.md of hyperlight-ts).';
  }
  // glibc's loader names the missing version; musl's names the missing (C++) symbol.
  if (/version `(?:GLIBCXX|CXXABI)_[\d.]+' not found/.test(loaderMessage) || /Error relocating [^:]*: _Z\w*: symbol not found/.test(loaderMessage)) {
    return `the addon needs a newer libstdc++ (GLIBCXX_${PREBUILD_REQUIREMENTS.muslGlibcxx}, from GCC ${PREBUILD_REQUIREMENTS.muslGcc} or later) than this system has.`;
  }
  if (/libstdc\+\+\.so\.6|libgcc_s\.so\.1/.test(loaderMessage)) {
    return 'the addon needs libstdc++.so.6 and libgcc_s.so.1 (on Alpine: "apk add libstdc++"; Node.js itself needs them too).';
  }
  const napi = /(?:undefined symbol: |Error relocating [^:]*: )(napi_\w+)/.exec(loaderMessage);
  if (napi !== null) {
    return `this Node.js (${process.version}, Node-API ${process.versions.napi ?? '?'}) lacks the Node-API function ${napi[1]}; ` +
      `the addon needs Node-API ${PREBUILD_REQUIREMENTS.napiVersion} (Node.js 20.19 or later).`;
  }
  return 'the dynamic loader refused it.';
}

/**
 * Why the file at `path` is too short to be the ELF file its header describes,
 * or undefined when it is not (or is no ELF file at all, or cannot be read).
 */
export function truncationOf(path: string): string | undefined {
  const finding = findingOf(path);
  return typeof finding !== 'string' && finding.kind === 'truncated' ? explainFromFile(path) : undefined;
}

/** {@link inspectElf}'s finding, or why the file cannot be read. */
function findingOf(path: string): ElfFinding | string {
  try {
    return inspectElf(path);
  } catch (error) {
    return `it cannot be read (${(error as Error).message}).`;
  }
}

/** What the file itself says is wrong with it, if anything. */
function explainFromFile(path: string): string | undefined {
  const finding = findingOf(path);
  if (typeof finding === 'string') return finding;
  switch (finding.kind) {
    case 'not-elf':
      return `it is not an ELF shared object (${finding.sizeBytes} bytes): the file is damaged; reinstall the package.`;
    case 'wrong-class':
      return `it is not an x86-64 shared object (${finding.detail}).`;
    case 'wrong-machine':
      return `it was built for ${finding.machineName} (ELF e_machine ${finding.machine}), not x86-64.`;
    case 'truncated':
      return `it is truncated (${finding.sizeBytes} bytes of at least ${finding.expectedBytes}): the download or copy was cut short; reinstall the package.`;
    case 'plausible':
      return undefined;
  }
}
