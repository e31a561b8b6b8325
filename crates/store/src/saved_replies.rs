//! Saved replies: the team's texts, inserted into the composer by a shortcut.

use sightline_proto::api::{SavedReply, SavedReplyRequest};
use sightline_proto::AgentId;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{from_db, to_db, Result};
use crate::Store;

const COLUMNS: &str = "id, shortcut, title, body, created_by, updated_at";

fn reply_from_row(row: &AnyRow) -> Result<SavedReply> {
    Ok(SavedReply {
        id: row.try_get("id")?,
        shortcut: row.try_get("shortcut")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        created_by: row.try_get::<Option<i64>, _>("created_by")?.map(AgentId),
        updated_at: from_db(row.try_get("updated_at")?, "updated_at")?,
    })
}

impl Store {
    /// Every saved reply, by shortcut.
    pub async fn saved_replies(&self) -> Result<Vec<SavedReply>> {
        let sql = format!("SELECT {COLUMNS} FROM saved_replies ORDER BY shortcut");
        sqlx::query(&sql)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(reply_from_row)
            .collect()
    }

    /// One saved reply.
    pub async fn saved_reply(&self, id: i64) -> Result<Option<SavedReply>> {
        let sql = format!("SELECT {COLUMNS} FROM saved_replies WHERE id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(reply_from_row)
            .transpose()
    }

    /// How many saved replies there are.
    pub async fn count_saved_replies(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saved_replies")
            .fetch_one(&self.read)
            .await?;
        from_db(n, "count")
    }

    /// Stores a new saved reply (`reply` as [`SavedReplyRequest::checked`] left
    /// it). [`crate::StoreError::Conflict`] when its shortcut is taken.
    pub async fn create_saved_reply(&self, reply: &SavedReplyRequest, by: AgentId, now_ms: u64) -> Result<SavedReply> {
        let sql = format!(
            "INSERT INTO saved_replies (shortcut, title, body, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&reply.shortcut)
            .bind(&reply.title)
            .bind(&reply.body)
            .bind(by.0)
            .bind(to_db(now_ms, "created_at")?)
            .fetch_one(&self.write)
            .await?;
        reply_from_row(&row)
    }

    /// Changes a saved reply; [`crate::StoreError::NotFound`] when there is none
    /// with this id, `Conflict` when the new shortcut is another's.
    pub async fn update_saved_reply(&self, id: i64, reply: &SavedReplyRequest, now_ms: u64) -> Result<SavedReply> {
        let sql = format!(
            "UPDATE saved_replies SET shortcut = $1, title = $2, body = $3, updated_at = $4 WHERE id = $5 RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&reply.shortcut)
            .bind(&reply.title)
            .bind(&reply.body)
            .bind(to_db(now_ms, "updated_at")?)
            .bind(id)
            .fetch_one(&self.write)
            .await?;
        reply_from_row(&row)
    }

    /// Deletes a saved reply; false when there was none with this id.
    pub async fn delete_saved_reply(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM saved_replies WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
