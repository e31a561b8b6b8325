//! The bare limit: a plain tokio-tungstenite server that does only what no chat
//! server can avoid, so that the benchmark can run the same load against it in the
//! same run and show how close Sightline comes to what the machine allows.
//!
//! Per message it does what Sightline's socket tasks do (read and parse the frame
//! with the real protocol types, serialise the event once and send the same bytes
//! to both sides, acknowledge the sender, write queued frames in runs with one
//! flush), and nothing of what the hub and the store add: no authorisation, no rate
//! limits, no sequence bookkeeping beyond a counter, no database. Conversations are
//! fixed by the socket's path: visitor `i` is conversation `c<i>`, and agent `a`
//! holds conversations `a * per_agent .. (a + 1) * per_agent`.
//!
//! It runs as a child process of the benchmark (`sightline-bench --serve-bare`), so
//! its CPU is measured like the server's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use futures_util::{SinkExt as _, StreamExt as _};
use sightline_proto::{
    AgentId, AgentRef, ClientFrame, ClientMessage, ConversationId, Event, EventKind, Role, ServerMessage,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames queued for one socket (as in the server).
const QUEUE: usize = 512;
/// Most queued frames written with one flush (as in the server).
const MAX_FRAMES_PER_WRITE: usize = 64;

/// Who a socket is, from its path: `/bare/visitor/<i>` or `/bare/agent/<a>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Visitor(usize),
    Agent(usize),
}

impl Who {
    pub fn path(self) -> String {
        match self {
            Who::Visitor(i) => format!("/bare/visitor/{i}"),
            Who::Agent(a) => format!("/bare/agent/{a}"),
        }
    }

    fn parse(path: &str) -> Option<Who> {
        let rest = path.strip_prefix("/bare/")?;
        let (side, n) = rest.split_once('/')?;
        let n = n.parse().ok()?;
        match side {
            "visitor" => Some(Who::Visitor(n)),
            "agent" => Some(Who::Agent(n)),
            _ => None,
        }
    }
}

/// The id of conversation `i`.
pub fn conversation_id(i: usize) -> String {
    format!("c{i}")
}

struct Route {
    visitors: HashMap<usize, mpsc::Sender<Utf8Bytes>>,
    agents: HashMap<usize, mpsc::Sender<Utf8Bytes>>,
}

struct State {
    per_agent: usize,
    routes: RwLock<Route>,
    seq: AtomicU64,
}

/// Serves until killed; prints the address the benchmark waits for.
pub fn serve(per_agent: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("Sightline is running at http://{}/", listener.local_addr()?);
        let state = Arc::new(State {
            per_agent: per_agent.max(1),
            routes: RwLock::new(Route {
                visitors: HashMap::new(),
                agents: HashMap::new(),
            }),
            seq: AtomicU64::new(0),
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(socket(stream, state.clone()));
        }
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn encode(message: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(message).unwrap_or_default())
}

// The handshake callback's error type is tungstenite's (an HTTP response).
#[allow(clippy::result_large_err)]
async fn socket(stream: TcpStream, state: Arc<State>) {
    let mut who = None;
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(16 * 1024);
    let accepted = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        |request: &Request, response: Response| {
            who = Who::parse(request.uri().path());
            Ok(response)
        },
        Some(config),
    )
    .await;
    let (Ok(mut ws), Some(who)) = (accepted, who) else {
        return;
    };
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(QUEUE);
    {
        let mut routes = state.routes.write().unwrap_or_else(|p| p.into_inner());
        match who {
            Who::Visitor(i) => routes.visitors.insert(i, tx.clone()),
            Who::Agent(a) => routes.agents.insert(a, tx.clone()),
        };
    }
    loop {
        tokio::select! {
            biased;
            frame = rx.recv() => {
                let Some(frame) = frame else { break };
                let mut ok = ws.feed(Message::Text(frame)).await.is_ok();
                for _ in 1..MAX_FRAMES_PER_WRITE {
                    if !ok {
                        break;
                    }
                    match rx.try_recv() {
                        Ok(frame) => ok = ws.feed(Message::Text(frame)).await.is_ok(),
                        Err(_) => break,
                    }
                }
                if !ok || ws.flush().await.is_err() {
                    break;
                }
            }
            inbound = ws.next() => match inbound {
                Some(Ok(Message::Text(text))) => on_message(&state, who, &tx, text.as_str()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    let mut routes = state.routes.write().unwrap_or_else(|p| p.into_inner());
    match who {
        Who::Visitor(i) => routes.visitors.remove(&i),
        Who::Agent(a) => routes.agents.remove(&a),
    };
}

fn on_message(state: &State, who: Who, me: &mpsc::Sender<Utf8Bytes>, text: &str) {
    let Ok(ClientFrame {
        message: ClientMessage::Send {
            conversation,
            client_id,
            body,
        },
        ..
    }) = ClientFrame::parse(text)
    else {
        return;
    };
    // The conversation: the visitor's own, or one of the agent's.
    let (index, from, agent) = match who {
        Who::Visitor(i) => (i, Role::Visitor, None),
        Who::Agent(a) => {
            let Some(i) = conversation
                .as_ref()
                .and_then(|c| c.as_str().strip_prefix('c'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|i| i / state.per_agent == a)
            else {
                return;
            };
            let agent = AgentRef {
                id: AgentId(i64::try_from(a).unwrap_or(i64::MAX)),
                display_name: format!("Agent {a}"),
                colour: None,
            };
            (i, Role::Agent, Some(agent))
        }
    };
    let conversation = ConversationId::from(conversation_id(index));
    let seq = state.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let event = encode(&ServerMessage::Event {
        conversation: conversation.clone(),
        event: Event {
            seq,
            at: now_ms(),
            kind: EventKind::Message {
                from,
                agent,
                client_id: client_id.clone(),
                body,
            },
        },
    });
    let ack = encode(&ServerMessage::Ack {
        conversation,
        client_id,
        seq,
    });
    let routes = state.routes.read().unwrap_or_else(|p| p.into_inner());
    let visitor = routes.visitors.get(&index);
    let agent = routes.agents.get(&(index / state.per_agent));
    // The sender's ack and event go out in one run, as in the server.
    let _ = me.try_send(ack);
    for target in [visitor, agent].into_iter().flatten() {
        let _ = target.try_send(event.clone());
    }
}
