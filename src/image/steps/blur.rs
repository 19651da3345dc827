//! `blur,r_<1..50>,s_<1..50>` (spec §6): separable Gaussian with standard deviation `s`
//! and kernel radius `r` (clipped to 3σ, beyond which weights are negligible).
//! Either parameter may be omitted (undocumented): `s` defaults to `max(1, r/2)`,
//! `r` to `min(50, ceil(3s))`. All channels (alpha too) are blurred independently.

use crate::image::budget::Budget;
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

    /// Kernel radius: `r`, clipped to 3σ.
    pub fn radius(&self) -> u32 {
        self.r.min((3.0 * self.s as f64).ceil() as u32).max(1)
    }

    /// Fixed-point (sum = 1<<16) symmetric kernel.
    pub fn kernel(&self) -> Vec<u32> {
        let sigma = self.s as f64;
        let radius = self.radius() as i64;
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

    pub fn apply(&self, pic: &mut Picture, budget: &Budget<'_>) -> Result<(), ImageError> {
        let k = self.kernel();
        pic.try_map(|mut img| {
            let (w, h) = img.dims();
            let c = img.channels();
            blur_raw(img.raw_mut(), w as usize, h as usize, c, &k, budget)?;
            Ok(img)
        })
    }
}

/// Separable convolution with clamped edges, in place, checking `budget` every row.
/// Both passes accumulate whole rows tap by tap (contiguous, vectorisable).
pub(crate) fn blur_raw(
    buf: &mut [u8],
    w: usize,
    h: usize,
    c: usize,
    k: &[u32],
    budget: &Budget<'_>,
) -> Result<(), ImageError> {
    if w == 0 || h == 0 {
        return Ok(());
    }
    let rad = k.len() / 2;
    let stride = w * c;
    let mut acc = vec![0u32; stride];
    let store = |acc: &[u32], out: &mut [u8]| {
        for (o, &a) in out.iter_mut().zip(acc) {
            *o = ((a + 32768) >> 16) as u8;
        }
    };
    // Horizontal: each row padded with `rad` copies of its edge pixels.
    let mut line = vec![0u8; (w + 2 * rad) * c];
    for row in buf.chunks_exact_mut(stride) {
        budget.check()?;
        for x in 0..w + 2 * rad {
            let sx = x.saturating_sub(rad).min(w - 1);
            line[x * c..(x + 1) * c].copy_from_slice(&row[sx * c..(sx + 1) * c]);
        }
        acc.fill(0);
        for (i, &kv) in k.iter().enumerate() {
            for (a, &v) in acc.iter_mut().zip(&line[i * c..i * c + stride]) {
                *a += kv * v as u32;
            }
        }
        store(&acc, row);
    }
    // Vertical: each output row from the rows around it in a copy of the image.
    let src = buf.to_vec();
    for (y, row) in buf.chunks_exact_mut(stride).enumerate() {
        budget.check()?;
        acc.fill(0);
        for (i, &kv) in k.iter().enumerate() {
            let sy = (y + i).saturating_sub(rad).min(h - 1);
            for (a, &v) in acc.iter_mut().zip(&src[sy * stride..(sy + 1) * stride]) {
                *a += kv * v as u32;
            }
        }
        store(&acc, row);
    }
    Ok(())
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
        b.apply(&mut pic, &Budget::unlimited()).unwrap();
        assert_eq!(pic.first().rgb_at(4, 4), [100, 150, 200]);
        assert_eq!(pic.first().rgb_at(0, 0), [100, 150, 200]);

        // A single white pixel spreads symmetrically.
        let mut i = ::image::RgbImage::new(9, 9);
        i.put_pixel(4, 4, ::image::Rgb([255, 255, 255]));
        let mut pic = Picture::still(Img::Rgb(i));
        b.apply(&mut pic, &Budget::unlimited()).unwrap();
        let img = pic.first();
        let centre = img.rgb_at(4, 4)[0];
        assert!(centre < 255 && centre > 0);
        assert_eq!(img.rgb_at(3, 4), img.rgb_at(5, 4));
        assert_eq!(img.rgb_at(4, 3), img.rgb_at(4, 5));
        assert!(img.rgb_at(3, 4)[0] < centre);
    }

    #[test]
    fn rows_match_a_direct_convolution_and_check_the_budget() {
        let b = Blur { r: 4, s: 3 };
        let k = b.kernel();
        let (w, h, c) = (7usize, 5usize, 3usize);
        let src: Vec<u8> = (0..w * h * c).map(|i| (i * 37 % 251) as u8).collect();
        let mut buf = src.clone();
        blur_raw(&mut buf, w, h, c, &k, &Budget::unlimited()).unwrap();
        // The same separable convolution, one output sample at a time.
        let tap = |get: &dyn Fn(usize) -> u8, at: usize, n: usize| -> u8 {
            let acc: u32 = k
                .iter()
                .enumerate()
                .map(|(i, &kv)| kv * get((at + i).saturating_sub(k.len() / 2).min(n - 1)) as u32)
                .sum();
            ((acc + 32768) >> 16) as u8
        };
        let mut horiz = vec![0u8; src.len()];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    horiz[(y * w + x) * c + ch] = tap(&|sx| src[(y * w + sx) * c + ch], x, w);
                }
            }
        }
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    let want = tap(&|sy| horiz[(sy * w + x) * c + ch], y, h);
                    assert_eq!(buf[(y * w + x) * c + ch], want, "({x}, {y}, {ch})");
                }
            }
        }
        // A budget that runs out after three checks stops inside the first pass.
        let calls = std::cell::Cell::new(0);
        let cancel = || {
            calls.set(calls.get() + 1);
            calls.get() > 3
        };
        let limits = crate::image::Limits::default();
        let e = blur_raw(&mut buf, w, h, c, &k, &Budget::new(&limits, &cancel)).unwrap_err();
        assert!(e.message.contains("cancelled"));
        assert_eq!(calls.get(), 4);
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
