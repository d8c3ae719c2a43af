//! The journal: every step of a request's execution recorded *before* it
//! runs and *after* it ran, durably, so that a process killed at any point
//! resumes without skipping a step, and a step that finished is never run
//! (or reported) a second time.
//!
//! A step that began but did not finish is run again on resume; the
//! stores' operations are idempotent (erasing what is gone is reported
//! `already_absent`), so a re-run has no second effect.
//!
//! [`FileJournal`], the embedded implementation, writes `journal.jsonl` in
//! the request's directory: one JSON object per line,
//! `{"seq":0,"step":"erase/pacs/study-…","phase":"begin"}` and
//! `{"seq":1,"step":"erase/pacs/study-…","phase":"done","result":{…}}`,
//! each line synced (`fdatasync`) before the step runs or before the next
//! one begins; lines of steps running at the same time share one sync
//! (group commit). A last line without its newline (the process died
//! mid-write) is a torn tail: it is cut off on open and reported in
//! [`Replay::torn_tail`]; a bad line before it is [`Error::Damaged`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::fsio;

/// The journal's file name in a request directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// A step's stable key (`stage/approved`, `erase/pacs/<record id>`,
/// `verify/pacs`): 1–200 characters of `a-z A-Z 0-9 . _ : / -`. Record ids
/// are the systems' own ids, never patient values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StepKey(String);

impl StepKey {
    /// Joins `parts` with `/`.
    ///
    /// # Errors
    /// [`Error::Damaged`] (line 0) when a part has a character outside the
    /// set or the key is too long.
    pub fn new(parts: &[&str]) -> Result<Self, Error> {
        Self::try_from(parts.join("/"))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StepKey {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 200
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:_/-".contains(&b));
        if ok {
            Ok(Self(s))
        } else {
            Err(Error::Damaged {
                what: "a step key",
                line: 0,
            })
        }
    }
}

impl From<StepKey> for String {
    fn from(k: StepKey) -> String {
        k.0
    }
}

impl fmt::Display for StepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a step stands in the journal.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StepState {
    /// Recorded as begun, not as done: run it again (idempotently).
    Begun,
    /// Done, with its recorded result: do not run it again.
    Done(Value),
}

/// What a journal holds, read back in order.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Replay {
    /// Every step recorded, by key.
    pub steps: BTreeMap<StepKey, StepState>,
    /// Bytes of a torn last line that were cut off (the process died while
    /// writing it); `None` when the journal ended cleanly.
    pub torn_tail: Option<u64>,
    /// How many records the journal holds.
    pub records: u64,
}

impl Replay {
    /// The recorded result of `step`, if it is done.
    pub fn done(&self, step: &StepKey) -> Option<&Value> {
        match self.steps.get(step) {
            Some(StepState::Done(v)) => Some(v),
            _ => None,
        }
    }
}

/// A journal of one request's steps. Small and storage-agnostic: the
/// embedded [`FileJournal`] and, later, a shared database implement it.
#[async_trait::async_trait]
pub trait Journal: Send + Sync {
    /// Everything recorded so far.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Damaged`].
    async fn replay(&self) -> Result<Replay, Error>;

    /// Records, durably, that `step` is about to run.
    ///
    /// # Errors
    /// [`Error::Io`]: the step must then not run.
    async fn begin(&self, step: &StepKey) -> Result<(), Error>;

    /// Records, durably, that `step` ran, with its `result`.
    ///
    /// # Errors
    /// [`Error::Io`].
    async fn done(&self, step: &StepKey, result: &Value) -> Result<(), Error>;
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Line {
    seq: u64,
    step: StepKey,
    phase: Phase,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    result: Option<Value>,
}

/// A `result` that is present is `Some`, even when it is `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Phase {
    Begin,
    Done,
}

