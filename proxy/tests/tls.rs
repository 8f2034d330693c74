//! TLS against real PostgreSQL and MariaDB shards. Client-facing: psql with
//! `sslmode=verify-full` and the mariadb client with `--ssl-verify-server-cert` against
//! a test CA, a wrong CA refused by both, `require_tls` users refused over plaintext and
//! accepted over TLS, plaintext users unaffected, and the protocol edge cases (a second
//! SSLRequest inside TLS, cleartext bytes behind an SSLRequest). Backend-facing: the
//! PostgreSQL shards run with `ssl = on` and the proxy reaches them with
//! `backend_tls = "verify-full"`, so every PostgreSQL test here also crosses TLS to the
//! shards.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, OnceLock};

use common::certs::{self, TestPki};
use shardwire_conf::Config;
use shardwire_router::hash::{shard_of, ShardKey};
use shardwire_testbed::Topology;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TWO: NonZeroU32 = match NonZeroU32::new(2) {
    Some(n) => n,
    None => unreachable!(),
};

/// `app` logs in either way; `secure` only over TLS; `sha2tls` has only a SCRAM
/// verifier, so on the MySQL frontend it logs in with caching_sha2 full authentication
/// (password "scrampass", sent in clear inside TLS).
const USERS: &str = "
[[users]]
name = \"app\"
password = \"app\"

[[users]]
name = \"secure\"
password = \"securepass\"
require_tls = true

[[users]]
name = \"sha2tls\"
scram_sha256 = \"SCRAM-SHA-256$4096:c2hhcmR3aXJlLW15c3FsIQ==$CQOZqBR37YrqPUoMiM5OeGIRIHMm0DjxN3NTTZrPAVY=:xaYkcw96tZuH8GxzT9q7Sde7CYX2E1PvWOSQ4ii2oqA=\"
require_tls = true
";

const TABLES: &str = "
  [[databases.tables]]
  name = \"accounts\"
  shard_key = \"id\"
  key_type = \"bigint\"
";

const SCHEMA: &str = "CREATE TABLE accounts (id BIGINT PRIMARY KEY, note VARCHAR(100))";

struct TlsHarness {
    topo: Topology,
    pki: TestPki,
    pg_port: u16,
    my_port: u16,
    _my_lease: shardwire_testbed::PortLease,
    /// The `[[databases.shards]]` entries of the PostgreSQL shards.
    pg_stanzas: String,
}

fn harness() -> &'static TlsHarness {
    static H: OnceLock<TlsHarness> = OnceLock::new();
    H.get_or_init(|| {
        common::in_background(|| async {
            let dir = std::env::temp_dir().join(format!("shardwire-tls-{}", std::process::id()));
            let pki = certs::make(&dir);
            let topo = Topology::builder()
                .pg_shards(2)
                .mysql_shards(2)
                .mysql_tls(&pki.cert, &pki.key)
                .fast(true)
                .start()
                .await
                .unwrap_or_else(|e| panic!("testbed: {e}"));
            // Two listeners on port 0 would be refused as the same address: lease one.
            let my_lease = shardwire_testbed::lease_port().unwrap();
            let mut toml = format!(
                "[proxy]\npostgres_listen = \"127.0.0.1:0\"\nmysql_listen = \"127.0.0.1:{}\"\n\
                 pool_size = 4\ntls_cert = \"{}\"\ntls_key = \"{}\"\n{USERS}\n\
                 [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\n\
                 backend_user = \"postgres\"\n",
                my_lease.port(),
                pki.cert.display(),
                pki.key.display()
            );
            toml.push_str(&format!(
                "backend_tls = \"verify-full\"\nbackend_tls_ca = \"{}\"\n",
                pki.ca.display()
            ));
            let mut pg_stanzas = String::new();
            for shard in topo.pg_shards() {
                shard.primary().execute(SCHEMA).await.unwrap();
                enable_ssl(shard.primary(), &pki).await;
                pg_stanzas.push_str(&shard.config_stanza(0));
            }
            toml.push_str(&pg_stanzas);
            toml.push_str(TABLES);
            toml.push_str(
                "\n[[databases]]\nname = \"shop\"\nprotocol = \"mysql\"\n\
                 backend_user = \"app\"\nbackend_password = \"app\"\n",
            );
            toml.push_str(&format!(
                "backend_tls = \"verify-full\"\nbackend_tls_ca = \"{}\"\n",
                pki.ca.display()
            ));
            for shard in topo.mysql_shards() {
                shard.primary().execute(SCHEMA).await.unwrap();
                toml.push_str(&shard.config_stanza(0));
            }
            toml.push_str(TABLES);
            let config = Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
            let handle = shardwire::server::start(config).await.unwrap();
            let harness = TlsHarness {
                topo,
                pki,
                pg_port: handle.postgres_addr.unwrap().port(),
                my_port: handle.mysql_addr.unwrap().port(),
                _my_lease: my_lease,
                pg_stanzas,
            };
            (harness, handle)
        })
    })
}

