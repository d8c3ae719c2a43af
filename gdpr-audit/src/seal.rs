//! Crypto-shredding: the personal fields of a record (subject reference,
//! object id, free text) are encrypted with XChaCha20-Poly1305 under a key
//! of the data subject. The chain and the Merkle tree hash the ciphertext,
//! so destroying the key (Art. 17) makes the fields unreadable while every
//! hash, proof and signature still verifies.
//!
//! Plaintext layout (canonical, as in [`crate::record`]):
//! `opt (str id, opt str issuer)` subject · `opt str` object id ·
//! `opt str` free text. Associated data: `"gdpr-audit/sealed/v1"` and the
//! 16-byte key id, so a ciphertext cannot be moved under another key id.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use gdpr_core::subject::PatientId;
use zeroize::Zeroizing;

use crate::Error;
use crate::encoding::{Reader, Writer};
use crate::object::{FreeText, ObjectId};

const AAD_DOMAIN: &[u8] = b"gdpr-audit/sealed/v1";
const TAG_LEN: usize = 16;

/// The random, meaningless identifier of a subject's key. It links the
/// records of one subject to each other, never to the person.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 16]);

impl KeyId {
    /// A key id from its 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Lower-case hex, for exports.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// A key id from its 32 hex digits (as exports and receipts show it).
    ///
    /// # Errors
    /// [`Error::BadInput`] unless `text` is exactly 32 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        crate::hex::decode(text)
            .map(Self)
            .ok_or_else(|| Error::BadInput {
                what: "key id",
                reason: "32 hex digits expected".into(),
            })
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

/// A 256-bit data key, zeroized on drop; `Debug` never shows it. A
/// [`crate::KeyStore`] backend stores these bytes and nothing else of it.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A key from its 32 bytes (as a backend stored them).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh key from the operating system's random number generator.
    ///
    /// # Errors
    /// [`Error::Random`] if the generator fails.
    pub fn random() -> Result<Self, Error> {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::fill(k.as_mut()).map_err(|_| Error::Random)?;
        Ok(Self(k))
    }

    /// The 32 bytes, for a backend to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<secret>)")
    }
}

/// The personal fields of an event, in clear. Never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonalFields {
    /// The data subject.
    pub subject: Option<PatientId>,
    /// The id of the object acted on.
    pub object_id: Option<ObjectId>,
    /// Free text.
    pub text: Option<FreeText>,
}

impl fmt::Debug for PersonalFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalFields(<redacted>)")
    }
}

impl PersonalFields {
    /// Whether there is nothing to seal.
    pub fn is_empty(&self) -> bool {
        self.subject.is_none() && self.object_id.is_none() && self.text.is_none()
    }

    /// The fields borrowed.
    #[cfg(test)]
    pub(crate) fn as_ref(&self) -> PersonalRef<'_> {
        PersonalRef {
            subject: self.subject.as_ref(),
            object_id: self.object_id.as_ref(),
            text: self.text.as_ref(),
        }
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "sealed fields");
        let subject = if r.tag()? {
            let id = PatientId::new(r.str()?).map_err(|_| r.fail("invalid patient id"))?;
            match r.opt_str()? {
                None => Some(id),
                Some(issuer) => Some(
                    id.with_issuer(issuer)
                        .map_err(|_| r.fail("invalid issuer"))?,
                ),
            }
        } else {
            None
        };
        let object_id = r
            .opt_str()?
            .map(ObjectId::new)
            .transpose()
            .map_err(|_| r.fail("invalid object id"))?;
        let text = r
            .opt_str()?
            .map(FreeText::new)
            .transpose()
            .map_err(|_| r.fail("invalid free text"))?;
        r.finish()?;
        Ok(Self {
            subject,
            object_id,
            text,
        })
    }
}

/// The personal fields of an event, borrowed from it (sealing copies
/// nothing but the plaintext it encrypts). Never printed.
#[derive(Clone, Copy)]
pub(crate) struct PersonalRef<'a> {
    pub(crate) subject: Option<&'a PatientId>,
    pub(crate) object_id: Option<&'a ObjectId>,
    pub(crate) text: Option<&'a FreeText>,
}

