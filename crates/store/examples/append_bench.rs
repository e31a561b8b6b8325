//! The chat write path alone: `Store::apply` of batches of appended messages
//! spread over many open conversations, as the hub commits them, on SQLite and
//! (when `SIGHTLINE_TEST_POSTGRES` is set) PostgreSQL. Prints, per batch size,
//! events stored per second and the median and p99 time of one commit.
//!
//! ```sh
//! cargo run --release -p sightline-store --example append_bench [-- CONVERSATIONS SECONDS_PER_SIZE]
//! ```

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::fixtures::*;
use common::{on_each_backend, TestDb};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let conversations: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    on_each_backend("append", |db: TestDb| async move {
        let store = db.connect().await;
        for chunk in 0..conversations.div_ceil(500) {
            let mut batch = Vec::new();
            for n in chunk * 500..((chunk + 1) * 500).min(conversations) {
                batch.extend(visitor_with_message(n, 1_000, "hello"));
            }
            store.apply(&batch).await.unwrap();
        }
        let mut next_seq = vec![2u64; conversations];
        let mut turn = 0usize;
        let mut at = 2_000u64;
        println!("[{:?}] {conversations} open conversations", db.backend);
        println!("  batch   events/s   commit p50 ms   commit p99 ms");
        for size in [64usize, 256, 1024, 4096] {
            let mut times = Vec::new();
            let started = Instant::now();
            let mut events = 0usize;
            while started.elapsed() < Duration::from_secs(seconds) {
                let mut batch = Vec::with_capacity(size + size / 8);
                for _ in 0..size {
                    let n = turn % conversations;
                    turn = turn.wrapping_add(7919); // a prime: conversations interleave
                    let c = format!("conv-{n}");
                    let seq = next_seq[n];
                    next_seq[n] += 1;
                    at += 1;
                    batch.push(visitor_says(
                        &c,
                        seq,
                        at,
                        "a chat message of ordinary length, about fifty",
                    ));
                    if seq.is_multiple_of(16) {
                        batch.push(activity(&c, at));
                    }
                }
                let t = Instant::now();
                store.apply(&batch).await.unwrap();
                times.push(t.elapsed());
                events += size;
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!(
                "  {size:5}   {:8.0}   {:13.2}   {:13.2}",
                events as f64 / started.elapsed().as_secs_f64(),
                ms(times[times.len() / 2]),
                ms(times[(times.len() * 99 / 100).min(times.len() - 1)]),
            );
        }
        store.close().await;
    })
    .await;
}
