//! The JSON API of the agent console: login, accounts, history.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use sightline_core::token_hash;
use sightline_proto::api::{
    ApiError, ConversationPage, CreateUserRequest, LoginRequest, Me, ProfileRequest, RefusedOrigin, SetPasswordRequest,
    SiteOriginRequest, SiteSettings, Transcript, UpdateUserRequest, UserInfo, MAX_SITE_ORIGIN_BYTES,
    MAX_STORED_SITE_ORIGINS,
};
use sightline_proto::{
    check_private_selector, AgentId, AgentRef, ConversationId, ConversationStatus, ConversationSummary, SitePolicy,
    MAX_PRIVATE_SELECTORS,
};
use sightline_store::{ConversationQuery, StoreError};

use crate::auth::{self, Authenticated};
use crate::hub_task::Command;
use crate::net::ClientAddr;
use crate::origin::{self, OriginCheck};
use crate::{now_ms, AppState};

/// An API failure: a status and a body the console shows in words.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    error: &'static str,
    message: String,
}

impl Failure {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Failure {
            status,
            error,
            message: message.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = ApiError {
            error: self.error.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Failure::new(StatusCode::NOT_FOUND, "not_found", "no such record"),
            StoreError::Conflict(_) => Failure::new(StatusCode::CONFLICT, "conflict", "that name is already taken"),
            StoreError::LastAdmin => Failure::new(
                StatusCode::CONFLICT,
                "last_admin",
                "the last admin cannot be demoted or disabled",
            ),
            other => {
                tracing::error!(err = %other, "storage failed");
                Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server could not complete this",
                )
            }
        }
    }
}

impl From<JsonRejection> for Failure {
    fn from(rejection: JsonRejection) -> Self {
        Failure::new(rejection.status(), "bad_request", rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, Failure>;

/// A logged-in user, even one who must first choose a new password. Only for what
/// such a user may do: read `/api/me`, change their own password, log out.
pub struct Session(pub Authenticated);

impl FromRequestParts<AppState> for Session {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        auth::from_cookie(app, &parts.headers)
            .await
            .map(Session)
            .ok_or_else(|| Failure::new(StatusCode::UNAUTHORIZED, "not_authenticated", "log in first"))
    }
}

/// The refusal for a user who has not yet replaced a password the server made up.
pub fn password_change_required() -> Failure {
    Failure::new(
        StatusCode::FORBIDDEN,
        "password_change_required",
        "choose your own password first",
    )
}

/// A logged-in agent, for reads.
pub struct Agent(pub Authenticated);

impl FromRequestParts<AppState> for Agent {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let Session(auth) = Session::from_request_parts(parts, app).await?;
        if auth.user.must_change_password {
            return Err(password_change_required());
        }
        Ok(Agent(auth))
    }
}

/// A logged-in user making a change: the request must also carry the session's
/// CSRF token and come from this server's own pages. Like [`Session`], allowed
/// before a required password change.
pub struct SessionWrite(pub Authenticated);

impl FromRequestParts<AppState> for SessionWrite {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let Session(auth) = Session::from_request_parts(parts, app).await?;
        check_same_origin(app, &parts.headers)?;
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !auth::constant_time_eq(sent, &auth.session.csrf_token) {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong CSRF token; reload the page",
            ));
        }
        Ok(SessionWrite(auth))
    }
}

/// A logged-in agent making a change (see [`SessionWrite`]).
pub struct AgentWrite(pub Authenticated);

impl FromRequestParts<AppState> for AgentWrite {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let SessionWrite(auth) = SessionWrite::from_request_parts(parts, app).await?;
        if auth.user.must_change_password {
            return Err(password_change_required());
        }
        Ok(AgentWrite(auth))
    }
}

/// An admin making a change.
pub struct AdminWrite(pub Authenticated);

impl FromRequestParts<AppState> for AdminWrite {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let AgentWrite(auth) = AgentWrite::from_request_parts(parts, app).await?;
        if !auth.user.is_admin {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only admins can do this",
            ));
        }
        Ok(AdminWrite(auth))
    }
}

fn check_same_origin(app: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    origin::check(app, headers, OriginCheck::SelfOnly).map_err(|_| {
        Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "requests must come from the console",
        )
    })
}

fn me(auth: &Authenticated) -> Me {
    Me {
        user: auth.user.clone(),
        csrf_token: auth.session.csrf_token.clone(),
    }
}

