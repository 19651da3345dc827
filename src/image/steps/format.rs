//! `format,<fmt>` (spec §8.1). The last `format` of the chain picks the encoder.

use crate::image::codec::OutFormat;
use crate::image::error::{ImageError, ec};
use crate::image::parse::{Param, single};

const ACTION: &str = "format";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub format: OutFormat,
}

impl Format {
    pub fn parse(params: &[Param<'_>]) -> Result<Format, ImageError> {
        let v = single(ACTION, params)?.ok_or_else(|| {
            ImageError::missing("The format action requires a value.").with_ec(ec::FORMAT_MISSING)
        })?;
        let format = OutFormat::parse(v).ok_or_else(|| {
            ImageError::invalid(
                ACTION,
                v,
                "Value must be one of jpg, png, webp, bmp, gif, tiff, heic, avif",
            )
            .with_ec(ec::FORMAT_INVALID)
        })?;
        Ok(Format { format })
    }

    pub fn normalized(&self) -> String {
        format!("format,{}", self.format.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    #[test]
    fn parse() {
        assert_eq!(
            Format::parse(&split_action("format,png").params)
                .unwrap()
                .format,
            OutFormat::Png
        );
        assert_eq!(
            Format::parse(&split_action("format,dng").params)
                .unwrap_err()
                .ec,
            Some(ec::FORMAT_INVALID)
        );
        assert_eq!(
            Format::parse(&split_action("format").params)
                .unwrap_err()
                .ec,
            Some(ec::FORMAT_MISSING)
        );
        assert_eq!(
            Format::parse(&split_action("format,png,jpg").params)
                .unwrap_err()
                .ec,
            Some(ec::TOO_MANY_VALUES)
        );
    }
}
