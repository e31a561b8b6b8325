//! Agent accounts.

use sightline_proto::api::{AvatarColour, UpdateUserRequest, UserInfo};
use sightline_proto::{AgentId, Permissions};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{flag, from_db, to_db, Result, StoreError};
use crate::{Backend, Store};

/// An agent account with its password hash, for authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub info: UserInfo,
    /// The PHC string of the password hash, as given to [`Store::create_user`].
    pub password_hash: String,
}

const USER_COLUMNS: &str = "id, name, display_name, password_hash, is_admin, disabled, created_at, \
     must_change_password, avatar_colour, may_screen_share, may_cobrowse, may_remote_control, may_session_keys";

pub(crate) fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        info: UserInfo {
            id: AgentId(row.try_get("id")?),
            name: row.try_get("name")?,
            display_name: row.try_get("display_name")?,
            is_admin: flag(row.try_get("is_admin")?, "is_admin")?,
            disabled: flag(row.try_get("disabled")?, "disabled")?,
            created_at: from_db(row.try_get("created_at")?, "created_at")?,
            must_change_password: flag(row.try_get("must_change_password")?, "must_change_password")?,
            // A name this build does not know (written by a newer one) is the default.
            colour: row
                .try_get::<Option<String>, _>("avatar_colour")?
                .as_deref()
                .and_then(AvatarColour::from_name),
            permissions: Permissions {
                screen_share: flag(row.try_get("may_screen_share")?, "may_screen_share")?,
                cobrowse: flag(row.try_get("may_cobrowse")?, "may_cobrowse")?,
                remote_control: flag(row.try_get("may_remote_control")?, "may_remote_control")?,
                session_keys: flag(row.try_get("may_session_keys")?, "may_session_keys")?,
            },
        },
        password_hash: row.try_get("password_hash")?,
    })
}

/// User names are stored and compared lowercased.
fn normalize_name(name: &str) -> String {
    name.to_lowercase()
}

impl Store {
    /// Creates an agent account. The name is stored lowercased; a name that differs
    /// from an existing one only in case is a [`StoreError::Conflict`].
    pub async fn create_user(
        &self,
        name: &str,
        display_name: &str,
        password_hash: &str,
        is_admin: bool,
        now_ms: u64,
    ) -> Result<UserInfo> {
        self.create_user_with(name, display_name, password_hash, is_admin, false, now_ms)
            .await
    }

    /// Like [`Store::create_user`]; with `must_change_password` (a password the
    /// server made up, such as the first admin's) the user must choose their own
    /// before anything else, until [`Store::set_password_hash`] is called.
    pub async fn create_user_with(
        &self,
        name: &str,
        display_name: &str,
        password_hash: &str,
        is_admin: bool,
        must_change_password: bool,
        now_ms: u64,
    ) -> Result<UserInfo> {
        let sql = format!(
            "INSERT INTO users (name, display_name, password_hash, is_admin, disabled, created_at, must_change_password) \
             VALUES ($1, $2, $3, $4, 0, $5, $6) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(normalize_name(name))
            .bind(display_name)
            .bind(password_hash)
            .bind(i64::from(is_admin))
            .bind(to_db(now_ms, "created_at")?)
            .bind(i64::from(must_change_password))
            .fetch_one(&self.write)
            .await?;
        Ok(user_from_row(&row)?.info)
    }

    /// The account with this name, compared case-insensitively.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
        let row = sqlx::query(&sql)
            .bind(normalize_name(name))
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The account with this id.
    pub async fn user_by_id(&self, id: AgentId) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.read).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every account, disabled ones included, by name.
    pub async fn list_users(&self) -> Result<Vec<UserInfo>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        let rows = sqlx::query(&sql).fetch_all(&self.read).await?;
        rows.iter().map(|row| Ok(user_from_row(row)?.info)).collect()
    }

    /// Changes the fields of `update` that are set; [`StoreError::NotFound`] when
    /// there is no such user, [`StoreError::LastAdmin`] when the change would leave
    /// no active admin. The check and the change are one transaction that locks the
    /// active admins' rows (PostgreSQL; SQLite has one writer), so two concurrent
    /// demotions of the last two admins cannot both succeed.
    pub async fn update_user(&self, id: AgentId, update: &UpdateUserRequest) -> Result<UserInfo> {
        let mut tx = self.begin_write().await?;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let admins: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM users WHERE is_admin = 1 AND disabled = 0 ORDER BY id{lock}"
        ))
        .fetch_all(&mut *tx)
        .await?;
        let loses_admin = update.is_admin == Some(false) || update.disabled == Some(true);
        if loses_admin && admins.contains(&id.0) && admins.len() <= 1 {
            return Err(StoreError::LastAdmin);
        }
        let sql = format!(
            "UPDATE users SET display_name = COALESCE($2, display_name), \
             is_admin = COALESCE($3, is_admin), disabled = COALESCE($4, disabled), \
             may_screen_share = COALESCE($5, may_screen_share), may_cobrowse = COALESCE($6, may_cobrowse), \
             may_remote_control = COALESCE($7, may_remote_control), \
             may_session_keys = COALESCE($8, may_session_keys) \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let permission = |which: fn(&Permissions) -> bool| update.permissions.as_ref().map(|p| i64::from(which(p)));
        let row = sqlx::query(&sql)
            .bind(id.0)
            .bind(update.display_name.as_deref())
            .bind(update.is_admin.map(i64::from))
            .bind(update.disabled.map(i64::from))
            .bind(permission(|p| p.screen_share))
            .bind(permission(|p| p.cobrowse))
            .bind(permission(|p| p.remote_control))
            .bind(permission(|p| p.session_keys))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let user = user_from_row(&row)?.info;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets a user's display name and colour (`None`: the default);
    /// [`StoreError::NotFound`] when there is no such user.
    pub async fn set_profile(&self, id: AgentId, display_name: &str, colour: Option<AvatarColour>) -> Result<UserInfo> {
        let row = sqlx::query(&format!(
            "UPDATE users SET display_name = $2, avatar_colour = $3 WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(id.0)
        .bind(display_name)
        .bind(colour.map(AvatarColour::as_str))
        .fetch_optional(&self.write)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(user_from_row(&row)?.info)
    }

    /// Replaces a user's password hash (which also lifts a pending password change);
    /// [`StoreError::NotFound`] when there is no such user. Sessions are left alone:
    /// see [`Store::delete_sessions_of_user`].
    pub async fn set_password_hash(&self, id: AgentId, password_hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $2, must_change_password = 0 WHERE id = $1")
            .bind(id.0)
            .bind(password_hash)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Makes the user choose a new password at their next login (after an operator
    /// set one for them that the server made up).
    pub async fn require_password_change(&self, id: AgentId) -> Result<()> {
        let done = sqlx::query("UPDATE users SET must_change_password = 1 WHERE id = $1")
            .bind(id.0)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// How many accounts exist (disabled ones included): zero means the server
    /// still needs its first admin.
    pub async fn count_users(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// How many admins are not disabled.
    pub async fn count_active_admins(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1 AND disabled = 0")
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get("n")?)
    }
}
