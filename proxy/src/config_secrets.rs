//! A config file holding secrets (client passwords, SCRAM verifiers, backend passwords)
//! should be readable by the proxy's account only: warn when anyone else may read it.

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

/// The warning for a config file at `path` with permission bits `mode`, if one is due.
pub fn exposure(path: &Path, mode: u32, config: &Config) -> Option<String> {
    let others = mode & 0o077;
    if others == 0 || !holds_secrets(config) {
        return None;
    }
    let who = if mode & 0o004 != 0 {
        "every user of this machine"
    } else {
        "its group"
    };
    Some(format!(
        "config file {} holds passwords and is readable by {who} (mode {:o}); \
         run: chmod 600 {}",
        path.display(),
        mode & 0o777,
        path.display()
    ))
}

/// Logs [`exposure`]'s warning for the file the proxy runs (at start and on reload).
pub fn warn_if_exposed(path: &Path, config: &Config) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if let Some(warning) = exposure(path, meta.permissions().mode(), config) {
        tracing::warn!("{warning}");
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
    fn only_files_with_secrets_readable_by_others_are_reported() {
        let with = config("[[users]]\nname = \"app\"\npassword = \"pw\"\n");
        let path = Path::new("/etc/shardwire.toml");
        let world = exposure(path, 0o100644, &with).unwrap_or_default();
        assert!(world.contains("every user of this machine"), "{world}");
        assert!(
            world.contains("mode 644") && world.contains("chmod 600"),
            "{world}"
        );
        let group = exposure(path, 0o100640, &with).unwrap_or_default();
        assert!(group.contains("its group"), "{group}");
        assert_eq!(exposure(path, 0o100600, &with), None);
        // Nothing secret in it: no warning whatever the mode.
        assert!(!holds_secrets(&config("")));
        assert_eq!(exposure(path, 0o100644, &config("")), None);
        // The warning never quotes a secret.
        assert!(!world.contains("pw\""));
    }
}
