//! Files holding secrets — the config's client passwords, SCRAM verifiers and backend
//! passwords, the TLS private key — should be readable by the proxy's account only:
//! warn when anyone else may read them.

use std::path::Path;

use shardwire_conf::Config;

/// Whether `config` carries anything that lets a reader log in somewhere.
pub fn holds_secrets(config: &Config) -> bool {
    config
        .users
        .iter()
        .any(|u| u.password.is_some() || u.scram_sha256.is_some())
        || config
            .databases
            .iter()
            .any(|d| !d.backend_password.is_empty())
}

/// The warning for a file at `path` holding `what`, with permission bits `mode`, when
/// anyone but its owner may read it.
pub fn exposure(path: &Path, mode: u32, what: &str) -> Option<String> {
    if mode & 0o077 == 0 {
        return None;
    }
    let who = if mode & 0o004 != 0 {
        "every user of this machine"
    } else {
        "its group or others"
    };
    Some(format!(
        "{} holds {what} and is readable by {who} (mode {:o}); run: chmod 600 {}",
        path.display(),
        mode & 0o777,
        path.display()
    ))
}

/// Logs [`exposure`]'s warning for the file at `path`, which holds `what`.
pub fn warn_if_readable(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if let Some(warning) = exposure(path, meta.permissions().mode(), what) {
        tracing::warn!("{warning}");
    }
}

/// Warns about the config file the proxy runs (at start and on reload) when it holds
/// passwords that others may read.
pub fn warn_if_exposed(path: &Path, config: &Config) {
    if holds_secrets(config) {
        warn_if_readable(path, "passwords");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(users: &str) -> Config {
        let text = format!(
            "[proxy]\npostgres_listen = \"127.0.0.1:6432\"\n{users}\n\
             [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n\
             [[databases.shards]]\nprimary = \"127.0.0.1:5432/app\"\n"
        );
        Config::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn only_files_readable_by_others_are_reported() {
        let path = Path::new("/etc/shardwire.toml");
        let world = exposure(path, 0o100644, "passwords").unwrap_or_default();
        assert!(world.contains("every user of this machine"), "{world}");
        assert!(world.contains("holds passwords"), "{world}");
        assert!(
            world.contains("mode 644") && world.contains("chmod 600"),
            "{world}"
        );
        let group = exposure(path, 0o100640, "passwords").unwrap_or_default();
        assert!(group.contains("its group"), "{group}");
        assert_eq!(exposure(path, 0o100600, "passwords"), None);
    }

    #[test]
    fn only_configs_with_secrets_hold_secrets() {
        assert!(holds_secrets(&config(
            "[[users]]\nname = \"app\"\npassword = \"pw\"\n"
        )));
        assert!(!holds_secrets(&config("")));
    }
}
