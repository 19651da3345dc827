//! `bright,<-100..100>` (spec §6): additive, `delta = round(n × 255 / 100)` on R, G, B.

use crate::image::error::ImageError;
use crate::image::parse::{Param, int_in, single};
use crate::image::raster::Picture;

const ACTION: &str = "bright";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bright {
    pub n: i32,
}

impl Bright {
    pub fn parse(params: &[Param<'_>]) -> Result<Bright, ImageError> {
        let v = single(ACTION, params)?
            .ok_or_else(|| ImageError::missing("The bright action requires a value."))?;
        Ok(Bright {
            n: int_in(ACTION, ACTION, v, -100, 100)? as i32,
        })
    }

    pub fn normalized(&self) -> String {
        format!("bright,{}", self.n)
    }

    pub fn lut(&self) -> [u8; 256] {
        let delta = (self.n * 255 + if self.n >= 0 { 50 } else { -50 }) / 100;
        std::array::from_fn(|v| (v as i32 + delta).clamp(0, 255) as u8)
    }

    pub fn apply(&self, pic: &mut Picture) {
        if self.n != 0 {
            apply_lut(pic, &self.lut());
        }
    }
}

/// Map R, G, B (not alpha) through a table.
pub(crate) fn apply_lut(pic: &mut Picture, lut: &[u8; 256]) {
    pic.map(|mut img| {
        let c = img.channels();
        for px in img.raw_mut().chunks_exact_mut(c) {
            for v in &mut px[..3] {
                *v = lut[*v as usize];
            }
        }
        img
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;
    use crate::image::raster::Img;

    #[test]
    fn exact_values() {
        let b = Bright::parse(&split_action("bright,50").params).unwrap();
        let mut pic = Picture::still(Img::solid_rgba(2, 2, [100, 0, 250, 7]));
        b.apply(&mut pic);
        assert_eq!(pic.first().rgba_at(1, 1), [228, 128, 255, 7]);
        let d = Bright::parse(&split_action("bright,-50").params).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(1, 1, [100, 200, 0]));
        d.apply(&mut pic);
        assert_eq!(pic.first().rgb_at(0, 0), [0, 72, 0]);
        assert_eq!(Bright { n: 0 }.lut()[77], 77);
        assert!(Bright::parse(&split_action("bright,101").params).is_err());
        assert!(Bright::parse(&split_action("bright").params).is_err());
    }
}
