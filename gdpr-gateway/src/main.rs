//! `gdpr-gateway`: the DICOMweb gateway as a service.
//!
//! ```text
//! gdpr-gateway --config gateway.toml --listen 127.0.0.1:8080 \
//!   --audit-log /var/lib/gdpr-health/audit --audit-key /etc/gdpr-health/audit.key \
//!   --subjects subjects.json \
//!   --register /var/lib/gdpr-health/register
//! ```
//!
//! Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when the
//! audit log could not be opened or flushed, 2 for bad input (the input
//! named).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use gdpr_gateway::subjects::FileSubjectStates;
use gdpr_gateway::{Gateway, GatewayConfig, Parts, serve};
use gdpr_request::register::FileRegister;

/// A purpose-checked, audited DICOMweb gateway.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The gateway's configuration (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The audit log directory (made by `gdpr audit init`).
    #[arg(long)]
    audit_log: PathBuf,
    /// The audit log's signing key file (mode 0600).
    #[arg(long)]
    audit_key: PathBuf,
    /// The subject-state file (JSON); without it no subject has a recorded state.
    #[arg(long)]
    subjects: Option<PathBuf>,
    /// The restriction register's directory.
    #[arg(long)]
    register: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gdpr-gateway: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(args))
}

fn input(what: &str, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("gdpr-gateway: {what}: {e}");
    ExitCode::from(2)
}

async fn run(args: Args) -> ExitCode {
    let text = match std::fs::read_to_string(&args.config) {
        Ok(t) => t,
        Err(e) => return input("--config", e),
    };
    let config = match GatewayConfig::from_toml(&text) {
        Ok(c) => c,
        Err(e) => return input("--config", e),
    };
    let subjects = match &args.subjects {
        Some(path) => match FileSubjectStates::open(path) {
            Ok(s) => s,
            Err(e) => return input("--subjects", e),
        },
        None => FileSubjectStates::empty(),
    };
    let register = match FileRegister::open(&args.register) {
        Ok(r) => r,
        Err(e) => return input("--register", e),
    };
    let audit = match open_audit(&args.audit_log, &args.audit_key) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gdpr-gateway: {e}");
            return ExitCode::from(1);
        }
    };
    // The audit log's key store names each subject: the register's
    // subject-wide entries are found through it.
    let parts = Parts::new(audit.clone(), Arc::new(subjects), Arc::new(register))
        .with_subject_records(audit);
    let tls = match &config.tls {
        Some(t) => match gdpr_gateway::tls::server_config(t) {
            Ok(c) => Some(c),
            Err(e) => return input("--config", e),
        },
        None => None,
    };
    let gateway = match Gateway::new(config, parts) {
        Ok(g) => g,
        Err(e) => return input("--config", e),
    };
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => return input("--listen", e),
    };
    eprintln!("gdpr-gateway: listening");
    let served = match tls {
        Some(tls) => serve::tls(listener, gateway.router(), tls, shutdown()).await,
        None => serve::plain(listener, gateway.router(), shutdown()).await,
    };
    let flushed = gateway.flush().await;
    match (served, flushed) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        _ => {
            eprintln!("gdpr-gateway: the server or the final audit flush failed");
            ExitCode::from(1)
        }
    }
}

fn open_audit(
    dir: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<gdpr_audit::AuditLog>, String> {
    let text = gdpr_connect::read_regular_file(
        key,
        64 * 1024,
        "the audit key file",
        "give the key `gdpr audit init` wrote",
    )
    .map_err(|e| format!("--audit-key: {e}"))?;
    let text = String::from_utf8(text).map_err(|_| "--audit-key: not a key file".to_owned())?;
    let signer = gdpr_audit::Signer::parse(text.trim()).map_err(|e| format!("--audit-key: {e}"))?;
    let log = gdpr_audit::AuditLog::open(dir, signer).map_err(|e| format!("--audit-log: {e}"))?;
    Ok(Arc::new(log))
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}
