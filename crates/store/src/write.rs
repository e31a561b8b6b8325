//! Applying the core's [`Persist`] operations.

use sightline_core::records::{Persist, VisitorId};
use sightline_proto::{AgentRef, ConversationId, ConversationStatus, Event, PageInfo};
use sqlx::Row;
use sqlx::{AnyConnection, Executor as _};

use crate::codec::{status_str, EventColumns};
use crate::error::{to_db, Result, StoreError};
use crate::{Backend, Store};

impl Store {
    /// Applies a batch of operations in order, in **one transaction**: when any of
    /// them fails, nothing of the batch is stored and the error is returned
    /// ([`StoreError::Conflict`] for a duplicate visitor, conversation, `seq` or
    /// `client_id`, or a `seq` that is not `last_seq + 1`; [`StoreError::NotFound`]
    /// for an operation on a visitor or conversation that does not exist).
    ///
    /// This is the server's group commit: the more operations per call, the fewer
    /// (expensive, synced) commits.
    pub async fn apply(&self, ops: &[Persist]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let mut rest = ops;
        while let Some(op) = rest.first() {
            // A run of appended events (most of a chat batch) is stored together,
            // in multi-row statements.
            let run = rest
                .iter()
                .take_while(|op| matches!(op, Persist::AppendEvent { .. } | Persist::RecordActivity { .. }))
                .count();
            if run > 0 {
                append_events(&mut tx, self.backend, &rest[..run]).await?;
                rest = &rest[run..];
            } else {
                apply_one(&mut tx, self.backend, op).await?;
                rest = &rest[1..];
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Most rows in one multi-row statement (an `INSERT` of events has 8 parameters a
/// row, so 256 rows are 2,048 parameters: far under either database's limit).
/// Every statement is a round trip to the database (on SQLite, to the
/// connection's worker thread and back), so a batch of a thousand events is
/// stored in a handful of statements rather than a hundred.
///
/// SQLite gets anonymous `?` placeholders: sqlx asks SQLite for the name of every
/// parameter, and SQLite finds a name by a linear search of the statement's named
/// ones, so `$N` placeholders made binding quadratic (measured: at 100 rows, a fifth
/// of the database thread went to `sqlite3_bind_parameter_name`). PostgreSQL needs
/// `$N`, and its driver does no such search.
const MAX_ROWS_PER_STATEMENT: usize = 256;

/// Most activity moves in one SQLite `UPDATE … FROM (VALUES …)`. SQLite (3.46)
/// plans that statement as one seek per value up to 128 rows, but at 256 as a scan
/// of every conversation (through a covering index) with an automatic index on the
/// values: a cost that grows with all conversations ever stored. Measured with
/// `examples/append_drivers_bench.rs` (10,000 conversations, batches of 1,024, half
/// of them carrying a move per event): 129,000 instructions per event at 256,
/// about 80,000 at 128.
const MAX_SQLITE_MOVES_PER_STATEMENT: usize = 128;

/// Splits `items` into statements of [`MAX_ROWS_PER_STATEMENT`] rows, and the rest
/// into pieces whose sizes are powers of two: the statements of a batch then come
/// in at most nine shapes, which the prepared-statement cache keeps.
fn statement_chunks<T>(items: &[T]) -> Vec<&[T]> {
    chunks_of(items, MAX_ROWS_PER_STATEMENT)
}

/// [`statement_chunks`] with at most `max` rows (a power of two) a statement.
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

/// Appends `rows` rows of placeholders, `(…), (…)`, one per entry of `casts`: `?`
/// on SQLite, numbered `$N` on PostgreSQL (see [`MAX_ROWS_PER_STATEMENT`]). A
/// placeholder with a type is written `CAST(… AS type)` (PostgreSQL cannot infer
/// the types of a bare `VALUES` list; SQLite accepts the same text).
fn values_rows(sql: &mut String, backend: Backend, rows: usize, casts: &[&str]) {
    use std::fmt::Write as _;
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for (column, cast) in casts.iter().enumerate() {
            n += 1;
            if column > 0 {
                sql.push_str(", ");
            }
            let placeholder = match backend {
                Backend::Sqlite => "?".to_owned(),
                Backend::Postgres => format!("${n}"),
            };
            // Writing to a String cannot fail.
            let _ = if cast.is_empty() {
                write!(sql, "{placeholder}")
            } else {
                write!(sql, "CAST({placeholder} AS {cast})")
            };
        }
        sql.push(')');
    }
}

/// Stores a run of `AppendEvent`s and `RecordActivity`s. Only the events are
/// written (many rows per statement), plus the few activity moves: a
/// conversation's `last_seq` and preview are derived from its events when read.
/// Each conversation's first event of the run must directly follow its newest
/// stored one (the events' primary key refuses repeats, their foreign key unknown
/// conversations): on PostgreSQL one read per [`MAX_ROWS_PER_STATEMENT`]
/// conversations checks that before writing; on SQLite the check travels in the
/// same text as the inserts (see [`append_events_sqlite`]).
async fn append_events(conn: &mut AnyConnection, backend: Backend, ops: &[Persist]) -> Result<()> {
    use std::collections::BTreeMap;
    let mut first_seq: BTreeMap<&str, u64> = BTreeMap::new();
    let mut last_seq: BTreeMap<&str, u64> = BTreeMap::new();
    let mut rows: Vec<(&str, &Event)> = Vec::with_capacity(ops.len());
    let mut activity: BTreeMap<&str, i64> = BTreeMap::new();
    for op in ops {
        let (conversation, event) = match op {
            Persist::AppendEvent { conversation, event } => (conversation.as_str(), event),
            Persist::RecordActivity { conversation, at } => {
                let at = to_db(*at, "at")?;
                let newest = activity.entry(conversation.as_str()).or_insert(at);
                *newest = (*newest).max(at);
                continue;
            }
            _ => continue,
        };
        if event.seq == 0 {
            return Err(StoreError::InvalidInput(
                "event seq 0: sequence numbers start at 1".into(),
            ));
        }
        if let Some(previous) = last_seq.insert(conversation, event.seq) {
            if event.seq != previous + 1 {
                return Err(StoreError::Conflict(format!(
                    "event {} of conversation {conversation} does not follow event {previous} of the same batch",
                    event.seq
                )));
            }
        }
        first_seq.entry(conversation).or_insert(event.seq);
        rows.push((conversation, event));
    }
    // In key order (the events' primary key): consecutive inserts and checks walk
    // the index's pages in order instead of at random. Measured with
    // `append_bench` (10,000 conversations): 10 to 15% more events/s at batches of
    // 1,024 and 4,096, no change at 64.
    rows.sort_by(|a, b| (a.0, a.1.seq).cmp(&(b.0, b.1.seq)));
    let moves: Vec<(&str, i64)> = activity.into_iter().collect();
    if backend == Backend::Sqlite {
        return append_events_sqlite(conn, &rows, &first_seq, &moves).await;
    }
    let firsts: Vec<(&str, u64)> = first_seq.into_iter().collect();
    for chunk in statement_chunks(&firsts) {
        // One seek per conversation (a `GROUP BY` would read every event of each).
        let mut sql = String::from(
            "SELECT v.column1 AS conversation_id, (SELECT e.seq FROM events e \
             WHERE e.conversation_id = v.column1 ORDER BY e.seq DESC LIMIT 1) AS last_seq FROM (VALUES ",
        );
        values_rows(&mut sql, backend, chunk.len(), &["TEXT"]);
        sql.push_str(") AS v");
        let mut query = sqlx::query(&sql);
        for (conversation, _) in chunk {
            query = query.bind(*conversation);
        }
        let stored: BTreeMap<String, i64> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                let last: Option<i64> = row.try_get("last_seq")?;
                Ok((row.try_get("conversation_id")?, last.unwrap_or(0)))
            })
            .collect::<Result<_>>()?;
        for (conversation, first) in chunk {
            let stored = stored.get(*conversation).copied().unwrap_or(0);
            if to_db(*first, "seq")? != stored + 1 {
                return Err(StoreError::Conflict(format!(
                    "event {first} of conversation {conversation} does not follow its last stored event {stored}"
                )));
            }
        }
    }
    for chunk in statement_chunks(&rows) {
        let mut sql = format!("{INSERT_EVENTS} VALUES ");
        values_rows(&mut sql, backend, chunk.len(), &[""; 8]);
        let mut query = sqlx::query(&sql);
        for (conversation, event) in chunk {
            let columns = EventColumns::of(&event.kind)?;
            query = query
                .bind(*conversation)
                .bind(to_db(event.seq, "seq")?)
                .bind(to_db(event.at, "at")?)
                .bind(columns.kind)
                .bind(columns.from_role)
                .bind(columns.client_id)
                .bind(columns.search_text)
                .bind(columns.data);
        }
        query.execute(&mut *conn).await?;
    }
    // Activity only moves forward. An unknown conversation is not found.
    for chunk in statement_chunks(&moves) {
        let mut sql = String::new();
        push_activity_update(&mut sql, backend, chunk.len());
        let mut query = sqlx::query(&sql);
        for (conversation, at) in chunk {
            query = query.bind(*conversation).bind(*at);
        }
        if query.execute(&mut *conn).await?.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

const INSERT_EVENTS: &str =
    "INSERT INTO events (conversation_id, seq, at, kind, from_role, client_id, search_text, data)";

/// An `UPDATE` that moves the activity of `rows` conversations forward (never
/// back); its placeholders are (conversation, at) pairs.
fn push_activity_update(sql: &mut String, backend: Backend, rows: usize) {
    sql.push_str(
        "UPDATE conversations SET last_activity_at = \
         CASE WHEN v.column2 > conversations.last_activity_at THEN v.column2 ELSE conversations.last_activity_at END \
         FROM (VALUES ",
    );
    values_rows(sql, backend, rows, &["TEXT", "BIGINT"]);
    sql.push_str(") AS v WHERE conversations.id = v.column1");
}

/// The SQLite form of [`append_events`]: every statement of the run goes to the
/// database in **one** call (sqlx runs a text of several statements in one trip to
/// the connection's worker thread, binding the parameters in order). Each trip is
/// two thread wake-ups, and on a busy machine a woken thread may wait its turn for
/// a core: a commit made of a dozen trips took several times as long as its
/// SQLite work.
///
/// The gap check comes first in the same text: one `SELECT` per
/// [`MAX_ROWS_PER_STATEMENT`] conversations counts those whose first event of the
/// run does not follow their newest stored one, then plain multi-row `INSERT`s
/// write the events. A failed check is seen once the text has run, and the
/// error returned before the commit rolls the writes back. (An earlier form put
/// the check inside each insert, as `INSERT … SELECT … FROM (VALUES …)` reading
/// its own table; SQLite then copies every row into a temporary table before
/// inserting it.) An activity `UPDATE` that moves fewer rows than it was given
/// names an unknown conversation.
async fn append_events_sqlite(
    conn: &mut AnyConnection,
    rows: &[(&str, &Event)],
    first_seq: &std::collections::BTreeMap<&str, u64>,
    moves: &[(&str, i64)],
) -> Result<()> {
    use futures_util::TryStreamExt as _;
    use sqlx::Either;
    #[derive(Clone, Copy)]
    enum Writes {
        /// A check: one row, the number of conversations whose first event of the
        /// run does not follow their newest stored one.
        Gaps,
        Events,
        Activity,
    }
    let mut sql = String::new();
    let mut statements: Vec<(Writes, usize)> = Vec::new();
    let firsts: Vec<(&str, u64)> = first_seq.iter().map(|(c, s)| (*c, *s)).collect();
    let check_chunks = statement_chunks(&firsts);
    for chunk in &check_chunks {
        sql.push_str("SELECT COUNT(*) FROM (VALUES ");
        values_rows(&mut sql, Backend::Sqlite, chunk.len(), &[""; 2]);
        sql.push_str(
            ") AS v WHERE v.column2 <> COALESCE((SELECT e.seq FROM events e \
             WHERE e.conversation_id = v.column1 ORDER BY e.seq DESC LIMIT 1), 0);\n",
        );
        statements.push((Writes::Gaps, chunk.len()));
    }
    let event_chunks = statement_chunks(rows);
    for chunk in &event_chunks {
        sql.push_str(INSERT_EVENTS);
        sql.push_str(" VALUES ");
        values_rows(&mut sql, Backend::Sqlite, chunk.len(), &[""; 8]);
        sql.push_str(";\n");
        statements.push((Writes::Events, chunk.len()));
    }
    let move_chunks = chunks_of(moves, MAX_SQLITE_MOVES_PER_STATEMENT);
    for chunk in &move_chunks {
        push_activity_update(&mut sql, Backend::Sqlite, chunk.len());
        sql.push_str(";\n");
        statements.push((Writes::Activity, chunk.len()));
    }
    if statements.is_empty() {
        return Ok(());
    }
    let mut query = sqlx::query(&sql);
    for chunk in &check_chunks {
        for (conversation, first) in *chunk {
            query = query.bind(*conversation).bind(to_db(*first, "seq")? - 1);
        }
    }
    for chunk in &event_chunks {
        for (conversation, event) in *chunk {
            let columns = EventColumns::of(&event.kind)?;
            query = query
                .bind(*conversation)
                .bind(to_db(event.seq, "seq")?)
                .bind(to_db(event.at, "at")?)
                .bind(columns.kind)
                .bind(columns.from_role)
                .bind(columns.client_id)
                .bind(columns.search_text)
                .bind(columns.data);
        }
    }
    for chunk in &move_chunks {
        for (conversation, at) in *chunk {
            query = query.bind(*conversation).bind(*at);
        }
    }
    // Each statement's outcome in order: a check's count, a write's rows.
    let mut outcomes: Vec<u64> = Vec::with_capacity(statements.len());
    let mut gaps: Option<i64> = None;
    let mut failed: Option<sqlx::Error> = None;
    let mut steps = conn.fetch_many(query);
    loop {
        match steps.try_next().await {
            Ok(Some(Either::Left(done))) => match gaps.take() {
                Some(count) => outcomes.push(u64::try_from(count).unwrap_or(u64::MAX)),
                None => outcomes.push(done.rows_affected()),
            },
            Ok(Some(Either::Right(row))) => gaps = Some(row.try_get(0)?),
            Ok(None) => break,
            Err(err) => {
                failed = Some(err);
                break;
            }
        }
    }
    drop(steps);
    // The checks ran first: a gap they found names the failure even when a later
    // statement failed too (the insert of a gap's event into a conversation that
    // does not exist fails its foreign key, a repeat its primary key).
    let gap_found = statements
        .iter()
        .zip(&outcomes)
        .find(|((what, _), outcome)| matches!(what, Writes::Gaps) && **outcome != 0);
    if let Some(((_, given), outcome)) = gap_found {
        return Err(StoreError::Conflict(format!(
            "{outcome} of {given} conversations' first events of the batch do not follow their last stored event"
        )));
    }
    if let Some(err) = failed {
        return Err(err.into());
    }
    if outcomes.len() != statements.len() {
        return Err(StoreError::Conflict(format!(
            "{} of {} statements of the batch ran",
            outcomes.len(),
            statements.len()
        )));
    }
    // A failure returns before the commit: the caller's transaction rolls back
    // whatever the text wrote after a failed check.
    for ((what, given), outcome) in statements.iter().zip(outcomes) {
        let given = *given as u64;
        match what {
            // Plain inserts either write every row or fail: a defence only.
            Writes::Events if outcome != given => {
                return Err(StoreError::Conflict(format!(
                    "{outcome} of {given} events of the batch were stored"
                )))
            }
            Writes::Activity if outcome != given => return Err(StoreError::NotFound),
            _ => {}
        }
    }
    Ok(())
}

async fn apply_one(conn: &mut AnyConnection, backend: Backend, op: &Persist) -> Result<()> {
    match op {
        Persist::CreateVisitor {
            id,
            token_hash,
            created_at,
        } => {
            sqlx::query("INSERT INTO visitors (id, token_hash, created_at) VALUES ($1, $2, $3)")
                .bind(id.as_str())
                .bind(token_hash.as_str())
                .bind(to_db(*created_at, "created_at")?)
                .execute(&mut *conn)
                .await?;
        }
        Persist::CreateConversation {
            id,
            visitor_id,
            created_at,
            page,
        } => {
            create_conversation(conn, id, visitor_id, *created_at, page.as_ref()).await?;
        }
        Persist::AppendEvent { .. } | Persist::RecordActivity { .. } => {
            append_events(conn, backend, std::slice::from_ref(op)).await?
        }
        Persist::SetStatus {
            conversation,
            status,
            agent,
            at,
        } => {
            set_status(conn, conversation, *status, agent.as_ref(), *at).await?;
        }
        Persist::SetIdentity {
            conversation,
            identity_id,
        } => {
            sqlx::query("UPDATE conversations SET identity_id = $1 WHERE id = $2")
                .bind(identity_id.as_str())
                .bind(conversation.as_str())
                .execute(&mut *conn)
                .await?;
        }
        Persist::CreateImage {
            conversation,
            image,
            uploaded_by,
            agent_id,
            created_at,
        } => {
            crate::images::create_image(conn, conversation, image, *uploaded_by, *agent_id, *created_at).await?;
        }
    }
    Ok(())
}

async fn create_conversation(
    conn: &mut AnyConnection,
    id: &ConversationId,
    visitor_id: &VisitorId,
    created_at: u64,
    page: Option<&PageInfo>,
) -> Result<()> {
    let created_at = to_db(created_at, "created_at")?;
    sqlx::query(
        "INSERT INTO conversations (id, visitor_id, status, created_at, last_activity_at, page_url, page_title) \
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(visitor_id.as_str())
    .bind(status_str(ConversationStatus::Waiting))
    .bind(created_at)
    .bind(page.map(|p| p.url.as_str()))
    .bind(page.map(|p| p.title.as_str()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets status, agent and activity (`at`). Closing without naming an agent keeps the one who
/// handled the conversation, so that closed conversations stay attributed to them.
async fn set_status(
    conn: &mut AnyConnection,
    conversation: &ConversationId,
    status: ConversationStatus,
    agent: Option<&AgentRef>,
    at: u64,
) -> Result<()> {
    let closed_at = match status {
        ConversationStatus::Closed => Some(to_db(at, "at")?),
        ConversationStatus::Waiting | ConversationStatus::Active => None,
    };
    let query = if status == ConversationStatus::Closed && agent.is_none() {
        sqlx::query("UPDATE conversations SET status = $2, closed_at = $3, last_activity_at = $4 WHERE id = $1")
            .bind(conversation.as_str())
            .bind(status_str(status))
            .bind(closed_at)
            .bind(to_db(at, "at")?)
    } else {
        sqlx::query(
            "UPDATE conversations SET status = $2, closed_at = $3, agent_id = $4, agent_display_name = $5, \
             last_activity_at = $6 WHERE id = $1",
        )
        .bind(conversation.as_str())
        .bind(status_str(status))
        .bind(closed_at)
        .bind(agent.map(|a| a.id.0))
        .bind(agent.map(|a| a.display_name.as_str()))
        .bind(to_db(at, "at")?)
    };
    let done = query.execute(&mut *conn).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_come_in_few_shapes_and_cover_every_row() {
        let mut shapes = std::collections::BTreeSet::new();
        for n in 0..2_000usize {
            let items: Vec<usize> = (0..n).collect();
            let chunks = statement_chunks(&items);
            let flat: Vec<usize> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            assert_eq!(flat, items, "every row once, in order ({n})");
            assert!(chunks
                .iter()
                .all(|c| !c.is_empty() && c.len() <= MAX_ROWS_PER_STATEMENT));
            shapes.extend(chunks.iter().map(|c| c.len()));
        }
        assert_eq!(shapes.len(), 9, "{shapes:?}");
    }

    #[test]
    fn sqlite_gets_anonymous_placeholders_and_postgres_numbered_ones() {
        let mut sql = String::new();
        values_rows(&mut sql, Backend::Sqlite, 2, &["TEXT", ""]);
        assert_eq!(sql, "(CAST(? AS TEXT), ?), (CAST(? AS TEXT), ?)");
        let mut sql = String::new();
        values_rows(&mut sql, Backend::Postgres, 2, &["TEXT", ""]);
        assert_eq!(sql, "(CAST($1 AS TEXT), $2), (CAST($3 AS TEXT), $4)");
    }
}
