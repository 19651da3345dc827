//! Format sniffing, header probing (no pixel decode), decoding and encoding.

use super::error::{ImageError, ec};
use super::limits::Limits;
use super::raster::{Frame, Img, Picture};
use ::image::{ImageDecoder, ImageEncoder, ImageFormat};
use std::io::Cursor;

pub mod heif;
pub(crate) mod icc;
mod webp;

/// Source formats we recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrcFormat {
    Jpeg,
    Png,
    Gif,
    WebP,
    Bmp,
    Tiff,
    Heic,
    Avif,
}

impl SrcFormat {
    /// The `Format` string of `info` (spec §9.1).
    pub fn info_name(self) -> &'static str {
        match self {
            SrcFormat::Jpeg => "jpg",
            SrcFormat::Png => "png",
            SrcFormat::Gif => "gif",
            SrcFormat::WebP => "webp",
            SrcFormat::Bmp => "bmp",
            SrcFormat::Tiff => "tiff",
            SrcFormat::Heic => "heic",
            SrcFormat::Avif => "avif",
        }
    }

    fn image_format(self) -> Option<ImageFormat> {
        Some(match self {
            SrcFormat::Jpeg => ImageFormat::Jpeg,
            SrcFormat::Png => ImageFormat::Png,
            SrcFormat::Gif => ImageFormat::Gif,
            SrcFormat::WebP => ImageFormat::WebP,
            SrcFormat::Bmp => ImageFormat::Bmp,
            SrcFormat::Tiff => ImageFormat::Tiff,
            SrcFormat::Heic | SrcFormat::Avif => return None,
        })
    }

    /// Output format that keeps the source format; HEIC, which this server cannot
    /// encode, comes out as JPEG (what iPhone photos are converted to everywhere).
    pub fn same_out(self) -> OutFormat {
        match self {
            SrcFormat::Jpeg => OutFormat::Jpg,
            SrcFormat::Png => OutFormat::Png,
            SrcFormat::Gif => OutFormat::Gif,
            SrcFormat::WebP => OutFormat::Webp,
            SrcFormat::Bmp => OutFormat::Bmp,
            SrcFormat::Tiff => OutFormat::Tiff,
            SrcFormat::Heic => OutFormat::Jpg,
            SrcFormat::Avif => OutFormat::Avif,
        }
    }
}

/// Output formats of the `format` action (spec §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Jpg,
    Png,
    Webp,
    Bmp,
    Gif,
    Tiff,
    Heic,
    Avif,
}

impl OutFormat {
    pub fn parse(v: &str) -> Option<OutFormat> {
        Some(match v {
            "jpg" => OutFormat::Jpg,
            "png" => OutFormat::Png,
            "webp" => OutFormat::Webp,
            "bmp" => OutFormat::Bmp,
            "gif" => OutFormat::Gif,
            "tiff" => OutFormat::Tiff,
            "heic" => OutFormat::Heic,
            "avif" => OutFormat::Avif,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            OutFormat::Jpg => "jpg",
            OutFormat::Png => "png",
            OutFormat::Webp => "webp",
            OutFormat::Bmp => "bmp",
            OutFormat::Gif => "gif",
            OutFormat::Tiff => "tiff",
            OutFormat::Heic => "heic",
            OutFormat::Avif => "avif",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            OutFormat::Jpg => "image/jpeg",
            OutFormat::Png => "image/png",
            OutFormat::Webp => "image/webp",
            OutFormat::Bmp => "image/bmp",
            OutFormat::Gif => "image/gif",
            OutFormat::Tiff => "image/tiff",
            OutFormat::Heic => "image/heic",
            OutFormat::Avif => "image/avif",
        }
    }

    /// Whether the format keeps several frames (an animation).
    pub fn animates(self) -> bool {
        matches!(self, OutFormat::Gif | OutFormat::Webp)
    }

    /// Whether transparent pixels survive encoding (JPG flattens onto white).
    pub fn has_alpha(self) -> bool {
        !matches!(self, OutFormat::Jpg)
    }
}

/// Identify the format from magic bytes.
pub fn sniff(b: &[u8]) -> Option<SrcFormat> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(SrcFormat::Jpeg)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(SrcFormat::Png)
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some(SrcFormat::Gif)
    } else if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(SrcFormat::WebP)
    } else if b.starts_with(b"BM") && b.len() >= 26 {
        Some(SrcFormat::Bmp)
    } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        Some(SrcFormat::Tiff)
    } else if b.len() >= 12 && &b[4..8] == b"ftyp" {
        let brand = &b[8..12];
        if brand == b"avif" || brand == b"avis" {
            Some(SrcFormat::Avif)
        } else if [
            b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1",
        ]
        .iter()
        .any(|x| brand == *x)
        {
            Some(SrcFormat::Heic)
        } else {
            None
        }
    } else {
        None
    }
}

/// What the header says, learnt without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub format: SrcFormat,
    pub width: u32,
    pub height: u32,
    /// Number of frames (animated GIF/WebP/APNG), 1 for stills.
    pub frames: u32,
}

fn unsupported() -> ImageError {
    ImageError::bad_request("The image format is not supported.").with_ec(ec::UNSUPPORTED_FORMAT)
}

fn corrupt(e: impl std::fmt::Display) -> ImageError {
    ImageError::bad_request(format!("The image could not be decoded: {e}"))
        .with_ec(ec::UNSUPPORTED_FORMAT)
}

/// Read format, size and frame count from the header only.
pub fn probe(b: &[u8]) -> Result<Probe, ImageError> {
    let format = sniff(b).ok_or_else(unsupported)?;
    let (width, height) = match (header_dims(b, format), format.image_format()) {
        (Some(d), _) => d,
        (None, Some(ifmt)) => ::image::ImageReader::with_format(Cursor::new(b), ifmt)
            .into_dimensions()
            .map_err(corrupt)?,
        (None, None) => return Err(corrupt("the container has no primary image size")),
    };
    let frames = match format {
        SrcFormat::Gif => gif_frame_count(b),
        SrcFormat::WebP => webp_frame_count(b),
        SrcFormat::Png => apng_frame_count(b),
        _ => 1,
    };
    Ok(Probe {
        format,
        width,
        height,
        frames: frames.max(1),
    })
}

fn be16(b: &[u8], i: usize) -> Option<u32> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32)
}

fn le16(b: &[u8], i: usize) -> Option<u32> {
    Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32)
}

