//! The hello-world guest. Built by `pnpm build` in examples/hello-world
//! (`hyperlight-build-rust-guest guest --out dist/hello-world-guest.elf`).
#![no_std]
#![no_main]

use hyperlight_guest::prelude::*;

/// Implemented by the host (examples/hello-world/src/main.ts).
#[host_function("GetWeekday")]
fn get_weekday() -> Result<String, HostError>;

/// Greets `name`, asking the host what day it is.
#[guest_function("SayHello")]
#[instrument(fields(name_bytes = name.len()))]
fn say_hello(name: String) -> Result<String> {
    let weekday = get_weekday()?;
    let greeting = format!("Hello, {name}! Today is {weekday}.");
    event!(LogLevel::Info, "greeting ready"; bytes = greeting.len());
    Ok(greeting)
}
