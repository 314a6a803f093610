//! The guest's own initialisation hook: the one `fn()` marked
//! `#[guest_init]`, which the runtime runs during `OP_INIT`.
//!
//! `#[guest_init]` places one [`GuestInitRegistration`] in the
//! `hyperlight_guest_init` link section, the same way `#[guest_function]`
//! registers functions (see `dispatch.rs`): the linker gathers the section
//! between `__start_`/`__stop_` symbols, so there is no constructor and no
//! allocation. A guest has at most one hook, so the order in which the
//! linker concatenates objects never matters.
//!
//! ```text
//! OP_INIT: validate PEB --> heap ready --> #[guest_init] fn --> publish function table --> HALT
//! ```

/// The link section holding every [`GuestInitRegistration`]. The
/// `#[guest_init]` macro spells the same name.
pub const INIT_SECTION: &str = "hyperlight_guest_init";

/// The initialisation hook, as `#[guest_init]` registers it.
#[repr(C)]
pub struct GuestInitRegistration {
    /// The Rust function's name, for diagnostics.
    pub rust_name: &'static str,
    /// The hook itself.
    pub run: fn(),
}

fn never_run() {}

/// An entry with an empty name that keeps the section (and so its
/// `__start_`/`__stop_` symbols) present in a guest without a hook.
#[used]
#[unsafe(link_section = "hyperlight_guest_init")]
static SENTINEL: GuestInitRegistration = GuestInitRegistration { rust_name: "", run: never_run };

unsafe extern "C" {
    // Defined by the linker around the section's contents; only their
    // addresses matter, so they are declared as bytes.
    static __start_hyperlight_guest_init: u8;
    static __stop_hyperlight_guest_init: u8;
}

/// Every registration in the section, the sentinel included.
fn registrations() -> &'static [GuestInitRegistration] {
    // Referencing the sentinel links the object file that defines it.
    core::hint::black_box(&SENTINEL);
    let start = (&raw const __start_hyperlight_guest_init).cast::<GuestInitRegistration>();
    let stop = (&raw const __stop_hyperlight_guest_init).cast::<GuestInitRegistration>();
    let count = (stop as usize - start as usize) / size_of::<GuestInitRegistration>();
    // SAFETY: the linker concatenates the section's statics, all of this type
    // (size a multiple of its alignment, so no padding between them), into
    // [start, stop); they are immutable and live for the whole program.
    unsafe { core::slice::from_raw_parts(start, count) }
}

/// The guest's hook among `all`: `Ok(None)` when there is none, `Err` with
/// two of them when there is more than one.
pub(crate) fn select(
    all: &'static [GuestInitRegistration],
) -> Result<Option<&'static GuestInitRegistration>, [&'static GuestInitRegistration; 2]> {
    let mut hooks = all.iter().filter(|r| !r.rust_name.is_empty());
    match (hooks.next(), hooks.next()) {
        (first, None) => Ok(first),
        (Some(first), Some(second)) => Err([first, second]),
        (None, Some(_)) => unreachable!("an iterator yields nothing after its end"),
    }
}

/// Runs the guest's `#[guest_init]` function, if it has one. Called once,
/// during `OP_INIT`, with the PEB validated and the heap ready; the function
/// table is published after it returns.
pub(crate) fn run_guest_init() {
    match select(registrations()) {
        Ok(Some(hook)) => (hook.run)(),
        Ok(None) => {}
        Err([first, second]) => panic!(
            "a guest has at most one #[guest_init] function, but `{}` and `{}` are both marked",
            first.rust_name, second.rust_name
        ),
    }
}
