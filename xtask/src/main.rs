//! Developer tasks, run as `cargo xtask <task>`:
//!
//! - `codegen`: write the TypeScript protocol types (web/src/protocol.gen.ts) from
//!   crates/proto. A test fails when the committed copy is stale.
//! - `test`: everything CI runs: the tools it needs (installed with apt-get when
//!   run as root on Debian), the web build (and a check that the committed web/dist
//!   is what the sources build), TypeScript checks and unit tests, rustfmt, clippy
//!   with warnings denied, rustdoc with broken links denied, every Rust test, and
//!   the browser tests in headless Chromium.
//! - `bench`: the load benchmark (see crates/bench).
//! - `bench-images`: thumbnail throughput and peak memory of image uploads
//!   (crates/server/examples/bench_images.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn protocol_ts_path() -> PathBuf {
    root().join("web/src/protocol.gen.ts")
}

/// Runs a command in a directory, failing with its name when it fails.
fn run(dir: &Path, program: &str, args: &[&str], envs: &[(&str, String)]) -> anyhow::Result<()> {
    eprintln!("\n$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// A command's standard output; its failure is an error, never an empty answer.
fn output(dir: &Path, program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("could not start {program}"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn has(program: &str, arg: &str) -> bool {
    Command::new(program).arg(arg).output().is_ok()
}

/// Debian packages for what the tests need and this machine lacks.
fn missing_packages(browser: bool) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !has("node", "--version") || !has("npm", "--version") {
        missing.extend(["nodejs", "npm"]);
    }
    if !has("turnserver", "--help") {
        missing.push("coturn");
    }
    if browser && chromium_path().is_none() {
        missing.push("chromium");
    }
    missing
}

/// Installs what is missing when it can (root on a Debian-like system, saying what
/// it does), and otherwise stops with the exact command to run.
fn ensure_tools(browser: bool) -> anyhow::Result<()> {
    let missing = missing_packages(browser);
    if missing.is_empty() {
        return Ok(());
    }
    let command = format!("apt-get install -y {}", missing.join(" "));
    let is_root = output(Path::new("/"), "id", &["-u"]).is_ok_and(|uid| uid.trim() == "0");
    if !is_root || !has("apt-get", "--version") {
        bail!(
            "missing: {}. Install them (Debian: `sudo {command}`; or set CHROMIUM_PATH for another Chromium),              then run `cargo xtask test` again; `cargo xtask test --no-browser` skips Chromium",
            missing.join(", ")
        );
    }
    eprintln!("installing what the tests need: {command}");
    let envs = [("DEBIAN_FRONTEND", "noninteractive".to_owned())];
    run(Path::new("/"), "apt-get", &["update", "-qq"], &envs)?;
    let mut args = vec!["install", "-y", "-qq"];
    args.extend(&missing);
    run(Path::new("/"), "apt-get", &args, &envs)?;
    let still = missing_packages(browser);
    if !still.is_empty() {
        bail!("still missing after apt-get: {}", still.join(", "));
    }
    Ok(())
}

fn chromium_path() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CHROMIUM_PATH") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn codegen() -> anyhow::Result<()> {
    let path = protocol_ts_path();
    std::fs::write(&path, sightline_proto::typescript_declarations())?;
    println!("wrote {}", path.display());
    Ok(())
}

fn test(args: &[String]) -> anyhow::Result<()> {
    let root = root();
    let web = root.join("web");
    let skip_browser = args.iter().any(|a| a == "--no-browser");
    // Node.js and npm for the web build, coturn for the TURN tests (a real one on
    // loopback), Chromium for the browser tests.
    ensure_tools(!skip_browser)?;
    let chromium = chromium_path();

    // 1. The web build, and proof that the committed bundle is what the sources build.
    run(&web, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    run(&web, "npm", &["run", "build"], &[])?;
    let stale = output(&root, "git", &["status", "--porcelain", "--", "web/dist"])?;
    if !stale.trim().is_empty() {
        bail!("web/dist differs from what the sources build; commit the rebuilt files:\n{stale}");
    }
    run(&web, "npm", &["run", "typecheck"], &[])?;
    run(&web, "npm", &["run", "test:unit"], &[])?;

    // 2. The rules the code declares: formatting, lints (warnings denied; unwrap
    //    only in tests, HashMap iteration kept out of the core: see clippy.toml),
    //    and documentation links.
    run(&root, "cargo", &["fmt", "--all", "--check"], &[])?;
    run(
        &root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    run(
        &root,
        "cargo",
        &["doc", "--workspace", "--no-deps", "--locked"],
        &[(
            "RUSTDOCFLAGS",
            "-D rustdoc::broken_intra_doc_links -D rustdoc::private_intra_doc_links".to_owned(),
        )],
    )?;

    // 3. Every Rust test (the store's also run on PostgreSQL when SIGHTLINE_TEST_POSTGRES is set).
    if std::env::var("SIGHTLINE_TEST_POSTGRES").is_err() {
        eprintln!("note: SIGHTLINE_TEST_POSTGRES is unset; the store tests run on SQLite only");
    }
    run(&root, "cargo", &["test", "--workspace", "--locked"], &[])?;

    // 4. Browser tests against the real binary.
    if skip_browser {
        eprintln!("note: browser tests skipped (--no-browser)");
        return Ok(());
    }
    run(&root, "cargo", &["build", "--locked", "-p", "sightline"], &[])?;
    let bin = root.join("target/debug/sightline");
    let chromium = chromium.map(|p| p.display().to_string()).unwrap_or_default();
    let envs = [
        ("SIGHTLINE_BIN", bin.display().to_string()),
        ("CHROMIUM_PATH", chromium),
    ];
    browser_tests(&web, &envs)
}

/// Runs each browser test file in its own `node --test` process. A file that fails
/// is run once more: WebRTC in headless Chromium on a loaded two-core machine
/// occasionally misses a timeout. A file that passes only on the second run is
/// reported as FLAKY in the summary (and the run stays green); a file that fails
/// twice fails the run.
fn browser_tests(web: &Path, envs: &[(&str, String)]) -> anyhow::Result<()> {
    let mut files: Vec<String> = std::fs::read_dir(web.join("e2e"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .collect();
    files.sort();
    let mut flaky = Vec::new();
    let mut failed = Vec::new();
    for file in &files {
        let path = format!("e2e/{file}");
        let args = ["--test", "--test-concurrency=1", path.as_str()];
        if run(web, "node", &args, envs).is_ok() {
            continue;
        }
        eprintln!("\n{file} failed; running it once more");
        if run(web, "node", &args, envs).is_ok() {
            flaky.push(file.clone());
        } else {
            failed.push(file.clone());
        }
    }
    eprintln!(
        "\nbrowser tests: {} files, {} passed first time, {} FLAKY (failed, then passed on the rerun): {:?}, {} failed: {:?}",
        files.len(),
        files.len() - flaky.len() - failed.len(),
        flaky.len(),
        flaky,
        failed.len(),
        failed
    );
    if !failed.is_empty() {
        bail!("browser tests failed: {failed:?}");
    }
    Ok(())
}

/// Builds the server and the load generator in release mode and runs the
/// generator, which starts the server itself; ARGS go to `sightline-bench`
/// (`cargo xtask bench -- --help` lists them).
fn bench(args: &[String]) -> anyhow::Result<()> {
    let root = root();
    run(
        &root,
        "cargo",
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "sightline",
            "-p",
            "sightline-bench",
        ],
        &[],
    )?;
    // Cargo resolves a relative CARGO_TARGET_DIR against the directory it runs in.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    let args: Vec<String> = args.iter().filter(|a| *a != "--").cloned().collect();
    let mut bench_args = Vec::new();
    if !args
        .iter()
        .any(|a| a == "--server-bin" || a.starts_with("--server-bin="))
    {
        bench_args.extend([
            "--server-bin".to_owned(),
            target.join("release/sightline").display().to_string(),
        ]);
    }
    bench_args.extend(args);
    let refs: Vec<&str> = bench_args.iter().map(String::as_str).collect();
    run(
        &root,
        &target.join("release/sightline-bench").display().to_string(),
        &refs,
        &[],
    )
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => codegen(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("bench-images") => {
            let mut cargo_args = vec!["run", "--release", "-p", "sightline", "--example", "bench_images", "--"];
            cargo_args.extend(args[1..].iter().map(String::as_str));
            run(&root(), "cargo", &cargo_args, &[])
        }
        _ => bail!("usage: cargo xtask codegen | test [--no-browser] | bench [ARGS] | bench-images [--runs N]"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_typescript_protocol_types_are_fresh() {
        let committed = std::fs::read_to_string(super::protocol_ts_path()).expect("web/src/protocol.gen.ts exists");
        assert!(
            committed == sightline_proto::typescript_declarations(),
            "web/src/protocol.gen.ts is stale: run `cargo xtask codegen` and commit it"
        );
    }
}
