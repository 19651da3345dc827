//! Service and bucket operations: ListBuckets, Create/Head/DeleteBucket,
//! GetBucketLocation, ListObjects (v1, v2), bucket ACLs, versioning status,
//! DeleteObjects, CORS, policies, bucket tagging, default encryption.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use percent_encoding::utf8_percent_encode;
use s3s::dto::*;
use s3s::{S3Response, S3Result, s3_error};

use super::convert;
use super::error::from_core;
use super::{Cx, R};
use crate::access::{Action, PublicAccessBlock};
use crate::core::bucket::{self, CreateBucket};
use crate::core::bucket_tags::{self, TagLimits};
use crate::names::URL_ENCODE;
use crate::storage::{BucketRecord, ListQuery, Listing, VersionQuery, Versioning};

const MAX_KEYS: i32 = 1000;

pub async fn list_buckets(cx: Cx, input: ListBucketsInput) -> R<ListBucketsOutput> {
    cx.requester
        .authorize(Action::ListBuckets, None, None, None, None)
        .map_err(from_core)?;
    let max = match input.max_buckets {
        Some(n) if !(1..=10_000).contains(&n) => {
            return Err(s3_error!(
                InvalidArgument,
                "max-buckets must be between 1 and 10000."
            ));
        }
        Some(n) => n as usize,
        None => 10_000,
    };
    let marker = match &input.continuation_token {
        Some(token) => decode_token(token)?,
        None => String::new(),
    };
    let prefix = input.prefix.clone().unwrap_or_default();
    let (owner, buckets, truncated) =
        bucket::list_buckets(cx.store(), &cx.requester, &prefix, &marker, max, None)
            .await
            .map_err(from_core)?;
    let next = truncated
        .then(|| buckets.last().map(|b| encode_token(&b.name)))
        .flatten();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(
            buckets
                .iter()
                .map(|b| Bucket {
                    name: Some(b.name.clone()),
                    creation_date: Some(convert::timestamp(b.created)),
                    bucket_region: Some(signing_region(&b.region).to_owned()),
                })
                .collect(),
        ),
        owner: Some(convert::owner(&owner)),
        prefix: input.prefix,
        continuation_token: next,
    }))
}

/// The SigV4 region of an OSS region name (`oss-cn-hangzhou` → `cn-hangzhou`).
fn signing_region(region: &str) -> &str {
    region.strip_prefix("oss-").unwrap_or(region)
}

fn encode_token(marker: &str) -> String {
    URL_SAFE_NO_PAD.encode(marker)
}

fn decode_token(token: &str) -> S3Result<String> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })
}

pub async fn create_bucket(cx: Cx, input: CreateBucketInput) -> R<CreateBucketOutput> {
    let name = crate::names::BucketName::parse(&input.bucket).map_err(|e| {
        s3_error!(
            InvalidBucketName,
            "The specified bucket is not valid: {}.",
            e.0
        )
    })?;
    let region = cx.requester.region.clone();
    if let Some(location) = input
        .create_bucket_configuration
        .as_ref()
        .and_then(|c| c.location_constraint.as_ref())
    {
        let location = location.as_str();
        if !location.is_empty() && location != region && location != signing_region(&region) {
            return Err(s3_error!(
                IllegalLocationConstraintException,
                "The {location} location constraint is incompatible for the region specific endpoint this request was sent to."
            ));
        }
    }
    cx.requester
        .authorize(Action::PutBucket, None, Some(name.as_str()), None, None)
        .map_err(from_core)?;
    let owner = cx
        .requester
        .principal
        .account()
        .unwrap_or_default()
        .to_owned();
    let request = convert::acl_request!(input, input.grant_write.as_deref(), None);
    let acl = match request.is_empty() {
        true => None,
        false => Some(request.resolve(&owner, &owner, |id| cx.account_exists(id))?),
    };
    if let Ok(existing) = cx.bucket(name.as_str()).await
        && Some(existing.owner.as_str()) == cx.requester.principal.account()
    {
        // us-east-1's legacy behaviour: re-creating one's own bucket is a no-op that
        // answers 200, refused (as Ceph RGW does) only when it asks for another ACL.
        // Every other region says BucketAlreadyOwnedByYou.
        if signing_region(&region) != "us-east-1" {
            return Err(s3_error!(
                BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it."
            ));
        }
        let wanted = match &acl {
            Some(a) => a.grants.clone().unwrap_or_else(|| a.acl.grants(&owner)),
            None => crate::access::Acl::Private.grants(&owner),
        };
        if wanted != existing.grants() {
            return Err(s3_error!(
                BucketAlreadyExists,
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
            ));
        }
        return Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{}", name.as_str())),
        }));
    }
    bucket::create_bucket(
        cx.store(),
        &cx.requester,
        CreateBucket {
            name: name.as_str().to_owned(),
            acl,
            storage_class: "Standard".into(),
            redundancy: "LRS".into(),
            encryption: None,
        },
    )
    .await
    .map_err(from_core)?;
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{}", name.as_str())),
    }))
}

