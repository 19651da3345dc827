//! OSS IMG engine (`x-oss-process=image/...`): parse a processing spec into a typed
//! [`Pipeline`], then [`process`] source bytes into output bytes.
//!
//! Pure: no I/O, no async. The API layer resolves styles, `sys/saveas`, loads the
//! source object and the watermark objects named by [`Pipeline::watermark_objects`].
//! Text watermarks need a font registered once with [`set_font`].

mod budget;
mod codec;
mod error;
mod font;
mod limits;
mod parse;
mod raster;
pub mod steps;

pub use codec::OutFormat;
pub use error::ImageError;
pub use font::{add_fallback_font, install_embedded_fonts, set_font, set_named_font};
pub use limits::Limits;

use budget::Budget;
use codec::{EncodeOpts, SrcFormat};
use raster::Picture;
use std::collections::HashMap;
use std::time::Instant;
use steps::{Ctx, Step};

/// Format (as `info` names it: `jpg`, `png`, ...), width and height of an image, read
/// from its first bytes without decoding pixels; None when the bytes are not an image
/// this engine reads (upload callbacks' `imageInfo` variables).
pub fn header_info(head: &[u8]) -> Option<(&'static str, u32, u32)> {
    codec::probe(head)
        .ok()
        .map(|p| (p.format.info_name(), p.width, p.height))
}

/// A parsed, validated processing chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    steps: Vec<Step>,
    /// The output format when the chain names none (Accept negotiation).
    auto_format: Option<OutFormat>,
}

/// Processed output: bytes and their MIME type (`application/json` for `info`/`average-hue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// Time each stage took: `decode`, the actions that changed pixels, `encode`.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Parse a spec such as `image/resize,w_100/format,png` (the `image/` prefix is required;
/// styles and `sys/saveas` are resolved by the caller). Every parameter is validated here.
pub fn parse(spec: &str) -> Result<Pipeline, ImageError> {
    let body = match spec.strip_prefix("image/") {
        Some(b) => b,
        None if spec == "image" => "",
        None => {
            return Err(ImageError::invalid_msg(format!(
                "The process spec must start with image/: {}",
                spec.chars().take(64).collect::<String>()
            )));
        }
    };
    let mut steps = Vec::new();
    for a in parse::split_chain(body)? {
        steps.push(Step::parse(&a)?);
    }
    Ok(Pipeline {
        steps,
        auto_format: None,
    })
}

impl Pipeline {
    /// The typed steps, in chain order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Object keys (decoded from base64) of image watermarks; the caller loads them from
    /// the same bucket. Distinct, in first-use order.
    pub fn watermark_objects(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.steps {
            if let Step::Watermark(w) = s
                && let Some(im) = &w.image
                && !out.contains(&im.key)
            {
                out.push(im.key.clone());
            }
        }
        out
    }

    /// Normalized text of the pipeline, stable for equal pipelines (used for ETags):
    /// defaults are made explicit, base64 is re-encoded URL-safe without padding.
    pub fn normalized(&self) -> String {
        let parts: Vec<String> = self.steps.iter().map(Step::normalized).collect();
        match self.auto_format {
            // Not a `format` step: an animation the format cannot carry keeps its own.
            Some(f) => format!("image/{}|auto-format,{}", parts.join("/"), f.name()),
            None => format!("image/{}", parts.join("/")),
        }
    }

    /// Whether the result is an image whose format the chain leaves to the source
    /// (no `format` step, no `info` / `average-hue`): what Accept negotiation may pick.
    pub fn format_open(&self) -> bool {
        self.terminal().is_none() && !self.steps.iter().any(|s| matches!(s, Step::Format(_)))
    }

    /// Output `format` unless the chain names one; a source with several frames keeps
    /// its format when `format` cannot animate.
    pub fn with_auto_format(self, format: OutFormat) -> Self {
        Self {
            auto_format: Some(format),
            ..self
        }
    }

    /// Index of the first terminal query (`info` / `average-hue`), if any.
    fn terminal(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| matches!(s, Step::Info(_) | Step::AverageHue(_)))
    }
}

