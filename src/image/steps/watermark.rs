//! `watermark` (spec §7): image watermark (object from the same bucket, with its own
//! pre-processing chain), text watermark (ab_glyph; fonts registered via
//! [`crate::image::set_font`]), or both side by side.

use crate::image::codec;
use crate::image::error::{ImageError, ec};
use crate::image::font;
use crate::image::parse::{Gravity, Keyed, Param, b64, b64_encode, color, split_chain};
use crate::image::raster::{Img, Picture};
use crate::image::steps::rotate::rotate_img;
use crate::image::steps::{Ctx, Step, auto_orient};
use ::image::RgbaImage;
use ab_glyph::{Font, PxScale, ScaleFont, point};

const ACTION: &str = "watermark";
/// OSS limit on the decoded text (spec §7.3).
pub const MAX_TEXT_CHARS: usize = 64;

/// Font names OSS accepts for `type` (spec §7.3).
pub const FONT_TYPES: [&str; 7] = [
    "wqy-zenhei",
    "wqy-microhei",
    "fangzhengshusong",
    "fangzhengkaiti",
    "fangzhengheiti",
    "fangzhengfangsong",
    "droidsansfallback",
];

#[derive(Debug, Clone, PartialEq)]
pub struct ImageMark {
    /// Object key of the watermark (decoded, without the `?x-oss-process=` part).
    pub key: String,
    /// Its pre-processing (resize incl. `P`, crop, indexcrop, rounded-corners, rotate, auto-orient).
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMark {
    pub text: String,
    pub font: String,
    pub color: [u8; 3],
    pub size: u32,
    pub shadow: u8,
    pub rotate: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Watermark {
    pub t: u8,
    pub g: Gravity,
    pub x: u32,
    pub y: u32,
    pub voffset: i32,
    pub fill: bool,
    pub padx: u32,
    pub pady: u32,
    pub image: Option<ImageMark>,
    pub text: Option<TextMark>,
    pub order: u8,
    pub align: u8,
    pub interval: u32,
}

fn not_base64(code: &'static str) -> ImageError {
    ImageError::bad_request("Input is not base64 decoding.").with_ec(code)
}

fn parse_image(v: &str) -> Result<ImageMark, ImageError> {
    let bytes = b64(v).ok_or_else(|| not_base64(ec::WM_IMAGE_BASE64))?;
    let s = String::from_utf8(bytes).map_err(|_| not_base64(ec::WM_IMAGE_BASE64))?;
    let (key, chain) = match s.split_once("?x-oss-process=") {
        Some((k, c)) => (k.to_string(), Some(c.to_string())),
        None => (s, None),
    };
    if key.is_empty() {
        return Err(ImageError::invalid(
            "image",
            v,
            "The watermark object name is empty",
        ));
    }
    let mut steps = Vec::new();
    if let Some(chain) = chain {
        let body = chain.strip_prefix("image/").ok_or_else(|| {
            ImageError::invalid(
                "image",
                &chain,
                "Watermark pre-processing must start with image/",
            )
        })?;
        for a in split_chain(body)? {
            let step = match a.name {
                "resize" => Step::Resize(super::resize::Resize::parse(&a.params, true)?),
                "crop" | "indexcrop" | "rounded-corners" | "rotate" | "auto-orient" => {
                    Step::parse(&a)?
                }
                other => {
                    return Err(ImageError::invalid(
                        "image",
                        other,
                        "Watermark pre-processing supports resize, crop, indexcrop, rounded-corners, rotate, auto-orient",
                    ));
                }
            };
            steps.push(step);
        }
    }
    Ok(ImageMark { key, steps })
}

impl Watermark {
    pub fn parse(params: &[Param<'_>]) -> Result<Watermark, ImageError> {
        // `watermark,text` (bare key, no value) is the documented "empty text" error.
        for p in params {
            match (p.key, p.value) {
                (None, "text") | (Some("text"), "") => {
                    return Err(ImageError::missing("The watermark text is empty.")
                        .with_ec(ec::WM_TEXT_EMPTY));
                }
                (None, "image") | (Some("image"), "") => {
                    return Err(ImageError::missing("The watermark image is empty.")
                        .with_ec(ec::WM_IMAGE_BASE64));
                }
                _ => {}
            }
        }
        let k = Keyed::new(ACTION, params)?;
        let g = match k.get("g") {
            None => Gravity::SE,
            Some(v) => Gravity::parse(v).ok_or_else(|| {
                ImageError::invalid(
                    "g",
                    v,
                    "Value must be one of nw, north, ne, west, center, east, sw, south, se (watermark)",
                )
                .with_ec(ec::WM_GRAVITY)
            })?,
        };
        let image = k.get("image").map(parse_image).transpose()?;
        let text = match k.get("text") {
            None => None,
            Some(v) => {
                let bytes = b64(v).ok_or_else(|| not_base64(ec::WM_TEXT_BASE64))?;
                let text = String::from_utf8(bytes).map_err(|_| not_base64(ec::WM_TEXT_BASE64))?;
                if text.is_empty() {
                    return Err(ImageError::missing("The watermark text is empty.")
                        .with_ec(ec::WM_TEXT_EMPTY));
                }
                if text.chars().count() > MAX_TEXT_CHARS {
                    return Err(ImageError::invalid(
                        "text",
                        v,
                        format!("The decoded text must be at most {MAX_TEXT_CHARS} characters"),
                    )
                    .with_ec(ec::WM_TEXT_TOO_LONG));
                }
                let font =
                    match k.get("type") {
                        None => "wqy-zenhei".to_string(),
                        Some(t) => {
                            let name = b64(t).and_then(|b| String::from_utf8(b).ok()).ok_or_else(
                                || ImageError::bad_request("Input is not base64 decoding."),
                            )?;
                            if !FONT_TYPES.contains(&name.as_str()) {
                                return Err(ImageError::invalid(
                                    "type",
                                    t,
                                    format!("Unsupported font: {name}"),
                                ));
                            }
                            name
                        }
                    };
                Some(TextMark {
                    text,
                    font,
                    color: match k.get("color") {
                        Some(c) => color(ACTION, "color", c)?,
                        None => [0, 0, 0],
                    },
                    size: k.int("size", 1, 1000)?.unwrap_or(40) as u32,
                    shadow: k.int("shadow", 0, 100)?.unwrap_or(0) as u8,
                    rotate: k.int("rotate", 0, 360)?.unwrap_or(0) as u32,
                })
            }
        };
        if image.is_none() && text.is_none() {
            return Err(ImageError::missing(
                "The watermark action requires the parameter text or image.",
            )
            .with_ec(ec::WM_NOTHING));
        }
        Ok(Watermark {
            t: k.int("t", 0, 100)?.unwrap_or(100) as u8,
            g,
            x: k.int_ec("x", 0, 4096, ec::WM_X)?.unwrap_or(10) as u32,
            y: k.int("y", 0, 4096)?.unwrap_or(10) as u32,
            voffset: k.int("voffset", -1000, 1000)?.unwrap_or(0) as i32,
            fill: k.int_ec("fill", 0, 1, ec::WM_FILL)?.unwrap_or(0) == 1,
            padx: k.int("padx", 0, 4096)?.unwrap_or(0) as u32,
            pady: k.int("pady", 0, 4096)?.unwrap_or(0) as u32,
            image,
            text,
            order: k.int_ec("order", 0, 1, ec::WM_ORDER)?.unwrap_or(0) as u8,
            align: k.int("align", 0, 2)?.unwrap_or(2) as u8,
            interval: k.int("interval", 0, 1000)?.unwrap_or(0) as u32,
        })
    }

    pub fn normalized(&self) -> String {
        let mut s = format!(
            "watermark,t_{},g_{},x_{},y_{},voffset_{},fill_{}",
            self.t,
            self.g.name(),
            self.x,
            self.y,
            self.voffset,
            self.fill as u8
        );
        if self.fill {
            s.push_str(&format!(",padx_{},pady_{}", self.padx, self.pady));
        }
        if let Some(im) = &self.image {
            let mut obj = im.key.clone();
            if !im.steps.is_empty() {
                let chain: Vec<String> = im.steps.iter().map(Step::normalized).collect();
                obj.push_str("?x-oss-process=image/");
                obj.push_str(&chain.join("/"));
            }
            s.push_str(&format!(",image_{}", b64_encode(obj.as_bytes())));
        }
        if let Some(t) = &self.text {
            let [r, g, b] = t.color;
            s.push_str(&format!(
                ",text_{},type_{},color_{r:02X}{g:02X}{b:02X},size_{},shadow_{},rotate_{}",
                b64_encode(t.text.as_bytes()),
                b64_encode(t.font.as_bytes()),
                t.size,
                t.shadow,
                t.rotate
            ));
        }
        if self.image.is_some() && self.text.is_some() {
            s.push_str(&format!(
                ",order_{},align_{},interval_{}",
                self.order, self.align, self.interval
            ));
        }
        s
    }

    /// Build the watermark tile (RGBA, opacity applied) for a main image of `main` size.
    pub fn render(&self, main: (u32, u32), ctx: &Ctx<'_>) -> Result<RgbaImage, ImageError> {
        let img = match &self.image {
            Some(im) => Some(render_image(im, main, ctx)?),
            None => None,
        };
        let txt = match &self.text {
            Some(t) => Some(render_text(t, ctx.limits)?),
            None => None,
        };
        let mut tile = match (img, txt) {
            (Some(i), None) => i,
            (None, Some(t)) => t,
            (Some(i), Some(t)) => {
                let (left, right) = if self.order == 0 { (i, t) } else { (t, i) };
                side_by_side(&left, &right, self.interval, self.align)
            }
            (None, None) => unreachable!("parse requires text or image"),
        };
        if self.t < 100 {
            for p in tile.pixels_mut() {
                p.0[3] = ((p.0[3] as u32 * self.t as u32 + 50) / 100) as u8;
            }
        }
        Ok(tile)
    }

    /// Top-left corner of a `tw×th` tile on a `w×h` image.
    pub fn position(&self, w: u32, h: u32, tw: u32, th: u32) -> (i64, i64) {
        let (w, h, tw, th) = (w as i64, h as i64, tw as i64, th as i64);
        let x = match self.g.col() {
            0 => self.x as i64,
            1 => (w - tw) / 2,
            _ => w - tw - self.x as i64,
        };
        let y = match self.g.row() {
            0 => self.y as i64,
            // Positive voffset moves the mark up from the centre line.
            1 => (h - th) / 2 - self.voffset as i64,
            _ => h - th - self.y as i64,
        };
        (x, y)
    }

    pub fn apply(&self, pic: &mut Picture, ctx: &Ctx<'_>) -> Result<(), ImageError> {
        let (w, h) = pic.dims();
        let tile = self.render((w, h), ctx)?;
        let (tw, th) = tile.dimensions();
        let (px, py) = self.position(w, h, tw, th);
        let mut spots = Vec::new();
        if self.fill {
            let sx = (tw + self.padx).max(1) as i64;
            let sy = (th + self.pady).max(1) as i64;
            let x0 = px.rem_euclid(sx) - sx;
            let y0 = py.rem_euclid(sy) - sy;
            let mut yy = y0;
            while yy < h as i64 {
                let mut xx = x0;
                while xx < w as i64 {
                    spots.push((xx, yy));
                    xx += sx;
                }
                yy += sy;
            }
        } else {
            spots.push((px, py));
        }
        pic.map(|mut img| {
            for &(x, y) in &spots {
                blend_over(&mut img, &tile, x, y);
            }
            img
        });
        Ok(())
    }
}

fn render_image(im: &ImageMark, main: (u32, u32), ctx: &Ctx<'_>) -> Result<RgbaImage, ImageError> {
    let bytes = ctx.watermarks.get(&im.key).ok_or_else(|| {
        ImageError::watermark(format!("The watermark object {} does not exist.", im.key))
            .with_ec(ec::WATERMARK_MISSING)
    })?;
    let mut img = codec::decode_watermark(bytes, ctx.limits)?;
    let wants_orient = im
        .steps
        .iter()
        .any(|s| matches!(s, Step::AutoOrient(a) if a.on));
    if wants_orient {
        let o = codec::source_orientation(bytes);
        img = auto_orient::orient(img, o);
    }
    let mut pic = Picture::still(img);
    let sub = Ctx {
        limits: ctx.limits,
        budget: ctx.budget,
        watermarks: ctx.watermarks,
        src_format: codec::sniff(bytes).unwrap_or(codec::SrcFormat::Png),
        out_format: ctx.out_format,
    };
    for s in &im.steps {
        match s {
            Step::Resize(r) => r.apply(&mut pic, &sub, Some(main))?,
            other => other.apply(&mut pic, &sub)?,
        }
    }
    Ok(pic.frames.remove(0).img.into_rgba())
}

/// Rasterise one line of text, with optional shadow and rotation.
pub fn render_text(t: &TextMark, limits: &crate::image::Limits) -> Result<RgbaImage, ImageError> {
    let fonts = font::fonts_for(&t.font);
    if fonts.is_empty() {
        return Err(ImageError::not_implemented(
            "Text watermarks are not available: no font is configured on this server.",
        ));
    }
    let scale = PxScale::from(t.size as f32);
    let primary = fonts[0].as_scaled(scale);
    let ascent = primary.ascent();
    let descent = primary.descent();
    let mut caret = 0.0f32;
    let mut glyphs = Vec::new();
    let mut prev: Option<(usize, ab_glyph::GlyphId)> = None;
    for ch in t.text.chars().filter(|c| !c.is_control()) {
        let Some((fi, gid)) = fonts
            .iter()
            .enumerate()
            .map(|(i, f)| (i, f.glyph_id(ch)))
            .find(|(_, g)| g.0 != 0)
        else {
            // In no font: skip rather than draw a .notdef box (spaces keep their advance).
            if ch.is_whitespace() {
                caret += primary
                    .h_advance(fonts[0].glyph_id(' '))
                    .max(t.size as f32 / 3.0);
            }
            prev = None;
            continue;
        };
        let sf = fonts[fi].as_scaled(scale);
        if let Some((pfi, pg)) = prev
            && pfi == fi
        {
            caret += sf.kern(pg, gid);
        }
        glyphs.push((fi, gid.with_scale_and_position(scale, point(caret, ascent))));
        caret += sf.h_advance(gid);
        prev = Some((fi, gid));
    }
    let w = (caret.ceil() as u32).max(1);
    let h = ((ascent - descent).ceil() as u32).max(1);
    // Guard the tile (and its rotated bounding box) before allocating it.
    limits.check_output(w + h / 10 + 1, h + h / 10 + 1)?;
    if !t.rotate.is_multiple_of(360) {
        let (rw, rh) = crate::image::steps::rotate::bbox(w, h, t.rotate as f64);
        limits.check_output(rw, rh)?;
    }
    let mut cov = vec![0f32; w as usize * h as usize];
    for (fi, g) in glyphs {
        if let Some(og) = fonts[fi].outline_glyph(g) {
            let b = og.px_bounds();
            og.draw(|x, y, c| {
                let px = b.min.x as i64 + x as i64;
                let py = b.min.y as i64 + y as i64;
                if px >= 0 && py >= 0 && px < w as i64 && py < h as i64 {
                    let i = py as usize * w as usize + px as usize;
                    cov[i] = (cov[i] + c).min(1.0);
                }
            });
        }
    }
    let d = if t.shadow > 0 {
        ((t.size as f32 / 20.0).round() as u32).max(1)
    } else {
        0
    };
    let mut tile = RgbaImage::new(w + d, h + d);
    let [r, g, b] = t.color;
    for (x, y, p) in tile.enumerate_pixels_mut() {
        let at = |x: u32, y: u32| -> f32 {
            if x < w && y < h {
                cov[y as usize * w as usize + x as usize]
            } else {
                0.0
            }
        };
        let text_a = at(x, y);
        let shadow_a = if d > 0 && x >= d && y >= d {
            at(x - d, y - d) * t.shadow as f32 / 100.0
        } else {
            0.0
        };
        // Text over black shadow.
        let a = text_a + shadow_a * (1.0 - text_a);
        if a > 0.0 {
            let mix = |c: u8| ((c as f32 * text_a) / a).round().clamp(0.0, 255.0) as u8;
            *p = ::image::Rgba([mix(r), mix(g), mix(b), (a * 255.0).round() as u8]);
        }
    }
    Ok(match t.rotate % 360 {
        0 => tile,
        deg => rotate_img(Img::Rgba(tile), deg).into_rgba(),
    })
}

/// Place two tiles side by side with a gap; `align` 0 top, 1 middle, 2 bottom.
fn side_by_side(a: &RgbaImage, b: &RgbaImage, gap: u32, align: u8) -> RgbaImage {
    let w = a.width() + gap + b.width();
    let h = a.height().max(b.height());
    let mut out = RgbaImage::new(w, h);
    let y_for = |th: u32| match align {
        0 => 0,
        1 => (h - th) / 2,
        _ => h - th,
    };
    ::image::imageops::replace(&mut out, a, 0, y_for(a.height()) as i64);
    ::image::imageops::replace(
        &mut out,
        b,
        (a.width() + gap) as i64,
        y_for(b.height()) as i64,
    );
    out
}

/// Alpha-composite `src` over `dst` at `(x, y)` (clipped).
pub fn blend_over(dst: &mut Img, src: &RgbaImage, x: i64, y: i64) {
    let (dw, dh) = (dst.width() as i64, dst.height() as i64);
    let (sw, sh) = (src.width() as i64, src.height() as i64);
    let x0 = x.max(0);
    let y0 = y.max(0);
    let x1 = (x + sw).min(dw);
    let y1 = (y + sh).min(dh);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let c = dst.channels();
    let dwu = dw as usize;
    let raw = dst.raw_mut();
    let s = src.as_raw();
    for yy in y0..y1 {
        for xx in x0..x1 {
            let si = (((yy - y) * sw + (xx - x)) * 4) as usize;
            let sa = s[si + 3] as u32;
            if sa == 0 {
                continue;
            }
            let di = (yy as usize * dwu + xx as usize) * c;
            if c == 3 {
                for k in 0..3 {
                    let d = raw[di + k] as u32;
                    raw[di + k] = ((s[si + k] as u32 * sa + d * (255 - sa) + 127) / 255) as u8;
                }
            } else {
                let da = raw[di + 3] as u32;
                // out_a = sa + da(1 - sa), in 0..255² fixed point.
                let oa = sa * 255 + da * (255 - sa);
                if oa == 0 {
                    continue;
                }
                for k in 0..3 {
                    let num = s[si + k] as u32 * sa * 255 + raw[di + k] as u32 * da * (255 - sa);
                    raw[di + k] = ((num + oa / 2) / oa) as u8;
                }
                raw[di + 3] = ((oa + 127) / 255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::codec::tests::encode_test;
    use crate::image::codec::{OutFormat, SrcFormat};
    use crate::image::limits::Limits;
    use crate::image::parse::split_action;
    use std::collections::HashMap;

    fn wm(s: &str) -> Result<Watermark, ImageError> {
        Watermark::parse(&split_action(s).params)
    }

    #[test]
    fn parse_errors_and_ecs() {
        assert_eq!(wm("watermark").unwrap_err().ec, Some(ec::WM_NOTHING));
        assert_eq!(
            wm("watermark,text").unwrap_err().ec,
            Some(ec::WM_TEXT_EMPTY)
        );
        assert_eq!(
            wm("watermark,text_!!!").unwrap_err().ec,
            Some(ec::WM_TEXT_BASE64)
        );
        let e = wm("watermark,image_!!!").unwrap_err();
        assert_eq!((e.code, e.ec), ("BadRequest", Some(ec::WM_IMAGE_BASE64)));
        assert_eq!(e.message, "Input is not base64 decoding.");
        let long = b64_encode("x".repeat(65).as_bytes());
        assert_eq!(
            wm(&format!("watermark,text_{long}")).unwrap_err().ec,
            Some(ec::WM_TEXT_TOO_LONG)
        );
        let ok = b64_encode("x".repeat(64).as_bytes());
        assert!(wm(&format!("watermark,text_{ok}")).is_ok());
        assert_eq!(
            wm("watermark,text_aGk,g_xx").unwrap_err().ec,
            Some(ec::WM_GRAVITY)
        );
        assert_eq!(
            wm("watermark,text_aGk,x_8000").unwrap_err().ec,
            Some(ec::WM_X)
        );
        assert_eq!(
            wm("watermark,text_aGk,order_2").unwrap_err().ec,
            Some(ec::WM_ORDER)
        );
        assert_eq!(
            wm("watermark,text_aGk,fill_2").unwrap_err().ec,
            Some(ec::WM_FILL)
        );
        assert!(wm("watermark,text_aGk,t_101").is_err());
        assert!(wm("watermark,text_aGk,size_0").is_err());
        assert!(wm("watermark,text_aGk,voffset_-1001").is_err());
        // Standard alphabet + trailing comma accepted; default font type and placement.
        let w = wm("watermark,text_aGVsbG8g5Zu+54mH5pyN5Yqh77yB,color_ff6a00,").unwrap();
        let t = w.text.unwrap();
        assert_eq!(t.text, "hello 图片服务！");
        assert_eq!(t.font, "wqy-zenhei");
        assert_eq!((w.g, w.x, w.y, w.t), (Gravity::SE, 10, 10, 100));
        // Font type must be known.
        assert!(wm("watermark,text_aGk,type_d3F5LXplbmhlaQ").is_ok());
        assert!(wm(&format!("watermark,text_aGk,type_{}", b64_encode(b"comic"))).is_err());
    }

    #[test]
    fn image_key_and_subchain() {
        // "panda.png?x-oss-process=image/resize,P_30"
        let w =
            wm("watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA").unwrap();
        let im = w.image.unwrap();
        assert_eq!(im.key, "panda.png");
        assert_eq!(im.steps.len(), 1);
        let circle = b64_encode(b"a.png?x-oss-process=image/circle,r_10");
        assert!(wm(&format!("watermark,image_{circle}")).is_err());
    }

    #[test]
    fn positions() {
        let w = wm("watermark,text_aGk,g_nw,x_5,y_6").unwrap();
        assert_eq!(w.position(100, 50, 10, 10), (5, 6));
        let w = wm("watermark,text_aGk").unwrap();
        assert_eq!(w.position(100, 50, 10, 10), (80, 30));
        let w = wm("watermark,text_aGk,g_center,voffset_5").unwrap();
        assert_eq!(w.position(100, 50, 10, 10), (45, 15));
        let w = wm("watermark,text_aGk,g_south,y_0").unwrap();
        assert_eq!(w.position(100, 50, 10, 10), (45, 40));
    }

    fn ctx<'a>(marks: &'a HashMap<String, Vec<u8>>, limits: &'a Limits) -> Ctx<'a> {
        Ctx {
            limits,
            budget: Box::leak(Box::new(crate::image::budget::Budget::unlimited())),
            watermarks: marks,
            src_format: SrcFormat::Png,
            out_format: OutFormat::Png,
        }
    }

    #[test]
    fn image_watermark_pixels() {
        let mark = encode_test(Img::solid_rgb(4, 2, [255, 0, 0]), OutFormat::Png);
        let mut marks = HashMap::new();
        marks.insert("m.png".to_string(), mark);
        let limits = Limits::default();
        let key = b64_encode(b"m.png");
        let w = wm(&format!("watermark,image_{key},g_nw,x_1,y_2")).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(10, 10, [0, 0, 255]));
        w.apply(&mut pic, &ctx(&marks, &limits)).unwrap();
        let img = pic.first();
        assert_eq!(img.rgb_at(0, 0), [0, 0, 255]);
        assert_eq!(img.rgb_at(1, 2), [255, 0, 0]);
        assert_eq!(img.rgb_at(4, 3), [255, 0, 0]);
        assert_eq!(img.rgb_at(5, 3), [0, 0, 255]);
        // Half opacity blends.
        let w = wm(&format!("watermark,image_{key},g_nw,x_0,y_0,t_50")).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(10, 10, [0, 0, 255]));
        w.apply(&mut pic, &ctx(&marks, &limits)).unwrap();
        assert_eq!(pic.first().rgb_at(0, 0), [128, 0, 127]);
        // Tiling covers the whole image.
        let w = wm(&format!("watermark,image_{key},fill_1")).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(10, 10, [0, 0, 255]));
        w.apply(&mut pic, &ctx(&marks, &limits)).unwrap();
        assert!((0..10).all(|x| (0..10).all(|y| pic.first().rgb_at(x, y) == [255, 0, 0])));
        // P relative to the main image: 4x2 mark, P_50 on 20x20 → fits 10x10 → 10x5.
        let key = b64_encode(b"m.png?x-oss-process=image/resize,P_50");
        let w = wm(&format!("watermark,image_{key}")).unwrap();
        let tile = w.render((20, 20), &ctx(&marks, &limits)).unwrap();
        assert_eq!(tile.dimensions(), (10, 5));
        // Missing object.
        let key = b64_encode(b"nope.png");
        let w = wm(&format!("watermark,image_{key}")).unwrap();
        let mut pic = Picture::still(Img::solid_rgb(10, 10, [0, 0, 255]));
        let e = w.apply(&mut pic, &ctx(&marks, &limits)).unwrap_err();
        assert_eq!(e.ec, Some(ec::WATERMARK_MISSING));
    }

    #[test]
    fn blend_rgba_over_transparent() {
        let mut dst = Img::solid_rgba(2, 1, [0, 0, 0, 0]);
        let src = RgbaImage::from_pixel(1, 1, ::image::Rgba([200, 100, 50, 128]));
        blend_over(&mut dst, &src, 1, 0);
        assert_eq!(dst.rgba_at(1, 0), [200, 100, 50, 128]);
        assert_eq!(dst.rgba_at(0, 0), [0, 0, 0, 0]);
        // Out of bounds is clipped silently.
        blend_over(&mut dst, &src, -5, 7);
    }
}
