//! Session settings under transaction pooling. Every `SET` a client makes (and the
//! settings in its startup packet) is recorded here, in order, as `name` → SQL value text;
//! before a statement runs on a server connection whose applied settings differ, the proxy
//! replays them (`RESET ALL; SET …`) in the same write as the statement.

use std::fmt::Write;

/// Ordered `SET name TO value` pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionParams {
    list: Vec<(String, String)>,
}

/// Startup parameters that are not settings.
const NOT_SETTINGS: &[&str] = &["user", "database", "options", "replication"];

impl SessionParams {
    /// Settings from a startup packet: plain parameters and `-c name=value` in `options`.
    /// Names under `shardwire.` are returned separately: the proxy handles them itself.
    pub fn from_startup(params: &[(String, String)]) -> (SessionParams, Vec<(String, String)>) {
        let mut out = SessionParams::default();
        let mut own = Vec::new();
        let mut add = |name: &str, value: &str| {
            let name = name.to_ascii_lowercase();
            if name.starts_with("shardwire.") {
                own.push((name, value.to_string()));
            } else {
                out.set(&name, &quote_literal(value));
            }
        };
        for (name, value) in params {
            if name == "options" {
                for (k, v) in parse_options(value) {
                    add(&k, &v);
                }
            } else if !NOT_SETTINGS.contains(&name.as_str()) {
                add(name, value);
            }
        }
        (out, own)
    }

    /// Records `SET name TO value` (value as SQL text).
    pub fn set(&mut self, name: &str, value: &str) {
        match self.list.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.list.push((name.to_string(), value.to_string())),
        }
    }

    /// Forgets `name` (RESET name).
    pub fn reset(&mut self, name: &str) {
        self.list.retain(|(n, _)| n != name);
    }

    /// Forgets everything (RESET ALL, DISCARD ALL).
    pub fn reset_all(&mut self) {
        self.list.clear();
    }

    /// The pairs, in the order they were first set.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.list
    }

    /// SQL that brings a connection with `applied` settings to these, or None if equal.
    pub fn sync_sql(&self, applied: &[(String, String)]) -> Option<String> {
        if self.list == applied {
            return None;
        }
        let mut sql = String::new();
        if !applied.is_empty() {
            sql.push_str("RESET ALL;");
        }
        for (name, value) in &self.list {
            let _ = write!(sql, "SET {} TO {value};", quote_ident(name));
        }
        Some(sql)
    }
}

/// `-c name=value` / `--name=value` pairs of a libpq `options` string (backslash escapes
/// spaces, as in PostgreSQL).
pub fn parse_options(options: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut out = Vec::new();
    let mut iter = words.into_iter();
    while let Some(w) = iter.next() {
        let setting = if w == "-c" {
            iter.next()
        } else if let Some(rest) = w.strip_prefix("-c") {
            Some(rest.to_string())
        } else {
            w.strip_prefix("--").map(str::to_string)
        };
        if let Some((k, v)) = setting.as_deref().and_then(|s| s.split_once('=')) {
            out.push((k.replace('-', "_"), v.to_string()));
        }
    }
    out
}

/// A string literal: `'it''s'`.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// An identifier, quoted unless it is a plain lower-case name (dots allowed for
/// `extension.setting`).
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if plain && !name.is_empty() {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_options_become_settings() {
        let params = vec![
            ("user".to_string(), "app".to_string()),
            ("application_name".to_string(), "psql".to_string()),
            (
                "options".to_string(),
                "-c search_path=s1 --statement-timeout=5s -c shardwire.read_consistency=session"
                    .to_string(),
            ),
        ];
        let (p, own) = SessionParams::from_startup(&params);
        assert_eq!(
            p.pairs(),
            [
                ("application_name".to_string(), "'psql'".to_string()),
                ("search_path".to_string(), "'s1'".to_string()),
                ("statement_timeout".to_string(), "'5s'".to_string()),
            ]
        );
        assert_eq!(
            own,
            [(
                "shardwire.read_consistency".to_string(),
                "session".to_string()
            )]
        );
    }

    #[test]
    fn sync_sql_resets_only_when_something_was_applied() {
        let mut p = SessionParams::default();
        assert_eq!(p.sync_sql(&[]), None);
        p.set("search_path", "s1, public");
        assert_eq!(p.sync_sql(&[]).unwrap(), "SET search_path TO s1, public;");
        let applied = vec![("timezone".to_string(), "'UTC'".to_string())];
        assert_eq!(
            p.sync_sql(&applied).unwrap(),
            "RESET ALL;SET search_path TO s1, public;"
        );
        assert_eq!(p.sync_sql(p.pairs()), None);
    }
}