fn le32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Width and height straight from the header bytes (no decoder involved), so that a
/// tiny file declaring a huge size is refused by the limits, not by a decoder.
pub fn header_dims(b: &[u8], format: SrcFormat) -> Option<(u32, u32)> {
    match format {
        SrcFormat::Png => {
            if b.get(12..16)? != b"IHDR" {
                return None;
            }
            let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?);
            let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?);
            Some((w, h))
        }
        SrcFormat::Gif => Some((le16(b, 6)?, le16(b, 8)?)),
        SrcFormat::Bmp => {
            let dib = le32(b, 14)?;
            if dib == 12 {
                Some((le16(b, 18)?, le16(b, 20)?))
            } else {
                let w = le32(b, 18)? as i32;
                let h = le32(b, 22)? as i32;
                Some((w.unsigned_abs(), h.unsigned_abs()))
            }
        }
        SrcFormat::WebP => match b.get(12..16)? {
            b"VP8 " => Some((le16(b, 26)? & 0x3fff, le16(b, 28)? & 0x3fff)),
            b"VP8L" => {
                if *b.get(20)? != 0x2f {
                    return None;
                }
                let bits = le32(b, 21)?;
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => {
                let w = le32(b, 24)? & 0xff_ffff;
                let h = (le32(b, 26)? >> 8) & 0xff_ffff;
                Some((w + 1, h + 1))
            }
            _ => None,
        },
        SrcFormat::Jpeg => jpeg_segments(b)
            .find(|&(m, _)| (0xC0..=0xCF).contains(&m) && m != 0xC4 && m != 0xC8 && m != 0xCC)
            .and_then(|(_, seg)| Some((be16(seg, 3)?, be16(seg, 1)?))),
        SrcFormat::Heic | SrcFormat::Avif => heif::dims(b),
        SrcFormat::Tiff => None,
    }
}

/// The marker segments of a JPEG's header, `(marker, payload after the length)`, up to
/// its first SOS; stops early at anything malformed.
pub fn jpeg_segments(b: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut pos = 2;
    std::iter::from_fn(move || {
        loop {
            if *b.get(pos)? != 0xFF {
                return None;
            }
            let m = *b.get(pos + 1)?;
            match m {
                // Fill byte before a marker.
                0xFF => pos += 1,
                // Markers without a length.
                0xD8 | 0x01 | 0xD0..=0xD7 => pos += 2,
                // Start of scan / end of image: the header is over.
                0xDA | 0xD9 => return None,
                _ => {
                    let len = be16(b, pos + 2)? as usize;
                    let seg = b.get(pos + 4..(pos + 2 + len).max(pos + 4))?;
                    pos += 2 + len;
                    return Some((m, seg));
                }
            }
        }
    })
}

/// A marker of a JPEG with a length, or its EOI: `at` is its 0xFF, `end` is past its
/// segment (or past the EOI's two bytes).
struct Marker {
    code: u8,
    at: usize,
    end: usize,
}

/// The markers of a JPEG after its SOI that have a length, then its EOI. Walks the
/// segments by their lengths and the entropy-coded data after each SOS by its 0xFF
/// bytes, stepping over fill bytes, stuffed zeros, restarts and other markers without
/// a length. Ends at the EOI, or early where the data runs out or a length is missing.
fn jpeg_markers(b: &[u8]) -> impl Iterator<Item = Marker> + '_ {
    let mut pos = 2;
    let mut ended = false;
    std::iter::from_fn(move || {
        while !ended {
            pos += memchr::memchr(0xFF, b.get(pos..)?)?;
            let at = pos;
            match *b.get(pos + 1)? {
                0xD9 => {
                    ended = true;
                    return Some(Marker {
                        code: 0xD9,
                        at,
                        end: at + 2,
                    });
                }
                // Fill byte before a marker.
                0xFF => pos += 1,
                // Stuffed zero and restart markers (scan data), TEM, a stray SOI.
                0x00 | 0x01 | 0xD0..=0xD8 => pos += 2,
                code => {
                    pos += 2 + be16(b, pos + 2)? as usize;
                    return Some(Marker { code, at, end: pos });
                }
            }
        }
        None
    })
}

/// Whether a JPEG's data runs up to its EOI marker; bytes after the EOI do not matter.
/// A JPEG cut short (libjpeg's "Premature end of JPEG file") is refused, as OSS and
/// libvips (`fail-on=truncated`) do, instead of being padded grey.
pub fn jpeg_is_complete(b: &[u8]) -> bool {
    jpeg_markers(b).any(|m| m.code == 0xD9)
}

