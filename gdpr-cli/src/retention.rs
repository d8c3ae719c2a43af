//! `gdpr retention`: list the retention rules of a jurisdiction, and decide
//! for a catalog of records (JSON Lines) which are due for deletion.
//!
//! Records with a `subject` are grouped by it when the input is a file (two
//! passes), so that rules counting from the patient's last examination
//! (§ 85(2) StrlSchG) find it; from standard input each record must carry
//! its own `last_examination`.
//!
//! Exit codes of `evaluate`: 0 when every line was decided (retain, due,
//! review, held or elimination-procedure), 1 when some line was malformed or undetermined, 2 for
//! bad arguments (unknown jurisdiction, unreadable or invalid rules file,
//! bad `--at`).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use gdpr_core::retention::{
    DeathWhen, Decision, Expiry, Jurisdiction, LatestExaminations, Planner, Rule, RulePack, Status,
    parse_record_line, period,
};
use jiff::civil::Date;
use serde::Serialize;

use crate::error::{CliError, InputProblem};
use crate::input::{Line, MAX_LINE_BYTES, MAX_TEXT_BYTES, open_input, read_line_capped, read_text};

/// Arguments of `gdpr retention`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// List the retention rules with their legal sources.
    Rules(RulesArgs),
    /// Decide for each record (one JSON object per line) whether it must be
    /// kept, is due for deletion, is held, or cannot be decided.
    Evaluate(EvaluateArgs),
}

#[derive(Debug, clap::Args)]
struct RulesArgs {
    /// Only this jurisdiction (DE, DE-HH, AT, FR, NL, UK-ENG, or any code with
    /// --rules). Default: every built-in pack.
    #[arg(long)]
    jurisdiction: Option<String>,
    /// A TOML rules file that overrides or extends the built-in pack.
    #[arg(long, requires = "jurisdiction")]
    rules: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct EvaluateArgs {
    /// The jurisdiction whose rules apply (DE, DE-HH, AT, FR, NL, UK-ENG, or any
    /// code with a complete --rules file).
    #[arg(long)]
    jurisdiction: String,
    /// A TOML rules file that overrides or extends the built-in pack.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The date to decide for, YYYY-MM-DD. Default: today (local time).
    #[arg(long)]
    at: Option<String>,
    /// JSON Lines input; `-` for standard input.
    #[arg(long, default_value = "-")]
    input: String,
}

/// Runs `gdpr retention`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    match args.command {
        Sub::Rules(a) => rules(a),
        Sub::Evaluate(a) => evaluate(a),
    }
}

fn load_pack(jurisdiction: &str, rules: Option<&PathBuf>) -> Result<RulePack, CliError> {
    let j: Jurisdiction = jurisdiction
        .parse()
        .map_err(|e: gdpr_core::Error| CliError::BadInput(format!("--jurisdiction: {e}")))?;
    let user = rules
        .map(|path| read_text(path, MAX_TEXT_BYTES))
        .transpose()?;
    let bad = |e: gdpr_core::Error| CliError::BadInput(e.to_string());
    let bad_file = |e: gdpr_core::Error| {
        let file = rules.map(|p| p.display().to_string()).unwrap_or_default();
        CliError::BadInput(format!("{file}: {e}"))
    };
    match (RulePack::builtin(&j).map_err(bad)?, user) {
        (Some(pack), Some(text)) => pack.extended_with_toml(&text).map_err(bad_file),
        (Some(pack), None) => Ok(pack),
        (None, Some(text)) => RulePack::from_toml(&text).map_err(bad_file),
        (None, None) => Err(CliError::BadInput(format!(
            "no built-in retention rules for {j} (built in: {}): pass --rules FILE with a \
             complete pack",
            Jurisdiction::BUILTIN.join(", ")
        ))),
    }
}

fn io_err(path: &str) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.into(),
        source,
    }
}

fn rules(args: RulesArgs) -> Result<ExitCode, CliError> {
    let packs = match &args.jurisdiction {
        Some(j) => vec![load_pack(j, args.rules.as_ref())?],
        None => RulePack::all_builtin().map_err(|e| CliError::BadInput(e.to_string()))?,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        let list: Vec<_> = packs.iter().map(pack_json).collect();
        serde_json::to_writer_pretty(&mut out, &list)
            .map_err(|e| CliError::BadInput(e.to_string()))?;
        writeln!(out).map_err(io_err("standard output"))?;
    } else {
        for pack in &packs {
            writeln!(
                out,
                "{} — {} (dates: {}, {})",
                pack.jurisdiction(),
                pack.name(),
                pack.convention().name(),
                pack.convention_source()
            )
            .map_err(io_err("standard output"))?;
            for rule in pack.rules() {
                writeln!(
                    out,
                    "  {:<22} {:<20} {}",
                    rule.id(),
                    rule.category().name(),
                    rule.source()
                )
                .map_err(io_err("standard output"))?;
                writeln!(out, "  {:<22} {}", "", summary(rule))
                    .map_err(io_err("standard output"))?;
            }
        }
    }
    out.flush().map_err(io_err("standard output"))?;
    Ok(ExitCode::SUCCESS)
}

