//! Configuration: defaults, overridden by a TOML file, overridden by environment
//! variables and command-line flags (clap reads both: every flag has an
//! environment variable).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use serde::Deserialize;
use sightline_core::identity::IdentitySecret;
use sightline_core::{Allowance, Limits, ShareSettings, TurnSettings};
use sightline_proto::{IceServer, ShareLimits};

/// Flags of `sightline serve`. Each is optional so that the file can fill it in.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]. Port 0 picks a free port.
    #[arg(long, global = true, env = "SIGHTLINE_BIND")]
    pub bind: Option<SocketAddr>,
    /// The URL people use to reach this server [default: http(s)://BIND/].
    #[arg(long, global = true, env = "SIGHTLINE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Directory for the SQLite database and files [default: ./sightline-data].
    #[arg(long, global = true, env = "SIGHTLINE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://... [default: SQLite in the data dir].
    #[arg(long, global = true, env = "SIGHTLINE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Origins of the websites that embed the widget, comma-separated
    /// (e.g. `https://www.example.com`). The server's own origin is always allowed.
    #[arg(long, global = true, env = "SIGHTLINE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, global = true, env = "SIGHTLINE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, global = true, env = "SIGHTLINE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Log format: text or json [default: text].
    #[arg(long, global = true, env = "SIGHTLINE_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Most simultaneous WebSocket connections [default: 50000].
    #[arg(long, global = true, env = "SIGHTLINE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// STUN servers for screen shares, comma-separated (e.g. stun:stun.example.com:3478).
    #[arg(long, global = true, env = "SIGHTLINE_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Option<Vec<String>>,
    /// TURN servers, comma-separated (e.g. turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349).
    #[arg(long, global = true, env = "SIGHTLINE_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Option<Vec<String>>,
    /// The secret shared with coturn's `static-auth-secret`; credentials are minted per share.
    #[arg(long, global = true, env = "SIGHTLINE_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,
    /// Lifetime of minted TURN credentials in seconds [default: 21600].
    #[arg(long, global = true, env = "SIGHTLINE_TURN_TTL")]
    pub turn_ttl: Option<u64>,
    /// ICE transport policy for shares: all, or relay to force TURN [default: all].
    #[arg(long, global = true, env = "SIGHTLINE_ICE_TRANSPORT_POLICY")]
    pub ice_transport_policy: Option<String>,
    /// Highest bitrate of a screen share in bits per second [default: 1500000].
    #[arg(long, global = true, env = "SIGHTLINE_SHARE_MAX_BITRATE")]
    pub share_max_bitrate: Option<u32>,
    /// Frames per second in text mode [default: 5].
    #[arg(long, global = true, env = "SIGHTLINE_SHARE_TEXT_FPS")]
    pub share_text_fps: Option<u32>,
    /// Frames per second in motion mode [default: 15].
    #[arg(long, global = true, env = "SIGHTLINE_SHARE_MOTION_FPS")]
    pub share_motion_fps: Option<u32>,
    /// Largest image upload in bytes [default: 10485760 (10 MB)].
    #[arg(long, global = true, env = "SIGHTLINE_MAX_IMAGE_BYTES")]
    pub max_image_bytes: Option<u64>,
    /// Upload bytes held in memory at once, by all uploads together; an upload
    /// that finds no room within 5 s is answered 503 [default: 8 uploads of the
    /// largest size, with annotations: 86507520 (82.5 MiB)].
    #[arg(long, global = true, env = "SIGHTLINE_MAX_UPLOAD_MEMORY")]
    pub max_upload_memory: Option<u64>,
    /// Most simultaneous TCP connections, and WebSockets, from one client address
    /// (IPv6: one /64) [default: 256].
    #[arg(long, global = true, env = "SIGHTLINE_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
    /// WebSocket connections kept for agents: visitors may use at most
    /// max-connections minus this [default: max-connections / 20, at least 1].
    #[arg(long, global = true, env = "SIGHTLINE_RESERVED_AGENT_CONNECTIONS")]
    pub reserved_agent_connections: Option<usize>,
    /// Seconds a client has to send a request's headers, and a WebSocket to be
    /// welcomed after its upgrade [default: 10].
    #[arg(long, global = true, env = "SIGHTLINE_HANDSHAKE_TIMEOUT")]
    pub handshake_timeout: Option<u64>,
    /// Seconds an API request may take in all, its body included (a slowly sent
    /// body holds a connection and memory) [default: 60].
    #[arg(long, global = true, env = "SIGHTLINE_REQUEST_TIMEOUT")]
    pub request_timeout: Option<u64>,
    /// Reverse proxies (CIDRs, comma-separated) whose Forwarded / X-Forwarded-For
    /// headers name the client address [default: none: the headers are ignored].
    #[arg(long, global = true, env = "SIGHTLINE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// The header trusted proxies name the client in: x-forwarded-for or forwarded
    /// (only that one is read; make the proxy overwrite it) [default: x-forwarded-for].
    #[arg(long, global = true, env = "SIGHTLINE_FORWARDED_HEADER")]
    pub forwarded_header: Option<String>,
    /// Bearer token that lets any address read /metrics [default: none: only
    /// loopback clients may].
    #[arg(long, global = true, env = "SIGHTLINE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve /metrics on this address instead (to anyone who reaches it), and not on
    /// the main one [default: none].
    #[arg(long, global = true, env = "SIGHTLINE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Turn the demo site off: `/demo` answers 404 and `/` leads to the console.
    #[arg(long, global = true, env = "SIGHTLINE_NO_DEMO")]
    pub no_demo: bool,
    /// The company's name, shown to visitors on /join [default: none].
    #[arg(long, global = true, env = "SIGHTLINE_COMPANY_NAME")]
    pub company_name: Option<String>,
    /// The company's logo on /join: an https URL or a path on this server
    /// (starting with /) [default: none].
    #[arg(long, global = true, env = "SIGHTLINE_COMPANY_LOGO_URL")]
    pub company_logo_url: Option<String>,
    /// When agents answer, as days and times, `;`-separated (e.g.
    /// `Mon-Fri 09:00-17:30;Sat 10:00-14:00`); outside them visitors are told
    /// nobody is available [default: none: always open].
    #[arg(long, global = true, env = "SIGHTLINE_OFFICE_HOURS", value_delimiter = ';')]
    pub office_hours: Option<Vec<String>>,
    /// The time zone of the office hours, an IANA name such as `Europe/Berlin`
    /// [default: UTC].
    #[arg(long, global = true, env = "SIGHTLINE_TIME_ZONE")]
    pub time_zone: Option<String>,
    /// The secret host sites sign `Sightline.identify` with (HMAC-SHA256 over the
    /// user's id, name and e-mail address), at least 16 characters [default: none:
    /// identify is refused].
    #[arg(long, global = true, env = "SIGHTLINE_IDENTITY_SECRET", hide_env_values = true)]
    pub identity_secret: Option<String>,
}

