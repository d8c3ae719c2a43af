-- gdpr-postgres migration: the objection register (GDPR Art. 21) of each
-- tenant, gdpr-request's `ObjectionRegister`, kept beside the restriction
-- register. Self-contained: it reads nothing another migration of the
-- same release adds, so its version is only its place in `MIGRATIONS`.

-- One row per subject and request: the objection that request recorded
-- for the subject-wide record id (`gdpr-subject:` and the key id, never a
-- patient value), in the same JSON as the embedded register's lines, with
-- the controller's compelling grounds (Art. 21(1)) once recorded. Every
-- change also goes to the history.
CREATE TABLE gdpr.objection (
  tenant text NOT NULL DEFAULT current_user,
  subject text NOT NULL,
  request text NOT NULL,
  entry text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant, subject, request)
);
CREATE TABLE gdpr.objection_history (
  tenant text NOT NULL DEFAULT current_user,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  subject text NOT NULL,
  request text NOT NULL,
  entry text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant, seq)
);

ALTER TABLE gdpr.objection ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.objection FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.objection
  USING (tenant = current_user) WITH CHECK (tenant = current_user);
ALTER TABLE gdpr.objection_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.objection_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.objection_history
  USING (tenant = current_user) WITH CHECK (tenant = current_user);

-- An objection is never deleted by the application (its grounds are a
-- later version of the same row); the history is append-only.
GRANT SELECT, INSERT, UPDATE ON gdpr.objection TO gdpr_app;
GRANT SELECT, INSERT ON gdpr.objection_history TO gdpr_app;
