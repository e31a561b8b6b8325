//! The company's name and logo (`company_name`, `company_logo_url`): on `/join`,
//! escaped, with the logo's server allowed by the page's policy; a logo that is
//! neither https nor a path on this server refuses to start.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use sightline::config::Company;

use crate::support::TestServer;

async fn get(server: &TestServer, path: &str) -> (String, String) {
    let response = server
        .http()
        .get(format!("{}{path}", server.url))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "{path}");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (csp, response.text().await.expect("body"))
}

#[tokio::test]
async fn join_shows_the_configured_company_escaped_and_allows_the_logo_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_configured(dir.path().to_path_buf(), |c| {
        c.company = Company::resolve(
            Some("Müller & <Söhne>".into()),
            Some("https://cdn.example.com/logo.svg".into()),
        )
        .expect("valid company");
    })
    .await;
    for path in ["/join", "/join/", "/join/index.html"] {
        let (csp, html) = get(&server, path).await;
        assert!(
            html.contains(r#"<meta name="sightline-company-name" content="Müller &amp; &lt;Söhne&gt;">"#),
            "{path}: {html}"
        );
        assert!(html.contains(r#"<meta name="sightline-company-logo" content="https://cdn.example.com/logo.svg">"#));
        assert!(!html.contains("<Söhne>"), "never as HTML");
        assert!(
            csp.contains("img-src 'self' data: blob: https://cdn.example.com;"),
            "{csp}"
        );
    }
    // Other pages do not load pictures from the logo's server.
    let (csp, _) = get(&server, "/console").await;
    assert!(!csp.contains("cdn.example.com"), "{csp}");
    server.stop().await;

    let plain = TestServer::start().await;
    let (csp, html) = get(&plain, "/join").await;
    assert!(html.contains(r#"<meta name="sightline-company-name" content="">"#));
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
    plain.stop().await;
}

fn sightline() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sightline"));
    command
        .env_remove("SIGHTLINE_ADMIN_PASSWORD")
        .env_remove("SIGHTLINE_COMPANY_NAME")
        .env_remove("SIGHTLINE_COMPANY_LOGO_URL")
        .env("SIGHTLINE_LOG", "warn");
    command
}

#[test]
fn a_logo_that_is_neither_https_nor_a_path_here_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bad in [
        "http://cdn.example.com/logo.png",
        "javascript:alert(1)",
        "//cdn.example.com/logo.png",
    ] {
        let out = sightline()
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--company-logo-url", bad])
            .output()
            .expect("run");
        assert!(!out.status.success(), "{bad} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("company_logo_url must be an https:// URL"),
            "{bad}: {stderr}"
        );
    }
}

#[test]
fn the_company_comes_from_the_environment_and_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("sightline.toml");
    std::fs::write(
        &config,
        "company_name = \"From the file\"\ncompany_logo_url = \"/brand/logo.svg\"\n",
    )
    .expect("write");
    let mut child = sightline()
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&config)
        // The environment wins over the file.
        .env("SIGHTLINE_COMPANY_NAME", "Beispiel GmbH")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sightline");
    let stdout = child.stdout.take().expect("stdout");
    let url = BufReader::new(stdout)
        .lines()
        .map(|l| l.expect("utf-8"))
        .find_map(|l| l.strip_prefix("Sightline is running at ").map(str::to_owned))
        .expect("running line");
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        stream,
        "GET /join HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#"<meta name="sightline-company-name" content="Beispiel GmbH">"#),
        "{answer}"
    );
    assert!(answer.contains(r#"<meta name="sightline-company-logo" content="/brand/logo.svg">"#));
}