pub async fn login(
    State(app): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> ApiResult<Response> {
    // A login form on another site must not log a victim into an attacker's account.
    check_same_origin(&app, &headers)?;
    let Json(request) = body?;
    if request.name.len() > 200 || request.password.len() > auth::MAX_PASSWORD_BYTES {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong name or password",
        ));
    }
    let Some(attempt) = app
        .login_limiter
        .begin(client, &request.name, auth::device_of(&headers))
    else {
        return Err(Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many login attempts; wait a minute and try again",
        ));
    };
    let user = app.store.user_by_name(&request.name).await?;
    let valid = match &user {
        Some(user) if !user.info.disabled => auth::verify_password(request.password, user.password_hash.clone()).await,
        _ => {
            auth::burn_a_verification().await;
            false
        }
    };
    let Some(user) = user.filter(|_| valid) else {
        tracing::info!(name = %request.name, ip = %client, "failed login");
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong name or password",
        ));
    };
    app.login_limiter.succeeded(attempt);
    let token = auth::random_token();
    let csrf = auth::random_token();
    let now = now_ms();
    app.store
        .create_session(
            &token_hash(&token),
            user.info.id,
            &csrf,
            now,
            now + auth::SESSION_LIFETIME_MS,
        )
        .await?;
    tracing::info!(name = %user.info.name, "agent logged in");
    let user_name = user.info.name.clone();
    let body = Me {
        user: user.info,
        csrf_token: csrf,
    };
    let mut response = Json(body).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::session_cookie(&app, &token)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    // This browser is now known to the account: its later attempts have their own
    // allowance, so that a stranger's guessing cannot lock it out.
    let device = app.login_limiter.device_token(&user_name);
    if let Ok(cookie) = HeaderValue::from_str(&auth::device_cookie(&app, &device)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn logout(State(app): State<AppState>, SessionWrite(auth): SessionWrite) -> ApiResult<Response> {
    app.store.delete_session(&auth.session.token_hash).await?;
    // The session's sockets close (other sessions of the agent stay), and the
    // agent's screen shares end: nobody should keep watching after logging out.
    app.hub
        .send(Command::AgentLoggedOut {
            agent_id: auth.user.id,
            session: auth.session.token_hash.clone(),
        })
        .await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::clear_cookie(&app)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn get_me(Session(auth): Session) -> Json<Me> {
    Json(me(&auth))
}

/// `PATCH /api/me`: the agent's own display name and colour. A new name reaches
/// the conversations they own at once (see `Input::AgentRenamed`).
pub async fn update_me(
    State(app): State<AppState>,
    AgentWrite(auth): AgentWrite,
    body: Result<Json<ProfileRequest>, JsonRejection>,
) -> ApiResult<Json<Me>> {
    let Json(request) = body?;
    let user = set_profile(&app, &auth.user, request).await?;
    let mut auth = auth;
    auth.user = user;
    Ok(Json(me(&auth)))
}

/// `PUT /api/users/{id}/profile`: an admin sets an agent's display name and colour.
pub async fn put_profile(
    State(app): State<AppState>,
    AdminWrite(_): AdminWrite,
    Path(id): Path<AgentId>,
    body: Result<Json<ProfileRequest>, JsonRejection>,
) -> ApiResult<Json<UserInfo>> {
    let Json(request) = body?;
    let before = app.store.user_by_id(id).await?.ok_or(StoreError::NotFound)?.info;
    Ok(Json(set_profile(&app, &before, request).await?))
}

async fn set_profile(app: &AppState, before: &UserInfo, request: ProfileRequest) -> ApiResult<UserInfo> {
    let display_name = request.display_name.trim();
    check_display_name(display_name)?;
    let user = app.store.set_profile(before.id, display_name, request.colour).await?;
    announce_rename(app, before, &user).await;
    Ok(user)
}

/// Tells the hub when `before`'s display name is no longer `after`'s.
async fn announce_rename(app: &AppState, before: &UserInfo, after: &UserInfo) {
    if before.display_name != after.display_name || before.colour != after.colour {
        app.hub
            .send(Command::AgentRenamed {
                agent: AgentRef {
                    id: after.id,
                    display_name: after.display_name.clone(),
                    colour: after.colour,
                },
            })
            .await;
    }
}

pub async fn list_users(State(app): State<AppState>, Agent(auth): Agent) -> ApiResult<Json<Vec<UserInfo>>> {
    if !auth.user.is_admin {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins can list accounts",
        ));
    }
    Ok(Json(app.store.list_users().await?))
}

