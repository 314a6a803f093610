//! The ELF entry point and the environment it reads from the PEB.
//!
//! Every run starts at `hyperlight_entry` on a fresh stack with `rdi` = PEB
//! address and `rsi` = operation (`docs/abi.md`, "Entering the guest").
//! State that must outlive a run lives in statics and on the heap:
//!
//! ```text
//! loaded --OP_INIT--> initialised --OP_CALL--> initialised (one call per run)
//!   |                      |
//!   +--OP_CALL--> abort    +--OP_INIT--> abort   (ABORT_CODE_BAD_ENVIRONMENT)
//! ```
//!
//! `OP_INIT` makes the heap ready, runs the guest's `#[guest_init]` function
//! (if any), and only then counts as initialised and publishes the function
//! table.

use crate::abi::{ABI_VERSION, ABORT_CODE_BAD_ENVIRONMENT, FRAME_HEADER_SIZE, OP_CALL, OP_INIT, PEB_MAGIC, Peb};
use crate::buffer::SharedBuffer;
use crate::cell::GlobalCell;
use crate::dispatch;
use crate::exit::{abort_fmt, abort_without_message};
use crate::heap::ALLOCATOR;
use crate::init;

/// `ABORT_CODE_BAD_ENVIRONMENT` as the `u32` an abort writes.
const BAD_ENVIRONMENT: u32 = ABORT_CODE_BAD_ENVIRONMENT;

/// Smallest usable output buffer: a frame header plus room for any UTF-8
/// character, so text frames always make progress.
const MIN_OUTPUT_SIZE: usize = FRAME_HEADER_SIZE + 4;

/// What the runtime uses from the PEB, validated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Env {
    /// The PEB's address.
    pub(crate) peb: *const Peb,
    /// Host-to-guest messages.
    pub(crate) input: SharedBuffer,
    /// Guest-to-host messages.
    pub(crate) output: SharedBuffer,
    /// Heap arena start address.
    pub(crate) heap_gva: usize,
    /// Heap arena size in bytes.
    pub(crate) heap_size: usize,
    /// The read-only init data blob (empty when there is none).
    pub(crate) init_data: &'static [u8],
    /// The log area; `None` (a PEB with no log area) turns logging off.
    pub(crate) log: Option<SharedBuffer>,
    /// The most verbose `LogLevel` the host wants (6, `Off`, for none).
    pub(crate) max_log_level: u64,
    /// The trace area as (address, size); `None` turns tracing off.
    #[cfg(feature = "trace")]
    pub(crate) trace: Option<(usize, usize)>,
    /// The guest stack as [low, high), for memory profiles' stack walks.
    #[cfg(feature = "trace")]
    pub(crate) stack: (usize, usize),
}

/// Smallest log area that logging uses: a header and one minimal record.
const MIN_LOG_SIZE: usize = 8;

/// `max_log_level` that turns logging off; larger values are invalid.
const LOG_LEVEL_OFF: u8 = 6;

static ENV: GlobalCell<Option<Env>> = GlobalCell::new(None);
static INITIALISED: GlobalCell<bool> = GlobalCell::new(false);
/// True while `OP_INIT` runs the guest's init code (functions may be registered).
static INITIALISING: GlobalCell<bool> = GlobalCell::new(false);

/// The environment of the current run; `None` before a valid PEB was seen.
pub(crate) fn env() -> Option<Env> {
    ENV.get()
}

/// Whether the guest's init code is running (`OP_INIT`, before the function
/// table is published).
pub(crate) fn initialising() -> bool {
    INITIALISING.get()
}

/// A checked `[gva, gva + size)` region: no wrap-around, not at null unless
/// empty, addressable as `usize`.
fn region(gva: u64, size: u64) -> Option<(usize, usize)> {
    let end = gva.checked_add(size)?;
    if size > 0 && gva == 0 {
        return None;
    }
    usize::try_from(end).ok()?;
    Some((usize::try_from(gva).ok()?, usize::try_from(size).ok()?))
}

