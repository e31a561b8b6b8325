//! Agent authentication: argon2 password hashes, session cookies, CSRF tokens and
//! the login rate limiter.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sightline_core::{token_hash, TokenBucket};
use sightline_proto::api::UserInfo;
use sightline_store::SessionRecord;

use crate::{now_ms, AppState};

pub const SESSION_COOKIE: &str = "sightline_session";
/// Sessions last a week of wall time.
pub const SESSION_LIFETIME_MS: u64 = 7 * 24 * 3600 * 1000;
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Hashing is deliberately slow; a huge password must not make it slower.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A request's logged-in agent.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserInfo,
    pub session: SessionRecord,
}

/// A random 256-bit token, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A readable random password for new accounts: 16 characters, ~95 bits.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

pub fn check_password_policy(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("a password needs at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("a password can have at most {MAX_PASSWORD_BYTES} bytes"));
    }
    Ok(())
}

/// Argon2 runs on `HASHING_THREADS` dedicated threads, each reusing one 19 MiB
/// memory block. Allocating the block per hash (what `PasswordHasher` does) on
/// tokio's blocking pool leaves the freed blocks resident in glibc's arenas: the
/// server's RSS grew to ~1 GiB after 2,000 logins. Reused, the blocks cost
/// `HASHING_THREADS` x 19 MiB for good.
const HASHING_THREADS: usize = 2;
const HASHING_QUEUE: usize = 256;

type HashJob = Box<dyn FnOnce() + Send>;

fn hashing_queue() -> &'static std::sync::mpsc::SyncSender<HashJob> {
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::SyncSender<HashJob>> = std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<HashJob>(HASHING_QUEUE);
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..HASHING_THREADS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                });
            if let Err(err) = spawned {
                tracing::error!(%err, "could not start a password hashing thread");
            }
        }
        tx
    })
}

/// Runs `job` on a hashing thread. Callers beyond the queue's capacity wait
/// (asynchronously) for a slot.
async fn on_hashing_thread<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_QUEUE);
    let _slot = SLOTS.acquire().await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    hashing_queue()
        .try_send(Box::new(move || {
            let _ = tx.send(job());
        }))
        .map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))?;
    Ok(rx.await?)
}

