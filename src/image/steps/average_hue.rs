//! `average-hue` (spec §9.2): `{"RGB":"0xrrggbb"}`, the alpha-weighted mean colour.

use crate::image::error::ImageError;
use crate::image::parse::Param;
use crate::image::raster::Img;
use crate::image::steps::no_params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AverageHue;

impl AverageHue {
    pub fn parse(params: &[Param<'_>]) -> Result<AverageHue, ImageError> {
        no_params("average-hue", params)?;
        Ok(AverageHue)
    }
}

/// Mean colour, weighting each pixel by its alpha (white when fully transparent).
pub fn average(img: &Img) -> [u8; 3] {
    let c = img.channels();
    let mut sum = [0u64; 3];
    let mut wsum = 0u64;
    for px in img.raw().chunks_exact(c) {
        let a = if c == 4 { px[3] as u64 } else { 255 };
        for k in 0..3 {
            sum[k] += px[k] as u64 * a;
        }
        wsum += a;
    }
    if wsum == 0 {
        return [255, 255, 255];
    }
    std::array::from_fn(|k| ((sum[k] + wsum / 2) / wsum) as u8)
}

/// The JSON body.
pub fn json(img: &Img) -> String {
    let [r, g, b] = average(img);
    format!("{{\"RGB\":\"0x{r:02x}{g:02x}{b:02x}\"}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_colour() {
        let img = Img::solid_rgb(3, 3, [92, 120, 59]);
        assert_eq!(json(&img), r#"{"RGB":"0x5c783b"}"#);
        // Half black, half white → 0x808080 (127.5 rounds up).
        let i = ::image::RgbImage::from_fn(2, 1, |x, _| ::image::Rgb([(x * 255) as u8; 3]));
        assert_eq!(average(&Img::Rgb(i)), [128, 128, 128]);
        // Transparent pixels do not count.
        let i = ::image::RgbaImage::from_fn(2, 1, |x, _| {
            if x == 0 {
                ::image::Rgba([10, 20, 30, 255])
            } else {
                ::image::Rgba([200, 200, 200, 0])
            }
        });
        assert_eq!(average(&Img::Rgba(i)), [10, 20, 30]);
        assert!(
            AverageHue::parse(&crate::image::parse::split_action("average-hue,1").params).is_err()
        );
    }
}
