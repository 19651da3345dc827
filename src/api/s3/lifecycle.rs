//! S3 Put/Get/DeleteBucketLifecycle(Configuration): the DTOs to and from the
//! lifecycle rules OSS PutBucketLifecycle stores, checked by `core::lifecycle`.

use s3s::dto::*;
use s3s::{S3Response, S3Result, s3_error};

use super::bucket::authorized;
use super::convert;
use super::error::from_core;
use super::{Cx, R};
use crate::access::Action;
use crate::core::lifecycle::{self, Dialect};
use crate::storage::{LifecycleRule as Rule, LifecycleWhen};

fn malformed() -> s3s::S3Error {
    s3_error!(
        MalformedXML,
        "The XML you provided was not well-formed or did not validate against our published schema"
    )
}

/// S3 days as the model keeps them; 0 or negative is refused by the core's check.
fn days(d: i32) -> u32 {
    u32::try_from(d).unwrap_or(0)
}

fn unix_ms(t: Timestamp) -> i64 {
    (time::OffsetDateTime::from(t).unix_timestamp_nanos() / 1_000_000) as i64
}

/// An S3 transition class as OSS names it (STANDARD_IA is IA, GLACIER Archive, ...).
fn oss_class(class: Option<TransitionStorageClass>) -> S3Result<String> {
    let class = class.ok_or_else(malformed)?;
    convert::oss_storage_class(
        Some(&StorageClass::from(class.as_str().to_owned())),
        "Standard",
    )
}

fn rule_of(i: usize, rule: LifecycleRule) -> S3Result<Rule> {
    let enabled = match rule.status.as_str() {
        ExpirationStatus::ENABLED => true,
        ExpirationStatus::DISABLED => false,
        _ => return Err(malformed()),
    };
    // The deprecated Rule/Prefix or a Filter, not both.
    if rule.prefix.is_some() && rule.filter.is_some() {
        return Err(malformed());
    }
    let (mut prefix, mut tags, mut sizes) = (rule.prefix.unwrap_or_default(), vec![], (None, None));
    let s3_filter = rule.filter.is_some();
    if let Some(filter) = rule.filter {
        let and = filter.and.unwrap_or_default();
        prefix = filter.prefix.or(and.prefix).unwrap_or_default();
        tags = convert::tags_of(and.tags.unwrap_or_default());
        tags.extend(
            filter
                .tag
                .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default())),
        );
        sizes = (
            filter
                .object_size_greater_than
                .or(and.object_size_greater_than),
            filter.object_size_less_than.or(and.object_size_less_than),
        );
    }
    let size = |s: Option<i64>| s.map(|s| u64::try_from(s).unwrap_or(u64::MAX));
    let (mut expiration, mut expired_object_delete_marker) = (None, false);
    if let Some(e) = rule.expiration {
        match (e.days, e.date, e.expired_object_delete_marker) {
            (Some(d), None, None) => expiration = Some(LifecycleWhen::Days(days(d))),
            (None, Some(date), None) => expiration = Some(LifecycleWhen::Date(unix_ms(date))),
            (None, None, Some(flag)) => expired_object_delete_marker = flag,
            _ => return Err(malformed()),
        }
    }
    let transitions = rule
        .transitions
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let when = match (t.days, t.date) {
                (Some(d), None) => LifecycleWhen::Days(days(d)),
                (None, Some(date)) => LifecycleWhen::Date(unix_ms(date)),
                _ => return Err(malformed()),
            };
            Ok((when, oss_class(t.storage_class)?))
        })
        .collect::<S3Result<_>>()?;
    let noncurrent_transitions = rule
        .noncurrent_version_transitions
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            Ok((
                days(t.noncurrent_days.ok_or_else(malformed)?),
                oss_class(t.storage_class)?,
            ))
        })
        .collect::<S3Result<_>>()?;
    Ok(Rule {
        id: rule
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("rule-{}", i + 1)),
        prefix,
        enabled,
        tags,
        expiration,
        abort_multipart: rule
            .abort_incomplete_multipart_upload
            .map(|a| {
                a.days_after_initiation
                    .map(|d| LifecycleWhen::Days(days(d)))
                    .ok_or_else(malformed)
            })
            .transpose()?,
        transitions,
        expired_object_delete_marker,
        noncurrent_days: rule
            .noncurrent_version_expiration
            .map(|n| n.noncurrent_days.map(days).ok_or_else(malformed))
            .transpose()?,
        noncurrent_transitions,
        not: vec![],
        size_greater_than: size(sizes.0),
        size_less_than: size(sizes.1),
        s3_filter,
    })
}

