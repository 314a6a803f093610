//! The host's clocks (`docs/abi.md`, "Host clock"). A guest has no clock of
//! its own that the host controls, so every reading is one `CLOCK` exit: the
//! guest writes a `CLOCK_ID_*`, the host writes the reading in nanoseconds to
//! the PEB's `clock_ns` and resumes. The host decides what the clocks say
//! (an embedder may freeze or coarsen them), so readings are only as precise
//! as it allows.
//!
//! ```ignore
//! use hyperlight_guest::clock::{ClockId, now_ns};
//!
//! let start = now_ns(ClockId::Monotonic);
//! work();
//! let elapsed_ns = now_ns(ClockId::Monotonic) - start;
//! ```

use crate::abi::{CLOCK_ID_CPU, CLOCK_ID_MONOTONIC, CLOCK_ID_REALTIME, PORT_CLOCK};
use crate::entry;
use crate::exit::out32;

/// A clock the host keeps for the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ClockId {
    /// Wall-clock time: nanoseconds since the Unix epoch.
    Realtime = CLOCK_ID_REALTIME as u32,
    /// Nanoseconds since an origin the host picks; never decreases within a
    /// sandbox.
    Monotonic = CLOCK_ID_MONOTONIC as u32,
    /// Nanoseconds of CPU time the sandbox has used.
    Cpu = CLOCK_ID_CPU as u32,
}

/// The host's reading of `clock`, in nanoseconds: one VM exit.
///
/// Returns 0 before the runtime has seen a valid PEB (guest code always runs
/// after that).
pub fn now_ns(clock: ClockId) -> u64 {
    out32(PORT_CLOCK, clock as u32);
    let Some(peb) = entry::env().map(|env| env.peb).filter(|peb| !peb.is_null()) else {
        return 0;
    };
    // SAFETY: `peb` is the validated PEB of this run, which the host maps
    // readable for the whole run. The read is volatile because the host
    // wrote the field during the exit above, behind the compiler's back.
    unsafe { (&raw const (*peb).clock_ns).read_volatile() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::FakeHost;

    #[test]
    fn ids_are_the_abi_values() {
        assert_eq!(ClockId::Realtime as u32, 0);
        assert_eq!(ClockId::Monotonic as u32, 1);
        assert_eq!(ClockId::Cpu as u32, 2);
    }

    #[test]
    fn each_reading_is_one_exit_with_the_id_and_reads_what_the_host_wrote() {
        let mut host = FakeHost::new();
        host.set_clock(|id| 1_000 + u64::from(id));
        // Any run establishes the PEB, as the host's first entry does.
        host.init();
        assert_eq!(now_ns(ClockId::Realtime), 1_000);
        assert_eq!(now_ns(ClockId::Monotonic), 1_001);
        assert_eq!(now_ns(ClockId::Cpu), 1_002);
        host.set_clock(|_| u64::MAX);
        assert_eq!(now_ns(ClockId::Cpu), u64::MAX);
        assert_eq!(host.clock_reads(), [0, 1, 2, 2]);
    }

    #[test]
    fn reads_zero_without_a_peb() {
        let host = FakeHost::new();
        assert_eq!(now_ns(ClockId::Realtime), 0);
        assert_eq!(host.clock_reads(), [0]);
    }
}