pub(super) async fn authorized(cx: &Cx, name: &str, action: Action) -> S3Result<BucketRecord> {
    let record = cx.bucket(name).await?;
    cx.authorize(action, &record, None, None)?;
    Ok(record)
}

pub async fn head_bucket(cx: Cx, input: HeadBucketInput) -> R<HeadBucketOutput> {
    let record = authorized(&cx, &input.bucket, Action::ListObjects).await?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(signing_region(&record.region).to_owned()),
        ..Default::default()
    }))
}

pub async fn delete_bucket(cx: Cx, input: DeleteBucketInput) -> R<DeleteBucketOutput> {
    let record = authorized(&cx, &input.bucket, Action::DeleteBucket).await?;
    bucket::delete_bucket_with_uploads(cx.store(), &record.name)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

pub async fn get_bucket_location(
    cx: Cx,
    input: GetBucketLocationInput,
) -> R<GetBucketLocationOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketLocation).await?;
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: Some(BucketLocationConstraint::from(
            signing_region(&record.region).to_owned(),
        )),
    }))
}

pub async fn get_bucket_acl(cx: Cx, input: GetBucketAclInput) -> R<GetBucketAclOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketAcl).await?;
    let (owner, grants) = convert::grants(&record.owner, &record.grants());
    Ok(S3Response::new(GetBucketAclOutput {
        owner: Some(owner),
        grants: Some(grants),
    }))
}

pub async fn put_bucket_acl(cx: Cx, input: PutBucketAclInput) -> R<PutBucketAclOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketAcl).await?;
    let acl = convert::acl_request!(
        input,
        input.grant_write.as_deref(),
        input.access_control_policy
    )
    .resolve(&record.owner, &record.owner, |id| cx.account_exists(id))?;
    bucket::put_bucket_acl(cx.store(), &record, acl)
        .await
        .map_err(from_core)?;
    Ok(S3Response::new(PutBucketAclOutput::default()))
}

/// GetBucketVersioning: no status for a bucket that never had versioning.
pub async fn get_bucket_versioning(
    cx: Cx,
    input: GetBucketVersioningInput,
) -> R<GetBucketVersioningOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketVersioning).await?;
    let status = record
        .config
        .versioning
        .map(|v| BucketVersioningStatus::from(v.as_str().to_owned()));
    Ok(S3Response::new(GetBucketVersioningOutput {
        status,
        ..Default::default()
    }))
}

/// PutBucketVersioning: Enabled or Suspended (MFA delete is not offered).
pub async fn put_bucket_versioning(
    cx: Cx,
    input: PutBucketVersioningInput,
) -> R<PutBucketVersioningOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketVersioning).await?;
    let config = input.versioning_configuration;
    if config
        .mfa_delete
        .as_ref()
        .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
    {
        return Err(s3_error!(
            NotImplemented,
            "MFA delete is not supported by this server."
        ));
    }
    let versioning = match config.status.as_ref().map(|s| s.as_str()) {
        Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
        Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
        _ => {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
    };
    bucket::put_bucket_versioning(cx.store(), &record, versioning)
        .await
        .map_err(from_core)?;
    Ok(S3Response::new(PutBucketVersioningOutput::default()))
}

/// `encoding-type=url`: keys and prefixes in the answer are URL-encoded, with `/`
/// left as it is (S3 answers `foo%2B1/` for `foo+1/`).
struct Encoding(bool);

const S3_URL_ENCODE: &percent_encoding::AsciiSet = &URL_ENCODE.remove(b'/');

