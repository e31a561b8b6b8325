//! The web build (widget, console, demo site), embedded at compile time.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::config::Company;

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

/// The pages' policy: only our own scripts, never framed. `{img}` is where
/// pictures may come from besides ours.
const PAGE_CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:{img}; \
     connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The page at `/join` (where a caller types a session key).
const JOIN_PAGE: &str = "join/index.html";

/// Serves an embedded file, or 404. `/join` shows `company`'s name and logo.
pub fn serve(path: &str, company: &Company) -> Response {
    let Some((name, bytes)) = lookup(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut response = if name == JOIN_PAGE {
        join_page(bytes, company).into_response()
    } else {
        bytes.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&name)));
    // Embedded files change only with the binary (and /join with the
    // configuration, which a restart changes); revalidate cheaply.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if name.ends_with(".html") {
        // A configured logo on another server is the one outside picture /join shows.
        let logo_origin = if name == JOIN_PAGE { company.logo_origin() } else { None };
        let img = logo_origin.map(|o| format!(" {o}")).unwrap_or_default();
        let csp = HeaderValue::from_str(&PAGE_CSP.replace("{img}", &img))
            // An origin is ASCII letters, digits and punctuation: always a valid header.
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if name == "widget.js" {
        // Any site that embeds the widget may load it.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    response
}

/// The /join page with the company's name and logo in its `<meta>` tags, which
/// its script reads and shows as text and as an image's address.
fn join_page(template: &'static [u8], company: &Company) -> Vec<u8> {
    let html = String::from_utf8_lossy(template);
    let fill = |html: String, meta: &str, value: Option<&str>| {
        html.replacen(
            &format!("<meta name=\"{meta}\" content=\"\">"),
            &format!(
                "<meta name=\"{meta}\" content=\"{}\">",
                escape_attribute(value.unwrap_or(""))
            ),
            1,
        )
    };
    let html = fill(html.into_owned(), "sightline-company-name", company.name.as_deref());
    fill(html, "sightline-company-logo", company.logo_url.as_deref()).into_bytes()
}

/// Text made safe inside a double-quoted HTML attribute.
fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_join_page_carries_the_company_escaped() {
        let company = Company {
            name: Some("Müller & \"Söhne\" <b>".into()),
            logo_url: Some("https://cdn.example.com/logo.svg?a=1&b=2".into()),
        };
        let (_, template) = lookup("/join").expect("join page");
        let html = String::from_utf8(join_page(template, &company)).expect("utf-8");
        assert!(html
            .contains("<meta name=\"sightline-company-name\" content=\"Müller &amp; &quot;Söhne&quot; &lt;b&gt;\">"));
        assert!(html.contains(
            "<meta name=\"sightline-company-logo\" content=\"https://cdn.example.com/logo.svg?a=1&amp;b=2\">"
        ));
        assert!(!html.contains("<b>"));
        let plain = String::from_utf8(join_page(template, &Company::default())).expect("utf-8");
        assert!(plain.contains("<meta name=\"sightline-company-name\" content=\"\">"));
    }

    #[test]
    fn paths_cannot_escape_the_bundle() {
        assert!(lookup("/../Cargo.toml").is_none());
        assert!(lookup("/demo/../../secret").is_none());
        assert!(lookup("/.git/config").is_none());
    }
}
