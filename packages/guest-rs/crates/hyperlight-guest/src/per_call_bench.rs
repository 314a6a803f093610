//! The runtime's per-call work, timed natively: decode the `FunctionCall` in
//! the input buffer, check it, run the guest function and encode the
//! `FunctionCallResult` into the output buffer (`dispatch::run`). The final
//! `HALT` is left out: in a guest it is one `out`, while the fake host ends a
//! run by unwinding, which costs microseconds here.
//!
//! ```text
//! RUSTFLAGS='--cfg hyperlight_guest_mem' cargo test --release --target-dir target/per-call-bench \
//!     -- --ignored --nocapture per_call_bench
//! ```
//!
//! prints one JSON line: the size of the function table and, per case, the
//! samples in nanoseconds per call (each sample averages a batch of calls).
//! `HYPERLIGHT_BENCH_SAMPLES` and `HYPERLIGHT_BENCH_BATCH` override the
//! default 200 samples of 1000 calls. `hyperlight_guest_mem` makes the
//! runtime copy with the guest's `memcpy` & co. (`mem.rs`) instead of
//! libc's; it still allocates from the process allocator, not the guest heap.

use std::time::Instant;

use crate::dispatch;
use crate::test_host::{FakeHost, Sizes};
use crate::wire;
use crate::{Value, ValueType, guest_function};

#[guest_function("EchoI32")]
fn echo_i32(value: i32) -> i32 {
    value
}

#[guest_function("VoidFunction")]
fn void_function() {}

#[guest_function("EchoString")]
fn echo_string(value: String) -> String {
    value
}

#[guest_function("EchoBytes")]
fn echo_bytes(value: Vec<u8>) -> Vec<u8> {
    value
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

#[test]
#[ignore = "a benchmark: cargo test --release -- --ignored --nocapture per_call_bench"]
fn per_call_bench() {
    let samples = env_count("HYPERLIGHT_BENCH_SAMPLES", 200);
    let batch = env_count("HYPERLIGHT_BENCH_BATCH", 1000);
    let cases: [(&str, &str, Value, u8); 4] = [
        ("EchoI32", "EchoI32", Value::I32(42), ValueType::I32 as u8),
        ("VoidFunction", "VoidFunction", Value::Void, ValueType::Void as u8),
        ("EchoString 1000 chars", "EchoString", Value::String("a".repeat(1000)), ValueType::String as u8),
        ("EchoBytes 1 KiB", "EchoBytes", Value::Bytes(vec![7; 1024]), ValueType::Bytes as u8),
    ];

    let mut host = FakeHost::with(Sizes { input: 8192, output: 8192, ..Sizes::default() }, Vec::new());
    let functions = host.init().len();
    let env = crate::entry::env().expect("OP_INIT left a valid environment");
    let mut json = format!("{{\"functions\":{functions},\"samples\":{{");
    for (i, (label, name, value, return_type)) in cases.into_iter().enumerate() {
        let args = if value == Value::Void { Vec::new() } else { vec![value.clone()] };
        let mut frame = vec![0u8; 8192];
        let len = wire::encode_function_call(&mut frame, name, &args, return_type).expect("the call fits");
        host.write_input(&frame[4..len]);

        dispatch::run(&env);
        let reply = env.output.with_frame(wire::decode_function_call_result).expect("a frame");
        assert_eq!(reply, Ok(Ok(value)), "{label} echoes its argument");

        let ns: Vec<String> = (0..samples)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..batch {
                    dispatch::run(&env);
                }
                format!("{:.1}", start.elapsed().as_nanos() as f64 / batch as f64)
            })
            .collect();
        let comma = if i == 0 { "" } else { "," };
        json += &format!("{comma}\"{label}\":[{}]", ns.join(","));
    }
    json += "}}";
    println!("{json}");
    // The sandbox still works the ordinary way.
    assert!(matches!(host.call("EchoI32", &[Value::I32(1)], 1), Ok(Ok(Value::I32(1)))));
}
