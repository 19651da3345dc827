//! Benchmarks of the image engine (`ossify::image`), in-process, one thread.
//!
//! `cargo bench --bench image` runs the criterion benches of the common pipelines on a
//! large JPEG: `$OSSIFY_TESTDATA/volna-5120x2880.jpg` (default `../shared/testdata`,
//! i.e. `/work/shared/testdata` next to the checkout) when present, otherwise a
//! 4000x3000 photo-like JPEG generated here, so nothing depends on that file existing.
//!
//! The same binary has two extra modes used by `scripts/bench-images.sh` (they are
//! checked before criterion parses the command line):
//!
//! * `--write-generated PATH` writes the generated 4000x3000 JPEG to PATH;
//! * `--timing-server` reads commands from stdin, one per line,
//!   `run <iterations> <spec> <path>`, runs `image::process(spec, file)` that many
//!   times and answers one JSON line per command with the CPU time (process CPU
//!   clock) and wall time of each run in ms, the output size and content type. The
//!   first command for a (spec, file) pair does one untimed warm-up run. The Python
//!   side interleaves these batches with libvips batches in one run.
//!   `decode <iterations> <path>` times the `image` crate's full-size decode alone.

use base64::Engine as _;
use criterion::{BenchmarkId, Criterion, SamplingMode};
use ossify::image::{self, Limits, Pipeline};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// The server's allocator (src/main.rs), so in-process figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// ---------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------

fn testdata_dir() -> PathBuf {
    match std::env::var_os("OSSIFY_TESTDATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"),
    }
}

/// Deterministic xorshift64* for the generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn hash2(x: i32, y: i32, seed: u32) -> f32 {
    let mut h = (x as u32).wrapping_mul(0x8da6_b343)
        ^ (y as u32).wrapping_mul(0xd816_3841)
        ^ seed.wrapping_mul(0xcb1a_b31f);
    h ^= h >> 13;
    h = h.wrapping_mul(0x5bd1_e995);
    h ^= h >> 15;
    (h & 0xffff) as f32 / 65535.0
}

/// Smoothly interpolated lattice noise in 0..1 with cell size `cell` px.
fn value_noise(x: f32, y: f32, cell: f32, seed: u32) -> f32 {
    let (fx, fy) = (x / cell, y / cell);
    let (ix, iy) = (fx.floor() as i32, fy.floor() as i32);
    let (tx, ty) = (fx - ix as f32, fy - iy as f32);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let a = hash2(ix, iy, seed);
    let b = hash2(ix + 1, iy, seed);
    let c = hash2(ix, iy + 1, seed);
    let d = hash2(ix + 1, iy + 1, seed);
    let top = a + (b - a) * sx;
    let bot = c + (d - c) * sx;
    top + (bot - top) * sy
}

/// A photo-like RGB JPEG (sky gradient, textured "ground", fractal detail at several
/// scales, sensor-like noise), baseline 4:2:0 q90 like a camera file. About as costly
/// to decode per pixel as a real photo: the entropy-coded size is what matters.
fn generate_photo(w: u32, h: u32) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut px = vec![0u8; (w * h * 3) as usize];
    let horizon = h as f32 * 0.45;
    for y in 0..h {
        let yf = y as f32;
        for x in 0..w {
            let xf = x as f32;
            let detail = 0.35 * value_noise(xf, yf, 96.0, 1)
                + 0.25 * value_noise(xf, yf, 24.0, 2)
                + 0.20 * value_noise(xf, yf, 6.0, 3)
                + 0.20 * value_noise(xf, yf, 2.0, 4);
            let ridge = horizon + 120.0 * (value_noise(xf, 0.0, 400.0, 5) - 0.5);
            let (r, g, b) = if yf < ridge {
                // Sky: vertical gradient with soft clouds.
                let t = yf / ridge;
                let cloud = (value_noise(xf, yf, 160.0, 6) - 0.45).max(0.0) * 1.6;
                (
                    70.0 + 90.0 * t + 120.0 * cloud,
                    120.0 + 70.0 * t + 110.0 * cloud,
                    200.0 + 30.0 * t + 40.0 * cloud,
                )
            } else {
                // Ground: green/brown fields with strong texture.
                let field = value_noise(xf, yf, 300.0, 7);
                (
                    60.0 + 90.0 * field + 90.0 * (detail - 0.5),
                    80.0 + 60.0 * (1.0 - field) + 110.0 * (detail - 0.5),
                    30.0 + 40.0 * field + 60.0 * (detail - 0.5),
                )
            };
            let n = (rng.next() >> 40) as u32;
            let noise = |k: u32| ((n >> (k * 8)) & 0xff) as f32 / 255.0 * 24.0 - 12.0;
            let i = ((y * w + x) * 3) as usize;
            px[i] = (r + noise(0)).clamp(0.0, 255.0) as u8;
            px[i + 1] = (g + noise(1)).clamp(0.0, 255.0) as u8;
            px[i + 2] = (b + noise(2)).clamp(0.0, 255.0) as u8;
        }
    }
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    enc.encode(&px, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encode generated JPEG");
    out
}

