//! Derived copies in a folder store: files made from the subject's
//! instances, as DICOM records it — a Source Image Sequence (0008,2112) or
//! Source Instance Sequence (0042,0013) naming one of the subject's SOP
//! Instance UIDs, directly or through another derived file. A copy that
//! records no source (an anonymisation that dropped it) cannot be linked to
//! anyone, by this store or any other.

use std::collections::{BTreeMap, BTreeSet};

use gdpr_core::store::{DerivedPolicy, ErasedItem, RecordId, Remnant, ResourceKind};

use super::dicomfile::DicomHeader;
use super::export::hashed_id;

/// The SOP Instance UIDs of the originals, each with the Study UID it
/// belongs to (a derived file is reported against its original's study).
pub(super) type Origins = BTreeMap<String, String>;

/// The origins of `originals`.
pub(super) fn origins<'h>(originals: impl IntoIterator<Item = &'h DicomHeader>) -> Origins {
    originals
        .into_iter()
        .map(|h| (h.sop_uid.clone(), h.study_uid.clone()))
        .collect()
}

/// The headers among `headers` derived from `origins`, directly or through
/// each other, with the Study UID of the original each comes from. Files
/// that are themselves origins are not listed.
pub(super) fn derived<'h>(
    headers: &[&'h DicomHeader],
    origins: &Origins,
) -> Vec<(&'h DicomHeader, String)> {
    let mut known = origins.clone();
    let mut found = Vec::new();
    let mut taken: BTreeSet<usize> = BTreeSet::new();
    loop {
        let before = found.len();
        for (n, h) in headers.iter().enumerate() {
            if taken.contains(&n) || known.contains_key(&h.sop_uid) {
                continue;
            }
            if let Some(origin) = h.sources.iter().find_map(|s| known.get(s)).cloned() {
                known.insert(h.sop_uid.clone(), origin.clone());
                taken.insert(n);
                found.push((*h, origin));
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// The record id of a derived study and the remnant it is when found.
pub(super) fn remnant(header: &DicomHeader, origin_study: &str) -> Remnant {
    Remnant {
        id: derived_id(&header.study_uid),
        kind: ResourceKind::DerivedStudy,
        derived_from: Some(hashed_id("study", origin_study)),
        reason: None,
    }
}

/// The record id a derived study gets (its own Study UID, hashed).
pub(super) fn derived_id(study_uid: &str) -> RecordId {
    hashed_id("study", study_uid)
}

/// What erasing originals with `origins` adds under `policy`: under
/// [`DerivedPolicy::Erase`] the entries derived from them (directly or
/// through each other) and one erased item per derived study; under
/// [`DerivedPolicy::Report`] nothing (verification then reports the copies
/// as remnants, so the erasure is not verified).
pub(super) fn plan<'e, E>(
    entries: &'e [E],
    header: impl Fn(&E) -> &DicomHeader,
    origins: &Origins,
    policy: DerivedPolicy,
) -> (Vec<&'e E>, Vec<ErasedItem>) {
    if policy != DerivedPolicy::Erase {
        return (Vec::new(), Vec::new());
    }
    let headers: Vec<&DicomHeader> = entries.iter().map(&header).collect();
    let found = derived(&headers, origins);
    let sops: BTreeSet<&str> = found.iter().map(|(h, _)| h.sop_uid.as_str()).collect();
    let files = entries
        .iter()
        .filter(|e| sops.contains(header(e).sop_uid.as_str()))
        .collect();
    let mut items = BTreeMap::new();
    for (h, _) in &found {
        let id = derived_id(&h.study_uid);
        items.entry(id.clone()).or_insert(ErasedItem {
            id,
            kind: ResourceKind::DerivedStudy,
            already_absent: false,
        });
    }
    (files, items.into_values().collect())
}
