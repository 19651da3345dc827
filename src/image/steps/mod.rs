//! One module per OSS action: parameter parsing/validation and the pixel operation.

pub mod auto_orient;
pub mod average_hue;
pub mod blur;
pub mod bright;
pub mod circle;
pub mod contrast;
pub mod crop;
pub mod format;
pub mod indexcrop;
pub mod info;
pub mod interlace;
pub mod quality;
pub mod resize;
pub mod rotate;
pub mod rounded_corners;
pub mod sharpen;
pub mod watermark;

use super::budget::Budget;
use super::codec::{OutFormat, SrcFormat};
use super::error::{ImageError, ec};
use super::limits::Limits;
use super::parse::{Param, RawAction};
use super::raster::Picture;
use std::collections::HashMap;

/// Everything a step may need besides the pixels.
pub struct Ctx<'a> {
    pub limits: &'a Limits,
    /// Checked inside long steps.
    pub budget: &'a Budget<'a>,
    pub watermarks: &'a HashMap<String, Vec<u8>>,
    pub src_format: SrcFormat,
    /// Final output format (decides transparent vs white backgrounds).
    pub out_format: OutFormat,
}

/// A typed, validated action.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Resize(resize::Resize),
    Crop(crop::Crop),
    IndexCrop(indexcrop::IndexCrop),
    Circle(circle::Circle),
    RoundedCorners(rounded_corners::RoundedCorners),
    Rotate(rotate::Rotate),
    AutoOrient(auto_orient::AutoOrient),
    Blur(blur::Blur),
    Bright(bright::Bright),
    Contrast(contrast::Contrast),
    Sharpen(sharpen::Sharpen),
    Format(format::Format),
    Quality(quality::Quality),
    Interlace(interlace::Interlace),
    Watermark(Box<watermark::Watermark>),
    Info(info::Info),
    AverageHue(average_hue::AverageHue),
}

/// Reject any parameter on a parameterless action.
pub(crate) fn no_params(action: &'static str, params: &[Param<'_>]) -> Result<(), ImageError> {
    if let Some(p) = params.first() {
        return Err(
            ImageError::invalid(action, p.raw, format!("{action} takes no parameters"))
                .with_ec(ec::TOO_MANY_VALUES),
        );
    }
    Ok(())
}

impl Step {
    /// Parse one action of the main chain.
    pub fn parse(a: &RawAction<'_>) -> Result<Step, ImageError> {
        let p = &a.params[..];
        Ok(match a.name {
            "resize" => Step::Resize(resize::Resize::parse(p, false)?),
            "crop" => Step::Crop(crop::Crop::parse(p)?),
            "indexcrop" => Step::IndexCrop(indexcrop::IndexCrop::parse(p)?),
            "circle" => Step::Circle(circle::Circle::parse(p)?),
            "rounded-corners" => Step::RoundedCorners(rounded_corners::RoundedCorners::parse(p)?),
            "rotate" => Step::Rotate(rotate::Rotate::parse(p)?),
            "auto-orient" => Step::AutoOrient(auto_orient::AutoOrient::parse(p)?),
            "blur" => Step::Blur(blur::Blur::parse(p)?),
            "bright" => Step::Bright(bright::Bright::parse(p)?),
            "contrast" => Step::Contrast(contrast::Contrast::parse(p)?),
            "sharpen" => Step::Sharpen(sharpen::Sharpen::parse(p)?),
            "format" => Step::Format(format::Format::parse(p)?),
            "quality" => Step::Quality(quality::Quality::parse(p)?),
            "interlace" => Step::Interlace(interlace::Interlace::parse(p)?),
            "watermark" => Step::Watermark(Box::new(watermark::Watermark::parse(p)?)),
            "info" => Step::Info(info::Info::parse(p)?),
            "average-hue" => Step::AverageHue(average_hue::AverageHue::parse(p)?),
            "" => return Err(super::parse::no_action()),
            other => {
                return Err(ImageError::invalid_msg(format!(
                    "The operation: {other} is not supported."
                ))
                .with_ec(ec::UNKNOWN_ACTION));
            }
        })
    }

