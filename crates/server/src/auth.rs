//! Agent authentication: argon2 password hashes, session cookies, CSRF tokens and
//! the login rate limiter.

use std::collections::HashMap;
use std::net::IpAddr;
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

/// Login attempts allowed per client address and per account name: a burst of
/// 10, then one every 30 seconds. Guessing a password this way takes forever;
/// an agent who mistypes a few times is not locked out.
pub struct LoginLimiter {
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

const LOGIN_BURST: u32 = 10;
const LOGIN_PER_SECOND: f64 = 1.0 / 30.0;

impl LoginLimiter {
    pub fn new() -> Self {
        LoginLimiter {
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt from the address's and the name's allowance.
    pub fn allow(&self, ip: IpAddr, name: &str) -> bool {
        let now = now_ms();
        // A std Mutex: nothing awaits while it is held, and it is held briefly.
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 100_000 {
            // Forget buckets that have refilled completely; they hold no state.
            buckets.retain(|_, bucket| !bucket.clone().is_full(now));
        }
        let mut ok = true;
        for key in [format!("ip:{ip}"), format!("name:{}", name.to_lowercase())] {
            let bucket = buckets
                .entry(key)
                .or_insert_with(|| TokenBucket::new(LOGIN_BURST, LOGIN_PER_SECOND, now));
            ok &= bucket.try_take(now);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_attempts_are_limited_per_address_and_per_name() {
        let limiter = LoginLimiter::new();
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let other: IpAddr = "127.0.0.2".parse().expect("ip");
        for i in 0..LOGIN_BURST {
            assert!(limiter.allow(ip, &format!("user{i}")));
        }
        assert!(!limiter.allow(ip, "fresh"), "the address is out of attempts");
        for _ in 0..LOGIN_BURST - 1 {
            assert!(limiter.allow(other, "user0"));
        }
        assert!(
            !limiter.allow(other, "USER0"),
            "the name is out of attempts, whatever its case"
        );
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
