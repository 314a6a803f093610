//! End-to-end tests of the runtime: guest functions declared with the real
//! macros, entered through `hyperlight_entry` by the fake host.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::{ABORT_CODE_BAD_ENVIRONMENT, OP_CALL, OP_INIT};
use crate::prelude::*;
use crate::{Args, RegistrationError, register_function};
use crate::test_host::{Exit, FakeHost, Sizes};

const BAD_ENVIRONMENT: u32 = ABORT_CODE_BAD_ENVIRONMENT;

#[guest_function("Echo")]
fn echo(s: String) -> String {
    s
}

#[guest_function("Add")]
fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

/// Exported under its Rust name.
#[guest_function]
fn nothing() {}

#[guest_function("Fail")]
fn fail(message: String) -> Result<i32> {
    Err(GuestError::new(message))
}

#[guest_function("AllTypes")]
#[allow(clippy::too_many_arguments)]
fn all_types(
    a: i32,
    b: u32,
    c: i64,
    d: u64,
    e: f32,
    f: f64,
    g: String,
    h: bool,
    mut i: Vec<u8>,
    j: i32,
    k: String,
) -> String {
    i.push(0);
    format!("{a} {b} {c} {d} {e} {f} {g} {h} {i:?} {j} {k}")
}

static COUNT: AtomicU64 = AtomicU64::new(0);

#[guest_function("Counter")]
fn counter() -> u64 {
    COUNT.fetch_add(1, Ordering::Relaxed) + 1
}

#[host_function("HostAdd")]
fn host_add(a: i32, b: i32) -> Result<i32, HostError>;

#[host_function("HostGreet")]
pub(crate) fn host_greet(name: &str, excited: bool) -> String;

#[host_function]
fn host_void() -> Result<(), HostError>;

#[guest_function("CallHostAdd")]
fn call_host_add(a: i32, b: i32) -> Result<i32> {
    Ok(host_add(a, b)?)
}

#[guest_function("CallHostGreet")]
fn call_host_greet(name: String) -> String {
    host_greet(&name, true)
}

#[guest_function("CallHostVoid")]
fn call_host_void() -> Result<()> {
    Ok(host_void()?)
}

#[guest_function("CallDynamic")]
fn call_dynamic(function: String, size: u32) -> Result<u32> {
    let bytes: Vec<u8> = call_host(&function, &[Value::Bytes(vec![7; size as usize])])?;
    Ok(bytes.len() as u32)
}

#[guest_function("Print")]
fn print_it(text: String) -> u32 {
    crate::print!("{text}");
    text.len() as u32
}

#[guest_function("BigResult")]
fn big_result(size: u32) -> Vec<u8> {
    vec![1; size as usize]
}

#[guest_function("InitData")]
fn init_data() -> Vec<u8> {
    crate::init_data().to_vec()
}

#[guest_function("Log")]
fn log_it(level: u32, message: String, count: u32) {
    let level = LogLevel::from_u8(level as u8).expect("a level");
    for i in 0..count {
        crate::log!(target: "guest", level, "{message} #{i}");
    }
}

#[guest_function("Abort")]
fn abort_now(code: u32, message: String) {
    abort(code, &message)
}

// ---- the initialisation hook -------------------------------------------------

/// What the `#[guest_init]` hook below saw on its latest run.
#[derive(Clone, Debug, Default, PartialEq)]
struct InitObservation {
    /// Runs so far (over every fake sandbox of the process).
    runs: u64,
    /// Whether the guest allocator handed out a block.
    heap_ready: bool,
    /// The init data it read.
    init_data: Vec<u8>,
    /// What `HostAdd(20, 22)` returned, when the init data asked for it.
    host_add: Option<core::result::Result<i32, (ErrorCode, String)>>,
}

static INIT_SEEN: std::sync::Mutex<Option<InitObservation>> = std::sync::Mutex::new(None);

fn init_seen() -> InitObservation {
    INIT_SEEN.lock().unwrap().clone().unwrap_or_default()
}

