//! `blur,r_<1..50>,s_<1..50>` (spec §6): separable Gaussian with standard deviation `s`
//! and kernel radius `r` (clipped to 3σ, beyond which weights are negligible).
//! Either parameter may be omitted (undocumented): `s` defaults to `max(1, r/2)`,
//! `r` to `min(50, ceil(3s))`. All channels (alpha too) are blurred independently.

use crate::image::error::ImageError;
use crate::image::parse::{Keyed, Param};
use crate::image::raster::Picture;

const ACTION: &str = "blur";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blur {
    pub r: u32,
    pub s: u32,
}

impl Blur {
    pub fn parse(params: &[Param<'_>]) -> Result<Blur, ImageError> {
        let k = Keyed::new(ACTION, params)?;
        let r = k.int("r", 1, 50)?;
        let s = k.int("s", 1, 50)?;
        let (r, s) = match (r, s) {
            (Some(r), Some(s)) => (r, s),
            (Some(r), None) => (r, (r / 2).max(1)),
            (None, Some(s)) => ((3 * s).min(50), s),
            (None, None) => {
                return Err(ImageError::missing(
                    "The blur action requires the parameter r or s.",
                ));
            }
        };
        Ok(Blur {
            r: r as u32,
            s: s as u32,
        })
    }

    pub fn normalized(&self) -> String {
        format!("blur,r_{},s_{}", self.r, self.s)
    }

    /// Fixed-point (sum = 1<<16) symmetric kernel.
    pub fn kernel(&self) -> Vec<u32> {
        let sigma = self.s as f64;
        let radius = self.r.min((3.0 * sigma).ceil() as u32).max(1) as i64;
        let w: Vec<f64> = (-radius..=radius)
            .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
            .collect();
        let sum: f64 = w.iter().sum();
        let mut k: Vec<u32> = w
            .iter()
            .map(|v| (v / sum * 65536.0).round() as u32)
            .collect();
        // Make the weights sum to exactly 1<<16 so flat areas stay exact.
        let total: i64 = k.iter().map(|&v| v as i64).sum();
        let mid = k.len() / 2;
        k[mid] = (k[mid] as i64 + (65536 - total)) as u32;
        k
    }

    pub fn apply(&self, pic: &mut Picture) {
        let k = self.kernel();
        pic.map(|mut img| {
            let (w, h) = img.dims();
            let c = img.channels();
            blur_raw(img.raw_mut(), w as usize, h as usize, c, &k);
            img
        });
    }
}

/// Separable convolution with clamped edges, in place.
pub(crate) fn blur_raw(buf: &mut [u8], w: usize, h: usize, c: usize, k: &[u32]) {
    if w == 0 || h == 0 {
        return;
    }
    let rad = (k.len() / 2) as isize;
    let mut line: Vec<u8> = Vec::new();
    // Horizontal.
    for y in 0..h {
        let row = &mut buf[y * w * c..(y + 1) * w * c];
        line.clear();
        line.extend_from_slice(row);
        for x in 0..w {
            for ch in 0..c {
                let mut acc = 0u32;
                for (i, &kv) in k.iter().enumerate() {
                    let sx = (x as isize + i as isize - rad).clamp(0, w as isize - 1) as usize;
                    acc += kv * line[sx * c + ch] as u32;
                }
                row[x * c + ch] = ((acc + 32768) >> 16) as u8;
            }
        }
    }
    // Vertical, one column strip at a time through a scratch column.
    let mut col: Vec<u8> = vec![0; h * c];
    for x in 0..w {
        for y in 0..h {
            col[y * c..(y + 1) * c].copy_from_slice(&buf[(y * w + x) * c..(y * w + x + 1) * c]);
        }
        for y in 0..h {
            for ch in 0..c {
                let mut acc = 0u32;
                for (i, &kv) in k.iter().enumerate() {
                    let sy = (y as isize + i as isize - rad).clamp(0, h as isize - 1) as usize;
                    acc += kv * col[sy * c + ch] as u32;
                }
                buf[(y * w + x) * c + ch] = ((acc + 32768) >> 16) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;
    use crate::image::raster::Img;

    #[test]
    fn flat_stays_flat_and_edge_softens() {
        let b = Blur::parse(&split_action("blur,r_3,s_2").params).unwrap();
        assert_eq!(b.kernel().iter().sum::<u32>(), 65536);
        assert_eq!(b.kernel().len(), 7);
        let mut pic = Picture::still(Img::solid_rgb(9, 9, [100, 150, 200]));
        b.apply(&mut pic);
        assert_eq!(pic.first().rgb_at(4, 4), [100, 150, 200]);
        assert_eq!(pic.first().rgb_at(0, 0), [100, 150, 200]);

        // A single white pixel spreads symmetrically.
        let mut i = ::image::RgbImage::new(9, 9);
        i.put_pixel(4, 4, ::image::Rgb([255, 255, 255]));
        let mut pic = Picture::still(Img::Rgb(i));
        b.apply(&mut pic);
        let img = pic.first();
        let centre = img.rgb_at(4, 4)[0];
        assert!(centre < 255 && centre > 0);
        assert_eq!(img.rgb_at(3, 4), img.rgb_at(5, 4));
        assert_eq!(img.rgb_at(4, 3), img.rgb_at(4, 5));
        assert!(img.rgb_at(3, 4)[0] < centre);
    }

    #[test]
    fn parse_rules() {
        assert_eq!(
            Blur::parse(&split_action("blur,r_10").params).unwrap(),
            Blur { r: 10, s: 5 }
        );
        assert!(Blur::parse(&split_action("blur").params).is_err());
        assert!(Blur::parse(&split_action("blur,r_51,s_2").params).is_err());
        assert!(Blur::parse(&split_action("blur,r_0,s_2").params).is_err());
    }
}
