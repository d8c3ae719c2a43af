//! The access report a patient can read (`access-report.html` in an
//! access package): every operation on their data the audit log recorded
//! — when, what, for which purpose, on which lawful basis, by which role
//! in which system — and the disclosures to recipients (GDPR Art. 15(1)(a),
//! (c)). Staff are shown by role unless the controller included their ids
//! (CJEU C-579/21; see [`crate::package::access`]).

use gdpr_audit::report::{AccessEntry, SubjectReport};
use gdpr_core::basis::LawfulBasis;
use gdpr_core::request::{Disclosure, RequestId};
use maud::{Markup, html};

use super::{cite, page};

/// Everything the access report shows.
#[derive(Clone, Copy)]
pub struct AccessFacts<'a> {
    /// The request answered.
    pub request: &'a RequestId,
    /// The subject's report from the audit log.
    pub report: &'a SubjectReport,
    /// The disclosures (host's and log's, merged).
    pub disclosures: &'a [Disclosure],
}

fn kebab<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('-', " ")))
        .unwrap_or_else(|| "unknown".into())
}

fn basis(b: &LawfulBasis) -> String {
    match b.art9() {
        Some(art9) => format!("{}, {}", b.art6().citation(), art9.citation()),
        None => b.art6().citation().to_string(),
    }
}

fn row(e: &AccessEntry, ids: bool) -> Markup {
    html! {
        tr {
            td { (e.recorded.strftime("%Y-%m-%d %H:%M UTC").to_string()) }
            td { (e.action.name()) @if let Some(k) = e.object_kind { " (" (k.name()) ")" } }
            td { (e.purpose.name().replace('-', " ")) }
            td { (basis(&e.lawful_basis)) }
            td { (kebab(&e.actor_role)) }
            @if ids { td { (e.actor_id.as_ref().map(|a| a.expose().to_owned()).unwrap_or_default()) } }
            td { (e.source) }
            td { (e.outcome.name()) }
        }
    }
}

/// The access report page (UTF-8 HTML, English).
pub fn render_access_report(f: &AccessFacts<'_>) -> String {
    let ids = f.report.staff_identities;
    let title = "Who accessed your data";
    let body = html! {
        h1 { (title) }
        p {
            "For your request " strong { (f.request.as_str()) } ", this page lists every use of your data that our audit log recorded: when, what was done, why, on which legal basis, and by whom"
            (cite(f.report.citation.as_str())) "."
        }
        @if ids {
            p { "People are named by their user id, because the controller decided that you need their identity to check that the access was lawful." }
        } @else {
            p { "People are named by their role and the system they used, not by name: the identity of staff is given only when you need it to check that an access was lawful; ask the data-protection officer if you do" (cite("CJEU C-579/21")) "." }
        }
        h2 id="operations" { "Uses of your data" (cite("GDPR Art. 15(1)(a)")) }
        @if f.report.entries.is_empty() {
            p.none { "The audit log holds no record about you." }
        } @else {
            table {
                tr {
                    th { "When" } th { "What" } th { "Why" } th { "Legal basis" } th { "By (role)" }
                    @if ids { th { "User id" } }
                    th { "System" } th { "Outcome" }
                }
                @for e in &f.report.entries { (row(e, ids)) }
            }
        }
        h2 id="disclosures" { "Who received your data" (cite("GDPR Art. 15(1)(c), 19")) }
        @if f.disclosures.is_empty() {
            p.none { "We have recorded no disclosure of your data to anyone outside the controller." }
        } @else {
            table {
                tr { th { "Recipient" } th { "Date" } th { "What" } }
                @for d in f.disclosures {
                    tr { td { (d.recipient.as_str()) } td { (d.on.to_string()) } td { (d.what) } }
                }
            }
        }
        p { "The same list, machine-readable, is in access-report.json." }
    };
    page("en", title, body)
}
