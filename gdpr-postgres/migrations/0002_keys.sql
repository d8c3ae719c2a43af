-- gdpr-postgres schema version 2: the subjects' keys of each tenant
-- (crypto-shredding of audit records), wrapped by a key-encryption key
-- (KEK) that is never in the database.

-- One row per tenant: the secret of its blind index and the key of events
-- without a subject, both wrapped by the KEK.
CREATE TABLE gdpr.key_meta (
  tenant text PRIMARY KEY DEFAULT current_user,
  kek_version integer NOT NULL,
  index_secret bytea NOT NULL,
  unattributed_id bytea NOT NULL,
  unattributed_key bytea NOT NULL
);

-- One row per subject, found by blind index (HMAC of the subject reference
-- under the tenant's index secret). wrapped IS NULL is a tombstone: the
-- key was erased (Art. 17).
CREATE TABLE gdpr.subject_key (
  tenant text NOT NULL DEFAULT current_user,
  blind bytea NOT NULL,
  key_id bytea NOT NULL,
  kek_version integer,
  wrapped bytea,
  PRIMARY KEY (tenant, blind),
  UNIQUE (tenant, key_id),
  CHECK ((wrapped IS NULL) = (kek_version IS NULL))
);

ALTER TABLE gdpr.key_meta ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.key_meta FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.key_meta
  USING (tenant = current_user) WITH CHECK (tenant = current_user);
ALTER TABLE gdpr.subject_key ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.subject_key FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.subject_key
  USING (tenant = current_user) WITH CHECK (tenant = current_user);

GRANT SELECT, INSERT, UPDATE ON gdpr.key_meta TO gdpr_app;
-- No DELETE: an erasure replaces the key by a tombstone (UPDATE).
GRANT SELECT, INSERT, UPDATE ON gdpr.subject_key TO gdpr_app;
