//! The chat write path of `append_bench` on SQLite, done by different drivers, to
//! see what sqlx's `Any` driver costs (issue 8, point 4). Every variant stores the
//! same batches (the ones `append_bench` builds: messages spread over many open
//! conversations, an activity move with every 16th message of a conversation) into
//! a copy of the same database, in one `BEGIN IMMEDIATE` transaction per batch,
//! with the store's connection settings (WAL, `synchronous = NORMAL`, foreign keys,
//! a 64 MiB cache, temporary data in memory) and a checkpointer beside the writer
//! every 250 ms, as `Store` does:
//!
//! - `store`: `Store::apply` itself (sqlx `Any`; the baseline).
//! - `sqlx-sqlite`: the same statements (multi-row, the gap check inside the
//!   inserts, the whole batch in one text) on a native `sqlx::SqliteConnection`,
//!   built with `QueryBuilder::push_values`.
//! - `sqlx-sqlite-intkey`: `sqlx-sqlite` on the integer-keyed schema of
//!   `rusqlite-intkey` (below): the store's statements with only the key changed.
//! - `sqlx-any-rowwise`: sqlx `Any`, as the store, but with single-row statements:
//!   one text of N single-row `INSERT`s per chunk of the batch (chunks as the
//!   store's, so that the texts come in few shapes and stay prepared), one trip to
//!   the worker thread per chunk.
//! - `rusqlite-multirow`: the same statements through rusqlite, each shape
//!   prepared once and cached, run on the calling thread (no worker thread).
//! - `rusqlite-rowwise`: rusqlite with one cached single-row `INSERT` per event
//!   (same gap check) and one single-row `UPDATE` per activity move.
//! - `rusqlite-intkey`: `rusqlite-rowwise` on a schema whose events refer to
//!   their conversation by its integer `row_id` instead of its text id (the map
//!   from text id to `row_id` is held in memory, as the hub would hold it for
//!   its open conversations).
//! - `generate-only`: builds the batches and stores nothing (the bench's own
//!   cost, to subtract from instruction counts).
//!
//! The database starts with `--conversations` conversations of `1 + --prefill`
//! messages each (default 10,000 and 30: about where `append_bench` is when it
//! comes to batches of 1,024). Conversation ids are `conv-N` as in `append_bench`,
//! or with `--ids random` 22 characters of base64 as the hub makes them.
//!
//! Wall clock (all variants in one run, their order rotated each round; events/s
//! counts the time spent storing, not building the batches):
//!
//! ```sh
//! cargo run --release -p sightline-store --example append_drivers_bench -- \
//!     --conversations 10000 --sizes 1024,4096 --batches 40 --rounds 5
//! ```
//!
//! Instructions per event (repeatable on a busy machine): prepare the databases
//! once, then run each variant under callgrind for two numbers of batches; the
//! difference of the totals over the difference of events is the cost of one
//! event with start-up and the copy of the database taken out.
//! `--separate-threads=yes` lets the checkpointer's thread be counted apart.
//! `docs/perf/append_drivers_callgrind.sh` does this and prints the table.
//!
//! ```sh
//! append_drivers_bench --prepare DIR --conversations 10000
//! valgrind --tool=callgrind --separate-threads=yes \
//!     append_drivers_bench --from DIR --variants rusqlite-rowwise --sizes 1024 --batches 8 --rounds 1
//! ```

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::fixtures::*;
use futures_util::TryStreamExt as _;
use sightline_core::records::Persist;
use sightline_proto::{Event, EventKind, MessageBody, Role};
use sightline_store::Store;
use sqlx::{Connection as _, Executor as _, QueryBuilder, Sqlite, SqliteConnection};

/// What the store sets on its writer (connect.rs), repeated here for the other
/// drivers. sqlx sets `foreign_keys = ON` itself too.
const WRITER_PRAGMAS: &[&str] = &[
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA wal_autocheckpoint = 16384",
    "PRAGMA cache_size = -65536",
];

/// The store's checkpointer interval (connect.rs).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Rows in one multi-row statement, as the store (write.rs).
const MAX_ROWS_PER_STATEMENT: usize = 256;

/// Most activity moves in one multi-row `UPDATE` (`--move-rows`; the store's 256
/// by default). SQLite 3.46 plans the `UPDATE … FROM (VALUES …)` of 256 rows as a
/// scan of every conversation (a covering index) with an automatic index on the
/// values, and up to 128 rows as one seek per row.
static MOVE_ROWS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

