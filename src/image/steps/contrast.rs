//! `contrast,<-100..100>` (spec §6): `v' = f·(v − 128) + 128` with the classic
//! `f = 259(c+255) / (255(259−c))`, `c = n × 2.55`. −100 gives flat grey, 0 identity.

use crate::image::error::ImageError;
use crate::image::parse::{Param, int_in, single};
use crate::image::raster::Picture;
use crate::image::steps::bright::apply_lut;

const ACTION: &str = "contrast";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contrast {
    pub n: i32,
}

impl Contrast {
    pub fn parse(params: &[Param<'_>]) -> Result<Contrast, ImageError> {
        let v = single(ACTION, params)?
            .ok_or_else(|| ImageError::missing("The contrast action requires a value."))?;
        Ok(Contrast {
            n: int_in(ACTION, ACTION, v, -100, 100)? as i32,
        })
    }

    pub fn normalized(&self) -> String {
        format!("contrast,{}", self.n)
    }

    pub fn lut(&self) -> [u8; 256] {
        let c = self.n as f64 * 2.55;
        let f = 259.0 * (c + 255.0) / (255.0 * (259.0 - c));
        std::array::from_fn(|v| (f * (v as f64 - 128.0) + 128.0).round().clamp(0.0, 255.0) as u8)
    }

    pub fn apply(&self, pic: &mut Picture) {
        if self.n != 0 {
            apply_lut(pic, &self.lut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    #[test]
    fn tables() {
        let id = Contrast { n: 0 }.lut();
        assert!((0..256).all(|v| id[v] as usize == v));
        let grey = Contrast { n: -100 }.lut();
        assert!(grey.iter().all(|&v| v == 128));
        let hi = Contrast { n: 50 }.lut();
        assert_eq!(hi[128], 128);
        assert!(hi[100] < 100 && hi[160] > 160);
        let max = Contrast { n: 100 }.lut();
        assert_eq!((max[0], max[127], max[129], max[255]), (0, 0, 255, 255));
        assert!(Contrast::parse(&split_action("contrast,-101").params).is_err());
        assert_eq!(
            Contrast::parse(&split_action("contrast,-50").params)
                .unwrap()
                .n,
            -50
        );
    }
}
