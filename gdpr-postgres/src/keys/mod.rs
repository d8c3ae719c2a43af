//! Subject keys on PostgreSQL: [`PgKeyStore`], the [`KeyStore`] that every
//! node of a tenant shares. A key is found by blind index (HMAC-SHA-256
//! under the tenant's index secret, as in the file key store), stored
//! wrapped by the KEK ([`kek`]), and erased by a committed `UPDATE` that
//! drops it and leaves a tombstone — seen by every node at its next look-up
//! (no node caches subject keys). What stays behind after an erasure (dead
//! tuples until VACUUM, WAL, replicas, backups: all holding the key only
//! wrapped) is in docs/postgres.md, "The key window".

use std::sync::{Mutex, MutexGuard, PoisonError};

use gdpr_audit::seal::{DataKey, KeyId};
use gdpr_audit::{Error, KeyStore};
use gdpr_core::subject::PatientId;
use hmac::{Hmac, KeyInit};
use postgres::Client;
use sha2::Sha256;

use crate::config::PgConfig;
use crate::error::audit;

mod image;
pub mod kek;

use kek::KekRing;

/// The subjects' keys of one tenant (the role the connection logs in as).
pub struct PgKeyStore {
    conn: Mutex<Client>,
    kek: KekRing,
    tenant: String,
    index_mac: Hmac<Sha256>,
    unattributed: (KeyId, DataKey),
}

impl std::fmt::Debug for PgKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgKeyStore")
            .field("kek", &self.kek)
            .finish_non_exhaustive()
    }
}

fn random_id() -> Result<KeyId, Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| Error::Random)?;
    Ok(KeyId::from_bytes(b))
}

fn id_of(bytes: &[u8]) -> Result<KeyId, Error> {
    <[u8; 16]>::try_from(bytes)
        .map(KeyId::from_bytes)
        .map_err(|_| Error::BadInput {
            what: "gdpr.subject_key",
            reason: "a key id that is not 16 bytes".into(),
        })
}

