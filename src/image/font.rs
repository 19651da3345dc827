//! Fonts for text watermarks. Nothing is bundled: the host registers font bytes
//! (e.g. `include_bytes!("../../fonts/DroidSansFallbackFull.ttf")`) at start-up.

use super::error::ImageError;
use ab_glyph::FontArc;
use std::sync::RwLock;

struct Registry {
    default: Option<FontArc>,
    named: Vec<(String, FontArc)>,
}

static FONTS: RwLock<Registry> = RwLock::new(Registry {
    default: None,
    named: Vec::new(),
});

fn load(bytes: &'static [u8], index: u32) -> Result<FontArc, ImageError> {
    ab_glyph::FontRef::try_from_slice_and_index(bytes, index)
        .map(FontArc::new)
        .map_err(|e| ImageError::internal(format!("invalid font data: {e}")))
}

/// Register the default font, used for every `type` that has no font of its own and as
/// the per-character fallback. For OSS compatibility it must cover CJK.
pub fn set_font(bytes: &'static [u8]) -> Result<(), ImageError> {
    let f = load(bytes, 0)?;
    FONTS.write().unwrap_or_else(|e| e.into_inner()).default = Some(f);
    Ok(())
}

/// Register a font for one OSS `type` name (e.g. `wqy-zenhei`), with the face `index`
/// inside a TrueType collection (`.ttc`; 0 for a plain `.ttf`).
pub fn set_named_font(type_name: &str, bytes: &'static [u8], index: u32) -> Result<(), ImageError> {
    let f = load(bytes, index)?;
    let mut reg = FONTS.write().unwrap_or_else(|e| e.into_inner());
    reg.named.retain(|(n, _)| n != type_name);
    reg.named.push((type_name.to_string(), f));
    Ok(())
}

/// Fonts to try, in order, for `type_name`: its own font, then the default.
pub(crate) fn fonts_for(type_name: &str) -> Vec<FontArc> {
    let reg = FONTS.read().unwrap_or_else(|e| e.into_inner());
    let mut v: Vec<FontArc> = reg
        .named
        .iter()
        .filter(|(n, _)| n == type_name)
        .map(|(_, f)| f.clone())
        .collect();
    if let Some(d) = &reg.default {
        v.push(d.clone());
    }
    v
}
