//! The server under test: started as a child process on 127.0.0.1 port 0 with a
//! temporary data directory, watched through /proc, and reached with a minimal
//! HTTP/1.1 client (a handful of requests: login, accounts, /metrics).

use std::io::{BufRead as _, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    pub log_path: PathBuf,
    pub data_dir: PathBuf,
    // Removed when the bench ends (after the child is killed, see Drop).
    _data: Option<tempfile::TempDir>,
    /// Whether Drop removes the log: set once the run has succeeded.
    remove_log: bool,
}

/// Environment variables of the server that would change what is measured.
const SERVER_ENV: &[&str] = &[
    "SIGHTLINE_CONFIG",
    "SIGHTLINE_BIND",
    "SIGHTLINE_PUBLIC_URL",
    "SIGHTLINE_DATA_DIR",
    "SIGHTLINE_DATABASE_URL",
    "SIGHTLINE_ALLOWED_ORIGINS",
    "SIGHTLINE_TLS_CERT",
    "SIGHTLINE_TLS_KEY",
    "SIGHTLINE_LOG_FORMAT",
    "SIGHTLINE_MAX_CONNECTIONS",
];

impl Server {
    /// Starts `bin serve` on 127.0.0.1:0 and waits for the URL it prints.
    pub fn start(bin: &Path, admin_password: &str, max_connections: usize, keep_data: bool) -> anyhow::Result<Server> {
        if !bin.exists() {
            bail!(
                "no server binary at {} (build it with `cargo build --release -p sightline`, or pass --server-bin)",
                bin.display()
            );
        }
        let data = tempfile::Builder::new()
            .prefix("sightline-bench-")
            .tempdir()
            .context("creating a temporary data directory")?;
        let data_dir = data.path().to_path_buf();
        let log_path = std::env::temp_dir().join(format!("sightline-bench-server-{}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let mut command = Command::new(bin);
        for var in SERVER_ENV {
            command.env_remove(var);
        }
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .args(["--max-connections", &max_connections.to_string()])
            .env("SIGHTLINE_ADMIN_PASSWORD", admin_password)
            // SIGHTLINE_BENCH_SERVER_LOG: the server's log filter, e.g.
            // `info,sightline::hub_task=debug` for each commit's size and time.
            .env(
                "SIGHTLINE_LOG",
                std::env::var("SIGHTLINE_BENCH_SERVER_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
            )
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        Server::spawn(command, bin, log_path, Some(data), keep_data)
    }

    /// Starts the bare server of this binary (`--serve-bare`, see `bare.rs`).
    pub fn start_bare(per_agent: usize) -> anyhow::Result<Server> {
        let bin = std::env::current_exe().context("finding the bench binary")?;
        let log_path = std::env::temp_dir().join(format!("sightline-bench-bare-{}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let mut command = Command::new(&bin);
        command
            .args(["--serve-bare", "--chats-per-agent", &per_agent.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        Server::spawn(command, &bin, log_path, None, false)
    }

    /// Spawns `command` and waits for the URL it prints. `data` is the server's
    /// data directory (the bare server has none).
    fn spawn(
        mut command: Command,
        bin: &Path,
        log_path: PathBuf,
        data: Option<tempfile::TempDir>,
        keep_data: bool,
    ) -> anyhow::Result<Server> {
        let data_dir = data.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default();
        let mut child = command.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let (url_tx, url_rx) = std::sync::mpsc::channel::<String>();
        // Reads stdout to its end, so that the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Sightline is running at ") {
                    let _ = url_tx.send(rest.trim().to_owned());
                }
            }
        });
        let mut server = Server {
            child,
            pid,
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            log_path,
            data_dir,
            _data: match data {
                Some(data) if keep_data => {
                    let _ = data.keep();
                    None
                }
                data => data,
            },
            remove_log: false,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            match url_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(url) => break url,
                Err(_) => {
                    server.check_alive()?;
                    if Instant::now() > deadline {
                        bail!("the server did not print its URL within 60 s{}", server.log_tail_note());
                    }
                }
            }
        };
        let hostport = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("unexpected server URL {url}"))?
            .trim_end_matches('/');
        server.addr = hostport
            .parse()
            .with_context(|| format!("parsing the server address {hostport}"))?;
        Ok(server)
    }

    /// Fails with the server's exit status and last log lines if it has stopped.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => bail!("the server exited ({status}){}", self.log_tail_note()),
        }
    }

    pub fn log_tail_note(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n    ");
        format!("\n  server log {}:\n    {tail}", self.log_path.display())
    }

    /// Log lines containing `needle` (e.g. warnings about slow sockets).
    pub fn count_log(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log_path)
            .map(|text| text.lines().filter(|l| l.contains(needle)).count())
            .unwrap_or(0)
    }

    /// Resident set size in KiB (VmRSS).
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        proc_status_kib(self.pid, "VmRSS:")
    }

    /// CPU time used so far (user + system), in clock ticks.
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        cpu_ticks(&format!("/proc/{}/stat", self.pid))
    }

    pub fn threads(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Threads:"))
                    .and_then(|l| l[8..].trim().parse().ok())
            })
            .unwrap_or(0)
    }
}

/// The counters of the server's `/metrics`, by name.
pub async fn fetch_metrics(addr: SocketAddr) -> anyhow::Result<Vec<(String, f64)>> {
    let response = http(addr, None, "GET", "/metrics", &[], None).await?;
    Ok(response
        .body
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(k, v)| v.trim().parse().ok().map(|v| (k.to_owned(), v)))
        .collect())
}

impl Server {
    /// The run went well: the log goes with the server.
    pub fn discard_log(&mut self) {
        self.remove_log = true;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.remove_log {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}

fn proc_status_kib(pid: u32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc/PID/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .ok_or_else(|| anyhow!("no {key} in /proc/{pid}/status"))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("parsing {line}"))
}

/// utime + stime of a /proc/.../stat file, in clock ticks.
pub fn cpu_ticks(path: &str) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name may contain spaces; fields are counted after its ')'.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ')': state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    Ok(utime + stime)
}

/// CPU time the whole machine spent busy (all cores, including steal), in clock
/// ticks: what other processes use is this minus the server and the bench.
pub fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal
    [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| f.get(i)).sum()
}

/// The 1-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// Clock ticks per second for /proc CPU times.
pub fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A TCP connection to the server, optionally from a given loopback source address.
pub async fn connect(addr: SocketAddr, from: Option<IpAddr>) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = from {
        socket
            .bind(SocketAddr::new(ip, 0))
            .with_context(|| format!("binding to {ip}"))?;
    }
    let stream = socket
        .connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// One HTTP/1.1 request with `Connection: close`; enough for the few API calls the
/// bench makes, so that no HTTP client stack is needed.
pub async fn http(
    addr: SocketAddr,
    from: Option<IpAddr>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json_body: Option<&str>,
) -> anyhow::Result<HttpResponse> {
    let mut stream = connect(addr, from).await?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = json_body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        request.push_str("\r\n");
    }
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw))
        .await
        .map_err(|_| anyhow!("{method} {path}: no answer within 60 s"))??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("{method} {path}: malformed HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("{method} {path}: no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[(end + 4 + size).min(data.len())..];
    }
    out
}

/// A short description of the machine, for the report.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem_kib = proc_meminfo_kib("MemTotal:").unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({model}), {:.1} GiB RAM, Linux {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        kernel.trim()
    )
}

fn proc_meminfo_kib(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}
