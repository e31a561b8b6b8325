//! `sightline-bench`: the chat load generator.
//!
//! Starts the server (release build, 127.0.0.1 port 0, temporary SQLite data
//! directory), then on loopback:
//! 1. opens one visitor socket per conversation and measures the server's memory
//!    per idle connection (VmRSS before and after; first, before any password
//!    hashing has left memory in the allocator),
//! 2. creates agent accounts and logs each in,
//! 3. opens every conversation (the visitor's first message) and has an agent accept
//!    it, then holds all the sockets open,
//! 4. sends chat messages at a fixed aggregate rate, alternately from visitors and
//!    agents, and reports the round trip (send → the other side receives the event)
//!    at p50/p90/p99/p99.9/max,
//! 5. steps the rate up to find the highest rate the server sustains,
//! 6. has a few new visitors write while every agent is online, and times how long
//!    the announcement of a waiting conversation takes to reach every agent.
//!
//! Everything is bounded in count and time, and only talks to the server it
//! started on 127.0.0.1. On a shared machine, `--quiet-wait` and
//! `--noisy-retries` keep other processes' load out of the figures; the `other`
//! column shows what they used anyway.
//!
//! Agents: each agent account has one socket and handles `--chats-per-agent`
//! conversations (5 by default, a typical live-chat concurrency), so 10,000
//! conversations have 2,000 agents. Every agent logs in from its own loopback
//! address (127.1.x.y), as real agents come from their own machines; the server
//! limits logins per address. Conversations are opened and accepted before the
//! agents' long-lived sockets connect, so that setup does not pay for the
//! waiting-queue broadcast to every agent (step 6 measures that separately).

mod bare;
mod conn;
mod load;
mod server;

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::Parser;
use futures_util::SinkExt as _;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use conn::{Cmd, Shared, Side};
use load::{Pairs, Step, StepConfig};
use server::{http, Server};

/// Chat load generator for Sightline: round trip, sustained rate, memory per connection.
#[derive(Parser, Debug)]
#[command(name = "sightline-bench", version)]
struct Args {
    /// The server binary to start.
    #[arg(long, default_value = "target/release/sightline")]
    server_bin: PathBuf,
    /// Conversations to open and hold (one visitor socket each).
    #[arg(long, default_value_t = 10_000)]
    pairs: usize,
    /// Conversations each agent handles (one agent account and socket per this many).
    #[arg(long, default_value_t = 5)]
    chats_per_agent: usize,
    /// Aggregate chat messages per second in the round-trip test.
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    /// Seconds measured in the round-trip test.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds of warm-up before each measured run (not counted).
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Skip the search for the highest sustained rate.
    #[arg(long)]
    no_rate_search: bool,
    /// First rate of the search (doubled until the server cannot keep up, then bisected).
    #[arg(long, default_value_t = 1000)]
    search_from: u32,
    /// Highest rate the search tries [default: the most the per-socket rate limit allows].
    #[arg(long)]
    search_max: Option<u32>,
    /// Seconds measured per search step.
    #[arg(long, default_value_t = 10)]
    step_duration: u64,
    /// A rate is sustained when p99 stays at or under this many ms and nothing is lost.
    #[arg(long, default_value_t = 100.0)]
    p99_limit_ms: f64,
    /// Sockets opened concurrently during setup.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// At the end, this many new visitors write at once while every agent is
    /// online: how long until each agent's queue shows them all (0: skip).
    #[arg(long, default_value_t = 20)]
    queue_probe: usize,
    /// Before each measured run, wait up to this many seconds for other processes
    /// to use under 25% CPU (for shared machines; 0: do not wait).
    #[arg(long, default_value_t = 0)]
    quiet_wait: u64,
    /// A step that fails while other processes use over 25% CPU is run again, up
    /// to this many times.
    #[arg(long, default_value_t = 2)]
    noisy_retries: u32,
    /// Keep the server's data directory and log (both paths are printed; the log
    /// is kept anyway when the run fails).
    #[arg(long)]
    keep_data: bool,
    /// Skip the bare limit: after Sightline, the same load is run against a plain
    /// tokio-tungstenite server that only parses, serialises and forwards (no hub,
    /// no database), so the figures can be read against what the machine allows.
    #[arg(long)]
    no_bare: bool,
    /// Measure only the bare limit.
    #[arg(long, conflicts_with = "no_bare")]
    bare_only: bool,
    /// Serve as the bare server (the benchmark starts itself this way).
    #[arg(long, hide = true)]
    serve_bare: bool,
}

