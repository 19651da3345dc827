//! Between the s3s DTOs and the core's records: ETags, times, metadata, content
//! headers, canned ACLs, tags and checksums.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use s3s::dto::{self, ETag, Timestamp};
use s3s::{S3Result, TrailingHeaders, s3_error};

use crate::access::{CannedAcl, Grant, Grantee, ObjectAcl, Permission};
use crate::core::access::AccessControl;
use crate::core::checksum::{Checksum, ChecksumAlgorithm, ChecksumRequest, Claimed};
use crate::storage::{ContentHeaders, ObjectRecord, Sse, SseAlgorithm};

/// The metadata a write request gives (PutObject, CreateMultipartUpload, CopyObject
/// share these input fields): the record the new object starts from, after the ACL
/// and tags are checked.
macro_rules! requested_record {
    ($input:expr, $cx:expr, $bucket:expr, $object_type:expr, $storage_class:expr) => {{
        // Objects have no WRITE permission to grant.
        let access = $crate::api::s3::convert::object_access(
            $crate::api::s3::convert::acl_request!($input, None, None),
            $cx.requester.principal.account(),
            &$bucket.owner,
            |id| $cx.account_exists(id),
        )?;
        let tags = $crate::api::s3::convert::tagging_header($input.tagging.as_deref())?;
        $crate::core::object::check_tags(&tags, $crate::core::bucket_tags::TagLimits::S3_OBJECT)
            .map_err($crate::api::s3::error::from_core)?;
        $crate::storage::ObjectRecord {
            acl: access.0,
            grants: access.1,
            owner: $cx
                .requester
                .principal
                .account()
                .filter(|writer| *writer != $bucket.owner)
                .map(str::to_owned),
            headers: $crate::api::s3::convert::content_headers(
                $input.content_type,
                $input.cache_control,
                $input.content_disposition,
                $input.content_encoding,
                $input.content_language,
                $input.expires,
            ),
            user_meta: $crate::api::s3::convert::user_meta($input.metadata),
            tags,
            sse: $crate::api::s3::convert::requested_sse(
                $input.server_side_encryption.clone(),
                $input.ssekms_key_id.clone(),
            )?,
            ..$crate::core::object::new_record($object_type, $storage_class)
        }
    }};
}
pub(crate) use requested_record;

/// The [`AclRequest`] of a request's `x-amz-acl` and `x-amz-grant-*` headers (the
/// input structs share their names), with `x-amz-grant-write` and a body given apart.
macro_rules! acl_request {
    ($input:expr, $grant_write:expr, $policy:expr) => {
        $crate::api::s3::convert::AclRequest {
            canned: $input.acl.as_ref().map(|a| a.as_str()),
            headers: [
                $input.grant_full_control.as_deref(),
                $input.grant_read.as_deref(),
                $input.grant_read_acp.as_deref(),
                $grant_write,
                $input.grant_write_acp.as_deref(),
            ],
            policy: $policy,
        }
    };
}
pub(crate) use acl_request;

/// The checksum headers of a body upload (PutObject, UploadPart).
macro_rules! checksum_headers {
    ($input:expr) => {
        $crate::api::s3::convert::ChecksumHeaders {
            algorithm: $input.checksum_algorithm,
            crc32: $input.checksum_crc32,
            crc32c: $input.checksum_crc32c,
            crc64nvme: $input.checksum_crc64nvme,
            sha1: $input.checksum_sha1,
            sha256: $input.checksum_sha256,
        }
    };
}
pub(crate) use checksum_headers;

/// A DTO with the five checksum fields taken from `sums` (a [`ChecksumFields`]), and
/// the fields given.
macro_rules! with_checksums {
    ($sums:ident, $ty:ident { $($body:tt)* }) => {
        $ty {
            checksum_crc32: $sums.crc32,
            checksum_crc32c: $sums.crc32c,
            checksum_crc64nvme: $sums.crc64nvme,
            checksum_sha1: $sums.sha1,
            checksum_sha256: $sums.sha256,
            $($body)*
        }
    };
}
pub(crate) use with_checksums;

