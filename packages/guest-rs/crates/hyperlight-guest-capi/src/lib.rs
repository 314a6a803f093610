//! The C API of hyperlight-ts guests: every function `hyperlight/guest.h`
//! and `hyperlight/trace.h` declare (packages/guest-c/include), as a thin C
//! ABI over the Rust runtime `hyperlight-guest`.
//!
//! A C guest links one runtime: the entry point `hyperlight_entry`, the
//! dispatcher, the FlatBuffers code, the heap (C `malloc` is the runtime's,
//! feature `libc`) and the PEB checks are all the Rust crate's. This crate
//! only converts between C and Rust types:
//!
//! ```text
//! host --OP_INIT--> hyperlight-guest --#[guest_init]--> hyperlight_main()  (user's C)
//!                                                        +--hl_register_function--> register_function
//! host --OP_CALL--> hyperlight-guest dispatch --handler--> hl_value args --> C handler --> hl_result --> Value
//! ```
//!
//! C-variadic functions (`hl_err`, `hl_log`, `hl_call_host`, ...) cannot be
//! defined in stable Rust, so `c/variadic.c` holds them: each collects its
//! arguments or formats its message with the libc's `vsnprintf` and calls an
//! array or text variant here. `c/default_main.c` is the weak empty
//! `hyperlight_main` that lets a guest without one link (a compiler check's
//! `int main(void)`). `tools/build-runtime-archive.mjs` builds this crate
//! and those objects into `libhyperlight_guest.a`.
//!
//! Run memory (`hl_run_alloc`, argument copies, host call results, error
//! messages) is freed when the guest function or `hyperlight_main` that used
//! it returns: its result is copied into the runtime's own value first.
#![no_std]
#![warn(missing_docs, unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

mod environment;
mod functions;
mod host_call;
mod output;
mod run_memory;
mod text;
mod trace;
mod types;
mod values;

use hyperlight_guest::guest_init;

unsafe extern "C" {
    /// The guest's initialisation (user C code, or `c/default_main.c`).
    fn hyperlight_main();
}

/// Runs the C guest's `hyperlight_main` during `OP_INIT`, after the heap and
/// the libc are ready; what it allocated in run memory is freed after it.
#[guest_init]
fn run_hyperlight_main() {
    // SAFETY: a plain C function of the guest, called once during OP_INIT as
    // guest.h documents.
    unsafe { hyperlight_main() };
    run_memory::release_all();
}
