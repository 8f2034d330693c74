//! Where the load goes: `postgres://` and `mysql://` URLs, parsed into their parts, and
//! their redacted form for everything the bench prints or writes.
//!
//! Passwords must never reach a terminal, a report or an error message, so the only way
//! to turn a target back into text is [`Target::redacted`], and parse errors quote the
//! URL through [`redact`].

use std::fmt;

/// Which wire protocol (and driver) a target speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL, through tokio-postgres.
    Postgres,
    /// MySQL / MariaDB, through mysql_async.
    Mysql,
}

impl Engine {
    /// The URL scheme used when printing.
    pub fn scheme(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
        }
    }
}

/// A parsed `scheme://user[:password]@host[:port][/dbname]` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// Protocol.
    pub engine: Engine,
    /// User name (percent-decoded).
    pub user: String,
    /// Password (percent-decoded), if the URL has one.
    pub password: Option<String>,
    /// Host name or IP address (without IPv6 brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database name; empty when the URL names none.
    pub dbname: String,
}

/// Never shows the password, even in `{:?}` output of a containing struct.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Target {
    /// Parses a target URL; errors quote the URL with its password hidden.
    pub fn parse(url: &str) -> Result<Target, String> {
        let bad = |why: &str| format!("bad URL {}: {why}", redact(url));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected postgres://… or mysql://…"))?;
        let engine = match scheme {
            "postgres" | "postgresql" => Engine::Postgres,
            "mysql" | "mariadb" => Engine::Mysql,
            _ => return Err(bad("the scheme must be postgres:// or mysql://")),
        };
        // The userinfo ends at the last '@': a password may hold '/', '?' or '@'.
        let (userinfo, after) = split_userinfo(rest)
            .ok_or_else(|| bad("a user name is required (user[:password]@host)"))?;
        let (after, query) = match after.split_once('?') {
            Some((after, query)) => (after, Some(query)),
            None => (after, None),
        };
        check_query(query).map_err(|why| bad(&why))?;
        let (hostport, path) = after.split_once('/').unwrap_or((after, ""));
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(decode(password).map_err(|w| bad(&w))?)),
            None => (userinfo, None),
        };
        if user.is_empty() {
            return Err(bad("the user name is empty"));
        }
        let (host, port) = split_host_port(hostport).map_err(|why| bad(&why))?;
        Ok(Target {
            engine,
            user: decode(user).map_err(|w| bad(&w))?,
            password,
            host,
            port: port.unwrap_or_else(|| engine.default_port()),
            dbname: decode(path).map_err(|w| bad(&w))?,
        })
    }

    /// The URL with the password replaced by `***`: safe to print and to store.
    pub fn redacted(&self) -> String {
        let password = if self.password.is_some() { ":***" } else { "" };
        format!(
            "{}://{}{password}@{}/{}",
            self.engine.scheme(),
            self.user,
            self.host_port(),
            self.dbname
        )
    }

    /// `host:port` (IPv6 hosts in brackets), used as a default run name.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Hides the password of anything shaped like a URL, parsable or not: for messages
/// about input we could not parse.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let Some((userinfo, after)) = split_userinfo(rest) else {
        return url.to_string();
    };
    let Some((user, _)) = userinfo.split_once(':') else {
        return url.to_string();
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{user}:***@{after}"),
        None => format!("{user}:***@{after}"),
    }
}

/// Splits what follows `scheme://` at the last '@' (the password may contain '/', '?'
/// and '@'): (userinfo, host and the rest). `None` without an '@'.
fn split_userinfo(rest: &str) -> Option<(&str, &str)> {
    rest.rsplit_once('@')
}

/// We connect without TLS, so only the `sslmode` values that allow that are accepted;
/// anything else would silently change what is measured.
fn check_query(query: Option<&str>) -> Result<(), String> {
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", "disable" | "allow" | "prefer")) => {}
            _ => return Err(format!("unsupported URL parameter {pair:?}")),
        }
    }
    Ok(())
}

fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("unclosed [ in the host")?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err("unexpected text after the IPv6 host".into()),
        };
        (host, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| format!("bad port {p:?}")))
        .transpose()?;
    Ok((host.to_string(), port))
}