/// A burst and a sustained rate, as written in the file's `[limits]` table.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowanceFile {
    burst: u32,
    per_second: f64,
}

impl AllowanceFile {
    fn apply(self, name: &str, into: &mut Allowance) -> anyhow::Result<()> {
        if self.burst == 0 || !(self.per_second > 0.0 && self.per_second.is_finite()) {
            bail!("limits.{name}: burst and per_second must be above 0");
        }
        *into = Allowance::new(self.burst, self.per_second);
        Ok(())
    }
}

/// The file's `[limits]` table: the hub's rate limits (see README, Security).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    messages_per_socket: Option<AllowanceFile>,
    messages_per_visitor: Option<AllowanceFile>,
    messages_per_address: Option<AllowanceFile>,
    sockets_per_visitor: Option<usize>,
    new_visitors_per_address: Option<AllowanceFile>,
    new_conversations_per_address: Option<AllowanceFile>,
    key_tries_per_address: Option<AllowanceFile>,
    key_tries_global: Option<AllowanceFile>,
}

impl LimitsFile {
    fn resolve(self) -> anyhow::Result<Limits> {
        let mut limits = Limits::default();
        let pairs = [
            (
                "messages_per_socket",
                self.messages_per_socket,
                &mut limits.messages_per_socket,
            ),
            (
                "messages_per_visitor",
                self.messages_per_visitor,
                &mut limits.messages_per_visitor,
            ),
            (
                "messages_per_address",
                self.messages_per_address,
                &mut limits.messages_per_address,
            ),
            (
                "new_visitors_per_address",
                self.new_visitors_per_address,
                &mut limits.new_visitors_per_address,
            ),
            (
                "new_conversations_per_address",
                self.new_conversations_per_address,
                &mut limits.new_conversations_per_address,
            ),
            (
                "key_tries_per_address",
                self.key_tries_per_address,
                &mut limits.key_tries_per_address,
            ),
            ("key_tries_global", self.key_tries_global, &mut limits.key_tries_global),
        ];
        for (name, given, into) in pairs {
            if let Some(given) = given {
                given.apply(name, into)?;
            }
        }
        if let Some(n) = self.sockets_per_visitor {
            if n == 0 {
                bail!("limits.sockets_per_visitor must be at least 1");
            }
            limits.sockets_per_visitor = n;
        }
        Ok(limits)
    }
}

