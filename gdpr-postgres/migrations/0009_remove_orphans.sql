-- gdpr-postgres schema version 9: bodies that no run names can be removed.
--
-- A call of gdpr.audit_append stores all its bodies before it takes the
-- lock; when it stops for a checkpoint, the rest of its batch waits in
-- gdpr.audit_body for the writer's next call. A writer that dies there
-- (or a call that found the log shorter than its writer had seen) leaves
-- bodies that no gdpr.audit_run row names: in no entry, invisible to every
-- reader, sealed like any record, but kept forever. This version lets a
-- tenant remove its own such bodies once they are old enough that no
-- live writer still continues their batch:
--
-- * gdpr.audit_body.stored, the time of the transaction that stored the
--   body. A column added with a non-volatile default (now() is stable:
--   evaluated once, here) rewrites nothing since PostgreSQL 11: the value
--   is kept in the catalogue for the rows already there, so bodies stored
--   before this migration carry its time (and become removable a bound
--   after it), and new rows get their transaction's time. The append
--   function does not name the column: its INSERT stays as it was.
-- * No new index: one on the runs by batch would make "is this body in
--   a run" a lookup, but would cost every append an index entry under the
--   lock (a median of 16% fewer single-record calls at 16 clients, see
--   docs/postgres.md). The clean-up instead finds orphans with one
--   set-based anti-join over the tenant's bodies and runs, without a lock,
--   and under the lock checks only the runs written since (a range of the
--   runs' primary key).
-- * gdpr.audit_remove_orphans(min_age, max_rows), the only way to remove
--   them: a SECURITY DEFINER function owned by gdpr_orphan_remover, a role
--   that logs in nowhere and owns nothing else. The application still has
--   no DELETE on any table of the log; the function deletes, as that
--   role, only rows that policies of that role allow: bodies of the
--   session's own tenant (session_user, the role the connection logged
--   in as, which no SET ROLE changes), stored at least 10 minutes ago;
--   and of those only the ones no run names, which the function checks
--   (the role is used by nothing else). It finds the candidates without a lock, then takes
--   the tenant's append lock (both kinds: the head row's and the advisory
--   one) and deletes those still in no run, so no append can name them
--   meanwhile; and gdpr.audit_append, continuing a cut batch, checks under
--   that lock that its bodies (read back before the lock) are all still
--   there: if the clean-up removed them, the call fails and nothing of it
--   is written.
--
-- Self-contained: it needs only schema version 8.

ALTER TABLE gdpr.audit_body ADD COLUMN stored timestamptz NOT NULL DEFAULT now();

-- The owner of gdpr.audit_remove_orphans, and the only role that may
-- delete from gdpr.audit_body. NOLOGIN: reached only through that
-- function (SECURITY DEFINER), whose checks and locks therefore always
-- run. Roles are the cluster's, like gdpr_app.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gdpr_orphan_remover') THEN
    CREATE ROLE gdpr_orphan_remover NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA gdpr TO gdpr_orphan_remover;