/// A progressive JPEG (SOF2) cut down for a decode at 1/8 of the size. libjpeg-turbo
/// then runs a 1x1 inverse DCT, which reads only the DC coefficient, on each component
/// at full sampling (luma); subsampled chroma gets a 2x2 one, which reads most of the
/// AC. So the AC scans of the full-sampling components are left out, with their
/// Huffman decoding (most of the file), but for the smallest first pass starting at
/// or below coefficient 9: with AC data there for coefficients 1-9, the block
/// smoothing libjpeg-turbo runs on incomplete progressive files leaves DC alone (it
/// estimates DC only where none arrived). The pixels are those of the whole file: DC
/// scans never depend on AC ones, and a first pass depends on nothing. Damaged data in
/// a scan left out goes unnoticed at this size (a cut-short file is still refused,
/// by [`jpeg_is_complete`]). `None` when the file is not progressive, nothing can be
/// left out, or anything is malformed.
pub fn scans_for_an_eighth(b: &[u8]) -> Option<Vec<u8>> {
    let sof = jpeg_segments(b).find(|(m, _)| *m == 0xC2)?.1;
    // (id, horizontal, vertical sampling) of each component.
    let components: Vec<(u8, u8, u8)> = (0..*sof.get(5)? as usize)
        .map(|i| {
            let (id, hv) = (*sof.get(6 + 3 * i)?, *sof.get(7 + 3 * i)?);
            Some((id, (hv >> 4).max(1), (hv & 15).max(1)))
        })
        .collect::<Option<_>>()?;
    let max_h = components.iter().map(|c| c.1).max()?;
    let max_v = components.iter().map(|c| c.2).max()?;
    // libjpeg's choice (jdmaster.c): a component is scaled by its IDCT up to where
    // upsampling would otherwise take it; at 1/8 its IDCT is 1x1 unless doubling fits.
    let one_by_one = |&(_, h, v): &(u8, u8, u8)| max_h % (2 * h) != 0 || max_v % (2 * v) != 0;
    // Each AC scan: its component, first coefficient, Ah and byte range (the SOS
    // segment and its entropy-coded data, up to the next marker with a length).
    let mut ac = Vec::new();
    let (mut open, mut complete) = (None, false);
    for m in jpeg_markers(b) {
        if let Some((component, start, ah, at)) = open.take() {
            ac.push((component, start, ah, at..m.at));
        }
        match m.code {
            0xD9 => complete = true,
            0xDA => {
                let header = b.get(m.at + 4..m.end)?;
                if *header.get(1 + 2 * *header.first()? as usize)? > 0 {
                    // A progressive AC scan holds one component (T.81 G.1.1.1.1).
                    let &[1, component, _, start, _, approx] = header else {
                        return None;
                    };
                    open = Some((component, start, approx >> 4, m.at));
                }
            }
            _ => {}
        }
    }
    if !complete {
        return None;
    }
    let mut keep = Vec::new();
    for c in &components {
        let scans = ac.iter().filter(|(comp, ..)| *comp == c.0);
        if one_by_one(c) {
            let smallest = scans
                .filter(|(_, start, ah, _)| *start <= 9 && *ah == 0)
                .min_by_key(|(.., r)| r.len())?;
            keep.push(smallest.3.start);
        } else {
            keep.extend(scans.map(|(.., r)| r.start));
        }
    }
    if keep.len() >= ac.len() {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut from = 0;
    for (.., r) in ac.into_iter().filter(|(.., r)| !keep.contains(&r.start)) {
        out.extend_from_slice(b.get(from..r.start)?);
        from = r.end;
    }
    out.extend_from_slice(b.get(from..)?);
    Some(out)
}

/// Refuse a file whose compressed data is far too small for the size it declares, where
/// the format allows telling: a JPEG's entropy-coded data holds at least one bit per
/// 8x8 block of its largest component (Huffman; arithmetic coding is exempt), and an RLE
/// BMP at most 255 pixels per 2-byte run (refused beyond 1024 pixels per byte, which
/// leaves room for skips). The others are bounded by the memory budget.
pub fn check_plausible(b: &[u8], probe: &Probe) -> Result<(), ImageError> {
    let blocks = probe.width.div_ceil(8) as u64 * probe.height.div_ceil(8) as u64;
    let (data, needed) = match probe.format {
        SrcFormat::Jpeg => {
            let mut header_end = 2;
            let mut arithmetic = false;
            for (m, seg) in jpeg_segments(b) {
                arithmetic |= matches!(m, 0xC9..=0xCB | 0xCD..=0xCF);
                header_end = seg.as_ptr() as usize - b.as_ptr() as usize + seg.len();
            }
            if arithmetic {
                return Ok(());
            }
            (
                b.len().saturating_sub(header_end) as u64,
                blocks.div_ceil(8),
            )
        }
        SrcFormat::Bmp
            if le32(b, 14).is_some_and(|dib| dib >= 40) && matches!(le32(b, 30), Some(1 | 2)) =>
        {
            let offset = le32(b, 10).unwrap_or(0) as usize;
            let pixels = probe.width as u64 * probe.height as u64;
            (b.len().saturating_sub(offset) as u64, pixels.div_ceil(1024))
        }
        _ => return Ok(()),
    };
    if data < needed {
        return Err(corrupt(format!(
            "the file declares {}x{} pixels but holds only {data} bytes of image data",
            probe.width, probe.height
        )));
    }
    Ok(())
}

/// Count image descriptors by walking the GIF block structure (no LZW decoding).
pub fn gif_frame_count(b: &[u8]) -> u32 {
    if b.len() < 13 {
        return 1;
    }
    let mut pos = 13;
    let packed = b[10];
    if packed & 0x80 != 0 {
        pos += 3 * (1usize << ((packed & 7) + 1));
    }
    let skip_sub_blocks = |mut pos: usize| -> Option<usize> {
        loop {
            let n = *b.get(pos)? as usize;
            pos += 1;
            if n == 0 {
                return Some(pos);
            }
            pos += n;
        }
    };
    let mut count = 0u32;
    while let Some(&tag) = b.get(pos) {
        match tag {
            0x21 => match skip_sub_blocks(pos + 2) {
                Some(p) => pos = p,
                None => break,
            },
            0x2C => {
                let Some(&packed) = b.get(pos + 9) else { break };
                count += 1;
                pos += 10;
                if packed & 0x80 != 0 {
                    pos += 3 * (1usize << ((packed & 7) + 1));
                }
                match skip_sub_blocks(pos + 1) {
                    Some(p) => pos = p,
                    None => break,
                }
            }
            _ => break,
        }
    }
    count.max(1)
}

/// Count `ANMF` chunks of an animated WebP.
pub fn webp_frame_count(b: &[u8]) -> u32 {
    let mut pos = 12;
    let mut count = 0u32;
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let len = u32::from_le_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]) as usize;
        if id == b"ANMF" {
            count += 1;
        }
        pos = pos
            .saturating_add(8)
            .saturating_add(len)
            .saturating_add(len & 1);
    }
    count.max(1)
}

/// `num_frames` of an APNG `acTL` chunk (1 for plain PNG).
pub fn apng_frame_count(b: &[u8]) -> u32 {
    let mut pos = 8;
    while pos + 8 <= b.len() {
        let len = u32::from_be_bytes([b[pos], b[pos + 1], b[pos + 2], b[pos + 3]]) as usize;
        let id = &b[pos + 4..pos + 8];
        if id == b"acTL" && pos + 12 <= b.len() {
            return u32::from_be_bytes([b[pos + 8], b[pos + 9], b[pos + 10], b[pos + 11]]).max(1);
        }
        if id == b"IDAT" || id == b"IEND" {
            break;
        }
        pos = pos.saturating_add(12).saturating_add(len);
    }
    1
}

fn image_limits(limits: &Limits) -> ::image::Limits {
    let mut l = ::image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    // The request's memory budget caps every buffer a decoder allocates.
    l.max_alloc = Some(limits.max_memory);
    l
}

fn normalize(d: ::image::DynamicImage) -> Img {
    use ::image::DynamicImage as D;
    match d {
        D::ImageRgb8(i) => Img::Rgb(i),
        D::ImageRgba8(i) => Img::Rgba(i),
        d if d.color().has_alpha() => Img::Rgba(d.into_rgba8()),
        d => Img::Rgb(d.into_rgb8()),
    }
}

/// Largest decode-time shrink this build can apply to a JPEG: libjpeg-turbo scales in the
/// DCT domain by 1/2, 1/4 or 1/8 (feature `turbojpeg`); without it JPEGs decode at full size.
pub const JPEG_MAX_SHRINK: u32 = if cfg!(feature = "turbojpeg") { 8 } else { 1 };

/// DCT shrink (1, 2, 4 or 8) for decoding a `w×h` JPEG that is then resampled to `tw×th`:
/// the largest one that still leaves at least 2x on both axes for the real (Lanczos3)
/// resampler, as libvips' `thumbnail` does (the DCT shrink alone over-sharpens).
pub fn jpeg_shrink(w: u32, h: u32, tw: u32, th: u32) -> u32 {
    [8u32, 4, 2]
        .into_iter()
        .find(|&d| {
            d <= JPEG_MAX_SHRINK
                && w as u64 >= 2 * d as u64 * tw as u64
                && h as u64 >= 2 * d as u64 * th as u64
        })
        .unwrap_or(1)
}

/// [`decode_shrunk`] at full size.
#[cfg(test)]
pub fn decode(
    b: &[u8],
    probe: &Probe,
    all_frames: bool,
    limits: &Limits,
) -> Result<Picture, ImageError> {
    decode_shrunk(b, probe, all_frames, 1, limits)
}

/// Decode the source, with its ICC profile. With `all_frames`, every frame of an
/// animated GIF or WebP is kept (composited to the full canvas); otherwise only the first
/// frame. A JPEG may be decoded at `1/shrink` of its size (see [`jpeg_shrink`]). This is
/// a hint: the picture may still come back at full size (other formats, builds without
/// `turbojpeg`, JPEGs libjpeg-turbo does not take), so callers compare its size with the
/// probe's.
pub fn decode_shrunk(
    b: &[u8],
    probe: &Probe,
    all_frames: bool,
    shrink: u32,
    limits: &Limits,
) -> Result<Picture, ImageError> {
    let mut pic = decode_pixels(b, probe, all_frames, shrink, limits)?;
    pic.icc = icc::read(b, probe.format, limits);
    Ok(pic)
}