/// The embedded journal: `journal.jsonl` in a request directory.
///
/// Each record is durable before `begin` or `done` returns. Records of
/// steps that run at the same time (the systems of a request run
/// concurrently) share one `fdatasync` (group commit: a writer whose line
/// an earlier writer's sync already covered does not sync again), and the
/// write and sync run on tokio's blocking pool, never on the executor's
/// threads.
#[derive(Debug, Clone)]
pub struct FileJournal {
    path: PathBuf,
    inner: Arc<Appender>,
    opened: Replay,
}

/// The append side: the file with the next sequence number and the bytes
/// written, and how many of them are known durable.
#[derive(Debug)]
struct Appender {
    state: Mutex<Written>,
    /// Bytes known durable; held while syncing, so one writer syncs for
    /// all that wrote before it.
    synced: Mutex<(File, u64)>,
}

#[derive(Debug)]
struct Written {
    file: File,
    seq: u64,
    bytes: u64,
}

impl FileJournal {
    /// Opens (or creates) the journal in `dir`, cutting off a torn tail.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Damaged`] for a bad line before the last.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(JOURNAL_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read the journal")(e)),
        };
        let opened = parse(&bytes)?;
        if let Some(torn) = opened.torn_tail {
            let keep = bytes.len() as u64 - torn;
            let f = File::options()
                .write(true)
                .open(&path)
                .map_err(Error::io("cut the journal's torn tail"))?;
            f.set_len(keep)
                .and_then(|()| f.sync_all())
                .map_err(Error::io("cut the journal's torn tail"))?;
        }
        let file = fsio::open_append(&path, "open the journal")?;
        let bytes = file
            .metadata()
            .map_err(Error::io("open the journal"))?
            .len();
        let sync = file.try_clone().map_err(Error::io("open the journal"))?;
        Ok(Self {
            path,
            inner: Arc::new(Appender {
                state: Mutex::new(Written {
                    file,
                    seq: opened.records,
                    bytes,
                }),
                synced: Mutex::new((sync, bytes)),
            }),
            opened,
        })
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record off the executor's threads; returns once it is
    /// durable.
    async fn append(
        &self,
        step: &StepKey,
        phase: Phase,
        result: Option<&Value>,
    ) -> Result<(), Error> {
        let (inner, step, result) = (self.inner.clone(), step.clone(), result.cloned());
        let append = move || inner.append(step, phase, result);
        if tokio::runtime::Handle::try_current().is_err() {
            return append();
        }
        tokio::task::spawn_blocking(append).await.map_err(|_| {
            Error::io("append to the journal")(std::io::Error::other(
                "the journal writer task stopped",
            ))
        })?
    }
}

impl Appender {
    fn append(&self, step: StepKey, phase: Phase, result: Option<Value>) -> Result<(), Error> {
        const WHAT: &str = "append to the journal";
        // A poisoned lock means a writer panicked mid-append; the file is
        // still a valid journal (at worst with a torn tail), so go on.
        let end = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let line = Line {
                seq: st.seq,
                step,
                phase,
                result,
            };
            let mut bytes = serde_json::to_vec(&line).map_err(Error::format("a journal line"))?;
            bytes.push(b'\n');
            st.file.write_all(&bytes).map_err(Error::io(WHAT))?;
            st.seq += 1;
            st.bytes += bytes.len() as u64;
            st.bytes
        };
        // Group commit: whoever holds `synced` syncs everything written so
        // far; a writer whose line is already covered returns at once.
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        if synced.1 >= end {
            return Ok(());
        }
        let upto = self.state.lock().unwrap_or_else(|p| p.into_inner()).bytes;
        synced.0.sync_data().map_err(Error::io(WHAT))?;
        synced.1 = upto;
        Ok(())
    }
}

