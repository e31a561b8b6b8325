//! What agents see of a visitor live: browser and OS (from the shell), what the
//! widget says its browser can do, the local time zone, and the current page.

mod common;

use common::*;
use sightline_core::{ClientInfo, ConnId, Input, LimitKind, Peer};
use sightline_proto::{ClientMessage, ErrorCode, EventKind, PageInfo, ServerMessage, VisitorDevice, PROTOCOL_VERSION};

fn phone() -> VisitorDevice {
    VisitorDevice {
        can_share_screen: false,
        can_cobrowse: true,
        touch: true,
        time_zone: Some("Europe/Berlin".into()),
        utc_offset_minutes: 60,
    }
}

fn page(url: &str) -> PageInfo {
    PageInfo {
        url: url.into(),
        title: "Shop".into(),
    }
}

fn hello(
    w: &mut World,
    conn: u64,
    token: Option<String>,
    device: Option<VisitorDevice>,
    at: &str,
) -> Vec<ServerMessage> {
    w.input(Input::Connected {
        conn: ConnId(conn),
        peer: Peer::Visitor,
        address: LOCAL,
        client: ClientInfo {
            browser: Some("Safari 18".into()),
            os: Some("iOS 18.1 (iPhone)".into()),
        },
    });
    w.msg(
        conn,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token,
            after_seq: 0,
            page: Some(page(at)),
            device,
        },
    );
    w.take(conn)
}

#[test]
fn agents_see_the_visitors_browser_device_and_page_as_they_move() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    let welcome = hello(&mut w, 1, None, Some(phone()), "https://shop.example/cart");
    let Some(ServerMessage::VisitorWelcome { token, .. }) = welcome.first() else {
        panic!("{welcome:?}");
    };
    let token = token.clone();
    w.visitor_says(1, "v1", "help");
    let queued = w.take(10);
    let summary = queued
        .iter()
        .find_map(|m| match m {
            ServerMessage::ConversationUpdated { conversation } => Some(conversation.clone()),
            _ => None,
        })
        .expect("in the queue");
    let context = summary.visitor.expect("the visitor's context");
    assert_eq!(context.browser.as_deref(), Some("Safari 18"));
    assert_eq!(context.os.as_deref(), Some("iOS 18.1 (iPhone)"));
    assert_eq!(context.device, Some(phone()));
    assert_eq!(context.page, Some(page("https://shop.example/cart")));

    // Anna takes it; Ben is online too.
    let id = summary.id.clone();
    w.msg(10, ClientMessage::Accept { conversation: id });
    w.agent(11, agent(2, "Ben"));
    w.take(10);
    w.take(11);
    // A route change in the page: the owner hears of it, nobody else (a visitor
    // who moves quickly must not reach every agent).
    w.msg(
        1,
        ClientMessage::PageChanged {
            page: page("https://shop.example/checkout"),
        },
    );
    assert!(w.take(10).iter().any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if conversation.visitor.as_ref().and_then(|v| v.page.as_ref()).map(|p| p.url.as_str()) == Some("https://shop.example/checkout"))));
    // The same page again is no news.
    w.msg(
        1,
        ClientMessage::PageChanged {
            page: page("https://shop.example/checkout"),
        },
    );
    assert!(w.take(10).is_empty());
    assert!(w.take(11).is_empty(), "not the owner");

    // A second tab on another page, while the first stays open: the newest tab describes them.
    hello(&mut w, 2, Some(token), Some(phone()), "https://shop.example/help");
    assert!(w.take(11).is_empty());
    assert!(w.take(10).iter().any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if conversation.visitor.as_ref().and_then(|v| v.page.as_ref()).map(|p| p.url.as_str()) == Some("https://shop.example/help"))));
}

