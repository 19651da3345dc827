//! Bucket operations: create, delete, list (buckets and objects), ACL and
//! configuration changes, multi-object delete.

use super::access::{AccessControl, refuse_public_acl, refuse_public_policy};
use super::bucket_tags::TagFilter;
use super::multipart::{UploadRef, abort_multipart_upload};
use super::object::{Deleted, delete_object};
use super::{CoreError, CoreResult, Requester, Store, now_ms};
use crate::access::{Acl, Action, Policy, PublicAccessBlock};
use crate::names::ObjectKey;
use crate::storage::{
    AccountConfig, BucketConfig, BucketRecord, BucketStat, Created, ListQuery, Listing, Sse,
    UploadQuery, VersionListing, VersionQuery, Versioning,
};

/// Buckets one account may own in one region (OSS default quota).
const MAX_BUCKETS_PER_REGION: usize = 100;

/// What a CreateBucket request asks for.
pub struct CreateBucket {
    pub name: String,
    /// None: private for a new bucket, unchanged for an existing one.
    pub acl: Option<AccessControl>,
    pub storage_class: String,
    pub redundancy: String,
    /// The default encryption of a new bucket (OSS PutBucket's encryption headers).
    pub encryption: Option<Sse>,
}

/// The account a requester acts for; anonymous requesters have none.
fn account<'a>(requester: &'a Requester, what: &str) -> CoreResult<&'a str> {
    requester
        .principal
        .account()
        .ok_or_else(|| CoreError::Forbidden(format!("Anonymous users cannot {what}.")))
}

/// CreateBucket in the requester's region. Re-creating a bucket one owns in the same
/// region succeeds and applies the new ACL, as OSS does.
pub async fn create_bucket(
    store: &Store,
    requester: &Requester,
    request: CreateBucket,
) -> CoreResult<()> {
    let owner = account(requester, "create buckets")?.to_owned();
    let region = requester.region.clone();
    let (exists, in_region, account_config) = {
        let (owner, region, name) = (owner.clone(), region.clone(), request.name.clone());
        store
            .meta(move |m| {
                let exists = m.get_bucket(&name)?.is_some();
                let (all, _) = m.list_buckets(&owner, "", "", usize::MAX)?;
                let in_region = all.iter().filter(|b| b.region == region).count();
                Ok((exists, in_region, m.get_account_config(&owner)?))
            })
            .await?
    };
    if let Some(acl) = &request.acl {
        refuse_public_acl(account_config.block_public_access.unwrap_or_default(), acl)?;
    }
    let acl = request
        .acl
        .clone()
        .unwrap_or_else(|| AccessControl::canned(Acl::Private));
    let record = BucketRecord {
        name: request.name.clone(),
        owner: owner.clone(),
        region: region.clone(),
        acl: acl.acl,
        created: now_ms(),
        storage_class: request.storage_class,
        redundancy: request.redundancy,
        config: BucketConfig {
            grants: acl.grants,
            encryption: request.encryption,
            ..Default::default()
        },
        account: account_config,
    };
    let name = request.name;
    if !exists && in_region >= MAX_BUCKETS_PER_REGION {
        return Err(CoreError::TooManyBuckets {
            max: MAX_BUCKETS_PER_REGION,
            region,
        });
    }
    let outcome = store.meta(move |m| m.create_bucket(&record)).await?;
    if let Created::Existing(mut existing) = outcome {
        if existing.owner != owner || existing.region != region {
            return Err(CoreError::BucketAlreadyExists { bucket: name });
        }
        if let Some(acl) = request.acl {
            existing.acl = acl.acl;
            existing.config.grants = acl.grants;
            store.meta(move |m| m.update_bucket(&existing)).await?;
        }
    } else {
        tracing::info!(bucket = %name, %region, %owner, "bucket created");
    }
    Ok(())
}

/// DeleteBucket: refused while objects or multipart uploads remain.
pub async fn delete_bucket(store: &Store, bucket: &str) -> CoreResult<()> {
    let name = bucket.to_owned();
    store
        .meta(move |m| m.delete_bucket(&name))
        .await
        .map_err(|e| match e {
            CoreError::NoSuchBucket { .. } => CoreError::no_such_bucket(bucket),
            CoreError::BucketNotEmpty { .. } => CoreError::BucketNotEmpty {
                bucket: bucket.to_owned(),
            },
            e => e,
        })
}

