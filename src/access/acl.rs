//! ACLs of buckets and objects: OSS's canned ACLs, S3's grants, and Block Public
//! Access.

use std::fmt;

use serde::Deserialize;

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
}

/// What an S3 grant gives (`Permission` of S3's AccessControlPolicy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    FullControl,
    Read,
    Write,
    ReadAcp,
    WriteAcp,
}

impl Permission {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "FULL_CONTROL" => Some(Self::FullControl),
            "READ" => Some(Self::Read),
            "WRITE" => Some(Self::Write),
            "READ_ACP" => Some(Self::ReadAcp),
            "WRITE_ACP" => Some(Self::WriteAcp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullControl => "FULL_CONTROL",
            Self::Read => "READ",
            Self::Write => "WRITE",
            Self::ReadAcp => "READ_ACP",
            Self::WriteAcp => "WRITE_ACP",
        }
    }

    /// Does a grant of `self` give `needed`? FULL_CONTROL gives all four.
    fn covers(self, needed: Permission) -> bool {
        self == needed || self == Self::FullControl
    }
}

/// Who an S3 grant names: an account (S3's CanonicalUser, whose id is the account
/// id) or one of S3's two groups.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grantee {
    Account(String),
    AllUsers,
    AuthenticatedUsers,
}

impl Grantee {
    /// Granted to requesters beyond named accounts (S3: "public"; Block Public Access
    /// refuses and ignores these).
    pub fn is_public(&self) -> bool {
        matches!(self, Self::AllUsers | Self::AuthenticatedUsers)
    }

    fn includes(&self, requester: Grantable) -> bool {
        match self {
            Self::AllUsers => true,
            Self::AuthenticatedUsers => requester.authenticated,
            Self::Account(id) => requester.account == Some(id.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

impl Grant {
    pub fn new(grantee: Grantee, permission: Permission) -> Self {
        Self {
            grantee,
            permission,
        }
    }
}

/// Whom a grant may name: any signed requester is one of AuthenticatedUsers; only an
/// account's root key acts as the account (its RAM users need their own policies).
#[derive(Debug, Clone, Copy, Default)]
pub struct Grantable<'a> {
    pub authenticated: bool,
    pub account: Option<&'a str>,
}

/// Does some grant of `grants` give `requester` `needed`? `ignore_public` skips the
/// grants to the groups (IgnorePublicAcls).
pub fn grants_allow(
    grants: &[Grant],
    requester: Grantable,
    needed: Permission,
    ignore_public: bool,
) -> bool {
    grants.iter().any(|g| {
        !(ignore_public && g.grantee.is_public())
            && g.grantee.includes(requester)
            && g.permission.covers(needed)
    })
}

/// Do `grants` give anything to the groups (S3's "public" ACL)?
pub fn grants_are_public(grants: &[Grant]) -> bool {
    grants.iter().any(|g| g.grantee.is_public())
}

impl Acl {
    /// The grants of a canned ACL: the owner's FULL_CONTROL and everyone's READ (and
    /// WRITE) when public.
    pub fn grants(self, owner: &str) -> Vec<Grant> {
        let mut grants = vec![Grant::new(
            Grantee::Account(owner.to_owned()),
            Permission::FullControl,
        )];
        if self != Self::Private {
            grants.push(Grant::new(Grantee::AllUsers, Permission::Read));
        }
        if self == Self::PublicReadWrite {
            grants.push(Grant::new(Grantee::AllUsers, Permission::Write));
        }
        grants
    }

    /// The canned ACL OSS shows for a grant list: what it gives everyone (an
    /// AuthenticatedUsers grant or a grant to another account is private for OSS).
    pub fn of_grants(grants: &[Grant]) -> Self {
        let everyone = |p| grants_allow(grants, Grantable::default(), p, false);
        match (everyone(Permission::Read), everyone(Permission::Write)) {
            (true, true) => Self::PublicReadWrite,
            (true, false) => Self::PublicRead,
            _ => Self::Private,
        }
    }
}

/// S3's canned ACLs (`x-amz-acl`); the first three are OSS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannedAcl {
    Oss(Acl),
    AuthenticatedRead,
    BucketOwnerRead,
    BucketOwnerFullControl,
}

impl CannedAcl {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "authenticated-read" => Some(Self::AuthenticatedRead),
            "bucket-owner-read" => Some(Self::BucketOwnerRead),
            "bucket-owner-full-control" => Some(Self::BucketOwnerFullControl),
            other => Acl::parse(other).map(Self::Oss),
        }
    }

    /// The grants of the ACL on a resource `owner` owns in a bucket of `bucket_owner`
    /// (S3: the bucket-owner ACLs add nothing when both are the same account).
    pub fn grants(self, owner: &str, bucket_owner: &str) -> Vec<Grant> {
        let mut grants = Acl::Private.grants(owner);
        let extra = match self {
            Self::Oss(acl) => return acl.grants(owner),
            Self::AuthenticatedRead => Grant::new(Grantee::AuthenticatedUsers, Permission::Read),
            _ if owner == bucket_owner => return grants,
            Self::BucketOwnerRead => {
                Grant::new(Grantee::Account(bucket_owner.to_owned()), Permission::Read)
            }
            Self::BucketOwnerFullControl => Grant::new(
                Grantee::Account(bucket_owner.to_owned()),
                Permission::FullControl,
            ),
        };
        grants.push(extra);
        grants
    }
}