/// The MIME type of an output, from its text (for results read back from a cache).
pub fn known_content_type(text: &str) -> Option<&'static str> {
    use OutFormat::*;
    [Jpg, Png, Webp, Bmp, Gif, Tiff, Heic, Avif]
        .into_iter()
        .map(OutFormat::content_type)
        .chain(["application/json"])
        .find(|t| *t == text)
}

/// Run `pipeline` on `source`. `watermarks` maps each key from
/// [`Pipeline::watermark_objects`] to that object's bytes.
pub fn process(
    pipeline: &Pipeline,
    source: &[u8],
    watermarks: &HashMap<String, Vec<u8>>,
    limits: &Limits,
) -> Result<Output, ImageError> {
    process_cancellable(pipeline, source, watermarks, limits, &|| false)
}

/// [`process`] that stops (with an error) as soon as `cancelled` returns true, polled
/// with the time budget between steps and inside long steps.
pub fn process_cancellable(
    pipeline: &Pipeline,
    source: &[u8],
    watermarks: &HashMap<String, Vec<u8>>,
    limits: &Limits,
    cancelled: &dyn Fn() -> bool,
) -> Result<Output, ImageError> {
    let budget = Budget::new(limits, cancelled);
    limits.check_steps(pipeline.steps.len())?;
    if source.len() as u64 > limits.max_source_bytes {
        return Err(ImageError::too_large(format!(
            "The source image is too large: {} bytes exceeds {} bytes.",
            source.len(),
            limits.max_source_bytes
        )));
    }
    let probe = codec::probe(source)?;
    let terminal = pipeline.terminal();
    let chain = &pipeline.steps[..terminal.unwrap_or(pipeline.steps.len())];

    // `info` ignores the chain and reports the source, from the header only.
    if let Some(i) = terminal
        && matches!(pipeline.steps[i], Step::Info(_))
    {
        let started = Instant::now();
        let exif = codec::read_exif(source);
        let bytes = steps::info::json(source, &probe, exif.as_ref()).into_bytes();
        return Ok(Output {
            bytes,
            content_type: "application/json",
            timings: vec![("info", started.elapsed())],
        });
    }

    let has_resize = chain.iter().any(|s| matches!(s, Step::Resize(_)));
    limits.check_source(
        source.len(),
        probe.width,
        probe.height,
        probe.frames,
        has_resize,
    )?;
    let marks = pipeline.watermark_objects();
    if marks.len() > limits.max_image_watermarks {
        return Err(ImageError::invalid_msg(format!(
            "At most {} distinct image watermarks are allowed.",
            limits.max_image_watermarks
        )));
    }
    for k in &marks {
        if !watermarks.contains_key(k) {
            return Err(
                ImageError::watermark(format!("The watermark object {k} does not exist."))
                    .with_ec(error::ec::WATERMARK_MISSING),
            );
        }
    }

    // Output settings: the last format / quality / interlace of the chain wins.
    let mut out_format = probe.format.same_out();
    let mut quality = None;
    let mut progressive = false;
    for s in chain {
        match s {
            Step::Format(f) => {
                // `format,gif` on a non-GIF source keeps the source format.
                out_format = if f.format == OutFormat::Gif && probe.format != SrcFormat::Gif {
                    probe.format.same_out()
                } else {
                    f.format
                };
            }
            Step::Quality(q) => quality = Some(q.clone()),
            Step::Interlace(i) => progressive = i.on,
            _ => {}
        }
    }
    if let Some(auto) = pipeline.auto_format
        && !chain.iter().any(|s| matches!(s, Step::Format(_)))
        && (probe.frames <= 1 || auto.animates())
    {
        out_format = auto;
    }
    if out_format == OutFormat::Heic && !codec::heif::can_encode() {
        return Err(codec::heif::no_encoder());
    }

    // An animated GIF or WebP keeps every frame when the output can animate (GIF stays
    // GIF; OSS turns an animated GIF into an animated WebP) and it is not resized by `p`,
    // which gives a still (spec §2, documented for GIF; WebP is treated alike).
    let resize_by_p = chain
        .iter()
        .any(|s| matches!(s, Step::Resize(r) if r.p.is_some() && r.w.is_none() && r.h.is_none() && r.l.is_none() && r.s.is_none()));
    let all_frames = matches!(probe.format, SrcFormat::Gif | SrcFormat::WebP)
        && out_format.animates()
        && !resize_by_p;

    // auto-orient is applied to the decoded source, wherever it is written (spec §1.3).
    let orientation = if chain
        .iter()
        .any(|s| matches!(s, Step::AutoOrient(a) if a.on))
    {
        codec::source_orientation(source)
    } else {
        1
    };

    // Shrink-on-load: a JPEG whose first pixel step is a big enough downscale is decoded
    // at 1/2, 1/4 or 1/8 in the DCT domain. That resize is then planned from the source's
    // own size, so output sizes stay those of the full-size path.
    let load = shrink_on_load(chain, &probe, orientation);
    let shrink = load.map_or(1, |l| l.shrink);
    let frames = if all_frames { probe.frames } else { 1 };
    let work = |decoded: (u32, u32)| {
        let shrunk = load.filter(|_| decoded != (probe.width, probe.height));
        let (cost, memory) = estimate_work(
            chain,
            decoded,
            frames,
            orientation,
            &probe,
            shrunk,
            out_format,
        );
        limits.check_work(cost, memory)
    };
    // libjpeg-turbo scales by rounding up (tj3 scaled sizes).
    let predicted = (probe.width.div_ceil(shrink), probe.height.div_ceil(shrink));
    work(predicted)?;
    budget.check()?;
    let mut timings = Vec::with_capacity(chain.len() + 2);
    let mut clock = Instant::now();
    let mut lap = |stage: &'static str| {
        let now = Instant::now();
        timings.push((stage, now - clock));
        clock = now;
    };
    let mut pic = decode_guarded(source, &probe, all_frames, shrink, limits)?;
    if pic.dims() != predicted {
        // Decoded at another size than planned (e.g. full size): estimate again.
        work(pic.dims())?;
    }
    let shrunk = shrink > 1 && pic.dims() != (probe.width, probe.height);

    if orientation != 1 {
        // The rotate limit applies to the source, whatever size it was decoded at.
        let (w, h) = if shrunk {
            (probe.width, probe.height)
        } else {
            pic.dims()
        };
        limits.check_rotate(w, h)?;
        pic.map(|img| steps::auto_orient::orient(img, orientation));
    }
    lap("decode");

    let ctx = Ctx {
        limits,
        budget: &budget,
        watermarks,
        src_format: probe.format,
        out_format,
    };
    let oriented_full = upright_dims(&probe, orientation);
    for (i, s) in chain.iter().enumerate() {
        budget.check()?;
        match (s, load) {
            (Step::Resize(r), Some(l)) if shrunk && i == l.step => {
                let region = l
                    .crop
                    .map(|(_, rect)| scale_rect(rect, oriented_full, pic.dims()));
                r.run_plan_on(&mut pic, l.plan, region, limits)?
            }
            // Done by the resize, which reads only the crop's area.
            (
                Step::Crop(_),
                Some(ShrinkOnLoad {
                    crop: Some((at, _)),
                    ..
                }),
            ) if shrunk && i == at => {}
            _ => s.apply(&mut pic, &ctx)?,
        }
        // Output settings (format, quality, interlace) are timed with the encoder.
        if !matches!(s, Step::Format(_) | Step::Quality(_) | Step::Interlace(_)) {
            lap(s.action());
        }
    }

    if terminal.is_some() {
        // The only other terminal is average-hue.
        let bytes = steps::average_hue::json(pic.first()).into_bytes();
        lap("average-hue");
        return Ok(Output {
            bytes,
            content_type: "application/json",
            timings,
        });
    }

    let source_quality = if probe.format == SrcFormat::Jpeg {
        codec::jpeg_quality(source).unwrap_or(100)
    } else {
        100
    };
    let (q, explicit) = match &quality {
        Some(q) => (
            q.effective(source_quality, out_format == OutFormat::Jpg),
            true,
        ),
        None => (limits.default_quality.min(source_quality), false),
    };
    let opts = EncodeOpts {
        quality: q.clamp(1, 100),
        progressive: progressive && out_format == OutFormat::Jpg,
        webp_lossless: explicit && q >= 100,
    };
    if !out_format.animates() {
        pic.frames.truncate(1);
    }
    budget.check()?;
    let bytes = codec::encode(pic, out_format, opts, limits)?;
    lap("encode");
    Ok(Output {
        bytes,
        content_type: out_format.content_type(),
        timings,
    })
}

