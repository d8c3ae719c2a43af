//! `gdpr request new|show|assess|approve|refuse|extend|complete|run|resume|status|list|certificate|verify-certificate|shred-expired`:
//! data-subject requests (GDPR Art. 15, 16, 17, 18, 20, 21) executed on every system of
//! `systems.toml` by `gdpr-request`, with a journal, a restriction register
//! and a signed certificate.
//!
//! The patient's identifiers come from a patient-index file (or stdin with
//! `--index -`), never from the command line, and are never printed.
//!
//! Exit codes: 0 completed and verified (or the command succeeded), 1
//! partially completed or a certificate that does not verify, 2 bad input
//! (an illegal step included), 3 refused — from every command that
//! reports one request (`refuse`, `show`, `status`, `run`, `resume`,
//! `certificate`, `verify-certificate`); `list` reports many and exits 0.

mod exec;
mod extend;
mod grounds;
mod inputs;
mod package;
mod refuse;
mod shred;
mod view;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use gdpr_core::erasure::ErasureGround;
use gdpr_core::request::{RequestKind, Stage};
use gdpr_core::restriction::RestrictionGround;

use crate::error::CliError;

/// Arguments of `gdpr request`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    /// The directory holding one directory per request.
    #[arg(long, global = true, default_value = "requests")]
    requests: PathBuf,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
}

/// The systems, the audit log and who acts.
#[derive(Debug, Clone, clap::Args)]
struct Context {
    /// The systems file (see docs/samples/systems.toml).
    #[arg(long)]
    config: PathBuf,
    /// The audit log directory (made with `gdpr audit init`). With
    /// --postgres the request's audit records go to the tenant's log in
    /// PostgreSQL instead (give --kek, not --audit-log).
    #[arg(
        long = "audit-log",
        required_unless_present = "postgres",
        conflicts_with = "postgres"
    )]
    audit_log: Option<PathBuf>,
    /// The audit log's secret signing key (signs certificates and packages too).
    #[arg(long = "audit-key")]
    audit_key: PathBuf,
    /// Where restrictions are registered that a system cannot mark.
    #[arg(long, default_value = "restrictions")]
    register: PathBuf,
    /// Who acts (recorded in the history and the audit log).
    #[arg(long, default_value = "gdpr-cli")]
    actor: String,
    /// Keep the audit log, the journal and the restriction register in
    /// PostgreSQL (shared by every node): FILE holds the connection string
    /// as for `gdpr audit verify --postgres`, the password comes from the
    /// file named by GDPR_PG_PASSWORD_FILE. The request runs under this
    /// node's lease.
    #[arg(long, value_name = "FILE")]
    postgres: Option<PathBuf>,
    /// With --postgres: the key-encryption key file (mode 0600) of the
    /// tenant's subject keys.
    #[arg(long, value_name = "KEKFILE", requires = "postgres")]
    kek: Option<PathBuf>,
    /// With --postgres: how long to wait (seconds) while another node runs
    /// the request, before giving up (exit 2).
    #[arg(long = "lease-wait", default_value_t = 0, requires = "postgres")]
    lease_wait: u64,
}