fn summary(rule: &Rule) -> String {
    let mut s = format!("{} y after {}", rule.years(), rule.from().name());
    if !rule.modalities().is_empty() {
        let m: Vec<&str> = rule.modalities().iter().map(|m| m.as_str()).collect();
        s += &format!(" (modalities {})", m.join(", "));
    }
    if let Some(m) = rule.minors() {
        let until = match m.until {
            gdpr_core::retention::AgeEnd::Birthday => "the birthday",
            _ => "the day before the birthday",
        };
        match m.under_age {
            Some(u) => s += &format!("; under {u} on {}:", m.age_at.name()),
            None => s += ";",
        }
        s += &format!(" at least until age {} ({until})", m.until_age);
        if let Some(e) = m.extension {
            s += &format!(", age {} if {} on {}", e.until_age, e.age, m.age_at.name());
        }
    }
    if !rule.facets().is_empty() {
        let f: Vec<&str> = rule.facets().iter().map(|f| f.name()).collect();
        s += &format!(" (facets {})", f.join(", "));
    }
    if let Some(setting) = rule.setting() {
        s += &format!(" ({setting} only)");
    }
    if let Some(d) = rule.death() {
        let when = match d.when {
            DeathWhen::Within {
                years,
                exclusive: true,
            } => format!("death less than {years} y after"),
            DeathWhen::Within { years, .. } => format!("death within {years} y"),
            DeathWhen::BeforeAge(age) => format!("death before age {age}"),
            _ => "death, if sooner".to_string(),
        };
        s += &format!("; {when}: {} y from death instead", d.years);
    }
    if rule.is_suspensible() {
        s += "; suspended by claims";
    }
    if rule.on_expiry() == Expiry::EliminationProcedure {
        s += "; then the elimination procedure";
    }
    if rule.is_destroyable_on_request() {
        s += "; destroyed earlier on request";
    }
    if !rule.replaces().is_empty() {
        s += &format!("; displaces {}", rule.replaces().join(", "));
    }
    if let Some(max) = rule.maximum_years() {
        s += &format!("; review after {max} y");
    }
    if rule.rounds_up_to_year_end() {
        s += "; rounded up to 31 December";
    }
    s
}

fn pack_json(pack: &RulePack) -> serde_json::Value {
    serde_json::json!({
        "jurisdiction": pack.jurisdiction().as_str(),
        "name": pack.name(),
        "convention": pack.convention().name(),
        "convention_source": pack.convention_source(),
        "data_protection_law": pack.data_protection_law(),
        "rules": pack.rules().iter().map(|r| serde_json::json!({
            "id": r.id(),
            "category": r.category(),
            "source": r.source(),
            "reading": r.reading(),
            "keeps_for": r.keeps_for().iter().map(|p| p.name()).collect::<Vec<_>>(),
            "summary": summary(r),
            "description": r.description(),
        })).collect::<Vec<_>>(),
    })
}

#[derive(Serialize)]
struct RuleOut<'a> {
    id: &'a str,
    source: &'a str,
}

#[derive(Serialize)]
struct HoldOut {
    name: &'static str,
    source: gdpr_core::Citation,
}

#[derive(Serialize)]
struct DecisionOut<'a> {
    id: &'a str,
    status: &'static str,
    retain_until: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    review_by: Option<Date>,
    rules: Vec<RuleOut<'a>>,
    holds: Vec<HoldOut>,
    /// The purposes the running retention duties keep the record for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keeps_for: Vec<&'static str>,
    reasons: Vec<String>,
}

#[derive(Serialize)]
struct MalformedOut<'a> {
    line: u64,
    status: &'static str,
    error: &'a str,
}

fn decision_out<'a>(pack: &RulePack, id: &'a str, d: &Decision<'a>) -> DecisionOut<'a> {
    let mut reasons = Vec::new();
    if let Some((rule, clause)) = d.governing() {
        reasons.push(format!(
            "longest minimum: {} ({}, {})",
            rule.id(),
            clause.name(),
            rule.source()
        ));
    }
    for h in d.holds().iter() {
        reasons.push(format!(
            "legal hold: {h} ({})",
            h.citation_under(pack.data_protection_law())
        ));
    }
    if let Some(u) = d.undetermined() {
        reasons.push(format!("undetermined: {u}"));
    }
    let law = pack.data_protection_law();
    match d.status() {
        Status::Due => reasons.push(format!(
            "every minimum has ended: delete ({law} Art. 5(1)(e), Art. 17(1)(a))"
        )),
        Status::Review => reasons.push(format!(
            "a maximum has passed: delete or review now ({law} Art. 5(1)(e))"
        )),
        Status::EliminationProcedure => reasons.push(format!(
            "every minimum has ended: start the elimination procedure (DIM opinion; archives' \
             visa in public institutions) before deleting ({law} Art. 5(1)(e))"
        )),
        _ => {}
    }
    DecisionOut {
        id,
        status: d.status().name(),
        retain_until: d.retain_until(),
        review_by: d.review_by(),
        rules: d
            .rules()
            .map(|r| RuleOut {
                id: r.id(),
                source: r.source().as_str(),
            })
            .collect(),
        holds: d
            .holds()
            .iter()
            .map(|h| HoldOut {
                name: h.name(),
                source: h.citation_under(pack.data_protection_law()),
            })
            .collect(),
        keeps_for: d.keeps_for().iter().map(|p| p.name()).collect(),
        reasons,
    }
}

