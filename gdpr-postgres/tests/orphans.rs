//! Schema version 9: bodies that no run names — stored as rows, before the
//! lock, by a writer of schema 9 or before whose batch a checkpoint cut and
//! who never continued it — can be removed by their own tenant once they
//! are at least 10 minutes old, and by nobody else. Entries, runs and
//! every body a run names stay byte for byte; a writer of schema 9 whose
//! cut batch was removed fails its continuation without writing anything.
//! Since schema 10 a call stores only the bodies it appends, as one row
//! with its run, so a writer of this library leaves no such bodies (tests
//! here say so); the rows writers of older versions left are what the
//! clean-up is for.
#![cfg(feature = "postgres-tests")]

mod support;

use std::time::Duration;

use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::record::Record;
use gdpr_audit::store::{AuditStore, Entry, Unchained};
use gdpr_audit::{AuditLog, CheckpointPolicy, Error, FileKeyStore, Signer, verify_store};
use gdpr_postgres::{HeadLock, MIN_ORPHAN_AGE, PgAuditStore, PgConfig, Tenant};
use support::*;

/// A checkpoint every 2 records: a batch of 5 is cut after at most 2.
const EVERY_2: CheckpointPolicy = CheckpointPolicy {
    every_records: Some(2),
    every: None,
};

