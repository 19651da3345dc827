//! `resize` (spec §3): modes lfit/mfit/fill/pad/fixed, w/h/l/s/p, limit, color,
//! plus the watermark-only `P` (percentage of the main image).

use crate::image::codec::SrcFormat;
use crate::image::error::{ImageError, ec};
use crate::image::parse::{Keyed, Param, color};
use crate::image::raster::{Img, Picture, recycle};
use crate::image::steps::Ctx;
use ::image::{RgbImage, RgbaImage};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use std::cell::RefCell;

const ACTION: &str = "resize";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Lfit,
    Mfit,
    Fill,
    Pad,
    Fixed,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Lfit => "lfit",
            Mode::Mfit => "mfit",
            Mode::Fill => "fill",
            Mode::Pad => "pad",
            Mode::Fixed => "fixed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resize {
    pub mode: Mode,
    pub w: Option<u32>,
    pub h: Option<u32>,
    pub l: Option<u32>,
    pub s: Option<u32>,
    pub p: Option<u32>,
    /// Watermark pre-processing only: percent of the main image, [1,100].
    pub big_p: Option<u32>,
    /// `limit_1` (default): never enlarge.
    pub limit: bool,
    pub color: [u8; 3],
}

/// What a resize does to a `W×H` image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Leave the image as it is.
    Keep,
    /// Scale to `scaled`, then (fill) center-crop or (pad) center on a canvas of `canvas`.
    Scale {
        scaled: (u32, u32),
        canvas: Option<(u32, u32)>,
        pad: bool,
    },
}

fn round_div(a: u64, b: u64) -> u32 {
    (((2 * a + b) / (2 * b)).max(1)).min(u32::MAX as u64) as u32
}

/// `n * num / den`, rounded half up, at least 1.
fn scale(n: u32, num: u32, den: u32) -> u32 {
    round_div(n as u64 * num as u64, den as u64)
}