impl PersonalRef<'_> {
    /// Whether there is nothing to seal.
    pub(crate) fn is_empty(&self) -> bool {
        self.subject.is_none() && self.object_id.is_none() && self.text.is_none()
    }

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let len = |s: Option<&str>| s.map_or(1, |s| 5 + s.len());
        let mut w = Writer::with_capacity(
            1 + self
                .subject
                .map_or(0, |s| 4 + s.expose().len() + len(s.issuer()))
                + len(self.object_id.map(ObjectId::expose))
                + len(self.text.map(FreeText::expose)),
        );
        match self.subject {
            None => w.u8(0),
            Some(s) => {
                w.u8(1);
                w.str(s.expose());
                w.opt_str(s.issuer());
            }
        }
        w.opt_str(self.object_id.map(ObjectId::expose));
        w.opt_str(self.text.map(FreeText::expose));
        Zeroizing::new(w.into_bytes())
    }
}

impl fmt::Debug for PersonalRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalRef(<redacted>)")
    }
}

/// Personal fields encrypted under a subject key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFields {
    key_id: KeyId,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl SealedFields {
    /// Reassembles sealed fields from their stored parts.
    ///
    /// # Errors
    /// [`Error::InvalidField`] when the ciphertext is shorter than the
    /// 16-byte authentication tag.
    pub fn from_parts(key_id: KeyId, nonce: [u8; 24], ciphertext: Vec<u8>) -> Result<Self, Error> {
        if ciphertext.len() < TAG_LEN {
            return Err(Error::InvalidField {
                what: "sealed fields",
                rule: "a ciphertext of at least 16 bytes",
            });
        }
        Ok(Self {
            key_id,
            nonce,
            ciphertext,
        })
    }

    /// The id of the key that sealed these fields.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The 24-byte XChaCha20 nonce.
    pub fn nonce(&self) -> &[u8; 24] {
        &self.nonce
    }

    /// Ciphertext and tag.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// Encrypts `fields` under `key` (a fresh random nonce each time).
    #[cfg(test)]
    pub(crate) fn seal(
        fields: &PersonalFields,
        key_id: KeyId,
        key: &DataKey,
    ) -> Result<Self, Error> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|_| Error::Random)?;
        Self::seal_with_nonce(fields.as_ref(), key_id, key, nonce)
    }

    /// Encrypts `fields` under `key` with `nonce`, which must be fresh
    /// random bytes from the operating system (192-bit random nonces never
    /// repeat in practice).
    pub(crate) fn seal_with_nonce(
        fields: PersonalRef<'_>,
        key_id: KeyId,
        key: &DataKey,
        nonce: [u8; 24],
    ) -> Result<Self, Error> {
        let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
        let aad = aad(&key_id);
        let plaintext = fields.encode();
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            // Invariant: XChaCha20-Poly1305 only fails for messages > 256 GiB.
            .map_err(|_| Error::InvalidField {
                what: "personal fields",
                rule: "less than 256 GiB",
            })?;
        Ok(Self {
            key_id,
            nonce,
            ciphertext,
        })
    }

    /// Decrypts with `key`; `position` only labels the error.
    ///
    /// # Errors
    /// [`Error::Decrypt`] when authentication fails; [`Error::NonCanonical`]
    /// when the decrypted fields break a format rule.
    pub(crate) fn open(&self, key: &DataKey, position: u64) -> Result<PersonalFields, Error> {
        let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
        let aad = aad(&self.key_id);
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    &XNonce::from(self.nonce),
                    Payload {
                        msg: &self.ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| Error::Decrypt { position })?,
        );
        PersonalFields::decode(&plaintext)
    }
}

