//! `/api/saved-replies`: every agent reads and adds; only a reply's author or an
//! admin changes or deletes it; shortcuts are checked and unique; writes need the
//! CSRF token.

use serde_json::{json, Value};

use crate::support::TestServer;

#[tokio::test]
async fn agents_share_saved_replies_and_only_author_or_admin_change_them() {
    let server = TestServer::start().await;
    let url = format!("{}/api/saved-replies", server.url);
    let (anna, anna_csrf, _) = server.login("anna").await; // an admin
    let (ben, ben_csrf, _) = server.login("ben").await;
    let send = |client: &reqwest::Client, method: reqwest::Method, url: String, csrf: &str, body: Option<Value>| {
        let mut request = client
            .request(method, url)
            .header("x-csrf-token", csrf)
            .header("origin", &server.url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };

    let response = server.http().get(&url).send().await.expect("list");
    assert_eq!(response.status(), 401, "only agents read them");

    let refund = json!({"shortcut": "/Refund", "title": "Refunds", "body": "We refund within 14 days."});
    let response = send(&ben, reqwest::Method::POST, url.clone(), "wrong", Some(refund.clone()))
        .await
        .expect("create");
    assert_eq!(response.status(), 403, "the CSRF token is checked");
    let response = send(
        &ben,
        reqwest::Method::POST,
        url.clone(),
        &ben_csrf,
        Some(refund.clone()),
    )
    .await
    .expect("create");
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["shortcut"], "refund", "stored lowercased, without the slash");
    let id = created["id"].as_i64().expect("id");

    for bad in [
        json!({"shortcut": "two words", "title": "", "body": "x"}),
        json!({"shortcut": "x".repeat(33), "title": "", "body": "x"}),
        json!({"shortcut": "ok", "title": "t".repeat(101), "body": "x"}),
        json!({"shortcut": "ok", "title": "", "body": "  "}),
        json!({"shortcut": "ok", "title": "", "body": "x".repeat(4001)}),
        json!({"shortcut": "ok", "title": "", "body": "x", "extra": 1}),
    ] {
        let response = send(&ben, reqwest::Method::POST, url.clone(), &ben_csrf, Some(bad.clone()))
            .await
            .expect("create");
        assert!(
            response.status() == 422 || response.status() == 400,
            "{bad} refused: {}",
            response.status()
        );
    }
    let response = send(
        &anna,
        reqwest::Method::POST,
        url.clone(),
        &anna_csrf,
        Some(refund.clone()),
    )
    .await
    .expect("create");
    assert_eq!(response.status(), 409, "a shortcut is unique");

    // Ben's reply, seen by Anna.
    let list: Value = anna.get(&url).send().await.expect("list").json().await.expect("json");
    assert_eq!(list[0]["body"], "We refund within 14 days.");

    // Anna's own reply: Ben may use it but not change or delete it.
    let response = send(
        &anna,
        reqwest::Method::POST,
        url.clone(),
        &anna_csrf,
        Some(json!({"shortcut": "hello", "title": "", "body": "Hello! How can I help?"})),
    )
    .await
    .expect("create");
    let hello: Value = response.json().await.expect("json");
    let hello_url = format!("{url}/{}", hello["id"]);
    let change = json!({"shortcut": "hello", "title": "", "body": "Changed by Ben"});
    let response = send(
        &ben,
        reqwest::Method::PUT,
        hello_url.clone(),
        &ben_csrf,
        Some(change.clone()),
    )
    .await
    .expect("put");
    assert_eq!(response.status(), 403);
    let response = send(&ben, reqwest::Method::DELETE, hello_url.clone(), &ben_csrf, None)
        .await
        .expect("delete");
    assert_eq!(response.status(), 403);
    // The admin may change Ben's.
    let response = send(
        &anna,
        reqwest::Method::PUT,
        format!("{url}/{id}"),
        &anna_csrf,
        Some(json!({"shortcut": "refund", "title": "Refunds", "body": "Within 30 days."})),
    )
    .await
    .expect("put");
    assert_eq!(response.status(), 200);
    let response = send(
        &anna,
        reqwest::Method::PUT,
        format!("{url}/{id}"),
        &anna_csrf,
        Some(json!({"shortcut": "hello", "title": "", "body": "x"})),
    )
    .await
    .expect("put");
    assert_eq!(response.status(), 409, "not onto another's shortcut");
    let response = send(&anna, reqwest::Method::DELETE, hello_url.clone(), &anna_csrf, None)
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    let response = send(&anna, reqwest::Method::DELETE, hello_url, &anna_csrf, None)
        .await
        .expect("delete");
    assert_eq!(response.status(), 404);

    let list: Value = ben.get(&url).send().await.expect("list").json().await.expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["body"], "Within 30 days.");
}
