//! The Install page's API: site origins added at run time and those refused.

use serde_json::{json, Value};

use crate::support::{TestServer, Ws};

const SHOP: &str = "https://shop.example";

#[tokio::test]
async fn an_admin_allows_a_refused_site_at_once_and_can_take_it_back() {
    let server = TestServer::start_with_origins(vec!["https://configured.example".into()]).await;
    let visitor_url = format!("ws://{}/ws/visitor", server.addr);
    Ws::connect(&visitor_url, &[("origin", SHOP)])
        .await
        .expect("upgraded only to be closed")
        .assert_origin_refused()
        .await;

    let (admin, csrf, _) = server.login("anna").await;
    let settings: Value = admin
        .get(format!("{}/api/admin/site", server.url))
        .send()
        .await
        .expect("settings")
        .json()
        .await
        .expect("json");
    assert_eq!(settings["widget_url"], format!("{}/widget.js", server.url));
    assert_eq!(settings["configured_origins"], json!(["https://configured.example"]));
    assert_eq!(settings["stored_origins"], json!([]));
    assert_eq!(settings["refused_origins"][0]["origin"], SHOP);
    assert_eq!(settings["refused_origins"][0]["count"], 1);

    let change = |method: reqwest::Method, origin: &str, csrf: &str, client: &reqwest::Client| {
        client
            .request(method, format!("{}/api/admin/site/origins", server.url))
            .header("x-csrf-token", csrf)
            .header("origin", &server.url)
            .json(&json!({ "origin": origin }))
            .send()
    };
    // Checked and normalised.
    for bad in [
        "",
        "ftp://x.example",
        "not a url",
        &format!("https://{}.example", "a".repeat(300)),
    ] {
        let response = change(reqwest::Method::POST, bad, &csrf, &admin).await.expect("add");
        assert_eq!(response.status(), 422, "{bad:?}");
    }
    let response = change(reqwest::Method::POST, "HTTPS://Shop.Example:443/path", "wrong", &admin)
        .await
        .expect("add");
    assert_eq!(response.status(), 403, "the CSRF token is checked");
    let (agent, agent_csrf, _) = server.login("ben").await;
    let response = change(reqwest::Method::POST, SHOP, &agent_csrf, &agent)
        .await
        .expect("add");
    assert_eq!(response.status(), 403, "agents may not");
    let response = agent
        .get(format!("{}/api/admin/site", server.url))
        .send()
        .await
        .expect("settings");
    assert_eq!(response.status(), 403, "agents may not read it either");

    let response = change(reqwest::Method::POST, "HTTPS://Shop.Example:443/path", &csrf, &admin)
        .await
        .expect("add");
    assert_eq!(response.status(), 204);
    // At once, without a restart.
    let mut shop = Ws::connect(&visitor_url, &[("origin", SHOP)])
        .await
        .expect("allowed now");
    shop.hello(None, 0).await;
    let settings: Value = admin
        .get(format!("{}/api/admin/site", server.url))
        .send()
        .await
        .expect("settings")
        .json()
        .await
        .expect("json");
    assert_eq!(settings["stored_origins"], json!([SHOP]));
    assert_eq!(settings["refused_origins"], json!([]), "no longer listed as refused");

    // Configured origins are not the console's to remove.
    let response = change(reqwest::Method::DELETE, "https://configured.example", &csrf, &admin)
        .await
        .expect("remove");
    assert_eq!(response.status(), 404);
    let response = change(reqwest::Method::DELETE, SHOP, &csrf, &admin)
        .await
        .expect("remove");
    assert_eq!(response.status(), 204);
    Ws::connect(&visitor_url, &[("origin", SHOP)])
        .await
        .expect("upgraded only to be closed")
        .assert_origin_refused()
        .await;

    // Stored origins survive a restart.
    let response = change(reqwest::Method::POST, SHOP, &csrf, &admin).await.expect("add");
    assert_eq!(response.status(), 204);
    let dir = server.stop().await;
    let path = dir.as_ref().expect("dir").path().to_path_buf();
    let server = TestServer::start_in(path, Vec::new()).await;
    let mut shop = Ws::connect(&format!("ws://{}/ws/visitor", server.addr), &[("origin", SHOP)])
        .await
        .expect("still allowed");
    shop.hello(None, 0).await;
    server.stop().await;
    drop(dir);
}