/// The large JPEG of the benches and where it came from.
fn large_jpeg() -> (String, Vec<u8>) {
    let p = testdata_dir().join("volna-5120x2880.jpg");
    match std::fs::read(&p) {
        Ok(b) => ("volna-5120x2880".into(), b),
        Err(_) => ("generated-4000x3000".into(), generate_photo(4000, 3000)),
    }
}

fn run(p: &Pipeline, src: &[u8]) -> image::Output {
    image::process(p, src, &HashMap::new(), &Limits::default())
        .unwrap_or_else(|e| panic!("process failed: {e:?}"))
}

/// Register fonts for the text-watermark bench as the server does (the repository's
/// `assets/fonts`: DroidSansFallbackFull, DejaVuSans as Latin fallback), or
/// `$OSSIFY_BENCH_FONT`, or a common system font. Returns the default font's path.
fn register_font() -> Option<PathBuf> {
    let read = |p: &Path| -> Option<&'static [u8]> {
        std::fs::read(p)
            .ok()
            .map(|b| &*Box::leak(b.into_boxed_slice()))
    };
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts");
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(f) = std::env::var_os("OSSIFY_BENCH_FONT") {
        candidates.push(f.into());
    }
    candidates.push(assets.join("DroidSansFallbackFull.ttf"));
    for f in [
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ] {
        candidates.push(f.into());
    }
    let found = candidates
        .into_iter()
        .find(|p| read(p).is_some_and(|b| image::set_font(b).is_ok()))?;
    if let Some(b) = read(&assets.join("DejaVuSans.ttf")) {
        let _ = image::add_fallback_font(b, 0);
    }
    Some(found)
}

// ---------------------------------------------------------------------------------
// Criterion benches
// ---------------------------------------------------------------------------------

fn benches(c: &mut Criterion) {
    let (name, big) = large_jpeg();
    let probe = run(&image::parse("image/info").unwrap(), &big);
    eprintln!(
        "large JPEG: {name}, {} bytes, info {}",
        big.len(),
        String::from_utf8_lossy(&probe.bytes)
    );
    // A smaller JPEG for PNG output: the large one fitted to 1280 px wide by the engine.
    let small = run(&image::parse("image/resize,w_1280").unwrap(), &big).bytes;

    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("ossify 基准测试 benchmark");
    let font = register_font();
    match &font {
        Some(p) => eprintln!("text watermark font: {}", p.display()),
        None => eprintln!("no font found (set OSSIFY_BENCH_FONT): text watermark skipped"),
    }

    let mut specs: Vec<(&str, String, &[u8])> = vec![
        ("large", "image/resize,w_800".into(), &big),
        ("large", "image/resize,w_800/quality,q_80".into(), &big),
        ("large", "image/resize,w_800/quality,Q_80".into(), &big),
        ("large", "image/crop,w_800,h_600,g_center".into(), &big),
        ("large", "image/resize,w_800/format,webp".into(), &big),
        ("large", "image/resize,w_800/format,png".into(), &big),
        ("small-1280", "image/format,png".into(), &small),
        ("large", "image/info".into(), &big),
    ];
    if font.is_some() {
        specs.push((
            "large",
            format!("image/resize,w_800/watermark,text_{text},size_40,g_se"),
            &big,
        ));
        // Watermark alone: the whole full-size frame is re-encoded.
        specs.push(("large", format!("image/watermark,text_{text}"), &big));
    }

    let mut g = c.benchmark_group(format!("process/{name}"));
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(6));
    for (input, spec, src) in &specs {
        let p = image::parse(spec).unwrap();
        let out = run(&p, src);
        eprintln!(
            "{input} {spec}: {} bytes {}",
            out.bytes.len(),
            out.content_type
        );
        g.bench_with_input(BenchmarkId::new(*input, spec), src, |b, src| {
            b.iter(|| run(black_box(&p), black_box(src)))
        });
    }
    g.finish();

    // Reference: a full-size decode with the `image` crate (zune-jpeg), i.e. what every
    // JPEG pipeline paid before shrink-on-load, and what builds without `turbojpeg` pay.
    let mut g = c.benchmark_group(format!("reference/{name}"));
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(6));
    g.bench_function("zune-jpeg-full-decode", |b| {
        b.iter(|| ::image::load_from_memory(black_box(&big)).unwrap())
    });
    g.finish();
}

