//! HEIF-container sources: HEIC (HEVC) and AVIF (AV1). Size and colour profile come
//! straight from the container's boxes (ISO/IEC 23008-12 items and properties), so the
//! limits are checked before any decoder runs; pixels come from libheif (feature `heif`,
//! vendored and built with cmake), with the HEVC and AV1 decoders it found at build time
//! (Debian's libde265 and libdav1d). HEIC output goes through libheif's x265 encoder,
//! present when libx265 was found at build time.

use super::SrcFormat;
use crate::image::error::{ImageError, ec};

/// The boxes in `b`, as `(type, payload)`; stops at the first malformed one.
fn boxes(b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(b.get(pos..pos + 4)?.try_into().ok()?) as u64;
        let typ: [u8; 4] = b.get(pos + 4..pos + 8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, (b.len() - pos) as u64),
            1 => (
                16,
                u64::from_be_bytes(b.get(pos + 8..pos + 16)?.try_into().ok()?),
            ),
            n => (8, n),
        };
        let end = pos.checked_add(usize::try_from(size).ok()?)?;
        let payload = b.get(pos + header..end)?;
        pos = end;
        Some((typ, payload))
    })
}

fn child<'a>(b: &'a [u8], typ: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(b).find(|(t, _)| t == typ).map(|(_, p)| p)
}

fn be16(b: &[u8], i: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32)
}

fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// The property boxes (`ipco` children) associated with the primary item (`pitm`),
/// in association order, which is the order transformations apply in.
fn primary_properties(b: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    // `meta`, `pitm` and `ipma` are full boxes: version and flags come first.
    let meta = child(b, b"meta")?.get(4..)?;
    let pitm = child(meta, b"pitm")?;
    let primary = if pitm.first()? == &0 {
        be16(pitm, 4)?
    } else {
        be32(pitm, 4)?
    };
    let iprp = child(meta, b"iprp")?;
    let props: Vec<_> = boxes(child(iprp, b"ipco")?).collect();
    let ipma = child(iprp, b"ipma")?;
    let (version, wide_index) = (*ipma.first()?, ipma.get(3)? & 1 == 1);
    let mut pos = 8;
    for _ in 0..be32(ipma, 4)? {
        let item = if version < 1 {
            pos += 2;
            be16(ipma, pos - 2)?
        } else {
            pos += 4;
            be32(ipma, pos - 4)?
        };
        let count = *ipma.get(pos)? as usize;
        pos += 1;
        let mut indexes = Vec::with_capacity(count);
        for _ in 0..count {
            // The top bit says "essential"; the rest is a 1-based index into `ipco`.
            let index = if wide_index {
                pos += 2;
                be16(ipma, pos - 2)? & 0x7fff
            } else {
                pos += 1;
                (*ipma.get(pos - 1)? & 0x7f) as u32
            };
            indexes.push(index as usize);
        }
        if item == primary {
            return Some(
                indexes
                    .into_iter()
                    .filter_map(|i| props.get(i.checked_sub(1)?).copied())
                    .collect(),
            );
        }
    }
    None
}

/// Width and height of the primary image as it is displayed: its `ispe`, then its
/// transformations in association order, as libheif applies them on decode (the HEIF
/// standard requires it): a `clap` crops (libheif writes one for an image smaller than
/// x265's smallest), an `irot` by 90 or 270 degrees swaps the sides.
pub fn dims(b: &[u8]) -> Option<(u32, u32)> {
    let props = primary_properties(b)?;
    let (_, ispe) = props.iter().find(|(t, _)| t == b"ispe")?;
    let (mut w, mut h) = (be32(ispe, 4)?, be32(ispe, 8)?);
    for (t, p) in &props {
        match t {
            b"clap" => {
                // Width and height as fractions N/D, rounded as libheif does.
                let side = |at: usize, of: u32| {
                    let (n, d) = (be32(p, at)?, be32(p, at + 4)?);
                    let v = (n as u64 + d as u64 / 2).checked_div(d as u64)?;
                    Some(v.clamp(1, of as u64) as u32)
                };
                (w, h) = (side(0, w)?, side(8, h)?);
            }
            b"irot" if p.first()? & 1 == 1 => (w, h) = (h, w),
            _ => {}
        }
    }
    Some((w, h))
}