/// The `[server]`-less TOML file: the same names as the flags, in snake_case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    allowed_origins: Option<Vec<String>>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    log_format: Option<String>,
    max_connections: Option<usize>,
    stun_urls: Option<Vec<String>>,
    turn_urls: Option<Vec<String>>,
    turn_secret: Option<String>,
    turn_ttl: Option<u64>,
    ice_transport_policy: Option<String>,
    share_max_bitrate: Option<u32>,
    share_text_fps: Option<u32>,
    share_motion_fps: Option<u32>,
    max_image_bytes: Option<u64>,
    max_upload_memory: Option<u64>,
    max_connections_per_address: Option<usize>,
    reserved_agent_connections: Option<usize>,
    handshake_timeout: Option<u64>,
    request_timeout: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    forwarded_header: Option<String>,
    metrics_token: Option<String>,
    metrics_bind: Option<SocketAddr>,
    no_demo: Option<bool>,
    company_name: Option<String>,
    company_logo_url: Option<String>,
    office_hours: Option<Vec<String>>,
    time_zone: Option<String>,
    identity_secret: Option<String>,
    #[serde(default)]
    limits: LimitsFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Without a trailing slash.
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Normalised `scheme://host[:port]` origins.
    pub allowed_origins: Vec<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub log_format: LogFormat,
    pub max_connections: usize,
    /// Screen-share settings handed to the core.
    pub share: ShareSettings,
    /// Largest image upload, in bytes.
    pub max_image_bytes: u64,
    /// Upload bytes in memory at once, all uploads together.
    pub max_upload_memory: u64,
    /// Rates of each relayed stream (co-browse, control, recording).
    pub stream_limits: crate::relay::StreamLimits,
    /// Most TCP connections and WebSockets from one address group.
    pub max_connections_per_address: usize,
    /// WebSockets that visitors may not take.
    pub reserved_agent_connections: usize,
    /// Time to send request headers, and for a WebSocket to be welcomed.
    pub handshake_timeout: std::time::Duration,
    /// Time for a whole API request, body included.
    pub request_timeout: std::time::Duration,
    /// Proxies whose forwarding header is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The one header they name the client in.
    pub forwarded_header: crate::net::ForwardedHeader,
    pub metrics_token: Option<String>,
    pub metrics_bind: Option<SocketAddr>,
    /// The hub's rate limits.
    pub limits: Limits,
    /// Serve the demo site at `/demo` (off with `--no-demo`).
    pub demo: bool,
    /// Who visitors deal with, as `/join` presents it.
    pub company: Company,
    /// When agents answer; `None`: always.
    pub office_hours: Option<crate::office_hours::OfficeHours>,
    /// What `Sightline.identify` signatures are checked with; `None`: refused.
    pub identity_secret: Option<IdentitySecret>,
}

/// The company's name and logo, shown to visitors on `/join`. Checked at
/// start-up: the page writes them as text and as an `<img>`'s address only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Company {
    /// At most 100 characters, none of them control characters.
    pub name: Option<String>,
    /// An `https://` URL, or a path on this server (`/brand/logo.svg`).
    pub logo_url: Option<String>,
}

