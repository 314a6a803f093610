//! The guest function table and the two things the host asks of it:
//! publishing it (`OP_INIT`) and calling one function (`OP_CALL`).
//!
//! A function enters the table in one of two ways:
//!
//! - `#[guest_function]` places one [`GuestFunctionRegistration`] in the
//!   `hyperlight_guest_functions` link section; the linker gathers them into
//!   one array delimited by `__start_`/`__stop_` symbols (it defines those for
//!   any section whose name is a C identifier), so this needs no constructor
//!   and no allocation;
//! - [`register_function`] adds one while the guest initialises (from a
//!   `#[guest_init]` function, or the C API's `hyperlight_main`), with a name,
//!   types and handler only known at run time.
//!
//! ```text
//! OP_INIT: link-section entries + registered ones --checked, indexed--> GuestFunctionDetails
//! OP_CALL: name --index--> function --arguments checked--> handler --> FunctionCallResult
//! ```

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::abi::MAX_GUEST_FUNCTION_PARAMETERS;
use crate::cell::GlobalCell;
use crate::entry::Env;
use crate::error::{ErrorCode, GuestError};
use crate::exit::{abort_fmt, halt};
use crate::print::FixedString;
use crate::value::{Param, Value, ValueType};
use crate::wire::{self, FunctionCallView, Signature, TooLarge, WireError};

/// The link section holding every [`GuestFunctionRegistration`]. The
/// `#[guest_function]` macro spells the same name.
pub const REGISTRATION_SECTION: &str = "hyperlight_guest_functions";

/// One guest function, as `#[guest_function]` registers it.
#[repr(C)]
pub struct GuestFunctionRegistration {
    /// The name the host calls it by.
    pub name: &'static str,
    /// The Rust function's name, for diagnostics.
    pub rust_name: &'static str,
    /// Declared parameter types, in order.
    pub parameter_types: &'static [ValueType],
    /// Declared return type.
    pub return_type: ValueType,
    /// Converts the checked arguments and runs the function.
    pub invoke: fn(Args) -> Result<Value, GuestError>,
}

/// The arguments of a call, already checked against the declared parameter
/// types; generated wrappers take them in order.
pub struct Args {
    values: alloc::vec::IntoIter<Value>,
    function: &'static str,
}

impl Args {
    /// The name the host called the function by.
    pub fn function_name(&self) -> &'static str {
        self.function
    }

    /// The arguments not taken yet, in order (all of them for a handler
    /// given to [`register_function`]).
    pub fn into_values(self) -> Vec<Value> {
        self.values.collect()
    }

    /// The next argument as `T`.
    ///
    /// # Errors
    /// `WrongArgumentType` when the argument is missing or of another type;
    /// dispatch checks both before `invoke`, so this does not happen for
    /// calls from the host.
    pub fn next_arg<T: Param>(&mut self) -> Result<T, GuestError> {
        let value = self.values.next().ok_or_else(|| {
            GuestError::with_code(
                ErrorCode::WrongArgumentCount,
                alloc::format!("too few arguments for \"{}\"", self.function),
            )
        })?;
        T::from_value(value).map_err(|v| {
            GuestError::with_code(
                ErrorCode::WrongArgumentType,
                alloc::format!("\"{}\" expected {} but got {}", self.function, T::VALUE_TYPE, v.value_type()),
            )
        })
    }
}

fn never_invoked(_: Args) -> Result<Value, GuestError> {
    Err(GuestError::new("the registration sentinel is not a function"))
}

/// An entry with an empty name that keeps the section (and so its
/// `__start_`/`__stop_` symbols) present even in a guest without functions.
#[used]
#[unsafe(link_section = "hyperlight_guest_functions")]
static SENTINEL: GuestFunctionRegistration = GuestFunctionRegistration {
    name: "",
    rust_name: "",
    parameter_types: &[],
    return_type: ValueType::Void,
    invoke: never_invoked,
};

unsafe extern "C" {
    // Defined by the linker around the section's contents; only their
    // addresses matter, so they are declared as bytes.
    static __start_hyperlight_guest_functions: u8;
    static __stop_hyperlight_guest_functions: u8;
}

