//! Tracing end to end: guest code entered by the fake host, records drained
//! from its trace area and decoded as strictly as the host decodes them.

use std::sync::Mutex;

use crate::abi::{
    OP_CALL, OP_INIT, TRACE_FLAG_ENABLED, TRACE_FLAG_MEMORY, TRACE_FLAG_RUNTIME_SPANS, TRACE_HEADER_SIZE,
    TRACE_MAX_NAME_SIZE, TRACE_MAX_OPEN_SPANS, TRACE_MAX_RECORD_SIZE, TRACE_MAX_STRING_VALUE_SIZE,
};
use crate::prelude::*;
use crate::test_host::{Exit, FakeHost, Sizes, TraceDrain, TraceSettings};
use crate::tracing::{self as tr, memory::walk_from};

const ENABLED: u8 = TRACE_FLAG_ENABLED as u8;
const RUNTIME: u8 = TRACE_FLAG_RUNTIME_SPANS as u8;
const MEMORY: u8 = TRACE_FLAG_MEMORY as u8;

// ---- decoding ------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum F {
    S(String),
    I(i64),
    U(u64),
    D(f64),
    B(bool),
}

type Fields = Vec<(String, F)>;

/// One decoded record (the time stamp left out).
#[derive(Clone, Debug, PartialEq)]
enum Rec {
    RunStart(u32),
    Open { id: u32, parent: u32, level: u8, name: String, target: String, fields: Fields },
    Close(u32),
    Event { span: u32, level: u8, name: String, target: String, fields: Fields },
    More { id: u32, fields: Fields },
    Alloc { span: u32, address: u64, size: u64, frames: Vec<u64> },
    Free { span: u32, address: u64, size: u64, frames: Vec<u64> },
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn text(&mut self, n: usize) -> String {
        String::from_utf8(self.take(n).to_vec()).expect("valid UTF-8")
    }
}

/// Decodes a record, asserting every rule of docs/tracing-format.md.
fn decode(record: &[u8]) -> Rec {
    let mut r = Reader(record);
    let (kind, level, size, span) = (r.u8(), r.u8(), r.u16() as usize, r.u32());
    assert_eq!(size, record.len());
    assert!(size <= TRACE_MAX_RECORD_SIZE);
    r.u64(); // tsc
    if !matches!(kind, 1 | 3) {
        assert_eq!(level, 0, "only span opens and events carry a level");
    }
    let named = |r: &mut Reader<'_>| {
        let parent = r.u32();
        let (name_len, target_len, count) = (r.u16() as usize, r.u8() as usize, r.u8());
        assert!(name_len <= TRACE_MAX_NAME_SIZE);
        let (name, target) = (r.text(name_len), r.text(target_len));
        let fields = (0..count)
            .map(|_| {
                let (kind, key_len, value_len) = (r.u8(), r.u8() as usize, r.u16() as usize);
                let key = r.text(key_len);
                let value = match kind {
                    1 => {
                        assert!(value_len <= TRACE_MAX_STRING_VALUE_SIZE);
                        F::S(r.text(value_len))
                    }
                    2..=4 => {
                        assert_eq!(value_len, 8);
                        let v = r.u64();
                        [F::I(v as i64), F::U(v), F::D(f64::from_bits(v))][kind as usize - 2].clone()
                    }
                    5 => {
                        assert_eq!(value_len, 1);
                        let b = r.u8();
                        assert!(b <= 1);
                        F::B(b == 1)
                    }
                    other => panic!("field type {other}"),
                };
                (key, value)
            })
            .collect::<Fields>();
        (parent, name, target, fields)
    };
    let memory = |r: &mut Reader<'_>| {
        let (address, size, count) = (r.u64(), r.u64(), r.u16() as usize);
        assert_eq!((r.u16(), r.u32()), (0, 0));
        assert!(count <= crate::abi::TRACE_MAX_FRAMES);
        (address, size, (0..count).map(|_| r.u64()).collect::<Vec<_>>())
    };
    let rec = match kind {
        1 => {
            let (parent, name, target, fields) = named(&mut r);
            Rec::Open { id: span, parent, level, name, target, fields }
        }
        2 => Rec::Close(span),
        3 => {
            let (parent, name, target, fields) = named(&mut r);
            assert_eq!(parent, 0);
            Rec::Event { span, level, name, target, fields }
        }
        4 => {
            let (parent, name, target, fields) = named(&mut r);
            assert_eq!((parent, name.as_str(), target.as_str()), (0, "", ""));
            Rec::More { id: span, fields }
        }
        5 | 6 => {
            let (address, size, frames) = memory(&mut r);
            if kind == 5 {
                Rec::Alloc { span, address, size, frames }
            } else {
                Rec::Free { span, address, size, frames }
            }
        }
        7 => {
            assert_eq!(span, 0);
            let op = r.u32();
            assert_eq!(r.u32(), 0);
            Rec::RunStart(op)
        }
        other => panic!("record kind {other}"),
    };
    assert!(r.0.is_empty(), "lengths add up to the size exactly");
    rec
}