const INSERT_EVENTS: &str =
    "INSERT INTO events (conversation_id, seq, at, kind, from_role, client_id, search_text, data)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Store,
    SqlxSqlite,
    SqlxSqliteIntkey,
    SqlxAnyRowwise,
    RusqliteMultirow,
    RusqliteRowwise,
    RusqliteIntkey,
    GenerateOnly,
}

impl Variant {
    const ALL: [Variant; 8] = [
        Variant::Store,
        Variant::SqlxSqlite,
        Variant::SqlxSqliteIntkey,
        Variant::SqlxAnyRowwise,
        Variant::RusqliteMultirow,
        Variant::RusqliteRowwise,
        Variant::RusqliteIntkey,
        Variant::GenerateOnly,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Store => "store",
            Variant::SqlxSqlite => "sqlx-sqlite",
            Variant::SqlxSqliteIntkey => "sqlx-sqlite-intkey",
            Variant::SqlxAnyRowwise => "sqlx-any-rowwise",
            Variant::RusqliteMultirow => "rusqlite-multirow",
            Variant::RusqliteRowwise => "rusqlite-rowwise",
            Variant::RusqliteIntkey => "rusqlite-intkey",
            Variant::GenerateOnly => "generate-only",
        }
    }

    fn parse(name: &str) -> Variant {
        Variant::ALL
            .into_iter()
            .find(|v| v.name() == name)
            .unwrap_or_else(|| panic!("unknown variant {name:?}"))
    }

    fn template(self) -> &'static str {
        match self {
            Variant::RusqliteIntkey | Variant::SqlxSqliteIntkey => "template-intkey.db",
            _ => "template.db",
        }
    }
}

struct Options {
    conversations: usize,
    sizes: Vec<usize>,
    batches: usize,
    rounds: usize,
    variants: Vec<Variant>,
    /// Messages per conversation stored before measuring (`append_bench` has stored
    /// some 30 per conversation when it comes to batches of 1,024).
    prefill: u64,
    /// Conversation ids as `append_bench` names them (`conv-N`), or 22 characters
    /// of base64 as the hub makes them (16 random bytes; here derived from N).
    random_ids: bool,
    /// Batches stored before the timed ones, so that the writer's cache is warm.
    warmup: usize,
    prepare: Option<PathBuf>,
    from: Option<PathBuf>,
}

fn options() -> Options {
    let mut options = Options {
        conversations: 10_000,
        sizes: vec![1024, 4096],
        batches: 40,
        rounds: 5,
        variants: Variant::ALL.to_vec(),
        prefill: 30,
        random_ids: false,
        warmup: 4,
        prepare: None,
        from: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).unwrap_or_else(|| panic!("{} needs a value", pair[0]));
        match pair[0].as_str() {
            "--conversations" => options.conversations = value.parse().unwrap(),
            "--sizes" => options.sizes = value.split(',').map(|s| s.parse().unwrap()).collect(),
            "--batches" => options.batches = value.parse().unwrap(),
            "--rounds" => options.rounds = value.parse().unwrap(),
            "--variants" => options.variants = value.split(',').map(Variant::parse).collect(),
            "--prefill" => options.prefill = value.parse().unwrap(),
            "--move-rows" => MOVE_ROWS.set(value.parse().unwrap()).unwrap(),
            "--ids" => {
                options.random_ids = match value.as_str() {
                    "short" => false,
                    "random" => true,
                    other => panic!("--ids short or random, not {other}"),
                }
            }
            "--warmup" => options.warmup = value.parse().unwrap(),
            "--prepare" => options.prepare = Some(value.into()),
            "--from" => options.from = Some(value.into()),
            other => panic!("unknown option {other}"),
        }
    }
    options
}

