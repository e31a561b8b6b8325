//! The Sightline server: a thin tokio/axum shell around the sans-IO core.
//!
//! [`run`] serves on a listener until a shutdown future resolves, so tests embed the
//! real server on port 0. The `sightline` binary (main.rs) is glue: it parses the
//! command line, sets up logging and calls `run`.
//!
//! Pieces:
//! - `hub_task`: the one task that owns the core's `Hub` and stores each batch
//!   before delivering it;
//! - `ws`: the WebSocket endpoints, one task per socket;
//! - `api` and `auth`: the console's JSON API, passwords, sessions, CSRF;
//! - `assets`: the embedded web build (widget, console, demo site);
//! - `config`: flags, environment and TOML file.

pub mod api;
pub mod asset_proxy;
pub mod assets;
pub mod auth;
pub mod config;
pub mod hub_task;
pub mod image_check;
pub mod images;
pub mod net;
pub mod office_hours;
pub mod origin;
pub mod relay;
pub mod saved_replies;
pub mod transcripts;
pub mod user_agent;
mod ws;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post, put};
use axum::Router;
use sightline_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::Config;
use hub_task::{Command, HubHandle};

/// Milliseconds since the Unix epoch: the only clock the server reads. The core gets
/// it as an argument.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Shared by every request handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Held while a permission or the site policy is stored and handed to the
    /// hub, so that the hub gets changes in the order the database took them.
    pub policy_changing: Arc<tokio::sync::Mutex<()>>,
    pub config: Arc<Config>,
    pub store: Store,
    pub hub: HubHandle,
    /// The data plane: granted streams and their sockets (`/ws/stream`).
    pub relay: Arc<relay::Relay>,
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Changes once, when the server begins to shut down.
    pub shutdown: watch::Receiver<()>,
    pub secure_cookies: bool,
    pub public_origin: Option<String>,
    /// Image originals and thumbnails, under `<data_dir>/images`.
    pub blobs: sightline_store::BlobStore,
    /// Image checks running at once (one per core, at most two): bounds the memory
    /// that decoding uploads can take, whatever the number of uploads.
    pub image_work: Arc<tokio::sync::Semaphore>,
    /// Upload bytes in memory at once, in KiB (`max_upload_memory`): taken before
    /// a body is read, given back when the upload is stored or refused.
    pub upload_memory: Arc<tokio::sync::Semaphore>,
    pub upload_limiter: Arc<images::UploadLimiter>,
    /// Open WebSockets: in all (with room kept for agents) and per address.
    pub sockets: Arc<net::Gate>,
    /// Transcript pages being read and encoded for replays at once.
    pub replay_work: Arc<tokio::sync::Semaphore>,
    /// Stylesheets, fonts and images of mirrored pages (`/api/cobrowse/asset`).
    pub asset_proxy: Arc<asset_proxy::AssetProxy>,
    /// Site origins the widget was refused on during this run (each logged once).
    pub refused_origins: Arc<origin::RefusedOrigins>,
    /// Site origins the widget may be used on: configured, and added by an admin.
    pub site_origins: Arc<origin::SiteOrigins>,
}

/// The first admin account, created when the database has no account at all.
pub struct InitialAdmin {
    pub name: String,
    pub password: String,
    /// Made up by the server: the admin must replace it at first login.
    pub one_time: bool,
}

/// Creates the `admin` account on first start. The password is
/// `SIGHTLINE_ADMIN_PASSWORD` when set (the operator chose it, e.g. in a deployment
/// script), else random and one-time: it is returned so the caller can show it
/// once, and the console then makes the admin choose their own before anything
/// else. It is never stored in clear.
pub async fn bootstrap_admin(store: &Store) -> anyhow::Result<Option<InitialAdmin>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let chosen = std::env::var("SIGHTLINE_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty());
    let generated = chosen.is_none();
    let password = chosen.unwrap_or_else(auth::random_password);
    auth::check_password_policy(&password).map_err(|m| anyhow::anyhow!("SIGHTLINE_ADMIN_PASSWORD: {m}"))?;
    let hash = auth::hash_password(password.clone()).await?;
    store
        .create_user_with("admin", "Administrator", &hash, true, generated, now_ms())
        .await?;
    Ok(Some(InitialAdmin {
        name: "admin".into(),
        password,
        one_time: generated,
    }))
}