impl Resize {
    /// Parse `resize` parameters; `allow_big_p` enables the watermark-only `P`.
    pub fn parse(params: &[Param<'_>], allow_big_p: bool) -> Result<Resize, ImageError> {
        let k = Keyed::new(ACTION, params)?;
        let mode = match k.get("m") {
            None => Mode::Lfit,
            Some("lfit") => Mode::Lfit,
            Some("mfit") => Mode::Mfit,
            Some("fill") => Mode::Fill,
            Some("pad") => Mode::Pad,
            Some("fixed") => Mode::Fixed,
            Some(v) => {
                return Err(ImageError::invalid(
                    "m",
                    v,
                    "Value must be one of lfit, mfit, fill, pad, fixed (resize)",
                )
                .with_ec(ec::RESIZE_MODE));
            }
        };
        let side = |key: &str| -> Result<Option<u32>, ImageError> {
            Ok(k.int(key, 1, 16384)?.map(|v| v as u32))
        };
        let big_p = if allow_big_p {
            k.int("P", 1, 100)?.map(|v| v as u32)
        } else {
            None
        };
        let r = Resize {
            mode,
            w: side("w")?,
            h: side("h")?,
            l: side("l")?,
            s: side("s")?,
            p: k.int("p", 1, 1000)?.map(|v| v as u32),
            big_p,
            limit: k.int("limit", 0, 1)?.is_none_or(|v| v == 1),
            color: match k.get("color") {
                Some(v) => color(ACTION, "color", v)?,
                None => [255, 255, 255],
            },
        };
        if r.w.is_none()
            && r.h.is_none()
            && r.l.is_none()
            && r.s.is_none()
            && r.p.is_none()
            && r.big_p.is_none()
        {
            return Err(ImageError::missing(
                "The resize action requires at least one of the parameters w, h, l, s, p.",
            )
            .with_ec(ec::RESIZE_EMPTY));
        }
        Ok(r)
    }

    pub fn normalized(&self) -> String {
        let mut s = format!("resize,m_{}", self.mode.name());
        for (k, v) in [
            ("w", self.w),
            ("h", self.h),
            ("l", self.l),
            ("s", self.s),
            ("p", self.p),
            ("P", self.big_p),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(",{k}_{v}"));
            }
        }
        s.push_str(&format!(",limit_{}", self.limit as u8));
        if self.mode == Mode::Pad {
            let [r, g, b] = self.color;
            s.push_str(&format!(",color_{r:02X}{g:02X}{b:02X}"));
        }
        s
    }

    /// Compute the output geometry for a `sw×sh` source (spec §3.2–§3.4).
    /// `base` is the main image size, used by `P`. `never_enlarge` forces `limit_1` (GIF).
    pub fn plan(&self, sw: u32, sh: u32, base: Option<(u32, u32)>, never_enlarge: bool) -> Plan {
        let m = self.mode;
        let proportional = matches!(m, Mode::Lfit | Mode::Mfit);
        // Either an exact proportional size, or a box to which the mode is applied.
        enum T {
            Exact(u32, u32),
            Box(u32, u32),
        }
        let t = if self.w.is_some() || self.h.is_some() {
            match (self.w, self.h) {
                (Some(w), Some(h)) => T::Box(w, h),
                (Some(w), None) if proportional => T::Exact(w, scale(sh, w, sw)),
                (None, Some(h)) if proportional => T::Exact(scale(sw, h, sh), h),
                (Some(x), None) | (None, Some(x)) => T::Box(x, x),
                (None, None) => unreachable!(),
            }
        } else if self.l.is_some() || self.s.is_some() {
            let long_is_w = sw >= sh;
            match (self.l, self.s) {
                (Some(l), Some(s)) => {
                    if long_is_w {
                        T::Box(l, s)
                    } else {
                        T::Box(s, l)
                    }
                }
                (Some(x), None) | (None, Some(x)) if matches!(m, Mode::Fill | Mode::Pad) => {
                    T::Box(x, x)
                }
                (Some(l), None) => {
                    if long_is_w {
                        T::Exact(l, scale(sh, l, sw))
                    } else {
                        T::Exact(scale(sw, l, sh), l)
                    }
                }
                (None, Some(s)) => {
                    if sw <= sh {
                        T::Exact(s, scale(sh, s, sw))
                    } else {
                        T::Exact(scale(sw, s, sh), s)
                    }
                }
                (None, None) => unreachable!(),
            }
        } else if let Some(p) = self.p {
            T::Exact(scale(sw, p, 100), scale(sh, p, 100))
        } else if let Some(pp) = self.big_p {
            let (bw, bh) = base.unwrap_or((sw, sh));
            // Fit the watermark inside P% of the main image.
            let (bw, bh) = (scale(bw, pp, 100), scale(bh, pp, 100));
            fit(sw, sh, bw, bh)
                .map(|(w, h)| T::Exact(w, h))
                .unwrap_or(T::Exact(sw, sh))
        } else {
            return Plan::Keep;
        };
        let (scaled, canvas, pad) = match t {
            T::Exact(w, h) => ((w, h), None, false),
            T::Box(bw, bh) => match m {
                Mode::Lfit => (fit(sw, sh, bw, bh).unwrap_or((sw, sh)), None, false),
                Mode::Mfit => (cover(sw, sh, bw, bh), None, false),
                Mode::Fill => (cover(sw, sh, bw, bh), Some((bw, bh)), false),
                Mode::Pad => (
                    fit(sw, sh, bw, bh).unwrap_or((sw, sh)),
                    Some((bw, bh)),
                    true,
                ),
                Mode::Fixed => ((bw, bh), None, false),
            },
        };
        let limit = self.limit || never_enlarge;
        // The watermark `P` is relative to the main image: it may enlarge.
        if limit && self.big_p.is_none() && (scaled.0 > sw || scaled.1 > sh) {
            return Plan::Keep;
        }
        let canvas = canvas.filter(|c| *c != scaled);
        if scaled == (sw, sh) && canvas.is_none() {
            return Plan::Keep;
        }
        Plan::Scale {
            scaled,
            canvas,
            pad,
        }
    }

    /// Apply to every frame. `base` is the main image size for `P` (watermarks).
    pub fn apply(
        &self,
        pic: &mut Picture,
        ctx: &Ctx<'_>,
        base: Option<(u32, u32)>,
    ) -> Result<(), ImageError> {
        let (sw, sh) = pic.dims();
        let never_enlarge = ctx.src_format == SrcFormat::Gif;
        let plan = self.plan(sw, sh, base, never_enlarge);
        self.run_plan(pic, plan, ctx.limits)
    }

    pub(crate) fn run_plan(
        &self,
        pic: &mut Picture,
        plan: Plan,
        limits: &crate::image::Limits,
    ) -> Result<(), ImageError> {
        self.run_plan_on(pic, plan, None, limits)
    }

    /// [`Self::run_plan`] reading only `region` (left, top, width, height; sub-pixel) of
    /// each frame: a crop merged into the resize (shrink-on-load of `crop` + `resize`).
    pub(crate) fn run_plan_on(
        &self,
        pic: &mut Picture,
        plan: Plan,
        region: Option<Region>,
        limits: &crate::image::Limits,
    ) -> Result<(), ImageError> {
        let Plan::Scale {
            scaled,
            canvas,
            pad,
        } = plan
        else {
            return Ok(());
        };
        limits.check_output(scaled.0, scaled.1)?;
        if let Some((cw, ch)) = canvas {
            limits.check_output(cw, ch)?;
        }
        pic.try_map(|img| {
            let img = resize_with(img, region, scaled.0, scaled.1)?;
            Ok(match canvas {
                None => img,
                Some((cw, ch)) if pad => pad_center(&img, cw, ch, self.color),
                Some((cw, ch)) => {
                    let x = (scaled.0.saturating_sub(cw)) / 2;
                    let y = (scaled.1.saturating_sub(ch)) / 2;
                    img.crop(x, y, cw.min(scaled.0), ch.min(scaled.1))
                }
            })
        })
    }
}