pub fn check_user_name(name: &str) -> Result<(), String> {
    let ok = (2..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err("a name has 2 to 40 letters, digits, dots, dashes or underscores".into())
    }
}

/// Characters a display name may not hold: control characters and Unicode's
/// invisible format characters (zero-width, bidirectional overrides and isolates,
/// soft hyphen, byte order mark), with which one agent could pass for another.
fn invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c as u32,
            0x00AD | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
                | 0xFFF9..=0xFFFB
        )
}

/// Checks a display name, already trimmed.
fn check_display_name(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            "a display name has 1 to 80 characters",
        ));
    }
    if name.chars().any(invisible_or_control) {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            "a display name cannot hold control or invisible characters",
        ));
    }
    Ok(())
}

pub async fn create_user(
    State(app): State<AppState>,
    AdminWrite(_): AdminWrite,
    body: Result<Json<CreateUserRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<UserInfo>)> {
    let Json(request) = body?;
    check_user_name(&request.name).map_err(|m| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", m))?;
    let display_name = request
        .display_name
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| request.name.clone());
    check_display_name(&display_name)?;
    auth::check_password_policy(&request.password)
        .map_err(|m| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password", m))?;
    let hash = auth::hash_password(request.password)
        .await
        .map_err(|_| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "hashing failed"))?;
    let user = app
        .store
        .create_user(&request.name, &display_name, &hash, request.is_admin, now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn update_user(
    State(app): State<AppState>,
    AdminWrite(auth): AdminWrite,
    Path(id): Path<AgentId>,
    body: Result<Json<UpdateUserRequest>, JsonRejection>,
) -> ApiResult<Json<UserInfo>> {
    let Json(mut request) = body?;
    if let Some(name) = request.display_name.as_mut() {
        *name = name.trim().to_owned();
        check_display_name(name)?;
    }
    let before = app.store.user_by_id(id).await?.ok_or(StoreError::NotFound)?.info;
    if id == auth.user.id && request.disabled == Some(true) {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "self",
            "you cannot disable your own account",
        ));
    }
    let user = {
        let _changing = app.policy_changing.lock().await;
        let user = app.store.update_user(id, &request).await?;
        if user.permissions != before.permissions {
            tracing::info!(agent = %user.name, by = %auth.user.name, permissions = ?user.permissions, "agent permissions changed");
            app.hub
                .send(Command::AgentPermissionsChanged {
                    agent_id: id,
                    permissions: user.permissions,
                })
                .await;
        }
        user
    };
    announce_rename(&app, &before, &user).await;
    if user.disabled {
        app.store.delete_sessions_of_user(id).await?;
        app.hub
            .send(Command::DropAgent {
                agent_id: id,
                except_session: None,
            })
            .await;
    }
    Ok(Json(user))
}

pub async fn set_password(
    State(app): State<AppState>,
    SessionWrite(auth): SessionWrite,
    Path(id): Path<AgentId>,
    body: Result<Json<SetPasswordRequest>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(request) = body?;
    if id != auth.user.id && auth.user.must_change_password {
        return Err(password_change_required());
    }
    let target = app.store.user_by_id(id).await?.ok_or(StoreError::NotFound)?;
    if id == auth.user.id {
        // Changing one's own password needs the current one, so that a session left
        // open on a shared computer cannot take the account over.
        let current = request.current.unwrap_or_default();
        if current.len() > auth::MAX_PASSWORD_BYTES
            || !auth::verify_password(current.clone(), target.password_hash.clone()).await
        {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                "wrong_password",
                "the current password is wrong",
            ));
        }
        if request.password == current {
            return Err(Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "same_password",
                "the new password must differ from the current one",
            ));
        }
    } else if !auth.user.is_admin {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins can set others' passwords",
        ));
    }
    auth::check_password_policy(&request.password)
        .map_err(|m| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password", m))?;
    let hash = auth::hash_password(request.password)
        .await
        .map_err(|_| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "hashing failed"))?;
    app.store.set_password_hash(id, &hash).await?;
    if id != auth.user.id {
        // A reset password ends the account's other sessions.
        app.store.delete_sessions_of_user(id).await?;
        app.hub
            .send(Command::DropAgent {
                agent_id: id,
                except_session: None,
            })
            .await;
    } else {
        // A new password ends every other session of the account: whoever knew the
        // old one is logged out everywhere but here.
        app.store.delete_other_sessions(id, &auth.session.token_hash).await?;
        app.hub
            .send(Command::DropAgent {
                agent_id: id,
                except_session: Some(auth.session.token_hash.clone()),
            })
            .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    q: Option<String>,
    /// Only the conversations of this conversation's visitor (its details panel).
    visitor_of: Option<ConversationId>,
    status: Option<String>,
    before: Option<u64>,
    limit: Option<u32>,
}