fn decoded(drain: &TraceDrain) -> Vec<Rec> {
    drain.records.iter().map(|r| decode(r)).collect()
}

// ---- guest code run by the tests -------------------------------------------------

type Scenario = Box<dyn FnOnce() + Send>;

static SCENARIO: Mutex<Option<Scenario>> = Mutex::new(None);

#[guest_function("TrScenario")]
fn run_scenario() {
    let scenario = SCENARIO.lock().unwrap().take().expect("a scenario");
    scenario();
}

#[host_function("TrHostEcho")]
fn host_echo(text: &str) -> Result<String, HostError>;

/// Runs `f` as a guest call; returns how the run ended.
fn in_guest(host: &mut FakeHost, f: impl FnOnce() + Send + 'static) -> Result<(), Exit> {
    *SCENARIO.lock().unwrap() = Some(Box::new(f));
    match host.call("TrScenario", &[], 10) {
        Ok(Ok(Value::Void)) => Ok(()),
        Ok(other) => panic!("scenario failed: {other:?}"),
        Err(exit) => Err(exit),
    }
}

/// A sandbox tracing everything from `level` with `flags`, initialised,
/// its init records taken.
fn traced(sizes: Sizes, flags: u8, level: LogLevel) -> FakeHost {
    let mut host = FakeHost::with(sizes, Vec::new());
    host.set_trace(Some(TraceSettings { level: level as u8, flags, ..TraceSettings::default() }));
    host.init();
    host.take_traces();
    host
}

fn s(text: &str) -> F {
    F::S(text.into())
}

fn fields(list: &[(&str, F)]) -> Fields {
    list.iter().map(|(k, v)| ((*k).into(), v.clone())).collect()
}

// ---- the record layout -----------------------------------------------------------

/// `record` with its time stamp zeroed.
fn without_tsc(record: &[u8]) -> Vec<u8> {
    let mut bytes = record.to_vec();
    bytes[8..16].fill(0);
    bytes
}