impl Company {
    /// Checks the configured values; empty ones count as not set.
    pub fn resolve(name: Option<String>, logo_url: Option<String>) -> anyhow::Result<Company> {
        let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if let Some(name) = &name {
            if name.chars().count() > 100 || name.chars().any(char::is_control) {
                bail!("company_name must be at most 100 characters, without control characters");
            }
        }
        let logo_url = logo_url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        if let Some(url) = &logo_url {
            check_logo_url(url)?;
        }
        Ok(Company { name, logo_url })
    }

    /// The origin the logo comes from when it is on another server (for the
    /// page's `img-src`); None for a path on this server or no logo.
    pub fn logo_origin(&self) -> Option<String> {
        let url = url::Url::parse(self.logo_url.as_deref()?).ok()?;
        Some(url.origin().ascii_serialization())
    }
}

/// An `https://` URL without credentials, or an absolute path on this server.
fn check_logo_url(text: &str) -> anyhow::Result<()> {
    let refuse = || {
        anyhow::anyhow!(
            "company_logo_url must be an https:// URL or a path on this server starting with /, not {text:?}"
        )
    };
    if text.len() > 2048 || text.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return Err(refuse());
    }
    if text.starts_with('/') {
        // "//host/x" would be another server, reached with the page's scheme.
        if text.starts_with("//") {
            return Err(refuse());
        }
        return Ok(());
    }
    let url = url::Url::parse(text).map_err(|_| refuse())?;
    if url.scheme() != "https" || url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(refuse());
    }
    Ok(())
}