/// Largest proportional size inside `bw×bh` (lfit).
fn fit(sw: u32, sh: u32, bw: u32, bh: u32) -> Option<(u32, u32)> {
    if sw == 0 || sh == 0 {
        return None;
    }
    // Width binds when bw/sw <= bh/sh.
    if bw as u64 * sh as u64 <= bh as u64 * sw as u64 {
        Some((bw, scale(sh, bw, sw)))
    } else {
        Some((scale(sw, bh, sh), bh))
    }
}

/// Smallest proportional size covering `bw×bh` (mfit).
fn cover(sw: u32, sh: u32, bw: u32, bh: u32) -> (u32, u32) {
    if bw as u64 * sh as u64 >= bh as u64 * sw as u64 {
        (bw, scale(sh, bw, sw).max(bh))
    } else {
        (scale(sw, bh, sh).max(bw), bh)
    }
}

/// Center `img` on a `cw×ch` canvas of `color` (pixels copied, not blended).
fn pad_center(img: &Img, cw: u32, ch: u32, color: [u8; 3]) -> Img {
    let (w, h) = img.dims();
    let mut canvas = if img.has_alpha() {
        Img::solid_rgba(cw, ch, [color[0], color[1], color[2], 255])
    } else {
        Img::solid_rgb(cw, ch, color)
    };
    let x0 = (cw.saturating_sub(w)) / 2;
    let y0 = (ch.saturating_sub(h)) / 2;
    let c = img.channels();
    let src = img.raw();
    let dst = canvas.raw_mut();
    let cw_bytes = cw as usize * c;
    let w = w.min(cw) as usize;
    for y in 0..h.min(ch) as usize {
        let s = y * img.width() as usize * c;
        let d = (y + y0 as usize) * cw_bytes + x0 as usize * c;
        dst[d..d + w * c].copy_from_slice(&src[s..s + w * c]);
    }
    canvas
}

/// Lanczos3 resize with premultiplied alpha (fast_image_resize).
pub fn resize_img(img: Img, w: u32, h: u32) -> Result<Img, ImageError> {
    resize_with(img, None, w, h)
}

thread_local! {
    /// fir keeps its intermediate buffers between calls: one resizer per (worker) thread.
    static RESIZER: RefCell<Resizer> = RefCell::new(Resizer::new());
}

/// A source rectangle in pixels: left, top, width, height.
pub type Region = (f64, f64, f64, f64);

