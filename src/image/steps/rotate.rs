//! `rotate,<deg>` (spec §5.1): clockwise; non-right angles grow the canvas to the
//! bounding box with a transparent fill (white once flattened for JPG).

use crate::image::error::ImageError;
use crate::image::limits::Limits;
use crate::image::parse::{Param, int_in, single};
use crate::image::raster::{Img, Picture};
use ::image::imageops;

const ACTION: &str = "rotate";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotate {
    pub deg: u32,
}

impl Rotate {
    pub fn parse(params: &[Param<'_>]) -> Result<Rotate, ImageError> {
        let deg = match single(ACTION, params)? {
            None => 0,
            Some(v) => int_in(ACTION, ACTION, v, 0, 360)? as u32,
        };
        Ok(Rotate { deg })
    }

    pub fn normalized(&self) -> String {
        format!("rotate,{}", self.deg % 360)
    }

    pub fn apply(&self, pic: &mut Picture, limits: &Limits) -> Result<(), ImageError> {
        let deg = self.deg % 360;
        if deg == 0 {
            return Ok(());
        }
        let (w, h) = pic.dims();
        limits.check_rotate(w, h)?;
        if !deg.is_multiple_of(90) {
            let (nw, nh) = bbox(w, h, deg as f64);
            limits.check_output(nw, nh)?;
        }
        pic.map(|img| rotate_img(img, deg));
        Ok(())
    }
}

/// Size of the bounding box of a `w×h` image rotated by `deg`.
pub fn bbox(w: u32, h: u32, deg: f64) -> (u32, u32) {
    let (s, c) = deg.to_radians().sin_cos();
    let nw = (w as f64 * c.abs() + h as f64 * s.abs()).round().max(1.0) as u32;
    let nh = (w as f64 * s.abs() + h as f64 * c.abs()).round().max(1.0) as u32;
    (nw, nh)
}

/// Rotate clockwise by `deg` (any integer angle).
pub fn rotate_img(img: Img, deg: u32) -> Img {
    match (deg % 360, img) {
        (0, img) => img,
        (90, Img::Rgb(i)) => Img::Rgb(imageops::rotate90(&i)),
        (90, Img::Rgba(i)) => Img::Rgba(imageops::rotate90(&i)),
        (180, Img::Rgb(i)) => Img::Rgb(imageops::rotate180(&i)),
        (180, Img::Rgba(i)) => Img::Rgba(imageops::rotate180(&i)),
        (270, Img::Rgb(i)) => Img::Rgb(imageops::rotate270(&i)),
        (270, Img::Rgba(i)) => Img::Rgba(imageops::rotate270(&i)),
        (d, img) => rotate_any(&img.into_rgba(), d as f64),
    }
}

/// Bilinear rotation by an arbitrary clockwise angle onto a transparent bounding box.
pub fn rotate_any(src: &::image::RgbaImage, deg: f64) -> Img {
    let (w, h) = src.dimensions();
    let (nw, nh) = bbox(w, h, deg);
    let (s, c) = deg.to_radians().sin_cos();
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let (ncx, ncy) = (nw as f64 / 2.0, nh as f64 / 2.0);
    let mut out = ::image::RgbaImage::new(nw, nh);
    let raw = src.as_raw();
    // Premultiplied sample at integer coords, transparent outside.
    let px = |x: i64, y: i64| -> [f64; 4] {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            return [0.0; 4];
        }
        let i = (y as usize * w as usize + x as usize) * 4;
        let a = raw[i + 3] as f64 / 255.0;
        [
            raw[i] as f64 * a,
            raw[i + 1] as f64 * a,
            raw[i + 2] as f64 * a,
            raw[i + 3] as f64,
        ]
    };
    for (ox, oy, p) in out.enumerate_pixels_mut() {
        // Inverse map: rotate the output pixel centre counter-clockwise.
        let dx = ox as f64 + 0.5 - ncx;
        let dy = oy as f64 + 0.5 - ncy;
        let sx = dx * c + dy * s + cx - 0.5;
        let sy = -dx * s + dy * c + cy - 0.5;
        if sx < -1.0 || sy < -1.0 || sx > w as f64 || sy > h as f64 {
            continue;
        }
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut acc = [0.0f64; 4];
        for (xx, yy, wgt) in [
            (x0, y0, (1.0 - fx) * (1.0 - fy)),
            (x0 + 1, y0, fx * (1.0 - fy)),
            (x0, y0 + 1, (1.0 - fx) * fy),
            (x0 + 1, y0 + 1, fx * fy),
        ] {
            let v = px(xx, yy);
            for k in 0..4 {
                acc[k] += v[k] * wgt;
            }
        }
        let a = acc[3];
        if a > 0.0 {
            let inv = 255.0 / a;
            *p = ::image::Rgba([
                (acc[0] * inv).round().clamp(0.0, 255.0) as u8,
                (acc[1] * inv).round().clamp(0.0, 255.0) as u8,
                (acc[2] * inv).round().clamp(0.0, 255.0) as u8,
                a.round().clamp(0.0, 255.0) as u8,
            ]);
        }
    }
    Img::Rgba(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::error::ec;
    use crate::image::parse::split_action;

    fn marked() -> Img {
        // 3x2, red at top-left.
        let mut i = ::image::RgbImage::from_pixel(3, 2, ::image::Rgb([0, 0, 0]));
        i.put_pixel(0, 0, ::image::Rgb([255, 0, 0]));
        Img::Rgb(i)
    }

    #[test]
    fn right_angles() {
        let r = rotate_img(marked(), 90);
        assert_eq!(r.dims(), (2, 3));
        // Clockwise: top-left goes to top-right.
        assert_eq!(r.rgb_at(1, 0), [255, 0, 0]);
        let r = rotate_img(marked(), 180);
        assert_eq!(r.rgb_at(2, 1), [255, 0, 0]);
        let r = rotate_img(marked(), 270);
        assert_eq!(r.rgb_at(0, 2), [255, 0, 0]);
    }

    #[test]
    fn arbitrary_angle_grows_canvas() {
        assert_eq!(bbox(100, 100, 45.0), (141, 141));
        let r = rotate_img(Img::solid_rgb(100, 50, [200, 100, 50]), 30);
        assert_eq!(r.dims(), bbox(100, 50, 30.0));
        assert!(r.has_alpha());
        assert_eq!(r.rgba_at(0, 0)[3], 0);
        let (w, h) = r.dims();
        assert_eq!(r.rgba_at(w / 2, h / 2), [200, 100, 50, 255]);
    }

    #[test]
    fn parse_rules() {
        assert_eq!(
            Rotate::parse(&split_action("rotate,90").params)
                .unwrap()
                .deg,
            90
        );
        assert!(Rotate::parse(&split_action("rotate,361").params).is_err());
        assert!(Rotate::parse(&split_action("rotate,-1").params).is_err());
        let e = Rotate::parse(&split_action("rotate,90,200,300").params).unwrap_err();
        assert_eq!(e.ec, Some(ec::TOO_MANY_VALUES));
    }

    #[test]
    fn size_limit() {
        let mut pic = Picture::still(Img::solid_rgb(4097, 1, [0, 0, 0]));
        let e = Rotate { deg: 90 }
            .apply(&mut pic, &Limits::default())
            .unwrap_err();
        assert_eq!(e.code, "ImageTooLarge");
    }
}
