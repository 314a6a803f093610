export { describeHypervisor, hypervisorMissing, hypervisorRequired } from './describe-hypervisor.js';
