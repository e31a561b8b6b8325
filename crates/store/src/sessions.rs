//! Login sessions of agents.

use sightline_proto::AgentId;
use sqlx::Row;

use crate::error::{from_db, to_db, Result};
use crate::users::user_from_row;
use crate::{Store, UserRecord};

/// A login session. The cookie token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: AgentId,
    pub csrf_token: String,
    pub created_at: u64,
    /// The session is valid while `now < expires_at`.
    pub expires_at: u64,
}

impl Store {
    /// Stores a new session. [`StoreError::Conflict`](crate::StoreError::Conflict)
    /// when the token hash exists, [`StoreError::NotFound`](crate::StoreError::NotFound)
    /// when the user does not.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: AgentId,
        csrf_token: &str,
        now_ms: u64,
        expires_at_ms: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id.0)
        .bind(csrf_token)
        .bind(to_db(now_ms, "created_at")?)
        .bind(to_db(expires_at_ms, "expires_at")?)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The session with this token hash and its user, when the session has not
    /// expired at `now_ms` and the user is not disabled.
    pub async fn session(&self, token_hash: &str, now_ms: u64) -> Result<Option<(SessionRecord, UserRecord)>> {
        let row = sqlx::query(
            "SELECT s.token_hash, s.csrf_token, s.created_at AS session_created_at, s.expires_at, \
                    u.id, u.name, u.display_name, u.password_hash, u.is_admin, u.disabled, u.created_at, \
                    u.must_change_password, u.avatar_colour, u.may_screen_share, u.may_cobrowse, \
                    u.may_remote_control, u.may_session_keys \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_hash)
        .bind(to_db(now_ms, "now")?)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let session = SessionRecord {
            token_hash: row.try_get("token_hash")?,
            user_id: user.info.id,
            csrf_token: row.try_get("csrf_token")?,
            created_at: from_db(row.try_get("session_created_at")?, "created_at")?,
            expires_at: from_db(row.try_get("expires_at")?, "expires_at")?,
        };
        Ok(Some((session, user)))
    }

    /// Ends a session (logout). Deleting a session that does not exist is not an error.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Ends every session of a user (password changed, account disabled). Returns how
    /// many there were.
    pub async fn delete_sessions_of_user(&self, user_id: AgentId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id.0)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    /// Ends every session of a user but one (the user changed their own password in
    /// it). Returns how many ended.
    pub async fn delete_other_sessions(&self, user_id: AgentId, keep_token_hash: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id.0)
            .bind(keep_token_hash)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes the sessions that have expired at `now_ms`. Returns how many.
    pub async fn delete_expired_sessions(&self, now_ms: u64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(to_db(now_ms, "now")?)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}
