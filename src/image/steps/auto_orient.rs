//! `auto-orient,<0|1>` (spec §5.2): apply the EXIF Orientation. Position-independent:
//! `process` runs it on the decoded source before the chain (spec §1.3).

use crate::image::error::ImageError;
use crate::image::parse::{Param, int_in, single};
use crate::image::raster::Img;
use ::image::imageops;

const ACTION: &str = "auto-orient";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoOrient {
    pub on: bool,
}

impl AutoOrient {
    pub fn parse(params: &[Param<'_>]) -> Result<AutoOrient, ImageError> {
        let on = match single(ACTION, params)? {
            None => true, // documented default 1
            Some(v) => int_in(ACTION, ACTION, v, 0, 1)? == 1,
        };
        Ok(AutoOrient { on })
    }

    pub fn normalized(&self) -> String {
        format!("auto-orient,{}", self.on as u8)
    }
}

/// Whether the EXIF orientation swaps width and height.
pub fn swaps_axes(orientation: u32) -> bool {
    (5..=8).contains(&orientation)
}

/// Transform pixels stored with EXIF `orientation` (1..=8) to upright.
pub fn orient(img: Img, orientation: u32) -> Img {
    fn go<P: ::image::Pixel + 'static>(
        i: ::image::ImageBuffer<P, Vec<P::Subpixel>>,
        o: u32,
    ) -> ::image::ImageBuffer<P, Vec<P::Subpixel>> {
        match o {
            2 => imageops::flip_horizontal(&i),
            3 => imageops::rotate180(&i),
            4 => imageops::flip_vertical(&i),
            5 => imageops::flip_horizontal(&imageops::rotate90(&i)),
            6 => imageops::rotate90(&i),
            7 => imageops::flip_horizontal(&imageops::rotate270(&i)),
            8 => imageops::rotate270(&i),
            _ => i,
        }
    }
    match img {
        Img::Rgb(i) => Img::Rgb(go(i, orientation)),
        Img::Rgba(i) => Img::Rgba(go(i, orientation)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    /// A 3x2 image whose stored top-left pixel is red.
    fn marked() -> Img {
        let mut i = ::image::RgbImage::from_pixel(3, 2, ::image::Rgb([0, 0, 0]));
        i.put_pixel(0, 0, ::image::Rgb([255, 0, 0]));
        Img::Rgb(i)
    }

    #[test]
    fn all_orientations() {
        // Where the stored (0,0) pixel ends up after correction.
        let expect = [
            (1, (3, 2), (0, 0)),
            (2, (3, 2), (2, 0)),
            (3, (3, 2), (2, 1)),
            (4, (3, 2), (0, 1)),
            (5, (2, 3), (0, 0)),
            (6, (2, 3), (1, 0)),
            (7, (2, 3), (1, 2)),
            (8, (2, 3), (0, 2)),
        ];
        for (o, dims, (x, y)) in expect {
            let r = orient(marked(), o);
            assert_eq!(r.dims(), dims, "orientation {o}");
            assert_eq!(r.rgb_at(x, y), [255, 0, 0], "orientation {o}");
            assert_eq!(swaps_axes(o), dims == (2, 3));
        }
    }

    #[test]
    fn parse() {
        assert!(
            AutoOrient::parse(&split_action("auto-orient,1").params)
                .unwrap()
                .on
        );
        assert!(
            !AutoOrient::parse(&split_action("auto-orient,0").params)
                .unwrap()
                .on
        );
        assert!(AutoOrient::parse(&split_action("auto-orient,2").params).is_err());
        assert!(AutoOrient::parse(&split_action("auto-orient,1,1").params).is_err());
    }
}