/// The first pass over an input file: each subject's latest examination.
/// Lines that do not parse are skipped here and reported by the second pass.
fn latest_examinations(path: &str) -> Result<LatestExaminations<String>, CliError> {
    let mut input = BufReader::new(open_input(Path::new(path))?);
    let mut latest = LatestExaminations::new();
    let mut buf = Vec::new();
    loop {
        match read_line_capped(&mut input, &mut buf, MAX_LINE_BYTES).map_err(io_err(path))? {
            Line::Read => {}
            Line::End => break,
            // Reported with its line number by the second pass.
            _ => break,
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            continue;
        };
        if let Ok(line) = parse_record_line(text.trim())
            && let Some(subject) = line.subject
        {
            latest.observe(subject.into_owned(), &line.record);
        }
    }
    Ok(latest)
}

/// The day decisions are made for: `--at`, or today.
fn evaluation_date(at: Option<&String>) -> Result<Date, CliError> {
    match at {
        Some(text) => {
            period::parse_date(text, "--at").map_err(|e| CliError::BadInput(e.to_string()))
        }
        None => Ok(jiff::ZonedDateTime::now().date()),
    }
}

/// The input's lines and its name for messages (`-`: standard input).
fn open_lines(input: &str) -> Result<(Box<dyn BufRead>, &str), CliError> {
    if input == "-" {
        return Ok((Box::new(std::io::stdin().lock()), "standard input"));
    }
    let file = open_input(Path::new(input))?;
    Ok((Box::new(BufReader::new(file)), input))
}

fn evaluate(args: EvaluateArgs) -> Result<ExitCode, CliError> {
    let pack = load_pack(&args.jurisdiction, args.rules.as_ref())?;
    let at = evaluation_date(args.at.as_ref())?;
    let latest = if args.input == "-" {
        LatestExaminations::new()
    } else {
        latest_examinations(&args.input)?
    };
    let (mut input, input_name) = open_lines(&args.input)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut planner = Planner::new(&pack, at);
    let mut buf = Vec::new();
    let (mut line_no, mut malformed) = (0u64, 0u64);
    loop {
        let read = read_line_capped(&mut input, &mut buf, MAX_LINE_BYTES);
        line_no += 1;
        match read.map_err(io_err(input_name))? {
            Line::Read => {}
            Line::End => break,
            _ => {
                out.flush().map_err(io_err("standard output"))?;
                return Err(CliError::Input {
                    path: input_name.into(),
                    problem: InputProblem::LineTooLong {
                        line: line_no,
                        max_bytes: MAX_LINE_BYTES,
                    },
                });
            }
        }
        let parsed = std::str::from_utf8(&buf)
            .map_err(|_| "not UTF-8 text".to_string())
            .map(str::trim);
        if parsed.as_ref().is_ok_and(|l| l.is_empty()) {
            continue;
        }
        let result = parsed.and_then(|l| parse_record_line(l).map_err(|e| e.to_string()));
        let written = match result {
            Ok(line) => {
                let record = match &line.subject {
                    Some(subject) => latest.complete(subject.as_ref(), line.record),
                    None => line.record,
                };
                let d = planner.observe(&record);
                serde_json::to_writer(&mut out, &decision_out(&pack, &line.id, &d))
            }
            Err(error) => {
                malformed += 1;
                eprintln!("gdpr: {input_name}: line {line_no}: {error}");
                serde_json::to_writer(
                    &mut out,
                    &MalformedOut {
                        line: line_no,
                        status: "malformed",
                        error: &error,
                    },
                )
            }
        };
        written
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(io_err("standard output"))?;
    }
    out.flush().map_err(io_err("standard output"))?;
    let c = planner.counts();
    report(&pack, at, c, malformed);
    Ok(if c.undetermined == 0 && malformed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints the counts of an evaluation on standard error.
fn report(pack: &RulePack, at: Date, c: &gdpr_core::retention::PlanCounts, malformed: u64) {
    eprintln!(
        "gdpr: {} records on {at} under {}: {} retain, {} due, {} review, {} held, {} elimination-procedure, {} undetermined, {malformed} malformed",
        c.total() + malformed,
        pack.jurisdiction(),
        c.retain,
        c.due,
        c.review,
        c.held,
        c.elimination,
        c.undetermined
    );
    for (rule, rc) in pack.rules().iter().zip(&c.per_rule) {
        eprintln!(
            "gdpr:   {:<22} applied {}, longest minimum {}, due {} ({})",
            rule.id(),
            rc.applied,
            rc.governing,
            rc.due,
            rule.source()
        );
    }
}
