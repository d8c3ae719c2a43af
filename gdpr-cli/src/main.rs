//! `gdpr` — the command line of the gdpr-health workspace.
//!
//! Exit codes are shared by every subcommand:
//! 0 success or permit, 1 partial failure or tampering detected,
//! 2 bad input (with a message naming what is wrong), 3 deny.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod authorize;
mod bases;
mod db;
mod dicom;
mod dpia;
mod ehr;
mod error;
mod input;
mod pacs;
mod pg;
mod request;
mod retention;
mod ropa;
mod subject;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;

/// GDPR Art. 9 compliance for medical data.
#[derive(Debug, Parser)]
#[command(name = "gdpr", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the Art. 6(1) bases and Art. 9(2) conditions with their citations.
    Bases(bases::Args),
    /// The tamper-evident audit log: init, append, checkpoint, verify, prove,
    /// export, subject-report, erase-subject, prune.
    Audit(audit::Args),
    /// De-identify DICOM files for research (PS3.15 E.1-1), make project keys.
    #[command(subcommand)]
    Dicom(dicom::Command),
    /// Retention rules with their legal sources, and due-for-deletion decisions (Art. 5(1)(e)).
    Retention(retention::Args),
    // The help of these three lives on their `Args` (one file each).
    Authorize(authorize::Args),
    Ropa(ropa::Args),
    Dpia(dpia::Args),
    /// Locate, export or erase a patient's studies on a PACS or DICOM folder.
    Pacs(pacs::Args),
    /// Locate, export or erase a patient's records on an EHR (a FHIR R4
    /// server, OpenEMR).
    Ehr(ehr::Args),
    /// Data-subject requests (Art. 15, 17, 18, 20) on every system: new,
    /// show, status, list, assess, approve, refuse, run, resume,
    /// certificate, verify-certificate, shred-expired.
    Request(request::Args),
    /// The PostgreSQL schema of shared deployments: migrate.
    Db(db::Args),
}

/// The runtime of the async commands (`gdpr pacs`, `gdpr ehr`, `gdpr request`): one
/// thread, timers and I/O on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            path: "tokio runtime".into(),
            source,
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gdpr: {err}");
            err.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Bases(args) => bases::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Dicom(cmd) => dicom::run(cmd),
        Command::Retention(args) => retention::run(args),
        Command::Authorize(args) => authorize::run(args),
        Command::Ropa(args) => ropa::run(args),
        Command::Dpia(args) => dpia::run(args),
        Command::Pacs(args) => pacs::run(args),
        Command::Ehr(args) => ehr::run(args),
        Command::Request(args) => request::run(args),
        Command::Db(args) => db::run(args),
    }
}
