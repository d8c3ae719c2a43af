//! The summary a patient can read (`summary.html` in an access package):
//! what is held and where, and the information of GDPR Art. 15(1)(a)–(h),
//! each in a section with the letter's anchor (`#art-15-1-a` …).
//!
//! It is for the patient, so it may show their own data (study dates,
//! the systems' names); it is written only into the package, never to a
//! log or to the terminal.

use gdpr_core::request::{Disclosure, RequestId};
use gdpr_core::ropa::{Controller, Record};
use gdpr_core::store::ExportManifest;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::{cite, page};

/// What the controller tells every patient (its register of processing
/// activities and the facts Art. 15(1) adds), read from a file by hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Notice {
    /// Name and contact of the controller and its data-protection officer.
    #[serde(default)]
    pub controller: Controller,
    /// The processing activities (Art. 30(1)): purposes, categories,
    /// recipients, transfers, time limits for erasure.
    #[serde(default)]
    pub activities: Vec<Record>,
    /// The supervisory authority the patient may complain to (Art. 77).
    #[serde(default)]
    pub supervisory_authority: String,
    /// Where data not collected from the patient came from (Art. 15(1)(g)).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Automated decision-making, including profiling (Art. 22), when there
    /// is any; `None` states that there is none.
    #[serde(default)]
    pub automated_decision_making: Option<String>,
}

/// Everything one summary shows.
#[derive(Clone, Copy)]
pub struct SummaryFacts<'a> {
    /// The request answered.
    pub request: &'a RequestId,
    /// The day the package was made.
    pub made: jiff::civil::Date,
    /// Each system (its configured name) with what it exported.
    pub systems: &'a [(String, ExportManifest)],
    /// The disclosures of the patient's data (Art. 15(1)(c)).
    pub disclosures: &'a [Disclosure],
    /// The controller's notice.
    pub notice: &'a Notice,
}

/// The summary page (UTF-8 HTML, English).
pub fn render_summary(f: &SummaryFacts<'_>) -> String {
    let n = f.notice;
    let title = if n.controller.name.is_empty() {
        "Your data: a copy and what it means".to_owned()
    } else {
        format!("Your data at {}", n.controller.name)
    };
    let body = html! {
        h1 { (title) }
        p {
            "This package answers your request " strong { (f.request.as_str()) }
            " for access to your personal data" (cite("GDPR Art. 15(1), 15(3)"))
            ". It was made on " (f.made.to_string()) "."
        }
        (controller(&n.controller))
        (held(f.systems))
        (purposes(n))
        (categories(f.systems, n))
        (recipients(f.disclosures, n))
        (retention(n))
        (rights())
        (complaint(n))
        (source(n))
        (automated(n))
        (contents())
    };
    page("en", &title, body)
}

fn controller(c: &Controller) -> Markup {
    html! {
        h2 { "Who holds your data" }
        p { "Controller: " (or_unknown(&c.name)) ", " (or_unknown(&c.contact)) }
        @if let Some(dpo) = &c.data_protection_officer {
            p { "Data-protection officer: " (dpo) (cite("GDPR Art. 37, 38(4)")) }
        }
    }
}

fn or_unknown(s: &str) -> &str {
    if s.trim().is_empty() { "not stated" } else { s }
}

fn held(systems: &[(String, ExportManifest)]) -> Markup {
    html! {
        h2 id="held" { "What we hold about you, and where" (cite("GDPR Art. 15(1)")) }
        @for (name, m) in systems {
            h3 { "System " (name) }
            @if m.studies.is_empty() && m.records.is_empty() {
                p.none { "No data about you was found in this system." }
            }
            @if !m.studies.is_empty() {
                table {
                    tr { th { "Imaging study" } th { "Date" } th { "Modalities" } th { "Kind of record" } th { "Files" } }
                    @for (i, s) in m.studies.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { (s.study_date.map(|d| d.to_string()).unwrap_or_else(|| "unknown".into())) }
                            td { (s.modalities.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                            td { (s.category.to_string()) }
                            td { (s.files.len()) " in " (name) "/" (s.folder) }
                        }
                    }
                }
                p { "The images are in " (name) "/DICOM, indexed by " (name) "/DICOMDIR, which any DICOM viewer opens." }
            }
            @if !m.records.is_empty() {
                table {
                    tr { th { "Record" } th { "Kind of record" } }
                    @for r in &m.records {
                        tr {
                            td { (r.resource_type.as_ref().map(ToString::to_string).unwrap_or_else(|| "record".into())) }
                            td { (r.category.to_string()) }
                        }
                    }
                }
                p { "The records are in " (name) "/ as FHIR R4 (a Bundle and NDJSON)." }
            }
        }
    }
}

fn section(letter: char, heading: &str, article: &str, content: Markup) -> Markup {
    html! {
        h2 id={ "art-15-1-" (letter) } { "(" (letter) ") " (heading) (cite(article)) }
        (content)
    }
}

fn list_or(items: Vec<String>, none: &str) -> Markup {
    html! {
        @if items.is_empty() { p.none { (none) } }
        @else { ul { @for i in items { li { (i) } } } }
    }
}

