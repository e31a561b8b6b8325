//! Image uploads and downloads: snapshots an agent annotated, pictures a visitor
//! sends.
//!
//! - `POST /api/visitor/images`: the visitor, by `Authorization: Bearer <token>`
//!   (the widget runs on other sites: CORS for the configured origins).
//! - `POST /api/conversations/{id}/images`: the owning agent (cookie, CSRF, same
//!   origin). Raw image bytes, or `multipart/form-data` with an `image` part and an
//!   optional `annotations` part (a JSON object).
//! - `GET /api/images/{id}` and `/api/images/{id}/thumb`: the conversation's visitor
//!   (Bearer) and logged-in agents (cookie). `GET /api/images/{id}/annotations`:
//!   agents.
//!
//! An upload is checked ([`crate::image_check`]), its original and thumbnail are
//! written to the blob store, and then the hub posts it into the conversation as an
//! image message (the core decides whether the sender may); the answer comes only
//! once that message is stored.

use axum::body::Body;
use std::net::IpAddr;

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::StreamExt as _;
use serde::Deserialize;
use sightline_core::records::NewImage;
use sightline_core::{token_hash, validate_client_id, ImagePosted, Uploader};
use sightline_proto::api::{ImageAnnotations, UploadedImage};
use sightline_proto::{
    AgentId, AgentRef, ConversationId, ErrorCode, EventKind, ImageId, ImageRef, MessageBody, MAX_ANNOTATIONS_BYTES,
    MAX_TOKEN_BYTES,
};
use sightline_store::ImageRecord;
use tokio::sync::oneshot;

use crate::api::{Agent, AgentWrite, Failure};
use crate::hub_task::Command;
use crate::image_check::{self, Rejection};
use crate::net::ClientAddr;
use crate::origin::{self, OriginCheck};
use crate::{auth, AppState};

/// Uploads allowed per client address and per uploader: a burst, then one every
/// 3 seconds. People send a few pictures; this only stops floods (of disk and CPU).
const UPLOAD_BURST: u32 = 20;
const UPLOADS_PER_SECOND: f64 = 1.0 / 3.0;

/// Token buckets for uploads, by client address and by uploader.
#[derive(Default)]
pub struct UploadLimiter {
    buckets: std::sync::Mutex<std::collections::HashMap<String, sightline_core::TokenBucket>>,
}

impl UploadLimiter {
    /// Takes one upload from each key's allowance.
    pub fn allow(&self, keys: &[String]) -> bool {
        let now = crate::now_ms();
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, bucket| !bucket.clone().is_full(now));
        }
        let mut ok = true;
        for key in keys {
            let bucket = buckets
                .entry(key.clone())
                .or_insert_with(|| sightline_core::TokenBucket::new(UPLOAD_BURST, UPLOADS_PER_SECOND, now));
            ok &= bucket.try_take(now);
        }
        ok
    }
}

fn rate_limited() -> Failure {
    Failure::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many images in a short time; wait a moment",
    )
}

/// Browsers may keep images this long: an image id never changes its bytes.
const CACHE_CONTROL: &str = "private, max-age=86400";

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    source_image: Option<ImageId>,
    /// `true`: keep the picture for agents only, without posting it (the
    /// unannotated base of a snapshot the agent is about to send).
    agents_only: Option<bool>,
}

fn internal() -> Failure {
    Failure::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server could not store the image; try again",
    )
}

fn too_large(limit: u64) -> Failure {
    let mb = limit as f64 / (1024.0 * 1024.0);
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the image is larger than the limit of {mb:.0} MB"),
    )
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then_some(token)
}

fn client_id(headers: &HeaderMap) -> Result<String, Failure> {
    let id = headers.get("x-client-id").and_then(|v| v.to_str().ok()).unwrap_or("");
    validate_client_id(id).map_err(|_| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the x-client-id header must be 1 to 64 visible ASCII characters",
        )
    })?;
    Ok(id.to_owned())
}

