//! In-memory pixel buffers the steps work on: 8-bit RGB or RGBA, one per frame.

use ::image::{Rgb, RgbImage, Rgba, RgbaImage};
use std::cell::Cell;

thread_local! {
    /// One spare pixel buffer per (worker) thread: the frame a JPEG is decoded into is
    /// handed back by the resize that consumes it, so the next decode on this thread
    /// neither zeroes nor faults in a fresh 9-36 MB allocation.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Largest buffer kept as a spare.
const MAX_SPARE: usize = 64 << 20;

/// A buffer of `len` bytes for a decoder to overwrite entirely: the thread's spare when
/// it is big enough (its old bytes are left in place), else a zeroed one.
#[cfg(feature = "turbojpeg")]
pub fn scratch(len: usize) -> Vec<u8> {
    let mut v = SPARE.take();
    if v.len() >= len {
        v.truncate(len);
    } else {
        v.resize(len, 0);
    }
    v
}

/// Give a no longer needed pixel buffer back as the thread's spare (the larger one is kept).
pub fn recycle(v: Vec<u8>) {
    if v.capacity() > MAX_SPARE {
        return;
    }
    let old = SPARE.take();
    SPARE.set(if old.capacity() >= v.capacity() {
        old
    } else {
        v
    });
}

/// One frame's pixels: RGB when the image is opaque, RGBA when it has (or may get) alpha.
#[derive(Debug, Clone, PartialEq)]
pub enum Img {
    Rgb(RgbImage),
    Rgba(RgbaImage),
}

impl Img {
    pub fn width(&self) -> u32 {
        match self {
            Img::Rgb(i) => i.width(),
            Img::Rgba(i) => i.width(),
        }
    }

    pub fn height(&self) -> u32 {
        match self {
            Img::Rgb(i) => i.height(),
            Img::Rgba(i) => i.height(),
        }
    }

    pub fn dims(&self) -> (u32, u32) {
        (self.width(), self.height())
    }

    pub fn has_alpha(&self) -> bool {
        matches!(self, Img::Rgba(_))
    }

    pub fn channels(&self) -> usize {
        if self.has_alpha() { 4 } else { 3 }
    }

    /// Raw interleaved samples.
    pub fn raw(&self) -> &[u8] {
        match self {
            Img::Rgb(i) => i.as_raw(),
            Img::Rgba(i) => i.as_raw(),
        }
    }

    /// Raw interleaved samples, mutable.
    pub fn raw_mut(&mut self) -> &mut [u8] {
        match self {
            Img::Rgb(i) => i,
            Img::Rgba(i) => i,
        }
    }

    /// Convert to RGBA (opaque alpha for RGB input).
    pub fn into_rgba(self) -> RgbaImage {
        match self {
            Img::Rgba(i) => i,
            Img::Rgb(i) => {
                let (w, h) = i.dimensions();
                let mut out = Vec::with_capacity(w as usize * h as usize * 4);
                for px in i.as_raw().chunks_exact(3) {
                    out.extend_from_slice(&[px[0], px[1], px[2], 255]);
                }
                RgbaImage::from_raw(w, h, out).expect("buffer size")
            }
        }
    }

    /// Flatten alpha onto a background colour, giving RGB.
    pub fn into_rgb_on(self, bg: [u8; 3]) -> RgbImage {
        match self {
            Img::Rgb(i) => i,
            Img::Rgba(i) => {
                let (w, h) = i.dimensions();
                let mut out = Vec::with_capacity(w as usize * h as usize * 3);
                for px in i.as_raw().chunks_exact(4) {
                    let a = px[3] as u32;
                    for c in 0..3 {
                        out.push(((px[c] as u32 * a + bg[c] as u32 * (255 - a) + 127) / 255) as u8);
                    }
                }
                RgbImage::from_raw(w, h, out).expect("buffer size")
            }
        }
    }

    /// RGB pixel at (x, y) (alpha dropped).
    pub fn rgb_at(&self, x: u32, y: u32) -> [u8; 3] {
        match self {
            Img::Rgb(i) => i.get_pixel(x, y).0,
            Img::Rgba(i) => {
                let p = i.get_pixel(x, y).0;
                [p[0], p[1], p[2]]
            }
        }
    }

    /// RGBA pixel at (x, y).
    pub fn rgba_at(&self, x: u32, y: u32) -> [u8; 4] {
        match self {
            Img::Rgb(i) => {
                let p = i.get_pixel(x, y).0;
                [p[0], p[1], p[2], 255]
            }
            Img::Rgba(i) => i.get_pixel(x, y).0,
        }
    }

    /// Copy out the rectangle `(x, y, w, h)`, which must lie inside the image.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Img {
        debug_assert!(x + w <= self.width() && y + h <= self.height());
        fn copy<P: ::image::Pixel<Subpixel = u8>>(
            src: &::image::ImageBuffer<P, Vec<u8>>,
            x: u32,
            y: u32,
            w: u32,
            h: u32,
        ) -> ::image::ImageBuffer<P, Vec<u8>> {
            let c = P::CHANNEL_COUNT as usize;
            let stride = src.width() as usize * c;
            let raw = src.as_raw();
            let mut out = Vec::with_capacity(w as usize * h as usize * c);
            for row in y..y + h {
                let start = row as usize * stride + x as usize * c;
                out.extend_from_slice(&raw[start..start + w as usize * c]);
            }
            ::image::ImageBuffer::from_raw(w, h, out).expect("buffer size")
        }
        match self {
            Img::Rgb(i) => Img::Rgb(copy(i, x, y, w, h)),
            Img::Rgba(i) => Img::Rgba(copy(i, x, y, w, h)),
        }
    }

    /// A solid image.
    pub fn solid_rgb(w: u32, h: u32, c: [u8; 3]) -> Img {
        Img::Rgb(RgbImage::from_pixel(w, h, Rgb(c)))
    }

    /// A solid RGBA image.
    pub fn solid_rgba(w: u32, h: u32, c: [u8; 4]) -> Img {
        Img::Rgba(RgbaImage::from_pixel(w, h, Rgba(c)))
    }

    /// Drop the alpha channel if every pixel is opaque.
    pub fn shrink_if_opaque(self) -> Img {
        match self {
            Img::Rgba(i) if i.as_raw().chunks_exact(4).all(|p| p[3] == 255) => {
                Img::Rgba(i).into_rgb_on([255, 255, 255]).into()
            }
            other => other,
        }
    }
}