/// The hook of this test binary, so every `FakeHost::init()` runs it. It
/// records what it saw and, for init data starting with `init:`, does what
/// the rest says: `print`, `host`, `log`, `abort`.
#[guest_init]
fn record_init() {
    use core::alloc::{GlobalAlloc, Layout};
    let layout = Layout::from_size_align(64, 16).unwrap();
    // SAFETY: a non-zero-size layout; the block is freed at once.
    let heap_ready = unsafe {
        let block = crate::heap::ALLOCATOR.alloc(layout);
        let ready = !block.is_null();
        if ready {
            crate::heap::ALLOCATOR.dealloc(block, layout);
        }
        ready
    };
    let data = crate::init_data();
    let actions = data.strip_prefix(b"init:").unwrap_or_default();
    let has = |word: &[u8]| actions.split(|&b| b == b',').any(|a| a == word);
    let host_add = has(b"host").then(|| host_add(20, 22).map_err(|e| (e.code, e.message)));
    let mut seen = INIT_SEEN.lock().unwrap();
    let runs = seen.as_ref().map_or(0, |s| s.runs) + 1;
    *seen = Some(InitObservation { runs, heap_ready, init_data: data.to_vec(), host_add });
    drop(seen);
    if has(b"print") {
        crate::print!("hello from init");
    }
    if has(b"log") {
        crate::warn!(target: "init", "initialising");
    }
    if has(b"register") {
        register_runtime_functions();
    }
    if has(b"abort") {
        abort(77, "init refused");
    }
}

/// Registers functions at run time, as the C API does from `hyperlight_main`.
fn register_runtime_functions() {
    let scale = |factor: i64| {
        move |args: Args| match args.into_values().as_slice() {
            [Value::I64(n)] => Ok(Value::I64(n * factor)),
            other => Err(GuestError::new(format!("unexpected arguments {other:?}"))),
        }
    };
    register_function("Double", &[ValueType::I64], ValueType::I64, scale(2)).expect("Double");
    register_function("Triple", &[ValueType::I64], ValueType::I64, scale(3)).expect("Triple");
    register_function("Liar", &[], ValueType::String, |_| Ok(Value::I32(1))).expect("Liar");
    let refused = [
        register_function("Echo", &[], ValueType::Void, |_| Ok(Value::Void)),
        register_function("Double", &[], ValueType::Void, |_| Ok(Value::Void)),
        register_function("", &[], ValueType::Void, |_| Ok(Value::Void)),
        register_function("V", &[ValueType::I32, ValueType::Void], ValueType::Void, |_| Ok(Value::Void)),
        register_function("Many", &[ValueType::I32; 12], ValueType::Void, |_| Ok(Value::Void)),
    ];
    assert_eq!(
        refused.map(|r| r.unwrap_err()),
        [
            RegistrationError::Duplicate,
            RegistrationError::Duplicate,
            RegistrationError::EmptyName,
            RegistrationError::VoidParameter(1),
            RegistrationError::TooManyParameters(12),
        ]
    );
}

#[test]
fn unusable_log_areas_and_log_levels_are_refused() {
    // Logs the host asked for would be lost; an empty log area turns logging off.
    let mut host = FakeHost::new();
    host.init();
    let mut log = (0, 0);
    host.edit_peb(|p| log = (p.log_gva, p.log_size));
    for (gva, size) in [(log.0, 4), (log.0 + 2, 64)] {
        host.edit_peb(|p| (p.log_gva, p.log_size) = (gva, size));
        let exit = host.enter(OP_CALL);
        assert!(
            matches!(&exit, Exit::Abort { code: BAD_ENVIRONMENT, message } if message.starts_with("invalid log area")),
            "{exit:?}"
        );
    }
    host.edit_peb(|p| (p.log_gva, p.log_size, p.max_log_level) = (log.0, log.1, 7));
    assert_eq!(
        host.enter(OP_CALL),
        Exit::Abort { code: BAD_ENVIRONMENT, message: "invalid max_log_level 7 in the PEB (at most 6)".into() }
    );
    host.edit_peb(|p| (p.log_gva, p.log_size, p.max_log_level) = (0, 0, 0));
    assert_eq!(host.call("Add", &[Value::I32(1), Value::I32(2)], 0), Ok(Ok(Value::I32(3))));
}

