//! Permissions and the site policy over the API: checked, stored, and applied at
//! once to a connected agent's socket and to visitors.

use serde_json::{json, Value};
use sightline_proto::{ErrorCode, Permissions, ServerMessage};

use crate::support::TestServer;

async fn user_id(client: &reqwest::Client, server: &TestServer, name: &str) -> i64 {
    let users: Value = client
        .get(format!("{}/api/users", server.url))
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("json");
    users
        .as_array()
        .expect("a list")
        .iter()
        .find(|u| u["name"] == name)
        .and_then(|u| u["id"].as_i64())
        .expect("listed")
}

#[tokio::test]
async fn an_admin_takes_screen_sharing_from_a_connected_agent_at_once() {
    let server = TestServer::start().await;
    let mut ben = server.agent("ben").await;
    let (admin, csrf, _) = server.login("anna").await;
    let ben_id = user_id(&admin, &server, "ben").await;
    let patch = |csrf: &str, client: &reqwest::Client, body: Value| {
        client
            .patch(format!("{}/api/users/{ben_id}", server.url))
            .header("x-csrf-token", csrf)
            .header("origin", &server.url)
            .json(&body)
            .send()
    };
    let fewer =
        json!({"permissions": {"screen_share": false, "cobrowse": true, "remote_control": true, "session_keys": true}});
    let response = patch("wrong", &admin, fewer.clone()).await.expect("patch");
    assert_eq!(response.status(), 403, "the CSRF token is checked");
    let (agent, agent_csrf, _) = server.login("ben").await;
    let response = patch(&agent_csrf, &agent, fewer.clone()).await.expect("patch");
    assert_eq!(response.status(), 403, "agents may not change permissions");

    let response = patch(&csrf, &admin, fewer).await.expect("patch");
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.expect("json");
    assert_eq!(user["permissions"]["screen_share"], false);
    // Ben's open console hears it without reconnecting.
    let told = ben
        .expect(|m| matches!(m, ServerMessage::PermissionsChanged { .. }))
        .await;
    let expected = Permissions {
        screen_share: false,
        ..Permissions::ALL
    };
    assert_eq!(told, ServerMessage::PermissionsChanged { permissions: expected });
    // And his socket is refused a screen-share key at once (no conversation needed).
    ben.send(json!({"type": "share_key_create"})).await;
    let refused = ben.expect(|m| matches!(m, ServerMessage::Error { .. })).await;
    match refused {
        ServerMessage::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert_eq!(message, "an admin has not allowed you to use screen sharing");
        }
        _ => unreachable!(),
    }
    // Stored: a new console is welcomed with it.
    let (_, _, cookie) = server.login("ben").await;
    let mut again = crate::support::Ws::connect(&format!("ws://{}/ws/agent", server.addr), &[("cookie", &cookie)])
        .await
        .expect("agent socket");
    again.send(json!({"type": "agent_hello", "protocol": 1})).await;
    match again.expect(|m| matches!(m, ServerMessage::AgentWelcome { .. })).await {
        ServerMessage::AgentWelcome { permissions, .. } => assert_eq!(permissions, expected),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_site_policy_is_checked_stored_and_applied_to_agents_and_visitors() {
    let server = TestServer::start().await;
    let mut ben = server.agent("ben").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (admin, csrf, _) = server.login("anna").await;
    let url = format!("{}/api/admin/policy", server.url);
    let put = |csrf: &str, client: &reqwest::Client, body: Value| {
        client
            .put(&url)
            .header("x-csrf-token", csrf)
            .header("origin", &server.url)
            .json(&body)
            .send()
    };
    let policy: Value = admin.get(&url).send().await.expect("get").json().await.expect("json");
    assert_eq!(policy["allowed"]["cobrowse"], true);
    assert_eq!(policy["private_selectors"], json!([]));

    let allowed_no_cobrowse =
        json!({"screen_share": true, "cobrowse": false, "remote_control": true, "session_keys": true});
    // Bad selectors are refused, each kind.
    let too_many: Vec<String> = (0..33).map(|i| format!(".s{i}")).collect();
    for selectors in [
        json!([".a { color: red }"]),
        json!(["a;b"]),
        json!(["[name=\"x]"]),
        json!([format!(".{}", "a".repeat(200))]),
        json!(too_many),
    ] {
        let response = put(
            &csrf,
            &admin,
            json!({"allowed": allowed_no_cobrowse, "private_selectors": selectors}),
        )
        .await
        .expect("put");
        assert_eq!(response.status(), 422, "{selectors}");
    }
    let good = json!({"allowed": allowed_no_cobrowse, "private_selectors": [".balance", "  #iban ", ""]});
    assert_eq!(put("wrong", &admin, good.clone()).await.expect("put").status(), 403);
    let (agent, agent_csrf, _) = server.login("ben").await;
    assert_eq!(put(&agent_csrf, &agent, good.clone()).await.expect("put").status(), 403);
    assert_eq!(agent.get(&url).send().await.expect("get").status(), 403);
    let response = put(&csrf, &admin, good).await.expect("put");
    assert_eq!(response.status(), 200);

    let told = ben
        .expect(|m| matches!(m, ServerMessage::PermissionsChanged { .. }))
        .await;
    assert_eq!(
        told,
        ServerMessage::PermissionsChanged {
            permissions: Permissions {
                cobrowse: false,
                ..Permissions::ALL
            }
        }
    );
    let heard = visitor
        .expect(|m| matches!(m, ServerMessage::PrivacyChanged { .. }))
        .await;
    assert_eq!(
        heard,
        ServerMessage::PrivacyChanged {
            private_selectors: vec![".balance".into(), "#iban".into()]
        }
    );
    ben.send(json!({"type": "share_key_create", "capability": "cobrowse"}))
        .await;
    assert_eq!(ben.error_code().await, ErrorCode::Forbidden);

    // Stored, trimmed, and read again after a restart.
    let dir = server.stop().await;
    let path = dir.as_ref().expect("dir").path().to_path_buf();
    let server = TestServer::start_in(path, Vec::new()).await;
    let mut visitor = server.visitor().await;
    visitor
        .send(json!({"type": "visitor_hello", "protocol": 1, "token": null, "after_seq": 0}))
        .await;
    match visitor
        .expect(|m| matches!(m, ServerMessage::VisitorWelcome { .. }))
        .await
    {
        ServerMessage::VisitorWelcome { private_selectors, .. } => {
            assert_eq!(private_selectors, vec![".balance".to_owned(), "#iban".to_owned()]);
        }
        _ => unreachable!(),
    }
    let (admin, _, _) = server.login("anna").await;
    let policy: Value = admin
        .get(format!("{}/api/admin/policy", server.url))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(policy["allowed"]["cobrowse"], false);
    assert_eq!(policy["private_selectors"], json!([".balance", "#iban"]));
}
