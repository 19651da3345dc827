//! Fonts for text watermarks. Nothing is bundled: the host registers font bytes
//! (e.g. `include_bytes!("../../fonts/DroidSansFallbackFull.ttf")`) at start-up.
//!
//! Glyph lookup per character: the fonts registered for the requested `type`
//! ([`set_named_font`]), then the default chain ([`set_font`] + [`add_fallback_font`]).
//! Characters found in no font are skipped (no `.notdef` boxes).

use super::error::ImageError;
use ab_glyph::FontArc;
use std::sync::RwLock;

struct Registry {
    defaults: Vec<FontArc>,
    named: Vec<(String, FontArc)>,
}

static FONTS: RwLock<Registry> = RwLock::new(Registry {
    defaults: Vec::new(),
    named: Vec::new(),
});

fn load(bytes: &'static [u8], index: u32) -> Result<FontArc, ImageError> {
    ab_glyph::FontRef::try_from_slice_and_index(bytes, index)
        .map(FontArc::new)
        .map_err(|e| ImageError::internal(format!("invalid font data: {e}")))
}

/// Register the default font (replacing the default chain), used for every `type`
/// without a font of its own. `bytes` is a `.ttf`/`.otf` (face 0 of a `.ttc`).
pub fn set_font(bytes: &'static [u8]) -> Result<(), ImageError> {
    let f = load(bytes, 0)?;
    FONTS.write().unwrap_or_else(|e| e.into_inner()).defaults = vec![f];
    Ok(())
}

/// Append a font to the default chain (e.g. a Latin font after a CJK-only one), with
/// the face `index` inside a TrueType collection (0 for a plain `.ttf`).
pub fn add_fallback_font(bytes: &'static [u8], index: u32) -> Result<(), ImageError> {
    let f = load(bytes, index)?;
    FONTS
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .defaults
        .push(f);
    Ok(())
}

/// Register a font for one OSS `type` name (e.g. `wqy-zenhei`), with the face `index`
/// inside a TrueType collection (0 for a plain `.ttf`). Replaces an earlier one.
pub fn set_named_font(type_name: &str, bytes: &'static [u8], index: u32) -> Result<(), ImageError> {
    let f = load(bytes, index)?;
    let mut reg = FONTS.write().unwrap_or_else(|e| e.into_inner());
    reg.named.retain(|(n, _)| n != type_name);
    reg.named.push((type_name.to_string(), f));
    Ok(())
}

/// Fonts to try, in order, for `type_name`.
pub(crate) fn fonts_for(type_name: &str) -> Vec<FontArc> {
    let reg = FONTS.read().unwrap_or_else(|e| e.into_inner());
    reg.named
        .iter()
        .filter(|(n, _)| n == type_name)
        .map(|(_, f)| f.clone())
        .chain(reg.defaults.iter().cloned())
        .collect()
}

/// Register the embedded fonts for text watermarks (CJK first, Latin after).
pub fn install_embedded_fonts() -> Result<(), ImageError> {
    set_font(include_bytes!(
        "../../assets/fonts/DroidSansFallbackFull.ttf"
    ))?;
    add_fallback_font(include_bytes!("../../assets/fonts/DejaVuSans.ttf"), 0)
}