/// Opens the store (creating the data directory for SQLite) and runs migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    }
    Store::connect(&config.database_url)
        .await
        .with_context(|| format!("opening the database {}", redact(&config.database_url)))
}

/// A database URL without its password (nor its query, which may hold one), for
/// messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.set_query(None);
            parsed.to_string()
        }
        // Unreadable: its scheme alone, since anything after it may be a secret.
        Err(_) => format!("{}://…", url.split("://").next().unwrap_or_default()),
    }
}

fn router(app: AppState) -> Router {
    let api = Router::new()
        .route("/login", post(api::login))
        .route("/logout", post(api::logout))
        .route("/me", get(api::get_me).patch(api::update_me))
        .route("/users", get(api::list_users).post(api::create_user))
        .route("/users/{id}", patch(api::update_user))
        .route("/users/{id}/password", post(api::set_password))
        .route("/users/{id}/profile", put(api::put_profile))
        .route("/conversations", get(api::list_conversations))
        .route("/conversations/{id}", get(api::get_conversation))
        .route("/conversations/{id}/transcript", get(transcripts::for_agent))
        .route(
            "/visitor/transcript",
            get(transcripts::for_visitor).options(images::preflight),
        )
        // Image uploads read their own bodies, within `max_image_bytes`.
        .route(
            "/conversations/{id}/images",
            post(images::agent_upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/visitor/images",
            post(images::visitor_upload).options(images::preflight),
        )
        .route("/images/{id}", get(images::get_image).options(images::preflight))
        .route("/images/{id}/thumb", get(images::get_thumb).options(images::preflight))
        .route("/images/{id}/annotations", get(images::get_annotations))
        .route("/cobrowse/asset", get(asset_proxy::get_asset))
        .route("/saved-replies", get(saved_replies::list).post(saved_replies::create))
        .route(
            "/saved-replies/{id}",
            put(saved_replies::update).delete(saved_replies::delete),
        )
        .route("/admin/site", get(api::site_settings))
        .route("/admin/policy", get(api::site_policy).put(api::set_site_policy))
        .route(
            "/admin/site/origins",
            post(api::add_site_origin).delete(api::remove_site_origin),
        )
        .fallback(|| async { api::Failure::new(StatusCode::NOT_FOUND, "not_found", "no such API") })
        .layer(axum::middleware::from_fn(api_loads_refused))
        // Every API body is small JSON.
        .layer(DefaultBodyLimit::max(64 * 1024))
        // A request, its body included, must be done in time: a body sent a byte a
        // minute must not hold its connection (and upload buffer) for ever.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            app.config.request_timeout,
        ));
    Router::new()
        .nest("/api", api)
        .route("/ws/visitor", get(ws::visitor))
        .route("/ws/agent", get(ws::agent))
        .route("/ws/stream", get(relay::socket))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .fallback(get(static_file))
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .with_state(app)
}

/// The API answers the console's and widget's scripts (`fetch`: `Sec-Fetch-Dest:
/// empty`), and for pictures and the co-browse asset proxy also what the browser
/// loads itself; never a page, stylesheet, font, frame or other load of anything
/// else. A mirrored page that got a URL of the API past the console's rewriting
/// still cannot make the agent's browser call it with the agent's cookies.
/// (Browsers send the header to HTTPS and loopback origins.)
async fn api_loads_refused(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    let path = path.strip_prefix("/api").unwrap_or(path);
    let loadable = path == "/cobrowse/asset" || path.starts_with("/images/");
    let dest = request
        .headers()
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("empty");
    if dest != "empty" && !loadable {
        return api::Failure::new(
            StatusCode::FORBIDDEN,
            "not_a_resource",
            "the API answers scripts, not pages or resources",
        )
        .into_response();
    }
    next.run(request).await
}

