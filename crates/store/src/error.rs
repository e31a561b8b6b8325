//! The store's error type and the checked conversions between protocol numbers
//! (`u64`) and database integers (`i64`).

use sqlx::error::ErrorKind;

/// Everything a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write: a user name that is taken (names are
    /// compared case-insensitively), a session token or visitor that exists, an event
    /// `seq` already stored in the conversation, or an event whose `seq` does not
    /// directly follow the conversation's newest stored event.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row to read, update or refer to does not exist.
    #[error("not found")]
    NotFound,
    /// The update would leave no admin who is not disabled.
    #[error("the last admin cannot be demoted or disabled")]
    LastAdmin,
    /// An argument cannot be stored (e.g. a number above `i64::MAX`, `seq` 0).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The database holds something this build cannot read back.
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
    /// The schema migrations failed (or the database has migrations this build
    /// does not know).
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database or connection failure.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// Shorthand for results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            match db.kind() {
                ErrorKind::UniqueViolation => return StoreError::Conflict(db.message().to_owned()),
                // Only rows that do not exist can be referred to wrongly: users,
                // visitors and conversations are never deleted.
                ErrorKind::ForeignKeyViolation => return StoreError::NotFound,
                _ => {}
            }
        }
        if matches!(err, sqlx::Error::RowNotFound) {
            return StoreError::NotFound;
        }
        StoreError::Database(err)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt(err.to_string())
    }
}

/// A protocol number (sequence number, timestamp) as a database integer.
pub(crate) fn to_db(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::InvalidInput(format!("{what} {value} is out of range")))
}

/// A database integer as a protocol number.
pub(crate) fn from_db(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is negative")))
}

/// A 0/1 database integer as a boolean.
pub(crate) fn flag(value: i64, what: &str) -> Result<bool> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(StoreError::Corrupt(format!("{what} is {other}, not 0 or 1"))),
    }
}