impl From<RgbImage> for Img {
    fn from(i: RgbImage) -> Self {
        Img::Rgb(i)
    }
}

impl From<RgbaImage> for Img {
    fn from(i: RgbaImage) -> Self {
        Img::Rgba(i)
    }
}

/// One frame with its display duration (animated GIF).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub img: Img,
    /// Delay in milliseconds (0 for still images).
    pub delay_ms: u32,
}

/// A decoded picture: one or more frames of the same size, and the ICC profile that
/// says what their RGB values mean (carried from the source to the output).
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub frames: Vec<Frame>,
    pub icc: Option<Vec<u8>>,
}

impl Picture {
    pub fn still(img: Img) -> Picture {
        Picture::animation(vec![Frame { img, delay_ms: 0 }])
    }

    /// Frames without a colour profile.
    pub fn animation(frames: Vec<Frame>) -> Picture {
        Picture { frames, icc: None }
    }

    pub fn first(&self) -> &Img {
        &self.frames[0].img
    }

    pub fn dims(&self) -> (u32, u32) {
        self.first().dims()
    }

    /// Replace every frame's pixels with `f(pixels)`.
    pub fn try_map<F>(&mut self, mut f: F) -> Result<(), super::ImageError>
    where
        F: FnMut(Img) -> Result<Img, super::ImageError>,
    {
        for fr in &mut self.frames {
            let img = std::mem::replace(&mut fr.img, Img::Rgb(RgbImage::new(0, 0)));
            fr.img = f(img)?;
        }
        Ok(())
    }

    /// Like [`Picture::try_map`] for infallible operations.
    pub fn map<F: FnMut(Img) -> Img>(&mut self, mut f: F) {
        let _ = self.try_map(|i| Ok(f(i)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_copies_rect() {
        let mut i = RgbImage::new(4, 3);
        for (x, y, p) in i.enumerate_pixels_mut() {
            *p = Rgb([x as u8, y as u8, 0]);
        }
        let c = Img::Rgb(i).crop(1, 1, 2, 2);
        assert_eq!(c.dims(), (2, 2));
        assert_eq!(c.rgb_at(0, 0), [1, 1, 0]);
        assert_eq!(c.rgb_at(1, 1), [2, 2, 0]);
    }

    #[test]
    fn flatten_on_white() {
        let i = Img::solid_rgba(1, 1, [0, 0, 0, 0]);
        assert_eq!(
            i.into_rgb_on([255, 255, 255]).get_pixel(0, 0).0,
            [255, 255, 255]
        );
        let i = Img::solid_rgba(1, 1, [0, 0, 0, 255]);
        assert_eq!(i.into_rgb_on([255, 255, 255]).get_pixel(0, 0).0, [0, 0, 0]);
    }
}
