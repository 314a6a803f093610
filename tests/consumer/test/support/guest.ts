/**
 * A tiny Rust guest crate written into an app, built with the app's installed
 * build helper against the runtime crate shipped in its installed
 * @hyperlight-ts/guest-rs.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './process.js';

/** The guest ELF an app's programs load, relative to the app. */
export const GUEST_ELF = 'dist/guest.elf';

/** The host function the guest calls: the program registers it and returns who it is. */
export const HOST_FUNCTION = 'HostName';

const CARGO_TOML = `[package]
name = "consumer-guest"
version = "0.0.0"
edition = "2024"
publish = false

# Its own workspace: cargo must not look further up.
[workspace]

[dependencies]
hyperlight-guest = { path = "../node_modules/@hyperlight-ts/guest-rs/crates/hyperlight-guest" }
`;

const MAIN_RS = `#![no_std]
#![no_main]

use hyperlight_guest::prelude::*;

#[host_function("${HOST_FUNCTION}")]
fn host_name() -> Result<String, HostError>;

/// Greets \`name\` and says which host program called.
#[guest_function("Greet")]
fn greet(name: String) -> Result<String> {
    let host = host_name()?;
    Ok(format!("Hello, {name}! Called from {host}."))
}
`;

/**
 * Writes the guest crate to `<appDir>/guest` and builds it with
 * `node_modules/.bin/hyperlight-build-rust-guest`.
 * @returns the absolute path of the built ELF
 * @throws Error with the helper's output when the build fails or leaves no ELF
 */
export function buildGuest(appDir: string): string {
  mkdirSync(join(appDir, 'guest', 'src'), { recursive: true });
  writeFileSync(join(appDir, 'guest', 'Cargo.toml'), CARGO_TOML);
  writeFileSync(join(appDir, 'guest', 'src', 'main.rs'), MAIN_RS);
  runOk(join(appDir, 'node_modules', '.bin', 'hyperlight-build-rust-guest'), ['guest', '--out', GUEST_ELF], appDir);
  const elf = join(appDir, GUEST_ELF);
  if (!existsSync(elf)) throw new Error(`the build helper reported success but left no ${elf}`);
  return elf;
}