/// The ICC profile of the primary image: a `colr` property of type `prof` or `rICC`,
/// else one made from an `nclx` property (colour primaries and transfer as CICP codes,
/// how AVIF encoders and Android phones describe a wide-gamut picture).
pub fn icc(b: &[u8]) -> Option<Vec<u8>> {
    let props = primary_properties(b)?;
    let mut colr = props.iter().filter(|(t, _)| t == b"colr").map(|(_, p)| *p);
    if let Some(p) = colr
        .clone()
        .find(|p| p.starts_with(b"prof") || p.starts_with(b"rICC"))
    {
        return Some(p[4..].to_vec());
    }
    let nclx = colr.find(|p| p.starts_with(b"nclx") && p.len() >= 11)?;
    nclx_icc(be16(nclx, 4)?, be16(nclx, 6)?)
}

/// An ICC profile for CICP colour primaries and transfer, when they are not sRGB's
/// (BT.709 or unspecified primaries, which readers take as sRGB: no profile needed).
/// HDR transfers (PQ, HLG) and codes moxcms does not know give none.
fn nclx_icc(primaries: u32, transfer: u32) -> Option<Vec<u8>> {
    use moxcms::{
        CicpColorPrimaries, CicpProfile, ColorProfile, MatrixCoefficients, TransferCharacteristics,
    };
    if matches!(primaries, 1 | 2) {
        return None;
    }
    let color_primaries = CicpColorPrimaries::try_from(u8::try_from(primaries).ok()?).ok()?;
    // Unspecified transfer: sRGB's, as for the primaries.
    let transfer = if transfer == 2 { 13 } else { transfer };
    let transfer_characteristics =
        TransferCharacteristics::try_from(u8::try_from(transfer).ok()?).ok()?;
    if matches!(
        transfer_characteristics,
        TransferCharacteristics::Smpte2084 | TransferCharacteristics::Hlg
    ) {
        return None;
    }
    let profile = ColorProfile::new_from_cicp(CicpProfile {
        color_primaries,
        transfer_characteristics,
        // The pixels are RGB by then; the matrix only described their YCbCr.
        matrix_coefficients: MatrixCoefficients::Identity,
        full_range: true,
    });
    // Codes without chromaticities or a curve leave the profile without curves.
    profile.red_trc.as_ref()?;
    profile.encode().ok()
}

/// A HEIF source this build cannot decode: the `heif` feature is off, or libheif was
/// built without a decoder for its codec (libde265 / libdav1d were missing).
fn no_decoder(format: SrcFormat) -> ImageError {
    ImageError::not_implemented(format!(
        "Decoding {} images is not supported by this server: build it with the `heif` \
         feature and libde265 (HEIC) / libdav1d (AVIF) installed.",
        format.info_name()
    ))
    .with_ec(ec::UNSUPPORTED_FORMAT)
}

/// libheif, initialised once for the process: its init and deinit are global.
#[cfg(feature = "heif")]
fn lib() -> &'static libheif_rs::LibHeif {
    static LIB: std::sync::OnceLock<libheif_rs::LibHeif> = std::sync::OnceLock::new();
    LIB.get_or_init(libheif_rs::LibHeif::new)
}

/// HEIC output from a build without x265: the `heif` feature is off, or libheif was
/// built without libx265.
pub fn no_encoder() -> ImageError {
    ImageError::not_implemented(
        "Output format heic is not supported by this server: build it with the `heif` \
         feature and libx265 installed (Debian: libx265-dev).",
    )
}

/// libheif's x265 encoder, when it was built with one. (Found by id here: the name
/// filter of libheif-rs 3.0's `encoder_descriptors` passes a freed string.)
#[cfg(feature = "heif")]
fn x265() -> Option<libheif_rs::EncoderDescriptor<'static>> {
    lib()
        .encoder_descriptors(8, Some(libheif_rs::CompressionFormat::Hevc), None)
        .into_iter()
        .find(|d| d.id() == "x265")
}

/// Whether this build can write HEIC.
#[cfg(feature = "heif")]
pub fn can_encode() -> bool {
    x265().is_some()
}