/// A stored rule as S3 shows it. What S3 cannot say is left out or said as near as
/// it can: Filter/Not is dropped, CreatedBeforeDate reads as Date, an upload abort
/// by date is dropped.
fn s3_rule(rule: &Rule) -> LifecycleRule {
    let when_days = |when: &LifecycleWhen| match when {
        LifecycleWhen::Days(d) => (Some(*d as i32), None),
        LifecycleWhen::CreatedBeforeDate(ms) | LifecycleWhen::Date(ms) => {
            (None, Some(convert::timestamp(*ms)))
        }
    };
    let parts = usize::from(!rule.prefix.is_empty())
        + rule.tags.len()
        + usize::from(rule.size_greater_than.is_some())
        + usize::from(rule.size_less_than.is_some());
    let size = |s: Option<u64>| s.map(|s| s as i64);
    let filter = if parts > 1 {
        LifecycleRuleFilter {
            and: Some(LifecycleRuleAndOperator {
                prefix: Some(rule.prefix.clone()).filter(|p| !p.is_empty()),
                tags: Some(convert::tag_set(&rule.tags)).filter(|t| !t.is_empty()),
                object_size_greater_than: size(rule.size_greater_than),
                object_size_less_than: size(rule.size_less_than),
            }),
            ..Default::default()
        }
    } else {
        LifecycleRuleFilter {
            prefix: Some(rule.prefix.clone()).filter(|p| !p.is_empty() || parts == 0),
            tag: rule.tags.first().map(|(k, v)| Tag {
                key: Some(k.clone()),
                value: Some(v.clone()),
            }),
            object_size_greater_than: size(rule.size_greater_than),
            object_size_less_than: size(rule.size_less_than),
            ..Default::default()
        }
    };
    let legacy_prefix = (!rule.s3_filter && parts <= usize::from(!rule.prefix.is_empty()))
        .then(|| rule.prefix.clone());
    let transition_class = |class: &str| {
        Some(TransitionStorageClass::from(
            convert::s3_storage_class(class).to_owned(),
        ))
    };
    LifecycleRule {
        id: Some(rule.id.clone()),
        status: ExpirationStatus::from(
            if rule.enabled { "Enabled" } else { "Disabled" }.to_owned(),
        ),
        filter: legacy_prefix.is_none().then_some(filter),
        prefix: legacy_prefix,
        expiration: match (&rule.expiration, rule.expired_object_delete_marker) {
            (Some(when), _) => {
                let (days, date) = when_days(when);
                Some(LifecycleExpiration {
                    days,
                    date,
                    expired_object_delete_marker: None,
                })
            }
            (None, true) => Some(LifecycleExpiration {
                expired_object_delete_marker: Some(true),
                ..Default::default()
            }),
            (None, false) => None,
        },
        transitions: Some(
            rule.transitions
                .iter()
                .map(|(when, class)| {
                    let (days, date) = when_days(when);
                    Transition {
                        days,
                        date,
                        storage_class: transition_class(class),
                    }
                })
                .collect(),
        )
        .filter(|t: &TransitionList| !t.is_empty()),
        noncurrent_version_expiration: rule.noncurrent_days.map(|d| NoncurrentVersionExpiration {
            noncurrent_days: Some(d as i32),
            newer_noncurrent_versions: None,
        }),
        noncurrent_version_transitions: Some(
            rule.noncurrent_transitions
                .iter()
                .map(|(d, class)| NoncurrentVersionTransition {
                    noncurrent_days: Some(*d as i32),
                    storage_class: transition_class(class),
                    newer_noncurrent_versions: None,
                })
                .collect(),
        )
        .filter(|t: &NoncurrentVersionTransitionList| !t.is_empty()),
        abort_incomplete_multipart_upload: match rule.abort_multipart {
            Some(LifecycleWhen::Days(d)) => Some(AbortIncompleteMultipartUpload {
                days_after_initiation: Some(d as i32),
            }),
            _ => None,
        },
    }
}

pub async fn put_bucket_lifecycle_configuration(
    cx: Cx,
    input: PutBucketLifecycleConfigurationInput,
) -> R<PutBucketLifecycleConfigurationOutput> {
    let record = authorized(&cx, &input.bucket, Action::PutBucketLifecycle).await?;
    let config = input.lifecycle_configuration.ok_or_else(malformed)?;
    let rules = config
        .rules
        .into_iter()
        .enumerate()
        .map(|(i, r)| rule_of(i, r))
        .collect::<S3Result<Vec<_>>>()?;
    lifecycle::put_bucket_lifecycle(cx.store(), &record, rules, Dialect::S3)
        .await
        .map_err(from_core)?;
    Ok(S3Response::new(
        PutBucketLifecycleConfigurationOutput::default(),
    ))
}

/// The rules either dialect stored; `404 NoSuchLifecycleConfiguration` without any.
pub async fn get_bucket_lifecycle_configuration(
    cx: Cx,
    input: GetBucketLifecycleConfigurationInput,
) -> R<GetBucketLifecycleConfigurationOutput> {
    let record = authorized(&cx, &input.bucket, Action::GetBucketLifecycle).await?;
    let Some(rules) = &record.config.lifecycle else {
        let mut e = s3_error!(
            NoSuchLifecycleConfiguration,
            "The lifecycle configuration does not exist"
        );
        e.set_status_code(http::StatusCode::NOT_FOUND);
        return Err(e);
    };
    Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
        rules: Some(rules.iter().map(s3_rule).collect()),
        ..Default::default()
    }))
}

pub async fn delete_bucket_lifecycle(
    cx: Cx,
    input: DeleteBucketLifecycleInput,
) -> R<DeleteBucketLifecycleOutput> {
    let record = authorized(&cx, &input.bucket, Action::DeleteBucketLifecycle).await?;
    lifecycle::delete_bucket_lifecycle(cx.store(), &record)
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}
