//! A path-aware view of one TOML table, used by `parse` to turn `toml::Table`s into the
//! model. Every accessor knows the key path of what it reads (`databases[0].shards[1]`),
//! so type errors, missing keys and unknown keys are reported at the exact place —
//! something serde's derived `Deserialize` with `deny_unknown_fields` cannot give.

use std::fmt::Display;
use std::time::Duration;

use toml::{Table, Value};

use crate::duration::parse_duration;
use crate::error::ConfigError;

type Result<T> = std::result::Result<T, ConfigError>;

/// One TOML table and the key path that leads to it.
pub(crate) struct Section<'a> {
    path: String,
    table: &'a Table,
}

impl<'a> Section<'a> {
    /// The document root, which may hold only `allowed` keys.
    pub(crate) fn root(table: &'a Table, allowed: &[&str]) -> Result<Self> {
        Section::new(String::new(), table, allowed)
    }

    /// The table at `path`, which may hold only `allowed` keys.
    fn new(path: String, table: &'a Table, allowed: &[&str]) -> Result<Self> {
        let section = Section { path, table };
        if let Some(key) = table.keys().find(|key| !allowed.contains(&key.as_str())) {
            let hint = match closest(key, allowed) {
                Some(near) => format!("did you mean \"{near}\"?"),
                None => format!("expected one of: {}", allowed.join(", ")),
            };
            return Err(section.key_error(key, format!("unknown key \"{key}\" ({hint})")));
        }
        Ok(section)
    }

    /// Key path of `key` in this table, e.g. `databases[0].name`.
    pub(crate) fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// An error about this table as a whole.
    pub(crate) fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.path.clone(), message)
    }

    /// An error about the value of `key`.
    pub(crate) fn key_error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.key_path(key), message)
    }

    /// Whether `key` is present.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// A required value, or `missing key "<key>"`.
    pub(crate) fn required<T>(&self, key: &str, value: Result<Option<T>>) -> Result<T> {
        value?.ok_or_else(|| self.error(format!("missing key \"{key}\"")))
    }

    /// An optional string.
    pub(crate) fn opt_string(&self, key: &str) -> Result<Option<String>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(self.key_error(key, expected("a string", other))),
        }
    }

    /// An optional string turned into a `T` by `parse`; its error becomes the message.
    pub(crate) fn opt_parsed<T, E: Display>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> std::result::Result<T, E>,
    ) -> Result<Option<T>> {
        match self.opt_string(key)? {
            None => Ok(None),
            Some(text) => parse(&text)
                .map(Some)
                .map_err(|err| self.key_error(key, err.to_string())),
        }
    }

    /// An optional boolean.
    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Boolean(flag)) => Ok(Some(*flag)),
            Some(other) => Err(self.key_error(key, expected("true or false", other))),
        }
    }

    /// An optional non-negative integer that fits a `u32`.
    pub(crate) fn opt_u32(&self, key: &str) -> Result<Option<u32>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Integer(n)) => u32::try_from(*n).map(Some).map_err(|_| {
                self.key_error(key, format!("{n} is out of range (0 to {})", u32::MAX))
            }),
            Some(other) => Err(self.key_error(key, expected("an integer", other))),
        }
    }

    /// An optional duration string such as `"250ms"`; a bare number gets a hint.
    pub(crate) fn opt_duration(&self, key: &str) -> Result<Option<Duration>> {
        match self.table.get(key) {
            Some(number @ (Value::Integer(_) | Value::Float(_))) => Err(self.key_error(
                key,
                format!(
                    "a duration needs a unit: write \"{number}ms\" or \"{number}s\", not {number}"
                ),
            )),
            _ => self.opt_parsed(key, parse_duration),
        }
    }

    /// An optional array of strings, each turned into a `T` by `parse`. Missing means empty.
    pub(crate) fn opt_list<T, E: Display>(
        &self,
        key: &str,
        mut parse: impl FnMut(&str) -> std::result::Result<T, E>,
    ) -> Result<Vec<T>> {
        let items = match self.table.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(self.key_error(key, expected("an array of strings", other))),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("{}[{i}]", self.key_path(key));
            let Value::String(text) = item else {
                return Err(ConfigError::invalid(path, expected("a string", item)));
            };
            out.push(parse(text).map_err(|err| ConfigError::invalid(path, err.to_string()))?);
        }
        Ok(out)
    }

    /// An optional sub-table (`[key]`), which may hold only `allowed` keys.
    pub(crate) fn opt_table(&self, key: &str, allowed: &[&str]) -> Result<Option<Section<'a>>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Table(table)) => Section::new(self.key_path(key), table, allowed).map(Some),
            Some(other) => Err(self.key_error(key, expected(&format!("a table ([{key}])"), other))),
        }
    }

    /// An optional array of tables (`[[key]]`), each of which may hold only `allowed`
    /// keys. Missing means empty.
    pub(crate) fn opt_tables(&self, key: &str, allowed: &[&str]) -> Result<Vec<Section<'a>>> {
        let full = self.key_path(key);
        let items = match self.table.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                let what = format!("an array of tables ([[{full}]])");
                return Err(self.key_error(key, expected(&what, other)));
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("{full}[{i}]");
            let Value::Table(table) = item else {
                return Err(ConfigError::invalid(path, expected("a table", item)));
            };
            out.push(Section::new(path, table, allowed)?);
        }
        Ok(out)
    }
}

/// `expected <what>, found <value>`.
fn expected(what: &str, found: &Value) -> String {
    let found = match found {
        Value::String(text) => format!("string \"{text}\""),
        Value::Integer(n) => format!("integer {n}"),
        Value::Float(x) => format!("float {x}"),
        Value::Boolean(flag) => format!("boolean {flag}"),
        Value::Datetime(when) => format!("datetime {when}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Table(_) => "a table".to_owned(),
    };
    format!("expected {what}, found {found}")
}

/// The allowed key nearest to a misspelt `key`, if one is close enough to be a typo.
fn closest<'k>(key: &str, allowed: &[&'k str]) -> Option<&'k str> {
    let limit = (key.chars().count() / 3).clamp(1, 3);
    allowed
        .iter()
        .map(|candidate| (edit_distance(key, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("postgres_lisen", "postgres_listen"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn closest_suggests_only_near_keys() {
        let keys = ["primary", "replicas"];
        assert_eq!(closest("primry", &keys), Some("primary"));
        assert_eq!(closest("replica", &keys), Some("replicas"));
        assert_eq!(closest("weight", &keys), None);
    }
}
