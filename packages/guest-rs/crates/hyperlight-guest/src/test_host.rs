//! A fake host for unit tests. It lays out a PEB, buffers, heap and init data
//! in ordinary memory, enters the guest through `hyperlight_entry` on the
//! test thread, and plays the host's part of every `out` (which `exit::out32`
//! routes here under `cfg(test)`). Final exits (`HALT`, `ABORT`) unwind back
//! to [`FakeHost::enter`] with the outcome.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Mutex, MutexGuard};

use crate::abi::{
    ABI_VERSION, PEB_MAGIC, PORT_ABORT, PORT_ABORT_CHUNK, PORT_CALL_HOST, PORT_CLOCK, PORT_DEBUG_PRINT, PORT_HALT,
    PORT_LOG_FLUSH, PORT_TRACE_FLUSH, Peb, TRACE_FILTER_CAPACITY, TRACE_HEADER_SIZE, TRACE_OFFSET_FILTER,
    TRACE_OFFSET_FILTER_COUNT, TRACE_OFFSET_FLAGS, TRACE_OFFSET_LEVEL, TRACE_OFFSET_LOST, TRACE_OFFSET_TRACEPARENT,
    TRACE_OFFSET_TRACEPARENT_LENGTH, TRACE_OFFSET_USED, TRACE_RECORD_ALIGNMENT,
};
use crate::error::ErrorCode;
use crate::value::Value;
use crate::wire;

/// A host function of the fake host.
pub(crate) type HostFn = Box<dyn FnMut(Vec<Value>) -> Result<Value, (ErrorCode, String)>>;

/// How a run ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Exit {
    /// `HALT`, with the output frame's payload.
    Halt(Vec<u8>),
    /// `ABORT`, with the code and the whole message (all chunks).
    Abort { code: u32, message: String },
}

/// Buffer sizes of a fake sandbox, in bytes.
#[derive(Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) input: usize,
    pub(crate) output: usize,
    pub(crate) heap: usize,
    pub(crate) log: usize,
    /// The trace area (0: none).
    pub(crate) trace: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Self { input: 4096, output: 4096, heap: 64 * 1024, log: 4096, trace: 16 * 1024 }
    }
}

/// What the fake host writes into the trace area's header before each run.
#[derive(Clone, Debug, Default)]
pub(crate) struct TraceSettings {
    pub(crate) level: u8,
    pub(crate) flags: u8,
    /// (level, prefix) entries.
    pub(crate) filter: Vec<(u8, String)>,
    pub(crate) traceparent: String,
    /// A filter count to write instead of the number of entries.
    pub(crate) filter_count: Option<u8>,
}

/// What the fake host drained from the trace area.
#[derive(Clone, Debug, Default)]
pub(crate) struct TraceDrain {
    /// Every record, as the guest wrote it (without padding), in order.
    pub(crate) records: Vec<Vec<u8>>,
    /// The sum of every drain's `lost`.
    pub(crate) lost: u64,
    /// `TRACE_FLUSH` exits.
    pub(crate) flushes: usize,
    /// Drains whose `used` overran the area (dropped, as the host drops them).
    pub(crate) bad_batches: usize,
}

/// A decoded log record: level, message, target, source file, line.
pub(crate) type Record = (u8, String, String, String, u32);

struct State {
    peb: Box<Peb>,
    input: Vec<u8>,
    output: Vec<u8>,
    log: Vec<u32>,   // u32 for the 4-byte alignment records need
    trace: Vec<u64>, // u64 for the 8-byte alignment of the trace area
    trace_settings: Option<TraceSettings>,
    /// Whether a TRACE_FLUSH drains the area (a broken host does not).
    drain_on_trace_flush: bool,
    traces: TraceDrain,
    _heap: Vec<u128>,
    _init_data: Vec<u8>,
    prints: Vec<String>,
    abort_message: String,
    host_functions: HashMap<String, HostFn>,
    host_calls: Vec<(String, Vec<Value>, u8)>,
    logs: Vec<Record>,
    log_flushes: usize,
    /// Answers `CLOCK` exits: id -> nanoseconds.
    clock: Box<dyn FnMut(u32) -> u64>,
    /// The id of every `CLOCK` exit so far.
    clock_reads: Vec<u32>,
}