/// `x-amz-server-side-encryption` (`AES256` or `aws:kms`, the latter with an optional
/// `x-amz-server-side-encryption-aws-kms-key-id`) as the core's settings.
pub fn requested_sse(
    algorithm: Option<dto::ServerSideEncryption>,
    key_id: Option<String>,
) -> S3Result<Option<Sse>> {
    let Some(algorithm) = algorithm else {
        return match key_id {
            None => Ok(None),
            Some(_) => Err(s3_error!(
                InvalidArgument,
                "x-amz-server-side-encryption-aws-kms-key-id needs x-amz-server-side-encryption: aws:kms."
            )),
        };
    };
    let algorithm = match algorithm.as_str() {
        dto::ServerSideEncryption::AES256 if key_id.is_none() => SseAlgorithm::Aes256,
        dto::ServerSideEncryption::AES256 => {
            return Err(s3_error!(
                InvalidArgument,
                "x-amz-server-side-encryption-aws-kms-key-id is only valid with aws:kms."
            ));
        }
        dto::ServerSideEncryption::AWS_KMS => SseAlgorithm::Kms,
        other => {
            return Err(s3_error!(
                InvalidArgument,
                "The encryption method {other:?} is not supported: use AES256 or aws:kms."
            ));
        }
    };
    Ok(Some(Sse {
        algorithm,
        key_id,
        data_sm4: false,
    }))
}

/// An object's encryption as S3 names it (`x-amz-server-side-encryption` and the KMS
/// key id); S3 has no name for SM4, so such objects say nothing.
pub fn sse_output(sse: Option<&Sse>) -> (Option<dto::ServerSideEncryption>, Option<String>) {
    match sse.map(|s| (s.algorithm, s)) {
        Some((SseAlgorithm::Aes256, _)) => (
            Some(dto::ServerSideEncryption::from_static(
                dto::ServerSideEncryption::AES256,
            )),
            None,
        ),
        Some((SseAlgorithm::Kms, s)) if !s.data_sm4 => (
            Some(dto::ServerSideEncryption::from_static(
                dto::ServerSideEncryption::AWS_KMS,
            )),
            s.key_id.clone(),
        ),
        _ => (None, None),
    }
}

/// S3 ETags are lower-case hex (OSS answers upper case for the same object).
pub fn etag(record_etag: &str) -> ETag {
    ETag::Strong(record_etag.to_ascii_lowercase())
}

/// The `x-amz-version-id` of a write: S3 names no version while versioning is
/// suspended (the `null` version).
pub fn written_version(record: &ObjectRecord) -> Option<String> {
    record
        .version_id
        .clone()
        .filter(|v| v != crate::storage::NULL_VERSION)
}

pub fn timestamp(unix_ms: i64) -> Timestamp {
    Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_millis(unix_ms.max(0) as u64))
}

pub fn unix_secs(t: Timestamp) -> i64 {
    time::OffsetDateTime::from(t).unix_timestamp()
}

/// `x-amz-meta-*` as the core stores them (lower-case names, without the prefix).
pub fn user_meta(metadata: Option<dto::Metadata>) -> Vec<(String, String)> {
    let mut meta: Vec<(String, String)> = metadata
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    meta.sort();
    meta
}

pub fn metadata(record: &ObjectRecord) -> Option<dto::Metadata> {
    (!record.user_meta.is_empty()).then(|| record.user_meta.iter().cloned().collect())
}

