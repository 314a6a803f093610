/**
 * Functions that belong to a guest's allocator or the trace hook inside it
 * rather than to the code that wanted memory: the Rust allocation shims and
 * `alloc`'s growth paths, the hyperlight guest runtime's heap, its C
 * `malloc` family and tracing, the C API's run memory, and the C allocation
 * functions. Matched against demangled names.
 */
const ALLOCATOR_FRAME = new RegExp(
  [
    String.raw`^(__rustc::)?__r(ust|dl|g)_(alloc|dealloc|realloc|alloc_zeroed)`,
    String.raw`^<?alloc::(alloc|raw_vec)::`,
    String.raw`^<?core::alloc::`,
    String.raw`^<?hyperlight_guest(_tracing)?::(heap|alloc|trace|tracing|libc::malloc)::`,
    String.raw`^<?hyperlight_guest_capi::run_memory::`,
    String.raw`^<?hyperlight_tracing::`,
    String.raw`^(hl_|__libc_)?(malloc|calloc|realloc|free|aligned_alloc|posix_memalign|memalign|malloc_impl)$`,
    String.raw`^hl_run_(alloc|free)$`,
    String.raw`^hl_trace_`,
  ].join('|'),
);

/**
 * Whether a demangled function name is part of the allocator (see the list
 * above), so an allocation site is the first frame outside it.
 * @example
 * isAllocatorFrame('__rustc::__rust_alloc'); // true
 */
export function isAllocatorFrame(name: string): boolean {
  return ALLOCATOR_FRAME.test(name);
}