impl Args {
    /// The round trip at `--rate` (Sightline's and the bare limit's).
    fn main_step(&self) -> StepConfig {
        StepConfig {
            rate: self.rate,
            quiet_wait: Duration::from_secs(self.quiet_wait),
            warmup: Duration::from_secs(self.warmup),
            duration: Duration::from_secs(self.duration),
            drain: Duration::from_secs(10),
        }
    }
}

const AGENT_PASSWORD: &str = "bench-agent-password";
const ADMIN_PASSWORD: &str = "bench-admin-password";
/// The per-socket allowance of the server is 10 messages/s; stay clearly under it.
const MAX_SENDS_PER_SOCKET: f64 = 8.0;

fn main() {
    let args = Args::parse();
    if let Err(err) = bench(args) {
        // The message with its causes; no backtrace (RUST_BACKTRACE would add one).
        eprintln!("sightline-bench: {err:#}");
        std::process::exit(1);
    }
}

fn bench(args: Args) -> anyhow::Result<()> {
    if args.serve_bare {
        return bare::serve(args.chats_per_agent);
    }
    if args.pairs == 0 || args.chats_per_agent == 0 || args.rate == 0 || args.duration == 0 {
        bail!("--pairs, --chats-per-agent, --rate and --duration must be positive");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        tokio::select! {
            result = run(args) => result,
            // Dropping the run stops the server (see Server's Drop) and removes
            // its data directory.
            signal = stop_signal() => bail!("stopped by {signal}"),
        }
    })
}

/// SIGINT, SIGTERM or SIGHUP (e.g. `timeout`), by name.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    }
}

/// Visitor `i` comes from its own loopback address too (127.2.x.y), as visitors do
/// from their own machines: the server limits sockets, identities and messages per
/// address.
fn visitor_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        2 + (i / 62_500) as u8,
        ((i / 250) % 250) as u8,
        (i % 250 + 1) as u8,
    ))
}

/// Agent `i` comes from its own loopback address.
fn agent_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8))
}

fn kib(v: u64) -> String {
    format!("{:.1} MiB", v as f64 / 1024.0)
}

/// Runs `make(i)` for `0..n`, at most `limit` at a time, on the runtime's workers,
/// showing progress. Returns the results in order.
async fn run_limited<T, F, Fut>(label: &str, n: usize, limit: usize, make: F) -> Vec<anyhow::Result<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(limit.max(1)));
    let done = Arc::new(AtomicUsize::new(0));
    let progress = {
        let (done, label) = (done.clone(), label.to_owned());
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        tokio::spawn(async move {
            loop {
                if !terminal {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(Duration::from_millis(1000)).await;
                eprint!("\r  … {label}: {}/{n}   ", done.load(Ordering::Relaxed));
            }
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let Ok(permit) = semaphore.clone().acquire_owned().await else {
            break;
        };
        let future = make(i);
        let done = done.clone();
        tasks.spawn(async move {
            let result = future.await;
            drop(permit);
            done.fetch_add(1, Ordering::Relaxed);
            (i, result)
        });
    }
    let mut results: Vec<Option<anyhow::Result<T>>> = (0..n).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, result)) = joined {
            results[i] = Some(result);
        }
    }
    progress.abort();
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprint!("\r{:60}\r", "");
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow!("task failed"))))
        .collect()
}

/// Splits results into successes and (count, first error).
fn tally<T>(results: Vec<anyhow::Result<T>>) -> (Vec<Option<T>>, usize, Option<String>) {
    let mut failed = 0;
    let mut first = None;
    let values = results
        .into_iter()
        .map(|r| match r {
            Ok(v) => Some(v),
            Err(err) => {
                failed += 1;
                first.get_or_insert_with(|| format!("{err:#}"));
                None
            }
        })
        .collect();
    (values, failed, first)
}

fn session_cookie(response: &server::HttpResponse) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.strip_prefix("sightline_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|v| !v.is_empty())
}

async fn login(
    addr: std::net::SocketAddr,
    from: IpAddr,
    name: &str,
    password: &str,
) -> anyhow::Result<(String, String)> {
    let body = serde_json::json!({ "name": name, "password": password }).to_string();
    let response = http(addr, Some(from), "POST", "/api/login", &[], Some(&body)).await?;
    if response.status != 200 {
        bail!(
            "logging in {name} from {from}: HTTP {} {}",
            response.status,
            response.body
        );
    }
    let session = session_cookie(&response).ok_or_else(|| anyhow!("login of {name}: no session cookie"))?;
    let me: serde_json::Value = serde_json::from_str(&response.body)?;
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_owned();
    Ok((session, csrf))
}

fn print_step(step: &Step, p99_limit_ms: f64, note: &str) {
    let verdict = if step.held(p99_limit_ms) { "held" } else { "NOT held" };
    let waited = if step.waited_s >= 1.0 {
        format!(" (waited {:.0} s for a quiet machine)", step.waited_s)
    } else {
        String::new()
    };
    let note = format!("{note}{waited}");
    println!("{}  {verdict}{note}", step.row());
}

