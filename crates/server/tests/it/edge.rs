//! The server's edge under attack (issue 7, point 4, 5 and 8): half-sent requests,
//! silent WebSockets, connection caps with room for agents, trusted proxies,
//! /metrics access, Origin checks with a public URL, the open-file limit.
//!
//! Distinct client addresses are loopback aliases (127.0.0.N). Every test is bounded
//! in count and time; nothing is asserted absent after a sleep.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sightline::config::Config;
use sightline_proto::ServerMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::support::{raw_http, tcp_from, try_raw_http, TestServer, Ws, AGENT_PASSWORD};

/// 127.0.0.`n`: a client address of its own.
fn ip(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// Runs a test body, failing it if it takes longer than `limit`.
async fn within<T>(limit: Duration, body: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
}

/// A server in a temporary directory, configured by `adjust`.
async fn configured(adjust: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_adjusted(adjust).await
}

fn get(path: &str, extra_headers: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: sightline.test\r\n{extra_headers}Connection: close\r\n\r\n")
}

/// The HTTP status of a refused WebSocket upgrade.
fn refused_with(result: Result<Ws, WsError>) -> u16 {
    match result {
        Ok(_) => panic!("the upgrade was accepted; a refusal was expected"),
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal of the upgrade, got: {other}"),
    }
}

async fn visitor_from(server: &TestServer, n: u8) -> Result<Ws, WsError> {
    Ws::upgrade_from(ip(n), server.addr, "/ws/visitor", &[]).await
}

/// Point 4: 120 half-sent requests from one address. Past the per-address cap they
/// are closed at once; the others are closed at the header deadline; meanwhile
/// another address is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_capped_per_address_and_closed_at_the_header_deadline() {
    const CAP: usize = 50;
    const OPENED: usize = 120;
    let timeout = Duration::from_secs(1);
    within(Duration::from_secs(60), async {
        let server = configured(|c| {
            c.handshake_timeout = timeout;
            c.max_connections_per_address = CAP;
        })
        .await;
        // Serving before the attack starts, so its timings are the server's.
        assert_eq!(raw_http(ip(3), server.addr, &get("/healthz", "")).await.0, 200);

        let closed = Arc::new(AtomicUsize::new(0));
        let mut readers = Vec::new();
        for _ in 0..OPENED {
            let opened = Instant::now();
            let mut stream = tcp_from(ip(2), server.addr).await.expect("connect");
            // Fails only if the server already closed: that is a close, too.
            let written = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
            let closed = closed.clone();
            readers.push(tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let ended = tokio::time::timeout(timeout + Duration::from_secs(10), async {
                    if written.is_err() {
                        return;
                    }
                    // EOF or an error (reset): closed by the server.
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                })
                .await;
                closed.fetch_add(1, Ordering::SeqCst);
                ended.ok().map(|()| opened.elapsed())
            }));
        }

        // While they hang, another address is served.
        let (status, _) = raw_http(ip(3), server.addr, &get("/healthz", "")).await;
        assert_eq!(
            status, 200,
            "/healthz from another address while the attack holds its places"
        );
        let closed_by_then = closed.load(Ordering::SeqCst);
        assert!(
            closed_by_then <= OPENED - CAP,
            "{closed_by_then} of {OPENED} closed already when /healthz answered: the held ones should still hang"
        );

        let mut prompt = Vec::new();
        let mut at_deadline = Vec::new();
        let mut still_open = 0;
        for reader in readers {
            match reader.await.expect("reader") {
                // The server's header timer starts after its accept, which is after
                // our connect began: a close sooner than the timeout was a refusal.
                Some(after) if after < timeout => prompt.push(after),
                Some(after) => at_deadline.push(after),
                None => still_open += 1,
            }
        }
        println!(
            "half-sent: {} closed at once (slowest {:?}), {} at the deadline ({:?} to {:?}), {still_open} still open",
            prompt.len(),
            prompt.iter().max(),
            at_deadline.len(),
            at_deadline.iter().min(),
            at_deadline.iter().max(),
        );
        assert_eq!(
            still_open,
            0,
            "connections still open {:?} after they were opened",
            timeout + Duration::from_secs(10)
        );
        assert_eq!(
            prompt.len(),
            OPENED - CAP,
            "refused at once: those past the per-address cap"
        );
        assert_eq!(at_deadline.len(), CAP, "held until the header deadline: up to the cap");
        let slowest = at_deadline.iter().max().copied().unwrap_or_default();
        assert!(
            slowest < timeout + Duration::from_secs(3),
            "a half-sent request was closed only after {slowest:?} (header timeout {timeout:?})"
        );
        // Their places were given back: the address is served again.
        assert_eq!(raw_http(ip(2), server.addr, &get("/healthz", "")).await.0, 200);
        server.stop().await;
    })
    .await;
}