impl Encoding {
    fn new(value: Option<&EncodingType>) -> S3Result<Self> {
        match value.map(|v| v.as_str()) {
            None => Ok(Self(false)),
            Some("url") => Ok(Self(true)),
            Some(_) => Err(s3_error!(
                InvalidArgument,
                "Invalid Encoding Method specified in Request"
            )),
        }
    }

    fn apply(&self, s: &str) -> String {
        if self.0 {
            utf8_percent_encode(s, S3_URL_ENCODE).to_string()
        } else {
            s.to_owned()
        }
    }

    fn opt(&self, s: Option<String>) -> Option<String> {
        s.map(|s| self.apply(&s))
    }

    fn name(&self) -> Option<EncodingType> {
        self.0.then(|| EncodingType::from_static(EncodingType::URL))
    }
}

fn max_keys(value: Option<i32>) -> S3Result<usize> {
    match value {
        Some(n) if n < 0 => Err(s3_error!(
            InvalidArgument,
            "max-keys must be a non-negative integer."
        )),
        Some(n) => Ok(n.min(MAX_KEYS) as usize),
        None => Ok(MAX_KEYS as usize),
    }
}

struct Listed {
    record: BucketRecord,
    listing: Listing,
    contents: Vec<Object>,
    prefixes: Vec<CommonPrefix>,
}

async fn list(
    cx: &Cx,
    bucket: &str,
    query: ListQuery,
    encoding: &Encoding,
    with_owner: bool,
) -> S3Result<Listed> {
    let record = authorized(cx, bucket, Action::ListObjects).await?;
    let listing = if query.max_keys == 0 {
        Listing::default()
    } else {
        bucket::list_objects(cx.store(), &record.name, query)
            .await
            .map_err(from_core)?
    };
    let contents = listing
        .objects
        .iter()
        .map(|(key, o)| Object {
            key: Some(encoding.apply(key)),
            e_tag: Some(convert::etag(&o.etag)),
            last_modified: Some(convert::timestamp(o.last_modified)),
            size: Some(o.size as i64),
            storage_class: Some(ObjectStorageClass::from(
                convert::s3_storage_class(&o.storage_class).to_owned(),
            )),
            owner: with_owner.then(|| convert::owner(&record.owner)),
            checksum_algorithm: o
                .checksum
                .as_ref()
                .map(|c| vec![convert::algorithm(c.algorithm)]),
            checksum_type: o
                .checksum
                .as_ref()
                .map(|c| ChecksumType::from(c.kind.name().to_owned())),
            ..Default::default()
        })
        .collect();
    let prefixes = listing
        .common_prefixes
        .iter()
        .map(|p| CommonPrefix {
            prefix: Some(encoding.apply(p)),
        })
        .collect();
    Ok(Listed {
        record,
        listing,
        contents,
        prefixes,
    })
}

pub async fn list_objects(cx: Cx, input: ListObjectsInput) -> R<ListObjectsOutput> {
    let encoding = Encoding::new(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let query = ListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().unwrap_or_default(),
        start_after: input.marker.clone().unwrap_or_default(),
        max_keys: max,
    };
    let listed = list(&cx, &input.bucket, query, &encoding, true).await?;
    let truncated = listed.listing.truncated;
    // S3 gives NextMarker only with a delimiter; clients use the last key otherwise.
    let next_marker = (truncated && input.delimiter.is_some())
        .then(|| listed.listing.next_marker.clone())
        .flatten();
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(listed.record.name.clone()),
        // ListObjects (v1) echoes Prefix unencoded; botocore does not decode it.
        prefix: Some(input.prefix.unwrap_or_default()),
        marker: Some(encoding.apply(&input.marker.unwrap_or_default())),
        max_keys: Some(max as i32),
        is_truncated: Some(truncated),
        contents: Some(listed.contents),
        common_prefixes: Some(listed.prefixes),
        delimiter: encoding.opt(input.delimiter.filter(|d| !d.is_empty())),
        next_marker: encoding.opt(next_marker),
        encoding_type: encoding.name(),
        ..Default::default()
    }))
}