/// `/`: the demo site, or the console when the demo is turned off.
async fn index(State(app): State<AppState>) -> Redirect {
    Redirect::to(if app.config.demo { "/demo" } else { "/console" })
}

async fn static_file(State(app): State<AppState>, uri: Uri) -> Response {
    if !app.config.demo && is_demo_path(uri.path()) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    assets::serve(uri.path(), &app.config.company)
}

/// `/demo` and everything under it (as `assets::lookup` reads a path).
fn is_demo_path(path: &str) -> bool {
    let path = path.trim_start_matches('/');
    path == "demo" || path.starts_with("demo/") || path.starts_with("demo.")
}

async fn healthz(State(app): State<AppState>) -> Response {
    match app.store.count_users().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(err) => {
            tracing::error!(%err, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// `/metrics` on the main address: for loopback clients, or anyone with the
/// bearer token; nobody when the figures are served on their own address.
async fn metrics(
    State(app): State<AppState>,
    net::ClientAddr(client): net::ClientAddr,
    headers: header::HeaderMap,
) -> Response {
    if app.config.metrics_bind.is_some() {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Without the token: only a loopback client that came through no proxy (a
    // proxy on the same host would make every visitor look local).
    let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    let allowed = match (&app.config.metrics_token, presented) {
        (Some(token), Some(given)) => auth::constant_time_eq(token, given),
        _ => client.is_loopback() && !proxied,
    };
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "metrics need the bearer token (--metrics-token)\n",
        )
            .into_response();
    }
    metrics_open(State(app)).await
}

async fn metrics_open(State(app): State<AppState>) -> Response {
    // Fresh figures from the hub (it computes them only on request).
    let (reply, refreshed) = tokio::sync::oneshot::channel();
    if app.hub.send(hub_task::Command::Stats { reply }).await {
        let _ = tokio::time::timeout(Duration::from_secs(5), refreshed).await;
    }
    let m = &app.hub.metrics;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    };
    let load = |a: &std::sync::atomic::AtomicUsize| a.load(Ordering::Relaxed) as u64;
    gauge(
        "sightline_connections",
        "Open WebSocket connections.",
        "gauge",
        load(&m.connections),
    );
    gauge(
        "sightline_visitors_in_memory",
        "Visitors the hub holds in memory.",
        "gauge",
        load(&m.visitors),
    );
    gauge(
        "sightline_conversations_waiting",
        "Conversations waiting for an agent.",
        "gauge",
        load(&m.waiting),
    );
    gauge(
        "sightline_conversations_active",
        "Conversations an agent is handling.",
        "gauge",
        load(&m.active),
    );
    gauge(
        "sightline_shares_live",
        "Screen shares the visitor consented to that have not ended.",
        "gauge",
        load(&m.shares_live),
    );
    gauge(
        "sightline_hub_batches_total",
        "Batches of input the hub handled.",
        "counter",
        m.batches.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_persisted_operations_total",
        "Storage operations committed.",
        "counter",
        m.persisted_ops.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_persist_failures_total",
        "Failed storage transactions.",
        "counter",
        m.persist_failures.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_summaries_coalesced_total",
        "Conversation summaries not sent because a newer one of the same batch replaced them.",
        "counter",
        m.summaries_coalesced.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_slow_sockets_dropped_total",
        "Sockets closed because they could not keep up.",
        "counter",
        m.slow_consumers_dropped.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_rate_limit_address_groups",
        "Client address groups whose rate limits are tracked.",
        "gauge",
        load(&m.address_groups),
    );
    gauge(
        "sightline_websockets_open",
        "WebSockets holding a place in the connection limit.",
        "gauge",
        app.sockets.open() as u64,
    );
    gauge(
        "sightline_streams_live",
        "Streams granted by visitors and carried by the relay.",
        "gauge",
        app.relay.live() as u64,
    );
    gauge(
        "sightline_stream_messages_checked_total",
        "Whole stream messages the relay checked and passed on.",
        "counter",
        app.relay.messages_checked.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_stream_messages_refused_total",
        "Stream frames or messages refused as malformed (the publisher's socket closed with 1007).",
        "counter",
        app.relay.messages_refused.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_origin_refusals_total",
        "Widget sockets and requests refused because their site origin is not in allowed_origins.",
        "counter",
        app.refused_origins.total.load(Ordering::Relaxed),
    );
    gauge(
        "sightline_upload_memory_in_use_bytes",
        "Room taken in the upload memory budget by uploads in flight.",
        "gauge",
        app.config
            .max_upload_memory
            .div_ceil(1024)
            .saturating_sub(app.upload_memory.available_permits() as u64)
            * 1024,
    );
    out.push_str("# HELP sightline_rate_limited_total Requests refused by a rate limit, by limit.\n");
    out.push_str("# TYPE sightline_rate_limited_total counter\n");
    for (kind, counter) in sightline_core::LimitKind::ALL.iter().zip(&m.limited) {
        out.push_str(&format!(
            "sightline_rate_limited_total{{limit=\"{}\"}} {}\n",
            kind.as_str(),
            counter.load(Ordering::Relaxed)
        ));
    }
    out.push_str(&format!(
        "sightline_rate_limited_total{{limit=\"login\"}} {}\n",
        app.login_limiter.refusals()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// Serves until `shutdown` resolves, then closes every socket with 1012 (service
/// restart, so clients reconnect) and finishes in-flight work.
pub async fn run(
    listener: TcpListener,
    config: Config,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    net::raise_open_file_limit();
    let relay = Arc::new(relay::Relay::new(config.stream_limits));
    let (hub, hub_join) = hub_task::spawn(
        store.clone(),
        config.share.clone(),
        config.limits.clone(),
        config.identity_secret.clone(),
        relay.clone(),
    )
    .await?;
    let (shutdown_tx, shutdown_rx) = watch::channel(());
    let public_origin = config
        .public_url
        .as_deref()
        .and_then(|u| config::normalize_origin(u).ok());
    let secure_cookies = config.tls.is_some() || public_origin.as_deref().is_some_and(|o| o.starts_with("https:"));
    let blobs = sightline_store::BlobStore::open(config.data_dir.join("images"))
        .with_context(|| format!("creating the image directory in {}", config.data_dir.display()))?;
    // One decode per core, and never more than two at once: each may take up to
    // MAX_IMAGE_DECODED_BYTES (twice that while rotating).
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(2);
    let site_origins = Arc::new(origin::SiteOrigins::new(config.allowed_origins.clone()));
    site_origins.set_stored(
        store
            .site_origins()
            .await
            .context("reading the site origins added in the console")?,
    );
    let app = AppState {
        asset_proxy: Arc::new(
            asset_proxy::AssetProxy::new(site_origins.clone()).context("setting up the asset proxy")?,
        ),
        site_origins,
        policy_changing: Arc::default(),
        blobs,
        refused_origins: Arc::default(),
        image_work: Arc::new(tokio::sync::Semaphore::new(cores)),
        upload_memory: Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(config.max_upload_memory.div_ceil(1024)).unwrap_or(usize::MAX / 2),
        )),
        upload_limiter: Arc::new(images::UploadLimiter::default()),
        replay_work: Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2)),
        )),
        sockets: net::Gate::new(
            config.max_connections,
            config.reserved_agent_connections,
            config.max_connections_per_address,
        ),
        config: Arc::new(config.clone()),
        store: store.clone(),
        hub: hub.clone(),
        relay,
        login_limiter: Arc::new(auth::LoginLimiter::new(auth::load_device_key(&config.data_dir))),
        shutdown: shutdown_rx,
        secure_cookies,
        public_origin,
    };
    // Before any socket: the first welcomes already know the site policy.
    hub.send(Command::SitePolicyChanged {
        policy: store.site_policy().await.context("reading the site policy")?,
    })
    .await;
    // Before any socket: a visitor's first welcome already knows the office hours.
    if let Some(hours) = &config.office_hours {
        hub.send(Command::OfficeHours {
            open: hours.is_open(now_ms()),
        })
        .await;
    }
    let housekeeping = tokio::spawn(housekeeping(
        hub.clone(),
        store.clone(),
        app.blobs.clone(),
        config.office_hours.clone(),
    ));
    // Every TCP connection, upgraded or not: a place per connection, capped per
    // address, with room above the WebSocket limit for plain requests.
    let tcp = net::Gate::new(
        config.max_connections + config.max_connections / 10 + 64,
        0,
        config.max_connections_per_address,
    );
    let metrics_listener = match config.metrics_bind {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the metrics address {addr}"))?,
        ),
        None => None,
    };
    let router = router(app.clone());
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(());
    };
    tokio::spawn(signal);
    if let Some(listener) = metrics_listener {
        let metrics_router = Router::new()
            .route("/metrics", get(metrics_open))
            .with_state(app.clone());
        let gate = net::Gate::new(256, 0, 64);
        tokio::spawn(net::serve(
            listener,
            metrics_router,
            gate,
            (config.handshake_timeout, None),
            Vec::new(),
            app.shutdown.clone(),
        ));
    }
    let tls = match &config.tls {
        None => None,
        Some((cert, key)) => Some(net::tls_acceptor(cert, key).context("loading the TLS certificate and key")?),
    };
    net::serve(
        listener,
        router,
        tcp,
        (config.handshake_timeout, tls),
        config.trusted_proxies.clone(),
        app.shutdown.clone(),
    )
    .await;
    housekeeping.abort();
    // The state holds a handle to the hub too: with it, the router clones and every
    // socket task gone, every sender is gone and the hub task drains and stops.
    drop(app);
    drop(hub);
    if tokio::time::timeout(Duration::from_secs(10), hub_join).await.is_err() {
        tracing::warn!("the hub did not stop within 10 s");
    }
    store.close().await;
    Ok(())
}

