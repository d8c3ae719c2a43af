//! A tenant's subject keys as a [`KeyStoreImage`] and back (`gdpr audit
//! copy` between a directory and PostgreSQL): the index secret, the key of
//! events without a subject and every subject's blind index, key id and
//! key or tombstone, unwrapped with the KEK on the way out and wrapped
//! under the KEK's newest version on the way in. Erased subjects stay
//! erased: a tombstone is copied as a tombstone, never as a key.

use gdpr_audit::seal::KeyId;
use gdpr_audit::{Error, ImageEntry, KeyStoreImage};

use super::kek::KekRing;
use super::{PgKeyStore, id_of};
use crate::config::PgConfig;
use crate::error::audit;

fn meta_aad(tenant: &str, what: &[u8]) -> Vec<u8> {
    [
        b"gdpr-postgres key meta v1:".as_slice(),
        tenant.as_bytes(),
        b":",
        what,
    ]
    .concat()
}

fn key_aad(tenant: &str, id: &KeyId) -> Vec<u8> {
    [
        b"gdpr-postgres subject key v1:".as_slice(),
        tenant.as_bytes(),
        b":",
        id.as_bytes(),
    ]
    .concat()
}

impl PgKeyStore {
    /// The tenant's subject keys, unwrapped, for a copy.
    ///
    /// # Errors
    /// [`Error::Backend`]; unwrapping errors (a KEK that is not the
    /// tenant's).
    pub fn image(&self) -> Result<KeyStoreImage, Error> {
        let mut client = self.client();
        let meta = client
            .query_one("SELECT kek_version, index_secret FROM gdpr.key_meta", &[])
            .map_err(audit("reading the tenant's key row"))?;
        let index_secret =
            self.kek
                .unwrap_key(meta.get(0), meta.get(1), &meta_aad(&self.tenant, b"index"))?;
        let rows = client
            .query(
                "SELECT blind, key_id, kek_version, wrapped FROM gdpr.subject_key ORDER BY blind",
                &[],
            )
            .map_err(audit("reading the subject keys"))?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let blind: [u8; 32] =
                <[u8; 32]>::try_from(row.get::<_, &[u8]>(0)).map_err(|_| Error::BadInput {
                    what: "gdpr.subject_key",
                    reason: "a blind index that is not 32 bytes".into(),
                })?;
            let key_id = id_of(row.get(1))?;
            let key = match row.get::<_, Option<&[u8]>>(3) {
                Some(wrapped) => Some(self.kek.unwrap_key(
                    row.get(2),
                    wrapped,
                    &key_aad(&self.tenant, &key_id),
                )?),
                None => None,
            };
            entries.push(ImageEntry { blind, key_id, key });
        }
        Ok(KeyStoreImage {
            index_secret,
            unattributed: self.unattributed.clone(),
            entries,
        })
    }

    /// Puts `image` into the tenant of `config` — only when the tenant has
    /// no subject keys yet (a new tenant, the target of a copy) — wrapped
    /// by `kek`, in one transaction, then opens the store.
    ///
    /// # Errors
    /// [`Error::BadInput`] when the tenant already has subject keys;
    /// [`Error::Backend`] (nothing written).
    pub fn import_image(
        config: &PgConfig,
        kek: KekRing,
        image: &KeyStoreImage,
    ) -> Result<Self, Error> {
        let mut client = config.connect()?;
        crate::migrate::check(&mut client)?;
        let mut tx = client
            .transaction()
            .map_err(audit("starting the key import"))?;
        let tenant: String = tx
            .query_one("SELECT current_user::text", &[])
            .map_err(audit("reading the tenant"))?
            .get(0);
        // Serialises with another import or a first PgKeyStore::open.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('gdpr-key-import:' || current_user))",
            &[],
        )
        .map_err(audit("locking the key import"))?;
        let existing: i64 = tx
            .query_one("SELECT count(*) FROM gdpr.subject_key", &[])
            .map_err(audit("counting the subject keys"))?
            .get(0);
        if existing > 0 {
            return Err(Error::BadInput {
                what: "subject keys",
                reason: "the target tenant already has subject keys; copy into a new tenant".into(),
            });
        }
        let (v, ws) = kek.wrap(&image.index_secret, &meta_aad(&tenant, b"index"))?;
        let (uid, ukey) = &image.unattributed;
        let (_, wu) = kek.wrap(ukey, &meta_aad(&tenant, uid.as_bytes()))?;
        tx.execute(
            "INSERT INTO gdpr.key_meta (kek_version, index_secret, unattributed_id, unattributed_key)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant) DO UPDATE SET kek_version = EXCLUDED.kek_version,
               index_secret = EXCLUDED.index_secret, unattributed_id = EXCLUDED.unattributed_id,
               unattributed_key = EXCLUDED.unattributed_key",
            &[&v, &ws, &&uid.as_bytes()[..], &wu],
        )
        .map_err(audit("writing the tenant's key row"))?;
        for e in &image.entries {
            let (version, wrapped) = match &e.key {
                Some(key) => {
                    let (v, w) = kek.wrap(key, &key_aad(&tenant, &e.key_id))?;
                    (Some(v), Some(w))
                }
                None => (None, None),
            };
            tx.execute(
                "INSERT INTO gdpr.subject_key (blind, key_id, kek_version, wrapped)
                 VALUES ($1, $2, $3, $4)",
                &[&&e.blind[..], &&e.key_id.as_bytes()[..], &version, &wrapped],
            )
            .map_err(audit("writing a subject key"))?;
        }
        tx.commit().map_err(audit("committing the key import"))?;
        drop(client);
        Self::open(config, kek)
    }
}
