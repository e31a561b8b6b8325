//! Store scenarios, each run on SQLite and (when configured) PostgreSQL: see
//! `common/mod.rs`.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::fixtures::*;
use common::{on_each_backend, TestDb};
use sightline_core::records::{preview_of, Persist, RECENT_CLIENT_IDS};
use sightline_proto::api::UpdateUserRequest;
use sightline_proto::{
    AgentId, AgentRef, ConversationStatus, ConversationSummary, Event, EventKind, MessageBody, PageInfo, Permission,
    Permissions, Role, ShareState, SitePolicy, VisitorIdentity,
};
use sightline_store::{Backend, ConversationQuery, Store, StoreError, MAX_PAGE_SIZE};

// ---- scenarios ----

#[tokio::test]
async fn migrations_run_on_a_fresh_database_and_again_on_an_existing_one() {
    on_each_backend("migrations", |db: TestDb| async move {
        let store = db.connect().await;
        assert_eq!(store.backend(), db.backend);
        assert_eq!(store.count_users().await.unwrap(), 0);
        store.create_user("admin", "Admin", "h", true, 10).await.unwrap();
        store.apply(&visitor_with_message(1, 100, "hello")).await.unwrap();
        store.close().await;

        // Connecting again finds the schema up to date and the data in place.
        let store = db.connect().await;
        assert_eq!(store.count_users().await.unwrap(), 1);
        assert_eq!(store.conversation(&cid("conv-1")).await.unwrap().unwrap().last_seq, 1);
        // Two stores on one database at once (e.g. a second process) both work.
        let other = db.connect().await;
        assert_eq!(other.count_users().await.unwrap(), 1);
        other.close().await;
        store.close().await;

        if let Some(path) = &db.sqlite_path {
            assert!(path.exists(), "the SQLite file was created");
            // WAL mode is a property of the file: a plain connection sees it.
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
        }
    })
    .await;
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_operations() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.apply(&visitor_with_message(1, 100, "hello")).await.unwrap();
    store.create_user("a", "A", "h", false, 1).await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(store.events(&cid("conv-1"), 0, None, 10).await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn users_are_unique_case_insensitively_and_can_be_updated() {
    on_each_backend("users", |db: TestDb| async move {
        let store = db.connect().await;
        let alice = store
            .create_user("Alice", "Alice A.", "hash-1", true, 1_000)
            .await
            .unwrap();
        assert_eq!(alice.name, "alice", "names are stored lowercased");
        assert_eq!(alice.display_name, "Alice A.");
        assert!(alice.is_admin);
        assert!(!alice.disabled);
        assert_eq!(alice.created_at, 1_000);

        let err = store
            .create_user("ALICE", "Other", "h", false, 2_000)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let bob = store.create_user("bob", "Bob", "hash-2", false, 3_000).await.unwrap();
        assert_ne!(alice.id, bob.id);

        let found = store.user_by_name("aLiCe").await.unwrap().unwrap();
        assert_eq!(found.info, alice);
        assert_eq!(found.password_hash, "hash-1");
        assert_eq!(store.user_by_id(bob.id).await.unwrap().unwrap().info, bob);
        assert!(store.user_by_name("carol").await.unwrap().is_none());
        assert!(store.user_by_id(AgentId(bob.id.0 + 1000)).await.unwrap().is_none());
        assert_eq!(store.list_users().await.unwrap(), vec![alice.clone(), bob.clone()]);
        assert_eq!(store.count_users().await.unwrap(), 2);
        assert_eq!(store.count_active_admins().await.unwrap(), 1);

        // A profile is set whole: the colour goes back to the default with None.
        let coloured = store
            .set_profile(bob.id, "Bob B.", Some(sightline_proto::api::AvatarColour::Teal))
            .await
            .unwrap();
        assert_eq!(
            (coloured.display_name.as_str(), coloured.colour),
            ("Bob B.", Some(sightline_proto::api::AvatarColour::Teal))
        );
        assert_eq!(
            store.user_by_id(bob.id).await.unwrap().unwrap().info.colour,
            Some(sightline_proto::api::AvatarColour::Teal)
        );
        let plain = store.set_profile(bob.id, &bob.display_name, None).await.unwrap();
        assert_eq!(plain, bob, "back to how it was");
        assert!(matches!(
            store.set_profile(AgentId(bob.id.0 + 1000), "x", None).await,
            Err(StoreError::NotFound)
        ));

        // Only the fields that are set change.
        let renamed = store
            .update_user(
                bob.id,
                &UpdateUserRequest {
                    display_name: Some("Robert".into()),
                    is_admin: None,
                    disabled: None,
                    permissions: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(renamed.display_name, "Robert");
        assert!(!renamed.is_admin && !renamed.disabled);
        let promoted = store
            .update_user(
                bob.id,
                &UpdateUserRequest {
                    display_name: None,
                    is_admin: Some(true),
                    disabled: None,
                    permissions: None,
                },
            )
            .await
            .unwrap();
        assert_eq!((promoted.display_name.as_str(), promoted.is_admin), ("Robert", true));
        assert_eq!(store.count_active_admins().await.unwrap(), 2);

        let disabled = store
            .update_user(
                alice.id,
                &UpdateUserRequest {
                    display_name: None,
                    is_admin: None,
                    disabled: Some(true),
                    permissions: None,
                },
            )
            .await
            .unwrap();
        assert!(disabled.disabled && disabled.is_admin);
        assert_eq!(
            store.count_active_admins().await.unwrap(),
            1,
            "disabled admins do not count"
        );
        // Bob is the last active admin: he can be neither demoted nor disabled.
        for update in [
            UpdateUserRequest {
                display_name: None,
                is_admin: Some(false),
                disabled: None,
                permissions: None,
            },
            UpdateUserRequest {
                display_name: Some("Bobby".into()),
                is_admin: None,
                disabled: Some(true),
                permissions: None,
            },
        ] {
            let err = store.update_user(bob.id, &update).await.unwrap_err();
            assert!(matches!(err, StoreError::LastAdmin), "{err:?}");
        }
        let bob_now = store.user_by_id(bob.id).await.unwrap().unwrap().info;
        assert!(
            bob_now.is_admin && !bob_now.disabled && bob_now.display_name == "Robert",
            "nothing changed"
        );
        assert_eq!(store.count_active_admins().await.unwrap(), 1);
        assert_eq!(
            store.count_users().await.unwrap(),
            2,
            "disabled users still count as users"
        );

        let nobody = UpdateUserRequest {
            display_name: Some("x".into()),
            is_admin: None,
            disabled: None,
            permissions: None,
        };
        let err = store.update_user(AgentId(bob.id.0 + 1000), &nobody).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");

        store.set_password_hash(bob.id, "hash-3").await.unwrap();
        assert_eq!(
            store.user_by_name("BOB").await.unwrap().unwrap().password_hash,
            "hash-3"
        );
        assert_eq!(
            store.user_by_name("alice").await.unwrap().unwrap().password_hash,
            "hash-1"
        );
        let err = store
            .set_password_hash(AgentId(bob.id.0 + 1000), "h")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");

        // Unicode names are lowercased the same way on every backend.
        store.create_user("ÉLODIE", "Élodie", "h", false, 1).await.unwrap();
        let err = store.create_user("élodie", "Élodie", "h", false, 1).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.user_by_name("Élodie").await.unwrap().unwrap().info.name, "élodie");
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_conversation_shows_its_agent_in_the_colour_they_have_now() {
    on_each_backend("owner-colour", |db: TestDb| async move {
        use sightline_proto::api::AvatarColour;
        let store = db.connect().await;
        let anna = agent(&store, "anna").await;
        store.apply(&visitor_with_message(1, 100, "hello")).await.unwrap();
        store
            .apply(&[set_status("conv-1", ConversationStatus::Active, Some(&anna), 200)])
            .await
            .unwrap();
        let owner = |c: Option<ConversationSummary>| c.expect("stored").agent.expect("owner");
        assert_eq!(owner(store.conversation(&cid("conv-1")).await.unwrap()).colour, None);
        store
            .set_profile(anna.id, &anna.display_name, Some(AvatarColour::Amber))
            .await
            .unwrap();
        // Read, listed and loaded for the hub alike: the colour is presentation, not history.
        let read = owner(store.conversation(&cid("conv-1")).await.unwrap());
        assert_eq!((read.id, read.colour), (anna.id, Some(AvatarColour::Amber)));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_visitors_conversations_are_listed_from_any_one_of_them() {
    on_each_backend("same-visitor", |db: TestDb| async move {
        let store = db.connect().await;
        store
            .apply(&[
                visitor("v1", 100),
                visitor("v2", 100),
                conversation("first", "v1", 200),
                conversation("second", "v1", 300),
                conversation("other", "v2", 400),
            ])
            .await
            .unwrap();
        let page = store
            .list_conversations(&ConversationQuery {
                same_visitor_as: Some(cid("second")),
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        let mut found = ids(&page);
        found.sort();
        assert_eq!(found, vec!["first".to_owned(), "second".to_owned()]);
        let none = store
            .list_conversations(&ConversationQuery {
                same_visitor_as: Some(cid("no-such")),
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        assert!(ids(&none).is_empty());
        store.close().await;
    })
    .await;
}

/// The conversations listed as `anchor`'s visitor's, sorted.
async fn same_visitor(store: &Store, anchor: &str) -> Vec<String> {
    let page = store
        .list_conversations(&ConversationQuery {
            same_visitor_as: Some(cid(anchor)),
            ..ConversationQuery::default()
        })
        .await
        .unwrap();
    let mut found = ids(&page);
    found.sort();
    found
}

#[tokio::test]
async fn an_identified_visitor_is_read_back_searched_and_found_from_another_browser() {
    on_each_backend("identified", |db: TestDb| async move {
        let store = db.connect().await;
        let ada = VisitorIdentity {
            id: "user-42".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
        };
        let identify = |conversation: &str, seq: u64| {
            [
                Persist::SetIdentity {
                    conversation: cid(conversation),
                    identity_id: ada.id.clone(),
                },
                event(conversation, seq, 300, EventKind::Identified { identity: ada.clone() }),
            ]
        };
        // Ada on her laptop (v1) and her phone (v2); someone else (v3).
        store
            .apply(&[
                visitor("v1", 100),
                visitor("v2", 100),
                visitor("v3", 100),
                conversation("laptop", "v1", 200),
                conversation("phone", "v2", 210),
                conversation("other", "v3", 220),
                conversation("laptop-anonymous", "v1", 230),
            ])
            .await
            .unwrap();
        store.apply(&identify("laptop", 1)).await.unwrap();
        store.apply(&identify("phone", 1)).await.unwrap();
        let summary = store.conversation(&cid("phone")).await.unwrap().expect("stored");
        assert_eq!(summary.visitor_identity.as_deref(), Some(&ada));
        assert_eq!(
            store
                .conversation(&cid("other"))
                .await
                .unwrap()
                .expect("stored")
                .visitor_identity,
            None
        );
        // Found by the id, the name or the address.
        for q in ["user-42", "lovelace", "ADA@example"] {
            let mut found = search(&store, q).await;
            found.sort();
            assert_eq!(found, vec!["laptop".to_owned(), "phone".to_owned()], "{q}");
        }
        // The same browser, and the same user elsewhere; never someone else.
        assert_eq!(same_visitor(&store, "phone").await, vec!["laptop", "phone"]);
        assert_eq!(
            same_visitor(&store, "laptop").await,
            vec!["laptop", "laptop-anonymous", "phone"]
        );
        assert_eq!(
            same_visitor(&store, "laptop-anonymous").await,
            vec!["laptop", "laptop-anonymous"]
        );
        assert_eq!(same_visitor(&store, "other").await, vec!["other"]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_rating_is_read_back_with_the_summary_listed_and_searched() {
    on_each_backend("rating", |db: TestDb| async move {
        let store = db.connect().await;
        let mut batch = visitor_with_message(1, 100, "where is my parcel");
        batch.extend(visitor_with_message(2, 110, "hello"));
        batch.push(set_status("conv-1", ConversationStatus::Closed, None, 200));
        batch.push(event(
            "conv-1",
            2,
            200,
            EventKind::Closed {
                by: Role::Visitor,
                agent: None,
            },
        ));
        batch.push(event(
            "conv-1",
            3,
            250,
            EventKind::Rated {
                score: 2,
                comment: Some("Took AGES to answer".into()),
            },
        ));
        batch.push(activity("conv-1", 250));
        store.apply(&batch).await.unwrap();
        let summary = store.conversation(&cid("conv-1")).await.unwrap().expect("stored");
        assert_eq!((summary.rating, summary.last_seq), (Some(2), 3));
        assert_eq!(
            summary.preview.as_deref(),
            Some("where is my parcel"),
            "a rating is no preview"
        );
        assert_eq!(
            store
                .conversation(&cid("conv-2"))
                .await
                .unwrap()
                .expect("stored")
                .rating,
            None
        );
        // What the hub loads for a returning visitor carries it (the one-rating rule).
        let back = store
            .visitor_by_token_hash(&token_hash("visitor-1"))
            .await
            .unwrap()
            .and_then(|v| v.latest)
            .expect("their conversation");
        assert_eq!(back.summary.rating, Some(2));
        // The history list has it, and finds the conversation by the comment.
        let page = store.list_conversations(&ConversationQuery::default()).await.unwrap();
        let listed: Vec<(String, Option<u8>)> = page
            .conversations
            .iter()
            .map(|c| (c.id.as_str().to_owned(), c.rating))
            .collect();
        assert!(listed.contains(&("conv-1".to_owned(), Some(2))), "{listed:?}");
        assert!(listed.contains(&("conv-2".to_owned(), None)), "{listed:?}");
        assert_eq!(search(&store, "ages").await, vec!["conv-1".to_owned()]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_demotions_never_leave_the_server_without_an_admin() {
    on_each_backend("last-admin-race", |db: TestDb| async move {
        let store = db.connect().await;
        let demote = UpdateUserRequest {
            display_name: None,
            is_admin: Some(false),
            disabled: None,
            permissions: None,
        };
        let disable = UpdateUserRequest {
            display_name: None,
            is_admin: None,
            disabled: Some(true),
            permissions: None,
        };
        let mut survivor: Option<AgentId> = None;
        for round in 0..20 {
            let a = store
                .create_user(&format!("a{round}"), "A", "h", true, 1)
                .await
                .unwrap();
            let b = store
                .create_user(&format!("b{round}"), "B", "h", true, 1)
                .await
                .unwrap();
            // The last round's survivor steps down: a and b are the only admins.
            if let Some(prev) = survivor {
                store.update_user(prev, &demote).await.unwrap();
            }
            assert_eq!(store.count_active_admins().await.unwrap(), 2);
            // Two tasks race to take away both admins' rights.
            let (s1, s2) = (store.clone(), store.clone());
            let (d1, d2) = (
                demote.clone(),
                if round % 2 == 0 {
                    demote.clone()
                } else {
                    disable.clone()
                },
            );
            let (r1, r2) = tokio::join!(
                tokio::spawn(async move { s1.update_user(a.id, &d1).await }),
                tokio::spawn(async move { s2.update_user(b.id, &d2).await }),
            );
            let results = [r1.unwrap(), r2.unwrap()];
            let refused = results
                .iter()
                .filter(|r| matches!(r, Err(StoreError::LastAdmin)))
                .count();
            assert_eq!(refused, 1, "round {round}: exactly one is refused: {results:?}");
            assert_eq!(store.count_active_admins().await.unwrap(), 1, "round {round}");
            survivor = Some(if results[0].is_ok() { b.id } else { a.id });
        }
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_and_die_with_disabled_users() {
    on_each_backend("sessions", |db: TestDb| async move {
        let store = db.connect().await;
        let ann = store.create_user("ann", "Ann", "h", false, 1).await.unwrap();
        let ben = store.create_user("ben", "Ben", "h", false, 1).await.unwrap();
        store
            .create_session("s-ann-1", ann.id, "csrf-1", 1_000, 2_000)
            .await
            .unwrap();
        store
            .create_session("s-ann-2", ann.id, "csrf-2", 1_000, 9_000)
            .await
            .unwrap();
        store
            .create_session("s-ben", ben.id, "csrf-3", 1_000, 9_000)
            .await
            .unwrap();

        let (session, user) = store.session("s-ann-1", 1_500).await.unwrap().unwrap();
        assert_eq!(session.token_hash, "s-ann-1");
        assert_eq!(session.user_id, ann.id);
        assert_eq!(session.csrf_token, "csrf-1");
        assert_eq!((session.created_at, session.expires_at), (1_000, 2_000));
        assert_eq!(user.info, ann);
        assert_eq!(user.password_hash, "h");

        // Valid while now < expires_at.
        assert!(store.session("s-ann-1", 1_999).await.unwrap().is_some());
        assert!(store.session("s-ann-1", 2_000).await.unwrap().is_none());
        assert!(store.session("unknown", 1_500).await.unwrap().is_none());

        // Disabled users have no sessions; enabled again, they do.
        let disable = |disabled| UpdateUserRequest {
            display_name: None,
            is_admin: None,
            disabled: Some(disabled),
            permissions: None,
        };
        store.update_user(ann.id, &disable(true)).await.unwrap();
        assert!(store.session("s-ann-2", 1_500).await.unwrap().is_none());
        assert!(store.session("s-ben", 1_500).await.unwrap().is_some());
        store.update_user(ann.id, &disable(false)).await.unwrap();
        assert!(store.session("s-ann-2", 1_500).await.unwrap().is_some());

        let err = store.create_session("s-ann-2", ann.id, "c", 1, 2).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let err = store
            .create_session("s-ghost", AgentId(ben.id.0 + 1000), "c", 1, 2)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");

        assert_eq!(store.delete_expired_sessions(2_000).await.unwrap(), 1);
        assert_eq!(store.delete_expired_sessions(2_000).await.unwrap(), 0);
        store.delete_session("s-ben").await.unwrap();
        store.delete_session("s-ben").await.unwrap();
        assert!(store.session("s-ben", 1_500).await.unwrap().is_none());
        store
            .create_session("s-ann-3", ann.id, "csrf-4", 1_000, 9_000)
            .await
            .unwrap();
        assert_eq!(store.delete_sessions_of_user(ann.id).await.unwrap(), 2);
        assert!(store.session("s-ann-2", 1_500).await.unwrap().is_none());
        assert!(store.session("s-ann-3", 1_500).await.unwrap().is_none());
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_conversation_lifecycle_is_stored_and_read_back() {
    on_each_backend("lifecycle", |db: TestDb| async move {
        let store = db.connect().await;
        let agent = agent(&store, "zoe").await;
        let page = PageInfo {
            url: "https://bank.example/loans".into(),
            title: "Loans".into(),
        };
        let long = "x".repeat(300);
        let started = EventKind::Started {
            page: Some(page.clone()),
        };
        let first = text(Role::Visitor, None, "c-1", "Hello, I need help");
        let joined = EventKind::AgentJoined { agent: agent.clone() };
        let link = EventKind::Message {
            from: Role::Agent,
            agent: Some(agent.clone()),
            client_id: "c-1".into(), // same id as the visitor's: ids are per role
            body: MessageBody::Link {
                url: "https://bank.example/rates".into(),
                title: Some("Our rates".into()),
            },
        };
        let reply = text(Role::Visitor, None, "c-2", &long);
        let closed = EventKind::Closed {
            by: Role::Visitor,
            agent: Some(agent.clone()),
        };

        // The visitor writes first: visitor, conversation and two events in one batch.
        store
            .apply(&[
                visitor("vis", 1_000),
                Persist::CreateConversation {
                    id: "c".into(),
                    visitor_id: "vis".into(),
                    created_at: 1_000,
                    page: Some(page.clone()),
                },
                event("c", 1, 1_000, started.clone()),
                event("c", 2, 1_001, first.clone()),
            ])
            .await
            .unwrap();
        let summary = store.conversation(&cid("c")).await.unwrap().unwrap();
        assert_eq!(summary.status, ConversationStatus::Waiting);
        assert_eq!(summary.agent, None);
        // last_seq and the preview come from the events; the stored activity
        // moves only when told (RecordActivity, SetStatus), and never back.
        assert_eq!(
            (summary.created_at, summary.last_seq, summary.last_activity_at),
            (1_000, 2, 1_000)
        );
        assert_eq!(summary.preview.as_deref(), Some("Hello, I need help"));
        store.apply(&[activity("c", 1_001)]).await.unwrap();
        store.apply(&[activity("c", 1_000)]).await.unwrap();
        assert_eq!(
            store.conversation(&cid("c")).await.unwrap().unwrap().last_activity_at,
            1_001
        );
        assert_eq!(summary.page.as_ref(), Some(&page));
        assert!(!summary.visitor_online);

        // An agent accepts and answers with a link.
        store
            .apply(&[
                set_status("c", ConversationStatus::Active, Some(&agent), 2_000),
                event("c", 3, 2_000, joined.clone()),
                event("c", 4, 2_001, link.clone()),
            ])
            .await
            .unwrap();
        let summary = store.conversation(&cid("c")).await.unwrap().unwrap();
        assert_eq!(summary.status, ConversationStatus::Active);
        assert_eq!(summary.agent.as_ref(), Some(&agent));
        assert_eq!(summary.preview.as_deref(), Some("Our rates"));
        assert_eq!((summary.last_seq, summary.last_activity_at), (4, 2_000));

        // The visitor replies at length and closes.
        store.apply(&[event("c", 5, 3_000, reply.clone())]).await.unwrap();
        store
            .apply(&[
                set_status("c", ConversationStatus::Closed, Some(&agent), 4_000),
                event("c", 6, 4_000, closed.clone()),
            ])
            .await
            .unwrap();
        let summary = store.conversation(&cid("c")).await.unwrap().unwrap();
        assert_eq!(summary.status, ConversationStatus::Closed);
        assert_eq!(
            summary.agent.as_ref(),
            Some(&agent),
            "a closed conversation keeps its agent"
        );
        assert_eq!((summary.last_seq, summary.last_activity_at), (6, 4_000));
        let expected_preview = preview_of(&MessageBody::Text { text: long.clone() });
        assert_eq!(expected_preview.chars().count(), 120);
        assert_eq!(summary.preview, Some(expected_preview), "preview of the newest message");
        assert_eq!(summary.created_at, 1_000);

        let all = store.events(&cid("c"), 0, None, 100).await.unwrap();
        let expected = vec![
            Event {
                seq: 1,
                at: 1_000,
                kind: started,
            },
            Event {
                seq: 2,
                at: 1_001,
                kind: first,
            },
            Event {
                seq: 3,
                at: 2_000,
                kind: joined,
            },
            Event {
                seq: 4,
                at: 2_001,
                kind: link,
            },
            Event {
                seq: 5,
                at: 3_000,
                kind: reply,
            },
            Event {
                seq: 6,
                at: 4_000,
                kind: closed,
            },
        ];
        assert_eq!(all, expected);
        let seqs = |events: Vec<Event>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(
            seqs(store.events(&cid("c"), 2, Some(4), 100).await.unwrap()),
            vec![3, 4]
        );
        assert_eq!(seqs(store.events(&cid("c"), 0, None, 2).await.unwrap()), vec![1, 2]);
        assert_eq!(seqs(store.events(&cid("c"), 4, None, 100).await.unwrap()), vec![5, 6]);
        assert_eq!(
            seqs(store.events(&cid("c"), 6, None, 100).await.unwrap()),
            Vec::<u64>::new()
        );
        assert_eq!(
            seqs(store.events(&cid("c"), 3, Some(3), 100).await.unwrap()),
            Vec::<u64>::new()
        );
        assert!(store.events(&cid("nope"), 0, None, 100).await.unwrap().is_empty());
        assert!(store.conversation(&cid("nope")).await.unwrap().is_none());

        // Closing without naming an agent keeps the one who handled it; a status
        // change that names no agent otherwise clears it.
        store.apply(&visitor_with_message(2, 5_000, "hi")).await.unwrap();
        store
            .apply(&[set_status("conv-2", ConversationStatus::Active, Some(&agent), 5_001)])
            .await
            .unwrap();
        store
            .apply(&[set_status("conv-2", ConversationStatus::Closed, None, 5_002)])
            .await
            .unwrap();
        let summary = store.conversation(&cid("conv-2")).await.unwrap().unwrap();
        assert_eq!(
            (summary.status, summary.agent.as_ref()),
            (ConversationStatus::Closed, Some(&agent))
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn every_event_kind_is_stored_as_it_is() {
    on_each_backend("event kinds", |db: TestDb| async move {
        let store = db.connect().await;
        let agent = agent(&store, "kim").await;
        store.apply(&visitor_with_message(1, 100, "hi")).await.unwrap();
        let kinds = [
            EventKind::Share {
                share: "share-1".into(),
                state: ShareState::Invited,
                by: Role::Agent,
                agent: Some(agent.clone()),
                message: Some("May I see your screen?".into()),
                detail: None,
            },
            EventKind::Share {
                share: "share-1".into(),
                state: ShareState::Failed,
                by: Role::Visitor,
                agent: None,
                message: None,
                detail: Some("permission denied".into()),
            },
            EventKind::JoinedWithKey { agent: agent.clone() },
        ];
        let batch: Vec<Persist> = kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| event("conv-1", i as u64 + 2, 200 + i as u64, kind.clone()))
            .collect();
        store.apply(&batch).await.unwrap();
        let stored: Vec<EventKind> = store
            .events(&cid("conv-1"), 1, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(stored, kinds);
        let summary = store.conversation(&cid("conv-1")).await.unwrap().unwrap();
        assert_eq!(summary.last_seq, 4);
        assert_eq!(summary.preview.as_deref(), Some("hi"), "only messages make previews");
        assert!(search(&store, "screen").await.is_empty(), "only messages are searched");
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn apply_refuses_bad_operations() {
    on_each_backend("apply errors", |db: TestDb| async move {
        let store = db.connect().await;
        store.apply(&[]).await.unwrap();
        store.apply(&visitor_with_message(1, 100, "hi")).await.unwrap();
        let expect = |result: Result<(), StoreError>, want: &str| match (&result, want) {
            (Err(StoreError::Conflict(_)), "conflict")
            | (Err(StoreError::NotFound), "not found")
            | (Err(StoreError::InvalidInput(_)), "invalid") => {}
            _ => panic!("expected {want}, got {result:?}"),
        };
        // Gaps, repeats and 0 are refused; so are unknown conversations and visitors.
        expect(store.apply(&[visitor_says("conv-1", 3, 200, "gap")]).await, "conflict");
        expect(
            store.apply(&[visitor_says("conv-1", 1, 200, "again")]).await,
            "conflict",
        );
        expect(store.apply(&[visitor_says("conv-1", 0, 200, "zero")]).await, "invalid");
        expect(store.apply(&[visitor_says("nope", 1, 200, "who")]).await, "not found");
        // A gap is named as such, even where the event's conversation is unknown too,
        // alone or beside a valid event of another conversation (which is not kept:
        // conv-1 still has one event at the end of this test).
        expect(store.apply(&[visitor_says("nope", 2, 200, "who")]).await, "conflict");
        expect(
            store
                .apply(&[
                    visitor_says("conv-1", 2, 200, "next"),
                    visitor_says("nope", 2, 200, "who"),
                ])
                .await,
            "conflict",
        );
        expect(store.apply(&[activity("nope", 200)]).await, "not found");
        expect(
            store
                .apply(&[set_status("nope", ConversationStatus::Closed, None, 200)])
                .await,
            "not found",
        );
        expect(store.apply(&[conversation("conv-x", "ghost", 200)]).await, "not found");
        // (A retried message, same role and client id, is recognised by the hub
        // before it gets here: see the core's and the server's retry tests. The
        // store keeps no unique index on client ids.)
        // Duplicate visitors, tokens and conversations.
        expect(store.apply(&[visitor("visitor-1", 200)]).await, "conflict");
        expect(
            store
                .apply(&[Persist::CreateVisitor {
                    id: "other".into(),
                    token_hash: token_hash("visitor-1"),
                    created_at: 200,
                }])
                .await,
            "conflict",
        );
        expect(
            store.apply(&[conversation("conv-1", "visitor-1", 200)]).await,
            "conflict",
        );
        expect(
            store
                .apply(&[event("conv-1", u64::MAX, 200, text(Role::Visitor, None, "big", "x"))])
                .await,
            "invalid",
        );

        // None of that changed anything.
        let summary = store.conversation(&cid("conv-1")).await.unwrap().unwrap();
        assert_eq!((summary.last_seq, summary.last_activity_at), (1, 100));
        assert_eq!(store.events(&cid("conv-1"), 0, None, 100).await.unwrap().len(), 1);
        store.close().await;
    })
    .await;
}

/// A chat batch: hundreds of events of several conversations, interleaved, in one
/// call (several multi-row inserts, one update per conversation); read back in
/// order, with each conversation's summary from its own newest event.
#[tokio::test]
async fn a_large_interleaved_batch_is_stored_in_order() {
    on_each_backend("large batch", |db: TestDb| async move {
        let store = db.connect().await;
        let mut setup = Vec::new();
        for n in 1..=3 {
            setup.extend(visitor_with_message(n, 100, "first"));
        }
        store.apply(&setup).await.unwrap();
        let mut batch = Vec::new();
        for i in 0..250u64 {
            for n in 1..=3u64 {
                // Conversation 3 gets a non-message event last.
                let seq = i + 2;
                let c = format!("conv-{n}");
                batch.push(visitor_says(&c, seq, 1_000 + i * 3 + n, &format!("m{n}-{seq}")));
            }
        }
        // The activity of conversations 1 and 3 is recorded (twice for 1, with
        // events between), that of 2 is not.
        batch.insert(30, activity("conv-1", 1_031));
        batch.push(activity("conv-1", 1_000 + 249 * 3 + 1));
        batch.push(event(
            "conv-3",
            252,
            5_000,
            sightline_proto::EventKind::JoinedWithKey {
                agent: sightline_proto::AgentRef {
                    id: AgentId(1),
                    display_name: "A".into(),
                    colour: None,
                },
            },
        ));
        batch.push(activity("conv-3", 5_000));
        store.apply(&batch).await.unwrap();
        for n in 1..=3u64 {
            let c = format!("conv-{n}");
            let events = store.events(&cid(&c), 0, None, 1_000).await.unwrap();
            let last = if n == 3 { 252 } else { 251 };
            assert_eq!(events.len() as u64, last, "{c}");
            assert!(
                events.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1),
                "{c} in order"
            );
            let summary = store.conversation(&cid(&c)).await.unwrap().unwrap();
            assert_eq!(summary.last_seq, last);
            assert_eq!(
                summary.preview.as_deref(),
                Some(format!("m{n}-251").as_str()),
                "{c}: newest message"
            );
            let last_at = match n {
                1 => 1_000 + 249 * 3 + 1,
                2 => 100,
                _ => 5_000,
            };
            assert_eq!(summary.last_activity_at, last_at);
        }
        // A gap inside one conversation's run fails the whole batch.
        let err = store
            .apply(&[
                visitor_says("conv-1", 252, 6_000, "ok"),
                visitor_says("conv-2", 252, 6_000, "ok"),
                visitor_says("conv-1", 254, 6_001, "gap"),
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.conversation(&cid("conv-2")).await.unwrap().unwrap().last_seq, 251);
        store.close().await;
    })
    .await;
}

/// A batch over more conversations than one statement holds: the gap check, the
/// inserts and the activity moves each take several statements of different
/// sizes, and a gap in the last of them still fails the whole batch.
#[tokio::test]
async fn a_batch_over_hundreds_of_conversations_is_checked_and_stored_whole() {
    on_each_backend("wide batch", |db: TestDb| async move {
        let store = db.connect().await;
        const N: usize = 300;
        let mut setup = Vec::new();
        for n in 0..N {
            setup.extend(visitor_with_message(n, 100, "first"));
        }
        store.apply(&setup).await.unwrap();
        let batch = |gap_at: Option<usize>| {
            let mut batch = Vec::new();
            for n in 0..N {
                let c = format!("conv-{n}");
                let seq = if Some(n) == gap_at { 3 } else { 2 };
                batch.push(visitor_says(&c, seq, 200 + n as u64, &format!("second {n}")));
                batch.push(activity(&c, 200 + n as u64));
            }
            batch
        };
        let err = store.apply(&batch(Some(N - 1))).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.conversation(&cid("conv-0")).await.unwrap().unwrap().last_seq, 1);
        store.apply(&batch(None)).await.unwrap();
        for n in [0, 255, 256, 299] {
            let summary = store.conversation(&cid(&format!("conv-{n}"))).await.unwrap().unwrap();
            assert_eq!(summary.last_seq, 2, "conv-{n}");
            assert_eq!(summary.last_activity_at, 200 + n as u64, "conv-{n}");
            assert_eq!(summary.preview.as_deref(), Some(format!("second {n}").as_str()));
        }
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn apply_is_one_transaction() {
    on_each_backend("atomic apply", |db: TestDb| async move {
        let store = db.connect().await;
        store.apply(&visitor_with_message(1, 100, "first")).await.unwrap();

        // A batch that fails at its last operation (a duplicate (conversation, seq))
        // leaves nothing of its earlier operations behind.
        let mut batch = visitor_with_message(2, 200, "second");
        batch.push(visitor_says("conv-1", 2, 201, "more"));
        batch.push(visitor_says("conv-1", 3, 202, "and more"));
        batch.push(visitor_says("conv-1", 3, 203, "duplicate seq"));
        let err = store.apply(&batch).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

        assert!(store
            .visitor_by_token_hash(&token_hash("visitor-2"))
            .await
            .unwrap()
            .is_none());
        assert!(store.conversation(&cid("conv-2")).await.unwrap().is_none());
        assert!(store.events(&cid("conv-2"), 0, None, 100).await.unwrap().is_empty());
        let summary = store.conversation(&cid("conv-1")).await.unwrap().unwrap();
        assert_eq!((summary.last_seq, summary.last_activity_at), (1, 100));
        assert_eq!(summary.preview.as_deref(), Some("first"));
        assert_eq!(store.events(&cid("conv-1"), 0, None, 100).await.unwrap().len(), 1);

        // A duplicate of an already stored seq inside a batch fails it all too.
        let err = store
            .apply(&[
                visitor_says("conv-1", 2, 300, "ok"),
                visitor_says("conv-1", 1, 301, "dup"),
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.conversation(&cid("conv-1")).await.unwrap().unwrap().last_seq, 1);

        // The store is usable afterwards (no transaction or lock left behind), and
        // the good part of the batch applies.
        batch.pop();
        store.apply(&batch).await.unwrap();
        assert_eq!(store.conversation(&cid("conv-1")).await.unwrap().unwrap().last_seq, 3);
        assert_eq!(store.conversation(&cid("conv-2")).await.unwrap().unwrap().last_seq, 1);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn open_conversations_and_visitors_are_loaded_back() {
    on_each_backend("load", |db: TestDb| async move {
        let store = db.connect().await;
        let agent = agent(&store, "max").await;
        // waiting: a visitor with a waiting conversation
        store.apply(&visitor_with_message(1, 100, "waiting")).await.unwrap();
        // busy: an active conversation with more messages than RECENT_CLIENT_IDS
        let mut batch = visitor_with_message(2, 200, "busy");
        batch.push(set_status("conv-2", ConversationStatus::Active, Some(&agent), 201));
        let total = RECENT_CLIENT_IDS as u64 + 40;
        for seq in 2..=total {
            let kind = if seq % 2 == 0 {
                text(Role::Agent, Some(&agent), &format!("a{seq}"), "answer")
            } else {
                text(Role::Visitor, None, &format!("v{seq}"), "question")
            };
            batch.push(event("conv-2", seq, 300 + seq, kind));
        }
        store.apply(&batch).await.unwrap();
        // closed: only a closed conversation
        let mut batch = visitor_with_message(3, 400, "closed");
        batch.push(set_status("conv-3", ConversationStatus::Closed, None, 401));
        store.apply(&batch).await.unwrap();
        // quiet: a visitor without conversation
        store.apply(&[visitor("visitor-4", 500)]).await.unwrap();
        // again: closed an old conversation and opened a new one in the same millisecond
        let mut batch = visitor_with_message(5, 600, "old");
        batch.push(set_status("conv-5", ConversationStatus::Closed, None, 700));
        batch.push(conversation("conv-5b", "visitor-5", 700));
        batch.push(visitor_says("conv-5b", 1, 700, "new"));
        store.apply(&batch).await.unwrap();

        let open = store.load_open_conversations().await.unwrap();
        let mut loaded: Vec<(String, String)> = open
            .iter()
            .map(|v| (v.id.to_string(), v.latest.as_ref().unwrap().summary.id.to_string()))
            .collect();
        loaded.sort();
        assert_eq!(
            loaded,
            vec![
                ("visitor-1".into(), "conv-1".into()),
                ("visitor-2".into(), "conv-2".into()),
                ("visitor-5".into(), "conv-5b".into()),
            ]
        );
        let busy = open.iter().find(|v| v.id.as_str() == "visitor-2").unwrap();
        assert_eq!(busy.token_hash, token_hash("visitor-2"));
        let latest = busy.latest.as_ref().unwrap();
        assert_eq!(latest.summary.status, ConversationStatus::Active);
        assert_eq!(latest.summary.agent.as_ref(), Some(&agent));
        assert_eq!(latest.summary.last_seq, total);
        assert!(!latest.summary.visitor_online);
        assert_eq!(latest.recent_client_ids.len(), RECENT_CLIENT_IDS, "capped");
        let newest: HashSet<u64> = latest.recent_client_ids.iter().map(|r| r.seq).collect();
        let expected: HashSet<u64> = (total + 1 - RECENT_CLIENT_IDS as u64..=total).collect();
        assert_eq!(newest, expected, "the newest client ids");
        for recent in &latest.recent_client_ids {
            let (role, prefix) = if recent.seq % 2 == 0 {
                (Role::Agent, "a")
            } else {
                (Role::Visitor, "v")
            };
            assert_eq!(recent.from, role);
            assert_eq!(recent.client_id, format!("{prefix}{}", recent.seq));
        }
        let waiting = open
            .iter()
            .find(|v| v.id.as_str() == "visitor-1")
            .unwrap()
            .latest
            .as_ref()
            .unwrap();
        assert_eq!(waiting.recent_client_ids.len(), 1);
        assert_eq!(
            (
                waiting.recent_client_ids[0].from,
                waiting.recent_client_ids[0].client_id.as_str()
            ),
            (Role::Visitor, "v1")
        );

        // By token: the newest conversation, whatever its status.
        let closed = store
            .visitor_by_token_hash(&token_hash("visitor-3"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.id.as_str(), "visitor-3");
        let latest = closed.latest.unwrap();
        assert_eq!(
            (latest.summary.id.as_str(), latest.summary.status),
            ("conv-3", ConversationStatus::Closed)
        );
        assert_eq!(latest.recent_client_ids.len(), 1);
        let quiet = store
            .visitor_by_token_hash(&token_hash("visitor-4"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((quiet.id.as_str(), quiet.latest), ("visitor-4", None));
        let again = store
            .visitor_by_token_hash(&token_hash("visitor-5"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.latest.unwrap().summary.id.as_str(), "conv-5b");
        let busy = store
            .visitor_by_token_hash(&token_hash("visitor-2"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(busy.latest.unwrap().recent_client_ids.len(), RECENT_CLIENT_IDS);
        assert!(store.visitor_by_token_hash("unknown").await.unwrap().is_none());
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn conversations_are_searched_with_wildcards_taken_literally() {
    on_each_backend("search", |db: TestDb| async move {
        let store = db.connect().await;
        let texts = [
            "I am 100% sure",     // 0
            "I am 100 sure",      // 1
            "Call me at 1000",    // 2
            "my snake_case name", // 3
            "my snakeXcase name", // 4
            "path C:\\temp\\x",   // 5
            "Hello World",        // 6
            "ÉCOLE du soir",      // 7
            "nothing to see",     // 8
        ];
        let mut batch = Vec::new();
        for (n, says) in texts.iter().enumerate() {
            batch.extend(visitor_with_message(n, 1_000 + n as u64, says));
        }
        // A link is found by its URL and its title.
        batch.push(event(
            "conv-8",
            2,
            2_000,
            EventKind::Message {
                from: Role::Agent,
                agent: None,
                client_id: "l".into(),
                body: MessageBody::Link {
                    url: "https://bank.example/Mortgage".into(),
                    title: Some("Rates Table".into()),
                },
            },
        ));
        // Only messages are searched, not pages or other events.
        batch.push(visitor("visitor-p", 3_000));
        batch.push(Persist::CreateConversation {
            id: "conv-p".into(),
            visitor_id: "visitor-p".into(),
            created_at: 3_000,
            page: Some(PageInfo {
                url: "https://bank.example/pricing".into(),
                title: "Pricing".into(),
            }),
        });
        batch.push(event(
            "conv-p",
            1,
            3_000,
            EventKind::Started {
                page: Some(PageInfo {
                    url: "https://bank.example/pricing".into(),
                    title: "Pricing".into(),
                }),
            },
        ));
        store.apply(&batch).await.unwrap();

        let conv = |ns: &[usize]| ns.iter().map(|n| format!("conv-{n}")).collect::<Vec<_>>();
        assert_eq!(search(&store, "100%").await, conv(&[0]));
        assert_eq!(search(&store, "%").await, conv(&[0]));
        assert_eq!(search(&store, "100").await, conv(&[0, 1, 2]));
        assert_eq!(search(&store, "snake_case").await, conv(&[3]));
        assert_eq!(search(&store, "_").await, conv(&[3]));
        assert_eq!(search(&store, "C:\\TEMP").await, conv(&[5]));
        assert_eq!(search(&store, "\\").await, conv(&[5]));
        assert_eq!(search(&store, "hello world").await, conv(&[6]));
        assert_eq!(search(&store, "HELLO").await, conv(&[6]));
        assert_eq!(search(&store, "école").await, conv(&[7]), "non-ASCII case-insensitive");
        assert_eq!(search(&store, "mortgage").await, conv(&[8]), "link URL");
        assert_eq!(search(&store, "rates table").await, conv(&[8]), "link title");
        assert!(search(&store, "pricing").await.is_empty(), "pages are not messages");
        assert!(search(&store, "absent").await.is_empty());
        assert_eq!(search(&store, "").await.len(), texts.len() + 1, "empty text: no filter");
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn conversations_are_filtered_and_paged_newest_first() {
    on_each_backend("list", |db: TestDb| async move {
        let store = db.connect().await;
        let ann = agent(&store, "ann").await;
        let ben = agent(&store, "ben").await;
        // 30 conversations at distinct times; every third active with ann, every
        // fifth closed by ben; "refund" in the even ones.
        let mut batch = Vec::new();
        for n in 0..30usize {
            let at = 10_000 + 10 * n as u64;
            let says = if n % 2 == 0 { "I want a REFUND" } else { "question" };
            batch.extend(visitor_with_message(n, at, says));
            let c = format!("conv-{n}");
            if n % 5 == 0 {
                batch.push(set_status(&c, ConversationStatus::Active, Some(&ben), at));
                batch.push(set_status(&c, ConversationStatus::Closed, None, at));
            } else if n % 3 == 0 {
                batch.push(set_status(&c, ConversationStatus::Active, Some(&ann), at));
            }
        }
        store.apply(&batch).await.unwrap();
        let newest_first = |ns: Vec<usize>| {
            let mut ns = ns;
            ns.sort_by(|a, b| b.cmp(a));
            ns.into_iter().map(|n| format!("conv-{n}")).collect::<Vec<_>>()
        };

        let all = store
            .list_conversations(&ConversationQuery {
                limit: 100,
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(ids(&all), newest_first((0..30).collect()));
        assert_eq!(all.next_before, None);
        assert!(all.conversations.iter().all(|c| !c.visitor_online));

        // Paging: pages of 7 cover everything once, in order.
        let mut seen = Vec::new();
        let mut before = None;
        let mut pages = 0;
        loop {
            let page = store
                .list_conversations(&ConversationQuery {
                    before,
                    limit: 7,
                    ..ConversationQuery::default()
                })
                .await
                .unwrap();
            assert!(page.conversations.len() <= 7);
            pages += 1;
            seen.extend(ids(&page));
            match page.next_before {
                Some(next) => {
                    assert_eq!(Some(next), page.conversations.last().map(|c| c.last_activity_at));
                    before = Some(next);
                }
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(seen, ids(&all));
        assert_eq!(pages, 5);

        let status = |status| ConversationQuery {
            status: Some(status),
            limit: 100,
            ..ConversationQuery::default()
        };
        let closed: Vec<usize> = (0..30).filter(|n| n % 5 == 0).collect();
        let active: Vec<usize> = (0..30).filter(|n| n % 5 != 0 && n % 3 == 0).collect();
        let waiting: Vec<usize> = (0..30).filter(|n| n % 5 != 0 && n % 3 != 0).collect();
        let list = |q| {
            let store = store.clone();
            async move { ids(&store.list_conversations(&q).await.unwrap()) }
        };
        assert_eq!(
            list(status(ConversationStatus::Closed)).await,
            newest_first(closed.clone())
        );
        assert_eq!(
            list(status(ConversationStatus::Active)).await,
            newest_first(active.clone())
        );
        assert_eq!(
            list(status(ConversationStatus::Waiting)).await,
            newest_first(waiting.clone())
        );
        // Another agent's active conversations are not theirs to read (policy::agent_may_read).
        let readable_by = |agent: &AgentRef| ConversationQuery {
            readable_by: Some(agent.id),
            limit: 100,
            ..ConversationQuery::default()
        };
        let mut not_active: Vec<usize> = closed.iter().chain(&waiting).copied().collect();
        not_active.sort_unstable();
        assert_eq!(list(readable_by(&ben)).await, newest_first(not_active));
        assert_eq!(list(readable_by(&ann)).await.len(), 30, "ann handles the active ones");
        let by_agent = |agent: &AgentRef| ConversationQuery {
            agent_id: Some(agent.id),
            limit: 100,
            ..ConversationQuery::default()
        };
        assert_eq!(list(by_agent(&ann)).await, newest_first(active));
        assert_eq!(list(by_agent(&ben)).await, newest_first(closed.clone()));

        // Filters combine: closed, by ben, mentioning refunds, before conv-20.
        let combined = ConversationQuery {
            text: Some("refund".into()),
            status: Some(ConversationStatus::Closed),
            agent_id: Some(ben.id),
            readable_by: Some(ben.id),
            same_visitor_as: None,
            before: Some(10_000 + 10 * 20),
            limit: 100,
        };
        assert_eq!(list(combined).await, newest_first(vec![0, 10]));
        let refunds = ConversationQuery {
            text: Some("Refund".into()),
            limit: 4,
            ..ConversationQuery::default()
        };
        let page = store.list_conversations(&refunds).await.unwrap();
        assert_eq!(ids(&page), newest_first(vec![28, 26, 24, 22]));
        assert_eq!(page.next_before, Some(10_000 + 10 * 22));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn paging_never_splits_conversations_with_the_same_activity_time() {
    on_each_backend("paging ties", |db: TestDb| async move {
        let store = db.connect().await;
        // Activity times, newest first: 900, then five at 800 (one group commit),
        // then 700 and 600.
        let times = [900, 800, 800, 800, 800, 800, 700, 600];
        let mut batch = Vec::new();
        for (n, at) in times.iter().enumerate() {
            batch.extend(visitor_with_message(n, *at, "hi"));
        }
        store.apply(&batch).await.unwrap();

        for limit in 1..=9u32 {
            let mut seen: Vec<String> = Vec::new();
            let mut before = None;
            for _ in 0..20 {
                let page = store
                    .list_conversations(&ConversationQuery {
                        before,
                        limit,
                        ..ConversationQuery::default()
                    })
                    .await
                    .unwrap();
                seen.extend(ids(&page));
                match page.next_before {
                    Some(next) => before = Some(next),
                    None => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                sorted.len(),
                times.len(),
                "limit {limit}: every conversation once: {seen:?}"
            );
            assert_eq!(seen.len(), times.len(), "limit {limit}: no duplicates: {seen:?}");
        }

        // A page of 3 after 900 cannot hold the five at 800: it holds all five.
        let page = store
            .list_conversations(&ConversationQuery {
                before: Some(900),
                limit: 3,
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.conversations.len(), 5);
        assert!(page.conversations.iter().all(|c| c.last_activity_at == 800));
        assert_eq!(page.next_before, Some(800));
        // A page of 3 from the top stops before them.
        let page = store
            .list_conversations(&ConversationQuery {
                limit: 3,
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(ids(&page), vec!["conv-0".to_string()]);
        assert_eq!(page.next_before, Some(900));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn page_size_is_capped() {
    on_each_backend("page cap", |db: TestDb| async move {
        let store = db.connect().await;
        let mut batch = Vec::new();
        for n in 0..(MAX_PAGE_SIZE as usize + 20) {
            batch.extend(visitor_with_message(n, 1_000 + n as u64, "hi"));
        }
        store.apply(&batch).await.unwrap();
        let page = store
            .list_conversations(&ConversationQuery {
                limit: 10_000,
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.conversations.len(), MAX_PAGE_SIZE as usize);
        assert!(page.next_before.is_some());
        let page = store
            .list_conversations(&ConversationQuery {
                limit: 0,
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.conversations.len(), 1, "a limit of 0 is raised to 1");
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_and_readers_do_not_fail() {
    on_each_backend("concurrency", |db: TestDb| async move {
        // Two stores on one database, as two processes would have.
        let stores = [db.connect().await, db.connect().await];
        let mut tasks = Vec::new();
        for task in 0..16usize {
            let store = stores[task % 2].clone();
            tasks.push(tokio::spawn(async move {
                let c = format!("conv-{task}");
                store.apply(&visitor_with_message(task, 1_000, "hello")).await.unwrap();
                for seq in 2..=30u64 {
                    store
                        .apply(&[visitor_says(&c, seq, 1_000 + seq, "more")])
                        .await
                        .unwrap();
                    // Reads between writes, on both pools.
                    let page = store.list_conversations(&ConversationQuery::default()).await.unwrap();
                    assert!(!page.conversations.is_empty());
                    let summary = store.conversation(&cid(&c)).await.unwrap().unwrap();
                    assert_eq!(summary.last_seq, seq, "a store reads its own writes");
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for n in 0..16usize {
            let events = stores[n % 2]
                .events(&cid(&format!("conv-{n}")), 0, None, 100)
                .await
                .unwrap();
            assert_eq!(
                events.iter().map(|e| e.seq).collect::<Vec<_>>(),
                (1..=30).collect::<Vec<u64>>()
            );
        }
        for store in &stores {
            store.close().await;
        }
    })
    .await;
}

/// The checkpointer beside the writer copies the write-ahead log into the database
/// file, far below the writer's own (64 MiB) automatic checkpoint: the file grows
/// while nothing but appends happen.
#[tokio::test]
async fn the_write_ahead_log_is_checkpointed_beside_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let store = Store::connect(path.to_str().unwrap()).await.unwrap();
    let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut ops = Vec::new();
    for n in 0..200 {
        ops.extend(visitor_with_message(n, 100, "hello"));
    }
    store.apply(&ops).await.unwrap();
    let before = size();
    // A few hundred pages of events, nowhere near the writer's threshold.
    for round in 0..20u64 {
        let batch: Vec<_> = (0..200)
            .map(|n| visitor_says(&format!("conv-{n}"), round + 2, 200 + round, "a message of a few words"))
            .collect();
        store.apply(&batch).await.unwrap();
    }
    let wal = dir.path().join("wal.db-wal");
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0,
        "the log holds the writes"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while size() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file did not grow: nothing was checkpointed ({before} bytes)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    store.close().await;
}

#[tokio::test]
async fn site_origins_are_stored_once_listed_in_order_and_removed() {
    on_each_backend("site_origins", |db: TestDb| async move {
        let store = db.connect().await;
        let ann = store.create_user("ann", "Ann", "h", true, 1).await.unwrap();
        assert!(store.site_origins().await.unwrap().is_empty());
        assert!(store.add_site_origin("https://shop.example", ann.id, 5).await.unwrap());
        assert!(store.add_site_origin("https://blog.example", ann.id, 6).await.unwrap());
        assert!(
            !store.add_site_origin("https://shop.example", ann.id, 7).await.unwrap(),
            "once"
        );
        assert_eq!(
            store.site_origins().await.unwrap(),
            vec!["https://blog.example".to_owned(), "https://shop.example".to_owned()]
        );
        assert!(store.remove_site_origin("https://shop.example").await.unwrap());
        assert!(!store.remove_site_origin("https://shop.example").await.unwrap());
        assert_eq!(
            store.site_origins().await.unwrap(),
            vec!["https://blog.example".to_owned()]
        );
    })
    .await;
}

#[tokio::test]
async fn saved_replies_are_listed_by_shortcut_unique_changed_and_deleted() {
    use sightline_proto::api::SavedReplyRequest;
    on_each_backend("saved_replies", |db: TestDb| async move {
        let store = db.connect().await;
        let ann = store.create_user("ann", "Ann", "h", false, 1).await.unwrap();
        let req = |shortcut: &str, body: &str| SavedReplyRequest {
            shortcut: shortcut.into(),
            title: format!("About {shortcut}"),
            body: body.into(),
        };
        assert!(store.saved_replies().await.unwrap().is_empty());
        let refund = store
            .create_saved_reply(&req("refund", "We refund within 14 days."), ann.id, 5)
            .await
            .unwrap();
        let hello = store
            .create_saved_reply(&req("hello", "Hello! How can I help?"), ann.id, 6)
            .await
            .unwrap();
        assert_eq!((refund.created_by, refund.updated_at), (Some(ann.id), 5));
        assert!(matches!(
            store.create_saved_reply(&req("refund", "again"), ann.id, 7).await,
            Err(StoreError::Conflict(_))
        ));
        let all = store.saved_replies().await.unwrap();
        assert_eq!(
            all.iter().map(|r| r.shortcut.as_str()).collect::<Vec<_>>(),
            ["hello", "refund"]
        );
        assert_eq!(store.count_saved_replies().await.unwrap(), 2);

        let changed = store
            .update_saved_reply(refund.id, &req("refunds", "Within 30 days."), 9)
            .await
            .unwrap();
        assert_eq!(
            (changed.shortcut.as_str(), changed.body.as_str(), changed.updated_at),
            ("refunds", "Within 30 days.", 9)
        );
        assert_eq!(store.saved_reply(refund.id).await.unwrap(), Some(changed));
        assert!(matches!(
            store.update_saved_reply(refund.id, &req("hello", "x"), 10).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.update_saved_reply(9_999, &req("x", "x"), 10).await,
            Err(StoreError::NotFound)
        ));

        assert!(store.delete_saved_reply(hello.id).await.unwrap());
        assert!(!store.delete_saved_reply(hello.id).await.unwrap());
        assert_eq!(store.saved_reply(hello.id).await.unwrap(), None);
        assert_eq!(store.count_saved_replies().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn agent_permissions_default_to_everything_and_are_changed_alone() {
    on_each_backend("permissions", |db: TestDb| async move {
        let store = db.connect().await;
        let admin = store.create_user("admin", "Admin", "h", true, 1).await.unwrap();
        let anna = store.create_user("anna", "Anna", "h", false, 2).await.unwrap();
        assert_eq!(anna.permissions, Permissions::ALL, "a new account may use everything");
        let fewer = Permissions::ALL
            .with(Permission::ScreenShare, false)
            .with(Permission::SessionKeys, false);
        let changed = store
            .update_user(
                anna.id,
                &UpdateUserRequest {
                    display_name: None,
                    is_admin: None,
                    disabled: None,
                    permissions: Some(fewer),
                },
            )
            .await
            .unwrap();
        assert_eq!(changed.permissions, fewer);
        assert_eq!(changed.display_name, "Anna");
        // Read back every way an account is read: by id, by name, in the list and
        // with a session.
        assert_eq!(
            store.user_by_id(anna.id).await.unwrap().unwrap().info.permissions,
            fewer
        );
        assert_eq!(
            store.user_by_name("anna").await.unwrap().unwrap().info.permissions,
            fewer
        );
        let listed = store.list_users().await.unwrap();
        assert_eq!(listed.iter().find(|u| u.id == anna.id).unwrap().permissions, fewer);
        assert_eq!(
            listed.iter().find(|u| u.id == admin.id).unwrap().permissions,
            Permissions::ALL
        );
        store.create_session("tok", anna.id, "csrf", 10, 1_000).await.unwrap();
        let (_, record) = store.session("tok", 20).await.unwrap().unwrap();
        assert_eq!(record.info.permissions, fewer);
        // Another change leaves them alone.
        let renamed = store
            .update_user(
                anna.id,
                &UpdateUserRequest {
                    display_name: Some("Anna B".into()),
                    is_admin: None,
                    disabled: None,
                    permissions: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(renamed.permissions, fewer);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_site_policy_is_stored_replaced_and_kept_across_restarts() {
    on_each_backend("site_policy", |db: TestDb| async move {
        let store = db.connect().await;
        let admin = store.create_user("admin", "Admin", "h", true, 1).await.unwrap();
        assert_eq!(store.site_policy().await.unwrap(), SitePolicy::default());
        let policy = SitePolicy {
            allowed: Permissions::ALL.with(Permission::RemoteControl, false),
            private_selectors: vec![".balance".into(), "tr:nth-child(2) td, #iban".into()],
        };
        store.set_site_policy(&policy, admin.id, 5).await.unwrap();
        assert_eq!(store.site_policy().await.unwrap(), policy);
        let replaced = SitePolicy {
            allowed: Permissions::ALL.with(Permission::ScreenShare, false),
            private_selectors: vec![],
        };
        store.set_site_policy(&replaced, admin.id, 6).await.unwrap();
        store.close().await;
        let store = db.connect().await;
        assert_eq!(store.site_policy().await.unwrap(), replaced);
        store.close().await;
    })
    .await;
}