// ---------------------------------------------------------------------------------
// Timing server for scripts/bench_images.py
// ---------------------------------------------------------------------------------

/// CPU time of the whole process (all threads).
#[cfg(unix)]
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Elsewhere fall back to wall time (the engine is single-threaded).
#[cfg(not(unix))]
fn cpu_time() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

fn timing_server() {
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut warmed: std::collections::HashSet<(String, String)> = Default::default();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let no_marks = HashMap::new();
    let limits = Limits::default();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let parts: Vec<&str> = line.splitn(4, ' ').collect();
        let reply = match parts.as_slice() {
            ["run", n, spec, path] => (|| -> Result<String, String> {
                let n: usize = n.parse().map_err(|e| format!("iterations: {e}"))?;
                if !files.contains_key(*path) {
                    let b = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
                    files.insert(path.to_string(), b);
                }
                let src = &files[*path];
                let p = image::parse(spec).map_err(|e| format!("{e:?}"))?;
                let once = || image::process(&p, src, &no_marks, &limits);
                let mut out = None;
                if warmed.insert((spec.to_string(), path.to_string())) {
                    // First use of this pair: one untimed warm-up run.
                    out = Some(once().map_err(|e| format!("{e:?}"))?);
                }
                let (mut cpu, mut wall) = (Vec::new(), Vec::new());
                for _ in 0..n {
                    let (c0, w0) = (cpu_time(), Instant::now());
                    out = Some(black_box(once().map_err(|e| format!("{e:?}"))?));
                    let (c1, w1) = (cpu_time(), Instant::now());
                    cpu.push((c1 - c0).as_secs_f64() * 1e3);
                    wall.push((w1 - w0).as_secs_f64() * 1e3);
                }
                let list = |v: &[f64]| {
                    v.iter()
                        .map(|x| format!("{x:.3}"))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                Ok(format!(
                    "{{\"cpu_ms\":[{}],\"wall_ms\":[{}],\"bytes\":{},\"content_type\":\"{}\"}}",
                    list(&cpu),
                    list(&wall),
                    out.as_ref().map_or(0, |o| o.bytes.len()),
                    out.as_ref().map_or("", |o| o.content_type)
                ))
            })(),
            // The `image` crate's full-size decode alone (zune-jpeg), for reference.
            ["decode", n, path] => (|| -> Result<String, String> {
                let n: usize = n.parse().map_err(|e| format!("iterations: {e}"))?;
                let src = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
                let (mut cpu, mut wall) = (Vec::new(), Vec::new());
                for _ in 0..n {
                    let (c0, w0) = (cpu_time(), Instant::now());
                    let img = ::image::load_from_memory(&src).map_err(|e| e.to_string())?;
                    drop(black_box(img));
                    let (c1, w1) = (cpu_time(), Instant::now());
                    cpu.push((c1 - c0).as_secs_f64() * 1e3);
                    wall.push((w1 - w0).as_secs_f64() * 1e3);
                }
                Ok(format!("{{\"cpu_ms\":{cpu:.3?},\"wall_ms\":{wall:.3?}}}"))
            })(),
            ["quit"] => break,
            _ => Err(format!("unknown command: {line}")),
        };
        let reply = reply.unwrap_or_else(|e| {
            format!(
                "{{\"error\":{}}}",
                serde_json::to_string(&e).unwrap_or_default()
            )
        });
        writeln!(stdout, "{reply}").expect("stdout");
        stdout.flush().expect("stdout");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write-generated") {
        let path = args.get(i + 1).expect("--write-generated PATH");
        std::fs::write(path, generate_photo(4000, 3000)).expect("write generated JPEG");
        return;
    }
    if args.iter().any(|a| a == "--timing-server") {
        timing_server();
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
