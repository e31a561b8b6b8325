//! The co-browse asset proxy: stylesheets, fonts and images of the visitor's page
//! that the agent's console cannot load itself.
//!
//! The console's mirror never loads anything from another origin (its CSP says
//! `'self'`); it rewrites every outside URL of a mirrored page to
//! `/api/cobrowse/asset?u=<url>`. This handler fetches such a URL for a logged-in
//! agent, and only when:
//! - its origin is one of the site origins (`allowed_origins` and those an admin
//!   added in the console), and so
//!   is every redirect's (never an open proxy, never an address the operator did
//!   not name);
//! - the answer is a stylesheet, a font or an image (by its type, or for a generic
//!   type by the file's extension), at most [`MAX_ASSET_BYTES`], within
//!   [`FETCH_TIMEOUT`].
//!
//! Nothing of the agent's request goes on: no cookies, no referrer, no headers.
//! A stylesheet comes back with its `url()`s and `@import`s rewritten to this
//! proxy, resolved against the sheet's own URL. Answers carry a sandboxing CSP, so
//! an SVG opened on its own runs nothing under the console's origin.
//!
//! Fetches wait for room: at most [`PER_AGENT_FETCHES`] per agent and
//! [`ALL_FETCHES`] in all (which bounds the memory of answers being read), and
//! answers being written out hold their size of [`ANSWER_BUDGET_KIB`] until they
//! are sent or dropped (a slow reader cannot make the proxy hold more); all
//! within [`FETCH_TIMEOUT`], waiting included.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::Semaphore;
use url::Url;

use crate::api::{Agent, Failure};
use crate::AppState;

/// Where the console's mirror sends outside URLs.
pub const PATH: &str = "/api/cobrowse/asset";
/// The largest asset passed on.
pub const MAX_ASSET_BYTES: usize = 4 * 1024 * 1024;
/// From the request to the last byte of the answer, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed, each to an allowed origin.
pub const MAX_REDIRECTS: usize = 5;
/// Fetches of one agent at once; more wait.
pub const PER_AGENT_FETCHES: usize = 6;
/// Fetches at once in all; more wait.
pub const ALL_FETCHES: usize = 16;
/// The longest URL accepted.
pub const MAX_URL_CHARS: usize = 4096;
/// Answers held in memory at once, in KiB, while they are written out (a slow
/// reader holds its share until it has read it or gone).
pub const ANSWER_BUDGET_KIB: u32 = 64 * 1024;

/// The proxy's client and its limits.
pub struct AssetProxy {
    client: reqwest::Client,
    allowed: Arc<crate::origin::SiteOrigins>,
    all: Semaphore,
    per_agent: Mutex<BTreeMap<i64, Arc<Semaphore>>>,
    /// [`ANSWER_BUDGET_KIB`], taken by each answer until its body is dropped.
    answers: Arc<Semaphore>,
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl AssetProxy {
    /// A proxy for the site origins (configured and stored: a change applies to
    /// the next fetch).
    pub fn new(allowed: Arc<crate::origin::SiteOrigins>) -> anyhow::Result<Self> {
        let redirect_allowed = allowed.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if redirect_allowed.contains(&origin_of(attempt.url())) {
                attempt.follow()
            } else {
                // Handed back as the 3xx answer, which is refused below.
                attempt.stop()
            }
        });
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(policy)
            .referer(false)
            .no_proxy()
            // A safety net only: the request's own FETCH_TIMEOUT (waiting for a
            // place included) answers first, with 504.
            .timeout(FETCH_TIMEOUT + Duration::from_secs(2))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!(
                "Sightline/",
                env!("CARGO_PKG_VERSION"),
                " co-browse asset proxy"
            ))
            .build()?;
        Ok(AssetProxy {
            client,
            allowed,
            all: Semaphore::new(ALL_FETCHES),
            per_agent: Mutex::new(BTreeMap::new()),
            answers: Arc::new(Semaphore::new(ANSWER_BUDGET_KIB as usize)),
        })
    }

    fn agent_slots(&self, agent: i64) -> Arc<Semaphore> {
        let mut map = self.per_agent.lock().unwrap_or_else(|p| p.into_inner());
        // Agents with nothing in flight are forgotten as others come.
        map.retain(|_, s| Arc::strong_count(s) > 1);
        map.entry(agent)
            .or_insert_with(|| Arc::new(Semaphore::new(PER_AGENT_FETCHES)))
            .clone()
    }
}

/// The proxy URL (path and query) for an absolute http(s) URL.
pub fn proxy_url(target: &Url) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(target.as_str().as_bytes()).collect();
    format!("{PATH}?u={encoded}")
}