    /// The action's name in a spec (`resize`, `rounded-corners`, …).
    pub fn action(&self) -> &'static str {
        match self {
            Step::Resize(_) => "resize",
            Step::Crop(_) => "crop",
            Step::IndexCrop(_) => "indexcrop",
            Step::Circle(_) => "circle",
            Step::RoundedCorners(_) => "rounded-corners",
            Step::Rotate(_) => "rotate",
            Step::AutoOrient(_) => "auto-orient",
            Step::Blur(_) => "blur",
            Step::Bright(_) => "bright",
            Step::Contrast(_) => "contrast",
            Step::Sharpen(_) => "sharpen",
            Step::Format(_) => "format",
            Step::Quality(_) => "quality",
            Step::Interlace(_) => "interlace",
            Step::Watermark(_) => "watermark",
            Step::Info(_) => "info",
            Step::AverageHue(_) => "average-hue",
        }
    }

    /// Canonical text of this action (defaults made explicit).
    pub fn normalized(&self) -> String {
        match self {
            Step::Resize(s) => s.normalized(),
            Step::Crop(s) => s.normalized(),
            Step::IndexCrop(s) => s.normalized(),
            Step::Circle(s) => s.normalized(),
            Step::RoundedCorners(s) => s.normalized(),
            Step::Rotate(s) => s.normalized(),
            Step::AutoOrient(s) => s.normalized(),
            Step::Blur(s) => s.normalized(),
            Step::Bright(s) => s.normalized(),
            Step::Contrast(s) => s.normalized(),
            Step::Sharpen(s) => s.normalized(),
            Step::Format(s) => s.normalized(),
            Step::Quality(s) => s.normalized(),
            Step::Interlace(s) => s.normalized(),
            Step::Watermark(s) => s.normalized(),
            Step::Info(_) => "info".into(),
            Step::AverageHue(_) => "average-hue".into(),
        }
    }

    /// The size this step makes of a `w×h` frame (an upper bound where it depends on the
    /// pixels) and its cost per frame in pixel operations (about one per pixel and pass),
    /// to refuse a spec before decoding.
    pub fn estimate(&self, (w, h): (u32, u32), src_format: SrcFormat) -> ((u32, u32), u64) {
        let px = |(w, h): (u32, u32)| w as u64 * h as u64;
        let same = (w, h);
        match self {
            Step::Resize(r) => match r.plan(w, h, None, src_format == SrcFormat::Gif) {
                resize::Plan::Keep => (same, 0),
                resize::Plan::Scale { scaled, canvas, .. } => {
                    let out = canvas.unwrap_or(scaled);
                    (out, px(same) + px(scaled) + px(out))
                }
            },
            Step::Crop(c) => {
                let out = c.rect(w, h).map_or(same, |r| (r.2, r.3));
                (out, px(out))
            }
            Step::IndexCrop(c) => {
                let out = c.rect(w, h).map_or(same, |r| (r.2, r.3));
                (out, px(out))
            }
            Step::Circle(c) => {
                let side = 2 * c.radius(w, h) + 1;
                ((side, side), px((side, side)))
            }
            Step::Rotate(r) => {
                let out = match r.deg % 360 {
                    0 => return (same, 0),
                    90 | 270 => (h, w),
                    180 => same,
                    d => rotate::bbox(w, h, d as f64),
                };
                (out, 2 * px(out))
            }
            Step::Blur(b) => (same, px(same) * 2 * (2 * b.radius() as u64 + 1)),
            Step::Sharpen(_) => (same, px(same) * 18),
            Step::Watermark(_) => (same, px(same) * 2),
            Step::RoundedCorners(_) | Step::Bright(_) | Step::Contrast(_) => (same, px(same)),
            Step::AutoOrient(_)
            | Step::Format(_)
            | Step::Quality(_)
            | Step::Interlace(_)
            | Step::Info(_)
            | Step::AverageHue(_) => (same, 0),
        }
    }

    /// Run a pixel step. Output-setting steps (format, quality, interlace), auto-orient
    /// (a pre-step) and the terminal queries are no-ops here; `process` handles them.
    pub fn apply(&self, pic: &mut Picture, ctx: &Ctx<'_>) -> Result<(), ImageError> {
        match self {
            Step::Resize(s) => s.apply(pic, ctx, None),
            Step::Crop(s) => s.apply(pic),
            Step::IndexCrop(s) => {
                s.apply(pic);
                Ok(())
            }
            Step::Circle(s) => s.apply(pic),
            Step::RoundedCorners(s) => {
                s.apply(pic);
                Ok(())
            }
            Step::Rotate(s) => s.apply(pic, ctx.limits),
            Step::Blur(s) => s.apply(pic, ctx.budget),
            Step::Bright(s) => {
                s.apply(pic);
                Ok(())
            }
            Step::Contrast(s) => {
                s.apply(pic);
                Ok(())
            }
            Step::Sharpen(s) => s.apply(pic, ctx.budget),
            Step::Watermark(s) => s.apply(pic, ctx),
            Step::AutoOrient(_)
            | Step::Format(_)
            | Step::Quality(_)
            | Step::Interlace(_)
            | Step::Info(_)
            | Step::AverageHue(_) => Ok(()),
        }
    }
}
