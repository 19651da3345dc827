//! WebP output through libwebp: stills with the simple API, animations with
//! `WebPAnimEncoder`, and an ICC profile muxed in as an `ICCP` chunk (`WebPMux`).

use super::{EncodeOpts, enc_err};
use crate::image::error::ImageError;
use crate::image::raster::{Frame, Img};
use libwebp_sys as w;
use std::ffi::c_int;

/// Quality ("effort") libwebp's simple lossless API uses; animations use it too.
const LOSSLESS_EFFORT: f32 = 70.0;
/// Longest frame duration a WebP animation can store (24-bit milliseconds).
const MAX_DURATION_MS: u32 = (1 << 24) - 1;

/// Lossy (or lossless) WebP still through libwebp's simple API.
pub fn encode_still(img: &Img, opts: EncodeOpts) -> Result<Vec<u8>, ImageError> {
    let (width, height) = img.dims();
    let c = img.channels() as i32;
    let stride = width as i32 * c;
    let mut ptr: *mut u8 = std::ptr::null_mut();
    let q = opts.quality.clamp(1, 100) as f32;
    // SAFETY: `img.raw()` holds `height` rows of `stride` bytes; libwebp writes the
    // output pointer and returns its length (0 on failure); we free it with WebPFree.
    let len = unsafe {
        let data = img.raw().as_ptr();
        let (wi, hi) = (width as i32, height as i32);
        match (img.has_alpha(), opts.webp_lossless) {
            (true, false) => w::WebPEncodeRGBA(data, wi, hi, stride, q, &mut ptr),
            (false, false) => w::WebPEncodeRGB(data, wi, hi, stride, q, &mut ptr),
            (true, true) => w::WebPEncodeLosslessRGBA(data, wi, hi, stride, &mut ptr),
            (false, true) => w::WebPEncodeLosslessRGB(data, wi, hi, stride, &mut ptr),
        }
    };
    if len == 0 || ptr.is_null() {
        return Err(enc_err("libwebp failed"));
    }
    // SAFETY: libwebp returned `len` valid bytes at `ptr`.
    let v = unsafe { std::slice::from_raw_parts(ptr, len).to_vec() };
    // SAFETY: `ptr` was allocated by libwebp.
    unsafe { w::WebPFree(ptr as *mut std::ffi::c_void) };
    Ok(v)
}

/// Owned `WebPAnimEncoder`, deleted on drop.
struct AnimEncoder(*mut w::WebPAnimEncoder);

impl Drop for AnimEncoder {
    fn drop(&mut self) {
        // SAFETY: created by WebPAnimEncoderNewInternal, deleted once.
        unsafe { w::WebPAnimEncoderDelete(self.0) }
    }
}

impl AnimEncoder {
    fn error(&self, what: &str) -> ImageError {
        // SAFETY: the encoder is alive; the message is a NUL-terminated static or
        // encoder-owned string, copied before the encoder goes away.
        let msg = unsafe {
            let p = w::WebPAnimEncoderGetError(self.0);
            if p.is_null() {
                String::new()
            } else {
                std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        enc_err(format!("libwebp {what}: {msg}"))
    }
}

/// Owned `WebPPicture` (its ARGB buffer is freed on drop).
struct Picture(w::WebPPicture);

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: initialised by WebPPictureInitInternal; freeing an empty picture is a no-op.
        unsafe { w::WebPPictureFree(&mut self.0) }
    }
}

/// Owned `WebPData` returned by libwebp, freed on drop.
struct Data(w::WebPData);

impl Data {
    fn to_vec(&self) -> Vec<u8> {
        if self.0.bytes.is_null() {
            return Vec::new();
        }
        // SAFETY: libwebp filled `size` valid bytes at `bytes`.
        unsafe { std::slice::from_raw_parts(self.0.bytes, self.0.size).to_vec() }
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: the bytes were allocated by libwebp (or are null).
        unsafe { w::WebPDataClear(&mut self.0) }
    }
}

