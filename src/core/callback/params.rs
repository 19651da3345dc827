//! The `callback` and `callback-var` parameters (OSS "Callback" API reference): their
//! parsing and checks, in the order OSS checks them, and the substitution of the
//! `${...}` variables of `callbackBody`. Pure: no I/O.

use std::fmt::Write as _;

use base64::Engine;
use serde_json::Value;

use crate::names::URL_ENCODE;

/// Longest `callback` and `callback-var` parameter (base64 text) OSS accepts: 5 KB.
pub const MAX_PARAM_LEN: usize = 5 * 1024;
/// Most URLs one `callbackUrl` may list, separated by `;`.
pub const MAX_URLS: usize = 5;

/// Why a `callback` or `callback-var` parameter is refused (400 InvalidArgument);
/// the OSS dialect words each as OSS does.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The parameter came both in the query string and in its header.
    #[error("{name} appears both in the query string and as a header")]
    Duplicate { name: &'static str },
    #[error("the callback parameter is longer than {MAX_PARAM_LEN} bytes")]
    TooLong,
    #[error("the callback parameter is not base64")]
    NotBase64 { value: String },
    #[error("the callback parameter is not a JSON object")]
    NotJson { decoded: String },
    #[error("callbackUrl is missing or not a valid http(s) URL")]
    UrlInvalid { value: String },
    #[error("callbackUrl lists more than {MAX_URLS} URLs")]
    TooManyUrls { value: String },
    #[error("callbackHost is not a valid host")]
    HostInvalid { value: String },
    #[error("callbackBody is missing or empty")]
    BodyEmpty,
    /// A `${` without its `}`.
    #[error("callbackBody has a malformed ${{...}} variable")]
    BodyInvalid { body: String },
    #[error("callbackBodyType is not a string")]
    BodyTypeInvalid,
    #[error("callbackBodyType {value:?} is not supported")]
    BodyTypeUnsupported { value: String },
    #[error("callbackSNI is not true or false")]
    SniInvalid,
    #[error("the callback-var parameter is longer than {MAX_PARAM_LEN} bytes")]
    VarTooLong,
    #[error("the callback-var parameter is not base64")]
    VarNotBase64 { value: String },
    /// Not an object of `"x:lower-case-name": "string"` members.
    #[error("the callback-var parameter is not the expected JSON")]
    VarNotJson { decoded: String },
    /// `{"callbackPolicy": name}` names no policy of the bucket.
    #[error("the bucket has no callback policy named {name:?}")]
    NoSuchPolicy { name: String },
    /// The target is refused by the server's `[callback]` allow/deny lists.
    #[error("callbacks to {url} are refused: {why}")]
    Refused { url: String, why: String },
}

/// `Content-Type` of the callback request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// `application/x-www-form-urlencoded` (the default): values are URL-encoded.
    Form,
    /// `application/json`: strings become JSON strings, numbers JSON numbers.
    Json,
}

impl BodyType {
    pub fn content_type(self) -> &'static str {
        match self {
            BodyType::Form => "application/x-www-form-urlencoded",
            BodyType::Json => "application/json",
        }
    }
}

/// One URL of `callbackUrl`: `http://` is implied when no scheme is written, as OSS
/// reads `121.43.113.8:23456/index.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl {
    pub https: bool,
    /// Host name or address literal (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// `/index.php?id=1`: at least `/`.
    pub path_and_query: String,
}