/// Point 4: sockets that never say hello (silent, or talking without a hello; a
/// visitor's or an agent's) are closed with 1008 at the deadline; a welcomed one
/// whose deadline has passed as well stays.
#[tokio::test]
async fn websockets_that_are_not_welcomed_in_time_are_closed_with_1008() {
    let timeout = Duration::from_secs(1);
    within(Duration::from_secs(60), async {
        let server = configured(|c| c.handshake_timeout = timeout).await;
        // Welcomed first: its deadline (had it one) comes before the others'.
        let mut welcomed = server.visitor().await;
        welcomed.hello(None, 0).await;

        let started = Instant::now();
        let mut silent = server.visitor().await;
        let mut chatty = server.visitor().await;
        chatty.send(json!({"type": "ping", "nonce": 1})).await;
        let (_, _, cookie) = server.login("anna").await;
        let mut agent_silent = Ws::connect(&format!("ws://{}/ws/agent", server.addr), &[("cookie", &cookie)])
            .await
            .expect("agent socket");

        assert_eq!(silent.close_code().await, Some(1008), "a silent visitor socket");
        let waited = started.elapsed();
        assert!(
            waited >= timeout,
            "closed after {waited:?}, before the {timeout:?} deadline"
        );
        assert!(
            waited < timeout + Duration::from_secs(5),
            "closed only after {waited:?}"
        );
        assert_eq!(
            chatty.close_code().await,
            Some(1008),
            "a socket that talks but never says hello"
        );
        assert_eq!(
            agent_silent.close_code().await,
            Some(1008),
            "an agent socket without agent_hello"
        );

        // The deadline has passed for the welcomed socket too: it still works.
        welcomed.assert_alive().await;
        let (_, seq) = welcomed.say(None, "w-1", "still here").await;
        assert!(seq >= 1);
        server.stop().await;
    })
    .await;
}

/// Point 4: with the visitors' share full, visitors get 503 and an agent still gets
/// in; a place given back is taken again.
#[tokio::test]
async fn places_are_kept_for_agents_when_visitors_fill_the_server() {
    const MAX: usize = 30;
    const RESERVED: usize = 5;
    within(Duration::from_secs(60), async {
        let server = configured(|c| {
            c.max_connections = MAX;
            c.reserved_agent_connections = RESERVED;
            c.max_connections_per_address = 100;
        })
        .await;
        let mut visitors = Vec::new();
        for _ in 0..MAX - RESERVED {
            let mut visitor = visitor_from(&server, 4)
                .await
                .expect("a visitor within the visitors' share");
            visitor.hello(None, 0).await;
            visitors.push(visitor);
        }
        assert_eq!(
            refused_with(visitor_from(&server, 4).await),
            503,
            "the 26th visitor socket"
        );
        assert_eq!(
            refused_with(visitor_from(&server, 7).await),
            503,
            "from another address too"
        );

        // A place given back is taken again (polled: the server gives it back when
        // the socket's task ends).
        let mut leaving = visitors.pop().expect("a visitor");
        leaving.stream.close(None).await.expect("close");
        drop(leaving);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut again = loop {
            match visitor_from(&server, 7).await {
                Ok(ws) => break ws,
                Err(WsError::Http(r)) if r.status() == 503 && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(other) => panic!("a visitor after one left: {other}"),
            }
        };
        again.hello(None, 0).await;
        visitors.push(again);
        assert_eq!(refused_with(visitor_from(&server, 4).await), 503, "full again");

        // The agents' places: logged-in agents connect and are welcomed.
        let mut anna = server.agent("anna").await;
        let mut ben = server.agent("ben").await;
        anna.assert_alive().await;
        ben.assert_alive().await;
        for visitor in &mut visitors {
            visitor.assert_alive().await;
        }
        server.stop().await;
    })
    .await;
}