/// Estimated cost (pixel operations) and peak of pixel buffers (bytes) of decoding the
/// source to `decoded` (per frame, before auto-orient by `orientation`), running `chain`
/// on it and encoding the result; `load` is the shrink-on-load plan when the decode
/// applied it.
fn estimate_work(
    chain: &[Step],
    decoded: (u32, u32),
    frames: u32,
    orientation: u32,
    probe: &codec::Probe,
    load: Option<ShrinkOnLoad>,
    out_format: OutFormat,
) -> (u64, u64) {
    let px = |(w, h): (u32, u32)| w as u64 * h as u64 * frames as u64;
    // RGB(A) buffers; decoders may hold their own format besides (capped by `image`'s
    // allocation limit). libheif holds its YCbCr planes and RGB(A) image while the
    // engine copies that.
    let bytes_pp = match probe.format {
        SrcFormat::Jpeg => 3,
        SrcFormat::Heic | SrcFormat::Avif => 8,
        _ => 4,
    };
    let mut cost = px(decoded)
        * match probe.format {
            SrcFormat::Jpeg => 3,
            SrcFormat::Heic => HEVC_DECODE_COST_PER_PIXEL,
            _ => 5,
        };
    let mut memory = px(decoded) * bytes_pp;
    // Steps see the picture upright (auto-orient, one more pass).
    if orientation != 1 {
        cost += px(decoded);
    }
    let mut dims = if steps::auto_orient::swaps_axes(orientation) {
        (decoded.1, decoded.0)
    } else {
        decoded
    };
    for (i, s) in chain.iter().enumerate() {
        let (out, c) = match load {
            Some(l) if i == l.step => {
                let out = match l.plan {
                    steps::resize::Plan::Scale { scaled, canvas, .. } => canvas.unwrap_or(scaled),
                    steps::resize::Plan::Keep => dims,
                };
                (out, (px(dims) + px(out)) / frames as u64)
            }
            Some(ShrinkOnLoad {
                crop: Some((at, _)),
                ..
            }) if i == at => (dims, 0),
            _ => s.estimate(dims, probe.format),
        };
        cost += c * frames as u64;
        memory = memory.max((px(dims) + px(out)) * 4);
        dims = out;
    }
    // Encoders, per output pixel (measured on photos, relative to a resize pass).
    let encode = match out_format {
        OutFormat::Bmp | OutFormat::Tiff => 1,
        OutFormat::Jpg => 2,
        OutFormat::Png => 6,
        OutFormat::Webp => 10,
        OutFormat::Gif => 30,
        OutFormat::Avif => AVIF_COST_PER_PIXEL,
        OutFormat::Heic => HEVC_ENCODE_COST_PER_PIXEL,
    };
    let frames_out = if out_format.animates() { frames } else { 1 };
    let out_px = dims.0 as u64 * dims.1 as u64 * frames_out as u64;
    cost += out_px * encode;
    // The encoder's input plus its own planes and state.
    let encoder_memory = out_px
        * match out_format {
            OutFormat::Avif | OutFormat::Heic => 12,
            _ => 4,
        };
    (cost, memory.max(px(dims) * 4 + encoder_memory))
}

