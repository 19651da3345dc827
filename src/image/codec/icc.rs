//! ICC colour profiles: read from the source's container (JPEG APP2, PNG iCCP, WebP
//! ICCP, TIFF tag 34675, HEIF `colr`), checked, and handed to the encoders, so colours
//! look the same after processing.

use super::{SrcFormat, image_limits};
use crate::image::limits::Limits;
use crate::image::raster::{Frame, Img};
use ::image::ImageDecoder;
use std::io::Cursor;

/// Largest profile carried over; a bigger one is dropped (real profiles are a few KiB).
pub const MAX_ICC_BYTES: usize = 1 << 20;

/// The source's ICC profile, if it has one that still describes the decoded pixels.
/// A missing, unreadable, malformed or oversized profile gives `None`, never an error.
pub fn read(b: &[u8], format: SrcFormat, limits: &Limits) -> Option<Vec<u8>> {
    let icc = if format == SrcFormat::Tiff {
        // Straight from the tiff crate: with limits set, the `image` crate caps tag
        // values at the image's byte size, which loses a small image's profile. This
        // caps the tag instead (the decoder holds one `Value` per profile byte).
        use tiff::decoder::{Decoder, Limits as TiffLimits, ifd::Value};
        let mut tiff_limits = TiffLimits::default();
        tiff_limits.decoding_buffer_size = MAX_ICC_BYTES * std::mem::size_of::<Value>();
        let mut dec = Decoder::new(Cursor::new(b)).ok()?.with_limits(tiff_limits);
        dec.get_tag_u8_vec(tiff::tags::Tag::IccProfile).ok()?
    } else if matches!(format, SrcFormat::Heic | SrcFormat::Avif) {
        super::heif::icc(b)?
    } else if format == SrcFormat::Jpeg {
        // Straight from the APP2 segments: the `image` crate's JPEG decoder would first
        // copy the whole file.
        jpeg_icc(b)?
    } else {
        let mut reader = ::image::ImageReader::with_format(Cursor::new(b), format.image_format()?);
        reader.limits(image_limits(limits));
        reader.into_decoder().ok()?.icc_profile().ok()??
    };
    usable(&icc).then_some(icc)
}

/// A JPEG's profile: the `ICC_PROFILE` APP2 chunks (ICC.1 Annex B.4) in sequence order.
fn jpeg_icc(b: &[u8]) -> Option<Vec<u8>> {
    let mut chunks: Vec<(u8, &[u8])> = super::jpeg_segments(b)
        .filter(|&(m, seg)| m == 0xE2 && seg.len() > 14 && seg.starts_with(b"ICC_PROFILE\0"))
        .map(|(_, seg)| (seg[12], &seg[14..]))
        .collect();
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|&(seq, _)| seq);
    let total: usize = chunks.iter().map(|(_, c)| c.len()).sum();
    if total > MAX_ICC_BYTES {
        return None;
    }
    Some(
        chunks
            .into_iter()
            .flat_map(|(_, c)| c.iter().copied())
            .collect(),
    )
}

/// Whether `icc` is a plausible RGB profile: the header's size matches, the `acsp`
/// signature is there and the tag table fits. Pixels are always decoded to RGB, so a
/// CMYK or grey profile would no longer describe them and is dropped too.
pub fn usable(icc: &[u8]) -> bool {
    const HEADER: usize = 128;
    let be32 = |i: usize| -> Option<usize> {
        Some(u32::from_be_bytes(icc.get(i..i + 4)?.try_into().ok()?) as usize)
    };
    let (Some(size), Some(tags)) = (be32(0), be32(HEADER)) else {
        return false;
    };
    icc.len() <= MAX_ICC_BYTES
        && size == icc.len()
        && &icc[36..40] == b"acsp"
        && &icc[16..20] == b"RGB "
        && tags
            .checked_mul(12)
            .is_some_and(|t| HEADER + 4 + t <= icc.len())
}

/// Convert `frames` from the colours `icc` describes to sRGB, for an output format
/// with no room for a profile (AVIF as ravif writes it, GIF, BMP), so that a wide-gamut
/// source (a phone's Display P3) does not come out washed out. A profile moxcms cannot
/// use leaves the pixels as they are.
pub fn to_srgb(frames: &mut [Frame], icc: &[u8]) {
    use moxcms::{ColorProfile, Layout, TransformOptions};
    let Ok(profile) = ColorProfile::new_from_slice(icc) else {
        return;
    };
    let srgb = ColorProfile::new_srgb();
    let transform = |layout| {
        profile
            .create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
            .ok()
    };
    let (mut rgb, mut rgba) = (None, None);
    for frame in frames {
        let (pixels, transform) = match &mut frame.img {
            Img::Rgb(img) => (
                &mut **img,
                rgb.get_or_insert_with(|| transform(Layout::Rgb)),
            ),
            Img::Rgba(img) => (
                &mut **img,
                rgba.get_or_insert_with(|| transform(Layout::Rgba)),
            ),
        };
        let Some(transform) = transform else {
            return;
        };
        // About 256 KiB (whole pixels of 3 or 4 bytes) at a time through a small
        // copy, rather than a second frame in memory.
        const PIECE: usize = 256 * 1024 / 12 * 12;
        let mut from = Vec::with_capacity(PIECE.min(pixels.len()));
        for chunk in pixels.chunks_mut(PIECE) {
            from.clear();
            from.extend_from_slice(chunk);
            if let Err(e) = transform.transform(&from, chunk) {
                tracing::debug!("cannot convert the picture to sRGB: {e}");
                return;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// sRGB profile made by Little CMS (Pillow:
    /// `ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()`), 588 bytes.
    pub const SRGB: &[u8] = include_bytes!("../../../tests/fixtures/srgb.icc");

    #[test]
    fn real_profile_is_usable() {
        assert!(usable(SRGB));
    }

    #[test]
    fn malformed_or_foreign_profiles_are_dropped() {
        assert!(!usable(b""));
        assert!(!usable(&SRGB[..200]), "truncated");
        let mut longer = SRGB.to_vec();
        longer.push(0);
        assert!(!usable(&longer), "size field disagrees");
        let mut sig = SRGB.to_vec();
        sig[36..40].copy_from_slice(b"xxxx");
        assert!(!usable(&sig), "no acsp signature");
        let mut gray = SRGB.to_vec();
        gray[16..20].copy_from_slice(b"GRAY");
        assert!(!usable(&gray), "not an RGB profile");
        let mut tags = SRGB.to_vec();
        tags[128..132].copy_from_slice(&1000u32.to_be_bytes());
        assert!(!usable(&tags), "tag table runs past the end");
        let mut huge = SRGB.to_vec();
        huge.resize(MAX_ICC_BYTES + 4, 0);
        let n = huge.len() as u32;
        huge[0..4].copy_from_slice(&n.to_be_bytes());
        assert!(!usable(&huge), "over the size cap");
    }
}