/// Percent-decoding, so passwords with `@`, `:` or `/` can be written in a URL.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("bad %-escape")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "%-escapes are not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn postgres_url_parses_into_parts() {
        let t = Target::parse("postgres://app:s%40cret@127.0.0.1:6432/app").unwrap();
        assert_eq!(t.engine, Engine::Postgres);
        assert_eq!(t.user, "app");
        assert_eq!(t.password.as_deref(), Some("s@cret"));
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 6432));
        assert_eq!(t.dbname, "app");
    }

    #[test]
    fn defaults_and_other_forms() {
        let t = Target::parse("mysql://root@db.example").unwrap();
        assert_eq!(
            (t.engine, t.port, t.password.clone()),
            (Engine::Mysql, 3306, None)
        );
        assert_eq!(t.dbname, "");
        let t = Target::parse("postgresql://u:p@[::1]:7000/x?sslmode=disable").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 7000));
        assert_eq!(t.host_port(), "[::1]:7000");
        assert_eq!(Target::parse("postgres://u@h/d").unwrap().port, 5432);
    }

    #[test]
    fn redacted_form_hides_the_password() {
        let t = Target::parse("postgres://app:app@127.0.0.1:6432/app").unwrap();
        assert_eq!(t.redacted(), "postgres://app:***@127.0.0.1:6432/app");
        assert_eq!(format!("{t:?}"), t.redacted());
        let t = Target::parse("mysql://root@127.0.0.1:3306/app").unwrap();
        assert_eq!(t.redacted(), "mysql://root@127.0.0.1:3306/app");
    }

    #[test]
    fn parse_errors_never_show_the_password() {
        for bad in [
            "postgres://app:hunter2@h:notaport/app",
            "redis://app:hunter2@h/app",
            "postgres://app:hunter2@/app",
            "postgres://app:hunter2@h/app?options=x",
            "postgres://:hunter2@h/app",
        ] {
            let err = Target::parse(bad).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("***"), "{err}");
        }
        assert!(Target::parse("127.0.0.1:6432").is_err());
    }

    #[test]
    fn redact_handles_unparsable_text() {
        assert_eq!(redact("postgres://a:b@h/x"), "postgres://a:***@h/x");
        assert_eq!(redact("postgres://a:b:c@h"), "postgres://a:***@h");
        assert_eq!(redact("postgres://a@h/x:y"), "postgres://a@h/x:y");
        assert_eq!(redact("not a url"), "not a url");
        assert_eq!(redact("postgres://a:p/ss@h/x"), "postgres://a:***@h/x");
        assert_eq!(redact("postgres://a:p?ss@h/x"), "postgres://a:***@h/x");
        assert_eq!(redact("a:pw@h"), "a:***@h");
    }

    #[test]
    fn passwords_with_slash_question_mark_or_at_never_show() {
        for (bad, secret) in [
            ("postgres://app:pa/ss@h/app?options=x", "pa/ss"),
            ("postgres://app:p?ss@h:notaport/app", "p?ss"),
            ("postgres://app:p@ss/x@h:99999/app", "p@ss/x"),
            ("redis://app:hun/ter2@h/app", "hun/ter2"),
            ("postgres://:pa/ss@h/app", "pa/ss"),
            ("postgres://app:pa?ss@/app", "pa?ss"),
            ("postgres://app:p/a%zzss@h/app", "p/a%zzss"),
            ("app:pa/ss@h/app", "pa/ss"),
        ] {
            let err = Target::parse(bad).unwrap_err();
            assert!(!err.contains(secret), "{err}");
            assert!(!err.contains("ss@"), "{err}");
            assert!(err.contains("***"), "{err}");
        }
        let t = Target::parse("postgres://app:pa/s?s@h:7/app").unwrap();
        assert_eq!(t.password.as_deref(), Some("pa/s?s"));
        assert_eq!(
            (t.host.as_str(), t.port, t.dbname.as_str()),
            ("h", 7, "app")
        );
        assert_eq!(t.redacted(), "postgres://app:***@h:7/app");
    }
}