/// Point 4: one address may hold `max_connections_per_address` visitor sockets; the
/// next gets 429 while other addresses, and agents from the same address, connect.
#[tokio::test]
async fn visitor_sockets_are_capped_per_address_but_agents_are_not() {
    within(Duration::from_secs(60), async {
        let server = configured(|c| c.max_connections_per_address = 3).await;
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut visitor = visitor_from(&server, 5).await.expect("within the address's cap");
            visitor.hello(None, 0).await;
            held.push(visitor);
        }
        assert_eq!(
            refused_with(visitor_from(&server, 5).await),
            429,
            "the 4th visitor socket from one address"
        );
        let mut other = visitor_from(&server, 6).await.expect("another address");
        other.hello(None, 0).await;

        // Agents are not counted per address (a whole team may share one).
        let (_, _, cookie) = server.login("anna").await;
        let mut agent = Ws::upgrade_from(ip(5), server.addr, "/ws/agent", &[("cookie", &cookie)])
            .await
            .expect("an agent from the full address");
        agent.send(json!({"type": "agent_hello", "protocol": 1})).await;
        agent.expect(|m| matches!(m, ServerMessage::AgentWelcome { .. })).await;

        // A place given back is taken again.
        let mut leaving = held.pop().expect("a visitor");
        leaving.stream.close(None).await.expect("close");
        drop(leaving);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut again = loop {
            match visitor_from(&server, 5).await {
                Ok(ws) => break ws,
                Err(WsError::Http(r)) if r.status() == 429 && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(other) => panic!("a visitor after one left: {other}"),
            }
        };
        again.hello(None, 0).await;
        for visitor in held.iter_mut().chain([&mut other, &mut again]) {
            visitor.assert_alive().await;
        }
        server.stop().await;
    })
    .await;
}