#[test]
fn every_kind_of_record_is_laid_out_byte_for_byte() {
    let mut host = traced(Sizes::default(), ENABLED | MEMORY, LogLevel::Trace);
    in_guest(&mut host, || {
        let span = span!(target: "t", LogLevel::Warn, "sp", a = -2i32);
        span_record!(span, b = true);
        event!(target: "t", LogLevel::Error, "ev {}", 7; u = 3u8, f = 0.5f64, s = "xy");
        drop(span);
        use core::alloc::{GlobalAlloc, Layout};
        let layout = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: a non-zero layout, freed at once.
        unsafe { crate::heap::ALLOCATOR.dealloc(crate::heap::ALLOCATOR.alloc(layout), layout) };
    })
    .unwrap();
    let drain = host.take_traces();
    let records: Vec<Vec<u8>> = drain.records.iter().map(|r| without_tsc(r)).collect();
    let header = |kind: u8, level: u8, size: u16, span: u32| {
        let mut h = vec![kind, level];
        h.extend(size.to_le_bytes());
        h.extend(span.to_le_bytes());
        h.extend([0; 8]);
        h
    };
    let cat = |parts: &[&[u8]]| parts.concat();
    assert_eq!(records[0], cat(&[&header(7, 0, 24, 0), &1u32.to_le_bytes(), &[0; 4]]), "RUN_START");
    assert_eq!(
        records[1],
        cat(&[
            &header(1, 3, 40, 1),
            &[0, 0, 0, 0, 2, 0, 1, 1],
            b"sp",
            b"t",
            &[2, 1, 8, 0],
            b"a",
            &(-2i64).to_le_bytes()
        ]),
        "SPAN_OPEN"
    );
    assert_eq!(
        records[2],
        cat(&[&header(4, 0, 30, 1), &[0, 0, 0, 0, 0, 0, 0, 1], &[5, 1, 1, 0], b"b", &[1]]),
        "SPAN_FIELDS"
    );
    assert_eq!(
        records[3],
        cat(&[
            &header(3, 4, 62, 1),
            &[0, 0, 0, 0, 4, 0, 1, 3],
            b"ev 7",
            b"t",
            &[3, 1, 8, 0],
            b"u",
            &3u64.to_le_bytes(),
            &[4, 1, 8, 0],
            b"f",
            &0.5f64.to_le_bytes(),
            &[1, 1, 2, 0],
            b"sxy",
        ]),
        "EVENT"
    );
    assert_eq!(records[4], header(2, 0, 16, 1), "SPAN_CLOSE");
    let Rec::Alloc { address, .. } = decode(&records[5]) else { panic!("ALLOC") };
    let memory = |kind| cat(&[&header(kind, 0, 40, 0), &address.to_le_bytes(), &24u64.to_le_bytes(), &[0; 8]]);
    assert_eq!(records[5], memory(5), "ALLOC (no stack: the fake PEB has no stack bounds)");
    assert_eq!(records[6], memory(6), "FREE");
    assert_eq!(records.len(), 7);
    let tscs: Vec<u64> = drain.records.iter().map(|r| u64::from_le_bytes(r[8..16].try_into().unwrap())).collect();
    assert!(tscs.windows(2).all(|w| w[0] <= w[1]), "time stamps do not go backwards");
    assert_eq!((drain.lost, drain.flushes), (0, 0));
}

// ---- spans, ids, nesting ---------------------------------------------------------

#[instrument(name = "level", level = "info", target = "nest", fields(depth = depth as i64))]
fn nest(depth: i32, max: i32) {
    if depth == max {
        event!(target: "nest", LogLevel::Info, "bottom"; depth = depth as i64);
    } else {
        nest(depth + 1, max);
    }
}

#[test]
fn spans_nest_with_ids_from_one_in_every_run() {
    let mut host = traced(Sizes::default(), ENABLED, LogLevel::Info);
    for _ in 0..2 {
        in_guest(&mut host, || nest(1, 3)).unwrap();
        let open = |id: u32, parent: u32| Rec::Open {
            id,
            parent,
            level: 2,
            name: "level".into(),
            target: "nest".into(),
            fields: fields(&[("depth", F::I(id.into()))]),
        };
        assert_eq!(
            decoded(&host.take_traces()),
            vec![
                Rec::RunStart(OP_CALL as u32),
                open(1, 0),
                open(2, 1),
                open(3, 2),
                Rec::Event {
                    span: 3,
                    level: 2,
                    name: "bottom".into(),
                    target: "nest".into(),
                    fields: fields(&[("depth", F::I(3))])
                },
                Rec::Close(3),
                Rec::Close(2),
                Rec::Close(1),
            ]
        );
    }
}