#[tokio::main]
async fn main() {
    let options = options();
    if let Some(dir) = &options.prepare {
        std::fs::create_dir_all(dir).unwrap();
        prepare(dir, options.conversations, options.prefill, options.random_ids).await;
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let templates = match &options.from {
        Some(dir) => dir.clone(),
        None => {
            prepare(
                scratch.path(),
                options.conversations,
                options.prefill,
                options.random_ids,
            )
            .await;
            scratch.path().to_owned()
        }
    };
    println!(
        "{} open conversations with {} events each; {} batches per measurement after {} untimed; {} rounds",
        options.conversations,
        options.prefill + 1,
        options.batches,
        options.warmup,
        options.rounds
    );
    // (variant, size) -> events/s of each round, and every commit's time.
    let mut rates: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    let mut commits: BTreeMap<(usize, usize), Vec<Duration>> = BTreeMap::new();
    // (variant, size) -> CPU time of the whole process per 1,000 events, each round.
    let mut cpu: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for round in 0..options.rounds {
        for &size in &options.sizes {
            let batches = Generator::new(options.conversations, options.prefill, options.random_ids)
                .batches(size, options.warmup + options.batches);
            let events = size * options.batches;
            let count = options.variants.len();
            for k in 0..count {
                let index = (k + round) % count;
                let variant = options.variants[index];
                // A file of its own: the store's checkpointer may hold the last
                // one open for another 250 ms.
                let run_path = scratch.path().join(format!("run-{round}-{size}-{}.db", variant.name()));
                fresh_copy(&templates.join(variant.template()), &run_path);
                let cpu_before = process_cpu_ms();
                let mut times = run(variant, &run_path, &batches).await;
                let cpu_used = process_cpu_ms() - cpu_before;
                times.drain(..options.warmup);
                remove_database(&run_path);
                let total: Duration = times.iter().sum();
                let rate = events as f64 / total.as_secs_f64();
                // Warm-up batches, opening and closing included: CPU time is
                // counted for the process, not per batch.
                let cpu_per_1000 = cpu_used / ((options.warmup + options.batches) * size) as f64 * 1000.0;
                println!(
                    "round {round} batch {size:5} {:18} {rate:10.0} events/s {cpu_per_1000:8.1} CPU ms/1000 events",
                    variant.name()
                );
                cpu.entry((index, size)).or_default().push(cpu_per_1000);
                rates.entry((index, size)).or_default().push(rate);
                commits.entry((index, size)).or_default().extend(times);
            }
        }
    }
    println!();
    println!(
        "variant              batch   events/s (median)   each round                  commit p50 ms   p99 ms   CPU ms/1000 events (median)"
    );
    for ((index, size), mut each) in rates {
        let shown: Vec<String> = each.iter().map(|r| format!("{r:.0}")).collect();
        each.sort_by(f64::total_cmp);
        let mut times = commits.remove(&(index, size)).unwrap();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut cpu_each = cpu.remove(&(index, size)).unwrap();
        cpu_each.sort_by(f64::total_cmp);
        println!(
            "{:18}   {size:5}   {:17.0}   {:26}   {:13.2}   {:6.2}   {:8.1}",
            options.variants[index].name(),
            each[each.len() / 2],
            shown.join(" "),
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 99 / 100).min(times.len() - 1)]),
            cpu_each[cpu_each.len() / 2],
        );
    }
}

/// User and system CPU time of the whole process so far, in milliseconds (Linux:
/// `/proc/self/stat`, in clock ticks of 10 ms).
fn process_cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are the 14th and 15th fields; `fields` starts at the 3rd.
    (ticks(11) + ticks(12)) * 10.0
}

/// `template.db`: the store's schema and `conversations` conversations, each with
/// one message (as `append_bench` starts) and `prefill` more. `template-intkey.db`:
/// the same with the events keyed by their conversation's integer `row_id`.
async fn prepare(dir: &Path, conversations: usize, prefill: u64, random_ids: bool) {
    let path = dir.join("template.db");
    let _ = std::fs::remove_file(&path);
    let store = Store::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    for chunk in 0..conversations.div_ceil(500) {
        let mut batch = Vec::new();
        for n in chunk * 500..((chunk + 1) * 500).min(conversations) {
            let (v, c) = (format!("visitor-{n}"), conversation_id(n, random_ids));
            batch.extend([
                visitor(&v, 1_000),
                conversation(&c, &v, 1_000),
                visitor_says(&c, 1, 1_000, "hello"),
            ]);
        }
        store.apply(&batch).await.unwrap();
    }
    let mut generator = Generator::new(conversations, 0, random_ids);
    let mut left = conversations * prefill as usize;
    while left > 0 {
        let size = left.min(4096);
        store.apply(&generator.batch(size)).await.unwrap();
        left -= size;
    }
    store.close().await;
    drop(store);
    // The store's checkpointer lets go of its connection at its next tick.
    tokio::time::sleep(CHECKPOINT_EVERY * 2).await;
    // Everything into the database file, so that copying the file alone copies it all.
    let conn = rusqlite::Connection::open(&path).unwrap();
    checkpoint_all(&conn);
    drop(conn);

    let intkey = dir.join("template-intkey.db");
    fresh_copy(&path, &intkey);
    let conn = rusqlite::Connection::open(&intkey).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         BEGIN;
         CREATE TABLE events_by_row (
             conversation_id INTEGER NOT NULL REFERENCES conversations (row_id),
             seq             BIGINT  NOT NULL CHECK (seq > 0),
             at              BIGINT  NOT NULL,
             kind            TEXT    NOT NULL,
             from_role       TEXT    CHECK (from_role IN ('visitor', 'agent')),
             client_id       TEXT,
             search_text     TEXT,
             data            TEXT    NOT NULL,
             PRIMARY KEY (conversation_id, seq)
         );
         INSERT INTO events_by_row
             SELECT c.row_id, e.seq, e.at, e.kind, e.from_role, e.client_id, e.search_text, e.data
             FROM events e JOIN conversations c ON c.id = e.conversation_id ORDER BY e.rowid;
         DROP TABLE events;
         ALTER TABLE events_by_row RENAME TO events;
         COMMIT;
         VACUUM;",
    )
    .unwrap();
    checkpoint_all(&conn);
    drop(conn);
    println!("prepared {} and {}", path.display(), intkey.display());
}