pub async fn list_objects_v2(cx: Cx, input: ListObjectsV2Input) -> R<ListObjectsV2Output> {
    let encoding = Encoding::new(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let after = input.start_after.clone().unwrap_or_default();
    let start_after = match &input.continuation_token {
        Some(token) => decode_token(token)?.max(after),
        None => after,
    };
    let query = ListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().unwrap_or_default(),
        start_after,
        max_keys: max,
    };
    let with_owner = input.fetch_owner.unwrap_or(false);
    let listed = list(&cx, &input.bucket, query, &encoding, with_owner).await?;
    let count = listed.contents.len() + listed.prefixes.len();
    let next = listed
        .listing
        .truncated
        .then(|| listed.listing.next_marker.as_deref().map(encode_token))
        .flatten();
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(listed.record.name.clone()),
        prefix: Some(encoding.apply(&input.prefix.unwrap_or_default())),
        max_keys: Some(max as i32),
        key_count: Some(count as i32),
        continuation_token: input.continuation_token,
        is_truncated: Some(listed.listing.truncated),
        next_continuation_token: next,
        contents: Some(listed.contents),
        common_prefixes: Some(listed.prefixes),
        delimiter: encoding.opt(input.delimiter.filter(|d| !d.is_empty())),
        encoding_type: encoding.name(),
        start_after: encoding.opt(input.start_after),
        ..Default::default()
    }))
}

/// DeleteObjects: each key is authorized (DeleteObject) and deleted on its own; a
/// missing key counts as deleted.
pub async fn delete_objects(cx: Cx, input: DeleteObjectsInput) -> R<DeleteObjectsOutput> {
    let record = cx.bucket(&input.bucket).await?;
    if input.delete.objects.len() > 1000 {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for o in input.delete.objects {
        let result = match super::parse_key(&o.key) {
            Ok(key) => bucket::delete_listed_object(
                cx.store(),
                &cx.requester,
                &record,
                &key,
                o.version_id.as_deref(),
            )
            .await
            .map_err(from_core),
            Err(e) => Err(e),
        };
        match result {
            Ok(_) if quiet => {}
            Ok(done) => deleted.push(DeletedObject {
                key: Some(o.key),
                delete_marker: done.delete_marker.then_some(true),
                delete_marker_version_id: done.version_id.filter(|_| done.delete_marker),
                version_id: o.version_id,
            }),
            Err(e) => errors.push(Error {
                code: Some(e.code().as_str().to_owned()),
                message: e.message().map(str::to_owned),
                key: Some(o.key),
                version_id: o.version_id,
            }),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: Some(errors),
        ..Default::default()
    }))
}

/// PutBucketCors in S3's shape; the rules are the bucket's, whichever dialect set them.
pub async fn put_bucket_cors(cx: Cx, input: PutBucketCorsInput) -> R<PutBucketCorsOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketCors).await?;
    let rules = input.cors_configuration.cors_rules;
    if rules.is_empty() || rules.len() > 100 {
        return Err(s3_error!(
            MalformedXML,
            "A CORS configuration has 1 to 100 rules."
        ));
    }
    let mut out = Vec::with_capacity(rules.len());
    for rule in rules {
        for method in &rule.allowed_methods {
            if !["GET", "PUT", "HEAD", "POST", "DELETE"].contains(&method.as_str()) {
                return Err(s3_error!(
                    InvalidRequest,
                    "Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                ));
            }
        }
        for origin in &rule.allowed_origins {
            if origin.matches('*').count() > 1 {
                return Err(s3_error!(
                    InvalidRequest,
                    "AllowedOrigin \"{origin}\" can not have more than one wildcard."
                ));
            }
        }
        out.push(crate::storage::CorsRule {
            allowed_origins: rule.allowed_origins,
            allowed_methods: rule.allowed_methods,
            // Stored lower-case, as OSS does; matching ignores case.
            allowed_headers: rule
                .allowed_headers
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            expose_headers: rule.expose_headers.unwrap_or_default(),
            max_age_seconds: rule.max_age_seconds.and_then(|s| u64::try_from(s).ok()),
        });
    }
    let config = crate::storage::CorsConfig {
        rules: out,
        response_vary: false,
    };
    bucket::update_bucket(cx.store(), &record, |b| b.config.cors = Some(config))
        .await
        .map_err(from_core)?;
    Ok(S3Response::new(PutBucketCorsOutput::default()))
}

pub async fn get_bucket_cors(cx: Cx, input: GetBucketCorsInput) -> R<GetBucketCorsOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketCors).await?;
    let config = record.config.cors.ok_or_else(|| {
        let mut e = s3_error!(
            NoSuchCORSConfiguration,
            "The CORS configuration does not exist"
        );
        e.set_status_code(StatusCode::NOT_FOUND);
        e
    })?;
    let rules = config
        .rules
        .into_iter()
        .map(|r| CORSRule {
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: (!r.allowed_headers.is_empty()).then_some(r.allowed_headers),
            expose_headers: (!r.expose_headers.is_empty()).then_some(r.expose_headers),
            max_age_seconds: r.max_age_seconds.map(|s| s.min(i32::MAX as u64) as i32),
            id: None,
        })
        .collect();
    Ok(S3Response::new(GetBucketCorsOutput {
        cors_rules: Some(rules),
    }))
}