#[test]
fn functions_registered_at_run_time_are_published_and_called() {
    let mut host = FakeHost::with(Sizes::default(), b"init:register".to_vec());
    let functions = host.init();
    assert_eq!(signature(&functions, "Double"), Some(&("Double".into(), vec![3], 3)));
    assert!(signature(&functions, "Echo").is_some(), "link-section functions stay");
    assert_eq!(host.call("Double", &[Value::I64(21)], 3), Ok(Ok(Value::I64(42))));
    assert_eq!(host.call("Triple", &[Value::I64(-3)], 0), Ok(Ok(Value::I64(-9))));
    assert_eq!(error_of(host.call("Triple", &[Value::I32(1)], 0)).0, ErrorCode::WrongArgumentType);
    assert_eq!(
        host.call("Liar", &[], 0),
        Err(Exit::Abort {
            code: crate::abi::ABORT_CODE_PANIC,
            message: "function \"Liar\" is declared to return string but its handler returned i32".into()
        })
    );
}

#[test]
fn functions_cannot_be_registered_after_init() {
    let mut host = FakeHost::new();
    host.init();
    let late = register_function("Late", &[], ValueType::Void, |_| Ok(Value::Void));
    assert_eq!(late, Err(RegistrationError::NotInitialising));
    assert!(host.call("Late", &[], 0).unwrap().is_err());
}

#[test]
fn the_init_hook_runs_once_during_op_init_with_the_heap_ready() {
    let mut host = FakeHost::with(Sizes::default(), b"plain".to_vec());
    let before = init_seen().runs;
    let functions = host.init();
    assert!(signature(&functions, "Echo").is_some(), "the table is published after the hook");
    let seen = init_seen();
    assert_eq!(seen.runs, before + 1);
    assert!(seen.heap_ready, "the guest heap is ready before the hook runs");
    assert_eq!(seen.init_data, b"plain", "the hook sees the init data");
    assert_eq!(seen.host_add, None);
    assert_eq!(host.call("Echo", &["x".into()], 7), Ok(Ok("x".into())));
    assert_eq!(host.call("Counter", &[], 4).map(|r| r.is_ok()), Ok(true));
    assert_eq!(init_seen().runs, before + 1, "calls do not run the hook again");
    assert!(host.prints().is_empty() && host.host_calls().is_empty());
}

#[test]
fn the_init_hook_can_print_log_and_call_the_host() {
    let mut host = FakeHost::with(Sizes::default(), b"init:print,host,log".to_vec());
    host.edit_peb(|p| p.max_log_level = LogLevel::Info as u64);
    host.register("HostAdd", |args| match args.as_slice() {
        [Value::I32(a), Value::I32(b)] => Ok(Value::I32(a + b)),
        _ => Err((ErrorCode::HostFunctionFailed, "bad arguments".into())),
    });
    host.init();
    assert_eq!(init_seen().host_add, Some(Ok(42)));
    assert_eq!(host.host_calls(), vec![("HostAdd".into(), vec![Value::I32(20), Value::I32(22)], 1)]);
    assert_eq!(host.prints(), vec!["hello from init"]);
    let (logs, _) = host.logs();
    assert_eq!(
        logs.iter().map(|r| (r.0, r.1.as_str(), r.2.as_str())).collect::<Vec<_>>(),
        vec![(3, "initialising", "init")]
    );
}

#[test]
fn host_errors_reach_the_init_hook() {
    let mut host = FakeHost::with(Sizes::default(), b"init:host".to_vec());
    host.init();
    assert_eq!(
        init_seen().host_add,
        Some(Err((ErrorCode::HostFunctionNotFound, "host function \"HostAdd\" is not registered".into())))
    );
}

#[test]
fn an_abort_in_the_init_hook_fails_init_and_publishes_nothing() {
    let mut host = FakeHost::with(Sizes::default(), b"init:abort".to_vec());
    assert_eq!(host.enter(OP_INIT), Exit::Abort { code: 77, message: "init refused".into() });
    assert_eq!(
        host.enter(OP_CALL),
        Exit::Abort { code: BAD_ENVIRONMENT, message: "OP_CALL before OP_INIT; the guest is not initialised".into() },
        "a guest whose hook aborted is not initialised"
    );
}