pub async fn list_conversations(
    State(app): State<AppState>,
    Agent(me): Agent,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<ConversationPage>> {
    let status = match query.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some("waiting") => Some(ConversationStatus::Waiting),
        Some("active") => Some(ConversationStatus::Active),
        Some("closed") => Some(ConversationStatus::Closed),
        Some(_) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "status is waiting, active, closed or all",
            ))
        }
    };
    let text = query.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    if text.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "search text is limited to 200 characters",
        ));
    }
    // A visitor's other conversations are listed only to an agent who may read the
    // one they are asked about.
    if let Some(anchor) = &query.visitor_of {
        let found = if anchor.as_str().len() <= 64 {
            app.store.conversation(anchor).await?
        } else {
            None
        };
        let readable = match found {
            Some(c) => {
                app.hub
                    .agent_may_read(anchor, c.status, c.agent.as_ref().map(|a| a.id), me.user.id)
                    .await
            }
            None => false,
        };
        if !readable {
            return Err(Failure::new(StatusCode::NOT_FOUND, "not_found", "no such conversation"));
        }
    }
    let page = app
        .store
        .list_conversations(&ConversationQuery {
            text,
            status,
            agent_id: None,
            readable_by: Some(me.user.id),
            same_visitor_as: query.visitor_of,
            before: query.before,
            limit: query.limit.unwrap_or(sightline_store::DEFAULT_PAGE_SIZE),
        })
        .await?;
    Ok(Json(page))
}

pub async fn get_conversation(
    State(app): State<AppState>,
    Agent(me): Agent,
    Path(id): Path<ConversationId>,
) -> ApiResult<Json<Transcript>> {
    let conversation = readable_conversation(&app, &me, &id).await?;
    let events = app.store.events(&id, 0, None, 100_000).await?;
    Ok(Json(Transcript { conversation, events }))
}

/// The conversation `id`, if the agent `me` may read it: 404 for no such
/// conversation, 403 for another agent's. The same rule as the socket's sync
/// (ARCHITECTURE.md, "who reads what"), for every HTTP read of a conversation.
pub(crate) async fn readable_conversation(
    app: &AppState,
    me: &Authenticated,
    id: &ConversationId,
) -> ApiResult<ConversationSummary> {
    let not_found = || Failure::new(StatusCode::NOT_FOUND, "not_found", "no such conversation");
    if id.as_str().len() > 64 {
        return Err(not_found());
    }
    let conversation = app.store.conversation(id).await?.ok_or_else(not_found)?;
    let owner = conversation.agent.as_ref().map(|a| a.id);
    if !app.hub.agent_may_read(id, conversation.status, owner, me.user.id).await {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "that conversation is another agent's",
        ));
    }
    Ok(conversation)
}

fn admins_only(auth: &Authenticated) -> ApiResult<()> {
    if auth.user.is_admin {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins can see the site settings",
        ))
    }
}

/// The Install page: the widget's URL, the site origins and those refused.
pub async fn site_settings(
    State(app): State<AppState>,
    Agent(auth): Agent,
    headers: HeaderMap,
) -> ApiResult<Json<SiteSettings>> {
    admins_only(&auth)?;
    let base = match &app.config.public_url {
        Some(url) => url.clone(),
        None => {
            let scheme = if app.config.tls.is_some() { "https" } else { "http" };
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("{scheme}://{host}")
        }
    };
    let site_origins = &app.site_origins;
    let refused_origins = app
        .refused_origins
        .recent()
        .into_iter()
        // One the admin allowed since is no longer of interest.
        .filter(|r| !site_origins.contains(&r.origin))
        .map(|r| RefusedOrigin {
            origin: r.origin,
            first_at: r.first_ms,
            last_at: r.last_ms,
            count: r.count,
        })
        .collect();
    Ok(Json(SiteSettings {
        widget_url: format!("{base}/widget.js"),
        configured_origins: site_origins.configured().to_vec(),
        stored_origins: site_origins.stored().to_vec(),
        refused_origins,
    }))
}

