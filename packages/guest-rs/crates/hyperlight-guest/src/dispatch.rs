//! The guest function table and the two things the host asks of it:
//! publishing it (`OP_INIT`) and calling one function (`OP_CALL`).
//!
//! `#[guest_function]` places one [`GuestFunctionRegistration`] per function
//! in the `hyperlight_guest_functions` link section; the linker gathers them
//! into one array delimited by `__start_`/`__stop_` symbols (it defines those
//! for any section whose name is a C identifier), so registration needs no
//! constructor and no allocation.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

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

/// Every registered guest function.
pub(crate) fn functions() -> impl Iterator<Item = &'static GuestFunctionRegistration> + Clone {
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

/// An open-addressing hash table of every registered function by name, built
/// by `OP_INIT`, so a call finds its function in a probe or two whatever the
/// table size. Each slot holds a name hash and its function; the slot count
/// is a power of two and at least twice the function count.
type Index = Vec<Option<(u32, &'static GuestFunctionRegistration)>>;

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
fn probe(index: &Index, name: &str, hash: u32) -> (usize, Option<&'static GuestFunctionRegistration>) {
    let mask = index.len() - 1;
    let mut slot = hash as usize & mask;
    while let Some((h, f)) = index[slot] {
        if h == hash && same_name(f.name, name) {
            return (slot, Some(f));
        }
        slot = (slot + 1) & mask;
    }
    (slot, None)
}

fn find(name: &str) -> Option<&'static GuestFunctionRegistration> {
    INDEX.with(|index| if index.is_empty() { None } else { probe(index, name, name_hash(name)).1 })
}

/// `OP_INIT`: checks the table, indexes it and writes `GuestFunctionDetails`,
/// then halts.
pub(crate) fn publish_functions(env: &Env) -> ! {
    let mut index: Index = alloc::vec![None; (2 * functions().count()).next_power_of_two()];
    for f in functions() {
        assert!(f.parameter_types.len() <= MAX_GUEST_FUNCTION_PARAMETERS, "too many parameters in \"{}\"", f.name);
        let hash = name_hash(f.name);
        match probe(&index, f.name, hash) {
            (_, Some(other)) => panic!(
                "guest function \"{}\" is registered twice (by `{}` and `{}`)",
                f.name, other.rust_name, f.rust_name
            ),
            (slot, None) => index[slot] = Some((hash, f)),
        }
    }
    INDEX.with(|slots| *slots = index);
    let signatures =
        functions().map(|f| Signature { name: f.name, parameters: f.parameter_types, return_type: f.return_type });
    let count = functions().count();
    let written = env.output.with_bytes_mut(|buf| wire::encode_guest_function_details(buf, count, signatures));
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
            let _span = crate::tracing::run::runtime_span("guest_call", Some(f.name));
            ((f.invoke)(Args { values: args.into_iter(), function: f.name }), f.name)
        }
        Err(e) => (Err(e), ""),
    };
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
fn decode_call(env: &Env) -> Result<(&'static GuestFunctionRegistration, Vec<Value>), GuestError> {
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
fn check_call(f: &GuestFunctionRegistration, call: &FunctionCallView<'_>) -> Result<(), GuestError> {
    let declared = f.parameter_types.len();
    let passed = call.argument_count();
    if passed != declared {
        return Err(GuestError::with_code(
            ErrorCode::WrongArgumentCount,
            alloc::format!(
                "function \"{}\" takes {} but was called with {passed}",
                f.name,
                plural(declared, "argument")
            ),
        ));
    }
    for (i, &expected) in f.parameter_types.iter().enumerate() {
        let tag = call.argument_tag(i).map_err(|e| malformed("FunctionCall argument", e))?;
        if tag != expected as u8 {
            let got = ValueType::from_u8(tag).map_or_else(|| alloc::format!("unknown type {tag}"), |t| t.name().into());
            // Same wording as the C guest runtime: argument index from 0.
            return Err(GuestError::with_code(
                ErrorCode::WrongArgumentType,
                alloc::format!("argument {i} of function \"{}\" must be {expected}, got {got}", f.name),
            ));
        }
    }
    // 0 (`None`) means the caller did not state an expectation.
    if call.return_type != 0 && call.return_type != f.return_type as u8 {
        let expected = ValueType::from_u8(call.return_type)
            .map_or_else(|| alloc::format!("unknown type {}", call.return_type), |t| t.name().into());
        return Err(GuestError::with_code(
            ErrorCode::WrongReturnType,
            alloc::format!("function \"{}\" returns {} but the caller expected {expected}", f.name, f.return_type),
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
            assert!(core::ptr::eq(find(f.name).expect("indexed"), f));
            assert!(find(&alloc::format!("{}_", f.name)).is_none());
            assert!(find(&f.name[..f.name.len() - 1]).is_none());
        }
        assert!(find("").is_none());
    }

    #[test]
    fn colliding_hashes_probe_on() {
        let mut index: Index = alloc::vec![None; 64];
        for f in functions() {
            let (slot, found) = probe(&index, f.name, 7);
            assert!(found.is_none());
            index[slot] = Some((7, f));
        }
        for f in functions() {
            assert!(core::ptr::eq(probe(&index, f.name, 7).1.expect("found"), f));
        }
        assert!(probe(&index, "missing", 7).1.is_none());
    }
}
