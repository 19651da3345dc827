//! `rounded-corners` (spec §4.4): transparent (white for JPG) rounded corners.

use crate::image::error::ImageError;
use crate::image::parse::{Keyed, Param};
use crate::image::raster::{Img, Picture};
use crate::image::steps::circle::coverage;

const ACTION: &str = "rounded-corners";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundedCorners {
    pub r: u32,
}

impl RoundedCorners {
    pub fn parse(params: &[Param<'_>]) -> Result<RoundedCorners, ImageError> {
        let k = Keyed::new(ACTION, params)?;
        let r = k.int("r", 1, 4096)?.ok_or_else(|| {
            ImageError::missing("The rounded-corners action requires the parameter r.")
        })?;
        Ok(RoundedCorners { r: r as u32 })
    }

    pub fn normalized(&self) -> String {
        format!("rounded-corners,r_{}", self.r)
    }

    pub fn apply(&self, pic: &mut Picture) {
        let (w, h) = pic.dims();
        let r = self.r.min(w.min(h) / 2);
        if r == 0 {
            return;
        }
        let rf = r as f32;
        pic.map(|img| {
            let mut out = img.into_rgba();
            for (x, y, p) in out.enumerate_pixels_mut() {
                // Distance to the nearest corner centre, only inside the corner squares.
                let cx = if x < r {
                    Some(rf)
                } else if x >= w - r {
                    Some((w - r) as f32)
                } else {
                    None
                };
                let cy = if y < r {
                    Some(rf)
                } else if y >= h - r {
                    Some((h - r) as f32)
                } else {
                    None
                };
                if let (Some(cx), Some(cy)) = (cx, cy) {
                    let dx = x as f32 + 0.5 - cx;
                    let dy = y as f32 + 0.5 - cy;
                    let cov = coverage((dx * dx + dy * dy).sqrt(), rf);
                    if cov < 1.0 {
                        p.0[3] = (p.0[3] as f32 * cov).round() as u8;
                    }
                }
            }
            Img::Rgba(out)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    #[test]
    fn corners_transparent_size_kept() {
        let rc = RoundedCorners::parse(&split_action("rounded-corners,r_10").params).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(40, 30, [1, 2, 3]));
        rc.apply(&mut pic);
        let img = pic.first();
        assert_eq!(img.dims(), (40, 30));
        for (x, y) in [(0, 0), (39, 0), (0, 29), (39, 29)] {
            assert_eq!(img.rgba_at(x, y)[3], 0, "{x},{y}");
        }
        assert_eq!(img.rgba_at(20, 0), [1, 2, 3, 255]);
        assert_eq!(img.rgba_at(0, 15), [1, 2, 3, 255]);
        assert_eq!(img.rgba_at(20, 15), [1, 2, 3, 255]);
        // Clamped radius on a tiny image still works.
        let big = RoundedCorners::parse(&split_action("rounded-corners,r_4096").params).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(10, 6, [1, 2, 3]));
        big.apply(&mut pic);
        assert_eq!(pic.dims(), (10, 6));
        assert_eq!(pic.first().rgba_at(0, 0)[3], 0);
        assert_eq!(pic.first().rgba_at(5, 3)[3], 255);
    }
}