/// Reads a body of at most `limit` bytes; 413 beyond (refused at once when the
/// declared length is already too large).
/// How long an upload waits for room in the server-wide upload memory before it
/// is refused with 503.
const UPLOAD_MEMORY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Takes room for an upload's bytes in the server-wide budget
/// (`AppState::upload_memory`) before its body is read: the declared
/// Content-Length, or the most the reader accepts (`most`) when none is declared.
/// Held until the upload is stored or refused, so that uploads in flight, from
/// however many addresses, never hold more than the budget in memory.
async fn reserve_upload_memory(
    app: &AppState,
    headers: &HeaderMap,
    most: u64,
) -> Result<tokio::sync::OwnedSemaphorePermit, Failure> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > most) {
        return Err(too_large(most));
    }
    let kib = u32::try_from(declared.unwrap_or(most).div_ceil(1024).max(1)).unwrap_or(u32::MAX);
    let room = tokio::time::timeout(UPLOAD_MEMORY_WAIT, app.upload_memory.clone().acquire_many_owned(kib)).await;
    match room {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too many pictures are being uploaded right now; try again in a moment",
        )),
    }
}

async fn read_limited(headers: &HeaderMap, body: Body, limit: u64) -> Result<Vec<u8>, Failure> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| Failure::new(StatusCode::BAD_REQUEST, "bad_request", "the upload was interrupted"))?;
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(too_large(limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Adds the CORS answer for an allowed site origin.
pub(crate) fn with_cors(mut response: Response, origin: Option<String>) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    response
}

/// `OPTIONS` for the endpoints the widget calls from other sites.
pub async fn preflight(State(app): State<AppState>, ClientAddr(client): ClientAddr, headers: HeaderMap) -> Response {
    let Some(origin) = origin::site_origin(&app, &headers, client) else {
        return with_cors(StatusCode::FORBIDDEN.into_response(), None);
    };
    let mut response = with_cors(StatusCode::NO_CONTENT.into_response(), Some(origin));
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, x-client-id"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// `POST /api/visitor/images`
pub async fn visitor_upload(
    State(app): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let cors = origin::site_origin(&app, &headers, client);
    let result = visitor_upload_inner(&app, client, &headers, body).await;
    with_cors(result.into_response(), cors)
}

async fn visitor_upload_inner(
    app: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    if origin::check(app, headers, OriginCheck::SiteOrSelf { from: ip }).is_err() {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "this site may not send images here",
        ));
    }
    let token = bearer(headers).filter(|t| t.len() <= MAX_TOKEN_BYTES).ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "send the visitor token as a Bearer token",
        )
    })?;
    let hash = token_hash(token);
    let client_id = client_id(headers)?;
    let group = sightline_core::address_group(ip);
    if !app
        .upload_limiter
        .allow(&[format!("ip:{group}"), format!("visitor:{hash}")])
    {
        return Err(rate_limited());
    }
    let stored = app.store.visitor_by_token_hash(&hash).await?.map(Box::new);
    let uploader = Uploader::Visitor {
        token_hash: hash,
        stored,
        address: ip,
    };
    check_uploader(app, &uploader).await?;
    let _room = reserve_upload_memory(app, headers, app.config.max_image_bytes).await?;
    let bytes = read_limited(headers, body, app.config.max_image_bytes).await?;
    post(app, uploader, client_id, bytes, None, None).await
}