async fn login_status(client: &reqwest::Client, server: &TestServer, password: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = client
        .post(format!("{}/api/login", server.url))
        .json(&json!({"name": "anna", "password": password}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("login request").status().as_u16()
}

/// Point 4, with a body: an API request whose body trickles in is answered 408 at
/// the request deadline and its connection closed.
#[tokio::test]
async fn a_request_body_sent_too_slowly_is_cut_off() {
    let server = TestServer::start_adjusted(|c| c.request_timeout = Duration::from_secs(1)).await;
    let started = std::time::Instant::now();
    let request = "POST /api/login HTTP/1.1\r\nHost: sightline.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"name\":";
    let (status, _) = raw_http("127.0.0.9".parse().expect("ip"), server.addr, request).await;
    assert_eq!(status, 408);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    server.stop().await;
}

/// Point 5: behind a trusted proxy, each forwarded client has its own login
/// allowance; from anyone else the forwarding headers change nothing.
#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    const BURST: usize = 10; // per name and address
    within(Duration::from_secs(120), async {
        // A plain client: no cookies, so no device cookie either.
        let client = crate::support::client_builder().build().expect("client");
        let wrong = "not the password";

        let server = configured(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")]).await;
        let seven = [("x-forwarded-for", "203.0.113.7")];
        for n in 0..BURST {
            assert_eq!(
                login_status(&client, &server, wrong, &seven).await,
                401,
                "wrong attempt {n} within the burst"
            );
        }
        assert_eq!(
            login_status(&client, &server, wrong, &seven).await,
            429,
            "past the burst"
        );
        // Only the configured header counts: a client's own `Forwarded`, passed
        // through by the proxy, cannot name another address.
        assert_eq!(
            login_status(
                &client,
                &server,
                wrong,
                &[("forwarded", "for=203.0.113.50"), ("x-forwarded-for", "203.0.113.7")]
            )
            .await,
            429
        );
        assert_eq!(
            login_status(
                &client,
                &server,
                wrong,
                &[("x-forwarded-for", "203.0.113.8, 203.0.113.7")]
            )
            .await,
            429,
            "the address nearest the proxy counts, not a made-up one left of it"
        );
        // Another forwarded client is not limited, and the rightful user gets in.
        let eight = [("x-forwarded-for", "203.0.113.8")];
        assert_eq!(login_status(&client, &server, wrong, &eight).await, 401);
        assert_eq!(login_status(&client, &server, AGENT_PASSWORD, &eight).await, 200);
        server.stop().await;

        // No trusted proxies: the headers are the client's own claims and ignored.
        let server = configured(|_| {}).await;
        for n in 0..BURST {
            let claimed = format!("203.0.113.{}", 10 + n);
            assert_eq!(
                login_status(&client, &server, wrong, &[("x-forwarded-for", &claimed)]).await,
                401,
                "wrong attempt {n} within the burst"
            );
        }
        for escape in [
            ("x-forwarded-for", "203.0.113.99"),
            ("forwarded", "for=203.0.113.98"),
            ("x-real-ip", "203.0.113.97"),
        ] {
            assert_eq!(
                login_status(&client, &server, wrong, &[escape]).await,
                429,
                "{escape:?}"
            );
        }
        server.stop().await;
    })
    .await;
}

/// Point 8: /metrics is for loopback clients or the bearer token, the client being
/// the forwarded one behind a trusted proxy; or only on its own address.
#[tokio::test]
async fn metrics_need_loopback_or_the_token_or_their_own_address() {
    const TOKEN: &str = "metrics-token-0123456789";
    within(Duration::from_secs(60), async {
        let server = configured(|c| {
            c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
            c.metrics_token = Some(TOKEN.into());
        })
        .await;
        let local = ip(1);
        let forwarded = "X-Forwarded-For: 198.51.100.1\r\n";
        let (status, body) = raw_http(local, server.addr, &get("/metrics", "")).await;
        assert_eq!(status, 200, "a loopback client without the token");
        assert!(body.contains("sightline_rate_limited_total"), "{body}");
        let (status, _) = raw_http(local, server.addr, &get("/metrics", forwarded)).await;
        assert_eq!(status, 401, "a public client behind the trusted proxy");
        let with_token = format!("{forwarded}Authorization: Bearer {TOKEN}\r\n");
        let (status, body) = raw_http(local, server.addr, &get("/metrics", &with_token)).await;
        assert_eq!(status, 200, "with the token");
        assert!(body.contains("sightline_rate_limited_total"));
        let wrong_token = format!("{forwarded}Authorization: Bearer {}x\r\n", &TOKEN[..TOKEN.len() - 1]);
        assert_eq!(
            raw_http(local, server.addr, &get("/metrics", &wrong_token)).await.0,
            401,
            "a wrong token"
        );
        server.stop().await;

        // Without trusted proxies, a loopback peer that carries a forwarding header
        // is a proxy on the same host passing a visitor along: no figures without
        // the token. Plain loopback clients still read them.
        let server = configured(|_| {}).await;
        assert_eq!(raw_http(local, server.addr, &get("/metrics", forwarded)).await.0, 401);
        assert_eq!(raw_http(local, server.addr, &get("/metrics", "")).await.0, 200);
        server.stop().await;

        // On their own address. Port 0 would leave the port unknown here, so pick a
        // free one first (another process could take it in between: unlikely).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let metrics_addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let server = configured(|c| c.metrics_bind = Some(metrics_addr)).await;
        assert_eq!(
            raw_http(local, server.addr, &get("/metrics", "")).await.0,
            404,
            "not on the main address"
        );
        // The server binds it as it starts: poll until it answers.
        let deadline = Instant::now() + Duration::from_secs(10);
        let (status, body) = loop {
            match try_raw_http(local, metrics_addr, &get("/metrics", forwarded)).await {
                Ok(answer) => break answer,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("the metrics address {metrics_addr} did not answer: {err}"),
            }
        };
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("sightline_rate_limited_total"), "{body}");
        assert_eq!(
            raw_http(local, metrics_addr, &get("/healthz", "")).await.0,
            404,
            "only /metrics there"
        );
        server.stop().await;
    })
    .await;
}

/// Point 8: with a public URL, only its origin is the server's own; a Host header
/// naming the attacker's site proves nothing.
#[tokio::test]
async fn with_a_public_url_the_host_header_does_not_make_an_origin_our_own() {
    const PUBLIC: &str = "https://support.example.com";
    within(Duration::from_secs(60), async {
        let server = configured(|c| c.public_url = Some(PUBLIC.into())).await;
        let evil = [("origin", "http://evil.test"), ("host", "evil.test")];
        // A visitor socket from a page whose Host header matches its Origin.
        Ws::upgrade_from(ip(1), server.addr, "/ws/visitor", &evil)
            .await
            .expect("upgraded only to be closed")
            .assert_origin_refused()
            .await;
        // The address the request reached is not the public origin.
        let own_address = format!("http://{}", server.addr);
        Ws::upgrade_from(ip(1), server.addr, "/ws/visitor", &[("origin", &own_address)])
            .await
            .expect("upgraded only to be closed")
            .assert_origin_refused()
            .await;
        let mut visitor = Ws::upgrade_from(ip(1), server.addr, "/ws/visitor", &[("origin", PUBLIC)])
            .await
            .expect("a visitor socket from the public origin");
        visitor.hello(None, 0).await;

        // An agent's state-changing call and socket.
        let (_, csrf, cookie) = server.login("anna").await;
        let logout = |origin: &str, host: &str| {
            format!(
                "POST /api/logout HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        };
        let agent_evil = [("origin", "http://evil.test"), ("host", "evil.test"), ("cookie", cookie.as_str())];
        assert_eq!(
            refused_with(Ws::upgrade_from(ip(1), server.addr, "/ws/agent", &agent_evil).await),
            403,
            "an agent socket"
        );
        let (status, body) = raw_http(ip(1), server.addr, &logout("http://evil.test", "evil.test")).await;
        assert_eq!(status, 403, "logout from a foreign page: {body}");
        // The same call from the public origin works: the session was still there.
        let host = server.addr.to_string();
        let (status, body) = raw_http(ip(1), server.addr, &logout(PUBLIC, &host)).await;
        assert_eq!(status, 204, "logout from the public origin: {body}");
        visitor.assert_alive().await;
        server.stop().await;
    })
    .await;
}

/// `Max open files` (soft, hard) of this process.
fn open_file_limits() -> (String, String) {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let fields: Vec<&str> = line["Max open files".len()..].split_whitespace().collect();
    (fields[0].to_owned(), fields[1].to_owned())
}

/// Point 4: the server raises its soft open-file limit to the hard limit as it
/// starts, so that its own connection limits decide.
#[tokio::test]
async fn the_server_raises_the_open_file_limit_to_the_hard_limit() {
    within(Duration::from_secs(60), async {
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).expect("getrlimit");
        assert!(
            hard > 1 && hard != rlimit::INFINITY,
            "a finite hard limit (soft {soft}, hard {hard})"
        );
        // Just below the hard limit: enough to tell, too little to trouble the other
        // tests in this process. (Their servers raise it again as they start, which
        // is why nothing is asserted about the lowered value: only a server's start
        // can raise it.)
        rlimit::setrlimit(rlimit::Resource::NOFILE, hard - 1, hard).expect("lower the soft limit");

        let server = configured(|_| {}).await;
        // Serving, so `run` has started.
        assert_eq!(raw_http(ip(1), server.addr, &get("/healthz", "")).await.0, 200);
        let (soft, hard) = open_file_limits();
        assert_eq!(soft, hard, "soft open-file limit after the server started");
        server.stop().await;
    })
    .await;
}