/// Copies the whole log into the database file and empties the log.
fn checkpoint_all(conn: &rusqlite::Connection) {
    let (busy, log, copied): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .unwrap();
    assert!(
        busy == 0 && log == copied,
        "checkpoint incomplete: busy {busy}, {copied} of {log} frames"
    );
}

fn fresh_copy(template: &Path, to: &Path) {
    remove_database(to);
    std::fs::copy(template, to).unwrap();
}

fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// The id of conversation `n`: `conv-N`, or (`random`) 22 characters of base64url
/// made of 128 bits that look random, like the hub's ids.
fn conversation_id(n: usize, random: bool) -> String {
    if !random {
        return format!("conv-{n}");
    }
    // splitmix64, twice.
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let bits = (u128::from(mix(n as u64)) << 64) | u128::from(mix(!(n as u64)));
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..22)
        .map(|i| ALPHABET[((bits >> (i * 6)) & 63) as usize] as char)
        .collect()
}

/// Messages as `append_bench` makes them: spread over the conversations in an
/// interleaved order that visits each once per `conversations` messages (7919 is
/// a prime), an activity move with every 16th message of a conversation.
struct Generator {
    ids: Vec<String>,
    conversations: usize,
    next_seq: Vec<u64>,
    turn: usize,
    at: u64,
}

impl Generator {
    /// For conversations that each hold `1 + stored` events.
    fn new(conversations: usize, stored: u64, random_ids: bool) -> Generator {
        Generator {
            ids: (0..conversations).map(|n| conversation_id(n, random_ids)).collect(),
            conversations,
            next_seq: vec![2 + stored; conversations],
            turn: 0,
            at: 2_000 + stored * conversations as u64,
        }
    }

    fn batches(&mut self, size: usize, count: usize) -> Vec<Vec<Persist>> {
        (0..count).map(|_| self.batch(size)).collect()
    }

    fn batch(&mut self, size: usize) -> Vec<Persist> {
        let mut batch = Vec::with_capacity(size + size / 8);
        for _ in 0..size {
            let n = self.turn % self.conversations;
            self.turn = self.turn.wrapping_add(7919);
            let c = self.ids[n].clone();
            let seq = self.next_seq[n];
            self.next_seq[n] += 1;
            self.at += 1;
            batch.push(visitor_says(
                &c,
                seq,
                self.at,
                "a chat message of ordinary length, about fifty",
            ));
            if seq.is_multiple_of(16) {
                batch.push(activity(&c, self.at));
            }
        }
        batch
    }
}