/// `POST /api/conversations/{id}/images`
pub async fn agent_upload(
    State(app): State<AppState>,
    AgentWrite(auth): AgentWrite,
    Path(conversation): Path<ConversationId>,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> Result<Response, Failure> {
    let headers = request.headers().clone();
    let client_id = client_id(&headers)?;
    if !app.upload_limiter.allow(&[format!("agent:{}", auth.user.id)]) {
        return Err(rate_limited());
    }
    let agent = AgentRef {
        id: auth.user.id,
        display_name: auth.user.display_name.clone(),
        colour: auth.user.colour,
    };
    let uploader = if query.agents_only == Some(true) {
        Uploader::AgentOnly {
            agent,
            conversation: conversation.clone(),
        }
    } else {
        Uploader::Agent {
            agent,
            conversation: conversation.clone(),
        }
    };
    check_uploader(&app, &uploader).await?;
    let limit = app.config.max_image_bytes;
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    // A form carries the picture and its annotations.
    let most = if is_multipart {
        limit + MAX_ANNOTATIONS_BYTES as u64 + 64 * 1024
    } else {
        limit
    };
    let _room = reserve_upload_memory(&app, &headers, most).await?;
    let (bytes, annotations) = if is_multipart {
        read_multipart(&app, &headers, request, limit).await?
    } else {
        (Some(read_limited(&headers, request.into_body(), limit).await?), None)
    };
    let bytes =
        bytes.ok_or_else(|| Failure::new(StatusCode::BAD_REQUEST, "bad_request", "the form has no image part"))?;
    if query.agents_only == Some(true) && (query.source_image.is_some() || annotations.is_some()) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "a picture for agents only has no source image and no annotations",
        ));
    }
    if let Some(source) = &query.source_image {
        let same_conversation = app
            .store
            .image(source)
            .await?
            .is_some_and(|r| r.conversation_id == conversation);
        if !same_conversation {
            return Err(Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_source",
                "source_image is not an image of this conversation",
            ));
        }
    }
    post(&app, uploader, client_id, bytes, query.source_image, annotations).await
}

/// The `image` and `annotations` parts of a form, each within its limit.
async fn read_multipart(
    app: &AppState,
    headers: &HeaderMap,
    request: Request,
    limit: u64,
) -> Result<(Option<Vec<u8>>, Option<String>), Failure> {
    let overall = limit + MAX_ANNOTATIONS_BYTES as u64 + 64 * 1024;
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > overall)
    {
        return Err(too_large(limit));
    }
    let bad = |message: &str| Failure::new(StatusCode::BAD_REQUEST, "bad_request", message.to_owned());
    let mut form = Multipart::from_request(request, app)
        .await
        .map_err(|e| bad(&e.body_text()))?;
    let (mut image, mut annotations) = (None, None);
    while let Some(mut field) = form.next_field().await.map_err(|e| bad(&e.body_text()))? {
        let (max, is_image) = match field.name() {
            Some("image") if image.is_none() => (limit, true),
            Some("annotations") if annotations.is_none() => (MAX_ANNOTATIONS_BYTES as u64, false),
            _ => return Err(bad("the form may only have one image part and one annotations part")),
        };
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| bad(&e.body_text()))? {
            if (data.len() + chunk.len()) as u64 > max {
                return Err(if is_image {
                    too_large(limit)
                } else {
                    Failure::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!("the annotations are larger than {} KB", MAX_ANNOTATIONS_BYTES / 1024),
                    )
                });
            }
            data.extend_from_slice(&chunk);
        }
        if is_image {
            image = Some(data);
        } else {
            annotations = Some(normalize_annotations(&data)?);
        }
    }
    Ok((image, annotations))
}

/// The annotations as compact JSON text: they must be a JSON object.
fn normalize_annotations(data: &[u8]) -> Result<String, Failure> {
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value.to_string()),
        _ => Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_annotations",
            "the annotations must be a JSON object",
        )),
    }
}

fn random_image_id() -> ImageId {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    ImageId::from(URL_SAFE_NO_PAD.encode(bytes))
}

/// The HTTP answer to a refusal by the hub.
fn refusal(refused: sightline_core::Refused) -> Failure {
    let (status, error) = match refused.code {
        ErrorCode::NotAuthenticated => (StatusCode::UNAUTHORIZED, "not_authenticated"),
        ErrorCode::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
        ErrorCode::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        ErrorCode::InvalidState => (StatusCode::CONFLICT, "invalid_state"),
        ErrorCode::BadRequest | ErrorCode::UnsupportedVersion => (StatusCode::BAD_REQUEST, "bad_request"),
        ErrorCode::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        ErrorCode::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        ErrorCode::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    Failure::new(status, error, refused.message)
}

/// Asks the hub whether `uploader` may post, before the body is read or decoded:
/// a stranger's upload costs no memory and no decoding.
async fn check_uploader(app: &AppState, uploader: &Uploader) -> Result<(), Failure> {
    let unavailable = || {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is restarting; try again",
        )
    };
    let (reply, answer) = oneshot::channel();
    let command = Command::CheckUploader {
        uploader: Box::new(uploader.clone()),
        reply,
    };
    if !app.hub.send(command).await {
        return Err(unavailable());
    }
    match answer.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(refused)) => Err(refusal(refused)),
        // The hub is gone: the server is shutting down.
        Err(_) => Err(unavailable()),
    }
}

