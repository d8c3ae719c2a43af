//! Which DICOMweb resource a request names, checked before anything is
//! forwarded: no `..`, no encoded slash, backslash or dot, no empty
//! segment, a UID only where a UID belongs (digits and dots, DICOM PS3.5
//! 9.1), and UID query parameters holding UIDs only. A request that fails
//! is answered 400 and never reaches the upstream.

use gdpr_core::store::StudyUid;

/// What a request does, in IHE BALP's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccessKind {
    /// QIDO-RS search.
    Query,
    /// WADO-RS retrieve (instances, metadata, frames, bulk data, rendered).
    Read,
    /// STOW-RS store.
    Create,
}

/// A checked request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// What it does.
    pub kind: AccessKind,
    /// The study it is scoped to (`None`: a search over all studies, or a
    /// store without a study in the path).
    pub study: Option<StudyUid>,
    /// Whether the answer is JSON the gateway reads (searches, metadata,
    /// store answers) rather than a stream it passes on.
    pub json: bool,
    /// The checked path segments below the DICOMweb root.
    pub segments: Vec<String>,
    /// A template of the path without values, for log lines.
    pub template: String,
}

/// Why a request target was refused (the code goes into the 400 answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathRefusal {
    /// `..`, `.`, an empty segment, or an encoded `/`, `\` or `.`.
    Traversal,
    /// A UID segment or UID parameter with other characters than digits and dots.
    BadUid,
    /// A frame list that is not comma-separated numbers.
    BadFrames,
    /// A path the gateway does not serve.
    Unknown,
    /// A method the path does not take.
    Method,
    /// A search over all series or instances (not scoped to a study).
    StudyScopeRequired,
}

impl PathRefusal {
    /// The stable code in the answer.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Traversal => "path-traversal",
            Self::BadUid => "invalid-uid",
            Self::BadFrames => "invalid-frame-list",
            Self::Unknown => "unknown-path",
            Self::Method => "method-not-allowed",
            Self::StudyScopeRequired => "study-scope-required",
        }
    }
}

/// Whether `value` has the form of a UID.
pub fn is_uid(value: &str) -> bool {
    StudyUid::new(value).is_ok()
}

/// Parses the raw (still percent-encoded) path below the root and the
/// method into a [`Route`].
///
/// # Errors
/// A [`PathRefusal`].
pub fn parse(method: &str, raw_path: &str) -> Result<Route, PathRefusal> {
    let lower = raw_path.to_ascii_lowercase();
    if lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%2e")
        || raw_path.contains('\\')
    {
        return Err(PathRefusal::Traversal);
    }
    if raw_path.contains('%') {
        // Nothing in a DICOMweb path needs encoding.
        return Err(PathRefusal::Traversal);
    }
    let trimmed = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let segments: Vec<&str> = trimmed.split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(PathRefusal::Traversal);
    }
    let (kind, study, json, template) = classify(method, &segments)?;
    Ok(Route {
        kind,
        study,
        json,
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
        template,
    })
}

type Classified = (AccessKind, Option<StudyUid>, bool, String);

fn uid(segment: &str) -> Result<(), PathRefusal> {
    if is_uid(segment) {
        Ok(())
    } else {
        Err(PathRefusal::BadUid)
    }
}

fn classify(method: &str, s: &[&str]) -> Result<Classified, PathRefusal> {
    let get = method == "GET";
    match s {
        ["studies"] => match method {
            "GET" => Ok((AccessKind::Query, None, true, "/studies".into())),
            "POST" => Ok((AccessKind::Create, None, true, "/studies".into())),
            _ => Err(PathRefusal::Method),
        },
        ["series" | "instances"] => Err(PathRefusal::StudyScopeRequired),
        ["studies", study, rest @ ..] => {
            let study_uid = StudyUid::new(*study).map_err(|_| PathRefusal::BadUid)?;
            if rest.is_empty() && method == "POST" {
                return Ok((
                    AccessKind::Create,
                    Some(study_uid),
                    true,
                    "/studies/{study}".into(),
                ));
            }
            if !get {
                return Err(PathRefusal::Method);
            }
            let (kind, json, tail) = below_study(rest)?;
            Ok((
                kind,
                Some(study_uid),
                json,
                format!("/studies/{{study}}{tail}"),
            ))
        }
        _ => Err(PathRefusal::Unknown),
    }
}

/// The part of a path below `/studies/{study}`.
fn below_study(rest: &[&str]) -> Result<(AccessKind, bool, String), PathRefusal> {
    use AccessKind::{Query, Read};
    let r = |kind, json, t: &str| Ok((kind, json, t.to_owned()));
    match rest {
        [] => r(Read, false, ""),
        ["metadata"] => r(Read, true, "/metadata"),
        ["rendered" | "thumbnail"] => r(Read, false, "/rendered"),
        ["series"] => r(Query, true, "/series"),
        ["instances"] => r(Query, true, "/instances"),
        ["series", series, tail @ ..] => {
            uid(series)?;
            let (kind, json, t) = below_series(tail)?;
            Ok((kind, json, format!("/series/{{series}}{t}")))
        }
        _ => Err(PathRefusal::Unknown),
    }
}

