//! A private throw-away cluster (scripts/postgres.sh) for a test that
//! restarts the server, so that other tests on the shared one never see
//! the restart. Stopped when dropped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use gdpr_postgres::PgConfig;

/// A running cluster and its `GDPR_TEST_PG_*` settings.
pub struct Cluster {
    pub vars: HashMap<String, String>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

impl Cluster {
    /// Starts one (fails the test when PostgreSQL cannot start).
    pub fn start() -> Self {
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/postgres.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vars = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self { vars }
    }

    /// A setting.
    pub fn var(&self, k: &str) -> &str {
        &self.vars[k]
    }

    /// The settings as pairs, for worker processes.
    pub fn env(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The database owner's connection settings.
    pub fn owner(&self) -> PgConfig {
        PgConfig::parse(&format!(
            "host={} port={} user={} dbname={}",
            self.var("GDPR_TEST_PG_HOST"),
            self.var("GDPR_TEST_PG_PORT"),
            self.var("GDPR_TEST_PG_OWNER"),
            self.var("GDPR_TEST_PG_DB")
        ))
        .unwrap()
        .password_file(self.var("GDPR_TEST_PG_OWNER_PASSWORD_FILE").as_ref())
        .unwrap()
    }

    /// Restarts the server with shutdown mode `mode` (`fast`, `immediate`).
    pub fn restart(&self, mode: &str) {
        let bin = format!("{}/pg_ctl", self.var("GDPR_TEST_PG_BIN"));
        let data = format!("{}/data", self.var("GDPR_TEST_PG_DIR"));
        let log = format!("{}/data/server.log", self.var("GDPR_TEST_PG_DIR"));
        let status = Command::new("runuser")
            .args([
                "-u", "postgres", "--", &bin, "-D", &data, "-l", &log, "-w", "-t", "120", "-m",
                mode, "restart",
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl restart -m {mode} failed");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .envs(self.vars.iter())
            .status();
    }
}
