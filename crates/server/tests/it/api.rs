//! The console's HTTP API: login, CSRF, accounts, history.

use serde_json::{json, Value};
use sightline_proto::ServerMessage;

use crate::support::{TestServer, AGENT_PASSWORD};

#[tokio::test]
async fn login_logout_and_the_rate_limit() {
    let server = TestServer::start().await;
    let client = server.http();
    let url = format!("{}/api", server.url);

    assert_eq!(client.get(format!("{url}/me")).send().await.expect("me").status(), 401);
    let wrong = client
        .post(format!("{url}/login"))
        .json(&json!({"name": "anna", "password": "nope"}))
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.expect("json");
    assert_eq!(body["error"], "invalid_credentials");

    let (agent, csrf, _) = server.login("anna").await;
    let me: Value = agent
        .get(format!("{url}/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["user"]["name"], "anna");
    assert_eq!(me["csrf_token"], csrf.as_str());

    // Logging out needs the CSRF token; afterwards the session is gone.
    assert_eq!(
        agent
            .post(format!("{url}/logout"))
            .send()
            .await
            .expect("logout")
            .status(),
        403
    );
    let out = agent
        .post(format!("{url}/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    assert_eq!(agent.get(format!("{url}/me")).send().await.expect("me").status(), 401);

    // Guessing is cut off after a burst, even with the right password.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = client
            .post(format!("{url}/login"))
            .json(&json!({"name": "ben", "password": "guess-guess"}))
            .send()
            .await
            .expect("login");
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let right = client
        .post(format!("{url}/login"))
        .json(&json!({"name": "ben", "password": AGENT_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(right.status(), 429);

    // A login from another site's page is refused outright.
    let cross = server
        .http()
        .post(format!("{url}/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"name": "anna", "password": AGENT_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(cross.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn admins_manage_accounts_and_agents_cannot() {
    let server = TestServer::start().await;
    let url = format!("{}/api", server.url);
    let (admin, csrf, _) = server.login("anna").await;
    let new_agent = json!({"name": "carla", "display_name": "Carla", "password": "long enough pw", "is_admin": false});

    let no_csrf = admin
        .post(format!("{url}/users"))
        .json(&new_agent)
        .send()
        .await
        .expect("create");
    assert_eq!(no_csrf.status(), 403);
    let created = admin
        .post(format!("{url}/users"))
        .header("x-csrf-token", &csrf)
        .json(&new_agent)
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let carla: Value = created.json().await.expect("json");
    let again = admin
        .post(format!("{url}/users"))
        .header("x-csrf-token", &csrf)
        .json(&new_agent)
        .send()
        .await
        .expect("create");
    assert_eq!(again.status(), 409);
    let weak = admin
        .post(format!("{url}/users"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "dan", "display_name": null, "password": "short", "is_admin": false}))
        .send()
        .await
        .expect("create");
    assert_eq!(weak.status(), 422);
    let malformed = admin
        .post(format!("{url}/users"))
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .expect("create");
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        malformed.json::<Value>().await.expect("json error body")["error"],
        "bad_request"
    );

    let (ben, ben_csrf, _) = server.login("ben").await;
    assert_eq!(
        ben.get(format!("{url}/users")).send().await.expect("list").status(),
        403
    );
    let denied = ben
        .post(format!("{url}/users"))
        .header("x-csrf-token", &ben_csrf)
        .json(&new_agent)
        .send()
        .await
        .expect("create");
    assert_eq!(denied.status(), 403);

    // Disabling an account ends its sessions.
    let carla_client = {
        let client = server.http();
        let r = client
            .post(format!("{url}/login"))
            .json(&json!({"name": "carla", "password": "long enough pw"}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200);
        client
    };
    let id = carla["id"].as_i64().expect("id");
    let disabled = admin
        .patch(format!("{url}/users/{id}"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": null, "is_admin": null, "disabled": true}))
        .send()
        .await
        .expect("patch");
    assert_eq!(disabled.status(), 200);
    assert_eq!(
        carla_client.get(format!("{url}/me")).send().await.expect("me").status(),
        401
    );

    // The last admin cannot be demoted.
    let me: Value = admin
        .get(format!("{url}/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let my_id = me["user"]["id"].as_i64().expect("id");
    let demote = admin
        .patch(format!("{url}/users/{my_id}"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": null, "is_admin": false, "disabled": null}))
        .send()
        .await
        .expect("patch");
    assert_eq!(demote.status(), 409);
    server.stop().await;
}

#[tokio::test]
async fn history_lists_and_searches_closed_conversations() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let mut ids = Vec::new();
    for (i, text) in [
        "my card was swallowed by the ATM",
        "how do I change my address?",
        "100% of my savings are gone_",
    ]
    .iter()
    .enumerate()
    {
        let mut visitor = server.visitor().await;
        visitor.hello(None, 0).await;
        let (conversation, _) = visitor.say(None, &format!("v{i}"), text).await;
        anna.send(json!({"type": "accept", "conversation": conversation})).await;
        anna.send(json!({"type": "close", "conversation": conversation})).await;
        anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.status == sightline_proto::ConversationStatus::Closed && c.id == conversation)).await;
        ids.push(conversation);
    }
    let (client, _, _) = server.login("ben").await;
    let url = format!("{}/api/conversations", server.url);
    let all: Value = client.get(&url).send().await.expect("list").json().await.expect("json");
    assert_eq!(all["conversations"].as_array().expect("array").len(), 3);
    let found: Value = client
        .get(format!("{url}?q=ATM&status=closed"))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    let found = found["conversations"].as_array().expect("array");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], ids[0].as_str());
    // Wildcards in the query are literal.
    let percent: Value = client
        .get(format!("{url}?q=100%25"))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert_eq!(percent["conversations"].as_array().expect("array").len(), 1);
    let underscore: Value = client
        .get(format!("{url}?q=_"))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert_eq!(underscore["conversations"].as_array().expect("array").len(), 1);

    let transcript: Value = client
        .get(format!("{url}/{}", ids[1]))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = transcript["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, vec!["started", "message", "agent_joined", "closed"]);
    assert_eq!(
        client.get(format!("{url}/nope")).send().await.expect("get").status(),
        404
    );
    assert_eq!(server.http().get(&url).send().await.expect("anonymous").status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn health_metrics_and_assets() {
    let server = TestServer::start().await;
    let client = server.http();
    let health = client
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    visitor.say(None, "m", "hi").await;
    assert_eq!(server.metric("sightline_connections").await, 1);
    assert_eq!(server.metric("sightline_conversations_waiting").await, 1);
    for (path, kind) in [
        ("/widget.js", "text/javascript"),
        ("/console", "text/html"),
        ("/demo", "text/html"),
    ] {
        let r = client.get(format!("{}{path}", server.url)).send().await.expect("asset");
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"].to_str().expect("ascii").starts_with(kind),
            "{path}"
        );
    }
    assert_eq!(
        client
            .get(format!("{}/nope/../../etc/passwd", server.url))
            .send()
            .await
            .expect("get")
            .status(),
        404
    );
    server.stop().await;
}

#[tokio::test]
async fn an_agent_edits_their_own_profile_and_their_open_conversation_shows_it() {
    use sightline_proto::{api::AvatarColour, ConversationStatus, EventKind};
    let server = TestServer::start().await;
    let mut anna_ws = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "hello").await;
    anna_ws
        .send(json!({"type": "accept", "conversation": conversation}))
        .await;
    anna_ws
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.status == ConversationStatus::Active))
        .await;

    let (anna, csrf, _) = server.login("anna").await;
    let url = format!("{}/api/me", server.url);
    let before: Value = anna.get(&url).send().await.expect("me").json().await.expect("json");
    // CSRF first, then the checks: a name of 1 to 80 characters, a colour of the palette.
    let no_csrf = anna
        .patch(&url)
        .json(&json!({"display_name": "Anna K."}))
        .send()
        .await
        .expect("patch");
    assert_eq!(no_csrf.status(), 403);
    for bad in [
        json!({"display_name": "  ", "colour": null}),
        json!({"display_name": "x".repeat(81), "colour": null}),
        json!({"display_name": "Ben\u{202e}", "colour": null}),
        json!({"display_name": "Ben\u{200b}", "colour": null}),
        json!({"display_name": "Ben\nAdmin", "colour": null}),
        json!({"display_name": "Anna", "colour": "#ff0000"}),
        json!({"display_name": "Anna", "colour": null, "is_admin": true}),
    ] {
        let r = anna
            .patch(&url)
            .header("x-csrf-token", &csrf)
            .json(&bad)
            .send()
            .await
            .expect("patch");
        assert!(r.status() == 422 || r.status() == 400, "{bad}: {}", r.status());
    }
    let ok: Value = anna
        .patch(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "  Anna K.  ", "colour": "teal"}))
        .send()
        .await
        .expect("patch")
        .json()
        .await
        .expect("json");
    assert_eq!(ok["user"]["display_name"], "Anna K.");
    assert_eq!(ok["user"]["colour"], "teal");
    assert_eq!(
        ok["user"]["is_admin"], before["user"]["is_admin"],
        "nothing else changes"
    );
    assert_eq!(ok["user"]["name"], "anna");

    // The console hears of the new name in the open conversation, and the store keeps it.
    anna_ws
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.agent.as_ref().is_some_and(|a| a.display_name == "Anna K.")))
        .await;
    let stored = server
        .store
        .conversation(&conversation)
        .await
        .expect("read")
        .expect("stored");
    let stored_agent = stored.agent.expect("owner");
    assert_eq!(
        (stored_agent.display_name.as_str(), stored_agent.colour),
        ("Anna K.", Some(AvatarColour::Teal))
    );
    // The visitor sees both with the agent's next message, sent on the socket opened before.
    anna_ws.say(Some(&conversation), "a-1", "Anna here").await;
    visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::Message { agent: Some(a), .. } if a.display_name == "Anna K." && a.colour == Some(AvatarColour::Teal))))
        .await;

    // Back to the default colour.
    let reset: Value = anna
        .patch(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "Anna K.", "colour": null}))
        .send()
        .await
        .expect("patch")
        .json()
        .await
        .expect("json");
    assert_eq!(reset["user"]["colour"], Value::Null);
    // A new colour alone is announced too.
    anna_ws
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.agent.as_ref().is_some_and(|a| a.display_name == "Anna K." && a.colour.is_none())))
        .await;
    anna_ws.say(Some(&conversation), "a-2", "Still Anna").await;
    visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::Message { agent: Some(a), .. } if a.display_name == "Anna K." && a.colour.is_none())))
        .await;

    // Another's profile is for admins only.
    let (ben, ben_csrf, _) = server.login("ben").await;
    let anna_id = ok["user"]["id"].as_i64().expect("id");
    let not_admin = ben
        .put(format!("{}/api/users/{anna_id}/profile", server.url))
        .header("x-csrf-token", &ben_csrf)
        .json(&json!({"display_name": "Ben was here", "colour": null}))
        .send()
        .await
        .expect("put");
    assert_eq!(not_admin.status(), 403);
    // Anna is an admin.
    let set: Value = anna
        .put(format!("{}/api/users/{anna_id}/profile", server.url))
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": " Anna Kovacs ", "colour": "pink"}))
        .send()
        .await
        .expect("put")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (set["display_name"].as_str(), set["colour"].as_str()),
        (Some("Anna Kovacs"), Some("pink"))
    );
    anna_ws
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.agent.as_ref().is_some_and(|a| a.display_name == "Anna Kovacs" && a.colour == Some(AvatarColour::Pink))))
        .await;
}
