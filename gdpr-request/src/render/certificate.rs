//! The certificate for the patient's letter: what was asked, how the
//! request ended, per system what was erased (only what verification
//! confirmed gone, as the certificate says), what was kept and why with
//! its citations, and how to check the signed JSON it renders.
//!
//! The page shows the certificate's own content and nothing else: record
//! ids and reasons (no patient value is in a certificate), and neither the
//! staff's actor ids nor the proofs' hashes, which a reader of a letter
//! does not need (the JSON keeps them).

use gdpr_core::request::{Event, RefusalGround, RequestKind};
use maud::{Markup, html};

use super::{cite, page};
use crate::certificate::{Certificate, CertifiedStatus, CertifiedSystem};

fn tag_of(value: impl serde::Serialize, field: &str) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.get(field).and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_default()
        .replace('-', " ")
}

fn asked(kind: &RequestKind) -> String {
    match kind {
        RequestKind::Access => "access to your data".into(),
        RequestKind::Portability => "a copy of your data to take elsewhere".into(),
        RequestKind::Erasure { .. } => "erasure of your data".into(),
        other => tag_of(other, "kind"),
    }
}

/// The certificate as a page (UTF-8 HTML, English). Render only a
/// certificate that was issued or verified ([`crate::verify_certificate`]):
/// the page itself carries no proof.
pub fn render_certificate(cert: &Certificate) -> String {
    let r = &cert.request;
    let title = format!("Certificate of your request {}", r.id.as_str());
    let body = html! {
        h1 { (title) }
        p {
            "You asked for " (asked(&r.kind)) (cite(r.kind.citation().as_str())) ". "
            "The request is " strong { (r.stage.to_string()) } "."
        }
        p { "Issued " (cert.issued.to_string()) "." }
        h2 { "What happened, step by step" }
        table {
            tr { th { "When (UTC)" } th { "Step" } }
            @for t in &r.history {
                tr { td { (t.at.to_string()) } td { (tag_of(&t.event, "event")) } }
            }
        }
        (refusal(cert))
        (findings(cert))
        @for s in &cert.systems { (system(s)) }
        (notifications(cert))
        (evidence(cert))
    };
    page("en", &title, body)
}

/// The reasons of a refusal with their provisions, and the remedies
/// (GDPR Art. 12(4)).
fn refusal(cert: &Certificate) -> Markup {
    let found = cert.request.history.iter().find_map(|t| match &t.event {
        Event::Refused { refusal } => Some(refusal),
        _ => None,
    });
    html! {
        @if let Some(r) = found {
            h2 { "Why we do not act on your request" (cite(r.remedies().told_under.as_str())) }
            ul { @for g in r.grounds() { li { (ground(g)) (cite(g.citation().as_str())) } } }
            p {
                "You may lodge a complaint with a supervisory authority" (cite(r.remedies().complaint.as_str()))
                " and seek a judicial remedy" (cite(r.remedies().judicial.as_str())) "."
            }
        }
    }
}

fn ground(g: &RefusalGround) -> &'static str {
    match g {
        RefusalGround::IdentityNotEstablished => {
            "we could not establish that you are the person the data are about"
        }
        RefusalGround::ManifestlyUnfoundedOrExcessive => {
            "the request is manifestly unfounded or excessive"
        }
        RefusalGround::RightsOfOthers => {
            "a copy would adversely affect the rights and freedoms of others"
        }
        RefusalGround::PortabilityConditionsNotMet => {
            "the data are not processed on your consent or a contract by automated means"
        }
        RefusalGround::ErasureExemption => "an exemption from erasure keeps the data",
        RefusalGround::CompellingLegitimateGrounds => {
            "compelling legitimate grounds for the processing override your interests, or it serves legal claims"
        }
        _ => "another provision of law (cited)",
    }
}

fn status(s: CertifiedStatus) -> &'static str {
    match s {
        CertifiedStatus::Erased => "erased (verified gone)",
        CertifiedStatus::Left => "still there",
        CertifiedStatus::Unreadable => "a file that could not be read: your data may remain",
        _ => "not checked: your data may remain",
    }
}

