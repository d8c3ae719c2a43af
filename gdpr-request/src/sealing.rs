//! Sealing the subject's identifiers in what the controller keeps to prove
//! it handled a request (GDPR Art. 5(2)): `request.json`, and the journal's
//! `locate` results (which hold study UIDs), are written with the
//! identifiers encrypted under a key of **this request alone**, held in a
//! key store of its own next to the requests (`<requests>/request-keys`,
//! the audit log's [`FileKeyStore`]: keys found by a blind index, never by
//! a clear reference; 0600).
//!
//! When the request's own retention ends ([`SealRetention`], three years
//! after the answer by default), [`shred_expired`] destroys the key
//! (a tombstone stays): the identifiers become unreadable for good, while
//! everything else — the history, the assessment, the outcome and the
//! signed certificate, none of which holds an identifier — stays readable
//! and the certificate still verifies.
//!
//! Sealed value (JSON): `{"key-id": hex, "nonce": base64, "ciphertext":
//! base64}`, XChaCha20-Poly1305 with the request id as associated data.
//! Every change of the key store happens under an exclusive lock
//! (`request-keys.lock`), on a copy read fresh, so concurrent processes do
//! not lose each other's keys.

use std::fs::File;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use gdpr_audit::seal::KeyId;
use gdpr_audit::{FileKeyStore, KeyStore};
use gdpr_core::request::RequestId;
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Error;

/// The key store's file name in the requests root.
pub const KEYS_FILE: &str = "request-keys";

/// An encrypted value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Sealed {
    /// The id of the request key, hex.
    pub key_id: String,
    /// The 24-byte nonce, base64.
    pub nonce: String,
    /// Ciphertext and tag, base64.
    pub ciphertext: String,
}

/// How long the identifiers stay readable after the request is answered
/// (default three years: the regular limitation period of § 195 BGB for
/// claims about how a request was handled; set your own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealRetention {
    /// Whole years after the answer.
    pub years: i16,
}

impl Default for SealRetention {
    fn default() -> Self {
        Self { years: 3 }
    }
}

/// The request keys under a requests root.
#[derive(Debug, Clone)]
pub struct RequestKeys {
    path: PathBuf,
}

impl RequestKeys {
    /// The key store of the requests under `root` (created on first use).
    pub fn at(root: &Path) -> Self {
        Self {
            path: root.join(KEYS_FILE),
        }
    }

    /// Runs `op` on the key store read fresh, under the lock.
    fn with<T>(&self, op: impl FnOnce(&mut FileKeyStore) -> Result<T, Error>) -> Result<T, Error> {
        let lock_path = self.path.with_extension("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(Error::io("open the request keys' lock"))?;
        lock.lock().map_err(Error::io("lock the request keys"))?;
        let mut store = if self.path.exists() {
            FileKeyStore::open(&self.path)?
        } else {
            FileKeyStore::create(&self.path)?
        };
        op(&mut store)
        // The lock is released when `lock` is dropped.
    }

    /// The key-store subject of request `id` (the request id, issuer
    /// `gdpr-request`): it names the request, never the patient.
    fn subject(id: &RequestId) -> Result<PatientId, Error> {
        PatientId::new(id.as_str())
            .and_then(|p| p.with_issuer("gdpr-request"))
            .map_err(|e| Error::Request(Box::new(e.into())))
    }

    /// Encrypts `plain` under request `id`'s key (created if missing).
    ///
    /// # Errors
    /// [`Error::Shredded`] when the key was shredded; [`Error::Audit`] for
    /// the key store's errors; [`Error::Io`].
    pub fn seal(&self, id: &RequestId, plain: &[u8]) -> Result<Sealed, Error> {
        let subject = Self::subject(id)?;
        let (key_id, key) = self.with(|s| {
            s.key_for(&subject).map_err(|e| match e {
                gdpr_audit::Error::SubjectErased => Error::Shredded,
                e => e.into(),
            })
        })?;
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|_| Error::Audit(Box::new(gdpr_audit::Error::Random)))?;
        let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: id.as_str().as_bytes(),
                },
            )
            // Invariant: XChaCha20-Poly1305 fails only beyond 256 GiB.
            .map_err(|_| Error::Shredded)?;
        Ok(Sealed {
            key_id: key_id.to_hex(),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        })
    }

    /// Decrypts `sealed` of request `id`.
    ///
    /// # Errors
    /// [`Error::Shredded`] when the key is gone; [`Error::Damaged`] when
    /// the value does not decrypt.
    pub fn unseal(&self, id: &RequestId, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, Error> {
        let damaged = || Error::Damaged {
            what: "a sealed value",
            line: 0,
        };
        let key_id = KeyId::from_hex(&sealed.key_id).map_err(|_| damaged())?;
        let key = self.with(|s| Ok(s.key(&key_id)))?.ok_or(Error::Shredded)?;
        let nonce: [u8; 24] = B64
            .decode(&sealed.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(damaged)?;
        let ciphertext = B64.decode(&sealed.ciphertext).map_err(|_| damaged())?;
        let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: id.as_str().as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| damaged())
    }

    /// Destroys request `id`'s key (a tombstone stays). True when a key
    /// was destroyed, false when there was none (already shredded).
    ///
    /// # Errors
    /// [`Error::Audit`], [`Error::Io`].
    pub fn shred(&self, id: &RequestId) -> Result<bool, Error> {
        let subject = Self::subject(id)?;
        self.with(|s| match s.erase(&subject) {
            Ok(_) => Ok(true),
            Err(gdpr_audit::Error::UnknownSubject | gdpr_audit::Error::SubjectErased) => Ok(false),
            Err(e) => Err(e.into()),
        })
    }
}

