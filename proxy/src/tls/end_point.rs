//! `tls-server-end-point` channel binding data (RFC 5929 §4.1): the hash of the server's
//! certificate, with the hash function of the certificate's signature algorithm (SHA-256
//! when that is MD5 or SHA-1). SCRAM-SHA-256-PLUS mixes it into the proof, so a client
//! that logs in through a man in the middle with another certificate fails even if it
//! trusted that certificate.
//!
//! Only the signature algorithm's OID is read from the certificate, by a few lines of
//! DER walking rather than an X.509 crate: rustls already parsed and checked the
//! certificate at load time. Algorithms without one hash (Ed25519, RSASSA-PSS) give
//! `None`: then the proxy does not offer channel binding, as PostgreSQL cannot either.

use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// DER OIDs of signature algorithms, by the hash they use.
const SHA256_LIKE: &[&[u8]] = &[
    // md5WithRSAEncryption, sha1WithRSAEncryption, sha256WithRSAEncryption
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04],
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
    // ecdsa-with-SHA1, ecdsa-with-SHA256
    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],
    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
];
const SHA224: &[&[u8]] = &[
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e],
    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01],
];
const SHA384: &[&[u8]] = &[
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
];
const SHA512: &[&[u8]] = &[
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
];

/// The channel binding data of the DER certificate `cert`; `None` when its signature
/// algorithm has no single hash (or the DER is not a certificate).
pub fn tls_server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    let oid = signature_algorithm(cert)?;
    let is = |list: &[&[u8]]| list.contains(&oid);
    if is(SHA256_LIKE) {
        Some(Sha256::digest(cert).to_vec())
    } else if is(SHA224) {
        Some(Sha224::digest(cert).to_vec())
    } else if is(SHA384) {
        Some(Sha384::digest(cert).to_vec())
    } else if is(SHA512) {
        Some(Sha512::digest(cert).to_vec())
    } else {
        None
    }
}

/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm
/// AlgorithmIdentifier, signature }`; `AlgorithmIdentifier ::= SEQUENCE { OID, … }`.
fn signature_algorithm(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    let (certificate, _) = element(cert, SEQUENCE)?;
    let (_tbs, rest) = element(certificate, SEQUENCE)?;
    let (algorithm, _) = element(rest, SEQUENCE)?;
    let (oid, _) = element(algorithm, OID)?;
    Some(oid)
}

/// The contents of the DER element at the front of `input` if its tag is `tag`, and
/// what follows it.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, rest) = rest.split_first()?;
    let (len, rest) = if len < 0x80 {
        (usize::from(len), rest)
    } else {
        let n = usize::from(len & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, rest) = rest.split_at(n);
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cert_with(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn the_hash_follows_the_signature_algorithm() {
        let p256 = cert_with(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert_eq!(
            tls_server_end_point(&p256),
            Some(Sha256::digest(&p256).to_vec())
        );
        let p384 = cert_with(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(
            tls_server_end_point(&p384),
            Some(Sha384::digest(&p384).to_vec())
        );
    }

    #[test]
    fn ed25519_and_garbage_have_no_binding() {
        assert_eq!(tls_server_end_point(&cert_with(&rcgen::PKCS_ED25519)), None);
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x05, 0x30],
        ] {
            assert_eq!(tls_server_end_point(bad), None);
        }
    }
}
