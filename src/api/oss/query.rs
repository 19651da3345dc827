//! The query string, parsed once: decoded pairs in wire order.

use super::error::{ApiResult, OssError};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

/// Longest query string accepted (hyper already bounds the request line).
const MAX_QUERY_BYTES: usize = 16 * 1024;

fn decode(part: &str) -> ApiResult<String> {
    // Form semantics: '+' is a space (Python requests, hence oss2, sends spaces so);
    // every SDK encodes a literal '+' as %2B.
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            OssError::invalid_argument(
                "The query string is not valid UTF-8 after percent-decoding.",
                "query",
                part,
            )
        })
}

impl Query {
    pub fn parse(raw: Option<&str>) -> ApiResult<Self> {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Ok(Self::default());
        };
        if raw.len() > MAX_QUERY_BYTES {
            return Err(OssError::invalid_argument(
                format!("The query string is longer than {MAX_QUERY_BYTES} bytes."),
                "query",
                "",
            ));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name)?;
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(OssError::invalid_argument(
                    format!("The query parameter {name:?} appears more than once."),
                    &name,
                    value,
                ));
            }
            pairs.push((name, decode(value)?));
        }
        Ok(Self { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_repeats() {
        let q = Query::parse(Some("acl&prefix=a%2Fb%20c+d&max-keys=10&uploads=")).unwrap();
        assert_eq!(q.get("acl"), Some(""));
        assert_eq!(q.get("uploads"), Some(""));
        assert_eq!(q.get("prefix"), Some("a/b c d"));
        assert!(!q.has("marker"));
        assert_eq!(
            Query::parse(Some("a=1&a=2")).unwrap_err().code,
            "InvalidArgument"
        );
        assert_eq!(
            Query::parse(Some("a=%FF")).unwrap_err().code,
            "InvalidArgument"
        );
        assert_eq!(Query::parse(None).unwrap(), Query::default());
    }
}
