//! Writes synthetic DICOM files (invented identities) for benchmarks:
//!
//! ```sh
//! cargo run --release -p gdpr-examples --example synthetic_dicom -- ct 1000 /tmp/ct
//! cargo run --release -p gdpr-examples --example synthetic_dicom -- mr 100 /tmp/mr
//! cargo run --release -p gdpr-examples --example synthetic_dicom -- multiframe 1 /tmp/mf
//! ```
//!
//! `ct`: 128×128 16-bit CT slices (about 40 KB each); `mr`: 1024×1024
//! 16-bit MR slices (about 2 MB); `multiframe`: one 200 MB MR with 400
//! frames of 512×512. All instances of a run share one study and series.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use gdpr_dicom::synthetic::{Instance, Kind, write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, count, dir] = args.as_slice() else {
        return Err("usage: synthetic_dicom ct|mr|multiframe COUNT DIR".into());
    };
    let kind = match kind.as_str() {
        "ct" => Kind::Ct {
            rows: 128,
            cols: 128,
        },
        "mr" => Kind::Mr {
            rows: 1024,
            cols: 1024,
            frames: 1,
        },
        "multiframe" => Kind::Mr {
            rows: 512,
            cols: 512,
            frames: 400,
        },
        _ => return Err("kind is ct, mr or multiframe".into()),
    };
    let count: u32 = count.parse()?;
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    for n in 1..=count {
        let i = Instance::numbered("2.25.99887766554433221100", n);
        let f = BufWriter::new(File::create(dir.join(format!("IMG{n:05}.dcm")))?);
        write(kind, &i, f)?;
    }
    Ok(())
}
