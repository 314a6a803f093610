//! Global mutable state without locks.
//!
//! A guest runs on one vCPU with interrupts never delivered to guest code
//! (exceptions go to host-built CPL0 stubs that end the run), so nothing can
//! pre-empt a guest access to a global. Under `cfg(test)` the fake host
//! serialises every test that touches runtime globals behind one mutex.

use core::cell::UnsafeCell;

/// A global value accessed only by the single guest thread. Laid out as a
/// plain `T`, so a cell can be exported to C under a symbol name.
#[repr(transparent)]
pub(crate) struct GlobalCell<T>(UnsafeCell<T>);

// SAFETY: the guest is single-threaded and nothing pre-empts it (see the module
// docs); host tests serialise access through `test_host::lock`.
unsafe impl<T> Sync for GlobalCell<T> {}

impl<T> GlobalCell<T> {
    /// A cell holding `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// Runs `f` with exclusive access to the value.
    ///
    /// `f` must not call back into code that accesses the same cell; every
    /// caller in this crate keeps `f` to plain field updates.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: single-threaded, not re-entered (see above), so this is the
        // only live reference for the duration of `f`.
        f(unsafe { &mut *self.0.get() })
    }
}

impl<T: Copy> GlobalCell<T> {
    /// A copy of the value.
    pub(crate) fn get(&self) -> T {
        self.with(|v| *v)
    }

    /// Replaces the value.
    pub(crate) fn set(&self, value: T) {
        self.with(|v| *v = value);
    }
}
