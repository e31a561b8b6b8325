//! Reading visitors, conversations and events back.

use std::collections::HashMap;

use sightline_core::records::{RecentClientId, StoredConversation, StoredVisitor, VisitorId, RECENT_CLIENT_IDS};
use sightline_proto::{ConversationId, ConversationSummary, Event, EventKind};
use sqlx::AnyConnection;
use sqlx::Row;

use crate::codec::{recent_client_id_from_row, summary_from_row, SUMMARY_COLUMNS};
use crate::error::{from_db, to_db, Result, StoreError};
use crate::Store;

/// [`RECENT_CLIENT_IDS`] as a bind parameter.
fn recent_limit() -> i64 {
    i64::try_from(RECENT_CLIENT_IDS).unwrap_or(i64::MAX)
}

impl Store {
    /// Every visitor who has a waiting or active conversation, with that
    /// conversation (and its newest client ids) as `latest`. For the server's
    /// start-up. Should a visitor have several open conversations, the newest wins.
    pub async fn load_open_conversations(&self) -> Result<Vec<StoredVisitor>> {
        let mut tx = self.begin_read().await?;
        let sql = format!(
            "SELECT v.id AS visitor_id, v.token_hash, {SUMMARY_COLUMNS}, \
             (SELECT MAX(e.at) FROM events e WHERE e.conversation_id = c.id) AS last_event_at \
             FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
             WHERE c.status IN ('waiting', 'active') \
             ORDER BY c.created_at, c.row_id"
        );
        let rows = sqlx::query(&sql).fetch_all(&mut *tx).await?;
        let mut visitors: Vec<StoredVisitor> = Vec::with_capacity(rows.len());
        let mut index_of_visitor: HashMap<VisitorId, usize> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let mut summary = summary_from_row(row)?;
            // The stored activity may lag the newest event (see
            // `Persist::RecordActivity`); the hub's queue wants it exact.
            if let Some(at) = row.try_get::<Option<i64>, _>("last_event_at")? {
                summary.last_activity_at = summary.last_activity_at.max(from_db(at, "at")?);
            }
            let visitor = StoredVisitor {
                id: VisitorId::from(row.try_get::<String, _>("visitor_id")?),
                token_hash: row.try_get("token_hash")?,
                latest: Some(StoredConversation {
                    summary,
                    recent_client_ids: Vec::new(),
                }),
            };
            // Rows come oldest first: a later one replaces an earlier one.
            match index_of_visitor.get(&visitor.id) {
                Some(&i) => {
                    tracing::warn!(visitor = %visitor.id, "visitor has several open conversations; loading the newest");
                    visitors[i] = visitor;
                }
                None => {
                    index_of_visitor.insert(visitor.id.clone(), visitors.len());
                    visitors.push(visitor);
                }
            }
        }

        let mut index_of_conversation: HashMap<ConversationId, usize> = HashMap::with_capacity(visitors.len());
        for (i, visitor) in visitors.iter().enumerate() {
            if let Some(latest) = &visitor.latest {
                index_of_conversation.insert(latest.summary.id.clone(), i);
            }
        }
        // The newest client ids of every open conversation in one query.
        let rows = sqlx::query(
            "SELECT conversation_id, from_role, client_id, seq FROM ( \
                SELECT e.conversation_id, e.from_role, e.client_id, e.seq, \
                       ROW_NUMBER() OVER (PARTITION BY e.conversation_id ORDER BY e.seq DESC) AS rn \
                FROM events e JOIN conversations c ON c.id = e.conversation_id \
                WHERE c.status IN ('waiting', 'active') AND e.client_id IS NOT NULL \
             ) recent WHERE rn <= $1",
        )
        .bind(recent_limit())
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let conversation = ConversationId::from(row.try_get::<String, _>("conversation_id")?);
            let Some(&i) = index_of_conversation.get(&conversation) else {
                continue; // an older open conversation of a visitor, see above
            };
            if let Some(latest) = &mut visitors[i].latest {
                latest.recent_client_ids.push(recent_client_id_from_row(row)?);
            }
        }
        tx.commit().await?;
        Ok(visitors)
    }

    /// The visitor with this token hash, with their newest conversation (any status)
    /// as `latest`.
    pub async fn visitor_by_token_hash(&self, token_hash: &str) -> Result<Option<StoredVisitor>> {
        let mut tx = self.begin_read().await?;
        let row = sqlx::query("SELECT id, token_hash FROM visitors WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id = VisitorId::from(row.try_get::<String, _>("id")?);
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM conversations c WHERE c.visitor_id = $1 \
             ORDER BY c.created_at DESC, c.row_id DESC LIMIT 1"
        );
        let latest = match sqlx::query(&sql).bind(id.as_str()).fetch_optional(&mut *tx).await? {
            None => None,
            Some(row) => {
                let summary = summary_from_row(&row)?;
                let recent_client_ids = recent_client_ids(&mut tx, &summary.id).await?;
                Some(StoredConversation {
                    summary,
                    recent_client_ids,
                })
            }
        };
        let visitor = StoredVisitor {
            id,
            token_hash: row.try_get("token_hash")?,
            latest,
        };
        tx.commit().await?;
        Ok(Some(visitor))
    }

    /// Events of a conversation with `after_seq < seq <= upto_seq` (no upper bound
    /// when `None`), in `seq` order, at most `limit` of them. An unknown conversation
    /// has no events.
    pub async fn events(
        &self,
        conversation: &ConversationId,
        after_seq: u64,
        upto_seq: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let upto = match upto_seq {
            Some(upto) => to_db(upto, "upto_seq")?,
            None => i64::MAX,
        };
        let rows = sqlx::query(
            "SELECT seq, at, data FROM events \
             WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
        )
        .bind(conversation.as_str())
        .bind(to_db(after_seq, "after_seq")?)
        .bind(upto)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let data: String = row.try_get("data")?;
                let kind: EventKind = serde_json::from_str(&data)?;
                Ok(Event {
                    seq: from_db(row.try_get("seq")?, "seq")?,
                    at: from_db(row.try_get("at")?, "at")?,
                    kind,
                })
            })
            .collect()
    }

    /// A conversation's summary (`visitor_online` is false and `share` is `None`: presence
    /// and shares are live state, not stored).
    pub async fn conversation(&self, id: &ConversationId) -> Result<Option<ConversationSummary>> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM conversations c WHERE c.id = $1");
        let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(&self.read).await?;
        row.as_ref().map(summary_from_row).transpose()
    }
}

/// The newest (up to [`RECENT_CLIENT_IDS`]) client ids of a conversation.
async fn recent_client_ids(conn: &mut AnyConnection, conversation: &ConversationId) -> Result<Vec<RecentClientId>> {
    let rows = sqlx::query(
        "SELECT from_role, client_id, seq FROM events \
         WHERE conversation_id = $1 AND client_id IS NOT NULL ORDER BY seq DESC LIMIT $2",
    )
    .bind(conversation.as_str())
    .bind(recent_limit())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(recent_client_id_from_row)
        .collect::<Result<_, StoreError>>()
}
