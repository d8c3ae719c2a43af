//! The package flags of `gdpr request run|resume` (the controller's notice
//! and the disclosures for the patient's summary, encryption to the
//! recipient) and the certificate's page (`certificate --html`).

use std::path::{Path, PathBuf};

use gdpr_core::request::Disclosure;
use gdpr_request::package::{Encryption, PackageOptions, Progress, ProgressEvent};
use gdpr_request::render::summary::Notice;

use super::exec::bad;
use crate::error::CliError;

/// What an access or portability package holds besides the exports.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct PackageArgs {
    /// The controller's notice for the patient's summary (TOML: controller,
    /// activities, supervisory-authority, sources,
    /// automated-decision-making; docs/requests.md).
    #[arg(long)]
    notice: Option<PathBuf>,
    /// The disclosures of the patient's data (JSON list of {recipient, on,
    /// what}), shown in the summary (Art. 15(1)(c)).
    #[arg(long)]
    disclosures: Option<PathBuf>,
    /// Encrypt the package to this age X25519 public key (age1…): one
    /// package.tar.age, no plaintext left.
    #[arg(long = "encrypt-to", conflicts_with = "passphrase_file")]
    encrypt_to: Option<String>,
    /// Encrypt the package to the passphrase in this file (mode 0600): one
    /// package.tar.age, no plaintext left. age's scrypt, calibrated by age to
    /// about a second here, takes 2^(log_n+10) bytes of memory (128-512 MiB
    /// measured, log_n 17-19) at encryption and again at decryption;
    /// --encrypt-to needs none and is recommended.
    #[arg(long = "passphrase-file")]
    passphrase_file: Option<PathBuf>,
    /// Name staff by their actor id in the access report (default: by role
    /// and system only; CJEU C-579/21: ids only when the patient needs them
    /// to check that an access was lawful).
    #[arg(long = "staff-identities")]
    staff_identities: bool,
}

impl PackageArgs {
    /// The options these flags ask for.
    pub(super) fn options(&self) -> Result<PackageOptions, CliError> {
        let mut o = PackageOptions::default();
        o.progress = terminal_bar();
        if self.staff_identities {
            o.staff = gdpr_audit::report::StaffIdentities::Include;
        }
        if let Some(path) = &self.notice {
            let text = crate::input::read_text(path, 1 << 20)?;
            o.notice = toml::from_str::<Notice>(&text)
                .map_err(|e| bad(format!("{}: {}", path.display(), e.message())))?;
        }
        if let Some(path) = &self.disclosures {
            let bytes = crate::input::read_capped(path, 16 << 20)?;
            o.disclosures = serde_json::from_slice::<Vec<Disclosure>>(&bytes).map_err(|e| {
                bad(format!(
                    "{}: line {}, column {}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            })?;
        }
        if let Some(key) = &self.encrypt_to {
            o.encryption = Some(Encryption::to_recipient(key).map_err(|e| bad(e.to_string()))?);
        }
        if let Some(path) = &self.passphrase_file {
            let secret = crate::input::read_secret(path)?;
            if !secret.is_private() {
                return Err(bad(format!(
                    "{}: others may read the passphrase file; chmod 600 it",
                    path.display()
                )));
            }
            let text = secret.text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                return Err(bad(format!("{}: the passphrase is empty", path.display())));
            }
            o.encryption = Some(Encryption::to_passphrase(text.to_owned().into()));
        }
        Ok(o)
    }
}

/// A bar on standard error when it is a terminal (hashing and sealing,
/// in bytes); nothing otherwise, so logs and pipes stay quiet.
fn terminal_bar() -> Progress {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return Progress::default();
    }
    let bar = indicatif::ProgressBar::hidden();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:>8} {bar:40} {bytes}/{total_bytes}, {bytes_per_sec}, eta {eta}",
    ) {
        bar.set_style(style);
    }
    Progress::to(move |e| match e {
        ProgressEvent::Begin { phase, total } => {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.reset();
            bar.set_length(total);
            bar.set_message(phase);
        }
        ProgressEvent::Advance(n) => bar.inc(n),
        _ => bar.finish_and_clear(),
    })
}

/// Writes the certificate's page for the patient's letter.
pub(super) fn write_page(path: &Path, cert: &gdpr_request::Certificate) -> Result<(), CliError> {
    let html = gdpr_request::render::certificate::render_certificate(cert);
    std::fs::write(path, html).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}
