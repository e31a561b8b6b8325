//! Applying the core's [`Persist`] operations.

use sightline_core::records::{preview_of, Persist, VisitorId};
use sightline_proto::{AgentRef, ConversationId, ConversationStatus, Event, EventKind, PageInfo};
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
            // A run of appended events (most of a chat batch) is stored together:
            // one update per conversation and multi-row inserts.
            let run = rest
                .iter()
                .take_while(|op| matches!(op, Persist::AppendEvent { .. }))
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
/// Conversations moved forward per `UPDATE … FROM (VALUES …)` (5 parameters each).
const CONVERSATIONS_PER_UPDATE: usize = 16;

/// Appends `rows` rows of `$N` placeholders, `($1, $2, …), ($k+1, …)`, one per
/// entry of `casts`: a placeholder with a type is written `CAST($N AS type)`
/// (PostgreSQL cannot infer the types of a bare `VALUES` list; SQLite accepts
/// the same text).
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

/// Stores a run of `AppendEvent`s: for each conversation, one update that moves
/// `last_seq` from the one before its first event to its last (which is also the
/// check that they follow on without a gap), then the events themselves, many
/// rows per statement.
async fn append_events(conn: &mut AnyConnection, ops: &[Persist]) -> Result<()> {
    use std::collections::BTreeMap;
    let mut by_conversation: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    let mut rows: Vec<(&str, &Event)> = Vec::with_capacity(ops.len());
    for op in ops {
        let Persist::AppendEvent { conversation, event } = op else {
            continue;
        };
        if event.seq == 0 {
            return Err(StoreError::InvalidInput(
                "event seq 0: sequence numbers start at 1".into(),
            ));
        }
        let events = by_conversation.entry(conversation.as_str()).or_default();
        if let Some(previous) = events.last() {
            if event.seq != previous.seq + 1 {
                return Err(StoreError::Conflict(format!(
                    "event {} of conversation {conversation} does not follow event {} of the same batch",
                    event.seq, previous.seq
                )));
            }
        }
        events.push(event);
        rows.push((conversation.as_str(), event));
    }
    // Each conversation moves from the seq before its first event to its last, in
    // one statement per CONVERSATIONS_PER_UPDATE conversations. A conversation
    // whose `last_seq` is not where the batch starts is not updated, and the
    // count of updated rows tells.
    let moves: Vec<(&str, i64, i64, i64, Option<String>)> = by_conversation
        .iter()
        .filter_map(|(conversation, events)| {
            let (first, last) = (events.first()?, events.last()?);
            let preview = events.iter().rev().find_map(|e| match &e.kind {
                EventKind::Message { body, .. } => Some(preview_of(body)),
                _ => None,
            });
            Some((*conversation, first.seq, last.seq, last.at, preview))
        })
        .map(|(conversation, first, last, at, preview)| {
            Ok::<_, StoreError>((
                conversation,
                to_db(first, "seq")? - 1,
                to_db(last, "seq")?,
                to_db(at, "at")?,
                preview,
            ))
        })
        .collect::<Result<_>>()?;
    for chunk in moves.chunks(CONVERSATIONS_PER_UPDATE) {
        let mut sql = String::from(
            "UPDATE conversations SET last_seq = v.column3, last_activity_at = v.column4, \
             preview = COALESCE(v.column5, conversations.preview) FROM (VALUES ",
        );
        values_rows(&mut sql, chunk.len(), &["TEXT", "BIGINT", "BIGINT", "BIGINT", "TEXT"]);
        sql.push_str(") AS v WHERE conversations.id = v.column1 AND conversations.last_seq = v.column2");
        let mut query = sqlx::query(&sql);
        for (conversation, before, last, at, preview) in chunk {
            query = query
                .bind(*conversation)
                .bind(*before)
                .bind(*last)
                .bind(*at)
                .bind(preview.clone());
        }
        let moved = query.execute(&mut *conn).await?;
        if moved.rows_affected() != chunk.len() as u64 {
            // Which one, and why (for the error only): the one not moved to its last.
            for (conversation, before, last, ..) in chunk {
                let row = sqlx::query("SELECT last_seq FROM conversations WHERE id = $1")
                    .bind(*conversation)
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(row) = row else {
                    return Err(StoreError::NotFound);
                };
                let last_seq: i64 = row.try_get("last_seq")?;
                if last_seq != *last {
                    return Err(StoreError::Conflict(format!(
                        "event {} of conversation {conversation} does not follow its last_seq {last_seq}",
                        before + 1
                    )));
                }
            }
            return Err(StoreError::Conflict(
                "events of this batch do not follow their conversations' last_seq".into(),
            ));
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
        Persist::AppendEvent { .. } => append_events(conn, std::slice::from_ref(op)).await?,
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
        "INSERT INTO conversations (id, visitor_id, status, created_at, last_seq, last_activity_at, page_url, page_title) \
         VALUES ($1, $2, $3, $4, 0, $4, $5, $6)",
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

/// Sets status and agent. Closing without naming an agent keeps the one who
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
        sqlx::query("UPDATE conversations SET status = $2, closed_at = $3 WHERE id = $1")
            .bind(conversation.as_str())
            .bind(status_str(status))
            .bind(closed_at)
    } else {
        sqlx::query(
            "UPDATE conversations SET status = $2, closed_at = $3, agent_id = $4, agent_display_name = $5 \
             WHERE id = $1",
        )
        .bind(conversation.as_str())
        .bind(status_str(status))
        .bind(closed_at)
        .bind(agent.map(|a| a.id.0))
        .bind(agent.map(|a| a.display_name.as_str()))
    };
    let done = query.execute(&mut *conn).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
