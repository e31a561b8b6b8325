//! What agents learn of a visitor, over real sockets: the browser from the
//! User-Agent header, the widget's device report, and the visitor's other
//! conversations (listed only to agents who may read the one asked about).

use serde_json::{json, Value};
use sightline_proto::{ConversationStatus, ServerMessage};

use crate::support::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/153.0";

#[tokio::test]
async fn agents_see_the_visitors_browser_and_device_and_their_earlier_conversations() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let mut visitor = Ws::connect(&format!("ws://{}/ws/visitor", server.addr), &[("user-agent", FIREFOX)])
        .await
        .expect("visitor socket");
    visitor
        .send(json!({"type": "visitor_hello", "protocol": 1, "token": null, "after_seq": 0,
            "page": {"url": "https://shop.test/cart", "title": "Cart"},
            "device": {"can_share_screen": true, "can_cobrowse": true, "touch": false, "time_zone": "Europe/Berlin", "utc_offset_minutes": 60}}))
        .await;
    visitor
        .expect(|m| matches!(m, ServerMessage::VisitorWelcome { .. }))
        .await;
    let (first, _) = visitor.say(None, "v-1", "hello").await;
    let queued = anna
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.id == first))
        .await;
    let ServerMessage::ConversationUpdated { conversation } = queued else {
        unreachable!()
    };
    let context = conversation.visitor.expect("context");
    assert_eq!(context.browser.as_deref(), Some("Firefox 153"));
    assert_eq!(context.os.as_deref(), Some("Linux"));
    let device = context.device.expect("device");
    assert_eq!(
        (device.time_zone.as_deref(), device.utc_offset_minutes),
        (Some("Europe/Berlin"), 60)
    );
    assert_eq!(context.page.map(|p| p.url).as_deref(), Some("https://shop.test/cart"));

    // The visitor ends it and writes again: a second conversation, which Anna takes.
    visitor.send(json!({"type": "close", "conversation": null})).await;
    anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.id == first && c.status == ConversationStatus::Closed))
        .await;
    let (second, _) = visitor.say(None, "v-2", "me again").await;
    assert_ne!(first, second);
    anna.send(json!({"type": "accept", "conversation": second})).await;
    anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.id == second && c.status == ConversationStatus::Active))
        .await;

    let list = |client: reqwest::Client, anchor: String| {
        let url = format!("{}/api/conversations?visitor_of={anchor}", server.url);
        async move { client.get(url).send().await.expect("list") }
    };
    let (anna_http, _, _) = server.login("anna").await;
    let page: Value = list(anna_http, second.to_string()).await.json().await.expect("json");
    let mut found: Vec<String> = page["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    found.sort();
    let mut expected = vec![first.to_string(), second.to_string()];
    expected.sort();
    assert_eq!(found, expected);

    // Ben may not read Anna's active conversation, so he learns nothing from it;
    // from the closed one he sees only what he may read.
    let (ben_http, _, _) = server.login("ben").await;
    assert_eq!(list(ben_http.clone(), second.to_string()).await.status(), 404);
    assert_eq!(list(ben_http.clone(), "no-such".into()).await.status(), 404);
    let page: Value = list(ben_http, first.to_string()).await.json().await.expect("json");
    let ids: Vec<&str> = page["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, vec![first.as_str()]);
}
