import { describe, expect, it } from 'vitest';
import { BackendError } from '../../src/backend/backend-error.js';
import { HypervisorError } from '../../src/errors.js';

class TestBackendError extends BackendError {
  override readonly name = 'TestBackendError';
  constructor(readonly errno: number) {
    super('kvm', 'KVM_RUN', `errno ${errno}`);
  }
}

describe('BackendError', () => {
  it('names the backend, the operation and the answer', () => {
    const error = new TestBackendError(14);
    expect(error.message).toBe('kvm: KVM_RUN failed: errno 14');
    expect(error).toMatchObject({ name: 'TestBackendError', backend: 'kvm', operation: 'KVM_RUN', detail: 'errno 14' });
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toBeInstanceOf(TestBackendError);
    expect(error).toBeInstanceOf(Error);
  });

  it('keeps the ordinary instanceof for subclasses and other errors', () => {
    expect(new BackendError('mshv', 'MSHV_RUN_VP', 'EIO')).not.toBeInstanceOf(TestBackendError);
    expect(new Error('x')).not.toBeInstanceOf(BackendError);
    expect(null).not.toBeInstanceOf(BackendError);
  });

  it('recognises an error of another copy of core (the CommonJS build next to the ES module build)', () => {
    const OtherCopy = class extends Error {
      get [Symbol.for('@hyperlight-ts/core.BackendError')](): true {
        return true;
      }
    };
    expect(new OtherCopy()).toBeInstanceOf(BackendError);
  });

  it('becomes the cause of a HypervisorError, which names the backend', () => {
    const cause = new TestBackendError(22);
    const error = new HypervisorError('run the vCPU', cause.message, { cause });
    expect(error).toMatchObject({ backend: 'kvm', cause, code: 'HL_ERR_HYPERVISOR' });
    expect(new HypervisorError('run the vCPU', 'plain', { cause: new Error('x') }).backend).toBeUndefined();
  });
});
