import { describe, expect, it } from 'vitest';
import { isAllocatorFrame } from '../../src/symbols/allocator-frames.js';

describe('isAllocatorFrame', () => {
  it("knows the Rust shims, the runtime's heap and C malloc family, and the C API's run memory", () => {
    for (const name of [
      '__rustc::__rust_alloc',
      'alloc::raw_vec::finish_grow',
      '<hyperlight_guest::heap::GuestAllocator as core::alloc::global::GlobalAlloc>::alloc',
      'hyperlight_guest::libc::malloc::allocate',
      'hyperlight_guest_capi::run_memory::alloc',
      'malloc',
      '__libc_malloc_impl',
      'memalign',
      'hl_run_alloc',
    ]) {
      expect(isAllocatorFrame(name), name).toBe(true);
    }
  });

  it('leaves the code that asked for memory', () => {
    for (const name of ['alloc_a', 'tracedguest::alloc_pattern', 'hl_register_function_v', 'hyperlight_guest::dispatch::run', 'mallocate']) {
      expect(isAllocatorFrame(name), name).toBe(false);
    }
  });
});
