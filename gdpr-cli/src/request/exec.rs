//! The commands of `gdpr request`, over `gdpr_request`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use gdpr_audit::{Signer, Verifier};
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::request::{
    ApprovalPolicy, DataSubjectRequest, Event, FindingsFile, PatientIndex, RequestId, RequestKind,
    SystemName,
};
use gdpr_core::retention::RulePack;
use gdpr_core::store::SubjectStore;
use gdpr_request::package::PackageOptions;
use gdpr_request::{
    Executor, FileJournal, FileRegister, Holds, Journal, RequestDir, RequestLog, Resources,
    RestrictionRegister, RunOutcome, Setup,
};
use gdpr_systems::SystemsConfig;
use serde_json::json;

use super::inputs::{parse_holds, read_findings, read_index, rule_pack, today_in};
use super::{Action, Args, Context, stage_code};
use crate::error::CliError;

pub(super) fn bad(msg: impl Into<String>) -> CliError {
    CliError::BadInput(msg.into())
}

pub(super) fn request_id(id: &str) -> Result<RequestId, CliError> {
    RequestId::new(id).map_err(|e| bad(format!("request id: {e}")))
}

fn actor(id: &str) -> Result<Actor, CliError> {
    Ok(Actor {
        id: ActorId::new(id).map_err(|e| bad(format!("--actor: {e}")))?,
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    })
}

pub(super) fn print(json_out: bool, value: &serde_json::Value, text: &str) -> Result<(), CliError> {
    if json_out {
        let s = serde_json::to_string_pretty(value).map_err(|e| bad(e.to_string()))?;
        println!("{s}");
    } else {
        println!("{text}");
    }
    Ok(())
}

pub(super) fn summary(r: &DataSubjectRequest) -> serde_json::Value {
    json!({
        "id": r.id(),
        "kind": r.kind(),
        "stage": r.stage(),
        "systems": r.subjects().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        "history": r.history().transitions(),
    })
}

