//! Pure access control: who may run which RAM action on which resource.
//! No I/O: the API layer gathers the facts (principal, bucket owner, ACLs, policies)
//! and asks [`authorize`].

pub mod acl;
pub mod policy;
pub mod referer;

use std::sync::Arc;

pub use acl::{
    Acl, CannedAcl, Grant, Grantable, Grantee, ObjectAcl, Permission, PublicAccessBlock,
};
pub use policy::{Context, Effect, Policy};
pub use referer::{RefererConfig, RefererDenial};

/// RAM actions of the operations ossify serves (spec/oss-api.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ListBuckets,
    PutBucket,
    DeleteBucket,
    GetBucketInfo,
    GetBucketLocation,
    ListObjects,
    PutBucketAcl,
    GetBucketAcl,
    PutObject,
    GetObject,
    DeleteObject,
    PutObjectAcl,
    GetObjectAcl,
    AbortMultipartUpload,
    ListParts,
    ListMultipartUploads,
    PutObjectTagging,
    GetObjectTagging,
    DeleteObjectTagging,
    GetBucketStat,
    PutBucketCors,
    GetBucketCors,
    DeleteBucketCors,
    PutBucketLifecycle,
    GetBucketLifecycle,
    DeleteBucketLifecycle,
    PutBucketPolicy,
    GetBucketPolicy,
    DeleteBucketPolicy,
    PutStyle,
    GetStyle,
    ListStyle,
    DeleteStyle,
    PostProcessTask,
    PutProcessConfiguration,
    GetProcessConfiguration,
    PutBucketTagging,
    GetBucketTagging,
    DeleteBucketTagging,
    PutBucketReferer,
    GetBucketReferer,
    DescribeRegions,
    PutPublicAccessBlock,
    GetPublicAccessBlock,
    DeletePublicAccessBlock,
    PutBucketPublicAccessBlock,
    GetBucketPublicAccessBlock,
    DeleteBucketPublicAccessBlock,
    GetBucketPolicyStatus,
    PutBucketVersioning,
    GetBucketVersioning,
    ListObjectVersions,
    GetObjectVersion,
    DeleteObjectVersion,
    GetObjectVersionAcl,
    PutObjectVersionAcl,
    GetObjectVersionTagging,
    PutObjectVersionTagging,
    DeleteObjectVersionTagging,
    RestoreObject,
    PutBucketArchiveDirectRead,
    GetBucketArchiveDirectRead,
    PutBucketEncryption,
    GetBucketEncryption,
    DeleteBucketEncryption,
    PutBucketCallbackPolicy,
    GetBucketCallbackPolicy,
    DeleteBucketCallbackPolicy,
    PutBucketWebsite,
    GetBucketWebsite,
    DeleteBucketWebsite,
    PutBucketLogging,
    GetBucketLogging,
    DeleteBucketLogging,
    InitiateBucketWorm,
    AbortBucketWorm,
    CompleteBucketWorm,
    ExtendBucketWorm,
    GetBucketWorm,
    PutBucketRequestPayment,
    GetBucketRequestPayment,
    PutBucketTransferAcceleration,
    GetBucketTransferAcceleration,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Self::ListBuckets => "oss:ListBuckets",
            Self::PutBucket => "oss:PutBucket",
            Self::DeleteBucket => "oss:DeleteBucket",
            Self::GetBucketInfo => "oss:GetBucketInfo",
            Self::GetBucketLocation => "oss:GetBucketLocation",
            Self::ListObjects => "oss:ListObjects",
            Self::PutBucketAcl => "oss:PutBucketAcl",
            Self::GetBucketAcl => "oss:GetBucketAcl",
            Self::PutObject => "oss:PutObject",
            Self::GetObject => "oss:GetObject",
            Self::DeleteObject => "oss:DeleteObject",
            Self::PutObjectAcl => "oss:PutObjectAcl",
            Self::GetObjectAcl => "oss:GetObjectAcl",
            Self::AbortMultipartUpload => "oss:AbortMultipartUpload",
            Self::ListParts => "oss:ListParts",
            Self::ListMultipartUploads => "oss:ListMultipartUploads",
            Self::PutObjectTagging => "oss:PutObjectTagging",
            Self::GetObjectTagging => "oss:GetObjectTagging",
            Self::DeleteObjectTagging => "oss:DeleteObjectTagging",
            Self::GetBucketStat => "oss:GetBucketStat",
            Self::PutBucketCors => "oss:PutBucketCors",
            Self::GetBucketCors => "oss:GetBucketCors",
            Self::DeleteBucketCors => "oss:DeleteBucketCors",
            Self::PutBucketLifecycle => "oss:PutBucketLifecycle",
            Self::GetBucketLifecycle => "oss:GetBucketLifecycle",
            Self::DeleteBucketLifecycle => "oss:DeleteBucketLifecycle",
            Self::PutBucketPolicy => "oss:PutBucketPolicy",
            Self::GetBucketPolicy => "oss:GetBucketPolicy",
            Self::DeleteBucketPolicy => "oss:DeleteBucketPolicy",
            Self::PutStyle => "oss:PutStyle",
            Self::GetStyle => "oss:GetStyle",
            Self::ListStyle => "oss:ListStyle",
            Self::DeleteStyle => "oss:DeleteStyle",
            Self::PostProcessTask => "oss:PostProcessTask",
            Self::PutProcessConfiguration => "oss:PutProcessConfiguration",
            Self::GetProcessConfiguration => "oss:GetProcessConfiguration",
            Self::PutBucketTagging => "oss:PutBucketTagging",
            Self::GetBucketTagging => "oss:GetBucketTagging",
            Self::DeleteBucketTagging => "oss:DeleteBucketTagging",
            Self::PutBucketReferer => "oss:PutBucketReferer",
            Self::GetBucketReferer => "oss:GetBucketReferer",
            Self::DescribeRegions => "oss:DescribeRegions",
            Self::PutPublicAccessBlock => "oss:PutPublicAccessBlock",
            Self::GetPublicAccessBlock => "oss:GetPublicAccessBlock",
            Self::DeletePublicAccessBlock => "oss:DeletePublicAccessBlock",
            Self::PutBucketPublicAccessBlock => "oss:PutBucketPublicAccessBlock",
            Self::GetBucketPublicAccessBlock => "oss:GetBucketPublicAccessBlock",
            Self::DeleteBucketPublicAccessBlock => "oss:DeleteBucketPublicAccessBlock",
            Self::GetBucketPolicyStatus => "oss:GetBucketPolicyStatus",
            Self::PutBucketVersioning => "oss:PutBucketVersioning",
            Self::GetBucketVersioning => "oss:GetBucketVersioning",
            Self::ListObjectVersions => "oss:ListObjectVersions",
            Self::GetObjectVersion => "oss:GetObjectVersion",
            Self::DeleteObjectVersion => "oss:DeleteObjectVersion",
            Self::GetObjectVersionAcl => "oss:GetObjectVersionAcl",
            Self::PutObjectVersionAcl => "oss:PutObjectVersionAcl",
            Self::GetObjectVersionTagging => "oss:GetObjectVersionTagging",
            Self::PutObjectVersionTagging => "oss:PutObjectVersionTagging",
            Self::DeleteObjectVersionTagging => "oss:DeleteObjectVersionTagging",
            Self::RestoreObject => "oss:RestoreObject",
            Self::PutBucketArchiveDirectRead => "oss:PutBucketArchiveDirectRead",
            Self::GetBucketArchiveDirectRead => "oss:GetBucketArchiveDirectRead",
            Self::PutBucketEncryption => "oss:PutBucketEncryption",
            Self::GetBucketEncryption => "oss:GetBucketEncryption",
            Self::DeleteBucketEncryption => "oss:DeleteBucketEncryption",
            Self::PutBucketCallbackPolicy => "oss:PutBucketCallbackPolicy",
            Self::GetBucketCallbackPolicy => "oss:GetBucketCallbackPolicy",
            Self::DeleteBucketCallbackPolicy => "oss:DeleteBucketCallbackPolicy",
            Self::PutBucketWebsite => "oss:PutBucketWebsite",
            Self::GetBucketWebsite => "oss:GetBucketWebsite",
            Self::DeleteBucketWebsite => "oss:DeleteBucketWebsite",
            Self::PutBucketLogging => "oss:PutBucketLogging",
            Self::GetBucketLogging => "oss:GetBucketLogging",
            Self::DeleteBucketLogging => "oss:DeleteBucketLogging",
            Self::InitiateBucketWorm => "oss:InitiateBucketWorm",
            Self::AbortBucketWorm => "oss:AbortBucketWorm",
            Self::CompleteBucketWorm => "oss:CompleteBucketWorm",
            Self::ExtendBucketWorm => "oss:ExtendBucketWorm",
            Self::GetBucketWorm => "oss:GetBucketWorm",
            Self::PutBucketRequestPayment => "oss:PutBucketRequestPayment",
            Self::GetBucketRequestPayment => "oss:GetBucketRequestPayment",
            Self::PutBucketTransferAcceleration => "oss:PutBucketTransferAcceleration",
            Self::GetBucketTransferAcceleration => "oss:GetBucketTransferAcceleration",
        }
    }

    /// The action of a request that names a version (`versionId`): OSS and S3 grant
    /// reading, deleting and retagging a specific version separately.
    pub fn on_version(self) -> Self {
        match self {
            Self::GetObject => Self::GetObjectVersion,
            Self::DeleteObject => Self::DeleteObjectVersion,
            Self::GetObjectAcl => Self::GetObjectVersionAcl,
            Self::PutObjectAcl => Self::PutObjectVersionAcl,
            Self::GetObjectTagging => Self::GetObjectVersionTagging,
            Self::PutObjectTagging => Self::PutObjectVersionTagging,
            Self::DeleteObjectTagging => Self::DeleteObjectVersionTagging,
            other => other,
        }
    }

    /// The ACL permission that allows the action: READ is what a `public-read` ACL
    /// gives everyone, WRITE what `public-read-write` adds; the ACLs' own
    /// sub-resource is READ_ACP/WRITE_ACP (S3). Other actions are the owner's alone.
    fn acl_permission(self) -> Option<Permission> {
        match self {
            Self::GetObject
            | Self::GetObjectVersion
            | Self::ListObjects
            | Self::ListObjectVersions => Some(Permission::Read),
            Self::PutObject
            | Self::DeleteObject
            | Self::AbortMultipartUpload
            | Self::ListParts
            | Self::ListMultipartUploads => Some(Permission::Write),
            Self::GetBucketAcl | Self::GetObjectAcl | Self::GetObjectVersionAcl => {
                Some(Permission::ReadAcp)
            }
            Self::PutBucketAcl | Self::PutObjectAcl | Self::PutObjectVersionAcl => {
                Some(Permission::WriteAcp)
            }
            _ => None,
        }
    }
}