/// Stores `batches` with `variant` into the database at `path`; returns the time
/// each batch took to store.
async fn run(variant: Variant, path: &Path, batches: &[Vec<Persist>]) -> Vec<Duration> {
    match variant {
        Variant::Store => {
            let store = Store::connect(&format!("sqlite://{}", path.display())).await.unwrap();
            let mut times = Vec::with_capacity(batches.len());
            for batch in batches {
                let t = Instant::now();
                store.apply(batch).await.unwrap();
                times.push(t.elapsed());
            }
            store.close().await;
            times
        }
        Variant::SqlxSqlite | Variant::SqlxSqliteIntkey => {
            let checkpointer = Checkpointer::start(path);
            let row_ids = if variant == Variant::SqlxSqliteIntkey {
                Some(conversation_row_ids(&rusqlite::Connection::open(path).unwrap()))
            } else {
                None
            };
            let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            for pragma in WRITER_PRAGMAS {
                conn.execute(*pragma).await.unwrap();
            }
            let mut times = Vec::with_capacity(batches.len());
            for batch in batches {
                let t = Instant::now();
                apply_sqlx_sqlite(&mut conn, batch, row_ids.as_ref()).await.unwrap();
                times.push(t.elapsed());
            }
            conn.close().await.unwrap();
            checkpointer.stop();
            times
        }
        Variant::SqlxAnyRowwise => {
            sqlx::any::install_default_drivers();
            let checkpointer = Checkpointer::start(path);
            let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            for pragma in WRITER_PRAGMAS {
                conn.execute(*pragma).await.unwrap();
            }
            let mut times = Vec::with_capacity(batches.len());
            for batch in batches {
                let t = Instant::now();
                apply_any_rowwise(&mut conn, batch).await.unwrap();
                times.push(t.elapsed());
            }
            conn.close().await.unwrap();
            checkpointer.stop();
            times
        }
        Variant::RusqliteMultirow | Variant::RusqliteRowwise | Variant::RusqliteIntkey => {
            let checkpointer = Checkpointer::start(path);
            let mut conn = rusqlite_writer(path);
            let times = match variant {
                Variant::RusqliteMultirow => timed(batches, |batch| apply_rusqlite_multirow(&mut conn, batch).unwrap()),
                Variant::RusqliteRowwise => {
                    timed(batches, |batch| apply_rusqlite_rowwise(&mut conn, batch, None).unwrap())
                }
                _ => {
                    let row_ids = conversation_row_ids(&conn);
                    timed(batches, |batch| {
                        apply_rusqlite_rowwise(&mut conn, batch, Some(&row_ids)).unwrap()
                    })
                }
            };
            drop(conn);
            checkpointer.stop();
            times
        }
        Variant::GenerateOnly => timed(batches, |batch| {
            std::hint::black_box(batch);
        }),
    }
}

/// Runs `apply` on each batch; returns the time each took.
fn timed(batches: &[Vec<Persist>], mut apply: impl FnMut(&[Persist])) -> Vec<Duration> {
    batches
        .iter()
        .map(|batch| {
            let t = Instant::now();
            apply(batch);
            t.elapsed()
        })
        .collect()
}

fn rusqlite_writer(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    for pragma in WRITER_PRAGMAS {
        // Some pragmas answer with a row, some do not.
        let mut statement = conn.prepare(pragma).unwrap();
        let mut rows = statement.query([]).unwrap();
        while rows.next().unwrap().is_some() {}
    }
    // The store's statement cache holds 100 statements (sqlx's default).
    conn.set_prepared_statement_cache_capacity(100);
    conn
}

/// The store's checkpointer (connect.rs) for the variants that do not go through
/// `Store`: a passive checkpoint every 250 ms on a connection of its own, on a
/// thread of its own.
struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(path: &Path) -> Checkpointer {
        let conn = rusqlite_writer(path);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("checkpointer".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    checkpoint_now(&conn);
                }
            })
            .unwrap();
        Checkpointer { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().unwrap();
    }
}

/// One passive checkpoint (a function of its own, so that a profile can tell it apart).
#[inline(never)]
fn checkpoint_now(conn: &rusqlite::Connection) {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get::<_, i64>(0))
        .unwrap();
}

fn conversation_row_ids(conn: &rusqlite::Connection) -> HashMap<String, i64> {
    let mut statement = conn.prepare("SELECT id, row_id FROM conversations").unwrap();
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

// ---- what every variant does before it writes: the store's checks and columns ----

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One event row with its columns, as the store binds them.
struct EventRow<'a> {
    conversation: &'a str,
    seq: i64,
    at: i64,
    kind: String,
    from_role: Option<&'static str>,
    client_id: Option<&'a str>,
    search_text: Option<String>,
    data: String,
    /// The `seq` its conversation's newest stored event must have: set on each
    /// conversation's first event of the batch (the gap check).
    follows: Option<i64>,
}

/// A batch of appended events and activity moves, checked and turned into rows
/// as `append_events` in write.rs does.
struct Plan<'a> {
    rows: Vec<EventRow<'a>>,
    moves: Vec<(&'a str, i64)>,
}

