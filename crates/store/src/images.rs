//! Image metadata: written with the message that shows the image, read back by the
//! HTTP handlers that serve images (after checking who may see them).

use sightline_core::records::NewImage;
use sightline_proto::{AgentId, ConversationId, ImageId, ImageRef, Role};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::codec::{parse_role, role_str};
use crate::error::{flag, from_db, to_db, Result, StoreError};
use crate::Store;

/// An image as stored, with what access checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    pub image: ImageRef,
    pub conversation_id: ConversationId,
    /// The token hash of the visitor whose conversation it is.
    pub visitor_token_hash: String,
    /// Blob names (hex SHA-256) of the original and the thumbnail.
    pub sha256: String,
    pub thumb_sha256: String,
    pub uploaded_by: Role,
    pub agent_id: Option<AgentId>,
    pub created_at: u64,
    /// The annotations' JSON text, when there are any.
    pub annotations: Option<String>,
    /// Seen by agents only (never posted; see `NewImage::agents_only`).
    pub agents_only: bool,
}

fn dimension(row: &AnyRow, column: &str) -> Result<u32> {
    let value: i64 = row.try_get(column)?;
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("image {column} {value} out of range")))
}

fn record_from_row(row: &AnyRow) -> Result<ImageRecord> {
    let annotations: Option<String> = row.try_get("annotations")?;
    let uploaded_by: String = row.try_get("uploaded_by")?;
    let source_image: Option<String> = row.try_get("source_image")?;
    Ok(ImageRecord {
        image: ImageRef {
            id: ImageId::from(row.try_get::<String, _>("id")?),
            mime: row.try_get("mime")?,
            width: dimension(row, "width")?,
            height: dimension(row, "height")?,
            bytes: from_db(row.try_get("bytes")?, "bytes")?,
            thumb_width: dimension(row, "thumb_width")?,
            thumb_height: dimension(row, "thumb_height")?,
            has_annotations: annotations.is_some(),
            source_image: source_image.map(ImageId::from),
        },
        conversation_id: ConversationId::from(row.try_get::<String, _>("conversation_id")?),
        visitor_token_hash: row.try_get("token_hash")?,
        sha256: row.try_get("sha256")?,
        thumb_sha256: row.try_get("thumb_sha256")?,
        uploaded_by: parse_role(&uploaded_by)?,
        agent_id: row.try_get::<Option<i64>, _>("agent_id")?.map(AgentId),
        created_at: from_db(row.try_get("created_at")?, "created_at")?,
        annotations,
        agents_only: flag(row.try_get("agents_only")?, "agents_only")?,
    })
}

impl Store {
    /// Which of these blob names an image (original or thumbnail) refers to.
    pub async fn referenced_blobs(&self, names: &[String]) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in names.chunks(200) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT sha256 AS name FROM images WHERE sha256 IN ({list}) \
                 UNION SELECT thumb_sha256 AS name FROM images WHERE thumb_sha256 IN ({list})"
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for name in chunk {
                query = query.bind(name.as_str());
            }
            out.extend(query.fetch_all(&self.read).await?);
        }
        Ok(out)
    }

    /// The image with this id, with its conversation's visitor; `None` if unknown.
    pub async fn image(&self, id: &ImageId) -> Result<Option<ImageRecord>> {
        let row = sqlx::query(
            "SELECT i.id, i.conversation_id, i.sha256, i.thumb_sha256, i.mime, i.width, i.height, i.bytes, \
             i.thumb_width, i.thumb_height, i.uploaded_by, i.agent_id, i.created_at, i.source_image, i.annotations, \
             i.agents_only, \
             v.token_hash \
             FROM images i JOIN conversations c ON c.id = i.conversation_id JOIN visitors v ON v.id = c.visitor_id \
             WHERE i.id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(record_from_row).transpose()
    }
}

pub(crate) async fn create_image(
    conn: &mut AnyConnection,
    conversation: &ConversationId,
    new: &NewImage,
    uploaded_by: Role,
    agent_id: Option<AgentId>,
    created_at: u64,
) -> Result<()> {
    let image = &new.image;
    sqlx::query(
        "INSERT INTO images (id, conversation_id, sha256, thumb_sha256, mime, width, height, bytes, \
         thumb_width, thumb_height, uploaded_by, agent_id, created_at, source_image, annotations, agents_only) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(image.id.as_str())
    .bind(conversation.as_str())
    .bind(new.sha256.as_str())
    .bind(new.thumb_sha256.as_str())
    .bind(image.mime.as_str())
    .bind(i64::from(image.width))
    .bind(i64::from(image.height))
    .bind(to_db(image.bytes, "bytes")?)
    .bind(i64::from(image.thumb_width))
    .bind(i64::from(image.thumb_height))
    .bind(role_str(uploaded_by))
    .bind(agent_id.map(|a| a.0))
    .bind(to_db(created_at, "created_at")?)
    .bind(image.source_image.as_ref().map(ImageId::as_str))
    .bind(new.annotations.as_deref())
    .bind(i64::from(new.agents_only))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