/// Checks, stores and posts an upload (its uploader already checked).
async fn post(
    app: &AppState,
    uploader: Uploader,
    client_id: String,
    bytes: Vec<u8>,
    source_image: Option<ImageId>,
    annotations: Option<String>,
) -> Result<Response, Failure> {
    let blobs = app.blobs.clone();
    let permit = app.image_work.acquire().await.map_err(|_| internal())?;
    let stored = tokio::task::spawn_blocking(move || {
        let checked = image_check::check(&bytes)?;
        let put = || -> std::io::Result<(String, String)> { Ok((blobs.put(&bytes)?, blobs.put(&checked.thumb)?)) };
        let names = put().map_err(|err| {
            tracing::error!(%err, "writing an image to the blob store failed");
            None
        });
        Ok::<_, Rejection>((checked, bytes.len() as u64, names))
    })
    .await
    .map_err(|_| internal())?;
    drop(permit);
    let (checked, size, names) = stored.map_err(|rejection| match rejection {
        Rejection::Unsupported(message) => {
            Failure::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type", message)
        }
        Rejection::Invalid(message) => Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_image", message),
    })?;
    let (sha256, thumb_sha256) = names.map_err(|_: Option<()>| internal())?;
    let image = ImageRef {
        id: random_image_id(),
        mime: checked.mime.to_owned(),
        width: checked.width,
        height: checked.height,
        bytes: size,
        thumb_width: checked.thumb_width,
        thumb_height: checked.thumb_height,
        has_annotations: annotations.is_some(),
        source_image,
    };
    let (reply, answer) = oneshot::channel();
    let new = NewImage {
        image: image.clone(),
        sha256,
        thumb_sha256,
        annotations,
        // The core decides, from the uploader.
        agents_only: false,
    };
    let unavailable = || {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is restarting; try again",
        )
    };
    if !app
        .hub
        .send(Command::PostImage {
            uploader,
            client_id,
            image: new,
            reply,
        })
        .await
    {
        return Err(unavailable());
    }
    let posted: ImagePosted = match answer.await.map_err(|_| unavailable())? {
        Ok(posted) => posted,
        Err(refused) => return Err(refusal(refused)),
    };
    if posted.created {
        let body = UploadedImage {
            image,
            conversation: posted.conversation,
            seq: posted.seq,
        };
        return Ok((StatusCode::CREATED, Json(body)).into_response());
    }
    // A retry of an upload already posted: answer with what was stored then.
    let events = app
        .store
        .events(&posted.conversation, posted.seq - 1, Some(posted.seq), 1)
        .await?;
    let earlier = events.into_iter().find_map(|e| match e.kind {
        EventKind::Message {
            body: MessageBody::Image { image },
            ..
        } => Some(image),
        _ => None,
    });
    match earlier {
        Some(image) => {
            let body = UploadedImage {
                image,
                conversation: posted.conversation,
                seq: posted.seq,
            };
            Ok((StatusCode::OK, Json(body)).into_response())
        }
        None => Err(Failure::new(
            StatusCode::CONFLICT,
            "conflict",
            "this x-client-id was already used for another message",
        )),
    }
}

/// Who is asking for an image.
enum Viewer {
    /// A logged-in agent, by id.
    Agent(AgentId),
    Visitor(String),
}