/// Runs one `gdpr request` command.
pub async fn dispatch(args: Args) -> Result<ExitCode, CliError> {
    let (root, json_out) = (args.requests.as_path(), args.json);
    match args.action {
        Action::New {
            id,
            kind,
            index,
            actor: by,
            objection_purposes,
        } => {
            let kind = with_purposes(kind.request_kind(), &objection_purposes)?;
            new_request(root, (&id, kind), &index, &by, json_out)
        }
        Action::Complete { id, context, .. } => {
            let (mut ex, _, _) = open(root, &id, &context).await?;
            let outcome = ex.complete_task().await?;
            report(&outcome, ex.request(), json_out)?;
            Ok(stage_code(outcome.stage))
        }
        Action::Show { id, calendar } | Action::Status { id, calendar } => {
            super::view::show(root, &id, &calendar, json_out)
        }
        Action::List => super::view::list(root, json_out),
        Action::Assess {
            id,
            context,
            jurisdiction,
            pack,
            holds,
            index,
            time_zone,
            findings,
        } => {
            let pack = rule_pack(&jurisdiction, pack.as_deref())?;
            let holds = parse_holds(&holds)?;
            let today = today_in(&time_zone)?;
            let index = index.as_deref().map(read_index).transpose()?;
            let findings = findings.as_deref().map(read_findings).transpose()?;
            let inputs = Assessing {
                pack: &pack,
                holds: &holds,
                index: index.as_ref(),
                findings: findings.as_ref(),
                today,
            };
            assess(root, &id, &context, inputs, json_out).await
        }
        Action::Approve { id, context } => {
            let (mut ex, _, _) = open(root, &id, &context).await?;
            ex.step(Event::Approved).await?;
            print(
                json_out,
                &summary(ex.request()),
                &format!("request {id}: approved"),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Action::Refuse {
            id,
            context,
            grounds,
            provisions,
        } => super::refuse::refuse(root, &id, &context, (&grounds, &provisions), json_out).await,
        Action::Extend {
            id,
            context,
            months,
            reasons,
            calendar,
        } => {
            let given = (months, reasons.as_slice(), &calendar);
            super::extend::extend(root, &id, &context, given, json_out).await
        }
        Action::Grounds {
            id,
            context,
            grounds,
        } => super::grounds::grounds(root, &id, &context, &grounds, json_out).await,
        Action::Run {
            id,
            context,
            package,
        }
        | Action::Resume {
            id,
            context,
            package,
        } => {
            let options = package.options()?;
            let (mut ex, _, _) = open_with(root, &id, &context, options).await?;
            let outcome = ex.run().await?;
            report(&outcome, ex.request(), json_out)?;
            Ok(stage_code(outcome.stage))
        }
        Action::Certificate {
            id,
            context,
            out,
            html,
        } => {
            let (ex, log, signer) = open(root, &id, &context).await?;
            let cert = gdpr_request::certificate::issue_from(
                ex.dir(),
                &*log,
                &signer,
                jiff::Timestamp::now(),
            )?;
            let mut bytes = serde_json::to_vec_pretty(&cert).map_err(|e| bad(e.to_string()))?;
            bytes.push(b'\n');
            std::fs::write(&out, bytes).map_err(|source| CliError::Io {
                path: out.display().to_string(),
                source,
            })?;
            if let Some(page) = &html {
                super::package::write_page(page, &cert)?;
            }
            print(
                json_out,
                &json!({"certificate": out, "html": html}),
                &format!("certificate written to {}", out.display()),
            )?;
            Ok(stage_code(cert.request.stage))
        }
        Action::VerifyCertificate { file, public_key } => verify(&file, &public_key, json_out),
        Action::ShredExpired { shred } => super::shred::shred(root, &shred, json_out),
    }
}

/// `kind` with the objection's purposes (`--objection-purpose`, only for
/// an objection).
fn with_purposes(kind: RequestKind, purposes: &[String]) -> Result<RequestKind, CliError> {
    if purposes.is_empty() {
        return Ok(kind);
    }
    if !matches!(kind, RequestKind::Objection { .. }) {
        return Err(bad("--objection-purpose: only with --kind objection"));
    }
    let mut out = Vec::new();
    for p in purposes {
        let purpose: gdpr_core::purpose::Purpose = serde_json::from_value(json!(p))
            .map_err(|_| bad("--objection-purpose: not a purpose name (kebab-case, e.g. `research`, `treatment`)"))?;
        if !out.contains(&purpose) {
            out.push(purpose);
        }
    }
    Ok(RequestKind::Objection { purposes: out })
}

/// `gdpr request new`: receives a request for the subjects of `index`.
fn new_request(
    root: &Path,
    (id, kind): (&str, RequestKind),
    index: &Path,
    by: &str,
    json_out: bool,
) -> Result<ExitCode, CliError> {
    let subjects = read_index(index)?.subjects;
    let id = request_id(id)?;
    let by = actor(by)?;
    let req = DataSubjectRequest::receive(
        id,
        kind,
        subjects,
        ApprovalPolicy::SecondActor,
        jiff::Timestamp::now(),
        by.id,
    );
    RequestDir::create(root, &req)?;
    print(
        json_out,
        &summary(&req),
        &format!("request {}: received", req.id()),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// What `assess` decides by: the rule pack, the holds, the patient index
/// given again (for the birth date), the controller's findings and today.
struct Assessing<'a> {
    pack: &'a RulePack,
    holds: &'a Holds,
    index: Option<&'a PatientIndex>,
    findings: Option<&'a FindingsFile>,
    today: jiff::civil::Date,
}

async fn assess(
    root: &Path,
    id: &str,
    context: &Context,
    inputs: Assessing<'_>,
    json_out: bool,
) -> Result<ExitCode, CliError> {
    let (mut ex, _, _) = open(root, id, context).await?;
    let birth_date = match inputs.index {
        // The index must be the request's: a birth date from another
        // patient's file would decide this patient's retention.
        Some(index) if &index.subjects != ex.request().subjects() => {
            return Err(bad(format!(
                "--index: names other subjects than request {id}; give the request's own \
                 patient index"
            )));
        }
        Some(index) => index.birth_date,
        None => None,
    };
    if birth_date.is_some_and(|b| b > inputs.today) {
        return Err(bad("--index: `birth-date` is after today; check the index"));
    }
    let erasure = matches!(ex.request().kind(), RequestKind::Erasure { .. });
    if let Some(findings) = inputs.findings {
        if !erasure {
            return Err(bad("--findings: only for an erasure request"));
        }
        // Before any step: a finding for a system or record that does not
        // exist changes nothing (the lookup is journaled and reused).
        ex.check_findings(findings, inputs.pack).await?;
    }
    if ex.request().stage() == gdpr_core::request::Stage::Received {
        ex.step(Event::IdentityVerified).await?;
    }
    if !erasure {
        ex.step(Event::Assessed).await?;
        print(
            json_out,
            &summary(ex.request()),
            &format!("request {id}: assessed"),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let none = FindingsFile::default();
    let findings = inputs.findings.unwrap_or(&none);
    let a = ex
        .assess_with_findings(
            inputs.pack,
            findings,
            inputs.holds,
            birth_date,
            inputs.today,
        )
        .await?;
    let mut text: Vec<String> = a
        .records
        .iter()
        .map(|r| format!("{}\t{}\t{}", r.system, r.record, r.outcome.name()))
        .collect();
    let certified = ex.dir().load_findings()?;
    text.extend(super::view::finding_lines(&certified));
    let mut value = serde_json::to_value(&a).map_err(|e| bad(e.to_string()))?;
    if !certified.is_empty() {
        value["findings"] = serde_json::to_value(&certified).map_err(|e| bad(e.to_string()))?;
    }
    print(json_out, &value, &text.join("\n"))?;
    Ok(ExitCode::SUCCESS)
}

fn report(o: &RunOutcome, req: &DataSubjectRequest, json_out: bool) -> Result<(), CliError> {
    let mut lines = vec![format!("request {}: {}", o.request, o.stage.name())];
    lines.extend(super::refuse::refusal_lines(req));
    for s in &o.systems {
        let (erased, left) = s.report.as_ref().map_or((0, 0), |r| {
            (r.erased().len(), r.left().len() + r.refused().len())
        });
        let mut line = format!(
            "  {}: {} erased and verified gone, {} left, {} kept (restricted in the register)",
            s.system,
            erased,
            left,
            s.kept.len()
        );
        if let Some(n) = s.exported_files {
            line = format!("  {}: {n} files exported", s.system);
        }
        if let Some(f) = &s.failure {
            line.push_str(&format!("; failed: {f}"));
        }
        lines.push(line);
    }
    // Recipients are bodies the controller disclosed to, never the patient.
    for n in &o.notifications {
        let categories: Vec<&str> = n.categories().iter().map(|c| c.name()).collect();
        let of = if categories.is_empty() {
            String::new()
        } else {
            format!(" of {}", categories.join(", "))
        };
        lines.push(format!(
            "  to notify ({}): {}, {} disclosure(s){of}, first on {}, last on {}",
            n.citation,
            n.recipient,
            n.details.len().max(n.disclosures.len()),
            n.disclosures
                .first()
                .map_or_else(String::new, |d| d.0.to_string()),
            n.disclosures
                .last()
                .map_or_else(String::new, |d| d.0.to_string())
        ));
    }
    let mut value = serde_json::to_value(o).map_err(|e| bad(e.to_string()))?;
    if req.history().refusal().is_some() {
        value["refusal"] = super::refuse::refusal_json(req);
    }
    print(json_out, &value, &lines.join("\n"))
}

fn verify(file: &Path, public_key: &Path, json_out: bool) -> Result<ExitCode, CliError> {
    let key = crate::input::read_text(public_key, 4096)?;
    let verifier =
        Verifier::parse(&key).map_err(|e| bad(format!("{}: {e}", public_key.display())))?;
    let text = crate::input::read_capped(file, 64 << 20)?;
    match gdpr_request::verify_certificate(&text, &verifier) {
        Ok(cert) => {
            let value =
                json!({"verified": true, "request": cert.request.id, "stage": cert.request.stage});
            print(
                json_out,
                &value,
                &format!(
                    "{}: verified (request {}, {})",
                    file.display(),
                    cert.request.id,
                    cert.request.stage.name()
                ),
            )?;
            // Verified; the code still says how the request ended.
            Ok(stage_code(cert.request.stage))
        }
        Err(gdpr_request::Error::Unverified(fault)) => {
            let value = json!({"verified": false, "fault": fault.to_string()});
            print(
                json_out,
                &value,
                &format!("{}: does not verify: {fault}", file.display()),
            )?;
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(bad(format!("{}: {e}", file.display()))),
    }
}

/// Opens the request with its systems, the audit log and the register.
pub(super) async fn open(
    root: &Path,
    id: &str,
    context: &Context,
) -> Result<(Executor, Arc<dyn RequestLog>, Arc<Signer>), CliError> {
    open_with(root, id, context, PackageOptions::default()).await
}

/// [`open`], with what an access package holds besides the exports.
async fn open_with(
    root: &Path,
    id: &str,
    context: &Context,
    package: PackageOptions,
) -> Result<(Executor, Arc<dyn RequestLog>, Arc<Signer>), CliError> {
    let dir = RequestDir::open(root, &request_id(id)?)?;
    let req = dir.load_request()?;
    let config = SystemsConfig::load(&context.config)?;
    let mut stores: BTreeMap<SystemName, Box<dyn SubjectStore>> = BTreeMap::new();
    for (name, _) in req.subjects().iter() {
        stores.insert(name.clone(), config.open(name.as_str())?);
    }
    let log: Arc<dyn RequestLog> = match (&context.postgres, &context.audit_log) {
        (Some(conn), _) => Arc::new(crate::audit::open_recording_pg_log(
            conn,
            context.kek.as_deref(),
            &context.audit_key,
        )?),
        (None, Some(dir)) => Arc::new(crate::audit::open_recording_log(dir, &context.audit_key)?),
        (None, None) => {
            return Err(bad(
                "give --audit-log DIR (or --postgres FILE --kek KEKFILE)",
            ));
        }
    };
    let secret = crate::input::read_secret(&context.audit_key)?;
    let signer = Arc::new(
        Signer::parse(&secret.text)
            .map_err(|e| bad(format!("{}: {e}", context.audit_key.display())))?,
    );
    let (journal, register): (Arc<dyn Journal>, Arc<dyn RestrictionRegister>) = match &context
        .postgres
    {
        None => (
            Arc::new(FileJournal::open(dir.path())?),
            Arc::new(FileRegister::open(&context.register)?),
        ),
        Some(file) => crate::pg::journal_and_register(file, req.id(), context.lease_wait).await?,
    };
    let resources = Resources::new(journal, stores, log.clone(), signer.clone(), register);
    let mut setup = Setup::for_request(actor(&context.actor)?, &req)?;
    setup.package = package;
    let ex = Executor::open(dir, resources, setup, None).await?;
    Ok((ex, log, signer))
}
