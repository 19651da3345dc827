//! End-to-end tests of parse + process on synthetic images, and fuzz-style robustness.

use super::codec::tests::encode_test;
use super::codec::{self, OutFormat, SrcFormat};
use super::error::ec;
use super::raster::{Frame, Img, Picture};
use super::*;

/// A little-endian TIFF/EXIF block with Orientation and XResolution = 96/1.
pub fn tiff_exif(orientation: u16) -> Vec<u8> {
    let mut t = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    t.extend_from_slice(&2u16.to_le_bytes());
    // Orientation, SHORT, 1
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    // XResolution, RATIONAL, 1, at offset 38
    t.extend_from_slice(&0x011Au16.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&96u32.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t
}

/// Insert an EXIF APP1 segment right after SOI.
pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let tiff = tiff_exif(orientation);
    let mut j = jpeg[..2].to_vec();
    j.extend_from_slice(&[0xFF, 0xE1]);
    j.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    j.extend_from_slice(b"Exif\0\0");
    j.extend_from_slice(&tiff);
    j.extend_from_slice(&jpeg[2..]);
    j
}

fn run(spec: &str, src: &[u8]) -> Result<Output, ImageError> {
    let p = parse(spec)?;
    process(&p, src, &HashMap::new(), &Limits::default())
}

fn dims(out: &Output) -> (u32, u32) {
    let p = codec::probe(&out.bytes).unwrap();
    (p.width, p.height)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    encode_test(Img::solid_rgb(w, h, [50, 100, 150]), OutFormat::Png)
}

fn jpg(w: u32, h: u32) -> Vec<u8> {
    encode_test(Img::solid_rgb(w, h, [50, 100, 150]), OutFormat::Jpg)
}

fn gif_anim(w: u32, h: u32, n: usize) -> Vec<u8> {
    anim(w, h, n, OutFormat::Gif)
}

/// A lossless animated WebP: frame `i` is solid red `40 * i`, shown `100 * (i + 1)` ms.
fn webp_anim(w: u32, h: u32, n: usize) -> Vec<u8> {
    anim(w, h, n, OutFormat::Webp)
}

fn anim(w: u32, h: u32, n: usize, fmt: OutFormat) -> Vec<u8> {
    let frames = (0..n)
        .map(|i| Frame {
            img: Img::solid_rgb(w, h, [(i * 40) as u8, 0, 0]),
            delay_ms: match fmt {
                OutFormat::Gif => 100,
                _ => 100 * (i as u32 + 1),
            },
        })
        .collect();
    codec::encode(
        Picture::animation(frames),
        fmt,
        codec::EncodeOpts {
            quality: 90,
            progressive: false,
            webp_lossless: true,
        },
        &Limits::default(),
    )
    .unwrap()
}

/// Every frame of an output: (red at the centre, delay).
fn frames_of(out: &Output) -> Vec<(u8, u32)> {
    let p = codec::probe(&out.bytes).unwrap();
    let pic = codec::decode(&out.bytes, &p, true, &Limits::default()).unwrap();
    assert_eq!(pic.frames.len() as u32, p.frames);
    let (w, h) = pic.dims();
    pic.frames
        .iter()
        .map(|f| (f.img.rgb_at(w / 2, h / 2)[0], f.delay_ms))
        .collect()
}

fn near_frames(got: &[(u8, u32)], want: &[(u8, u32)]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| g.0.abs_diff(w.0) <= 6 && g.1 == w.1)
}

#[test]
fn parse_grammar_errors() {
    assert_eq!(parse("image/").unwrap_err().ec, Some(ec::NO_ACTION));
    assert_eq!(parse("image").unwrap_err().ec, Some(ec::NO_ACTION));
    let e = parse("image/slim,1").unwrap_err();
    assert_eq!(
        (e.code, e.status, e.ec),
        ("InvalidArgument", 400, Some(ec::UNKNOWN_ACTION))
    );
    assert_eq!(
        parse("image/resize").unwrap_err().ec,
        Some(ec::RESIZE_EMPTY)
    );
    assert_eq!(
        parse("image/format").unwrap_err().ec,
        Some(ec::FORMAT_MISSING)
    );
    assert_eq!(
        parse("image/format,dng").unwrap_err().ec,
        Some(ec::FORMAT_INVALID)
    );
    assert_eq!(
        parse("image/rotate,90,200,300").unwrap_err().ec,
        Some(ec::TOO_MANY_VALUES)
    );
    assert_eq!(
        parse("image/crop,w_500,h_500,g_fac").unwrap_err().ec,
        Some(ec::CROP_GRAVITY)
    );
    assert_eq!(
        parse("image/resize,m_abc,w_1").unwrap_err().ec,
        Some(ec::RESIZE_MODE)
    );
    assert_eq!(
        parse("image/watermark").unwrap_err().ec,
        Some(ec::WM_NOTHING)
    );
    // The repeated-`image/` mistake from the field.
    let e = parse("image/resize,w_100/image/quality,q_80").unwrap_err();
    assert_eq!(e.ec, Some(ec::UNKNOWN_ACTION));
    let e = parse("image/quality,q_image").unwrap_err();
    assert_eq!(
        e.message,
        "The value: image of parameter: q is invalid.reason:Value must be digit (quality)"
    );
    assert!(parse("style/foo").is_err());
    // Every action parses.
    let all = "image/resize,m_pad,w_10,h_10,color_FF0000/crop,w_5,h_5,g_center/indexcrop,x_2,i_1/\
               circle,r_2/rounded-corners,r_1/rotate,45/auto-orient,1/blur,r_3,s_2/bright,10/\
               contrast,-10/sharpen,100/format,png/quality,Q_80/interlace,1/\
               watermark,text_aGk/average-hue/info";
    assert_eq!(parse(all).unwrap().steps().len(), 17);
}

#[test]
fn normalized_is_stable() {
    let a = parse("image/resize,w_100/format,png").unwrap();
    let b = parse("image/resize,limit_1,m_lfit,w_100,/format,png").unwrap();
    assert_eq!(a.normalized(), b.normalized());
    assert_eq!(
        a.normalized(),
        "image/resize,m_lfit,w_100,limit_1/format,png"
    );
    let c = parse("image/watermark,text_aGVsbG8g5Zu+54mH5pyN5Yqh77yB").unwrap();
    let d = parse("image/watermark,text_aGVsbG8g5Zu-54mH5pyN5Yqh77yB,g_se,t_100").unwrap();
    assert_eq!(c.normalized(), d.normalized());
    assert_ne!(a.normalized(), c.normalized());
}

#[test]
fn watermark_objects_listed() {
    let p = parse("image/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA/watermark,image_cGFuZGEucG5n,g_nw/watermark,image_aW1hZ2UvcGFuZGEucG5n").unwrap();
    assert_eq!(p.watermark_objects(), vec!["panda.png", "image/panda.png"]);
}

#[test]
fn resize_keeps_format_and_sizes() {
    let out = run("image/resize,w_100", &jpg(400, 267)).unwrap();
    assert_eq!(out.content_type, "image/jpeg");
    assert_eq!(dims(&out), (100, 67));
    let out = run("image/resize,m_fill,w_150,h_80", &png(200, 100)).unwrap();
    assert_eq!(out.content_type, "image/png");
    assert_eq!(dims(&out), (150, 80));
    // limit_1: not enlarged, still re-encoded.
    let out = run("image/resize,w_500", &png(200, 100)).unwrap();
    assert_eq!(dims(&out), (200, 100));
    let e = run("image/resize,m_fixed,w_5000,h_5000,limit_0", &png(20, 20)).unwrap_err();
    assert_eq!(e.ec, Some(ec::RESIZE_TOO_LARGE));
}

