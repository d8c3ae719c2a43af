-- gdpr-postgres schema version 5: gdpr.audit_append does less while it
-- holds the tenant's lock. Same signature, same answers, same bytes as
-- version 4 (tests/chain.rs compares every entry with the embedded log);
-- only the work under the lock changed, measured by
-- scripts/bench_postgres.sh (docs/postgres.md, "Measured"):
--
-- * where the batch stops for a checkpoint is computed before the loop
--   (by count: every_records - since_checkpoint records; by time: the
--   first record whose recorded time is every_ns or more after the last
--   checkpoint's, one set-based query), so the loop does no policy check;
-- * the loop does only what depends on the previous record: the leaf
--   hash sha256(0x00 || 0x01 || position || previous leaf || body) and
--   the Merkle frontier push, on bytea values (no array element
--   assignment, which copies the array);
-- * the records (header + body) are built by the INSERT itself, one
--   set-based statement, from the bodies and the chain of leaf hashes;
-- * a caller without a note while a checkpoint is due is answered from the
--   committed head without taking the lock, and the head is written back
--   only when a note or records went in (before, every writer arriving
--   while a checkpoint was due took the lock in turn to rewrite the head
--   unchanged, and the writer bringing the note queued behind them).

CREATE OR REPLACE FUNCTION gdpr.audit_append(
  p_note bytea, p_bodies bytea[], p_times bigint[],
  p_every_records bigint, p_every_ns bigint, p_seen bigint, p_advisory boolean,
  OUT o_first bigint, OUT o_count integer, OUT o_leaves text,
  OUT o_due_size bigint, OUT o_due_root text, OUT o_truncated boolean,
  OUT o_next_seq bigint, OUT o_size bigint, OUT o_frontier text, OUT o_prev text,
  OUT o_since bigint, OUT o_last_checkpoint_time text, OUT o_last_note text,
  OUT o_last_recorded text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  h gdpr.audit_head%ROWTYPE;
  cnt integer := coalesce(array_length(p_bodies, 1), 0);
  m integer;
  cp_ns bigint;
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
  -- A checkpoint is due and this caller brings no note: nothing can be
  -- appended, so answer from the committed head without taking the lock
  -- or writing (a caller that took the lock to learn this would queue for
  -- it, and the writer bringing the note would queue behind every such
  -- caller). A stale answer only costs the caller a signature: the note
  -- it then brings is ignored when it no longer matches the head.
  IF p_note IS NULL THEN
    SELECT * INTO h FROM gdpr.audit_head WHERE tenant = current_user;
    early := FOUND AND h.due_size IS NOT NULL AND h.size >= p_seen;
  END IF;
  IF early THEN
    o_first := h.size;
    o_count := 0;
    o_leaves := '';
    o_truncated := false;
  ELSE
    IF p_advisory THEN
      PERFORM pg_advisory_xact_lock(hashtextextended(current_user, 7));
      SELECT * INTO h FROM gdpr.audit_head WHERE tenant = current_user;
    ELSE
      SELECT * INTO h FROM gdpr.audit_head WHERE tenant = current_user FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'the tenant has no audit head row';
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
      IF h.last_checkpoint_time IS NULL THEN
        cp_ns := p_times[1];
        h.last_checkpoint_time := gdpr.ns_rfc3339(cp_ns);
      ELSE
        cp_ns := gdpr.rfc3339_ns(h.last_checkpoint_time);
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
      FOREACH body IN ARRAY p_bodies[1:m] LOOP
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
      INSERT INTO gdpr.audit_entry (seq, checkpoint, body)
        SELECT h.next_seq + o - 1, false,
               '\x01'::bytea || int8send(h.size + o - 1)
                 || substring(chain FROM (o::integer - 1) * 32 + 1 FOR 32) || b
          FROM unnest(p_bodies[1:m]) WITH ORDINALITY AS u(b, o);
      changed := true;
      o_count := m;
      o_leaves := encode(substring(chain FROM 33), 'hex');
      h.next_seq := h.next_seq + m;
      h.size := h.size + m;
      h.prev := leaf;
      h.frontier := fr;
      h.since_checkpoint := h.since_checkpoint + m;
      h.last_recorded := gdpr.ns_rfc3339(p_times[m]);
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
        WHERE tenant = current_user;
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

REVOKE ALL ON FUNCTION gdpr.audit_append(bytea, bytea[], bigint[], bigint, bigint, bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.audit_append(bytea, bytea[], bigint[], bigint, bigint, bigint, boolean) TO gdpr_app;
