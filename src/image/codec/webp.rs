//! WebP output through libwebp.

use super::{EncodeOpts, enc_err};
use crate::image::error::ImageError;
use crate::image::raster::Img;
use libwebp_sys as w;

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