/// Every `#[guest_function]` of the guest.
fn linked_functions() -> impl Iterator<Item = &'static GuestFunctionRegistration> + Clone {
    // Referencing the sentinel links the object file that defines it.
    core::hint::black_box(&SENTINEL);
    let start = (&raw const __start_hyperlight_guest_functions).cast::<GuestFunctionRegistration>();
    let stop = (&raw const __stop_hyperlight_guest_functions).cast::<GuestFunctionRegistration>();
    let count = (stop as usize - start as usize) / size_of::<GuestFunctionRegistration>();
    // SAFETY: the linker concatenates the section's statics, all of this type
    // (size a multiple of its alignment, so no padding between them), into
    // [start, stop); they are immutable and live for the whole program.
    let all = unsafe { core::slice::from_raw_parts(start, count) };
    all.iter().filter(|f| !f.name.is_empty())
}

/// What a handler given to [`register_function`] is.
type Handler = Box<dyn Fn(Args) -> Result<Value, GuestError>>;

/// A guest function registered at run time. Kept for the life of the guest
/// (leaked), like the link-section entries.
pub(crate) struct RuntimeFunction {
    name: &'static str,
    parameter_types: &'static [ValueType],
    return_type: ValueType,
    handler: Handler,
}

/// One function of the table, however it was registered.
#[derive(Clone, Copy)]
pub(crate) enum Function {
    /// A `#[guest_function]`.
    Linked(&'static GuestFunctionRegistration),
    /// A [`register_function`] entry.
    Runtime(&'static RuntimeFunction),
}

impl Function {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Linked(f) => f.name,
            Self::Runtime(f) => f.name,
        }
    }

    fn parameter_types(self) -> &'static [ValueType] {
        match self {
            Self::Linked(f) => f.parameter_types,
            Self::Runtime(f) => f.parameter_types,
        }
    }

    fn return_type(self) -> ValueType {
        match self {
            Self::Linked(f) => f.return_type,
            Self::Runtime(f) => f.return_type,
        }
    }

    /// Who registered it, for diagnostics.
    fn origin(self) -> &'static str {
        match self {
            Self::Linked(f) => f.rust_name,
            Self::Runtime(_) => "register_function",
        }
    }

    /// Runs the function. A run-time handler that returns a value of another
    /// type than it declared is a bug in the guest: it aborts with
    /// `ABORT_CODE_PANIC` (`#[guest_function]`s cannot, their types are checked
    /// at compile time).
    fn invoke(self, args: Args) -> Result<Value, GuestError> {
        let result = match self {
            Self::Linked(f) => (f.invoke)(args),
            Self::Runtime(f) => (f.handler)(args),
        };
        if let Ok(value) = &result
            && value.value_type() != self.return_type()
        {
            abort_fmt(
                crate::abi::ABORT_CODE_PANIC,
                format_args!(
                    "function \"{}\" is declared to return {} but its handler returned {}",
                    self.name(),
                    self.return_type(),
                    value.value_type()
                ),
            );
        }
        result
    }
}

/// Functions added by [`register_function`], in registration order.
static REGISTERED: GlobalCell<Vec<&'static RuntimeFunction>> = GlobalCell::new(Vec::new());

/// Why [`register_function`] refused a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationError {
    /// Registration happens while the guest initialises (`OP_INIT`, before the
    /// table is published); this was outside it.
    NotInitialising,
    /// The name is empty.
    EmptyName,
    /// More than `MAX_GUEST_FUNCTION_PARAMETERS` parameters.
    TooManyParameters(usize),
    /// Parameter `.0` is declared `void`, which only a return type may be.
    VoidParameter(usize),
    /// Another function already has this name.
    Duplicate,
}

impl fmt::Display for RegistrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInitialising => f.write_str("functions can only be registered while the guest initialises"),
            Self::EmptyName => f.write_str("the name is empty"),
            Self::TooManyParameters(n) => {
                write!(f, "{n} parameters, at most {MAX_GUEST_FUNCTION_PARAMETERS} are allowed")
            }
            Self::VoidParameter(i) => write!(f, "parameter {i} is void, which only a return type may be"),
            Self::Duplicate => f.write_str("a function with this name is already registered"),
        }
    }
}