pub async fn delete_bucket_cors(cx: Cx, input: DeleteBucketCorsInput) -> R<DeleteBucketCorsOutput> {
    let record = authorized(&cx, &input.bucket, Action::DeleteBucketCors).await?;
    bucket::update_bucket(cx.store(), &record, |b| b.config.cors = None)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

/// PutBucketPolicy: S3's grammar (`s3:*` actions, `arn:aws:s3:::` resources, `aws:`
/// condition keys) or RAM's, evaluated by the same access engine.
pub async fn put_bucket_policy(cx: Cx, input: PutBucketPolicyInput) -> R<PutBucketPolicyOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketPolicy).await?;
    let policy = crate::access::Policy::parse(&input.policy)
        .map_err(|e| s3_error!(MalformedPolicy, "Policy has invalid resource: {}", e.0))?;
    bucket::put_bucket_policy(cx.store(), &record, &policy, input.policy)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

pub async fn get_bucket_policy(cx: Cx, input: GetBucketPolicyInput) -> R<GetBucketPolicyOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketPolicy).await?;
    let policy = record.config.policy.ok_or_else(|| {
        let mut e = s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist");
        e.set_status_code(StatusCode::NOT_FOUND);
        e
    })?;
    Ok(S3Response::new(GetBucketPolicyOutput {
        policy: Some(policy),
    }))
}

pub async fn delete_bucket_policy(
    cx: Cx,
    input: DeleteBucketPolicyInput,
) -> R<DeleteBucketPolicyOutput> {
    let record = authorized(&cx, &input.bucket, Action::DeleteBucketPolicy).await?;
    bucket::update_bucket(cx.store(), &record, |b| b.config.policy = None)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

/// ListObjectVersions: versions and delete markers in key order, newest first (an
/// object written before versioning is its `null` version).
pub async fn list_object_versions(
    cx: Cx,
    input: ListObjectVersionsInput,
) -> R<ListObjectVersionsOutput> {
    let encoding = Encoding::new(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let record = authorized(&cx, &input.bucket, Action::ListObjectVersions).await?;
    let key_marker = input.key_marker.clone().unwrap_or_default();
    let version_id_marker = input.version_id_marker.clone().unwrap_or_default();
    if !version_id_marker.is_empty() && key_marker.is_empty() {
        return Err(s3_error!(
            InvalidArgument,
            "A version-id marker cannot be specified without a key marker."
        ));
    }
    let query = VersionQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().unwrap_or_default(),
        key_marker,
        version_id_marker,
        max_keys: max,
    };
    let listing = if max == 0 {
        Default::default()
    } else {
        bucket::list_object_versions(cx.store(), &record.name, query)
            .await
            .map_err(from_core)?
    };
    let mut versions = Vec::new();
    let mut delete_markers = Vec::new();
    for entry in &listing.versions {
        let o = &entry.record;
        let owner = Some(convert::owner(&record.owner));
        if o.delete_marker {
            delete_markers.push(DeleteMarkerEntry {
                is_latest: Some(entry.is_latest),
                key: Some(encoding.apply(&entry.key)),
                last_modified: Some(convert::timestamp(o.last_modified)),
                owner,
                version_id: Some(o.version_label().to_owned()),
            });
            continue;
        }
        versions.push(ObjectVersion {
            checksum_algorithm: o
                .checksum
                .as_ref()
                .map(|c| vec![convert::algorithm(c.algorithm)]),
            checksum_type: o
                .checksum
                .as_ref()
                .map(|c| ChecksumType::from(c.kind.name().to_owned())),
            e_tag: Some(convert::etag(&o.etag)),
            is_latest: Some(entry.is_latest),
            key: Some(encoding.apply(&entry.key)),
            last_modified: Some(convert::timestamp(o.last_modified)),
            owner,
            size: Some(o.size as i64),
            storage_class: Some(ObjectVersionStorageClass::from(
                convert::s3_storage_class(&o.storage_class).to_owned(),
            )),
            version_id: Some(o.version_label().to_owned()),
            ..Default::default()
        });
    }
    let prefixes = listing
        .common_prefixes
        .iter()
        .map(|p| CommonPrefix {
            prefix: Some(encoding.apply(p)),
        })
        .collect();
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(record.name.clone()),
        prefix: Some(encoding.apply(&input.prefix.unwrap_or_default())),
        key_marker: Some(encoding.apply(&input.key_marker.unwrap_or_default())),
        version_id_marker: input.version_id_marker,
        max_keys: Some(max as i32),
        is_truncated: Some(listing.truncated),
        next_version_id_marker: listing.next_version_id_marker,
        next_key_marker: encoding.opt(listing.next_key_marker),
        versions: Some(versions),
        delete_markers: Some(delete_markers),
        common_prefixes: Some(prefixes),
        delimiter: encoding.opt(input.delimiter.filter(|d| !d.is_empty())),
        encoding_type: encoding.name(),
        ..Default::default()
    }))
}