/// Who is asking, after authentication.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    /// The root AccessKey of an account.
    Root {
        account: String,
    },
    /// A RAM user of an account, with its policy (none: it may do nothing).
    User {
        account: String,
        name: String,
        policy: Option<Arc<Policy>>,
    },
}

impl Principal {
    pub fn account(&self) -> Option<&str> {
        match self {
            Self::Anonymous => None,
            Self::Root { account } | Self::User { account, .. } => Some(account),
        }
    }

    /// The requester as the access log names it: `anonymous`, `<account>` (root) or
    /// `<account>:<user>` (a RAM user, as bucket policies write it).
    pub fn log_name(&self) -> String {
        match self {
            Self::Anonymous => "anonymous".into(),
            Self::Root { account } => account.clone(),
            Self::User { account, name, .. } => format!("{account}:{name}"),
        }
    }

    /// Names a bucket-policy `Principal` entry may use for this requester (anonymous
    /// requesters match only `"*"`).
    fn policy_names(&self) -> Vec<String> {
        match self {
            Self::Anonymous => vec![],
            Self::Root { account } => vec![account.clone()],
            Self::User { account, name, .. } => vec![
                name.clone(),
                format!("{account}:{name}"),
                format!("acs:ram::{account}:user/{name}"),
            ],
        }
    }
}

