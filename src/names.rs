//! Validated names shared by every layer: raw strings do not cross module boundaries.

use std::fmt;

/// A bucket name that follows the OSS naming rules: 3–63 characters of lower-case
/// letters, digits and `-`, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketName(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(pub &'static str);

impl BucketName {
    pub fn parse(name: &str) -> Result<Self, InvalidName> {
        if !(3..=63).contains(&name.len()) {
            return Err(InvalidName("must be 3 to 63 characters long"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(InvalidName(
                "may contain only lower-case letters, digits and hyphens",
            ));
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[name.len() - 1]) {
            return Err(InvalidName(
                "must start and end with a lower-case letter or digit",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest object key OSS accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 1023;

/// An object key: UTF-8, 1–1023 bytes, not starting with `/` or `\`, no NUL and no `..`
/// path segment. Other control characters (`\x01`, `\t`, `\r`, `\n`, `\x0c`, DEL, ...)
/// are part of the key, as OSS takes them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn parse(key: &str) -> Result<Self, InvalidName> {
        if key.is_empty() {
            return Err(InvalidName("the object name must not be empty"));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(InvalidName(
                "the object name must be shorter than 1024 bytes",
            ));
        }
        if key.starts_with('/') || key.starts_with('\\') {
            return Err(InvalidName(
                "the object name must not start with '/' or '\\'",
            ));
        }
        // OSS's rules name only UTF-8, length and the leading `/` or `\`; NUL is refused
        // here anyway (C clients and tools cannot name such an object).
        if key.contains('\0') {
            return Err(InvalidName("the object name must not contain NUL"));
        }
        if key.split(['/', '\\']).any(|segment| segment == "..") {
            return Err(InvalidName(
                "the object name must not contain a '..' path segment",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encode everything but the unreserved characters in names (`encoding-type=url`
/// listings of both dialects, symlink targets, redirect parameters).
pub const URL_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket-1", "0bucket", &"a".repeat(63)] {
            assert!(BucketName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Upper",
            "-bad",
            "bad-",
            "under_score",
            "dot.ted",
            &"a".repeat(64),
        ] {
            assert!(BucketName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn object_keys() {
        for ok in [
            "a",
            "a/b",
            "dir/",
            "中文 key+%",
            "a..b",
            "x/.../y",
            "ff\x0c-1.txt",
            "?{测}\r\n[试]",
            "\x01\t\x1f\x7f",
            &"k".repeat(1023),
        ] {
            assert!(ObjectKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/lead",
            "\\lead",
            "nul\0byte",
            "..",
            "a/../b",
            "a/..",
            "\0",
            &"k".repeat(1024),
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