#[test]
fn a_device_report_out_of_shape_is_refused_or_its_zone_dropped() {
    let mut w = World::new();
    let answer = hello(
        &mut w,
        1,
        None,
        Some(VisitorDevice {
            utc_offset_minutes: 2_000,
            ..phone()
        }),
        "https://shop.example/",
    );
    assert_eq!(error_code(&answer), Some(ErrorCode::BadRequest), "no such offset");
    w.input(Input::Disconnected { conn: ConnId(1) });
    // A zone name of another shape is dropped; the hello goes through.
    w.agent(10, agent(1, "Anna"));
    for (conn, zone) in [(2, "Europe/Berlin; DROP TABLE".to_owned()), (3, "x".repeat(65))] {
        let answer = hello(
            &mut w,
            conn,
            None,
            Some(VisitorDevice {
                time_zone: Some(zone),
                ..phone()
            }),
            "https://shop.example/",
        );
        assert!(matches!(answer.first(), Some(ServerMessage::VisitorWelcome { .. })));
        w.visitor_says(conn, "v1", "hello");
        let zones: Vec<Option<String>> = w
            .take(10)
            .into_iter()
            .filter_map(|m| match m {
                ServerMessage::ConversationUpdated { conversation } => {
                    conversation.visitor.and_then(|v| v.device).map(|d| d.time_zone)
                }
                _ => None,
            })
            .collect();
        assert!(!zones.is_empty() && zones.iter().all(Option::is_none), "{zones:?}");
    }
    // Without a report (an older widget), nothing is assumed.
    let answer = hello(&mut w, 4, None, None, "https://shop.example/");
    assert!(matches!(answer.first(), Some(ServerMessage::VisitorWelcome { .. })));
}

/// A page whose address changes in a loop (the widget sends at most one change
/// per settled route; a client of another making need not): the page changes
/// draw on the socket's message allowance like any message, the ones past it
/// are refused with a clear error and never reach the agent, and the allowance
/// comes back with time.
#[test]
fn a_flood_of_page_changes_is_refused_like_any_flood() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    hello(&mut w, 1, None, None, "https://shop.example/");
    w.visitor_says(1, "v1", "help");
    let id = conversation_of(&w);
    w.msg(10, ClientMessage::Accept { conversation: id });
    w.take(1);
    w.take(10);
    let updates = |inbox: Vec<ServerMessage>| {
        inbox
            .iter()
            .filter(|m| matches!(m, ServerMessage::ConversationUpdated { .. }))
            .count()
    };
    let mut errors = 0;
    let mut told = 0;
    for n in 0..100 {
        w.msg(
            1,
            ClientMessage::PageChanged {
                page: page(&format!("https://shop.example/p{n}")),
            },
        );
        errors += w
            .take(1)
            .iter()
            .filter(|m| matches!(m, ServerMessage::Error { .. }))
            .count();
        told += updates(w.take(10));
    }
    // The hello and the first message took two of the socket's 40: 38 changes are
    // taken, the rest dropped and counted as limited, without an error the widget
    // would show the visitor (a page change is no act of theirs).
    assert_eq!(told, 38, "the owner heard each change allowed, none dropped");
    assert_eq!(errors, 0);
    assert_eq!(w.shell.limited.len(), 100 - 38, "every change past the allowance");
    assert!(w.shell.limited.iter().all(|(l, _)| *l == LimitKind::SocketMessages));
    // A message of the visitor's past the allowance is still refused in words.
    w.visitor_says(1, "v2", "still there?");
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::RateLimited));

    // A second later the socket may say where the visitor is again.
    w.now += 1_000;
    w.msg(
        1,
        ClientMessage::PageChanged {
            page: page("https://shop.example/settled"),
        },
    );
    assert_eq!(error_code(&w.take(1)), None);
    assert_eq!(updates(w.take(10)), 1);
}

/// The widget reports a single-page app's routes whether or not there is a
/// conversation: one started after a route change starts on that route (the
/// page the visitor wrote from), not on the page the tab first loaded.
#[test]
fn a_conversation_started_after_a_route_change_starts_on_that_route() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    hello(&mut w, 1, None, None, "https://shop.example/app");
    w.msg(
        1,
        ClientMessage::PageChanged {
            page: page("https://shop.example/app/cards"),
        },
    );
    assert_eq!(error_code(&w.take(1)), None);
    w.visitor_says(1, "v1", "which card is mine?");
    let queued = summary_for(&w.take(10)).expect("in the queue");
    assert_eq!(queued.page, Some(page("https://shop.example/app/cards")));
    assert_eq!(
        queued.visitor.and_then(|v| v.page),
        Some(page("https://shop.example/app/cards"))
    );
    let started = w.shell.events[&queued.id].first().map(|e| e.kind.clone());
    assert!(
        matches!(&started, Some(EventKind::Started { page: Some(p) }) if p.url == "https://shop.example/app/cards"),
        "{started:?}"
    );
}