#[test]
fn spans_nested_too_deep_are_counted_lost_and_their_guards_do_nothing() {
    let mut host = traced(Sizes { trace: 64 * 1024, ..Sizes::default() }, ENABLED, LogLevel::Trace);
    in_guest(&mut host, || {
        let guards: Vec<_> = (0..TRACE_MAX_OPEN_SPANS + 3).map(|_| span!(LogLevel::Info, "deep")).collect();
        assert!(!guards[TRACE_MAX_OPEN_SPANS].is_recording());
        event!(LogLevel::Info, "inside");
        drop(guards);
    })
    .unwrap();
    let drain = host.take_traces();
    let records = decoded(&drain);
    assert_eq!(drain.lost, 3);
    let opens = records.iter().filter(|r| matches!(r, Rec::Open { .. })).count();
    assert_eq!(opens, TRACE_MAX_OPEN_SPANS);
    assert!(
        matches!(records[1 + TRACE_MAX_OPEN_SPANS], Rec::Event { span, .. } if span == TRACE_MAX_OPEN_SPANS as u32)
    );
    let closes: Vec<_> = records.iter().filter_map(|r| if let Rec::Close(id) = r { Some(*id) } else { None }).collect();
    assert_eq!(closes, (1..=TRACE_MAX_OPEN_SPANS as u32).collect::<Vec<_>>(), "dropped in creation order");
}

static KEPT: Mutex<Option<tr::SpanGuard>> = Mutex::new(None);

#[test]
fn the_runtime_closes_open_spans_before_it_halts_or_aborts() {
    let mut host = traced(Sizes::default(), ENABLED, LogLevel::Trace);
    let abort = in_guest(&mut host, || {
        let _outer = span!(LogLevel::Info, "outer");
        let _inner = span!(LogLevel::Info, "inner");
        abort(9, "stop");
    });
    assert_eq!(abort, Err(Exit::Abort { code: 9, message: "stop".into() }));
    let records = decoded(&host.take_traces());
    assert_eq!(records[3..], [Rec::Close(2), Rec::Close(1)], "closed innermost first, before the abort exit");

    in_guest(&mut host, || *KEPT.lock().unwrap() = Some(span!(LogLevel::Info, "kept"))).unwrap();
    assert_eq!(decoded(&host.take_traces())[2..], [Rec::Close(1)], "a span kept past the run is closed at halt");
    in_guest(&mut host, || {
        let _new = span!(LogLevel::Info, "new");
        drop(KEPT.lock().unwrap().take());
    })
    .unwrap();
    assert_eq!(
        decoded(&host.take_traces())[2..],
        [Rec::Close(1)],
        "the old guard (also id 1) does nothing in a later run; only the new span closes"
    );
}

// ---- filtering and the fast path -----------------------------------------------

fn emit_levels_and_targets() {
    for target in ["app", "app::net", "app::net::tls", "other"] {
        for level in [LogLevel::Trace, LogLevel::Info, LogLevel::Error] {
            event!(target: target, level, "e");
        }
    }
}

fn events_seen(host: &mut FakeHost) -> Vec<(String, u8)> {
    decoded(&host.take_traces())
        .into_iter()
        .filter_map(|r| if let Rec::Event { target, level, .. } = r { Some((target, level)) } else { None })
        .collect()
}

#[test]
fn the_longest_matching_filter_prefix_decides_else_the_header_level() {
    let mut host = FakeHost::new();
    host.set_trace(Some(TraceSettings {
        level: LogLevel::Error as u8,
        flags: ENABLED,
        filter: vec![(LogLevel::Info as u8, "app".into()), (6, "app::net".into()), (0, "app::net::tls".into())],
        ..TraceSettings::default()
    }));
    host.init();
    host.take_traces();
    in_guest(&mut host, emit_levels_and_targets).unwrap();
    let seen = events_seen(&mut host);
    let expected =
        [("app", 2), ("app", 4), ("app::net::tls", 0), ("app::net::tls", 2), ("app::net::tls", 4), ("other", 4)];
    assert_eq!(seen, expected.map(|(t, l)| (t.to_string(), l)));
}