/// Content-* headers of a write, in the stored form (`Expires` as HTTP date).
pub fn content_headers(
    content_type: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<Timestamp>,
) -> ContentHeaders {
    // `aws-chunked` describes the request body only and is never stored.
    let content_encoding = content_encoding
        .map(|e| {
            e.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|e| !e.is_empty());
    ContentHeaders {
        content_type,
        cache_control,
        content_disposition,
        content_encoding,
        content_language,
        expires: expires.map(|t| {
            let secs = unix_secs(t).max(0) as u64;
            httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        }),
    }
}

pub fn expires(headers: &ContentHeaders) -> Option<Timestamp> {
    let date = httpdate::parse_http_date(headers.expires.as_deref()?).ok()?;
    Some(Timestamp::from(date))
}

/// A canned ACL (`x-amz-acl`); an unknown one is 400 InvalidArgument (S3).
pub fn canned_acl(value: &str) -> S3Result<CannedAcl> {
    CannedAcl::parse(value).ok_or_else(|| {
        s3_error!(
            InvalidArgument,
            "The canned ACL {value:?} is not one of private, public-read, public-read-write, authenticated-read, bucket-owner-read or bucket-owner-full-control."
        )
    })
}

/// The ACL of an object `writer` (None: anonymous, whose objects the bucket owner
/// owns) writes into a bucket of `bucket_owner`: the ACL asked for, else private to
/// the writer (S3 objects do not inherit the bucket's ACL).
pub fn object_access(
    request: AclRequest,
    writer: Option<&str>,
    bucket_owner: &str,
    account_exists: impl Fn(&str) -> bool,
) -> S3Result<(ObjectAcl, Option<Vec<Grant>>)> {
    let request = match request.is_empty() {
        true => AclRequest {
            canned: Some(dto::ObjectCannedACL::PRIVATE),
            ..request
        },
        false => request,
    };
    let access = request.resolve(writer.unwrap_or(bucket_owner), bucket_owner, account_exists)?;
    Ok((ObjectAcl::Set(access.acl), access.grants))
}

/// `x-amz-tagging: k1=v1&k2=v2` (URL-encoded).
pub fn tagging_header(value: Option<&str>) -> S3Result<Vec<(String, String)>> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(vec![]);
    };
    crate::core::object::parse_tagging(value).ok_or_else(|| {
        s3_error!(
            InvalidArgument,
            "The x-amz-tagging header is not valid UTF-8."
        )
    })
}

