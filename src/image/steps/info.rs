//! `info` (spec §9.1): JSON of the **source** (stored dimensions, not orientation
//! corrected), every value a string in `{"value": ...}`, keys sorted, EXIF included.

use crate::image::codec::{self, Probe, SrcFormat};
use crate::image::error::ImageError;
use crate::image::parse::Param;
use crate::image::steps::no_params;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info;

impl Info {
    pub fn parse(params: &[Param<'_>]) -> Result<Info, ImageError> {
        no_params("info", params)?;
        Ok(Info)
    }
}

/// Name OSS uses for a tag (kamadak-exif names the IFD pointers differently).
fn tag_name(tag: exif::Tag) -> String {
    match tag {
        exif::Tag::ExifIFDPointer => "ExifTag".into(),
        exif::Tag::GPSInfoIFDPointer => "GPSTag".into(),
        exif::Tag::InteropIFDPointer => "InteroperabilityTag".into(),
        t => t.to_string(),
    }
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn trim_num(f: f64) -> String {
    let s = format!("{f:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Render an EXIF value the way the OSS examples show it.
fn render(field: &exif::Field) -> Option<String> {
    use exif::{Tag, Value};
    let tag = field.tag;
    let v = &field.value;
    // GPS refs as words.
    if let Value::Ascii(a) = v {
        let s = a
            .iter()
            .map(|x| {
                String::from_utf8_lossy(x)
                    .trim_end_matches('\0')
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(" ");
        let word = match (tag, s.as_str()) {
            (Tag::GPSLatitudeRef | Tag::GPSDestLatitudeRef, "N") => Some("North"),
            (Tag::GPSLatitudeRef | Tag::GPSDestLatitudeRef, "S") => Some("South"),
            (Tag::GPSLongitudeRef | Tag::GPSDestLongitudeRef, "E") => Some("East"),
            (Tag::GPSLongitudeRef | Tag::GPSDestLongitudeRef, "W") => Some("West"),
            _ => None,
        };
        return Some(word.map(str::to_string).unwrap_or(s));
    }
    if matches!(
        tag,
        Tag::GPSLatitude | Tag::GPSLongitude | Tag::GPSDestLatitude | Tag::GPSDestLongitude
    ) && let Value::Rational(r) = v
    {
        // "<deg>deg <min>' <sec>\"" with zero minutes/seconds omitted ("0deg ").
        let part = |i: usize| {
            r.get(i)
                .map(|x| x.to_f64())
                .filter(|x| x.is_finite())
                .unwrap_or(0.0)
        };
        let mut s = format!("{}deg ", trim_num(part(0)));
        if part(1) != 0.0 || part(2) != 0.0 {
            s.push_str(&format!("{}' ", trim_num(part(1))));
        }
        if part(2) != 0.0 {
            s.push_str(&format!("{}\"", trim_num(part(2))));
        }
        return Some(s);
    }
    Some(match v {
        Value::Byte(b) => join(b),
        Value::Short(b) => join(b),
        Value::Long(b) => join(b),
        Value::SByte(b) => join(b),
        Value::SShort(b) => join(b),
        Value::SLong(b) => join(b),
        Value::Float(b) => join(b),
        Value::Double(b) => join(b),
        Value::Rational(r) => r
            .iter()
            .map(|x| format!("{}/{}", x.num, x.denom))
            .collect::<Vec<_>>()
            .join(" "),
        Value::SRational(r) => r
            .iter()
            .map(|x| format!("{}/{}", x.num, x.denom))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Undefined(b, _) => {
            // Short printable blobs (ExifVersion "0230") as text; skip maker notes etc.
            if b.len() > 64 {
                return None;
            }
            if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
                String::from_utf8_lossy(b).into_owned()
            } else {
                join(b)
            }
        }
        Value::Ascii(_) => unreachable!(),
        Value::Unknown(..) => return None,
    })
}

/// Build the `info` JSON for `source`.
pub fn json(source: &[u8], probe: &Probe, exif: Option<&exif::Exif>) -> String {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    // JFIF density gives the resolution fields of an EXIF-less JPEG (doc example: 1, 1/1).
    if probe.format == SrcFormat::Jpeg
        && let Some((units, x, y)) = codec::jfif_density(source)
    {
        let unit = match units {
            1 => 2, // dpi → inch
            2 => 3, // dpcm → centimetre
            _ => 1,
        };
        m.insert("ResolutionUnit".into(), unit.to_string());
        m.insert("XResolution".into(), format!("{x}/1"));
        m.insert("YResolution".into(), format!("{y}/1"));
    }
    if let Some(e) = exif {
        // Thumbnail IFD first so the primary IFD wins on duplicate names.
        let mut fields: Vec<&exif::Field> = e.fields().collect();
        fields.sort_by_key(|f| std::cmp::Reverse(f.ifd_num.index()));
        for f in fields {
            if matches!(f.tag, exif::Tag::MakerNote) {
                continue;
            }
            if let Some(v) = render(f) {
                m.insert(tag_name(f.tag), v);
            }
        }
    }
    m.insert("FileSize".into(), source.len().to_string());
    m.insert("Format".into(), probe.format.info_name().into());
    m.insert("FrameCount".into(), probe.frames.to_string());
    m.insert("ImageHeight".into(), probe.height.to_string());
    m.insert("ImageWidth".into(), probe.width.to_string());
    let mut out = String::from("{\n");
    let n = m.len();
    for (i, (k, v)) in m.into_iter().enumerate() {
        out.push_str(&format!(
            "  {}: {{\"value\": {}}}{}\n",
            serde_json::Value::String(k),
            serde_json::Value::String(v),
            if i + 1 < n { "," } else { "" }
        ));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::codec::tests::encode_test;
    use crate::image::codec::{OutFormat, probe};
    use crate::image::raster::Img;

    #[test]
    fn png_info_shape() {
        let b = encode_test(Img::solid_rgb(400, 267, [1, 2, 3]), OutFormat::Png);
        let p = probe(&b).unwrap();
        let j = json(&b, &p, None);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["ImageWidth"]["value"], "400");
        assert_eq!(v["ImageHeight"]["value"], "267");
        assert_eq!(v["Format"]["value"], "png");
        assert_eq!(v["FrameCount"]["value"], "1");
        assert_eq!(v["FileSize"]["value"], b.len().to_string());
        assert!(j.starts_with("{\n  \"FileSize\": {\"value\": \""));
    }

    #[test]
    fn jpeg_jfif_and_exif() {
        let b = encode_test(Img::solid_rgb(8, 8, [1, 2, 3]), OutFormat::Jpg);
        // Splice in an APP1 EXIF block with Orientation = 7 and XResolution = 96/1.
        let tiff = crate::image::tests::tiff_exif(7);
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(&tiff);
        let mut j = b[..2].to_vec();
        j.extend_from_slice(&app1);
        j.extend_from_slice(&b[2..]);
        let p = probe(&j).unwrap();
        let e = codec::read_exif(&j);
        assert_eq!(codec::orientation(e.as_ref()), 7);
        let v: serde_json::Value = serde_json::from_str(&json(&j, &p, e.as_ref())).unwrap();
        assert_eq!(v["Format"]["value"], "jpg");
        assert_eq!(v["Orientation"]["value"], "7");
        assert_eq!(v["XResolution"]["value"], "96/1");
        assert_eq!(v["ImageWidth"]["value"], "8");
    }
}