#[test]
fn format_quality_interlace() {
    let out = run("image/format,png", &jpg(40, 30)).unwrap();
    assert_eq!((out.content_type, dims(&out)), ("image/png", (40, 30)));
    for (f, ct) in [
        ("webp", "image/webp"),
        ("bmp", "image/bmp"),
        ("tiff", "image/tiff"),
        ("jpg", "image/jpeg"),
    ] {
        let out = run(&format!("image/format,{f}"), &png(12, 9)).unwrap();
        assert_eq!(out.content_type, ct);
        assert_eq!(dims(&out), (12, 9));
    }
    // gif on a non-GIF source keeps the source format.
    assert_eq!(
        run("image/format,gif", &png(5, 5)).unwrap().content_type,
        "image/png"
    );
    let out = run("image/interlace,1/format,jpg", &png(16, 16)).unwrap();
    assert!(out.bytes.windows(2).any(|w| w == [0xFF, 0xC2]));
    let out = run("image/quality,Q_50", &jpg(16, 16)).unwrap();
    assert_eq!(codec::jpeg_quality(&out.bytes), Some(50));
    // Relative: 90 % of the estimated source quality (90) = 81.
    let out = run("image/quality,q_90", &jpg(16, 16)).unwrap();
    assert!(codec::jpeg_quality(&out.bytes).unwrap().abs_diff(81) <= 1);
    // HEIC output needs libheif built with x265; without it, 501 before decoding.
    match run("image/format,heic", &png(5, 5)) {
        Ok(out) => {
            assert!(codec::heif::can_encode());
            assert_eq!(out.content_type, "image/heic");
            assert_eq!(&out.bytes[4..12], b"ftypheic");
            assert_eq!(codec::heif::dims(&out.bytes), Some((5, 5)));
            // Thin pictures: what x265 takes, and a 400 past it (not x265's error, a 500).
            let max = codec::MAX_HEIC_THIN_SIDE;
            for dims in [(max, 1), (31, max), (32, max + 1)] {
                let out = run("image/format,heic", &png(dims.0, dims.1)).unwrap();
                assert_eq!(codec::heif::dims(&out.bytes), Some(dims));
            }
            for (w, h) in [(max + 1, 31), (1, max + 1)] {
                let e = run("image/format,heic", &png(w, h)).unwrap_err();
                assert_eq!(e.code, "ImageTooLarge", "{w}x{h}");
            }
        }
        Err(e) => {
            assert!(!codec::heif::can_encode());
            assert_eq!(e.code, "NotImplemented");
        }
    }
}

/// Width and height from an AVIF's `ispe` (image spatial extents) property.
fn avif_ispe(b: &[u8]) -> (u32, u32) {
    let i = b.windows(4).position(|w| w == b"ispe").unwrap();
    let be = |o: usize| u32::from_be_bytes(b[i + o..i + o + 4].try_into().unwrap());
    (be(8), be(12))
}

#[test]
fn the_largest_avif_output_fits_the_default_cost_budget() {
    // Decoding a JPEG of that size (3 per pixel) and encoding it as AVIF: what
    // max_output_pixels allows, max_cost does not refuse.
    let l = Limits::default();
    let cost = l.max_output_pixels * (3 + AVIF_COST_PER_PIXEL);
    assert!(cost.div_ceil(1_000_000) <= l.max_cost, "{cost}");
}

#[test]
fn avif_output() {
    let out = run("image/resize,w_33/format,avif", &jpg(64, 48)).unwrap();
    assert_eq!(out.content_type, "image/avif");
    assert_eq!(&out.bytes[4..12], b"ftypavif");
    assert_eq!(avif_ispe(&out.bytes), (33, 25));
    // An alpha source keeps an alpha plane (an auxiliary image).
    let out = run(
        "image/format,avif",
        &encode_test(Img::solid_rgba(8, 8, [1, 2, 3, 100]), OutFormat::Png),
    )
    .unwrap();
    assert!(out.bytes.windows(5).any(|w| w == b"alpha"));
    // Quality changes the size.
    let src = textured_jpg(160, 120);
    let low = run("image/format,avif/quality,Q_20", &src).unwrap();
    let high = run("image/format,avif/quality,Q_95", &src).unwrap();
    assert!(low.bytes.len() < high.bytes.len());
}

#[test]
fn alpha_flattened_to_white_for_jpg() {
    let out = run("image/circle,r_5/format,jpg", &png(40, 40)).unwrap();
    let p = codec::probe(&out.bytes).unwrap();
    let pic = codec::decode(&out.bytes, &p, false, &Limits::default()).unwrap();
    assert_eq!(pic.dims(), (11, 11));
    assert!(pic.first().rgb_at(0, 0).iter().all(|&v| v > 245));
    let out = run("image/circle,r_5/format,png", &png(40, 40)).unwrap();
    let p = codec::probe(&out.bytes).unwrap();
    let pic = codec::decode(&out.bytes, &p, false, &Limits::default()).unwrap();
    assert_eq!(pic.first().rgba_at(0, 0)[3], 0);
}

#[test]
fn auto_orient_before_chain() {
    // 424x333 with Orientation 7 + resize,w_100/auto-orient,1 → 100x127 (spec §1.3).
    let src = with_exif(&jpg(424, 333), 7);
    let out = run("image/resize,w_100/auto-orient,1", &src).unwrap();
    assert_eq!(dims(&out), (100, 127));
    // Without auto-orient the stored orientation is kept.
    let out = run("image/resize,w_100", &src).unwrap();
    assert_eq!(dims(&out), (100, 79));
    // EXIF is stripped from the output.
    assert!(codec::read_exif(&out.bytes).is_none());
}

#[test]
fn rotate_and_crop_end_to_end() {
    let out = run("image/rotate,90", &jpg(400, 267)).unwrap();
    assert_eq!(dims(&out), (267, 400));
    let out = run("image/crop,w_100,h_100,x_100,y_100,r_1", &jpg(400, 267)).unwrap();
    assert_eq!(dims(&out), (100, 100));
    let e = run("image/crop,x_500", &jpg(400, 267)).unwrap_err();
    assert_eq!(e.message, "Advance cut's position is out of image.");
    let out = run("image/indexcrop,y_100,i_10", &jpg(400, 267)).unwrap();
    assert_eq!(dims(&out), (400, 267));
}

