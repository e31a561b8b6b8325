//! The edge of the server: accepting TCP connections, counting them per client
//! address, the deadline for request headers, and who the client is behind a
//! reverse proxy.
//!
//! An attacker holds resources by opening connections and saying nothing. So every
//! connection is counted against its address group (an IPv4 address, an IPv6 /64)
//! and refused past `max_connections_per_address`; request headers must arrive
//! within the handshake timeout (hyper's `header_read_timeout`, which also bounds
//! idle keep-alive connections); and WebSockets must be welcomed within the same
//! time (`ws.rs`). WebSockets have their own [`Gate`] with room kept for agents.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use sightline_core::address_group;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::AppState;

/// Counts open connections in total and per address group, and refuses past the
/// limits. A [`Permit`] gives its place back when dropped.
pub struct Gate {
    /// Most connections in all.
    max_total: usize,
    /// Of those, the last `reserved` are for privileged callers only (agents).
    reserved: usize,
    max_per_address: usize,
    // A std Mutex: nothing awaits while it is held, and it is held briefly.
    state: Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    total: usize,
    by_address: BTreeMap<IpAddr, usize>,
}

/// Why a [`Gate`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server is full (for this kind of caller).
    Full,
    /// This address group holds as many connections as it may.
    AddressFull,
}

impl Gate {
    pub fn new(max_total: usize, reserved: usize, max_per_address: usize) -> Arc<Gate> {
        Arc::new(Gate {
            max_total,
            reserved: reserved.min(max_total),
            max_per_address,
            state: Mutex::new(GateState::default()),
        })
    }

    /// Takes a place for a connection from `address`. `privileged` callers may use
    /// the reserved places and are not counted per address (agents are
    /// authenticated, and a whole support team may sit behind one address).
    pub fn admit(self: &Arc<Self>, address: IpAddr, privileged: bool) -> Result<Permit, Refusal> {
        let group = address_group(address);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let ceiling = if privileged {
            self.max_total
        } else {
            self.max_total - self.reserved
        };
        if state.total >= ceiling {
            return Err(Refusal::Full);
        }
        if !privileged {
            let count = state.by_address.entry(group).or_default();
            if *count >= self.max_per_address {
                return Err(Refusal::AddressFull);
            }
            *count += 1;
        }
        state.total += 1;
        Ok(Permit {
            gate: self.clone(),
            group: (!privileged).then_some(group),
        })
    }

    pub fn open(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

/// One connection's place in a [`Gate`].
pub struct Permit {
    gate: Arc<Gate>,
    group: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.gate.state.lock().unwrap_or_else(|p| p.into_inner());
        state.total = state.total.saturating_sub(1);
        if let Some(group) = self.group {
            if let Some(count) = state.by_address.get_mut(&group) {
                *count -= 1;
                if *count == 0 {
                    state.by_address.remove(&group);
                }
            }
        }
    }
}

/// Raises the soft limit on open files to the hard limit, so that the connection
/// limits, not the operating system's default of 1,024, decide how many clients
/// the server holds.
pub fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(open_files = limit, "open-file limit"),
        Err(err) => tracing::warn!(%err, "could not raise the open-file limit"),
    }
}

/// Serves `router` on `listener` over plain HTTP/1.1 until `shutdown` changes,
/// then waits (up to 10 s) for requests in flight. Upgraded WebSockets are not
/// waited for: their tasks close them with 1012 on the same signal.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tcp_gate: Arc<Gate>,
    (header_timeout, tls): (Duration, Option<TlsAcceptor>),
    trusted: Vec<ipnet::IpNet>,
    mut shutdown: watch::Receiver<()>,
) {
    // Each connection task holds a clone of `alive`; once all are dropped, `done`
    // says so: that is how shutdown waits for requests in flight.
    let (alive, mut done) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors, typically: pause rather than spin.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        // A trusted proxy carries many clients: it is counted in the total only (the
        // per-client limits apply once the request names its client).
        let is_proxy = trusted.iter().any(|net| net.contains(&canonical(peer.ip())));
        let Ok(permit) = tcp_gate.admit(peer.ip(), is_proxy) else {
            // Closing at once costs the attacker a reconnect and us nothing.
            drop(stream);
            continue;
        };
        // Chat frames are small and latency-bound: without TCP_NODELAY a frame
        // written right after another (an ack after the sender's own event) waits
        // for the peer's delayed ACK, up to 40 ms.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "could not set TCP_NODELAY");
        }
        let router = router.clone();
        let stopping = shutdown.clone();
        let alive = alive.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _alive = alive;
            match tls {
                None => serve_connection(stream, peer, router, header_timeout, stopping).await,
                // The handshake has the same deadline as the headers: a client that
                // connects and says nothing is closed either way.
                Some(tls) => match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                    Ok(Ok(stream)) => serve_connection(stream, peer, router, header_timeout, stopping).await,
                    Ok(Err(err)) => tracing::debug!(%err, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake not finished within the handshake timeout"),
                },
            }
            drop(permit);
        });
    }
    drop(listener);
    drop(alive);
    if tokio::time::timeout(Duration::from_secs(10), done.recv())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after 10 s; stopping anyway");
    }
}