fn plan(ops: &[Persist]) -> Result<Plan<'_>, Error> {
    let mut first_seq: BTreeMap<&str, u64> = BTreeMap::new();
    let mut last_seq: BTreeMap<&str, u64> = BTreeMap::new();
    let mut events: Vec<(&str, &Event)> = Vec::with_capacity(ops.len());
    let mut activity: BTreeMap<&str, i64> = BTreeMap::new();
    for op in ops {
        let (conversation, event) = match op {
            Persist::AppendEvent { conversation, event } => (conversation.as_str(), event),
            Persist::RecordActivity { conversation, at } => {
                let at = i64::try_from(*at)?;
                let newest = activity.entry(conversation.as_str()).or_insert(at);
                *newest = (*newest).max(at);
                continue;
            }
            _ => return Err("the bench's batches hold only events and activity".into()),
        };
        if event.seq == 0 {
            return Err("event seq 0".into());
        }
        if let Some(previous) = last_seq.insert(conversation, event.seq) {
            if event.seq != previous + 1 {
                return Err("gap within the batch".into());
            }
        }
        first_seq.entry(conversation).or_insert(event.seq);
        events.push((conversation, event));
    }
    let mut rows = Vec::with_capacity(events.len());
    for (conversation, event) in events {
        let columns = event_columns(&event.kind)?;
        let seq = i64::try_from(event.seq)?;
        rows.push(EventRow {
            conversation,
            seq,
            at: i64::try_from(event.at)?,
            kind: columns.0,
            from_role: columns.1,
            client_id: columns.2,
            search_text: columns.3,
            data: columns.4,
            follows: (first_seq.get(conversation) == Some(&event.seq)).then_some(seq - 1),
        });
    }
    Ok(Plan {
        rows,
        moves: activity.into_iter().collect(),
    })
}

type Columns<'a> = (String, Option<&'static str>, Option<&'a str>, Option<String>, String);

/// `EventColumns::of` (codec.rs) for the kinds the bench stores: the JSON value,
/// its tag, and for messages the role, client id and lowercased text.
fn event_columns(kind: &EventKind) -> Result<Columns<'_>, Error> {
    let value = serde_json::to_value(kind)?;
    let tag = value
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or("no kind tag")?
        .to_owned();
    let (from_role, client_id, search_text) = match kind {
        EventKind::Message {
            from, client_id, body, ..
        } => {
            let role = match from {
                Role::Visitor => "visitor",
                Role::Agent => "agent",
            };
            let text = match body {
                MessageBody::Text { text } => text.to_lowercase(),
                _ => return Err("the bench stores text messages only".into()),
            };
            (Some(role), Some(client_id.as_str()), Some(text))
        }
        _ => return Err("the bench stores messages only".into()),
    };
    Ok((tag, from_role, client_id, search_text, value.to_string()))
}

/// `statement_chunks` of write.rs: statements of 256 rows, the rest in powers of two.
fn statement_chunks<T>(items: &[T]) -> Vec<&[T]> {
    chunks_of(items, MAX_ROWS_PER_STATEMENT)
}

/// The same for the activity moves, in statements of at most `--move-rows`.
fn move_chunks<T>(items: &[T]) -> Vec<&[T]> {
    chunks_of(items, *MOVE_ROWS.get().unwrap_or(&MAX_ROWS_PER_STATEMENT))
}

fn chunks_of<T>(mut items: &[T], max: usize) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    while !items.is_empty() {
        let size = if items.len() >= max {
            max
        } else {
            1 << items.len().ilog2()
        };
        let (chunk, rest) = items.split_at(size);
        chunks.push(chunk);
        items = rest;
    }
    chunks
}

const GAP_CHECK: &str = ") AS v WHERE v.column9 IS NULL OR v.column9 = COALESCE((SELECT e.seq FROM events e \
     WHERE e.conversation_id = v.column1 ORDER BY e.seq DESC LIMIT 1), 0)";

const ACTIVITY_UPDATE: &str = "UPDATE conversations SET last_activity_at = \
     CASE WHEN v.column2 > conversations.last_activity_at THEN v.column2 ELSE conversations.last_activity_at END \
     FROM (";

// ---- (a) the same statements on sqlx's native SQLite driver ----

