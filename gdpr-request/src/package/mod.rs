//! The export package of an access (Art. 15) or portability (Art. 20)
//! request: one folder per system (as each store exports it, file names
//! free of patient values) and a signed `manifest.json` with the SHA-256
//! of every file.
//!
//! Manifest format (version 1): `{"version":1,"request":"…","files":[{"path":
//! "pacs/…","sha256":"…","bytes":n},…],"signature":{"key":"…","value":"…"}}`,
//! files in byte order of their paths, the signature over the canonical
//! JSON of everything but `signature` with the context line
//! `gdpr-request manifest v1`.

use std::path::{Path, PathBuf};

use gdpr_audit::{Signer, Verifier};
use gdpr_core::request::RequestId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use gdpr_core::request::Disclosure;

use gdpr_audit::report::StaffIdentities;

use crate::render::access::{AccessFacts, render_access_report};
use crate::render::summary::{Notice, SummaryFacts, render_summary};
use crate::sign::{self, DocumentSignature};
use crate::{Error, Fault};

pub mod access;
mod dicomdir;
pub(crate) mod fileset;
mod progress;
pub(crate) mod seal;

pub use progress::{Progress, ProgressEvent};

pub use fileset::{DICOM_FOLDER, DICOMDIR};
pub use seal::{ARCHIVE_ROOT, Encryption, SEALED_PACKAGE};

/// Why a package could not be built. Names files by their path in the
/// package (counters, never a patient value).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// An exported DICOM file's header could not be read (it stays out of
    /// the DICOMDIR, and the system's export fails).
    #[error("the DICOM file {file} of the package cannot be read: {source}")]
    Dicom {
        /// Its path in the system's folder of the package.
        file: String,
        /// The hardened reader's cause.
        source: Box<gdpr_dicom::Error>,
    },
    /// The `--encrypt-to` key is not an age X25519 public key.
    #[error("the recipient's key is not an age X25519 public key (age1…)")]
    Recipient,
    /// A document of the package could not be encoded.
    #[error("cannot encode {what}")]
    Encode {
        /// Which document.
        what: &'static str,
    },
}

impl From<PackageError> for Error {
    fn from(e: PackageError) -> Self {
        Self::Package(Box::new(e))
    }
}

/// The patient's summary in the package.
pub const SUMMARY_FILE: &str = "summary.html";
/// The Art. 15 access report from the audit log, for the patient.
pub const ACCESS_REPORT_HTML: &str = "access-report.html";
/// The same report, machine-readable ([`AccessReport`]).
pub const ACCESS_REPORT_JSON: &str = "access-report.json";
/// The access report format's version.
pub const ACCESS_REPORT_VERSION: u32 = 1;

/// `access-report.json`: the subject's operations from the audit log and
/// the disclosures (the host's and the log's, merged), version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AccessReport<'a> {
    /// [`ACCESS_REPORT_VERSION`].
    pub version: u32,
    /// The request.
    pub request: &'a RequestId,
    /// The operations (roles only unless staff ids were included).
    pub report: &'a gdpr_audit::report::SubjectReport,
    /// Every disclosure, oldest first.
    pub disclosures: &'a [Disclosure],
}

/// What a package holds besides the systems' exports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PackageOptions {
    /// The controller's notice for the summary (Art. 15(1)(a)–(h)).
    pub notice: Notice,
    /// The disclosures of the subject's data (Art. 15(1)(c)), as the host
    /// read them from its records.
    pub disclosures: Vec<Disclosure>,
    /// Encrypt the package to its recipient (one `package.tar.age`,
    /// the plaintext removed), or leave it a folder.
    pub encryption: Option<Encryption>,
    /// Where the progress of hashing and sealing goes (a terminal bar).
    pub progress: Progress,
    /// Whether the access report names staff by id; by default by role
    /// and system only (CJEU C-579/21, [`access`]).
    pub staff: StaffIdentities,
}

impl Default for PackageOptions {
    fn default() -> Self {
        Self {
            notice: Notice::default(),
            disclosures: Vec::new(),
            encryption: None,
            progress: Progress::default(),
            staff: StaffIdentities::Withhold,
        }
    }
}