#[cfg(not(feature = "heif"))]
pub fn can_encode() -> bool {
    false
}

#[cfg(not(feature = "heif"))]
pub fn encode(
    _img: &crate::image::raster::Img,
    _quality: u8,
    _icc: Option<&[u8]>,
) -> Result<Vec<u8>, ImageError> {
    Err(no_encoder())
}

/// Encode a still HEIC (one HEVC image, alpha as libheif's auxiliary image, the ICC
/// profile in a `colr` box) with x265 at its `fast` preset on this worker thread only,
/// as the other encoders run: no thread pool, one frame thread. The work is bounded
/// before decoding (`HEVC_ENCODE_COST_PER_PIXEL`).
#[cfg(feature = "heif")]
pub fn encode(
    img: &crate::image::raster::Img,
    quality: u8,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, ImageError> {
    use crate::image::raster::Img;
    use libheif_rs::{
        Channel, ColorProfileRaw, ColorSpace, EncoderParameterValue, EncoderQuality, HeifContext,
        Image, RgbChroma, color_profile_types,
    };
    let x265 = x265().ok_or_else(no_encoder)?;
    let fail = |e: libheif_rs::HeifError| super::enc_err(e.message);
    let mut encoder = lib().encoder(x265).map_err(fail)?;
    // OSS's quality is on JPEG's scale; libheif's at half of it gives the PSNR JPEG
    // has at the full value, with 47-76 % fewer bytes (docs/benchmarks.md).
    encoder
        .set_quality(EncoderQuality::Lossy(quality.clamp(1, 100).div_ceil(2)))
        .map_err(fail)?;
    for (name, value) in [
        ("preset", "fast"),
        ("x265:pools", "none"),
        ("x265:frame-threads", "1"),
    ] {
        encoder
            .set_parameter_value(name, EncoderParameterValue::String(value.into()))
            .map_err(fail)?;
    }
    let (w, h) = img.dims();
    let (chroma, bytes, px) = match img {
        Img::Rgb(i) => (RgbChroma::Rgb, 3, i.as_raw()),
        Img::Rgba(i) => (RgbChroma::Rgba, 4, i.as_raw()),
    };
    let mut image = Image::new(w, h, ColorSpace::Rgb(chroma)).map_err(fail)?;
    image
        .create_plane(Channel::Interleaved, w, h, 8)
        .map_err(fail)?;
    {
        let plane = image
            .planes_mut()
            .interleaved
            .ok_or_else(|| super::enc_err("libheif made no interleaved plane"))?;
        let row = w as usize * bytes;
        for (y, src) in px.chunks_exact(row).enumerate() {
            let start = y * plane.stride;
            plane
                .data
                .get_mut(start..start + row)
                .ok_or_else(|| super::enc_err("libheif made a short plane"))?
                .copy_from_slice(src);
        }
    }
    if let Some(icc) = icc {
        image
            .set_color_profile_raw(&ColorProfileRaw::new(
                color_profile_types::PROF,
                icc.to_vec(),
            ))
            .map_err(fail)?;
    }
    let mut ctx = HeifContext::new().map_err(fail)?;
    ctx.encode_image(&image, &mut encoder, None).map_err(fail)?;
    ctx.write_to_bytes().map_err(fail)
}

#[cfg(not(feature = "heif"))]
pub fn decode(
    _b: &[u8],
    format: SrcFormat,
    _dims: (u32, u32),
    _limits: &crate::image::limits::Limits,
) -> Result<crate::image::raster::Img, ImageError> {
    Err(no_decoder(format))
}

/// Decode the primary image to 8-bit RGB(A), turned and mirrored as the container says.
/// `dims` is the size [`dims`] read (and the limits passed); libheif's own security
/// limits are set from `limits` too, and a primary image bigger than `dims` is refused.
#[cfg(feature = "heif")]
pub fn decode(
    b: &[u8],
    format: SrcFormat,
    dims: (u32, u32),
    limits: &crate::image::limits::Limits,
) -> Result<crate::image::raster::Img, ImageError> {
    use crate::image::raster::Img;
    use libheif_rs::{
        ColorSpace, CompressionFormat, DecodingOptions, HeifContext, RgbChroma, SecurityLimits,
    };
    let lib = lib();
    let codec = if format == SrcFormat::Avif {
        CompressionFormat::Av1
    } else {
        CompressionFormat::Hevc
    };
    if lib.decoder_descriptors(1, Some(codec)).is_empty() {
        return Err(no_decoder(format));
    }
    let corrupt = |e: libheif_rs::HeifError| super::corrupt(e.message);
    let mut ctx = HeifContext::new().map_err(corrupt)?;
    // On this worker thread only, as the other codecs: tiles (an iPhone photo is a grid
    // of them) are decoded in turn, and the codec gets one thread.
    ctx.set_max_decoding_threads(0);
    let mut security = SecurityLimits::new();
    security.set_max_image_size_pixels(limits.max_pixels);
    security.set_max_total_memory(limits.max_memory);
    ctx.set_security_limits(&security).map_err(corrupt)?;
    ctx.read_bytes(b).map_err(corrupt)?;
    let handle = ctx.primary_image_handle().map_err(corrupt)?;
    if handle.width() > dims.0 || handle.height() > dims.1 {
        return Err(super::corrupt(format!(
            "the primary image is {}x{}, larger than its declared {}x{}",
            handle.width(),
            handle.height(),
            dims.0,
            dims.1
        )));
    }
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let mut options = DecodingOptions::new();
    if let Some(o) = options.as_mut() {
        // 10- and 12-bit sources (HDR iPhone photos, AVIF) become 8-bit like the others.
        o.set_convert_hdr_to_8bit(true);
        o.set_num_codec_threads(1);
        // A tile whose data is missing (a truncated file) is an error, not a grey
        // patch, as truncated JPEGs are refused.
        o.set_strict_decoding(true);
    }
    let image = lib
        .decode(&handle, ColorSpace::Rgb(chroma), options)
        .map_err(corrupt)?;
    let (w, h) = (image.width(), image.height());
    let plane = image
        .planes()
        .interleaved
        .ok_or_else(|| super::corrupt("libheif returned no interleaved plane"))?;
    let row = w as usize * if alpha { 4 } else { 3 };
    let mut px = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        let start = y * plane.stride;
        px.extend_from_slice(
            plane
                .data
                .get(start..start + row)
                .ok_or_else(|| super::corrupt("libheif returned a short plane"))?,
        );
    }
    let short = || super::corrupt("libheif returned a short plane");
    Ok(if alpha {
        Img::Rgba(::image::RgbaImage::from_raw(w, h, px).ok_or_else(short)?)
    } else {
        Img::Rgb(::image::RgbImage::from_raw(w, h, px).ok_or_else(short)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::codec::icc;
    use crate::image::raster::{Frame, Img};

    /// `rgb` as an sRGB reader should show it, coming from `profile`.
    fn shown(profile: &[u8], rgb: [u8; 3]) -> [u8; 3] {
        let mut frames = [Frame {
            img: Img::solid_rgb(1, 1, rgb),
            delay_ms: 0,
        }];
        icc::to_srgb(&mut frames, profile);
        frames[0].img.rgb_at(0, 0)
    }

    #[test]
    fn nclx_colours_become_a_profile_unless_srgb() {
        // Display P3 (primaries 12, sRGB transfer 13), as a phone writes it.
        let icc = nclx_icc(12, 13).unwrap();
        let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        let colour = [200, 100, 50];
        let (got, want) = (shown(&icc, colour), shown(&p3, colour));
        assert!(
            got.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 1),
            "{got:?} {want:?}"
        );
        assert_ne!(got, colour);
        // Unspecified transfer reads as sRGB's.
        assert_eq!(nclx_icc(12, 2), Some(icc));
        // sRGB / BT.709 or unspecified primaries need no profile; HDR transfers
        // (PQ 16, HLG 18) and unknown codes get none.
        for (primaries, transfer) in [
            (1, 13),
            (2, 13),
            (1, 1),
            (9, 16),
            (9, 18),
            (99, 13),
            (12, 99),
        ] {
            assert_eq!(
                nclx_icc(primaries, transfer),
                None,
                "{primaries} {transfer}"
            );
        }
    }
}
