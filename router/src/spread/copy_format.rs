//! The data format of a `COPY` ([`CopyFormat`]) from its options: PostgreSQL's
//! defaults for text and CSV, the options that change how rows and the key field are
//! read, and the refusal of those shardwire cannot split by (binary format, a key
//! forced to or from NULL, `DEFAULT` markers, other encodings, `ON_ERROR`, options it
//! does not know).

use super::copy_options::{Opt, Value};
use crate::error::{sqlstate, RouteError};

/// The data format of a `COPY`, as its options set it (PostgreSQL's defaults otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFormat {
    /// `FORMAT csv` (else text).
    pub csv: bool,
    /// The field delimiter: tab for text, `,` for CSV.
    pub delimiter: u8,
    /// The string that stands for NULL: `\N` for text, empty for CSV.
    pub null: Vec<u8>,
    /// The first line is a header (sent to every shard, since each runs the client's
    /// statement with the same `HEADER` option).
    pub header: bool,
    /// The CSV quote character (`"`).
    pub quote: u8,
    /// The CSV escape character (the quote character unless set).
    pub escape: u8,
}

/// Why options cannot be split by.
pub(super) enum Refusal {
    /// Something shardwire cannot split exactly (named for the message).
    Unsupported(String),
    /// A value PostgreSQL refuses too.
    Invalid(RouteError),
}

/// The data format the options set; `key` is the shard-key column.
pub(super) fn format(options: &[Opt], key: &str) -> Result<CopyFormat, Refusal> {
    let invalid =
        |what: String| Refusal::Invalid(RouteError::new(sqlstate::INVALID_PARAMETER_VALUE, what));
    let mut csv = false;
    let (mut delimiter, mut null, mut quote, mut escape) = (None, None, None, None);
    let mut header = false;
    for (name, value) in options {
        let text = match value {
            Value::Str(bytes) => Some(bytes.clone()),
            Value::Word(word) => Some(word.clone().into_bytes()),
            _ => None,
        };
        match name.as_str() {
            "format" => match text.as_deref() {
                Some(b"text") => csv = false,
                Some(b"csv") => csv = true,
                Some(b"binary") => return Err(Refusal::Unsupported("FORMAT binary".into())),
                _ => {
                    let name = String::from_utf8_lossy(text.as_deref().unwrap_or_default());
                    return Err(invalid(format!("COPY format \"{name}\" not recognized")));
                }
            },
            "header" => {
                header = !matches!(text.as_deref(), Some(b"false" | b"off" | b"0"));
            }
            "delimiter" => delimiter = Some(one_byte(text, "delimiter").map_err(invalid)?),
            "quote" => quote = Some(one_byte(text, "quote").map_err(invalid)?),
            "escape" => escape = Some(one_byte(text, "escape").map_err(invalid)?),
            "null" => null = text,
            "freeze" | "force_quote" | "log_verbosity" | "reject_limit" => {}
            "on_error" if text.as_deref() == Some(b"stop") => {}
            "encoding" if text.as_deref().is_some_and(is_utf8_name) => {}
            "force_not_null" | "force_null" => {
                let forced = match value {
                    Value::Star => true,
                    Value::Columns(names) => names.iter().any(|n| n == key),
                    _ => false,
                };
                if forced {
                    return Err(Refusal::Unsupported(format!(
                        "{} on its shard key \"{key}\"",
                        name.to_ascii_uppercase()
                    )));
                }
            }
            "on_error" | "encoding" | "default" => {
                return Err(Refusal::Unsupported(name.to_ascii_uppercase()));
            }
            other => {
                return Err(Refusal::Unsupported(format!(
                    "the option {} (unknown to shardwire)",
                    other.to_ascii_uppercase()
                )))
            }
        }
    }
    let quote = quote.unwrap_or(b'"');
    Ok(CopyFormat {
        csv,
        delimiter: delimiter.unwrap_or(if csv { b',' } else { b'\t' }),
        null: null.unwrap_or_else(|| if csv { Vec::new() } else { b"\\N".to_vec() }),
        header,
        quote,
        escape: escape.unwrap_or(quote),
    })
}

/// The one byte of a single-character option, as PostgreSQL requires.
fn one_byte(value: Option<Vec<u8>>, option: &str) -> Result<u8, String> {
    match value.as_deref() {
        Some([byte]) if !matches!(byte, b'\r' | b'\n') => Ok(*byte),
        _ => Err(format!("COPY {option} must be a single one-byte character")),
    }
}

fn is_utf8_name(name: &[u8]) -> bool {
    matches!(
        name.to_ascii_lowercase().as_slice(),
        b"utf8" | b"utf-8" | b"unicode"
    )
}
