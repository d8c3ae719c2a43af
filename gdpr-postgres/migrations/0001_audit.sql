-- gdpr-postgres schema version 1: the audit log of each tenant.
-- Applied by gdpr_postgres::migrate as the database owner. Every table is
-- tenant-scoped by row-level security (FORCE: the owner is bound too); a
-- tenant is a login role, member of gdpr_app, that owns nothing.
-- (The schema gdpr and gdpr.schema_version are made by migrate itself.)

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gdpr_app') THEN
    CREATE ROLE gdpr_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA gdpr TO gdpr_app;
GRANT SELECT ON gdpr.schema_version TO gdpr_app;

-- One row per tenant: where its log stands (what a writer needs to chain
-- the next record), locked by every append.
CREATE TABLE gdpr.audit_head (
  tenant text PRIMARY KEY DEFAULT current_user,
  next_seq bigint NOT NULL,
  size bigint NOT NULL,
  frontier bytea NOT NULL,
  prev bytea NOT NULL,
  since_checkpoint bigint NOT NULL,
  last_checkpoint_time text,
  last_note text,
  last_recorded text
);

-- The entries of each tenant's log in order: records (canonical encoding)
-- and signed checkpoint notes, exactly as the embedded log file holds them.
CREATE TABLE gdpr.audit_entry (
  tenant text NOT NULL DEFAULT current_user,
  seq bigint NOT NULL,
  checkpoint boolean NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (tenant, seq)
);

ALTER TABLE gdpr.audit_head ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.audit_head FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.audit_head
  USING (tenant = current_user) WITH CHECK (tenant = current_user);
ALTER TABLE gdpr.audit_entry ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.audit_entry FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.audit_entry
  USING (tenant = current_user) WITH CHECK (tenant = current_user);

-- Entries are append-only for the application: no UPDATE, no DELETE.
GRANT SELECT, INSERT, UPDATE ON gdpr.audit_head TO gdpr_app;
GRANT SELECT, INSERT ON gdpr.audit_entry TO gdpr_app;