fn system(s: &CertifiedSystem) -> Markup {
    html! {
        h2 { "System " (s.system.as_str()) }
        @if let Some(n) = s.exported_files {
            p { (n) " files were exported into your package." }
        }
        @if !s.items.is_empty() {
            p {
                @if s.verified { "Verification confirmed every item below gone." }
                @else { strong { "Verification did not confirm every item gone." } }
            }
            table {
                tr { th { "Item" } th { "Result" } th { "Why" } }
                @for i in &s.items {
                    tr { td { (i.item) } td { (status(i.status)) } td { (i.reason.as_deref().unwrap_or("")) } }
                }
            }
        }
        @if !s.kept.is_empty() {
            h3 { "Kept, and used only for these purposes" (cite("GDPR Art. 17(3), 18")) }
            table {
                tr { th { "Record" } th { "Why it is kept" } th { "Only for" } }
                @for k in &s.kept {
                    tr {
                        td { (k.record.to_string()) }
                        td {
                            ul { @for reason in k.reasons.iter().filter(|r| r.applied) {
                                li { (reason.message) (cite(reason.citation.as_str())) }
                            } }
                        }
                        td { (k.purposes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
        @if let Some(f) = &s.failure {
            p { strong { "This system could not finish: " } (f) }
        }
    }
}

fn notifications(cert: &Certificate) -> Markup {
    html! {
        @if !cert.notifications.is_empty() {
            h2 { "Recipients we tell of this" (cite("GDPR Art. 19")) }
            p { "Your data was disclosed to these recipients; we tell each of them of this request, unless this proves impossible or involves disproportionate effort." }
            table {
                tr { th { "Recipient" } th { "Disclosed on" } th { "Category of data" } th { "What" } th { "From system" } }
                @for n in &cert.notifications {
                    @if n.details.is_empty() {
                        @for (on, what) in &n.disclosures {
                            tr { td { (n.recipient.as_str()) } td { (on.to_string()) } td { "not stated" } td { (what) } td { "not stated" } }
                        }
                    }
                    @for d in &n.details {
                        tr {
                            td { (n.recipient.as_str()) }
                            td { (d.at.map_or_else(|| d.on.to_string(), |t| t.to_string())) }
                            td { (d.category.map_or("not stated", |c| c.name())) }
                            td { (d.what) }
                            td { (d.source.as_deref().unwrap_or("not stated")) }
                        }
                    }
                }
            }
        }
    }
}

/// The controller's findings that keep or restrict records (their reasons
/// stay sealed with the request; the page names the provision).
fn findings(cert: &Certificate) -> Markup {
    let scope = |s: &gdpr_core::request::Scope| match s {
        gdpr_core::request::Scope::System { system } => format!("every record on {system}"),
        gdpr_core::request::Scope::Record { system, record } => {
            format!("record {record} on {system}")
        }
        _ => "every record".to_owned(),
    };
    html! {
        @if !cert.findings.is_empty() {
            h2 { "What we established before deciding" }
            p { "These findings of ours keep or restrict records instead of erasing them." }
            table {
                tr { th { "Finding" } th { "Covers" } th { "Ground" } th { "Provision" } th { "Source" } th { "By" } }
                @for f in &cert.findings {
                    tr {
                        td { (f.id.as_str()) }
                        td { (scope(&f.scope)) }
                        td { (f.ground) }
                        td { (f.citation.as_str()) }
                        td { (f.source.as_ref().map_or("", |c| c.as_str())) }
                        td { (f.by.expose()) }
                    }
                }
            }
        }
    }
}

fn evidence(cert: &Certificate) -> Markup {
    let checkpoint = cert.audit.checkpoint.lines().take(3).collect::<Vec<_>>();
    html! {
        h2 { "How to check this certificate" }
        p {
            "This page renders a signed certificate (JSON, format version " (cert.version)
            "). Its signature (Ed25519, key " code { (cert.signature.key) } ") and the "
            (cert.audit.records.len()) " audit records it proves against the audit log's checkpoint can be checked offline with "
            code { "gdpr request verify-certificate FILE --public-key PUB" } "."
        }
        p { "Audit log checkpoint:" }
        pre { @for l in checkpoint { (l) "\n" } }
    }
}