/// S3 DeleteBucket: unfinished multipart uploads do not keep a bucket alive there
/// (they are aborted), as they do in OSS.
pub async fn delete_bucket_with_uploads(store: &Store, bucket: &str) -> CoreResult<()> {
    let name = bucket.to_owned();
    let query = UploadQuery {
        max: usize::MAX,
        ..Default::default()
    };
    let uploads = store.meta(move |m| m.list_uploads(&name, &query)).await?;
    for upload in &uploads.uploads {
        let upload = UploadRef {
            bucket,
            key: &upload.key,
            upload_id: &upload.upload_id,
        };
        match abort_multipart_upload(store, upload).await {
            Ok(()) | Err(CoreError::NoSuchUpload { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    delete_bucket(store, bucket).await
}

/// Store a changed copy of `bucket`'s record (ACL and configuration changes).
pub async fn update_bucket(
    store: &Store,
    bucket: &BucketRecord,
    change: impl FnOnce(&mut BucketRecord),
) -> CoreResult<()> {
    let mut bucket = bucket.clone();
    change(&mut bucket);
    store.meta(move |m| m.update_bucket(&bucket)).await
}

/// PutBucketAcl (refused to be public under Block Public Access).
pub async fn put_bucket_acl(
    store: &Store,
    bucket: &BucketRecord,
    acl: AccessControl,
) -> CoreResult<()> {
    refuse_public_acl(bucket.public_access_block(), &acl)?;
    update_bucket(store, bucket, |b| {
        b.acl = acl.acl;
        b.config.grants = acl.grants;
    })
    .await
}

/// PutBucketPolicy of a parsed `policy` (its `text` is stored as given), refused to be
/// public under Block Public Access.
pub async fn put_bucket_policy(
    store: &Store,
    bucket: &BucketRecord,
    policy: &Policy,
    text: String,
) -> CoreResult<()> {
    refuse_public_policy(bucket, policy)?;
    update_bucket(store, bucket, |b| b.config.policy = Some(text)).await
}

/// Put/DeletePublicAccessBlock (`None`) of a bucket (`Some`) or of the requester's
/// account.
pub async fn put_public_access_block(
    store: &Store,
    requester: &Requester,
    bucket: Option<&BucketRecord>,
    block: Option<PublicAccessBlock>,
) -> CoreResult<()> {
    match bucket {
        Some(bucket) => {
            update_bucket(store, bucket, |b| b.config.block_public_access = block).await
        }
        None => {
            let owner = account(requester, "change account settings")?.to_owned();
            let config = AccountConfig {
                block_public_access: block,
            };
            store
                .meta(move |m| m.put_account_config(&owner, &config))
                .await
        }
    }
}

/// GetPublicAccessBlock of the requester's account.
pub async fn account_config(store: &Store, requester: &Requester) -> CoreResult<AccountConfig> {
    let owner = account(requester, "read account settings")?.to_owned();
    store.meta(move |m| m.get_account_config(&owner)).await
}

/// ListBuckets: the requester's buckets in name order, only those with the tag
/// `tag` names when it is given.
pub async fn list_buckets(
    store: &Store,
    requester: &Requester,
    prefix: &str,
    marker: &str,
    max: usize,
    tag: Option<&TagFilter>,
) -> CoreResult<(String, Vec<BucketRecord>, bool)> {
    let owner = account(requester, "list buckets")?.to_owned();
    let (o, p, m) = (owner.clone(), prefix.to_owned(), marker.to_owned());
    let Some(tag) = tag else {
        let (buckets, truncated) = store
            .meta(move |meta| meta.list_buckets(&o, &p, &m, max))
            .await?;
        return Ok((owner, buckets, truncated));
    };
    // An account has few buckets (a quota per region): filter all of them.
    let (all, _) = store
        .meta(move |meta| meta.list_buckets(&o, &p, &m, usize::MAX))
        .await?;
    let mut buckets: Vec<BucketRecord> = all.into_iter().filter(|b| tag.matches(b)).collect();
    let truncated = buckets.len() > max;
    buckets.truncate(max);
    Ok((owner, buckets, truncated))
}

/// ListObjects (v1 and v2): an ordered range scan.
pub async fn list_objects(store: &Store, bucket: &str, query: ListQuery) -> CoreResult<Listing> {
    let b = bucket.to_owned();
    store.meta(move |m| m.list_objects(&b, &query)).await
}

pub async fn bucket_stat(store: &Store, bucket: &str) -> CoreResult<BucketStat> {
    let b = bucket.to_owned();
    store.meta(move |m| m.bucket_stat(&b)).await
}

/// One key (or version) of a DeleteMultipleObjects: authorized (DeleteObject) and
/// deleted on its own.
pub async fn delete_listed_object(
    store: &Store,
    requester: &Requester,
    bucket: &BucketRecord,
    key: &ObjectKey,
    version_id: Option<&str>,
) -> CoreResult<Deleted> {
    let action = match version_id {
        Some(_) => Action::DeleteObjectVersion,
        None => Action::DeleteObject,
    };
    requester.authorize(action, Some(bucket), None, Some(key.as_str()), None)?;
    delete_object(store, bucket, key.as_str(), version_id).await
}

/// ListObjectVersions: versions and delete markers in key order, newest first.
pub async fn list_object_versions(
    store: &Store,
    bucket: &str,
    query: VersionQuery,
) -> CoreResult<VersionListing> {
    let b = bucket.to_owned();
    store
        .meta(move |m| m.list_object_versions(&b, &query))
        .await
}

/// PutBucketVersioning: a bucket whose versioning was enabled is never unversioned
/// again, only suspended. Versioning and a retention policy do not coexist (OSS).
pub async fn put_bucket_versioning(
    store: &Store,
    bucket: &BucketRecord,
    versioning: Versioning,
) -> CoreResult<()> {
    if super::worm::in_force(bucket.config.worm.as_ref(), now_ms()).is_some() {
        return Err(CoreError::InvalidRequest(
            "Versioning cannot be configured for a bucket that has a retention policy (WORM); abort an unlocked policy first, or use another bucket.".into(),
        ));
    }
    update_bucket(store, bucket, |b| b.config.versioning = Some(versioning)).await
}
