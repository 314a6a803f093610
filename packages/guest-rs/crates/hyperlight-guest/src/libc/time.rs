//! `clock_gettime` and `clock_getres` over the host's clock (the `CLOCK`
//! exit). musl's `time`, `clock`, `gettimeofday` and `timespec_get` all end
//! up in `clock_gettime`.

use super::linux::clock::{
    BOOTTIME, MONOTONIC, MONOTONIC_COARSE, MONOTONIC_RAW, PROCESS_CPUTIME_ID, REALTIME, REALTIME_COARSE,
    THREAD_CPUTIME_ID,
};
use super::linux::errno::{EFAULT, EINVAL};
use crate::clock::{ClockId, now_ns};

/// C's `struct timespec` on x86-64.
#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

/// The host clock behind a Linux clock id, if it names one.
fn host_clock(clock: i64) -> Option<ClockId> {
    match clock {
        REALTIME | REALTIME_COARSE => Some(ClockId::Realtime),
        MONOTONIC | MONOTONIC_RAW | MONOTONIC_COARSE | BOOTTIME => Some(ClockId::Monotonic),
        PROCESS_CPUTIME_ID | THREAD_CPUTIME_ID => Some(ClockId::Cpu),
        _ => None,
    }
}

/// Stores `ns` at `out` as a `timespec`; returns 0.
///
/// # Safety
/// `out` must be valid for writing a `timespec`.
unsafe fn store(out: i64, ns: u64) -> i64 {
    let out = core::ptr::with_exposed_provenance_mut::<Timespec>(out as usize);
    let ts = Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 };
    // SAFETY: per the caller; unaligned because C code may pass any address.
    unsafe { out.write_unaligned(ts) };
    0
}

/// `clock_gettime(clock, out)`: one `CLOCK` exit.
///
/// # Safety
/// `out` must be null or valid for writing a `timespec`.
pub(super) unsafe fn clock_gettime(clock: i64, out: i64) -> i64 {
    let Some(id) = host_clock(clock) else { return -EINVAL };
    if out == 0 {
        return -EFAULT;
    }
    // SAFETY: non-null, and valid per our caller.
    unsafe { store(out, now_ns(id)) }
}

/// `clock_getres(clock, out)`: every host clock counts nanoseconds; `out` may be null.
///
/// # Safety
/// `out` must be null or valid for writing a `timespec`.
pub(super) unsafe fn clock_getres(clock: i64, out: i64) -> i64 {
    if host_clock(clock).is_none() {
        return -EINVAL;
    }
    if out == 0 {
        return 0;
    }
    // SAFETY: non-null, and valid per our caller.
    unsafe { store(out, 1) }
}