#[test]
fn with_flags_zero_nothing_is_recorded_and_nothing_exits() {
    let mut host = FakeHost::with(Sizes { trace: TRACE_HEADER_SIZE + 64, ..Sizes::default() }, Vec::new());
    host.set_trace(Some(TraceSettings { level: 0, flags: 0, ..TraceSettings::default() }));
    host.init();
    in_guest(&mut host, || {
        assert!(!tr::enabled(LogLevel::Critical, "any"));
        for i in 0..1000 {
            let span = span!(LogLevel::Critical, "s", i = i);
            event!(LogLevel::Critical, "e {}", i; pad = "x".repeat(200));
            span_record!(span, more = i);
        }
        drop(Vec::<u8>::with_capacity(100));
    })
    .unwrap();
    let drain = host.take_traces();
    assert_eq!((drain.records.len(), drain.lost, drain.flushes), (0, 0, 0));
    host.edit_trace_area(|area| assert!(area[..8].iter().all(|&b| b == 0), "used and lost untouched"));
}

#[test]
fn memory_and_runtime_flags_alone_record_no_user_spans() {
    let mut host = traced(Sizes::default(), MEMORY | RUNTIME, LogLevel::Trace);
    in_guest(&mut host, || event!(LogLevel::Critical, "e")).unwrap();
    assert_eq!(decoded(&host.take_traces()), vec![Rec::RunStart(OP_CALL as u32)], "RUN_START needs any flag");
}

// ---- a full area ---------------------------------------------------------------

/// An event record of this test: 24 + 4 + 7 + 4 + 3 + 200 = 242 bytes, 248 padded.
fn fill_event(i: usize) {
    event!(target: "fill", LogLevel::Info, "{:04}", i; pad = "p".repeat(200));
}

#[test]
fn a_full_area_costs_one_flush_and_the_record_goes_in_after_it() {
    // Room for 4 padded events after RUN_START (24 bytes).
    let mut host =
        traced(Sizes { trace: TRACE_HEADER_SIZE + 24 + 4 * 248, ..Sizes::default() }, ENABLED, LogLevel::Info);
    in_guest(&mut host, || (0..20).for_each(fill_event)).unwrap();
    let drain = host.take_traces();
    let names: Vec<_> = decoded(&drain)
        .into_iter()
        .filter_map(|r| if let Rec::Event { name, .. } = r { Some(name) } else { None })
        .collect();
    assert_eq!(names, (0..20).map(|i| format!("{i:04}")).collect::<Vec<_>>(), "every event, in order");
    assert_eq!(drain.lost, 0);
    // 4 fit with RUN_START, then 4 per flush: flushes before events 4, 8, 12, 16.
    assert_eq!(drain.flushes, 4);
}

#[test]
fn records_that_still_do_not_fit_are_counted_lost() {
    let mut host = traced(Sizes { trace: TRACE_HEADER_SIZE + 248, ..Sizes::default() }, ENABLED, LogLevel::Info);
    host.drain_on_trace_flush(false);
    in_guest(&mut host, || (0..3).for_each(fill_event)).unwrap();
    let drain = host.take_traces();
    assert_eq!(drain.flushes, 3, "one flush per record, no retry loop");
    // RUN_START filled the area; the host never drained on flush.
    assert_eq!((drain.lost, decoded(&drain)), (3, vec![Rec::RunStart(OP_CALL as u32)]));

    host.drain_on_trace_flush(true);
    in_guest(&mut host, || event!(target: "fill", LogLevel::Info, "{}", "x".repeat(300))).unwrap();
    let drain = host.take_traces();
    assert_eq!((drain.lost, drain.flushes), (1, 0), "bigger than the whole area: lost without a flush");
}

// ---- cutting ---------------------------------------------------------------------

