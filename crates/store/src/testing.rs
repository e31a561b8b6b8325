//! Test support for crates that run against a real PostgreSQL: a fresh database
//! per test, dropped afterwards, so tests run in parallel and leave nothing behind.
//! Only built with the `testing` feature.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_ENV: &str = "SIGHTLINE_TEST_POSTGRES";

/// The URL in [`POSTGRES_ENV`], if it is set.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|u| !u.trim().is_empty())
}

/// A database created for one scenario run.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> PgDatabase {
        let name = unique_name();
        let mut url = url::Url::parse(admin_url).expect("SIGHTLINE_TEST_POSTGRES is a URL");
        url.set_path(&format!("/{name}"));
        let mut conn = admin_connection(admin_url).await;
        // CREATE DATABASE copies template1 and fails when another session is copying
        // it at the same moment; parallel tests retry.
        let mut attempt = 0;
        loop {
            match sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await {
                Ok(_) => break,
                Err(e) if attempt < 20 => {
                    attempt += 1;
                    eprintln!("CREATE DATABASE {name} failed ({e}); retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("CREATE DATABASE {name} failed: {e}"),
            }
        }
        let _ = conn.close().await;
        PgDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }

    pub async fn drop_database(self) {
        let mut conn = admin_connection(&self.admin_url).await;
        // FORCE: a scenario that failed may have left its pool open.
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {} failed: {e}", self.name));
        let _ = conn.close().await;
    }
}

/// A database name no other test (in this or another process) uses at the same time.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "sightline_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn admin_connection(url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_ENV}={url}: {e}"))
}
