//! The FlatBuffers messages of `schema/*.fbs` (namespace `hyperlight.wire`),
//! hand-written for exactly our schema because guests cannot use crates.io.
//!
//! Field numbers below follow the schema's declaration order; a union field
//! takes two numbers (its `_type` tag, then the value).

mod builder;
mod reader;

use alloc::string::String;
#[cfg(test)]
use alloc::vec::Vec;

pub(crate) use builder::TooLarge;
use builder::{Builder, Field, TableRef};
pub(crate) use reader::{Table, WireError, WireResult};

use crate::error::ErrorCode;
use crate::value::{Value, ValueType};

/// `FunctionCall` fields.
mod function_call {
    pub(super) const FUNCTION_NAME: usize = 0;
    pub(super) const ARGUMENTS: usize = 1;
    pub(super) const RETURN_TYPE: usize = 2;
}
/// `Argument` fields: the `value: Value` union.
mod argument {
    pub(super) const VALUE_TYPE: usize = 0;
    pub(super) const VALUE: usize = 1;
}
/// `FunctionCallResult` fields: the `outcome: Outcome` union.
mod function_call_result {
    pub(super) const OUTCOME_TYPE: usize = 0;
    pub(super) const OUTCOME: usize = 1;
    /// `Outcome` union tags.
    pub(super) const RETURN_VALUE: u8 = 1;
    pub(super) const CALL_ERROR: u8 = 2;
}
/// `ReturnValue` fields: the `value: Value` union.
mod return_value {
    pub(super) const VALUE_TYPE: usize = 0;
    pub(super) const VALUE: usize = 1;
}
/// `CallError` fields.
mod call_error {
    pub(super) const CODE: usize = 0;
    pub(super) const MESSAGE: usize = 1;
}
/// `GuestFunctionDetails` and `FunctionSignature` fields.
mod details {
    pub(super) const FUNCTIONS: usize = 0;
    pub(super) const NAME: usize = 0;
    pub(super) const PARAMETERS: usize = 1;
    #[cfg_attr(not(test), allow(dead_code))] // written by position in the encoder
    pub(super) const RETURN_TYPE: usize = 2;
}
/// `LogRecord` fields.
#[cfg_attr(not(test), allow(dead_code))] // scalars are written by position in the encoder
mod log_record {
    pub(super) const LEVEL: usize = 0;
    pub(super) const MESSAGE: usize = 1;
    pub(super) const TARGET: usize = 2;
    pub(super) const SOURCE_FILE: usize = 3;
    pub(super) const LINE: usize = 4;
}
/// The only field of every `*Value` table.
const VALUE_FIELD: usize = 0;

/// A decoded `FunctionCall` that still borrows the buffer it came from.
/// Arguments are decoded one at a time, so a call can be rejected (unknown
/// function, wrong count) before anything is copied.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FunctionCallView<'a> {
    /// `function_name`
    pub(crate) function_name: &'a str,
    arguments: Option<reader::TableVector<'a>>,
    /// `return_type` as sent; 0 (`None`) when the caller did not say.
    pub(crate) return_type: u8,
}

impl<'a> FunctionCallView<'a> {
    /// Decodes the `FunctionCall` flatbuffer `payload` (without size prefix).
    pub(crate) fn decode(payload: &'a [u8]) -> WireResult<Self> {
        let root = Table::root(payload)?;
        let function_name =
            root.str(function_call::FUNCTION_NAME)?.ok_or(WireError("FunctionCall.function_name is missing"))?;
        Ok(Self {
            function_name,
            arguments: root.tables(function_call::ARGUMENTS)?,
            return_type: root.u8(function_call::RETURN_TYPE, 0)?,
        })
    }

    /// How many arguments the call passes.
    pub(crate) fn argument_count(&self) -> usize {
        self.arguments.map_or(0, |v| v.len())
    }

