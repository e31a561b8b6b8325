//! Developer tasks, run as `cargo xtask <task>`:
//!
//! - `codegen`: write the TypeScript protocol types (web/src/protocol.gen.ts) from
//!   crates/proto. A test fails when the committed copy is stale.
//! - `test`: everything CI runs: the tools it needs (installed with apt-get when
//!   run as root on Debian), the web build (and a check that the committed web/dist
//!   is what the sources build), TypeScript checks and unit tests, rustfmt, clippy
//!   with warnings denied, rustdoc with broken links denied, every Rust test, and
//!   the browser tests in headless Chromium (and Firefox ESR on Xvfb as the
//!   visitor of web/e2e/firefox.test.mjs).
//! - `bench`: the load benchmark (see crates/bench).
//! - `bench-relay [--seconds S]`: the stream relay's fan-out beside a bare
//!   tokio-tungstenite broadcast server (crates/server/examples/bench_relay.rs).
//! - `bench-images`: thumbnail throughput and peak memory of image uploads
//!   (crates/server/examples/bench_images.rs).
//! - `fuzz <target> [--runs N] [--seconds S] [-- LIBFUZZER_ARGS]`: a cargo-fuzz
//!   target from fuzz/ (installing cargo-fuzz if missing), on the stable toolchain
//!   with RUSTC_BOOTSTRAP=1.

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
    // The Firefox visitor tests (web/e2e/firefox.test.mjs): Firefox ESR; Xvfb
    // because Firefox captures a screen only from an X display; xdotool for real
    // clicks and keys in Firefox's own window (its share prompt's "Block", F5).
    if browser && firefox_path().is_none() {
        missing.push("firefox-esr");
    }
    if browser && !has("Xvfb", "-help") {
        missing.push("xvfb");
    }
    if browser && !has("xdotool", "version") {
        missing.push("xdotool");
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
            "missing: {}. Install them (Debian: `sudo {command}`; or set CHROMIUM_PATH for another Chromium, FIREFOX_PATH for another Firefox), then run `cargo xtask test` again; `cargo xtask test --no-browser` skips the browsers",
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

fn firefox_path() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("FIREFOX_PATH") {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    Some(PathBuf::from("/usr/bin/firefox-esr")).filter(|p| p.exists())
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
    // loopback), Chromium, Firefox ESR, Xvfb and xdotool for the browser tests.
    ensure_tools(!skip_browser)?;
    let chromium = chromium_path();
    let firefox = firefox_path();

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
    // The fuzz targets live outside the workspace; they must still compile (an
    // ordinary check: the instrumented build is `cargo xtask fuzz`'s).
    run(
        &root,
        "cargo",
        &["check", "--manifest-path", "fuzz/Cargo.toml", "--bins", "--locked"],
        &[],
    )?;

    // 3. Every Rust test: the store's, and the server's PostgreSQL tests, also on
    // PostgreSQL when SIGHTLINE_TEST_POSTGRES is set, or when one answers at the
    // default local address.
    let mut test_env = Vec::new();
    if std::env::var("SIGHTLINE_TEST_POSTGRES").is_err() {
        let local: std::net::SocketAddr = ([127, 0, 0, 1], 5432).into();
        if std::net::TcpStream::connect_timeout(&local, std::time::Duration::from_secs(1)).is_ok() {
            let url = "postgres://postgres@127.0.0.1:5432/test";
            eprintln!("note: PostgreSQL answers on {local}: the PostgreSQL tests use {url} (set SIGHTLINE_TEST_POSTGRES to choose another)");
            test_env.push(("SIGHTLINE_TEST_POSTGRES", url.to_owned()));
        } else {
            eprintln!("note: SIGHTLINE_TEST_POSTGRES is unset and no PostgreSQL answers on {local}: the PostgreSQL tests are skipped");
        }
    }
    run(&root, "cargo", &["test", "--workspace", "--locked"], &test_env)?;

    // 4. Browser tests against the real binary.
    if skip_browser {
        eprintln!("note: browser tests skipped (--no-browser)");
        return Ok(());
    }
    run(&root, "cargo", &["build", "--locked", "-p", "sightline"], &[])?;
    let bin = target_dir(&root).join("debug/sightline");
    let chromium = chromium.map(|p| p.display().to_string()).unwrap_or_default();
    let firefox = firefox.map(|p| p.display().to_string()).unwrap_or_default();
    let envs = [
        ("SIGHTLINE_BIN", bin.display().to_string()),
        ("CHROMIUM_PATH", chromium),
        ("FIREFOX_PATH", firefox),
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
    let target = target_dir(&root);
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

/// The fuzz targets: fuzz/fuzz_targets/*.rs.
fn fuzz_targets(fuzz_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut targets: Vec<String> = std::fs::read_dir(fuzz_dir.join("fuzz_targets"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".rs").map(str::to_owned))
        .collect();
    targets.sort();
    Ok(targets)
}

/// Runs a cargo-fuzz target: `cargo fuzz run` on the stable toolchain with
/// RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only flags), the target's
/// dictionary from fuzz/dict, and a few seeds in an empty corpus. Without `--runs`
/// or `--seconds` it runs until it finds a crash or is interrupted. libFuzzer's
/// final statistics (executions, exec/s) are printed at the end.
fn fuzz(args: &[String]) -> anyhow::Result<()> {
    let root = root();
    let fuzz_dir = root.join("fuzz");
    let targets = fuzz_targets(&fuzz_dir)?;
    let usage = format!(
        "usage: cargo xtask fuzz <target> [--runs N] [--seconds S] [-- LIBFUZZER_ARGS]; targets: {}",
        targets.join(", ")
    );
    let (ours, passthrough) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let Some(target) = ours.first() else { bail!(usage) };
    if !targets.contains(target) {
        bail!("no fuzz target {target:?}; {usage}");
    }
    let mut libfuzzer_args = Vec::new();
    let mut rest = ours[1..].iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| -> anyhow::Result<u64> {
            let v = rest.next().with_context(|| format!("{name} needs a number"))?;
            v.replace('_', "")
                .parse()
                .with_context(|| format!("{name} needs a number, not {v:?}"))
        };
        match arg.as_str() {
            "--runs" => libfuzzer_args.push(format!("-runs={}", value("--runs")?)),
            "--seconds" => libfuzzer_args.push(format!("-max_total_time={}", value("--seconds")?)),
            other => bail!("unknown option {other:?}; {usage}"),
        }
    }

    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("cargo-fuzz is missing: installing it with `cargo install cargo-fuzz`");
        run(&root, "cargo", &["install", "cargo-fuzz"], &[])?;
    }

    let corpus = fuzz_dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    if std::fs::read_dir(&corpus)?.next().is_none() {
        for (name, bytes) in fuzz_seeds(target) {
            std::fs::write(corpus.join(name), bytes)?;
        }
    }
    let dict = fuzz_dir.join("dict").join(format!("{target}.dict"));
    if dict.exists() {
        libfuzzer_args.push(format!("-dict={}", dict.display()));
    }
    libfuzzer_args.push("-print_final_stats=1".into());
    libfuzzer_args.extend(passthrough.iter().cloned());

    let mut cargo_args = vec!["fuzz", "run", "--fuzz-dir", "fuzz", target.as_str(), "--"];
    cargo_args.extend(libfuzzer_args.iter().map(String::as_str));
    eprintln!("\n$ RUSTC_BOOTSTRAP=1 cargo {}", cargo_args.join(" "));
    // Instrumented builds go to fuzz/target, never into the workspace's target.
    let status = Command::new("cargo")
        .args(&cargo_args)
        .current_dir(&root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("could not start cargo fuzz")?;
    if !status.success() {
        bail!("`cargo fuzz run {target}` failed ({status}); a crash is saved under fuzz/artifacts/{target}/");
    }
    Ok(())
}

/// A few valid inputs to start an empty corpus from (corpora are not committed).
fn fuzz_seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    match target {
        "client_message" => client_message_seeds(),
        "image_check" => IMAGE_SEEDS
            .iter()
            .map(|(name, hex)| ((*name).to_owned(), from_hex(hex)))
            .collect(),
        "stream_check" => stream_check_seeds(),
        _ => Vec::new(),
    }
}

/// Inputs of the `stream_check` target: a byte that says where frames are cut
/// (10 + n bytes), then one frame holding a whole co-browse or guidance message.
fn stream_check_seeds() -> Vec<(String, Vec<u8>)> {
    let messages = [
        ("empty", "[]".to_owned()),
        (
            "meta-and-move",
            r#"[{"type":4,"timestamp":1,"data":{"href":"https://shop.example/","width":1280,"height":800}},{"type":3,"timestamp":2,"data":{"source":1,"positions":[{"x":1,"y":2,"id":3,"timeOffset":0}]}}]"#.to_owned(),
        ),
        (
            "diagnostics",
            r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/diag","payload":{"kind":"network","at":1,"method":"GET","url":"https://shop.example/x","status":500,"ms":3}}}]"#.to_owned(),
        ),
        (
            "drawings-cleared",
            r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/drawings","payload":{"kind":"cleared"}}}]"#.to_owned(),
        ),
        // The agent's guidance, which the target checks too.
        (
            "guidance-stroke",
            r#"[{"kind":"stroke","id":7,"at":{"node":12,"fx":0.5,"fy":0.25,"x":300,"y":90},"points":[0,0,12,-3,30,-8],"arrow":true,"pinned":false},{"kind":"clear"}]"#.to_owned(),
        ),
        (
            "control",
            r#"[{"kind":"click","seq":1,"at":{"node":7,"fx":0.5,"fy":0.5,"x":10,"y":20}},{"kind":"text","seq":2,"text":"Alex"},{"kind":"key","seq":3,"key":"Enter"},{"kind":"select","seq":4,"node":9,"option":1},{"kind":"scroll","seq":5,"at":null,"dx":0,"dy":300}]"#.to_owned(),
        ),
        (
            "control-results",
            r#"[{"seq":1,"refused":null},{"seq":2,"refused":"private"}]"#.to_owned(),
        ),
    ];
    messages
        .into_iter()
        .map(|(name, json)| {
            let cut = u8::try_from(json.len()).expect("a seed message fits in one frame of the target");
            let mut bytes = vec![cut, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1];
            bytes.extend_from_slice(json.as_bytes());
            (format!("{name}.bin"), bytes)
        })
        .collect()
}

fn client_message_seeds() -> Vec<(String, Vec<u8>)> {
    use sightline_proto::{ClientMessage as C, MessageBody, PageInfo, ShareMode, ShareStep, Signal};
    let text = MessageBody::Text { text: "hello".into() };
    let messages = [
        C::VisitorHello {
            protocol: 1,
            token: Some("tok".into()),
            after_seq: 3,
            page: Some(PageInfo {
                url: "https://example.com/".into(),
                title: "Shop".into(),
            }),
            device: Some(sightline_proto::VisitorDevice {
                can_share_screen: true,
                can_cobrowse: true,
                touch: false,
                time_zone: Some("Europe/Berlin".into()),
                utc_offset_minutes: 60,
            }),
        },
        C::AgentHello {
            protocol: 1,
            away: true,
        },
        C::SetAway { away: false },
        C::Rate {
            conversation: None,
            score: 4,
            comment: Some("Quick and kind".into()),
        },
        C::LeaveEmail {
            email: "vera@example.com".into(),
        },
        C::Identify {
            id: "user-42".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            signature: "4dba259bc3cd693baf80d04e65ca39af8cdde1460bc6c1690d7c6b961e66c5b9".into(),
        },
        C::Sync {
            conversation: "c1".into(),
            after_seq: 0,
        },
        C::Send {
            conversation: None,
            client_id: "m1".into(),
            body: text,
        },
        C::Send {
            conversation: Some("c1".into()),
            client_id: "m2".into(),
            body: MessageBody::Link {
                url: "https://example.com/help".into(),
                title: Some("Help".into()),
            },
        },
        C::Typing {
            conversation: None,
            active: true,
        },
        C::Accept {
            conversation: "c1".into(),
        },
        C::Close { conversation: None },
        C::Ping { nonce: 42 },
        C::ShareInvite {
            conversation: "c1".into(),
            message: Some("May I?".into()),
        },
        C::ShareProgress {
            share: "s1".into(),
            step: ShareStep::Accepted,
            detail: None,
        },
        C::ShareEnd { share: "s1".into() },
        C::ShareSignal {
            share: "s1".into(),
            signal: Signal::Description {
                sdp_type: "offer".into(),
                sdp: "v=0".into(),
            },
        },
        C::ShareSignal {
            share: "s1".into(),
            signal: Signal::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
            },
        },
        C::ShareSignal {
            share: "s1".into(),
            signal: Signal::Mode {
                mode: ShareMode::Motion,
            },
        },
        C::ShareKeyCreate { capability: None },
        C::ShareKeyCreate {
            capability: Some(sightline_proto::Capability::Cobrowse),
        },
        C::ShareKeyRedeem { key: "123456".into() },
    ];
    messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((format!("seed-{i:02}.json"), serde_json::to_vec(m).ok()?)))
        .collect()
}