impl Config {
    /// Merges flags (and environment) over the file over defaults.
    pub fn resolve(args: ServeArgs, file: Option<&std::path::Path>) -> anyhow::Result<Config> {
        let file: FileConfig = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("sightline-data"));
        let database_url = args
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("sightline.db").display()));
        let tls = match (args.tls_cert.or(file.tls_cert), args.tls_key.or(file.tls_key)) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => bail!("TLS needs both a certificate (--tls-cert) and a key (--tls-key)"),
        };
        let log_format = match args.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("unknown log format {other:?}: use text or json"),
        };
        let allowed_origins = args
            .allowed_origins
            .or(file.allowed_origins)
            .unwrap_or_default()
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .map(normalize_origin)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let public_url = args
            .public_url
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url {
            normalize_origin(url).context("--public-url")?;
        }
        let stun_urls = args.stun_urls.or(file.stun_urls).unwrap_or_default();
        let turn_urls = args.turn_urls.or(file.turn_urls).unwrap_or_default();
        let turn_secret = args.turn_secret.or(file.turn_secret);
        for url in stun_urls.iter().chain(&turn_urls) {
            if !(url.starts_with("stun:")
                || url.starts_with("stuns:")
                || url.starts_with("turn:")
                || url.starts_with("turns:"))
            {
                bail!("{url:?} is not a stun:, stuns:, turn: or turns: URL");
            }
        }
        let turn = match (turn_urls.is_empty(), turn_secret) {
            (true, None) => None,
            (false, Some(secret)) if !secret.is_empty() => Some(TurnSettings {
                urls: turn_urls,
                secret,
                ttl_secs: args.turn_ttl.or(file.turn_ttl).unwrap_or(6 * 3600),
            }),
            (false, _) => bail!("TURN servers need the shared secret (--turn-secret) to mint credentials"),
            (true, Some(_)) => bail!("--turn-secret is set but no --turn-urls"),
        };
        let ice_transport_policy = args
            .ice_transport_policy
            .or(file.ice_transport_policy)
            .unwrap_or_else(|| "all".into());
        if !matches!(ice_transport_policy.as_str(), "all" | "relay") {
            bail!("ice_transport_policy is all or relay, not {ice_transport_policy:?}");
        }
        if ice_transport_policy == "relay" && turn.is_none() {
            bail!("ice_transport_policy relay needs TURN servers");
        }
        let limits = ShareLimits {
            max_bitrate_bps: args.share_max_bitrate.or(file.share_max_bitrate).unwrap_or(1_500_000),
            text_fps: args.share_text_fps.or(file.share_text_fps).unwrap_or(5),
            motion_fps: args.share_motion_fps.or(file.share_motion_fps).unwrap_or(15),
        };
        if limits.max_bitrate_bps < 50_000
            || limits.text_fps == 0
            || limits.motion_fps == 0
            || limits.text_fps > 60
            || limits.motion_fps > 60
        {
            bail!("share limits out of range: bitrate at least 50000, frame rates 1 to 60");
        }
        let share = ShareSettings {
            ice_servers: if stun_urls.is_empty() {
                Vec::new()
            } else {
                vec![IceServer {
                    urls: stun_urls,
                    username: None,
                    credential: None,
                }]
            },
            turn,
            ice_transport_policy,
            limits,
            ..ShareSettings::default()
        };
        let max_image_bytes = args
            .max_image_bytes
            .or(file.max_image_bytes)
            .unwrap_or(sightline_proto::DEFAULT_MAX_IMAGE_BYTES);
        if !(1024..=1024 * 1024 * 1024).contains(&max_image_bytes) {
            bail!("max_image_bytes must be between 1024 and 1073741824, not {max_image_bytes}");
        }
        let max_upload_memory = args
            .max_upload_memory
            .or(file.max_upload_memory)
            .unwrap_or_else(|| default_upload_memory(max_image_bytes));
        if max_upload_memory < default_upload_memory(max_image_bytes) / 8 {
            bail!(
                "max_upload_memory must hold at least one upload of max_image_bytes with its annotations ({} bytes), not {max_upload_memory}",
                default_upload_memory(max_image_bytes) / 8
            );
        }
        let max_connections = args.max_connections.or(file.max_connections).unwrap_or(50_000);
        if max_connections < 2 {
            bail!("max_connections must be at least 2");
        }
        let reserved_agent_connections = args
            .reserved_agent_connections
            .or(file.reserved_agent_connections)
            .unwrap_or((max_connections / 20).max(1));
        if reserved_agent_connections >= max_connections {
            bail!("reserved_agent_connections must be below max_connections");
        }
        let max_connections_per_address = args
            .max_connections_per_address
            .or(file.max_connections_per_address)
            .unwrap_or(256);
        if max_connections_per_address == 0 {
            bail!("max_connections_per_address must be at least 1");
        }
        let handshake_timeout = args.handshake_timeout.or(file.handshake_timeout).unwrap_or(10);
        if !(1..=300).contains(&handshake_timeout) {
            bail!("handshake_timeout is 1 to 300 seconds, not {handshake_timeout}");
        }
        let request_timeout = args.request_timeout.or(file.request_timeout).unwrap_or(60);
        if !(1..=3600).contains(&request_timeout) {
            bail!("request_timeout is 1 to 3600 seconds, not {request_timeout}");
        }
        let trusted_proxies = args
            .trusted_proxies
            .or(file.trusted_proxies)
            .unwrap_or_default()
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(parse_cidr)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let forwarded_header = match args
            .forwarded_header
            .or(file.forwarded_header)
            .map(|h| h.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("x-forwarded-for") => crate::net::ForwardedHeader::XForwardedFor,
            Some("forwarded") => crate::net::ForwardedHeader::Forwarded,
            Some(other) => bail!("forwarded_header is x-forwarded-for or forwarded, not {other:?}"),
        };
        let metrics_token = args.metrics_token.or(file.metrics_token).filter(|t| !t.is_empty());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            bail!("metrics_token needs at least 16 characters");
        }
        let identity_secret = match args.identity_secret.or(file.identity_secret) {
            None => None,
            Some(secret) if secret.is_empty() => None,
            Some(secret) => Some(IdentitySecret::new(&secret).context("identity_secret needs at least 16 characters")?),
        };
        Ok(Config {
            identity_secret,
            share,
            max_image_bytes,
            max_upload_memory,
            stream_limits: crate::relay::StreamLimits::default(),
            max_connections_per_address,
            reserved_agent_connections,
            handshake_timeout: std::time::Duration::from_secs(handshake_timeout),
            request_timeout: std::time::Duration::from_secs(request_timeout),
            trusted_proxies,
            forwarded_header,
            metrics_token,
            metrics_bind: args.metrics_bind.or(file.metrics_bind),
            limits: file.limits.resolve()?,
            // A flag can only be given, so it wins when given; else the file.
            demo: !(args.no_demo || file.no_demo.unwrap_or(false)),
            company: Company::resolve(
                args.company_name.or(file.company_name),
                args.company_logo_url.or(file.company_logo_url),
            )?,
            office_hours: match (
                args.office_hours.or(file.office_hours),
                args.time_zone.or(file.time_zone),
            ) {
                (Some(entries), zone) => Some(crate::office_hours::OfficeHours::parse(
                    &entries,
                    zone.as_deref().unwrap_or("UTC"),
                )?),
                (None, Some(_)) => bail!("time_zone is for office_hours, which are not set"),
                (None, None) => None,
            },
            bind: args
                .bind
                .or(file.bind)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            public_url,
            data_dir,
            database_url,
            allowed_origins,
            tls,
            log_format,
            max_connections,
        })
    }

    /// A configuration for tests: port 0 on loopback, everything in `data_dir`.
    pub fn for_tests(data_dir: PathBuf) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            database_url: format!("sqlite://{}", data_dir.join("sightline.db").display()),
            data_dir,
            allowed_origins: Vec::new(),
            tls: None,
            log_format: LogFormat::Text,
            max_connections: 50_000,
            share: ShareSettings::default(),
            max_image_bytes: sightline_proto::DEFAULT_MAX_IMAGE_BYTES,
            max_upload_memory: default_upload_memory(sightline_proto::DEFAULT_MAX_IMAGE_BYTES),
            stream_limits: crate::relay::StreamLimits::default(),
            max_connections_per_address: 256,
            reserved_agent_connections: 2_500,
            handshake_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(60),
            trusted_proxies: Vec::new(),
            forwarded_header: crate::net::ForwardedHeader::XForwardedFor,
            metrics_token: None,
            metrics_bind: None,
            limits: Limits::default(),
            demo: true,
            company: Company::default(),
            office_hours: None,
            identity_secret: None,
        }
    }
}