impl CallbackUrl {
    fn parse(text: &str) -> Option<Self> {
        let (https, rest) = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
            Some(_) => return None,
            None => (false, text),
        };
        let uri: http::Uri = format!("{}://{rest}", if https { "https" } else { "http" })
            .parse()
            .ok()?;
        let authority = uri.authority()?;
        // No credentials in callback URLs.
        if authority.as_str().contains('@') {
            return None;
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        // The port, when written, is a number from 1 (`host:test` is refused).
        let text = authority.as_str();
        let after_host = &text[text.rfind(']').map_or(0, |i| i + 1)..];
        let port = match after_host.rsplit_once(':') {
            Some((_, port)) => port.parse::<u16>().ok().filter(|p| *p != 0)?,
            None if https => 443,
            None => 80,
        };
        Some(Self {
            https,
            host: host.to_ascii_lowercase(),
            port,
            path_and_query: match uri.path_and_query().map(|p| p.as_str()) {
                Some(p) if p.starts_with('/') => p.to_owned(),
                Some(p) if p.starts_with('?') => format!("/{p}"),
                _ => "/".to_owned(),
            },
        })
    }

    /// `host[:port]` as a `Host` header writes it (the port only when not the default).
    pub fn authority(&self) -> String {
        let host = match self.host.contains(':') {
            true => format!("[{}]", self.host),
            false => self.host.clone(),
        };
        match (self.https, self.port) {
            (false, 80) | (true, 443) => host,
            (_, port) => format!("{host}:{port}"),
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority(), self.path_and_query)
    }

    /// What OSS signs: the URL-decoded path, the query string as sent (with its `?`),
    /// a newline and the body.
    pub fn string_to_sign(&self, body: &[u8]) -> Vec<u8> {
        let (path, query) = match self.path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.path_and_query.as_str(), None),
        };
        let mut out: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
        if let Some(query) = query {
            out.push(b'?');
            out.extend_from_slice(query.as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(body);
        out
    }
}

/// A checked callback: where to send what.
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    pub urls: Vec<CallbackUrl>,
    /// `callbackHost`: the `Host` header, instead of the URL's.
    pub host: Option<String>,
    /// `callbackBody` with its `${...}` variables.
    pub body: String,
    pub body_type: BodyType,
    /// `callbackSNI`: send the URL's host name in the TLS handshake (OSS default: no).
    pub sni: bool,
    /// Custom variables (`x:name`), from `callback-var` or PostObject form fields.
    pub vars: Vec<(String, String)>,
}

/// What `callback` decodes to: a callback, or a reference to one of the bucket's
/// callback policies (`{"callbackPolicy": "name"}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Callback(Callback),
    Policy(String),
}

/// Base64 of the standard alphabet, `=` padding optional; a space is a `+` that went
/// through form decoding of a query string.
fn decode_b64(text: &str) -> Option<Vec<u8>> {
    use base64::alphabet;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    ENGINE.decode(text.trim().replace(' ', "+")).ok()
}