/// The frames of [`decode_shrunk`], without the colour profile.
fn decode_pixels(
    b: &[u8],
    probe: &Probe,
    all_frames: bool,
    shrink: u32,
    limits: &Limits,
) -> Result<Picture, ImageError> {
    if probe.format == SrcFormat::Jpeg && !jpeg_is_complete(b) {
        return Err(corrupt("the JPEG data is truncated"));
    }
    check_plausible(b, probe)?;
    #[cfg(feature = "turbojpeg")]
    if probe.format == SrcFormat::Jpeg
        && let Some(img) = turbo::decode(b, probe, shrink, limits)
    {
        return Ok(Picture::still(img));
    }
    #[cfg(not(feature = "turbojpeg"))]
    let _ = shrink;
    if matches!(probe.format, SrcFormat::Heic | SrcFormat::Avif) {
        let img = heif::decode(b, probe.format, (probe.width, probe.height), limits)?;
        return Ok(Picture::still(img));
    }
    let ifmt = probe.format.image_format().ok_or_else(unsupported)?;
    if all_frames && probe.frames > 1 {
        use ::image::AnimationDecoder;
        let frames = match probe.format {
            SrcFormat::Gif => {
                let mut dec =
                    ::image::codecs::gif::GifDecoder::new(Cursor::new(b)).map_err(corrupt)?;
                dec.set_limits(image_limits(limits)).map_err(corrupt)?;
                Some(dec.into_frames())
            }
            SrcFormat::WebP => {
                let mut dec =
                    ::image::codecs::webp::WebPDecoder::new(Cursor::new(b)).map_err(corrupt)?;
                dec.set_limits(image_limits(limits)).map_err(corrupt)?;
                if dec.has_animation() {
                    // Disposed frames clear to transparent, as libwebp's WebPAnimDecoder
                    // does (the file's background colour is only a hint).
                    dec.set_background_color(::image::Rgba([0, 0, 0, 0]))
                        .map_err(corrupt)?;
                    Some(dec.into_frames())
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(frames) = frames {
            return Ok(Picture::animation(collect_frames(frames, limits)?));
        }
    }
    let mut reader = ::image::ImageReader::with_format(Cursor::new(b), ifmt);
    reader.limits(image_limits(limits));
    let d = reader.decode().map_err(corrupt)?;
    Ok(Picture::still(normalize(d)))
}

/// Every frame of an animation, composited to the full canvas, within the frame and
/// pixel limits (checked as the frames come, whatever the header said).
fn collect_frames(frames: ::image::Frames<'_>, limits: &Limits) -> Result<Vec<Frame>, ImageError> {
    let mut out = Vec::new();
    let mut total: u64 = 0;
    let mut bytes: u64 = 0;
    for f in frames {
        let f = match f {
            Ok(f) => f,
            // A truncated tail keeps the frames decoded so far, as browsers do.
            Err(_) if !out.is_empty() => break,
            Err(e) => return Err(corrupt(e)),
        };
        let (n, d) = f.delay().numer_denom_ms();
        let buf = f.into_buffer();
        total += buf.width() as u64 * buf.height() as u64;
        bytes += buf.len() as u64;
        limits.check_memory(bytes)?;
        if total > limits.max_pixels || out.len() as u32 >= limits.max_frames {
            return Err(ImageError::too_large(format!(
                "The animated image has too many frames or pixels over all frames \
                 (limits: {} frames, {} pixels).",
                limits.max_frames, limits.max_pixels
            ))
            .with_ec(ec::SOURCE_TOO_LARGE));
        }
        out.push(Frame {
            img: Img::Rgba(buf),
            delay_ms: n.checked_div(d).unwrap_or(0),
        });
    }
    if out.is_empty() {
        return Err(corrupt("no frames"));
    }
    Ok(out)
}

/// Decode a watermark object (any source format; the first frame of an animation).
pub fn decode_watermark(b: &[u8], limits: &Limits) -> Result<Img, ImageError> {
    let p = probe(b).map_err(|e| {
        ImageError::watermark(format!(
            "The watermark image format is not supported: {}",
            e.message
        ))
        .with_ec(ec::WATERMARK_FORMAT)
    })?;
    limits.check_source(b.len(), p.width, p.height, 1, false)?;
    let pic = decode_pixels(b, &p, false, 1, limits).map_err(|e| {
        ImageError::watermark(format!(
            "The watermark image cannot be decoded: {}",
            e.message
        ))
        .with_ec(ec::WATERMARK_FORMAT)
    })?;
    Ok(pic.frames.into_iter().next().expect("one frame").img)
}

/// Parsed EXIF of the source, if any.
pub fn read_exif(b: &[u8]) -> Option<exif::Exif> {
    if sniff(b) == Some(SrcFormat::Gif) || sniff(b) == Some(SrcFormat::Bmp) {
        return None;
    }
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(b))
        .ok()
}

/// The orientation auto-orient turns a source by: its EXIF Orientation, except in a
/// HEIF container (HEIC, AVIF), which turns its image with `irot`/`imir`, applied on
/// decode; its EXIF Orientation only repeats that, so it counts as 1 (as in libvips).
pub fn source_orientation(b: &[u8]) -> u32 {
    if matches!(sniff(b), Some(SrcFormat::Heic | SrcFormat::Avif)) {
        return 1;
    }
    orientation(read_exif(b).as_ref())
}

/// EXIF Orientation (1..=8) of the primary image, 1 when absent.
pub fn orientation(exif: Option<&exif::Exif>) -> u32 {
    exif.and_then(|e| e.get_field(exif::Tag::Orientation, exif::In::PRIMARY))
        .and_then(|f| f.value.get_uint(0))
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1)
}

/// JFIF APP0 density: (units, x, y).
pub fn jfif_density(b: &[u8]) -> Option<(u8, u16, u16)> {
    if b.len() < 20 || !b.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]) || &b[6..11] != b"JFIF\0" {
        return None;
    }
    Some((
        b[13],
        u16::from_be_bytes([b[14], b[15]]),
        u16::from_be_bytes([b[16], b[17]]),
    ))
}

/// Estimate the IJG quality (1..=100) of a JPEG from its luminance quantisation table.
pub fn jpeg_quality(b: &[u8]) -> Option<u8> {
    // Standard IJG luminance table (Annex K); order does not matter, we compare sums.
    const STD_LUMA_SUM: u32 = 3710;
    let (_, seg) = jpeg_segments(b).find(|&(m, seg)| {
        // The DQT that holds table 0 (several tables may share a segment).
        m == 0xDB && dqt_tables(seg).any(|(tq, ..)| tq == 0)
    })?;
    let (_, pq, t) = dqt_tables(seg).find(|&(tq, ..)| tq == 0)?;
    let sum: u32 = if pq == 0 {
        t.iter().map(|&v| v as u32).sum()
    } else {
        t.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
            .sum()
    };
    let scale = (sum as f64 * 100.0 / STD_LUMA_SUM as f64).max(1.0);
    let q = if scale <= 100.0 {
        (200.0 - scale) / 2.0
    } else {
        5000.0 / scale
    };
    Some(q.round().clamp(1.0, 100.0) as u8)
}

