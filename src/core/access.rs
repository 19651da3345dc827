//! The access check of every operation: the requester and the facts of its request,
//! evaluated by the pure engine in `access`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::{CoreError, CoreResult};
use crate::access::{
    self, Acl, Action, BucketFacts, Grant, ObjectAcl, Policy, Principal, PublicAccessBlock,
    Resource,
};
use crate::storage::{BucketRecord, ObjectRecord, RequestPayer};

/// Block Public Access (BlockPublicAcls) refuses new public permissions: a public
/// ACL (OSS: "no new public access permissions can be configured"; S3: grants to
/// AllUsers or AuthenticatedUsers).
pub fn refuse_public_acl(block: PublicAccessBlock, acl: &AccessControl) -> CoreResult<()> {
    if block.block_public_acls && acl.is_public() {
        return Err(CoreError::PublicAccessBlocked);
    }
    Ok(())
}

/// [`refuse_public_acl`] for a new object ACL (`default` follows the bucket).
pub fn refuse_public_object_acl(bucket: &BucketRecord, record: &ObjectRecord) -> CoreResult<()> {
    let acl = AccessControl {
        acl: match record.acl {
            ObjectAcl::Set(acl) => acl,
            ObjectAcl::Default => Acl::Private,
        },
        grants: record.grants.clone(),
    };
    refuse_public_acl(bucket.public_access_block(), &acl)
}

/// [`refuse_public_acl`] for a bucket policy with a public statement
/// (BlockPublicPolicy).
pub fn refuse_public_policy(bucket: &BucketRecord, policy: &Policy) -> CoreResult<()> {
    if bucket.public_access_block().block_public_policy && policy.is_public() {
        return Err(CoreError::PublicAccessBlocked);
    }
    Ok(())
}

/// An ACL to set: a canned OSS ACL, or S3 grants with the canned ACL OSS shows for
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessControl {
    pub acl: Acl,
    /// None: exactly the grants of `acl`.
    pub grants: Option<Vec<Grant>>,
}

impl AccessControl {
    pub fn canned(acl: Acl) -> Self {
        Self { acl, grants: None }
    }

    /// S3 grants on a resource of `owner`: kept as grants only when the canned ACL
    /// they map to does not say the same (so OSS-expressible ACLs stay canned).
    pub fn from_grants(grants: Vec<Grant>, owner: &str) -> Self {
        let acl = Acl::of_grants(&grants);
        let grants = (acl.grants(owner) != grants).then_some(grants);
        Self { acl, grants }
    }

    pub fn is_public(&self) -> bool {
        match &self.grants {
            Some(grants) => access::acl::grants_are_public(grants),
            None => self.acl != Acl::Private,
        }
    }
}

/// Who sent a request and the facts policy conditions may test.
#[derive(Debug, Clone)]
pub struct Requester {
    pub principal: Principal,
    /// The region the request arrived in (`oss-` name).
    pub region: String,
    pub source_ip: IpAddr,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    /// Signed in an `Authorization` header (hotlink protection does not apply);
    /// false for anonymous requests and presigned URLs.
    pub header_signed: bool,
    /// The request accepts a pay-by-requester bucket's charges (`x-oss-request-payer:
    /// requester`, S3's `x-amz-request-payer`).
    pub request_payer: bool,
    /// `oss:Prefix` / `oss:Delimiter` of a listing.
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    /// Policy condition keys the request gives (`access::policy::Context::request`).
    pub request_keys: Vec<(String, String)>,
    /// Endpoint host of each region, for wrong-region refusals.
    pub endpoints: Arc<HashMap<String, String>>,
}

/// The policy condition keys a request gives: `headers` as named (S3's
/// `s3:x-amz-acl`, ...), and the tags of its tagging header as
/// `oss:RequestObjectTag/<key>`.
pub fn request_keys<'h>(
    headers: impl Iterator<Item = (String, &'h str)>,
    tagging: Option<&str>,
) -> Vec<(String, String)> {
    let tags = tagging
        .and_then(super::object::parse_tagging)
        .unwrap_or_default();
    headers
        .map(|(name, value)| (name, value.to_owned()))
        .chain(
            tags.into_iter()
                .map(|(k, v)| (format!("oss:RequestObjectTag/{k}"), v)),
        )
        .collect()
}

impl Requester {
    /// May the requester run `action` on `bucket` (and `key` in it)? `object` is the
    /// object's record when it exists (its ACL counts). `bucket_name` names the
    /// resource when there is no record yet (PutBucket); neither means service level.
    pub fn authorize(
        &self,
        action: Action,
        bucket: Option<&BucketRecord>,
        bucket_name: Option<&str>,
        key: Option<&str>,
        object: Option<&ObjectRecord>,
    ) -> CoreResult<()> {
        self.authorize_as(&self.principal, action, bucket, bucket_name, key, object)
    }

    /// [`Requester::authorize`] for another principal (a form upload signs in its form).
    pub fn authorize_as(
        &self,
        principal: &Principal,
        action: Action,
        bucket: Option<&BucketRecord>,
        bucket_name: Option<&str>,
        key: Option<&str>,
        object: Option<&ObjectRecord>,
    ) -> CoreResult<()> {
        let name = bucket.map(|b| b.name.as_str()).or(bucket_name);
        let resource = match (name, key) {
            (None, _) => Resource::Service,
            (Some(bucket), None) => Resource::Bucket { bucket },
            (Some(bucket), Some(key)) => Resource::Object { bucket, key },
        };
        let policy = match bucket.and_then(|b| b.config.policy.as_deref()) {
            Some(text) => Some(
                Policy::parse(text)
                    .map_err(|e| CoreError::internal(format!("stored bucket policy: {e}")))?,
            ),
            None => None,
        };
        let facts = bucket.map(|b| BucketFacts {
            owner: &b.owner,
            region: &b.region,
            acl: b.acl,
            grants: b.config.grants.as_deref(),
            policy: policy.as_ref(),
            object_acl: object.map(|o| o.acl),
            object_grants: object.and_then(|o| o.grants.as_deref()),
            referer: b.config.referer.as_ref(),
            public_access_block: b.public_access_block(),
            requester_pays: b.config.request_payer == RequestPayer::Requester,
        });
        let context = access::Context {
            source_ip: self.source_ip,
            secure_transport: false,
            current_time: chrono::Utc::now(),
            user_agent: self.user_agent.as_deref(),
            referer: self.referer.as_deref(),
            prefix: self.prefix.as_deref(),
            delimiter: self.delimiter.as_deref(),
            header_signed: self.header_signed,
            request_payer: self.request_payer,
            request: &self.request_keys,
            object_tags: object.map_or(&[], |o| o.tags.as_slice()),
        };
        access::authorize(
            principal,
            action,
            &resource,
            &self.region,
            facts.as_ref(),
            &context,
        )
        .map_err(|denied| {
            let endpoint = match &denied {
                access::Denied::WrongRegion { bucket_region } => self
                    .endpoints
                    .get(bucket_region)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            };
            CoreError::AccessDenied {
                denied,
                action: action.name(),
                endpoint,
                bucket: name.unwrap_or_default().to_owned(),
            }
        })
    }
}
