//! Image metadata on each backend: stored with the message that shows it, read back
//! with the conversation's visitor for access checks.

#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures::*;
use common::{on_each_backend, TestDb};
use sightline_proto::{EventKind, ImageRef, MessageBody, Role};
use sightline_store::{NewImage, Persist, StoreError};

fn new_image(id: &str, source: Option<&str>, annotations: Option<&str>) -> NewImage {
    NewImage {
        image: ImageRef {
            id: id.into(),
            mime: "image/png".into(),
            width: 3840,
            height: 2160,
            bytes: 5_000_000_000,
            thumb_width: 320,
            thumb_height: 180,
            has_annotations: annotations.is_some(),
            source_image: source.map(Into::into),
        },
        sha256: "a".repeat(64),
        thumb_sha256: "b".repeat(64),
        annotations: annotations.map(Into::into),
        agents_only: false,
    }
}

fn image_message(conversation: &str, seq: u64, from: Role, image: &NewImage) -> Persist {
    event(
        conversation,
        seq,
        100 + seq,
        EventKind::Message {
            from,
            agent: None,
            client_id: format!("img-{seq}"),
            body: MessageBody::Image {
                image: image.image.clone(),
            },
        },
    )
}

#[tokio::test]
async fn images_round_trip_with_their_conversation_and_visitor() {
    on_each_backend("images", |db: TestDb| async move {
        let store = db.connect().await;
        let agent = agent(&store, "ann").await;
        let mut ops = visitor_with_message(1, 100, "hello");
        let original = new_image("img-1", None, None);
        ops.push(Persist::CreateImage {
            conversation: "conv-1".into(),
            image: original.clone(),
            uploaded_by: Role::Visitor,
            agent_id: None,
            created_at: 101,
        });
        ops.push(image_message("conv-1", 2, Role::Visitor, &original));
        store.apply(&ops).await.unwrap();

        let annotated = new_image("img-2", Some("img-1"), Some(r#"{"shapes":[{"kind":"arrow"}]}"#));
        store
            .apply(&[
                Persist::CreateImage {
                    conversation: "conv-1".into(),
                    image: annotated.clone(),
                    uploaded_by: Role::Agent,
                    agent_id: Some(agent.id),
                    created_at: 103,
                },
                image_message("conv-1", 3, Role::Agent, &annotated),
            ])
            .await
            .unwrap();

        let got = store.image(&"img-1".into()).await.unwrap().unwrap();
        assert_eq!(got.image, original.image);
        assert_eq!(got.conversation_id.as_str(), "conv-1");
        assert_eq!(got.visitor_token_hash, token_hash("visitor-1"));
        assert_eq!((got.sha256.as_str(), got.thumb_sha256.as_str()), (original.sha256.as_str(), original.thumb_sha256.as_str()));
        assert_eq!((got.uploaded_by, got.agent_id, got.created_at), (Role::Visitor, None, 101));
        assert_eq!(got.annotations, None);

        let got = store.image(&"img-2".into()).await.unwrap().unwrap();
        assert_eq!(got.image, annotated.image);
        assert!(got.image.has_annotations);
        assert_eq!(got.image.source_image, Some("img-1".into()));
        assert_eq!(got.annotations.as_deref(), Some(r#"{"shapes":[{"kind":"arrow"}]}"#));
        assert_eq!((got.uploaded_by, got.agent_id), (Role::Agent, Some(agent.id)));

        // The message event carries the image reference; the preview says "Image".
        let events = store.events(&cid("conv-1"), 1, None, 10).await.unwrap();
        assert!(matches!(&events[0].kind, EventKind::Message { body: MessageBody::Image { image }, .. } if *image == original.image));
        assert_eq!(store.conversation(&cid("conv-1")).await.unwrap().unwrap().preview.as_deref(), Some("Image"));

        assert_eq!(store.image(&"nope".into()).await.unwrap(), None);

        // The blob sweep's question: which of these names are still referred to?
        let mut names: Vec<String> = (0..450).map(|i| format!("{i:064x}")).collect();
        names.push("a".repeat(64));
        names.push("b".repeat(64));
        let referenced = store.referenced_blobs(&names).await.unwrap();
        assert_eq!(referenced, ["a".repeat(64), "b".repeat(64)].into_iter().collect());
        assert!(store.referenced_blobs(&[]).await.unwrap().is_empty());
        // An image of an unknown conversation or source is refused, with its batch.
        let orphan = new_image("img-3", Some("missing"), None);
        let err = store
            .apply(&[Persist::CreateImage {
                conversation: "conv-1".into(),
                image: orphan,
                uploaded_by: Role::Agent,
                agent_id: None,
                created_at: 104,
            }])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        let dup = store
            .apply(&[Persist::CreateImage {
                conversation: "conv-1".into(),
                image: new_image("img-1", None, None),
                uploaded_by: Role::Visitor,
                agent_id: None,
                created_at: 105,
            }])
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
        store.close().await;
    })
    .await;
}