/// Whether two regions share a byte.
fn overlap(a: (usize, usize), b: (usize, usize)) -> bool {
    a.1 > 0 && b.1 > 0 && a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

impl Env {
    /// Validates the PEB at `peb`; aborts with `ABORT_CODE_BAD_ENVIRONMENT`
    /// when it is unusable (with a message when the output buffer is known).
    ///
    /// # Safety
    /// When non-null and aligned, `peb` must point to a readable PEB page
    /// (the host guarantees this for the `rdi` it passes).
    unsafe fn from_peb(peb: *const Peb) -> Self {
        if peb.is_null() || !peb.is_aligned() {
            abort_without_message(BAD_ENVIRONMENT);
        }
        let peb_ptr = peb;
        #[cfg(feature = "trace")]
        let peb_gva = peb as usize;
        // SAFETY: non-null and aligned, and readable per the caller.
        let peb = unsafe { peb.read() };
        if peb.magic != PEB_MAGIC {
            // Nothing else in the block can be trusted, not even where the
            // output buffer is, so there is no message.
            abort_without_message(BAD_ENVIRONMENT);
        }
        let Some(output) = region(peb.output_gva, peb.output_size).filter(|r| r.1 >= MIN_OUTPUT_SIZE) else {
            abort_without_message(BAD_ENVIRONMENT);
        };
        // From here on problems can be explained through the output buffer.
        // SAFETY: the host maps the PEB's output buffer read/write for us.
        let output_buffer = unsafe { SharedBuffer::new(output.0, output.1) };
        let bad = |what: core::fmt::Arguments<'_>| -> ! {
            ENV.set(Some(Env {
                peb: core::ptr::null(),
                input: output_buffer,
                output: output_buffer,
                heap_gva: 0,
                heap_size: 0,
                init_data: &[],
                log: None,
                max_log_level: u64::MAX,
                #[cfg(feature = "trace")]
                trace: None,
                #[cfg(feature = "trace")]
                stack: (0, 0),
            }));
            abort_fmt(BAD_ENVIRONMENT, what)
        };
        if peb.abi_version != ABI_VERSION as u64 {
            bad(format_args!(
                "the guest was built for hyperlight ABI version {ABI_VERSION} but the host speaks version {}",
                peb.abi_version
            ));
        }
        let Some(input) = region(peb.input_gva, peb.input_size).filter(|r| r.1 >= FRAME_HEADER_SIZE) else {
            bad(format_args!("invalid input buffer {:#x}+{:#x} in the PEB", peb.input_gva, peb.input_size));
        };
        let Some(heap) = region(peb.heap_gva, peb.heap_size) else {
            bad(format_args!("invalid heap {:#x}+{:#x} in the PEB", peb.heap_gva, peb.heap_size));
        };
        let Some(init_data) = region(peb.init_data_gva, peb.init_data_size) else {
            bad(format_args!("invalid init data {:#x}+{:#x} in the PEB", peb.init_data_gva, peb.init_data_size));
        };
        // A log area the runtime cannot write records into is refused, not
        // ignored: the host asked for logs it would silently never get.
        let Some(log) =
            region(peb.log_gva, peb.log_size).filter(|r| r.1 == 0 || (r.1 >= MIN_LOG_SIZE && r.0 % 4 == 0))
        else {
            bad(format_args!("invalid log area {:#x}+{:#x} in the PEB", peb.log_gva, peb.log_size));
        };
        if peb.max_log_level > u64::from(LOG_LEVEL_OFF) {
            bad(format_args!("invalid max_log_level {} in the PEB (at most {LOG_LEVEL_OFF})", peb.max_log_level));
        }
        let areas = [input, output, heap, log];
        for (i, a) in areas.iter().enumerate() {
            if areas[i + 1..].iter().any(|b| overlap(*a, *b)) {
                bad(format_args!("the input buffer, output buffer, heap and log area in the PEB overlap"));
            }
        }
        Env {
            peb: peb_ptr,
            // SAFETY: validated above; the host maps the input buffer read/write.
            input: unsafe { SharedBuffer::new(input.0, input.1) },
            output: output_buffer,
            heap_gva: heap.0,
            heap_size: heap.1,
            init_data: if init_data.1 == 0 {
                &[]
            } else {
                // SAFETY: the host maps init data read-only for the lifetime
                // of the sandbox and never changes it.
                unsafe { core::slice::from_raw_parts(core::ptr::with_exposed_provenance(init_data.0), init_data.1) }
            },
            log: (log.1 > 0).then(|| {
                // SAFETY: validated above; the host maps the log area read/write.
                unsafe { SharedBuffer::new(log.0, log.1) }
            }),
            max_log_level: peb.max_log_level,
            #[cfg(feature = "trace")]
            trace: trace_area(&peb, peb_gva, &areas, init_data),
            #[cfg(feature = "trace")]
            stack: region(peb.stack_gva, peb.stack_size).map_or((0, 0), |(low, size)| (low, low + size)),
        }
    }
}