/// What a CSS reference becomes: data and fragment references stay, http(s)
/// ones (resolved against the sheet's URL) go through the proxy, anything else
/// is made inert.
fn rewrite_reference(raw: &str, base: &Url) -> Option<String> {
    let value = raw.trim();
    let lower = value.to_ascii_lowercase();
    if value.is_empty() || lower.starts_with("data:") || value.starts_with('#') {
        return None;
    }
    if value.contains('\\') {
        return Some("about:invalid".into());
    }
    match base.join(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Some(proxy_url(&url)),
        _ => Some("about:invalid".into()),
    }
}

/// Rewrites a stylesheet's `url(…)` and `@import "…"` references to the proxy,
/// resolved against `base` (the sheet's own URL).
pub fn rewrite_css(css: &str, base: &Url) -> String {
    // ASCII lowercasing keeps every byte offset.
    let lower = css.to_ascii_lowercase();
    let bytes = css.as_bytes();
    let mut out = String::with_capacity(css.len() + 256);
    let mut i = 0;
    // Each search result is kept until passed: searching again from every
    // reference would make a sheet of many references quadratic.
    let find = |needle: &str, from: usize| lower.get(from..).and_then(|rest| rest.find(needle)).map(|p| p + from);
    let (mut next_url, mut next_import) = (find("url(", 0), find("@import", 0));
    while i < css.len() {
        if next_url.is_some_and(|p| p < i) {
            next_url = find("url(", i);
        }
        if next_import.is_some_and(|p| p < i) {
            next_import = find("@import", i);
        }
        let (at, is_url) = match (next_url, next_import) {
            (Some(u), Some(m)) if m < u => (m, false),
            (Some(u), _) => (u, true),
            (None, Some(m)) => (m, false),
            (None, None) => break,
        };
        if is_url {
            let start = at + 4;
            let mut j = start;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            let (value, end) = if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                let quote = bytes[j];
                match css[j + 1..].find(quote as char) {
                    Some(close) => {
                        let value = &css[j + 1..j + 1 + close];
                        let mut k = j + 1 + close + 1;
                        while k < bytes.len() && bytes[k].is_ascii_whitespace() {
                            k += 1;
                        }
                        if k < bytes.len() && bytes[k] == b')' {
                            (value, k + 1)
                        } else {
                            // Not a url() after all: copy it and go on.
                            out.push_str(&css[i..start]);
                            i = start;
                            continue;
                        }
                    }
                    None => break,
                }
            } else {
                match css[start..].find(')') {
                    Some(close) => (&css[start..start + close], start + close + 1),
                    None => break,
                }
            };
            out.push_str(&css[i..at]);
            match rewrite_reference(value, base) {
                Some(new) => {
                    out.push_str("url(\"");
                    out.push_str(&new);
                    out.push_str("\")");
                }
                None => out.push_str(&css[at..end]),
            }
            i = end;
        } else {
            let mut j = at + "@import".len();
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                let quote = bytes[j];
                if let Some(close) = css[j + 1..].find(quote as char) {
                    let value = &css[j + 1..j + 1 + close];
                    let end = j + 1 + close + 1;
                    out.push_str(&css[i..j]);
                    match rewrite_reference(value, base) {
                        Some(new) => {
                            out.push('"');
                            out.push_str(&new);
                            out.push('"');
                        }
                        None => out.push_str(&css[j..end]),
                    }
                    i = end;
                    continue;
                }
            }
            // `@import url(…)` is taken by the url() branch next.
            out.push_str(&css[i..j]);
            i = j;
        }
    }
    out.push_str(&css[i..]);
    out
}

/// The type an asset is passed on with, or `None` for anything that is not a
/// stylesheet, font or image. A generic type is judged by the file's extension.
pub fn asset_type(content_type: Option<&str>, path: &str) -> Option<&'static str> {
    let declared = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let known = match declared.as_str() {
        "text/css" => Some("text/css; charset=utf-8"),
        "image/png" => Some("image/png"),
        "image/jpeg" | "image/jpg" | "image/pjpeg" => Some("image/jpeg"),
        "image/gif" => Some("image/gif"),
        "image/webp" => Some("image/webp"),
        "image/avif" => Some("image/avif"),
        "image/svg+xml" => Some("image/svg+xml"),
        "image/x-icon" | "image/vnd.microsoft.icon" => Some("image/x-icon"),
        "image/bmp" => Some("image/bmp"),
        "font/woff" | "application/font-woff" | "application/x-font-woff" => Some("font/woff"),
        "font/woff2" | "application/font-woff2" => Some("font/woff2"),
        "font/ttf" | "application/x-font-ttf" | "application/x-font-truetype" | "application/font-sfnt" => {
            Some("font/ttf")
        }
        "font/otf" | "application/x-font-opentype" => Some("font/otf"),
        "application/vnd.ms-fontobject" => Some("application/vnd.ms-fontobject"),
        _ => None,
    };
    if known.is_some() {
        return known;
    }
    if !matches!(
        declared.as_str(),
        "" | "application/octet-stream" | "binary/octet-stream" | "application/binary"
    ) {
        return None;
    }
    let extension = path.rsplit('/').next()?.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "woff" => Some("font/woff"),
        "woff2" => Some("font/woff2"),
        "ttf" => Some("font/ttf"),
        "otf" => Some("font/otf"),
        "eot" => Some("application/vnd.ms-fontobject"),
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        "ico" => Some("image/x-icon"),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct AssetQuery {
    u: String,
}