/// Estimated cost of AVIF encoding per pixel (rav1e at the speed of `codec::encode`).
/// The encoder cannot be interrupted, so the estimate is what bounds it: measured
/// 0.30-0.44 s of one core per megapixel (docs/benchmarks.md), and the default
/// `max_cost` of 2000 stands for the default `max_time_ms` of 8 s, 4 ms per unit.
const AVIF_COST_PER_PIXEL: u64 = 100;

/// Estimated cost of HEVC decoding per pixel (libde265 on one thread). Decoding cannot
/// be interrupted, so the estimate is what bounds it: measured 55-60 ms of one core per
/// megapixel at a typical 0.12 bytes per pixel and 125-150 ms at a high 0.57 (a 9 MP
/// photo; AV1 through dav1d: 17-21 ms, under the default 5), and 4 ms per unit
/// (see [`AVIF_COST_PER_PIXEL`]). A 48 MP iPhone photo still fits the default budget.
const HEVC_DECODE_COST_PER_PIXEL: u64 = 35;

/// Estimated cost of HEVC encoding per pixel (x265, preset `fast`, one thread, at the
/// default quality), on the scale of [`AVIF_COST_PER_PIXEL`]: measured 0.40-0.58 s of
/// one core per megapixel (docs/benchmarks.md), so 150. The encoder cannot be
/// interrupted; a 12 MP photo still fits the default budget, 16 MP does not.
const HEVC_ENCODE_COST_PER_PIXEL: u64 = 150;

