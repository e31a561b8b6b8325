//! Timings of the history queries on a large database: 30,000 conversations and
//! 300,000 events, on SQLite and (when `SIGHTLINE_TEST_POSTGRES` is set) PostgreSQL.
//!
//! ```sh
//! cargo run --release -p sightline-store --example history_bench
//! ```

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::fixtures::*;
use common::{on_each_backend, TestDb};
use sightline_proto::ConversationStatus;
use sightline_store::ConversationQuery;

#[tokio::main]
async fn main() {
    on_each_backend("large", |db: TestDb| async move {
        use std::time::Instant;
        let store = db.connect().await;
        let agents = [agent(&store, "a1").await, agent(&store, "a2").await];
        let conversations = 30_000usize;
        let started = Instant::now();
        for chunk in 0..conversations / 500 {
            let mut batch = Vec::new();
            for n in chunk * 500..(chunk + 1) * 500 {
                let at = 1_000_000 + n as u64 * 7;
                batch.extend(visitor_with_message(
                    n,
                    at,
                    &format!("conversation number {n} about loans"),
                ));
                let c = format!("conv-{n}");
                for seq in 2..=10u64 {
                    batch.push(visitor_says(&c, seq, at + seq, "some ordinary words in a message"));
                }
                match n % 4 {
                    0 => batch.push(set_status(&c, ConversationStatus::Active, Some(&agents[n % 2]), at)),
                    1 => batch.push(set_status(&c, ConversationStatus::Closed, Some(&agents[n % 2]), at)),
                    _ => {}
                }
            }
            store.apply(&batch).await.unwrap();
        }
        eprintln!(
            "[{:?}] built {conversations} conversations in {:?}",
            db.backend,
            started.elapsed()
        );

        for round in ["before ANALYZE", "after ANALYZE"] {
            if round == "after ANALYZE" {
                // What autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) does in time.
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
                    .await
                    .unwrap();
                sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
            }
            eprintln!("[{:?}] {round}", db.backend);
            let time = |label: &'static str, query: ConversationQuery| {
                let store = store.clone();
                let backend = db.backend;
                async move {
                    let started = Instant::now();
                    let page = store.list_conversations(&query).await.unwrap();
                    eprintln!(
                        "[{backend:?}] {label}: {} rows in {:?}",
                        page.conversations.len(),
                        started.elapsed()
                    );
                    page
                }
            };
            let page = time("first page", ConversationQuery::default()).await;
            assert_eq!(page.conversations.len(), 50);
            let deep = Some(1_000_000 + 1_000 * 7);
            let page = time(
                "deep page",
                ConversationQuery {
                    before: deep,
                    ..ConversationQuery::default()
                },
            )
            .await;
            assert_eq!(page.conversations.len(), 50);
            let waiting = ConversationQuery {
                status: Some(ConversationStatus::Waiting),
                ..ConversationQuery::default()
            };
            assert_eq!(time("waiting", waiting).await.conversations.len(), 50);
            let mine = ConversationQuery {
                agent_id: Some(agents[0].id),
                status: Some(ConversationStatus::Active),
                ..ConversationQuery::default()
            };
            assert_eq!(time("agent + active", mine).await.conversations.len(), 50);
            let common = ConversationQuery {
                text: Some("LOANS".into()),
                ..ConversationQuery::default()
            };
            assert_eq!(time("search, common word", common).await.conversations.len(), 50);
            let rare = ConversationQuery {
                text: Some("number 12345 ".into()),
                ..ConversationQuery::default()
            };
            assert_eq!(time("search, one match", rare).await.conversations.len(), 1);
            let none = ConversationQuery {
                text: Some("absent".into()),
                ..ConversationQuery::default()
            };
            assert_eq!(time("search, no match", none).await.conversations.len(), 0);
        }
        let started = Instant::now();
        let open = store.load_open_conversations().await.unwrap();
        eprintln!(
            "[{:?}] load_open_conversations: {} in {:?}",
            db.backend,
            open.len(),
            started.elapsed()
        );
        assert_eq!(open.len(), conversations / 4 * 3);
        store.close().await;
    })
    .await;
}
