//! `gdpr audit init` and `gdpr audit append`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use gdpr_audit::file_store::FileStore;
use gdpr_audit::keystore::KeyStore;
use gdpr_audit::log::{AuditLog, CheckpointPolicy};
use gdpr_audit::signing::Signer;

use super::{Failure, bad};
use crate::error::CliError;

mod append;
mod event_line;
mod lines;
mod pipeline;
mod progress;

pub(super) use append::{AppendArgs, append};

pub(super) fn init(dir: &Path, key_out: &Path, origin: &str) -> Result<ExitCode, Failure> {
    if FileStore::log_path(dir).exists() {
        return Err(bad(format!("{} already holds a log", dir.display())));
    }
    let signer = Signer::generate(origin)?;
    let verifier = signer.verifier().to_string();
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(key_out)
        .map_err(|source| {
            Failure::Cli(CliError::Io {
                path: key_out.display().to_string(),
                source,
            })
        })?;
    f.write_all(format!("{}\n", signer.to_secret_text().as_str()).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| {
            Failure::Cli(CliError::Io {
                path: key_out.display().to_string(),
                source,
            })
        })?;
    let store = FileStore::open(dir, true)?;
    let keys = KeyStore::create(FileStore::keys_path(dir))?;
    let public = dir.join("public.key");
    fs::write(&public, format!("{verifier}\n")).map_err(|source| {
        Failure::Cli(CliError::Io {
            path: public.display().to_string(),
            source,
        })
    })?;
    let log = AuditLog::open(store, keys, signer, CheckpointPolicy::default())?;
    log.checkpoint()?;
    println!("{verifier}");
    eprintln!(
        "created {}; public key also in {} (give auditors their own copy)",
        dir.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}
