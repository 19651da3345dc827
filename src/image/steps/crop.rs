//! `crop` (spec §4.1): w/h/x/y with a 3×3 gravity anchor.

use crate::image::error::{ImageError, ec};
use crate::image::parse::{Gravity, Keyed, Param};
use crate::image::raster::Picture;

const ACTION: &str = "crop";
const MAX: i64 = i32::MAX as i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crop {
    /// 0 or absent = to the edge.
    pub w: u32,
    pub h: u32,
    pub x: u32,
    pub y: u32,
    pub g: Gravity,
}

impl Crop {
    pub fn parse(params: &[Param<'_>]) -> Result<Crop, ImageError> {
        let k = Keyed::new(ACTION, params)?;
        let g = match k.get("g") {
            None => Gravity::NW,
            Some(v) => Gravity::parse(v).ok_or_else(|| {
                ImageError::invalid(
                    "g",
                    v,
                    "Value must be one of nw, north, ne, west, center, east, sw, south, se (crop)",
                )
                .with_ec(ec::CROP_GRAVITY)
            })?,
        };
        let n =
            |key: &str| -> Result<u32, ImageError> { Ok(k.int(key, 0, MAX)?.unwrap_or(0) as u32) };
        Ok(Crop {
            w: n("w")?,
            h: n("h")?,
            x: n("x")?,
            y: n("y")?,
            g,
        })
    }

    pub fn normalized(&self) -> String {
        format!(
            "crop,w_{},h_{},x_{},y_{},g_{}",
            self.w,
            self.h,
            self.x,
            self.y,
            self.g.name()
        )
    }

    /// The rectangle `(x, y, w, h)` cut out of a `sw×sh` image.
    pub fn rect(&self, sw: u32, sh: u32) -> Result<(u32, u32, u32, u32), ImageError> {
        let w = if self.w == 0 { sw } else { self.w };
        let h = if self.h == 0 { sh } else { self.h };
        let ox = match self.g.col() {
            0 => 0,
            1 => (sw / 2).saturating_sub(w / 2),
            _ => sw.saturating_sub(w),
        };
        let oy = match self.g.row() {
            0 => 0,
            1 => (sh / 2).saturating_sub(h / 2),
            _ => sh.saturating_sub(h),
        };
        let x0 = ox as u64 + self.x as u64;
        let y0 = oy as u64 + self.y as u64;
        if x0 >= sw as u64 || y0 >= sh as u64 {
            return Err(ImageError::bad_request(
                "Advance cut's position is out of image.",
            ));
        }
        let (x0, y0) = (x0 as u32, y0 as u32);
        Ok((x0, y0, w.min(sw - x0), h.min(sh - y0)))
    }

    pub fn apply(&self, pic: &mut Picture) -> Result<(), ImageError> {
        let (sw, sh) = pic.dims();
        let (x, y, w, h) = self.rect(sw, sh)?;
        if (x, y, w, h) != (0, 0, sw, sh) {
            pic.map(|img| img.crop(x, y, w, h));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;
    use crate::image::raster::Img;

    fn c(s: &str) -> Crop {
        Crop::parse(&split_action(s).params).unwrap()
    }

    #[test]
    fn gravities() {
        let cases = [
            ("nw", (0, 0)),
            ("north", (40, 0)),
            ("ne", (80, 0)),
            ("west", (0, 20)),
            ("center", (40, 20)),
            ("east", (80, 20)),
            ("sw", (0, 40)),
            ("south", (40, 40)),
            ("se", (80, 40)),
        ];
        for (g, (x, y)) in cases {
            let r = c(&format!("crop,w_20,h_10,g_{g}")).rect(100, 50).unwrap();
            assert_eq!(r, (x, y, 20, 10), "{g}");
        }
    }

    #[test]
    fn offsets_clip_and_errors() {
        assert_eq!(
            c("crop,x_10,y_10,w_20,h_20").rect(100, 50).unwrap(),
            (10, 10, 20, 20)
        );
        // Running past the edge is clipped.
        assert_eq!(
            c("crop,x_90,y_45,w_20,h_20").rect(100, 50).unwrap(),
            (90, 45, 10, 5)
        );
        // Defaults: to the edge.
        assert_eq!(c("crop,x_30").rect(100, 50).unwrap(), (30, 0, 70, 50));
        // Anchor + offset (offset added to the anchor origin).
        assert_eq!(
            c("crop,g_se,x_10,y_10,w_20,h_20").rect(100, 50).unwrap(),
            (90, 40, 10, 10)
        );
        let e = c("crop,x_100").rect(100, 50).unwrap_err();
        assert_eq!(e.code, "BadRequest");
        assert_eq!(e.message, "Advance cut's position is out of image.");
        // Undocumented key tolerated (PY1/JAVA test uses r_1).
        assert_eq!(
            c("crop,w_100,h_100,x_100,y_100,r_1")
                .rect(400, 267)
                .unwrap(),
            (100, 100, 100, 100)
        );
        let e = Crop::parse(&split_action("crop,w_500,h_500,g_fac").params).unwrap_err();
        assert_eq!(e.ec, Some(ec::CROP_GRAVITY));
        assert!(Crop::parse(&split_action("crop,w_-1").params).is_err());
    }

    #[test]
    fn pixels() {
        let mut i = ::image::RgbImage::new(4, 4);
        for (x, y, p) in i.enumerate_pixels_mut() {
            *p = ::image::Rgb([x as u8, y as u8, 9]);
        }
        let mut pic = Picture::still(Img::Rgb(i));
        c("crop,w_2,h_2,g_se").apply(&mut pic).unwrap();
        assert_eq!(pic.dims(), (2, 2));
        assert_eq!(pic.first().rgb_at(0, 0), [2, 2, 9]);
    }
}
