//! Offline verification of a certificate: the signature, the checkpoint,
//! the inclusion proofs, and the consistency of the parts. Needs the audit
//! log's public key only — no network, no log.

use gdpr_audit::Verifier;
use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::merkle::node_hash;
use gdpr_core::request::{ApprovalPolicy, Event, History, RecordOutcome, Stage};

use super::{
    CERTIFICATE_VERSION, CONTEXT, Certificate, CertifiedRefusal, CertifiedStatus, body, item_rows,
};
use crate::executor::SHREDDED;
use crate::{Error, Fault, sign};

type Hash = [u8; 32];

/// Parses `text` and verifies it under `verifier` (the audit log's
/// `public.key`).
///
/// # Errors
/// [`Error::Format`] for a document that is not a certificate;
/// [`Error::Unverified`] with the [`Fault`] otherwise.
pub fn verify_certificate(text: &[u8], verifier: &Verifier) -> Result<Certificate, Error> {
    let raw: serde_json::Value =
        serde_json::from_slice(text).map_err(Error::format("certificate"))?;
    // Another version is a fault; no version at all is not a certificate
    // (the format error below).
    if let Some(v) = raw.get("version").and_then(serde_json::Value::as_u64)
        && v != u64::from(CERTIFICATE_VERSION)
    {
        let found = u32::try_from(v).unwrap_or(u32::MAX);
        return Err(Fault::UnsupportedVersion { found }.into());
    }
    let cert: Certificate = serde_json::from_value(raw).map_err(Error::format("certificate"))?;
    sign::verify(CONTEXT, &body(&cert)?, &cert.signature, verifier)?;
    let cp = Checkpoint::open(&cert.audit.checkpoint, verifier).map_err(|_| Fault::Checkpoint)?;
    for r in &cert.audit.records {
        let leaf = decode(&r.leaf_hash).ok_or(Fault::Proof {
            position: r.position,
        })?;
        let proof: Option<Vec<Hash>> = r.proof.iter().map(|h| decode(h)).collect();
        let proof = proof.ok_or(Fault::Proof {
            position: r.position,
        })?;
        if root_from_inclusion(r.position, cp.size(), leaf, &proof).as_ref() != Some(cp.root()) {
            return Err(Fault::Proof {
                position: r.position,
            }
            .into());
        }
    }
    consistent(&cert)?;
    Ok(cert)
}

fn decode(text: &str) -> Option<Hash> {
    gdpr_audit::hex::decode::<32>(text)
}

/// RFC 9162 §2.1.3.2: the root an inclusion proof leads to.
fn root_from_inclusion(index: u64, size: u64, leaf: Hash, proof: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in proof {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

fn inconsistent(what: &'static str) -> Error {
    Fault::Inconsistent { what }.into()
}

/// The parts agree: the history is a legal sequence of steps, the stage is
/// where it ends, the items are the reports', "completed" only with every
/// system verified, nothing kept is "erased", a refused request lists no
/// system, every audit record names a step of the history.
fn consistent(cert: &Certificate) -> Result<(), Error> {
    let req = &cert.request;
    // The history is a legal sequence of steps (the approver is not
    // checked here: the policy is not part of the certificate).
    History::replay(req.history.clone(), ApprovalPolicy::AnyActor)
        .map_err(|_| inconsistent("the history is not a legal sequence of steps"))?;
    if req.stage == Stage::Refused && !cert.systems.is_empty() {
        return Err(inconsistent("a refused request lists work on a system"));
    }
    let refused = req.history.iter().find_map(|t| match &t.event {
        Event::Refused { refusal } => Some(CertifiedRefusal::of(refusal)),
        _ => None,
    });
    if cert.refusal != refused {
        return Err(inconsistent("the refusal differs from the history's"));
    }
    let last = req
        .history
        .iter()
        .rev()
        .find(|t| t.event.name() != "extended")
        .ok_or_else(|| inconsistent("the history is empty"))?;
    if last.event.name() != req.stage.name() {
        return Err(inconsistent("the stage is not where the history ends"));
    }
    for s in &cert.systems {
        let verified = s.report.as_ref().is_some_and(|r| r.is_verified());
        if s.verified != verified || s.report.as_ref().map(item_rows).unwrap_or_default() != s.items
        {
            return Err(inconsistent(
                "a system's items or verified flag differ from its report",
            ));
        }
        let erased = |id: &str| {
            s.items
                .iter()
                .any(|i| i.item == id && i.status == CertifiedStatus::Erased)
        };
        if s.kept.iter().any(|k| erased(k.record.as_str())) {
            return Err(inconsistent("a record is both kept and erased"));
        }
        if let Some(a) = &cert.assessment {
            let wrongly = a
                .records
                .iter()
                .filter(|r| r.system == s.system)
                .any(|r| r.outcome != RecordOutcome::Erase && erased(r.record.as_str()));
            if wrongly {
                return Err(inconsistent(
                    "a record assessed to be kept is listed as erased",
                ));
            }
        }
    }
    // A finding belongs to an assessment, and one for a record names a
    // record it assessed.
    for f in &cert.findings {
        let Some(a) = &cert.assessment else {
            return Err(inconsistent("findings without an assessment"));
        };
        if let gdpr_core::request::Scope::Record { system, record } = &f.scope
            && !a
                .records
                .iter()
                .any(|r| &r.system == system && &r.record == record)
        {
            return Err(inconsistent(
                "a finding names a record the assessment lacks",
            ));
        }
    }
    let all_done = cert
        .systems
        .iter()
        .all(|s| s.failure.is_none() && (s.report.is_none() || s.verified));
    if req.stage == Stage::Completed && !all_done {
        return Err(inconsistent("completed, but a system is not verified"));
    }
    let named = |e: &str| e == SHREDDED || req.history.iter().any(|t| t.event.name() == e);
    if !cert.audit.records.iter().all(|r| named(&r.event)) {
        return Err(inconsistent("an audit record names no step of the history"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdpr_audit::merkle::{Tree, leaf_hash};

    #[test]
    fn inclusion_proofs_of_a_real_tree_lead_to_its_root_and_others_do_not() {
        let mut tree = Tree::new();
        for i in 0..13u8 {
            tree.push(leaf_hash(&[i]));
        }
        for i in 0..13u64 {
            let proof = tree.inclusion_proof(i, 13).unwrap();
            let leaf = leaf_hash(&[i as u8]);
            assert_eq!(root_from_inclusion(i, 13, leaf, &proof), Some(tree.root()));
            assert_ne!(
                root_from_inclusion(i, 13, leaf_hash(b"x"), &proof),
                Some(tree.root())
            );
        }
        assert_eq!(root_from_inclusion(13, 13, leaf_hash(&[0]), &[]), None);
    }
}
