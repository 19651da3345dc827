//! `sharpen,<50..399>` (spec §6): unsharp mask against a 3×3 Gaussian
//! (`[1 2 1; 2 4 2; 1 2 1]/16`) with amount `n/100`, on R, G, B.

use crate::image::budget::Budget;
use crate::image::error::ImageError;
use crate::image::parse::{Param, int_in, single};
use crate::image::raster::Picture;

const ACTION: &str = "sharpen";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharpen {
    pub n: u32,
}

impl Sharpen {
    pub fn parse(params: &[Param<'_>]) -> Result<Sharpen, ImageError> {
        let v = single(ACTION, params)?
            .ok_or_else(|| ImageError::missing("The sharpen action requires a value."))?;
        Ok(Sharpen {
            n: int_in(ACTION, ACTION, v, 50, 399)? as u32,
        })
    }

    pub fn normalized(&self) -> String {
        format!("sharpen,{}", self.n)
    }

    /// Checks `budget` every row.
    pub fn apply(&self, pic: &mut Picture, budget: &Budget<'_>) -> Result<(), ImageError> {
        let amount = self.n as i64;
        pic.try_map(|mut img| {
            let (w, h) = (img.width() as usize, img.height() as usize);
            let c = img.channels();
            let src = img.raw().to_vec();
            let dst = img.raw_mut();
            const K: [[i64; 3]; 3] = [[1, 2, 1], [2, 4, 2], [1, 2, 1]];
            for y in 0..h {
                budget.check()?;
                for x in 0..w {
                    for ch in 0..3 {
                        let mut blur = 0i64;
                        for (dy, krow) in K.iter().enumerate() {
                            let sy =
                                (y as isize + dy as isize - 1).clamp(0, h as isize - 1) as usize;
                            for (dx, kv) in krow.iter().enumerate() {
                                let sx = (x as isize + dx as isize - 1).clamp(0, w as isize - 1)
                                    as usize;
                                blur += kv * src[(sy * w + sx) * c + ch] as i64;
                            }
                        }
                        let v = src[(y * w + x) * c + ch] as i64;
                        // v + amount/100 * (v - blur/16), rounded.
                        let num = amount * (16 * v - blur);
                        let delta = if num >= 0 {
                            (num + 800) / 1600
                        } else {
                            (num - 800) / 1600
                        };
                        dst[(y * w + x) * c + ch] = (v + delta).clamp(0, 255) as u8;
                    }
                }
            }
            Ok(img)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;
    use crate::image::raster::Img;

    #[test]
    fn flat_unchanged_edges_enhanced() {
        let s = Sharpen::parse(&split_action("sharpen,100").params).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(5, 5, [90, 90, 90]));
        s.apply(&mut pic, &Budget::unlimited()).unwrap();
        assert_eq!(pic.first().rgb_at(2, 2), [90, 90, 90]);
        // Step edge: left half 100, right half 200.
        let i = ::image::RgbImage::from_fn(6, 3, |x, _| {
            let v = if x < 3 { 100 } else { 200 };
            ::image::Rgb([v, v, v])
        });
        let mut pic = Picture::still(Img::Rgb(i));
        s.apply(&mut pic, &Budget::unlimited()).unwrap();
        let img = pic.first();
        // blur at x=2: (100*3 + 200*1)/4 = 125 → 100 + (100-125) = 75.
        assert_eq!(img.rgb_at(2, 1), [75, 75, 75]);
        assert_eq!(img.rgb_at(3, 1), [225, 225, 225]);
        assert_eq!(img.rgb_at(0, 1), [100, 100, 100]);
        assert!(Sharpen::parse(&split_action("sharpen,49").params).is_err());
        assert!(Sharpen::parse(&split_action("sharpen,400").params).is_err());
    }
}