#[test]
fn info_and_average_hue() {
    let src = png(400, 267);
    let out = run("image/info", &src).unwrap();
    assert_eq!(out.content_type, "application/json");
    let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
    assert_eq!(v["ImageWidth"]["value"], "400");
    assert_eq!(v["Format"]["value"], "png");
    // info after other actions reports the source.
    let out = run("image/resize,p_50/info", &src).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
    assert_eq!(v["ImageWidth"]["value"], "400");
    // info on a too-large header still answers from the header.
    let out = run("image/average-hue", &src).unwrap();
    assert_eq!(out.bytes, br#"{"RGB":"0x326496"}"#);
}

#[test]
fn animated_gif_keeps_frames() {
    let src = gif_anim(40, 20, 3);
    let p = codec::probe(&src).unwrap();
    assert_eq!((p.width, p.height, p.frames), (40, 20, 3));
    let out = run("image/resize,w_20/crop,w_10,h_10", &src).unwrap();
    assert_eq!(out.content_type, "image/gif");
    let p = codec::probe(&out.bytes).unwrap();
    assert_eq!((p.width, p.height, p.frames), (10, 10, 3));
    let pic = codec::decode(&out.bytes, &p, true, &Limits::default()).unwrap();
    assert_eq!(pic.frames.len(), 3);
    assert!(pic.frames[2].img.rgb_at(5, 5)[0] > 60);
    // p → static; never enlarged even with limit_0.
    let out = run("image/resize,p_50", &src).unwrap();
    assert_eq!(codec::probe(&out.bytes).unwrap().frames, 1);
    let out = run("image/resize,w_80,limit_0", &src).unwrap();
    assert_eq!(dims(&out), (40, 20));
    // Frames count in the pixel limit.
    let limits = Limits {
        max_pixels: 40 * 20 * 2,
        ..Limits::default()
    };
    let e = process(
        &parse("image/resize,w_10").unwrap(),
        &src,
        &HashMap::new(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE_RESIZE));
    // Converting to png keeps the first frame.
    let out = run("image/format,png", &src).unwrap();
    assert_eq!(out.content_type, "image/png");
}

#[test]
fn animated_webp_keeps_frames() {
    let src = webp_anim(40, 20, 3);
    let p = codec::probe(&src).unwrap();
    assert_eq!(
        (p.format, p.width, p.height, p.frames),
        (SrcFormat::WebP, 40, 20, 3)
    );
    let want = [(0, 100), (40, 200), (80, 300)];
    // Every step runs on every frame; delays are kept.
    let out = run("image/resize,w_20/crop,w_10,h_6/rotate,90", &src).unwrap();
    assert_eq!((out.content_type, dims(&out)), ("image/webp", (6, 10)));
    let got = frames_of(&out);
    assert!(near_frames(&got, &want), "{got:?}");
    // `format,gif` on a non-GIF source keeps the source format (spec §8.1), animated.
    let out = run("image/format,gif", &src).unwrap();
    assert_eq!(out.content_type, "image/webp");
    assert_eq!(frames_of(&out).len(), 3);
    // Resize by `p` gives a still, as for GIF (spec §2); WebP is enlarged like a still.
    let out = run("image/resize,p_50", &src).unwrap();
    assert_eq!((dims(&out), frames_of(&out).len()), ((20, 10), 1));
    let out = run("image/resize,w_80,limit_0", &src).unwrap();
    assert_eq!((dims(&out), frames_of(&out).len()), ((80, 40), 3));
    // Formats without animation take the first frame.
    for f in ["png", "jpg", "bmp", "tiff"] {
        let out = run(&format!("image/format,{f}"), &src).unwrap();
        assert_eq!(codec::probe(&out.bytes).unwrap().frames, 1, "{f}");
        assert!(decoded(&out).rgb_at(5, 5)[0] < 6, "{f}");
    }
    // Frames count in the pixel limit, from the header.
    let limits = Limits {
        max_pixels: 40 * 20 * 2,
        ..Limits::default()
    };
    let e = process(
        &parse("image/format,webp").unwrap(),
        &src,
        &HashMap::new(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE));
}

#[test]
fn animated_gif_to_webp_keeps_frames() {
    // OSS converts an animated GIF to an animated WebP.
    let src = gif_anim(40, 20, 3);
    let out = run("image/resize,w_20/format,webp", &src).unwrap();
    assert_eq!((out.content_type, dims(&out)), ("image/webp", (20, 10)));
    let got = frames_of(&out);
    assert!(
        near_frames(&got, &[(0, 100), (40, 100), (80, 100)]),
        "{got:?}"
    );
    let out = run("image/resize,p_50/format,webp", &src).unwrap();
    assert_eq!(frames_of(&out).len(), 1);
}

#[test]
fn auto_format_applies_only_where_the_chain_leaves_it_open() {
    let auto = |spec: &str, f: OutFormat, src: &[u8]| {
        let p = parse(spec).unwrap().with_auto_format(f);
        process(&p, src, &HashMap::new(), &Limits::default()).unwrap()
    };
    let out = auto("image/resize,w_20", OutFormat::Webp, &jpg(40, 20));
    assert_eq!((out.content_type, dims(&out)), ("image/webp", (20, 10)));
    // An explicit format wins.
    let out = auto(
        "image/resize,w_20/format,png",
        OutFormat::Webp,
        &jpg(40, 20),
    );
    assert_eq!(out.content_type, "image/png");
    // An animation stays one: WebP can carry it, AVIF (a still here) cannot.
    let src = gif_anim(40, 20, 3);
    let out = auto("image/resize,w_20", OutFormat::Webp, &src);
    assert_eq!((out.content_type, frames_of(&out).len()), ("image/webp", 3));
    let out = auto("image/resize,w_20", OutFormat::Avif, &src);
    assert_eq!((out.content_type, frames_of(&out).len()), ("image/gif", 3));
}

#[test]
fn animated_webp_quality() {
    // Textured frames (a tint each), so that quality shows in the size.
    let frames: Vec<Frame> = (0..3u8)
        .map(|i| {
            let Img::Rgb(mut img) = textured_rgb(120, 80) else {
                unreachable!()
            };
            img.pixels_mut()
                .for_each(|p| p.0[1] = p.0[1].wrapping_add(i * 70));
            Frame {
                img: Img::Rgb(img),
                delay_ms: 80,
            }
        })
        .collect();
    let opts = codec::EncodeOpts {
        quality: 90,
        progressive: false,
        webp_lossless: true,
    };
    let pic = Picture::animation(frames.clone());
    let src = codec::encode(pic, OutFormat::Webp, opts, &Limits::default()).unwrap();
    // Q_100 is lossless: every frame comes back as decoded from the source, give or take
    // the one level image-webp loses when it blends an opaque pixel onto the canvas.
    let decode_all = |b: &[u8]| {
        let p = codec::probe(b).unwrap();
        codec::decode(b, &p, true, &Limits::default())
            .unwrap()
            .frames
    };
    let lossless = run("image/quality,Q_100", &src).unwrap();
    let (got, want) = (decode_all(&lossless.bytes), decode_all(&src));
    assert_eq!(got.len(), 3);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let (g, w) = (g.img.clone().into_rgba(), w.img.clone().into_rgba());
        let worst = g.iter().zip(w.iter()).map(|(a, b)| a.abs_diff(*b)).max();
        assert!(worst <= Some(1), "frame {i}: {worst:?}");
    }
    let low = run("image/quality,Q_20", &src).unwrap();
    let high = run("image/quality,Q_90", &src).unwrap();
    assert_eq!(frames_of(&low).len(), 3);
    assert!(low.bytes.len() < high.bytes.len());
}

#[test]
fn limits_from_header() {
    let limits = Limits {
        max_side: 100,
        ..Limits::default()
    };
    let e = process(
        &parse("image/format,png").unwrap(),
        &png(101, 5),
        &HashMap::new(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.ec),
        ("ImageTooLarge", Some(ec::SOURCE_TOO_LARGE))
    );
    let limits = Limits {
        max_source_bytes: 10,
        ..Limits::default()
    };
    assert!(
        process(
            &parse("image/format,png").unwrap(),
            &png(5, 5),
            &HashMap::new(),
            &limits
        )
        .is_err()
    );
    let e = run("image/resize,w_10", b"not an image").unwrap_err();
    assert_eq!(e.ec, Some(ec::UNSUPPORTED_FORMAT));
}

#[test]
fn watermark_missing_and_limits() {
    let p = parse("image/watermark,image_cGFuZGEucG5n").unwrap();
    let e = process(&p, &png(20, 20), &HashMap::new(), &Limits::default()).unwrap_err();
    assert_eq!(e.ec, Some(ec::WATERMARK_MISSING));
    let spec = format!(
        "image/watermark,image_{}/watermark,image_{}/watermark,image_{}/watermark,image_{}",
        parse::b64_encode(b"a"),
        parse::b64_encode(b"b"),
        parse::b64_encode(b"c"),
        parse::b64_encode(b"d")
    );
    let p = parse(&spec).unwrap();
    let marks: HashMap<String, Vec<u8>> = ["a", "b", "c", "d"]
        .iter()
        .map(|k| (k.to_string(), png(2, 2)))
        .collect();
    assert!(process(&p, &png(20, 20), &marks, &Limits::default()).is_err());
}

#[test]
fn text_watermark_without_font_is_explicit() {
    // No test registers a font, so this must be a clear error, never a silent no-op.
    let p = parse("image/watermark,text_aGk").unwrap();
    let e = process(&p, &png(20, 20), &HashMap::new(), &Limits::default()).unwrap_err();
    assert_eq!((e.code, e.status), ("NotImplemented", 501));
}

/// Tiny deterministic PRNG.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn fuzz_parse_never_panics() {
    let seeds = [
        "image/resize,m_pad,w_10,h_10,color_FF0000",
        "image/crop,w_5,h_5,g_center,x_1,y_1",
        "image/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA,t_50,g_nw",
        "image/watermark,text_aGVsbG8g5Zu+54mH5pyN5Yqh77yB,type_d3F5LXplbmhlaQ,size_30,fill_1",
        "image/indexcrop,x_2,i_1/circle,r_2/rounded-corners,r_1/rotate,45/auto-orient,1",
        "image/blur,r_3,s_2/bright,10/contrast,-10/sharpen,100/format,png/quality,Q_80/interlace,1",
        "image/info",
        "image/average-hue",
    ];
    let alphabet: Vec<char> = "image/,_-0123456789abcdefghijklmnopqrstuvwxyzQP=+%|\u{4e2d} "
        .chars()
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000 {
        let s: String = if i % 3 == 0 {
            let n = rng.below(60);
            (0..n)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        } else {
            let mut c: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
            for _ in 0..1 + rng.below(4) {
                let pos = rng.below(c.len() + 1);
                match rng.below(3) {
                    0 if pos < c.len() => {
                        c.remove(pos);
                    }
                    1 => c.insert(pos, alphabet[rng.below(alphabet.len())]),
                    _ if pos < c.len() => c[pos] = alphabet[rng.below(alphabet.len())],
                    _ => {}
                }
            }
            c.into_iter().collect()
        };
        if let Ok(p) = parse(&s) {
            let _ = p.normalized();
            let _ = p.watermark_objects();
            // A normalized pipeline parses back to the same normalized text.
            let again =
                parse(&p.normalized()).unwrap_or_else(|e| panic!("{}: {e}", p.normalized()));
            assert_eq!(again.normalized(), p.normalized(), "{s}");
        }
    }
}