/// What the request touches. The region and owner fill the ARN
/// `acs:oss:<region>:<owner>:<bucket>[/<key>]`.
#[derive(Debug, Clone)]
pub enum Resource<'a> {
    Service,
    Bucket { bucket: &'a str },
    Object { bucket: &'a str, key: &'a str },
}

/// The stored facts about the bucket (and object) a request touches.
#[derive(Debug, Clone)]
pub struct BucketFacts<'a> {
    pub owner: &'a str,
    pub region: &'a str,
    pub acl: Acl,
    /// The bucket's S3 grants when set through S3; None: those of `acl`.
    pub grants: Option<&'a [Grant]>,
    pub policy: Option<&'a Policy>,
    /// The object's ACL, for object-level requests on an existing object.
    pub object_acl: Option<ObjectAcl>,
    /// The object's S3 grants when set through S3; None: those of `object_acl`.
    pub object_grants: Option<&'a [Grant]>,
    /// Hotlink protection (PutBucketReferer), when configured.
    pub referer: Option<&'a RefererConfig>,
    /// Block Public Access (bucket and account together): with IgnorePublicAcls public
    /// grants, with RestrictPublicBuckets public policy statements, grant nothing.
    pub public_access_block: PublicAccessBlock,
    /// Pay-by-requester (PutBucketRequestPayment `Requester`).
    pub requester_pays: bool,
}

