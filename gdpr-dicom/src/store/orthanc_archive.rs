//! Exporting from Orthanc: `GET /studies/{id}/archive` streamed to disk, then
//! unpacked into our own layout, each entry streamed to its file. Orthanc's ZIP entry names contain the
//! patient's name and ID, so no entry name is ever reused: files are renamed
//! `study-NNN/series-NNN/instance-NNNN.dcm` and described in our manifest.

use std::fs::File;
use std::path::{Path, PathBuf};

use gdpr_connect::blocking;
use gdpr_core::store::{ExportReport, ProtocolCause, StoreError, StudyHandle};

use super::export::{ExportWriter, local};
use super::orthanc::OrthancStore;

/// The export's file work, named in errors.
const WORKER: &str = "export worker";

/// Exports `studies` into `destination`.
pub(crate) async fn export(
    store: &OrthancStore,
    studies: &[StudyHandle],
    destination: &Path,
) -> Result<ExportReport, StoreError> {
    let root = destination.to_owned();
    let identity = gdpr_core::store::SubjectStore::identity(store).clone();
    let mut writer = blocking(WORKER, move || ExportWriter::create(&root, identity)).await?;
    for (n, handle) in studies.iter().enumerate() {
        let archive = destination.join(format!(".orthanc-archive-{n}.zip.part"));
        let url = store
            .http
            .url(&["studies", handle.id().as_str(), "archive"]);
        store
            .http
            .download(
                "GET /studies/{id}/archive",
                |c| c.get(url.clone()),
                &archive,
            )
            .await?;
        let handle = handle.clone();
        writer = blocking(WORKER, move || {
            let result = unpack(&mut writer, &handle, &archive);
            let _ = std::fs::remove_file(&archive);
            result.map(|()| writer)
        })
        .await?;
    }
    blocking(WORKER, move || writer.finish()).await
}

fn unpack(
    writer: &mut ExportWriter,
    handle: &StudyHandle,
    archive: &PathBuf,
) -> Result<(), StoreError> {
    let bad_zip = |_| StoreError::Protocol {
        operation: "GET /studies/{id}/archive",
        cause: ProtocolCause::MalformedBody,
        detail: "the archive is not a readable ZIP file; check Orthanc's log".into(),
    };
    let file = File::open(archive).map_err(local("open downloaded archive"))?;
    let mut zip = zip::ZipArchive::new(file).map_err(bad_zip)?;
    let study = writer.begin_study(handle);
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(bad_zip)?;
        if entry.is_dir() {
            continue;
        }
        // The folder of the entry groups the series; its name (patient
        // values) is used only as an in-memory key.
        let name = entry.name().to_owned();
        let series_key = name.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned();
        // Streamed from the archive to the export (inflated in bounded
        // buffers): memory stays flat whatever the instance's size.
        writer.add_file_reader(study, &series_key, &mut entry)?;
    }
    Ok(())
}