pub fn tag_set(tags: &[(String, String)]) -> dto::TagSet {
    tags.iter()
        .map(|(k, v)| dto::Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

/// Object and bucket tags as S3 lists them: sorted by key.
pub fn sorted_tag_set(tags: &[(String, String)]) -> dto::TagSet {
    let mut set = tag_set(tags);
    set.sort_by(|a, b| a.key.cmp(&b.key));
    set
}

pub fn tags_of(set: dto::TagSet) -> Vec<(String, String)> {
    set.into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect()
}

/// The checksum headers a write may carry, in one place.
#[derive(Default)]
pub struct ChecksumHeaders {
    pub algorithm: Option<dto::ChecksumAlgorithm>,
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
}

impl ChecksumHeaders {
    /// What to verify: a checksum header, or a trailer announced by `x-amz-trailer`,
    /// or only `x-amz-checksum-algorithm` (computed and stored, nothing to compare).
    pub fn request(
        self,
        headers: &HeaderMap,
        trailer: Option<TrailingHeaders>,
    ) -> S3Result<Option<ChecksumRequest>> {
        let given: Vec<(ChecksumAlgorithm, String)> = [
            (ChecksumAlgorithm::Crc32, self.crc32),
            (ChecksumAlgorithm::Crc32c, self.crc32c),
            (ChecksumAlgorithm::Crc64Nvme, self.crc64nvme),
            (ChecksumAlgorithm::Sha1, self.sha1),
            (ChecksumAlgorithm::Sha256, self.sha256),
        ]
        .into_iter()
        .filter_map(|(a, v)| v.map(|v| (a, v)))
        .collect();
        if given.len() > 1 {
            return Err(s3_error!(
                InvalidRequest,
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
            ));
        }
        let algorithm = match &self.algorithm {
            Some(a) => Some(ChecksumAlgorithm::parse(a.as_str()).ok_or_else(|| {
                s3_error!(
                    InvalidRequest,
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
                )
            })?),
            None => None,
        };
        if let Some((a, value)) = given.into_iter().next() {
            if algorithm.is_some_and(|given| given != a) {
                return Err(s3_error!(
                    InvalidRequest,
                    "Value for x-amz-sdk-checksum-algorithm header is invalid."
                ));
            }
            if !a.is_valid(&value) {
                return Err(s3_error!(
                    InvalidRequest,
                    "Value for x-amz-checksum-{} header is invalid.",
                    a.name().to_ascii_lowercase()
                ));
            }
            return Ok(Some(ChecksumRequest {
                algorithm: a,
                claimed: Claimed::Value(value),
            }));
        }
        let announced = headers
            .get("x-amz-trailer")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase());
        if let Some(name) = announced {
            let a = name
                .strip_prefix("x-amz-checksum-")
                .and_then(ChecksumAlgorithm::parse)
                .ok_or_else(|| {
                    s3_error!(InvalidRequest, "The trailer {name:?} is not supported.")
                })?;
            let trailer = trailer.ok_or_else(|| {
                s3_error!(
                    InvalidRequest,
                    "x-amz-trailer is only accepted with a trailer content encoding."
                )
            })?;
            return Ok(Some(ChecksumRequest {
                algorithm: a,
                claimed: Claimed::Trailer(Box::new(move || {
                    trailer.take().and_then(|h| {
                        h.get(name.as_str())
                            .and_then(|v| v.to_str().ok())
                            .map(|v| v.trim().to_owned())
                    })
                })),
            }));
        }
        Ok(algorithm.map(|algorithm| ChecksumRequest {
            algorithm,
            claimed: Claimed::Nothing,
        }))
    }
}

/// The five checksum fields of an output and its checksum type.
#[derive(Default)]
pub struct ChecksumFields {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub kind: Option<dto::ChecksumType>,
}

pub fn checksum_fields(checksum: Option<&Checksum>) -> ChecksumFields {
    let Some(c) = checksum else {
        return ChecksumFields::default();
    };
    let mut f = ChecksumFields {
        kind: Some(dto::ChecksumType::from(c.kind.name().to_owned())),
        ..Default::default()
    };
    let value = Some(c.value.clone());
    match c.algorithm {
        ChecksumAlgorithm::Crc32 => f.crc32 = value,
        ChecksumAlgorithm::Crc32c => f.crc32c = value,
        ChecksumAlgorithm::Crc64Nvme => f.crc64nvme = value,
        ChecksumAlgorithm::Sha1 => f.sha1 = value,
        ChecksumAlgorithm::Sha256 => f.sha256 = value,
    }
    f
}

/// S3's name of a stored algorithm.
pub fn algorithm(a: ChecksumAlgorithm) -> dto::ChecksumAlgorithm {
    dto::ChecksumAlgorithm::from(a.name().to_owned())
}

/// An S3 storage class as OSS names it: STANDARD is Standard; the infrequent-access
/// and archive classes map to their OSS counterparts, by how they are read: GLACIER
/// and DEEP_ARCHIVE objects need a restore, as Archive and ColdArchive ones do, while
/// GLACIER_IR objects are read at once, as IA ones are.
pub fn oss_storage_class(class: Option<&dto::StorageClass>, default: &str) -> S3Result<String> {
    let Some(class) = class else {
        return Ok(default.to_owned());
    };
    Ok(match class.as_str() {
        "STANDARD" | "REDUCED_REDUNDANCY" => "Standard",
        "STANDARD_IA" | "ONEZONE_IA" | "INTELLIGENT_TIERING" | "GLACIER_IR" => "IA",
        "GLACIER" => "Archive",
        "DEEP_ARCHIVE" => "ColdArchive",
        _ => return Err(s3_error!(InvalidStorageClass)),
    }
    .to_owned())
}

/// The storage class S3 reports for a stored OSS class.
pub fn s3_storage_class(oss: &str) -> &'static str {
    match oss {
        "IA" => "STANDARD_IA",
        "Archive" => "GLACIER",
        "ColdArchive" | "DeepColdArchive" => "DEEP_ARCHIVE",
        _ => "STANDARD",
    }
}

