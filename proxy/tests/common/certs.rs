//! A throwaway PKI for the TLS tests: a test CA, a server certificate it signed for
//! `localhost` and 127.0.0.1 (what `verify-full` / `--ssl-verify-server-cert` check),
//! and a second CA that signed nothing of ours (for the "wrong CA" cases). Made with
//! rcgen on ring, the tree's one crypto provider.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// PEM files in a directory of their own.
pub struct TestPki {
    /// The CA that signed `cert`.
    pub ca: PathBuf,
    /// Another CA, unrelated to `cert`.
    pub other_ca: PathBuf,
    /// The server certificate (leaf, then the CA).
    pub cert: PathBuf,
    /// The server certificate's private key (PKCS#8).
    pub key: PathBuf,
}

/// Writes a fresh PKI under `dir` (created if missing).
pub fn make(dir: &Path) -> TestPki {
    std::fs::create_dir_all(dir).unwrap();
    let (ca_cert, ca_key) = ca("shardwire test CA");
    let (other_cert, _) = ca("some other CA");
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let pki = TestPki {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
    std::fs::write(&pki.other_ca, other_cert.pem()).unwrap();
    std::fs::write(&pki.cert, format!("{}{}", leaf.pem(), ca_cert.pem())).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).unwrap();
    (cert, key)
}
