//! The stream data plane over real sockets, with a test client at each end of a
//! co-browse stream: grants come from the hub after the visitor's consent; frames
//! go through the relay only between the token holders, checked for shape; the
//! agent's guidance goes up; a revocation closes every stream socket at once.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use sightline_core::stream_check::frame_message;
use sightline_proto::{Capability, ConversationId, GrantId, ServerMessage, StreamControl, StreamId, StreamRole};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// One end of a stream: a WebSocket on `/ws/stream`.
struct StreamSocket {
    ws: Ws,
}

#[derive(Debug)]
enum Got {
    Data(Vec<u8>),
    Control(StreamControl),
    Closed(Option<u16>),
}

impl StreamSocket {
    async fn open(server: &TestServer, token: &str) -> Result<StreamSocket, u16> {
        match Ws::connect(&format!("ws://{}/ws/stream?token={token}", server.addr), &[]).await {
            Ok(ws) => Ok(StreamSocket { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(err) => panic!("stream socket: {err}"),
        }
    }

    async fn next(&mut self) -> Got {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.stream.next())
                .await
                .expect("a frame within 10 s");
            return match frame {
                Some(Ok(Message::Binary(bytes))) => Got::Data(bytes.to_vec()),
                Some(Ok(Message::Text(text))) => {
                    Got::Control(serde_json::from_str(text.as_str()).expect("a control frame"))
                }
                Some(Ok(Message::Close(frame))) => Got::Closed(frame.map(|f| u16::from(f.code))),
                None | Some(Err(_)) => Got::Closed(None),
                Some(Ok(_)) => continue,
            };
        }
    }

    async fn data(&mut self) -> Vec<u8> {
        loop {
            match self.next().await {
                Got::Data(bytes) => return bytes,
                Got::Control(_) => continue,
                Got::Closed(code) => panic!("closed ({code:?}) while waiting for data"),
            }
        }
    }

    async fn control(&mut self, pred: impl Fn(&StreamControl) -> bool) -> StreamControl {
        loop {
            match self.next().await {
                Got::Control(c) if pred(&c) => return c,
                Got::Closed(code) => panic!("closed ({code:?}) while waiting for a control frame"),
                _ => continue,
            }
        }
    }

    /// The close code, skipping whatever comes before it.
    async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Got::Closed(code) = self.next().await {
                return code;
            }
        }
    }

    async fn send(&mut self, bytes: Vec<u8>) {
        self.ws.stream.send(Message::binary(bytes)).await.expect("send");
    }
}

struct Granted {
    anna: Ws,
    visitor: Ws,
    conversation: ConversationId,
    grant: GrantId,
    stream: StreamId,
    publisher_token: String,
    subscriber_token: String,
}

/// A co-browse message of one pointer event, padded to about `size` bytes of
/// JSON, as its one frame.
fn frame(n: u32, size: usize) -> Vec<u8> {
    let head = format!(r#"[{{"type":3,"timestamp":{n},"data":{{"source":1,"positions":[],"pad":""#);
    let tail = r#""}}]"#;
    let json = format!(
        "{head}{}{tail}",
        "x".repeat(size.saturating_sub(head.len() + tail.len()))
    );
    let mut frames = frame_message(n, json.as_bytes(), false);
    assert_eq!(frames.len(), 1, "one frame");
    frames.remove(0)
}

fn stream_granted(m: &ServerMessage) -> Option<(ConversationId, GrantId, StreamId, StreamRole, String)> {
    match m {
        ServerMessage::StreamGranted {
            grant,
            stream,
            role,
            token,
            conversation,
            ..
        } => Some((
            conversation.clone(),
            grant.clone(),
            stream.clone(),
            *role,
            token.clone(),
        )),
        _ => None,
    }
}

/// A visitor chatting with Anna, who asks to co-browse; the visitor allows.
async fn cobrowse(server: &TestServer) -> Granted {
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v1", "where is the form?").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.agent.is_some()))
        .await;
    anna.send(json!({"type": "grant_ask", "conversation": conversation, "capability": "cobrowse", "message": null}))
        .await;
    let asked = visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, sightline_proto::EventKind::Grant { .. })))
        .await;
    let ServerMessage::Event { event, .. } = asked else {
        unreachable!()
    };
    let sightline_proto::EventKind::Grant { grant, capability, .. } = event.kind else {
        unreachable!()
    };
    assert_eq!(capability, Capability::Cobrowse);
    visitor
        .send(json!({"type": "grant_step", "grant": grant, "step": "allow", "detail": null}))
        .await;
    let (_, _, stream, role, publisher_token) =
        stream_granted(&visitor.expect(|m| stream_granted(m).is_some()).await).expect("the visitor's token");
    assert_eq!(role, StreamRole::Publisher);
    let (_, _, anna_stream, role, subscriber_token) =
        stream_granted(&anna.expect(|m| stream_granted(m).is_some()).await).expect("Anna's token");
    assert_eq!((role, anna_stream.as_str()), (StreamRole::Subscriber, stream.as_str()));
    Granted {
        anna,
        visitor,
        conversation,
        grant,
        stream,
        publisher_token,
        subscriber_token,
    }
}