pub fn owner(account: &str) -> dto::Owner {
    dto::Owner {
        display_name: Some(account.to_owned()),
        id: Some(account.to_owned()),
    }
}

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// The grants of an AccessControlPolicy answer: the group grants first, then the
/// accounts' (as RGW answers and the Ceph S3 suite expects).
pub fn grants(account: &str, grants: &[Grant]) -> (dto::Owner, dto::Grants) {
    let mut ordered: Vec<&Grant> = grants.iter().collect();
    ordered.sort_by_key(|g| !g.grantee.is_public());
    let grants = ordered
        .into_iter()
        .map(|g| dto::Grant {
            grantee: Some(match &g.grantee {
                Grantee::Account(id) => dto::Grantee {
                    display_name: Some(id.clone()),
                    id: Some(id.clone()),
                    type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
                    email_address: None,
                    uri: None,
                },
                group => dto::Grantee {
                    display_name: None,
                    id: None,
                    email_address: None,
                    type_: dto::Type::from_static(dto::Type::GROUP),
                    uri: Some(
                        match group {
                            Grantee::AllUsers => ALL_USERS,
                            _ => AUTHENTICATED_USERS,
                        }
                        .to_owned(),
                    ),
                },
            }),
            permission: Some(dto::Permission::from(g.permission.as_str().to_owned())),
        })
        .collect();
    (owner(account), grants)
}

/// The ACL a request asks for: a canned `x-amz-acl`, the `x-amz-grant-*` headers,
/// or an AccessControlPolicy body (one of them).
pub struct AclRequest<'a> {
    pub canned: Option<&'a str>,
    pub headers: [Option<&'a str>; 5],
    pub policy: Option<dto::AccessControlPolicy>,
}

/// The `x-amz-grant-*` header values in the order of [`AclRequest::headers`].
const HEADER_PERMISSIONS: [Permission; 5] = [
    Permission::FullControl,
    Permission::Read,
    Permission::ReadAcp,
    Permission::Write,
    Permission::WriteAcp,
];

impl AclRequest<'_> {
    pub fn is_empty(&self) -> bool {
        self.canned.is_none() && self.headers.iter().all(Option::is_none) && self.policy.is_none()
    }

    /// The ACL on a resource `owner` owns in a bucket of `bucket_owner`;
    /// `account_exists` tells whether a grant names an account of this server.
    pub fn resolve(
        self,
        owner: &str,
        bucket_owner: &str,
        account_exists: impl Fn(&str) -> bool,
    ) -> S3Result<AccessControl> {
        let given_headers = self.headers.iter().any(Option::is_some);
        if [self.canned.is_some(), given_headers, self.policy.is_some()]
            .iter()
            .filter(|given| **given)
            .count()
            > 1
        {
            return Err(s3_error!(
                InvalidRequest,
                "Specify an ACL one way: x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy body."
            ));
        }
        let grants = if let Some(canned) = self.canned {
            canned_acl(canned)?.grants(owner, bucket_owner)
        } else if given_headers {
            let mut grants = Vec::new();
            for (value, permission) in self.headers.iter().zip(HEADER_PERMISSIONS) {
                for grantee in value.map(grant_header).transpose()?.unwrap_or_default() {
                    grants.push(Grant::new(grantee, permission));
                }
            }
            grants
        } else {
            let policy = self.policy.ok_or_else(|| {
                s3_error!(
                    MissingSecurityHeader,
                    "Your request was missing a required header: x-amz-acl, x-amz-grant-* or an AccessControlPolicy body."
                )
            })?;
            let mut grants = Vec::new();
            for g in policy.grants.unwrap_or_default() {
                let (Some(grantee), Some(permission)) = (g.grantee, g.permission) else {
                    return Err(s3_error!(
                        MalformedACLError,
                        "Every Grant needs a Grantee and a Permission."
                    ));
                };
                let permission = Permission::parse(permission.as_str()).ok_or_else(|| {
                    s3_error!(
                        MalformedACLError,
                        "Permission must be FULL_CONTROL, READ, WRITE, READ_ACP or WRITE_ACP."
                    )
                })?;
                grants.push(Grant::new(policy_grantee(grantee)?, permission));
            }
            grants
        };
        for grant in &grants {
            if let Grantee::Account(id) = &grant.grantee
                && !account_exists(id)
            {
                // S3 and RGW: a grant to an unknown canonical id is 400 InvalidArgument.
                return Err(s3_error!(
                    InvalidArgument,
                    "Invalid id {id:?}: grant to an account of this server (its account id)."
                ));
            }
        }
        Ok(AccessControl::from_grants(grants, bucket_owner))
    }
}