fn parse(bytes: &[u8]) -> Result<Replay, Error> {
    let (lines, torn) = fsio::split_lines(bytes);
    let mut replay = Replay {
        torn_tail: (torn > 0).then_some(torn as u64),
        ..Replay::default()
    };
    for (i, raw) in lines.iter().enumerate() {
        let damaged = Error::Damaged {
            what: "the journal",
            line: i as u64 + 1,
        };
        let Ok(line) = serde_json::from_slice::<Line>(raw) else {
            return Err(damaged);
        };
        if line.seq != i as u64 {
            return Err(damaged);
        }
        let state = match (line.phase, line.result) {
            (Phase::Begin, None) => StepState::Begun,
            (Phase::Done, Some(v)) => StepState::Done(v),
            _ => return Err(damaged),
        };
        if matches!(replay.steps.get(&line.step), Some(StepState::Done(_))) {
            return Err(damaged);
        }
        replay.steps.insert(line.step, state);
        replay.records += 1;
    }
    Ok(replay)
}

#[async_trait::async_trait]
impl Journal for FileJournal {
    async fn replay(&self) -> Result<Replay, Error> {
        let bytes = std::fs::read(&self.path).map_err(Error::io("read the journal"))?;
        let mut replay = parse(&bytes)?;
        replay.torn_tail = self.opened.torn_tail;
        Ok(replay)
    }

    async fn begin(&self, step: &StepKey) -> Result<(), Error> {
        self.append(step, Phase::Begin, None).await
    }

    async fn done(&self, step: &StepKey, result: &Value) -> Result<(), Error> {
        self.append(step, Phase::Done, Some(result)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> StepKey {
        StepKey::new(&[s]).unwrap()
    }

    #[tokio::test]
    async fn begun_and_done_steps_replay_after_reopening() {
        let tmp = tempfile::tempdir().unwrap();
        let j = FileJournal::open(tmp.path()).unwrap();
        j.begin(&key("a")).await.unwrap();
        j.done(&key("a"), &serde_json::json!({"n": 1}))
            .await
            .unwrap();
        j.begin(&key("b")).await.unwrap();
        drop(j);
        let r = FileJournal::open(tmp.path())
            .unwrap()
            .replay()
            .await
            .unwrap();
        assert_eq!(r.done(&key("a")), Some(&serde_json::json!({"n": 1})));
        assert_eq!(r.steps.get(&key("b")), Some(&StepState::Begun));
        assert_eq!((r.records, r.torn_tail), (3, None));
    }

    #[tokio::test]
    async fn a_torn_tail_is_cut_and_reported_then_appends_continue() {
        let tmp = tempfile::tempdir().unwrap();
        let j = FileJournal::open(tmp.path()).unwrap();
        j.begin(&key("a")).await.unwrap();
        drop(j);
        let path = tmp.path().join(JOURNAL_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"seq\":1,\"step\":\"a\",\"pha");
        std::fs::write(&path, bytes).unwrap();
        let j = FileJournal::open(tmp.path()).unwrap();
        assert_eq!(j.replay().await.unwrap().torn_tail, Some(24));
        j.done(&key("a"), &Value::Null).await.unwrap();
        let r = FileJournal::open(tmp.path())
            .unwrap()
            .replay()
            .await
            .unwrap();
        assert_eq!((r.records, r.torn_tail), (2, None));
        assert_eq!(r.done(&key("a")), Some(&Value::Null));
    }

    #[tokio::test]
    async fn a_bad_line_before_the_end_is_damage_not_a_torn_tail() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(JOURNAL_FILE);
        std::fs::write(
            &path,
            "garbage\n{\"seq\":1,\"step\":\"a\",\"phase\":\"begin\"}\n",
        )
        .unwrap();
        let err = FileJournal::open(tmp.path()).unwrap_err();
        assert!(matches!(err, Error::Damaged { line: 1, .. }), "{err}");
    }

    #[test]
    fn step_keys_refuse_characters_outside_the_set() {
        assert!(StepKey::new(&["erase", "pacs", "study-1.2"]).is_ok());
        assert!(StepKey::new(&["erase", "pacs", "a b"]).is_err());
        assert!(StepKey::new(&[""]).is_err());
    }
}