#[test]
fn fuzz_corrupt_images_never_panic() {
    let sources = [
        png(17, 9),
        jpg(17, 9),
        encode_test(Img::solid_rgba(17, 9, [1, 2, 3, 4]), OutFormat::Webp),
        encode_test(Img::solid_rgb(17, 9, [1, 2, 3]), OutFormat::Bmp),
        encode_test(Img::solid_rgb(17, 9, [1, 2, 3]), OutFormat::Tiff),
        gif_anim(17, 9, 3),
        webp_anim(17, 9, 3),
        with_exif(&jpg(17, 9), 6),
        HEIC.to_vec(),
        AVIF.to_vec(),
    ];
    let pipelines = [
        parse("image/resize,w_8/format,png").unwrap(),
        parse("image/resize,w_8/format,webp").unwrap(),
        parse("image/auto-orient,1/rotate,30/format,jpg").unwrap(),
        parse("image/info").unwrap(),
    ];
    let limits = Limits {
        max_pixels: 4_000_000,
        max_side: 4000,
        ..Limits::default()
    };
    let mut rng = Rng(12345);
    for i in 0..1500 {
        let src = &sources[i % sources.len()];
        let mut b = src.clone();
        match rng.below(3) {
            0 => b.truncate(rng.below(b.len())),
            1 => {
                for _ in 0..1 + rng.below(8) {
                    let p = rng.below(b.len());
                    b[p] = rng.next() as u8;
                }
            }
            _ => {
                let p = rng.below(b.len());
                b.truncate(p);
                let n = rng.below(64);
                b.extend((0..n).map(|_| rng.next() as u8));
            }
        }
        let p = &pipelines[i % pipelines.len()];
        let _ = process(p, &b, &HashMap::new(), &limits);
    }
}

// ---------------------------------------------------------------------------------
// JPEG fast path: shrink-on-load (DCT-scaled decode) and the JPEG codecs
// ---------------------------------------------------------------------------------

/// Smooth gradients with 40 px checker blocks: a JPEG whose downscales can be compared.
fn textured_rgb(w: u32, h: u32) -> Img {
    Img::Rgb(::image::RgbImage::from_fn(w, h, |x, y| {
        let c = if (x / 40 + y / 40) % 2 == 0 { 200 } else { 40 };
        ::image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, c])
    }))
}

fn textured_jpg(w: u32, h: u32) -> Vec<u8> {
    encode_test(textured_rgb(w, h), OutFormat::Jpg)
}

fn decoded(out: &Output) -> Img {
    let p = codec::probe(&out.bytes).unwrap();
    let pic = codec::decode(&out.bytes, &p, false, &Limits::default()).unwrap();
    pic.frames.into_iter().next().unwrap().img
}

fn mean_abs_diff(a: &Img, b: &Img) -> f64 {
    assert_eq!(a.dims(), b.dims());
    let sum: u64 = a
        .raw()
        .iter()
        .zip(b.raw())
        .map(|(x, y)| x.abs_diff(*y) as u64)
        .sum();
    sum as f64 / a.raw().len() as f64
}

#[test]
fn jpeg_shrink_leaves_2x_for_lanczos() {
    let exp = |d: u32| d.min(codec::JPEG_MAX_SHRINK);
    assert_eq!(codec::jpeg_shrink(5120, 2880, 800, 450), exp(2));
    assert_eq!(codec::jpeg_shrink(4000, 3000, 800, 600), exp(2));
    assert_eq!(codec::jpeg_shrink(4000, 3000, 250, 188), exp(4));
    assert_eq!(codec::jpeg_shrink(4000, 3000, 250, 187), exp(8));
    assert_eq!(codec::jpeg_shrink(1000, 1000, 300, 300), 1);
    assert_eq!(codec::jpeg_shrink(400, 267, 100, 67), 1);
}

#[test]
fn shrink_on_load_only_when_resize_comes_first() {
    let src = textured_jpg(1600, 1000);
    let p = codec::probe(&src).unwrap();
    let load = |spec: &str| shrink_on_load(parse(spec).unwrap().steps(), &p, 1);
    if codec::JPEG_MAX_SHRINK < 2 {
        assert_eq!(load("image/resize,w_100"), None);
        return;
    }
    let l = load("image/format,png/quality,q_80/resize,w_100/crop,w_10").unwrap();
    assert_eq!((l.step, l.shrink), (2, 4));
    assert_eq!(load("image/resize,w_200").unwrap().shrink, 4);
    assert_eq!(load("image/resize,w_400").unwrap().shrink, 2);
    assert_eq!(load("image/resize,w_401"), None);
    // A crop right before the resize: planned from the cropped size.
    let l = load("image/crop,w_800,h_500,g_center/resize,w_100").unwrap();
    assert_eq!(
        (l.step, l.shrink, l.crop),
        (1, 2, Some((0, (400, 250, 800, 500))))
    );
    assert_eq!(load("image/crop,w_1600/resize,w_100").unwrap().shrink, 4);
    assert_eq!(load("image/crop,w_800/resize,w_300"), None);
    assert_eq!(load("image/crop,w_800/crop,w_100/resize,w_10"), None);
    assert_eq!(load("image/crop,x_1700/resize,w_10"), None);
    assert_eq!(load("image/rotate,90/resize,w_100"), None);
    assert_eq!(load("image/bright,10/resize,w_100"), None);
    assert_eq!(load("image/resize,w_5000"), None);
    assert_eq!(load("image/format,png"), None);
    // Not for other formats.
    let png = png(1600, 1000);
    let pp = codec::probe(&png).unwrap();
    assert_eq!(
        shrink_on_load(parse("image/resize,w_100").unwrap().steps(), &pp, 1),
        None
    );
}

#[test]
fn shrink_on_load_keeps_exact_sizes_and_pixels() {
    let src = textured_jpg(1600, 1000);
    for spec in [
        "resize,w_100",
        "resize,w_333",
        "resize,h_77",
        "resize,m_fill,w_90,h_60",
        "resize,m_pad,w_100,h_100,color_FF0000",
        "resize,m_fixed,w_120,h_30",
        "resize,m_mfit,w_101,h_40",
        "resize,l_150",
        "resize,s_99",
        "resize,p_10",
        "crop,w_800,h_500,g_center/resize,w_100",
        "crop,x_333,y_77,w_901,h_555/resize,m_fill,w_90,h_60",
        "crop,w_1001,g_se/resize,w_111",
        "crop,x_1500,y_900/resize,w_25",
    ] {
        let fast = run(&format!("image/{spec}"), &src).unwrap();
        // `bright,0` first: no shrink-on-load, the full-size decode path.
        let full = run(&format!("image/bright,0/{spec}"), &src).unwrap();
        assert_eq!(dims(&fast), dims(&full), "{spec}");
        let d = mean_abs_diff(&decoded(&fast), &decoded(&full));
        assert!(d < 4.0, "{spec}: mean abs diff {d}");
    }
    // Output settings before the resize do not stop it.
    let out = run("image/quality,Q_70/format,png/resize,w_100", &src).unwrap();
    assert_eq!((out.content_type, dims(&out)), ("image/png", (100, 63)));
    // info still reports the source.
    let out = run("image/resize,w_100/info", &src).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
    assert_eq!(v["ImageWidth"]["value"], "1600");
    assert_eq!(v["ImageHeight"]["value"], "1000");
}

#[test]
fn shrink_on_load_with_auto_orient() {
    // Stored 1600x1000, Orientation 6 (rotate 90° CW): upright 1000x1600.
    let src = with_exif(&textured_jpg(1600, 1000), 6);
    let out = run("image/auto-orient,1/resize,w_100", &src).unwrap();
    assert_eq!(dims(&out), (100, 160));
    let out = run("image/resize,w_100/auto-orient,1", &src).unwrap();
    assert_eq!(dims(&out), (100, 160));
    let full = run("image/auto-orient,1/bright,0/resize,w_100", &src).unwrap();
    let d = mean_abs_diff(&decoded(&out), &decoded(&full));
    assert!(d < 4.0, "mean abs diff {d}");
    // Without auto-orient the stored orientation is kept.
    let out = run("image/resize,w_100", &src).unwrap();
    assert_eq!(dims(&out), (100, 63));
    // The rotate limit still applies to the source's size.
    let big = with_exif(&textured_jpg(4400, 200), 6);
    let e = run("image/auto-orient,1/resize,w_100", &big).unwrap_err();
    assert!(e.message.contains("too large to rotate"), "{}", e.message);
}