/// A Grantee of an AccessControlPolicy body.
fn policy_grantee(grantee: dto::Grantee) -> S3Result<Grantee> {
    match grantee.type_.as_str() {
        dto::Type::CANONICAL_USER => match grantee.id {
            Some(id) => Ok(Grantee::Account(id)),
            None => Err(s3_error!(
                MalformedACLError,
                "A CanonicalUser grantee needs an ID."
            )),
        },
        dto::Type::GROUP => group(grantee.uri.as_deref().unwrap_or_default()),
        dto::Type::AMAZON_CUSTOMER_BY_EMAIL => Err(unresolvable_email()),
        other => Err(s3_error!(
            MalformedACLError,
            "Unknown grantee type {other:?}: use CanonicalUser or Group."
        )),
    }
}

fn group(uri: &str) -> S3Result<Grantee> {
    match uri {
        ALL_USERS => Ok(Grantee::AllUsers),
        AUTHENTICATED_USERS => Ok(Grantee::AuthenticatedUsers),
        other => Err(s3_error!(
            InvalidArgument,
            "Unknown group {other:?}: use {ALL_USERS} or {AUTHENTICATED_USERS}."
        )),
    }
}

/// Accounts here have no e-mail addresses (S3's error for an unknown one).
fn unresolvable_email() -> s3s::S3Error {
    s3_error!(
        UnresolvableGrantByEmailAddress,
        "The e-mail address you provided does not match any account on record: grant to an account id instead."
    )
}

/// An `x-amz-grant-*` value: `id="<account>", uri="<group>", emailAddress="<e-mail>"`.
fn grant_header(value: &str) -> S3Result<Vec<Grantee>> {
    value
        .split(',')
        .map(|item| {
            let (kind, v) = item.trim().split_once('=').ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "A grant header lists id=\"...\", uri=\"...\" or emailAddress=\"...\" items, not {item:?}."
                )
            })?;
            let v = v.trim().trim_matches('"');
            match kind.trim().to_ascii_lowercase().as_str() {
                "id" => Ok(Grantee::Account(v.to_owned())),
                "uri" => group(v),
                "emailaddress" => Err(unresolvable_email()),
                other => Err(s3_error!(
                    InvalidArgument,
                    "Unknown grantee kind {other:?} in a grant header: use id, uri or emailAddress."
                )),
            }
        })
        .collect()
}

/// SigV2 signs a bucket's resource as `/bucket/` (botocore and other V2 signers do,
/// whatever the URL); s3s checks the signature against the path as sent, so a
/// V2-signed path-style bucket request `/bucket` is served as `/bucket/`.
pub fn sigv2_bucket_path<B>(request: &mut http::Request<B>) {
    let v2 = match request.headers().get("authorization") {
        Some(auth) => auth.as_bytes().starts_with(b"AWS "),
        None => request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("AWSAccessKeyId="))),
    };
    // Only where the request is path style for sure (virtual-hosted paths are keys).
    let host = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let path_style =
        name.is_empty() || name == "localhost" || name.parse::<std::net::IpAddr>().is_ok();
    let path = request.uri().path();
    if !v2 || !path_style || path.len() < 2 || path[1..].contains('/') {
        return;
    }
    let rewritten = match request.uri().query() {
        Some(q) => format!("{path}/?{q}"),
        None => format!("{path}/"),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = http::uri::PathAndQuery::try_from(rewritten) {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}