    /// The type tag of argument `i` (may be a number no `ValueType` has).
    pub(crate) fn argument_tag(&self, i: usize) -> WireResult<u8> {
        self.argument_table(i)?.u8(argument::VALUE_TYPE, 0)
    }

    /// Argument `i`, copied out of the buffer.
    pub(crate) fn argument(&self, i: usize) -> WireResult<Value> {
        let table = self.argument_table(i)?;
        decode_value(&table, argument::VALUE_TYPE, argument::VALUE)
    }

    fn argument_table(&self, i: usize) -> WireResult<Table<'a>> {
        self.arguments.ok_or(WireError("argument index out of range"))?.get(i)
    }
}

/// Decodes the `Value` union stored in `table` as (`tag_field`, `value_field`).
fn decode_value(table: &Table<'_>, tag_field: usize, value_field: usize) -> WireResult<Value> {
    let tag = table.u8(tag_field, 0)?;
    let value_type = ValueType::from_u8(tag).ok_or(WireError("unknown Value type"))?;
    let v = table.table(value_field)?.ok_or(WireError("Value is missing"))?;
    Ok(match value_type {
        ValueType::I32 => Value::I32(i32::from_le_bytes(v.bytes4(VALUE_FIELD)?)),
        ValueType::U32 => Value::U32(u32::from_le_bytes(v.bytes4(VALUE_FIELD)?)),
        ValueType::I64 => Value::I64(i64::from_le_bytes(v.bytes8(VALUE_FIELD)?)),
        ValueType::U64 => Value::U64(u64::from_le_bytes(v.bytes8(VALUE_FIELD)?)),
        ValueType::F32 => Value::F32(f32::from_le_bytes(v.bytes4(VALUE_FIELD)?)),
        ValueType::F64 => Value::F64(f64::from_le_bytes(v.bytes8(VALUE_FIELD)?)),
        ValueType::Bool => Value::Bool(v.u8(VALUE_FIELD, 0)? != 0),
        ValueType::String => {
            Value::String(v.str(VALUE_FIELD)?.ok_or(WireError("StringValue.value is missing"))?.into())
        }
        ValueType::Bytes => Value::Bytes(v.bytes(VALUE_FIELD)?.ok_or(WireError("BytesValue.value is missing"))?.into()),
        ValueType::Void => Value::Void,
    })
}

/// Writes the `Value` table for `value` and returns its position.
fn encode_value(b: &mut Builder<'_>, value: &Value) -> usize {
    let scalar = |b: &mut Builder<'_>, field| b.table(&[field]);
    let table = match value {
        Value::I32(v) => scalar(b, Field::B4(v.to_le_bytes())),
        Value::U32(v) => scalar(b, Field::B4(v.to_le_bytes())),
        Value::I64(v) => scalar(b, Field::B8(v.to_le_bytes())),
        Value::U64(v) => scalar(b, Field::B8(v.to_le_bytes())),
        Value::F32(v) => scalar(b, Field::B4(v.to_bits().to_le_bytes())),
        Value::F64(v) => scalar(b, Field::B8(v.to_bits().to_le_bytes())),
        Value::Bool(v) => scalar(b, Field::U8(u8::from(*v))),
        Value::String(s) => {
            let t = b.table(&[Field::Offset]);
            let s = b.string(s);
            b.set(t, VALUE_FIELD, s);
            t
        }
        Value::Bytes(bytes) => {
            let t = b.table(&[Field::Offset]);
            let v = b.byte_vector(bytes);
            b.set(t, VALUE_FIELD, v);
            t
        }
        Value::Void => b.table(&[]),
    };
    table_pos(table)
}

fn table_pos(t: TableRef) -> usize {
    t.pos()
}