impl State {
    /// Decodes every record in the log area and empties it, as the host
    /// does on every exit.
    fn drain_log(&mut self) {
        // SAFETY: plain bytes of the Vec<u32>.
        let bytes = unsafe { core::slice::from_raw_parts_mut(self.log.as_mut_ptr().cast::<u8>(), self.log.len() * 4) };
        if bytes.len() < 8 {
            return;
        }
        let used = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert!(4 + used <= bytes.len(), "log header claims {used} bytes");
        let mut at = 4;
        while at < 4 + used {
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            self.logs.push(wire::decode_log_record(&bytes[at + 4..at + 4 + len]).expect("LogRecord decodes"));
            at += (4 + len + 3) & !3;
        }
        assert_eq!(at, 4 + used, "records fill exactly U bytes");
        bytes[..4].fill(0);
    }

    /// The trace area's bytes.
    fn trace_bytes(&mut self) -> &mut [u8] {
        // SAFETY: plain bytes of the Vec<u64>.
        unsafe { core::slice::from_raw_parts_mut(self.trace.as_mut_ptr().cast::<u8>(), self.trace.len() * 8) }
    }

    /// Copies out every record in the trace area and resets `used` and
    /// `lost`, as the host does on every exit. Checks what a host checks
    /// of the framing: sizes within bounds, records inside `used`, aligned.
    fn drain_trace(&mut self) {
        if self.trace.is_empty() {
            return;
        }
        let bytes = self.trace_bytes();
        let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let used = u32_at(bytes, TRACE_OFFSET_USED);
        let lost = u32_at(bytes, TRACE_OFFSET_LOST);
        if TRACE_HEADER_SIZE + used > bytes.len() {
            bytes[..8].fill(0);
            self.traces.bad_batches += 1;
            return;
        }
        let records = &bytes[TRACE_HEADER_SIZE..TRACE_HEADER_SIZE + used];
        let mut found = Vec::new();
        let mut at = 0;
        while at < used {
            let size = u16::from_le_bytes([records[at + 2], records[at + 3]]) as usize;
            assert!(
                (16..=crate::abi::TRACE_MAX_RECORD_SIZE).contains(&size) && at + size <= used,
                "record size {size}"
            );
            let padded = (size + TRACE_RECORD_ALIGNMENT - 1) & !(TRACE_RECORD_ALIGNMENT - 1);
            assert!(records[at + size..at + padded].iter().all(|&b| b == 0), "padding is zero");
            found.push(records[at..at + size].to_vec());
            at += padded;
        }
        assert_eq!(at, used, "records fill exactly `used` bytes");
        bytes[..8].fill(0);
        self.traces.records.extend(found);
        self.traces.lost += lost as u64;
    }

