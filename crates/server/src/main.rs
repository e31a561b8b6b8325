//! The `sightline` command: `serve` (the default) and `user` administration.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use sightline::config::{Config, LogFormat, ServeArgs};
use sightline::{api, auth, now_ms};

#[derive(Parser)]
#[command(
    name = "sightline",
    version,
    about = "Self-hosted visual remote support: chat, screen sharing and snapshots."
)]
struct Cli {
    /// TOML configuration file (keys as the flags, in snake_case).
    #[arg(long, global = true, env = "SIGHTLINE_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (what a bare `sightline` does).
    Serve,
    /// Manage agent accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an agent account; prints a generated password unless --password-stdin.
    Add {
        name: String,
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set an account's password; prints a generated one unless --password-stdin.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGHTLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr; stdout carries only what a person must read (the URL, a
    // first password).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((auth::random_password(), true));
    }
    if std::io::stdin().is_terminal() {
        eprint!("Password (visible as you type): ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    auth::check_password_policy(&password).map_err(anyhow::Error::msg)?;
    Ok((password, false))
}

async fn user_command(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let store = sightline::open_store(config).await?;
    match command {
        UserCommand::Add {
            name,
            admin,
            display_name,
            password_stdin,
        } => {
            api::check_user_name(&name).map_err(anyhow::Error::msg)?;
            let (password, generated) = read_password(password_stdin)?;
            let hash = auth::hash_password(password.clone()).await?;
            let display = display_name.unwrap_or_else(|| name.clone());
            // A password made up here is one-time: the user replaces it at first login.
            let user = store
                .create_user_with(&name, &display, &hash, admin, generated, now_ms())
                .await
                .with_context(|| format!("adding {name}"))?;
            println!(
                "Added {}{} (id {}).",
                user.name,
                if user.is_admin { " as admin" } else { "" },
                user.id
            );
            if generated {
                println!("Password: {password}");
            }
        }
        UserCommand::Passwd { name, password_stdin } => {
            let Some(user) = store.user_by_name(&name).await? else {
                bail!("no account named {name}");
            };
            let (password, generated) = read_password(password_stdin)?;
            store
                .set_password_hash(user.info.id, &auth::hash_password(password.clone()).await?)
                .await?;
            store.delete_sessions_of_user(user.info.id).await?;
            if generated {
                store.require_password_change(user.info.id).await?;
            }
            println!("Password of {} changed; their sessions were ended.", user.info.name);
            if generated {
                println!("Password: {password}\nIt is a one-time password: the console asks for a new one at the next login.");
            }
        }
        UserCommand::List => {
            println!(
                "{:<6} {:<24} {:<28} {:<6} DISABLED",
                "ID", "NAME", "DISPLAY NAME", "ADMIN"
            );
            for user in store.list_users().await? {
                println!(
                    "{:<6} {:<24} {:<28} {:<6} {}",
                    user.id,
                    user.name,
                    user.display_name,
                    if user.is_admin { "yes" } else { "no" },
                    if user.disabled { "yes" } else { "no" }
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are registered when this is called,
/// not when the future is first polled, so a signal sent right after the server
/// announced itself is not lost.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("listening for SIGTERM")?;
    #[cfg(unix)]
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Prints for the person who started the server. A closed stdout (a supervisor
/// that stopped reading) must not bring the server down, so errors are ignored.
fn tell(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let store = sightline::open_store(&config).await?;
    if let Some(admin) = sightline::bootstrap_admin(&store).await? {
        let after = if admin.one_time {
            "It is a one-time password: the console asks for a new one at the first login."
        } else {
            "It is SIGHTLINE_ADMIN_PASSWORD. Change it in the console (or with `sightline user passwd admin`)."
        };
        tell(&format!(
            "Created the first admin account. It is shown only this once:\n  login:    {}\n  password: {}\n{after}",
            admin.name, admin.password
        ));
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    tracing::info!(%addr, database = %sightline::redact(&config.database_url), "listening");
    let demo = if config.demo {
        format!("\n  demo site:     {url}/demo")
    } else {
        String::new()
    };
    tell(&format!(
        "Sightline is running at {url}/{demo}\n  agent console: {url}/console"
    ));
    sightline::run(listener, config, store, shutdown).await
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::resolve(cli.serve, cli.config.as_deref())?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            None | Some(Command::Serve) => serve(config).await,
            Some(Command::User(command)) => user_command(&config, command).await,
        }
    })
}