/// Writes a `FunctionCall` frame into `buf` (a guest-to-host host call).
/// `return_type` is a `ValueType` tag (0 = `None`, "any").
pub(crate) fn encode_function_call(
    buf: &mut [u8],
    function_name: &str,
    arguments: &[Value],
    return_type: u8,
) -> Result<usize, TooLarge> {
    let mut b = Builder::new(buf);
    let root = b.table(&[Field::Offset, Field::Offset, Field::U8(return_type)]);
    let name = b.string(function_name);
    b.set(root, function_call::FUNCTION_NAME, name);
    let vector = b.offset_vector(arguments.len());
    b.set(root, function_call::ARGUMENTS, vector);
    for (i, value) in arguments.iter().enumerate() {
        let arg = b.table(&[Field::U8(value.value_type() as u8), Field::Offset]);
        b.set_slot(Builder::slot(vector, i), table_pos(arg));
        let v = encode_value(&mut b, value);
        b.set(arg, argument::VALUE, v);
    }
    b.finish(root)
}

/// Writes a `FunctionCallResult` frame into `buf`: a return value or a
/// `CallError`.
pub(crate) fn encode_function_call_result(
    buf: &mut [u8],
    outcome: Result<&Value, (ErrorCode, &str)>,
) -> Result<usize, TooLarge> {
    let mut b = Builder::new(buf);
    match outcome {
        Ok(value) => {
            let root = b.table(&[Field::U8(function_call_result::RETURN_VALUE), Field::Offset]);
            let rv = b.table(&[Field::U8(value.value_type() as u8), Field::Offset]);
            b.set(root, function_call_result::OUTCOME, table_pos(rv));
            let v = encode_value(&mut b, value);
            b.set(rv, return_value::VALUE, v);
            b.finish(root)
        }
        Err((code, message)) => {
            let root = b.table(&[Field::U8(function_call_result::CALL_ERROR), Field::Offset]);
            let err = b.table(&[Field::B4((code as u32).to_le_bytes()), Field::Offset]);
            b.set(root, function_call_result::OUTCOME, table_pos(err));
            let m = b.string(message);
            b.set(err, call_error::MESSAGE, m);
            b.finish(root)
        }
    }
}

/// A decoded `FunctionCallResult`: the value, or the raw error code (it may
/// be a number this guest does not know) and message.
pub(crate) type DecodedResult = Result<Value, (u32, String)>;

/// Decodes a `FunctionCallResult` flatbuffer `payload` (without size prefix).
pub(crate) fn decode_function_call_result(payload: &[u8]) -> WireResult<DecodedResult> {
    let root = Table::root(payload)?;
    let outcome =
        root.table(function_call_result::OUTCOME)?.ok_or(WireError("FunctionCallResult.outcome is missing"))?;
    match root.u8(function_call_result::OUTCOME_TYPE, 0)? {
        function_call_result::RETURN_VALUE => {
            Ok(Ok(decode_value(&outcome, return_value::VALUE_TYPE, return_value::VALUE)?))
        }
        function_call_result::CALL_ERROR => {
            let code = outcome.u32(call_error::CODE, 0)?;
            let message = outcome.str(call_error::MESSAGE)?.unwrap_or_default();
            Ok(Err((code, message.into())))
        }
        _ => Err(WireError("unknown Outcome type")),
    }
}

/// One entry of `GuestFunctionDetails`.
pub(crate) struct Signature<'a> {
    pub(crate) name: &'a str,
    pub(crate) parameters: &'a [ValueType],
    pub(crate) return_type: ValueType,
}