/// Writes `summary.html`, `access-report.html` and `access-report.json`
/// into the package at `root` from the exports of `systems` found there
/// and the subject's `log`; returns the summary's size.
///
/// # Errors
/// [`Error::Io`]; [`Error::Format`] when an export's manifest is damaged.
pub(crate) fn write_summary(
    root: &Path,
    request: &RequestId,
    systems: &[String],
    options: &PackageOptions,
    log: &access::SubjectLog,
) -> Result<usize, Error> {
    let disclosures = access::merge_disclosures(&options.disclosures, &log.disclosures);
    let mut exports = Vec::new();
    for name in systems {
        let path = root.join(name).join("manifest.json");
        if let Ok(bytes) = std::fs::read(&path) {
            let m = serde_json::from_slice(&bytes).map_err(Error::format("an export manifest"))?;
            exports.push((name.clone(), m));
        }
    }
    let facts = SummaryFacts {
        request,
        made: jiff::tz::Offset::UTC
            .to_datetime(jiff::Timestamp::now())
            .date(),
        systems: &exports,
        disclosures: &disclosures,
        notice: &options.notice,
    };
    let html = render_summary(&facts);
    write_access_report(root, request, &log.report, &disclosures)?;
    crate::fsio::replace(
        &root.join(SUMMARY_FILE),
        html.as_bytes(),
        "write the summary",
    )?;
    Ok(html.len())
}

fn write_access_report(
    root: &Path,
    request: &RequestId,
    report: &gdpr_audit::report::SubjectReport,
    disclosures: &[Disclosure],
) -> Result<(), Error> {
    let page = render_access_report(&AccessFacts {
        request,
        report,
        disclosures,
    });
    crate::fsio::replace(
        &root.join(ACCESS_REPORT_HTML),
        page.as_bytes(),
        "write the access report",
    )?;
    let doc = AccessReport {
        version: ACCESS_REPORT_VERSION,
        request,
        report,
        disclosures,
    };
    let mut json = serde_json::to_vec_pretty(&doc).map_err(Error::format("access report"))?;
    json.push(b'\n');
    crate::fsio::replace(
        &root.join(ACCESS_REPORT_JSON),
        &json,
        "write the access report",
    )
}

/// Encrypts the verified package at `root` into `sealed` (see
/// [`seal`](self::seal)) on a blocking thread; returns the archive's size.
///
/// # Errors
/// [`Error::Io`], [`Error::Format`], [`Error::Package`].
pub(crate) async fn seal_blocking(
    root: PathBuf,
    sealed: PathBuf,
    to: Encryption,
    progress: Progress,
) -> Result<u64, Error> {
    tokio::task::spawn_blocking(move || {
        let files: Vec<PackageFile> = if sealed.exists() {
            Vec::new()
        } else {
            let text = std::fs::read(root.join(PACKAGE_MANIFEST))
                .map_err(Error::io("read the manifest"))?;
            let m: PackageManifest =
                serde_json::from_slice(&text).map_err(Error::format("manifest.json"))?;
            m.files
        };
        seal::seal(&root, &files, &sealed, &to, &progress)
    })
    .await
    .map_err(|_| PackageError::Encode {
        what: "the encrypted package (its worker stopped)",
    })?
}

/// The package's manifest file.
pub const PACKAGE_MANIFEST: &str = "manifest.json";
/// The manifest format's version.
pub const MANIFEST_VERSION: u32 = 1;
const CONTEXT: &str = "gdpr-request manifest v1";

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PackageFile {
    /// Its path under the package, `/`-separated.
    pub path: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// The signed manifest of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PackageManifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The request.
    pub request: RequestId,
    /// Every file but the manifest.
    pub files: Vec<PackageFile>,
    /// Over everything else.
    pub signature: DocumentSignature,
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(Error::io("list the package"))? {
        let path = entry.map_err(Error::io("list the package"))?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if path != root.join(PACKAGE_MANIFEST) {
            out.push(path);
        }
    }
    Ok(())
}

