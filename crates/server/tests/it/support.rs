//! A server on port 0 and small WebSocket/HTTP clients to drive it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sightline::config::Config;
use sightline_proto::{ConversationId, ServerMessage};
use sightline_store::Store;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const AGENT_PASSWORD: &str = "correct horse battery";

/// A client builder for tests. The server's asset proxy turns on reqwest's
/// rustls without a crypto provider: clients built here use the server's
/// aws-lc-rs.
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    pub data_dir: PathBuf,
    pub store: Store,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    // Keeps the directory alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = Self::start_in(dir.path().to_path_buf(), Vec::new()).await;
        server._dir = Some(dir);
        server
    }

    pub async fn start_with_origins(origins: Vec<String>) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = Self::start_in(dir.path().to_path_buf(), origins).await;
        server._dir = Some(dir);
        server
    }

    /// A server on an existing data directory (for restarts).
    pub async fn start_in(data_dir: PathBuf, allowed_origins: Vec<String>) -> TestServer {
        Self::start_configured(data_dir, |config| config.allowed_origins = allowed_origins).await
    }

    /// A server with a configuration adjusted by `adjust`.
    pub async fn start_configured(data_dir: PathBuf, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::for_tests(data_dir.clone());
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let store = sightline::open_store(&config).await.expect("store");
        for (name, admin) in [("anna", true), ("ben", false)] {
            if store.user_by_name(name).await.expect("lookup").is_none() {
                let hash = sightline::auth::hash_password(AGENT_PASSWORD.into())
                    .await
                    .expect("hash");
                let display = if name == "anna" { "Anna" } else { "Ben" };
                store.create_user(name, display, &hash, admin, 0).await.expect("user");
            }
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(sightline::run(listener, config, store.clone(), async {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            url: format!("http://{addr}"),
            data_dir,
            store,
            stop: Some(stop),
            task: Some(task),
            _dir: None,
        }
    }

    /// Graceful shutdown; returns the data directory's owner so a restart can reuse it.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("server stops within 15 s")
                .expect("server task")
                .expect("server ran without error");
        }
        self._dir.take()
    }

    pub fn http(&self) -> reqwest::Client {
        client_builder().cookie_store(true).build().expect("client")
    }

    /// Logs in and returns (client with cookie, csrf token, cookie header value).
    pub async fn login(&self, name: &str) -> (reqwest::Client, String, String) {
        let client = self.http();
        let response = client
            .post(format!("{}/api/login", self.url))
            .json(&json!({"name": name, "password": AGENT_PASSWORD}))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login as {name}");
        let cookie = session_cookie(&response);
        let me: Value = response.json().await.expect("json");
        (client, me["csrf_token"].as_str().expect("csrf").to_owned(), cookie)
    }

    /// A visitor socket from another loopback address (127.0.0.N).
    pub async fn visitor_from(&self, from: std::net::IpAddr) -> Ws {
        Ws::connect_from(&format!("ws://{}/ws/visitor", self.addr), from, None)
            .await
            .expect("visitor socket")
    }

    /// One figure of `/metrics` (read from loopback), by its name and labels.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .http()
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let prefix = format!("{name} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no figure {name} in {text}"))
    }

    pub async fn visitor(&self) -> Ws {
        Ws::connect(&format!("ws://{}/ws/visitor", self.addr), &[])
            .await
            .expect("visitor socket")
    }

    /// An agent socket, with the conversations its welcome listed.
    pub async fn agent_with_welcome(&self, name: &str) -> (Ws, Vec<sightline_proto::ConversationSummary>) {
        let (_, _, cookie) = self.login(name).await;
        let mut ws = Ws::connect(&format!("ws://{}/ws/agent", self.addr), &[("cookie", &cookie)])
            .await
            .expect("agent socket");
        ws.send(json!({"type": "agent_hello", "protocol": 1})).await;
        match ws.expect(|m| matches!(m, ServerMessage::AgentWelcome { .. })).await {
            ServerMessage::AgentWelcome { conversations, .. } => (ws, conversations),
            _ => unreachable!(),
        }
    }

    pub async fn agent(&self, name: &str) -> Ws {
        let (_, _, cookie) = self.login(name).await;
        let mut ws = Ws::connect(&format!("ws://{}/ws/agent", self.addr), &[("cookie", &cookie)])
            .await
            .expect("agent socket");
        ws.send(json!({"type": "agent_hello", "protocol": 1})).await;
        ws.expect(|m| matches!(m, ServerMessage::AgentWelcome { .. })).await;
        ws
    }
}

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn connect(
        url: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request()?;
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Ws { stream })
    }

    /// A WebSocket from a given loopback source address, with a receive buffer of
    /// `recv_buffer` bytes when given (a small one makes a client that never reads
    /// push back on the server quickly).
    pub async fn connect_from(
        url: &str,
        from: std::net::IpAddr,
        recv_buffer: Option<u32>,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let request = url.into_client_request()?;
        let host = request.uri().authority().map(|a| a.to_string()).unwrap_or_default();
        let addr: SocketAddr = host.parse().expect("a socket address in the URL");
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size)?;
        }
        let tcp = socket.connect(addr).await?;
        let (stream, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await?;
        Ok(Ws { stream })
    }

    pub async fn send(&mut self, value: Value) {
        self.stream.send(Message::text(value.to_string())).await.expect("send");
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.stream.send(message).await.expect("send");
    }

    /// The next protocol message, or None when the socket closed. Panics after 10 s.
    pub async fn next(&mut self) -> Option<ServerMessage> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("a message within 10 s");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(text.as_str()).expect("a protocol message"))
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The close code the server sent, skipping other messages.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(15), self.stream.next())
                .await
                .expect("a close within 15 s");
            match frame {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// A widget socket from a site that is not allowed: whatever it sends (a
    /// hello here), the server's first and only frame is a close with 4403.
    pub async fn assert_origin_refused(mut self) {
        let _ = self
            .stream
            .send(Message::text(
                json!({"type": "visitor_hello", "protocol": 1, "token": null, "after_seq": 0, "page": null})
                    .to_string(),
            ))
            .await;
        let frame = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
            .await
            .expect("a frame within 10 s");
        match frame {
            Some(Ok(Message::Close(Some(close)))) => {
                assert_eq!(u16::from(close.code), 4403);
                assert_eq!(close.reason.as_str(), "origin not allowed");
            }
            other => panic!("expected a close with 4403, got {other:?}"),
        }
    }

    /// Skips messages until one matches; returns it.
    pub async fn expect(&mut self, pred: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
        let mut skipped = Vec::new();
        loop {
            match self.next().await {
                Some(m) if pred(&m) => return m,
                Some(m) => skipped.push(m),
                None => panic!("socket closed while waiting; skipped {skipped:?}"),
            }
        }
    }

    /// Visitor hello; returns (token, conversation id if any).
    pub async fn hello(&mut self, token: Option<&str>, after_seq: u64) -> (String, Option<ConversationId>) {
        self.send(json!({"type": "visitor_hello", "protocol": 1, "token": token, "after_seq": after_seq, "page": {"url": "http://shop.test/cart", "title": "Cart"}})).await;
        match self.expect(|m| matches!(m, ServerMessage::VisitorWelcome { .. })).await {
            ServerMessage::VisitorWelcome {
                token, conversation, ..
            } => (token, conversation.map(|c| c.id)),
            _ => unreachable!(),
        }
    }

    /// Sends a text message and waits for its ack; returns (conversation, seq).
    pub async fn say(
        &mut self,
        conversation: Option<&ConversationId>,
        client_id: &str,
        text: &str,
    ) -> (ConversationId, u64) {
        self.send(json!({"type": "send", "conversation": conversation, "client_id": client_id, "body": {"kind": "text", "text": text}}))
            .await;
        let wanted = client_id.to_owned();
        match self
            .expect(|m| match m {
                ServerMessage::Ack { client_id, .. } => *client_id == wanted,
                ServerMessage::Error {
                    client_id: Some(id), ..
                } => *id == wanted,
                _ => false,
            })
            .await
        {
            ServerMessage::Ack { conversation, seq, .. } => (conversation, seq),
            other => panic!("message {client_id} refused: {other:?}"),
        }
    }

    /// The next error message's code.
    pub async fn error_code(&mut self) -> sightline_proto::ErrorCode {
        match self.expect(|m| matches!(m, ServerMessage::Error { .. })).await {
            ServerMessage::Error { code, .. } => code,
            _ => unreachable!(),
        }
    }

    /// A ping answered proves the socket (and the hub behind it) still works.
    pub async fn assert_alive(&mut self) {
        self.send(json!({"type": "ping", "nonce": 4242})).await;
        self.expect(|m| matches!(m, ServerMessage::Pong { nonce: 4242 })).await;
    }
}

