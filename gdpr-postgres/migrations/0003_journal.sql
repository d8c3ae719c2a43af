-- gdpr-postgres schema version 3: the request journal (with its leases)
-- and the restriction register of each tenant (gdpr-request's `Journal`
-- and `RestrictionRegister`). Row-level security as for the audit log.

-- Who runs a request now. A node claims the row (epoch + 1) when it is
-- free or its lease has expired, renews it while it runs, and records a
-- journal entry only while the row still holds its epoch (the fencing
-- token): a node whose lease was taken over can record nothing.
CREATE TABLE gdpr.request_lease (
  tenant text NOT NULL DEFAULT current_user,
  request text NOT NULL,
  epoch bigint NOT NULL CHECK (epoch > 0),
  holder text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, request)
);

-- The journal of each request, in order: a step begun, a step done with
-- its result (the JSON the executor journals), and the epoch that wrote it.
CREATE TABLE gdpr.journal_entry (
  tenant text NOT NULL DEFAULT current_user,
  request text NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 0),
  step text NOT NULL,
  phase text NOT NULL CHECK (phase IN ('begin', 'done')),
  result text,
  epoch bigint NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant, request, seq),
  CHECK ((phase = 'done') = (result IS NOT NULL))
);
-- A step is recorded done at most once, whatever the nodes do.
CREATE UNIQUE INDEX journal_entry_done_once
  ON gdpr.journal_entry (tenant, request, step) WHERE phase = 'done';

-- The restriction register: the entry in force (or lifted) per record,
-- one Art. 18 slot and one kept-record slot, as gdpr-request's
-- RestrictionEntry in JSON; every change also goes to the history.
CREATE TABLE gdpr.restriction (
  tenant text NOT NULL DEFAULT current_user,
  system text NOT NULL,
  record text NOT NULL,
  art18 boolean NOT NULL,
  lifted boolean NOT NULL,
  entry text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant, system, record, art18)
);
CREATE TABLE gdpr.restriction_history (
  tenant text NOT NULL DEFAULT current_user,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  system text NOT NULL,
  record text NOT NULL,
  art18 boolean NOT NULL,
  entry text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant, seq)
);

ALTER TABLE gdpr.request_lease ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.request_lease FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.request_lease
  USING (tenant = current_user) WITH CHECK (tenant = current_user);
ALTER TABLE gdpr.journal_entry ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.journal_entry FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.journal_entry
  USING (tenant = current_user) WITH CHECK (tenant = current_user);
ALTER TABLE gdpr.restriction ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.restriction FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.restriction
  USING (tenant = current_user) WITH CHECK (tenant = current_user);
ALTER TABLE gdpr.restriction_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr.restriction_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gdpr.restriction_history
  USING (tenant = current_user) WITH CHECK (tenant = current_user);

GRANT SELECT, INSERT, UPDATE ON gdpr.request_lease TO gdpr_app;
-- The journal and the history are append-only for the application.
GRANT SELECT, INSERT ON gdpr.journal_entry TO gdpr_app;
GRANT SELECT, INSERT, UPDATE ON gdpr.restriction TO gdpr_app;
GRANT SELECT, INSERT ON gdpr.restriction_history TO gdpr_app;
