//! Availability over real sockets: Away and Available, office hours from the
//! configuration, and the e-mail address a visitor leaves.

use serde_json::json;
use sightline_proto::ServerMessage;

use crate::support::*;

async fn welcome_says(visitor: &mut Ws) -> bool {
    visitor
        .send(json!({"type": "visitor_hello", "protocol": 1, "token": null, "after_seq": 0, "page": null}))
        .await;
    match visitor
        .expect(|m| matches!(m, ServerMessage::VisitorWelcome { .. }))
        .await
    {
        ServerMessage::VisitorWelcome { agents_available, .. } => agents_available,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_visitor_hears_when_an_agent_comes_and_steps_away_and_leaves_an_address() {
    let server = TestServer::start().await;
    let mut visitor = server.visitor().await;
    assert!(!welcome_says(&mut visitor).await, "nobody is logged in");

    let mut anna = server.agent("anna").await;
    visitor
        .expect(|m| matches!(m, ServerMessage::Availability { agents_available: true }))
        .await;
    anna.send(json!({"type": "set_away", "away": true})).await;
    anna.expect(|m| matches!(m, ServerMessage::AwayChanged { away: true }))
        .await;
    visitor
        .expect(|m| {
            matches!(
                m,
                ServerMessage::Availability {
                    agents_available: false
                }
            )
        })
        .await;

    // Nobody is there: the visitor writes, then leaves an address.
    let (conversation, _) = visitor.say(None, "v-1", "anyone?").await;
    visitor
        .send(json!({"type": "leave_email", "email": "not an address"}))
        .await;
    assert_eq!(visitor.error_code().await, sightline_proto::ErrorCode::BadRequest);
    visitor
        .send(json!({"type": "leave_email", "email": " vera@example.com "}))
        .await;
    anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.id == conversation && c.visitor_email.as_deref() == Some("vera@example.com")))
        .await;
    // Stored with the conversation, and found by searching for it.
    let stored = server
        .store
        .conversation(&conversation)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.visitor_email.as_deref(), Some("vera@example.com"));
    let (http, _, _) = server.login("anna").await;
    let found: serde_json::Value = http
        .get(format!("{}/api/conversations?q=VERA%40example", server.url))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert!(
        found.to_string().contains(conversation.as_str()),
        "the address finds the conversation: {found}"
    );

    // A second visitor arriving now is told nobody is available in the welcome.
    let mut later = server.visitor().await;
    assert!(!welcome_says(&mut later).await);
    anna.send(json!({"type": "set_away", "away": false})).await;
    later
        .expect(|m| matches!(m, ServerMessage::Availability { agents_available: true }))
        .await;
}

#[tokio::test]
async fn an_agent_who_comes_back_away_stays_away() {
    let server = TestServer::start().await;
    let mut visitor = server.visitor().await;
    welcome_says(&mut visitor).await;
    let (_, _, cookie) = server.login("anna").await;
    let mut anna = Ws::connect(&format!("ws://{}/ws/agent", server.addr), &[("cookie", &cookie)])
        .await
        .expect("agent socket");
    anna.send(json!({"type": "agent_hello", "protocol": 1, "away": true}))
        .await;
    let welcome = anna.expect(|m| matches!(m, ServerMessage::AgentWelcome { .. })).await;
    assert!(matches!(welcome, ServerMessage::AgentWelcome { away: true, .. }));
    // Then the visitor's next message shows nothing was announced on the way.
    visitor.say(None, "v-1", "hello").await;
    let mut fresh = server.visitor().await;
    assert!(!welcome_says(&mut fresh).await);
}

#[tokio::test]
async fn outside_the_configured_office_hours_nobody_is_available() {
    // Office hours that are over now, whatever the time: an hour that began two
    // hours ago, every day.
    let hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 3600
        + 22)
        % 24;
    let closed = format!("Mon-Sun {hour:02}:00-{:02}:00", (hour + 1) % 24);
    let server = TestServer::start_adjusted(|config| {
        config.office_hours =
            Some(sightline::office_hours::OfficeHours::parse(&[closed], "UTC").expect("office hours"));
    })
    .await;
    let _anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    assert!(
        !welcome_says(&mut visitor).await,
        "Anna is online, but it is after hours"
    );

    // And within them (all day, every day), Anna is available.
    let open = TestServer::start_adjusted(|config| {
        config.office_hours = Some(
            sightline::office_hours::OfficeHours::parse(&["Mon-Sun 00:00-24:00".to_owned()], "Europe/Berlin")
                .expect("office hours"),
        );
    })
    .await;
    let _ben = open.agent("ben").await;
    let mut visitor = open.visitor().await;
    assert!(welcome_says(&mut visitor).await);
}
