//! FHIR `date`/`dateTime` values read as civil dates for retention, and the
//! element paths the table names.

use jiff::civil::Date;
use serde_json::{Map, Value};

/// The civil date of a FHIR `date`, `dateTime` or `instant`: the date as
/// written (`2020-05-17`, `2020-05-17T10:00:00+02:00` → 2020-05-17).
/// Partial dates (`2020`, `2020-05`) give `None`: a retention period is
/// never started on a guessed day.
pub fn fhir_date(value: &str) -> Option<Date> {
    let day = value.get(..10)?;
    if value.len() > 10 && !value[10..].starts_with('T') {
        return None;
    }
    day.parse().ok()
}

/// The element of `resource` at a dotted `path` (`period.end`), if
/// present (read in place: the resource is not copied).
pub(crate) fn at<'a>(resource: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut keys = path.split('.');
    let first = resource.get(keys.next()?)?;
    keys.try_fold(first, |v, key| v.get(key))
}

/// The first date found at `paths`, in order.
pub(crate) fn first_date(resource: &Map<String, Value>, paths: &[&str]) -> Option<Date> {
    paths
        .iter()
        .find_map(|path| at(resource, path)?.as_str().and_then(fhir_date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_dates_and_date_times_are_read_partial_ones_are_not() {
        let day = jiff::civil::date(2020, 5, 17);
        assert_eq!(fhir_date("2020-05-17"), Some(day));
        assert_eq!(fhir_date("2020-05-17T23:30:00+02:00"), Some(day));
        assert_eq!(fhir_date("2020-05"), None);
        assert_eq!(fhir_date("2020"), None);
        assert_eq!(fhir_date("2020-05-17junk"), None);
        assert_eq!(fhir_date("2020-13-01"), None);
    }

    #[test]
    fn paths_follow_objects() {
        let v = serde_json::json!({"period": {"end": "2021-01-02"}});
        let v = v.as_object().unwrap();
        assert_eq!(
            first_date(v, &["period.start", "period.end"]),
            Some(jiff::civil::date(2021, 1, 2))
        );
    }
}