/// Whole record encodings of `n` events (from an embedded log: their
/// bodies, after the 41-byte header, are what a writer sends).
fn records(n: u64) -> Vec<Vec<u8>> {
    let tmp = tempfile::tempdir().unwrap();
    let log = AuditLog::create(tmp.path().join("dir"), Signer::generate("x/y").unwrap())
        .unwrap()
        .with_policy(CheckpointPolicy {
            every_records: None,
            every: None,
        });
    log.append_batch(&(0..n).map(|i| event(i, None)).collect::<Vec<_>>())
        .unwrap();
    entries(log.store())
        .into_iter()
        .filter_map(|e| match e {
            Entry::Record(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn unchained(records: &[Vec<u8>]) -> Vec<Unchained<'_>> {
    records
        .iter()
        .map(|r| Unchained {
            body: &r[41..],
            recorded: Record::decode(r).unwrap().recorded(),
        })
        .collect()
}

/// What a writer of schema 9 or before left when a checkpoint cut its
/// batch of 5 and it died: all five bodies stored as rows (before the
/// lock) under a new batch, two of them named by a run. Built here with
/// the statements that writer ran: its INSERT, then the call continuing
/// that batch (the read-back path every later version keeps for such
/// writers), which chains 2 and stops for the checkpoint. Returns the
/// call's answer: the due size and root, and the batch.
fn cut_batch_v9(config: &PgConfig) -> (i64, [u8; 32], i64) {
    let recs = records(5);
    let (bodies, times) = bodies_and_times(&recs);
    drop(PgAuditStore::open(config, HeadLock::Row).unwrap());
    let mut c = config.connect().unwrap();
    let batch: i64 = c
        .query_one("SELECT nextval('gdpr.audit_body_batch')", &[])
        .unwrap()
        .get(0);
    c.execute(
        "INSERT INTO gdpr.audit_body (batch, ord, body)
         SELECT $1, o, b FROM unnest($2::bytea[]) WITH ORDINALITY AS u(b, o)",
        &[&batch, &bodies],
    )
    .unwrap();
    let seen: i64 = c
        .query_one(
            "SELECT size FROM gdpr.audit_head WHERE tenant = current_user",
            &[],
        )
        .unwrap()
        .get(0);
    let row = c
        .query_one(
            "SELECT o_count, o_due_size, o_due_root, o_batch
               FROM gdpr.audit_append(NULL, NULL, $1, 2, NULL, $2, false, $3, 1)",
            &[&times, &seen, &batch],
        )
        .unwrap();
    assert!(row.get::<_, i32>(0) <= 2);
    assert_eq!(row.get::<_, Option<i64>>(3), Some(batch));
    let root: String = row.get(2);
    let root = hash_of_hex(&root);
    (row.get(1), root, batch)
}

/// [`cut_batch_v9`], for the tests that need only what it leaves.
fn cut_batch(config: &PgConfig) {
    cut_batch_v9(config);
}

/// A live writer appends `n` events (signing the checkpoint a dead writer
/// left due, if any).
fn append(config: &PgConfig, secret: &str, n: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::create(tmp.path().join("k")).unwrap();
    let store = PgAuditStore::open(config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(store, keys, Signer::parse(secret).unwrap(), EVERY_2).unwrap();
    log.append_batch(&(100..100 + n).map(|i| event(i, None)).collect::<Vec<_>>())
        .unwrap();
}

/// As the superuser (it bypasses row-level security; the application
/// never does this): counts of the tenant's bodies in no run and in runs
/// (a row of schema 9 or before holds one body; a pack of schema 10 holds
/// several, and its bodies in no run are those after its runs' last).
fn counts(tenant: &Tenant) -> (i64, i64) {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let row = sup
        .query_one(
            "SELECT coalesce(sum(n - named), 0)::int8, coalesce(sum(named), 0)::int8 FROM (
               SELECT coalesce(cardinality(b.pack), 1) AS n,
                 (SELECT coalesce(sum(least(r.first_ord + r.count, b.ord + coalesce(cardinality(b.pack), 1))
                                      - greatest(r.first_ord, b.ord)), 0)
                    FROM gdpr.audit_run r WHERE r.tenant = b.tenant AND r.batch = b.batch
                     AND r.first_ord < b.ord + coalesce(cardinality(b.pack), 1)
                     AND r.first_ord + r.count > b.ord) AS named
               FROM gdpr.audit_body b WHERE b.tenant = $1) x",
            &[&tenant.role()],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// As the superuser: every run names bodies that are all there (rows, or
/// the elements of one pack).
fn runs_whole(tenant: &Tenant) -> bool {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let broken: i64 = sup
        .query_one(
            "SELECT count(*) FROM gdpr.audit_run r WHERE r.tenant = $1 AND r.count <> coalesce(
               (SELECT cardinality(k.pack[r.first_ord : r.first_ord + r.count - 1])
                  FROM gdpr.audit_body k WHERE k.tenant = r.tenant AND k.batch = r.batch
                   AND k.ord = 1 AND k.pack IS NOT NULL),
               (SELECT count(*) FROM gdpr.audit_body b WHERE b.tenant = r.tenant
                 AND b.batch = r.batch AND b.ord >= r.first_ord AND b.ord < r.first_ord + r.count))",
            &[&tenant.role()],
        )
        .unwrap()
        .get(0);
    broken == 0
}

/// As the superuser: the tenant's bodies in no run stored over half an
/// hour ago.
fn old_orphans(tenant: &Tenant) -> i64 {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    sup.query_one(
        "SELECT count(*) FROM gdpr.audit_body b WHERE tenant = $1
           AND stored < now() - interval '30 minutes' AND NOT EXISTS (
           SELECT 1 FROM gdpr.audit_run r WHERE r.tenant = b.tenant AND r.batch = b.batch
             AND b.ord >= r.first_ord AND b.ord < r.first_ord + r.count)",
        &[&tenant.role()],
    )
    .unwrap()
    .get(0)
}

/// As the superuser: makes every body of the tenant an hour older.
fn age(tenant: &Tenant) {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    sup.execute(
        "UPDATE gdpr.audit_body SET stored = stored - interval '1 hour' WHERE tenant = $1",
        &[&tenant.role()],
    )
    .unwrap();
}

/// A tenant with a log whose writers left orphans: records chained, a
/// batch cut, chained on by a live writer.
fn tenant_with_orphans(prefix: &str) -> (Tenant, PgConfig, Signer) {
    let (tenant, config) = new_tenant(prefix);
    let signer = Signer::generate(&format!("test.example/{prefix}")).unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    append(&config, &secret, 3);
    cut_batch(&config);
    append(&config, &secret, 3);
    assert!(counts(&tenant).0 > 0, "the cut batch left orphans");
    (tenant, config, signer)
}

#[test]
fn only_orphans_older_than_the_bound_are_removed_and_the_log_is_unchanged() {
    let (tenant, config, signer) = tenant_with_orphans("orph_old");
    let secret = signer.to_secret_text().as_str().to_owned();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    // Young orphans stay; a bound under 10 minutes is refused.
    let (old_orphans, _) = counts(&tenant);
    assert_eq!(store.remove_orphaned_bodies(MIN_ORPHAN_AGE).unwrap(), 0);
    assert!(matches!(
        store.remove_orphaned_bodies(Duration::from_secs(599)),
        Err(Error::BadInput { .. })
    ));
    assert_eq!(counts(&tenant).0, old_orphans);
    // Every body stored so far becomes an hour old (those runs name too);
    // then another batch is cut now: its orphans are young.
    age(&tenant);
    cut_batch(&config);
    append(&config, &secret, 2);
    let (orphans, named) = counts(&tenant);
    let young = orphans - old_orphans;
    assert!(young > 0);
    let before = entries(&store);
    let report = verify_store(&store, &signer.verifier(), None).unwrap();

    let removed = store.remove_orphaned_bodies(MIN_ORPHAN_AGE).unwrap();
    assert_eq!(removed, u64::try_from(old_orphans).unwrap());
    assert_eq!(
        counts(&tenant),
        (young, named),
        "young orphans and run bodies stay"
    );
    assert!(runs_whole(&tenant));
    assert_eq!(entries(&store), before, "every entry byte for byte");
    let after = verify_store(&store, &signer.verifier(), None).unwrap();
    assert_eq!(
        (after.records, after.checkpoints, after.unsigned_tail),
        (report.records, report.checkpoints, report.unsigned_tail)
    );
    // A bound longer than their age keeps the rest; nothing is left twice.
    assert_eq!(
        store
            .remove_orphaned_bodies(Duration::from_secs(7200))
            .unwrap(),
        0
    );
    assert_eq!(store.remove_orphaned_bodies(MIN_ORPHAN_AGE).unwrap(), 0);
    // The writer chains on.
    append(&config, &secret, 3);
    assert_eq!(verified_records(&config, &signer), report.records + 3);
}

#[test]
fn a_tenant_deletes_no_body_itself_and_the_remover_reaches_only_its_own_old_bodies() {
    let (a, a_config, a_signer) = tenant_with_orphans("orph_a");
    let (b, b_config, _) = tenant_with_orphans("orph_b");
    age(&a);
    age(&b);
    cut_batch(&a_config); // young orphans of A
    let (a_orphans, a_named) = counts(&a);
    let a_old = old_orphans(&a);
    assert!(a_old > 0 && a_old < a_orphans);
    let b_before = counts(&b);
    let b_entries = entries(&PgAuditStore::open(&b_config, HeadLock::Row).unwrap());

    // As A, straight SQL: no DELETE or UPDATE on any table of the log, and
    // the function refuses a bound under 10 minutes.
    let mut conn = a_config.connect().unwrap();
    for sql in [
        "DELETE FROM gdpr.audit_body",
        "DELETE FROM gdpr.audit_body WHERE tenant <> current_user",
        "DELETE FROM gdpr.audit_run",
        "DELETE FROM gdpr.audit_entry",
        "UPDATE gdpr.audit_body SET stored = stored - interval '1 hour'",
        "SET ROLE gdpr_orphan_remover",
        "SELECT gdpr.audit_remove_orphans(interval '9 minutes', 10)",
    ] {
        assert!(conn.batch_execute(sql).is_err(), "{sql} was allowed");
    }
    assert_eq!(counts(&a), (a_orphans, a_named));
    // The remover's role: no login, no superuser, no policy bypass; it owns
    // only the function.
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    let row = sup
        .query_one(
            "SELECT rolcanlogin, rolsuper, rolbypassrls,
                    (SELECT count(*) FROM pg_class WHERE relowner = r.oid),
                    (SELECT string_agg(proname, ',') FROM pg_proc WHERE proowner = r.oid)
               FROM pg_roles r WHERE rolname = 'gdpr_orphan_remover'",
            &[],
        )
        .unwrap();
    assert_eq!(
        (
            row.get::<_, bool>(0),
            row.get::<_, bool>(1),
            row.get::<_, bool>(2),
            row.get::<_, i64>(3),
            row.get::<_, Option<String>>(4)
        ),
        (
            false,
            false,
            false,
            0,
            Some("audit_remove_orphans".to_owned())
        )
    );
    // Its policy, tested directly: A's session made a member of the role
    // for this test (the superuser grants it; nothing does in use), then
    // DELETEs as that role without the function. The policy bounds the
    // tenant and the age (that no run names a body is the function's
    // check, under the lock: the role serves nothing else).
    sup.batch_execute(&format!("GRANT gdpr_orphan_remover TO {}", a.role()))
        .unwrap();
    conn.batch_execute("SET ROLE gdpr_orphan_remover").unwrap();
    let hit = conn
        .execute(
            "DELETE FROM gdpr.audit_body WHERE tenant = $1",
            &[&b.role()],
        )
        .unwrap();
    assert_eq!(hit, 0, "B's bodies are out of reach");
    let hit = conn
        .execute(
            "DELETE FROM gdpr.audit_body WHERE stored >= now() - interval '10 minutes'",
            &[],
        )
        .unwrap();
    assert_eq!(hit, 0, "bodies under 10 minutes old are out of reach");
    assert!(
        conn.batch_execute("UPDATE gdpr.audit_head SET since_checkpoint = 0")
            .is_err(),
        "the role locks the head row but changes nothing"
    );
    conn.batch_execute("RESET ROLE").unwrap();
    sup.batch_execute(&format!("REVOKE gdpr_orphan_remover FROM {}", a.role()))
        .unwrap();
    assert_eq!(counts(&a), (a_orphans, a_named));
    assert_eq!(counts(&b), b_before);
    // Through the function: exactly A's old orphans.
    let a_store = PgAuditStore::open(&a_config, HeadLock::Row).unwrap();
    let a_entries = entries(&a_store);
    assert_eq!(
        a_store.remove_orphaned_bodies(MIN_ORPHAN_AGE).unwrap(),
        u64::try_from(a_old).unwrap()
    );
    assert_eq!(counts(&a), (a_orphans - a_old, a_named));
    assert!(runs_whole(&a));
    assert_eq!(entries(&a_store), a_entries);
    assert_eq!(counts(&b), b_before);
    assert_eq!(
        verified_records(&a_config, &a_signer),
        u64::try_from(a_named).unwrap()
    );
    // B removes its own through the function, and its log is the same.
    let b_store = PgAuditStore::open(&b_config, HeadLock::Row).unwrap();
    assert_eq!(
        b_store.remove_orphaned_bodies(MIN_ORPHAN_AGE).unwrap(),
        u64::try_from(b_before.0).unwrap()
    );
    assert_eq!(counts(&b), (0, b_before.1));
    assert_eq!(entries(&b_store), b_entries);
}

/// The writer's signer removes the rest of its own batch (as a clean-up
/// would, had the writer stalled for longer than the bound) before giving
/// a valid note: the continuation reads back no bodies and fails; nothing
/// is acknowledged, the store refuses further appends, no run names a
/// missing body, and a reopened writer chains on.
/// Since schema 10: a batch a checkpoint cuts leaves nothing for the
/// clean-up, even one run between the calls of the batch with every body
/// aged past the bound: the first call stored only the two bodies it
/// appended (with their run), the next one sends the rest again, and the
/// batch goes in whole.
#[test]
fn a_cut_batch_leaves_the_clean_up_nothing_and_goes_in_whole() {
    let (tenant, config) = new_tenant("orph_resume");
    let signer = Signer::generate("test.example/orph_resume").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let recs = records(5);
    let writer = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let cleaner = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let mut removed = Vec::new();
    let mut between = Vec::new();
    let mut sign = |size: u64, root: &[u8; 32]| -> Result<String, Error> {
        age(&tenant);
        between.push(counts(&tenant));
        removed.push(cleaner.remove_orphaned_bodies(MIN_ORPHAN_AGE)?);
        Ok(Checkpoint::new(signer.name(), size, *root)?.sign(&signer))
    };
    let got = writer
        .append_unchained(&unchained(&recs), &EVERY_2, 0, &mut sign)
        .unwrap();
    assert_eq!(got.leaves.len(), 5);
    assert_eq!(
        between.first(),
        Some(&(0, 2)),
        "only what was appended is stored"
    );
    assert!(removed.iter().all(|&n| n == 0), "{removed:?}");
    assert!(runs_whole(&tenant));
    assert_eq!(counts(&tenant), (0, 5));
    drop(writer);
    // Another writer chains on: one chain.
    append(&config, &secret, 4);
    assert_eq!(verified_records(&config, &signer), 9);
    assert!(runs_whole(&tenant));
}

/// A tenant whose writer of schema 9 stored 5 bodies as rows, chained 2
/// and stopped for a checkpoint ([`cut_batch_v9`]), its bodies aged by an
/// hour: the signed note, the batch, the remaining 3 records' times, and a
/// connection as the tenant.
fn cut_and_aged(prefix: &str) -> (Tenant, PgConfig, String, i64, Vec<i64>) {
    let (tenant, config) = new_tenant(prefix);
    let signer = Signer::generate("test.example/orph_race").unwrap();
    let (_, times) = bodies_and_times(&records(5));
    let (size, root, batch) = cut_batch_v9(&config);
    assert_eq!(size, 2);
    let note = Checkpoint::new(signer.name(), u64::try_from(size).unwrap(), root)
        .unwrap()
        .sign(&signer);
    age(&tenant);
    (tenant, config, note, batch, times[2..].to_vec())
}

/// Runs `call` as the tenant on a thread of its own; returns its
/// backend's pid and the thread.
fn spawn_as<T: Send + 'static>(
    config: &PgConfig,
    call: impl FnOnce(&mut postgres::Client) -> T + Send + 'static,
) -> (i32, std::thread::JoinHandle<T>) {
    let mut c = config.connect().unwrap();
    let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    (pid, std::thread::spawn(move || call(&mut c)))
}

/// Waits (up to 30 s) until backend `pid` waits for a lock.
fn waits_for_lock(pid: i32) {
    let mut sup = superuser(&env("GDPR_TEST_PG_DB")).connect().unwrap();
    for _ in 0..600 {
        let waiting: bool = sup
            .query_one(
                "SELECT coalesce((SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1), false)",
                &[&pid],
            )
            .unwrap()
            .get(0);
        if waiting {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("backend {pid} never waited for a lock");
}

/// The continuation of the cut batch (rows 3..5 of `batch`), in its own
/// statement; its answer's count, or the database's message.
fn continuation(
    config: &PgConfig,
    note: String,
    batch: i64,
    rest: Vec<i64>,
) -> (i32, std::thread::JoinHandle<Result<i32, String>>) {
    spawn_as(config, move |c| {
        c.query_one(
            "SELECT o_count FROM gdpr.audit_append($1, NULL, $2, 2, NULL, 0, false, $3, 3)",
            &[&note.as_bytes(), &rest, &batch],
        )
        .map(|r| r.get::<_, i32>(0))
        .map_err(|e| {
            e.as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_default()
        })
    })
}

/// The clean-up, in its own connection; how many it removed.
fn clean_up(config: &PgConfig) -> (i32, std::thread::JoinHandle<i64>) {
    spawn_as(config, |c| {
        c.query_one(
            "SELECT gdpr.audit_remove_orphans(interval '10 minutes', 100)",
            &[],
        )
        .unwrap()
        .get(0)
    })
}

/// The race the lock closes: a continuation reads its bodies back before
/// it takes the tenant's lock. A clean-up that gets the lock first
/// removes them; the continuation, checking again under the lock, fails
/// (without that check it would write a run naming bodies that are gone:
/// run against version 8's append function, this test fails).
#[test]
fn a_clean_up_ahead_of_a_waiting_continuation_fails_it() {
    let (tenant, config, note, batch, rest) = cut_and_aged("orph_race1");
    // X holds the head row's lock; the clean-up finds its candidates and
    // queues for it; then the continuation reads back and queues behind.
    let mut x = config.connect().unwrap();
    x.batch_execute("BEGIN; SELECT 1 FROM gdpr.audit_head WHERE tenant = current_user FOR UPDATE")
        .unwrap();
    let (cleaner, cleaned) = clean_up(&config);
    waits_for_lock(cleaner);
    let (writer, appended) = continuation(&config, note, batch, rest);
    waits_for_lock(writer);
    x.batch_execute("COMMIT").unwrap();
    assert_eq!(cleaned.join().unwrap(), 3);
    let message = appended
        .join()
        .unwrap()
        .expect_err("the continuation must fail");
    assert!(message.contains("removed as orphans"), "{message}");
    assert!(runs_whole(&tenant));
    assert_eq!(counts(&tenant), (0, 2));
}

/// The other order: a continuation that gets the lock first writes its
/// run, and the clean-up queued behind it (its candidates, all three
/// bodies, found before) removes none of the bodies that run names.
#[test]
fn a_clean_up_behind_a_continuation_removes_none_of_its_bodies() {
    let (tenant, config, note, batch, rest) = cut_and_aged("orph_race2");
    let mut x = config.connect().unwrap();
    x.batch_execute("BEGIN; SELECT 1 FROM gdpr.audit_head WHERE tenant = current_user FOR UPDATE")
        .unwrap();
    let (writer, appended) = continuation(&config, note, batch, rest);
    waits_for_lock(writer);
    let (cleaner, cleaned) = clean_up(&config);
    waits_for_lock(cleaner);
    x.batch_execute("COMMIT").unwrap();
    // Its note goes in, then as many records as fit before the next
    // checkpoint (every 2): 2 of the 3. The clean-up, under the lock after
    // it, sees that run: it removes only the one body still in no run
    // (aged by the test; a live writer would continue it within
    // milliseconds, long before 10 minutes).
    let n = appended.join().unwrap().expect("the continuation goes in");
    assert_eq!(n, 2);
    assert_eq!(cleaned.join().unwrap(), 1);
    assert!(runs_whole(&tenant));
    assert_eq!(counts(&tenant), (0, 4));
}

/// A scratch database at `schema` whose tenant has an empty log (its head
/// row, as stores of that version created it), and a connection as the
/// tenant.
fn old_log(prefix: &str, schema: i32) -> (OldSchema, postgres::Client) {
    let old = OldSchema::new(prefix, schema);
    let mut t = old.config.connect().unwrap();
    t.execute(
        "INSERT INTO gdpr.audit_head (next_seq, size, frontier, prev, since_checkpoint)
         VALUES (0, 0, '', $1, 0)",
        &[&&[0u8; 32][..]],
    )
    .unwrap();
    (old, t)
}

/// The column is added without rewriting the table; bodies stored before
/// carry the migration's time.
#[test]
fn migrating_to_9_rewrites_no_body_and_dates_old_ones_at_the_migration() {
    let (mut old, mut t) = old_log("m8", 8);
    let recs = records(5);
    let (bodies, times) = bodies_and_times(&recs);
    t.query_one(
        "SELECT o_count FROM gdpr.audit_append(NULL, $1, $2, 2, NULL, 0, false, NULL, NULL)",
        &[&bodies, &times],
    )
    .unwrap();
    let mut sup_db = superuser(&old.db).connect().unwrap();
    let filenode = |c: &mut postgres::Client| -> u32 {
        c.query_one("SELECT pg_relation_filenode('gdpr.audit_body')::oid", &[])
            .unwrap()
            .get(0)
    };
    let node = filenode(&mut sup_db);
    assert_eq!(
        gdpr_postgres::migrate::migrate_to(&mut old.owner, 9).unwrap(),
        [9]
    );
    assert_eq!(filenode(&mut sup_db), node, "the table was not rewritten");
    let dated: i64 = sup_db
        .query_one(
            "SELECT count(*) FROM gdpr.audit_body
              WHERE stored = (SELECT applied_at FROM gdpr.schema_version WHERE version = 9)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dated, 5);
    // New bodies get their own time.
    drop((t, sup_db, old));
}

/// Schema 9 to 10 rewrites no table, and a log of schema 9 stays readable
/// and continues: a batch its writer cut (bodies stored as rows) is
/// continued after the migration, then a writer of this library appends
/// (bodies as packs); every entry reads back through the reader and the
/// view alike, and the log verifies as one chain.
#[test]
fn migrating_to_10_rewrites_nothing_and_a_batch_of_version_9_continues_after_it() {
    let (mut old, mut t) = old_log("m9", 9);
    let signer = Signer::generate("test.example/m9").unwrap();
    let secret = signer.to_secret_text().as_str().to_owned();
    let recs = records(5);
    let (bodies, times) = bodies_and_times(&recs);
    // Version 9's function: all five bodies stored as rows, two chained.
    let row = t
        .query_one(
            "SELECT o_count, o_due_size, o_due_root, o_batch
               FROM gdpr.audit_append(NULL, $1, $2, 2, NULL, 0, false, NULL, NULL)",
            &[&bodies, &times],
        )
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);
    let (size, batch): (i64, i64) = (row.get(1), row.get(3));
    let root: String = row.get(2);
    let root = hash_of_hex(&root);
    let mut sup_db = superuser(&old.db).connect().unwrap();
    let filenode = |c: &mut postgres::Client| -> u32 {
        c.query_one("SELECT pg_relation_filenode('gdpr.audit_body')::oid", &[])
            .unwrap()
            .get(0)
    };
    let node = filenode(&mut sup_db);
    assert_eq!(gdpr_postgres::migrate(&mut old.owner).unwrap(), [10]);
    assert_eq!(filenode(&mut sup_db), node, "the table was not rewritten");
    // The writer of version 9 continues its batch from the stored rows.
    let note = Checkpoint::new(signer.name(), u64::try_from(size).unwrap(), root)
        .unwrap()
        .sign(&signer);
    let n: i32 = t
        .query_one(
            "SELECT o_count FROM gdpr.audit_append($1, NULL, $2, 2, NULL, 2, false, $3, 3)",
            &[&note.as_bytes(), &&times[2..], &batch],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    // A writer of this library signs the due checkpoint and chains on.
    let tmp = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::create(tmp.path().join("k")).unwrap();
    let store = PgAuditStore::open(&old.config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(store, keys, Signer::parse(&secret).unwrap(), EVERY_2).unwrap();
    log.append_batch(&(10..15).map(|i| event(i, None)).collect::<Vec<_>>())
        .unwrap();
    log.checkpoint().unwrap();
    let (rows, packs): (i64, i64) = {
        let r = sup_db
            .query_one(
                "SELECT count(*) FILTER (WHERE body IS NOT NULL), count(*) FILTER (WHERE pack IS NOT NULL)
                   FROM gdpr.audit_body",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(rows, 5, "the rows of version 9 stay");
    assert!(packs >= 1, "{packs} packs");
    // The first four records are version 9's bodies, byte for byte.
    let read = entries(log.store());
    let records: Vec<&Vec<u8>> = read
        .iter()
        .filter_map(|e| match e {
            Entry::Record(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 9);
    for (got, want) in records.iter().zip(&bodies[..4]) {
        assert_eq!(&got[41..], *want);
    }
    // The view gives the same entries as the reader.
    let viewed: Vec<Vec<u8>> = t
        .query(
            "SELECT body FROM gdpr.audit_entries WHERE tenant = current_user ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let wanted: Vec<Vec<u8>> = read
        .iter()
        .map(|e| match e {
            Entry::Record(r) => r.clone(),
            Entry::Checkpoint(c) => c.as_bytes().to_vec(),
            _ => panic!("an entry of a kind this test does not know"),
        })
        .collect();
    assert_eq!(viewed, wanted);
    let report = verify_store(log.store(), &signer.verifier(), None).unwrap();
    assert_eq!((report.records, report.unsigned_tail), (9, 0));
    drop((t, sup_db, log, old));
}
