//! Grammar of spec §1.2: `image/<action>{/<action>}`, `action := name{,param}`,
//! `param := key_value` (split on the FIRST `_`) or a bare positional value.
//! Plus typed helpers used by every step's parser.

use super::error::{ImageError, ec};
use base64::Engine as _;

/// One comma-separated token of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The part before the first `_`, or `None` for a bare value.
    pub key: Option<&'a str>,
    /// The part after the first `_` (or the whole token when there is no `_`).
    pub value: &'a str,
    /// The whole token.
    pub raw: &'a str,
}

/// One `/`-separated action: its name and its (non-empty) tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAction<'a> {
    pub name: &'a str,
    pub params: Vec<Param<'a>>,
}

/// Split one action text (`resize,w_100,h_50`) into name and params. Empty tokens
/// (e.g. from a trailing comma, which OSS accepts) are dropped.
pub fn split_action(text: &str) -> RawAction<'_> {
    let mut it = text.split(',');
    let name = it.next().unwrap_or("");
    let params = it
        .filter(|t| !t.is_empty())
        .map(|raw| match raw.split_once('_') {
            Some((k, v)) => Param {
                key: Some(k),
                value: v,
                raw,
            },
            None => Param {
                key: None,
                value: raw,
                raw,
            },
        })
        .collect();
    RawAction { name, params }
}

/// Split a chain body (the text after `image/`) into actions. An empty chain or an empty
/// action between slashes is the "no action" error (EC 0040-00000212).
pub fn split_chain(body: &str) -> Result<Vec<RawAction<'_>>, ImageError> {
    if body.is_empty() {
        return Err(no_action());
    }
    let mut out = Vec::new();
    for (i, part) in body.split('/').enumerate() {
        if part.is_empty() {
            // Tolerate one trailing slash (`image/resize,w_1/`), nothing else.
            if i > 0 && i == body.split('/').count() - 1 {
                continue;
            }
            return Err(no_action());
        }
        out.push(split_action(part));
    }
    if out.is_empty() {
        return Err(no_action());
    }
    Ok(out)
}

pub fn no_action() -> ImageError {
    ImageError::invalid_msg("No image process action is specified.").with_ec(ec::NO_ACTION)
}

/// Keyed parameters of an action, looked up by key. Unknown keys are tolerated
/// (the live service accepts e.g. `crop,...,r_1`), bare values are rejected, and
/// a repeated key keeps its last value.
pub struct Keyed<'a> {
    action: &'static str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Keyed<'a> {
    pub fn new(action: &'static str, params: &[Param<'a>]) -> Result<Self, ImageError> {
        let mut pairs = Vec::with_capacity(params.len());
        for p in params {
            match p.key {
                Some(k) if !k.is_empty() => pairs.push((k, p.value)),
                _ => {
                    return Err(ImageError::invalid(
                        action,
                        p.raw,
                        format!("{action} takes key_value parameters"),
                    ));
                }
            }
        }
        Ok(Keyed { action, pairs })
    }

    /// Last value of `key` (case-sensitive: `q` and `Q` differ).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// Integer in `[min, max]`, if present.
    pub fn int(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, ImageError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => int_in(self.action, key, v, min, max).map(Some),
        }
    }

    /// Like [`Keyed::int`] but attaches `ec` to a failure.
    pub fn int_ec(
        &self,
        key: &str,
        min: i64,
        max: i64,
        code: &'static str,
    ) -> Result<Option<i64>, ImageError> {
        self.int(key, min, max).map_err(|e| e.with_ec(code))
    }
}

/// Value(s) of a single-value (positional) action such as `rotate,90`.
/// More than one value → EC 0040-00000203; none → `Ok(None)`.
pub fn single<'a>(
    action: &'static str,
    params: &[Param<'a>],
) -> Result<Option<&'a str>, ImageError> {
    match params {
        [] => Ok(None),
        [p] => Ok(Some(p.raw)),
        _ => {
            let all: Vec<&str> = params.iter().map(|p| p.raw).collect();
            Err(ImageError::invalid(
                action,
                &all.join(","),
                format!("{action} takes a single value"),
            )
            .with_ec(ec::TOO_MANY_VALUES))
        }
    }
}

/// Parse a decimal integer (optional leading `-` only when `min < 0`) in `[min, max]`.
pub fn int_in(action: &str, key: &str, v: &str, min: i64, max: i64) -> Result<i64, ImageError> {
    let digits = v.strip_prefix('-').filter(|_| min < 0).unwrap_or(v);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ImageError::invalid(
            key,
            v,
            format!("Value must be digit ({action})"),
        ));
    }
    let n: i64 = digits
        .parse()
        .map_err(|_| ImageError::invalid(key, v, format!("Value must be digit ({action})")))?;
    let n = if digits.len() != v.len() { -n } else { n };
    if n < min || n > max {
        return Err(ImageError::invalid(
            key,
            v,
            format!("Value must be between {min} and {max} ({action})"),
        ));
    }
    Ok(n)
}

