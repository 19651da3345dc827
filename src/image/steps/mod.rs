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

use super::codec::{OutFormat, SrcFormat};
use super::error::{ImageError, ec};
use super::limits::Limits;
use super::parse::{Param, RawAction};
use super::raster::Picture;
use std::collections::HashMap;

/// Everything a step may need besides the pixels.
pub struct Ctx<'a> {
    pub limits: &'a Limits,
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
            Step::Blur(s) => {
                s.apply(pic);
                Ok(())
            }
            Step::Bright(s) => {
                s.apply(pic);
                Ok(())
            }
            Step::Contrast(s) => {
                s.apply(pic);
                Ok(())
            }
            Step::Sharpen(s) => {
                s.apply(pic);
                Ok(())
            }
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
