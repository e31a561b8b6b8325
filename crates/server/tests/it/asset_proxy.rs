//! The co-browse asset proxy against a real site on loopback: what it fetches,
//! what it refuses, and what it never passes on.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sightline::asset_proxy::{MAX_ASSET_BYTES, PATH};

use crate::support::TestServer;

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4];

/// Each request the site got: path and the headers it came with.
type Hits = Arc<Mutex<Vec<(String, HeaderMap)>>>;

struct Site {
    origin: String,
    hits: Hits,
}

/// Another loopback server, standing in for a site origin (or an outside host).
async fn site(ip: &str, elsewhere: Option<String>) -> Site {
    let hits: Hits = Arc::default();
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    let elsewhere = elsewhere.unwrap_or_default();
    let app = Router::new()
        .fallback(move |State(hits): State<Hits>, uri: Uri, headers: HeaderMap| {
            let elsewhere = elsewhere.clone();
            async move {
                let path = uri.path().to_owned();
                hits.lock().expect("hits").push((uri.to_string(), headers));
                let typed = |t: &'static str, body: Vec<u8>| -> Response { ([(header::CONTENT_TYPE, t)], body).into_response() };
                match path.as_str() {
                    "/css/site.css" => typed(
                        "text/css",
                        b"\xef\xbb\xbf.a{background:url(../img/a.png)} .b{background:url('/b.png')} @import \"more.css\";".to_vec(),
                    ),
                    "/img/a.png" => typed("image/png", PNG.to_vec()),
                    "/css/refs.css" => typed("text/css", b"a{b:url(x)}".repeat(300_000)),
                    "/fonts/x.woff2" => typed("application/octet-stream", b"wOF2".to_vec()),
                    "/page.html" => typed("text/html", b"<script>alert(1)</script>".to_vec()),
                    "/app.js" => typed("application/javascript", b"alert(1)".to_vec()),
                    "/big.png" => typed("image/png", vec![0; MAX_ASSET_BYTES + 1]),
                    "/missing.png" => StatusCode::NOT_FOUND.into_response(),
                    "/redirect-in" => (StatusCode::FOUND, [(header::LOCATION, "/img/a.png")]).into_response(),
                    "/redirect-out" => {
                        (StatusCode::FOUND, [(header::LOCATION, format!("{elsewhere}/img/a.png"))]).into_response()
                    }
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        })
        .with_state(hits.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Site { origin, hits }
}

fn proxy(server: &TestServer, url: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    format!("{}{PATH}?u={encoded}", server.url)
}

#[tokio::test]
async fn the_proxy_passes_site_assets_and_refuses_everything_else() {
    let outside = site("127.0.0.3", None).await;
    let shop = site("127.0.0.2", Some(outside.origin.clone())).await;
    let server = TestServer::start_with_origins(vec![shop.origin.clone()]).await;

    // Without a login: nothing.
    let anonymous = server
        .http()
        .get(proxy(&server, &format!("{}/img/a.png", shop.origin)))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let (agent, _, _) = server.login("ben").await;
    let get = |url: String| {
        let agent = agent.clone();
        let target = proxy(&server, &url);
        async move {
            let response = agent
                .get(target)
                .header(header::REFERER, "https://console.example/secret")
                .send()
                .await
                .expect("get");
            let status = response.status();
            let headers = response.headers().clone();
            (status, headers, response.bytes().await.expect("body").to_vec())
        }
    };

    // An image: the bytes, its type, and a sandbox for anything opened on its own.
    let (status, headers, body) = get(format!("{}/img/a.png", shop.origin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PNG);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .contains("sandbox"));

    // A stylesheet: its references resolved against it and sent through the proxy.
    let (status, headers, body) = get(format!("{}/css/site.css", shop.origin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    let css = String::from_utf8(body).expect("utf-8");
    for target in ["/img/a.png", "/b.png", "/css/more.css"] {
        let expected = proxy(&server, &format!("{}{target}", shop.origin)).replace(&server.url, "");
        assert!(css.contains(&format!("\"{expected}\"")), "{target} in {css}");
    }
    assert!(!css.starts_with('\u{feff}'));

    // A font served as bytes, judged by its name.
    let (status, headers, _) = get(format!("{}/fonts/x.woff2", shop.origin)).await;
    assert_eq!(
        (status, headers[header::CONTENT_TYPE].to_str().expect("type")),
        (StatusCode::OK, "font/woff2")
    );
    // A redirect within the site is followed.
    let (status, _, body) = get(format!("{}/redirect-in", shop.origin)).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, PNG));

    // Refused: pages and scripts, too large, missing, a redirect elsewhere.
    for path in [
        "/page.html",
        "/app.js",
        "/big.png",
        "/missing.png",
        "/redirect-out",
        "/css/refs.css",
    ] {
        let (status, _, body) = get(format!("{}{path}", shop.origin)).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{path}");
        let error: serde_json::Value = serde_json::from_slice(&body).expect("json error");
        assert_eq!(error["error"], "asset_unavailable", "{path}");
    }
    // Refused without a request: other hosts, the server itself, other schemes, credentials.
    for url in [
        format!("{}/img/a.png", outside.origin),
        format!("{}/api/me", server.url),
        "file:///etc/passwd".to_owned(),
        "ftp://127.0.0.2/x".to_owned(),
        format!("{}/img/a.png", shop.origin.replace("http://", "http://user:pw@")),
        "/img/a.png".to_owned(),
    ] {
        let (status, _, _) = get(url.clone()).await;
        assert!(
            matches!(status, StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
            "{url}: {status}"
        );
    }
    assert!(
        outside.hits.lock().expect("hits").is_empty(),
        "nothing reached the outside host"
    );

    // Nothing of the agent's request went on.
    let hits = shop.hits.lock().expect("hits").clone();
    assert!(hits.len() >= 10, "{hits:?}");
    for (path, headers) in &hits {
        for name in [header::COOKIE, header::REFERER, header::AUTHORIZATION] {
            assert!(!headers.contains_key(&name), "{name} went on to the site with {path}");
        }
        let agent = headers[header::USER_AGENT].to_str().expect("ua");
        assert!(agent.contains("asset proxy"), "{agent}");
    }
}

#[tokio::test]
async fn the_api_is_never_loaded_as_a_resource_with_the_agents_cookie() {
    let server = TestServer::start().await;
    let (agent, _, _) = server.login("ben").await;
    let load = |path: &str, dest: Option<&str>| {
        let mut request = agent.get(format!("{}{path}", server.url));
        if let Some(dest) = dest {
            request = request.header("sec-fetch-dest", dest);
        }
        request.send()
    };
    // The console's own fetches, and clients that send no such header.
    assert_eq!(
        load("/api/me", Some("empty")).await.expect("get").status(),
        StatusCode::OK
    );
    assert_eq!(load("/api/me", None).await.expect("get").status(), StatusCode::OK);
    // What a mirrored page could make the browser load.
    for dest in [
        "image", "style", "font", "document", "iframe", "script", "object", "video",
    ] {
        for path in ["/api/me", "/api/users", "/api/conversations"] {
            let response = load(path, Some(dest)).await.expect("get");
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} as {dest}");
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(body["error"], "not_a_resource");
        }
    }
    // Pictures and the asset proxy are loaded as resources.
    assert_eq!(
        load("/api/images/nope/thumb", Some("image"))
            .await
            .expect("get")
            .status(),
        StatusCode::NOT_FOUND
    );
    let proxied = load("/api/cobrowse/asset?u=https%3A%2F%2Fx.example%2Fa.png", Some("image"))
        .await
        .expect("get");
    let body: serde_json::Value = proxied.json().await.expect("json");
    assert_eq!(body["error"], "origin_not_allowed", "the proxy itself answered");
}

/// A site that holds each request until told to answer, counting how many it
/// holds at once; `/hang.png` never answers.
struct SlowSite {
    origin: String,
    /// Requests held now, and the most held at once.
    held: Arc<Mutex<(usize, usize)>>,
    release: Arc<tokio::sync::Semaphore>,
}

/// Requests held now and the most at once; the answers' gate.
type SlowState = (Arc<Mutex<(usize, usize)>>, Arc<tokio::sync::Semaphore>);

async fn slow_site() -> SlowSite {
    let listener = tokio::net::TcpListener::bind("127.0.0.4:0").await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    let held: Arc<Mutex<(usize, usize)>> = Arc::default();
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let state = (held.clone(), release.clone());
    let app = Router::new()
        .fallback(move |State((held, release)): State<SlowState>, uri: Uri| async move {
            if uri.path() == "/hang.png" {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            }
            {
                let mut h = held.lock().expect("held");
                h.0 += 1;
                h.1 = h.1.max(h.0);
            }
            release.acquire().await.expect("release").forget();
            held.lock().expect("held").0 -= 1;
            ([(header::CONTENT_TYPE, "image/png")], PNG.to_vec()).into_response()
        })
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    SlowSite { origin, held, release }
}

#[tokio::test]
async fn one_agent_fetches_six_at_once_and_a_site_that_never_answers_is_given_up_on() {
    let slow = slow_site().await;
    let server = TestServer::start_with_origins(vec![slow.origin.clone()]).await;
    let (agent, _, _) = server.login("ben").await;
    let fetches: Vec<_> = (0..8)
        .map(|i| {
            let request = agent.get(proxy(&server, &format!("{}/slow/{i}.png", slow.origin)));
            tokio::spawn(async move { request.send().await.expect("get").status() })
        })
        .collect();
    let held = || *slow.held.lock().expect("held");
    // Six reach the site; the other two wait for a place. Each answer lets one
    // more through, never a seventh at once.
    let until = |want: usize| async move {
        for _ in 0..500 {
            if held().0 == want {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the site never held {want} (it holds {})", held().0);
    };
    until(6).await;
    slow.release.add_permits(1);
    until(6).await;
    slow.release.add_permits(7);
    for f in fetches {
        assert_eq!(f.await.expect("task"), StatusCode::OK);
    }
    assert_eq!(held(), (0, 6), "at most six at once for one agent");

    // A site that never answers: given up on within the fetch timeout.
    let started = std::time::Instant::now();
    let status = agent
        .get(proxy(&server, &format!("{}/hang.png", slow.origin)))
        .send()
        .await
        .expect("get")
        .status();
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert!(
        waited >= sightline::asset_proxy::FETCH_TIMEOUT - std::time::Duration::from_millis(200)
            && waited < sightline::asset_proxy::FETCH_TIMEOUT + std::time::Duration::from_secs(3),
        "{waited:?}"
    );
    server.stop().await;
}