impl BucketFacts<'_> {
    /// The grants that decide a request: the object's own (S3 grants or canned ACL),
    /// else the bucket's (an OSS `default` object follows its bucket).
    fn grants(&self) -> std::borrow::Cow<'_, [Grant]> {
        use std::borrow::Cow;
        match (self.object_acl, self.object_grants) {
            (Some(_), Some(grants)) => Cow::Borrowed(grants),
            (Some(ObjectAcl::Set(acl)), None) => Cow::Owned(acl.grants(self.owner)),
            _ => match self.grants {
                Some(grants) => Cow::Borrowed(grants),
                None => Cow::Owned(self.acl.grants(self.owner)),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The bucket lives in another region (OSS: "must be addressed using the specified endpoint").
    WrongRegion { bucket_region: String },
    /// An explicit `Deny` statement matched.
    ExplicitDeny,
    /// Nothing allowed the request.
    NotAllowed,
    /// Hotlink protection refused the request's `Referer`.
    Referer(RefererDenial),
    /// The bucket is pay-by-requester and the requester, not its owner, did not
    /// accept the charges (`x-oss-request-payer: requester`).
    RequesterPays(RequesterPaysDenial),
}

/// Why a pay-by-requester bucket refused a request (OSS tells them apart by EC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequesterPaysDenial {
    /// Anonymous requests are never accepted.
    Anonymous,
    /// A presigned URL without `x-oss-request-payer=requester`.
    Presigned,
    /// A request signed in its header without `x-oss-request-payer: requester`.
    Signed,
}

pub fn arn(resource: &Resource, region: &str, owner: &str) -> String {
    match resource {
        Resource::Service => format!("acs:oss:{region}:{owner}:*"),
        Resource::Bucket { bucket } => format!("acs:oss:{region}:{owner}:{bucket}"),
        Resource::Object { bucket, key } => format!("acs:oss:{region}:{owner}:{bucket}/{key}"),
    }
}

