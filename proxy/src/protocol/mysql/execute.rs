//! COM_STMT_EXECUTE: reading a client's execute (statement id, cursor flags, NULL bitmap,
//! parameter types and values as borrowed slices), rewriting it for another backend
//! connection (another statement id, no cursor, types always bound, value bytes copied
//! unchanged), and turning a binary parameter into a shard-key value.
//!
//! Value encodings by parameter type: TINY 1 byte; SHORT, YEAR 2; LONG, INT24, FLOAT 4;
//! LONGLONG, DOUBLE 8; DATE, DATETIME, TIMESTAMP, TIME a 1-byte length and that many
//! bytes; NULL none; everything else (strings, decimals, blobs, JSON …) a
//! length-encoded string. A parameter sent with COM_STMT_SEND_LONG_DATA has no bytes
//! here at all, so the caller says which ones were.

use bytes::{BufMut, BytesMut};

use super::consts::{column_type as ty, com, cursor, PARAM_UNSIGNED};
use super::lenenc::{Cursor, Malformed};
use super::packet::framed;

/// What the caller knows about the statement's parameters.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParamContext<'a> {
    /// Number of parameters (from COM_STMT_PREPARE_OK).
    pub count: usize,
    /// Types remembered from the last execute that bound them (2 bytes per parameter);
    /// used when this execute does not send types.
    pub types: Option<&'a [u8]>,
    /// Parameters whose data came with COM_STMT_SEND_LONG_DATA since the last execute
    /// or reset (`long_data[i]`; missing entries are false).
    pub long_data: &'a [bool],
}

/// One parameter's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamValue<'a> {
    /// NULL (its bit in the NULL bitmap).
    Null,
    /// The value bytes, without a length prefix.
    Value(&'a [u8]),
    /// Sent earlier with COM_STMT_SEND_LONG_DATA; no bytes in this packet.
    LongData,
}

/// A parsed COM_STMT_EXECUTE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execute<'a> {
    /// Statement id (MariaDB: 0xFFFFFFFF means the statement prepared last).
    pub stmt_id: u32,
    /// Cursor flags ([`cursor`]).
    pub flags: u8,
    /// Iteration count (always 1).
    pub iteration_count: u32,
    /// NULL bitmap, one bit per parameter (empty without parameters).
    pub null_bitmap: &'a [u8],
    /// Whether this packet sent the parameter types (remember them for later executes).
    pub new_params_bound: bool,
    /// The types in effect (2 bytes per parameter: type, then 0x80 for unsigned): this
    /// packet's when bound, else the remembered ones; `None` without parameters.
    pub types: Option<&'a [u8]>,
    /// Each parameter's value.
    pub values: Vec<ParamValue<'a>>,
    /// The value bytes as sent, copied unchanged by [`rebuild_execute`].
    pub values_raw: &'a [u8],
}

/// Reads a COM_STMT_EXECUTE payload (command byte included).
pub fn parse_execute<'a>(
    payload: &'a [u8],
    ctx: ParamContext<'a>,
) -> Result<Execute<'a>, Malformed> {
    let mut c = Cursor::new(payload, "COM_STMT_EXECUTE");
    if c.u8()? != com::STMT_EXECUTE {
        return Err(c.err());
    }
    let stmt_id = c.u32()?;
    let flags = c.u8()?;
    let iteration_count = c.u32()?;
    let mut exec = Execute {
        stmt_id,
        flags,
        iteration_count,
        null_bitmap: &[],
        new_params_bound: false,
        types: None,
        values: Vec::new(),
        values_raw: &[],
    };
    if ctx.count == 0 {
        return Ok(exec);
    }
    exec.null_bitmap = c.bytes(ctx.count.div_ceil(8))?;
    exec.new_params_bound = c.u8()? != 0;
    let types_len = ctx.count.checked_mul(2).ok_or(c.err())?;
    let types = if exec.new_params_bound {
        c.bytes(types_len)?
    } else {
        ctx.types.filter(|t| t.len() == types_len).ok_or(c.err())?
    };
    exec.types = Some(types);
    exec.values_raw = c.rest();
    exec.values.reserve(ctx.count);
    for i in 0..ctx.count {
        let null = exec
            .null_bitmap
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0);
        let value = if null {
            ParamValue::Null
        } else if ctx.long_data.get(i).copied().unwrap_or(false) {
            ParamValue::LongData
        } else {
            ParamValue::Value(read_value(
                &mut c,
                types.get(2 * i).copied().unwrap_or(ty::NULL),
            )?)
        };
        exec.values.push(value);
    }
    Ok(exec)
}