#[test]
fn long_names_targets_and_values_are_cut_at_character_boundaries() {
    let mut host = traced(Sizes::default(), ENABLED, LogLevel::Trace);
    in_guest(&mut host, || {
        let long_target = "ü".repeat(200);
        let name = format!("a{}", "€".repeat(600));
        let _span = span!(target: &long_target, LogLevel::Info, &name, v = "é".repeat(700), w = 1u8);
        let big = "x".repeat(900);
        event!(LogLevel::Info, "{}", "😀".repeat(400); a = big.as_str(), b = big.as_str(), c = big.as_str(),
            d = big.as_str(), e = tr::display(&big), f = 5u8);
    })
    .unwrap();
    let records = decoded(&host.take_traces());
    let Rec::Open { name, target, fields: f, .. } = &records[1] else { panic!() };
    assert_eq!(name.len(), 1 + 341 * 3, "1024 bytes would split a '€'");
    assert_eq!(target.len(), 254);
    assert_eq!(f[0], ("v".into(), s(&"é".repeat(512))));
    assert_eq!(f[1], ("w".into(), F::U(1)));
    let Rec::Event { name, fields: f, .. } = &records[2] else { panic!() };
    assert_eq!(name.len(), 1024);
    let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c", "f"], "fields that no longer fit are left out, later small ones kept");
    assert!(host.take_traces().records.is_empty());
}

#[test]
fn typed_values_and_wrappers() {
    let mut host = traced(Sizes::default(), ENABLED, LogLevel::Trace);
    in_guest(&mut host, || {
        let owned = String::from("own");
        event!(LogLevel::Info, "t"; a = -1i8, b = u64::MAX, c = 1.5f32, d = false, e = owned,
            g = tr::debug(Some(3)), h = tr::display(7), i = usize::MAX, j = i64::MIN);
    })
    .unwrap();
    let records = decoded(&host.take_traces());
    let Rec::Event { fields: f, .. } = &records[1] else { panic!() };
    assert_eq!(
        *f,
        fields(&[
            ("a", F::I(-1)),
            ("b", F::U(u64::MAX)),
            ("c", F::D(1.5)),
            ("d", F::B(false)),
            ("e", s("own")),
            ("g", s("Some(3)")),
            ("h", s("7")),
            ("i", F::U(u64::MAX)),
            ("j", F::I(i64::MIN)),
        ])
    );
}

// ---- runtime spans ---------------------------------------------------------------

#[test]
fn runtime_spans_cover_init_dispatch_and_host_calls() {
    let mut host = FakeHost::new();
    host.register("TrHostEcho", |mut args| Ok(args.remove(0)));
    host.set_trace(Some(TraceSettings {
        level: LogLevel::Info as u8,
        flags: ENABLED | RUNTIME,
        ..TraceSettings::default()
    }));
    host.init();
    let open = |id, parent, name: &str, function: Option<&str>| Rec::Open {
        id,
        parent,
        level: 2,
        name: name.into(),
        target: "hyperlight_guest".into(),
        fields: function.map(|f| fields(&[("function", s(f))])).unwrap_or_default(),
    };
    assert_eq!(
        decoded(&host.take_traces()),
        vec![Rec::RunStart(OP_INIT as u32), open(1, 0, "guest_init", None), Rec::Close(1)]
    );
    in_guest(&mut host, || assert_eq!(host_echo("hi").unwrap(), "hi")).unwrap();
    assert_eq!(
        decoded(&host.take_traces()),
        vec![
            Rec::RunStart(OP_CALL as u32),
            open(1, 0, "guest_call", Some("TrScenario")),
            open(2, 1, "host_call", Some("TrHostEcho")),
            Rec::Close(2),
            Rec::Close(1),
        ],
        "records on both sides of the host call's exit"
    );

    host.set_trace(Some(TraceSettings {
        level: LogLevel::Info as u8,
        flags: ENABLED | RUNTIME,
        filter: vec![(LogLevel::Warn as u8, "hyperlight_guest".into())],
        ..TraceSettings::default()
    }));
    in_guest(&mut host, || ()).unwrap();
    assert_eq!(decoded(&host.take_traces()), vec![Rec::RunStart(OP_CALL as u32)], "filtered like any span");
}