/// Tiny images of every accepted type, made with the `image` crate (3×2 pixels,
/// the JPEG 9×7), as hex.
const IMAGE_SEEDS: &[(&str, &str)] = &[
    (
        "rgb.png",
        concat!(
            "89504e470d0a1a0a0000000d49484452000000030000000208020000001216f14d0000001f494441547801011400ebff",
            "000000c85000c8a000c8000078c85078c8a078c8422c07f9192dd39c0000000049454e44ae426082",
        ),
    ),
    (
        "rgba.png",
        concat!(
            "89504e470d0a1a0a0000000d49484452000000030000000208060000009d74661a00000025494441547801011a00e5ff",
            "00000a0080500a0080a00a008000000a7880500a7880a00a78804464068535c175180000000049454e44ae426082",
        ),
    ),
    (
        "rgb.jpg",
        concat!(
            "ffd8ffe000104a46494600010200000100010000ffc00011080007000903011100021101031101ffdb00430008060607",
            "0605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434",
            "341f27393d38323c2e333432ffdb0043010909090c0b0c180d0d1832211c213232323232323232323232323232323232",
            "323232323232323232323232323232323232323232323232323232323232323232ffc4001f0000010501010101010100",
            "000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411051221",
            "31410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a",
            "434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a9293949596979899",
            "9aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1",
            "f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405060708090a0bffc400b51100",
            "020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f015",
            "6272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a63646566676869",
            "6a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4",
            "c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f00e7",
            "f48f0727cbf2ad46233366593670f43a2ff84393fbab5e77f6933ecbfb619fffd9",
        ),
    ),
    (
        "rgba.gif",
        concat!(
            "4749463839610300020080000000000000000021f90408000000002c000000000300020082000a00000a78500a00500a",
            "78a00a00a00a78000000000000030408423195003b",
        ),
    ),
    (
        "rgb.webp",
        concat!(
            "524946469a000000574542505650384c8d0000002f02400000cd552022021ec826000000008001000000000000000000",
            "00000000000200000000000000000000000000000000740000c00391000000000038ff01000000000000000000030000",
            "000000000200000000000000000000000000007820120000000000e73f00000000000000000000000000000000600000",
            "0000000000400000000000008048719f0300",
        ),
    ),
    (
        "rgba.webp",
        concat!(
            "52494646c2000000574542505650384cb60000002f02400010cd552022021ec826000000008001080000000000000000",
            "00000000000000000000000000000000000000000000740000c00391000000000038ff01000000000000000000030000",
            "000000000000000000000000000000000080007820120000000000e73f00000000000000000000000000006000000000",
            "000000000000000000000010000f240000000000e0fc0300000000000000000000000000000004000000000000000000",
            "0000000000007274ae05",
        ),
    ),
];

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => codegen(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("bench-relay") => {
            let mut cargo_args = vec!["run", "--release", "-p", "sightline", "--example", "bench_relay", "--"];
            cargo_args.extend(args[1..].iter().map(String::as_str));
            run(&root(), "cargo", &cargo_args, &[])
        }
        Some("bench-images") => {
            let mut cargo_args = vec!["run", "--release", "-p", "sightline", "--example", "bench_images", "--"];
            cargo_args.extend(args[1..].iter().map(String::as_str));
            run(&root(), "cargo", &cargo_args, &[])
        }
        _ => bail!(
            "usage: cargo xtask codegen | test [--no-browser] | bench [ARGS] | bench-relay [--seconds S] | bench-images [--runs N] \
             | fuzz <target> [--runs N] [--seconds S] [-- LIBFUZZER_ARGS]"
        ),
    }
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` (a relative one is
/// resolved against the directory cargo runs in, the root), else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fuzz_seeds_are_what_their_names_say() {
        let seeds = super::fuzz_seeds("image_check");
        assert_eq!(seeds.len(), super::IMAGE_SEEDS.len());
        for (name, bytes) in seeds {
            assert_eq!(
                bytes.len() * 2,
                super::IMAGE_SEEDS.iter().find(|s| s.0 == name).map_or(0, |s| s.1.len())
            );
            let magic: &[u8] = match name.rsplit('.').next() {
                Some("png") => b"\x89PNG",
                Some("jpg") => b"\xff\xd8\xff",
                Some("gif") => b"GIF8",
                _ => b"RIFF",
            };
            assert!(bytes.starts_with(magic), "{name}");
        }
        assert!(super::fuzz_seeds("client_message").len() >= 15);
        for (name, bytes) in super::fuzz_seeds("stream_check") {
            // The cut byte makes the frame exactly the header and the message.
            assert_eq!(bytes.len(), 1 + 10 + usize::from(bytes[0]), "{name}");
            assert_eq!(bytes[1], 1, "{name}: frame version 1");
        }
    }

    #[test]
    fn every_fuzz_target_has_seeds_and_a_dictionary() {
        let fuzz_dir = super::root().join("fuzz");
        let targets = super::fuzz_targets(&fuzz_dir).expect("fuzz/fuzz_targets is readable");
        assert!(targets.len() >= 2, "{targets:?}");
        for target in targets {
            assert!(!super::fuzz_seeds(&target).is_empty(), "no seeds for {target}");
            let dict = fuzz_dir.join("dict").join(format!("{target}.dict"));
            assert!(dict.is_file(), "{} is missing", dict.display());
        }
    }

    #[test]
    fn committed_typescript_protocol_types_are_fresh() {
        let committed = std::fs::read_to_string(super::protocol_ts_path()).expect("web/src/protocol.gen.ts exists");
        assert!(
            committed == sightline_proto::typescript_declarations(),
            "web/src/protocol.gen.ts is stale: run `cargo xtask codegen` and commit it"
        );
    }
}