/// How to decode a JPEG smaller than its size, and the resize that makes up for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShrinkOnLoad {
    /// Index in the chain of the resize step.
    step: usize,
    /// That resize planned from the source's (orientation-corrected, cropped) size.
    plan: steps::resize::Plan,
    /// DCT shrink to decode with: 2, 4 or 8.
    shrink: u32,
    /// A `crop` right before the resize: its index and its full-size rectangle.
    crop: Option<(usize, (u32, u32, u32, u32))>,
}

/// Shrink-on-load applies only to a JPEG whose first pixel step is a downscaling resize,
/// or a `crop` followed by one (only output settings and auto-orient may come between),
/// and leaves at least 2x for the Lanczos3 resample after the DCT shrink.
fn shrink_on_load(chain: &[Step], probe: &codec::Probe, orientation: u32) -> Option<ShrinkOnLoad> {
    if probe.format != SrcFormat::Jpeg || codec::JPEG_MAX_SHRINK < 2 {
        return None;
    }
    let mut pixel_steps = chain.iter().enumerate().filter(|(_, s)| {
        !matches!(
            s,
            Step::Format(_) | Step::Quality(_) | Step::Interlace(_) | Step::AutoOrient(_)
        )
    });
    let (mut w, mut h) = upright_dims(probe, orientation);
    let (mut step, mut first) = pixel_steps.next()?;
    let mut crop = None;
    if let Step::Crop(c) = first {
        let rect = c.rect(w, h).ok()?;
        crop = Some((step, rect));
        (w, h) = (rect.2, rect.3);
        (step, first) = pixel_steps.next()?;
    }
    let Step::Resize(r) = first else {
        return None;
    };
    // `never_enlarge` is for GIF sources only (as in `Resize::apply`).
    let plan = r.plan(w, h, None, false);
    let steps::resize::Plan::Scale { scaled, .. } = plan else {
        return None;
    };
    let shrink = codec::jpeg_shrink(w, h, scaled.0, scaled.1);
    (shrink > 1).then_some(ShrinkOnLoad {
        step,
        plan,
        shrink,
        crop,
    })
}

/// The source's size once auto-orient has turned it upright.
fn upright_dims(probe: &codec::Probe, orientation: u32) -> (u32, u32) {
    if steps::auto_orient::swaps_axes(orientation) {
        (probe.height, probe.width)
    } else {
        (probe.width, probe.height)
    }
}

/// A full-size crop rectangle on a picture decoded at `pic` instead of `full` size, in
/// the picture's (fractional) pixels, so the resize reads exactly the cropped area.
fn scale_rect(
    rect: (u32, u32, u32, u32),
    full: (u32, u32),
    pic: (u32, u32),
) -> steps::resize::Region {
    let fx = pic.0 as f64 / full.0 as f64;
    let fy = pic.1 as f64 / full.1 as f64;
    (
        rect.0 as f64 * fx,
        rect.1 as f64 * fy,
        rect.2 as f64 * fx,
        rect.3 as f64 * fy,
    )
}

/// Decode (at `1/shrink` if possible, see [`codec::decode_shrunk`]), turning a panic
/// inside a third-party decoder into an error.
fn decode_guarded(
    source: &[u8],
    probe: &codec::Probe,
    all_frames: bool,
    shrink: u32,
    limits: &Limits,
) -> Result<Picture, ImageError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        codec::decode_shrunk(source, probe, all_frames, shrink, limits)
    }))
    .unwrap_or_else(|_| {
        Err(ImageError::bad_request("The image could not be decoded.")
            .with_ec(error::ec::UNSUPPORTED_FORMAT))
    })
}

#[cfg(test)]
pub(crate) mod tests;