/// With `row_ids`, the events table is keyed by the conversation's integer
/// `row_id` (the intkey template) and the map gives it.
async fn apply_sqlx_sqlite(
    conn: &mut SqliteConnection,
    ops: &[Persist],
    row_ids: Option<&HashMap<String, i64>>,
) -> Result<(), Error> {
    let plan = plan(ops)?;
    if let Some(ids) = row_ids {
        if let Some(row) = plan.rows.iter().find(|row| !ids.contains_key(row.conversation)) {
            return Err(format!("unknown conversation {}", row.conversation).into());
        }
    }
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut query: QueryBuilder<Sqlite> = QueryBuilder::new("");
    let mut given = Vec::new();
    for chunk in statement_chunks(&plan.rows) {
        query.push(INSERT_EVENTS);
        query.push(" SELECT column1, column2, column3, column4, column5, column6, column7, column8 FROM (");
        query.push_values(chunk, |mut values, row| {
            match row_ids {
                Some(ids) => values.push_bind(ids[row.conversation]),
                None => values.push_bind(row.conversation),
            };
            values
                .push_bind(row.seq)
                .push_bind(row.at)
                .push_bind(row.kind.as_str())
                .push_bind(row.from_role)
                .push_bind(row.client_id)
                .push_bind(row.search_text.as_deref())
                .push_bind(row.data.as_str())
                .push_bind(row.follows);
        });
        query.push(GAP_CHECK);
        query.push(";\n");
        given.push(chunk.len() as u64);
    }
    for chunk in move_chunks(&plan.moves) {
        query.push(ACTIVITY_UPDATE);
        query.push_values(chunk, |mut values, (conversation, at)| {
            values
                .push("CAST(")
                .push_bind_unseparated(*conversation)
                .push_unseparated(" AS TEXT)")
                .push("CAST(")
                .push_bind_unseparated(*at)
                .push_unseparated(" AS BIGINT)");
        });
        query.push(") AS v WHERE conversations.id = v.column1;\n");
        given.push(chunk.len() as u64);
    }
    let written: Vec<u64> = tx
        .fetch_many(query.build())
        .try_filter_map(|step| async move {
            Ok(match step {
                sqlx::Either::Left(done) => Some(done.rows_affected()),
                sqlx::Either::Right(_) => None,
            })
        })
        .try_collect()
        .await?;
    if written != given {
        return Err(format!("wrote {written:?} rows of {given:?}").into());
    }
    tx.commit().await?;
    Ok(())
}

// ---- (a') sqlx Any with single-row statements, a text of them per chunk ----

/// One event; the anonymous placeholders are conversation, seq, at, kind,
/// from_role, client_id, search_text, data, then `follows` twice and the
/// conversation again for the gap check (sqlx numbers `?N` across the whole text,
/// so each statement's placeholders are anonymous).
const ROW_INSERT: &str =
    "INSERT INTO events (conversation_id, seq, at, kind, from_role, client_id, search_text, data) \
     SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ? IS NULL OR ? = COALESCE((SELECT e.seq FROM events e \
     WHERE e.conversation_id = ? ORDER BY e.seq DESC LIMIT 1), 0);\n";

/// One activity move: `at`, `at`, conversation.
const ROW_ACTIVITY: &str = "UPDATE conversations SET last_activity_at = \
     CASE WHEN ? > last_activity_at THEN ? ELSE last_activity_at END WHERE id = ?;\n";

