//! The closed vocabularies of the config: read consistency levels, wire protocols and
//! shard key types. Each word list lives here once and serves `FromStr`, `Display`, serde
//! and the "expected ..." part of error messages; the proxy reuses [`ReadConsistency`]'s
//! parser for `SET shardwire.read_consistency` (DESIGN §6), so config and session accept
//! the same words. Matching is ASCII case-insensitive, like PostgreSQL enum settings.

use std::fmt;
use std::str::FromStr;

/// A word that is not one of an enum's accepted values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{input}\" (expected {expected})")]
pub struct UnknownWord {
    /// What kind of word was expected, e.g. `consistency level`.
    pub what: &'static str,
    /// The text that was given.
    pub input: String,
    /// The accepted words, e.g. `strong, session, bounded or eventual`.
    pub expected: &'static str,
}

/// Defines a fieldless enum parsed from and printed as lowercase words.
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, $expected:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical word for this value, as written in the config.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                $(
                    if [$word $(, $alias)*].iter().any(|w| w.eq_ignore_ascii_case(input)) {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownWord { what: $what, input: input.to_owned(), expected: $expected })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        crate::serde_str::serde_via_str!($name);
    };
}

word_enum! {
    /// Where reads go (DESIGN §6): `strong | session | bounded | eventual`.
    #[derive(Default)]
    ReadConsistency, "consistency level", "strong, session, bounded or eventual" {
        /// Reads go to shard primaries.
        #[default]
        Strong = "strong",
        /// Read-your-writes and monotonic reads within a session.
        Session = "session",
        /// A replica no staler than `max_staleness`, else the primary.
        Bounded = "bounded",
        /// Any healthy replica.
        Eventual = "eventual",
    }
}

word_enum! {
    /// How the PostgreSQL frontend authenticates clients (`[proxy] auth_method`).
    #[derive(Default)]
    AuthMethod, "authentication method", "scram-sha-256 or md5" {
        /// SCRAM-SHA-256 (works with plaintext passwords and stored verifiers).
        #[default]
        ScramSha256 = "scram-sha-256",
        /// md5 (needs the plaintext password in the config).
        Md5 = "md5",
    }
}

word_enum! {
    /// The MySQL authentication plugin a user logs in with on the MySQL frontend:
    /// `mysql_native_password | caching_sha2_password`.
    MysqlAuth, "MySQL auth plugin", "mysql_native_password or caching_sha2_password" {
        /// SHA-1 challenge-response (MariaDB's default).
        NativePassword = "mysql_native_password",
        /// SHA-256 fast path, with full authentication over TLS or RSA.
        CachingSha2Password = "caching_sha2_password",
    }
}

word_enum! {
    /// The oldest TLS version client-facing TLS accepts: `1.2 | 1.3`.
    #[derive(Default)]
    TlsVersion, "TLS version", "1.2 or 1.3" {
        /// TLS 1.2 and 1.3 (the default: what psql, libpq and MariaDB clients all speak).
        #[default]
        Tls12 = "1.2" | "tlsv1.2",
        /// TLS 1.3 only.
        Tls13 = "1.3" | "tlsv1.3",
    }
}

word_enum! {
    /// TLS from the proxy to a database's backends: `disable | verify-full`.
    #[derive(Default)]
    BackendTls, "backend TLS mode", "disable or verify-full" {
        /// Plaintext (the default).
        #[default]
        Disable = "disable",
        /// TLS, with the server certificate checked against `backend_tls_ca` and the
        /// node's host name or IP address (libpq's `sslmode=verify-full`).
        VerifyFull = "verify-full",
    }
}

word_enum! {
    /// The wire protocol of a logical database and its backends: `postgres | mysql`.
    Protocol, "protocol", "postgres or mysql" {
        /// PostgreSQL.
        Postgres = "postgres",
        /// MySQL or MariaDB.
        Mysql = "mysql",
    }
}

word_enum! {
    /// SQL type of a shard key, which selects the hash function (DESIGN §5):
    /// `bigint | integer | smallint | text | uuid`, plus the aliases `int8`, `int4`,
    /// `int2` and `varchar`.
    KeyType, "key type", "bigint, integer, smallint, text or uuid" {
        /// 64-bit integer (`int8`).
        Bigint = "bigint" | "int8",
        /// 32-bit integer (`int4`).
        Integer = "integer" | "int4",
        /// 16-bit integer (`int2`).
        Smallint = "smallint" | "int2",
        /// Text (`varchar`).
        Text = "text" | "varchar",
        /// UUID.
        Uuid = "uuid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for level in ReadConsistency::ALL {
            assert_eq!(level.as_str().parse(), Ok(*level));
        }
        for protocol in Protocol::ALL {
            assert_eq!(protocol.to_string().parse(), Ok(*protocol));
        }
        for key_type in KeyType::ALL {
            assert_eq!(key_type.to_string().parse(), Ok(*key_type));
        }
    }

    #[test]
    fn aliases_and_case_are_accepted() {
        assert_eq!("int8".parse(), Ok(KeyType::Bigint));
        assert_eq!("INT4".parse(), Ok(KeyType::Integer));
        assert_eq!("int2".parse(), Ok(KeyType::Smallint));
        assert_eq!("varchar".parse(), Ok(KeyType::Text));
        assert_eq!("Session".parse(), Ok(ReadConsistency::Session));
        assert_eq!(ReadConsistency::default(), ReadConsistency::Strong);
    }

    #[test]
    fn unknown_words_list_the_expected_ones() {
        let err = "strongest".parse::<ReadConsistency>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown consistency level \"strongest\" (expected strong, session, bounded or eventual)"
        );
        let err = "int".parse::<KeyType>().expect_err("unknown");
        assert!(err
            .to_string()
            .contains("bigint, integer, smallint, text or uuid"));
    }
}