/// The quantisation tables of a DQT segment: `(table id, precision, values)`.
fn dqt_tables(seg: &[u8]) -> impl Iterator<Item = (u8, u8, &[u8])> {
    let mut i = 0;
    std::iter::from_fn(move || {
        let pq = seg.get(i)? >> 4;
        let tq = seg[i] & 15;
        let n = if pq == 0 { 64 } else { 128 };
        let t = seg.get(i + 1..i + 1 + n)?;
        i += 1 + n;
        Some((tq, pq, t))
    })
}

/// Encoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOpts {
    pub quality: u8,
    pub progressive: bool,
    /// WebP: lossless instead of lossy.
    pub webp_lossless: bool,
}

pub(super) fn enc_err(e: impl std::fmt::Display) -> ImageError {
    ImageError::internal(format!("Encoding the image failed: {e}"))
}

/// The longest side of a HEIC output whose other side is under 32 px.
pub const MAX_HEIC_THIN_SIDE: u32 = 4096;

/// Encode the picture. GIF and WebP output keep several frames (an animation that
/// loops forever); other formats take the first.
pub fn encode(
    pic: Picture,
    fmt: OutFormat,
    opts: EncodeOpts,
    limits: &Limits,
) -> Result<Vec<u8>, ImageError> {
    let (w, h) = pic.dims();
    let Picture { mut frames, icc } = pic;
    // The profile goes wherever the format has room for it; AVIF (as ravif writes it),
    // GIF and BMP have none, so their pixels are converted to sRGB instead.
    let icc = icc.as_deref();
    if let Some(profile) = icc
        && matches!(fmt, OutFormat::Avif | OutFormat::Gif | OutFormat::Bmp)
    {
        icc::to_srgb(&mut frames, profile);
    }
    let mut out = Vec::new();
    if fmt == OutFormat::Webp && (w > limits.max_webp_side || h > limits.max_webp_side) {
        return Err(ImageError::too_large(format!(
            "WebP output is limited to {} px per side.",
            limits.max_webp_side
        )));
    }
    // x265 codes a picture narrower than 32 px with 16 px blocks, and then refuses
    // more than about 4200 px the other way (measured; 32 px and wider, 20000 passes).
    if fmt == OutFormat::Heic && w.min(h) < 32 && w.max(h) > MAX_HEIC_THIN_SIDE {
        return Err(ImageError::too_large(format!(
            "HEIC output narrower than 32 px is limited to {MAX_HEIC_THIN_SIDE} px the other way."
        )));
    }
    match fmt {
        OutFormat::Webp if frames.len() > 1 => {
            out = webp::with_icc(webp::encode_animation(&frames, opts)?, icc);
        }
        OutFormat::Gif => {
            use ::image::codecs::gif::{GifEncoder, Repeat};
            let animated = frames.len() > 1;
            let mut enc = GifEncoder::new_with_speed(&mut out, 10);
            if animated {
                enc.set_repeat(Repeat::Infinite).map_err(enc_err)?;
            }
            let frames = frames.into_iter().map(|f| {
                ::image::Frame::from_parts(
                    f.img.into_rgba(),
                    0,
                    0,
                    ::image::Delay::from_numer_denom_ms(f.delay_ms, 1),
                )
            });
            enc.encode_frames(frames).map_err(enc_err)?;
        }
        _ => {
            let img = frames.into_iter().next().expect("one frame").img;
            match fmt {
                OutFormat::Jpg => {
                    let rgb = img.into_rgb_on([255, 255, 255]);
                    if w > u16::MAX as u32 || h > u16::MAX as u32 {
                        return Err(ImageError::too_large("JPEG output is limited to 65535 px."));
                    }
                    out = jpeg_encode(&rgb, opts, icc)?;
                }
                OutFormat::Png => {
                    use ::image::codecs::png::{CompressionType, FilterType, PngEncoder};
                    let enc = PngEncoder::new_with_quality(
                        &mut out,
                        CompressionType::Fast,
                        FilterType::Adaptive,
                    );
                    write_with(enc, &img, icc)?;
                }
                OutFormat::Bmp => {
                    let enc = ::image::codecs::bmp::BmpEncoder::new(&mut out);
                    write_with(enc, &img, None)?;
                }
                OutFormat::Tiff => {
                    let enc = ::image::codecs::tiff::TiffEncoder::new(Cursor::new(&mut out));
                    write_with(enc, &img, icc)?;
                }
                OutFormat::Webp => out = webp::with_icc(webp::encode_still(&img, opts)?, icc),
                OutFormat::Avif => {
                    // rav1e through ravif (with its assembly, feature `avif-asm`), on
                    // this worker thread only, at its fastest speed (10 of 1-10). The
                    // work is bounded before decoding (`AVIF_COST_PER_PIXEL`, calibrated in
                    // docs/benchmarks.md). Its pixels are sRGB (above).
                    let enc = ::image::codecs::avif::AvifEncoder::new_with_speed_quality(
                        &mut out,
                        10,
                        opts.quality,
                    )
                    .with_num_threads(Some(1));
                    write_with(enc, &img, None)?;
                }
                OutFormat::Heic => out = heif::encode(&img, opts.quality, icc)?,
                OutFormat::Gif => unreachable!("GIF is written above"),
            }
        }
    }
    Ok(out)
}