/// A site origin as the admin typed it, normalised; refused when too long or not
/// an http(s) origin.
fn site_origin_of(body: Result<Json<SiteOriginRequest>, JsonRejection>) -> ApiResult<String> {
    let Json(request) = body?;
    let given = request.origin.trim();
    if given.is_empty() || given.len() > MAX_SITE_ORIGIN_BYTES {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            format!("an origin is 1 to {MAX_SITE_ORIGIN_BYTES} bytes, such as https://www.example.com"),
        ));
    }
    let origin = crate::config::normalize_origin(given).map_err(|_| {
        Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            "not an origin: write it as https://www.example.com",
        )
    })?;
    if origin.len() > MAX_SITE_ORIGIN_BYTES {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            "that origin is too long",
        ));
    }
    Ok(origin)
}

/// Stores the database's site origins in memory: the checks see them at once.
async fn reload_site_origins(app: &AppState) -> ApiResult<()> {
    app.site_origins.set_stored(app.store.site_origins().await?);
    Ok(())
}

pub async fn add_site_origin(
    State(app): State<AppState>,
    AdminWrite(auth): AdminWrite,
    body: Result<Json<SiteOriginRequest>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let origin = site_origin_of(body)?;
    let _changing = app.site_origins.changing.lock().await;
    if app.site_origins.stored().len() >= MAX_STORED_SITE_ORIGINS {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "too_many",
            format!("at most {MAX_STORED_SITE_ORIGINS} site origins can be added here; list more in allowed_origins"),
        ));
    }
    app.store.add_site_origin(&origin, auth.user.id, now_ms()).await?;
    reload_site_origins(&app).await?;
    app.refused_origins.forget(&origin);
    tracing::info!(%origin, by = %auth.user.name, "site origin allowed in the console");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_site_origin(
    State(app): State<AppState>,
    AdminWrite(auth): AdminWrite,
    body: Result<Json<SiteOriginRequest>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let origin = site_origin_of(body)?;
    let _changing = app.site_origins.changing.lock().await;
    if !app.store.remove_site_origin(&origin).await? {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "that origin was not added here (configured ones are changed in the configuration)",
        ));
    }
    reload_site_origins(&app).await?;
    tracing::info!(%origin, by = %auth.user.name, "site origin removed in the console");
    Ok(StatusCode::NO_CONTENT)
}

/// The site policy, for the admins' Policy section.
pub async fn site_policy(State(app): State<AppState>, Agent(auth): Agent) -> ApiResult<Json<SitePolicy>> {
    admins_only(&auth)?;
    Ok(Json(app.store.site_policy().await?))
}

/// Replaces the site policy: stored, then applied by the hub at once (what it
/// turns off ends; consoles and widgets are told).
pub async fn set_site_policy(
    State(app): State<AppState>,
    AdminWrite(auth): AdminWrite,
    body: Result<Json<SitePolicy>, JsonRejection>,
) -> ApiResult<Json<SitePolicy>> {
    let Json(mut policy) = body?;
    let refuse = |message: String| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", message);
    policy.private_selectors = policy
        .private_selectors
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    policy.private_selectors.dedup();
    if policy.private_selectors.len() > MAX_PRIVATE_SELECTORS {
        return Err(refuse(format!("at most {MAX_PRIVATE_SELECTORS} private selectors")));
    }
    for selector in &policy.private_selectors {
        check_private_selector(selector).map_err(|why| refuse(format!("{why}: {selector}")))?;
    }
    let _changing = app.policy_changing.lock().await;
    app.store.set_site_policy(&policy, auth.user.id, now_ms()).await?;
    app.hub
        .send(Command::SitePolicyChanged { policy: policy.clone() })
        .await;
    tracing::info!(by = %auth.user.name, allowed = ?policy.allowed, selectors = policy.private_selectors.len(), "site policy changed");
    Ok(Json(policy))
}
