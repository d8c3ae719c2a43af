-- gdpr-postgres schema version 10: the bodies of a call stored as one row,
-- with its run.
--
-- Until version 9 a call of gdpr.audit_append stored each body as a row of
-- gdpr.audit_body (a heap tuple, a primary-key entry and a WAL record
-- each) before it took the tenant's lock: about 11 us per record on the
-- test machine, two thirds of the call's time per record, and all of it
-- inside the one call a node makes at a time (docs/postgres.md, "Bodies
-- packed"). Now a call stores the bodies it appends as one row, (batch,
-- ord 1, pack): the bodies as an array, kept out of line uncompressed
-- (STORAGE EXTERNAL: sealed parts do not compress, and pglz's attempt
-- costs more than it saves). A run still names (batch, first_ord, count);
-- its bodies are pack[first_ord : first_ord + count - 1].
--
-- * The pack goes in under the lock, in the transaction of its run, and
--   holds only the bodies appended: the rest of a batch cut by a
--   checkpoint is sent again with the writer's next call. So no body of a
--   pack is ever in no run (nothing for gdpr.audit_remove_orphans to find
--   there), at the price of one INSERT more under the lock, of one row.
-- * Rows stored before stay as they are (body set, pack NULL): the reader,
--   the view gdpr.audit_entries and a writer of version 9 continuing a
--   batch it stored as rows read them as before; the clean-up still
--   removes those no run names.
--
-- Self-contained: it needs only schema version 9.

ALTER TABLE gdpr.audit_body ADD COLUMN pack bytea[];
ALTER TABLE gdpr.audit_body ALTER COLUMN pack SET STORAGE EXTERNAL;
ALTER TABLE gdpr.audit_body ALTER COLUMN body DROP NOT NULL;
-- One kind per row; a pack is a one-dimensional array from 1 without
-- NULLs, at ord 1. NOT VALID: the rows there are all of the first kind
-- (body was NOT NULL until now), and validating would read them all.
ALTER TABLE gdpr.audit_body ADD CONSTRAINT audit_body_kind CHECK (
  CASE WHEN pack IS NULL THEN body IS NOT NULL
       ELSE body IS NULL AND ord = 1 AND array_ndims(pack) = 1
            AND array_lower(pack, 1) = 1 AND array_position(pack, NULL) IS NULL END) NOT VALID;

-- The view of version 6, with the bodies of packs.
CREATE OR REPLACE VIEW gdpr.audit_entries WITH (security_invoker = true) AS
  SELECT tenant, seq, checkpoint, body FROM gdpr.audit_entry
  UNION ALL
  SELECT r.tenant, r.first_seq + (b.ord - r.first_ord), false,
         '\x01'::bytea || int8send(r.first_pos + (b.ord - r.first_ord))
           || substring(r.prevs FROM (b.ord - r.first_ord) * 32 + 1 FOR 32) || b.body
    FROM gdpr.audit_run r
    JOIN gdpr.audit_body b ON b.tenant = r.tenant AND b.batch = r.batch
     AND b.ord >= r.first_ord AND b.ord < r.first_ord + r.count AND b.body IS NOT NULL
  UNION ALL
  SELECT r.tenant, r.first_seq + (o - r.first_ord), false,
         '\x01'::bytea || int8send(r.first_pos + (o - r.first_ord))
           || substring(r.prevs FROM (o - r.first_ord) * 32 + 1 FOR 32) || k.pack[o]
    FROM gdpr.audit_run r
    JOIN gdpr.audit_body k ON k.tenant = r.tenant AND k.batch = r.batch AND k.ord = 1
     AND k.pack IS NOT NULL,
    LATERAL generate_series(r.first_ord, r.first_ord + r.count - 1) AS o;

-- gdpr.audit_append as in version 9 (same signature, answers and bytes;
-- o_batch is now NULL unless the call continued a batch stored as rows).
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
    -- The bodies sent go in under the lock, as one row, with their run
    -- (below). Only a writer of version 9 or before continues a batch whose
    -- bodies were stored as rows before its first call took the lock:
    IF p_batch IS NOT NULL THEN
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
      -- The bodies sent, as one row: only the m appended (the rest of a
      -- cut batch is sent again with the next call, so no body of a pack
      -- is ever in no run, and the clean-up has nothing to find there).
      IF p_batch IS NULL THEN
        o_batch := nextval('gdpr.audit_body_batch');
        IF m = cnt THEN
          INSERT INTO gdpr.audit_body (batch, ord, pack) VALUES (o_batch, 1, bodies);
        ELSE
          INSERT INTO gdpr.audit_body (batch, ord, pack) VALUES (o_batch, 1, bodies[1:m]);
        END IF;
      END IF;
      INSERT INTO gdpr.audit_run (first_seq, first_pos, batch, first_ord, count, prevs)
        VALUES (h.next_seq, h.size, o_batch, ord0, m, substring(chain FROM 1 FOR m * 32));
      IF p_batch IS NULL THEN
        -- Nothing of this batch is left stored for a next call.
        o_batch := NULL;
      END IF;
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
