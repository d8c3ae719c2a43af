//! The DICOM part of a package as a PS3.10 file-set: a system's exported
//! studies moved to `DICOM/ST000001/SE000001/IM000001` (File ID
//! components of at most eight characters from `A–Z 0–9 _`, PS3.10 §8.2;
//! counters only, never a patient value), a `DICOMDIR` beside `DICOM/`,
//! and the system's `manifest.json` rewritten with the new paths.
//!
//! Missing Type 1 keys (PS3.3 F.5) are filled as dcmtk's `dcmmkdir
//! --invent` does, and only in the DICOMDIR (the files are not changed):
//! study date `19000101`, study time `000000`, study ID, series and
//! instance numbers from our counters, modality `OT`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use gdpr_core::store::ExportManifest;
use sha2::{Digest, Sha256};

use super::PackageError;
use super::dicomdir::{Directory, Image, InstanceKeys, encode_dicomdir, record_type};
use crate::Error;

/// The DICOMDIR's name, beside the `DICOM` folder of the file-set.
pub const DICOMDIR: &str = "DICOMDIR";
/// The folder of the file-set's files.
pub const DICOM_FOLDER: &str = "DICOM";
const EXPORT_MANIFEST: &str = "manifest.json";

fn get(o: &InMemDicomObject, tag: Tag) -> String {
    o.element(tag)
        .ok()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
        .unwrap_or_default()
}

fn or(value: String, invented: impl FnOnce() -> String) -> String {
    if value.is_empty() { invented() } else { value }
}

/// The keys of one file; `n` = (study, series, instance) counters for the
/// invented Type 1 values.
fn keys(path: &Path, shown: &str, n: (usize, usize, usize)) -> Result<InstanceKeys, Error> {
    let file = File::open(path).map_err(Error::io("read an exported DICOM file"))?;
    let (meta, o) = gdpr_dicom::read_part10_header(&mut BufReader::new(file)).map_err(|e| {
        PackageError::Dicom {
            file: shown.to_owned(),
            source: Box::new(e),
        }
    })?;
    let charset = Some(get(&o, tags::SPECIFIC_CHARACTER_SET)).filter(|s| !s.is_empty());
    let sop_class = meta
        .media_storage_sop_class_uid()
        .trim_end_matches('\0')
        .to_owned();
    let record_type = record_type::record_type(&sop_class);
    Ok(InstanceKeys {
        record_type,
        record_keys: record_type::record_keys(record_type, &o),
        charset,
        patient_id: or(get(&o, tags::PATIENT_ID), || "UNKNOWN".into()),
        patient_name: get(&o, tags::PATIENT_NAME),
        study_uid: get(&o, tags::STUDY_INSTANCE_UID),
        study_date: or(get(&o, tags::STUDY_DATE), || "19000101".into()),
        study_time: or(get(&o, tags::STUDY_TIME), || "000000".into()),
        study_description: get(&o, tags::STUDY_DESCRIPTION),
        study_id: or(get(&o, tags::STUDY_ID), || n.0.to_string()),
        accession: get(&o, tags::ACCESSION_NUMBER),
        series_uid: get(&o, tags::SERIES_INSTANCE_UID),
        modality: or(get(&o, tags::MODALITY), || "OT".into()),
        series_number: or(get(&o, tags::SERIES_NUMBER), || n.1.to_string()),
        sop_class,
        sop_instance: meta
            .media_storage_sop_instance_uid()
            .trim_end_matches('\0')
            .to_owned(),
        transfer_syntax: meta.transfer_syntax().trim_end_matches('\0').to_owned(),
        instance_number: or(get(&o, tags::INSTANCE_NUMBER), || n.2.to_string()),
    })
}

/// `series-007` → 7; the exporter's own names (`gdpr_dicom` export).
fn series_of(path: &str) -> usize {
    path.split('/')
        .find_map(|c| c.strip_prefix("series-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Turns the export in `dest` (described by `manifest`) into a file-set;
/// returns the number of IMAGE records. A system without studies (an EHR)
/// is left as it is (returns 0).
///
/// # Errors
/// [`Error::Io`]; [`Error::Package`] when a file's header cannot be read
/// or the DICOMDIR cannot be encoded.
pub(crate) fn build(dest: &Path, manifest: &ExportManifest) -> Result<usize, Error> {
    if manifest.studies.is_empty() {
        return Ok(0);
    }
    let mut manifest = manifest.clone();
    let mut dir = Directory::default();
    for (s, study) in manifest.studies.iter_mut().enumerate() {
        let folder = format!("{DICOM_FOLDER}/ST{:06}", s + 1);
        let mut per_series = std::collections::BTreeMap::<usize, usize>::new();
        for file in &mut study.files {
            let series = series_of(&file.path);
            let count = per_series.entry(series).or_insert(0);
            *count += 1;
            let new = format!("{folder}/SE{series:06}/IM{count:06}");
            let to = dest.join(&new);
            std::fs::create_dir_all(to.parent().unwrap_or(dest))
                .map_err(Error::io("create the DICOM file-set"))?;
            std::fs::rename(dest.join(&file.path), &to)
                .map_err(Error::io("move a file into the DICOM file-set"))?;
            let keys = keys(&to, &new, (s + 1, series, *count))?;
            dir.add(Image {
                file_id: new.split('/').map(str::to_owned).collect(),
                keys,
            });
            file.path = new;
        }
        let old = dest.join(&study.folder);
        if old.is_dir() {
            std::fs::remove_dir_all(&old).map_err(Error::io("remove an emptied export folder"))?;
        }
        study.folder = folder;
    }
    let images = dir.images();
    let uid = instance_uid(&manifest);
    let bytes = encode_dicomdir(&dir, &uid)?;
    crate::fsio::replace(&dest.join(DICOMDIR), &bytes, "write the DICOMDIR")?;
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(Error::format("manifest"))?;
    json.push(b'\n');
    crate::fsio::replace(
        &dest.join(EXPORT_MANIFEST),
        &json,
        "rewrite the export manifest",
    )?;
    Ok(images)
}

/// [`build`] on a blocking thread.
///
/// # Errors
/// As [`build`].
pub(crate) async fn build_blocking(
    dest: std::path::PathBuf,
    manifest: ExportManifest,
) -> Result<usize, Error> {
    tokio::task::spawn_blocking(move || build(&dest, &manifest))
        .await
        .map_err(|_| PackageError::Encode {
            what: "the DICOM file-set (its worker stopped)",
        })?
}

/// A stable UID for the DICOMDIR (`2.25.` + 128 bits of the SHA-256 of
/// the files' digests, PS3.5 §B.2): the same export gets the same UID.
fn instance_uid(manifest: &ExportManifest) -> String {
    let mut h = Sha256::new();
    for f in manifest.studies.iter().flat_map(|s| &s.files) {
        h.update(f.sha256.as_bytes());
    }
    let digest = h.finalize();
    let mut top = [0u8; 16];
    top.copy_from_slice(&digest[..16]);
    format!("2.25.{}", u128::from_be_bytes(top))
}