/// How long a blob may exist without an image referring to it before the sweep
/// removes it: far longer than an upload takes from writing its files to posting.
pub const BLOB_GRACE: Duration = Duration::from_secs(3600);

async fn housekeeping(
    hub: HubHandle,
    store: Store,
    blobs: sightline_store::BlobStore,
    office_hours: Option<office_hours::OfficeHours>,
) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    let mut minutes: u64 = 0;
    loop {
        // The first tick is at once: the hub learns the office hours at start.
        every_minute.tick().await;
        if let Some(hours) = &office_hours {
            hub.send(Command::OfficeHours {
                open: hours.is_open(now_ms()),
            })
            .await;
        }
        hub.send(Command::Tick).await;
        if let Err(err) = store.delete_expired_sessions(now_ms()).await {
            tracing::warn!(%err, "could not delete expired sessions");
        }
        // Hourly, starting a minute after start.
        if minutes % 60 == 1 {
            match sweep_blobs(&store, &blobs, BLOB_GRACE).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed image files no message refers to"),
                Err(err) => tracing::warn!(%err, "the image file sweep failed"),
            }
        }
        minutes += 1;
    }
}

/// Removes blobs that no image refers to and that were not written or stored again
/// within `grace` (an upload whose message could not be posted leaves such files).
/// Returns how many were removed.
pub async fn sweep_blobs(store: &Store, blobs: &sightline_store::BlobStore, grace: Duration) -> anyhow::Result<usize> {
    let cutoff = std::time::SystemTime::now() - grace;
    let lister = blobs.clone();
    let candidates = tokio::task::spawn_blocking(move || lister.unused_candidates(cutoff)).await??;
    if candidates.is_empty() {
        return Ok(0);
    }
    let referenced = store.referenced_blobs(&candidates).await?;
    let sweeper = blobs.clone();
    let removed = tokio::task::spawn_blocking(move || sweeper.sweep(cutoff, &candidates, &referenced)).await??;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_lose_their_secrets_in_logs() {
        assert_eq!(
            super::redact("postgres://sightline:hunter2@db.example/sl?sslmode=require&password=x"),
            "postgres://sightline:***@db.example/sl"
        );
        assert_eq!(
            super::redact("sqlite://./data/sightline.db"),
            "sqlite://./data/sightline.db"
        );
        assert!(!super::redact("postgres://u:hunter2@[bad").contains("hunter2"));
    }
}