/// GetBucketTagging: the tags either dialect set; S3 answers `404 NoSuchTagSet`
/// for a bucket without tags (OSS an empty set).
pub async fn get_bucket_tagging(cx: Cx, input: GetBucketTaggingInput) -> R<GetBucketTaggingOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketTagging).await?;
    if record.config.tags.is_empty() {
        let mut e = s3_error!(NoSuchTagSet, "The TagSet does not exist");
        e.set_status_code(StatusCode::NOT_FOUND);
        return Err(e);
    }
    Ok(S3Response::new(GetBucketTaggingOutput {
        tag_set: convert::sorted_tag_set(&record.config.tags),
    }))
}

/// PutBucketTagging replaces the tag set, under S3's limits.
pub async fn put_bucket_tagging(cx: Cx, input: PutBucketTaggingInput) -> R<PutBucketTaggingOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketTagging).await?;
    let tags = convert::tags_of(input.tagging.tag_set);
    bucket_tags::put_bucket_tags(cx.store(), &record, tags, TagLimits::S3)
        .await
        .map_err(from_core)?;
    Ok(S3Response::new(PutBucketTaggingOutput::default()))
}

pub async fn delete_bucket_tagging(
    cx: Cx,
    input: DeleteBucketTaggingInput,
) -> R<DeleteBucketTaggingOutput> {
    let record = authorized(&cx, &input.bucket, Action::DeleteBucketTagging).await?;
    bucket_tags::delete_bucket_tags(cx.store(), &record, None)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

/// PutBucketEncryption: the first rule's default (S3 takes one rule), as the same
/// bucket setting OSS PutBucketEncryption writes.
pub async fn put_bucket_encryption(
    cx: Cx,
    input: PutBucketEncryptionInput,
) -> R<PutBucketEncryptionOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketEncryption).await?;
    let rules = input.server_side_encryption_configuration.rules;
    let default = match rules.as_slice() {
        [rule] => rule.apply_server_side_encryption_by_default.clone(),
        _ => None,
    }
    .ok_or_else(|| {
        s3_error!(
            MalformedXML,
            "Give one Rule with ApplyServerSideEncryptionByDefault."
        )
    })?;
    let sse = convert::requested_sse(Some(default.sse_algorithm), default.kms_master_key_id)?
        .expect("an algorithm was given");
    bucket::update_bucket(cx.store(), &record, |b| b.config.encryption = Some(sse))
        .await
        .map_err(from_core)?;
    Ok(S3Response::new(PutBucketEncryptionOutput::default()))
}