/// Adds a guest function while the guest initialises: from the
/// `#[guest_init]` function, for functions whose names or types are only
/// known at run time (`#[guest_function]` covers the rest). The host can call
/// it as soon as initialisation ends.
///
/// `handler` gets the arguments already checked against `parameter_types`
/// ([`Args::into_values`]) and returns a value of `return_type` or an error;
/// a value of another type aborts the guest with `ABORT_CODE_PANIC`.
///
/// ```ignore
/// #[guest_init]
/// fn init() {
///     for (name, factor) in [("Double", 2), ("Triple", 3)] {
///         register_function(name, &[ValueType::I32], ValueType::I32, move |args| {
///             match args.into_values().as_slice() {
///                 [Value::I32(n)] => Ok(Value::I32(n * factor)),
///                 _ => unreachable!("checked by the runtime"),
///             }
///         })
///         .expect("registered");
///     }
/// }
/// ```
///
/// # Errors
/// A [`RegistrationError`] when called outside initialisation, for an empty
/// or duplicate name, too many parameters or a `Void` parameter.
pub fn register_function(
    name: &str,
    parameter_types: &[ValueType],
    return_type: ValueType,
    handler: impl Fn(Args) -> Result<Value, GuestError> + 'static,
) -> Result<(), RegistrationError> {
    if !crate::entry::initialising() {
        return Err(RegistrationError::NotInitialising);
    }
    if name.is_empty() {
        return Err(RegistrationError::EmptyName);
    }
    if parameter_types.len() > MAX_GUEST_FUNCTION_PARAMETERS {
        return Err(RegistrationError::TooManyParameters(parameter_types.len()));
    }
    if let Some(i) = parameter_types.iter().position(|&t| t == ValueType::Void) {
        return Err(RegistrationError::VoidParameter(i));
    }
    let taken = linked_functions().any(|f| same_name(f.name, name))
        || REGISTERED.with(|all| all.iter().any(|f| same_name(f.name, name)));
    if taken {
        return Err(RegistrationError::Duplicate);
    }
    let function = Box::leak(Box::new(RuntimeFunction {
        name: String::from(name).leak(),
        parameter_types: Vec::from(parameter_types).leak(),
        return_type,
        handler: Box::new(handler),
    }));
    REGISTERED.with(|all| all.push(function));
    Ok(())
}

/// Forgets the registered functions (host tests start every sandbox fresh).
#[cfg(test)]
pub(crate) fn reset() {
    REGISTERED.with(Vec::clear);
    INDEX.with(Vec::clear);
}

/// Every function of the table: the `#[guest_function]`s, then the
/// registered ones in registration order.
pub(crate) fn functions() -> Vec<Function> {
    let mut all: Vec<Function> = linked_functions().map(Function::Linked).collect();
    REGISTERED.with(|registered| all.extend(registered.iter().map(|&f| Function::Runtime(f))));
    all
}

/// An open-addressing hash table of every registered function by name, built
/// by `OP_INIT`, so a call finds its function in a probe or two whatever the
/// table size. Each slot holds a name hash and its function; the slot count
/// is a power of two and at least twice the function count.
type Index = Vec<Option<(u32, Function)>>;

static INDEX: GlobalCell<Index> = GlobalCell::new(Vec::new());

/// `name` as little-endian 8-byte words, the last one zero-padded.
fn words(name: &str) -> impl Iterator<Item = u64> + '_ {
    name.as_bytes().chunks(8).map(|chunk| match <[u8; 8]>::try_from(chunk) {
        Ok(word) => u64::from_le_bytes(word),
        Err(_) => chunk.iter().rev().fold(0, |w, &b| w << 8 | u64::from(b)),
    })
}

/// Mixes the name in a word at a time, one multiply per word. A multiply
/// only carries bits upwards, so each step folds the high half back down:
/// every input bit then reaches the low bits the index masks.
fn name_hash(name: &str) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = name.len() as u64;
    for word in words(name) {
        h = (h ^ word).wrapping_mul(K);
        h ^= h >> 32;
    }
    h = h.wrapping_mul(K);
    (h ^ h >> 32) as u32
}

