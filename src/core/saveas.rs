//! `sys/saveas` of ProcessObject: where a processed image may be written, and the
//! write itself. The target must be in the source's account and region, and the
//! requester needs PutObject on it; all of it is checked before any pixel work.

use super::conditions::WriteCondition;
use super::object::{BodyHome, apply_default_encryption, commit_record, new_record, store_stream};
use super::{CoreError, CoreResult, Requester, Store};
use crate::access::Action;
use crate::names::{BucketName, ObjectKey};
use crate::storage::{BucketRecord, ContentHeaders, ObjectRecord};

/// The bucket a saveas writes to (`target`, or the source's own), after its checks.
pub async fn saveas_target(
    store: &Store,
    requester: &Requester,
    source: &BucketRecord,
    target: &BucketName,
    key: &ObjectKey,
) -> CoreResult<BucketRecord> {
    let target = if target.as_str() == source.name {
        source.clone()
    } else {
        let name = target.as_str().to_owned();
        store
            .meta(move |m| m.get_bucket(&name))
            .await?
            .ok_or_else(|| CoreError::no_such_bucket(target.as_str()))?
    };
    if target.owner != source.owner {
        return Err(CoreError::SaveAsOtherAccount {
            target: target.name,
            source_bucket: source.name.clone(),
        });
    }
    if target.region != source.region {
        return Err(CoreError::SaveAsOtherRegion {
            target: target.name,
            target_region: target.region,
            source_bucket: source.name.clone(),
            source_region: source.region.clone(),
        });
    }
    requester.authorize(
        Action::PutObject,
        Some(&target),
        None,
        Some(key.as_str()),
        None,
    )?;
    Ok(target)
}

/// Store the processed image as `key` of `target`, overwriting what is there.
pub async fn save(
    store: &Store,
    target: &BucketRecord,
    key: &ObjectKey,
    bytes: Vec<u8>,
    content_type: &str,
) -> CoreResult<ObjectRecord> {
    let mut record = ObjectRecord {
        headers: ContentHeaders {
            content_type: Some(content_type.to_owned()),
            ..Default::default()
        },
        ..new_record("Normal", &target.storage_class)
    };
    apply_default_encryption(target, &mut record);
    let stream = futures_util::stream::iter([Ok(bytes::Bytes::from(bytes))]);
    let stored = store_stream(
        store,
        Box::pin(stream),
        u64::MAX,
        None,
        record.sse.as_ref(),
        BodyHome::RecordIfSmall,
    )
    .await?;
    stored.fill(&mut record);
    commit_record(
        store,
        target,
        key.as_str(),
        stored.new_blobs(),
        record,
        WriteCondition::Any,
    )
    .await
}