/// A JPEG straight from jpeg-encoder in the given colour type.
fn raw_jpeg(w: u16, h: u16, px: &[u8], ct: jpeg_encoder::ColorType) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(px, w, h, ct)
        .unwrap();
    out
}

#[test]
fn grayscale_and_cmyk_jpegs_decode() {
    let (w, h) = (640u32, 480u32);
    let gray: Vec<u8> = (0..w * h).map(|i| ((i % w) * 255 / w) as u8).collect();
    let cmyk: Vec<u8> = (0..w * h)
        .flat_map(|i| [((i % w) * 255 / w) as u8, 60, 120, 30])
        .collect();
    for (name, b) in [
        (
            "gray",
            raw_jpeg(w as u16, h as u16, &gray, jpeg_encoder::ColorType::Luma),
        ),
        (
            "cmyk",
            raw_jpeg(w as u16, h as u16, &cmyk, jpeg_encoder::ColorType::Cmyk),
        ),
        (
            "ycck",
            raw_jpeg(w as u16, h as u16, &cmyk, jpeg_encoder::ColorType::Ycck),
        ),
    ] {
        let p = codec::probe(&b).unwrap();
        let ours = codec::decode(&b, &p, false, &Limits::default()).unwrap();
        let reference = ::image::load_from_memory(&b).unwrap().into_rgb8();
        let reference = Img::Rgb(reference);
        assert_eq!(ours.dims(), (w, h), "{name}");
        let d = mean_abs_diff(ours.first(), &reference);
        assert!(d < 1.5, "{name}: mean abs diff {d}");
        // And through shrink-on-load.
        let out = run("image/resize,w_100", &b).unwrap();
        assert_eq!(dims(&out), (100, 75), "{name}");
    }
}

#[test]
fn corrupt_jpegs_are_errors_not_panics() {
    let src = textured_jpg(1600, 1000);
    let limits = Limits::default();
    for cut in [3, 100, 400, src.len() / 3, src.len() / 2, src.len() - 10] {
        let b = &src[..cut];
        // Truncated anywhere, mid-scan included: refused, not padded with grey rows.
        for spec in [
            "image/resize,w_100",
            "image/format,png",
            "image/average-hue",
        ] {
            let e = process(&parse(spec).unwrap(), b, &HashMap::new(), &limits).unwrap_err();
            assert_eq!(
                (e.status, e.ec),
                (400, Some(ec::UNSUPPORTED_FORMAT)),
                "{cut} {spec}: {e:?}"
            );
        }
    }
    // A truncated progressive JPEG too; whole, it decodes through shrink-on-load.
    let progressive = run("image/interlace,1", &src).unwrap().bytes;
    assert!(run("image/resize,w_100", &progressive).is_ok());
    let cut = &progressive[..progressive.len() * 2 / 3];
    assert!(run("image/resize,w_100", cut).is_err());
    // Bytes after the EOI are ignored.
    let mut tail = src.clone();
    tail.extend_from_slice(b"\xFF\xD8 trailing bytes");
    assert_eq!(dims(&run("image/resize,w_100", &tail).unwrap()), (100, 63));
    // Garbage after a valid header.
    let mut b = src[..600].to_vec();
    b.extend(std::iter::repeat_n(0x5Au8, 5000));
    let _ = run("image/resize,w_100", &b);
}

#[test]
fn jpeg_output_subsampling_and_progressive() {
    /// Luma sampling factors from the SOF marker, and whether it is progressive.
    fn sof(b: &[u8]) -> (u8, bool) {
        let mut i = 2;
        while i + 4 <= b.len() {
            let m = b[i + 1];
            let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
            if m == 0xC0 || m == 0xC1 || m == 0xC2 {
                return (b[i + 11], m == 0xC2);
            }
            i += 2 + len;
        }
        panic!("no SOF")
    }
    let src = textured_jpg(320, 200);
    let out = run("image/quality,Q_80", &src).unwrap();
    assert_eq!(sof(&out.bytes), (0x22, false));
    let out = run("image/quality,Q_95", &src).unwrap();
    assert_eq!(sof(&out.bytes), (0x11, false));
    let out = run("image/interlace,1/quality,Q_80", &src).unwrap();
    assert_eq!(sof(&out.bytes), (0x22, true));
    let d = mean_abs_diff(&decoded(&out), &textured_rgb(320, 200));
    assert!(d < 3.0, "mean abs diff {d}");
}

// ---------------------------------------------------------------------------------
// ICC profiles
// ---------------------------------------------------------------------------------

use super::codec::icc::{self, tests::SRGB};