fn resize_with(img: Img, region: Option<Region>, w: u32, h: u32) -> Result<Img, ImageError> {
    if region.is_none() && img.dims() == (w, h) {
        return Ok(img);
    }
    let mut opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(true);
    if let Some((left, top, width, height)) = region {
        opts = opts.crop(left, top, width, height);
    }
    let err =
        |e: fast_image_resize::ResizeError| ImageError::internal(format!("resize failed: {e}"));
    Ok(match img {
        Img::Rgb(src) => {
            let mut dst = RgbImage::new(w, h);
            RESIZER
                .with_borrow_mut(|r| r.resize(&src, &mut dst, &opts))
                .map_err(err)?;
            recycle(src.into_raw());
            Img::Rgb(dst)
        }
        Img::Rgba(src) => {
            let mut dst = RgbaImage::new(w, h);
            RESIZER
                .with_borrow_mut(|r| r.resize(&src, &mut dst, &opts))
                .map_err(err)?;
            recycle(src.into_raw());
            Img::Rgba(dst)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    fn r(s: &str) -> Resize {
        Resize::parse(&split_action(s).params, false).unwrap()
    }

    fn size(spec: &str, sw: u32, sh: u32) -> (u32, u32) {
        match r(spec).plan(sw, sh, None, false) {
            Plan::Keep => (sw, sh),
            Plan::Scale { scaled, canvas, .. } => canvas.unwrap_or(scaled),
        }
    }

    #[test]
    fn doc_examples_200x100() {
        assert_eq!(size("resize,m_lfit,w_150,h_80", 200, 100), (150, 75));
        assert_eq!(size("resize,m_mfit,w_150,h_80", 200, 100), (160, 80));
        assert_eq!(size("resize,m_fill,w_150,h_80", 200, 100), (150, 80));
        assert_eq!(size("resize,m_pad,w_150,h_80", 200, 100), (150, 80));
        assert_eq!(size("resize,m_fixed,w_150,h_80", 200, 100), (150, 80));
        assert_eq!(
            r("resize,m_fill,w_150,h_80").plan(200, 100, None, false),
            Plan::Scale {
                scaled: (160, 80),
                canvas: Some((150, 80)),
                pad: false
            }
        );
        assert_eq!(
            r("resize,m_pad,w_150,h_80").plan(200, 100, None, false),
            Plan::Scale {
                scaled: (150, 75),
                canvas: Some((150, 80)),
                pad: true
            }
        );
    }

    #[test]
    fn single_side_and_l_s_p() {
        // Plain proportional rule: h_X alone -> (round(W*X/H), X).
        assert_eq!(size("resize,h_50", 200, 100), (100, 50));
        assert_eq!(size("resize,w_100", 400, 267), (100, 67));
        // fixed with only h: square box (2021 doc: 200x100 + h_100 -> 100x100).
        assert_eq!(size("resize,m_fixed,h_100", 200, 100), (100, 100));
        assert_eq!(size("resize,m_fill,w_50", 200, 100), (50, 50));
        assert_eq!(size("resize,m_pad,h_50", 200, 100), (50, 50));
        // l_100 on 400x267 gives a 100 px long side.
        assert_eq!(size("resize,l_100", 400, 267), (100, 67));
        assert_eq!(size("resize,s_100", 400, 267), (150, 100));
        assert_eq!(size("resize,l_100", 267, 400), (67, 100));
        assert_eq!(size("resize,l_100,s_50", 400, 267), (75, 50));
        assert_eq!(size("resize,m_fixed,l_100,s_50", 267, 400), (50, 100));
        // w/h win over l/s.
        assert_eq!(size("resize,w_100,l_10", 400, 267), (100, 67));
        assert_eq!(size("resize,p_50", 401, 267), (201, 134));
        assert_eq!(size("resize,p_200,limit_0", 10, 5), (20, 10));
        // auto-orient example: 333x424 (after orientation) -> w_100 -> 100x127.
        assert_eq!(size("resize,w_100", 333, 424), (100, 127));
    }

    #[test]
    fn limit_rules() {
        assert_eq!(r("resize,w_500").plan(200, 100, None, false), Plan::Keep);
        assert_eq!(size("resize,w_500,limit_0", 200, 100), (500, 250));
        assert_eq!(
            r("resize,m_fixed,w_300,h_50").plan(200, 100, None, false),
            Plan::Keep
        );
        assert_eq!(
            r("resize,w_500,limit_0").plan(200, 100, None, true),
            Plan::Keep
        );
        assert_eq!(r("resize,p_200").plan(200, 100, None, false), Plan::Keep);
    }

    #[test]
    fn big_p_relative_to_base() {
        let p = Resize::parse(&split_action("resize,P_10").params, true).unwrap();
        assert_eq!(
            p.plan(50, 50, Some((100, 100)), false),
            Plan::Scale {
                scaled: (10, 10),
                canvas: None,
                pad: false
            }
        );
        assert_eq!(
            p.plan(50, 50, Some((200, 200)), false),
            Plan::Scale {
                scaled: (20, 20),
                canvas: None,
                pad: false
            }
        );
        // P is refused in the main chain.
        assert!(Resize::parse(&split_action("resize,P_10").params, false).is_err());
    }

    #[test]
    fn parse_errors() {
        let e = Resize::parse(&split_action("resize").params, false).unwrap_err();
        assert_eq!(e.ec, Some(ec::RESIZE_EMPTY));
        assert_eq!(e.code, "MissingArgument");
        let e = Resize::parse(&split_action("resize,m_abc,w_10").params, false).unwrap_err();
        assert_eq!(e.ec, Some(ec::RESIZE_MODE));
        assert!(Resize::parse(&split_action("resize,w_0").params, false).is_err());
        assert!(Resize::parse(&split_action("resize,w_16385").params, false).is_err());
        assert!(Resize::parse(&split_action("resize,w_abc").params, false).is_err());
        assert!(Resize::parse(&split_action("resize,p_1001").params, false).is_err());
        assert!(Resize::parse(&split_action("resize,w_10,limit_2").params, false).is_err());
        assert!(Resize::parse(&split_action("resize,w_10,color_fff").params, false).is_err());
        assert!(Resize::parse(&split_action("resize,w_10,").params, false).is_ok());
    }

    #[test]
    fn pixels_fill_pad_fixed() {
        let limits = crate::image::Limits::default();
        // Solid images stay solid through Lanczos.
        let mut pic = Picture::still(Img::solid_rgb(200, 100, [10, 20, 30]));
        let rs = r("resize,m_pad,w_150,h_80,color_FF0000");
        let plan = rs.plan(200, 100, None, false);
        rs.run_plan(&mut pic, plan, &limits).unwrap();
        let img = pic.first();
        assert_eq!(img.dims(), (150, 80));
        // 150x75 centred on 150x80: rows 0..2 are padding (y0 = 2), then image.
        assert_eq!(img.rgb_at(0, 0), [255, 0, 0]);
        assert_eq!(img.rgb_at(0, 1), [255, 0, 0]);
        assert_eq!(img.rgb_at(0, 2), [10, 20, 30]);
        assert_eq!(img.rgb_at(149, 76), [10, 20, 30]);
        assert_eq!(img.rgb_at(149, 77), [255, 0, 0]);

        let mut pic = Picture::still(Img::solid_rgba(200, 100, [1, 2, 3, 200]));
        let rs = r("resize,m_fixed,w_7,h_9");
        rs.run_plan(&mut pic, rs.plan(200, 100, None, false), &limits)
            .unwrap();
        assert_eq!(pic.first().dims(), (7, 9));
        // Premultiply/unpremultiply may move a dark channel by one step.
        let px = pic.first().rgba_at(3, 4);
        assert!(
            px.iter()
                .zip([1u8, 2, 3, 200])
                .all(|(a, b)| a.abs_diff(b) <= 1),
            "{px:?}"
        );
    }

    #[test]
    fn output_guard() {
        let limits = crate::image::Limits::default();
        let mut pic = Picture::still(Img::solid_rgb(10, 10, [0, 0, 0]));
        let rs = r("resize,m_fixed,w_5000,h_5000,limit_0");
        let e = rs
            .run_plan(&mut pic, rs.plan(10, 10, None, false), &limits)
            .unwrap_err();
        assert_eq!(e.ec, Some(ec::RESIZE_TOO_LARGE));
    }

    #[test]
    fn normalized_fills_defaults() {
        assert_eq!(
            r("resize,w_100").normalized(),
            r("resize,m_lfit,limit_1,w_100").normalized()
        );
        assert_eq!(
            r("resize,w_100").normalized(),
            "resize,m_lfit,w_100,limit_1"
        );
    }
}