fn aad(key_id: &KeyId) -> [u8; AAD_DOMAIN.len() + 16] {
    let mut aad = [0; AAD_DOMAIN.len() + 16];
    let (domain, id) = aad.split_at_mut(AAD_DOMAIN.len());
    domain.copy_from_slice(AAD_DOMAIN);
    id.copy_from_slice(key_id.as_bytes());
    aad
}

/// Personal fields with the key id and key that seal them.
pub(crate) type ToSeal<'a> = (PersonalRef<'a>, KeyId, DataKey);

/// Seals each item with its 24-byte nonce from `nonces`, in order. (On one
/// thread: spreading a batch over cores measured slower, as the thread
/// hand-off costs about what sealing 100 records does.)
///
/// # Errors
/// As [`SealedFields::seal_with_nonce`].
pub(crate) fn seal_all(
    items: &[Option<ToSeal<'_>>],
    nonces: &[u8],
) -> Result<Vec<Option<SealedFields>>, Error> {
    items
        .iter()
        .zip(nonces.chunks_exact(24))
        .map(|(item, n)| {
            let mut nonce = [0u8; 24];
            nonce.copy_from_slice(n);
            item.as_ref()
                .map(|(fields, id, key)| SealedFields::seal_with_nonce(*fields, *id, key, nonce))
                .transpose()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> PersonalFields {
        PersonalFields {
            subject: Some(
                PatientId::new("CANARY-1")
                    .unwrap()
                    .with_issuer("H")
                    .unwrap(),
            ),
            object_id: Some(ObjectId::new("1.2.3").unwrap()),
            text: None,
        }
    }

    #[test]
    fn sealing_a_batch_keeps_each_item_with_its_nonce_and_key() {
        let keys: Vec<DataKey> = (0..3).map(|_| DataKey::random().unwrap()).collect();
        let f = fields();
        let items: Vec<Option<ToSeal>> = (0..101u8)
            .map(|i| {
                (i % 5 != 0).then(|| {
                    let k = usize::from(i % 3);
                    (f.as_ref(), KeyId::from_bytes([i; 16]), keys[k].clone())
                })
            })
            .collect();
        let nonces: Vec<u8> = (0..101 * 24).map(|i| (i % 251) as u8).collect();
        let sealed = seal_all(&items, &nonces).unwrap();
        assert_eq!(sealed.len(), items.len());
        for (i, (item, s)) in items.iter().zip(&sealed).enumerate() {
            match (item, s) {
                (None, None) => {}
                (Some((r, id, key)), Some(s)) => {
                    let mut nonce = [0u8; 24];
                    nonce.copy_from_slice(&nonces[i * 24..i * 24 + 24]);
                    let one = SealedFields::seal_with_nonce(*r, *id, key, nonce).unwrap();
                    assert_eq!(s.ciphertext(), one.ciphertext(), "item {i}");
                    assert_eq!(s.open(key, 0).unwrap(), f);
                }
                _ => panic!("item {i} sealed out of order"),
            }
        }
    }

    #[test]
    fn seal_open_round_trip_and_wrong_key_fails() {
        let key = DataKey::random().unwrap();
        let id = KeyId::from_bytes([1; 16]);
        let sealed = SealedFields::seal(&fields(), id, &key).unwrap();
        assert!(!sealed.ciphertext().windows(6).any(|w| w == b"CANARY"));
        assert_eq!(sealed.open(&key, 0).unwrap(), fields());
        let other = DataKey::random().unwrap();
        assert!(matches!(
            sealed.open(&other, 5),
            Err(Error::Decrypt { position: 5 })
        ));
    }

    #[test]
    fn moving_ciphertext_to_another_key_id_fails() {
        let key = DataKey::random().unwrap();
        let sealed = SealedFields::seal(&fields(), KeyId::from_bytes([1; 16]), &key).unwrap();
        let moved = SealedFields::from_parts(
            KeyId::from_bytes([2; 16]),
            *sealed.nonce(),
            sealed.ciphertext().to_vec(),
        )
        .unwrap();
        assert!(moved.open(&key, 0).is_err());
        assert!(!format!("{:?}", fields()).contains("CANARY"));
    }
}
