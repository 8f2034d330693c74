#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use super::*;

/// A self-signed certificate for localhost and its key, as PEM.
fn self_signed() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A fresh directory for one test's files.
fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shardwire-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn proxy_with(cert: &Path, key: &Path) -> ProxyConfig {
    ProxyConfig {
        tls_cert: Some(cert.to_path_buf()),
        tls_key: Some(key.to_path_buf()),
        ..ProxyConfig::default()
    }
}

#[test]
fn no_tls_configured_is_none() {
    assert!(TlsServer::from_config(&ProxyConfig::default())
        .unwrap()
        .is_none());
}

#[test]
fn a_certificate_and_its_key_load() {
    let dir = dir("ok");
    let (cert, key) = self_signed();
    std::fs::write(dir.join("server.crt"), cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();
    let mut proxy = proxy_with(&dir.join("server.crt"), &dir.join("server.key"));
    assert!(TlsServer::from_config(&proxy).unwrap().is_some());
    proxy.tls_min_version = TlsVersion::Tls13;
    assert!(TlsServer::from_config(&proxy).unwrap().is_some());
}

#[test]
fn a_missing_file_is_named() {
    let dir = dir("missing");
    let (_, key) = self_signed();
    std::fs::write(dir.join("server.key"), key).unwrap();
    let err = TlsServer::from_config(&proxy_with(&dir.join("nope.crt"), &dir.join("server.key")))
        .unwrap_err();
    assert!(err.starts_with("proxy.tls_cert: cannot read "), "{err}");
    assert!(err.contains("nope.crt"), "{err}");
}

#[test]
fn files_without_pem_blocks_are_refused_by_key() {
    let dir = dir("garbage");
    let (cert, key) = self_signed();
    std::fs::write(dir.join("server.crt"), &cert).unwrap();
    std::fs::write(dir.join("server.key"), &key).unwrap();
    std::fs::write(dir.join("garbage"), "not pem at all\n").unwrap();
    let err = TlsServer::from_config(&proxy_with(&dir.join("garbage"), &dir.join("server.key")))
        .unwrap_err();
    assert!(err.starts_with("proxy.tls_cert: "), "{err}");
    assert!(err.contains("garbage"), "{err}");
    // A certificate where the key should be: no private key in it.
    let err = TlsServer::from_config(&proxy_with(
        &dir.join("server.crt"),
        &dir.join("server.crt"),
    ))
    .unwrap_err();
    assert!(err.starts_with("proxy.tls_key: "), "{err}");
}

#[test]
fn a_key_of_another_certificate_is_refused() {
    let dir = dir("mismatch");
    let (cert, _) = self_signed();
    let (_, other_key) = self_signed();
    std::fs::write(dir.join("server.crt"), cert).unwrap();
    std::fs::write(dir.join("other.key"), other_key).unwrap();
    let err = TlsServer::from_config(&proxy_with(&dir.join("server.crt"), &dir.join("other.key")))
        .unwrap_err();
    assert!(err.starts_with("proxy.tls_key: "), "{err}");
    assert!(err.contains("does not fit"), "{err}");
}

/// Loads a fresh self-signed pair with `min` as the oldest version; returns the server
/// and its certificate (for a client's roots).
fn server(name: &str, min: TlsVersion) -> (TlsServer, CertificateDer<'static>) {
    let dir = dir(name);
    let (cert, key) = self_signed();
    std::fs::write(dir.join("server.crt"), &cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();
    let mut proxy = proxy_with(&dir.join("server.crt"), &dir.join("server.key"));
    proxy.tls_min_version = min;
    let server = TlsServer::from_config(&proxy).unwrap().unwrap();
    (
        server,
        CertificateDer::from_pem_slice(cert.as_bytes()).unwrap(),
    )
}

/// Handshakes a rustls client speaking only `version` with `server` over loopback.
async fn handshake(
    server: &TlsServer,
    cert: CertificateDer<'static>,
    version: &'static rustls::SupportedProtocolVersion,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
    };
    let accept = async {
        let (tcp, _) = listener.accept().await.unwrap();
        server.accept(tcp, &[]).await
    };
    let (client, accepted) = tokio::join!(client, accept);
    client.map_err(|e| e.to_string())?;
    accepted.map(drop).map_err(|e| e.to_string())
}

#[tokio::test]
async fn tls_min_version_refuses_older_clients() {
    let (tls12, cert) = server("v12", TlsVersion::Tls12);
    handshake(&tls12, cert.clone(), &rustls::version::TLS12)
        .await
        .unwrap();
    handshake(&tls12, cert, &rustls::version::TLS13)
        .await
        .unwrap();
    let (tls13, cert) = server("v13", TlsVersion::Tls13);
    handshake(&tls13, cert.clone(), &rustls::version::TLS13)
        .await
        .unwrap();
    assert!(handshake(&tls13, cert, &rustls::version::TLS12)
        .await
        .is_err());
}

#[test]
fn the_certificate_has_channel_binding_data() {
    let (server, _) = server("binding", TlsVersion::Tls12);
    assert_eq!(server.channel_binding().map(<[u8]>::len), Some(32));
}