/// The PEB's trace area when tracing can use it: a valid region, 8-aligned,
/// at least a header and one record long, and sharing no byte with the PEB,
/// the buffers, the heap, the log area, init data, the stack or the image.
/// A bad trace area only turns tracing off (the guest still runs): unlike
/// the other areas, nothing the host asked for depends on it.
#[cfg(feature = "trace")]
fn trace_area(
    peb: &Peb,
    peb_gva: usize,
    areas: &[(usize, usize)],
    init_data: (usize, usize),
) -> Option<(usize, usize)> {
    use crate::abi::{TRACE_HEADER_SIZE, TRACE_RECORD_ALIGNMENT, TRACE_RECORD_HEADER_SIZE};
    let trace = region(peb.trace_gva, peb.trace_size)?;
    let others = [
        (peb_gva, size_of::<Peb>()),
        init_data,
        region(peb.stack_gva, peb.stack_size)?,
        region(peb.image_gva, peb.image_size)?,
    ];
    let usable = trace.1 >= TRACE_HEADER_SIZE + TRACE_RECORD_HEADER_SIZE
        && trace.0 % TRACE_RECORD_ALIGNMENT == 0
        && u32::try_from(trace.1).is_ok()
        && !areas.iter().chain(&others).any(|a| overlap(trace, *a));
    usable.then_some(trace)
}

/// The guest's ELF entry point (`-Wl,--entry=hyperlight_entry`): the host
/// starts every run here with `rdi` = PEB address and `rsi` = operation.
/// It never returns; every run ends with an `out` to `HALT` or `ABORT`.
///
/// # Safety
/// Only the host calls this, with the PEB it built.
#[cfg(not(test))]
#[unsafe(no_mangle)]
unsafe extern "C" fn hyperlight_entry(peb: *const Peb, op: u64) -> ! {
    // SAFETY: forwarded from the host's call.
    unsafe { run(peb, op) }
}

/// Host tests enter here: the fake host ends runs by unwinding, which an
/// `extern "C"` function may not do.
///
/// # Safety
/// As the real entry point.
#[cfg(test)]
pub(crate) unsafe fn hyperlight_entry(peb: *const Peb, op: u64) -> ! {
    // SAFETY: forwarded from the fake host's call.
    unsafe { run(peb, op) }
}

/// One run: validate the PEB, then initialise or call.
///
/// # Safety
/// `peb` is the PEB the host built for this run.
unsafe fn run(peb: *const Peb, op: u64) -> ! {
    #[cfg(feature = "trace")]
    crate::tracing::run::reset();
    // An init that aborted must not leave registration open.
    INITIALISING.set(false);
    // SAFETY: per our caller.
    let env = unsafe { Env::from_peb(peb) };
    ENV.set(Some(env));
    #[cfg(feature = "trace")]
    crate::tracing::run::begin_run(env.trace, env.stack, op);
    match op {
        op if op == OP_INIT => {
            if INITIALISED.get() {
                abort_fmt(BAD_ENVIRONMENT, format_args!("OP_INIT ran twice; the guest was already initialised"));
            }
            // SAFETY: the PEB's heap arena is mapped read/write for the guest
            // and nothing is allocated yet (this is the first run).
            unsafe { ALLOCATOR.init(env.heap_gva, env.heap_size) };
            #[cfg(feature = "libc")]
            crate::libc::init();
            // User code may allocate, print, log and call the host from here
            // on. A hook that aborts leaves the guest uninitialised.
            {
                #[cfg(feature = "trace")]
                let _span = crate::tracing::run::runtime_span("guest_init", None);
                INITIALISING.set(true);
                init::run_guest_init();
                INITIALISING.set(false);
            }
            INITIALISED.set(true);
            dispatch::publish_functions(&env)
        }
        op if op == OP_CALL => {
            if !INITIALISED.get() {
                abort_fmt(BAD_ENVIRONMENT, format_args!("OP_CALL before OP_INIT; the guest is not initialised"));
            }
            dispatch::call_guest_function(&env)
        }
        op => abort_fmt(BAD_ENVIRONMENT, format_args!("unknown entry operation {op} (expected OP_INIT or OP_CALL)")),
    }
}

/// Forgets all runtime state (host tests start every sandbox fresh).
#[cfg(test)]
pub(crate) fn reset() {
    ENV.set(None);
    INITIALISED.set(false);
    INITIALISING.set(false);
    dispatch::reset();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_reject_wraparound_and_null() {
        assert_eq!(region(0x1000, 0x100), Some((0x1000, 0x100)));
        assert_eq!(region(0, 0), Some((0, 0)));
        assert_eq!(region(0, 1), None);
        assert_eq!(region(u64::MAX, 2), None);
        assert!(overlap((0x1000, 0x100), (0x10ff, 1)));
        assert!(!overlap((0x1000, 0x100), (0x1100, 1)));
        assert!(!overlap((0x1000, 0), (0x1000, 1)));
    }
}
