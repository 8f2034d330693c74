//! Every way a config can be wrong is reported as `key.path: problem`, at the right path.

use shardwire_conf::{BackendTls, Config, ConfigError};

/// A small valid config; each test breaks one thing in it.
const BASE: &str = r#"
[proxy]
postgres_listen = "127.0.0.1:6432"

[[users]]
name = "app"
password = "app"

[[databases]]
name = "app"
protocol = "postgres"
backend_user = "postgres"

  [[databases.shards]]
  primary = "127.0.0.1:15432/app"

  [[databases.tables]]
  name = "accounts"
  shard_key = "id"
  key_type = "bigint"
"#;

/// A second database appended after BASE.
const SECOND_DATABASE: &str = r#"
[[databases]]
name = "shop"
protocol = "mysql"
backend_user = "root"
  [[databases.shards]]
  primary = "127.0.0.1:13306/shop"
"#;

/// BASE with `from` replaced by `to` (which must occur).
fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

/// BASE with `extra` appended.
fn plus(extra: &str) -> String {
    format!("{BASE}{extra}")
}

/// The error message for `text`, which must not load.
fn error(text: &str) -> String {
    match Config::from_toml_str(text) {
        Ok(config) => panic!("expected an error, loaded {config:?}"),
        Err(err) => err.to_string(),
    }
}

#[track_caller]
fn assert_error(text: &str, expected: &str) {
    let message = error(text);
    assert!(
        message.contains(expected),
        "error {message:?} should contain {expected:?}"
    );
}

#[test]
fn base_config_is_valid() {
    Config::from_toml_str(BASE).expect("BASE is valid");
}

