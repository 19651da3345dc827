//! `circle` (spec §4.3): square crop of side `2r+1` around the centre, outside of the
//! inscribed circle transparent (white once flattened for JPG).

use crate::image::error::ImageError;
use crate::image::parse::{Keyed, Param};
use crate::image::raster::{Img, Picture};

const ACTION: &str = "circle";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circle {
    pub r: u32,
}

/// Anti-aliased coverage of a pixel centred at distance `d` from a disc edge of radius `rad`.
pub(crate) fn coverage(d: f32, rad: f32) -> f32 {
    (rad - d + 0.5).clamp(0.0, 1.0)
}

impl Circle {
    pub fn parse(params: &[Param<'_>]) -> Result<Circle, ImageError> {
        let k = Keyed::new(ACTION, params)?;
        let r = k
            .int("r", 1, 4096)?
            .ok_or_else(|| ImageError::missing("The circle action requires the parameter r."))?;
        Ok(Circle { r: r as u32 })
    }

    pub fn normalized(&self) -> String {
        format!("circle,r_{}", self.r)
    }

    /// Effective radius on a `w×h` image: the `2r+1` square must fit.
    pub fn radius(&self, w: u32, h: u32) -> u32 {
        let shorter = w.min(h);
        if 2 * self.r as u64 + 1 > shorter as u64 {
            shorter.saturating_sub(1) / 2
        } else {
            self.r
        }
    }

    pub fn apply(&self, pic: &mut Picture) -> Result<(), ImageError> {
        let (w, h) = pic.dims();
        let r = self.radius(w, h);
        let side = 2 * r + 1;
        let x0 = (w / 2).saturating_sub(r);
        let y0 = (h / 2).saturating_sub(r);
        pic.map(|img| {
            let mut out = img.crop(x0, y0, side, side).into_rgba();
            let c = r as f32 + 0.5;
            for (x, y, p) in out.enumerate_pixels_mut() {
                let dx = x as f32 + 0.5 - c;
                let dy = y as f32 + 0.5 - c;
                let cov = coverage((dx * dx + dy * dy).sqrt(), c);
                if cov < 1.0 {
                    p.0[3] = (p.0[3] as f32 * cov).round() as u8;
                }
            }
            Img::Rgba(out)
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    #[test]
    fn sizes_and_pixels() {
        let c = Circle::parse(&split_action("circle,r_10").params).unwrap();
        assert_eq!(c.radius(100, 50), 10);
        assert_eq!(c.radius(15, 50), 7);
        let c50 = Circle::parse(&split_action("circle,r_50").params).unwrap();
        assert_eq!(c50.radius(100, 100), 49);
        let mut pic = Picture::still(Img::solid_rgb(100, 60, [9, 8, 7]));
        c.apply(&mut pic).unwrap();
        let img = pic.first();
        assert_eq!(img.dims(), (21, 21));
        assert_eq!(img.rgba_at(10, 10), [9, 8, 7, 255]);
        assert_eq!(img.rgba_at(0, 10), [9, 8, 7, 255]);
        assert_eq!(img.rgba_at(10, 20), [9, 8, 7, 255]);
        assert_eq!(img.rgba_at(0, 0)[3], 0);
        assert_eq!(img.rgba_at(20, 20)[3], 0);
        assert!(Circle::parse(&split_action("circle").params).is_err());
        assert!(Circle::parse(&split_action("circle,r_4097").params).is_err());
    }
}
