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