/// Writes a `GuestFunctionDetails` frame listing `functions`.
/// `functions` must yield exactly `count` items.
pub(crate) fn encode_guest_function_details<'a>(
    buf: &mut [u8],
    count: usize,
    functions: impl Iterator<Item = Signature<'a>>,
) -> Result<usize, TooLarge> {
    let mut b = Builder::new(buf);
    let root = b.table(&[Field::Offset]);
    let vector = b.offset_vector(count);
    b.set(root, details::FUNCTIONS, vector);
    for (i, f) in functions.take(count).enumerate() {
        let sig = b.table(&[Field::Offset, Field::Offset, Field::U8(f.return_type as u8)]);
        b.set_slot(Builder::slot(vector, i), table_pos(sig));
        let name = b.string(f.name);
        b.set(sig, details::NAME, name);
        // ValueType is repr(u8), so its values are exactly the wire bytes.
        let mut tags = [0u8; crate::abi::MAX_GUEST_FUNCTION_PARAMETERS];
        let n = f.parameters.len().min(tags.len());
        for (tag, p) in tags.iter_mut().zip(f.parameters) {
            *tag = *p as u8;
        }
        let params = b.byte_vector(&tags[..n]);
        b.set(sig, details::PARAMETERS, params);
    }
    b.finish(root)
}

/// One log record to encode.
pub(crate) struct LogRecord<'a> {
    /// `LogLevel` number.
    pub(crate) level: u8,
    pub(crate) target: &'a str,
    pub(crate) source_file: &'a str,
    pub(crate) line: u32,
    pub(crate) message: core::fmt::Arguments<'a>,
}

/// Writes a size-prefixed `LogRecord` into `buf`, keeping at most
/// `max_message_len` bytes of the message (it is written last, so shortening
/// it is how an oversized record is made to fit). Returns the frame length
/// and the full message length.
pub(crate) fn encode_log_record(
    buf: &mut [u8],
    record: &LogRecord<'_>,
    max_message_len: usize,
) -> (Result<usize, TooLarge>, usize) {
    let mut b = Builder::new(buf);
    let root = b.table(&[
        Field::U8(record.level),
        Field::Offset,
        Field::Offset,
        Field::Offset,
        Field::B4(record.line.to_le_bytes()),
    ]);
    let target = b.string(record.target);
    b.set(root, log_record::TARGET, target);
    let file = b.string(record.source_file);
    b.set(root, log_record::SOURCE_FILE, file);
    let (message, _, full_len) = b.string_fmt(record.message, max_message_len);
    b.set(root, log_record::MESSAGE, message);
    (b.finish(root), full_len)
}

/// A decoded `LogRecord` (tests only): level, message, target, file, line.
#[cfg(test)]
pub(crate) fn decode_log_record(payload: &[u8]) -> WireResult<(u8, String, String, String, u32)> {
    let t = Table::root(payload)?;
    Ok((
        t.u8(log_record::LEVEL, 2)?,
        t.str(log_record::MESSAGE)?.unwrap_or_default().into(),
        t.str(log_record::TARGET)?.unwrap_or_default().into(),
        t.str(log_record::SOURCE_FILE)?.unwrap_or_default().into(),
        t.u32(log_record::LINE, 0)?,
    ))
}

/// Decodes `GuestFunctionDetails` (tests only: the host is the real reader).
#[cfg(test)]
pub(crate) fn decode_guest_function_details(payload: &[u8]) -> WireResult<Vec<(String, Vec<u8>, u8)>> {
    let root = Table::root(payload)?;
    let mut out = Vec::new();
    if let Some(functions) = root.tables(details::FUNCTIONS)? {
        for i in 0..functions.len() {
            let f = functions.get(i)?;
            out.push((
                f.str(details::NAME)?.unwrap_or_default().into(),
                f.bytes(details::PARAMETERS)?.unwrap_or_default().into(),
                f.u8(details::RETURN_TYPE, ValueType::Void as u8)?,
            ));
        }
    }
    Ok(out)
}

/// Decodes a whole `FunctionCall` into owned parts (tests only).
#[cfg(test)]
pub(crate) fn decode_function_call(payload: &[u8]) -> WireResult<(String, Vec<Value>, u8)> {
    let view = FunctionCallView::decode(payload)?;
    let args = (0..view.argument_count()).map(|i| view.argument(i)).collect::<WireResult<Vec<_>>>()?;
    Ok((view.function_name.into(), args, view.return_type))
}

#[cfg(test)]
mod tests;
