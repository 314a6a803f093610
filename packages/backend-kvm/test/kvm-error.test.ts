import { BackendError } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import { asKvmError, kvmCall } from '../src/kvm-error.js';
import { KvmError } from '../src/index.js';

const systemError = (fields: Record<string, unknown>, message: string): Error => Object.assign(new Error(message), fields);

describe('asKvmError', () => {
  it('turns a system error of the addon into a KvmError with a positive errno', () => {
    const cause = systemError({ code: 'EINVAL', errno: -22, syscall: 'KVM_SET_SREGS' }, 'KVM_SET_SREGS failed: EINVAL (Invalid argument)');
    const error = asKvmError(cause);
    expect(error).toBeInstanceOf(KvmError);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({
      name: 'KvmError', backend: 'kvm', operation: 'KVM_SET_SREGS', syscall: 'KVM_SET_SREGS', errno: 22, code: 'EINVAL',
      detail: 'EINVAL (Invalid argument)', message: 'kvm: KVM_SET_SREGS failed: EINVAL (Invalid argument)', cause,
    });
  });

  it('keeps the path of a failed open in the detail', () => {
    const cause = systemError(
      { code: 'ENOENT', errno: -2, syscall: 'open', path: '/dev/kvm' }, 'open /dev/kvm failed: ENOENT (No such file or directory)');
    expect(asKvmError(cause)).toMatchObject({ syscall: 'open', errno: 2, detail: '/dev/kvm: ENOENT (No such file or directory)' });
  });

  it('keeps a message in another form whole', () => {
    const cause = systemError({ code: 'EBADF', errno: -9, syscall: 'fstat' }, 'EBADF: bad file descriptor, fstat');
    expect(asKvmError(cause)).toMatchObject({ detail: 'EBADF: bad file descriptor, fstat' });
  });

  it('passes everything else through unchanged', () => {
    const kvmError = new KvmError('KVM_RUN', 14, 'EFAULT', 'EFAULT');
    const disposed = Object.assign(new Error('VcpuFd.run: used after dispose()'), { code: 'ERR_HYPERLIGHT_DISPOSED' });
    const range = Object.assign(new RangeError('bad'), { code: 'ERR_OUT_OF_RANGE' });
    for (const error of [kvmError, disposed, range, 'text', undefined]) expect(asKvmError(error)).toBe(error);
  });

  it('kvmCall converts what its function throws and returns what it returns', () => {
    expect(kvmCall(() => 7)).toBe(7);
    expect(() => kvmCall(() => {
      throw systemError({ code: 'ENOMEM', errno: -12, syscall: 'mmap' }, 'mmap failed: ENOMEM (Cannot allocate memory)');
    })).toThrow(expect.objectContaining({ name: 'KvmError', errno: 12 }));
  });
});