/// SHA-256 and size of a file, read in 64 KiB pieces (memory stays flat
/// whatever the file's size).
pub(crate) fn hash_file(path: &Path, progress: &Progress) -> Result<(String, u64), Error> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(Error::io("read a package file"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(Error::io("read a package file"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
        progress.advance(n as u64);
    }
    Ok((gdpr_audit::hex::encode(&hasher.finalize()), total))
}

fn files(root: &Path, progress: &Progress) -> Result<Vec<PackageFile>, Error> {
    let mut paths = Vec::new();
    walk(root, root, &mut paths)?;
    let total = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    progress.begin("hashing", total);
    let mut out = Vec::new();
    for p in paths {
        let (sha256, bytes) = hash_file(&p, progress)?;
        let rel = p.strip_prefix(root).unwrap_or(&p);
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        out.push(PackageFile {
            path: rel.join("/"),
            sha256,
            bytes,
        });
    }
    progress.end();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn body(request: &RequestId, files: &[PackageFile]) -> serde_json::Value {
    serde_json::json!({"version": MANIFEST_VERSION, "request": request, "files": files})
}

/// Hashes every file under `root` and writes the signed manifest.
///
/// # Errors
/// [`Error::Io`].
pub fn write_manifest(
    root: &Path,
    request: &RequestId,
    signer: &Signer,
) -> Result<PackageManifest, Error> {
    write_manifest_with(root, request, signer, &Progress::default())
}

/// [`write_manifest`], reporting the bytes hashed to `progress`.
///
/// # Errors
/// [`Error::Io`].
pub fn write_manifest_with(
    root: &Path,
    request: &RequestId,
    signer: &Signer,
    progress: &Progress,
) -> Result<PackageManifest, Error> {
    let files = files(root, progress)?;
    let signature = sign::sign(CONTEXT, &body(request, &files), signer);
    let manifest = PackageManifest {
        version: MANIFEST_VERSION,
        request: request.clone(),
        files,
        signature,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(Error::format("manifest"))?;
    bytes.push(b'\n');
    crate::fsio::replace(
        &root.join(PACKAGE_MANIFEST),
        &bytes,
        "write the package manifest",
    )?;
    Ok(manifest)
}

/// Verifies a package offline: the manifest's signature under `verifier`,
/// and that the files are exactly those listed, with their digests.
///
/// # Errors
/// [`Error::Unverified`] with the [`Fault`]; [`Error::Io`], [`Error::Format`].
pub fn verify_package(root: &Path, verifier: &Verifier) -> Result<PackageManifest, Error> {
    let text =
        std::fs::read(root.join(PACKAGE_MANIFEST)).map_err(Error::io("read the manifest"))?;
    let m: PackageManifest =
        serde_json::from_slice(&text).map_err(Error::format("manifest.json"))?;
    if m.version != MANIFEST_VERSION {
        return Err(Fault::UnsupportedVersion { found: m.version }.into());
    }
    sign::verify(CONTEXT, &body(&m.request, &m.files), &m.signature, verifier)?;
    if files(root, &Progress::default())? != m.files {
        return Err(Fault::Inconsistent {
            what: "the package's files differ from its manifest",
        }
        .into());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn hashing_streams_and_reports_every_byte_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        // Larger than one 64 KiB piece, and an empty file.
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("a/big"), &big).unwrap();
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let progress = Progress::to(move |e| sink.lock().unwrap().push(e));
        let files = files(dir.path(), &progress).unwrap();
        assert_eq!(files[0].path, "a/big");
        assert_eq!(files[0].bytes, 200_000);
        assert_eq!(
            files[0].sha256,
            gdpr_audit::hex::encode(&Sha256::digest(&big))
        );
        let events = events.lock().unwrap();
        assert_eq!(
            events.first(),
            Some(&ProgressEvent::Begin {
                phase: "hashing",
                total: 200_000
            })
        );
        let advanced: u64 = events
            .iter()
            .filter_map(|e| match e {
                ProgressEvent::Advance(n) => Some(*n),
                _ => None,
            })
            .sum();
        assert_eq!(advanced, 200_000);
        assert_eq!(events.last(), Some(&ProgressEvent::End));
    }
}
