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
    ABI_VERSION, PEB_MAGIC, PORT_ABORT, PORT_ABORT_CHUNK, PORT_CALL_HOST, PORT_DEBUG_PRINT, PORT_HALT, PORT_LOG_FLUSH,
    Peb,
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
}

impl Default for Sizes {
    fn default() -> Self {
        Self { input: 4096, output: 4096, heap: 64 * 1024, log: 4096 }
    }
}

/// A decoded log record: level, message, target, source file, line.
pub(crate) type Record = (u8, String, String, String, u32);

struct State {
    peb: Box<Peb>,
    input: Vec<u8>,
    output: Vec<u8>,
    log: Vec<u32>, // u32 for the 4-byte alignment records need
    _heap: Vec<u128>,
    _init_data: Vec<u8>,
    prints: Vec<String>,
    abort_message: String,
    host_functions: HashMap<String, HostFn>,
    host_calls: Vec<(String, Vec<Value>, u8)>,
    logs: Vec<Record>,
    log_flushes: usize,
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
        });
        let state = State {
            peb,
            input,
            output,
            log,
            _heap: heap,
            _init_data: init_data,
            prints: Vec::new(),
            abort_message: String::new(),
            host_functions: HashMap::new(),
            host_calls: Vec::new(),
            logs: Vec::new(),
            log_flushes: 0,
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
        match self.enter(crate::abi::OP_INIT as u64) {
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
        match self.enter(crate::abi::OP_CALL as u64) {
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
