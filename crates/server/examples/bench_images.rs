//! Server-side image figures: how fast uploads are checked and thumbnailed, and how
//! much memory one 4K screenshot takes.
//!
//! `cargo xtask bench-images` (or `cargo run --release -p sightline --example
//! bench_images -- [--runs N]`). Screenshots are generated: UI-like content (window
//! chrome, toolbars, lines of "text", buttons, a photo-like gradient), PNG-encoded
//! as a browser would. Each is put through exactly what an upload goes through
//! (`image_check::check`: sniff, header dimensions, bounded decode, 320 px PNG
//! thumbnail). Peak memory is measured in a child process that does nothing but
//! check one 4K screenshot: VmHWM (peak resident set) after, minus VmRSS before.

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use sightline::image_check;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n.max(1)
    }
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, Rgb(color));
        }
    }
}

/// A desktop-like screenshot: a browser window with toolbar, sidebar, paragraphs of
/// "text" (glyph-sized marks), buttons, a table and a photo-like area.
fn screenshot(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed | 1);
    let scale = width / 1920;
    let s = |v: u32| v * scale.max(1);
    let mut img = RgbImage::from_pixel(width, height, Rgb([246, 247, 249]));
    fill(&mut img, 0, 0, width, s(40), [222, 225, 230]); // tab strip
    fill(&mut img, 0, s(40), width, s(44), [255, 255, 255]); // toolbar
    fill(&mut img, s(200), s(50), width / 2, s(26), [241, 243, 244]); // address bar
    fill(&mut img, 0, s(84), s(260), height, [32, 41, 56]); // sidebar
    for i in 0..18 {
        fill(
            &mut img,
            s(24),
            s(120 + i * 44),
            s(140 + rng.below(60)),
            s(12),
            [170, 180, 195],
        );
    }
    // Paragraphs of text: words made of glyph marks.
    let (left, right) = (s(300), width - s(440));
    let mut y = s(120);
    while y < height - s(420) {
        let mut x = left;
        while x < right {
            let word = 2 + rng.below(9);
            for _ in 0..word {
                let gw = s(5 + rng.below(4));
                let gh = s(9 + rng.below(5));
                fill(&mut img, x, y + s(14) - gh, gw, gh, [40, 44, 52]);
                x += gw + s(2);
            }
            x += s(8);
        }
        y += s(26);
        if rng.below(6) == 0 {
            y += s(20);
            let bx = left + rng.below(right - left - s(160));
            fill(&mut img, bx, y, s(140), s(36), [26, 115, 232]);
            fill(&mut img, bx + s(30), y + s(13), s(80), s(10), [255, 255, 255]);
            y += s(56);
        }
    }
    // A table on the right.
    for row in 0..14 {
        let color = if row % 2 == 0 { [255, 255, 255] } else { [236, 239, 243] };
        fill(&mut img, right + s(20), s(120 + row * 32), s(400), s(32), color);
        for col in 0..3 {
            fill(
                &mut img,
                right + s(32 + col * 130),
                s(130 + row * 32),
                s(40 + rng.below(60)),
                s(10),
                [90, 96, 110],
            );
        }
    }
    // A photo-like area: smooth gradients with noise.
    let (px, py, pw, ph) = (left, height - s(380), s(560), s(340));
    for yy in py..(py + ph).min(height) {
        for xx in px..(px + pw).min(width) {
            let n = rng.below(24) as u8;
            let r = ((xx - px) * 200 / pw) as u8;
            let g = ((yy - py) * 180 / ph) as u8;
            img.put_pixel(
                xx,
                yy,
                Rgb([r.saturating_add(n), g.saturating_add(n / 2), 140u8.saturating_add(n)]),
            );
        }
    }
    img
}

fn encode_png(img: RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-probe") {
        // Child: check one file, report the peak.
        let bytes = std::fs::read(&args[i + 1]).expect("read probe file");
        let before = status_kb("VmRSS:");
        let checked = image_check::check(&bytes).expect("accepted");
        let peak = status_kb("VmHWM:");
        println!("{before} {peak} {}", checked.thumb.len());
        return;
    }
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);

    println!("Thumbnailing uploads (sniff, header dimensions, bounded decode, 320 px PNG thumbnail), {runs} runs each");
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>12} {:>14}",
        "screenshot", "PNG size", "p50", "p95", "images/s", "images/s (all cores)"
    );
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut probe = None;
    for (width, height) in [(1920u32, 1080u32), (3840, 2160)] {
        let files: Vec<Vec<u8>> = (0..4)
            .map(|seed| encode_png(screenshot(width, height, 0x9E37_79B9 + seed)))
            .collect();
        let mut times = Vec::with_capacity(runs);
        let started = Instant::now();
        for i in 0..runs {
            let t = Instant::now();
            let checked = image_check::check(&files[i % files.len()]).expect("accepted");
            times.push(t.elapsed());
            assert!(checked.thumb_width <= 320 && checked.thumb_height <= 320);
        }
        let total = started.elapsed();
        times.sort();
        // All cores at once, as a busy server would.
        let per_thread = runs.div_ceil(cores);
        let par_start = Instant::now();
        std::thread::scope(|scope| {
            for t in 0..cores {
                let files = &files;
                scope.spawn(move || {
                    for i in 0..per_thread {
                        image_check::check(&files[(i + t) % files.len()]).expect("accepted");
                    }
                });
            }
        });
        let par = (per_thread * cores) as f64 / par_start.elapsed().as_secs_f64();
        let avg_size = files.iter().map(Vec::len).sum::<usize>() / files.len();
        println!(
            "{:<12} {:>8} KB {:>7.1} ms {:>7.1} ms {:>12.1} {:>14.1}",
            format!("{width}x{height}"),
            avg_size / 1024,
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.95).as_secs_f64() * 1000.0,
            runs as f64 / total.as_secs_f64(),
            par,
        );
        if width == 3840 {
            probe = Some(files[0].clone());
        }
    }

    if let Some(bytes) = probe {
        let dir = std::env::temp_dir().join(format!("sightline-bench-images-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("4k.png");
        std::fs::write(&path, &bytes).expect("write probe file");
        let out = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg("--memory-probe")
            .arg(&path)
            .output()
            .expect("run memory probe");
        let _ = std::fs::remove_dir_all(&dir);
        let text = String::from_utf8_lossy(&out.stdout);
        let nums: Vec<u64> = text.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        if let [before, peak, thumb] = nums[..] {
            println!(
                "\nPeak memory for one 4K screenshot (3840x2160, {} KB PNG): {:.1} MB above the process's {:.1} MB before \
                 (VmHWM {:.1} MB); thumbnail {} KB. Decoded RGB pixels alone are {:.1} MB.",
                bytes.len() / 1024,
                peak.saturating_sub(before) as f64 / 1024.0,
                before as f64 / 1024.0,
                peak as f64 / 1024.0,
                thumb / 1024,
                (3840.0 * 2160.0 * 3.0) / (1024.0 * 1024.0),
            );
        } else {
            println!("memory probe failed: {text} {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