/// S3's four Block Public Access switches. OSS's one switch (`BlockPublicAccess`)
/// sets all four, and reads as on only when all four are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicAccessBlock {
    /// Refuse new public ACLs (bucket, object, on upload).
    #[serde(default)]
    pub block_public_acls: bool,
    /// Public grants give nothing.
    #[serde(default)]
    pub ignore_public_acls: bool,
    /// Refuse public bucket policies.
    #[serde(default)]
    pub block_public_policy: bool,
    /// Public policy statements give nothing.
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub const ALL: Self = Self {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// OSS's `BlockPublicAccess`.
    pub fn oss(on: bool) -> Self {
        if on { Self::ALL } else { Self::default() }
    }

    /// OSS's view: on only when every switch is.
    pub fn is_all(self) -> bool {
        self == Self::ALL
    }

    /// Both settings together (a bucket's and its account's): each switch on if
    /// either has it.
    pub fn union(self, other: Self) -> Self {
        Self {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// A stored Block Public Access setting: the four switches, or OSS's one switch as
/// stored before the switches existed (`true`/`false`). None: never set, or deleted.
pub fn deserialize_public_access_block<'de, D>(
    deserializer: D,
) -> Result<Option<PublicAccessBlock>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Switch(bool),
        Switches(PublicAccessBlock),
    }
    Ok(match Option::<Stored>::deserialize(deserializer)? {
        None | Some(Stored::Switch(false)) => None,
        Some(Stored::Switch(true)) => Some(PublicAccessBlock::ALL),
        Some(Stored::Switches(s)) => Some(s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_store() {
        assert_eq!(ObjectAcl::parse("default"), Some(ObjectAcl::Default));
        assert_eq!(
            ObjectAcl::parse("public-read"),
            Some(ObjectAcl::Set(Acl::PublicRead))
        );
        assert_eq!(ObjectAcl::parse("Private"), None);
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

    #[test]
    fn canned_acls_as_grants() {
        let own = |p| Grant::new(Grantee::Account("a".into()), p);
        assert_eq!(
            Acl::PublicReadWrite.grants("a"),
            vec![
                own(Permission::FullControl),
                Grant::new(Grantee::AllUsers, Permission::Read),
                Grant::new(Grantee::AllUsers, Permission::Write),
            ]
        );
        assert_eq!(
            CannedAcl::parse("authenticated-read")
                .unwrap()
                .grants("a", "a"),
            vec![
                own(Permission::FullControl),
                Grant::new(Grantee::AuthenticatedUsers, Permission::Read),
            ]
        );
        assert_eq!(
            CannedAcl::BucketOwnerRead.grants("a", "a"),
            vec![own(Permission::FullControl)]
        );
        assert_eq!(
            CannedAcl::BucketOwnerFullControl.grants("b", "a"),
            vec![
                Grant::new(Grantee::Account("b".into()), Permission::FullControl),
                own(Permission::FullControl),
            ]
        );
        assert_eq!(CannedAcl::parse("public-ready"), None);
        // OSS's view of grants: what everyone gets.
        assert_eq!(
            Acl::of_grants(&CannedAcl::AuthenticatedRead.grants("a", "a")),
            Acl::Private
        );
        assert_eq!(
            Acl::of_grants(&Acl::PublicRead.grants("a")),
            Acl::PublicRead
        );
        assert_eq!(
            Acl::of_grants(&[Grant::new(Grantee::AllUsers, Permission::FullControl)]),
            Acl::PublicReadWrite
        );
    }

    #[test]
    fn grants_decide_by_grantee_and_permission() {
        let grants = [
            Grant::new(Grantee::Account("b".into()), Permission::FullControl),
            Grant::new(Grantee::AuthenticatedUsers, Permission::Read),
        ];
        let anonymous = Grantable::default();
        let signed = Grantable {
            authenticated: true,
            account: None,
        };
        let b = Grantable {
            authenticated: true,
            account: Some("b"),
        };
        assert!(!grants_allow(&grants, anonymous, Permission::Read, false));
        assert!(grants_allow(&grants, signed, Permission::Read, false));
        assert!(!grants_allow(&grants, signed, Permission::ReadAcp, false));
        assert!(grants_allow(&grants, b, Permission::WriteAcp, false));
        // IgnorePublicAcls drops the group grants only.
        assert!(!grants_allow(&grants, signed, Permission::Read, true));
        assert!(grants_allow(&grants, b, Permission::Read, true));
        assert!(grants_are_public(&grants));
        assert!(!grants_are_public(&grants[..1]));
    }

    #[test]
    fn stored_block_public_access_reads_old_and_new_forms() {
        #[derive(serde::Deserialize)]
        struct Record {
            #[serde(default, deserialize_with = "deserialize_public_access_block")]
            block: Option<PublicAccessBlock>,
        }
        let read = |json: &str| serde_json::from_str::<Record>(json).unwrap().block;
        assert_eq!(read("{}"), None);
        assert_eq!(read(r#"{"block":null}"#), None);
        assert_eq!(read(r#"{"block":false}"#), None);
        assert_eq!(read(r#"{"block":true}"#), Some(PublicAccessBlock::ALL));
        let one = PublicAccessBlock {
            ignore_public_acls: true,
            ..Default::default()
        };
        let json = format!(r#"{{"block":{}}}"#, serde_json::to_string(&one).unwrap());
        assert_eq!(read(&json), Some(one));
        assert!(!one.is_all() && PublicAccessBlock::oss(true).is_all());
        assert_eq!(
            one.union(PublicAccessBlock::oss(true)),
            PublicAccessBlock::ALL
        );
    }
}