async fn run(args: Args) -> anyhow::Result<()> {
    let agents_n = args.pairs.div_ceil(args.chats_per_agent);
    if agents_n > 250 * 256 {
        bail!("at most {} agents (one loopback address each)", 250 * 256);
    }
    // Both processes hold one descriptor per socket; the server inherits the limit.
    let needed = (args.pairs + agents_n + 256) as u64;
    let limit = rlimit::increase_nofile_limit(u64::MAX).context("raising the open-file limit")?;
    if limit < needed {
        bail!(
            "{} sockets need {needed} open files per process, but the limit is {limit}: raise the hard limit \
             (e.g. `ulimit -Hn 65536` as root, or LimitNOFILE in systemd) or use fewer --pairs",
            args.pairs + agents_n
        );
    }

    println!("Sightline chat benchmark");
    println!("  machine:  {}", server::machine());
    println!(
        "  load:     {} conversations = {} visitor sockets + {} agents x {} chats (one socket each), loopback",
        args.pairs, args.pairs, agents_n, args.chats_per_agent
    );
    if args.bare_only {
        run_bare(&args, &mut 1000).await?;
        return Ok(());
    }
    let mut server = Server::start(
        &args.server_bin,
        ADMIN_PASSWORD,
        args.pairs + agents_n + 1000,
        args.keep_data,
    )?;
    println!(
        "  server:   {} (pid {}) on {}, SQLite in {}, log {}",
        args.server_bin.display(),
        server.pid,
        server.addr,
        server.data_dir.display(),
        server.log_path.display()
    );
    println!(
        "  open files allowed: {limit} per process; load average at start: {}",
        server::load_average()
    );
    let addr = server.addr;
    let shared = Arc::new(Shared::new());
    println!();
    println!("Setup");

    // 1. Memory baseline, then idle visitor sockets. This comes first, before any
    // password hashing: argon2's 19 MiB blocks stay in the allocator's arenas and
    // connection state allocated from them would not show in the RSS.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_base = server.rss_kib()?;
    let started = Instant::now();
    let results = run_limited("visitor sockets", args.pairs, args.connect_concurrency, |i| {
        let shared = shared.clone();
        async move {
            let mut ws = conn::open_ws(addr, Some(visitor_ip(i)), "/ws/visitor", None).await?;
            conn::visitor_hello(&mut ws).await?;
            Ok(conn::spawn_socket(ws, Side::Visitor, shared))
        }
    })
    .await;
    let open_secs = started.elapsed().as_secs_f64();
    let (visitors, failed, first) = tally(results);
    let opened = args.pairs - failed;
    println!(
        "  visitor sockets opened (hello→welcome){:>6} in {:>6.1} s ({:.0}/s){}",
        opened,
        open_secs,
        opened as f64 / open_secs,
        failure_note(failed, &first)
    );
    server.check_alive()?;
    if opened == 0 {
        bail!("no visitor socket could be opened");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = server.rss_kib()?;
    let per_idle_kib = (rss_idle.saturating_sub(rss_base)) as f64 / opened as f64;

    // 2. Agent accounts, each logged in from its own address.
    let started = Instant::now();
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (admin_session, csrf) = login(addr, localhost, "admin", ADMIN_PASSWORD)
        .await
        .context("admin login")?;
    let admin_headers = Arc::new((format!("sightline_session={admin_session}"), csrf));
    // Password hashing (argon2, 19 MiB) dominates: 2 requests at a time per core.
    let results = run_limited("agent accounts", agents_n, 4, |i| {
        let headers = admin_headers.clone();
        async move {
            let name = format!("bench-agent-{i:05}");
            let body = serde_json::json!({
                "name": name, "display_name": format!("Agent {i}"), "password": AGENT_PASSWORD, "is_admin": false
            })
            .to_string();
            let created = http(
                addr,
                None,
                "POST",
                "/api/users",
                &[("Cookie", headers.0.as_str()), ("x-csrf-token", headers.1.as_str())],
                Some(&body),
            )
            .await?;
            if created.status != 201 {
                bail!("creating {name}: HTTP {} {}", created.status, created.body);
            }
            let (session, _) = login(addr, agent_ip(i), &name, AGENT_PASSWORD).await?;
            Ok(session)
        }
    })
    .await;
    let (sessions, failed_agents, first) = tally(results);
    println!(
        "  agent accounts created + logged in   {:>6} in {:>6.1} s{}",
        agents_n - failed_agents,
        started.elapsed().as_secs_f64(),
        failure_note(failed_agents, &first)
    );
    server.check_alive()?;
    if failed_agents == agents_n {
        bail!("no agent could log in");
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_logins = server.rss_kib()?;

    // 3. Conversations: the visitors write, a short-lived socket of their agent
    // accepts; agents' sockets connect only once every conversation is taken.
    let visitors: Vec<Option<mpsc::UnboundedSender<Cmd>>> = visitors;
    let live_visitors: Vec<(usize, mpsc::UnboundedSender<Cmd>)> = visitors
        .into_iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    // Agent i gets the i-th group of chats_per_agent visitors (among agents that logged in).
    let agent_ids: Vec<usize> = sessions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|_| i))
        .collect();
    let groups: Vec<Vec<(usize, mpsc::UnboundedSender<Cmd>)>> = live_visitors
        .chunks(args.chats_per_agent)
        .map(|c| c.to_vec())
        .take(agent_ids.len())
        .collect();
    let sessions = Arc::new(sessions);
    let groups = Arc::new(groups);
    let started = Instant::now();
    let results = run_limited("conversations", groups.len(), 8, |g| {
        let (sessions, groups) = (sessions.clone(), groups.clone());
        let agent = agent_ids[g];
        async move {
            let session = sessions[agent].clone().ok_or_else(|| anyhow!("no session"))?;
            open_conversations(addr, agent_ip(agent), &session, &groups[g]).await
        }
    })
    .await;
    let (opened_groups, failed_groups, first) = tally(results);
    let conversations_n: usize = opened_groups.iter().flatten().map(Vec::len).sum();
    println!(
        "  conversations opened + accepted      {:>6} in {:>6.1} s{}",
        conversations_n,
        started.elapsed().as_secs_f64(),
        failure_note(failed_groups, &first)
    );
    server.check_alive()?;

    // 4. The agents' long-lived sockets.
    let started = Instant::now();
    // Per agent: (visitor index, conversation id) of the conversations it took.
    type Taken = Vec<Option<Vec<(usize, String)>>>;
    let expected: Arc<Taken> = Arc::new(opened_groups);
    let results = run_limited("agent sockets", expected.len(), args.connect_concurrency, |g| {
        let (sessions, expected, shared) = (sessions.clone(), expected.clone(), shared.clone());
        let agent = agent_ids[g];
        async move {
            let Some(mine) = expected[g].as_ref() else {
                bail!("this agent's conversations did not open")
            };
            let session = sessions[agent].clone().ok_or_else(|| anyhow!("no session"))?;
            let mut ws = conn::open_ws(addr, Some(agent_ip(agent)), "/ws/agent", Some(&session)).await?;
            let (me, listed) = conn::agent_hello(&mut ws).await?;
            let owned: HashSet<&str> = listed
                .iter()
                .filter(|(_, status, owner)| status == "active" && *owner == Some(me))
                .map(|(id, _, _)| id.as_str())
                .collect();
            if let Some((_, missing)) = mine.iter().find(|(_, id)| !owned.contains(id.as_str())) {
                bail!("the welcome of agent {agent} does not list conversation {missing} as theirs");
            }
            Ok(conn::spawn_socket(ws, Side::Agent, shared))
        }
    })
    .await;
    let (agent_socks, failed, first) = tally(results);
    println!(
        "  agent sockets opened (hello→welcome) {:>6} in {:>6.1} s{}",
        agent_socks.iter().flatten().count(),
        started.elapsed().as_secs_f64(),
        failure_note(failed, &first)
    );
    server.check_alive()?;

    // The pairs that are complete: visitor socket, conversation, agent socket.
    let visitor_of: std::collections::HashMap<usize, mpsc::UnboundedSender<Cmd>> =
        live_visitors.iter().cloned().collect();
    let mut pairs = Pairs {
        visitors: Vec::new(),
        agents: Vec::new(),
        conversations: Vec::new(),
    };
    for (g, agent_sock) in agent_socks.into_iter().enumerate() {
        let (Some(agent_sock), Some(mine)) = (agent_sock, expected[g].as_ref()) else {
            continue;
        };
        let a = pairs.agents.len();
        pairs.agents.push(agent_sock);
        for (v, conversation) in mine {
            if let Some(tx) = visitor_of.get(v) {
                pairs.visitors.push(tx.clone());
                pairs.conversations.push((conversation.clone(), a));
            }
        }
    }
    drop(visitor_of);
    let held = pairs.conversations.len();
    if held == 0 {
        bail!("no conversation could be set up");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_pairs = server.rss_kib()?;
    let sockets_total = held + pairs.agents.len();
    println!();
    println!("Memory (server VmRSS)");
    println!("  {:<58}{:>10}", "after start", kib(rss_base));
    println!(
        "  {:<58}{:>10}  → {:.1} KiB per idle connection",
        format!("+ {opened} idle visitor sockets (after hello)"),
        kib(rss_idle),
        per_idle_kib
    );
    println!(
        "  {:<58}{:>10}  (argon2 blocks kept by the allocator)",
        format!("+ {} agent accounts created and logged in", agents_n - failed_agents),
        kib(rss_logins)
    );
    println!(
        "  {:<58}{:>10}  → +{:.1} KiB per conversation (lower bound: reuses freed memory)",
        format!("+ {held} conversations, {} agent sockets", pairs.agents.len()),
        kib(rss_pairs),
        (rss_pairs.saturating_sub(rss_logins)) as f64 / held as f64,
    );

    // 5. Round trip at the requested rate.
    let per_agent_socket = f64::from(args.rate) * args.chats_per_agent as f64 / 2.0 / held as f64;
    if per_agent_socket > MAX_SENDS_PER_SOCKET {
        println!(
            "  warning: {:.1} messages/s per agent socket exceeds what the server's per-socket limit allows; \
             expect rate_limited errors",
            per_agent_socket
        );
    }
    println!();
    println!(
        "Round trip at {} msg/s for {} s ({} s warm-up), half from visitors, half from agents",
        args.rate, args.duration, args.warmup
    );
    println!(
        "  round trip = a client sends → the other side receives the `event` (parse, hub, SQLite commit, fan-out)"
    );
    println!("  ack = the sender receives its `ack`; CPU (200% = both cores): srv = server, gen = this generator,");
    println!("  other = everything else on the machine meanwhile; lag = how late the generator sent, at worst");
    println!("{}", Step::header());
    let mut phase_id = 1u32;
    let main_step = measure(&args, &shared, &pairs, &mut server, &mut phase_id, &args.main_step()).await?;
    report_problems(&shared);

    // 6. The highest sustained rate.
    let (best, ceiling_note) = if args.no_rate_search {
        (None, String::new())
    } else {
        search_rate(&args, &shared, &pairs, &mut server, &mut phase_id).await?
    };

    // 7. The waiting queue: every agent hears of every new conversation.
    let _probe_sockets = if args.queue_probe > 0 {
        queue_probe(&args, &shared, &mut server, pairs.agents.len()).await?
    } else {
        Vec::new()
    };

    // 8. Still open?
    server.check_alive()?;
    let metrics = server::fetch_metrics(addr).await.unwrap_or_default();
    let server_connections = metrics
        .iter()
        .find(|(k, _)| k == "sightline_connections")
        .map_or(0.0, |(_, v)| *v) as u64;
    let slow_dropped = metrics
        .iter()
        .find(|(k, _)| k == "sightline_slow_sockets_dropped_total")
        .map_or(0.0, |(_, v)| *v) as u64;
    let live = shared.live.load(Ordering::Relaxed);
    let sockets_total = sockets_total + args.queue_probe;
    let rss_end = server.rss_kib()?;
    println!();
    println!("End");
    println!(
        "  sockets still open: {live} of {sockets_total} (server counts {server_connections}); \
         dropped as too slow by the server: {slow_dropped}; server RSS {}; server threads {}",
        kib(rss_end),
        server.threads()
    );
    let warnings = server.count_log(" WARN ") + server.count_log(" ERROR ");
    if warnings > 0 {
        println!(
            "  the server logged {warnings} warnings/errors (see {})",
            server.log_path.display()
        );
    }

    // Summary against the issue's targets.
    // A conversation is held while both its visitor's and its agent's sockets are.
    let still_held = pairs
        .conversations
        .iter()
        .enumerate()
        .filter(|(i, (_, a))| !pairs.visitors[*i].is_closed() && !pairs.agents[*a].is_closed())
        .count();
    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    println!("Summary (targets from the issue)");
    let row = |figure: &str, measured: String, target: &str, verdict: &str| {
        println!("  {figure:<38} {measured:>12}   {target:<24} {verdict}");
    };
    row("figure", "measured".into(), "target", "");
    row(
        "concurrent conversations held open",
        format!("{still_held}"),
        "10,000",
        if args.pairs < 10_000 {
            "not tested (--pairs < 10000)"
        } else {
            pass(still_held >= 10_000)
        },
    );
    row(
        &format!("p99 round trip at {} msg/s", args.rate),
        format!("{:.1} ms", main_step.p99_ms),
        "< 50 ms at 2,000 msg/s",
        if args.rate < 2000 {
            "not tested (--rate < 2000)"
        } else {
            pass(main_step.p99_ms < 50.0 && main_step.lost == 0)
        },
    );
    row(
        "server memory per idle connection",
        format!("{per_idle_kib:.1} KiB"),
        "< 30 KB",
        pass(per_idle_kib * 1.024 < 30.0),
    );
    let sustained = format!("(p99 ≤ {} ms, nothing lost){ceiling_note}", args.p99_limit_ms);
    match best {
        Some(best) => row("highest sustained rate", format!("{best} msg/s"), &sustained, ""),
        None if args.no_rate_search => row("highest sustained rate", "-".into(), "(--no-rate-search)", ""),
        None => row(
            "highest sustained rate",
            format!("< {} msg/s", args.search_from),
            &sustained,
            "",
        ),
    }
    drop(pairs);
    if !args.keep_data {
        server.discard_log();
    }
    // Stops the server (see Server's Drop) before the bare limit takes the machine.
    drop(server);
    if !args.no_bare {
        let (bare_step, bare_best) = run_bare(&args, &mut phase_id).await?;
        println!();
        println!("Sightline against the bare limit (same load, same machine, same run)");
        let share = |ours: f64, bare: f64| {
            if bare > 0.0 {
                format!("{:.0}%", ours / bare * 100.0)
            } else {
                "-".into()
            }
        };
        println!(
            "  p99 round trip at {} msg/s: Sightline {:.1} ms, bare {:.1} ms",
            args.rate, main_step.p99_ms, bare_step.p99_ms
        );
        println!(
            "  server CPU at {} msg/s: Sightline {:.0}%, bare {:.0}% (200% = both cores)",
            args.rate, main_step.server_cpu_pct, bare_step.server_cpu_pct
        );
        if let (Some(ours), Some(bare)) = (best, bare_best) {
            println!(
                "  highest sustained rate: Sightline {ours} msg/s, bare {bare} msg/s ({} of the bare limit)",
                share(f64::from(ours), f64::from(bare))
            );
        }
    }
    Ok(())
}

/// The same sockets and load against the bare server (see `bare.rs`): the main step
/// at `--rate`, then the rate search. Returns the main step and the highest rate held.
async fn run_bare(args: &Args, phase_id: &mut u32) -> anyhow::Result<(Step, Option<u32>)> {
    let mut server = Server::start_bare(args.chats_per_agent)?;
    let addr = server.addr;
    let shared = Arc::new(Shared::new());
    let agents_n = args.pairs.div_ceil(args.chats_per_agent);
    println!();
    println!(
        "Bare limit: a plain tokio-tungstenite server (pid {}, on {addr}) that parses each frame, serialises the event once",
        server.pid
    );
    println!("  and sends it to both sides with the sender's ack; no hub, no rate limits, no database");
    let started = Instant::now();
    let visitors = run_limited("bare visitor sockets", args.pairs, args.connect_concurrency, |i| {
        let shared = shared.clone();
        async move {
            let ws = conn::open_ws(addr, Some(visitor_ip(i)), &bare::Who::Visitor(i).path(), None).await?;
            Ok(conn::spawn_socket(ws, Side::Visitor, shared))
        }
    })
    .await;
    let agents = run_limited("bare agent sockets", agents_n, args.connect_concurrency, |a| {
        let shared = shared.clone();
        async move {
            let ws = conn::open_ws(addr, Some(agent_ip(a)), &bare::Who::Agent(a).path(), None).await?;
            Ok(conn::spawn_socket(ws, Side::Agent, shared))
        }
    })
    .await;
    let (visitors, failed_visitors, first_visitor) = tally(visitors);
    let (agents, failed_agents, first_agent) = tally(agents);
    let mut pairs = Pairs {
        visitors: Vec::new(),
        agents: Vec::new(),
        conversations: Vec::new(),
    };
    let mut agent_slot = vec![None; agents.len()];
    for (i, visitor) in visitors.into_iter().enumerate() {
        let a = i / args.chats_per_agent;
        let (Some(visitor), Some(Some(agent))) = (visitor, agents.get(a)) else {
            continue;
        };
        let slot = *agent_slot[a].get_or_insert_with(|| {
            pairs.agents.push(agent.clone());
            pairs.agents.len() - 1
        });
        pairs.visitors.push(visitor);
        pairs.conversations.push((bare::conversation_id(i), slot));
    }
    println!(
        "  sockets opened: {} visitors{}, {} agents{}, in {:.1} s",
        args.pairs - failed_visitors,
        failure_note(failed_visitors, &first_visitor),
        agents_n - failed_agents,
        failure_note(failed_agents, &first_agent),
        started.elapsed().as_secs_f64()
    );
    if pairs.conversations.is_empty() {
        bail!("no bare conversation could be set up");
    }
    server.check_alive()?;
    println!("{}", Step::header());
    let main_step = measure(args, &shared, &pairs, &mut server, phase_id, &args.main_step()).await?;
    report_problems(&shared);
    let best = if args.no_rate_search {
        None
    } else {
        let (best, note) = search_rate(args, &shared, &pairs, &mut server, phase_id).await?;
        if let Some(best) = best {
            println!("  bare limit: {best} msg/s sustained{note}");
        }
        best
    };
    drop(pairs);
    server.discard_log();
    Ok((main_step, best))
}

/// Steps the rate up from `--search-from` (doubling) until a step is not held, then
/// bisects twice. Returns the highest rate held and a note when the generator's own
/// ceiling ended the search.
async fn search_rate(
    args: &Args,
    shared: &Arc<Shared>,
    pairs: &Pairs,
    server: &mut Server,
    phase_id: &mut u32,
) -> anyhow::Result<(Option<u32>, String)> {
    let held = pairs.conversations.len();
    let mut ceiling_note = String::new();
    let allowed = (MAX_SENDS_PER_SOCKET * 2.0 * held as f64 / args.chats_per_agent as f64) as u32;
    let cap = args.search_max.unwrap_or(allowed).min(allowed).max(1);
    println!();
    println!(
        "Highest sustained rate: {} s per step, held = p99 ≤ {} ms, nothing lost or refused, ≥ 95% of the rate delivered",
        args.step_duration, args.p99_limit_ms
    );
    println!("{}", Step::header());
    let step_config = |rate| StepConfig {
        rate,
        quiet_wait: Duration::from_secs(args.quiet_wait),
        warmup: Duration::from_secs(2),
        duration: Duration::from_secs(args.step_duration),
        drain: Duration::from_secs(10),
    };
    let mut low: Option<u32> = None;
    let mut high: Option<u32> = None;
    let mut rate = args.search_from.min(cap);
    loop {
        let step = measure(args, shared, pairs, server, phase_id, &step_config(rate)).await?;
        if step.held(args.p99_limit_ms) {
            low = Some(rate);
            if rate >= cap {
                ceiling_note = format!(
                    " (the generator's ceiling: {cap} msg/s keeps every socket under the server's 10 msg/s limit)"
                );
                break;
            }
            rate = (rate * 2).min(cap);
        } else {
            high = Some(rate);
            break;
        }
    }
    // Two bisections between the last rate held and the first that was not.
    if let (Some(mut lo), Some(mut hi)) = (low, high) {
        for _ in 0..2 {
            let mid = ((lo + hi) / 2 / 250) * 250;
            if mid <= lo || mid >= hi {
                break;
            }
            let step = measure(args, shared, pairs, server, phase_id, &step_config(mid)).await?;
            if step.held(args.p99_limit_ms) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        low = Some(lo);
    }
    report_problems(shared);
    Ok((low, ceiling_note))
}

/// New conversations while every agent is online: each one is announced to every
/// agent socket (`conversation_updated`, status waiting).
async fn queue_probe(
    args: &Args,
    shared: &Arc<Shared>,
    server: &mut Server,
    agents: usize,
) -> anyhow::Result<Vec<mpsc::UnboundedSender<Cmd>>> {
    let addr = server.addr;
    let mut sockets = Vec::new();
    for n in 0..args.queue_probe {
        let mut ws = conn::open_ws(addr, Some(visitor_ip(args.pairs + n)), "/ws/visitor", None).await?;
        conn::visitor_hello(&mut ws).await?;
        sockets.push(conn::spawn_socket(ws, Side::Visitor, shared.clone()));
    }
    load::wait_for_quiet(server, Duration::from_secs(args.quiet_wait)).await?;
    let before = shared.queue_updates.load(Ordering::Relaxed);
    let expected = (args.queue_probe * agents) as u64;
    let ticks = server::clock_ticks_per_second();
    let cpu0 = server.cpu_ticks()?;
    let start = shared.now_ns();
    let mut answers = Vec::new();
    for (i, tx) in sockets.iter().enumerate() {
        let (reply, answer) = oneshot::channel();
        let frame = format!(
            r#"{{"type":"send","conversation":null,"client_id":"open-probe-{i}","body":{{"kind":"text","text":"Hello? Anyone there?"}}}}"#
        );
        tx.send(Cmd::Open { frame, reply })
            .map_err(|_| anyhow!("probe visitor socket closed"))?;
        answers.push(answer);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.queue_updates.load(Ordering::Relaxed) - before < expected && Instant::now() < deadline {
        server.check_alive()?;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let got = shared.queue_updates.load(Ordering::Relaxed) - before;
    let last = shared.last_queue_update_ns.load(Ordering::Relaxed);
    let cpu = server.cpu_ticks()?.saturating_sub(cpu0) as f64 / ticks;
    let secs = last.saturating_sub(start) as f64 / 1e9;
    println!();
    println!(
        "Waiting queue: {} new conversations at once, {agents} agents online",
        args.queue_probe
    );
    println!(
        "  `conversation_updated` frames received by agents: {got} of {expected} in {:.0} ms ({:.0} frames/s; server CPU {:.2} s = {:.0} µs per frame)",
        secs * 1000.0,
        got as f64 / secs.max(1e-9),
        cpu,
        cpu * 1e6 / (got.max(1)) as f64
    );
    drop(answers);
    // Held to the end, like every other socket.
    Ok(sockets)
}

fn failure_note(failed: usize, first: &Option<String>) -> String {
    match (failed, first) {
        (0, _) => ", 0 failed".into(),
        (n, Some(first)) => format!(", {n} FAILED (first: {first})"),
        (n, None) => format!(", {n} FAILED"),
    }
}

fn report_problems(shared: &Shared) {
    for (what, list) in [
        ("error frames", &shared.error_samples),
        ("sockets lost", &shared.lost_samples),
    ] {
        let mut list = list.lock().unwrap_or_else(|p| p.into_inner());
        for sample in list.drain(..) {
            println!("  {what}: {sample}");
        }
    }
}

/// Runs a step and prints it; a step that fails while other processes took more
/// than 25% CPU is run again (up to --noisy-retries times). A pause follows, so
/// that one step's backlog does not spill into the next.
async fn measure(
    args: &Args,
    shared: &Arc<Shared>,
    pairs: &Pairs,
    server: &mut Server,
    phase_id: &mut u32,
    config: &StepConfig,
) -> anyhow::Result<Step> {
    let mut attempt = 0;
    loop {
        *phase_id += 1;
        let step = load::run_step(shared, pairs, server, *phase_id, config).await?;
        let noisy = step.other_cpu_pct > 25.0 && !step.held(args.p99_limit_ms);
        let retry = noisy && attempt < args.noisy_retries;
        print_step(
            &step,
            args.p99_limit_ms,
            if retry { " (other processes busy: again)" } else { "" },
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.check_alive()?;
        if !retry {
            return Ok(step);
        }
        attempt += 1;
    }
}

/// Opens the conversations of one agent's visitors and has the agent accept them
/// on a short-lived socket. Returns (visitor index, conversation id).
async fn open_conversations(
    addr: std::net::SocketAddr,
    from: IpAddr,
    session: &str,
    visitors: &[(usize, mpsc::UnboundedSender<Cmd>)],
) -> anyhow::Result<Vec<(usize, String)>> {
    let mut pending = Vec::new();
    for (v, tx) in visitors {
        let (reply, answer) = oneshot::channel();
        let frame = format!(
            r#"{{"type":"send","conversation":null,"client_id":"open-{v}","body":{{"kind":"text","text":"Hi, I need help with my account please."}}}}"#
        );
        tx.send(Cmd::Open { frame, reply })
            .map_err(|_| anyhow!("visitor socket {v} is closed"))?;
        pending.push((*v, answer));
    }
    let mut opened = Vec::new();
    for (v, answer) in pending {
        let conversation = tokio::time::timeout(Duration::from_secs(30), answer)
            .await
            .map_err(|_| anyhow!("visitor {v}: no ack within 30 s"))?
            .map_err(|_| anyhow!("visitor {v}: socket closed"))?
            .map_err(|e| anyhow!("visitor {v}: {e}"))?;
        opened.push((v, conversation));
    }
    // A socket may send a burst of 40 messages; more accepts take more sockets.
    for chunk in opened.chunks(30) {
        let mut ws = conn::open_ws(addr, Some(from), "/ws/agent", Some(session)).await?;
        let (me, _) = conn::agent_hello(&mut ws).await?;
        for (_, conversation) in chunk {
            ws.send(Message::text(format!(
                r#"{{"type":"accept","conversation":"{conversation}"}}"#
            )))
            .await?;
        }
        let mut waiting: HashSet<String> = chunk.iter().map(|(_, c)| c.clone()).collect();
        conn::read_until(&mut ws, Duration::from_secs(30), |text| {
            if text.starts_with(r#"{"type":"conversation_updated""#) {
                let value: serde_json::Value = serde_json::from_str(text)?;
                let c = &value["conversation"];
                if c["status"] == "active" && c["agent"]["id"].as_i64() == Some(me) {
                    if let Some(id) = c["id"].as_str() {
                        waiting.remove(id);
                    }
                }
            } else if let Some(error) = conn::error_of(text) {
                bail!("accepting: {error}");
            }
            Ok(waiting.is_empty().then_some(()))
        })
        .await?;
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    }
    Ok(opened)
}
