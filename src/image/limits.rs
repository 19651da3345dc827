//! Global limits of spec §2, checked from the header before decoding and again
//! before any output buffer is allocated, and the work budget of one request
//! (steps, estimated cost, memory, time; configured in `[image]`).

use super::error::{ImageError, ec};

/// Processing limits. `Default` gives the OSS values of spec §2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest source object accepted (OSS: 20 MB).
    pub max_source_bytes: u64,
    /// Largest source side in pixels (OSS: 30,000).
    pub max_side: u32,
    /// Largest source pixel count, `w × h × frames` for animations (OSS: 250,000,000).
    pub max_pixels: u64,
    /// Largest number of frames decoded from an animation (not an OSS number; a guard).
    pub max_frames: u32,
    /// Largest output side of resize and of any other step's output (OSS: 16,384).
    pub max_output_side: u32,
    /// Largest output area per frame (OSS: 16,777,216 = 4096²).
    pub max_output_pixels: u64,
    /// Largest input side for `rotate` / `auto-orient` (OSS: 4,096). 0 = unlimited.
    pub max_rotate_side: u32,
    /// Largest side of a WebP output (OSS / libwebp: 16,383).
    pub max_webp_side: u32,
    /// Most distinct image watermarks per request (OSS: 3).
    pub max_image_watermarks: usize,
    /// Encoder quality used for JPEG/WebP when no `quality` step is given (OSS: undocumented).
    pub default_quality: u8,
    /// Most steps in one spec (`[image] max_steps`; not an OSS number).
    pub max_steps: usize,
    /// Largest estimated cost of a request, in millions of pixel operations (a resize
    /// pass over one megapixel costs about 1), checked before decoding (`[image] max_cost`).
    pub max_cost: u64,
    /// Largest estimated peak of pixel buffers per request, in bytes, checked before
    /// decoding and counted again while decoding frames (`[image] max_memory_mb`).
    pub max_memory: u64,
    /// Longest a request may work, in milliseconds, checked between steps and inside
    /// long steps (`[image] max_time_ms`).
    pub max_time_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_source_bytes: 20 * 1024 * 1024,
            max_side: 30_000,
            max_pixels: 250_000_000,
            max_frames: 1_000,
            max_output_side: 16_384,
            max_output_pixels: 16_777_216,
            max_rotate_side: 4_096,
            max_webp_side: 16_383,
            max_image_watermarks: 3,
            default_quality: 90,
            max_steps: 20,
            max_cost: 2_000,
            max_memory: 512 << 20,
            max_time_ms: 8_000,
        }
    }
}

impl Limits {
    /// Source checks from the header (spec §2): byte size, side, pixels over all frames.
    /// `for_resize` picks EC 0040-00000009 (resize) over 0040-00000012 (decode refused).
    pub fn check_source(
        &self,
        bytes: usize,
        w: u32,
        h: u32,
        frames: u32,
        for_resize: bool,
    ) -> Result<(), ImageError> {
        if bytes as u64 > self.max_source_bytes {
            return Err(ImageError::too_large(format!(
                "The source image is too large: {bytes} bytes exceeds {} bytes.",
                self.max_source_bytes
            )));
        }
        let code = if for_resize {
            ec::SOURCE_TOO_LARGE_RESIZE
        } else {
            ec::SOURCE_TOO_LARGE
        };
        if w == 0 || h == 0 {
            return Err(
                ImageError::bad_request("The source image has an empty size.")
                    .with_ec(ec::UNSUPPORTED_FORMAT),
            );
        }
        if w > self.max_side || h > self.max_side {
            return Err(ImageError::too_large(format!(
                "The source image size {w}x{h} exceeds the limit of {} pixels per side.",
                self.max_side
            ))
            .with_ec(code));
        }
        if frames > self.max_frames {
            return Err(ImageError::too_large(format!(
                "The source image has {frames} frames, more than the limit of {}.",
                self.max_frames
            ))
            .with_ec(code));
        }
        let total = w as u64 * h as u64 * frames.max(1) as u64;
        if total > self.max_pixels {
            return Err(ImageError::too_large(format!(
                "The source image has {total} pixels (all frames), more than the limit of {}.",
                self.max_pixels
            ))
            .with_ec(code));
        }
        Ok(())
    }

