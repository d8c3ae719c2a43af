//! The common shape of an input line of `gdpr audit append`, read with its
//! strings borrowed from the line and pushed into an [`EventBatch`] without
//! an owned copy of any field (the bulk path; issue 10, item 20).
//!
//! Every object of the shape is a struct that refuses unknown fields, so
//! serde refuses any repeated key at every depth itself: a line read this
//! way needs no scan for duplicates. Whatever this shape does not read —
//! another shape, a bad value, a duplicate, malformed JSON — is read
//! again by [`super::event_line::EventParser::parse`], which accepts or
//! words the error exactly as it did before this path existed.

use std::borrow::Cow;

use gdpr_audit::action::{Action, EventType, Outcome};
use gdpr_audit::batch::{EventBatch, EventFields, SecrecyRef};
use gdpr_audit::object::ObjectKind;
use gdpr_core::Citation;
use gdpr_core::actor::Role;
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis, NationalProvision};
use gdpr_core::purpose::Purpose;
use jiff::Timestamp;
use serde::Deserialize;

mod scan;
mod stamp;

/// A JSON string, borrowed from the line unless it holds escapes.
#[derive(Deserialize)]
#[serde(transparent)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

/// The common shape of an event line (the fields of
/// [`gdpr_audit::AuditEvent`], `recorded` optional).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LineRef<'a> {
    event_type: EventType,
    action: Action,
    outcome: Outcome,
    #[serde(default)]
    recorded: Option<Timestamp>,
    #[serde(borrow)]
    actor: ActorLine<'a>,
    purpose: Purpose,
    #[serde(borrow)]
    lawful_basis: BasisLine<'a>,
    #[serde(borrow, default)]
    subject: Option<SubjectLine<'a>>,
    #[serde(borrow, default)]
    object: Option<ObjectLine<'a>>,
    #[serde(borrow)]
    source: Str<'a>,
    #[serde(borrow, default)]
    tenant: Option<Str<'a>>,
    #[serde(borrow, default)]
    correlation_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
}

/// An actor, all fields required.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActorLine<'a> {
    #[serde(borrow)]
    id: Str<'a>,
    role: Role,
    #[serde(borrow)]
    secrecy: SecrecyLine<'a>,
}

/// A secrecy duty with `kind` as a plain field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecrecyLine<'a> {
    kind: SecrecyKind,
    #[serde(borrow, default)]
    source: Option<Str<'a>>,
}

/// The `kind` names of [`gdpr_core::actor::Secrecy`].
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SecrecyKind {
    None,
    Professional,
    UnderResponsibility,
    OtherLegalDuty,
}

/// A lawful basis with `kind` as a plain field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasisLine<'a> {
    kind: BasisKind,
    art6: Art6Basis,
    #[serde(default)]
    art9: Option<Art9Condition>,
    #[serde(borrow, default)]
    national: Vec<NationalLine<'a>>,
}

/// The `kind` names of [`LawfulBasis`].
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum BasisKind {
    Ordinary,
    SpecialCategory,
}

/// A [`NationalProvision`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalLine<'a> {
    #[serde(borrow)]
    jurisdiction: Str<'a>,
    #[serde(borrow)]
    citation: Str<'a>,
    #[serde(borrow)]
    summary: Str<'a>,
    #[serde(default)]
    purposes: Vec<Purpose>,
}

/// A data subject reference.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectLine<'a> {
    #[serde(borrow)]
    id: Str<'a>,
    #[serde(borrow, default)]
    issuer: Option<Str<'a>>,
}

/// An object reference.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectLine<'a> {
    kind: ObjectKind,
    #[serde(borrow)]
    id: Str<'a>,
}

/// The borrowed text of an optional string.
fn opt<'b>(s: &'b Option<Str<'_>>) -> Option<&'b str> {
    s.as_ref().map(|s| &*s.0)
}

impl LineRef<'_> {
    /// The line in its common shape, if it is one (`None`: read it with
    /// the full types instead). Most lines are read by [`scan`]; the ones
    /// it leaves (escapes, say) by serde_json, which reads them the same.
    pub(super) fn read(text: &str) -> Option<LineRef<'_>> {
        scan::read(text).or_else(|| serde_json::from_str(text).ok())
    }

    /// Pushes the event into `batch`; `now` gives `recorded` when the line
    /// has none. `false` (the batch unchanged) when the strict forms do
    /// not hold the values the full types would read, or a value breaks
    /// its type's rule: the line is then read with the full types.
    pub(super) fn push_to(&self, batch: &mut EventBatch, now: impl Fn() -> Timestamp) -> bool {
        let (Some(basis), Some(secrecy)) = (self.lawful_basis.basis(), self.actor.secrecy.get())
        else {
            return false;
        };
        let fields = EventFields {
            event_type: self.event_type,
            action: self.action,
            outcome: self.outcome,
            recorded: self.recorded.unwrap_or_else(now),
            actor_id: &self.actor.id.0,
            role: self.actor.role,
            secrecy,
            purpose: self.purpose,
            lawful_basis: &basis,
            subject: self.subject.as_ref().map(|s| (&*s.id.0, opt(&s.issuer))),
            object: self.object.as_ref().map(|o| (o.kind, &*o.id.0)),
            source: &self.source.0,
            tenant: opt(&self.tenant),
            correlation_id: opt(&self.correlation_id),
            text: opt(&self.text),
        };
        batch.push_fields(&fields).is_ok()
    }
}

impl SecrecyLine<'_> {
    /// The duty the full type reads, if this shape is one.
    fn get(&self) -> Option<SecrecyRef<'_>> {
        Some(match (&self.kind, opt(&self.source)) {
            (SecrecyKind::None, None) => SecrecyRef::None,
            (SecrecyKind::Professional, Some(s)) => SecrecyRef::Professional(s),
            (SecrecyKind::UnderResponsibility, Some(s)) => SecrecyRef::UnderResponsibility(s),
            (SecrecyKind::OtherLegalDuty, Some(s)) => SecrecyRef::OtherLegalDuty(s),
            _ => return None,
        })
    }
}

impl BasisLine<'_> {
    /// The basis the full type reads, if this shape is one (national
    /// provisions, rare, are copied).
    fn basis(&self) -> Option<LawfulBasis> {
        match (&self.kind, self.art9) {
            (BasisKind::Ordinary, None) if self.national.is_empty() => {
                Some(LawfulBasis::Ordinary { art6: self.art6 })
            }
            (BasisKind::SpecialCategory, Some(art9)) => Some(LawfulBasis::SpecialCategory(
                self.national.iter().map(NationalLine::provision).fold(
                    HealthBasis::new(self.art6, art9),
                    HealthBasis::with_national,
                ),
            )),
            _ => None,
        }
    }
}

impl NationalLine<'_> {
    fn provision(&self) -> NationalProvision {
        NationalProvision {
            jurisdiction: self.jurisdiction.0.clone().into_owned(),
            citation: Citation::new(self.citation.0.clone().into_owned()),
            summary: self.summary.0.clone().into_owned(),
            purposes: self.purposes.clone(),
        }
    }
}