/// The controller's calendar for the deadline (Art. 12(3), Reg. 1182/71).
#[derive(Debug, Clone, clap::Args)]
struct CalendarArgs {
    /// The built-in holiday calendar (DE, DE-BY, FR, NL, AT).
    #[arg(long, default_value = "DE")]
    holidays: String,
    /// The controller's time zone (IANA name).
    #[arg(long = "time-zone", default_value = "Europe/Berlin")]
    time_zone: String,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Record a request received now.
    New {
        /// The request's id (`dsr-2026-0042`).
        #[arg(long)]
        id: String,
        /// What is asked.
        #[arg(long, value_enum)]
        kind: Kind,
        /// The patient-index file (TOML, docs/requests.md); `-` reads stdin.
        #[arg(long)]
        index: PathBuf,
        /// Who received it.
        #[arg(long, default_value = "gdpr-cli")]
        actor: String,
        /// With `--kind objection`: a purpose objected to (repeatable, e.g.
        /// `research`; none: every purpose).
        #[arg(long = "objection-purpose", value_name = "PURPOSE")]
        objection_purposes: Vec<String>,
    },
    /// Show a request: kind, stage, deadline, history (no identifiers).
    Show {
        id: String,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Show a request's stage, deadline and, once run, its outcome per system.
    Status {
        id: String,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// List the requests and their stages.
    List,
    /// Verify identity (asserted by the actor), find every record and
    /// assess it (erasure).
    Assess {
        id: String,
        #[command(flatten)]
        context: Context,
        /// The built-in retention rule pack of this jurisdiction.
        #[arg(long, default_value = "DE")]
        jurisdiction: String,
        /// A retention rule pack file (TOML, docs/retention.md) instead of
        /// the built-in one.
        #[arg(long)]
        pack: Option<PathBuf>,
        /// A legal hold on a record (Art. 17(3)): `SYSTEM:RECORD:HOLD` with
        /// HOLD one of litigation, research-freeze, public-health,
        /// legal-obligation; the record id as `assess` lists it. Repeatable.
        #[arg(long = "hold", value_name = "SYSTEM:RECORD:HOLD")]
        holds: Vec<String>,
        /// The patient-index file again (`-` reads stdin), for its
        /// `birth-date`: retention rules that count from the birth date are
        /// then decided instead of left to a person. It must name the same
        /// subjects as the request.
        #[arg(long)]
        index: Option<PathBuf>,
        /// The controller's time zone (IANA name): "today", for retention,
        /// is the date there.
        #[arg(long = "time-zone", default_value = "Europe/Berlin")]
        time_zone: String,
        /// The controller's findings (TOML, docs/requests.md): GDPR
        /// Art. 17(3)(b)–(e) and § 35(1)–(3) BDSG, each for a record, a
        /// system or the whole request, with who made it and why (the
        /// reason is sealed, never printed). Erasure only.
        #[arg(long, value_name = "FILE")]
        findings: Option<PathBuf>,
    },
    /// Approve the assessment (by a second actor under four eyes).
    Approve {
        id: String,
        #[command(flatten)]
        context: Context,
    },
    /// Refuse a request (GDPR Art. 12(4)): the reasons as grounds, each with
    /// its provision; the subject is told of the right to lodge a complaint
    /// with a supervisory authority (Art. 77) and to a judicial remedy
    /// (Art. 79). Allowed from receipt up to approval, before execution;
    /// journaled, audited, and certified by `certificate`. Exit code 3.
    Refuse {
        id: String,
        #[command(flatten)]
        context: Context,
        /// A ground of refusal (repeatable); each must fit the request's
        /// kind.
        #[arg(long = "ground", value_enum)]
        grounds: Vec<refuse::Ground>,
        /// Another provision the refusal rests on (repeatable), e.g. a
        /// member-state restriction under GDPR Art. 23: "§ 34 BDSG".
        #[arg(long = "provision", value_name = "CITATION")]
        provisions: Vec<String>,
    },
    /// Extend the deadline (GDPR Art. 12(3)) by one or two further months:
    /// once, while the first month from receipt runs, with its grounds,
    /// which the subject is told now. Journaled and audited; `show` and
    /// `status` then give the new due date. A second extension, one after
    /// the first month or of an answered request: exit 2, no trace.
    Extend {
        id: String,
        #[command(flatten)]
        context: Context,
        /// By how many further months (1 or 2).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
        months: u8,
        /// A ground of the extension (repeatable, at least one).
        #[arg(long = "reason", value_enum, required = true)]
        reasons: Vec<extend::Reason>,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Declare an approved manual task (rectification, GDPR Art. 16) done
    /// on the systems by the actor, and complete the request: execution,
    /// verification (the declaration) and completion, journaled and
    /// audited; `certificate` then certifies it.
    Complete {
        id: String,
        #[command(flatten)]
        context: Context,
        /// The actor states that the task was done on every system.
        #[arg(long = "task-done", required = true)]
        task_done: bool,
    },
    /// Record the controller's grounds against the objection a completed
    /// objection request registered (GDPR Art. 21(1)): compelling
    /// legitimate grounds that override the subject's interests, or legal
    /// claims, for some or every purpose objected to. Journaled and
    /// audited; the reason is sealed, never printed; `authorize` then
    /// permits what the grounds cover. The same grounds again change
    /// nothing; other grounds: exit 2.
    Grounds {
        id: String,
        #[command(flatten)]
        context: Context,
        /// The grounds (TOML, docs/requests.md): ground, purposes,
        /// assessment (where it is kept), by, reason (sealed).
        #[arg(long, value_name = "FILE")]
        grounds: PathBuf,
    },
    /// Execute an approved request on every system.
    Run {
        id: String,
        #[command(flatten)]
        context: Context,
        #[command(flatten)]
        package: package::PackageArgs,
    },
    /// Resume a request interrupted by a crash (the same as `run`).
    Resume {
        id: String,
        #[command(flatten)]
        context: Context,
        #[command(flatten)]
        package: package::PackageArgs,
    },
    /// Issue the signed certificate of an answered request.
    Certificate {
        id: String,
        #[command(flatten)]
        context: Context,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
        /// Also write the certificate as a page for the patient's letter
        /// (HTML, self-contained) to this file.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Shred the keys of answered requests whose retention ended: their
    /// sealed identifiers become unreadable (Art. 5(1)(e), 5(2)). Lists
    /// only (dry run) unless `--apply` is given.
    ShredExpired {
        #[command(flatten)]
        shred: shred::ShredArgs,
    },
    /// Verify a certificate offline.
    VerifyCertificate {
        file: PathBuf,
        /// The audit log's public key (`public.key`).
        #[arg(long = "public-key")]
        public_key: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    /// Art. 15.
    Access,
    /// Art. 20.
    Portability,
    /// Art. 17(1)(a).
    ErasureNoLongerNecessary,
    /// Art. 17(1)(b).
    ErasureConsentWithdrawn,
    /// Art. 17(1)(c).
    ErasureObjection,
    /// Art. 17(1)(d).
    ErasureUnlawful,
    /// Art. 18(1)(a): the accuracy is contested.
    RestrictionAccuracyContested,
    /// Art. 18(1)(b): unlawful processing, restriction asked instead of
    /// erasure.
    RestrictionUnlawful,
    /// Art. 18(1)(c): the subject needs the data for legal claims.
    RestrictionLegalClaims,
    /// Art. 18(1)(d): an objection is pending.
    RestrictionObjectionPending,
    /// Art. 18(3): lift the restrictions in force (tell the subject first).
    LiftRestriction,
    /// Art. 16: rectification, a manual task on the systems; completed by
    /// `complete --task-done` once approved.
    Rectification,
    /// Art. 21: an objection, recorded into the subject's state by `run`
    /// (to the purposes of `--objection-purpose`, else to every purpose).
    Objection,
}

impl Kind {
    fn request_kind(self) -> RequestKind {
        let erasure = |ground| RequestKind::Erasure { ground };
        let restriction = |ground| RequestKind::Restriction { ground };
        match self {
            Self::Access => RequestKind::Access,
            Self::Portability => RequestKind::Portability,
            Self::ErasureNoLongerNecessary => erasure(ErasureGround::NoLongerNecessary),
            Self::ErasureConsentWithdrawn => erasure(ErasureGround::ConsentWithdrawn),
            Self::ErasureObjection => erasure(ErasureGround::Objection),
            Self::ErasureUnlawful => erasure(ErasureGround::UnlawfulProcessing),
            Self::RestrictionAccuracyContested => restriction(RestrictionGround::AccuracyContested),
            Self::RestrictionUnlawful => restriction(RestrictionGround::UnlawfulProcessing),
            Self::RestrictionLegalClaims => restriction(RestrictionGround::NeededForLegalClaims),
            Self::RestrictionObjectionPending => restriction(RestrictionGround::ObjectionPending),
            Self::LiftRestriction => RequestKind::LiftRestriction,
            Self::Rectification => RequestKind::Rectification,
            Self::Objection => RequestKind::Objection {
                purposes: Vec::new(),
            },
        }
    }
}

/// The exit code of a request in `stage`.
fn stage_code(stage: Stage) -> ExitCode {
    match stage {
        Stage::PartiallyCompleted => ExitCode::from(1),
        Stage::Refused => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    }
}

/// Runs `gdpr request`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    crate::runtime()?.block_on(exec::dispatch(args))
}
