//! Backend node addresses, written `host:port/dbname` in the config (DESIGN §4).
//!
//! IPv6 hosts are written in brackets, `[::1]:5432/app`; [`NodeAddr`] stores the host
//! without them and `Display` puts them back, so parsing and printing round-trip. The
//! same text names nodes in metrics labels and admin output.

use std::fmt;
use std::str::FromStr;

/// One backend database server and the database on it: `host:port/dbname`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeAddr {
    /// Host name or IP address, without IPv6 brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database name on that server.
    pub dbname: String,
}

/// Why a string is not a `host:port/dbname` node address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad node address \"{input}\": {reason} (expected host:port/dbname)")]
pub struct NodeAddrError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl NodeAddr {
    /// `host:port` (with brackets for IPv6), the form socket APIs and URLs take.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for NodeAddr {
    type Err = NodeAddrError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| NodeAddrError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let (host, rest) = split_host(input).map_err(fail)?;
        let (port, dbname) = rest
            .split_once('/')
            .ok_or_else(|| fail("missing /dbname"))?;
        if port.is_empty() {
            return Err(fail("missing port"));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| fail(&format!("bad port \"{port}\"")))?;
        if dbname.is_empty() {
            return Err(fail("empty dbname"));
        }
        Ok(NodeAddr {
            host: host.to_owned(),
            port,
            dbname: dbname.to_owned(),
        })
    }
}

/// Splits `host:rest` or `[v6host]:rest` into host and `rest`.
fn split_host(input: &str) -> Result<(&str, &str), &'static str> {
    let (host, rest) = if let Some(bracketed) = input.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("unclosed [")?;
        let rest = after.strip_prefix(':').ok_or("missing :port after ]")?;
        (host, rest)
    } else {
        let authority = input.split('/').next().unwrap_or(input);
        let (host, _) = authority.split_once(':').ok_or("missing :port")?;
        if authority.matches(':').count() > 1 {
            return Err("IPv6 hosts must be in brackets, e.g. [::1]:5432/app");
        }
        (host, &input[host.len() + 1..])
    };
    if host.is_empty() {
        return Err("empty host");
    }
    Ok((host, rest))
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host_port(), self.dbname)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(host: &str, port: u16, dbname: &str) -> NodeAddr {
        NodeAddr {
            host: host.into(),
            port,
            dbname: dbname.into(),
        }
    }

    #[test]
    fn parses_and_displays_round_trip() {
        let cases = [
            ("127.0.0.1:15432/app", addr("127.0.0.1", 15432, "app")),
            (
                "db-1.internal:3306/shop",
                addr("db-1.internal", 3306, "shop"),
            ),
            ("[::1]:5432/app", addr("::1", 5432, "app")),
            ("[fe80::1%eth0]:5432/app", addr("fe80::1%eth0", 5432, "app")),
        ];
        for (text, expected) in cases {
            let parsed: NodeAddr = text.parse().expect(text);
            assert_eq!(parsed, expected);
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn host_port_brackets_ipv6() {
        assert_eq!(addr("::1", 5432, "app").host_port(), "[::1]:5432");
        assert_eq!(addr("localhost", 5432, "app").host_port(), "localhost:5432");
    }

    #[test]
    fn rejects_malformed_addresses() {
        let cases = [
            ("localhost5432", "missing :port"),
            ("localhost:5432", "missing /dbname"),
            ("localhost:5432/", "empty dbname"),
            (":5432/app", "empty host"),
            ("localhost:/app", "missing port"),
            ("localhost:99999/app", "bad port \"99999\""),
            ("localhost:0/app", "bad port \"0\""),
            ("localhost:http/app", "bad port \"http\""),
            ("::1:5432/app", "brackets"),
            ("[::1:5432/app", "unclosed ["),
            ("[::1]5432/app", "missing :port after ]"),
            ("[]:5432/app", "empty host"),
        ];
        for (text, reason) in cases {
            let err = text.parse::<NodeAddr>().expect_err(text);
            assert!(err.reason.contains(reason), "{text}: {err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("bad node address \"{text}\"")),
                "{err}"
            );
        }
    }
}
