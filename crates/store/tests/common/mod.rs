//! Runs every scenario against SQLite, and against PostgreSQL when
//! `SIGHTLINE_TEST_POSTGRES` holds a URL (each run in a database of its own, created
//! for it and dropped afterwards, so that tests run in parallel and leave nothing
//! behind).

#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

use sightline_store::testing::PgDatabase;
use sightline_store::{Backend, Store};

pub mod fixtures;

pub const POSTGRES_ENV: &str = "SIGHTLINE_TEST_POSTGRES";

/// The database a scenario runs against.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    /// The SQLite file, for checks on the file itself.
    pub sqlite_path: Option<PathBuf>,
}

impl TestDb {
    pub async fn connect(&self) -> Store {
        match Store::connect(&self.url).await {
            Ok(store) => store,
            Err(e) => panic!("connect to {} failed: {e}", self.url),
        }
    }
}

/// Runs `scenario` on a fresh SQLite file, then on a fresh PostgreSQL database when
/// configured. A failure names the backend it happened on.
pub async fn on_each_backend<F, Fut>(name: &str, scenario: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("sightline.db");
    let db = TestDb {
        url: format!("sqlite://{}", path.display()),
        backend: Backend::Sqlite,
        sqlite_path: Some(path),
    };
    let result = tokio::spawn(scenario(db)).await;
    drop(dir);
    if let Err(e) = result {
        report_failure(name, "SQLite", e);
    }

    let base = match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            announce_skip();
            return;
        }
    };
    let pg = PgDatabase::create(&base).await;
    let db = TestDb {
        url: pg.url.clone(),
        backend: Backend::Postgres,
        sqlite_path: None,
    };
    let result = tokio::spawn(scenario(db)).await;
    pg.drop_database().await;
    if let Err(e) = result {
        report_failure(name, "PostgreSQL", e);
    }
}

fn report_failure(name: &str, backend: &str, error: tokio::task::JoinError) -> ! {
    eprintln!("scenario `{name}` failed on {backend}");
    match error.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(e) => panic!("scenario `{name}` on {backend}: {e}"),
    }
}

/// Says, once per test binary, that the PostgreSQL variants did not run. Written
/// to the process's stderr directly so that the test harness does not swallow it.
fn announce_skip() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nNOTE: {POSTGRES_ENV} is not set: the PostgreSQL variant of every store test was SKIPPED \
             (only SQLite ran). Set it to e.g. postgres://postgres@127.0.0.1:5432/test to run it.\n"
        );
    });
}
