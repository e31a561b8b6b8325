//! Opening the database: URLs, pools, connection settings, migrations.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Executor, Row};

use crate::{Backend, Result, Store, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Read connections to a SQLite file. Reads in WAL mode do not block each other nor
/// the writer; a few cover concurrent API requests on a small server.
const SQLITE_READERS: u32 = 4;

/// Connections to PostgreSQL, shared by reads and writes.
const POSTGRES_CONNECTIONS: u32 = 10;

/// Settings of every SQLite connection (they do not persist in the file).
/// `foreign_keys` and the busy timeout are sqlx's defaults too; they are repeated
/// here because the schema's integrity depends on them.
const SQLITE_PRAGMAS: &[&str] = &[
    // How long to wait for a lock held by another connection (another process, or a
    // checkpoint) before failing with SQLITE_BUSY.
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    // In WAL mode NORMAL is safe against corruption; a power loss may lose the last
    // transactions, not the database.
    "PRAGMA synchronous = NORMAL",
    // Temporary data in memory: above all the statement journal that every
    // multi-row INSERT of the group commit keeps (it may fail half-way), which in a
    // temporary file cost a write per page changed (measured: a fifth of the
    // writer's time).
    "PRAGMA temp_store = MEMORY",
];

/// The writer's page cache, in KiB (SQLite's default is 2 MiB). A group commit of
/// a thousand events of as many conversations changes a page of the events' index
/// for each; with the default cache, a profile of the writer under load showed a
/// twelfth of its time reading pages back from the file, and dirty pages spilled
/// to the log before the commit. Measured with `append_bench` (10,000
/// conversations): batches of 1,024 and 4,096 events went from 40,000–45,000 to
/// 50,000–53,000 events/s.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

impl Store {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// PostgreSQL for `postgres://…` and `postgresql://…`; anything else is SQLite:
    /// a `sqlite:` URL (`sqlite://relative.db`, `sqlite:///absolute.db`,
    /// `sqlite::memory:`) or a bare file path. SQLite files are created when
    /// missing (unless the URL names a `mode`).
    ///
    /// On a SQLite file the store keeps two pools:
    /// - one **writer** connection. SQLite allows a single writer at a time anyway;
    ///   with several write connections, transactions would wait on each other's
    ///   file lock (or, when a read turns into a write, fail with `SQLITE_BUSY` at
    ///   once, busy timeout or not). Queuing writers in the pool instead is fair and
    ///   never fails. Group commit keeps the writer's throughput high.
    /// - a few **read-only** connections (`query_only`), which in WAL mode read a
    ///   consistent snapshot while the writer works.
    ///
    /// An in-memory SQLite database exists once per connection, so it gets one
    /// connection that is never recycled.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let store = match Backend::of_url(url) {
            Backend::Postgres => connect_postgres(url).await?,
            Backend::Sqlite => connect_sqlite(url).await?,
        };
        Ok(store)
    }
}

async fn connect_postgres(url: &str) -> Result<Store> {
    let pool = AnyPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .connect(url)
        .await?;
    POSTGRES_MIGRATIONS.run(&pool).await?;
    Ok(Store {
        write: pool.clone(),
        read: pool,
        backend: Backend::Postgres,
        _alive: Arc::new(()),
    })
}

