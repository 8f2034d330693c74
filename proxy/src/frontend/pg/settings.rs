//! The proxy's own session settings, `shardwire.*` (DESIGN §6): intercepted, validated and
//! answered by the proxy, never forwarded. Values are checked with the same parsers as the
//! config file, so a session accepts exactly the words the config does.

use std::time::Duration;

use shardwire_conf::{format_duration, parse_duration, ReadConsistency};

/// `shardwire.*` values of one session.
#[derive(Clone, Debug)]
pub struct ShardwireSettings {
    /// `shardwire.read_consistency`.
    pub read_consistency: ReadConsistency,
    /// `shardwire.max_staleness`.
    pub max_staleness: Duration,
    /// `shardwire.max_wait`.
    pub max_wait: Duration,
    /// `shardwire.write_concern`.
    pub write_concern: String,
    /// `shardwire.write_concern_timeout`.
    pub write_concern_timeout: Duration,
}

/// Names accepted after `shardwire.`.
pub const NAMES: &[&str] = &[
    "read_consistency",
    "max_staleness",
    "max_wait",
    "write_concern",
    "write_concern_timeout",
];

impl ShardwireSettings {
    /// Defaults from the proxy config.
    pub fn new(read_consistency: ReadConsistency, max_staleness: Duration) -> Self {
        ShardwireSettings {
            read_consistency,
            max_staleness,
            max_wait: Duration::from_millis(50),
            write_concern: "primary".to_string(),
            write_concern_timeout: Duration::from_secs(5),
        }
    }

    /// Sets `shardwire.<name>` from its text value; the error names the setting.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let value = unquote(value);
        match name {
            "read_consistency" => {
                self.read_consistency = value
                    .parse()
                    .map_err(|e| format!("invalid value for shardwire.read_consistency: {e}"))?;
            }
            "max_staleness" | "max_wait" | "write_concern_timeout" => {
                let d = parse_duration(&value)
                    .map_err(|e| format!("invalid value for shardwire.{name}: {e}"))?;
                match name {
                    "max_staleness" => self.max_staleness = d,
                    "max_wait" => self.max_wait = d,
                    _ => self.write_concern_timeout = d,
                }
            }
            "write_concern" => {
                let ok = matches!(value.as_str(), "primary" | "majority" | "all")
                    || value.parse::<u32>().is_ok();
                if !ok {
                    return Err(format!(
                        "invalid value for shardwire.write_concern: \"{value}\" (expected primary, majority, all or a number)"
                    ));
                }
                self.write_concern = value;
            }
            other => return Err(unknown(other)),
        }
        Ok(())
    }

    /// The value shown by `SHOW shardwire.<name>`.
    pub fn show(&self, name: &str) -> Result<String, String> {
        Ok(match name {
            "read_consistency" => self.read_consistency.to_string(),
            "max_staleness" => format_duration(self.max_staleness),
            "max_wait" => format_duration(self.max_wait),
            "write_concern" => self.write_concern.clone(),
            "write_concern_timeout" => format_duration(self.write_concern_timeout),
            other => return Err(unknown(other)),
        })
    }
}

fn unknown(name: &str) -> String {
    format!(
        "unrecognized configuration parameter \"shardwire.{name}\" (known: {})",
        NAMES.join(", ")
    )
}

/// Strips SQL quotes: `'session'` → `session`.
fn unquote(value: &str) -> String {
    let v = value.trim();
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].replace("''", "'")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated_and_shown() {
        let mut s = ShardwireSettings::new(ReadConsistency::Strong, Duration::from_secs(1));
        s.set("read_consistency", "'session'").unwrap();
        assert_eq!(s.show("read_consistency").unwrap(), "session");
        s.set("max_staleness", "'250ms'").unwrap();
        assert_eq!(s.show("max_staleness").unwrap(), "250ms");
        assert!(s
            .set("read_consistency", "'sometimes'")
            .unwrap_err()
            .contains("read_consistency"));
        assert!(s.set("write_concern", "'most'").is_err());
        assert!(s
            .set("colour", "'red'")
            .unwrap_err()
            .contains("shardwire.colour"));
    }
}
