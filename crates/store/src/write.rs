//! Applying the core's [`Persist`] operations.

use sightline_core::records::{Persist, VisitorId};
use sightline_proto::{AgentRef, ConversationId, ConversationStatus, Event, PageInfo};
use sqlx::AnyConnection;
use sqlx::Row;

use crate::codec::{status_str, EventColumns};
use crate::error::{to_db, Result, StoreError};
use crate::Store;

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
                append_events(&mut tx, &rest[..run]).await?;
                rest = &rest[run..];
            } else {
                apply_one(&mut tx, op).await?;
                rest = &rest[1..];
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Rows per multi-row `INSERT` (8 parameters each). Not more: SQLite finds a
/// parameter's name by a linear search, and sqlx asks for every one, so binding
/// costs grow with the square of the parameters in a statement (measured: at 100
/// rows, a fifth of the database thread went to `sqlite3_bind_parameter_name`).
const EVENT_ROWS_PER_INSERT: usize = 16;
/// Conversations per statement when checking where their events stand or moving
/// their activity forward.
const CONVERSATIONS_PER_STATEMENT: usize = 16;

/// Appends `rows` rows of `$N` placeholders, `($1, $2, …), ($k+1, …)`, one per
/// entry of `casts`: a placeholder with a type is written
/// `CAST($N AS type)` (PostgreSQL cannot infer the types of a bare `VALUES` list;
/// SQLite accepts the same text).
fn values_rows(sql: &mut String, rows: usize, casts: &[&str]) {
    use std::fmt::Write as _;
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for (column, cast) in casts.iter().enumerate() {
            n += 1;
            if column > 0 {
                sql.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = if cast.is_empty() {
                write!(sql, "${n}")
            } else {
                write!(sql, "CAST(${n} AS {cast})")
            };
        }
        sql.push(')');
    }
}

/// Stores a run of `AppendEvent`s and `RecordActivity`s. Only the events are
/// written (many rows per statement), plus the few activity moves: a
/// conversation's `last_seq` and preview are derived from its events when read.
/// Before writing, one read per [`CONVERSATIONS_PER_STATEMENT`] conversations
/// checks that each conversation's first event of the run directly follows its
/// newest stored one (the events' primary key refuses repeats, their foreign key
/// unknown conversations).
async fn append_events(conn: &mut AnyConnection, ops: &[Persist]) -> Result<()> {
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
    let firsts: Vec<(&str, u64)> = first_seq.into_iter().collect();
    for chunk in firsts.chunks(CONVERSATIONS_PER_STATEMENT) {
        // One seek per conversation (a `GROUP BY` would read every event of each).
        let mut sql = String::from(
            "SELECT v.column1 AS conversation_id, (SELECT e.seq FROM events e \
             WHERE e.conversation_id = v.column1 ORDER BY e.seq DESC LIMIT 1) AS last_seq FROM (VALUES ",
        );
        values_rows(&mut sql, chunk.len(), &["TEXT"]);
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
    for chunk in rows.chunks(EVENT_ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO events (conversation_id, seq, at, kind, from_role, client_id, search_text, data) VALUES ",
        );
        values_rows(&mut sql, chunk.len(), &[""; 8]);
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
    let moves: Vec<(&str, i64)> = activity.into_iter().collect();
    for chunk in moves.chunks(CONVERSATIONS_PER_STATEMENT) {
        let mut sql = String::from(
            "UPDATE conversations SET last_activity_at = \
             CASE WHEN v.column2 > conversations.last_activity_at THEN v.column2 ELSE conversations.last_activity_at END \
             FROM (VALUES ",
        );
        values_rows(&mut sql, chunk.len(), &["TEXT", "BIGINT"]);
        sql.push_str(") AS v WHERE conversations.id = v.column1");
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

async fn apply_one(conn: &mut AnyConnection, op: &Persist) -> Result<()> {
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
            append_events(conn, std::slice::from_ref(op)).await?
        }
        Persist::SetStatus {
            conversation,
            status,
            agent,
            at,
        } => {
            set_status(conn, conversation, *status, agent.as_ref(), *at).await?;
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