/// Baseline (or progressive) JPEG of an RGB image: 4:2:0 below quality 90, 4:4:4 from 90
/// on (the default of libvips and of jpeg-encoder). libjpeg-turbo with `turbojpeg`.
fn jpeg_encode(
    rgb: &::image::RgbImage,
    opts: EncodeOpts,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, ImageError> {
    #[cfg(feature = "turbojpeg")]
    {
        Ok(turbo::with_icc(turbo::encode(rgb, opts)?, icc))
    }
    #[cfg(not(feature = "turbojpeg"))]
    {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, opts.quality.clamp(1, 100));
        enc.set_progressive(opts.progressive);
        if let Some(icc) = icc {
            enc.add_icc_profile(icc).map_err(enc_err)?;
        }
        enc.encode(
            rgb.as_raw(),
            rgb.width() as u16,
            rgb.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(enc_err)?;
        Ok(out)
    }
}

/// libjpeg-turbo (TurboJPEG 3 API through the `turbojpeg` crate) for JPEG in and out.
#[cfg(feature = "turbojpeg")]
mod turbo {
    use super::{EncodeOpts, ImageError, Img, Limits, Probe, enc_err};
    use turbojpeg::{Colorspace, Compressor, Decompressor, Image, PixelFormat, ScalingFactor};

    /// Decode to RGB at `1/shrink` (1, 2, 4, 8) of the size. `None` hands the file to the
    /// `image` crate (zune-jpeg) instead, which keeps today's behaviour for everything
    /// libjpeg-turbo does not take cleanly: CMYK/YCCK, 12-bit, and any error or warning
    /// (corrupt data), so that broken files fail or decode exactly as before. Truncated
    /// files never get here (see [`super::jpeg_is_complete`]).
    pub fn decode(b: &[u8], probe: &Probe, shrink: u32, limits: &Limits) -> Option<Img> {
        let mut d = Decompressor::new().ok()?;
        let hdr = d.read_header(b).ok()?;
        if matches!(hdr.colorspace, Colorspace::CMYK | Colorspace::YCCK) {
            return None;
        }
        // The limits were checked on our own header parse: insist on the same size.
        if (hdr.width as u64, hdr.height as u64) != (probe.width as u64, probe.height as u64)
            || hdr.width as u64 * hdr.height as u64 > limits.max_pixels
        {
            return None;
        }
        let shrink = if hdr.is_lossless { 1 } else { shrink };
        let factor = match shrink {
            8 => ScalingFactor::ONE_EIGHTH,
            4 => ScalingFactor::ONE_QUARTER,
            2 => ScalingFactor::ONE_HALF,
            _ => ScalingFactor::ONE,
        };
        d.set_scaling_factor(factor).ok()?;
        let (w, h) = (factor.scale(hdr.width), factor.scale(hdr.height));
        let mut pixels = crate::image::raster::scratch(w.checked_mul(h)?.checked_mul(3)?);
        let mut decompress = |jpeg: &[u8]| {
            let image = Image {
                pixels: &mut pixels[..],
                width: w,
                pitch: w * 3,
                height: h,
                format: PixelFormat::RGB,
            };
            d.decompress(jpeg, image).is_ok()
        };
        // At 1/8, a few of a progressive file's scans give the pixels of all of them.
        let fewer = (shrink == 8)
            .then(|| super::scans_for_an_eighth(b))
            .flatten();
        if !fewer.is_some_and(|few| decompress(&few)) && !decompress(b) {
            return None;
        }
        ::image::RgbImage::from_raw(w as u32, h as u32, pixels).map(Img::Rgb)
    }

    /// `jpeg` with `icc` in APP2 `ICC_PROFILE` segments (ICC.1 Annex B.4) after the JFIF
    /// APP0 segment: the `turbojpeg` crate does not expose libjpeg-turbo's
    /// `tj3SetICCProfile`.
    pub fn with_icc(jpeg: Vec<u8>, icc: Option<&[u8]>) -> Vec<u8> {
        // Segment length field, "ICC_PROFILE\0", sequence number and count.
        const MAX_CHUNK: usize = 0xFFFF - 2 - 14;
        let Some(icc) = icc.filter(|i| !i.is_empty()) else {
            return jpeg;
        };
        let count = icc.len().div_ceil(MAX_CHUNK);
        debug_assert!(count < 256, "profiles are capped well below 16 MB");
        let at = match jpeg.get(2..4) {
            Some([0xFF, 0xE0]) => 4 + super::be16(&jpeg, 4).unwrap_or(0) as usize,
            _ => 2,
        }
        .min(jpeg.len());
        let mut out = Vec::with_capacity(jpeg.len() + icc.len() + 18 * count);
        out.extend_from_slice(&jpeg[..at]);
        for (i, chunk) in icc.chunks(MAX_CHUNK).enumerate() {
            out.extend_from_slice(&[0xFF, 0xE2]);
            out.extend_from_slice(&((2 + 14 + chunk.len()) as u16).to_be_bytes());
            out.extend_from_slice(b"ICC_PROFILE\0");
            out.extend_from_slice(&[i as u8 + 1, count as u8]);
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&jpeg[at..]);
        out
    }

    pub fn encode(rgb: &::image::RgbImage, opts: EncodeOpts) -> Result<Vec<u8>, ImageError> {
        let q = opts.quality.clamp(1, 100);
        let mut c = Compressor::new().map_err(enc_err)?;
        c.set_quality(q as i32).map_err(enc_err)?;
        c.set_subsamp(if q < 90 {
            turbojpeg::Subsamp::Sub2x2
        } else {
            turbojpeg::Subsamp::None
        })
        .map_err(enc_err)?;
        c.set_progressive(opts.progressive).map_err(enc_err)?;
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let image = Image {
            pixels: rgb.as_raw().as_slice(),
            width: w,
            pitch: w * 3,
            height: h,
            format: PixelFormat::RGB,
        };
        c.compress_to_vec(image).map_err(enc_err)
    }
}

fn write_with<E: ImageEncoder>(
    mut enc: E,
    img: &Img,
    icc: Option<&[u8]>,
) -> Result<(), ImageError> {
    if let Some(icc) = icc {
        enc.set_icc_profile(icc.to_vec()).map_err(enc_err)?;
    }
    let ct = if img.has_alpha() {
        ::image::ExtendedColorType::Rgba8
    } else {
        ::image::ExtendedColorType::Rgb8
    };
    enc.write_image(img.raw(), img.width(), img.height(), ct)
        .map_err(enc_err)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny encoded image for tests.
    pub fn encode_test(img: Img, fmt: OutFormat) -> Vec<u8> {
        encode(
            Picture::still(img),
            fmt,
            EncodeOpts {
                quality: 90,
                progressive: false,
                webp_lossless: true,
            },
            &Limits::default(),
        )
        .unwrap()
    }

    #[test]
    fn roundtrip_formats() {
        for fmt in [
            OutFormat::Png,
            OutFormat::Jpg,
            OutFormat::Webp,
            OutFormat::Bmp,
            OutFormat::Gif,
            OutFormat::Tiff,
        ] {
            let b = encode_test(Img::solid_rgb(7, 5, [10, 200, 30]), fmt);
            let p = probe(&b).unwrap();
            assert_eq!((p.width, p.height, p.frames), (7, 5, 1), "{fmt:?}");
            assert_eq!(p.format.same_out(), fmt);
            let pic = decode(&b, &p, true, &Limits::default()).unwrap();
            assert_eq!(pic.dims(), (7, 5));
            let px = pic.first().rgb_at(3, 2);
            assert!(
                px.iter()
                    .zip([10u8, 200, 30])
                    .all(|(a, b)| a.abs_diff(b) < 12),
                "{fmt:?} {px:?}"
            );
        }
    }

    #[test]
    fn outputs_without_a_profile_are_converted_to_srgb() {
        let icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        let colour = [200u8, 100, 50];
        let mut expected = [Frame {
            img: Img::solid_rgb(1, 1, colour),
            delay_ms: 0,
        }];
        icc::to_srgb(&mut expected, &icc);
        let expected = expected[0].img.rgb_at(0, 0);
        assert!(
            expected[0] > colour[0] + 10,
            "P3 red is redder: {expected:?}"
        );
        let mut formats = vec![
            OutFormat::Gif,
            OutFormat::Bmp,
            OutFormat::Png,
            OutFormat::Webp,
        ];
        if cfg!(feature = "heif") {
            formats.push(OutFormat::Avif);
        }
        for fmt in formats {
            let pic = Picture {
                frames: vec![Frame {
                    img: Img::solid_rgb(32, 32, colour),
                    delay_ms: 0,
                }],
                icc: Some(icc.clone()),
            };
            let opts = EncodeOpts {
                quality: 90,
                progressive: false,
                webp_lossless: true,
            };
            let b = encode(pic, fmt, opts, &Limits::default()).unwrap();
            let out = decode(&b, &probe(&b).unwrap(), false, &Limits::default()).unwrap();
            let px = out.first().rgb_at(16, 16);
            // Formats with room for the profile keep it and the pixels as they were.
            let (want, profile) = match fmt {
                OutFormat::Png | OutFormat::Webp => (colour, Some(&icc)),
                _ => (expected, None),
            };
            assert_eq!(out.icc.as_ref(), profile, "{fmt:?}");
            assert!(
                px.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 3),
                "{fmt:?}: {px:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn webp_lossy_and_alpha() {
        let img = Img::solid_rgba(16, 16, [255, 0, 0, 128]);
        let b = encode(
            Picture::still(img),
            OutFormat::Webp,
            EncodeOpts {
                quality: 75,
                progressive: false,
                webp_lossless: false,
            },
            &Limits::default(),
        )
        .unwrap();
        let p = probe(&b).unwrap();
        let pic = decode(&b, &p, false, &Limits::default()).unwrap();
        assert!(pic.first().has_alpha());
        assert!(pic.first().rgba_at(8, 8)[3].abs_diff(128) < 4);
    }

    #[test]
    fn webp_animation_roundtrip() {
        let frames: Vec<Frame> = [
            ([200u8, 0, 0, 255], 100u32),
            ([0, 200, 0, 128], 250),
            ([0, 0, 200, 255], 40),
        ]
        .into_iter()
        .map(|(c, delay_ms)| Frame {
            img: Img::solid_rgba(24, 16, c),
            delay_ms,
        })
        .collect();
        let limits = Limits::default();
        for lossless in [true, false] {
            let opts = EncodeOpts {
                quality: 80,
                progressive: false,
                webp_lossless: lossless,
            };
            let b = encode(
                Picture::animation(frames.clone()),
                OutFormat::Webp,
                opts,
                &limits,
            )
            .unwrap();
            let p = probe(&b).unwrap();
            assert_eq!(
                (p.format, p.width, p.height, p.frames),
                (SrcFormat::WebP, 24, 16, 3)
            );
            let pic = decode(&b, &p, true, &limits).unwrap();
            assert_eq!(pic.frames.len(), 3);
            // image-webp loses one level blending an opaque pixel onto the canvas.
            let tolerance = if lossless { 1 } else { 8 };
            for (i, (got, want)) in pic.frames.iter().zip(&frames).enumerate() {
                assert_eq!(got.delay_ms, want.delay_ms, "frame {i}");
                let (g, w) = (got.img.rgba_at(12, 8), want.img.rgba_at(12, 8));
                assert!(
                    g.iter().zip(w).all(|(a, b)| a.abs_diff(b) <= tolerance),
                    "lossless {lossless}, frame {i}: {g:?} vs {w:?}"
                );
            }
            // It loops forever, like our GIF output.
            use ::image::AnimationDecoder;
            let dec = ::image::codecs::webp::WebPDecoder::new(Cursor::new(&b)).unwrap();
            assert!(matches!(
                dec.loop_count(),
                ::image::metadata::LoopCount::Infinite
            ));
            // Without `all_frames`, the first frame only.
            assert_eq!(decode(&b, &p, false, &limits).unwrap().frames.len(), 1);
        }
    }

    #[test]
    fn animation_limits_hold_while_decoding() {
        let frames: Vec<Frame> = (0..4)
            .map(|i| Frame {
                img: Img::solid_rgb(10, 10, [i * 60, 0, 0]),
                delay_ms: 50,
            })
            .collect();
        let opts = EncodeOpts {
            quality: 90,
            progressive: false,
            webp_lossless: true,
        };
        for fmt in [OutFormat::Gif, OutFormat::Webp] {
            let pic = Picture::animation(frames.clone());
            let b = encode(pic, fmt, opts, &Limits::default()).unwrap();
            // Even when the header undercounts the frames.
            let p = Probe {
                frames: 2,
                ..probe(&b).unwrap()
            };
            for limits in [
                Limits {
                    max_frames: 3,
                    ..Limits::default()
                },
                Limits {
                    max_pixels: 3 * 100,
                    ..Limits::default()
                },
            ] {
                let e = decode(&b, &p, true, &limits).unwrap_err();
                assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE), "{fmt:?}");
            }
            assert_eq!(
                decode(&b, &p, true, &Limits::default())
                    .unwrap()
                    .frames
                    .len(),
                4
            );
        }
    }

    #[test]
    fn progressive_jpeg_is_sof2() {
        let b = encode(
            Picture::still(Img::solid_rgb(20, 20, [1, 2, 3])),
            OutFormat::Jpg,
            EncodeOpts {
                quality: 80,
                progressive: true,
                webp_lossless: false,
            },
            &Limits::default(),
        )
        .unwrap();
        assert!(b.windows(2).any(|w| w == [0xFF, 0xC2]));
        assert!(!b.windows(2).any(|w| w == [0xFF, 0xC0]));
        let q = jpeg_quality(&b).unwrap();
        assert!((78..=82).contains(&q), "{q}");
    }

    #[test]
    fn jpeg_quality_estimates() {
        for q in [50u8, 75, 90, 100] {
            let b = encode(
                Picture::still(Img::solid_rgb(8, 8, [1, 2, 3])),
                OutFormat::Jpg,
                EncodeOpts {
                    quality: q,
                    progressive: false,
                    webp_lossless: false,
                },
                &Limits::default(),
            )
            .unwrap();
            let est = jpeg_quality(&b).unwrap();
            assert!(est.abs_diff(q) <= 2, "{q} → {est}");
        }
    }

    #[test]
    fn huge_header_is_refused_without_decoding() {
        // A PNG header declaring 60000×60000 in 57 bytes.
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&60000u32.to_be_bytes());
        b.extend_from_slice(&60000u32.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0]);
        let crc = crc32(&b[12..29]);
        b.extend_from_slice(&crc.to_be_bytes());
        b.extend_from_slice(&[0u8; 0]);
        let p = probe(&b).unwrap();
        assert_eq!((p.width, p.height), (60000, 60000));
        let e = Limits::default()
            .check_source(b.len(), p.width, p.height, p.frames, false)
            .unwrap_err();
        assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE));

        // A GIF header declaring 60000×60000.
        let mut g = b"GIF89a".to_vec();
        g.extend_from_slice(&60000u16.to_le_bytes());
        g.extend_from_slice(&60000u16.to_le_bytes());
        g.extend_from_slice(&[0, 0, 0, 0x3B]);
        let p = probe(&g).unwrap();
        assert_eq!((p.width, p.height), (60000, 60000));

        // A truncated JPEG whose SOF declares 60000x60000, through `process`.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8];
        j.extend_from_slice(&60000u16.to_be_bytes());
        j.extend_from_slice(&60000u16.to_be_bytes());
        j.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        j.resize(200, 0);
        let pl = crate::image::parse("image/resize,w_100").unwrap();
        let e =
            crate::image::process(&pl, &j, &Default::default(), &Limits::default()).unwrap_err();
        assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE_RESIZE));
    }

    /// A 64x48 gradient JPEG from jpeg-encoder: baseline, progressive or with restarts.
    fn gradient_jpeg(progressive: bool, restart: u16) -> Vec<u8> {
        let px: Vec<u8> = (0..64 * 48)
            .flat_map(|i| [(i % 64 * 4) as u8, (i / 64 * 5) as u8, 90])
            .collect();
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
        enc.set_progressive(progressive);
        enc.set_restart_interval(restart);
        enc.encode(&px, 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    /// Progressive JPEGs with detail in every block: libjpeg-turbo's own scan script
    /// (with successive approximation) at 4:2:0 and 4:4:4, and jpeg-encoder's with
    /// restart markers.
    fn textured_progressive_jpegs(w: u32, h: u32) -> [Vec<u8>; 3] {
        let px: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                let v = ((x * 7) ^ (y * 13)).wrapping_mul(2_654_435_761) >> 24;
                [v as u8, (x * 255 / w) as u8, (v as u8) ^ (y as u8)]
            })
            .collect();
        let mut c = turbojpeg::Compressor::new().unwrap();
        c.set_quality(85).unwrap();
        c.set_progressive(true).unwrap();
        let image = turbojpeg::Image {
            pixels: &px[..],
            width: w as usize,
            pitch: w as usize * 3,
            height: h as usize,
            format: turbojpeg::PixelFormat::RGB,
        };
        let turbo = c.compress_to_vec(image).unwrap();
        c.set_subsamp(turbojpeg::Subsamp::None).unwrap();
        let full_chroma = c.compress_to_vec(image).unwrap();
        let mut restarts = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut restarts, 85);
        enc.set_progressive(true);
        enc.set_restart_interval(3);
        enc.encode(&px, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        [turbo, full_chroma, restarts]
    }

    fn decode_eighth(jpeg: &[u8]) -> Vec<u8> {
        let mut d = turbojpeg::Decompressor::new().unwrap();
        let hdr = d.read_header(jpeg).unwrap();
        let f = turbojpeg::ScalingFactor::ONE_EIGHTH;
        d.set_scaling_factor(f).unwrap();
        let (w, h) = (f.scale(hdr.width), f.scale(hdr.height));
        let mut px = vec![0; w * h * 3];
        let image = turbojpeg::Image {
            pixels: &mut px[..],
            width: w,
            pitch: w * 3,
            height: h,
            format: turbojpeg::PixelFormat::RGB,
        };
        d.decompress(jpeg, image).unwrap();
        px
    }

    #[test]
    fn a_few_scans_give_the_same_pixels_at_an_eighth() {
        for jpeg in textured_progressive_jpegs(203, 157) {
            let few = scans_for_an_eighth(&jpeg).unwrap();
            assert!(
                few.len() * 3 < jpeg.len() * 2,
                "{} of {}",
                few.len(),
                jpeg.len()
            );
            assert!(jpeg_is_complete(&few));
            assert_eq!(decode_eighth(&few), decode_eighth(&jpeg));
        }
        // Baseline files have no AC scan to leave out.
        let baseline = encode_test(Img::solid_rgb(40, 30, [9, 99, 199]), OutFormat::Jpg);
        assert_eq!(scans_for_an_eighth(&baseline), None);
        // Cut or damaged files never panic (the decoder refuses what they give, and
        // then reads the original).
        let [jpeg, ..] = textured_progressive_jpegs(64, 48);
        for at in 0..jpeg.len() {
            let _ = scans_for_an_eighth(&jpeg[..at]);
            let mut bad = jpeg.clone();
            bad[at] ^= 0xFF;
            let _ = scans_for_an_eighth(&bad);
        }
    }

    #[test]
    fn truncated_jpegs_are_refused() {
        let limits = Limits::default();
        // An APP1 carrying a thumbnail with its own EOI must not end the walk.
        let mut with_thumb = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 10];
        with_thumb.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xD9, 0xFF, 0xD9]);
        with_thumb.extend_from_slice(&gradient_jpeg(false, 0)[2..]);
        let sources = [
            ("baseline", gradient_jpeg(false, 0)),
            ("progressive", gradient_jpeg(true, 0)),
            ("restart markers", gradient_jpeg(false, 2)),
            ("thumbnail in APP1", with_thumb),
            (
                "libjpeg-turbo",
                encode_test(Img::solid_rgb(40, 30, [9, 99, 199]), OutFormat::Jpg),
            ),
        ];
        for (name, b) in sources {
            let p = probe(&b).unwrap();
            assert!(jpeg_is_complete(&b), "{name}");
            assert!(decode(&b, &p, false, &limits).is_ok(), "{name}");
            // Bytes after the EOI, even marker-like ones, are ignored.
            let mut tail = b.clone();
            tail.extend_from_slice(&[0xFF, 0x00, 0x12, 0xFF, 0xC4, 0x00, 0x05, 0xFF]);
            assert!(jpeg_is_complete(&tail), "{name} + trailing bytes");
            assert!(decode(&tail, &p, false, &limits).is_ok(), "{name}");
            // Any cut before the end of the EOI, mid-scan included, is refused.
            let sos = b.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
            for cut in (sos..b.len()).step_by(5).chain([b.len() - 2, b.len() - 1]) {
                assert!(!jpeg_is_complete(&b[..cut]), "{name} cut at {cut}");
                let e = decode(&b[..cut], &p, false, &limits).unwrap_err();
                assert_eq!(
                    (e.status, e.code, e.ec),
                    (400, "BadRequest", Some(ec::UNSUPPORTED_FORMAT)),
                    "{name} cut at {cut}"
                );
            }
            for cut in 2..sos {
                assert!(!jpeg_is_complete(&b[..cut]), "{name} cut at {cut}");
            }
        }
    }

    #[test]
    fn header_dims_match_decoder() {
        for fmt in [
            OutFormat::Png,
            OutFormat::Jpg,
            OutFormat::Gif,
            OutFormat::Bmp,
        ] {
            let b = encode_test(Img::solid_rgb(13, 7, [1, 2, 3]), fmt);
            let f = sniff(&b).unwrap();
            assert_eq!(header_dims(&b, f), Some((13, 7)), "{fmt:?}");
        }
        let lossless = encode_test(Img::solid_rgba(13, 7, [1, 2, 3, 4]), OutFormat::Webp);
        assert_eq!(header_dims(&lossless, SrcFormat::WebP), Some((13, 7)));
        let lossy = encode(
            Picture::still(Img::solid_rgb(13, 7, [1, 2, 3])),
            OutFormat::Webp,
            EncodeOpts {
                quality: 50,
                progressive: false,
                webp_lossless: false,
            },
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(header_dims(&lossy, SrcFormat::WebP), Some((13, 7)));
    }

    pub fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some(SrcFormat::Jpeg));
        assert_eq!(sniff(b"GIF89a"), Some(SrcFormat::Gif));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic"), Some(SrcFormat::Heic));
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(
            probe(b"hello").unwrap_err().ec,
            Some(ec::UNSUPPORTED_FORMAT)
        );
    }
}