/// GetBucketEncryption: `ServerSideEncryptionConfigurationNotFoundError` (404) without
/// a rule, and for an OSS rule S3 cannot name (SM4).
pub async fn get_bucket_encryption(
    cx: Cx,
    input: GetBucketEncryptionInput,
) -> R<GetBucketEncryptionOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketEncryption).await?;
    let (algorithm, kms_master_key_id) = convert::sse_output(record.config.encryption.as_ref());
    let Some(sse_algorithm) = algorithm else {
        let mut e = s3_error!(
            ServerSideEncryptionConfigurationNotFoundError,
            "The server side encryption configuration was not found"
        );
        e.set_status_code(StatusCode::NOT_FOUND);
        return Err(e);
    };
    Ok(S3Response::new(GetBucketEncryptionOutput {
        server_side_encryption_configuration: Some(ServerSideEncryptionConfiguration {
            rules: vec![ServerSideEncryptionRule {
                apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                    sse_algorithm,
                    kms_master_key_id,
                }),
                ..Default::default()
            }],
        }),
    }))
}

pub async fn delete_bucket_encryption(
    cx: Cx,
    input: DeleteBucketEncryptionInput,
) -> R<DeleteBucketEncryptionOutput> {
    let record = authorized(&cx, &input.bucket, Action::DeleteBucketEncryption).await?;
    bucket::update_bucket(cx.store(), &record, |b| b.config.encryption = None)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

/// PutPublicAccessBlock of a bucket: S3's four switches (an absent one is off) over
/// the core's Block Public Access, which OSS's one switch also sets.
pub async fn put_public_access_block(
    cx: Cx,
    input: PutPublicAccessBlockInput,
) -> R<PutPublicAccessBlockOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketPublicAccessBlock).await?;
    let c = input.public_access_block_configuration;
    let block = PublicAccessBlock {
        block_public_acls: c.block_public_acls.unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
        block_public_policy: c.block_public_policy.unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
    };
    bucket::put_public_access_block(cx.store(), &cx.requester, Some(&record), Some(block))
        .await
        .map_err(from_core)?;
    Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
}

/// GetPublicAccessBlock of a bucket: 404 NoSuchPublicAccessBlockConfiguration when
/// none is set (S3), whatever the account's setting.
pub async fn get_public_access_block(
    cx: Cx,
    input: GetPublicAccessBlockInput,
) -> R<GetPublicAccessBlockOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketPublicAccessBlock).await?;
    let block = record.config.block_public_access.ok_or_else(|| {
        let mut e = s3s::S3Error::with_message(
            s3s::S3ErrorCode::Custom("NoSuchPublicAccessBlockConfiguration".into()),
            "The public access block configuration was not found.",
        );
        e.set_status_code(StatusCode::NOT_FOUND);
        e
    })?;
    Ok(S3Response::new(GetPublicAccessBlockOutput {
        public_access_block_configuration: Some(PublicAccessBlockConfiguration {
            block_public_acls: Some(block.block_public_acls),
            ignore_public_acls: Some(block.ignore_public_acls),
            block_public_policy: Some(block.block_public_policy),
            restrict_public_buckets: Some(block.restrict_public_buckets),
        }),
    }))
}

pub async fn delete_public_access_block(
    cx: Cx,
    input: DeletePublicAccessBlockInput,
) -> R<DeletePublicAccessBlockOutput> {
    let record = authorized(&cx, &input.bucket, Action::DeleteBucketPublicAccessBlock).await?;
    bucket::put_public_access_block(cx.store(), &cx.requester, Some(&record), None)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

/// GetBucketPolicyStatus: public when the policy has a public statement or the ACL
/// grants to AllUsers or AuthenticatedUsers (as RGW answers, which the Ceph suite
/// checks).
pub async fn get_bucket_policy_status(
    cx: Cx,
    input: GetBucketPolicyStatusInput,
) -> R<GetBucketPolicyStatusOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketPolicyStatus).await?;
    let public_policy = match &record.config.policy {
        Some(text) => crate::access::Policy::parse(text)
            .map_err(|e| from_core(crate::core::CoreError::internal(e)))?
            .is_public(),
        None => false,
    };
    let public = public_policy || crate::access::acl::grants_are_public(&record.grants());
    Ok(S3Response::new(GetBucketPolicyStatusOutput {
        policy_status: Some(PolicyStatus {
            is_public: Some(public),
        }),
    }))
}