fn below_series(rest: &[&str]) -> Result<(AccessKind, bool, String), PathRefusal> {
    use AccessKind::{Query, Read};
    let r = |kind, json, t: &str| Ok((kind, json, t.to_owned()));
    match rest {
        [] => r(Read, false, ""),
        ["metadata"] => r(Read, true, "/metadata"),
        ["rendered" | "thumbnail"] => r(Read, false, "/rendered"),
        ["instances"] => r(Query, true, "/instances"),
        ["instances", instance, tail @ ..] => {
            uid(instance)?;
            let (kind, json, t) = below_instance(tail)?;
            Ok((kind, json, format!("/instances/{{instance}}{t}")))
        }
        _ => Err(PathRefusal::Unknown),
    }
}

fn below_instance(rest: &[&str]) -> Result<(AccessKind, bool, String), PathRefusal> {
    use AccessKind::Read;
    match rest {
        [] => Ok((Read, false, String::new())),
        ["metadata"] => Ok((Read, true, "/metadata".into())),
        ["rendered" | "thumbnail"] => Ok((Read, false, "/rendered".into())),
        ["frames", list] | ["frames", list, "rendered"] => {
            let ok = list
                .split(',')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return Err(PathRefusal::BadFrames);
            }
            Ok((Read, false, "/frames/{frames}".into()))
        }
        ["bulk", tags @ ..] if !tags.is_empty() => {
            let ok = tags.iter().all(|t| {
                t.bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b',')
            });
            if !ok {
                return Err(PathRefusal::Unknown);
            }
            Ok((Read, false, "/bulk/{tag}".into()))
        }
        _ => Err(PathRefusal::Unknown),
    }
}

/// Query parameters whose values must be UIDs (a list, comma- or
/// backslash-separated).
pub(crate) const UID_PARAMS: [&str; 6] = [
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "0020000D",
    "0020000E",
    "00080018",
];

/// Checks the decoded query parameters: UID parameters hold UIDs only.
///
/// # Errors
/// [`PathRefusal::BadUid`].
pub fn check_query(pairs: &[(String, String)]) -> Result<(), PathRefusal> {
    for (key, value) in pairs {
        if UID_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(key)) {
            let ok = value.split([',', '\\']).all(is_uid);
            if !ok {
                return Err(PathRefusal::BadUid);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = parse("GET", "/studies").unwrap();
        assert_eq!((r.kind, r.study, r.json), (AccessKind::Query, None, true));
        let r = parse(
            "GET",
            "/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5/frames/1,2",
        )
        .unwrap();
        assert_eq!(r.kind, AccessKind::Read);
        assert_eq!(r.study.unwrap().expose(), "1.2.3");
        assert!(!r.json);
        assert_eq!(
            r.template,
            "/studies/{study}/series/{series}/instances/{instance}/frames/{frames}"
        );
        let r = parse("GET", "/studies/1.2.3/series/4.5/metadata").unwrap();
        assert!(r.json);
        let r = parse("POST", "/studies/1.2.3").unwrap();
        assert_eq!(r.kind, AccessKind::Create);
    }

    #[test]
    fn path_tricks_are_refused() {
        for (path, code) in [
            ("/studies/../studies", PathRefusal::Traversal),
            ("/studies/1.2.3/%2e%2e/x", PathRefusal::Traversal),
            ("/studies/1.2.3%2Fseries", PathRefusal::Traversal),
            ("/studies//1.2.3", PathRefusal::Traversal),
            ("/studies/1.2.3\\x", PathRefusal::Traversal),
            ("/studies/1.2.x", PathRefusal::BadUid),
            ("/studies/1..2", PathRefusal::BadUid),
            ("/studies/1.2/series/abc", PathRefusal::BadUid),
            (
                "/studies/1.2/series/1.3/instances/1.4/frames/1;2",
                PathRefusal::BadFrames,
            ),
            ("/series", PathRefusal::StudyScopeRequired),
            ("/tools/find", PathRefusal::Unknown),
        ] {
            assert_eq!(parse("GET", path).unwrap_err(), code, "{path}");
        }
        assert_eq!(
            parse("DELETE", "/studies/1.2").unwrap_err(),
            PathRefusal::Method
        );
    }

    #[test]
    fn uid_query_params_are_checked() {
        let ok = vec![("StudyInstanceUID".to_owned(), "1.2.3,1.2.4".to_owned())];
        assert!(check_query(&ok).is_ok());
        for bad in ["1.2.3*", "1.2.3&PatientID=x", "", "1.2.3\\abc"] {
            let q = vec![("0020000d".to_owned(), bad.to_owned())];
            assert_eq!(check_query(&q).unwrap_err(), PathRefusal::BadUid, "{bad}");
        }
    }
}