/// A 64x48 gradient written by the `image` crate's own encoder for `fmt`, with `icc`.
fn with_profile(fmt: OutFormat, icc: &[u8]) -> Vec<u8> {
    use ::image::codecs::{jpeg::JpegEncoder, png::PngEncoder, tiff::TiffEncoder};
    use ::image::{ExtendedColorType, ImageEncoder};
    fn put<E: ImageEncoder>(mut e: E, icc: &[u8]) {
        let img =
            ::image::RgbImage::from_fn(64, 48, |x, y| ::image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
        e.set_icc_profile(icc.to_vec()).unwrap();
        e.write_image(img.as_raw(), 64, 48, ExtendedColorType::Rgb8)
            .unwrap();
    }
    let mut out = Vec::new();
    match fmt {
        OutFormat::Jpg => put(JpegEncoder::new_with_quality(&mut out, 90), icc),
        OutFormat::Png => put(PngEncoder::new(&mut out), icc),
        OutFormat::Webp => put(
            ::image::codecs::webp::WebPEncoder::new_lossless(&mut out),
            icc,
        ),
        OutFormat::Tiff => put(TiffEncoder::new(std::io::Cursor::new(&mut out)), icc),
        _ => unreachable!("{fmt:?}"),
    }
    out
}

/// The profile an output carries, as the `image` crate's decoders read it (unfiltered).
fn profile_of(b: &[u8]) -> Option<Vec<u8>> {
    use ::image::ImageDecoder;
    use ::image::codecs::{gif::GifDecoder, webp::WebPDecoder};
    use ::image::codecs::{jpeg::JpegDecoder, png::PngDecoder, tiff::TiffDecoder};
    let c = std::io::Cursor::new(b);
    match codec::sniff(b).unwrap() {
        SrcFormat::Jpeg => JpegDecoder::new(c).unwrap().icc_profile(),
        SrcFormat::Png => PngDecoder::new(c).unwrap().icc_profile(),
        SrcFormat::WebP => WebPDecoder::new(c).unwrap().icc_profile(),
        SrcFormat::Tiff => TiffDecoder::new(c).unwrap().icc_profile(),
        SrcFormat::Gif => GifDecoder::new(c).unwrap().icc_profile(),
        _ => Ok(None),
    }
    .unwrap()
}

/// `SRGB` grown to `len` bytes (padding after the tags; size field updated): still a
/// valid profile, large enough to need several JPEG APP2 segments.
fn padded_srgb(len: usize) -> Vec<u8> {
    let mut p = SRGB.to_vec();
    p.resize(len, 0);
    p[0..4].copy_from_slice(&(len as u32).to_be_bytes());
    p
}

#[test]
fn icc_profile_travels_through_resize_to_jpg_png_webp_tiff() {
    for src_fmt in [
        OutFormat::Jpg,
        OutFormat::Png,
        OutFormat::Webp,
        OutFormat::Tiff,
    ] {
        let src = with_profile(src_fmt, SRGB);
        assert_eq!(
            profile_of(&src).as_deref(),
            Some(SRGB),
            "{src_fmt:?} source"
        );
        for out_fmt in ["jpg", "png", "webp", "tiff"] {
            let out = run(&format!("image/resize,w_32/format,{out_fmt}"), &src).unwrap();
            assert_eq!(dims(&out), (32, 24));
            assert_eq!(
                profile_of(&out.bytes).as_deref(),
                Some(SRGB),
                "{src_fmt:?} -> {out_fmt}"
            );
        }
        // Formats without room for it drop it quietly.
        for out_fmt in ["bmp", "gif"] {
            assert!(run(&format!("image/format,{out_fmt}"), &src).is_ok());
        }
    }
    // Without a profile, none is made up.
    let out = run("image/resize,w_10/format,webp", &png(40, 30)).unwrap();
    assert_eq!(profile_of(&out.bytes), None);
    let out = run("image/resize,w_10", &jpg(40, 30)).unwrap();
    assert_eq!(profile_of(&out.bytes), None);
}

#[test]
fn large_icc_profile_spans_jpeg_segments() {
    let big = padded_srgb(150_000);
    assert!(icc::usable(&big));
    for src_fmt in [OutFormat::Png, OutFormat::Jpg, OutFormat::Tiff] {
        let src = with_profile(src_fmt, &big);
        for out_fmt in ["jpg", "webp"] {
            let out = run(&format!("image/resize,w_32/format,{out_fmt}"), &src).unwrap();
            assert_eq!(
                profile_of(&out.bytes),
                Some(big.clone()),
                "{src_fmt:?} -> {out_fmt}"
            );
        }
    }
    let out = run("image/format,jpg", &with_profile(OutFormat::Png, &big)).unwrap();
    // The JFIF APP0 segment stays first, as JFIF requires.
    assert_eq!(&out.bytes[2..4], &[0xFF, 0xE0]);
    assert_eq!(&out.bytes[6..11], b"JFIF\0");
    // 150,000 bytes in APP2 segments of at most 65,519.
    let app2 = out
        .bytes
        .windows(16)
        .filter(|w| w[..2] == [0xFF, 0xE2] && &w[4..] == b"ICC_PROFILE\0")
        .count();
    assert_eq!(app2, 3);
}

#[test]
fn unusable_icc_profiles_are_dropped_not_errors() {
    let mut gray = SRGB.to_vec();
    gray[16..20].copy_from_slice(b"GRAY");
    let mut truncated = SRGB[..400].to_vec();
    truncated[0..4].copy_from_slice(&588u32.to_be_bytes());
    let oversized = padded_srgb(icc::MAX_ICC_BYTES + 1);
    for (name, profile) in [
        ("gray", gray),
        ("truncated", truncated),
        ("oversized", oversized),
    ] {
        for src_fmt in [OutFormat::Png, OutFormat::Jpg, OutFormat::Tiff] {
            let src = with_profile(src_fmt, &profile);
            for out_fmt in ["jpg", "png", "webp"] {
                let out = run(&format!("image/resize,w_32/format,{out_fmt}"), &src)
                    .unwrap_or_else(|e| panic!("{name} {src_fmt:?} -> {out_fmt}: {e}"));
                assert_eq!(
                    profile_of(&out.bytes),
                    None,
                    "{name} {src_fmt:?} -> {out_fmt}"
                );
            }
        }
    }
}

#[test]
fn icc_profile_kept_and_exif_stripped() {
    let src = with_exif(&with_profile(OutFormat::Jpg, SRGB), 6);
    assert!(codec::read_exif(&src).is_some());
    for out_fmt in ["jpg", "png", "webp"] {
        let out = run(&format!("image/resize,w_20/format,{out_fmt}"), &src).unwrap();
        assert_eq!(profile_of(&out.bytes).as_deref(), Some(SRGB), "{out_fmt}");
        assert!(codec::read_exif(&out.bytes).is_none(), "{out_fmt}");
    }
}

#[test]
fn animated_webp_keeps_icc_profile() {
    let frames = (0..3)
        .map(|i| Frame {
            img: Img::solid_rgb(40, 20, [i * 80, 0, 0]),
            delay_ms: 100,
        })
        .collect();
    let mut pic = Picture::animation(frames);
    pic.icc = Some(SRGB.to_vec());
    let opts = codec::EncodeOpts {
        quality: 90,
        progressive: false,
        webp_lossless: true,
    };
    let src = codec::encode(pic, OutFormat::Webp, opts, &Limits::default()).unwrap();
    assert_eq!(profile_of(&src).as_deref(), Some(SRGB));
    let out = run("image/resize,w_20", &src).unwrap();
    assert_eq!(frames_of(&out).len(), 3);
    assert_eq!(profile_of(&out.bytes).as_deref(), Some(SRGB));
}

// ---------------------------------------------------------------------------------
// Work budget: steps, cost, memory, time, cancellation; decompression bombs
// ---------------------------------------------------------------------------------

#[test]
fn too_many_steps_are_refused_before_decoding() {
    let spec = format!("image/{}", vec!["blur,r_50,s_50"; 40].join("/"));
    let e = run(&spec, b"not even an image").unwrap_err();
    assert_eq!((e.status, e.code), (400, "InvalidArgument"));
    assert_eq!(
        e.message,
        "The processing spec has 40 steps; at most 20 are allowed ([image] max_steps)."
    );
}

#[test]
fn a_costly_spec_is_refused_before_decoding() {
    // 57 characters that asked for 20-32 s of CPU: a 4096x4096 blur of radius 50.
    let spec = "image/resize,w_4096,h_4096,m_fixed,limit_0/blur,r_50,s_50";
    let e = run(spec, &png(64, 48)).unwrap_err();
    assert_eq!((e.status, e.code), (400, "ImageTooLarge"));
    assert!(e.message.contains("([image] max_cost)"), "{}", e.message);
    // The documented example stays cheap.
    assert!(run("image/blur,r_3,s_2", &png(400, 267)).is_ok());
}

#[test]
fn the_time_budget_stops_a_long_step() {
    let limits = Limits {
        max_time_ms: 1,
        max_cost: u64::MAX,
        ..Limits::default()
    };
    let p = parse("image/blur,r_50,s_50").unwrap();
    let e = process(&p, &png(1500, 1500), &HashMap::new(), &limits).unwrap_err();
    assert_eq!((e.status, e.code), (400, "ImageTooLarge"));
    assert!(e.message.contains("([image] max_time_ms)"), "{}", e.message);
}

#[test]
fn cancellation_stops_inside_a_step() {
    let p = parse("image/blur,r_3,s_2/bright,10").unwrap();
    let calls = std::cell::Cell::new(0);
    let gone = || {
        calls.set(calls.get() + 1);
        calls.get() > 5
    };
    let e = process_cancellable(&p, &png(40, 40), &HashMap::new(), &Limits::default(), &gone)
        .unwrap_err();
    assert!(e.message.contains("cancelled"), "{}", e.message);
    // Checked before decoding and before the blur, then in its rows: stopped there.
    assert_eq!(calls.get(), 6);
}

/// A real 8x8 JPEG (one block per component, then EOI) whose SOF declares `w`x`h`.
fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut j = jpg(8, 8);
    let sof = j.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

/// An RLE8 BMP declaring `w`x`h` whose data is a lone end-of-bitmap.
fn rle_bmp_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"BM".to_vec();
    b.extend_from_slice(&(54u32 + 8 + 2).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&(54u32 + 8).to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&w.to_le_bytes());
    b.extend_from_slice(&h.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes()); // BI_RLE8
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&2u32.to_le_bytes()); // two palette colours
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 0]);
    b.extend_from_slice(&[0, 1]);
    b
}

/// A GIF with a `w`x`h` canvas and `n` frames of one pixel each.
fn gif_declaring(w: u16, h: u16, n: usize) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&w.to_le_bytes());
    g.extend_from_slice(&h.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    for _ in 0..n {
        g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        // LZW, minimum code size 2: clear, index 0, end.
        g.extend_from_slice(&[2, 2, 0x44, 0x01, 0]);
    }
    g.push(0x3B);
    g
}

/// A PNG header declaring `w`x`h` RGBA and no pixel data.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0]);
    let crc = codec::tests::crc32(&b[12..29]);
    b.extend_from_slice(&crc.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(b"IEND");
    b.extend_from_slice(&codec::tests::crc32(b"IEND").to_be_bytes());
    b
}