GRANT SELECT, DELETE ON gdpr.audit_body TO gdpr_orphan_remover;
GRANT SELECT ON gdpr.audit_run TO gdpr_orphan_remover;
-- UPDATE only for SELECT ... FOR UPDATE (the head row's lock); the policy
-- below lets it change nothing.
GRANT SELECT, UPDATE ON gdpr.audit_head TO gdpr_orphan_remover;

-- Its rows: those of the tenant the session logged in as. (The policies
-- tenant_rows compare with current_user, which inside the function is
-- gdpr_orphan_remover: no tenant's rows.)
CREATE POLICY remover_rows ON gdpr.audit_body FOR SELECT TO gdpr_orphan_remover
  USING (tenant = session_user);
-- Deletes: the session's tenant's bodies, 10 minutes old. (That no run
-- names them is checked by the function, under the tenant's lock: a
-- policy would check it row by row, each a scan of the tenant's runs
-- without an index by batch.)
CREATE POLICY remover_orphans ON gdpr.audit_body FOR DELETE TO gdpr_orphan_remover
  USING (tenant = session_user AND stored < now() - interval '10 minutes');
CREATE POLICY remover_rows ON gdpr.audit_run FOR SELECT TO gdpr_orphan_remover
  USING (tenant = session_user);
CREATE POLICY remover_rows ON gdpr.audit_head FOR SELECT TO gdpr_orphan_remover
  USING (tenant = session_user);
CREATE POLICY remover_lock ON gdpr.audit_head FOR UPDATE TO gdpr_orphan_remover
  USING (tenant = session_user) WITH CHECK (false);

-- Removes up to p_max bodies of the session's tenant that no run names
-- and that were stored at least p_min_age ago (at least 10 minutes:
-- refused otherwise, and the policy above holds anyway); returns how many.
CREATE FUNCTION gdpr.audit_remove_orphans(p_min_age interval, p_max integer)
  RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  -- The tenant: the role the connection logged in as (current_user is
  -- this function's owner here). As text of the default collation, so
  -- that the primary keys serve the lookups (see gdpr.audit_append).
  me text COLLATE "default" := session_user;
  seq0 bigint;
  batches bigint[];
  ords integer[];
  n bigint;
BEGIN
  IF p_min_age IS NULL OR p_min_age < interval '10 minutes' THEN
    RAISE EXCEPTION 'orphaned bodies are removed only when at least 10 minutes old';
  END IF;
  IF p_max IS NULL OR p_max < 1 THEN
    RAISE EXCEPTION 'p_max must be positive';
  END IF;
  -- Each statement below must see what committed before it (the lock
  -- argument): only under READ COMMITTED does it take a new snapshot.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'gdpr.audit_remove_orphans runs only under READ COMMITTED';
  END IF;
  -- The candidates, without a lock (appends go on meanwhile), and in the
  -- same statement (one snapshot) the head's next entry number: every run
  -- this snapshot does not see was written after, under the lock, with a
  -- first_seq of at least that (the lock orders the appends' commits, and
  -- each writes its run and the head in one transaction).
  SELECT h.next_seq, c.batches, c.ords INTO seq0, batches, ords
    FROM gdpr.audit_head h, LATERAL (
      SELECT array_agg(x.batch) AS batches, array_agg(x.ord) AS ords FROM (
        SELECT b.batch, b.ord FROM gdpr.audit_body b
         WHERE b.tenant = me AND b.stored < now() - p_min_age
           AND NOT EXISTS (SELECT 1 FROM gdpr.audit_run r
             WHERE r.tenant = me AND r.batch = b.batch
               AND b.ord >= r.first_ord AND b.ord < r.first_ord + r.count)
         ORDER BY b.batch, b.ord LIMIT p_max) x) c
   WHERE h.tenant = me;
  IF batches IS NULL THEN
    RETURN 0;
  END IF;
  -- Under the tenant's append lock (both kinds, as writers of the two
  -- HeadLock modes take one each; the same keys as gdpr.audit_append), no
  -- run can be written: the DELETE's snapshot, taken after the locks,
  -- sees every run there is (those since the candidates' snapshot: a
  -- primary-key range from seq0), and a writer continuing one of these
  -- batches finds its bodies gone under the same lock.
  PERFORM pg_advisory_xact_lock(hashtextextended(session_user, 7));
  PERFORM 1 FROM gdpr.audit_head WHERE tenant = me FOR UPDATE;
  DELETE FROM gdpr.audit_body b
   USING unnest(batches, ords) AS c(batch, ord)
   WHERE b.tenant = me AND b.batch = c.batch AND b.ord = c.ord
     AND b.stored < now() - p_min_age
     AND NOT EXISTS (SELECT 1 FROM gdpr.audit_run r
       WHERE r.tenant = me AND r.first_seq >= seq0 AND r.batch = b.batch
         AND b.ord >= r.first_ord AND b.ord < r.first_ord + r.count);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION gdpr.audit_remove_orphans(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.audit_remove_orphans(interval, integer) TO gdpr_app;
-- Owned by gdpr_orphan_remover (the migrating owner, with CREATEROLE,
-- becomes a member just for the change of owner, which also needs CREATE
-- on the schema for the new owner; both are taken back).
GRANT gdpr_orphan_remover TO CURRENT_USER;
GRANT CREATE ON SCHEMA gdpr TO gdpr_orphan_remover;
ALTER FUNCTION gdpr.audit_remove_orphans(interval, integer) OWNER TO gdpr_orphan_remover;
REVOKE CREATE ON SCHEMA gdpr FROM gdpr_orphan_remover;
REVOKE gdpr_orphan_remover FROM CURRENT_USER;

-- gdpr.audit_append as in version 8 (same signature, answers and bytes),
-- with one check more when it continues a cut batch (see above; only
-- those calls pay for it: one primary-key range count under the lock).
CREATE OR REPLACE FUNCTION gdpr.audit_append(
  p_note bytea, p_bodies bytea[], p_times bigint[],
  p_every_records bigint, p_every_ns bigint, p_seen bigint, p_advisory boolean,
  p_batch bigint, p_from integer, OUT o_batch bigint,
  OUT o_first bigint, OUT o_count integer, OUT o_leaves text,
  OUT o_due_size bigint, OUT o_due_root text, OUT o_truncated boolean,
  OUT o_next_seq bigint, OUT o_size bigint, OUT o_frontier text, OUT o_prev text,
  OUT o_since bigint, OUT o_last_checkpoint_time text, OUT o_last_note text,
  OUT o_last_recorded text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  -- The tenant, as a text of the database's default collation: compared
  -- with the tenant column, it can use the tables' primary keys
  -- (current_user is a name, of collation "C", and a comparison in
  -- another collation than the index's cannot; the policies' own check
  -- then filters only the rows found).
  me text COLLATE "default" := current_user;
  h gdpr.audit_head%ROWTYPE;
  bodies bytea[] := p_bodies;
  cnt integer := coalesce(array_length(p_bodies, 1), 0);
  -- The number (in batch o_batch) of the first body of this call.
  ord0 integer := 1;
  m integer;
  cp_ns bigint;
  frac bigint;
  body bytea;
  leaf bytea;
  -- The previous leaf hash followed by the leaf hash of every record
  -- appended, 32 bytes each: record i's previous leaf is chain[i].
  chain bytea;
  fr bytea;
  fl integer;
  s bigint;
  pos bigint;
  acc bytea;
  note text;
  early boolean := false;
  -- The head changed (a note or records went in): it is written back.
  changed boolean := false;
BEGIN
  -- This transaction commits without waiting for the WAL flush (the lock
  -- is released at once); the caller acknowledges only after a flush of
  -- its own, past this commit (docs/postgres.md).
  PERFORM set_config('synchronous_commit', 'off', true);
  o_batch := p_batch;
  -- A checkpoint is due and this caller brings no note: nothing can be
  -- appended, so answer from the committed head without taking the lock
  -- or writing (a caller that took the lock to learn this would queue for
  -- it, and the writer bringing the note would queue behind every such
  -- caller). A stale answer only costs the caller a signature: the note
  -- it then brings is ignored when it no longer matches the head.
  IF p_note IS NULL THEN
    SELECT * INTO h FROM gdpr.audit_head WHERE tenant = me;
    early := FOUND AND h.due_size IS NOT NULL AND h.size >= p_seen;
  END IF;
  IF early THEN
    o_first := h.size;
    o_count := 0;
    o_leaves := '';
    o_truncated := false;
  ELSE
    -- The bodies go in before the lock: this INSERT runs while another
    -- writer holds it, in parallel with the other writers' bodies.
    IF p_batch IS NULL THEN
      IF cnt > 0 THEN
        o_batch := nextval('gdpr.audit_body_batch');
        INSERT INTO gdpr.audit_body (batch, ord, body)
          SELECT o_batch, o, b FROM unnest(p_bodies) WITH ORDINALITY AS u(b, o);
      END IF;
    ELSE
      -- The rest of a batch whose first call stopped for a checkpoint:
      -- its bodies are stored (and committed) already.
      ord0 := p_from;
      SELECT array_agg(b.body ORDER BY b.ord) INTO bodies FROM gdpr.audit_body b
        WHERE b.tenant = me AND b.batch = p_batch AND b.ord >= p_from;
      cnt := coalesce(array_length(bodies, 1), 0);
      IF cnt <> coalesce(array_length(p_times, 1), 0) THEN
        RAISE EXCEPTION 'stored bodies of batch % from % and recorded times disagree', p_batch, p_from;
      END IF;
    END IF;
    IF p_advisory THEN
      PERFORM pg_advisory_xact_lock(hashtextextended(current_user, 7));
      SELECT * INTO h FROM gdpr.audit_head WHERE tenant = me;
    ELSE
      SELECT * INTO h FROM gdpr.audit_head WHERE tenant = me FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'the tenant has no audit head row';
    END IF;
    -- The rest of a cut batch was read back before the lock; a clean-up
    -- (gdpr.audit_remove_orphans, which holds this lock while it deletes)
    -- may have removed it since. Checked again under the lock, where no
    -- clean-up can run: a run never names a body that is gone.
    -- (Two IFs: the outer one is a simple expression, which PL/pgSQL
    -- evaluates without starting the executor; only continuations run
    -- the query.)
    IF p_batch IS NOT NULL THEN
      IF (SELECT count(*) FROM gdpr.audit_body b
          WHERE b.tenant = me AND b.batch = p_batch AND b.ord >= p_from
            AND b.ord < p_from + cnt) <> cnt THEN
        RAISE EXCEPTION 'stored bodies of batch % from % were removed as orphans', p_batch, p_from;
      END IF;
    END IF;
    o_first := h.size;
    o_count := 0;
    o_leaves := '';
    o_truncated := h.size < p_seen;
    IF NOT o_truncated AND h.due_size IS NOT NULL AND p_note IS NOT NULL THEN
      note := convert_from(p_note, 'UTF8');
      IF h.due_size = h.size
         AND split_part(note, E'\n', 2) = h.due_size::text
         AND split_part(note, E'\n', 3) = encode(h.due_root, 'base64') THEN
        INSERT INTO gdpr.audit_entry (seq, checkpoint, body) VALUES (h.next_seq, true, p_note);
        h.next_seq := h.next_seq + 1;
        h.since_checkpoint := 0;
        h.last_checkpoint_time := h.last_recorded;
        h.last_note := note;
        h.due_size := NULL;
        h.due_root := NULL;
        changed := true;
      END IF;
    END IF;
    IF NOT o_truncated AND h.due_size IS NULL AND cnt > 0 THEN
      -- How many records go in before a checkpoint is due (at least one).
      m := cnt;
      IF p_every_records IS NOT NULL THEN
        m := least(m, greatest(p_every_records - h.since_checkpoint, 1));
      END IF;
      -- The time conversions of gdpr.rfc3339_ns and gdpr.ns_rfc3339,
      -- written out: a call of those SQL functions (not inlined, since they
      -- set search_path) parses and plans their bodies again in every
      -- transaction, about 60 us each.
      IF h.last_checkpoint_time IS NULL THEN
        cp_ns := p_times[1];
        frac := ((cp_ns % 1000000000) + 1000000000) % 1000000000;
        h.last_checkpoint_time := to_char(to_timestamp(((cp_ns - frac) / 1000000000)::double precision)
            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.' || lpad(frac::text, 9, '0') || 'Z';
      ELSE
        cp_ns := extract(epoch FROM regexp_replace(h.last_checkpoint_time, '\.[0-9]+', '')::timestamptz)::bigint
            * 1000000000
          + coalesce(rpad(substring(h.last_checkpoint_time FROM '\.([0-9]{1,9})'), 9, '0')::bigint, 0);
      END IF;
      IF p_every_ns IS NOT NULL THEN
        m := least(m, coalesce(
          (SELECT min(o)::integer FROM unnest(p_times[1:m]) WITH ORDINALITY AS u(t, o)
            WHERE t - cp_ns >= p_every_ns), m));
      END IF;
      chain := h.prev;
      leaf := h.prev;
      fr := h.frontier;
      pos := h.size;
      FOREACH body IN ARRAY bodies[1:m] LOOP
        leaf := sha256('\x0001'::bytea || int8send(pos) || leaf || body);
        chain := chain || leaf;
        -- Push the leaf onto the frontier (gdpr-audit src/frontier.rs).
        fr := fr || leaf;
        fl := length(fr);
        s := pos;
        WHILE (s & 1) = 1 LOOP
          fr := substring(fr FROM 1 FOR fl - 64)
                || sha256('\x01'::bytea || substring(fr FROM fl - 63 FOR 64));
          fl := fl - 32;
          s := s >> 1;
        END LOOP;
        pos := pos + 1;
      END LOOP;
      -- The only row written under the lock for the records: where they
      -- are and what their headers hold.
      INSERT INTO gdpr.audit_run (first_seq, first_pos, batch, first_ord, count, prevs)
        VALUES (h.next_seq, h.size, o_batch, ord0, m, substring(chain FROM 1 FOR m * 32));
      changed := true;
      o_count := m;
      o_leaves := encode(substring(chain FROM 33), 'hex');
      h.next_seq := h.next_seq + m;
      h.size := h.size + m;
      h.prev := leaf;
      h.frontier := fr;
      h.since_checkpoint := h.since_checkpoint + m;
      frac := ((p_times[m] % 1000000000) + 1000000000) % 1000000000;
      h.last_recorded := to_char(to_timestamp(((p_times[m] - frac) / 1000000000)::double precision)
          AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.' || lpad(frac::text, 9, '0') || 'Z';
      IF (p_every_records IS NOT NULL AND h.since_checkpoint >= p_every_records)
         OR (p_every_ns IS NOT NULL AND p_times[m] - cp_ns >= p_every_ns) THEN
        fl := length(fr);
        acc := substring(fr FROM fl - 31 FOR 32);
        WHILE fl > 32 LOOP
          fl := fl - 32;
          acc := sha256('\x01'::bytea || substring(fr FROM fl - 31 FOR 32) || acc);
        END LOOP;
        h.due_size := h.size;
        h.due_root := acc;
      END IF;
    END IF;
    IF changed THEN
      UPDATE gdpr.audit_head SET next_seq = h.next_seq, size = h.size, frontier = h.frontier,
          prev = h.prev, since_checkpoint = h.since_checkpoint,
          last_checkpoint_time = h.last_checkpoint_time, last_note = h.last_note,
          last_recorded = h.last_recorded, due_size = h.due_size, due_root = h.due_root
        WHERE tenant = me;
    END IF;
  END IF;
  o_due_size := h.due_size;
  o_due_root := encode(h.due_root, 'hex');
  o_next_seq := h.next_seq;
  o_size := h.size;
  o_frontier := encode(h.frontier, 'hex');
  o_prev := encode(h.prev, 'hex');
  o_since := h.since_checkpoint;
  o_last_checkpoint_time := h.last_checkpoint_time;
  o_last_note := h.last_note;
  o_last_recorded := h.last_recorded;
END
$$;
