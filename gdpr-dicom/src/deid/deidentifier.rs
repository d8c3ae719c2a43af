//! The de-identifier: one file (or stream) in, one de-identified file out.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use dicom_core::Tag;
use dicom_object::InMemDicomObject;

use super::burned_in::burned_in_reason;
use super::engine::FileContext;
use super::key::{ProjectKey, Pseudonymiser};
use super::method::record_method;
use super::options::{DeidOption, DeidOptions};
use super::stream::{
    Header, copy_pixel_data, read_header, read_trailer, write_head, write_trailer,
};
use super::structured::{TextPatterns, Uncleaned, structured_content_reason, uncleaned};
use crate::error::Error;

/// Implementation Class UID written into the file meta of every output.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.173133884307045929111064805455215858790";
/// Implementation Version Name written into the file meta.
pub const IMPLEMENTATION_VERSION_NAME: &str = "GDPR_HEALTH_01";

/// What to do with files whose pixels may show burned-in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BurnedInPolicy {
    /// Refuse the file with a reason (the default).
    #[default]
    Refuse,
    /// De-identify the header and write the file under `quarantine/` in the
    /// output folder, for a human to check the pixels.
    Quarantine,
}

/// The new identifiers of one written output. `Debug` shows no UID.
#[derive(Clone, PartialEq, Eq)]
pub struct Outcome {
    study_uid: String,
    series_uid: String,
    sop_uid: String,
    quarantine: Option<&'static str>,
    uncleaned: Vec<Uncleaned>,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("quarantine", &self.quarantine)
            .field("uncleaned", &self.uncleaned)
            .finish_non_exhaustive()
    }
}

impl Outcome {
    /// The new Study Instance UID.
    pub fn study_uid(&self) -> &str {
        &self.study_uid
    }
    /// The new Series Instance UID.
    pub fn series_uid(&self) -> &str {
        &self.series_uid
    }
    /// The new SOP Instance UID.
    pub fn sop_uid(&self) -> &str {
        &self.sop_uid
    }
    /// Why the file was quarantined, if it was.
    pub fn quarantine_reason(&self) -> Option<&'static str> {
        self.quarantine
    }
    /// What Clean Structured Content left in the content tree because it
    /// cannot judge it (empty without the option): a human should check.
    pub fn uncleaned(&self) -> &[Uncleaned] {
        &self.uncleaned
    }
    /// The output path relative to the output folder, named only from new
    /// identifiers: `<study>/<series>/<sop>.dcm` (under `quarantine/` when
    /// quarantined).
    pub fn relative_path(&self) -> PathBuf {
        let mut p = PathBuf::new();
        if self.quarantine.is_some() {
            p.push("quarantine");
        }
        p.push(&self.study_uid);
        p.push(&self.series_uid);
        p.push(format!("{}.dcm", self.sop_uid));
        p
    }
}

/// De-identifies DICOM files under PS3.15 Table E.1-1 (edition 2024b) with
/// keyed pseudonyms. Cheap to share between threads (`Sync`).
#[derive(Debug, Clone)]
pub struct Deidentifier {
    p: Pseudonymiser,
    options: DeidOptions,
    burned_in: BurnedInPolicy,
    patterns: TextPatterns,
    #[cfg(feature = "danger-reidentify")]
    map: Option<std::sync::Arc<super::danger::ReidentificationMap>>,
}

/// A header de-identified and ready to be written.
struct Prepared<'a> {
    head: Header,
    outcome: Outcome,
    ctx: FileContext<'a>,
}

/// A complete output under its temporary name, not yet under its final one.
pub(crate) struct Staged {
    pub(crate) outcome: Outcome,
    /// The temporary file (in the final folder).
    pub(crate) tmp: PathBuf,
    /// The final name.
    pub(crate) target: PathBuf,
}

impl Staged {
    /// Renames the output to its final name (replacing a file of an earlier
    /// run); on error the temporary file is removed.
    pub(crate) fn commit(self) -> Result<Outcome, Error> {
        match std::fs::rename(&self.tmp, &self.target) {
            Ok(()) => Ok(self.outcome),
            Err(e) => {
                self.discard();
                Err(Error::Io {
                    op: "renaming the output",
                    source: e,
                })
            }
        }
    }