#[test]
fn implausibly_small_files_are_refused() {
    // 4000x4000 needs 250,000 blocks, at least 31,250 bytes of scan data.
    let bomb = jpeg_declaring(4000, 4000);
    assert!(bomb.len() < 1000);
    for spec in ["image/resize,w_100", "image/format,png"] {
        let e = run(spec, &bomb).unwrap_err();
        assert_eq!((e.code, e.ec), ("BadRequest", Some(ec::UNSUPPORTED_FORMAT)));
        assert!(e.message.contains("4000x4000"), "{}", e.message);
    }
    assert!(run("image/resize,w_100", &jpeg_declaring(8, 8)).is_ok());
    let e = run("image/format,png", &rle_bmp_declaring(3000, 3000)).unwrap_err();
    assert_eq!(e.code, "BadRequest", "{}", e.message);
    assert!(run("image/format,png", &rle_bmp_declaring(30, 30)).is_ok());
}

#[test]
fn decoded_sizes_count_against_the_memory_budget() {
    let memory = |e: ImageError| {
        assert_eq!((e.status, e.code), (400, "ImageTooLarge"));
        assert!(
            e.message.contains("([image] max_memory_mb)"),
            "{}",
            e.message
        );
    };
    // 15000x15000 from 331 bytes: 675 MB of RGB, refused from the header.
    memory(run("image/format,png", &jpeg_declaring(15000, 15000)).unwrap_err());
    memory(run("image/format,png", &rle_bmp_declaring(15000, 15000)).unwrap_err());
    memory(run("image/format,png", &png_declaring(12000, 12000)).unwrap_err());
    // 999 frames of a 500x500 canvas: within OSS's 250 MP, but 1 GB decoded.
    let gif = gif_declaring(500, 500, 999);
    assert!(gif.len() < 20_000);
    memory(run("image/resize,w_100", &gif).unwrap_err());
    // The budget is configurable; TIFF (and everything else) counts as decoded.
    let small = Limits {
        max_memory: 1 << 20,
        ..Limits::default()
    };
    let tiff = encode_test(Img::solid_rgb(600, 600, [1, 2, 3]), OutFormat::Tiff);
    let p = parse("image/format,jpg").unwrap();
    memory(process(&p, &tiff, &HashMap::new(), &small).unwrap_err());
    assert!(process(&p, &png(100, 100), &HashMap::new(), &small).is_ok());
}

/// Specs built from the action and parameter vocabulary, plus random mutations, parsed
/// and run on tiny images: never a panic, never a 5xx other than 501, always finished
/// within a small work budget.
#[test]
fn fuzz_specs_parse_and_run() {
    let actions: &[(&str, &[&str])] = &[
        ("resize", &["m", "w", "h", "l", "s", "p", "limit", "color"]),
        ("crop", &["w", "h", "x", "y", "g"]),
        ("indexcrop", &["x", "y", "i"]),
        ("circle", &["r"]),
        ("rounded-corners", &["r"]),
        ("rotate", &[]),
        ("auto-orient", &[]),
        ("blur", &["r", "s"]),
        ("bright", &[]),
        ("contrast", &[]),
        ("sharpen", &[]),
        ("format", &[]),
        ("quality", &["q", "Q"]),
        ("interlace", &[]),
        (
            "watermark",
            &["text", "image", "t", "g", "x", "y", "fill", "size", "color"],
        ),
        ("info", &[]),
        ("average-hue", &[]),
    ];
    let values = [
        "0",
        "1",
        "2",
        "3",
        "7",
        "50",
        "90",
        "100",
        "360",
        "4096",
        "16384",
        "-1",
        "-50",
        "abc",
        "",
        "lfit",
        "mfit",
        "fill",
        "pad",
        "fixed",
        "center",
        "se",
        "nw",
        "FF0000",
        "jpg",
        "png",
        "webp",
        "gif",
        "bmp",
        "tiff",
        "avif",
        "heic",
        "aGk",
        "YS5wbmc",
        "YS5wbmM_eC1vc3MtcHJvY2Vzcz1pbWFnZS9yZXNpemUsUF81MA",
    ];
    let alphabet: Vec<char> = "image/,_-019azPQ|=%".chars().collect();
    let marks: HashMap<String, Vec<u8>> = [("a.png".to_string(), png(3, 2))].into();
    let sources = [png(9, 6), jpg(9, 6), gif_anim(5, 4, 2)];
    let limits = Limits {
        max_cost: 2,
        max_memory: 8 << 20,
        ..Limits::default()
    };
    let mut rng = Rng(0x0055_1F1E_5EED);
    for i in 0..3000 {
        let n = 1 + rng.below(4);
        let chain: Vec<String> = (0..n)
            .map(|_| {
                let (name, keys) = actions[rng.below(actions.len())];
                let mut a = name.to_string();
                for _ in 0..rng.below(4) {
                    let v = values[rng.below(values.len())];
                    if keys.is_empty() || rng.below(5) == 0 {
                        a.push_str(&format!(",{v}"));
                    } else {
                        a.push_str(&format!(",{}_{v}", keys[rng.below(keys.len())]));
                    }
                }
                a
            })
            .collect();
        let mut spec: Vec<char> = format!("image/{}", chain.join("/")).chars().collect();
        if rng.below(3) == 0 {
            let pos = rng.below(spec.len());
            match rng.below(3) {
                0 => {
                    spec.remove(pos);
                }
                1 => spec.insert(pos, alphabet[rng.below(alphabet.len())]),
                _ => spec[pos] = alphabet[rng.below(alphabet.len())],
            }
        }
        let spec: String = spec.into_iter().collect();
        let Ok(p) = parse(&spec) else { continue };
        let src = &sources[i % sources.len()];
        if let Err(e) = process(&p, src, &marks, &limits) {
            assert!(e.status < 500 || e.status == 501, "{spec}: {e}");
        }
    }
}

#[test]
fn header_info_reads_only_the_head() {
    let jpg = jpg(40, 30);
    assert_eq!(
        header_info(&jpg[..jpg.len().min(600)]),
        Some(("jpg", 40, 30))
    );
    assert_eq!(header_info(&png(7, 9)[..32]), Some(("png", 7, 9)));
    assert_eq!(header_info(b"plain text, not an image"), None);
    assert_eq!(header_info(b""), None);
}

// ---------------------------------------------------------------------------------
// HEIF-container sources (HEIC, AVIF): 320x200 photos with a red 60 px square at the
// top left (tests/fixtures/README.md says how they were made)
// ---------------------------------------------------------------------------------

const HEIC: &[u8] = include_bytes!("../../tests/fixtures/photo.heic");
/// `irot` by 270 degrees anticlockwise (EXIF Orientation 6): shown 200x320, the red
/// square at the top right. Its EXIF says Orientation 6 too.
const HEIC_ROT: &[u8] = include_bytes!("../../tests/fixtures/rot6.heic");
const HEIC_ALPHA: &[u8] = include_bytes!("../../tests/fixtures/alpha.heic");
/// A grid of 128x128 HEVC tiles (3x2, cropped to 320x200), as iPhones write them.
const HEIC_GRID: &[u8] = include_bytes!("../../tests/fixtures/grid.heic");
const AVIF: &[u8] = include_bytes!("../../tests/fixtures/photo.avif");
const AVIF_ROT: &[u8] = include_bytes!("../../tests/fixtures/rot6.avif");

/// `b` with the primary image's `ispe` (its only one) set to `w`x`h`.
fn with_ispe(b: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut b = b.to_vec();
    let i = b.windows(4).position(|x| x == b"ispe").unwrap();
    b[i + 8..i + 12].copy_from_slice(&w.to_be_bytes());
    b[i + 12..i + 16].copy_from_slice(&h.to_be_bytes());
    b
}

