//! The whole server on PostgreSQL (when `SIGHTLINE_TEST_POSTGRES` names one): the
//! same chat, stored and restored across a restart.

use serde_json::json;
use sightline_proto::ServerMessage;
use sightline_store::testing::{postgres_url, PgDatabase, POSTGRES_ENV};

use crate::support::{message_texts, TestServer};

#[tokio::test]
async fn chat_history_and_restart_on_postgres() {
    let Some(admin_url) = postgres_url() else {
        eprintln!("NOTE: {POSTGRES_ENV} is not set: the server-on-PostgreSQL test was SKIPPED");
        return;
    };
    let database = PgDatabase::create(&admin_url).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = database.url.clone();
    let server =
        TestServer::start_configured(dir.path().to_path_buf(), |config| config.database_url = url.clone()).await;
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "Is PostgreSQL keeping this?").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.say(Some(&conversation), "a-1", "It is.").await;
    // An image message: metadata in PostgreSQL, bytes under the data directory.
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(400, 200)
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let (anna_http, csrf, _) = server.login("anna").await;
    let uploaded = anna_http
        .post(format!("{}/api/conversations/{conversation}/images", server.url))
        .header("x-csrf-token", csrf)
        .header("x-client-id", "a-img")
        .body(png.into_inner())
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 201);
    let uploaded: serde_json::Value = uploaded.json().await.expect("json");
    let image_id = uploaded["image"]["id"].as_str().expect("id").to_owned();
    server.stop().await;

    let url = database.url.clone();
    let server =
        TestServer::start_configured(dir.path().to_path_buf(), |config| config.database_url = url.clone()).await;
    let mut visitor = server.visitor().await;
    let (_, restored) = visitor.hello(Some(&token), 0).await;
    assert_eq!(restored.as_ref(), Some(&conversation));
    let mut replayed = Vec::new();
    loop {
        match visitor.next().await.expect("open") {
            ServerMessage::Synced { .. } => break,
            m => replayed.push(m),
        }
    }
    assert_eq!(
        message_texts(&replayed),
        vec![(2, "Is PostgreSQL keeping this?".to_owned()), (4, "It is.".to_owned())]
    );
    let thumb = crate::support::client_builder()
        .build()
        .expect("client")
        .get(format!("{}/api/images/{image_id}/thumb", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("thumb");
    assert_eq!(thumb.status(), 200);
    let thumb = image::load_from_memory(&thumb.bytes().await.expect("bytes")).expect("png");
    assert_eq!((thumb.width(), thumb.height()), (320, 160));
    let url = format!("{}/api/conversations?q=postgresql", server.url);
    let search = |client: reqwest::Client| {
        let url = url.clone();
        async move {
            let found: serde_json::Value = client
                .get(url)
                .send()
                .await
                .expect("search")
                .json()
                .await
                .expect("json");
            found["conversations"].as_array().map(Vec::len)
        }
    };
    assert_eq!(search(anna_http.clone()).await, Some(1));
    // Ben may not read Anna's active conversation, so his search does not find it.
    let (ben, _, _) = server.login("ben").await;
    assert_eq!(search(ben).await, Some(0));
    server.stop().await;
    database.drop_database().await;
}