/// A fresh token for this end of the stream (tokens are single use).
async fn fresh_token(chat: &mut Ws, stream: &StreamId) -> String {
    chat.send(json!({"type": "stream_join", "stream": stream})).await;
    let (_, _, _, _, token) = stream_granted(&chat.expect(|m| stream_granted(m).is_some()).await).expect("a token");
    token
}

async fn joined(socket: &mut StreamSocket, role: StreamRole) {
    match socket.control(|c| matches!(c, StreamControl::Joined { .. })).await {
        StreamControl::Joined {
            role: r, capability, ..
        } => {
            assert_eq!((r, capability), (role, Capability::Cobrowse));
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn frames_go_from_the_publisher_to_every_subscriber_and_stop_when_consent_ends() {
    let server = TestServer::start().await;
    // Nothing opens a stream socket without a token the hub issued.
    assert_eq!(StreamSocket::open(&server, "made-up").await.err(), Some(401));
    let mut g = cobrowse(&server).await;

    let mut publisher = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    // A token opens one socket.
    assert_eq!(StreamSocket::open(&server, &g.publisher_token).await.err(), Some(401));
    let mut subscribers = Vec::new();
    for i in 0..2 {
        let token = if i == 0 {
            g.subscriber_token.clone()
        } else {
            fresh_token(&mut g.anna, &g.stream).await
        };
        let mut s = StreamSocket::open(&server, &token).await.expect("subscriber");
        joined(&mut s, StreamRole::Subscriber).await;
        subscribers.push(s);
    }
    // Each join asks the publisher for a snapshot.
    publisher.control(|c| *c == StreamControl::SnapshotNeeded).await;

    for i in 0..20u32 {
        publisher.send(frame(i, 100 + i as usize * 1000)).await;
    }
    for s in &mut subscribers {
        for i in 0..20u32 {
            assert_eq!(s.data().await, frame(i, 100 + i as usize * 1000), "frame {i} in order");
        }
    }
    // A subscriber cannot publish: what it sends up is guidance or nothing (a
    // page's data from it closes its socket), and never reaches the other
    // subscriber, for which frame 20, sent after it, is the next thing.
    let mut impostor = subscribers.remove(0);
    impostor.send(frame(99, 10)).await;
    assert_eq!(impostor.closed().await, Some(1007));
    publisher.send(frame(20, 10)).await;
    assert_eq!(subscribers[0].data().await, frame(20, 10));
    let token = fresh_token(&mut g.anna, &g.stream).await;
    let mut s = StreamSocket::open(&server, &token).await.expect("subscriber");
    joined(&mut s, StreamRole::Subscriber).await;
    subscribers.push(s);
    assert_eq!(server.metric("sightline_streams_live").await, 1);

    // The visitor stops: every stream socket closes with 4403, the tokens open nothing.
    let started = Instant::now();
    g.visitor.send(json!({"type": "grant_end", "grant": g.grant})).await;
    for s in &mut subscribers {
        assert_eq!(s.closed().await, Some(4403));
    }
    assert_eq!(publisher.closed().await, Some(4403));
    eprintln!("revocation to every stream socket closed: {:?}", started.elapsed());
    g.anna
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, sightline_proto::EventKind::Grant { state: sightline_proto::GrantState::Ended, .. })))
        .await;
    assert_eq!(StreamSocket::open(&server, &g.publisher_token).await.err(), Some(401));
    assert_eq!(StreamSocket::open(&server, &g.subscriber_token).await.err(), Some(401));
    assert_eq!(server.metric("sightline_streams_live").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn another_agent_gets_no_token_and_closing_the_conversation_revokes() {
    let server = TestServer::start().await;
    let mut g = cobrowse(&server).await;
    let mut ben = server.agent("ben").await;
    ben.send(json!({"type": "stream_join", "stream": g.stream})).await;
    assert_eq!(ben.error_code().await, sightline_proto::ErrorCode::Forbidden);
    // The owner gets a fresh token on asking (a reconnect).
    g.anna.send(json!({"type": "stream_join", "stream": g.stream})).await;
    let (_, _, _, role, fresh) = stream_granted(&g.anna.expect(|m| stream_granted(m).is_some()).await).expect("token");
    assert_eq!(role, StreamRole::Subscriber);
    let mut subscriber = StreamSocket::open(&server, &fresh).await.expect("subscriber");
    joined(&mut subscriber, StreamRole::Subscriber).await;
    let mut publisher = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;

    g.anna
        .send(json!({"type": "close", "conversation": g.conversation}))
        .await;
    assert_eq!(subscriber.closed().await, Some(4403));
    assert_eq!(publisher.closed().await, Some(4403));
    server.stop().await;
}

#[tokio::test]
async fn frames_are_binary_within_the_size_and_rate_limits() {
    let server = TestServer::start_adjusted(|c| {
        c.stream_limits.burst_frames = 5;
        c.stream_limits.frames_per_second = 0.001;
    })
    .await;
    let mut g = cobrowse(&server).await;
    let mut publisher = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    let mut subscriber = StreamSocket::open(&server, &g.subscriber_token)
        .await
        .expect("subscriber");
    joined(&mut subscriber, StreamRole::Subscriber).await;

    // Text is for the relay's own messages: a publisher that sends it is closed.
    publisher.ws.stream.send(Message::text("{}")).await.expect("send");
    assert_eq!(publisher.closed().await, Some(1003));
    let token = fresh_token(&mut g.visitor, &g.stream).await;
    let mut publisher = StreamSocket::open(&server, &token).await.expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    // Five frames pass; the next ten are over the rate: one refusal for them all,
    // and the subscriber is told once to resynchronise.
    for i in 0..15u32 {
        publisher.send(frame(i, 10)).await;
    }
    for i in 0..5u32 {
        assert_eq!(subscriber.data().await, frame(i, 10));
    }
    assert!(matches!(
        subscriber.next().await,
        Got::Control(StreamControl::Resync { .. })
    ));
    // A text frame closes the publisher after everything before it: what came
    // before the close is exactly one refusal.
    publisher.ws.stream.send(Message::text("{}")).await.expect("send");
    let mut refusals = 0;
    loop {
        match publisher.next().await {
            Got::Control(StreamControl::Refused { .. }) => refusals += 1,
            Got::Closed(code) => {
                assert_eq!(code, Some(1003));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(refusals, 1, "one refusal per episode over the rate");

    // A frame over the limit closes the publisher's socket with 1009.
    let token = fresh_token(&mut g.visitor, &g.stream).await;
    let mut big = StreamSocket::open(&server, &token).await.expect("publisher");
    joined(&mut big, StreamRole::Publisher).await;
    let _ = big
        .ws
        .stream
        .send(Message::binary(vec![
            0u8;
            sightline_proto::MAX_STREAM_FRAME_BYTES + 4096
        ]))
        .await;
    assert_eq!(big.closed().await, Some(1009));
    drop(g);
    server.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_to_resync_and_the_publisher_to_send_a_snapshot() {
    let server = TestServer::start_adjusted(|c| {
        c.stream_limits.burst_bytes = u32::MAX;
        c.stream_limits.bytes_per_second = 1e12;
        c.stream_limits.burst_frames = 1_000_000;
        c.stream_limits.frames_per_second = 1e9;
    })
    .await;
    let g = cobrowse(&server).await;
    let mut publisher = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    // A subscriber with a small receive buffer that does not read for now.
    let mut slow = StreamSocket {
        ws: Ws::connect_from(
            &format!("ws://{}/ws/stream?token={}", server.addr, g.subscriber_token),
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            Some(4096),
        )
        .await
        .expect("subscriber"),
    };
    // The publisher's own join and the subscriber's each asked for a snapshot.
    for _ in 0..2 {
        publisher.control(|c| *c == StreamControl::SnapshotNeeded).await;
    }
    // 600 frames of 64 KB: far more than the ring (128 frames) and the socket
    // buffers hold.
    for i in 0..600u32 {
        publisher.send(frame(i, 64 * 1024)).await;
    }
    // The slow subscriber, reading at last, finds a resync in its stream, with
    // frames missing before it...
    let mut last = None;
    let missed = loop {
        match slow.next().await {
            Got::Data(bytes) => {
                let n = u32::from_be_bytes(bytes[2..6].try_into().expect("a header"));
                if let Some(previous) = last {
                    assert_eq!(n, previous + 1, "frames arrive in order until the resync");
                }
                last = Some(n);
            }
            Got::Control(StreamControl::Resync { missed }) => break missed,
            Got::Control(_) => {}
            Got::Closed(code) => panic!("closed ({code:?}) before a resync"),
        }
    };
    assert!(missed > 0, "a resync after lagging names what was missed");
    // ...and the publisher is asked for a fresh snapshot (a third time).
    publisher.control(|c| *c == StreamControl::SnapshotNeeded).await;
    eprintln!("slow subscriber: frames 0..={last:?} then a resync ({missed} missed)");
    drop(g);
    server.stop().await;
}

#[tokio::test]
async fn subscribers_are_told_whether_the_publisher_is_there() {
    let server = TestServer::start().await;
    let mut g = cobrowse(&server).await;
    // The agent first: nobody publishes yet.
    let mut subscriber = StreamSocket::open(&server, &g.subscriber_token)
        .await
        .expect("subscriber");
    joined(&mut subscriber, StreamRole::Subscriber).await;
    let present = |want: bool| move |c: &StreamControl| *c == StreamControl::Publisher { present: want };
    subscriber.control(present(false)).await;
    // The visitor's page connects, then goes (a navigation, or another site).
    let mut publisher = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    subscriber.control(present(true)).await;
    publisher.ws.stream.close(None).await.expect("close");
    subscriber.control(present(false)).await;
    // The next page comes back with a fresh token.
    let token = fresh_token(&mut g.visitor, &g.stream).await;
    let mut again = StreamSocket::open(&server, &token).await.expect("publisher again");
    joined(&mut again, StreamRole::Publisher).await;
    subscriber.control(present(true)).await;
    // A late subscriber hears the state at once.
    let late_token = fresh_token(&mut g.anna, &g.stream).await;
    let mut late = StreamSocket::open(&server, &late_token).await.expect("late subscriber");
    joined(&mut late, StreamRole::Subscriber).await;
    late.control(present(true)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_stream_that_has_sent_all_it_may_is_closed_with_a_reason_and_stays_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_configured(dir.path().to_path_buf(), |config| {
        config.stream_limits.total_bytes = 10_000;
    })
    .await;
    let mut g = cobrowse(&server).await;
    let mut subscriber = StreamSocket::open(&server, &g.subscriber_token)
        .await
        .expect("subscriber");
    joined(&mut subscriber, StreamRole::Subscriber).await;
    let mut publisher = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    for i in 0..3u32 {
        publisher.send(frame(i, 4_000)).await;
    }
    // Two frames fit; the third is past the total: told why, then closed.
    assert_eq!(subscriber.data().await, frame(0, 4_000));
    assert_eq!(subscriber.data().await, frame(1, 4_000));
    let refused = publisher.control(|c| matches!(c, StreamControl::Refused { .. })).await;
    assert!(matches!(refused, StreamControl::Refused { reason } if reason.contains("all a session may")));
    assert_eq!(publisher.closed().await, Some(4413));
    // A reconnect gets no further.
    let token = fresh_token(&mut g.visitor, &g.stream).await;
    let mut again = StreamSocket::open(&server, &token).await.expect("publisher again");
    assert_eq!(again.closed().await, Some(4413));
    drop(dir);
}

#[tokio::test]
async fn what_a_publisher_sends_is_checked_for_shape_and_a_malformed_message_goes_no_further() {
    let server = TestServer::start().await;
    let mut g = cobrowse(&server).await;
    let mut subscriber = StreamSocket::open(&server, &g.subscriber_token)
        .await
        .expect("subscriber");
    joined(&mut subscriber, StreamRole::Subscriber).await;
    let filler = "x".repeat(600_000);
    // A full snapshot in three chunks, then events of a type nobody replays, also
    // in three chunks: the first message arrives whole; of the second the first
    // two chunks pass, then the subscriber is told to drop them.
    let good = format!(
        r#"[{{"type":4,"timestamp":1,"data":{{"href":"https://shop.example/","width":1280,"height":800}}}},{{"type":2,"timestamp":2,"data":{{"node":{{"type":0,"childNodes":[],"id":1,"pad":"{filler}"}},"initialOffset":{{"top":0,"left":0}}}}}}]"#
    );
    let bad = format!(r#"[{{"type":6,"timestamp":3,"data":{{"plugin":"rrweb/console@1","payload":"{filler}"}}}}]"#);
    let bad_frames = frame_message(2, bad.as_bytes(), false);
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("plugin events", bad_frames.clone()),
        ("unknown flags", vec![[&[1u8, 4], &frame(3, 100)[2..]].concat()]),
        ("out of order", vec![frame_message(4, filler.as_bytes(), false).remove(1)]),
        ("not JSON", frame_message(5, b"[{]", false)),
        (
            "a query in a failed request's URL",
            frame_message(
                6,
                br#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/diag","payload":{"kind":"network","at":1,"method":"GET","url":"https://shop.example/pay?card=4111","status":500,"ms":3}}}]"#,
                false,
            ),
        ),
    ];
    for (i, (what, frames)) in cases.into_iter().enumerate() {
        let token = if i == 0 {
            g.publisher_token.clone()
        } else {
            fresh_token(&mut g.visitor, &g.stream).await
        };
        let mut publisher = StreamSocket::open(&server, &token).await.expect("publisher");
        joined(&mut publisher, StreamRole::Publisher).await;
        if i == 0 {
            for f in frame_message(1, good.as_bytes(), false) {
                publisher.send(f).await;
            }
            let mut got = Vec::new();
            for _ in 0..3 {
                got.extend_from_slice(&subscriber.data().await[10..]);
            }
            assert_eq!(got, good.as_bytes(), "the snapshot arrives whole");
        }
        for f in frames {
            publisher.send(f).await;
        }
        let refused = publisher.control(|c| matches!(c, StreamControl::Refused { .. })).await;
        let StreamControl::Refused { reason } = refused else {
            unreachable!()
        };
        assert!(reason.starts_with("malformed: "), "{what}: {reason}");
        eprintln!("{what}: {reason}");
        assert_eq!(publisher.closed().await, Some(1007), "{what}");
        // The subscriber is told to drop what it has; of the bad message it saw
        // at most the chunks before the last.
        let mut parts = 0;
        loop {
            match subscriber.next().await {
                Got::Data(bytes) => {
                    assert_eq!(bytes, bad_frames[parts], "{what}: only the first chunks");
                    parts += 1;
                }
                Got::Control(StreamControl::Resync { .. }) => break,
                Got::Control(_) => {}
                Got::Closed(code) => panic!("{what}: subscriber closed ({code:?})"),
            }
        }
        assert_eq!(parts, if i == 0 { 2 } else { 0 }, "{what}");
    }
    // A well-made publisher goes on after all that.
    let token = fresh_token(&mut g.visitor, &g.stream).await;
    let mut publisher = StreamSocket::open(&server, &token).await.expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    publisher.send(frame(9, 50)).await;
    assert_eq!(subscriber.data().await, frame(9, 50));
    assert_eq!(server.metric("sightline_stream_messages_refused_total").await, 5);
    assert_eq!(server.metric("sightline_stream_messages_checked_total").await, 2);
    server.stop().await;
}

#[tokio::test]
async fn the_agents_guidance_goes_up_to_the_visitors_page_checked_and_within_its_rate() {
    let server = TestServer::start().await;
    let mut g = cobrowse(&server).await;
    let mut publisher = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut publisher, StreamRole::Publisher).await;
    let mut agent = StreamSocket::open(&server, &g.subscriber_token)
        .await
        .expect("subscriber");
    joined(&mut agent, StreamRole::Subscriber).await;
    let guidance = |n: u32, json: &str| frame_message(n, json.as_bytes(), false).remove(0);
    let pointer = guidance(
        1,
        r#"[{"kind":"pointer","at":{"node":12,"fx":0.25,"fy":0.5,"x":310,"y":95}}]"#,
    );
    agent.send(pointer.clone()).await;
    assert_eq!(publisher.data().await, pointer, "the same bytes reach the page");
    // A publisher's frames never come back to it, and the agent's never go to
    // other subscribers: the next thing the publisher sees is the next guidance.
    let ping = guidance(2, r#"[{"kind":"ping","at":{"node":null,"fx":0,"fy":0,"x":5,"y":6}}]"#);
    agent.send(ping.clone()).await;
    assert_eq!(publisher.data().await, ping);

    // Past the rate (120 at once): one refusal, the rest dropped, and a later
    // message (once the bucket refills) goes on.
    for _ in 0..130 {
        agent.send(pointer.clone()).await;
    }
    let refused = agent.control(|c| matches!(c, StreamControl::Refused { .. })).await;
    assert!(matches!(refused, StreamControl::Refused { reason } if reason.contains("rate")));
    // Once the bucket has refilled a little, the next goes on; before it came
    // the burst and not all 130.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let highlight = guidance(3, r#"[{"kind":"highlight","node":7}]"#);
    agent.send(highlight.clone()).await;
    let mut passed = 0;
    loop {
        let got = publisher.data().await;
        if got == highlight {
            break;
        }
        assert_eq!(got, pointer);
        passed += 1;
    }
    assert!((110..=120).contains(&passed), "{passed} of 130 within the burst");

    // Something that is not guidance closes the agent's socket with the reason.
    agent.send(guidance(4, r#"[{"kind":"click","node":7}]"#)).await;
    let refused = agent.control(|c| matches!(c, StreamControl::Refused { .. })).await;
    assert!(matches!(refused, StreamControl::Refused { reason } if reason.starts_with("malformed")));
    assert_eq!(agent.closed().await, Some(1007));
    // The visitor's mirror goes on: a fresh subscriber still gets frames.
    let token = fresh_token(&mut g.anna, &g.stream).await;
    let mut again = StreamSocket::open(&server, &token).await.expect("subscriber");
    joined(&mut again, StreamRole::Subscriber).await;
    publisher.send(frame(5, 40)).await;
    assert_eq!(again.data().await, frame(5, 40));
    server.stop().await;
}

/// The grant event of `capability` the visitor sees next.
async fn asked_for(visitor: &mut Ws, capability: Capability) -> GrantId {
    let asked = visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, sightline_proto::EventKind::Grant { capability: c, state: sightline_proto::GrantState::Asked, .. } if *c == capability)))
        .await;
    let ServerMessage::Event { event, .. } = asked else {
        unreachable!()
    };
    let sightline_proto::EventKind::Grant { grant, .. } = event.kind else {
        unreachable!()
    };
    grant
}

async fn joined_as(socket: &mut StreamSocket, role: StreamRole, capability: Capability) {
    match socket.control(|c| matches!(c, StreamControl::Joined { .. })).await {
        StreamControl::Joined {
            role: r, capability: c, ..
        } => assert_eq!((r, c), (role, capability)),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn remote_control_flows_only_from_the_owner_after_its_own_consent_checked_both_ways_until_revoked() {
    let server = TestServer::start().await;
    let mut g = cobrowse(&server).await;
    let mut ben = server.agent("ben").await;
    let control_frame = |n: u32, json: &str| frame_message(n, json.as_bytes(), false).remove(0);
    let ask =
        json!({"type": "grant_ask", "conversation": g.conversation, "capability": "remote_control", "message": null});

    // Control acts through the mirror: not before co-browsing is on.
    g.anna.send(ask.clone()).await;
    assert_eq!(g.anna.error_code().await, sightline_proto::ErrorCode::InvalidState);
    let mut page = StreamSocket::open(&server, &g.publisher_token)
        .await
        .expect("publisher");
    joined(&mut page, StreamRole::Publisher).await;
    g.visitor
        .send(json!({"type": "grant_step", "grant": g.grant, "step": "start", "detail": null}))
        .await;

    // Another agent cannot ask; the owner can.
    ben.send(ask.clone()).await;
    assert_eq!(ben.error_code().await, sightline_proto::ErrorCode::Forbidden);
    g.anna.send(ask.clone()).await;
    let control = asked_for(&mut g.visitor, Capability::RemoteControl).await;
    // Before the visitor's own click there is no stream to join, and a made-up
    // token opens nothing.
    assert!(
        StreamSocket::open(&server, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .await
            .is_err()
    );

    g.visitor
        .send(json!({"type": "grant_step", "grant": control, "step": "allow", "detail": null}))
        .await;
    let (_, _, stream, role, visitor_token) = stream_granted(
        &g.visitor
            .expect(|m| matches!(stream_granted(m), Some((_, ref gr, ..)) if *gr == control))
            .await,
    )
    .unwrap();
    assert_eq!(role, StreamRole::Subscriber, "the visitor's page receives control");
    let (_, _, _, role, anna_token) = stream_granted(
        &g.anna
            .expect(|m| matches!(stream_granted(m), Some((_, ref gr, ..)) if *gr == control))
            .await,
    )
    .unwrap();
    assert_eq!(role, StreamRole::Publisher, "the owner sends it");
    // A third party gets no token for it.
    ben.send(json!({"type": "stream_join", "stream": stream})).await;
    assert_eq!(ben.error_code().await, sightline_proto::ErrorCode::Forbidden);

    let mut agent = StreamSocket::open(&server, &anna_token).await.expect("agent");
    joined_as(&mut agent, StreamRole::Publisher, Capability::RemoteControl).await;
    let mut widget = StreamSocket::open(&server, &visitor_token).await.expect("widget");
    joined_as(&mut widget, StreamRole::Subscriber, Capability::RemoteControl).await;

    // An input down, its answer up: the same bytes.
    let click = control_frame(
        1,
        r#"[{"kind":"click","seq":1,"at":{"node":12,"fx":0.5,"fy":0.5,"x":310,"y":95}},{"kind":"text","seq":2,"text":"Alex"}]"#,
    );
    agent.send(click.clone()).await;
    assert_eq!(widget.data().await, click);
    let answer = control_frame(1, r#"[{"seq":1,"refused":null},{"seq":2,"refused":"private"}]"#);
    widget.send(answer.clone()).await;
    assert_eq!(agent.data().await, answer);

    // The visitor's side cannot send control to itself through the relay (what
    // goes up must be answers), nor can anything out of shape go down.
    widget.send(click.clone()).await;
    assert_eq!(widget.closed().await, Some(1007));
    agent
        .send(control_frame(
            2,
            r#"[{"kind":"eval","seq":3,"code":"document.cookie"}]"#,
        ))
        .await;
    let refused = agent.control(|c| matches!(c, StreamControl::Refused { .. })).await;
    assert!(matches!(refused, StreamControl::Refused { reason } if reason.starts_with("malformed")));
    assert_eq!(agent.closed().await, Some(1007));

    // Fresh sockets go on; past a person's rate the agent is told, once.
    let mut agent = StreamSocket::open(&server, &fresh_token(&mut g.anna, &stream).await)
        .await
        .expect("agent");
    joined_as(&mut agent, StreamRole::Publisher, Capability::RemoteControl).await;
    let mut widget = StreamSocket::open(&server, &fresh_token(&mut g.visitor, &stream).await)
        .await
        .expect("widget");
    joined_as(&mut widget, StreamRole::Subscriber, Capability::RemoteControl).await;
    let key = control_frame(3, r#"[{"kind":"key","seq":4,"key":"Tab"}]"#);
    for _ in 0..80 {
        agent.send(key.clone()).await;
    }
    let refused = agent.control(|c| matches!(c, StreamControl::Refused { .. })).await;
    assert!(matches!(refused, StreamControl::Refused { reason } if reason.contains("rate")));

    // The visitor takes control back: both sockets close at once, and neither
    // end can open the stream again.
    g.visitor.send(json!({"type": "grant_end", "grant": control})).await;
    assert_eq!(agent.closed().await, Some(4403));
    assert_eq!(widget.closed().await, Some(4403));
    g.anna.send(json!({"type": "stream_join", "stream": stream})).await;
    assert_eq!(g.anna.error_code().await, sightline_proto::ErrorCode::NotFound);
    // Co-browsing goes on.
    page.send(frame(9, 40)).await;
    server.stop().await;
}

#[tokio::test]
async fn ending_co_browsing_ends_remote_control_with_it() {
    let server = TestServer::start().await;
    let mut g = cobrowse(&server).await;
    g.visitor
        .send(json!({"type": "grant_step", "grant": g.grant, "step": "start", "detail": null}))
        .await;
    g.anna
        .send(json!({"type": "grant_ask", "conversation": g.conversation, "capability": "remote_control", "message": null}))
        .await;
    let control = asked_for(&mut g.visitor, Capability::RemoteControl).await;
    g.visitor
        .send(json!({"type": "grant_step", "grant": control, "step": "allow", "detail": null}))
        .await;
    let (_, _, control_stream, _, anna_token) = stream_granted(
        &g.anna
            .expect(|m| matches!(stream_granted(m), Some((_, ref gr, ..)) if *gr == control))
            .await,
    )
    .unwrap();
    let mut agent = StreamSocket::open(&server, &anna_token).await.expect("agent");
    joined_as(&mut agent, StreamRole::Publisher, Capability::RemoteControl).await;
    // A control message in two chunks is refused before any of it goes on.
    let mut chunks = frame_message(1, br#"[{"kind":"key","seq":1,"key":"Tab"}]"#, false);
    let mut first = chunks.remove(0);
    first[8..10].copy_from_slice(&2u16.to_be_bytes());
    agent.send(first).await;
    let refused = agent.control(|c| matches!(c, StreamControl::Refused { .. })).await;
    assert!(matches!(refused, StreamControl::Refused { reason } if reason.contains("one frame")));
    assert_eq!(agent.closed().await, Some(1007));
    let mut agent = StreamSocket::open(&server, &fresh_token(&mut g.anna, &control_stream).await)
        .await
        .expect("agent");
    joined_as(&mut agent, StreamRole::Publisher, Capability::RemoteControl).await;
    g.visitor.send(json!({"type": "grant_end", "grant": g.grant})).await;
    assert_eq!(agent.closed().await, Some(4403));
    server.stop().await;
}
