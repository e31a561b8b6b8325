//! Open-loop message generation at a fixed aggregate rate, and its statistics.
//!
//! Message `k` is due at `start + k / rate`, whatever happened to earlier messages
//! (no coordinated omission: a slow server cannot slow the generator down), and its
//! latency is measured from that due time. Messages go round the conversations in a
//! scrambled order, alternately from the visitor and from the agent of each.
//! With `SIGHTLINE_BENCH_DEBUG` set, every send more than 10 ms late is printed; with
//! `SIGHTLINE_BENCH_TIMELINE` set, each step ends with its p50, p99 and worst round
//! trip per second (a backlog that builds up shows as a rising p50, a stall as one
//! bad second).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::conn::{Cmd, Phase, Shared};
use crate::server::{self, Server};

/// The held conversations.
pub struct Pairs {
    pub visitors: Vec<mpsc::UnboundedSender<Cmd>>,
    pub agents: Vec<mpsc::UnboundedSender<Cmd>>,
    /// Per conversation: its id and the index of its agent.
    pub conversations: Vec<(String, usize)>,
}

pub struct Step {
    pub rate: u32,
    pub lost: usize,
    pub errors: u64,
    pub sockets_lost: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    /// Delivered measured messages per second of (first due → last delivery).
    pub achieved: f64,
    pub server_cpu_pct: f64,
    pub bench_cpu_pct: f64,
    /// CPU used by everything else on the machine meanwhile (other jobs, steal).
    pub other_cpu_pct: f64,
    pub batches_per_s: f64,
    pub ops_per_batch: f64,
    /// How late the generator got behind its own schedule, at worst.
    pub generator_lag_ms: f64,
    pub server_rss_kib: u64,
    /// Seconds waited for a quiet machine before the step.
    pub waited_s: f64,
}

/// The CPU share (200% = two cores) that processes other than the server and the
/// bench use over the next second.
async fn other_cpu_pct(server: &Server) -> anyhow::Result<f64> {
    let sample = || -> anyhow::Result<i128> {
        Ok(i128::from(server::machine_busy_ticks())
            - i128::from(server.cpu_ticks()?)
            - i128::from(server::cpu_ticks("/proc/self/stat")?))
    };
    let before = sample()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = sample()?;
    Ok((after - before).max(0) as f64 / server::clock_ticks_per_second() * 100.0)
}

/// Waits (up to `limit`) until other processes have used under 25% CPU for three
/// seconds in a row; returns the seconds waited beyond those three.
pub async fn wait_for_quiet(server: &mut Server, limit: Duration) -> anyhow::Result<f64> {
    let started = std::time::Instant::now();
    if limit.is_zero() {
        return Ok(0.0);
    }
    // Three quiet seconds in a row: other work (builds, tests) comes in bursts.
    let mut quiet = 0;
    while quiet < 3 && started.elapsed() < limit {
        server.check_alive()?;
        quiet = if other_cpu_pct(server).await? > 25.0 {
            0
        } else {
            quiet + 1
        };
    }
    Ok((started.elapsed().as_secs_f64() - 3.0).max(0.0))
}

pub struct StepConfig {
    pub rate: u32,
    /// Wait up to this long for other processes to leave the CPUs alone.
    pub quiet_wait: Duration,
    pub warmup: Duration,
    pub duration: Duration,
    pub drain: Duration,
}

const TEXT: &str = "Hello, I was charged twice for my card payment yesterday, can you check? ref";