thread_local! {
    /// This hashing thread's Argon2 memory, reused by every hash it computes.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Raw Argon2 output of `password` with `salt`, in this thread's reused memory.
fn argon2_raw(context: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let blocks = context.params().block_count();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        context.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes), as a PHC string.
fn hash_now(password: &[u8]) -> anyhow::Result<String> {
    use argon2::password_hash::{Output, ParamsString};
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("hashing failed: {e}");
    let context = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf).map_err(|e| err(&e))?;
    let len = context
        .params()
        .output_len()
        .unwrap_or(argon2::Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| {
        argon2_raw(&context, password, salt_bytes, out).map_err(Into::into)
    })
    .map_err(|e| err(&e))?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(context.params()).map_err(|e| err(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a PHC string (any Argon2 variant and parameters).
fn verify_now(password: &[u8], hash: &str) -> bool {
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map(argon2::Version::try_from)
            .transpose()
            .ok()?
            .unwrap_or_default();
        let params = argon2::Params::try_from(&parsed).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buf).ok()?;
        let context = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        argon2_raw(&context, password, salt_bytes, &mut out).ok()?;
        // Output's equality is constant-time.
        Some(argon2::password_hash::Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    on_hashing_thread(move || hash_now(password.as_bytes())).await?
}

pub async fn verify_password(password: String, hash: String) -> bool {
    on_hashing_thread(move || verify_now(password.as_bytes(), &hash))
        .await
        .unwrap_or(false)
}

/// Makes a password check cost the same whether or not the user exists.
pub async fn burn_a_verification() {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let dummy = DUMMY
        .get_or_init(|| async { hash_password(random_password()).await.unwrap_or_default() })
        .await;
    verify_password("not the password".into(), dummy.clone()).await;
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The agent behind a request's session cookie, if the session is valid.
pub async fn from_cookie(app: &AppState, headers: &HeaderMap) -> Option<Authenticated> {
    let token = cookie_value(headers, SESSION_COOKIE)?;
    if token.len() > 128 {
        return None;
    }
    match app.store.session(&token_hash(token), now_ms()).await {
        Ok(Some((session, user))) => Some(Authenticated {
            user: user.info,
            session,
        }),
        Ok(None) => None,
        Err(err) => {
            tracing::error!(%err, "session look-up failed");
            None
        }
    }
}

pub fn session_cookie(app: &AppState, token: &str) -> String {
    let secure = if app.secure_cookies { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_LIFETIME_MS / 1000
    )
}

pub fn clear_cookie(app: &AppState) -> String {
    let secure = if app.secure_cookies { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// Compares without an early exit, so that timing reveals nothing of a token.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Cookie of a browser that has logged in to an account before.
pub const DEVICE_COOKIE: &str = "sightline_device";
/// How long a browser stays known.
const DEVICE_LIFETIME_SECS: u64 = 365 * 24 * 3600;

/// Login attempts, limited so that guessing is impractical without letting a
/// stranger lock a user out (OWASP's device-cookie scheme):
/// - per address group (all names): [`LOGIN_PER_ADDRESS`];
/// - per name and address group: [`LOGIN_PER_NAME_AND_ADDRESS`], so one address
///   guessing at an account slows only itself;
/// - per name, from browsers the account has not logged in from before, from all
///   addresses together: [`LOGIN_PER_NAME_UNKNOWN_DEVICES`]; a distributed guesser
///   spends this, and once it is gone only known browsers get in;
/// - per known browser (its device cookie): [`LOGIN_PER_DEVICE`], and only that:
///   others on the same address cannot spend it.
///
/// Every attempt takes its tokens before the password is checked (so parallel
/// requests cannot slip through), and a successful login gives them back: only
/// failures count.
pub struct LoginLimiter {
    // A std Mutex: nothing awaits while it is held, and it is held briefly.
    buckets: Mutex<BTreeMap<LoginKey, TokenBucket>>,
    device_key: [u8; 32],
    refusals: AtomicU64,
    last_log: AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LoginKey {
    Address(IpAddr),
    NameAndAddress(String, IpAddr),
    NameFromUnknownDevices(String),
    Device(String),
}

/// (burst, per second)
pub const LOGIN_PER_ADDRESS: (u32, f64) = (30, 1.0 / 10.0);
pub const LOGIN_PER_NAME_AND_ADDRESS: (u32, f64) = (10, 1.0 / 30.0);
pub const LOGIN_PER_NAME_UNKNOWN_DEVICES: (u32, f64) = (100, 1.0 / 20.0);
pub const LOGIN_PER_DEVICE: (u32, f64) = (10, 1.0 / 30.0);

/// The tokens one attempt took, to give back if it succeeds.
#[must_use]
pub struct LoginAttempt {
    keys: Vec<LoginKey>,
}

impl LoginLimiter {
    /// `device_key` signs device cookies; keep it across restarts so that browsers
    /// stay known.
    pub fn new(device_key: [u8; 32]) -> Self {
        LoginLimiter {
            buckets: Mutex::new(BTreeMap::new()),
            device_key,
            refusals: AtomicU64::new(0),
            last_log: AtomicU64::new(0),
        }
    }

    /// Attempts refused so far (for /metrics).
    pub fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::Relaxed)
    }

    /// Takes one attempt for `name` from `ip` (a browser presenting `device`, the
    /// value of its device cookie, if any) from every allowance that applies, or
    /// none and `None` when one is spent.
    pub fn begin(&self, ip: IpAddr, name: &str, device: Option<&str>) -> Option<LoginAttempt> {
        let now = now_ms();
        let group = sightline_core::address_group(ip);
        let name = name.to_lowercase();
        let known_device = device.filter(|d| self.device_is_valid(d, &name)).map(str::to_owned);
        // A browser the account logged in from before has an allowance of its own
        // and nothing else: neighbours on the same address (NAT, one /64) cannot
        // spend it.
        let keys = match known_device {
            Some(device) => vec![(LoginKey::Device(device), LOGIN_PER_DEVICE)],
            None => vec![
                (LoginKey::Address(group), LOGIN_PER_ADDRESS),
                (
                    LoginKey::NameAndAddress(name.clone(), group),
                    LOGIN_PER_NAME_AND_ADDRESS,
                ),
                (
                    LoginKey::NameFromUnknownDevices(name.clone()),
                    LOGIN_PER_NAME_UNKNOWN_DEVICES,
                ),
            ],
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 100_000 {
            // Forget buckets that have refilled completely; they hold no state.
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        let mut taken: Vec<LoginKey> = Vec::new();
        for (key, (burst, rate)) in keys {
            let bucket = buckets
                .entry(key.clone())
                .or_insert_with(|| TokenBucket::new(burst, rate, now));
            if !bucket.try_take(now) {
                for key in &taken {
                    if let Some(bucket) = buckets.get_mut(key) {
                        bucket.give_back();
                    }
                }
                drop(buckets);
                self.refused(&key, ip);
                return None;
            }
            taken.push(key);
        }
        Some(LoginAttempt { keys: taken })
    }

    /// The attempt succeeded: it costs nothing.
    pub fn succeeded(&self, attempt: LoginAttempt) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for key in attempt.keys {
            if let Some(bucket) = buckets.get_mut(&key) {
                bucket.give_back();
            }
        }
    }

    fn refused(&self, key: &LoginKey, ip: IpAddr) {
        self.refusals.fetch_add(1, Ordering::Relaxed);
        // One log line a minute at most, whatever the attack's rate.
        let now = now_ms();
        let last = self.last_log.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 60_000
            && self
                .last_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let limit = match key {
                LoginKey::Address(_) => "login_per_address",
                LoginKey::NameAndAddress(..) => "login_per_name_and_address",
                LoginKey::NameFromUnknownDevices(_) => "login_per_name_from_unknown_devices",
                LoginKey::Device(_) => "login_per_device",
            };
            tracing::warn!(limit, %ip, refusals_total = self.refusals(), "login rate limit hit");
        }
    }

    fn mac(&self, name: &str, nonce: &str) -> String {
        use hmac::Mac as _;
        let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.device_key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes any key length"),
        };
        mac.update(name.as_bytes());
        mac.update(b"\n");
        mac.update(nonce.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A device cookie value for a browser that just logged in as `name`.
    pub fn device_token(&self, name: &str) -> String {
        let name = name.to_lowercase();
        let nonce = random_token();
        let mac = self.mac(&name, &nonce);
        format!("{}.{nonce}.{mac}", URL_SAFE_NO_PAD.encode(name.as_bytes()))
    }

    fn device_is_valid(&self, token: &str, name: &str) -> bool {
        let mut parts = token.splitn(3, '.');
        let (Some(encoded_name), Some(nonce), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        token.len() <= 512
            && URL_SAFE_NO_PAD.decode(encoded_name).ok().as_deref() == Some(name.as_bytes())
            && constant_time_eq(&self.mac(name, nonce), mac)
    }
}

/// The `Set-Cookie` value that makes this browser known to `name`'s account.
pub fn device_cookie(app: &AppState, token: &str) -> String {
    let secure = if app.secure_cookies { "; Secure" } else { "" };
    format!(
        "{DEVICE_COOKIE}={token}; Path=/api/login; HttpOnly; SameSite=Strict; Max-Age={DEVICE_LIFETIME_SECS}{secure}"
    )
}

/// The device cookie a request carries, if any.
pub fn device_of(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, DEVICE_COOKIE)
}

/// The key that signs device cookies: `<data_dir>/device-cookie.key`, made on first
/// start. Without a writable data directory, a key for this run only.
pub fn load_device_key(data_dir: &std::path::Path) -> [u8; 32] {
    let path = data_dir.join("device-cookie.key");
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return key;
        }
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
    let written = std::fs::create_dir_all(data_dir).and_then(|()| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&path)?, &key)
    });
    if let Err(err) = written {
        tracing::warn!(%err, "could not store the device-cookie key; known browsers are forgotten at restart");
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn one_address_guessing_at_an_account_slows_only_itself() {
        let limiter = LoginLimiter::new([1; 32]);
        for _ in 0..LOGIN_PER_NAME_AND_ADDRESS.0 {
            let _failed = limiter.begin(ip(1), "admin", None).expect("within the burst");
        }
        assert!(limiter.begin(ip(1), "ADMIN", None).is_none(), "whatever the case");
        // The rightful user elsewhere is not locked out, and succeeds at no cost.
        for _ in 0..20 {
            let attempt = limiter.begin(ip(2), "admin", None).expect("another address");
            limiter.succeeded(attempt);
        }
        assert_eq!(limiter.refusals(), 1);
        // One address trying many names is cut off too.
        let mut refused = false;
        for n in 0..LOGIN_PER_ADDRESS.0 + 1 {
            refused |= limiter.begin(ip(3), &format!("user{n}"), None).is_none();
        }
        assert!(refused);
    }

    #[test]
    fn a_distributed_guesser_is_bounded_and_known_browsers_still_get_in() {
        let limiter = LoginLimiter::new([2; 32]);
        let known = limiter.device_token("Admin");
        let mut allowed = 0;
        for n in 0..300 {
            if limiter.begin(ip(100 + n), "admin", None).is_some() {
                allowed += 1;
            }
        }
        assert_eq!(
            allowed, LOGIN_PER_NAME_UNKNOWN_DEVICES.0,
            "the account's budget for unknown browsers"
        );
        assert!(limiter.begin(ip(999), "admin", None).is_none());
        // A browser that logged in before has its own allowance, even from an
        // address whose allowances a neighbour has spent.
        for _ in 0..LOGIN_PER_ADDRESS.0 {
            let _ = limiter.begin(ip(999), "admin", None);
        }
        assert!(limiter.begin(ip(999), "admin", None).is_none());
        let attempt = limiter.begin(ip(999), "admin", Some(&known)).expect("known browser");
        limiter.succeeded(attempt);
        // A forged or foreign device cookie counts as unknown.
        assert!(limiter.begin(ip(998), "admin", Some("YWRtaW4.nonce.forged")).is_none());
        let other = limiter.device_token("someone");
        assert!(limiter.begin(ip(997), "admin", Some(&other)).is_none());
        let other_server = LoginLimiter::new([3; 32]).device_token("admin");
        assert!(limiter.begin(ip(996), "admin", Some(&other_server)).is_none());
    }

    #[test]
    fn reused_memory_hashes_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_now(b"correct horse").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert!(verify_now(b"battery staple", &theirs));
        assert!(!verify_now(b"battery stable", &theirs));
        assert!(verify_now(b"correct horse", &ours) && !verify_now(b"correct house", &ours));
    }

    #[test]
    fn cookies_are_parsed_from_any_position() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; sightline_session=tok; b=2".parse().expect("header"),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("tok"));
    }
}