/// Events' (seq, text) of messages, in arrival order.
/// The `name=value` of the session cookie a login answer sets.
pub fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

pub fn message_texts(messages: &[ServerMessage]) -> Vec<(u64, String)> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                sightline_proto::EventKind::Message {
                    body: sightline_proto::MessageBody::Text { text },
                    ..
                } => Some((event.seq, text.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A TCP connection to `addr` from the loopback alias `local` (any 127.0.0.N): the
/// server sees each alias as a client address of its own.
pub async fn tcp_from(local: std::net::IpAddr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(addr).await
}

impl Ws {
    /// Like [`Ws::connect`] to `ws://{addr}{path}` with extra headers (which replace
    /// the usual ones, Host included), from the loopback alias `local`. A refused
    /// upgrade is `Err(Error::Http(response))`. Panics after 10 s.
    pub async fn upgrade_from(
        local: std::net::IpAddr,
        addr: SocketAddr,
        path: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://{addr}{path}").into_client_request()?;
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        tokio::time::timeout(Duration::from_secs(10), async {
            let stream = tcp_from(local, addr).await?;
            let (stream, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await?;
            Ok(Ws { stream })
        })
        .await
        .expect("an upgrade answer within 10 s")
    }
}

/// One HTTP/1.1 exchange on a fresh connection from `local`: writes `request` as
/// given (it should say `Connection: close`) and reads to the end. Returns the
/// status and the whole response. Errors only when the connection fails; panics
/// on a non-HTTP answer or after 10 s.
pub async fn try_raw_http(local: std::net::IpAddr, addr: SocketAddr, request: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut stream = tcp_from(local, addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
        Ok((status, text))
    })
    .await
    .expect("an HTTP answer within 10 s")
}

/// [`try_raw_http`] that must connect.
pub async fn raw_http(local: std::net::IpAddr, addr: SocketAddr, request: &str) -> (u16, String) {
    try_raw_http(local, addr, request).await.expect("an HTTP exchange")
}

impl TestServer {
    /// A server in a fresh temporary directory with a configuration adjusted by
    /// `adjust`; the directory goes with the server.
    pub async fn start_adjusted(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = Self::start_configured(dir.path().to_path_buf(), adjust).await;
        server._dir = Some(dir);
        server
    }
}

impl TestServer {
    /// A visitor (its socket and token) with a conversation that `agent` has
    /// accepted, once the visitor has seen the agent join. The visitor said
    /// "The page shows an error" (client id `v-1`).
    pub async fn accepted_conversation(&self, agent: &mut Ws) -> (Ws, String, ConversationId) {
        let mut visitor = self.visitor().await;
        let (token, _) = visitor.hello(None, 0).await;
        let (conversation, _) = visitor.say(None, "v-1", "The page shows an error").await;
        agent
            .send(json!({"type": "accept", "conversation": conversation}))
            .await;
        visitor
            .expect(|m| {
                matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, sightline_proto::EventKind::AgentJoined { .. }))
            })
            .await;
        (visitor, token, conversation)
    }
}
