export { describeHypervisor, hypervisorMissing, hypervisorRequired } from './describe-hypervisor.js';
export { describePrebuilds, versionAtMost } from './prebuild-suite.js';
