/** A KVM backend that counts guest exits, for tests that prove work rides on exits that happen anyway. */
import type { Backend } from '@hyperlight-ts/core';
import { backend as kvm } from '@hyperlight-ts/backend-kvm';

/** The KVM backend, counting every vCPU run (one per exit handled). */
export function countingBackend(): { backend: Backend; runs: () => number } {
  let runs = 0;
  const backend: Backend = {
    name: kvm.name,
    check: () => kvm.check(),
    mapSnapshotFile: (fd, offset, size) => kvm.mapSnapshotFile(fd, offset, size),
    cancelCall: (token, reason) => kvm.cancelCall(token, reason),
    createVm: (options) => {
      const vm = kvm.createVm(options);
      return new Proxy(vm, {
        get(target, property) {
          if (property === 'run') return (...args: Parameters<typeof vm.run>) => (runs++, target.run(...args));
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
  return { backend, runs: () => runs };
}