#[test]
fn a_guest_has_at_most_one_init_hook() {
    use crate::init::{GuestInitRegistration, select};
    fn noop() {}
    static NONE: [GuestInitRegistration; 1] = [GuestInitRegistration { rust_name: "", run: noop }];
    static ONE: [GuestInitRegistration; 2] =
        [GuestInitRegistration { rust_name: "", run: noop }, GuestInitRegistration { rust_name: "setup", run: noop }];
    static TWO: [GuestInitRegistration; 3] = [
        GuestInitRegistration { rust_name: "first", run: noop },
        GuestInitRegistration { rust_name: "", run: noop },
        GuestInitRegistration { rust_name: "second", run: noop },
    ];
    assert!(matches!(select(&NONE), Ok(None)), "the sentinel is not a hook");
    assert!(matches!(select(&ONE), Ok(Some(hook)) if hook.rust_name == "setup"));
    assert!(matches!(select(&TWO), Err([a, b]) if a.rust_name == "first" && b.rust_name == "second"));
}

fn signature<'a>(functions: &'a [(String, Vec<u8>, u8)], name: &str) -> Option<&'a (String, Vec<u8>, u8)> {
    functions.iter().find(|f| f.0 == name)
}

fn error_of(r: Result<core::result::Result<Value, (u32, String)>, Exit>) -> (ErrorCode, String) {
    match r {
        Ok(Err((code, message))) => (ErrorCode::from_u32(code).expect("known code"), message),
        other => panic!("expected a CallError, got {other:?}"),
    }
}

#[test]
fn init_publishes_every_signature() {
    let mut host = FakeHost::new();
    let functions = host.init();
    assert_eq!(signature(&functions, "Echo"), Some(&("Echo".into(), vec![7], 7)));
    assert_eq!(signature(&functions, "Add"), Some(&("Add".into(), vec![1, 1], 1)));
    assert_eq!(signature(&functions, "nothing"), Some(&("nothing".into(), vec![], 10)));
    assert_eq!(signature(&functions, "Fail").map(|f| f.2), Some(1), "Result<i32> publishes I32");
    assert_eq!(signature(&functions, "AllTypes").map(|f| f.1.clone()), Some(vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 7]));
    assert!(signature(&functions, "").is_none(), "the sentinel is not published");
}

#[test]
fn the_entry_rejects_bad_environments() {
    let mut host = FakeHost::new();
    assert_eq!(
        host.enter(OP_CALL),
        Exit::Abort { code: BAD_ENVIRONMENT, message: "OP_CALL before OP_INIT; the guest is not initialised".into() }
    );
    host.init();
    assert!(matches!(host.enter(OP_INIT), Exit::Abort { code: BAD_ENVIRONMENT, message } if message.contains("twice")));
    assert!(
        matches!(host.enter(7), Exit::Abort { code: BAD_ENVIRONMENT, message } if message.contains("unknown entry operation 7"))
    );

    host.edit_peb(|p| p.abi_version = 99);
    assert_eq!(
        host.enter(OP_CALL),
        Exit::Abort {
            code: BAD_ENVIRONMENT,
            message: format!(
                "the guest was built for hyperlight ABI version {} but the host speaks version 99",
                crate::abi::ABI_VERSION
            )
        }
    );
    host.edit_peb(|p| {
        p.abi_version = crate::abi::ABI_VERSION as u64;
        p.input_gva = p.output_gva;
    });
    assert!(
        matches!(host.enter(OP_CALL), Exit::Abort { code: BAD_ENVIRONMENT, message } if message.contains("overlap"))
    );
    host.edit_peb(|p| p.magic = 0);
    // No message: with a bad magic nothing in the PEB can be trusted.
    assert!(matches!(host.enter(OP_CALL), Exit::Abort { code: BAD_ENVIRONMENT, .. }));
}

#[test]
fn calls_run_and_return_every_type() {
    let mut host = FakeHost::new();
    host.init();
    assert_eq!(host.call("Echo", &["hi".into()], 7), Ok(Ok("hi".into())));
    assert_eq!(host.call("Add", &[Value::I32(i32::MAX), Value::I32(1)], 1), Ok(Ok(Value::I32(i32::MIN))));
    assert_eq!(host.call("nothing", &[], 10), Ok(Ok(Value::Void)));
    let args = [
        Value::I32(-1),
        Value::U32(2),
        Value::I64(-3),
        Value::U64(4),
        Value::F32(0.5),
        Value::F64(-0.25),
        "s".into(),
        Value::Bool(true),
        Value::Bytes(vec![9]),
        Value::I32(10),
        "k".into(),
    ];
    assert_eq!(host.call("AllTypes", &args, 7), Ok(Ok("-1 2 -3 4 0.5 -0.25 s true [9, 0] 10 k".into())));
    assert_eq!(
        host.call("Echo", &["no check".into()], 0),
        Ok(Ok("no check".into())),
        "return type None skips the check"
    );
}

