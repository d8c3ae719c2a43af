//! The inputs of `gdpr request`: the patient index (file or stdin), the
//! retention rule pack, legal holds and the controller's today.

use std::io::Read;
use std::path::Path;

use gdpr_core::request::{FindingsFile, PatientIndex, SystemName};
use gdpr_core::retention::{HoldSet, Jurisdiction, LegalHold, RulePack};
use gdpr_core::store::RecordId;
use gdpr_request::Holds;

use super::exec::bad;
use crate::error::CliError;

/// The patient index, from a file or stdin (`-`), at most 1 MiB.
pub(super) fn read_index(path: &Path) -> Result<PatientIndex, CliError> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .take((1 << 20) + 1)
            .read_to_string(&mut s)
            .map_err(|source| CliError::Io {
                path: "stdin".into(),
                source,
            })?;
        if s.len() > 1 << 20 {
            return Err(bad(
                "--index - (stdin): larger than 1 MiB, so not a patient index",
            ));
        }
        s
    } else {
        crate::input::read_text(path, 1 << 20)?
    };
    let name = if path == Path::new("-") {
        "--index - (stdin)".to_owned()
    } else {
        path.display().to_string()
    };
    PatientIndex::from_toml(&text).map_err(|e| bad(format!("{name}: {e}")))
}

pub(super) fn rule_pack(jurisdiction: &str, file: Option<&Path>) -> Result<RulePack, CliError> {
    if let Some(file) = file {
        let text = crate::input::read_text(file, 4 << 20)?;
        return RulePack::from_toml(&text).map_err(|e| bad(format!("{}: {e}", file.display())));
    }
    let code: Jurisdiction = jurisdiction
        .parse()
        .map_err(|e| bad(format!("--jurisdiction: {e}")))?;
    RulePack::builtin(&code)
        .map_err(|e| bad(format!("--jurisdiction: {e}")))?
        .ok_or_else(|| {
            bad(format!(
                "--jurisdiction: no built-in rule pack for {jurisdiction}"
            ))
        })
}

/// The controller's findings file (`--findings`), at most 4 MiB; an error
/// names the file and the line or finding, never a value of the file.
pub(super) fn read_findings(path: &Path) -> Result<FindingsFile, CliError> {
    let text = zeroize::Zeroizing::new(crate::input::read_text(path, 4 << 20)?);
    FindingsFile::from_toml(&text).map_err(|e| bad(format!("{}: {e}", path.display())))
}

/// `--hold SYSTEM:RECORD:HOLD` values.
pub(super) fn parse_holds(values: &[String]) -> Result<Holds, CliError> {
    let mut holds = Holds::new();
    for v in values {
        let wrong = || bad("--hold: expected SYSTEM:RECORD:HOLD (e.g. pacs:study-…:litigation)");
        let (system, rest) = v.split_once(':').ok_or_else(wrong)?;
        let (record, hold) = rest.rsplit_once(':').ok_or_else(wrong)?;
        let system = SystemName::new(system).map_err(|e| bad(format!("--hold: {e}")))?;
        let record = RecordId::new(record).map_err(|e| bad(format!("--hold: {e}")))?;
        let hold = LegalHold::ALL
            .into_iter()
            .find(|h| h.name() == hold)
            .ok_or_else(|| {
                bad("--hold: HOLD is one of litigation, research-freeze, public-health, legal-obligation")
            })?;
        let set = holds.entry((system, record)).or_insert(HoldSet::EMPTY);
        set.insert(hold);
    }
    Ok(holds)
}

/// Today's date in the controller's time zone `name` (IANA).
pub(super) fn today_in(name: &str) -> Result<jiff::civil::Date, CliError> {
    let zone = jiff::tz::TimeZone::get(name)
        .map_err(|_| bad(format!("--time-zone: unknown time zone {name}")))?;
    Ok(zone.to_datetime(jiff::Timestamp::now()).date())
}