async fn connect_sqlite(url: &str) -> Result<Store> {
    let url = sqlite_url(url)?;
    if is_memory(&url) {
        let pool = sqlite_pool(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect(&url)
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        return Ok(Store {
            write: pool.clone(),
            read: pool,
            backend: Backend::Sqlite,
            _alive: Arc::new(()),
        });
    }

    let write = sqlite_pool(false)
        .max_connections(1)
        // One connection used by one task at a time: no ping before each batch.
        .test_before_acquire(false)
        .connect(&url)
        .await?;
    enable_wal(&write).await?;
    SQLITE_MIGRATIONS.run(&write).await?;
    let read = sqlite_pool(true).max_connections(SQLITE_READERS).connect(&url).await?;
    let alive = Arc::new(());
    let mut checkpointer = <AnyConnection as sqlx::Connection>::connect(&url).await?;
    for pragma in SQLITE_PRAGMAS {
        checkpointer.execute(*pragma).await?;
    }
    tokio::spawn(checkpoint(checkpointer, write.clone(), Arc::downgrade(&alive)));
    Ok(Store {
        write,
        read,
        backend: Backend::Sqlite,
        _alive: alive,
    })
}

/// How often the checkpointer copies the write-ahead log into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// The writer's own automatic checkpoint (64 MiB of log), a bound on the log's
/// size only: normally the checkpointer has copied it long before.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// Copies the write-ahead log into the database beside the writer, on a
/// connection of its own, so that a group commit does not pay for a checkpoint
/// (SQLite's automatic one runs inside the commit that crosses its threshold, by
/// default every 1,000 pages: measured, a commit of a few events then took 30 to
/// 90 ms instead of 1). Passive checkpoints never block the writer; the log starts
/// over by itself once one has copied all of it. (Making it start over by force,
/// with `RESTART`, blocked commits and doubled the chat's p99: tried and dropped.)
/// Stops when the store is closed or dropped.
async fn checkpoint(mut conn: AnyConnection, writer: AnyPool, alive: std::sync::Weak<()>) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if alive.upgrade().is_none() || writer.is_closed() {
            break;
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut conn).await {
            tracing::warn!(%err, "WAL checkpoint failed");
        }
    }
    let _ = sqlx::Connection::close(conn).await;
}

/// Switches the file to write-ahead logging. The mode is stored in the file, so
/// this is done once, on the writer, before any other connection is open: changing
/// it needs an exclusive lock that the busy timeout does not wait for.
async fn enable_wal(pool: &AnyPool) -> Result<()> {
    let row = sqlx::query("PRAGMA journal_mode = WAL").fetch_one(pool).await?;
    let mode: String = row.try_get(0)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal_mode = %mode, "SQLite refused WAL mode; readers and the writer will block each other");
    }
    Ok(())
}

fn sqlite_pool(read_only: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn: &mut AnyConnection, _meta| {
            Box::pin(async move {
                for pragma in SQLITE_PRAGMAS {
                    conn.execute(*pragma).await?;
                }
                if read_only {
                    conn.execute("PRAGMA query_only = ON").await?;
                } else {
                    conn.execute(format!("PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}").as_str())
                        .await?;
                    conn.execute(format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}").as_str())
                        .await?;
                }
                Ok(())
            })
        })
}

/// Turns what the user configured into a URL the SQLite driver takes: bare paths
/// become `sqlite:` URLs, and files are created when missing (`mode=rwc`) unless
/// the URL says otherwise.
fn sqlite_url(url: &str) -> Result<String> {
    let url = if url.starts_with("sqlite:") {
        url.to_owned()
    } else if url.contains("://") {
        return Err(StoreError::InvalidInput(format!(
            "unsupported database URL {url:?}: expected sqlite:, postgres:// or postgresql://"
        )));
    } else {
        format!("sqlite:{}", encode_path(url))
    };
    if is_memory(&url) || url.contains("mode=") {
        return Ok(url);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}mode=rwc"))
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Percent-encodes what would otherwise end the path of a URL or be decoded.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_files_unless_told_otherwise() {
        assert_eq!(
            sqlite_url("sqlite://a.db").ok().as_deref(),
            Some("sqlite://a.db?mode=rwc")
        );
        assert_eq!(
            sqlite_url("sqlite:///t/a.db?cache=shared").ok().as_deref(),
            Some("sqlite:///t/a.db?cache=shared&mode=rwc")
        );
        assert_eq!(
            sqlite_url("sqlite://a.db?mode=ro").ok().as_deref(),
            Some("sqlite://a.db?mode=ro")
        );
        assert_eq!(sqlite_url("sqlite::memory:").ok().as_deref(), Some("sqlite::memory:"));
        assert_eq!(
            sqlite_url("/var/lib/a b?.db").ok().as_deref(),
            Some("sqlite:/var/lib/a%20b%3F.db?mode=rwc")
        );
        assert!(sqlite_url("mysql://localhost/x").is_err());
    }

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(Backend::of_url("postgres://h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("sqlite://a.db"), Backend::Sqlite);
        assert_eq!(Backend::of_url("a.db"), Backend::Sqlite);
    }
}