#[test]
fn state_persists_across_calls() {
    let mut host = FakeHost::new();
    host.init();
    let Ok(Ok(Value::U64(first))) = host.call("Counter", &[], 4) else { panic!() };
    assert_eq!(host.call("Counter", &[], 4), Ok(Ok(Value::U64(first + 1))));
}

#[test]
fn bad_calls_get_clear_errors() {
    let mut host = FakeHost::new();
    host.init();
    assert_eq!(
        error_of(host.call("Nope", &[], 10)),
        (ErrorCode::FunctionNotFound, "guest function \"Nope\" does not exist".into())
    );
    assert_eq!(
        error_of(host.call("Echo", &["a".into(), "b".into()], 7)),
        (ErrorCode::WrongArgumentCount, "function \"Echo\" takes 1 argument but was called with 2".into())
    );
    assert_eq!(
        error_of(host.call("Add", &[Value::I32(1)], 1)),
        (ErrorCode::WrongArgumentCount, "function \"Add\" takes 2 arguments but was called with 1".into())
    );
    assert_eq!(
        error_of(host.call("Add", &[Value::I32(1), Value::U32(2)], 1)),
        (ErrorCode::WrongArgumentType, "argument 1 of function \"Add\" must be i32, got u32".into())
    );
    assert_eq!(
        error_of(host.call("Echo", &["a".into()], 1)),
        (ErrorCode::WrongReturnType, "function \"Echo\" returns string but the caller expected i32".into())
    );
    assert_eq!(error_of(host.call("Fail", &["nope".into()], 1)), (ErrorCode::GuestFunctionFailed, "nope".into()));
}