async fn viewer(app: &AppState, headers: &HeaderMap) -> Result<Viewer, Failure> {
    if let Some(token) = bearer(headers) {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this image is not yours",
            ));
        }
        return Ok(Viewer::Visitor(token_hash(token)));
    }
    match auth::from_cookie(app, headers).await {
        Some(auth) if auth.user.must_change_password => Err(crate::api::password_change_required()),
        Some(auth) => Ok(Viewer::Agent(auth.user.id)),
        None => Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "log in (agents) or send the visitor token",
        )),
    }
}

/// The image, if this viewer may see it.
async fn visible_image(app: &AppState, headers: &HeaderMap, id: &ImageId) -> Result<ImageRecord, Failure> {
    let viewer = viewer(app, headers).await?;
    let record = app
        .store
        .image(id)
        .await?
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "not_found", "no such image"))?;
    match viewer {
        Viewer::Agent(agent_id) => {
            agent_may_read_conversation(app, &record.conversation_id, agent_id).await?;
            Ok(record)
        }
        Viewer::Visitor(hash) if !record.agents_only && auth::constant_time_eq(&hash, &record.visitor_token_hash) => {
            Ok(record)
        }
        Viewer::Visitor(_) => Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this image is not yours",
        )),
    }
}

async fn serve(app: &AppState, headers: &HeaderMap, id: &ImageId, thumb: bool) -> Result<Response, Failure> {
    let record = visible_image(app, headers, id).await?;
    let (blob, mime, name) = if thumb {
        (
            record.thumb_sha256.clone(),
            "image/png",
            format!("image-{}-thumb.png", record.image.id),
        )
    } else {
        let ext = image_check::extension(&record.image.mime);
        (
            record.sha256.clone(),
            record.image.mime.as_str(),
            format!("image-{}.{ext}", record.image.id),
        )
    };
    let blobs = app.blobs.clone();
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&blob))
        .await
        .map_err(|_| internal())?
        .map_err(|err| {
            tracing::error!(%err, image = %record.image.id, "an image's blob is missing");
            Failure::new(StatusCode::NOT_FOUND, "not_found", "the image's file is missing")
        })?;
    let content_type = HeaderValue::from_str(mime).map_err(|_| internal())?;
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")).map_err(|_| internal())?;
    let mut response = Body::from(bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// `GET /api/images/{id}`
pub async fn get_image(app: State<AppState>, client: ClientAddr, id: Path<ImageId>, headers: HeaderMap) -> Response {
    get(app, client, id, headers, false).await
}

/// `GET /api/images/{id}/thumb`
pub async fn get_thumb(app: State<AppState>, client: ClientAddr, id: Path<ImageId>, headers: HeaderMap) -> Response {
    get(app, client, id, headers, true).await
}

async fn get(
    State(app): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(id): Path<ImageId>,
    headers: HeaderMap,
    thumb: bool,
) -> Response {
    let cors = origin::site_origin(&app, &headers, client);
    with_cors(serve(&app, &headers, &id, thumb).await.into_response(), cors)
}

/// The who-reads-what rule (`policy::agent_may_read`) for a conversation's pictures,
/// as for its transcript.
async fn agent_may_read_conversation(
    app: &AppState,
    conversation: &ConversationId,
    agent_id: AgentId,
) -> Result<(), Failure> {
    let summary = app
        .store
        .conversation(conversation)
        .await?
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "not_found", "no such image"))?;
    let owner = summary.agent.as_ref().map(|a| a.id);
    if app
        .hub
        .agent_may_read(conversation, summary.status, owner, agent_id)
        .await
    {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "that conversation is another agent's",
        ))
    }
}

/// `GET /api/images/{id}/annotations` (agents).
pub async fn get_annotations(
    State(app): State<AppState>,
    Agent(me): Agent,
    Path(id): Path<ImageId>,
) -> Result<Json<ImageAnnotations>, Failure> {
    let record = app
        .store
        .image(&id)
        .await?
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "not_found", "no such image"))?;
    agent_may_read_conversation(&app, &record.conversation_id, me.user.id).await?;
    let text = record
        .annotations
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "not_found", "this image has no annotations"))?;
    let annotations = serde_json::from_str(&text).map_err(|_| internal())?;
    Ok(Json(ImageAnnotations { annotations }))
}
