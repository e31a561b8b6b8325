//! Applying the core's [`Persist`] operations.

use sightline_core::records::{preview_of, Persist};
use sightline_proto::{AgentRef, ConversationStatus, Event, EventKind, PageInfo};
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
        for op in ops {
            apply_one(&mut tx, op).await?;
        }
        tx.commit().await?;
        Ok(())
    }
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
        Persist::AppendEvent { conversation, event } => append_event(conn, conversation, event).await?,
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
    id: &str,
    visitor_id: &str,
    created_at: u64,
    page: Option<&PageInfo>,
) -> Result<()> {
    let created_at = to_db(created_at, "created_at")?;
    sqlx::query(
        "INSERT INTO conversations (id, visitor_id, status, created_at, last_seq, last_activity_at, page_url, page_title) \
         VALUES ($1, $2, $3, $4, 0, $4, $5, $6)",
    )
    .bind(id)
    .bind(visitor_id)
    .bind(status_str(ConversationStatus::Waiting))
    .bind(created_at)
    .bind(page.map(|p| p.url.as_str()))
    .bind(page.map(|p| p.title.as_str()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn append_event(conn: &mut AnyConnection, conversation: &str, event: &Event) -> Result<()> {
    if event.seq == 0 {
        return Err(StoreError::InvalidInput(
            "event seq 0: sequence numbers start at 1".into(),
        ));
    }
    let seq = to_db(event.seq, "seq")?;
    let at = to_db(event.at, "at")?;
    let preview = match &event.kind {
        EventKind::Message { body, .. } => Some(preview_of(body)),
        _ => None,
    };
    // The conversation first: this both moves it forward and checks that `seq` is the
    // next one, so that events stay gap-free.
    let moved = sqlx::query(
        "UPDATE conversations SET last_seq = $2, last_activity_at = $3, preview = COALESCE($4, preview) \
         WHERE id = $1 AND last_seq = $5",
    )
    .bind(conversation)
    .bind(seq)
    .bind(at)
    .bind(preview)
    .bind(seq - 1)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        let row = sqlx::query("SELECT last_seq FROM conversations WHERE id = $1")
            .bind(conversation)
            .fetch_optional(&mut *conn)
            .await?;
        return Err(match row {
            None => StoreError::NotFound,
            Some(row) => {
                let last_seq: i64 = row.try_get("last_seq")?;
                StoreError::Conflict(format!(
                    "event {seq} of conversation {conversation} does not follow its last_seq {last_seq}"
                ))
            }
        });
    }

    let columns = EventColumns::of(&event.kind)?;
    sqlx::query(
        "INSERT INTO events (conversation_id, seq, at, kind, from_role, client_id, search_text, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(conversation)
    .bind(seq)
    .bind(at)
    .bind(columns.kind)
    .bind(columns.from_role)
    .bind(columns.client_id)
    .bind(columns.search_text)
    .bind(columns.data)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets status and agent. Closing without naming an agent keeps the one who
/// handled the conversation, so that closed conversations stay attributed to them.
async fn set_status(
    conn: &mut AnyConnection,
    conversation: &str,
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
            .bind(conversation)
            .bind(status_str(status))
            .bind(closed_at)
    } else {
        sqlx::query(
            "UPDATE conversations SET status = $2, closed_at = $3, agent_id = $4, agent_display_name = $5 \
             WHERE id = $1",
        )
        .bind(conversation)
        .bind(status_str(status))
        .bind(closed_at)
        .bind(agent.map(|a| a.id))
        .bind(agent.map(|a| a.display_name.as_str()))
    };
    let done = query.execute(&mut *conn).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