    /// Removes the temporary file (best effort: its name is never a valid
    /// output).
    pub(crate) fn discard(&self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn process_id() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

impl Deidentifier {
    /// A de-identifier under `key` with `options`, refusing burned-in suspects.
    pub fn new(key: &ProjectKey, options: DeidOptions) -> Self {
        Self {
            p: Pseudonymiser::new(key),
            options,
            burned_in: BurnedInPolicy::Refuse,
            patterns: TextPatterns::default(),
            #[cfg(feature = "danger-reidentify")]
            map: None,
        }
    }

    /// Records, for every file, the new Study/Series/SOP Instance UIDs and
    /// the patient pseudonym with their original values in `map`, so that a
    /// custodian can re-identify. The map holds identifying data.
    #[cfg(feature = "danger-reidentify")]
    pub fn danger_with_reidentification_map(
        mut self,
        map: std::sync::Arc<super::danger::ReidentificationMap>,
    ) -> Self {
        self.map = Some(map);
        self
    }

    /// Sets the burned-in text policy.
    pub fn with_burned_in_policy(mut self, policy: BurnedInPolicy) -> Self {
        self.burned_in = policy;
        self
    }

    /// Sets the patterns masked in free text under Clean Structured Content
    /// (the built-in date forms and the custodian's own).
    pub fn with_text_patterns(mut self, patterns: TextPatterns) -> Self {
        self.patterns = patterns;
        self
    }

    /// The selected options.
    pub fn options(&self) -> &DeidOptions {
        &self.options
    }

    /// What the outputs are in GDPR terms: **pseudonymised** (Art. 4(5)),
    /// not anonymised — whoever holds the project key and an original value
    /// can compute its pseudonym, so the outputs stay personal data for the
    /// key holder (Recital 26).
    pub fn identifiability(&self) -> gdpr_core::subject::Identifiability {
        gdpr_core::subject::Identifiability::Pseudonymised
    }

    /// The legal sources of this processing: pseudonymisation (GDPR Art.
    /// 4(5)) as a safeguard for research (Art. 89(1)), under the profile of
    /// DICOM PS3.15 Table E.1-1, edition 2024b.
    pub fn citations(&self) -> [gdpr_core::Citation; 3] {
        [
            gdpr_core::Citation::from_static("GDPR Art. 4(5)"),
            gdpr_core::Citation::from_static("GDPR Art. 89(1)"),
            gdpr_core::Citation::from_static("DICOM PS3.15 Table E.1-1 (2024b)"),
        ]
    }

    /// The keyed pseudonymiser (to map a UID the same way as the files).
    pub fn pseudonymiser(&self) -> &Pseudonymiser {
        &self.p
    }

    /// De-identifies one DICOM Part 10 stream into `w`.
    ///
    /// # Errors
    /// [`Error::NotDicom`], [`Error::Malformed`],
    /// [`Error::UnsupportedTransferSyntax`], [`Error::MissingAttribute`],
    /// [`Error::BurnedIn`], [`Error::StructuredContent`] (refused), [`Error::Encode`] or [`Error::Io`].
    /// On error `w` may hold a partial output: write to a temporary name
    /// (as [`Deidentifier::deidentify_file`] does).
    pub fn deidentify_stream<R: BufRead, W: Write>(
        &self,
        r: &mut R,
        w: &mut W,
    ) -> Result<Outcome, Error> {
        let prepared = self.prepare(read_header(r)?)?;
        self.write(prepared, r, w)
    }

    /// De-identifies the file `input` into `out_dir`, under the name given by
    /// [`Outcome::relative_path`]. The output is written to a temporary name
    /// in its final folder and renamed when complete, so nothing is ever
    /// half-written; on error no output exists.
    ///
    /// # Errors
    /// As [`Deidentifier::deidentify_stream`].
    pub fn deidentify_file(&self, input: &Path, out_dir: &Path) -> Result<Outcome, Error> {
        self.stage_file(input, out_dir)?.commit()
    }

    /// Writes the output of `input` completely under a temporary name in its
    /// final folder; [`Staged::commit`] gives it its final name. On error no
    /// file is left behind.
    pub(crate) fn stage_file(&self, input: &Path, out_dir: &Path) -> Result<Staged, Error> {
        let file = File::open(input).map_err(Error::io("opening the input"))?;
        let mut r = BufReader::with_capacity(64 * 1024, file);
        let prepared = self.prepare(read_header(&mut r)?)?;
        let target = out_dir.join(prepared.outcome.relative_path());
        let dir = target.parent().unwrap_or(out_dir);
        let tmp = dir.join(format!(
            ".partial-{}-{}",
            process_id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            // The folder usually exists already: create it only on demand.
            let f = match File::create(&tmp) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::create_dir_all(dir)
                        .map_err(Error::io("creating the output folder"))?;
                    File::create(&tmp)
                }
                other => other,
            }
            .map_err(Error::io("creating the output"))?;
            let mut w = BufWriter::with_capacity(64 * 1024, f);
            let outcome = self.write(prepared, &mut r, &mut w)?;
            w.flush().map_err(Error::io("writing the output"))?;
            Ok(outcome)
        })();
        match result {
            Ok(outcome) => Ok(Staged {
                outcome,
                tmp,
                target,
            }),
            Err(e) => {
                // Best effort: the temporary name is never a valid output.
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn prepare(&self, mut head: Header) -> Result<Prepared<'_>, Error> {
        let quarantine =
            match burned_in_reason(&head.dataset, head.meta.media_storage_sop_class_uid()) {
                None => None,
                Some(reason) => match self.burned_in {
                    BurnedInPolicy::Refuse => return Err(Error::BurnedIn { reason }),
                    BurnedInPolicy::Quarantine => Some(reason),
                },
            };
        let cleans_content = self.options.contains(DeidOption::CleanStructuredContent);
        if let Some(reason) = (!cleans_content)
            .then(|| structured_content_reason(&head.dataset, &self.options))
            .flatten()
        {
            return Err(Error::StructuredContent { reason });
        }
        let dataset = std::mem::replace(&mut head.dataset, InMemDicomObject::new_empty());
        let ctx = FileContext::new(&self.p, &self.options, &dataset, &self.patterns);
        #[cfg(feature = "danger-reidentify")]
        let originals: Vec<(Tag, String)> = [
            Tag(0x0020, 0x000D),
            Tag(0x0020, 0x000E),
            Tag(0x0008, 0x0018),
            Tag(0x0010, 0x0020),
        ]
        .into_iter()
        .filter_map(|t| {
            Some((
                t,
                dataset
                    .get(t)?
                    .to_str()
                    .ok()?
                    .trim_end_matches(['\0', ' '])
                    .to_owned(),
            ))
        })
        .collect();
        let mut out = ctx.deidentify(dataset);
        record_method(&mut out, &self.options, ctx.shifted());
        let uid = |tag: Tag, name: &'static str| -> Result<String, Error> {
            out.get(tag)
                .and_then(|e| e.to_str().ok())
                .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
                .filter(|s| !s.is_empty() && !s.contains(['/', '\\']) && s != "." && s != "..")
                .ok_or(Error::MissingAttribute { name })
        };
        let outcome = Outcome {
            study_uid: uid(Tag(0x0020, 0x000D), "Study Instance UID (0020,000D)")?,
            series_uid: uid(Tag(0x0020, 0x000E), "Series Instance UID (0020,000E)")?,
            sop_uid: uid(Tag(0x0008, 0x0018), "SOP Instance UID (0008,0018)")?,
            quarantine,
            uncleaned: if cleans_content {
                uncleaned(&out)
            } else {
                Vec::new()
            },
        };
        #[cfg(feature = "danger-reidentify")]
        if let Some(map) = &self.map {
            for (t, original) in &originals {
                let new = match t.element() {
                    0x000D => outcome.study_uid.as_str(),
                    0x000E => outcome.series_uid.as_str(),
                    0x0018 => outcome.sop_uid.as_str(),
                    _ => ctx.pseudonym(),
                };
                map.record(new, original);
            }
        }
        rewrite_meta(&mut head.meta, &outcome.sop_uid);
        head.dataset = out;
        Ok(Prepared { head, outcome, ctx })
    }

    fn write<R: BufRead, W: Write>(
        &self,
        prepared: Prepared<'_>,
        r: &mut R,
        w: &mut W,
    ) -> Result<Outcome, Error> {
        let Prepared { head, outcome, ctx } = prepared;
        // Encode the header in memory first: the encoder flushes its writer,
        // which would cost a separate write per file.
        let mut encoded = Vec::with_capacity(8 * 1024);
        write_head(&mut encoded, &head.meta, &head.dataset, head.ts)?;
        w.write_all(&encoded)
            .map_err(Error::io("writing the output"))?;
        if let Some((bytes, len)) = &head.pixel {
            copy_pixel_data(r, w, bytes, *len, head.ts.endianness())?;
            if let Some(trailer) = read_trailer(r, head.ts)? {
                // The trailer belongs to the same patient: same context.
                let cleaned = ctx.deidentify(trailer);
                if cleaned.iter().next().is_some() {
                    write_trailer(w, &cleaned, head.ts)?;
                }
            }
        }
        Ok(outcome)
    }
}

/// The file meta of an output: the new SOP Instance UID, our
/// implementation, no AE titles, no private meta information.
fn rewrite_meta(meta: &mut dicom_object::FileMetaTable, sop_uid: &str) {
    meta.media_storage_sop_instance_uid = sop_uid.to_owned();
    meta.implementation_class_uid = IMPLEMENTATION_CLASS_UID.to_owned();
    meta.implementation_version_name = Some(IMPLEMENTATION_VERSION_NAME.to_owned());
    meta.source_application_entity_title = None;
    meta.sending_application_entity_title = None;
    meta.receiving_application_entity_title = None;
    meta.private_information_creator_uid = None;
    meta.private_information = None;
    meta.update_information_group_length();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{Instance, Kind, write};

    #[test]
    fn debug_output_shows_no_key_uid_or_name() {
        let deid = Deidentifier::new(&ProjectKey::from_bytes([0x5A; 32]), DeidOptions::basic());
        let mut input = Vec::new();
        write(
            Kind::Ct { rows: 2, cols: 2 },
            &Instance::numbered("1.2.3.4", 1),
            &mut input,
        )
        .unwrap();
        let mut out = Vec::new();
        let outcome = deid
            .deidentify_stream(&mut input.as_slice(), &mut out)
            .unwrap();
        assert_eq!(
            deid.identifiability(),
            gdpr_core::subject::Identifiability::Pseudonymised
        );
        assert!(
            deid.citations()
                .iter()
                .any(|c| c.to_string() == "GDPR Art. 89(1)")
        );
        let debug = format!("{deid:?} {outcome:?}");
        assert!(
            !debug.contains("5a") && !debug.contains("90,") && !debug.contains("2.25."),
            "{debug}"
        );
        assert!(!debug.contains("DOE"));
    }
}