#[test]
fn heif_size_and_profile_come_from_the_container() {
    for (src, format, dims) in [
        (HEIC, SrcFormat::Heic, (320, 200)),
        (HEIC_ROT, SrcFormat::Heic, (200, 320)),
        (HEIC_GRID, SrcFormat::Heic, (320, 200)),
        (HEIC_ALPHA, SrcFormat::Heic, (320, 200)),
        (AVIF, SrcFormat::Avif, (320, 200)),
        (AVIF_ROT, SrcFormat::Avif, (200, 320)),
    ] {
        let p = codec::probe(src).unwrap();
        assert_eq!((p.format, (p.width, p.height), p.frames), (format, dims, 1));
    }
    assert_eq!(header_info(HEIC), Some(("heic", 320, 200)));
    // The head up to the pixel data (`mdat`) is enough.
    let mdat = AVIF.windows(4).position(|w| w == b"mdat").unwrap();
    assert_eq!(header_info(&AVIF[..mdat]), Some(("avif", 320, 200)));
    assert_eq!(header_info(&AVIF[..mdat / 2]), None);
    let limits = Limits::default();
    assert_eq!(
        icc::read(HEIC, SrcFormat::Heic, &limits).as_deref(),
        Some(SRGB)
    );
    assert_eq!(
        icc::read(AVIF, SrcFormat::Avif, &limits).as_deref(),
        Some(SRGB)
    );
    assert_eq!(icc::read(HEIC_ROT, SrcFormat::Heic, &limits), None);
    // `info` needs no decoder: the source's format and size as shown.
    let v: serde_json::Value =
        serde_json::from_slice(&run("image/info", HEIC_ROT).unwrap().bytes).unwrap();
    assert_eq!(v["Format"]["value"], "heic");
    assert_eq!(
        (
            v["ImageWidth"]["value"].as_str(),
            v["ImageHeight"]["value"].as_str()
        ),
        (Some("200"), Some("320"))
    );
}

#[test]
fn heif_limits_are_checked_from_the_header_before_decoding() {
    // The pixels stay 320x200; only the declared size grows, so a decoder would fail
    // with another error (or not at all).
    for src in [HEIC, AVIF] {
        let e = run("image/resize,w_100", &with_ispe(src, 30_001, 200)).unwrap_err();
        assert_eq!((e.status, e.code), (400, "ImageTooLarge"), "{e}");
        assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE_RESIZE));
        let e = run("image/rotate,90", &with_ispe(src, 20_000, 20_000)).unwrap_err();
        assert_eq!((e.status, e.code), (400, "ImageTooLarge"), "{e}");
        assert_eq!(e.ec, Some(ec::SOURCE_TOO_LARGE));
        let small = Limits {
            max_source_bytes: src.len() as u64 - 1,
            ..Limits::default()
        };
        let e = process(
            &parse("image/resize,w_10").unwrap(),
            src,
            &HashMap::new(),
            &small,
        )
        .unwrap_err();
        assert_eq!(e.code, "ImageTooLarge");
    }
}

#[test]
fn broken_heif_files_are_errors_not_panics() {
    let mut no_meta = HEIC[..32].to_vec();
    no_meta.extend_from_slice(&[0xAB; 200]);
    for (name, src) in [
        ("only ftyp", HEIC[..28].to_vec()),
        ("garbage after ftyp", no_meta),
        ("zero size", with_ispe(HEIC, 0, 200)),
    ] {
        let e = run("image/resize,w_100", &src).unwrap_err();
        assert_eq!((e.status, e.code), (400, "BadRequest"), "{name}: {e}");
        assert_eq!(e.ec, Some(ec::UNSUPPORTED_FORMAT), "{name}");
    }
}

#[cfg(feature = "heif")]
#[test]
fn heif_sources_decode_and_process() {
    // HEIC has no encoder here, so it comes out as JPEG; AVIF stays AVIF.
    let out = run("image/resize,w_100", HEIC).unwrap();
    assert_eq!((out.content_type, dims(&out)), ("image/jpeg", (100, 63)));
    let img = decoded(&out);
    let [r, g, b] = img.rgb_at(5, 5);
    assert!(r > 200 && g < 60 && b < 60, "{r} {g} {b}");
    // Every tile of a grid lands in its place.
    let grid = decoded(&run("image/format,png", HEIC_GRID).unwrap());
    let plain = decoded(&run("image/format,png", HEIC).unwrap());
    assert_eq!(grid.dims(), (320, 200));
    assert!(mean_abs_diff(&grid, &plain) < 4.0);
    let out = run("image/resize,w_100", AVIF).unwrap();
    assert_eq!(out.content_type, "image/avif");
    assert_eq!(avif_ispe(&out.bytes), (100, 63));
    for src in [HEIC, HEIC_GRID, AVIF] {
        let out = run("image/crop,w_40,h_40/format,png", src).unwrap();
        assert_eq!(dims(&out), (40, 40));
        let [r, g, b] = decoded(&out).rgb_at(20, 20);
        assert!(r > 200 && g < 60 && b < 60, "{r} {g} {b}");
        // The colour profile is carried over, as from a JPEG.
        assert_eq!(profile_of(&out.bytes).as_deref(), Some(SRGB));
    }
    // Alpha survives into PNG, and JPEG flattens it.
    let out = run("image/format,png", HEIC_ALPHA).unwrap();
    let a = decoded(&out).rgba_at(100, 100)[3];
    assert!(a.abs_diff(128) <= 2, "{a}");
    assert_eq!(
        run("image/resize,w_50", HEIC_ALPHA).unwrap().content_type,
        "image/jpeg"
    );
}

#[cfg(feature = "heif")]
#[test]
fn heif_rotation_is_applied_once() {
    for src in [HEIC_ROT, AVIF_ROT] {
        // With or without auto-orient: the container's irot turns it, and its EXIF
        // Orientation 6 (which says the same) is not applied again.
        for spec in [
            "image/resize,w_100/format,png",
            "image/auto-orient,1/resize,w_100/format,png",
        ] {
            let out = run(spec, src).unwrap();
            assert_eq!(dims(&out), (100, 160), "{spec}");
            let img = decoded(&out);
            let [r, g, b] = img.rgb_at(95, 5);
            assert!(r > 200 && g < 60 && b < 60, "{spec}: {r} {g} {b}");
            let [r, ..] = img.rgb_at(5, 5);
            assert!(r < 200, "{spec}: {r}");
        }
    }
    assert_eq!(codec::orientation(codec::read_exif(HEIC_ROT).as_ref()), 6);
    assert_eq!(codec::source_orientation(HEIC_ROT), 1);
}

#[cfg(feature = "heif")]
#[test]
fn truncated_heif_files_are_errors_not_panics() {
    for src in [HEIC, AVIF, HEIC_ALPHA, HEIC_GRID] {
        for cut in [src.len() / 2, src.len() - 100, src.len() - 1] {
            let e = run("image/resize,w_100", &src[..cut]).unwrap_err();
            assert_eq!((e.status, e.code), (400, "BadRequest"), "{cut}: {e}");
        }
    }
}

#[cfg(not(feature = "heif"))]
#[test]
fn heif_sources_need_the_heif_feature() {
    for src in [HEIC, AVIF] {
        let e = run("image/resize,w_100", src).unwrap_err();
        assert_eq!((e.status, e.code), (501, "NotImplemented"));
    }
}

/// The default limits' verdict on the work of `spec` (giving `out`) on a still source
/// of `format` and size `(w, h)`, estimated before decoding.
fn check_estimate(
    format: SrcFormat,
    (w, h): (u32, u32),
    spec: &str,
    out: OutFormat,
) -> Result<(), ImageError> {
    let probe = codec::Probe {
        format,
        width: w,
        height: h,
        frames: 1,
    };
    let chain = parse(spec).unwrap().steps;
    let (cost, memory) = estimate_work(&chain, (w, h), 1, 1, &probe, None, out);
    Limits::default().check_work(cost, memory)
}

#[test]
fn iphone_photos_fit_the_default_budget_and_the_cost_bounds_hevc() {
    let estimate =
        |format, dims| check_estimate(format, dims, "image/resize,w_800", OutFormat::Jpg);
    // 12 MP and 48 MP iPhone photos to an 800 px thumbnail.
    estimate(SrcFormat::Heic, (4032, 3024)).unwrap();
    estimate(SrcFormat::Heic, (8064, 6048)).unwrap();
    // 60 MP of HEVC (at least 3.3 s of decoding, up to 9 s) is refused before decoding;
    // the same size in PNG is not.
    let e = estimate(SrcFormat::Heic, (10_000, 6_000)).unwrap_err();
    assert_eq!(e.code, "ImageTooLarge");
    estimate(SrcFormat::Png, (10_000, 6_000)).unwrap();
}

#[test]
fn heic_output_is_bounded_before_decoding() {
    let estimate =
        |dims| check_estimate(SrcFormat::Jpeg, dims, "image/format,heic", OutFormat::Heic);
    // A 12 MP photo re-encoded whole takes about 6 s of x265: allowed; 16 MP (about
    // 9 s, past the default 8 s budget) is refused before decoding.
    estimate((4032, 3024)).unwrap();
    assert_eq!(estimate((4096, 4096)).unwrap_err().code, "ImageTooLarge");
}