// ---- memory ------------------------------------------------------------------------

#[test]
fn the_allocator_records_allocations_and_frees() {
    let mut host = traced(Sizes::default(), MEMORY, LogLevel::Trace);
    let stack = [0usize; 1];
    let here = stack.as_ptr() as u64;
    // The test thread's stack around this frame (the fake PEB has none).
    host.edit_peb(|p| {
        p.stack_gva = here - 512 * 1024;
        p.stack_size = 512 * 1024 + 64 * 1024;
    });
    in_guest(&mut host, || {
        use core::alloc::{GlobalAlloc, Layout};
        let a = &crate::heap::ALLOCATOR;
        let layout = Layout::from_size_align(1000, 8).unwrap();
        // SAFETY: live blocks with their layouts.
        unsafe {
            let p = a.alloc(layout);
            let q = a.realloc(p, layout, 2000);
            a.dealloc(q, Layout::from_size_align(2000, 8).unwrap());
        }
    })
    .unwrap();
    let records = decoded(&host.take_traces());
    let kinds: Vec<(&str, u64)> = records
        .iter()
        .filter_map(|r| match r {
            Rec::Alloc { size, frames, .. } | Rec::Free { size, frames, .. } => {
                assert!(frames.len() <= crate::abi::TRACE_MAX_FRAMES && frames.iter().all(|&f| f != 0));
                Some((if matches!(r, Rec::Alloc { .. }) { "alloc" } else { "free" }, *size))
            }
            _ => None,
        })
        .collect();
    assert_eq!(kinds, [("alloc", 1000), ("free", 1000), ("alloc", 2000), ("free", 2000)]);
}

#[test]
fn stack_walks_follow_the_chain_and_never_leave_the_stack() {
    // A fake stack: frames at words 2, 6 and 12, each [next fp, return address].
    let mut stack = vec![0usize; 32];
    let base = stack.as_ptr() as usize;
    let word = |i: usize| base + 8 * i;
    let (low, high) = (base, base + 8 * stack.len());
    stack[2] = word(6);
    stack[3] = 0x1111;
    stack[6] = word(12);
    stack[7] = 0x2222;
    stack[12] = 0;
    stack[13] = 0x3333;
    let mut frames = [0u64; crate::abi::TRACE_MAX_FRAMES];
    assert_eq!(walk_from(word(2), low, high, &mut frames), 3);
    assert_eq!(frames[..3], [0x1111, 0x2222, 0x3333]);
    assert_eq!(walk_from(word(2), low, word(8), &mut frames), 2, "stops at the end of the stack");
    assert_eq!(walk_from(word(2) + 4, low, high, &mut frames), 0, "misaligned");
    assert_eq!(walk_from(word(2), word(3), high, &mut frames), 0, "below the stack");
    assert_eq!(walk_from(0, 0, usize::MAX, &mut frames), 0, "null");
    stack[12] = word(6); // a loop
    assert_eq!(walk_from(word(2), low, high, &mut frames), 3, "frames must move up the stack");
    stack[12] = word(16);
    stack[16] = word(16) - 8;
    stack[17] = 0x4444;
    assert_eq!(walk_from(word(2), low, high, &mut frames), 4);
    stack[7] = 0;
    assert_eq!(walk_from(word(2), low, high, &mut frames), 1, "a null return address ends the stack");
    // A chain longer than TRACE_MAX_FRAMES.
    let mut long = vec![0usize; 2 * 100 + 2];
    let long_base = long.as_ptr() as usize;
    for i in 0..100 {
        long[2 * i] = long_base + 16 * (i + 1);
        long[2 * i + 1] = 0x1000 + i;
    }
    let end = long_base + 8 * long.len();
    assert_eq!(walk_from(long_base, long_base, end, &mut frames), crate::abi::TRACE_MAX_FRAMES);
}

// ---- the environment -------------------------------------------------------------

