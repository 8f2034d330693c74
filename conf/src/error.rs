//! The one error type of this crate. Every problem with a configuration is reported as
//! `key.path: what is wrong`, so that a user reading `shardwire check` output can jump
//! straight to the offending line; errors from [`Config::load`](crate::Config::load) are
//! also prefixed with the file name.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded.
///
/// `Display` renders `[file: ]location: message`, e.g.
/// `shardwire.toml: databases[0].shards[1]: missing key "primary"`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", .file.display())]
    Io {
        /// The file that was being read.
        file: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The text is not valid TOML.
    #[error("{}line {line}, column {column}: {message}", FilePrefix(.file.as_deref()))]
    Syntax {
        /// The file the text came from, if any.
        file: Option<PathBuf>,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What the TOML parser said.
        message: String,
    },
    /// The TOML is well formed but a value, a key or a combination of them is wrong.
    #[error("{}{path}: {message}", FilePrefix(.file.as_deref()))]
    Invalid {
        /// The file the text came from, if any.
        file: Option<PathBuf>,
        /// Key path of the problem, e.g. `databases[0].tables[2].name`.
        path: String,
        /// What is wrong there.
        message: String,
    },
}

impl ConfigError {
    /// An [`Invalid`](ConfigError::Invalid) error at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            file: None,
            path: path.into(),
            message: message.into(),
        }
    }

    /// A [`Syntax`](ConfigError::Syntax) error from the TOML parser, located in `text`.
    pub(crate) fn syntax(text: &str, err: &toml::de::Error) -> Self {
        let offset = err.span().map_or(0, |span| span.start);
        let (line, column) = line_column(text, offset);
        ConfigError::Syntax {
            file: None,
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    }

    /// Attach the name of the file the configuration came from.
    pub fn in_file(self, path: &Path) -> Self {
        match self {
            ConfigError::Syntax {
                line,
                column,
                message,
                ..
            } => ConfigError::Syntax {
                file: Some(path.to_owned()),
                line,
                column,
                message,
            },
            ConfigError::Invalid {
                path: key, message, ..
            } => ConfigError::Invalid {
                file: Some(path.to_owned()),
                path: key,
                message,
            },
            io @ ConfigError::Io { .. } => io,
        }
    }

    /// The key path of an [`Invalid`](ConfigError::Invalid) error.
    pub fn path(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// 1-based line and character column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Renders `file: ` when there is a file, nothing otherwise.
struct FilePrefix<'a>(Option<&'a Path>);

impl fmt::Display for FilePrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(file) => write!(f, "{}: ", file.display()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("a\nbc", 3), (2, 2));
        assert_eq!(line_column("é\nxé y", 6), (2, 3));
    }

    #[test]
    fn display_prefixes_the_file() {
        let err = ConfigError::invalid("proxy.pool_size", "must be at least 1")
            .in_file(Path::new("shardwire.toml"));
        assert_eq!(
            err.to_string(),
            "shardwire.toml: proxy.pool_size: must be at least 1"
        );
        assert_eq!(err.path(), Some("proxy.pool_size"));
    }
}