/// `a == b`, a word at a time: `==` calls `bcmp`, whose `repe cmpsb` takes
/// longer to start in a guest than a short name takes to compare.
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && words(a).eq(words(b))
}

/// The slot of `name` in `index`: where it is, or the empty slot where it
/// would go, with what is there.
fn probe(index: &Index, name: &str, hash: u32) -> (usize, Option<Function>) {
    let mask = index.len() - 1;
    let mut slot = hash as usize & mask;
    while let Some((h, f)) = index[slot] {
        if h == hash && same_name(f.name(), name) {
            return (slot, Some(f));
        }
        slot = (slot + 1) & mask;
    }
    (slot, None)
}

fn find(name: &str) -> Option<Function> {
    INDEX.with(|index| if index.is_empty() { None } else { probe(index, name, name_hash(name)).1 })
}

/// `OP_INIT`: checks the table, indexes it and writes `GuestFunctionDetails`,
/// then halts.
pub(crate) fn publish_functions(env: &Env) -> ! {
    let all = functions();
    let mut index: Index = alloc::vec![None; (2 * all.len()).next_power_of_two()];
    for &f in &all {
        assert!(f.parameter_types().len() <= MAX_GUEST_FUNCTION_PARAMETERS, "too many parameters in \"{}\"", f.name());
        let hash = name_hash(f.name());
        match probe(&index, f.name(), hash) {
            (_, Some(other)) => panic!(
                "guest function \"{}\" is registered twice (by `{}` and `{}`)",
                f.name(),
                other.origin(),
                f.origin()
            ),
            (slot, None) => index[slot] = Some((hash, f)),
        }
    }
    INDEX.with(|slots| *slots = index);
    let signatures = all.iter().map(|f| Signature {
        name: f.name(),
        parameters: f.parameter_types(),
        return_type: f.return_type(),
    });
    #[cfg(feature = "libc")]
    crate::libc::flush_output();
    let written = env.output.with_bytes_mut(|buf| wire::encode_guest_function_details(buf, all.len(), signatures));
    if let Err(TooLarge { needed }) = written {
        abort_fmt(
            crate::abi::ABORT_CODE_BAD_ENVIRONMENT,
            format_args!(
                "the guest function table needs {needed} bytes but the output buffer holds {}",
                env.output.size()
            ),
        );
    }
    halt()
}

/// `OP_CALL`: runs the call in the input buffer, writes the result, halts.
pub(crate) fn call_guest_function(env: &Env) -> ! {
    // Every heap value of the call is dropped inside `run` (the heap
    // outlives the run; nothing may leak across calls).
    run(env);
    halt()
}

