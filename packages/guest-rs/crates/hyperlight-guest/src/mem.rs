//! `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen`.
//!
//! The prebuilt `core`/`alloc` of the `x86_64-unknown-linux-gnu` target call
//! these C functions, and that target's `compiler_builtins` is built without
//! its `mem` feature, so a freestanding guest must define them.
//!
//! Each is one string instruction in an asm block rather than a loop: LLVM
//! recognises byte loops as "a memcpy"/"a memset" and would compile them into
//! calls to the very function being defined, unless the crate were
//! `#![no_builtins]`, which in turn keeps it out of LTO (see `lib.rs`).
//! `rep movsb`/`rep stosb` are also fast on every CPU with ERMSB (Ivy Bridge,
//! Zen 3 and later); `repe cmpsb`/`repne scasb` are slower per byte but only
//! compare short keys here. The System V ABI guarantees the direction flag
//! is clear on function entry.
//!
//! Under `cfg(test)` the functions keep Rust names so the test binary keeps
//! libc's versions and the tests can call these directly, unless
//! `--cfg hyperlight_guest_mem` is set: then they replace libc's in the test
//! binary too, so `per_call_bench` times the copies a guest makes.

use core::arch::asm;

/// Copies `n` bytes from `src` to `dest`; the ranges must not overlap.
///
/// # Safety
/// `src` must be valid for `n` reads and `dest` for `n` writes, and the ranges
/// must not overlap (the C contract).
#[cfg_attr(any(not(test), hyperlight_guest_mem), unsafe(no_mangle))]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller upholds the C contract above; DF is clear on entry,
    // so `rep movsb` copies rcx bytes forward from rsi to rdi.
    unsafe {
        asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dest => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
    dest
}

/// Copies `n` bytes from `src` to `dest`; the ranges may overlap.
///
/// # Safety
/// `src` must be valid for `n` reads and `dest` for `n` writes.
#[cfg_attr(any(not(test), hyperlight_guest_mem), unsafe(no_mangle))]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // `dest` is below `src` or past the end of the source: a forward copy
        // never overwrites a byte before reading it.
        // SAFETY: same pointers and length as our caller's.
        unsafe { memcpy(dest, src, n) };
    } else if n > 0 {
        // `dest` overlaps the tail of the source: copy backwards.
        // SAFETY: the caller guarantees both ranges are valid; with DF set
        // `rep movsb` walks down from the last byte, and we clear DF again as
        // the ABI requires on exit from the asm block.
        unsafe {
            asm!(
                "std",
                "rep movsb",
                "cld",
                inout("rcx") n => _,
                inout("rdi") dest.add(n - 1) => _,
                inout("rsi") src.add(n - 1) => _,
                options(nostack)
            );
        }
    }
    dest
}

/// Fills `n` bytes at `dest` with the low byte of `c`.
///
/// # Safety
/// `dest` must be valid for `n` writes.
#[cfg_attr(any(not(test), hyperlight_guest_mem), unsafe(no_mangle))]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees `dest` is valid for `n` bytes; DF is clear.
    unsafe {
        asm!(
            "rep stosb",
            inout("rcx") n => _,
            inout("rdi") dest => _,
            in("al") c as u8,
            options(nostack, preserves_flags)
        );
    }
    dest
}

/// Compares `n` bytes; returns <0, 0 or >0 like C `memcmp`.
///
/// # Safety
/// `a` and `b` must be valid for `n` reads.
#[cfg_attr(any(not(test), hyperlight_guest_mem), unsafe(no_mangle))]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        return 0;
    }
    let (a_next, b_next): (*const u8, *const u8);
    let equal: u8;
    // SAFETY: the caller guarantees n readable bytes at a and b; DF is clear.
    // `repe cmpsb` stops one byte past the first difference (or at the end).
    unsafe {
        asm!(
            "repe cmpsb",
            "sete {equal}",
            equal = out(reg_byte) equal,
            inout("rsi") a => a_next,
            inout("rdi") b => b_next,
            inout("rcx") n => _,
            options(nostack, readonly)
        );
    }
    if equal != 0 {
        return 0;
    }
    // SAFETY: both pointers moved past the differing byte, inside the ranges.
    unsafe { i32::from(*a_next.sub(1)) - i32::from(*b_next.sub(1)) }
}

/// Compares `n` bytes for equality only (0 when equal). LLVM emits calls to
/// it for `==` on slices.
///
/// # Safety
/// `a` and `b` must be valid for `n` reads.
#[cfg_attr(any(not(test), hyperlight_guest_mem), unsafe(no_mangle))]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: forwarded with the same contract.
    unsafe { memcmp(a, b, n) }
}

/// The length of the NUL-terminated string at `s`.
///
/// # Safety
/// `s` must point to a NUL-terminated string.
#[cfg_attr(any(not(test), hyperlight_guest_mem), unsafe(no_mangle))]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let next: *const u8;
    // SAFETY: the caller guarantees a NUL before the end of the allocation;
    // `repne scasb` stops one byte past the first byte equal to al (0).
    unsafe {
        asm!(
            "repne scasb",
            inout("rdi") s => next,
            inout("rcx") usize::MAX => _,
            in("al") 0u8,
            options(nostack, readonly)
        );
    }
    next as usize - s as usize - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_fill_compare() {
        let src: Vec<u8> = (0..=255).collect();
        let mut dst = vec![0u8; 256];
        // SAFETY: both buffers hold 256 bytes.
        unsafe { memcpy(dst.as_mut_ptr(), src.as_ptr(), 256) };
        assert_eq!(dst, src);
        // SAFETY: as above.
        unsafe { memset(dst.as_mut_ptr().add(10), 0x1ff, 5) };
        assert_eq!(&dst[9..16], &[9, 0xff, 0xff, 0xff, 0xff, 0xff, 15]);
        // SAFETY: as above.
        unsafe {
            assert!(memcmp(dst.as_ptr(), src.as_ptr(), 256) > 0);
            assert!(memcmp(src.as_ptr(), dst.as_ptr(), 256) < 0);
            assert_eq!(memcmp(src.as_ptr(), dst.as_ptr(), 10), 0);
            assert_ne!(bcmp(src.as_ptr(), dst.as_ptr(), 11), 0);
            assert_eq!(memcpy(dst.as_mut_ptr(), src.as_ptr(), 0), dst.as_mut_ptr());
            assert_eq!(strlen(c"hello".as_ptr().cast()), 5);
            assert_eq!(strlen(c"".as_ptr().cast()), 0);
            assert!(memcmp([1u8, 0x80].as_ptr(), [1u8, 0x7f].as_ptr(), 2) > 0, "bytes compare unsigned");
            assert_eq!(memcmp(src.as_ptr(), src.as_ptr(), 0), 0);
        }
    }

    #[test]
    fn memmove_handles_both_overlaps() {
        for (from, to) in [(0usize, 3usize), (3, 0), (2, 2), (0, 1), (1, 0)] {
            let mut buf: Vec<u8> = (0..16).collect();
            let mut expected = buf.clone();
            expected.copy_within(from..from + 10, to);
            // SAFETY: both ranges lie inside the 16-byte buffer.
            unsafe {
                let base = buf.as_mut_ptr();
                memmove(base.add(to), base.add(from), 10);
            }
            assert_eq!(buf, expected, "from {from} to {to}");
        }
    }
}
