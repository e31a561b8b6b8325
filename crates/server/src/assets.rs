//! The web build (widget, console, demo site), embedded at compile time.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

fn find(name: &str) -> Option<&'static [u8]> {
    generated::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("mp3") => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// Looks a request path up: `/X` is `X`, else `X/index.html`, else `X.html`.
pub fn lookup(path: &str) -> Option<(String, &'static [u8])> {
    let path = path.trim_start_matches('/').trim_end_matches('/');
    if path.split('/').any(|part| part == ".." || part.starts_with('.')) {
        return None;
    }
    let candidates = if path.is_empty() {
        vec!["index.html".to_owned()]
    } else {
        vec![path.to_owned(), format!("{path}/index.html"), format!("{path}.html")]
    };
    candidates
        .into_iter()
        .find_map(|name| find(&name).map(|bytes| (name, bytes)))
}

/// Serves an embedded file, or 404.
pub fn serve(path: &str) -> Response {
    let Some((name, bytes)) = lookup(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&name)));
    // Embedded files change only with the binary; revalidate cheaply.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if name.ends_with(".html") {
        // The console and demo pages run only our own scripts and are never framed.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                 connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if name == "widget.js" {
        // Any site that embeds the widget may load it.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_the_bundle() {
        assert!(lookup("/../Cargo.toml").is_none());
        assert!(lookup("/demo/../../secret").is_none());
        assert!(lookup("/.git/config").is_none());
    }
}