    /// Writes the trace settings into the header (or zeroes it when there
    /// are none), as the host does before every run.
    fn write_trace_header(&mut self) {
        let settings = self.trace_settings.clone();
        let bytes = self.trace_bytes();
        if bytes.is_empty() {
            return;
        }
        bytes[..TRACE_HEADER_SIZE].fill(0);
        let Some(t) = settings else { return };
        bytes[TRACE_OFFSET_LEVEL] = t.level;
        bytes[TRACE_OFFSET_FLAGS] = t.flags;
        bytes[TRACE_OFFSET_FILTER_COUNT] = t.filter_count.unwrap_or(t.filter.len() as u8);
        bytes[TRACE_OFFSET_TRACEPARENT_LENGTH] = t.traceparent.len() as u8;
        bytes[TRACE_OFFSET_TRACEPARENT..TRACE_OFFSET_TRACEPARENT + t.traceparent.len()]
            .copy_from_slice(t.traceparent.as_bytes());
        let mut at = TRACE_OFFSET_FILTER;
        for (level, prefix) in &t.filter {
            assert!(at + 2 + prefix.len() <= TRACE_OFFSET_FILTER + TRACE_FILTER_CAPACITY, "filter fits");
            bytes[at] = *level;
            bytes[at + 1] = prefix.len() as u8;
            bytes[at + 2..at + 2 + prefix.len()].copy_from_slice(prefix.as_bytes());
            at += 2 + prefix.len();
        }
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runtime globals are per process; tests that enter the guest take turns.
static LOCK: Mutex<()> = Mutex::new(());

/// A fresh fake sandbox. Only one exists at a time (it holds a global lock).
pub(crate) struct FakeHost {
    _guard: MutexGuard<'static, ()>,
}

impl FakeHost {
    /// A sandbox with default sizes and no init data.
    pub(crate) fn new() -> Self {
        Self::with(Sizes::default(), Vec::new())
    }

    /// A sandbox with the given sizes and init data.
    pub(crate) fn with(sizes: Sizes, init_data: Vec<u8>) -> Self {
        let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        crate::entry::reset();
        let input = vec![0u8; sizes.input];
        let output = vec![0u8; sizes.output];
        let heap = vec![0u128; sizes.heap / 16];
        let log = vec![0u32; sizes.log / 4];
        let trace = vec![0u64; sizes.trace / 8];
        let addr = |v: &[u8]| if v.is_empty() { 0 } else { v.as_ptr() as u64 };
        let peb = Box::new(Peb {
            magic: PEB_MAGIC,
            abi_version: ABI_VERSION as u64,
            input_gva: addr(&input),
            input_size: input.len() as u64,
            output_gva: addr(&output),
            output_size: output.len() as u64,
            heap_gva: heap.as_ptr() as u64,
            heap_size: sizes.heap as u64,
            stack_gva: 0,
            stack_size: 0,
            init_data_gva: addr(&init_data),
            init_data_size: init_data.len() as u64,
            log_gva: if log.is_empty() { 0 } else { log.as_ptr() as u64 },
            log_size: sizes.log as u64,
            max_log_level: 0,
            image_gva: 0,
            image_size: 0,
            trace_gva: if trace.is_empty() { 0 } else { trace.as_ptr() as u64 },
            trace_size: sizes.trace as u64,
            clock_ns: 0,
        });
        let state = State {
            peb,
            input,
            output,
            log,
            trace,
            trace_settings: None,
            drain_on_trace_flush: true,
            traces: TraceDrain::default(),
            _heap: heap,
            _init_data: init_data,
            prints: Vec::new(),
            abort_message: String::new(),
            host_functions: HashMap::new(),
            host_calls: Vec::new(),
            logs: Vec::new(),
            log_flushes: 0,
            clock: Box::new(|_| 0),
            clock_reads: Vec::new(),
        };
        STATE.with(|s| *s.borrow_mut() = Some(state));
        Self { _guard: guard }
    }

    fn state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        STATE.with(|s| f(s.borrow_mut().as_mut().expect("fake host state")))
    }

    /// Registers a host function.
    pub(crate) fn register(
        &mut self,
        name: &str,
        f: impl FnMut(Vec<Value>) -> Result<Value, (ErrorCode, String)> + 'static,
    ) {
        self.state(|s| s.host_functions.insert(name.into(), Box::new(f)));
    }

    /// Changes the PEB before the next entry.
    pub(crate) fn edit_peb(&mut self, f: impl FnOnce(&mut Peb)) {
        self.state(|s| f(&mut s.peb));
    }

    /// Every `DEBUG_PRINT` frame so far.
    pub(crate) fn prints(&self) -> Vec<String> {
        self.state(|s| s.prints.clone())
    }

    /// Every log record so far, and how many `LOG_FLUSH` exits there were.
    pub(crate) fn logs(&self) -> (Vec<Record>, usize) {
        self.state(|s| (s.logs.clone(), s.log_flushes))
    }

    /// Sets what the host writes into the trace area's header before each
    /// run (`None`: a zeroed header, as a host without tracing leaves it).
    pub(crate) fn set_trace(&mut self, settings: Option<TraceSettings>) {
        self.state(|s| s.trace_settings = settings);
    }

    /// Makes `TRACE_FLUSH` exits drain the area (the default) or not.
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    pub(crate) fn drain_on_trace_flush(&mut self, drain: bool) {
        self.state(|s| s.drain_on_trace_flush = drain);
    }

    /// Takes what was drained from the trace area so far.
    pub(crate) fn take_traces(&mut self) -> TraceDrain {
        self.state(|s| std::mem::take(&mut s.traces))
    }

    /// Runs `f` on the trace area's bytes between runs.
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    pub(crate) fn edit_trace_area(&mut self, f: impl FnOnce(&mut [u8])) {
        self.state(|s| f(s.trace_bytes()));
    }

    /// Sets how `CLOCK` exits are answered (default: 0 for every clock).
    pub(crate) fn set_clock(&mut self, clock: impl FnMut(u32) -> u64 + 'static) {
        self.state(|s| s.clock = Box::new(clock));
    }

    /// The id of every `CLOCK` exit so far.
    pub(crate) fn clock_reads(&self) -> Vec<u32> {
        self.state(|s| s.clock_reads.clone())
    }

    /// Every host call so far: name, arguments, requested return type.
    pub(crate) fn host_calls(&self) -> Vec<(String, Vec<Value>, u8)> {
        self.state(|s| s.host_calls.clone())
    }

    /// Writes `payload` as the frame in the input buffer.
    pub(crate) fn write_input(&mut self, payload: &[u8]) {
        self.state(|s| {
            s.input[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
            s.input[4..4 + payload.len()].copy_from_slice(payload);
        });
    }

    /// Writes raw bytes at the start of the input buffer.
    pub(crate) fn write_input_raw(&mut self, bytes: &[u8]) {
        self.state(|s| s.input[..bytes.len()].copy_from_slice(bytes));
    }

    /// Runs the guest with operation `op` until it halts or aborts.
    pub(crate) fn enter(&mut self, op: u64) -> Exit {
        let peb: *const Peb = self.state(|s| {
            s.abort_message.clear();
            s.write_trace_header();
            &*s.peb as *const Peb
        });
        // SAFETY: the PEB and everything it points at live in STATE, which
        // outlives the call; on_out only touches buffers while the guest is
        // inside `out32` (as a real host would).
        let unwound = catch_unwind(AssertUnwindSafe(|| unsafe { crate::entry::hyperlight_entry(peb, op) }));
        let Err(payload) = unwound;
        match payload.downcast::<Exit>() {
            Ok(exit) => *exit,
            Err(other) => resume_unwind(other),
        }
    }

    /// `OP_INIT`; returns the published (name, parameter tags, return tag) list.
    pub(crate) fn init(&mut self) -> Vec<(String, Vec<u8>, u8)> {
        match self.enter(crate::abi::OP_INIT) {
            Exit::Halt(payload) => wire::decode_guest_function_details(&payload).expect("GuestFunctionDetails"),
            other => panic!("init failed: {other:?}"),
        }
    }

    /// Calls guest function `name`; `return_type` 0 means "don't check".
    pub(crate) fn call(
        &mut self,
        name: &str,
        args: &[Value],
        return_type: u8,
    ) -> Result<Result<Value, (u32, String)>, Exit> {
        let mut frame = vec![0u8; 64 * 1024];
        let len = wire::encode_function_call(&mut frame, name, args, return_type).expect("call fits");
        self.write_input(&frame[4..len]);
        match self.enter(crate::abi::OP_CALL) {
            Exit::Halt(payload) => Ok(wire::decode_function_call_result(&payload).expect("FunctionCallResult")),
            abort => Err(abort),
        }
    }
}

/// The host side of `out`.
pub(crate) fn on_out(port: u16, value: u32) {
    let final_exit = STATE.with(|s| {
        let mut guard = s.borrow_mut();
        let s = guard.as_mut().expect("out without a fake host");
        s.drain_log();
        if port != PORT_TRACE_FLUSH || s.drain_on_trace_flush {
            s.drain_trace();
        }
        let text = |buf: &[u8]| {
            let len = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
            assert!(4 + len <= buf.len(), "text frame overruns the output buffer");
            String::from_utf8(buf[4..4 + len].to_vec()).expect("text frames are whole UTF-8")
        };
        match port {
            PORT_HALT => {
                let len = u32::from_le_bytes(s.output[..4].try_into().unwrap()) as usize;
                Some(Exit::Halt(s.output[4..4 + len].to_vec()))
            }
            PORT_ABORT => {
                let rest = text(&s.output);
                s.abort_message.push_str(&rest);
                Some(Exit::Abort { code: value, message: std::mem::take(&mut s.abort_message) })
            }
            PORT_ABORT_CHUNK => {
                let chunk = text(&s.output);
                s.abort_message.push_str(&chunk);
                None
            }
            PORT_LOG_FLUSH => {
                s.log_flushes += 1;
                None
            }
            PORT_TRACE_FLUSH => {
                s.traces.flushes += 1;
                None
            }
            PORT_CLOCK => {
                s.clock_reads.push(value);
                s.peb.clock_ns = (s.clock)(value);
                None
            }
            PORT_DEBUG_PRINT => {
                let t = text(&s.output);
                s.prints.push(t);
                None
            }
            PORT_CALL_HOST => {
                let len = u32::from_le_bytes(s.output[..4].try_into().unwrap()) as usize;
                let (name, args, ret) = wire::decode_function_call(&s.output[4..4 + len]).expect("host call decodes");
                s.host_calls.push((name.clone(), args.clone(), ret));
                let outcome = match s.host_functions.get_mut(&name) {
                    Some(f) => f(args),
                    None => {
                        Err((ErrorCode::HostFunctionNotFound, format!("host function \"{name}\" is not registered")))
                    }
                };
                let input = &mut s.input;
                let written = match &outcome {
                    Ok(v) => wire::encode_function_call_result(input, Ok(v)),
                    Err((code, message)) => wire::encode_function_call_result(input, Err((*code, message))),
                };
                written.expect("reply fits the input buffer");
                None
            }
            other => panic!("guest wrote to unexpected port {other:#x}"),
        }
    });
    if let Some(exit) = final_exit {
        resume_unwind(Box::new(exit));
    }
}