fn refuse(status: StatusCode, error: &'static str, message: impl Into<String>) -> Response {
    Failure::new(status, error, message).into_response()
}

/// `GET /api/cobrowse/asset?u=<url>`: see the module's documentation.
pub async fn get_asset(State(app): State<AppState>, Agent(auth): Agent, Query(query): Query<AssetQuery>) -> Response {
    let proxy = &app.asset_proxy;
    if query.u.len() > MAX_URL_CHARS {
        return refuse(StatusCode::URI_TOO_LONG, "bad_request", "that URL is too long");
    }
    let target = match Url::parse(&query.u) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        _ => return refuse(StatusCode::BAD_REQUEST, "bad_request", "not an absolute http(s) URL"),
    };
    if !target.username().is_empty() || target.password().is_some() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "URLs with credentials are not fetched",
        );
    }
    if !proxy.allowed.contains(&origin_of(&target)) {
        return refuse(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "only the allowed site origins are fetched",
        );
    }
    let agent_slots = proxy.agent_slots(auth.user.id.0);
    let fetched = tokio::time::timeout(FETCH_TIMEOUT, async {
        let (kind, body) = {
            let _mine = agent_slots.acquire().await.map_err(|_| "closed")?;
            let _any = proxy.all.acquire().await.map_err(|_| "closed")?;
            fetch(&proxy.client, target).await?
        };
        // The answer's share of the budget, held by its body until it is sent.
        let kib = u32::try_from(body.len().div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        let held = proxy
            .answers
            .clone()
            .acquire_many_owned(kib)
            .await
            .map_err(|_| "closed")?;
        Ok::<_, &'static str>(answer(kind, body, held))
    })
    .await;
    match fetched {
        Ok(Ok(answer)) => answer,
        Ok(Err(why)) => refuse(StatusCode::BAD_GATEWAY, "asset_unavailable", why),
        Err(_) => refuse(
            StatusCode::GATEWAY_TIMEOUT,
            "asset_unavailable",
            "the site did not answer in time",
        ),
    }
}

/// A body that holds its share of [`ANSWER_BUDGET_KIB`] until it is dropped.
struct Held {
    bytes: Option<axum::body::Bytes>,
    _share: tokio::sync::OwnedSemaphorePermit,
}

impl hyper::body::Body for Held {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.bytes.take().map(|b| Ok(hyper::body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.bytes.as_ref().map_or(0, |b| b.len() as u64))
    }
}

fn answer(kind: &'static str, body: Vec<u8>, share: tokio::sync::OwnedSemaphorePermit) -> Response {
    let mut answer = axum::body::Body::new(Held {
        bytes: Some(body.into()),
        _share: share,
    })
    .into_response();
    let headers = answer.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    answer
}