/// The evaluation order of spec/oss-api.md §6.3: region, then hotlink protection
/// (object reads not signed in a header, even the owner's presigned URLs, as OSS
/// checks them), then pay-by-requester (requesters of other accounts), then the
/// owner's root key, then explicit denies in RAM and bucket
/// policies, then allows, then the ACLs.
pub fn authorize(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    request_region: &str,
    bucket: Option<&BucketFacts>,
    context: &Context,
) -> Result<(), Denied> {
    let Some(bucket) = bucket else {
        // Service-level requests and PutBucket: the account itself, or a RAM user whose
        // policy allows it.
        let account = principal.account().unwrap_or("*");
        let resource = arn(resource, request_region, account);
        return match principal {
            Principal::Anonymous => Err(Denied::NotAllowed),
            Principal::Root { .. } => Ok(()),
            Principal::User { policy, .. } => {
                match policy
                    .as_ref()
                    .and_then(|p| p.evaluate(&[], action.name(), &resource, context))
                {
                    Some(Effect::Allow) => Ok(()),
                    Some(Effect::Deny) => Err(Denied::ExplicitDeny),
                    None => Err(Denied::NotAllowed),
                }
            }
        };
    };
    if bucket.region != request_region {
        return Err(Denied::WrongRegion {
            bucket_region: bucket.region.to_owned(),
        });
    }
    if matches!(action, Action::GetObject | Action::GetObjectVersion)
        && !context.header_signed
        && let Some(referer) = bucket.referer
    {
        referer.check(context.referer).map_err(Denied::Referer)?;
    }
    // Pay-by-requester: every requester but the owner's account accepts the charges;
    // anonymous requests are refused outright (OSS).
    if bucket.requester_pays && principal.account() != Some(bucket.owner) {
        if matches!(principal, Principal::Anonymous) {
            return Err(Denied::RequesterPays(RequesterPaysDenial::Anonymous));
        }
        if !context.request_payer {
            return Err(Denied::RequesterPays(if context.header_signed {
                RequesterPaysDenial::Signed
            } else {
                RequesterPaysDenial::Presigned
            }));
        }
    }
    let resource = arn(resource, bucket.region, bucket.owner);
    let bucket_decision = bucket.policy.and_then(|p| {
        p.evaluate_blocking(
            &principal.policy_names(),
            action.name(),
            &resource,
            context,
            bucket.public_access_block.restrict_public_buckets,
        )
    });
    // A RAM policy speaks only for resources of the user's own account.
    let ram_decision = match principal {
        Principal::User {
            account,
            policy: Some(policy),
            ..
        } if account == bucket.owner => policy.evaluate(&[], action.name(), &resource, context),
        _ => None,
    };
    if bucket_decision == Some(Effect::Deny) || ram_decision == Some(Effect::Deny) {
        return Err(Denied::ExplicitDeny);
    }
    if matches!(principal, Principal::Root { account } if account == bucket.owner) {
        return Ok(());
    }
    if bucket_decision == Some(Effect::Allow) || ram_decision == Some(Effect::Allow) {
        return Ok(());
    }
    let requester = Grantable {
        authenticated: !matches!(principal, Principal::Anonymous),
        account: match principal {
            Principal::Root { account } => Some(account),
            _ => None,
        },
    };
    let granted = action.acl_permission().is_some_and(|needed| {
        acl::grants_allow(
            &bucket.grants(),
            requester,
            needed,
            bucket.public_access_block.ignore_public_acls,
        )
    });
    if granted {
        Ok(())
    } else {
        Err(Denied::NotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            source_ip: "127.0.0.1".parse().unwrap(),
            secure_transport: false,
            current_time: chrono::Utc::now(),
            user_agent: None,
            referer: None,
            prefix: None,
            delimiter: None,
            header_signed: true,
            request_payer: false,
            request: &[],
            object_tags: &[],
        }
    }

    const OWNER: &str = "1000000000000001";
    const OTHER: &str = "1000000000000002";

    fn user(account: &str, policy: Option<&str>) -> Principal {
        Principal::User {
            account: account.into(),
            name: "u".into(),
            policy: policy.map(|p| Arc::new(Policy::parse(p).unwrap())),
        }
    }

    #[test]
    fn decision_table() {
        let reader = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:b/*"}]}"#;
        let grant_other = Policy::parse(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["1000000000000002"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let deny_all = Policy::parse(
            r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:*","Principal":["*"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let root = Principal::Root {
            account: OWNER.into(),
        };
        let other = Principal::Root {
            account: OTHER.into(),
        };
        let obj = Resource::Object {
            bucket: "b",
            key: "k",
        };
        let facts = |acl, object_acl, policy| BucketFacts {
            owner: OWNER,
            region: "oss-cn-hangzhou",
            acl,
            grants: None,
            policy,
            object_acl,
            object_grants: None,
            referer: None,
            public_access_block: PublicAccessBlock::default(),
            requester_pays: false,
        };
        use Action::*;
        type Case<'a> = (
            &'a Principal,
            Action,
            BucketFacts<'a>,
            &'a str,
            Result<(), Denied>,
        );
        let cases: Vec<Case> = vec![
            (
                &root,
                PutObject,
                facts(Acl::Private, None, None),
                "oss-cn-hangzhou",
                Ok(()),
            ),
            (
                &root,
                PutObject,
                facts(Acl::Private, None, None),
                "oss-cn-shanghai",
                Err(Denied::WrongRegion {
                    bucket_region: "oss-cn-hangzhou".into(),
                }),
            ),
            (
                &other,
                GetObject,
                facts(Acl::Private, None, None),
                "oss-cn-hangzhou",
                Err(Denied::NotAllowed),
            ),
            (
                &other,
                GetObject,
                facts(Acl::PublicRead, None, None),
                "oss-cn-hangzhou",
                Ok(()),
            ),
            (
                &other,
                PutObject,
                facts(Acl::PublicRead, None, None),
                "oss-cn-hangzhou",
                Err(Denied::NotAllowed),
            ),
            (
                &other,
                PutObject,
                facts(Acl::PublicReadWrite, None, None),
                "oss-cn-hangzhou",
                Ok(()),
            ),
            (
                &other,
                GetObject,
                facts(Acl::Private, None, Some(&grant_other)),
                "oss-cn-hangzhou",
                Ok(()),
            ),
            (
                &Principal::Anonymous,
                GetObject,
                facts(Acl::PublicRead, None, None),
                "oss-cn-hangzhou",
                Ok(()),
            ),
            (
                &Principal::Anonymous,
                GetObject,
                facts(Acl::PublicRead, Some(ObjectAcl::Set(Acl::Private)), None),
                "oss-cn-hangzhou",
                Err(Denied::NotAllowed),
            ),
            (
                &Principal::Anonymous,
                GetObject,
                facts(Acl::Private, Some(ObjectAcl::Set(Acl::PublicRead)), None),
                "oss-cn-hangzhou",
                Ok(()),
            ),
            (
                &Principal::Anonymous,
                GetObject,
                facts(Acl::Private, Some(ObjectAcl::Default), None),
                "oss-cn-hangzhou",
                Err(Denied::NotAllowed),
            ),
            (
                &Principal::Anonymous,
                GetObject,
                facts(Acl::PublicRead, None, Some(&deny_all)),
                "oss-cn-hangzhou",
                Err(Denied::ExplicitDeny),
            ),
            (
                &root,
                GetObject,
                facts(Acl::Private, None, Some(&deny_all)),
                "oss-cn-hangzhou",
                Err(Denied::ExplicitDeny),
            ),
        ];
        for (i, (who, action, facts, region, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                authorize(who, action, &obj, region, Some(&facts), &ctx()),
                want,
                "case {i}"
            );
        }
        let owner_reader = user(OWNER, Some(reader));
        let foreign_reader = user(OTHER, Some(reader));
        let f = facts(Acl::Private, None, None);
        assert_eq!(
            authorize(
                &owner_reader,
                GetObject,
                &obj,
                "oss-cn-hangzhou",
                Some(&f),
                &ctx()
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &owner_reader,
                PutObject,
                &obj,
                "oss-cn-hangzhou",
                Some(&f),
                &ctx()
            ),
            Err(Denied::NotAllowed)
        );
        assert_eq!(
            authorize(
                &foreign_reader,
                GetObject,
                &obj,
                "oss-cn-hangzhou",
                Some(&f),
                &ctx()
            ),
            Err(Denied::NotAllowed)
        );
        assert_eq!(
            authorize(
                &user(OWNER, None),
                GetObject,
                &obj,
                "oss-cn-hangzhou",
                Some(&f),
                &ctx()
            ),
            Err(Denied::NotAllowed)
        );
        // Service level.
        assert_eq!(
            authorize(
                &root,
                ListBuckets,
                &Resource::Service,
                "oss-cn-hangzhou",
                None,
                &ctx()
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &Principal::Anonymous,
                ListBuckets,
                &Resource::Service,
                "oss-cn-hangzhou",
                None,
                &ctx()
            ),
            Err(Denied::NotAllowed)
        );
        assert_eq!(
            authorize(
                &owner_reader,
                ListBuckets,
                &Resource::Service,
                "oss-cn-hangzhou",
                None,
                &ctx()
            ),
            Err(Denied::NotAllowed)
        );
    }

    /// S3 grants: an account's root key acts as the account, its RAM users do not;
    /// the object's grants decide object reads, the bucket's the rest.
    #[test]
    fn grants_to_accounts_and_groups() {
        let object_grants = [
            Grant::new(Grantee::Account(OTHER.into()), Permission::Read),
            Grant::new(Grantee::AuthenticatedUsers, Permission::ReadAcp),
        ];
        let bucket_grants = [Grant::new(
            Grantee::Account(OTHER.into()),
            Permission::Write,
        )];
        let facts = BucketFacts {
            owner: OWNER,
            region: "oss-cn-hangzhou",
            acl: Acl::Private,
            grants: Some(&bucket_grants),
            policy: None,
            object_acl: Some(ObjectAcl::Set(Acl::Private)),
            object_grants: Some(&object_grants),
            referer: None,
            public_access_block: PublicAccessBlock::default(),
            requester_pays: false,
        };
        let other = Principal::Root {
            account: OTHER.into(),
        };
        let obj = Resource::Object {
            bucket: "b",
            key: "k",
        };
        let check = |principal: &Principal, action, facts: &BucketFacts| {
            authorize(
                principal,
                action,
                &obj,
                "oss-cn-hangzhou",
                Some(facts),
                &ctx(),
            )
        };
        assert_eq!(check(&other, Action::GetObject, &facts), Ok(()));
        assert_eq!(check(&other, Action::GetObjectAcl, &facts), Ok(()));
        assert_eq!(
            check(&user(OTHER, None), Action::GetObject, &facts),
            Err(Denied::NotAllowed)
        );
        assert_eq!(
            check(&user(OTHER, None), Action::GetObjectAcl, &facts),
            Ok(())
        );
        assert_eq!(
            check(&Principal::Anonymous, Action::GetObjectAcl, &facts),
            Err(Denied::NotAllowed)
        );
        assert_eq!(
            check(&other, Action::PutObjectAcl, &facts),
            Err(Denied::NotAllowed)
        );
        // Without an object, the bucket's grants.
        let bucket_level = BucketFacts {
            object_acl: None,
            object_grants: None,
            ..facts.clone()
        };
        assert_eq!(check(&other, Action::PutObject, &bucket_level), Ok(()));
        assert_eq!(
            check(&other, Action::GetObject, &bucket_level),
            Err(Denied::NotAllowed)
        );
        // IgnorePublicAcls: the group grant gives nothing, the account's still does.
        let ignoring = BucketFacts {
            public_access_block: PublicAccessBlock {
                ignore_public_acls: true,
                ..Default::default()
            },
            ..facts.clone()
        };
        assert_eq!(
            check(&user(OTHER, None), Action::GetObjectAcl, &ignoring),
            Err(Denied::NotAllowed)
        );
        assert_eq!(check(&other, Action::GetObject, &ignoring), Ok(()));
    }

    #[test]
    fn hotlink_protection_checks_reads_not_signed_in_a_header() {
        let only_site = RefererConfig {
            allow_empty: false,
            allowed: vec!["https://site.example/".into()],
            ..Default::default()
        };
        let facts = BucketFacts {
            owner: OWNER,
            region: "oss-cn-hangzhou",
            acl: Acl::PublicRead,
            grants: None,
            policy: None,
            object_acl: None,
            object_grants: None,
            referer: Some(&only_site),
            public_access_block: PublicAccessBlock::default(),
            requester_pays: false,
        };
        let root = Principal::Root {
            account: OWNER.into(),
        };
        let obj = Resource::Object {
            bucket: "b",
            key: "k",
        };
        let request = |header_signed, referer| Context {
            header_signed,
            referer,
            ..ctx()
        };
        let from_site = Some("https://site.example/page.html");
        let elsewhere = Some("https://other.example/");
        // (principal, action, signed in a header, Referer, decision)
        let cases = [
            (
                &Principal::Anonymous,
                Action::GetObject,
                false,
                from_site,
                Ok(()),
            ),
            (
                &Principal::Anonymous,
                Action::GetObject,
                false,
                elsewhere,
                Err(Denied::Referer(RefererDenial::NotWhitelisted)),
            ),
            (
                &Principal::Anonymous,
                Action::GetObject,
                false,
                None,
                Err(Denied::Referer(RefererDenial::Empty)),
            ),
            // A presigned URL, even the owner's, is checked.
            (
                &root,
                Action::GetObject,
                false,
                elsewhere,
                Err(Denied::Referer(RefererDenial::NotWhitelisted)),
            ),
            // An Authorization header is not.
            (&root, Action::GetObject, true, elsewhere, Ok(())),
            (&root, Action::GetObject, true, None, Ok(())),
            // Only reads are protected; other actions keep their own answer.
            (&root, Action::PutObject, false, elsewhere, Ok(())),
            (
                &Principal::Anonymous,
                Action::ListObjects,
                false,
                elsewhere,
                Ok(()),
            ),
        ];
        for (i, (who, action, header_signed, referer, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                authorize(
                    who,
                    action,
                    &obj,
                    "oss-cn-hangzhou",
                    Some(&facts),
                    &request(header_signed, referer)
                ),
                want,
                "case {i}"
            );
        }
        // The region is settled first.
        assert!(matches!(
            authorize(
                &Principal::Anonymous,
                Action::GetObject,
                &obj,
                "oss-cn-shanghai",
                Some(&facts),
                &request(false, elsewhere)
            ),
            Err(Denied::WrongRegion { .. })
        ));
    }

    #[test]
    fn ram_users_create_the_buckets_their_policy_names() {
        let creator = user(
            OWNER,
            Some(
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutBucket","Resource":"acs:oss:*:*:mine-*"}]}"#,
            ),
        );
        let mine = Resource::Bucket { bucket: "mine-1" };
        let other = Resource::Bucket { bucket: "theirs" };
        assert_eq!(
            authorize(
                &creator,
                Action::PutBucket,
                &mine,
                "oss-cn-hangzhou",
                None,
                &ctx()
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &creator,
                Action::PutBucket,
                &other,
                "oss-cn-hangzhou",
                None,
                &ctx()
            ),
            Err(Denied::NotAllowed)
        );
    }

    #[test]
    fn pay_by_requester_needs_the_payer_header_from_other_accounts() {
        let public = Policy::parse(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["*"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let facts = BucketFacts {
            owner: OWNER,
            region: "oss-cn-hangzhou",
            acl: Acl::PublicRead,
            grants: None,
            policy: Some(&public),
            object_acl: None,
            object_grants: None,
            referer: None,
            public_access_block: PublicAccessBlock::default(),
            requester_pays: true,
        };
        let obj = Resource::Object {
            bucket: "b",
            key: "k",
        };
        let run = |p: &Principal, signed: bool, payer: bool| {
            let context = Context {
                header_signed: signed,
                request_payer: payer,
                ..ctx()
            };
            authorize(
                p,
                Action::GetObject,
                &obj,
                "oss-cn-hangzhou",
                Some(&facts),
                &context,
            )
        };
        let other = Principal::Root {
            account: OTHER.into(),
        };
        use RequesterPaysDenial::*;
        assert_eq!(
            run(&Principal::Anonymous, false, true),
            Err(Denied::RequesterPays(Anonymous))
        );
        assert_eq!(run(&other, true, false), Err(Denied::RequesterPays(Signed)));
        assert_eq!(
            run(&other, false, false),
            Err(Denied::RequesterPays(Presigned))
        );
        assert_eq!(run(&other, true, true), Ok(()));
        // The owner's account (root or RAM user) pays anyway.
        let owner = Principal::Root {
            account: OWNER.into(),
        };
        assert_eq!(run(&owner, true, false), Ok(()));
        assert_eq!(run(&user(OWNER, None), true, false), Ok(()));
        // Paying does not grant anything by itself.
        let private = BucketFacts {
            acl: Acl::Private,
            policy: None,
            ..facts.clone()
        };
        let context = Context {
            request_payer: true,
            ..ctx()
        };
        assert_eq!(
            authorize(
                &other,
                Action::GetObject,
                &obj,
                "oss-cn-hangzhou",
                Some(&private),
                &context
            ),
            Err(Denied::NotAllowed)
        );
    }
}