fn stride_for(n: usize) -> usize {
    // A step coprime with n spreads consecutive messages over agents and sockets.
    let mut s = (n * 618 / 1000).max(1);
    while gcd(s, n) != 1 {
        s += 1;
    }
    s
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

fn metric(metrics: &[(String, f64)], name: &str) -> f64 {
    metrics.iter().find(|(k, _)| k == name).map_or(0.0, |(_, v)| *v)
}

/// Runs one fixed-rate step and gathers its figures.
pub async fn run_step(
    shared: &Arc<Shared>,
    pairs: &Pairs,
    server: &mut Server,
    phase_id: u32,
    config: &StepConfig,
) -> anyhow::Result<Step> {
    let waited_s = wait_for_quiet(server, config.quiet_wait).await?;
    let rate = f64::from(config.rate.max(1));
    let warm = (config.warmup.as_secs_f64() * rate) as usize;
    let measured = (config.duration.as_secs_f64() * rate) as usize;
    let total = warm + measured;
    let phase = Arc::new(Phase::new(phase_id, total, warm));
    *shared.phase.write().unwrap_or_else(|p| p.into_inner()) = Some(phase.clone());
    let errors_before = shared.errors.load(Ordering::Relaxed);
    let lost_before = shared.lost_sockets.load(Ordering::Relaxed);
    let n = pairs.conversations.len();
    let stride = stride_for(n);
    let ticks = server::clock_ticks_per_second();

    let mut generator_lag_ns = 0u64;
    let start_ns = shared.now_ns() + 5_000_000;
    let mut measure_start: Option<(u64, u64, u64, u64)> = None;
    // Fetched off the generator's path, so that it does not delay messages.
    let mut metrics_start = None;
    let mut next_alive_check = 0u64;
    let mut k = 0usize;
    while k < total {
        if k >= warm && measure_start.is_none() {
            measure_start = Some((
                server.cpu_ticks()?,
                server::cpu_ticks("/proc/self/stat")?,
                server::machine_busy_ticks(),
                shared.now_ns(),
            ));
            metrics_start = Some(tokio::spawn(server::fetch_metrics(server.addr)));
        }
        let due_ns = start_ns + (k as f64 * 1e9 / rate) as u64;
        let now = shared.now_ns();
        if due_ns > now {
            tokio::time::sleep(Duration::from_nanos(due_ns - now)).await;
            // Everything due by now goes out in this wake-up.
        }
        let now = shared.now_ns();
        while k < total {
            let due_ns = start_ns + (k as f64 * 1e9 / rate) as u64;
            if due_ns > now {
                break;
            }
            generator_lag_ns = generator_lag_ns.max(now - due_ns);
            if now - due_ns > 10_000_000 && std::env::var_os("SIGHTLINE_BENCH_DEBUG").is_some() {
                eprintln!(
                    "lag {} ms at k={k} t={:.3}s",
                    (now - due_ns) / 1_000_000,
                    (due_ns - start_ns) as f64 / 1e9
                );
            }
            let c = (k * stride) % n;
            let round = k / n;
            let (conversation, agent) = &pairs.conversations[c];
            phase.due_ns[k].store(due_ns, Ordering::Relaxed);
            let from_visitor = (round + c).is_multiple_of(2);
            let sent = if from_visitor {
                let frame = format!(
                    r#"{{"type":"send","conversation":null,"client_id":"m{phase_id}-{k}","body":{{"kind":"text","text":"{TEXT} {k}"}}}}"#
                );
                pairs.visitors[c].send(Cmd::Send(frame))
            } else {
                let frame = format!(
                    r#"{{"type":"send","conversation":"{conversation}","client_id":"m{phase_id}-{k}","body":{{"kind":"text","text":"Thanks, let me look into payment {k} for you."}}}}"#
                );
                pairs.agents[*agent].send(Cmd::Send(frame))
            };
            // A closed socket is counted by its task; its messages count as lost.
            let _ = sent;
            k += 1;
        }
        if shared.now_ns() > next_alive_check {
            server.check_alive()?;
            next_alive_check = shared.now_ns() + 500_000_000;
        }
    }
    let end_due_ns = start_ns + (total as f64 * 1e9 / rate) as u64;

    // Let the last messages arrive.
    let drain_until = shared.now_ns() + u64::try_from(config.drain.as_nanos()).unwrap_or(u64::MAX);
    while (phase.delivered.load(Ordering::Relaxed) as usize) < total && shared.now_ns() < drain_until {
        server.check_alive()?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (cpu0, self0, busy0, t0) = measure_start.unwrap_or((0, 0, 0, start_ns));
    let metrics0 = match metrics_start {
        Some(task) => task.await.ok().and_then(Result::ok).unwrap_or_default(),
        None => Vec::new(),
    };
    // CPU is measured over the measured window (and the drain, which is short when
    // the server keeps up).
    let t1 = shared.now_ns();
    let cpu1 = server.cpu_ticks()?;
    let self1 = server::cpu_ticks("/proc/self/stat")?;
    let busy1 = server::machine_busy_ticks();
    let metrics1 = server::fetch_metrics(server.addr).await.unwrap_or_default();
    let window_s = (t1.saturating_sub(t0)) as f64 / 1e9;
    let batches = metric(&metrics1, "sightline_hub_batches_total") - metric(&metrics0, "sightline_hub_batches_total");
    let ops = metric(&metrics1, "sightline_persisted_operations_total")
        - metric(&metrics0, "sightline_persisted_operations_total");

    *shared.phase.write().unwrap_or_else(|p| p.into_inner()) = None;
    if std::env::var_os("SIGHTLINE_BENCH_TIMELINE").is_some() {
        print_timeline(&phase, rate);
    }
    let mut latencies = std::mem::take(&mut *phase.latency_us.lock().unwrap_or_else(|p| p.into_inner()));
    let mut acks = std::mem::take(&mut *phase.ack_us.lock().unwrap_or_else(|p| p.into_inner()));
    latencies.sort_unstable();
    acks.sort_unstable();
    let delivered = phase.delivered_measured.load(Ordering::Relaxed) as usize;
    let last = phase.last_delivery_ns.load(Ordering::Relaxed).max(end_due_ns);
    let first_measured_due = start_ns + (warm as f64 * 1e9 / rate) as u64;
    let achieved = delivered as f64 / ((last.saturating_sub(first_measured_due)) as f64 / 1e9).max(1e-9);
    Ok(Step {
        rate: config.rate,
        lost: measured.saturating_sub(delivered),
        errors: shared.errors.load(Ordering::Relaxed) - errors_before,
        sockets_lost: shared.lost_sockets.load(Ordering::Relaxed) - lost_before,
        p50_ms: percentile_ms(&latencies, 50.0),
        p90_ms: percentile_ms(&latencies, 90.0),
        p99_ms: percentile_ms(&latencies, 99.0),
        p999_ms: percentile_ms(&latencies, 99.9),
        max_ms: latencies.last().map_or(f64::NAN, |v| f64::from(*v) / 1000.0),
        ack_p50_ms: percentile_ms(&acks, 50.0),
        ack_p99_ms: percentile_ms(&acks, 99.0),
        achieved,
        server_cpu_pct: (cpu1.saturating_sub(cpu0)) as f64 / ticks / window_s * 100.0,
        bench_cpu_pct: (self1.saturating_sub(self0)) as f64 / ticks / window_s * 100.0,
        other_cpu_pct: (busy1
            .saturating_sub(busy0)
            .saturating_sub(cpu1.saturating_sub(cpu0))
            .saturating_sub(self1.saturating_sub(self0))) as f64
            / ticks
            / window_s
            * 100.0,
        batches_per_s: batches / window_s,
        ops_per_batch: if batches > 0.0 { ops / batches } else { 0.0 },
        generator_lag_ms: generator_lag_ns as f64 / 1e6,
        server_rss_kib: server.rss_kib().unwrap_or(0),
        waited_s,
    })
}

impl Step {
    /// Whether the server sustained this rate: everything delivered, nothing
    /// refused, the rate reached and p99 within the limit.
    pub fn held(&self, p99_limit_ms: f64) -> bool {
        self.lost == 0
            && self.errors == 0
            && self.sockets_lost == 0
            && self.p99_ms <= p99_limit_ms
            && self.achieved >= 0.95 * f64::from(self.rate)
    }

    pub fn header() -> String {
        format!(
            "  {:>7} {:>8} {:>6} {:>5} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>7}",
            "rate/s", "achieved", "lost", "errs", "p50 ms", "p90 ms", "p99 ms", "p99.9", "max ms", "ack p50", "ack p99",
            "srvCPU", "genCPU", "other", "batches/s", "ops/b", "lag ms", "RSS MiB"
        )
    }

    pub fn row(&self) -> String {
        format!(
            "  {:>7} {:>8.0} {:>6} {:>5} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>8.1} {:>8.1} {:>8.1} {:>5.0}% {:>5.0}% {:>5.0}% {:>8.0} {:>6.1} {:>6.1} {:>7.0}",
            self.rate,
            self.achieved,
            self.lost,
            self.errors + self.sockets_lost,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.p999_ms,
            self.max_ms,
            self.ack_p50_ms,
            self.ack_p99_ms,
            self.server_cpu_pct,
            self.bench_cpu_pct,
            self.other_cpu_pct,
            self.batches_per_s,
            self.ops_per_batch,
            self.generator_lag_ms,
            self.server_rss_kib as f64 / 1024.0,
        )
    }
}

/// Per second of the step: p99 and worst round trip of the messages due in it.
fn print_timeline(phase: &Phase, rate: f64) {
    let per_second = (rate as usize).max(1);
    let by_k: Vec<u32> = phase.latency_by_k.iter().map(|l| l.load(Ordering::Relaxed)).collect();
    for (second, chunk) in by_k[phase.measure_from.min(by_k.len())..]
        .chunks(per_second)
        .enumerate()
    {
        let mut delivered: Vec<u32> = chunk.iter().copied().filter(|l| *l != u32::MAX).collect();
        delivered.sort_unstable();
        eprintln!(
            "timeline {second:>3} s: p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  lost {}",
            percentile_ms(&delivered, 50.0),
            percentile_ms(&delivered, 99.0),
            delivered.last().map_or(f64::NAN, |v| f64::from(*v) / 1000.0),
            chunk.len() - delivered.len()
        );
    }
}
