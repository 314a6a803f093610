//! The guest of {{name}}. `{{runBuild}}` turns this crate into dist/guest.elf;
//! index.mjs runs it in a micro VM and calls the functions below.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicI32, Ordering};

use hyperlight_guest::prelude::*;

/// Implemented by the host: index.mjs registers "Answer" before it starts the guest.
#[host_function("Answer")]
fn answer(question: &str) -> Result<String, HostError>;

/// Lives in guest memory: it grows with every call until the host restores a snapshot.
static CALLS: AtomicI32 = AtomicI32::new(0);

/// Greets `name`.
#[guest_function("Greet")]
fn greet(name: String) -> String {
    format!("Hello, {name}! This is a Rust guest in a micro VM.")
}

/// Counts its own calls.
#[guest_function("Count")]
fn count() -> i32 {
    CALLS.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
}

/// Asks the host a question through the host function "Answer".
#[guest_function("AskHost")]
fn ask_host(question: String) -> Result<String> {
    let reply = answer(&question)?; // a failing host function fails this call too
    Ok(format!("The host says: {reply}"))
}
