//! Cross-language check of the wire messages, Rust side: the Rust guest
//! runtime's own FlatBuffers code (packages/guest-rs, `wire/`), compiled for
//! the build machine, answers line commands from cross-language.test.ts.
//!
//! stdin, one command a line; stdout, one answer a line:
//!   `result ok <value>` / `result err <code> <message hex>`
//!       -> `<frame hex>`: a FunctionCallResult frame built by `encode_function_call_result`
//!   `call <frame hex>`
//!       -> `<name hex> <return type> <argument count> <value>...`, or `malformed <why>`:
//!          the FunctionCall frame read with `FunctionCallView`
//!   `hostcall <name hex> <return type> <value>...`
//!       -> `<frame hex>`: a FunctionCall frame built by `encode_function_call` (a host call)
//!   `reply <frame hex>`
//!       -> `ok <value>` / `err <code> <message hex>`, or `malformed <why>`: the
//!          FunctionCallResult frame (a host call's reply) read with `decode_function_call_result`
//! A value is `i32:-5`, `u32:7`, `i64:..`, `u64:..`, `f32:<bits hex>`,
//! `f64:<bits hex>`, `string:<UTF-8 hex>`, `bool:0|1`, `bytes:<hex>` or `void`.
//!
//! Built by the test with `rustc --edition 2024`; the runtime's modules are
//! included by path, so this program needs no crate and no Cargo.

extern crate alloc;

#[allow(dead_code, missing_docs, clippy::all)]
#[path = "../../../../guest-rs/crates/hyperlight-guest/src/abi.rs"]
mod abi;
#[allow(dead_code, missing_docs, clippy::all)]
#[path = "../../../../guest-rs/crates/hyperlight-guest/src/error.rs"]
mod error;
#[allow(dead_code, missing_docs, clippy::all)]
#[path = "../../../../guest-rs/crates/hyperlight-guest/src/value.rs"]
mod value;
#[allow(dead_code, missing_docs, clippy::all)]
#[path = "../../../../guest-rs/crates/hyperlight-guest/src/wire/mod.rs"]
mod wire;

use std::io::{BufRead, Write};

use error::ErrorCode;
use value::Value;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

fn parse_value(text: &str) -> Value {
    let (kind, data) = text.split_once(':').unwrap_or((text, ""));
    match kind {
        "i32" => Value::I32(data.parse().expect("i32")),
        "u32" => Value::U32(data.parse().expect("u32")),
        "i64" => Value::I64(data.parse().expect("i64")),
        "u64" => Value::U64(data.parse().expect("u64")),
        "f32" => Value::F32(f32::from_bits(u32::from_str_radix(data, 16).expect("f32 bits"))),
        "f64" => Value::F64(f64::from_bits(u64::from_str_radix(data, 16).expect("f64 bits"))),
        "string" => Value::String(String::from_utf8(unhex(data)).expect("UTF-8")),
        "bool" => Value::Bool(data == "1"),
        "bytes" => Value::Bytes(unhex(data)),
        "void" => Value::Void,
        _ => panic!("unknown value {text}"),
    }
}

fn show_value(value: &Value) -> String {
    match value {
        Value::I32(v) => format!("i32:{v}"),
        Value::U32(v) => format!("u32:{v}"),
        Value::I64(v) => format!("i64:{v}"),
        Value::U64(v) => format!("u64:{v}"),
        Value::F32(v) => format!("f32:{:08x}", v.to_bits()),
        Value::F64(v) => format!("f64:{:016x}", v.to_bits()),
        Value::String(s) => format!("string:{}", hex(s.as_bytes())),
        Value::Bool(v) => format!("bool:{}", u8::from(*v)),
        Value::Bytes(b) => format!("bytes:{}", hex(b)),
        Value::Void => "void".into(),
    }
}

fn encode_result(words: &[&str], buf: &mut [u8]) -> String {
    let written = match words {
        ["ok", value] => wire::encode_function_call_result(buf, Ok(&parse_value(value))),
        ["err", code, message] => {
            let code = ErrorCode::from_u32(code.parse().expect("code")).expect("known code");
            let message = String::from_utf8(unhex(message)).expect("UTF-8");
            wire::encode_function_call_result(buf, Err((code, &message)))
        }
        _ => panic!("bad result command {words:?}"),
    };
    hex(&buf[..written.expect("result fits")])
}

fn decode_call(frame: &[u8]) -> String {
    let length = u32::from_le_bytes(frame[..4].try_into().expect("frame header")) as usize;
    let payload = &frame[4..4 + length];
    let call = match wire::FunctionCallView::decode(payload) {
        Ok(call) => call,
        Err(e) => return format!("malformed {}", e.0),
    };
    let mut line = format!("{} {} {}", hex(call.function_name.as_bytes()), call.return_type, call.argument_count());
    for i in 0..call.argument_count() {
        match call.argument(i) {
            Ok(value) => line += &format!(" {}", show_value(&value)),
            Err(e) => return format!("malformed {}", e.0),
        }
    }
    line
}

fn encode_host_call(words: &[&str], buf: &mut [u8]) -> String {
    let [name, return_type, values @ ..] = words else { panic!("bad hostcall command {words:?}") };
    let name = String::from_utf8(unhex(name)).expect("UTF-8");
    let arguments: Vec<Value> = values.iter().map(|value| parse_value(value)).collect();
    let written = wire::encode_function_call(buf, &name, &arguments, return_type.parse().expect("return type"));
    hex(&buf[..written.expect("call fits")])
}

fn decode_reply(frame: &[u8]) -> String {
    let length = u32::from_le_bytes(frame[..4].try_into().expect("frame header")) as usize;
    match wire::decode_function_call_result(&frame[4..4 + length]) {
        Ok(Ok(value)) => format!("ok {}", show_value(&value)),
        Ok(Err((code, message))) => format!("err {code} {}", hex(message.as_bytes())),
        Err(e) => format!("malformed {}", e.0),
    }
}

fn main() {
    let mut buf = vec![0u8; 4 << 20];
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let words: Vec<&str> = line.split(' ').collect();
        let answer = match words.as_slice() {
            ["result", rest @ ..] => encode_result(rest, &mut buf),
            ["call", frame] => decode_call(&unhex(frame)),
            ["hostcall", rest @ ..] => encode_host_call(rest, &mut buf),
            ["reply", frame] => decode_reply(&unhex(frame)),
            _ => panic!("bad command {line}"),
        };
        writeln!(out, "{answer}").expect("stdout");
    }
}