/// Parse a `callback` parameter (base64 JSON), checked in OSS's order: length, base64,
/// JSON, callbackUrl, callbackHost, callbackBody, callbackBodyType, callbackSNI.
pub fn parse_callback(param: &str) -> Result<Parsed, Problem> {
    if param.len() > MAX_PARAM_LEN {
        return Err(Problem::TooLong);
    }
    let decoded = decode_b64(param).ok_or_else(|| Problem::NotBase64 {
        value: param.to_owned(),
    })?;
    let text = String::from_utf8_lossy(&decoded).into_owned();
    let not_json = || Problem::NotJson {
        decoded: text.clone(),
    };
    let doc: serde_json::Map<String, Value> =
        serde_json::from_slice(&decoded).map_err(|_| not_json())?;
    if let Some(name) = doc.get("callbackPolicy") {
        return match name.as_str() {
            Some(name) => Ok(Parsed::Policy(name.to_owned())),
            None => Err(not_json()),
        };
    }
    let url_value = doc.get("callbackUrl").and_then(Value::as_str);
    let invalid_url = || Problem::UrlInvalid {
        value: url_value.unwrap_or_default().to_owned(),
    };
    let listed: Vec<&str> = url_value
        .ok_or_else(invalid_url)?
        .split(';')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if listed.len() > MAX_URLS {
        return Err(Problem::TooManyUrls {
            value: url_value.unwrap_or_default().to_owned(),
        });
    }
    let urls = listed
        .iter()
        .map(|u| CallbackUrl::parse(u).ok_or_else(invalid_url))
        .collect::<Result<Vec<_>, _>>()?;
    if urls.is_empty() {
        return Err(invalid_url());
    }
    let host = match doc.get("callbackHost") {
        None | Some(Value::Null) => None,
        Some(Value::String(h)) if h.is_empty() => None,
        Some(Value::String(h)) if http::HeaderValue::from_str(h).is_ok() && !h.contains('/') => {
            Some(h.clone())
        }
        Some(other) => {
            return Err(Problem::HostInvalid {
                value: other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned),
            });
        }
    };
    let body = match doc.get("callbackBody").and_then(Value::as_str) {
        Some(b) if !b.is_empty() => b.to_owned(),
        _ => return Err(Problem::BodyEmpty),
    };
    if !well_formed(&body) {
        return Err(Problem::BodyInvalid { body });
    }
    let body_type = match doc.get("callbackBodyType") {
        None | Some(Value::Null) => BodyType::Form,
        Some(Value::String(t)) => match t.trim().to_ascii_lowercase().as_str() {
            "" | "application/x-www-form-urlencoded" => BodyType::Form,
            "application/json" => BodyType::Json,
            _ => return Err(Problem::BodyTypeUnsupported { value: t.clone() }),
        },
        Some(_) => return Err(Problem::BodyTypeInvalid),
    };
    let sni = match doc.get("callbackSNI") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Problem::SniInvalid),
    };
    Ok(Parsed::Callback(Callback {
        urls,
        host,
        body,
        body_type,
        sni,
        vars: Vec::new(),
    }))
}

/// Parse a `callback-var` parameter: base64 of `{"x:name": "value", ...}` with
/// lower-case names. Members that are not custom variables (no `x:`) are accepted and
/// unused, as OSS answers the oss2 suite's test_sign_url_with_callback, which sends
/// `callbackUrl`/`callbackBody` there.
pub fn parse_callback_var(param: &str) -> Result<Vec<(String, String)>, Problem> {
    if param.len() > MAX_PARAM_LEN {
        return Err(Problem::VarTooLong);
    }
    let decoded = decode_b64(param).ok_or_else(|| Problem::VarNotBase64 {
        value: param.to_owned(),
    })?;
    let not_json = || Problem::VarNotJson {
        decoded: String::from_utf8_lossy(&decoded).into_owned(),
    };
    let doc: serde_json::Map<String, Value> =
        serde_json::from_slice(&decoded).map_err(|_| not_json())?;
    doc.into_iter()
        .filter_map(|(name, value)| match value {
            Value::String(v) if is_var_name(&name) => Some(Ok((name, v))),
            Value::String(_) if !name.starts_with("x:") => None,
            _ => Some(Err(not_json())),
        })
        .collect()
}

/// A custom variable: `x:` and a lower-case name.
pub fn is_var_name(name: &str) -> bool {
    name.len() > 2 && name.starts_with("x:") && !name.chars().any(char::is_uppercase)
}

/// Every `${` has its `}`.
fn well_formed(template: &str) -> bool {
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        match rest[at + 2..].find('}') {
            Some(end) => rest = &rest[at + 2 + end + 1..],
            None => return false,
        }
    }
    true
}

/// Width, height and format (`jpg`, `png`, ...) of an image object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
    pub format: &'static str,
}

/// The system variables of a stored object (OSS "Callback": system parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    pub bucket: &'a str,
    pub object: &'a str,
    pub etag: &'a str,
    pub size: u64,
    pub mime_type: &'a str,
    pub crc64: u64,
    /// Only PutObject and PostObject objects have one.
    pub content_md5: Option<&'a str>,
    pub image: Option<ImageInfo>,
    pub client_ip: String,
    pub request_id: &'a str,
    /// `PutObject`, `PostObject` or `CompleteMultipartUpload`.
    pub operation: &'a str,
}