#[test]
fn malformed_input_is_reported_not_trusted() {
    let mut host = FakeHost::new();
    host.init();
    host.write_input_raw(&u32::MAX.to_le_bytes());
    let (code, message) = error_of(host.enter(OP_CALL).halt_result());
    assert_eq!(code, ErrorCode::MalformedMessage);
    assert_eq!(message, "the input frame claims 4294967295 payload bytes but the input buffer holds 4096");
    host.write_input(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let (code, message) = error_of(host.enter(OP_CALL).halt_result());
    assert_eq!(code, ErrorCode::MalformedMessage);
    assert!(message.starts_with("malformed FunctionCall: "), "{message}");
}

#[test]
fn host_calls_round_trip_and_propagate_failures() {
    let mut host = FakeHost::new();
    host.register("HostAdd", |args| match args.as_slice() {
        [Value::I32(a), Value::I32(b)] => Ok(Value::I32(a + b)),
        _ => Err((ErrorCode::HostFunctionFailed, "bad arguments".into())),
    });
    host.register("HostGreet", |args| Ok(Value::String(format!("hello {:?}", args))));
    host.register("host_void", |_| Ok(Value::Void));
    host.register("Echo", |mut args| Ok(args.remove(0)));
    host.init();

    assert_eq!(host.call("CallHostAdd", &[Value::I32(2), Value::I32(3)], 1), Ok(Ok(Value::I32(5))));
    assert_eq!(host.host_calls().last().unwrap(), &("HostAdd".into(), vec![Value::I32(2), Value::I32(3)], 1));
    assert_eq!(host.call("CallHostGreet", &["x".into()], 7), Ok(Ok("hello [String(\"x\"), Bool(true)]".into())));
    assert_eq!(host.call("CallHostVoid", &[], 10), Ok(Ok(Value::Void)));
    assert_eq!(host.host_calls().last().unwrap().2, 10, "asks for Void");

    host.register("HostAdd", |_| Err((ErrorCode::HostFunctionFailed, "host threw: boom".into())));
    assert_eq!(
        error_of(host.call("CallHostAdd", &[Value::I32(2), Value::I32(3)], 1)),
        (ErrorCode::HostFunctionFailed, "host threw: boom".into()),
        "the host's code and message pass through `?`"
    );
    host.register("HostAdd", |_| Ok(Value::String("not a number".into())));
    assert_eq!(
        error_of(host.call("CallHostAdd", &[Value::I32(2), Value::I32(3)], 1)),
        (ErrorCode::WrongReturnType, "host function \"HostAdd\" returned string but i32 was expected".into())
    );
    assert_eq!(
        error_of(host.call("CallDynamic", &["Missing".into(), Value::U32(1)], 2)),
        (ErrorCode::HostFunctionNotFound, "host function \"Missing\" is not registered".into())
    );
    assert_eq!(host.call("CallDynamic", &["Echo".into(), Value::U32(100)], 2), Ok(Ok(Value::U32(100))));
    let (code, message) = error_of(host.call("CallDynamic", &["Echo".into(), Value::U32(5000)], 2));
    assert_eq!(code, ErrorCode::MessageTooLarge);
    assert!(message.ends_with("bytes but the output buffer holds 4096"), "{message}");
}

#[test]
fn prints_are_chunked_at_character_boundaries() {
    let mut host = FakeHost::new();
    host.init();
    assert_eq!(host.call("Print", &["hello".into()], 2), Ok(Ok(Value::U32(5))));
    assert_eq!(host.prints(), vec!["hello"]);

    // 60-byte payloads: just enough for the call's result.
    host.edit_peb(|p| p.output_size = 4 + 60);
    let text = "añb€c😀d".repeat(10);
    assert_eq!(host.call("Print", &[text.clone().into()], 2), Ok(Ok(Value::U32(text.len() as u32))));
    let frames = &host.prints()[1..];
    assert_eq!(frames.len(), 3, "130 bytes in 60-byte frames");
    let (last, full) = frames.split_last().unwrap();
    assert!(full.iter().all(|f| f.len() <= 60 && f.len() > 56), "full frames, cut at character boundaries");
    assert!(!last.is_empty());
    assert_eq!(frames.concat(), text);
    assert_eq!(host.call("Print", &["".into()], 2), Ok(Ok(Value::U32(0))));
    assert_eq!(host.prints().len(), frames.len() + 1, "an empty print sends nothing");
}

#[test]
fn results_too_large_for_the_output_buffer_become_errors() {
    let mut host = FakeHost::with(Sizes { input: 16 * 1024, ..Sizes::default() }, Vec::new());
    host.init();
    assert!(matches!(host.call("BigResult", &[Value::U32(4000)], 9), Ok(Ok(Value::Bytes(b))) if b.len() == 4000));
    let (code, message) = error_of(host.call("BigResult", &[Value::U32(5000)], 9));
    assert_eq!(code, ErrorCode::MessageTooLarge);
    assert!(message.starts_with("the result of guest function \"BigResult\" needs 50"), "{message}");
    assert!(message.ends_with(" bytes but the output buffer holds 4096"), "{message}");
    let (code, _) = error_of(host.call("Fail", &["e".repeat(5000).into()], 1));
    assert_eq!(code, ErrorCode::MessageTooLarge, "long error messages too");
}

#[test]
fn aborts_carry_code_and_whole_message() {
    let mut host = FakeHost::new();
    host.init();
    assert_eq!(
        host.call("Abort", &[Value::U32(42), "bye".into()], 10),
        Err(Exit::Abort { code: 42, message: "bye".into() })
    );
    host.edit_peb(|p| p.output_size = 4 + 5);
    let long = "αβγ-".repeat(20);
    assert_eq!(
        host.call("Abort", &[Value::U32(3), long.clone().into()], 10),
        Err(Exit::Abort { code: 3, message: long })
    );
}

#[test]
fn init_data_is_visible() {
    let mut host = FakeHost::with(Sizes::default(), vec![1, 2, 3]);
    host.init();
    assert_eq!(host.call("InitData", &[], 9), Ok(Ok(Value::Bytes(vec![1, 2, 3]))));
    drop(host); // one fake sandbox at a time
    let mut host = FakeHost::new();
    host.init();
    assert_eq!(host.call("InitData", &[], 9), Ok(Ok(Value::Bytes(vec![]))));
}

#[test]
fn a_too_small_output_buffer_fails_init_with_a_message() {
    let mut host = FakeHost::with(Sizes { output: 64, ..Sizes::default() }, Vec::new());
    // (the log area is unused here)
    let Exit::Abort { code, message } = host.enter(OP_INIT) else { panic!() };
    assert_eq!(code, BAD_ENVIRONMENT);
    assert!(message.contains("the guest function table needs"), "{message}");
}

#[test]
fn logs_batch_in_the_log_area_and_flush_when_full() {
    let mut host = FakeHost::with(Sizes { log: 256, ..Sizes::default() }, Vec::new());
    host.edit_peb(|p| p.max_log_level = LogLevel::Info as u64);
    host.init();
    assert_eq!(host.call("Log", &[Value::U32(3), "careful".into(), Value::U32(1)], 10), Ok(Ok(Value::Void)));
    let (logs, flushes) = host.logs();
    assert_eq!(flushes, 0, "one record rides on the HALT exit");
    let line = logs[0].4;
    assert_eq!(logs, vec![(3, "careful #0".into(), "guest".into(), file!().into(), line)]);
    assert!(line > 0);

    assert_eq!(host.call("Log", &[Value::U32(1), "debug".into(), Value::U32(5)], 10), Ok(Ok(Value::Void)));
    assert_eq!(host.logs().0.len(), 1, "records below max_log_level are dropped");

    assert_eq!(host.call("Log", &[Value::U32(4), "many".into(), Value::U32(20)], 10), Ok(Ok(Value::Void)));
    let (logs, flushes) = host.logs();
    assert!(flushes >= 3, "a 256-byte area holds only a few records ({flushes} flushes)");
    let messages: Vec<_> = logs[1..].iter().map(|r| r.1.clone()).collect();
    assert_eq!(messages, (0..20).map(|i| format!("many #{i}")).collect::<Vec<_>>(), "none lost, in order");

    // A record larger than the whole area keeps as much of its message as fits.
    let long = "x".repeat(1000);
    assert_eq!(host.call("Log", &[Value::U32(5), long.into(), Value::U32(1)], 10), Ok(Ok(Value::Void)));
    let (logs, _) = host.logs();
    let last = &logs.last().unwrap().1;
    assert!(last.len() > 100 && last.len() < 256 && last.chars().all(|c| c == 'x'), "{} bytes", last.len());

    host.edit_peb(|p| p.max_log_level = 6);
    assert_eq!(host.call("Log", &[Value::U32(5), "off".into(), Value::U32(1)], 10), Ok(Ok(Value::Void)));
    assert_eq!(host.logs().0.len(), logs.len(), "Off drops everything");
}

impl Exit {
    /// The decoded result of a `HALT` after `OP_CALL`.
    fn halt_result(self) -> core::result::Result<core::result::Result<Value, (u32, String)>, Exit> {
        match self {
            Exit::Halt(payload) => Ok(crate::wire::decode_function_call_result(&payload).expect("result")),
            other => Err(other),
        }
    }
}

/// Without the `trace` feature: instrumented code records nothing, even
/// when the host asks for everything.
#[cfg(not(feature = "trace"))]
mod compiled_out {
    use super::*;
    use crate::abi::{TRACE_FLAG_ENABLED, TRACE_FLAG_MEMORY, TRACE_FLAG_RUNTIME_SPANS};
    use crate::test_host::TraceSettings;

    #[instrument(fields(n))]
    fn instrumented(n: u32) -> u32 {
        n + 1
    }

    #[guest_function("TracedWithoutTheFeature")]
    fn traced_without_the_feature() -> u32 {
        let span = span!(LogLevel::Critical, "s", n = 1u32);
        event!(LogLevel::Critical, "e {}", 1; n = 2u32);
        span_record!(span, more = true);
        assert!(!span.is_recording() && !crate::tracing::enabled(LogLevel::Critical, "any"));
        assert!(crate::tracing::traceparent().is_none());
        assert_eq!(size_of::<crate::tracing::SpanGuard>(), 0);
        instrumented(1)
    }

    #[test]
    fn tracing_compiles_to_nothing() {
        let mut host = FakeHost::new();
        let flags = TRACE_FLAG_ENABLED | TRACE_FLAG_RUNTIME_SPANS | TRACE_FLAG_MEMORY;
        host.set_trace(Some(TraceSettings {
            flags: flags as u8,
            traceparent: "00-ab".into(),
            ..TraceSettings::default()
        }));
        host.init();
        assert_eq!(host.call("TracedWithoutTheFeature", &[], 2), Ok(Ok(Value::U32(2))));
        let drain = host.take_traces();
        assert_eq!((drain.records.len(), drain.lost, drain.flushes), (0, 0, 0));
    }
}