/// Where a request's key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeyState {
    /// The key exists: the identifiers can be read.
    Live,
    /// The key was shredded (a tombstone is in place).
    Shredded,
    /// The request never had a key (nothing of it was sealed).
    Missing,
}

/// An answered request whose sealed identifiers' retention has ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub struct Expired {
    /// The request.
    pub id: RequestId,
    /// When it was answered (its last transition).
    pub answered: Timestamp,
    /// When its retention ended (answered + the retention).
    pub until: Timestamp,
    /// Its key now.
    pub key: KeyState,
}

impl RequestKeys {
    /// Where request `id`'s key stands (nothing is created).
    ///
    /// # Errors
    /// [`Error::Audit`], [`Error::Io`].
    pub fn state(&self, id: &RequestId) -> Result<KeyState, Error> {
        if !self.path.exists() {
            return Ok(KeyState::Missing);
        }
        let subject = Self::subject(id)?;
        self.with(|store| {
            Ok(if store.is_erased(&subject) {
                KeyState::Shredded
            } else if store.find(&subject).is_some() {
                KeyState::Live
            } else {
                KeyState::Missing
            })
        })
    }
}

/// Every answered request under `root` whose retention ended by `now`
/// (answered + `retention`), sorted by id, with its key's state; nothing is
/// changed (what [`shred_expired`] would act on: those with a live key).
///
/// # Errors
/// Listing `root` or reading a request; [`Error::Request`] when a date is
/// out of range; the key store's errors.
pub fn expired(
    root: &Path,
    retention: SealRetention,
    now: Timestamp,
) -> Result<Vec<Expired>, Error> {
    let keys = RequestKeys::at(root);
    let mut out = Vec::new();
    let entries = std::fs::read_dir(root).map_err(Error::io("list the requests"))?;
    for entry in entries {
        let path = entry.map_err(Error::io("list the requests"))?.path();
        if !path.join(crate::REQUEST_FILE).exists() {
            continue;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Ok(id) = RequestId::new(name) else {
            continue;
        };
        let dir = crate::RequestDir::open(root, &id)?;
        let Some(answered) = dir.answered_at()? else {
            continue;
        };
        let utc = jiff::tz::TimeZone::UTC;
        let out_of_range =
            |_| Error::Request(Box::new(gdpr_core::request::RequestError::DateOutOfRange));
        let until = utc
            .to_datetime(answered)
            .checked_add(jiff::Span::new().years(retention.years))
            .and_then(|dt| utc.to_timestamp(dt))
            .map_err(out_of_range)?;
        if until <= now {
            let key = keys.state(&id)?;
            out.push(Expired {
                id,
                answered,
                until,
                key,
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Shreds the key of every answered request under `root` whose retention
/// ended by `now` (answered + `retention`), and returns their ids (those
/// whose key was destroyed now; one already shredded is not listed again).
///
/// # Errors
/// As [`expired`] and [`RequestKeys::shred`].
pub fn shred_expired(
    root: &Path,
    retention: SealRetention,
    now: Timestamp,
) -> Result<Vec<RequestId>, Error> {
    let keys = RequestKeys::at(root);
    let mut shredded = Vec::new();
    for e in expired(root, retention, now)? {
        if e.key == KeyState::Live && keys.shred(&e.id)? {
            shredded.push(e.id);
        }
    }
    Ok(shredded)
}