#[test]
fn shard_without_primary_names_the_shard() {
    let text = plus("  [[databases.shards]]\n  replicas = [\"127.0.0.1:15443/app\"]\n");
    assert_error(&text, r#"databases[0].shards[1]: missing key "primary""#);
}

#[test]
fn duplicate_table_names_the_table_entry() {
    let text = plus(
        "  [[databases.tables]]\n  name = \"countries\"\n  reference = true\n\
         \x20 [[databases.tables]]\n  name = \"accounts\"\n  reference = true\n",
    );
    assert_error(
        &text,
        r#"databases[0].tables[2].name: duplicate table "accounts""#,
    );
}

#[test]
fn tables_differing_only_in_case_are_duplicates() {
    let text = plus("  [[databases.tables]]\n  name = \"Accounts\"\n  reference = true\n");
    assert_error(
        &text,
        r#"databases[0].tables[1].name: duplicate table "Accounts""#,
    );
}

#[test]
fn unknown_consistency_level_lists_the_valid_ones() {
    let text = with(
        "[proxy]\n",
        "[proxy]\ndefault_read_consistency = \"strongest\"\n",
    );
    assert_eq!(
        error(&text),
        "proxy.default_read_consistency: unknown consistency level \"strongest\" \
         (expected strong, session, bounded or eventual)"
    );
    let text = with(
        "password = \"app\"",
        "password = \"app\"\nread_consistency = \"now\"",
    );
    assert_error(
        &text,
        r#"users[0].read_consistency: unknown consistency level "now""#,
    );
}

#[test]
fn bad_node_address_names_the_node_key() {
    let text = plus(&SECOND_DATABASE.replace("127.0.0.1:13306/shop", "localhost5432"));
    assert_error(
        &text,
        r#"databases[1].shards[0].primary: bad node address "localhost5432""#,
    );
    assert_error(&text, "(expected host:port/dbname)");
    let text = with(
        "primary = \"127.0.0.1:15432/app\"",
        "primary = \"127.0.0.1:15432/app\"\n  replicas = [\"127.0.0.1:15433/app\", \"h:1\"]",
    );
    assert_error(
        &text,
        r#"databases[0].shards[0].replicas[1]: bad node address "h:1""#,
    );
}

#[test]
fn database_without_shards_is_an_error() {
    let text = with(
        "  [[databases.shards]]\n  primary = \"127.0.0.1:15432/app\"\n",
        "",
    );
    assert_error(&text, r#"databases[0]: database "app" has no shards"#);
}

#[test]
fn bad_durations_name_the_key() {
    let text = with("[proxy]\n", "[proxy]\ndefault_max_staleness = \"fast\"\n");
    assert_error(
        &text,
        r#"proxy.default_max_staleness: cannot parse duration "fast""#,
    );
    let text = with("[proxy]\n", "[proxy]\nmonitor_interval = 250\n");
    assert_error(&text, "proxy.monitor_interval: a duration needs a unit");
    assert_error(&text, r#"write "250ms""#);
    let text = with("[proxy]\n", "[proxy]\npool_timeout = \"0s\"\n");
    assert_error(&text, "proxy.pool_timeout: must be longer than 0s");
    let text = with("[proxy]\n", "[proxy]\ntwopc_grace = \"0ms\"\n");
    assert_error(&text, "proxy.twopc_grace: must be longer than 0s");
}

#[test]
fn unknown_keys_are_reported_at_their_path_with_a_suggestion() {
    let text = with("postgres_listen", "postgres_lisen");
    assert_eq!(
        error(&text),
        "proxy.postgres_lisen: unknown key \"postgres_lisen\" (did you mean \"postgres_listen\"?)"
    );
    let text = with("primary = ", "replicas = []\n  primry = ");
    assert_error(
        &text,
        r#"databases[0].shards[0].primry: unknown key "primry""#,
    );
    let text = plus("[proxxy]\n");
    assert_error(
        &text,
        r#"proxxy: unknown key "proxxy" (did you mean "proxy"?)"#,
    );
    let text = with("key_type = \"bigint\"", "key_type = \"bigint\"\nweight = 3");
    assert_error(
        &text,
        r#"databases[0].tables[0].weight: unknown key "weight" (expected one of: name, shard_key, key_type, reference)"#,
    );
}

#[test]
fn duplicate_databases_and_users_are_errors() {
    let text = plus(&SECOND_DATABASE.replace("name = \"shop\"", "name = \"app\""));
    assert_error(&text, r#"databases[1].name: duplicate database "app""#);
    let text = plus("[[users]]\nname = \"app\"\npassword = \"x\"\n");
    assert_error(&text, r#"users[1].name: duplicate user "app""#);
}

#[test]
fn a_client_listener_is_required() {
    let text = with(
        "postgres_listen = \"127.0.0.1:6432\"",
        "admin_listen = \"127.0.0.1:9930\"",
    );
    assert_error(&text, "proxy: no client listen address");
    let text = with("[proxy]\npostgres_listen = \"127.0.0.1:6432\"\n", "");
    assert_error(&text, "proxy: no client listen address");
    let text = with("[proxy]\n", "[proxy]\nmysql_listen = \"127.0.0.1:6432\"\n");
    assert_error(
        &text,
        "proxy.mysql_listen: 127.0.0.1:6432 is already used by postgres_listen",
    );
    let text = with("127.0.0.1:6432", "localhost:6432");
    assert_error(
        &text,
        r#"proxy.postgres_listen: bad listen address "localhost:6432""#,
    );
}

#[test]
fn limits_must_be_positive() {
    let text = with("[proxy]\n", "[proxy]\npool_size = 0\n");
    assert_error(&text, "proxy.pool_size: must be at least 1");
    let text = with("[proxy]\n", "[proxy]\npool_size = -3\n");
    assert_error(&text, "proxy.pool_size: -3 is out of range");
    let text = with("[proxy]\n", "[proxy]\npool_size = \"20\"\n");
    assert_error(
        &text,
        r#"proxy.pool_size: expected an integer, found string "20""#,
    );
    let text = with("[proxy]\n", "[proxy]\nmax_client_connections = 0\n");
    assert_error(&text, "proxy.max_client_connections: must be at least 1");
    let text = with("[proxy]\n", "[proxy]\nworkers = 0\n");
    assert_error(&text, "proxy.workers: must be at least 1");
}

#[test]
fn tls_needs_both_cert_and_key() {
    let text = with("[proxy]\n", "[proxy]\ntls_cert = \"server.crt\"\n");
    assert_error(&text, "proxy.tls_key: missing");
}

#[test]
fn backend_tls_needs_a_ca() {
    let backend = |lines: &str| {
        with(
            "backend_user = \"postgres\"\n",
            &format!("backend_user = \"postgres\"\n{lines}\n"),
        )
    };
    assert_error(
        &backend("backend_tls = \"verify-full\""),
        "databases[0].backend_tls_ca: missing",
    );
    assert_error(
        &backend("backend_tls_ca = \"ca.pem\""),
        "databases[0].backend_tls_ca: set, but backend_tls is \"disable\"",
    );
    assert_error(
        &backend("backend_tls = \"require\""),
        "databases[0].backend_tls: unknown backend TLS mode \"require\"",
    );
    let ok = backend("backend_tls = \"verify-full\"\nbackend_tls_ca = \"ca.pem\"");
    let config = Config::from_toml_str(&ok).unwrap();
    assert_eq!(config.databases[0].backend_tls, BackendTls::VerifyFull);
    let mysql = plus(SECOND_DATABASE).replace(
        "backend_user = \"root\"",
        "backend_user = \"root\"\nbackend_tls = \"verify-full\"",
    );
    assert_error(&mysql, "databases[1].backend_tls_ca: missing");
}

#[test]
fn require_tls_needs_tls_configured() {
    let text = with(
        "password = \"app\"",
        "password = \"app\"\nrequire_tls = true",
    );
    assert_error(&text, "users[0].require_tls: user \"app\" requires TLS");
    let text = with("[proxy]\n", "[proxy]\ntls_min_version = \"1.1\"\n");
    assert_error(&text, "proxy.tls_min_version: unknown TLS version \"1.1\"");
}

#[test]
fn users_need_exactly_one_password_form() {
    let text = with("password = \"app\"", "admin = true");
    assert_error(
        &text,
        r#"users[0]: user "app" needs password or scram_sha256"#,
    );
    let text = with(
        "password = \"app\"",
        "password = \"app\"\nscram_sha256 = \"SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy\"",
    );
    assert_error(
        &text,
        r#"users[0]: user "app" has both password and scram_sha256"#,
    );
    let text = with("password = \"app\"", "scram_sha256 = \"app\"");
    assert_error(&text, "users[0].scram_sha256: not a SCRAM-SHA-256 verifier");
    let text = with("password = \"app\"", "password = \"app\"\nadmin = \"yes\"");
    assert_error(
        &text,
        r#"users[0].admin: expected true or false, found string "yes""#,
    );
}

#[test]
fn users_section_may_be_missing() {
    let text = with("[[users]]\nname = \"app\"\npassword = \"app\"\n", "");
    let config = Config::from_toml_str(&text).expect("no users is allowed");
    assert!(config.users.is_empty());
}

#[test]
fn databases_section_is_required() {
    let text = "[proxy]\npostgres_listen = \"127.0.0.1:6432\"\n";
    assert_error(text, "databases: no databases configured");
    let text = "[proxy]\npostgres_listen = \"127.0.0.1:6432\"\n[databases]\nname = \"app\"\n";
    assert_error(
        text,
        "databases: expected an array of tables ([[databases]]), found a table",
    );
}

#[test]
fn tables_are_either_sharded_or_reference() {
    let text = with(
        "key_type = \"bigint\"",
        "key_type = \"bigint\"\nreference = true",
    );
    assert_error(
        &text,
        r#"databases[0].tables[0]: table "accounts" has both shard_key and reference = true"#,
    );
    let text = with("shard_key = \"id\"\n  key_type = \"bigint\"\n", "");
    assert_error(
        &text,
        r#"databases[0].tables[0]: table "accounts" needs shard_key and key_type"#,
    );
    let text = with("  key_type = \"bigint\"\n", "");
    assert_error(&text, r#"databases[0].tables[0]: missing key "key_type""#);
    let text = with("shard_key = \"id\"", "reference = true");
    assert_error(
        &text,
        "databases[0].tables[0].key_type: only sharded tables have a key_type",
    );
    let text = with("\"bigint\"", "\"int\"");
    assert_error(
        &text,
        r#"databases[0].tables[0].key_type: unknown key type "int""#,
    );
    let text = with("shard_key = \"id\"", "shard_key = \"\"");
    assert_error(&text, "databases[0].tables[0].shard_key: must not be empty");
}

#[test]
fn database_keys_are_checked() {
    let text = with("protocol = \"postgres\"", "protocol = \"pg\"");
    assert_error(
        &text,
        r#"databases[0].protocol: unknown protocol "pg" (expected postgres or mysql)"#,
    );
    let text = with("backend_user = \"postgres\"\n", "");
    assert_error(&text, r#"databases[0]: missing key "backend_user""#);
    let text = with("name = \"app\"\nprotocol", "name = \"\"\nprotocol");
    assert_error(&text, "databases[0].name: must not be empty");
}

#[test]
fn a_node_may_serve_only_one_role() {
    let text = plus("  [[databases.shards]]\n  primary = \"127.0.0.1:15442/app\"\n  replicas = [\"127.0.0.1:15432/app\"]\n");
    assert_error(
        &text,
        r#"databases[0].shards[1].replicas[0]: node "127.0.0.1:15432/app" is already used by databases[0].shards[0].primary"#,
    );
}

#[test]
fn syntax_errors_give_line_and_column() {
    let text = with("name = \"accounts\"", "name = accounts");
    let message = error(&text);
    assert!(message.starts_with("line 18, column 10: "), "{message}");
}

#[test]
fn load_names_the_file() {
    let dir = std::env::temp_dir().join(format!("shardwire-conf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let missing = dir.join("missing.toml");
    let err = Config::load(&missing).expect_err("no such file");
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(err.to_string().contains("missing.toml"), "{err}");

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, BASE.replace("\"127.0.0.1:6432\"", "\"x\"")).expect("write");
    let err = Config::load(&bad).expect_err("bad listen address");
    assert_eq!(err.path(), Some("proxy.postgres_listen"));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: proxy.postgres_listen: ", bad.display())),
        "{err}"
    );

    let good = dir.join("good.toml");
    std::fs::write(&good, BASE).expect("write");
    Config::load(&good).expect("valid file loads");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn serde_deserialize_applies_the_same_checks() {
    let config: Config = toml::from_str(BASE).expect("valid through serde");
    assert_eq!(config, Config::from_toml_str(BASE).expect("valid"));
    let err = toml::from_str::<Config>(&with("[proxy]\n", "[proxy]\npool_size = 0\n"))
        .expect_err("invalid through serde");
    assert!(
        err.to_string()
            .contains("proxy.pool_size: must be at least 1"),
        "{err}"
    );
}
