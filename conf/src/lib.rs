//! shardwire configuration: the TOML file of DESIGN §4 as typed values.
//!
//! This is the first step of the pipeline: `shardwire serve`/`check` call
//! [`Config::load`], and everything downstream — listeners, the router's table layout,
//! backend pools, the consistency policy — reads the resulting [`Config`]. Loading has
//! two halves: `parse` turns TOML into the model, checking keys, types and single values;
//! `validate` checks the rules between values. Both report problems as
//! `key.path: what is wrong` ([`ConfigError`]), e.g.
//! `databases[0].shards[1]: missing key "primary"`.

mod duration;
mod error;
mod model;
mod node_addr;
mod parse;
mod reader;
mod serde_str;
mod validate;
mod words;

use std::path::Path;

pub use duration::{format_duration, parse_duration, DurationError};
pub use error::ConfigError;
pub use model::{Config, Database, ProxyConfig, Shard, Table, TableKind, User};
pub use node_addr::{NodeAddr, NodeAddrError};
pub use words::{
    AuthMethod, BackendTls, KeyType, MysqlAuth, Protocol, ReadConsistency, TlsVersion, UnknownWord,
};

serde_str::serde_via_str!(NodeAddr);

impl Config {
    /// Parses and validates a configuration from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let config = parse::parse_text(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates the configuration file at `path`. Errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: path.to_owned(),
            source,
        })?;
        Config::from_toml_str(&text).map_err(|err| err.in_file(path))
    }

    /// Checks the rules between values (duplicates, required combinations, limits).
    /// Loading does this already; call it for a `Config` built in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self)
    }
}

/// Deserializes from any serde data format shaped like the TOML file, with the same
/// checks and messages as [`Config::from_toml_str`].
impl<'de> serde::Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = <toml::Table as serde::Deserialize>::deserialize(deserializer)?;
        let config = parse::parse_table(&table).map_err(serde::de::Error::custom)?;
        config.validate().map_err(serde::de::Error::custom)?;
        Ok(config)
    }
}