fn read_value<'a>(c: &mut Cursor<'a>, t: u8) -> Result<&'a [u8], Malformed> {
    match t {
        ty::NULL => Ok(&[]),
        ty::TINY => c.bytes(1),
        ty::SHORT | ty::YEAR => c.bytes(2),
        ty::LONG | ty::INT24 | ty::FLOAT => c.bytes(4),
        ty::LONGLONG | ty::DOUBLE => c.bytes(8),
        ty::DATE | ty::DATETIME | ty::TIMESTAMP | ty::TIME => {
            let n = c.u8()?;
            c.bytes(usize::from(n))
        }
        _ => c.lenenc_str(),
    }
}

/// Appends `exec` as a COM_STMT_EXECUTE packet for statement `stmt_id` on another
/// connection: no cursor, parameter types always bound (`types`, usually
/// `exec.types`), NULL bitmap and value bytes unchanged. Long-data parameters must be
/// re-sent to that statement first.
pub fn rebuild_execute(
    out: &mut BytesMut,
    seq: &mut u8,
    exec: &Execute<'_>,
    stmt_id: u32,
    types: &[u8],
) {
    framed(out, seq, |b| {
        b.put_u8(com::STMT_EXECUTE);
        b.put_u32_le(stmt_id);
        b.put_u8(cursor::NO_CURSOR);
        b.put_u32_le(exec.iteration_count);
        if !exec.null_bitmap.is_empty() {
            b.put_slice(exec.null_bitmap);
            b.put_u8(1);
            b.put_slice(types);
            b.put_slice(exec.values_raw);
        }
    });
}

/// A parameter as a shard-key value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKey<'a> {
    /// SQL NULL.
    Null,
    /// An integer parameter (signed or unsigned as flagged).
    Int(i128),
    /// A string-like parameter (strings, decimals, enums, JSON, blobs), as sent.
    Text(&'a [u8]),
    /// A type that is no key (float, date, bit …), or long data.
    Unsupported,
}

/// The shard-key view of a parameter of type `t` with flag byte `flag`.
pub fn param_key(t: u8, flag: u8, value: ParamValue<'_>) -> ParamKey<'_> {
    let bytes = match value {
        ParamValue::Null => return ParamKey::Null,
        ParamValue::LongData => return ParamKey::Unsupported,
        ParamValue::Value(v) => v,
    };
    let unsigned = flag & PARAM_UNSIGNED != 0;
    let int = |n: usize| -> Option<i128> {
        let b = bytes.get(..n)?;
        let mut le = [0u8; 16];
        le[..n].copy_from_slice(b);
        let negative = !unsigned && b.last().is_some_and(|x| x & 0x80 != 0);
        if negative {
            le[n..].fill(0xFF);
        }
        Some(i128::from_le_bytes(le))
    };
    let width = match t {
        ty::TINY => 1,
        ty::SHORT | ty::YEAR => 2,
        ty::LONG | ty::INT24 => 4,
        ty::LONGLONG => 8,
        ty::DECIMAL
        | ty::NEWDECIMAL
        | ty::VARCHAR
        | ty::VAR_STRING
        | ty::STRING
        | ty::ENUM
        | ty::SET
        | ty::TINY_BLOB
        | ty::MEDIUM_BLOB
        | ty::LONG_BLOB
        | ty::BLOB
        | ty::JSON => return ParamKey::Text(bytes),
        ty::NULL => return ParamKey::Null,
        _ => return ParamKey::Unsupported,
    };
    int(width).map_or(ParamKey::Unsupported, ParamKey::Int)
}

impl<'a> Execute<'a> {
    /// The shard-key view of parameter `i`; `None` when there is no such parameter.
    pub fn key(&self, i: usize) -> Option<ParamKey<'a>> {
        let value = *self.values.get(i)?;
        let types = self.types?;
        let t = types.get(2 * i).copied()?;
        let flag = types.get(2 * i + 1).copied()?;
        Some(param_key(t, flag, value))
    }
}

#[cfg(test)]
#[path = "execute_tests.rs"]
mod tests;
