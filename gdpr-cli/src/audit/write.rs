//! `gdpr audit init` and `gdpr audit append`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use gdpr_audit::FileStore;
use gdpr_audit::{AuditLog, Signer};

use super::{Failure, bad};
use crate::error::CliError;

mod append;
mod chunks;
mod event_line;
mod fast_line;
mod lines;
mod pipeline;
mod progress;
mod workers;

pub(super) use append::{AppendArgs, append};

pub(super) fn init(dir: &Path, key_out: &Path, origin: &str) -> Result<ExitCode, Failure> {
    if FileStore::log_path(dir).exists() {
        return Err(bad(format!("{} already holds a log", dir.display())));
    }
    let signer = Signer::generate(origin)?;
    let verifier = signer.verifier().to_string();
    let dir_existed = dir.exists();
    let public = FileStore::public_key_path(dir);
    // What init may create in an existing directory, and did not exist.
    let new_files: Vec<_> = [
        FileStore::log_path(dir),
        FileStore::keys_path(dir),
        public.clone(),
        dir.join("lock"),
        dir.join("keys.tmp"),
    ]
    .into_iter()
    .filter(|p| fs::symlink_metadata(p).is_err())
    .collect();
    write_secret_key(key_out, &signer)?;
    if let Err(e) = create_log(dir, signer) {
        // Leave nothing behind: a key without its log, or half a log.
        let _ = fs::remove_file(key_out);
        if dir_existed {
            for made in new_files {
                let _ = fs::remove_file(made);
            }
        } else {
            let _ = fs::remove_dir_all(dir);
        }
        return Err(e);
    }
    println!("{verifier}");
    eprintln!(
        "created {}; public key also in {} (give auditors their own copy)",
        dir.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the secret signing key to a new file, mode 0600, durably; removes
/// the file again if writing fails.
fn write_secret_key(key_out: &Path, signer: &Signer) -> Result<(), Failure> {
    let io = |source| {
        Failure::Cli(CliError::Io {
            path: key_out.display().to_string(),
            source,
        })
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(key_out)
        .map_err(io)?;
    let text = zeroize::Zeroizing::new(format!("{}\n", signer.to_secret_text().as_str()));
    if let Err(e) = f.write_all(text.as_bytes()).and_then(|()| f.sync_all()) {
        drop(f);
        let _ = fs::remove_file(key_out);
        return Err(io(e));
    }
    Ok(())
}

/// Creates the log, its key store and its public key copy in `dir`, and
/// signs the empty log.
fn create_log(dir: &Path, signer: Signer) -> Result<(), Failure> {
    AuditLog::create(dir, signer)?.checkpoint()?;
    Ok(())
}
