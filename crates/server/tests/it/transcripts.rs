//! Transcript downloads: an agent who may read the conversation and its visitor
//! (by their token) get it as a plain-text attachment; nobody else does.

use crate::support::{client_builder, TestServer};

#[tokio::test]
async fn the_agent_and_the_visitor_download_the_transcript_and_no_one_else() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let (mut visitor, token, conversation) = server.accepted_conversation(&mut anna).await;
    visitor
        .say(
            Some(&conversation),
            "v-2",
            "It says <script>alert(1)</script>\nthen nothing",
        )
        .await;

    let (anna_http, _, _) = server.login("anna").await;
    let url = format!(
        "{}/api/conversations/{}/transcript?tz=Europe/Paris",
        server.url, conversation
    );
    let response = anna_http.get(&url).send().await.expect("download");
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(
        header("content-disposition").starts_with("attachment; filename=\"conversation-"),
        "{}",
        header("content-disposition")
    );
    let text = response.text().await.expect("text");
    assert!(text.contains("(Europe/Paris)"), "{text}");
    assert!(text.contains("] Visitor: The page shows an error\n"), "{text}");
    assert!(text.contains("] Anna joined.\n"), "{text}");
    assert!(
        text.contains("] Visitor: It says <script>alert(1)</script>\n        then nothing\n"),
        "the visitor's words, verbatim, in a text file: {text}"
    );

    // Ben may not read Anna's active conversation; strangers must log in.
    let (ben_http, _, _) = server.login("ben").await;
    assert_eq!(ben_http.get(&url).send().await.expect("ben").status(), 403);
    assert_eq!(server.http().get(&url).send().await.expect("anon").status(), 401);

    // The visitor, by their token.
    let client = client_builder().build().expect("client");
    let visitor_url = format!("{}/api/visitor/transcript?tz=UTC", server.url);
    let response = client
        .get(&visitor_url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("visitor");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(text.contains("] You: The page shows an error\n"), "{text}");
    assert!(!text.contains("Visitor:"), "{text}");
    // In the widget's language when it names one the server speaks; English otherwise.
    for (lang, line) in [
        ("de", "] Sie: The page shows an error\n"),
        ("fr", "] Vous : The page shows an error\n"),
        ("es", "] You: The page shows an error\n"),
    ] {
        let text = client
            .get(format!("{visitor_url}&lang={lang}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("visitor, in a language")
            .text()
            .await
            .expect("text");
        assert!(text.contains(line), "{lang}: {text}");
    }
    assert_eq!(client.get(&visitor_url).send().await.expect("no token").status(), 401);
    assert_eq!(
        client
            .get(&visitor_url)
            .bearer_auth("not-a-token-of-anyone")
            .send()
            .await
            .expect("forged")
            .status(),
        404
    );
}