/// A variable's value: strings are quoted in JSON bodies, numbers are not.
enum VarValue<'a> {
    Str(&'a str),
    Num(u64),
    Empty,
}

impl Facts<'_> {
    fn value<'v>(&'v self, name: &str, vars: &'v [(String, String)]) -> VarValue<'v> {
        use VarValue::*;
        let image = self.image.as_ref();
        match name {
            "bucket" => Str(self.bucket),
            "object" => Str(self.object),
            "etag" => Str(self.etag),
            "size" => Num(self.size),
            "mimeType" => Str(self.mime_type),
            "crc64" => Num(self.crc64),
            "contentMd5" => self.content_md5.map_or(Empty, Str),
            "imageInfo.height" => image.map_or(Empty, |i| Num(i.height.into())),
            "imageInfo.width" => image.map_or(Empty, |i| Num(i.width.into())),
            "imageInfo.format" => image.map_or(Empty, |i| Str(i.format)),
            "clientIp" => Str(&self.client_ip),
            "reqId" => Str(self.request_id),
            "operation" => Str(self.operation),
            // Requests never come from an Alibaba Cloud VPC here.
            "vpcId" => Empty,
            _ => vars
                .iter()
                .find(|(n, _)| n == name)
                .map_or(Empty, |(_, v)| Str(v)),
        }
    }
}