async fn apply_any_rowwise(conn: &mut sqlx::AnyConnection, ops: &[Persist]) -> Result<(), Error> {
    let plan = plan(ops)?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for chunk in statement_chunks(&plan.rows) {
        let sql = ROW_INSERT.repeat(chunk.len());
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(row.conversation)
                .bind(row.seq)
                .bind(row.at)
                .bind(row.kind.as_str())
                .bind(row.from_role)
                .bind(row.client_id)
                .bind(row.search_text.as_deref())
                .bind(row.data.as_str())
                .bind(row.follows)
                .bind(row.follows)
                .bind(row.conversation);
        }
        let written = rows_written(&mut tx, query).await?;
        if written.len() != chunk.len() || written.iter().any(|n| *n != 1) {
            return Err("an event does not follow its conversation's last stored event".into());
        }
    }
    for chunk in move_chunks(&plan.moves) {
        let sql = ROW_ACTIVITY.repeat(chunk.len());
        let mut query = sqlx::query(&sql);
        for (conversation, at) in chunk {
            query = query.bind(*at).bind(*at).bind(*conversation);
        }
        let written = rows_written(&mut tx, query).await?;
        if written.len() != chunk.len() || written.iter().any(|n| *n != 1) {
            return Err("unknown conversation".into());
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The rows each statement of a text wrote.
async fn rows_written<'q>(
    conn: &mut sqlx::AnyConnection,
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<Vec<u64>, Error> {
    Ok(conn
        .fetch_many(query)
        .try_filter_map(|step| async move {
            Ok(match step {
                sqlx::Either::Left(done) => Some(done.rows_affected()),
                sqlx::Either::Right(_) => None,
            })
        })
        .try_collect()
        .await?)
}

// ---- (b) rusqlite, the same statements, each shape prepared once ----

fn apply_rusqlite_multirow(conn: &mut rusqlite::Connection, ops: &[Persist]) -> Result<(), Error> {
    let plan = plan(ops)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for chunk in statement_chunks(&plan.rows) {
        let mut statement = tx.prepare_cached(&multirow_events_sql(chunk.len()))?;
        let mut at = 1;
        for row in chunk {
            statement.raw_bind_parameter(at, row.conversation)?;
            statement.raw_bind_parameter(at + 1, row.seq)?;
            statement.raw_bind_parameter(at + 2, row.at)?;
            statement.raw_bind_parameter(at + 3, row.kind.as_str())?;
            statement.raw_bind_parameter(at + 4, row.from_role)?;
            statement.raw_bind_parameter(at + 5, row.client_id)?;
            statement.raw_bind_parameter(at + 6, row.search_text.as_deref())?;
            statement.raw_bind_parameter(at + 7, row.data.as_str())?;
            statement.raw_bind_parameter(at + 8, row.follows)?;
            at += 9;
        }
        if statement.raw_execute()? != chunk.len() {
            return Err("an event does not follow its conversation's last stored event".into());
        }
    }
    for chunk in move_chunks(&plan.moves) {
        let mut statement = tx.prepare_cached(&multirow_activity_sql(chunk.len()))?;
        let mut at = 1;
        for (conversation, moved) in chunk {
            statement.raw_bind_parameter(at, *conversation)?;
            statement.raw_bind_parameter(at + 1, *moved)?;
            at += 2;
        }
        if statement.raw_execute()? != chunk.len() {
            return Err("unknown conversation".into());
        }
    }
    tx.commit()?;
    Ok(())
}

/// The text the store sends for `rows` events (one statement of its batch text).
fn multirow_events_sql(rows: usize) -> String {
    let mut sql = String::from(INSERT_EVENTS);
    sql.push_str(" SELECT column1, column2, column3, column4, column5, column6, column7, column8 FROM (VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        sql.push_str("?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(GAP_CHECK);
    sql
}

fn multirow_activity_sql(rows: usize) -> String {
    let mut sql = String::from(ACTIVITY_UPDATE);
    sql.push_str("VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        sql.push_str("CAST(? AS TEXT), CAST(? AS BIGINT))");
    }
    sql.push_str(") AS v WHERE conversations.id = v.column1");
    sql
}

// ---- (b') and (c): rusqlite, one cached single-row statement per event ----

/// Stores the batch row by row. With `row_ids`, the events table is keyed by the
/// conversation's integer `row_id` (the intkey template) and the map gives it.
fn apply_rusqlite_rowwise(
    conn: &mut rusqlite::Connection,
    ops: &[Persist],
    row_ids: Option<&HashMap<String, i64>>,
) -> Result<(), Error> {
    let plan = plan(ops)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (conversation_id, seq, at, kind, from_role, client_id, search_text, data) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE ?9 IS NULL OR ?9 = COALESCE((SELECT e.seq FROM events e \
             WHERE e.conversation_id = ?1 ORDER BY e.seq DESC LIMIT 1), 0)",
        )?;
        for row in &plan.rows {
            match row_ids {
                Some(ids) => insert.raw_bind_parameter(1, *ids.get(row.conversation).ok_or("unknown conversation")?)?,
                None => insert.raw_bind_parameter(1, row.conversation)?,
            }
            insert.raw_bind_parameter(2, row.seq)?;
            insert.raw_bind_parameter(3, row.at)?;
            insert.raw_bind_parameter(4, row.kind.as_str())?;
            insert.raw_bind_parameter(5, row.from_role)?;
            insert.raw_bind_parameter(6, row.client_id)?;
            insert.raw_bind_parameter(7, row.search_text.as_deref())?;
            insert.raw_bind_parameter(8, row.data.as_str())?;
            insert.raw_bind_parameter(9, row.follows)?;
            if insert.raw_execute()? != 1 {
                return Err("an event does not follow its conversation's last stored event".into());
            }
        }
        let mut update = tx.prepare_cached(
            "UPDATE conversations SET last_activity_at = \
             CASE WHEN ?2 > last_activity_at THEN ?2 ELSE last_activity_at END WHERE id = ?1",
        )?;
        for (conversation, at) in &plan.moves {
            update.raw_bind_parameter(1, *conversation)?;
            update.raw_bind_parameter(2, *at)?;
            if update.raw_execute()? != 1 {
                return Err("unknown conversation".into());
            }
        }
    }
    tx.commit()?;
    Ok(())
}
