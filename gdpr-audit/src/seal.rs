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

use chacha20poly1305::aead::{Aead, AeadInOut, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use gdpr_core::subject::PatientId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
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

/// The personal fields of an event, borrowed from it. Never printed.
#[cfg(test)]
#[derive(Clone, Copy)]
pub(crate) struct PersonalRef<'a> {
    pub(crate) subject: Option<&'a PatientId>,
    pub(crate) object_id: Option<&'a ObjectId>,
    pub(crate) text: Option<&'a FreeText>,
}

#[cfg(test)]
impl PersonalRef<'_> {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let len = |s: Option<&str>| s.map_or(1, |s| 5 + s.len());
        let mut w = Writer::with_capacity(
            1 + self
                .subject
                .map_or(0, |s| 4 + s.expose().len() + len(s.issuer()))
                + len(self.object_id.map(ObjectId::expose))
                + len(self.text.map(FreeText::expose)),
        );
        encode_personal(
            &mut w,
            self.subject.map(|s| (s.expose(), s.issuer())),
            self.object_id.map(ObjectId::expose),
            self.text.map(FreeText::expose),
        );
        Zeroizing::new(w.into_bytes())
    }
}

/// Appends the plaintext of personal fields (the layout in the module
/// docs): the subject's id and issuer, the object id, the free text.
pub(crate) fn encode_personal(
    w: &mut Writer,
    subject: Option<(&str, Option<&str>)>,
    object_id: Option<&str>,
    text: Option<&str>,
) {
    match subject {
        None => w.u8(0),
        Some((id, issuer)) => {
            w.u8(1);
            w.str(id);
            w.opt_str(issuer);
        }
    }
    w.opt_str(object_id);
    w.opt_str(text);
}

#[cfg(test)]
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

    /// Encrypts `fields` under `key` with `nonce` (as [`seal_into`] does).
    #[cfg(test)]
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

/// The blind index of `subject` under a key store's index key: the
/// HMAC-SHA-256 of `opt str issuer · str id` (the canonical encoding), fed
/// piece by piece so no copy of the identifier is made. Every key store
/// (the file store, PostgreSQL) finds subjects by it, so it is defined once.
pub fn blind_index(index_mac: &Hmac<Sha256>, subject: &PatientId) -> [u8; 32] {
    blind_index_of(index_mac, subject.expose(), subject.issuer())
}

/// [`blind_index`] of a subject given by its id and issuer as text.
pub(crate) fn blind_index_of(index_mac: &Hmac<Sha256>, id: &str, issuer: Option<&str>) -> [u8; 32] {
    fn str(mac: &mut Hmac<Sha256>, s: &str) {
        // Invariant: identifiers are validated to be < 64 KiB.
        mac.update(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
        mac.update(s.as_bytes());
    }
    let mut mac = index_mac.clone();
    match issuer {
        None => mac.update(&[0]),
        Some(issuer) => {
            mac.update(&[1]);
            str(&mut mac, issuer);
        }
    }
    str(&mut mac, id);
    mac.finalize().into_bytes().into()
}

/// Appends the sealed-fields part of a record (tag `1`, key id, nonce,
/// length-prefixed ciphertext and tag; the layout of
/// [`crate::record`]): `plaintext` (personal fields as
/// [`encode_personal`] lays them out) encrypted under `key` with `nonce`,
/// which must never have been used before: 24 fresh random bytes from the
/// operating system, or (a batch) 16 such bytes shared by the batch
/// followed by the record's index in the batch (the 128-bit random part
/// repeats with negligible probability, and within a batch the index
/// differs). The plaintext is encrypted
/// where it lands in `w`: no copy of it is left behind.
///
/// # Errors
/// [`Error::InvalidField`] for a plaintext XChaCha20-Poly1305 cannot
/// encrypt (over 256 GiB; fields are far shorter).
pub(crate) fn seal_into(
    w: &mut Writer,
    plaintext: &[u8],
    key_id: KeyId,
    key: &DataKey,
    nonce: [u8; 24],
) -> Result<(), Error> {
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    w.u8(1);
    w.fixed(key_id.as_bytes());
    w.fixed(&nonce);
    // Invariant: fields are validated to be a few KiB at most.
    w.u32(u32::try_from(plaintext.len() + TAG_LEN).unwrap_or(u32::MAX));
    let start = w.len();
    w.fixed(plaintext);
    let tag = cipher
        .encrypt_inout_detached(
            &XNonce::from(nonce),
            &aad(&key_id),
            w.tail_mut(start).into(),
        )
        .map_err(|_| Error::InvalidField {
            what: "personal fields",
            rule: "less than 256 GiB",
        })?;
    w.fixed(&tag);
    Ok(())
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

    /// Sealing in place gives the bytes of the sealed fields as a record
    /// encodes them, and they open to the fields.
    #[test]
    fn sealing_in_place_is_the_encoding_of_the_sealed_fields() {
        let key = DataKey::random().unwrap();
        let id = KeyId::from_bytes([3; 16]);
        let f = fields();
        for (i, nonce) in [[0u8; 24], [7; 24], [255; 24]].into_iter().enumerate() {
            let one = SealedFields::seal_with_nonce(f.as_ref(), id, &key, nonce).unwrap();
            let mut expected = Writer::default();
            crate::record::sealed_tail(&mut expected, Some(&one));
            let mut w = Writer::from_vec(vec![9; i]);
            seal_into(&mut w, &f.as_ref().encode(), id, &key, nonce).unwrap();
            let bytes = w.into_bytes();
            assert_eq!(&bytes[..i], &vec![9; i][..]);
            assert_eq!(&bytes[i..], expected.into_bytes().as_slice(), "nonce {i}");
            assert_eq!(one.open(&key, 0).unwrap(), f);
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
