//! The site policy (the admin console's Policy section): one row, absent until an
//! admin first saves it, which reads as everything allowed and nothing private.

use sightline_proto::{AgentId, Permissions, SitePolicy};
use sqlx::Row;

use crate::error::{flag, to_db, Result};
use crate::Store;

impl Store {
    /// The stored site policy, or the default one.
    pub async fn site_policy(&self) -> Result<SitePolicy> {
        let row = sqlx::query(
            "SELECT may_screen_share, may_cobrowse, may_remote_control, may_session_keys, private_selectors \
             FROM site_policy WHERE id = 1",
        )
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok(SitePolicy::default());
        };
        let selectors: String = row.try_get("private_selectors")?;
        Ok(SitePolicy {
            allowed: Permissions {
                screen_share: flag(row.try_get("may_screen_share")?, "may_screen_share")?,
                cobrowse: flag(row.try_get("may_cobrowse")?, "may_cobrowse")?,
                remote_control: flag(row.try_get("may_remote_control")?, "may_remote_control")?,
                session_keys: flag(row.try_get("may_session_keys")?, "may_session_keys")?,
            },
            private_selectors: selectors.lines().map(str::to_owned).collect(),
        })
    }

    /// Replaces the site policy. Its selectors must hold no line break (the API
    /// checks each with `sightline_proto::check_private_selector`).
    pub async fn set_site_policy(&self, policy: &SitePolicy, by: AgentId, now_ms: u64) -> Result<()> {
        let allowed = policy.allowed;
        sqlx::query(
            "INSERT INTO site_policy (id, may_screen_share, may_cobrowse, may_remote_control, may_session_keys, \
             private_selectors, changed_at, changed_by) VALUES (1, $1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET may_screen_share = $1, may_cobrowse = $2, may_remote_control = $3, \
             may_session_keys = $4, private_selectors = $5, changed_at = $6, changed_by = $7",
        )
        .bind(i64::from(allowed.screen_share))
        .bind(i64::from(allowed.cobrowse))
        .bind(i64::from(allowed.remote_control))
        .bind(i64::from(allowed.session_keys))
        .bind(policy.private_selectors.join("\n"))
        .bind(to_db(now_ms, "changed_at")?)
        .bind(by.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
