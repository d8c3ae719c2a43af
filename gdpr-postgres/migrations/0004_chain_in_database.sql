-- gdpr-postgres schema version 4: appends chained inside the database.
-- gdpr.audit_append takes a batch of records without their header, locks
-- the tenant's head, writes each record's header (version 1, position,
-- previous leaf hash), computes its RFC 9162 leaf hash and the Merkle
-- frontier with the built-in sha256(), inserts the records and updates
-- the head -- one statement, so the tenant's lock is held for one
-- server-side execution and never across a round trip to a client. The
-- bytes are exactly those gdpr-audit writes (src/record.rs, "Canonical
-- encoding, version 1"; src/merkle.rs): the same verifier checks both.
--
-- Checkpoints are signed by the writers (the key never enters the
-- database): when the checkpoint policy says one is due after a record,
-- the function stops after that record and leaves the tree size and root
-- to sign in the head (due_size, due_root); no record is appended until a
-- writer passes the signed note for exactly that size and root, which is
-- inserted right after that record -- where the embedded log puts it.

ALTER TABLE gdpr.audit_head
  ADD COLUMN due_size bigint,
  ADD COLUMN due_root bytea;

-- Nanoseconds since the Unix epoch of an RFC 3339 UTC time as gdpr-audit
-- writes it (jiff: 'YYYY-MM-DDTHH:MM:SS[.fraction]Z'); exact to the
-- nanosecond (the fraction is read as digits, not through timestamptz).
CREATE FUNCTION gdpr.rfc3339_ns(t text) RETURNS bigint
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
  SELECT extract(epoch FROM regexp_replace(t, '\.[0-9]+', '')::timestamptz)::bigint
           * 1000000000
       + coalesce(rpad(substring(t FROM '\.([0-9]{1,9})'), 9, '0')::bigint, 0)
$$;

-- The inverse: RFC 3339 with nine fraction digits (parsed back to the same
-- instant by gdpr-audit).
CREATE FUNCTION gdpr.ns_rfc3339(ns bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
  SELECT to_char(to_timestamp(((ns - frac) / 1000000000)::double precision)
                   AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
         || '.' || lpad(frac::text, 9, '0') || 'Z'
  FROM (SELECT ((ns % 1000000000) + 1000000000) % 1000000000 AS frac) f
$$;

-- Appends p_bodies (each record's canonical encoding without its 41-byte
-- header) recorded at p_times (ns since the epoch), after first inserting
-- p_note if it is the signed checkpoint the head is waiting for. Stops
-- after a record that makes a checkpoint due (p_every_records records or
-- p_every_ns since the last one, as gdpr-audit's CheckpointPolicy), and
-- appends nothing while one is due and p_note is not it. Appends nothing
-- either when the log holds fewer records than p_seen, the number the
-- calling writer has already seen (a rolled-back log: chaining on would
-- fork it). Returns the position of the first record appended, their leaf
-- hashes (hex, concatenated), the checkpoint due (size and root hex) and
-- the head after.
CREATE FUNCTION gdpr.audit_append(
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
  nodes bytea[] := '{}';
  n integer;
  s bigint;
  rec bytea;
  leaf bytea;
  acc bytea;
  seqs bigint[] := '{}';
  recs bytea[] := '{}';
  leaves bytea[] := '{}';
  k integer := 0;
  cp_ns bigint;
  last_ns bigint;
  note text;
BEGIN
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
    END IF;
  END IF;
  IF NOT o_truncated AND h.due_size IS NULL THEN
    n := length(h.frontier) / 32;
    FOR j IN 1..n LOOP
      nodes[j] := substring(h.frontier FROM (j - 1) * 32 + 1 FOR 32);
    END LOOP;
    cp_ns := gdpr.rfc3339_ns(h.last_checkpoint_time);
    FOR i IN 1..coalesce(array_length(p_bodies, 1), 0) LOOP
      rec := '\x01'::bytea || int8send(h.size) || h.prev || p_bodies[i];
      leaf := sha256('\x00'::bytea || rec);
      -- Push the leaf onto the frontier (gdpr-audit src/frontier.rs).
      n := n + 1;
      nodes[n] := leaf;
      s := h.size;
      WHILE (s & 1) = 1 LOOP
        nodes[n - 1] := sha256('\x01'::bytea || nodes[n - 1] || nodes[n]);
        n := n - 1;
        s := s >> 1;
      END LOOP;
      k := k + 1;
      seqs[k] := h.next_seq;
      recs[k] := rec;
      leaves[k] := leaf;
      h.next_seq := h.next_seq + 1;
      h.size := h.size + 1;
      h.prev := leaf;
      h.since_checkpoint := h.since_checkpoint + 1;
      last_ns := p_times[i];
      IF cp_ns IS NULL THEN
        cp_ns := last_ns;
        h.last_checkpoint_time := gdpr.ns_rfc3339(last_ns);
      END IF;
      IF (p_every_records IS NOT NULL AND h.since_checkpoint >= p_every_records)
         OR (p_every_ns IS NOT NULL AND last_ns - cp_ns >= p_every_ns) THEN
        acc := nodes[n];
        FOR j IN REVERSE n - 1..1 LOOP
          acc := sha256('\x01'::bytea || nodes[j] || acc);
        END LOOP;
        h.due_size := h.size;
        h.due_root := acc;
        EXIT;
      END IF;
    END LOOP;
    IF k > 0 THEN
      INSERT INTO gdpr.audit_entry (seq, checkpoint, body)
        SELECT q, false, r FROM unnest(seqs, recs) AS u(q, r);
      h.last_recorded := gdpr.ns_rfc3339(last_ns);
    END IF;
    h.frontier := coalesce(
      (SELECT string_agg(x, ''::bytea ORDER BY o)
         FROM unnest(nodes[1:n]) WITH ORDINALITY AS u(x, o)), ''::bytea);
  END IF;
  UPDATE gdpr.audit_head SET next_seq = h.next_seq, size = h.size, frontier = h.frontier,
      prev = h.prev, since_checkpoint = h.since_checkpoint,
      last_checkpoint_time = h.last_checkpoint_time, last_note = h.last_note,
      last_recorded = h.last_recorded, due_size = h.due_size, due_root = h.due_root
    WHERE tenant = current_user;
  o_count := k;
  o_leaves := coalesce(
    (SELECT string_agg(encode(x, 'hex'), '' ORDER BY o)
       FROM unnest(leaves) WITH ORDINALITY AS u(x, o)), '');
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