/// Fetches an asset: its type and its bytes (a stylesheet already rewritten).
async fn fetch(client: &reqwest::Client, target: Url) -> Result<(&'static str, Vec<u8>), &'static str> {
    let mut response = client
        .get(target)
        .header(header::ACCEPT, "text/css,image/*,font/*,*/*;q=0.1")
        .send()
        .await
        .map_err(|_| "the site could not be reached")?;
    if response.status().is_redirection() {
        return Err("the site redirected to an origin that is not allowed");
    }
    if !response.status().is_success() {
        return Err("the site did not serve this asset");
    }
    let final_url = response.url().clone();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(kind) = asset_type(content_type.as_deref(), final_url.path()) else {
        return Err("only stylesheets, fonts and images are passed on");
    };
    if response.content_length().is_some_and(|n| n > MAX_ASSET_BYTES as u64) {
        return Err("the asset is too large");
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| "the site's answer broke off")? {
        if body.len() + chunk.len() > MAX_ASSET_BYTES {
            return Err("the asset is too large");
        }
        body.extend_from_slice(&chunk);
    }
    if kind.starts_with("text/css") {
        let text = String::from_utf8_lossy(&body);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let rewritten = rewrite_css(text, &final_url).into_bytes();
        // Each reference grows by the proxy's prefix: a sheet of nothing but
        // references must not pass as many times the limit.
        if rewritten.len() > MAX_ASSET_BYTES * 2 {
            return Err("the stylesheet is too large");
        }
        return Ok((kind, rewritten));
    }
    Ok((kind, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://shop.example/css/site.css?v=3").expect("url")
    }

    fn proxied(url: &str) -> String {
        proxy_url(&Url::parse(url).expect("url"))
    }

    #[test]
    fn css_references_resolve_against_the_sheet_and_go_through_the_proxy() {
        let css = "a{background:url(../img/a.png)} b{background:URL( '/b.png' )} \
                   @font-face{src:url(\"https://cdn.example/f.woff2?x=1\") format('woff2')}";
        let out = rewrite_css(css, &base());
        assert!(
            out.contains(&format!("url(\"{}\")", proxied("https://shop.example/img/a.png"))),
            "{out}"
        );
        assert!(
            out.contains(&format!("url(\"{}\")", proxied("https://shop.example/b.png"))),
            "{out}"
        );
        assert!(
            out.contains(&format!("url(\"{}\")", proxied("https://cdn.example/f.woff2?x=1"))),
            "{out}"
        );
        assert!(out.contains("format('woff2')"));
        assert!(!out.contains("../img"));
    }

    #[test]
    fn imports_data_and_fragments() {
        let css = "@import \"theme.css\"; @import url(print.css) print; \
                   i{background:url(data:image/png;base64,AAAA)} svg{fill:url(#grad)} \
                   x{background:url(javascript:alert(1))} y{background:url(\"a\\\".png\")}";
        let out = rewrite_css(css, &base());
        assert!(
            out.starts_with(&format!(
                "@import \"{}\";",
                proxied("https://shop.example/css/theme.css")
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "@import url(\"{}\") print;",
                proxied("https://shop.example/css/print.css")
            )),
            "{out}"
        );
        assert!(out.contains("url(data:image/png;base64,AAAA)"));
        assert!(out.contains("url(#grad)"));
        assert!(!out.contains("javascript"), "{out}");
        assert!(out.contains("url(\"about:invalid\")"), "{out}");
    }

    #[test]
    fn unterminated_css_is_copied_not_lost() {
        for css in [
            "a{background:url(",
            "a{background:url('x.png",
            "@import 'x",
            "a{b:url(\"x\" c}",
        ] {
            assert_eq!(rewrite_css(css, &base()), css);
        }
        assert_eq!(rewrite_css("no references here", &base()), "no references here");
        let unicode = rewrite_css("é{background:url(ü.png)}", &base());
        assert!(
            unicode.starts_with("é{background:url(\"/api/cobrowse/asset?u="),
            "{unicode}"
        );
    }

    #[tokio::test]
    async fn an_answer_holds_its_share_of_the_budget_until_it_is_dropped() {
        let budget = Arc::new(Semaphore::new(10));
        let share = budget.clone().acquire_many_owned(10).await.expect("share");
        let response = answer("image/png", vec![7; 3000], share);
        assert_eq!(budget.available_permits(), 0);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        assert_eq!(bytes.len(), 3000);
        assert_eq!(budget.available_permits(), 10, "given back once sent");
    }

    #[test]
    fn only_stylesheets_fonts_and_images_pass() {
        assert_eq!(
            asset_type(Some("text/css; charset=iso-8859-1"), "/a.css"),
            Some("text/css; charset=utf-8")
        );
        assert_eq!(asset_type(Some("IMAGE/PNG"), "/a"), Some("image/png"));
        assert_eq!(
            asset_type(Some("application/octet-stream"), "/f/x.WOFF2"),
            Some("font/woff2")
        );
        assert_eq!(asset_type(None, "/img/a.jpg"), Some("image/jpeg"));
        for (t, p) in [
            (Some("text/html"), "/a.png"),
            (Some("application/javascript"), "/a.js"),
            (Some("application/octet-stream"), "/a.js"),
            (Some("application/octet-stream"), "/a.svg"),
            (None, "/a.html"),
            (None, "/noextension"),
            (Some("video/mp4"), "/a.mp4"),
            (Some("application/json"), "/a.png"),
        ] {
            assert_eq!(asset_type(t, p), None, "{t:?} {p}");
        }
    }
}
