//! Versioned migrations, applied by the library: each is one SQL file in
//! `migrations/`, applied once, in order, in one transaction with the
//! version recorded (`gdpr.schema_version`). Concurrent migrators wait on
//! an advisory lock. A database whose schema is newer than the newest
//! migration here is refused, never "fixed".

use postgres::{Client, GenericClient};

use crate::error::PgError;

/// The migrations, in order; the version of migration `i` is `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_audit.sql"),
    include_str!("../migrations/0002_keys.sql"),
    include_str!("../migrations/0003_journal.sql"),
    include_str!("../migrations/0004_chain_in_database.sql"),
    include_str!("../migrations/0005_append_fast.sql"),
    include_str!("../migrations/0006_append_outside_lock.sql"),
    include_str!("../migrations/0007_objections.sql"),
    include_str!("../migrations/0008_append_leaner.sql"),
    include_str!("../migrations/0009_remove_orphans.sql"),
    include_str!("../migrations/0010_bodies_packed.sql"),
];

/// The schema version this library writes and reads.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Arbitrary key of the advisory lock that serialises migrators.
const MIGRATION_LOCK: i64 = 0x6764_7072_6d69_6772; // "gdprmigr"

/// Brings the schema to [`SCHEMA_VERSION`]; run it as the database owner
/// (a role with CREATEROLE, no superuser needed). Returns the versions
/// applied now (empty when it was up to date).
///
/// # Errors
/// [`PgError::NewerSchema`] (nothing is changed); [`PgError::Backend`] (the
/// failing migration is rolled back with everything after it).
pub fn migrate(owner: &mut Client) -> Result<Vec<i32>, PgError> {
    migrate_to(owner, SCHEMA_VERSION)
}

/// [`migrate`], but only up to `version` (at most [`SCHEMA_VERSION`]):
/// for an upgrade in steps, and for tests of a migration against logs
/// written under the schema before it. This library opens only a database
/// at [`SCHEMA_VERSION`].
///
/// # Errors
/// As [`migrate`]; [`PgError::NewerSchema`] when `version` is newer than
/// this library knows.
pub fn migrate_to(owner: &mut Client, version: i32) -> Result<Vec<i32>, PgError> {
    if version > SCHEMA_VERSION {
        return Err(PgError::NewerSchema {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    let mut tx = owner
        .transaction()
        .map_err(PgError::backend("starting the migration"))?;
    tx.query_one("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(PgError::backend("waiting for other migrators"))?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS gdpr;
         REVOKE ALL ON SCHEMA gdpr FROM PUBLIC;
         CREATE TABLE IF NOT EXISTS gdpr.schema_version (
           version integer PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now());",
    )
    .map_err(PgError::backend("creating gdpr.schema_version"))?;
    let found = current(&mut tx)?;
    if found > SCHEMA_VERSION {
        return Err(PgError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    let mut applied = Vec::new();
    let upto = usize::try_from(version).unwrap_or(0);
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(upto)
        .skip(found.max(0) as usize)
    {
        let version = i as i32 + 1;
        tx.batch_execute(sql)
            .map_err(PgError::backend("applying a migration"))?;
        tx.execute(
            "INSERT INTO gdpr.schema_version (version) VALUES ($1)",
            &[&version],
        )
        .map_err(PgError::backend("recording a migration"))?;
        applied.push(version);
    }
    tx.commit()
        .map_err(PgError::backend("committing the migration"))?;
    Ok(applied)
}

/// The schema version in the database (0: none yet).
///
/// # Errors
/// [`PgError::Backend`].
pub fn current(client: &mut impl GenericClient) -> Result<i32, PgError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('gdpr.schema_version') IS NOT NULL", &[])
        .map_err(PgError::backend("reading the schema version"))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v: Option<i32> = client
        .query_one("SELECT max(version) FROM gdpr.schema_version", &[])
        .map_err(PgError::backend("reading the schema version"))?
        .get(0);
    Ok(v.unwrap_or(0))
}

/// Checks that the database holds exactly the schema this library reads.
///
/// # Errors
/// [`PgError::NewerSchema`], [`PgError::OlderSchema`], [`PgError::Backend`].
pub fn check(client: &mut impl GenericClient) -> Result<(), PgError> {
    let found = current(client)?;
    match found.cmp(&SCHEMA_VERSION) {
        std::cmp::Ordering::Greater => Err(PgError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        }),
        std::cmp::Ordering::Less => Err(PgError::OlderSchema {
            found,
            needed: SCHEMA_VERSION,
        }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}