/// `RRGGBB` hex colour (case-insensitive).
pub fn color(action: &str, key: &str, v: &str) -> Result<[u8; 3], ImageError> {
    let bad = || ImageError::invalid(key, v, format!("Value must be hex RRGGBB ({action})"));
    if v.len() != 6 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let n = u32::from_str_radix(v, 16).map_err(|_| bad())?;
    Ok([(n >> 16) as u8, (n >> 8) as u8, n as u8])
}

/// Decode OSS base64: URL-safe or standard alphabet, with or without `=` padding.
/// A space is read as `+` (a `+` that went through form decoding).
pub fn b64(v: &str) -> Option<Vec<u8>> {
    use base64::alphabet;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let normalized: String = v
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            ' ' => '+',
            c => c,
        })
        .collect();
    ENGINE.decode(normalized.as_bytes()).ok()
}

/// Encode URL-safe base64 without padding (used by `normalized()`).
pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The 3×3 anchor of crop and watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gravity {
    NW,
    North,
    NE,
    West,
    Center,
    East,
    SW,
    South,
    SE,
}

impl Gravity {
    pub fn parse(v: &str) -> Option<Gravity> {
        Some(match v {
            "nw" => Gravity::NW,
            "north" => Gravity::North,
            "ne" => Gravity::NE,
            "west" => Gravity::West,
            "center" => Gravity::Center,
            "east" => Gravity::East,
            "sw" => Gravity::SW,
            "south" => Gravity::South,
            "se" => Gravity::SE,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Gravity::NW => "nw",
            Gravity::North => "north",
            Gravity::NE => "ne",
            Gravity::West => "west",
            Gravity::Center => "center",
            Gravity::East => "east",
            Gravity::SW => "sw",
            Gravity::South => "south",
            Gravity::SE => "se",
        }
    }

    /// Column 0 = left, 1 = middle, 2 = right.
    pub fn col(self) -> u8 {
        match self {
            Gravity::NW | Gravity::West | Gravity::SW => 0,
            Gravity::North | Gravity::Center | Gravity::South => 1,
            Gravity::NE | Gravity::East | Gravity::SE => 2,
        }
    }

    /// Row 0 = top, 1 = middle, 2 = bottom.
    pub fn row(self) -> u8 {
        match self {
            Gravity::NW | Gravity::North | Gravity::NE => 0,
            Gravity::West | Gravity::Center | Gravity::East => 1,
            Gravity::SW | Gravity::South | Gravity::SE => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_first_underscore_only() {
        let a = split_action("watermark,text_SGVs_bG8,g_se,");
        assert_eq!(a.name, "watermark");
        assert_eq!(a.params.len(), 2);
        assert_eq!(a.params[0].key, Some("text"));
        assert_eq!(a.params[0].value, "SGVs_bG8");
        let a = split_action("rotate,90");
        assert_eq!(a.params[0].key, None);
        assert_eq!(a.params[0].value, "90");
    }

    #[test]
    fn ints() {
        assert_eq!(int_in("a", "w", "100", 1, 200).unwrap(), 100);
        assert_eq!(int_in("a", "b", "-50", -100, 100).unwrap(), -50);
        let e = int_in("a", "w", "-5", 1, 200).unwrap_err();
        assert!(e.message.contains("Value must be digit"), "{}", e.message);
        let e = int_in("quality", "q", "image", 1, 100).unwrap_err();
        assert!(
            e.message.starts_with(
                "The value: image of parameter: q is invalid.reason:Value must be digit"
            )
        );
        assert!(int_in("a", "w", "0", 1, 200).is_err());
        assert!(int_in("a", "w", "99999999999999999999", 1, 200).is_err());
        assert!(int_in("a", "w", "", 1, 200).is_err());
        assert!(int_in("a", "w", "+5", 1, 200).is_err());
    }

    #[test]
    fn base64_both_alphabets() {
        // "Hello 图片服务!" URL-safe unpadded and standard.
        let a = b64("SGVsbG8g5Zu-54mH5pyN5YqhIQ").unwrap();
        let b = b64("SGVsbG8g5Zu+54mH5pyN5YqhIQ==").unwrap();
        assert_eq!(a, b);
        assert_eq!(String::from_utf8(a).unwrap(), "Hello 图片服务!");
        assert_eq!(b64("ZGVzdC5qcGc=").unwrap(), b"dest.jpg");
        assert!(b64("not base64!").is_none());
    }

    #[test]
    fn colors() {
        assert_eq!(color("r", "color", "FF6a00").unwrap(), [255, 0x6a, 0]);
        assert!(color("r", "color", "FFF").is_err());
        assert!(color("r", "color", "GGGGGG").is_err());
    }

    #[test]
    fn chain_split() {
        assert_eq!(split_chain("").unwrap_err().ec, Some(ec::NO_ACTION));
        assert_eq!(split_chain("a//b").unwrap_err().ec, Some(ec::NO_ACTION));
        assert_eq!(split_chain("a/b/").unwrap().len(), 2);
    }
}
