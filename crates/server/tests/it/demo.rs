//! The demo site, on by default and off with `--no-demo`.

use crate::support::{client_builder, TestServer};

async fn get(client: &reqwest::Client, server: &TestServer, path: &str) -> reqwest::Response {
    client
        .get(format!("{}{path}", server.url))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn without_the_demo_its_pages_are_gone_and_the_root_leads_to_the_console() {
    let client = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let with_demo = TestServer::start().await;
    let root = get(&client, &with_demo, "/").await;
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/demo");
    assert_eq!(get(&client, &with_demo, "/demo").await.status(), 200);
    with_demo.stop().await;

    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_configured(dir.path().to_path_buf(), |c| c.demo = false).await;
    let root = get(&client, &server, "/").await;
    assert!(root.status().is_redirection(), "{}", root.status());
    assert_eq!(root.headers()["location"], "/console");
    for path in [
        "/demo",
        "/demo/",
        "/demo/index.html",
        "/demo/transfer",
        "/demo/demo.js",
        "//demo/account.html",
    ] {
        assert_eq!(get(&client, &server, path).await.status(), 404, "{path}");
    }
    for path in ["/console", "/widget.js", "/join"] {
        assert_eq!(get(&client, &server, path).await.status(), 200, "{path}");
    }
    server.stop().await;
}