fn purposes(n: &Notice) -> Markup {
    let mut all: Vec<String> = n
        .activities
        .iter()
        .flat_map(|a| a.purposes.iter().map(|p| format!("{p} ({})", a.name)))
        .collect();
    all.dedup();
    section(
        'a',
        "Why we process your data",
        "GDPR Art. 15(1)(a)",
        list_or(
            all,
            "The controller has stated no purpose here; ask its data-protection officer.",
        ),
    )
}

fn categories(systems: &[(String, ExportManifest)], n: &Notice) -> Markup {
    let mut all: Vec<String> = systems
        .iter()
        .flat_map(|(_, m)| {
            let studies = m.studies.iter().map(|s| s.category);
            studies.chain(m.records.iter().map(|r| r.category))
        })
        .chain(
            n.activities
                .iter()
                .flat_map(|a| a.data_categories.iter().copied()),
        )
        .map(|c| c.to_string())
        .collect();
    all.sort();
    all.dedup();
    section(
        'b',
        "Which kinds of data",
        "GDPR Art. 15(1)(b)",
        html! {
            p { "Data concerning health, a special category of personal data" (cite("GDPR Art. 9(1)")) ":" }
            (list_or(all, "No data about you was found."))
        },
    )
}

fn recipients(disclosures: &[Disclosure], n: &Notice) -> Markup {
    let kinds: Vec<String> = n
        .activities
        .iter()
        .flat_map(|a| a.recipients.iter().flatten().cloned())
        .collect();
    let transfers: Vec<String> = n
        .activities
        .iter()
        .flat_map(|a| a.transfers.iter().flatten())
        .map(|t| format!("{} in {} ({})", t.recipient, t.destination, t.safeguards))
        .collect();
    section(
        'c',
        "Who received your data",
        "GDPR Art. 15(1)(c)",
        html! {
            @if disclosures.is_empty() {
                p.none { "We have recorded no disclosure of your data to anyone outside the controller." }
            } @else {
                table {
                    tr { th { "Recipient" } th { "Date" } th { "What" } }
                    @for d in disclosures {
                        tr { td { (d.recipient.as_str()) } td { (d.on.to_string()) } td { (d.what) } }
                    }
                }
            }
            p { "Kinds of recipients the data may go to:" }
            (list_or(kinds, "None stated."))
            p { "Transfers to countries outside the EU/EEA" (cite("GDPR Art. 15(2), 46")) ":" }
            (list_or(transfers, "None."))
        },
    )
}

fn retention(n: &Notice) -> Markup {
    let limits: Vec<String> = n
        .activities
        .iter()
        .flat_map(|a| &a.erasure_time_limits)
        .map(|l| match &l.source {
            Some(src) => format!("{}: {} ({src})", l.category, l.limit),
            None => format!("{}: {}", l.category, l.limit),
        })
        .collect();
    section(
        'd',
        "How long we keep your data",
        "GDPR Art. 15(1)(d)",
        list_or(
            limits,
            "The controller has stated no period; records are kept as long as the law on medical records requires, and you may ask its data-protection officer for the period that applies to you.",
        ),
    )
}

fn rights() -> Markup {
    let rights = [
        ("to have wrong data corrected", "GDPR Art. 16"),
        (
            "to have data erased, unless the law requires that it is kept",
            "GDPR Art. 17",
        ),
        ("to have the processing restricted", "GDPR Art. 18"),
        (
            "to object to processing based on a public or legitimate interest",
            "GDPR Art. 21",
        ),
        (
            "to receive the data you gave us in a machine-readable format",
            "GDPR Art. 20",
        ),
    ];
    section(
        'e',
        "Your rights",
        "GDPR Art. 15(1)(e)",
        html! {
            p { "You have the right:" }
            ul { @for (what, src) in rights { li { (what) (cite(src)) } } }
        },
    )
}

fn complaint(n: &Notice) -> Markup {
    section(
        'f',
        "Complaints",
        "GDPR Art. 15(1)(f)",
        html! {
            p {
                "You may lodge a complaint with a supervisory authority" (cite("GDPR Art. 77"))
                @if !n.supervisory_authority.trim().is_empty() {
                    ", for example: " (n.supervisory_authority)
                }
                "."
            }
        },
    )
}

fn source(n: &Notice) -> Markup {
    section(
        'g',
        "Where the data came from",
        "GDPR Art. 15(1)(g)",
        list_or(
            n.sources.clone(),
            "From you, and from the people who cared for you here, who recorded it in the systems listed above.",
        ),
    )
}

fn automated(n: &Notice) -> Markup {
    section(
        'h',
        "Automated decisions",
        "GDPR Art. 15(1)(h)",
        html! {
            @match &n.automated_decision_making {
                Some(text) => p { (text) (cite("GDPR Art. 22")) },
                None => p { "No decision about you is made by automated means alone, and no profiling is done" (cite("GDPR Art. 22(1), (4)")) "." },
            }
        },
    )
}

fn contents() -> Markup {
    html! {
        h2 { "What is in this package" }
        ul {
            li { "One folder per system, as that system exported your data, with its own manifest.json." }
            li { "manifest.json: the SHA-256 of every file, signed by the controller, so you can check that nothing was changed." }
            li { "summary.html: this page." }
            li { "access-report.html: who used your data, when, why and on which legal basis, from our audit log; access-report.json: the same, machine-readable." }
        }
    }
}
