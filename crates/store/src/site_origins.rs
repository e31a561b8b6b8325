//! Site origins allowed at run time (the admin console's Install page).

use sightline_proto::AgentId;

use crate::error::{to_db, Result};
use crate::Store;

impl Store {
    /// The stored site origins, in order.
    pub async fn site_origins(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT origin FROM site_origins ORDER BY origin")
            .fetch_all(&self.read)
            .await?)
    }

    /// Stores a (normalised) site origin; false when it was stored already.
    pub async fn add_site_origin(&self, origin: &str, by: AgentId, now_ms: u64) -> Result<bool> {
        let added = sqlx::query(
            "INSERT INTO site_origins (origin, added_at, added_by) VALUES ($1, $2, $3) ON CONFLICT (origin) DO NOTHING",
        )
        .bind(origin)
        .bind(to_db(now_ms, "added_at")?)
        .bind(by.0)
        .execute(&self.write)
        .await?;
        Ok(added.rows_affected() == 1)
    }

    /// Removes a stored site origin; false when it was not stored.
    pub async fn remove_site_origin(&self, origin: &str) -> Result<bool> {
        let removed = sqlx::query("DELETE FROM site_origins WHERE origin = $1")
            .bind(origin)
            .execute(&self.write)
            .await?;
        Ok(removed.rows_affected() == 1)
    }
}
