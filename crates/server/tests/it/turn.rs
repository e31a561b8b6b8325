//! The TURN credentials the server mints are accepted by a real coturn started on
//! loopback (Debian package `coturn`), and tampered or foreign ones are refused.

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use sightline_core::TurnSettings;
use sightline_proto::{EventKind, ServerMessage, ShareState};

use crate::support::TestServer;

struct Coturn {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free for both UDP and TCP (coturn listens on both).
fn free_udp_port() -> u16 {
    loop {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// coturn on 127.0.0.1 with `use-auth-secret`, relaying only on loopback.
fn start_coturn(secret: &str) -> Coturn {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_udp_port();
    let relay = free_udp_port();
    let config = dir.path().join("turnserver.conf");
    std::fs::write(
        &config,
        format!(
            "listening-ip=127.0.0.1\nrelay-ip=127.0.0.1\nlistening-port={port}\nmin-port={relay}\nmax-port={}\n\
             use-auth-secret\nstatic-auth-secret={secret}\nrealm=sightline.test\nfingerprint\nno-tls\nno-dtls\nno-cli\n\
             allow-loopback-peers\nno-multicast-peers\nlog-file=stdout\nsimple-log\npidfile={}\n",
            relay.saturating_add(20),
            dir.path().join("turn.pid").display()
        ),
    )
    .expect("write config");
    let child = Command::new("turnserver")
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("coturn's turnserver is installed (Debian: apt-get install coturn)");
    // Ready when its UDP socket is bound (a loaded machine can take a while).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !udp_port_bound(port) {
        assert!(
            std::time::Instant::now() < deadline,
            "coturn did not bind its port within 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Coturn { child, port, _dir: dir }
}

/// Whether some process has a UDP socket bound to 127.0.0.1:port (Linux).
fn udp_port_bound(port: u16) -> bool {
    let wanted = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/udp")
        .map(|table| {
            table
                .lines()
                .any(|line| line.split_whitespace().nth(1) == Some(wanted.as_str()))
        })
        .unwrap_or(false)
}

/// Allocates a relay and sends a few packets through it with these credentials
/// (each try bounded to 20 s).
fn allocate(port: u16, username: &str, password: &str) -> bool {
    Command::new("timeout")
        .args(["20", "turnutils_uclient"])
        .args([
            "-p",
            &port.to_string(),
            "-u",
            username,
            "-w",
            password,
            "-y",
            "-n",
            "3",
            "-m",
            "1",
            "-l",
            "120",
            "127.0.0.1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn coturn_accepts_the_credentials_minted_for_a_share_and_nothing_else() {
    let coturn = start_coturn("test-secret-9d1c");
    let dir = tempfile::tempdir().expect("tempdir");
    let turn_url = format!("turn:127.0.0.1:{}?transport=udp", coturn.port);
    let server = TestServer::start_configured(dir.path().to_path_buf(), |config| {
        config.share.turn = Some(TurnSettings {
            urls: vec![turn_url.clone()],
            secret: "test-secret-9d1c".into(),
            ttl_secs: 600,
        });
        config.share.ice_transport_policy = "relay".into();
    })
    .await;
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "hello").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.send(json!({"type": "share_invite", "conversation": conversation, "message": null}))
        .await;
    let ServerMessage::Event { event, .. } = visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { state: ShareState::Invited, .. })))
        .await
    else {
        unreachable!()
    };
    let EventKind::Share { share, .. } = event.kind else {
        unreachable!()
    };
    visitor
        .send(json!({"type": "share_progress", "share": share, "step": "accepted", "detail": null}))
        .await;
    let ServerMessage::ShareSetup { setup, .. } =
        visitor.expect(|m| matches!(m, ServerMessage::ShareSetup { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(setup.ice_transport_policy, "relay");
    let turn = setup
        .ice_servers
        .iter()
        .find(|s| s.urls == vec![turn_url.clone()])
        .expect("the TURN server is handed out");
    let username = turn.username.clone().expect("username");
    let password = turn.credential.clone().expect("credential");
    assert!(username.ends_with(&format!(":{share}")), "{username}");

    let (port, user, pass) = (coturn.port, username.clone(), password.clone());
    // A loaded machine may need a second try to get through; a refusal is final.
    let accepted = tokio::task::spawn_blocking(move || (0..3).any(|_| allocate(port, &user, &pass)))
        .await
        .expect("join");
    assert!(accepted, "coturn accepts the minted credentials");
    let (user, tampered) = (username.clone(), format!("x{password}"));
    let refused = tokio::task::spawn_blocking(move || allocate(port, &user, &tampered))
        .await
        .expect("join");
    assert!(!refused, "a wrong password is refused");
    // A username whose expiry was pushed forward does not match the signature.
    let stretched = format!("9{username}");
    let (pass, port2) = (password.clone(), coturn.port);
    let refused = tokio::task::spawn_blocking(move || allocate(port2, &stretched, &pass))
        .await
        .expect("join");
    assert!(!refused, "an altered username is refused");
    server.stop().await;
}