/// One HTTP/1.1 connection (WebSockets need HTTP/1.1; HTTP/2 is never offered,
/// so hyper never waits, without a deadline, for bytes that tell the versions
/// apart): request headers within `header_timeout`, upgrades allowed.
async fn serve_connection<IO>(
    stream: IO,
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    mut stopping: watch::Receiver<()>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        tower_service::Service::call(&mut router.clone(), request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stopping.changed() => {
            // Finish the request in flight, then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = result {
        tracing::debug!(%err, "connection ended with an error");
    }
}

/// The TLS acceptor for `--tls-cert`/`--tls-key` (PEM files): HTTP/1.1 only in
/// ALPN.
pub fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> anyhow::Result<TlsAcceptor> {
    use anyhow::Context as _;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the TLS key {}", key.display()))?;
    let mut config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not fit together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the
/// address the proxies name (`Forwarded: for=`, else `X-Forwarded-For`), read from
/// the right and skipping trusted proxies. Every per-address limit uses this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientAddr(client_address(
            peer,
            &parts.headers,
            &app.config.trusted_proxies,
            app.config.forwarded_header,
        )))
    }
}

/// Which header a trusted proxy names the client in. Only that one is read: a
/// proxy passes the other through from the client unchanged, so reading both would
/// let a client choose its own address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    XForwardedFor,
    Forwarded,
}

/// See [`ClientAddr`].
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet], header: ForwardedHeader) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers, header);
    // Right to left: the nearest hop first. The first address that is not one of
    // our proxies is the client; anything left of it could be made up by them.
    let mut nearest = peer;
    for hop in chain.iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => nearest = *ip,
            Some(ip) => return *ip,
            // An unknown or obfuscated hop: the last proxy we trust is as far as
            // we can see.
            None => break,
        }
    }
    nearest
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        IpAddr::V4(_) => ip,
    }
}

/// The hops a request went through, left (client side) to right, from the chosen
/// header. `None` for a hop whose address cannot be read.
fn forwarded_chain(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    if header == ForwardedHeader::Forwarded {
        return headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:443`, `[2001:db8::1]`, `[2001:db8::1]:443`, `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    let inner = text.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        use ForwardedHeader::{Forwarded, XForwardedFor as Xff};
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net"), "::1/128".parse().expect("net")];
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.2")]);
        // From an untrusted peer, the header is the client's own claim: ignored.
        assert_eq!(
            client_address(ip("198.51.100.1"), &xff, &trusted, Xff),
            ip("198.51.100.1")
        );
        assert_eq!(client_address(ip("198.51.100.1"), &xff, &[], Xff), ip("198.51.100.1"));
        // From a trusted proxy, the first untrusted hop from the right.
        assert_eq!(client_address(ip("10.0.0.1"), &xff, &trusted, Xff), ip("203.0.113.9"));
        // A client cannot hide behind a made-up left part.
        let spoof = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        assert_eq!(client_address(ip("10.0.0.1"), &spoof, &trusted, Xff), ip("203.0.113.9"));
        // Only the configured header counts: a client's own Forwarded header, passed
        // through by a proxy that sets X-Forwarded-For, changes nothing.
        let both = headers(&[("forwarded", "for=127.0.0.1"), ("x-forwarded-for", "192.0.2.99")]);
        assert_eq!(client_address(ip("10.0.0.1"), &both, &trusted, Xff), ip("192.0.2.99"));
        // Forwarded takes ports and brackets.
        let forwarded = headers(&[("forwarded", "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.3")]);
        assert_eq!(
            client_address(ip("::1"), &forwarded, &trusted, Forwarded),
            ip("2001:db8::7")
        );
        // An unreadable hop: the last trusted proxy is as far as we can see, never a
        // name the client wrote further left.
        let obfuscated = headers(&[("forwarded", "for=1.2.3.4, for=_hidden, for=10.0.0.3")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &obfuscated, &trusted, Forwarded),
            ip("10.0.0.3")
        );
        // No header from a trusted proxy: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted, Xff),
            ip("10.0.0.1")
        );
        // IPv4-mapped peers are IPv4.
        assert_eq!(
            client_address(ip("::ffff:10.0.0.1"), &xff, &trusted, Xff),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_gate_counts_per_address_group_and_keeps_room_for_the_privileged() {
        let gate = Gate::new(5, 2, 2);
        let a = gate.admit(ip("192.0.2.1"), false).expect("first");
        let _b = gate.admit(ip("192.0.2.1"), false).expect("second");
        assert_eq!(gate.admit(ip("192.0.2.1"), false).err(), Some(Refusal::AddressFull));
        // A /64 is one group.
        let _c = gate.admit(ip("2001:db8::1"), false).expect("v6");
        assert_eq!(gate.admit(ip("2001:db8::2"), false).err(), Some(Refusal::Full));
        // Three visitors fill the unreserved places; agents still get in.
        let _d = gate.admit(ip("198.51.100.1"), true).expect("privileged");
        let _e = gate.admit(ip("198.51.100.1"), true).expect("privileged");
        assert_eq!(gate.admit(ip("198.51.100.1"), true).err(), Some(Refusal::Full));
        drop(a);
        assert_eq!(gate.open(), 4);
        assert!(gate.admit(ip("192.0.2.1"), true).is_ok());
    }
}