/// Turns on TLS in a PostgreSQL node with the test PKI's server certificate (its SANs
/// include 127.0.0.1, the address the proxy's config names). The files go into the
/// data directory, owned by the server's user: PostgreSQL refuses a key others can read.
async fn enable_ssl(node: &shardwire_testbed::Node, pki: &TestPki) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = node.data_dir();
    let owner = std::fs::metadata(dir).unwrap();
    for (from, name, mode) in [
        (&pki.cert, "server.crt", 0o644),
        (&pki.key, "server.key", 0o600),
    ] {
        let to = dir.join(name);
        std::fs::copy(from, &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&to, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    for sql in [
        format!(
            "ALTER SYSTEM SET ssl_cert_file = '{}'",
            dir.join("server.crt").display()
        ),
        format!(
            "ALTER SYSTEM SET ssl_key_file = '{}'",
            dir.join("server.key").display()
        ),
        "ALTER SYSTEM SET ssl = on".to_string(),
        "SELECT pg_reload_conf()".to_string(),
    ] {
        node.execute(&sql).await.unwrap();
    }
    for _ in 0..100 {
        if node.query_value("SHOW ssl").await.unwrap().as_deref() == Some("on") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{}: ssl did not turn on", node.name());
}

/// psql with a libpq connection string; `-c` commands in order.
fn psql(conninfo: &str, password: &str, commands: &[&str]) -> Output {
    let mut cmd = std::process::Command::new("psql");
    cmd.arg(conninfo)
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        // No client certificate or settings from the environment of whoever runs this.
        .env("PGSSLCERT", "/nonexistent")
        .env("PGSSLKEY", "/nonexistent");
    for c in commands {
        cmd.args(["-c", c]);
    }
    cmd.output().unwrap()
}

fn pg_conninfo(h: &TlsHarness, user: &str, ssl: &str) -> String {
    format!(
        "host=localhost port={} user={user} dbname=app {ssl}",
        h.pg_port
    )
}

fn verify_full(ca: &std::path::Path) -> String {
    format!("sslmode=verify-full sslrootcert={}", ca.display())
}

/// The mariadb client over TCP to `localhost` (the name the certificate carries).
fn mariadb(h: &TlsHarness, user: &str, password: &str, ssl: &[String], sql: &str) -> Output {
    std::process::Command::new("mariadb")
        .args([
            "--no-defaults",
            "--protocol=TCP",
            "-hlocalhost",
            &format!("-P{}", h.my_port),
            &format!("-u{user}"),
            &format!("-p{password}"),
            "--batch",
            "--skip-column-names",
            "--connect-timeout=10",
        ])
        .args(ssl)
        .args(["-e", sql, "shop"])
        .output()
        .unwrap()
}

fn verify_identity(ca: &std::path::Path) -> Vec<String> {
    vec![
        format!("--ssl-ca={}", ca.display()),
        "--ssl-verify-server-cert".to_string(),
    ]
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[tokio::test]
async fn psql_verify_full_through_the_test_ca_runs_a_query_on_a_shard() {
    let h = harness();
    let out = psql(
        &pg_conninfo(h, "app", &verify_full(&h.pki.ca)),
        "app",
        &[
            "INSERT INTO accounts (id, note) VALUES (4242, 'over tls')",
            "SELECT note FROM accounts WHERE id = 4242",
            "\\conninfo",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(stdout.contains("\nover tls\n"), "{stdout}");
    assert!(
        stdout.contains("SSL connection (protocol: TLSv1."),
        "{stdout}"
    );
    let shard = shard_of(&ShardKey::Int(4242), TWO) as usize;
    let on_shard = h.topo.pg_shards()[shard]
        .primary()
        .query_value("SELECT note FROM accounts WHERE id = 4242")
        .await
        .unwrap();
    assert_eq!(on_shard.as_deref(), Some("over tls"));
}

#[test]
fn psql_channel_binding_require_logs_in_with_scram_sha_256_plus() {
    let h = harness();
    // libpq refuses to finish unless the server proved the binding (SCRAM-SHA-256-PLUS
    // with tls-server-end-point of the certificate it saw).
    let ssl = format!("{} channel_binding=require", verify_full(&h.pki.ca));
    let out = psql(&pg_conninfo(h, "app", &ssl), "app", &["SELECT 'bound'"]);
    assert_eq!(
        text(&out.stdout),
        "bound\n",
        "stderr: {}",
        text(&out.stderr)
    );
    let out = psql(
        &pg_conninfo(h, "app", "sslmode=disable channel_binding=require"),
        "app",
        &["SELECT 1"],
    );
    assert!(!out.status.success(), "no binding without TLS");
}

#[tokio::test]
async fn the_proxy_reaches_postgres_shards_over_verified_tls() {
    let h = harness();
    let conn = format!(
        "host=127.0.0.1 port={} user=app password=app dbname=app",
        h.pg_port
    );
    let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // Plaintext client, TLS to the shard: the server sees its side of the proxy's TLS.
    let row = client
        .query_one(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the shard connection is encrypted");
    assert!(row.get::<_, &str>(1).starts_with("TLSv1."));
}

#[tokio::test]
async fn shards_whose_certificate_the_backend_ca_did_not_sign_are_not_used() {
    let h = harness();
    // A second proxy on the same shards that trusts only the other CA.
    let toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:0\"\n\
         [[users]]\nname = \"app\"\npassword = \"app\"\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n\
         backend_tls = \"verify-full\"\nbackend_tls_ca = \"{}\"\n{}",
        h.pki.other_ca.display(),
        h.pg_stanzas
    );
    let port = common::in_background(move || async move {
        let config = Config::from_toml_str(&toml).unwrap();
        let handle = shardwire::server::start(config).await.unwrap();
        (handle.postgres_addr.unwrap().port(), handle)
    });
    let conn = format!("host=127.0.0.1 port={port} user=app password=app dbname=app");
    let err = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .err()
        .expect("no shard to log in to");
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "08006", "{db:?}");
    assert!(db.message().contains("certificate"), "{db:?}");
}

#[test]
fn psql_with_another_ca_fails_verification() {
    let h = harness();
    let out = psql(
        &pg_conninfo(h, "app", &verify_full(&h.pki.other_ca)),
        "app",
        &["SELECT 1"],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("certificate verify failed"), "{stderr}");
}

#[tokio::test]
async fn mariadb_verify_server_cert_connects_and_queries() {
    let h = harness();
    let out = mariadb(
        h,
        "app",
        "app",
        &verify_identity(&h.pki.ca),
        "INSERT INTO accounts (id, note) VALUES (77, 'mysql over tls'); \
         SELECT note FROM accounts WHERE id = 77",
    );
    assert_eq!(
        text(&out.stdout),
        "mysql over tls\n",
        "stderr: {}",
        text(&out.stderr)
    );
    let shard = shard_of(&ShardKey::Int(77), TWO) as usize;
    let on_shard = h.topo.mysql_shards()[shard]
        .primary()
        .query_value("SELECT note FROM accounts WHERE id = 77")
        .await
        .unwrap();
    assert_eq!(on_shard.as_deref(), Some("mysql over tls"));
}

#[test]
fn the_proxy_reaches_mariadb_shards_over_verified_tls() {
    let h = harness();
    // A plaintext client; the statement runs on a pooled shard connection.
    let out = mariadb(
        h,
        "app",
        "app",
        &["--skip-ssl".to_string()],
        "SHOW SESSION STATUS LIKE 'Ssl_version'",
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("Ssl_version\tTLSv1."),
        "{stdout} / {}",
        text(&out.stderr)
    );
}

#[test]
fn mariadb_with_another_ca_fails_verification() {
    let h = harness();
    let out = mariadb(
        h,
        "app",
        "app",
        &verify_identity(&h.pki.other_ca),
        "SELECT 1",
    );
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ERROR 2026"), "a TLS error: {stderr}");
}

#[tokio::test]
async fn require_tls_user_is_refused_over_plaintext_on_postgres() {
    let h = harness();
    let conn = format!(
        "host=127.0.0.1 port={} user=secure password=securepass dbname=app",
        h.pg_port
    );
    let err = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .err()
        .expect("refused");
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "28000", "{db:?}");
    assert!(db.message().contains("requires TLS"), "{db:?}");
    // psql without TLS says the same; with verify-full the same user gets in.
    let out = psql(
        &pg_conninfo(h, "secure", "sslmode=disable"),
        "securepass",
        &["SELECT 1"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("requires TLS"),
        "{}",
        text(&out.stderr)
    );
    let out = psql(
        &pg_conninfo(h, "secure", &verify_full(&h.pki.ca)),
        "securepass",
        &["SELECT 'secure in'"],
    );
    assert_eq!(
        text(&out.stdout),
        "secure in\n",
        "stderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn require_tls_user_is_refused_over_plaintext_on_mysql() {
    let h = harness();
    let out = mariadb(
        h,
        "secure",
        "securepass",
        &["--skip-ssl".to_string()],
        "SELECT 1",
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ERROR 1045"), "{stderr}");
    assert!(stderr.contains("requires TLS"), "{stderr}");
    let out = mariadb(
        h,
        "secure",
        "securepass",
        &verify_identity(&h.pki.ca),
        "SELECT 'secure in'",
    );
    assert_eq!(
        text(&out.stdout),
        "secure in\n",
        "stderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn caching_sha2_full_authentication_over_tls_takes_the_clear_password() {
    let h = harness();
    let out = mariadb(
        h,
        "sha2tls",
        "scrampass",
        &verify_identity(&h.pki.ca),
        "SELECT 'full auth over tls'",
    );
    assert_eq!(
        text(&out.stdout),
        "full auth over tls\n",
        "stderr: {}",
        text(&out.stderr)
    );
    let out = mariadb(
        h,
        "sha2tls",
        "wrong",
        &verify_identity(&h.pki.ca),
        "SELECT 1",
    );
    assert!(
        text(&out.stderr).contains("ERROR 1045"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn plaintext_users_still_work_with_tls_configured() {
    let h = harness();
    let conn = format!(
        "host=127.0.0.1 port={} user=app password=app dbname=app",
        h.pg_port
    );
    let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = client.query_one("SELECT 'plain'", &[]).await.unwrap();
    assert_eq!(row.get::<_, &str>(0), "plain");
    let out = mariadb(
        h,
        "app",
        "app",
        &["--skip-ssl".to_string()],
        "SELECT 'plain mysql'",
    );
    assert_eq!(
        text(&out.stdout),
        "plain mysql\n",
        "stderr: {}",
        text(&out.stderr)
    );
}

/// A StartupMessage for `user`/`app`, protocol 3.0.
fn startup_message(user: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&196_608i32.to_be_bytes());
    for (k, v) in [("user", user), ("database", "app")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    packet
}

const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The SQLSTATE of the ErrorResponse at the start of `bytes`.
fn sqlstate(bytes: &[u8]) -> String {
    assert_eq!(bytes.first(), Some(&b'E'), "an ErrorResponse: {bytes:?}");
    bytes[5..]
        .split(|b| *b == 0)
        .find_map(|field| field.strip_prefix(b"C"))
        .map(|code| String::from_utf8_lossy(code).into_owned())
        .expect("a code field")
}

/// A rustls client trusting the test CA (the proxy's own stack, used as a client).
fn connector(ca: &PathBuf) -> tokio_rustls::TlsConnector {
    tokio_rustls::TlsConnector::from(client_config(ca))
}

#[tokio::test]
async fn a_second_ssl_request_inside_tls_is_a_protocol_violation() {
    let h = harness();
    let mut tcp = TcpStream::connect(("127.0.0.1", h.pg_port)).await.unwrap();
    tcp.write_all(&SSL_REQUEST).await.unwrap();
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"S");
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector(&h.pki.ca).connect(name, tcp).await.unwrap();
    tls.write_all(&SSL_REQUEST).await.unwrap();
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).await.ok();
    assert_eq!(sqlstate(&reply), "08P01");
}

#[tokio::test]
async fn cleartext_bytes_behind_an_ssl_request_are_refused() {
    let h = harness();
    let mut tcp = TcpStream::connect(("127.0.0.1", h.pg_port)).await.unwrap();
    let mut both = SSL_REQUEST.to_vec();
    both.extend_from_slice(&startup_message("app"));
    tcp.write_all(&both).await.unwrap();
    let mut reply = Vec::new();
    tcp.read_to_end(&mut reply).await.ok();
    assert_eq!(sqlstate(&reply), "08P01");
}

#[tokio::test]
async fn a_rust_client_logs_in_over_tls() {
    let h = harness();
    let mut tcp = TcpStream::connect(("127.0.0.1", h.pg_port)).await.unwrap();
    tcp.write_all(&SSL_REQUEST).await.unwrap();
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"S");
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector(&h.pki.ca).connect(name, tcp).await.unwrap();
    tls.write_all(&startup_message("app")).await.unwrap();
    // The proxy asks for SCRAM: 'R', length, code 10 (SASL), over the encrypted stream.
    let mut header = [0u8; 9];
    tls.read_exact(&mut header).await.unwrap();
    assert_eq!(header[0], b'R');
    assert_eq!(
        i32::from_be_bytes([header[5], header[6], header[7], header[8]]),
        10
    );
}

/// The client config of [`connector`], for driving a handshake by hand.
fn client_config(ca: &PathBuf) -> Arc<tokio_rustls::rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

#[tokio::test]
async fn mysql_client_hello_in_the_same_segment_as_the_ssl_request_is_the_handshake() {
    use tokio_rustls::rustls;
    let h = harness();
    let mut tcp = TcpStream::connect(("127.0.0.1", h.my_port)).await.unwrap();
    // The greeting offers CLIENT_SSL (0x800 in the lower capability flags).
    let mut header = [0u8; 4];
    tcp.read_exact(&mut header).await.unwrap();
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let mut greeting = vec![0u8; len];
    tcp.read_exact(&mut greeting).await.unwrap();
    let version_end = greeting[1..].iter().position(|b| *b == 0).unwrap() + 1;
    let caps_at = version_end + 1 + 4 + 8 + 1;
    let caps = u16::from_le_bytes([greeting[caps_at], greeting[caps_at + 1]]);
    assert_ne!(caps & 0x800, 0, "CLIENT_SSL offered");
    // SSLRequest (seq 1) and the ClientHello in one write, as MariaDB clients may.
    let mut request = vec![32, 0, 0, 1];
    request.extend_from_slice(&(0x0008_8a00u32 | 0x200).to_le_bytes());
    request.extend_from_slice(&(16u32 << 20).to_le_bytes());
    request.push(45);
    request.extend_from_slice(&[0; 23]);
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(client_config(&h.pki.ca), name).unwrap();
    conn.write_tls(&mut request).unwrap();
    tcp.write_all(&request).await.unwrap();
    let mut buf = vec![0u8; 32 * 1024];
    while conn.is_handshaking() {
        if conn.wants_write() {
            let mut out = Vec::new();
            conn.write_tls(&mut out).unwrap();
            tcp.write_all(&out).await.unwrap();
            continue;
        }
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "the proxy closed the connection mid-handshake");
        conn.read_tls(&mut &buf[..n]).unwrap();
        conn.process_new_packets().unwrap();
    }
}
