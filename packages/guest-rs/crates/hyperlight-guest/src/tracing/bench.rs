//! The guest-side cost of tracing, timed natively inside a fake-host run:
//!
//! ```text
//! cargo test --release --features trace --target-dir target/trace-bench \
//!     -- --ignored --nocapture trace_bench
//! ```
//!
//! prints one JSON line with the median nanoseconds per operation: a span
//! opened and closed and an event (message with one argument, one integer
//! field) when the run records them, and the same when it does not
//! (`flags` = 0: the one-branch check). Records go to a 1 MiB area whose
//! `used` is reset before each batch, so no flush exits are timed.

use std::time::Instant;

use crate::abi::TRACE_FLAG_ENABLED;
use crate::prelude::*;
use crate::test_host::{FakeHost, Sizes, TraceSettings};

const BATCH: u32 = 1000;
const SAMPLES: usize = 200;

/// Median nanoseconds per call of `op`, over `SAMPLES` batches.
fn median_ns(mut op: impl FnMut(u32)) -> f64 {
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            if let Some((base, _)) = crate::tracing::__private::trace_area() {
                // SAFETY: the area's `used` field; the bench plays the host draining it.
                unsafe { core::ptr::with_exposed_provenance_mut::<u32>(base).write_volatile(0) };
            }
            let start = Instant::now();
            for i in 0..BATCH {
                op(core::hint::black_box(i));
            }
            start.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

fn span_open_close(_: u32) {
    let _span = span!(LogLevel::Info, "bench");
}

fn one_event(i: u32) {
    event!(LogLevel::Info, "event {}", i; n = i);
}

#[guest_function("TraceBench")]
fn trace_bench_guest() -> String {
    format!("\"span\":{:.1},\"event\":{:.1}", median_ns(span_open_close), median_ns(one_event))
}

#[test]
#[ignore = "a benchmark: cargo test --release --features trace -- --ignored --nocapture trace_bench"]
fn trace_bench() {
    let mut host = FakeHost::with(Sizes { trace: 1 << 20, ..Sizes::default() }, Vec::new());
    host.init();
    let mut results = Vec::new();
    for (label, flags) in [("enabled", TRACE_FLAG_ENABLED as u8), ("disabled", 0)] {
        host.set_trace(Some(TraceSettings { level: 0, flags, ..TraceSettings::default() }));
        let Ok(Ok(Value::String(line))) = host.call("TraceBench", &[], 7) else { panic!("the bench ran") };
        results.push(format!("\"{label}\":{{{line}}}"));
        host.take_traces();
    }
    std::println!("{{{}}}", results.join(","));
}
