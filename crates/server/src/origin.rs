//! Origin checks for WebSocket upgrades (cross-site WebSocket hijacking) and
//! state-changing requests.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginCheck {
    /// The console: only this server's own pages.
    SelfOnly,
    /// The widget: this server's pages and the configured site origins.
    SiteOrSelf,
}

/// This server's own origin: the public URL's when one is configured (the Host
/// header is the client's to choose, so it proves nothing then), else the one the
/// request was addressed to (scheme from TLS, host from the Host header).
fn is_self(app: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    if let Some(public) = app.public_origin.as_deref() {
        return public == origin;
    }
    let scheme = if app.config.tls.is_some() { "https" } else { "http" };
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| crate::config::normalize_origin(&format!("{scheme}://{host}")).ok())
        .is_some_and(|own| own == origin)
}

/// Refuses a browser request from a foreign page. Requests without an Origin
/// header come from non-browser clients, which cannot carry a victim's cookies
/// without being given them, so they pass.
pub fn check(app: &AppState, headers: &HeaderMap, check: OriginCheck) -> Result<(), Box<Response>> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .ok()
        .and_then(|o| crate::config::normalize_origin(o).ok())
        .unwrap_or_default();
    let allowed = is_self(app, headers, &origin)
        || (check == OriginCheck::SiteOrSelf && app.config.allowed_origins.contains(&origin));
    if allowed {
        Ok(())
    } else {
        tracing::info!(%origin, "refused a request from a foreign origin");
        Err(Box::new(
            (StatusCode::FORBIDDEN, "this origin is not allowed").into_response(),
        ))
    }
}

/// For cross-origin reads and uploads by the widget (CORS): the request's Origin,
/// when it is this server's own or a configured site's. `None` without an Origin
/// header or for any other origin.
pub fn site_origin(app: &AppState, headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let origin = crate::config::normalize_origin(origin).ok()?;
    (is_self(app, headers, &origin) || app.config.allowed_origins.contains(&origin)).then_some(origin)
}
