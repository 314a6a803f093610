// Cost of passing registers between TS and the addon, per guest entry, without
// KVM: the chosen shared run block vs. objects of 18 bigints. Builds a
// bench-only addon (bench/crossing, with g++) first.
//   node bench/crossing.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sharedDir = join(here, '..', '..', 'native-linux', 'src', 'native');
const addonApiDir = createRequire(join(sharedDir, '..', '..', 'package.json'))('node-addon-api').include_dir;
const nodeIncludeDir = join(process.execPath, '..', '..', 'include', 'node');
const addonPath = join(here, 'build', 'crossing_bench.node');
mkdirSync(join(here, 'build'), { recursive: true });
execFileSync('g++', [
  '-shared', '-fPIC', '-O2', '-std=c++17', '-Wall', '-Wextra', '-Wno-missing-field-initializers',
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${nodeIncludeDir}`, `-I${addonApiDir}`, `-I${join(here, '..', 'src', 'native')}`, `-I${sharedDir}`,
  '-o', addonPath, join(here, 'crossing', 'crossing.cc'), join(here, '..', 'src', 'native', 'convert.cc'), join(sharedDir, 'throw.cc'),
], { stdio: 'inherit' });
const bench = createRequire(import.meta.url)(addonPath);

const NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'];
const regs = Object.fromEntries(NAMES.map((name, i) => [name, BigInt(i) * 0x1_0000_0001n]));
const words = new BigUint64Array(bench.block, 0, 32);

function writeRegs(r) {
  words[0] = r.rax; words[1] = r.rbx; words[2] = r.rcx; words[3] = r.rdx;
  words[4] = r.rsi; words[5] = r.rdi; words[6] = r.rsp; words[7] = r.rbp;
  words[8] = r.r8; words[9] = r.r9; words[10] = r.r10; words[11] = r.r11;
  words[12] = r.r12; words[13] = r.r13; words[14] = r.r14; words[15] = r.r15;
  words[16] = r.rip; words[17] = r.rflags;
}
function readRegs() {
  const w = words;
  return {
    rax: w[0], rbx: w[1], rcx: w[2], rdx: w[3], rsi: w[4], rdi: w[5], rsp: w[6], rbp: w[7],
    r8: w[8], r9: w[9], r10: w[10], r11: w[11], r12: w[12], r13: w[13], r14: w[14], r15: w[15],
    rip: w[16], rflags: w[17],
  };
}

const cases = {
  'napi call, no work (floor of any crossing)': () => bench.noop(),
  'block: run(false) (entry with no register load)': () => bench.runWithBlock(false),
  'block: write 18 regs + run(true)': () => { writeRegs(regs); bench.runWithBlock(true); },
  'block: write 18 regs + run(true) + getRegisters()': () => { writeRegs(regs); bench.runWithBlock(true); return readRegs(); },
  'objects: pass {18 bigints}, get {reason, regs} back': () => bench.runWithObjects(regs),
  'objects: pass {18 bigints} only': () => bench.readRegsObject(regs),
};

const ITERATIONS = 200_000;
let sink;
console.log(`node ${process.version}, ${ITERATIONS} iterations each, median of 7 runs (ns per call)`);
for (const [name, fn] of Object.entries(cases)) {
  for (let i = 0; i < 20_000; i++) sink = fn(); // warm-up (JIT)
  const runs = [];
  for (let r = 0; r < 7; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) sink = fn();
    runs.push(Number(process.hrtime.bigint() - start) / ITERATIONS);
  }
  runs.sort((a, b) => a - b);
  console.log(`${runs[3].toFixed(0).padStart(6)} ns  ${name}`);
}
void sink;