/// The per-call work: decode and check the call in the input buffer, run
/// the function, write its `FunctionCallResult` to the output buffer.
pub(crate) fn run(env: &Env) {
    let (outcome, function) = match decode_call(env) {
        Ok((f, args)) => {
            #[cfg(feature = "trace")]
            let _span = crate::tracing::run::runtime_span("guest_call", Some(f.name()));
            (f.invoke(Args { values: args.into_iter(), function: f.name() }), f.name())
        }
        Err(e) => (Err(e), ""),
    };
    #[cfg(feature = "libc")]
    crate::libc::flush_output();
    let encoded = env.output.with_bytes_mut(|buf| match &outcome {
        Ok(value) => wire::encode_function_call_result(buf, Ok(value)),
        Err(e) => wire::encode_function_call_result(buf, Err((e.code, &e.message))),
    });
    drop(outcome);
    if let Err(TooLarge { needed }) = encoded {
        // Formatted on the stack: the heap may be the reason it is this big.
        let mut message = FixedString::<256>::new();
        let _ = write!(
            message,
            "the result of guest function \"{function}\" needs {needed} bytes but the output buffer holds {}",
            env.output.size()
        );
        let fallback = env.output.with_bytes_mut(|buf| {
            wire::encode_function_call_result(buf, Err((ErrorCode::MessageTooLarge, message.as_str())))
        });
        if fallback.is_err() {
            abort_fmt(crate::abi::ABORT_CODE_BAD_ENVIRONMENT, format_args!("{}", message.as_str()));
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { alloc::format!("{n} {word}") } else { alloc::format!("{n} {word}s") }
}

fn malformed(what: &str, e: WireError) -> GuestError {
    GuestError::with_code(ErrorCode::MalformedMessage, alloc::format!("malformed {what}: {}", e.0))
}

/// Decodes and checks the call in the input buffer, copying its arguments.
fn decode_call(env: &Env) -> Result<(Function, Vec<Value>), GuestError> {
    let decoded = env.input.with_frame(|payload| {
        let call = FunctionCallView::decode(payload).map_err(|e| malformed("FunctionCall", e))?;
        let name = call.function_name;
        let f = find(name).ok_or_else(|| {
            GuestError::with_code(
                ErrorCode::FunctionNotFound,
                alloc::format!("guest function \"{name}\" does not exist"),
            )
        })?;
        check_call(f, &call)?;
        let mut args = Vec::with_capacity(call.argument_count());
        for i in 0..call.argument_count() {
            args.push(call.argument(i).map_err(|e| malformed("FunctionCall argument", e))?);
        }
        Ok((f, args))
    });
    decoded.unwrap_or_else(|bad| {
        Err(GuestError::with_code(
            ErrorCode::MalformedMessage,
            alloc::format!(
                "the input frame claims {} payload bytes but the input buffer holds {}",
                bad.payload_size,
                bad.buffer_size
            ),
        ))
    })
}

/// Checks argument count, argument types and the expected return type.
fn check_call(f: Function, call: &FunctionCallView<'_>) -> Result<(), GuestError> {
    let (name, return_type) = (f.name(), f.return_type());
    let declared = f.parameter_types().len();
    let passed = call.argument_count();
    if passed != declared {
        return Err(GuestError::with_code(
            ErrorCode::WrongArgumentCount,
            alloc::format!(
                "function \"{name}\" takes {} but was called with {passed}",
                plural(declared, "argument")
            ),
        ));
    }
    for (i, &expected) in f.parameter_types().iter().enumerate() {
        let tag = call.argument_tag(i).map_err(|e| malformed("FunctionCall argument", e))?;
        if tag != expected as u8 {
            let got = ValueType::from_u8(tag).map_or_else(|| alloc::format!("unknown type {tag}"), |t| t.name().into());
            return Err(GuestError::with_code(
                ErrorCode::WrongArgumentType,
                alloc::format!("argument {i} of function \"{name}\" must be {expected}, got {got}"),
            ));
        }
    }
    // 0 (`None`) means the caller did not state an expectation.
    if call.return_type != 0 && call.return_type != return_type as u8 {
        let expected = ValueType::from_u8(call.return_type)
            .map_or_else(|| alloc::format!("unknown type {}", call.return_type), |t| t.name().into());
        return Err(GuestError::with_code(
            ErrorCode::WrongReturnType,
            alloc::format!("function \"{name}\" returns {return_type} but the caller expected {expected}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::FakeHost;

    #[test]
    fn the_index_finds_each_function_by_its_exact_name_only() {
        let mut host = FakeHost::new();
        host.init();
        for f in functions() {
            assert_eq!(find(f.name()).expect("indexed").name(), f.name());
            assert!(find(&alloc::format!("{}_", f.name())).is_none());
            assert!(find(&f.name()[..f.name().len() - 1]).is_none());
        }
        assert!(find("").is_none());
    }

    #[test]
    fn colliding_hashes_probe_on() {
        let mut index: Index = alloc::vec![None; 64];
        for f in functions() {
            let (slot, found) = probe(&index, f.name(), 7);
            assert!(found.is_none());
            index[slot] = Some((7, f));
        }
        for f in functions() {
            assert_eq!(probe(&index, f.name(), 7).1.expect("found").name(), f.name());
        }
        assert!(probe(&index, "missing", 7).1.is_none());
    }
}
