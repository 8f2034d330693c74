//! The command line without a database: `--print-tables` gives stanzas a proxy config
//! accepts, bad arguments and unreachable targets exit 2, and passwords never show.

#![allow(clippy::unwrap_used)]

use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_shardwire-bench");

fn bench(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BENCH).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn printed_tables_are_a_valid_proxy_config() {
    let (code, tables, _) = bench(&["--print-tables", "--workload", "tpcb"]);
    assert_eq!(code, Some(0));
    for table in [
        "sw_branches",
        "sw_tellers",
        "sw_accounts_tpcb",
        "sw_history",
    ] {
        assert!(tables.contains(&format!("name = \"{table}\"")), "{tables}");
    }
    assert!(!tables.contains("sw_events"));
    let toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:0\"\n\n[[users]]\nname = \"app\"\npassword = \"app\"\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n\n\
         [[databases.shards]]\nprimary = \"127.0.0.1:1/app\"\n\n\
         [[databases.shards]]\nprimary = \"127.0.0.1:2/app\"\n\n{}",
        bench(&["--print-tables"]).1
    );
    let config =
        shardwire_conf::Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(config.databases[0].tables.len(), 6);
}

#[test]
fn bad_arguments_exit_2_without_showing_the_password() {
    for args in [
        vec!["--url", "postgres://app:hunter2@127.0.0.1:1/app"],
        vec![
            "--url",
            "postgres://app:hunter2@127.0.0.1:notaport/app",
            "--workload",
            "tpcb",
        ],
        vec![
            "--url",
            "postgres://app:hunter2@127.0.0.1:1/app",
            "--workload",
            "nope",
        ],
        vec![
            "--url",
            "postgres://app:hunter2@h/app",
            "--workload",
            "tpcb",
            "--duration",
            "soon",
        ],
        vec![
            "--workload",
            "tpcb",
            "--compare",
            "postgres://app:hunter2@h/app",
        ],
    ] {
        let (code, stdout, stderr) = bench(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("hunter2") && !stdout.contains("hunter2"),
            "{stderr}"
        );
    }
}

#[test]
fn an_unreachable_target_exits_2_without_showing_the_password() {
    let lease = shardwire_testbed::lease_port().unwrap();
    let url = format!("postgres://app:hunter2@127.0.0.1:{}/app", lease.port());
    let (code, _, stderr) = bench(&["--url", &url, "--workload", "point-select", "--quiet"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot connect") || stderr.contains("failed"),
        "{stderr}"
    );
    assert!(stderr.contains("app:***@"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