#[test]
fn the_traceparent_is_a_copy_of_the_hosts() {
    static SEEN: Mutex<Vec<Option<String>>> = Mutex::new(Vec::new());
    let mut host = FakeHost::new();
    let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    host.set_trace(Some(TraceSettings { traceparent: tp.into(), ..TraceSettings::default() }));
    host.init();
    let look = || SEEN.lock().unwrap().push(tr::traceparent().map(|t| t.to_string()));
    in_guest(&mut host, look).unwrap();
    host.set_trace(Some(TraceSettings { traceparent: "bad\u{7f}".into(), flags: ENABLED, ..TraceSettings::default() }));
    in_guest(&mut host, look).unwrap();
    host.set_trace(None);
    in_guest(&mut host, look).unwrap();
    assert_eq!(*SEEN.lock().unwrap(), [Some(tp.into()), None, None], "without flags too; never non-ASCII");
}

#[test]
fn a_bad_trace_area_or_header_turns_tracing_off_without_aborting() {
    let mut host = FakeHost::new();
    host.set_trace(Some(TraceSettings { level: 0, flags: ENABLED, ..TraceSettings::default() }));
    host.init();
    host.take_traces();
    let emit = || event!(LogLevel::Critical, "e");
    let (trace_gva, heap_gva) = {
        let mut v = (0, 0);
        host.edit_peb(|p| v = (p.trace_gva, p.heap_gva));
        v
    };
    for (what, gva, size) in [
        ("overlaps the heap", heap_gva, 16 * 1024),
        ("misaligned", trace_gva + 4, 8 * 1024),
        ("smaller than a header and a record", trace_gva, TRACE_HEADER_SIZE as u64 + 8),
        ("wraps around", u64::MAX - 100, 1000),
    ] {
        host.edit_peb(|p| (p.trace_gva, p.trace_size) = (gva, size));
        assert_eq!(in_guest(&mut host, emit), Ok(()), "{what}");
        assert!(host.take_traces().records.is_empty(), "{what}");
        host.edit_peb(|p| (p.trace_gva, p.trace_size) = (trace_gva, 16 * 1024));
    }
    for bad in [
        TraceSettings { level: 7, flags: ENABLED, ..TraceSettings::default() },
        TraceSettings { level: 0, flags: ENABLED, filter: vec![(9, "x".into())], ..TraceSettings::default() },
    ] {
        host.set_trace(Some(bad));
        assert_eq!(in_guest(&mut host, emit), Ok(()));
        assert!(host.take_traces().records.is_empty());
    }
    // A filter count that runs past the filter's space.
    host.set_trace(Some(TraceSettings {
        level: 0,
        flags: ENABLED,
        filter: vec![(0, "a".repeat(200)), (0, "b".repeat(200))],
        filter_count: Some(30),
        ..TraceSettings::default()
    }));
    in_guest(&mut host, emit).unwrap();
    assert!(host.take_traces().records.is_empty());
    host.set_trace(Some(TraceSettings { level: 0, flags: ENABLED, ..TraceSettings::default() }));
    in_guest(&mut host, emit).unwrap();
    assert_eq!(decoded(&host.take_traces()).len(), 2, "a good header again: RUN_START and the event");
}

#[test]
fn scribbled_counters_cost_a_flush_not_a_crash() {
    let mut host = traced(Sizes::default(), ENABLED, LogLevel::Trace);
    in_guest(&mut host, || {
        let (base, _) = tr::__private::trace_area().unwrap();
        // SAFETY: the area's `used` field, which the guest may write.
        unsafe { core::ptr::with_exposed_provenance_mut::<u32>(base).write(u32::MAX) };
        event!(LogLevel::Info, "after");
    })
    .unwrap();
    let drain = host.take_traces();
    assert_eq!((drain.flushes, drain.bad_batches), (1, 1), "the host dropped the scribbled batch");
    assert!(matches!(decoded(&drain)[..], [Rec::Event { .. }]), "RUN_START went down with the scribbled batch");
}
