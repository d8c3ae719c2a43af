//! De-identify a (synthetic) study for a research project, as a data
//! custodian would (GDPR Art. 89(1)): one secret project key, the options the
//! protocol asks for, a folder in and a folder out.
//!
//! ```sh
//! cargo run -p gdpr-examples --example deidentify_study
//! ```

use gdpr_dicom::deid::{
    DeidOption, DeidOptions, Deidentifier, ProjectKey, collect_inputs, deidentify_all,
};
use gdpr_dicom::synthetic::{Instance, Kind, write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let work = std::env::temp_dir().join(format!("gdpr-deid-example-{}", std::process::id()));
    let (input, output) = (work.join("in"), work.join("out"));
    std::fs::create_dir_all(&input)?;

    // A small synthetic CT study: 3 slices, the third references the first.
    for n in 1..=3 {
        let mut i = Instance::numbered("2.25.31415926535897932384626", n);
        if n == 3 {
            i.references = vec![Instance::numbered("2.25.31415926535897932384626", 1).sop_uid];
        }
        write(
            Kind::Ct { rows: 64, cols: 64 },
            &i,
            std::fs::File::create(input.join(format!("slice{n}.dcm")))?,
        )?;
    }

    // The project key is made once (`gdpr dicom keygen`) and kept secret;
    // the same key gives the same pseudonyms on every machine and day.
    let key = ProjectKey::generate()?;
    let options = DeidOptions::new([
        DeidOption::RetainLongitudinalModifiedDates,
        DeidOption::RetainPatientCharacteristics,
        DeidOption::CleanDescriptors,
    ])?;
    let deid = Deidentifier::new(&key, options);

    let files = collect_inputs(std::slice::from_ref(&input))?;
    let results = deidentify_all(&deid, &files, &output, 2, &|_| {})?;
    for r in &results {
        match &r.result {
            Ok(o) => println!("written: {}", o.relative_path().display()),
            Err(e) => println!("not written: {e}"),
        }
    }
    std::fs::remove_dir_all(&work)?;
    Ok(())
}
