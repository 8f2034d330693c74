//! The RSA key pair of `caching_sha2_password` full authentication over connections
//! without TLS: clients fetch the public key (PEM) and send
//! `RSA-OAEP(SHA-1, MGF1-SHA-1)((password ‖ NUL) XOR salt)`, which only the proxy can read.
//!
//! One key pair serves the whole process. Generating 2048-bit keys takes from a fraction
//! of a second (release) to many seconds (debug builds), so [`RsaKeys::global`] blocks:
//! the MySQL frontend calls it once inside `tokio::task::spawn_blocking` when its listener
//! starts, or installs a configured key with [`RsaKeys::set_global`] first.
//!
//! `rsa` 0.9's private-key operation is not constant time (RUSTSEC-2023-0071, the "Marvin"
//! timing attack); decryption here is blinded, and TLS remains the better channel for
//! full authentication where clients support it.
//!
//! `rsa` 0.9 uses `rand_core` 0.6 while the workspace's `rand` is 0.10, so [`ThreadRng06`]
//! bridges the thread-local CSPRNG of `rand` 0.10 to the older traits.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rand::Rng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPrivateKey};

/// Size of generated keys, in bits (MySQL's default).
pub const RSA_BITS: usize = 2048;
/// Smallest key [`RsaKeys::from_private_key_pem`] accepts, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a key pair could not be made or loaded. The text never contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaKeyError {
    /// Key generation failed (in practice only if the OS random source fails).
    #[error("cannot generate an RSA key pair: {0}")]
    Generate(String),
    /// The PEM text is not an RSA private key in PKCS#8 or PKCS#1 form.
    #[error("not an RSA private key in PEM (PKCS#8 or PKCS#1): {0}")]
    Parse(String),
    /// The key is shorter than [`MIN_RSA_BITS`].
    #[error("RSA key of {0} bits is too small (at least {MIN_RSA_BITS} bits are required)")]
    TooSmall(usize),
}

/// An RSA key pair with its public key already in PEM. Cloning shares the key.
///
/// `Debug` shows only the key size.
#[derive(Clone)]
pub struct RsaKeys(Arc<Inner>);

struct Inner {
    private: RsaPrivateKey,
    public_pem: String,
}

static GLOBAL: OnceLock<Result<RsaKeys, RsaKeyError>> = OnceLock::new();

impl RsaKeys {
    /// Generates a fresh [`RSA_BITS`]-bit key pair. Slow: run it off the async runtime.
    pub fn generate() -> Result<Self, RsaKeyError> {
        let private = RsaPrivateKey::new(&mut ThreadRng06, RSA_BITS)
            .map_err(|e| RsaKeyError::Generate(e.to_string()))?;
        Self::from_private_key(private).map_err(|e| RsaKeyError::Generate(e.to_string()))
    }

    /// Loads a private key from PEM text: PKCS#8 (`-----BEGIN PRIVATE KEY-----`) or
    /// PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`, MySQL's `private_key.pem`).
    pub fn from_private_key_pem(pem: &str) -> Result<Self, RsaKeyError> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem).or_else(|pkcs8| {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(|pkcs1| {
                RsaKeyError::Parse(format!("as PKCS#8: {pkcs8}; as PKCS#1: {pkcs1}"))
            })
        })?;
        let bits = private.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(RsaKeyError::TooSmall(bits));
        }
        Self::from_private_key(private)
    }

    fn from_private_key(private: RsaPrivateKey) -> Result<Self, RsaKeyError> {
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| RsaKeyError::Parse(format!("cannot encode the public key: {e}")))?;
        Ok(RsaKeys(Arc::new(Inner {
            private,
            public_pem,
        })))
    }

    /// The process's key pair: the one [`set_global`](Self::set_global) installed, else
    /// one generated on the first call. Blocks while generating (call it in
    /// `spawn_blocking`); a failure is remembered and returned to every later caller.
    pub fn global() -> Result<RsaKeys, RsaKeyError> {
        GLOBAL.get_or_init(Self::generate).clone()
    }

    /// The process's key pair if it is ready; never blocks on generation.
    pub fn try_global() -> Option<RsaKeys> {
        GLOBAL.get().and_then(|keys| keys.as_ref().ok()).cloned()
    }

    /// Makes `keys` (e.g. loaded from a configured PEM file) the process's key pair.
    /// Fails, giving `keys` back, if [`global`](Self::global) already ran.
    pub fn set_global(keys: RsaKeys) -> Result<(), RsaKeys> {
        GLOBAL.set(Ok(keys.clone())).map_err(|_| keys)
    }

    /// The public key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), which the
    /// server sends as AuthMoreData when a client asks for it.
    pub fn public_key_pem(&self) -> &str {
        &self.0.public_pem
    }

    /// Length of every ciphertext under this key (the modulus size in bytes).
    pub fn ciphertext_len(&self) -> usize {
        self.0.private.size()
    }

    /// Decrypts an RSA-OAEP (SHA-1, MGF1-SHA-1, empty label) ciphertext, with blinding.
    /// `None` for a ciphertext of the wrong length or with invalid padding; the caller
    /// must not reveal which.
    pub(super) fn decrypt(&self, ciphertext: &[u8]) -> Option<Vec<u8>> {
        if ciphertext.len() != self.ciphertext_len() {
            return None;
        }
        self.0
            .private
            .decrypt_blinded(&mut ThreadRng06, Oaep::new::<sha1::Sha1>(), ciphertext)
            .ok()
    }
}

#[cfg(test)]
impl RsaKeys {
    /// The private key, for exporting it in tests.
    pub(super) fn private_key(&self) -> &RsaPrivateKey {
        &self.0.private
    }
}

impl fmt::Debug for RsaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKeys")
            .field("bits", &(self.ciphertext_len() * 8))
            .finish_non_exhaustive()
    }
}

/// `rand` 0.10's thread-local CSPRNG behind the `rand_core` 0.6 traits that `rsa` 0.9 takes.
pub(super) struct ThreadRng06;

impl rsa::rand_core::RngCore for ThreadRng06 {
    fn next_u32(&mut self) -> u32 {
        rand::rng().next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        rand::rng().next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::rng().fill_bytes(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::rng().fill_bytes(dest);
        Ok(())
    }
}

/// `rand::rngs::ThreadRng` is a CSPRNG (ChaCha12, seeded and reseeded from the OS).
impl rsa::rand_core::CryptoRng for ThreadRng06 {}
