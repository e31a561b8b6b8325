//! HTTPS from a certificate and key given in the configuration.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::support::{TestServer, AGENT_PASSWORD};

async fn https_request(server: &TestServer, cert: &CertificateDer<'static>, request: String) -> String {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).expect("trust the test certificate");
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = connector
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the configured certificate");
    tls.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tls.read_to_end(&mut response).await.ok();
    String::from_utf8_lossy(&response).into_owned()
}

/// `/healthz` over TLS answers 200.
async fn assert_healthy(server: &TestServer, cert: &CertificateDer<'static>) {
    let health = https_request(
        server,
        cert,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

/// A self-signed certificate for `localhost`, written as PEM files into `dir`:
/// the certificate (to trust) and the two paths.
fn self_signed(dir: &std::path::Path) -> (CertificateDer<'static>, std::path::PathBuf, std::path::PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).expect("write cert");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write key");
    (certified.cert.der().clone(), cert_path, key_path)
}

#[tokio::test]
async fn serves_https_with_secure_cookies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, cert_path, key_path) = self_signed(dir.path());

    let server = TestServer::start_configured(dir.path().join("data"), |config| {
        config.tls = Some((cert_path, key_path));
    })
    .await;
    assert_healthy(&server, &cert).await;

    let body = format!("{{\"name\":\"anna\",\"password\":\"{AGENT_PASSWORD}\"}}");
    let login = https_request(
        &server,
        &cert,
        format!(
            "POST /api/login HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: https://localhost:{port}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}",
            port = server.addr.port(),
            length = body.len()
        ),
    )
    .await;
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    let cookie = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute} missing in {cookie}");
    }
    server.stop().await;
}

/// Reads until the server closes the connection, and says how long that took
/// (`None`: still open after `limit`).
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    limit: std::time::Duration,
) -> Option<std::time::Duration> {
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

/// Issue 7, point 4 over TLS: a client that connects and never finishes the
/// handshake, and one that finishes it and then sends nothing (or only the first
/// bytes of an HTTP/2 preface), are closed at the handshake deadline; HTTP/2 is
/// never offered in ALPN.
#[tokio::test]
async fn silent_tls_connections_are_closed_at_the_deadline_and_only_http1_is_offered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, cert_path, key_path) = self_signed(dir.path());
    let deadline = std::time::Duration::from_millis(700);
    let server = TestServer::start_configured(dir.path().join("data"), |config| {
        config.tls = Some((cert_path, key_path));
        config.handshake_timeout = deadline;
    })
    .await;
    // Generous: the deadline twice over (handshake, then headers) and a slow machine.
    let limit = deadline * 2 + std::time::Duration::from_secs(5);

    // 1. TCP only, no ClientHello.
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let took = closed_within(&mut silent, limit).await;
    assert!(
        took.is_some(),
        "a connection that never started TLS is still open after {limit:?}"
    );

    // 2. A finished handshake offering h2 and http/1.1; then silence, then a
    // preface fragment.
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).expect("trust the test certificate");
    let mut config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    for fragment in [&b""[..], b"PRI * HTTP/2.0\r\n"] {
        let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
        assert_eq!(
            tls.get_ref().1.alpn_protocol(),
            Some(&b"http/1.1"[..]),
            "the server must choose HTTP/1.1"
        );
        tls.write_all(fragment).await.expect("write");
        let took = closed_within(&mut tls, limit).await;
        let took =
            took.unwrap_or_else(|| panic!("a TLS connection that sent {fragment:?} is still open after {limit:?}"));
        // Silence is closed at the deadline; a preface fragment may be refused
        // sooner (hyper answers an unknown version at once).
        if fragment.is_empty() {
            assert!(
                took >= deadline / 2,
                "closed after {took:?}, before the deadline of {deadline:?}: for another reason?"
            );
        }
    }

    // The server still answers a real request.
    assert_healthy(&server, &cert).await;
    server.stop().await;
}
