/** The backend under test, counting guest exits, for tests that prove work rides on exits that happen anyway. */
import type { Backend } from '@hyperlight-ts/core';
import { backendUnderTest } from './backend-under-test.js';

/** The backend under test, counting every vCPU run (one per exit handled). */
export function countingBackend(): { backend: Backend; runs: () => number } {
  const inner = backendUnderTest();
  let runs = 0;
  const backend: Backend = {
    name: inner.name,
    check: () => inner.check(),
    mapSnapshotFile: (file, offset, size) => inner.mapSnapshotFile(file, offset, size),
    cancelCall: (token, reason) => inner.cancelCall(token, reason),
    createVm: (options) => {
      const vm = inner.createVm(options);
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