/// Animated WebP of same-sized, fully composited frames, looping forever (as our GIF
/// output does). Each frame shows for its `delay_ms`; libwebp stores sub-rectangles
/// and merges identical consecutive frames by adding up their durations.
pub fn encode_animation(frames: &[Frame], opts: EncodeOpts) -> Result<Vec<u8>, ImageError> {
    let (width, height) = frames
        .first()
        .ok_or_else(|| enc_err("no frames"))?
        .img
        .dims();
    let (wi, hi) = (width as c_int, height as c_int);
    // SAFETY: plain-data structs initialised by libwebp's own init functions before use;
    // pictures import from buffers of `height` rows of `width * channels` bytes; every
    // libwebp allocation is owned by a guard above.
    unsafe {
        let mut enc_opts: w::WebPAnimEncoderOptions = std::mem::zeroed();
        if w::WebPAnimEncoderOptionsInitInternal(&mut enc_opts, w::WEBP_MUX_ABI_VERSION as c_int)
            == 0
        {
            return Err(enc_err("libwebp: animation options version mismatch"));
        }
        enc_opts.anim_params.loop_count = 0; // forever
        let enc =
            w::WebPAnimEncoderNewInternal(wi, hi, &enc_opts, w::WEBP_MUX_ABI_VERSION as c_int);
        if enc.is_null() {
            return Err(enc_err("libwebp: cannot create the animation encoder"));
        }
        let enc = AnimEncoder(enc);

        let quality = if opts.webp_lossless {
            LOSSLESS_EFFORT
        } else {
            opts.quality.clamp(1, 100) as f32
        };
        let mut config: w::WebPConfig = std::mem::zeroed();
        if w::WebPConfigInitInternal(
            &mut config,
            w::WebPPreset::WEBP_PRESET_DEFAULT,
            quality,
            w::WEBP_ENCODER_ABI_VERSION as c_int,
        ) == 0
        {
            return Err(enc_err("libwebp: encoder config version mismatch"));
        }
        config.lossless = opts.webp_lossless as c_int;
        if w::WebPValidateConfig(&config) == 0 {
            return Err(enc_err("libwebp: invalid encoder config"));
        }

        let mut timestamp: c_int = 0;
        for f in frames {
            let mut pic = Picture(std::mem::zeroed());
            if w::WebPPictureInitInternal(&mut pic.0, w::WEBP_ENCODER_ABI_VERSION as c_int) == 0 {
                return Err(enc_err("libwebp: picture version mismatch"));
            }
            pic.0.use_argb = 1;
            pic.0.width = wi;
            pic.0.height = hi;
            let stride = (width as usize * f.img.channels()) as c_int;
            let imported = if f.img.has_alpha() {
                w::WebPPictureImportRGBA(&mut pic.0, f.img.raw().as_ptr(), stride)
            } else {
                w::WebPPictureImportRGB(&mut pic.0, f.img.raw().as_ptr(), stride)
            };
            if imported == 0 {
                return Err(enc_err("libwebp: out of memory importing a frame"));
            }
            if w::WebPAnimEncoderAdd(enc.0, &mut pic.0, timestamp, &config) == 0 {
                return Err(enc.error("cannot add a frame"));
            }
            // Timestamps may wrap around: libwebp only looks at differences.
            timestamp = timestamp.wrapping_add(f.delay_ms.min(MAX_DURATION_MS) as c_int);
        }
        // A final NULL frame sets the last frame's duration.
        if w::WebPAnimEncoderAdd(enc.0, std::ptr::null_mut(), timestamp, std::ptr::null()) == 0 {
            return Err(enc.error("cannot finish the animation"));
        }
        let mut out = Data(w::WebPData::default());
        if w::WebPAnimEncoderAssemble(enc.0, &mut out.0) == 0 {
            return Err(enc.error("cannot assemble the animation"));
        }
        Ok(out.to_vec())
    }
}

/// Owned `WebPMux`, deleted on drop.
struct Mux(*mut w::WebPMux);

impl Drop for Mux {
    fn drop(&mut self) {
        // SAFETY: created by WebPMuxCreateInternal, deleted once.
        unsafe { w::WebPMuxDelete(self.0) }
    }
}

/// `webp` (still or animated) with `icc` as its `ICCP` chunk; WebPMux sets the VP8X
/// flag. Should libwebp refuse, the image goes out without the profile rather than fail.
pub fn with_icc(webp: Vec<u8>, icc: Option<&[u8]>) -> Vec<u8> {
    let Some(icc) = icc else {
        return webp;
    };
    // SAFETY: the mux borrows `webp` and `icc` (copy_data = 0), both outliving it; the
    // assembled output is owned by `Data` and copied out before it is freed.
    let muxed = unsafe {
        let input = w::WebPData {
            bytes: webp.as_ptr(),
            size: webp.len(),
        };
        let mux = Mux(w::WebPMuxCreateInternal(
            &input,
            0,
            w::WEBP_MUX_ABI_VERSION as c_int,
        ));
        let chunk = w::WebPData {
            bytes: icc.as_ptr(),
            size: icc.len(),
        };
        let mut out = Data(w::WebPData::default());
        let ok = !mux.0.is_null()
            && w::WebPMuxSetChunk(mux.0, c"ICCP".as_ptr(), &chunk, 0)
                == w::WebPMuxError::WEBP_MUX_OK
            && w::WebPMuxAssemble(mux.0, &mut out.0) == w::WebPMuxError::WEBP_MUX_OK;
        ok.then(|| out.to_vec())
    };
    muxed.filter(|m| !m.is_empty()).unwrap_or(webp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::codec::icc::tests::SRGB;

    #[test]
    fn icc_chunk_is_muxed_in() {
        let img = Img::solid_rgb(8, 8, [1, 2, 3]);
        let opts = EncodeOpts {
            quality: 80,
            progressive: false,
            webp_lossless: false,
        };
        let plain = encode_still(&img, opts).unwrap();
        assert_eq!(with_icc(plain.clone(), None), plain);
        let muxed = with_icc(plain.clone(), Some(SRGB));
        // VP8X with the ICC flag, then the ICCP chunk holding the profile as is.
        assert_eq!(&muxed[12..16], b"VP8X");
        assert_ne!(muxed[20] & 0x20, 0);
        assert_eq!(&muxed[30..34], b"ICCP");
        assert_eq!(&muxed[38..38 + SRGB.len()], SRGB);
        // Not WebP: handed back untouched rather than failing.
        assert_eq!(with_icc(b"not webp".to_vec(), Some(SRGB)), b"not webp");
    }
}