/// `callbackBody` with its variables replaced: URL-encoded values for form bodies,
/// JSON values for JSON bodies (strings quoted and escaped, numbers bare, unknown or
/// empty variables `""`); unknown variables are empty in form bodies.
pub fn render(callback: &Callback, facts: &Facts) -> String {
    let mut out = String::with_capacity(callback.body.len() + 256);
    let mut rest = callback.body.as_str();
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at + 2..].find('}') else {
            break;
        };
        let name = &rest[at + 2..at + 2 + end];
        match (callback.body_type, facts.value(name, &callback.vars)) {
            (BodyType::Form, VarValue::Str(s)) => {
                out.extend(percent_encoding::utf8_percent_encode(s, URL_ENCODE))
            }
            (BodyType::Json, VarValue::Str(s)) => out.push_str(&Value::from(s).to_string()),
            (_, VarValue::Num(n)) => {
                let _ = write!(out, "{n}");
            }
            (BodyType::Form, VarValue::Empty) => {}
            (BodyType::Json, VarValue::Empty) => out.push_str("\"\""),
        }
        rest = &rest[at + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn callback(json: &str) -> Result<Callback, Problem> {
        match parse_callback(&b64(json))? {
            Parsed::Callback(c) => Ok(c),
            Parsed::Policy(p) => panic!("policy {p}"),
        }
    }

    #[test]
    fn parses_urls_and_fields() {
        let c = callback(
            r#"{"callbackUrl":"121.43.113.8:23456/index.html; https://Example.com/a%20b.php?id=1&x=2;","callbackHost":"oss-cn-hangzhou.aliyuncs.com","callbackBody":"bucket=${bucket}","callbackBodyType":"application/json","callbackSNI":true}"#,
        )
        .unwrap();
        assert_eq!(
            c.urls,
            vec![
                CallbackUrl {
                    https: false,
                    host: "121.43.113.8".into(),
                    port: 23456,
                    path_and_query: "/index.html".into()
                },
                CallbackUrl {
                    https: true,
                    host: "example.com".into(),
                    port: 443,
                    path_and_query: "/a%20b.php?id=1&x=2".into()
                }
            ]
        );
        assert_eq!(c.host.as_deref(), Some("oss-cn-hangzhou.aliyuncs.com"));
        assert_eq!((c.body_type, c.sni), (BodyType::Json, true));
        assert_eq!(c.urls[1].url(), "https://example.com/a%20b.php?id=1&x=2");
        assert_eq!(c.urls[0].authority(), "121.43.113.8:23456");
        // The documented example: path decoded, query as sent.
        assert_eq!(
            c.urls[1].string_to_sign(b"bucket=b"),
            b"/a b.php?id=1&x=2\nbucket=b".to_vec()
        );
        let plain = callback(r#"{"callbackUrl":"http://[::1]:8080","callbackBody":"x"}"#).unwrap();
        assert_eq!(plain.urls[0].host, "::1");
        assert_eq!(plain.urls[0].authority(), "[::1]:8080");
        assert_eq!(plain.urls[0].string_to_sign(b"x"), b"/\nx".to_vec());
        let query_only = callback(r#"{"callbackUrl":"a.com:81?k=v","callbackBody":"x"}"#).unwrap();
        assert_eq!(query_only.urls[0].url(), "http://a.com:81/?k=v");
        assert_eq!((plain.body_type, plain.sni), (BodyType::Form, false));
        assert_eq!(
            parse_callback(&b64(r#"{"callbackPolicy":"p1"}"#)).unwrap(),
            Parsed::Policy("p1".into())
        );
        // Padding is optional; a space is a '+' that went through form decoding.
        let unpadded = b64(r#"{"callbackUrl":"a.com","callbackBody":"x~"}"#);
        assert!(callback(r#"{"callbackUrl":"a.com","callbackBody":"x~"}"#).is_ok());
        assert!(parse_callback(unpadded.trim_end_matches('=')).is_ok());
    }

    #[test]
    fn problems_in_order() {
        let p = |json: &str| callback(json).unwrap_err();
        assert_eq!(
            parse_callback("x123-*&").unwrap_err(),
            Problem::NotBase64 {
                value: "x123-*&".into()
            }
        );
        assert_eq!(
            parse_callback(&"A".repeat(MAX_PARAM_LEN + 4)).unwrap_err(),
            Problem::TooLong
        );
        assert_eq!(
            p("error argument"),
            Problem::NotJson {
                decoded: "error argument".into()
            }
        );
        assert!(matches!(p("[1]"), Problem::NotJson { .. }));
        assert!(matches!(
            p(r#"{"callbackBody":"x"}"#),
            Problem::UrlInvalid { .. }
        ));
        for bad in [
            "10.101.166.30:test",
            "ftp://a.com/x",
            "http://",
            "http://u:p@a.com/",
            "a.com:0",
            " ; ",
        ] {
            assert!(
                matches!(
                    p(&format!(r#"{{"callbackUrl":"{bad}","callbackBody":"x"}}"#)),
                    Problem::UrlInvalid { .. }
                ),
                "{bad}"
            );
        }
        let six = "https://c1.com;https://c2.com;https://c3.com;https://c4.com;https://c5.com;https://c6.com;";
        assert!(matches!(
            p(&format!(r#"{{"callbackUrl":"{six}","callbackBody":"x"}}"#)),
            Problem::TooManyUrls { .. }
        ));
        assert!(matches!(
            p(r#"{"callbackUrl":"a.com","callbackHost":5,"callbackBody":"x"}"#),
            Problem::HostInvalid { .. }
        ));
        assert_eq!(
            p(r#"{"callbackUrl":"a.com","callbackBody":""}"#),
            Problem::BodyEmpty
        );
        assert_eq!(p(r#"{"callbackUrl":"a.com"}"#), Problem::BodyEmpty);
        assert!(matches!(
            p(r#"{"callbackUrl":"a.com","callbackBody":"a=${bucket"}"#),
            Problem::BodyInvalid { .. }
        ));
        assert_eq!(
            p(r#"{"callbackUrl":"a.com","callbackBody":"x","callbackBodyType":123}"#),
            Problem::BodyTypeInvalid
        );
        assert!(matches!(
            p(r#"{"callbackUrl":"a.com","callbackBody":"x","callbackBodyType":"text/xml"}"#),
            Problem::BodyTypeUnsupported { .. }
        ));
        assert_eq!(
            p(r#"{"callbackUrl":"a.com","callbackBody":"x","callbackSNI":"yes"}"#),
            Problem::SniInvalid
        );
    }

    #[test]
    fn callback_vars() {
        assert_eq!(
            parse_callback_var(&b64(r#"{"x:var1":"value1","x:var2":"a b"}"#)).unwrap(),
            vec![
                ("x:var1".to_owned(), "value1".to_owned()),
                ("x:var2".to_owned(), "a b".to_owned())
            ]
        );
        assert_eq!(
            parse_callback_var(&b64(r#"{"callbackUrl":"a.com","x:v":"1"}"#)).unwrap(),
            vec![("x:v".to_owned(), "1".to_owned())]
        );
        for bad in [
            r#"{"var1":1}"#,
            r#"{"x:Var":"v"}"#,
            r#"{"x:n":1}"#,
            r#"["x:a"]"#,
            "nope",
        ] {
            assert!(
                matches!(
                    parse_callback_var(&b64(bad)).unwrap_err(),
                    Problem::VarNotJson { .. }
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_callback_var("%%").unwrap_err(),
            Problem::VarNotBase64 { .. }
        ));
        assert_eq!(
            parse_callback_var(&"A".repeat(MAX_PARAM_LEN + 4)).unwrap_err(),
            Problem::VarTooLong
        );
    }

    fn facts(image: Option<ImageInfo>) -> Facts<'static> {
        Facts {
            bucket: "callback-test",
            object: "dir/a b+c.jpg",
            etag: "D8E8FCA2DC0F896FD7CB4CB0031BA249",
            size: 5,
            mime_type: "text/plain",
            crc64: 18446744073709551615,
            content_md5: None,
            image,
            client_ip: "127.0.0.1".into(),
            request_id: "REQ",
            operation: "PutObject",
        }
    }

    #[test]
    fn renders_form_and_json_bodies() {
        let mut c = callback(
            r#"{"callbackUrl":"a.com","callbackBody":"bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&imageInfo.height=${imageInfo.height}&imageInfo.width=${imageInfo.width}&imageInfo.format=${imageInfo.format}&md5=${contentMd5}&crc=${crc64}&ip=${clientIp}&vpc=${vpcId}&op=${operation}&id=${reqId}&x:var1=${x:var1}&none=${x:none}&odd=${unknown}"}"#,
        )
        .unwrap();
        c.vars = vec![("x:var1".into(), "for callback&test".into())];
        assert_eq!(
            render(&c, &facts(None)),
            "bucket=callback-test&object=dir%2Fa%20b%2Bc.jpg&etag=D8E8FCA2DC0F896FD7CB4CB0031BA249&size=5&mimeType=text%2Fplain&imageInfo.height=&imageInfo.width=&imageInfo.format=&md5=&crc=18446744073709551615&ip=127.0.0.1&vpc=&op=PutObject&id=REQ&x:var1=for%20callback%26test&none=&odd="
        );
        let mut j = callback(
            r#"{"callbackUrl":"a.com","callbackBody":"{\"object\":${object},\"size\":${size},\"imageInfo\":{\"height\":${imageInfo.height},\"width\":${imageInfo.width},\"format\":${imageInfo.format}},\"vpcId\":${vpcId},\"v\":${x:v}}","callbackBodyType":"application/json"}"#,
        )
        .unwrap();
        j.vars = vec![("x:v".into(), "say \"hi\"\n".into())];
        let image = ImageInfo {
            width: 200,
            height: 100,
            format: "jpg",
        };
        let body = render(&j, &facts(Some(image)));
        assert_eq!(
            body,
            r#"{"object":"dir/a b+c.jpg","size":5,"imageInfo":{"height":100,"width":200,"format":"jpg"},"vpcId":"","v":"say \"hi\"\n"}"#
        );
        assert!(serde_json::from_str::<Value>(&body).is_ok());
        assert!(serde_json::from_str::<Value>(&render(&j, &facts(None))).is_ok());
    }
}
