//! `/api/saved-replies`: the team's saved replies. Every agent reads them and
//! adds new ones; a reply's author and admins change or delete it.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use sightline_proto::api::{SavedReply, SavedReplyRequest};
use sightline_proto::MAX_SAVED_REPLIES;
use sightline_store::StoreError;

use crate::api::{Agent, AgentWrite, ApiResult, Failure};
use crate::auth::Authenticated;
use crate::{now_ms, AppState};

/// Writes one at a time, so that the count checked is the count written.
static WRITING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn checked(body: Result<Json<SavedReplyRequest>, JsonRejection>) -> ApiResult<SavedReplyRequest> {
    let Json(request) = body?;
    request
        .checked()
        .map_err(|why| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", why))
}

fn taken(err: StoreError) -> Failure {
    match err {
        StoreError::Conflict(_) => Failure::new(
            StatusCode::CONFLICT,
            "conflict",
            "another saved reply has this shortcut",
        ),
        other => other.into(),
    }
}

/// The reply, when `auth` may change it: its author or an admin.
async fn changeable(app: &AppState, auth: &Authenticated, id: i64) -> ApiResult<SavedReply> {
    let reply = app
        .store
        .saved_reply(id)
        .await?
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "not_found", "no such saved reply"))?;
    if !auth.user.is_admin && reply.created_by != Some(auth.user.id) {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only its author or an admin can change this saved reply",
        ));
    }
    Ok(reply)
}

pub async fn list(State(app): State<AppState>, Agent(_auth): Agent) -> ApiResult<Json<Vec<SavedReply>>> {
    Ok(Json(app.store.saved_replies().await?))
}

pub async fn create(
    State(app): State<AppState>,
    AgentWrite(auth): AgentWrite,
    body: Result<Json<SavedReplyRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<SavedReply>)> {
    let request = checked(body)?;
    let _writing = WRITING.lock().await;
    if app.store.count_saved_replies().await? >= MAX_SAVED_REPLIES as u64 {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "too_many",
            format!("a team keeps at most {MAX_SAVED_REPLIES} saved replies; delete one first"),
        ));
    }
    let reply = app
        .store
        .create_saved_reply(&request, auth.user.id, now_ms())
        .await
        .map_err(taken)?;
    tracing::info!(shortcut = %reply.shortcut, by = %auth.user.name, "saved reply added");
    Ok((StatusCode::CREATED, Json(reply)))
}

pub async fn update(
    State(app): State<AppState>,
    AgentWrite(auth): AgentWrite,
    Path(id): Path<i64>,
    body: Result<Json<SavedReplyRequest>, JsonRejection>,
) -> ApiResult<Json<SavedReply>> {
    let request = checked(body)?;
    let _writing = WRITING.lock().await;
    changeable(&app, &auth, id).await?;
    let reply = app
        .store
        .update_saved_reply(id, &request, now_ms())
        .await
        .map_err(taken)?;
    Ok(Json(reply))
}

pub async fn delete(
    State(app): State<AppState>,
    AgentWrite(auth): AgentWrite,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let _writing = WRITING.lock().await;
    let reply = changeable(&app, &auth, id).await?;
    app.store.delete_saved_reply(id).await?;
    tracing::info!(shortcut = %reply.shortcut, by = %auth.user.name, "saved reply deleted");
    Ok(StatusCode::NO_CONTENT)
}