impl PgKeyStore {
    /// Connects as the tenant of `config`; creates the tenant's index
    /// secret and unattributed key (wrapped by `kek`) on first use.
    ///
    /// # Errors
    /// [`Error::Backend`]; [`Error::Random`]; unwrapping errors when `kek`
    /// is not the KEK the tenant's keys are wrapped with.
    pub fn open(config: &PgConfig, kek: KekRing) -> Result<Self, Error> {
        let mut client = config.connect()?;
        crate::migrate::check(&mut client)?;
        let tenant: String = client
            .query_one("SELECT current_user::text", &[])
            .map_err(audit("reading the tenant"))?
            .get(0);
        let meta_aad = |what: &[u8]| {
            [
                b"gdpr-postgres key meta v1:".as_slice(),
                tenant.as_bytes(),
                b":",
                what,
            ]
            .concat()
        };
        let secret = DataKey::random()?;
        let (uid, ukey) = (random_id()?, DataKey::random()?);
        let (v, ws) = kek.wrap(&secret, &meta_aad(b"index"))?;
        let (_, wu) = kek.wrap(&ukey, &meta_aad(uid.as_bytes()))?;
        client
            .execute(
                "INSERT INTO gdpr.key_meta (kek_version, index_secret, unattributed_id, unattributed_key)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&v, &ws, &&uid.as_bytes()[..], &wu],
            )
            .map_err(audit("creating the tenant's key row"))?;
        let row = client
            .query_one(
                "SELECT kek_version, index_secret, unattributed_id, unattributed_key FROM gdpr.key_meta",
                &[],
            )
            .map_err(audit("reading the tenant's key row"))?;
        let v: i32 = row.get(0);
        let uid = id_of(row.get(2))?;
        let secret = kek.unwrap_key(v, row.get(1), &meta_aad(b"index"))?;
        let ukey = kek.unwrap_key(v, row.get(3), &meta_aad(uid.as_bytes()))?;
        let index_mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        Ok(Self {
            conn: Mutex::new(client),
            kek,
            tenant,
            index_mac,
            unattributed: (uid, ukey),
        })
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The blind index of `subject` (the same encoding as the file store's).
    fn blind(&self, subject: &PatientId) -> [u8; 32] {
        gdpr_audit::seal::blind_index(&self.index_mac, subject)
    }

    /// The associated data binding a wrapped key to its tenant and id.
    fn aad(&self, id: &KeyId) -> Vec<u8> {
        [
            b"gdpr-postgres subject key v1:".as_slice(),
            self.tenant.as_bytes(),
            b":",
            id.as_bytes(),
        ]
        .concat()
    }

    /// A new key for `blind`: inserted, or — when a tombstone is there and
    /// `replace_tombstone` — put in its place. `None` when another node
    /// inserted one first (or a tombstone blocks it).
    fn insert(
        &self,
        blind: &[u8; 32],
        replace_tombstone: bool,
    ) -> Result<Option<(KeyId, DataKey)>, Error> {
        let (id, key) = (random_id()?, DataKey::random()?);
        let (v, wrapped) = self.kek.wrap(&key, &self.aad(&id))?;
        let sql = if replace_tombstone {
            "INSERT INTO gdpr.subject_key (blind, key_id, kek_version, wrapped) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, blind) DO UPDATE SET key_id = $2, kek_version = $3, wrapped = $4
             WHERE gdpr.subject_key.wrapped IS NULL"
        } else {
            "INSERT INTO gdpr.subject_key (blind, key_id, kek_version, wrapped) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, blind) DO NOTHING"
        };
        let n = self
            .client()
            .execute(sql, &[&&blind[..], &&id.as_bytes()[..], &v, &wrapped])
            .map_err(audit("storing a subject key"))?;
        Ok((n == 1).then_some((id, key)))
    }

    /// The row of `blind`: `Some(None)` for a tombstone.
    fn lookup(&self, blind: &[u8; 32]) -> Result<Option<Option<(KeyId, DataKey)>>, Error> {
        let row = self
            .client()
            .query_opt(
                "SELECT key_id, kek_version, wrapped FROM gdpr.subject_key WHERE blind = $1",
                &[&&blind[..]],
            )
            .map_err(audit("looking up a subject key"))?;
        let Some(row) = row else { return Ok(None) };
        let id = id_of(row.get(0))?;
        match (row.get::<_, Option<i32>>(1), row.get::<_, Option<&[u8]>>(2)) {
            (Some(v), Some(w)) => Ok(Some(Some((id, self.kek.unwrap_key(v, w, &self.aad(&id))?)))),
            _ => Ok(Some(None)),
        }
    }

    /// Re-wraps every key (and the tenant's key row) under the KEK file's
    /// newest version, in one transaction; returns the keys re-wrapped.
    /// Afterwards the old version can be deleted from the KEK file, and
    /// copies of the database taken before (dead tuples, WAL, backups)
    /// no longer open.
    ///
    /// # Errors
    /// [`Error::Backend`] (nothing changed); unwrapping errors.
    pub fn rotate(&self) -> Result<u64, Error> {
        let current = self.kek.current();
        let mut client = self.client();
        let mut tx = client
            .transaction()
            .map_err(audit("starting a KEK rotation"))?;
        let rows = tx
            .query(
                "SELECT blind, key_id, kek_version, wrapped FROM gdpr.subject_key
                 WHERE wrapped IS NOT NULL AND kek_version <> $1 FOR UPDATE",
                &[&current],
            )
            .map_err(audit("reading keys to re-wrap"))?;
        for row in &rows {
            let id = id_of(row.get(1))?;
            let key = self
                .kek
                .unwrap_key(row.get(2), row.get(3), &self.aad(&id))?;
            let (v, w) = self.kek.wrap(&key, &self.aad(&id))?;
            tx.execute(
                "UPDATE gdpr.subject_key SET kek_version = $1, wrapped = $2 WHERE blind = $3",
                &[&v, &w, &row.get::<_, &[u8]>(0)],
            )
            .map_err(audit("re-wrapping a key"))?;
        }
        let meta_aad = |what: &[u8]| {
            [
                b"gdpr-postgres key meta v1:".as_slice(),
                self.tenant.as_bytes(),
                b":",
                what,
            ]
            .concat()
        };
        let (uid, ukey) = &self.unattributed;
        let secret = tx
            .query_one(
                "SELECT kek_version, index_secret FROM gdpr.key_meta FOR UPDATE",
                &[],
            )
            .map_err(audit("reading the tenant's key row"))?;
        let secret = self
            .kek
            .unwrap_key(secret.get(0), secret.get(1), &meta_aad(b"index"))?;
        let (v, ws) = self.kek.wrap(&secret, &meta_aad(b"index"))?;
        let (_, wu) = self.kek.wrap(ukey, &meta_aad(uid.as_bytes()))?;
        tx.execute(
            "UPDATE gdpr.key_meta SET kek_version = $1, index_secret = $2, unattributed_key = $3",
            &[&v, &ws, &wu],
        )
        .map_err(audit("re-wrapping the tenant's key row"))?;
        tx.commit().map_err(audit("committing a KEK rotation"))?;
        Ok(rows.len() as u64)
    }
}

impl KeyStore for PgKeyStore {
    fn key_for(&mut self, subject: &PatientId) -> Result<(KeyId, DataKey), Error> {
        let blind = self.blind(subject);
        // Two rounds: another node may insert the same subject's key between
        // our look-up and our insert; then we take theirs.
        for _ in 0..2 {
            match self.lookup(&blind)? {
                Some(Some(k)) => return Ok(k),
                Some(None) => return Err(Error::SubjectErased),
                None => {
                    if let Some(k) = self.insert(&blind, false)? {
                        return Ok(k);
                    }
                }
            }
        }
        Err(Error::Backend {
            operation: "creating a subject key",
            source: "the key row changed twice during the look-up; retry".into(),
        })
    }

    fn find(&self, subject: &PatientId) -> Option<KeyId> {
        match self.lookup(&self.blind(subject)) {
            Ok(Some(Some((id, _)))) => Some(id),
            _ => None,
        }
    }

    fn key(&self, id: &KeyId) -> Option<DataKey> {
        if *id == self.unattributed.0 {
            return Some(self.unattributed.1.clone());
        }
        let row = self
            .client()
            .query_opt(
                "SELECT kek_version, wrapped FROM gdpr.subject_key WHERE key_id = $1 AND wrapped IS NOT NULL",
                &[&&id.as_bytes()[..]],
            )
            .ok()??;
        self.kek
            .unwrap_key(row.get(0), row.get(1), &self.aad(id))
            .ok()
    }

    fn unattributed(&self) -> (KeyId, DataKey) {
        self.unattributed.clone()
    }

    fn erase(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        let blind = self.blind(subject);
        let row = self
            .client()
            .query_opt(
                "UPDATE gdpr.subject_key SET wrapped = NULL, kek_version = NULL
                 WHERE blind = $1 AND wrapped IS NOT NULL RETURNING key_id",
                &[&&blind[..]],
            )
            .map_err(audit("erasing a subject key"))?;
        match row {
            Some(r) => id_of(r.get(0)),
            None => Err(Error::UnknownSubject),
        }
    }

    /// Reads only whether the subject's row is a tombstone (no key is
    /// unwrapped). A look-up that fails is an error, never "erased" nor
    /// "not erased".
    fn is_erased(&self, subject: &PatientId) -> Result<bool, Error> {
        let row = self
            .client()
            .query_opt(
                "SELECT wrapped IS NULL FROM gdpr.subject_key WHERE blind = $1",
                &[&&self.blind(subject)[..]],
            )
            .map_err(audit("looking up whether a subject was erased"))?;
        Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
    }

    fn begin_relationship(&mut self, subject: &PatientId) -> Result<KeyId, Error> {
        let blind = self.blind(subject);
        for _ in 0..2 {
            if let Some(Some((id, _))) = self.lookup(&blind)? {
                return Ok(id);
            }
            if let Some((id, _)) = self.insert(&blind, true)? {
                return Ok(id);
            }
        }
        Err(Error::Backend {
            operation: "creating a subject key",
            source: "the key row changed twice during the look-up; retry".into(),
        })
    }
}
