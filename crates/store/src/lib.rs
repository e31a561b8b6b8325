//! Sightline's storage: agents, their login sessions, visitors, conversations and
//! their events, on [sqlx]'s `Any` driver.
//!
//! # Backends
//!
//! SQLite is the default; PostgreSQL is used when the URL starts with `postgres://`
//! or `postgresql://`. Every query is written once with `$1, $2, …` placeholders and
//! binds only portable types (`i64`, `String`, `Option<…>`). The schema lives in
//! `migrations/sqlite` and `migrations/postgres` (same tables, columns, constraints
//! and index names; only types differ), embedded in the binary and applied by
//! [`Store::connect`].
//!
//! Representation: times are `BIGINT` milliseconds since the Unix epoch, booleans
//! are integers 0/1, enums are their `snake_case` protocol names as text.
//!
//! # Schema
//!
//! - `users`: agent accounts. `name` is stored lowercased (Rust's Unicode
//!   lowercasing, so both backends agree) and is `UNIQUE`: names are unique
//!   case-insensitively and looked up case-insensitively.
//! - `sessions`: login sessions by the hash of their cookie token, with the CSRF
//!   token and an expiry; deleted with their user.
//! - `visitors`: anonymous visitors by id, with the (unique) hash of their token.
//! - `conversations`: one row per conversation with its summary columns (`status`,
//!   `agent_id` + `agent_display_name`, `last_seq`, `last_activity_at`, `preview`,
//!   `page_url` + `page_title`, `closed_at`). `row_id` records insertion order.
//!   Indexed by visitor and by `last_activity_at` (alone, after `status`, after
//!   `agent_id`) for the console's lists.
//! - `events`: every event, keyed by `(conversation_id, seq)`. `data` holds the
//!   [`EventKind`](sightline_proto::EventKind) as JSON and is what is read back; the
//!   other columns (`kind`, `from_role`, `client_id`, `search_text`) exist for
//!   constraints, look-ups and search.
//! - `images`: uploaded images by id: their conversation, the SHA-256 names of the
//!   original and thumbnail blobs (see [`BlobStore`]), type, dimensions, who
//!   uploaded them, the image they were annotated from and their annotations.
//!
//! # Invariants
//!
//! - [`Store::apply`] applies a whole batch of [`Persist`] operations in **one
//!   transaction**, in order: either all of it is stored or none of it.
//! - Events of a conversation are numbered 1, 2, 3, … without gaps: an event is
//!   only appended when its `seq` is the conversation's `last_seq + 1`, and
//!   `(conversation_id, seq)` is unique. After every commit `last_seq` is the
//!   highest stored `seq` and `last_activity_at` the `at` of that event.
//! - A message's `(conversation, from role, client_id)` is unique, so a retried
//!   message can never be stored twice.
//! - `preview` is [`preview_of`](sightline_core::records::preview_of) the newest
//!   message.
//! - Users, visitors and conversations are never deleted; users are disabled.
//!
//! # Concurrency
//!
//! On SQLite all writes go through one connection (see [`Store::connect`]), reads
//! through a small pool of read-only connections; WAL lets them run side by side.
//! On PostgreSQL one pool serves both.

mod blobs;
mod codec;
mod connect;
mod conversations;
mod error;
mod images;
mod list;
mod saved_replies;
mod sessions;
mod site_origins;
mod site_policy;
#[cfg(feature = "testing")]
pub mod testing;
mod users;
mod write;

pub use blobs::BlobStore;
pub use error::{Result, StoreError};
pub use images::ImageRecord;
pub use list::{ConversationQuery, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use sessions::SessionRecord;
pub use users::UserRecord;

// The types of the API, for callers' convenience.
pub use sightline_core::records::{NewImage, Persist, RecentClientId, StoredConversation, StoredVisitor};
pub use sightline_proto::api::{ConversationPage, UpdateUserRequest, UserInfo};

use sqlx::AnyPool;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL selects: PostgreSQL for `postgres://` and
    /// `postgresql://`, SQLite for everything else.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// A handle on the database. Cheap to clone: clones share the connection pools.
#[derive(Debug, Clone)]
pub struct Store {
    /// Every write, and every transaction that writes, goes here.
    write: AnyPool,
    /// Reads. The same pool as `write` on PostgreSQL and for in-memory SQLite.
    read: AnyPool,
    backend: Backend,
    /// While any clone of the store lives, so does the SQLite checkpointer (it
    /// holds the weak end).
    _alive: std::sync::Arc<()>,
}

impl Store {
    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection, waiting for those in use to be returned. On SQLite,
    /// first lets SQLite refresh its query planner statistics (`PRAGMA optimize`,
    /// cheap, and best-effort).
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite && !self.write.is_closed() {
            if let Err(e) = sqlx::query("PRAGMA optimize").execute(&self.write).await {
                tracing::debug!(error = %e, "PRAGMA optimize failed");
            }
        }
        self.write.close().await;
        self.read.close().await;
    }

    /// Begins a transaction that writes. On SQLite, `BEGIN IMMEDIATE` takes the write
    /// lock at once, so that another process holding it makes us wait (busy timeout)
    /// instead of failing half-way through the batch.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        };
        Ok(tx)
    }

    /// Begins a read-only transaction whose statements all see one snapshot.
    async fn begin_read(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.backend {
            // A deferred transaction reads from one snapshot from its first SELECT on.
            Backend::Sqlite => self.read.begin().await?,
            Backend::Postgres => {
                self.read
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        Ok(tx)
    }
}
