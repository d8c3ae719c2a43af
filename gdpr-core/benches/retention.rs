//! Retention decisions per second on synthetic records across all built-in
//! packs, side by side with the floor: a loop that only parses the same
//! records from JSON lines.
//!
//! ```sh
//! cargo bench -p gdpr-core --bench retention                 # 1,000,000 records
//! RETENTION_BENCH_RECORDS=100000 cargo bench -p gdpr-core --bench retention -- --quick
//! ```
//!
//! The synthetic records carry every fact the built-in packs read (the
//! last examination, the setting, a facet, now and then a suspension), so
//! that most decisions reach a date rather than stopping at a missing fact.
//!
//! Before criterion's own measurements it prints the best of five interleaved passes of each
//! loop and the ratios, so a quick run already gives the figures.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use gdpr_core::category::RecordCategory;
use gdpr_core::retention::{
    Facet, LegalHold, RetentionRecord, RulePack, Setting, Status, parse_record_line,
};
use jiff::civil::{Date, date};

struct Catalog {
    packs: Vec<RulePack>,
    records: Vec<(usize, RetentionRecord)>,
    lines: Vec<(usize, String)>,
}

/// xorshift64*: deterministic, dependency-free synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn date_between(&mut self, from: i16, to: i16) -> Date {
        let y = from + self.below((to - from) as u64) as i16;
        let m = 1 + self.below(12) as i8;
        let d = 1 + self.below(28) as i8;
        // 29 February now and then, to exercise the leap-day paths.
        if self.below(200) == 0 && y % 4 == 0 {
            return date(y, 2, 29);
        }
        date(y, m, d)
    }
}

const MODALITIES: [&str; 10] = [
    "CT", "MR", "CR", "DX", "NM", "PT", "US", "MG", "SR", "RTPLAN",
];
const FACETS: [Facet; 6] = [
    Facet::Traceability,
    Facet::DocumentationOnly,
    Facet::Organ,
    Facet::Tissue,
    Facet::Oncology,
    Facet::ResearchExposure,
];

fn catalog(n: usize) -> Catalog {
    let packs = RulePack::all_builtin().expect("built-in packs parse");
    let cats: Vec<Vec<RecordCategory>> = packs
        .iter()
        .map(|p| p.categories().iter().collect())
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut records = Vec::with_capacity(n);
    let mut lines = Vec::with_capacity(n);
    for i in 0..n {
        let p = i % packs.len();
        let category = cats[p][rng.below(cats[p].len() as u64) as usize];
        let birth = rng.date_between(1930, 2020);
        let event = rng.date_between(birth.year().max(1990), 2026);
        let end = rng.date_between(event.year(), 2026);
        let modality = MODALITIES[rng.below(MODALITIES.len() as u64) as usize];
        let setting = Setting::ALL[rng.below(2) as usize];
        let facet = FACETS[rng.below(FACETS.len() as u64) as usize];
        let mut r = RetentionRecord::new(category)
            .with_modality(modality.parse().expect("valid modality"))
            .with_event_date(event)
            .with_treatment_end(end)
            .with_last_visit(end)
            .with_last_change(end)
            .with_last_examination(end)
            .with_setting(setting)
            .with_facet(facet);
        let suspended = if rng.below(20) == 0 { 400 } else { 0 };
        r = r.with_suspended_days(suspended);
        let with_birth = rng.below(100) != 0;
        if with_birth {
            r = r.with_birth_date(birth);
        }
        let held = rng.below(50) == 0;
        if held {
            r = r.with_hold(LegalHold::Litigation);
        }
        let mut line = format!(
            r#"{{"id":"rec-{i}","category":"{category}","modality":"{modality}","event_date":"{event}","treatment_end":"{end}","last_visit":"{end}","last_change":"{end}","last_examination":"{end}","setting":"{setting}","facets":["{facet}"],"suspended_days":{suspended}"#
        );
        if with_birth {
            line += &format!(r#","birth_date":"{birth}""#);
        }
        if held {
            line += r#","holds":["litigation"]"#;
        }
        line.push('}');
        records.push((p, r));
        lines.push((p, line));
    }
    Catalog {
        packs,
        records,
        lines,
    }
}

const AT: Date = date(2026, 1, 1);

fn decide_all(c: &Catalog) -> usize {
    c.records
        .iter()
        .filter(|(p, r)| c.packs[*p].decide(black_box(r), AT).status() == Status::Due)
        .count()
}

fn parse_all(c: &Catalog) -> usize {
    c.lines
        .iter()
        .filter(|(_, l)| {
            parse_record_line(black_box(l)).is_ok_and(|r| black_box(r.record).holds().is_empty())
        })
        .count()
}

fn parse_and_decide_all(c: &Catalog) -> usize {
    c.lines
        .iter()
        .filter(|(p, l)| {
            parse_record_line(black_box(l))
                .is_ok_and(|r| c.packs[*p].decide(&r.record, AT).status() == Status::Due)
        })
        .count()
}

/// Times the loops in interleaved rounds (so that load from other processes
/// hits them alike) and keeps the best round of each, in seconds.
fn best_of(rounds: usize, loops: &[&dyn Fn() -> usize]) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; loops.len()];
    for _ in 0..rounds {
        for (slot, f) in best.iter_mut().zip(loops) {
            let start = Instant::now();
            black_box(f());
            *slot = slot.min(start.elapsed().as_secs_f64());
        }
    }
    best
}

fn main() {
    let n: usize = std::env::var("RETENTION_BENCH_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let c = catalog(n);
    println!(
        "retention: {n} synthetic records across {} packs, one core",
        c.packs.len()
    );
    // Warm up once, then five interleaved rounds; the best of each loop.
    black_box(decide_all(&c));
    black_box(parse_all(&c));
    let t = best_of(
        5,
        &[&|| decide_all(&c), &|| parse_all(&c), &|| {
            parse_and_decide_all(&c)
        }],
    );
    let (decide, parse, both) = (t[0], t[1], t[2]);
    for (name, secs) in [
        ("decide (parsed records)", decide),
        ("parse only (floor)", parse),
        ("parse + decide", both),
    ] {
        println!(
            "  {name:<24} {:>8.1} ms  {:>12.0} records/s",
            secs * 1e3,
            n as f64 / secs
        );
    }
    println!("  decisions/s per core: {:.0}", n as f64 / decide);
    println!("  decide time / parse-only time: {:.3}", decide / parse);
    println!("  (parse + decide) / parse-only floor: {:.3}", both / parse);

    let mut crit = Criterion::default().sample_size(10).configure_from_args();
    let mut g = crit.benchmark_group("retention");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("decide", |b| b.iter(|| decide_all(&c)));
    g.bench_function("parse_only_floor", |b| b.iter(|| parse_all(&c)));
    g.bench_function("parse_and_decide", |b| b.iter(|| parse_and_decide_all(&c)));
    g.finish();
    crit.final_summary();
}