/// A CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
fn parse_cidr(text: &str) -> anyhow::Result<ipnet::IpNet> {
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .with_context(|| format!("{text:?} is not an address or CIDR (trusted_proxies)"))
}

/// `scheme://host[:port]` of a URL, lowercased, default ports dropped.
pub fn normalize_origin(origin: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(origin).with_context(|| format!("{origin:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{origin:?} is not an http or https origin");
    }
    Ok(url.origin().ascii_serialization())
}

/// Room for eight of the largest uploads with their annotations (a form's
/// overhead included).
pub fn default_upload_memory(max_image_bytes: u64) -> u64 {
    8 * (max_image_bytes + sightline_proto::MAX_ANNOTATIONS_BYTES as u64 + 64 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\ndata_dir = \"/srv/sl\"\nallowed_origins = [\"https://Shop.Example.com:443/\"]\n",
        )
        .expect("write");
        let args = ServeArgs {
            bind: Some("127.0.0.1:9100".parse().expect("addr")),
            ..ServeArgs::default()
        };
        let config = Config::resolve(args, Some(&path)).expect("valid");
        assert_eq!(config.bind.port(), 9100);
        assert_eq!(config.data_dir, PathBuf::from("/srv/sl"));
        assert_eq!(config.database_url, "sqlite:///srv/sl/sightline.db");
        assert_eq!(config.allowed_origins, vec!["https://shop.example.com".to_owned()]);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let half_tls = ServeArgs {
            tls_cert: Some("c.pem".into()),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(half_tls, None).is_err());
        let bad_origin = ServeArgs {
            allowed_origins: Some(vec!["ftp://x".into()]),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(bad_origin, None).is_err());
        let turn_without_secret = ServeArgs {
            turn_urls: Some(vec!["turn:127.0.0.1:3478".into()]),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(turn_without_secret, None).is_err());
        let relay_without_turn = ServeArgs {
            ice_transport_policy: Some("relay".into()),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(relay_without_turn, None).is_err());
    }

    #[test]
    fn share_settings_come_from_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(
            &path,
            "stun_urls = [\"stun:127.0.0.1:3478\"]\nturn_urls = [\"turn:127.0.0.1:3478?transport=udp\"]\nturn_secret = \"north\"\nice_transport_policy = \"relay\"\nshare_max_bitrate = 800000\n",
        )
        .expect("write");
        let config = Config::resolve(ServeArgs::default(), Some(&path)).expect("valid");
        assert_eq!(config.share.ice_servers[0].urls, vec!["stun:127.0.0.1:3478".to_owned()]);
        let turn = config.share.turn.expect("turn");
        assert_eq!((turn.secret.as_str(), turn.ttl_secs), ("north", 21600));
        assert_eq!(config.share.ice_transport_policy, "relay");
        assert_eq!(config.share.limits.max_bitrate_bps, 800_000);
        assert_eq!(config.share.limits.text_fps, 5);
    }

    #[test]
    fn limits_proxies_and_metrics_come_from_the_file_and_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(
            &path,
            "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nmax_connections = 1000\n[limits]\nsockets_per_visitor = 4\nnew_conversations_per_address = { burst = 3, per_second = 0.5 }\n",
        )
        .expect("write");
        let config = Config::resolve(ServeArgs::default(), Some(&path)).expect("valid");
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(config.trusted_proxies[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().expect("ip")));
        assert!(config.trusted_proxies[1].contains(&"::1".parse::<std::net::IpAddr>().expect("ip")));
        assert_eq!(config.limits.sockets_per_visitor, 4);
        assert_eq!(config.limits.new_conversations_per_address, Allowance::new(3, 0.5));
        assert_eq!(config.limits.messages_per_socket, Limits::default().messages_per_socket);
        assert_eq!(config.reserved_agent_connections, 50);
        assert_eq!(config.max_connections_per_address, 256);
        std::fs::write(&path, "[limits]\nkey_tries_global = { burst = 0, per_second = 1.0 }\n").expect("write");
        assert!(Config::resolve(ServeArgs::default(), Some(&path)).is_err());
        std::fs::write(&path, "[limits]\nmystery = 1\n").expect("write");
        assert!(Config::resolve(ServeArgs::default(), Some(&path)).is_err());
        let bad_proxy = ServeArgs {
            trusted_proxies: Some(vec!["10.0.0.0/33".into()]),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(bad_proxy, None).is_err());
        let short_token = ServeArgs {
            metrics_token: Some("short".into()),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(short_token, None).is_err());
    }

    #[test]
    fn the_identity_secret_comes_from_the_file_or_flags_and_is_long_enough() {
        assert!(Config::resolve(ServeArgs::default(), None)
            .expect("valid")
            .identity_secret
            .is_none());
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(&path, "identity_secret = \"a secret of the site, long enough\"\n").expect("write");
        let secret = Config::resolve(ServeArgs::default(), Some(&path))
            .expect("valid")
            .identity_secret
            .expect("set");
        // The one it was given: its signature is the one the site computes.
        let expected = IdentitySecret::new("a secret of the site, long enough").expect("long enough");
        assert_eq!(secret.sign("user-42", None, None), expected.sign("user-42", None, None));
        assert!(!format!("{secret:?}").contains("secret of the site"), "never logged");
        let short = ServeArgs {
            identity_secret: Some("short".into()),
            ..ServeArgs::default()
        };
        let err = Config::resolve(short, None).expect_err("too short").to_string();
        assert!(err.contains("identity_secret"), "{err}");
    }

    #[test]
    fn the_demo_is_on_unless_the_flag_or_the_file_turns_it_off() {
        assert!(Config::resolve(ServeArgs::default(), None).expect("valid").demo);
        let flag = ServeArgs {
            no_demo: true,
            ..ServeArgs::default()
        };
        assert!(!Config::resolve(flag, None).expect("valid").demo);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(&path, "no_demo = true\n").expect("write");
        assert!(!Config::resolve(ServeArgs::default(), Some(&path)).expect("valid").demo);
        std::fs::write(&path, "no_demo = false\n").expect("write");
        assert!(Config::resolve(ServeArgs::default(), Some(&path)).expect("valid").demo);
    }

    #[test]
    fn office_hours_come_from_the_file_or_flags_in_their_time_zone() {
        assert!(Config::resolve(ServeArgs::default(), None)
            .expect("valid")
            .office_hours
            .is_none());
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(
            &path,
            "office_hours = [\"Mon-Fri 09:00-17:30\", \"Sat 10:00-14:00\"]\ntime_zone = \"Europe/Berlin\"\n",
        )
        .expect("write");
        let from_file = Config::resolve(ServeArgs::default(), Some(&path)).expect("valid");
        let expected = crate::office_hours::OfficeHours::parse(
            &["Mon-Fri 09:00-17:30".to_owned(), "Sat 10:00-14:00".to_owned()],
            "Europe/Berlin",
        )
        .expect("valid");
        assert_eq!(from_file.office_hours.as_ref(), Some(&expected));
        // Flags win; a bad entry or a zone without hours stops the start.
        let flags = ServeArgs {
            office_hours: Some(vec!["Sun 10:00-12:00".into()]),
            ..ServeArgs::default()
        };
        let from_flags = Config::resolve(flags, Some(&path)).expect("valid");
        assert_ne!(from_flags.office_hours.as_ref(), Some(&expected));
        for bad in [
            ServeArgs {
                office_hours: Some(vec!["weekdays 9 to 5".into()]),
                ..ServeArgs::default()
            },
            ServeArgs {
                time_zone: Some("Europe/Berlin".into()),
                ..ServeArgs::default()
            },
        ] {
            assert!(Config::resolve(bad, None).is_err());
        }
    }

    #[test]
    fn the_company_comes_from_the_file_or_flags_and_its_logo_must_be_https_or_a_path() {
        assert_eq!(
            Config::resolve(ServeArgs::default(), None).expect("valid").company,
            Company::default()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(
            &path,
            "company_name = \" Example AG \"\ncompany_logo_url = \"https://cdn.example.com/logo.svg\"\n",
        )
        .expect("write");
        let company = Config::resolve(ServeArgs::default(), Some(&path))
            .expect("valid")
            .company;
        assert_eq!(company.name.as_deref(), Some("Example AG"));
        assert_eq!(company.logo_origin().as_deref(), Some("https://cdn.example.com"));
        let flag = ServeArgs {
            company_logo_url: Some("/brand/logo.png".into()),
            ..ServeArgs::default()
        };
        let company = Config::resolve(flag, Some(&path)).expect("valid").company;
        assert_eq!(company.logo_url.as_deref(), Some("/brand/logo.png"));
        assert_eq!(company.logo_origin(), None, "a path is this server's own");
        for bad in [
            "http://cdn.example.com/logo.svg",
            "javascript:alert(1)",
            "data:image/svg+xml,<svg/>",
            "//cdn.example.com/logo.svg",
            "https://user:pw@cdn.example.com/logo.svg",
            "logo.svg",
            "/a b.svg",
            "/a\\b.svg",
        ] {
            let args = ServeArgs {
                company_logo_url: Some(bad.into()),
                ..ServeArgs::default()
            };
            let err = Config::resolve(args, None).expect_err(bad).to_string();
            assert!(err.contains("company_logo_url"), "{bad}: {err}");
        }
        let long = ServeArgs {
            company_name: Some("x".repeat(101)),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(long, None).is_err());
        let control = ServeArgs {
            company_name: Some("Example\nAG".into()),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(control, None).is_err());
    }

    #[test]
    fn the_image_size_limit_defaults_to_10_mb_and_can_be_set() {
        let config = Config::resolve(ServeArgs::default(), None).expect("valid");
        assert_eq!(config.max_image_bytes, 10 * 1024 * 1024);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sightline.toml");
        std::fs::write(&path, "max_image_bytes = 2000000\n").expect("write");
        assert_eq!(
            Config::resolve(ServeArgs::default(), Some(&path))
                .expect("valid")
                .max_image_bytes,
            2_000_000
        );
        let flag = ServeArgs {
            max_image_bytes: Some(3_000_000),
            ..ServeArgs::default()
        };
        assert_eq!(
            Config::resolve(flag, Some(&path)).expect("valid").max_image_bytes,
            3_000_000
        );
        let tiny = ServeArgs {
            max_image_bytes: Some(10),
            ..ServeArgs::default()
        };
        assert!(Config::resolve(tiny, None).is_err());
    }
}
