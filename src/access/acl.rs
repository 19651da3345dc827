//! Canned ACLs of buckets and objects.

use std::fmt;

/// Bucket ACL (`x-oss-acl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Acl {
    #[serde(rename = "private")]
    Private,
    #[serde(rename = "public-read")]
    PublicRead,
    #[serde(rename = "public-read-write")]
    PublicReadWrite,
}

impl Acl {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "private" => Some(Self::Private),
            "public-read" => Some(Self::PublicRead),
            "public-read-write" => Some(Self::PublicReadWrite),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::PublicRead => "public-read",
            Self::PublicReadWrite => "public-read-write",
        }
    }
}

impl fmt::Display for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Object ACL (`x-oss-object-acl`): `default` follows the bucket ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ObjectAcl {
    #[default]
    #[serde(rename = "default")]
    Default,
    #[serde(untagged)]
    Set(Acl),
}

impl ObjectAcl {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "default" => Some(Self::Default),
            other => Acl::parse(other).map(Self::Set),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Set(acl) => acl.as_str(),
        }
    }

    /// The ACL that decides access: the object's own, else the bucket's.
    pub fn effective(self, bucket: Acl) -> Acl {
        match self {
            Self::Default => bucket,
            Self::Set(acl) => acl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_inherit() {
        assert_eq!(ObjectAcl::parse("default"), Some(ObjectAcl::Default));
        assert_eq!(
            ObjectAcl::parse("public-read"),
            Some(ObjectAcl::Set(Acl::PublicRead))
        );
        assert_eq!(ObjectAcl::parse("Private"), None);
        assert_eq!(
            ObjectAcl::Default.effective(Acl::PublicRead),
            Acl::PublicRead
        );
        assert_eq!(
            ObjectAcl::Set(Acl::Private).effective(Acl::PublicRead),
            Acl::Private
        );
        let json = serde_json::to_string(&ObjectAcl::Set(Acl::PublicRead)).unwrap();
        assert_eq!(
            serde_json::from_str::<ObjectAcl>(&json).unwrap(),
            ObjectAcl::Set(Acl::PublicRead)
        );
        let json = serde_json::to_string(&ObjectAcl::Default).unwrap();
        assert_eq!(
            serde_json::from_str::<ObjectAcl>(&json).unwrap(),
            ObjectAcl::Default
        );
    }
}