    /// Output checks before allocating a `w × h` frame (spec §3.5).
    pub fn check_output(&self, w: u32, h: u32) -> Result<(), ImageError> {
        if w == 0 || h == 0 {
            return Err(ImageError::bad_request(format!(
                "The target image size {w}x{h} is empty."
            )));
        }
        if w > self.max_output_side
            || h > self.max_output_side
            || w as u64 * h as u64 > self.max_output_pixels
        {
            return Err(ImageError::too_large(format!(
                "The target image size {w}x{h} is too large (limit {} per side, {} pixels).",
                self.max_output_side, self.max_output_pixels
            ))
            .with_ec(ec::RESIZE_TOO_LARGE));
        }
        Ok(())
    }

    /// The step count of a spec, before anything else.
    pub fn check_steps(&self, steps: usize) -> Result<(), ImageError> {
        if steps > self.max_steps {
            return Err(ImageError::invalid_msg(format!(
                "The processing spec has {steps} steps; at most {} are allowed ([image] max_steps).",
                self.max_steps
            )));
        }
        Ok(())
    }

    /// The work estimate of a request (pixel operations, bytes of pixel buffers), before
    /// decoding.
    pub fn check_work(&self, cost: u64, memory: u64) -> Result<(), ImageError> {
        self.check_memory(memory)?;
        let mega = cost.div_ceil(1_000_000);
        if mega > self.max_cost {
            return Err(ImageError::too_large(format!(
                "The processing spec costs about {mega} million pixel operations on this image; \
                 at most {} are allowed ([image] max_cost).",
                self.max_cost
            )));
        }
        Ok(())
    }

    /// Bytes of pixel buffers a request holds at its peak.
    pub fn check_memory(&self, bytes: u64) -> Result<(), ImageError> {
        if bytes > self.max_memory {
            return Err(ImageError::too_large(format!(
                "Processing this image needs about {} MB of pixel buffers; at most {} MB are \
                 allowed per request ([image] max_memory_mb).",
                bytes.div_ceil(1 << 20),
                self.max_memory >> 20
            ))
            .with_ec(ec::SOURCE_TOO_LARGE));
        }
        Ok(())
    }

    /// Input check of rotate / auto-orient.
    pub fn check_rotate(&self, w: u32, h: u32) -> Result<(), ImageError> {
        if self.max_rotate_side != 0 && (w > self.max_rotate_side || h > self.max_rotate_side) {
            return Err(ImageError::too_large(format!(
                "The image size {w}x{h} is too large to rotate (limit {} per side).",
                self.max_rotate_side
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_oss() {
        let l = Limits::default();
        assert_eq!(l.max_source_bytes, 20 * 1024 * 1024);
        assert_eq!(l.max_side, 30000);
        assert_eq!(l.max_pixels, 250_000_000);
        assert_eq!(l.max_output_pixels, 4096 * 4096);
    }

    #[test]
    fn budget_checks_name_their_key() {
        let l = Limits::default();
        assert!(l.check_steps(20).is_ok());
        let e = l.check_steps(41).unwrap_err();
        assert_eq!(
            e.message,
            "The processing spec has 41 steps; at most 20 are allowed ([image] max_steps)."
        );
        assert_eq!((e.status, e.code), (400, "InvalidArgument"));
        assert!(l.check_work(2_000_000_000, 1 << 20).is_ok());
        let e = l.check_work(2_000_000_001, 1 << 20).unwrap_err();
        assert!(e.message.contains("[image] max_cost"), "{}", e.message);
        let e = l.check_work(1, (512 << 20) + 1).unwrap_err();
        assert!(e.message.contains("[image] max_memory_mb"), "{}", e.message);
        assert_eq!((e.status, e.code), (400, "ImageTooLarge"));
    }

    #[test]
    fn source_checks() {
        let l = Limits::default();
        assert!(l.check_source(100, 30000, 100, 1, false).is_ok());
        let e = l.check_source(100, 30001, 100, 1, false).unwrap_err();
        assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE));
        let e = l.check_source(100, 20000, 20000, 1, true).unwrap_err();
        assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE_RESIZE));
        assert!(l.check_source(100, 1000, 1000, 250, false).is_ok());
        assert!(l.check_source(100, 1000, 1000, 251, false).is_err());
        assert!(l.check_source(21 * 1024 * 1024, 10, 10, 1, false).is_err());
    }

    #[test]
    fn output_checks() {
        let l = Limits::default();
        assert!(l.check_output(4096, 4096).is_ok());
        assert_eq!(
            l.check_output(5000, 5000).unwrap_err().ec,
            Some(ec::RESIZE_TOO_LARGE)
        );
        assert!(l.check_output(16384, 1000).is_ok());
        assert!(l.check_output(16385, 1).is_err());
    }
}
