//! Core errors as S3 answers them: code, status and message (the one mapping for the
//! S3 dialect), and the `Resource`/`RequestId` of every error body.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use s3s::{S3Error, S3ErrorCode, s3_error};

use crate::core::bucket_tags::TagProblem;
use crate::core::lifecycle::LifecycleProblem;
use crate::core::{CoreError, now_ms};

/// Error bodies larger than this are passed on untouched.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub fn from_core(e: CoreError) -> S3Error {
    let with = |code: S3ErrorCode, status: StatusCode, message: String| {
        let mut e = S3Error::with_message(code, message);
        e.set_status_code(status);
        e
    };
    let bad = |code: S3ErrorCode, message: String| with(code, StatusCode::BAD_REQUEST, message);
    match e {
        CoreError::NoSuchBucket { .. } => with(
            S3ErrorCode::NoSuchBucket,
            StatusCode::NOT_FOUND,
            "The specified bucket does not exist".into(),
        ),
        CoreError::NoSuchKey { .. } | CoreError::SymlinkTargetNotExist { .. } => with(
            S3ErrorCode::NoSuchKey,
            StatusCode::NOT_FOUND,
            "The specified key does not exist.".into(),
        ),
        CoreError::NoSuchUpload { .. } => with(
            S3ErrorCode::NoSuchUpload,
            StatusCode::NOT_FOUND,
            "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.".into(),
        ),
        CoreError::NoSuchVersion { .. } => with(
            S3ErrorCode::NoSuchVersion,
            StatusCode::NOT_FOUND,
            "The specified version does not exist.".into(),
        ),
        CoreError::InvalidVersionId { .. } => {
            bad(S3ErrorCode::InvalidArgument, "Invalid version id specified".into())
        }
        // A delete marker named by its version id cannot be read (405); the latest
        // version being one reads as a missing key.
        CoreError::DeleteMarker {
            version_id,
            requested,
            ..
        } => {
            let mut e = if requested {
                with(
                    S3ErrorCode::MethodNotAllowed,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "The specified method is not allowed against this resource.".into(),
                )
            } else {
                with(
                    S3ErrorCode::NoSuchKey,
                    StatusCode::NOT_FOUND,
                    "The specified key does not exist.".into(),
                )
            };
            let mut headers = http::HeaderMap::new();
            headers.insert("x-amz-delete-marker", http::HeaderValue::from_static("true"));
            if let Ok(v) = http::HeaderValue::from_str(&version_id) {
                headers.insert("x-amz-version-id", v);
            }
            e.set_headers(headers);
            e
        }
        CoreError::BucketNotEmpty { .. } => with(
            S3ErrorCode::BucketNotEmpty,
            StatusCode::CONFLICT,
            "The bucket you tried to delete is not empty".into(),
        ),
        CoreError::BucketAlreadyExists { .. } => with(
            S3ErrorCode::BucketAlreadyExists,
            StatusCode::CONFLICT,
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.".into(),
        ),
        CoreError::TooManyBuckets { max, .. } => bad(
            S3ErrorCode::TooManyBuckets,
            format!("You have attempted to create more buckets than allowed ({max})."),
        ),
        // S3 refuses an existing key this way under `If-None-Match: *`.
        CoreError::FileAlreadyExists => with(
            S3ErrorCode::PreconditionFailed,
            StatusCode::PRECONDITION_FAILED,
            "At least one of the pre-conditions you specified did not hold".into(),
        ),
        // S3 refuses changes of an object under retention (Object Lock) with AccessDenied.
        CoreError::FileImmutable => with(
            S3ErrorCode::AccessDenied,
            StatusCode::FORBIDDEN,
            "Access Denied because object protected by object lock.".into(),
        ),
        // Only the OSS dialect manages retention policies.
        CoreError::NoSuchWormConfiguration
        | CoreError::WormConfigurationLocked
        | CoreError::InvalidWormConfiguration
        | CoreError::InvalidWormDays { .. } => bad(
            S3ErrorCode::InvalidRequest,
            "Manage retention policies through the OSS API (InitiateBucketWorm).".into(),
        ),
        CoreError::PositionNotEqualToLength { .. } | CoreError::ObjectNotAppendable => with(
            S3ErrorCode::InvalidRequest,
            StatusCode::CONFLICT,
            "The object is an OSS appendable object and cannot be written this way.".into(),
        ),
        CoreError::InvalidDigest { .. } => bad(
            S3ErrorCode::BadDigest,
            "The Content-MD5 you specified did not match what we received.".into(),
        ),
        CoreError::BadChecksum { algorithm } => bad(
            S3ErrorCode::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.name()
            ),
        ),
        CoreError::InvalidRequest(message) => bad(S3ErrorCode::InvalidRequest, message),
        CoreError::InvalidArgument(message) => bad(S3ErrorCode::InvalidArgument, message),
        // S3 has no upload callbacks; the OSS dialect is the only one that asks for them.
        CoreError::InvalidCallback(problem) => {
            bad(S3ErrorCode::InvalidArgument, problem.to_string())
        }
        CoreError::NoSuchStyle { .. } => with(
            S3ErrorCode::Custom("NoSuchStyle".into()),
            StatusCode::NOT_FOUND,
            "The specified style does not exist.".into(),
        ),
        CoreError::ServiceUnavailable(message) => with(
            S3ErrorCode::ServiceUnavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            message,
        ),
        // The image engine's own code and status, as on the OSS path.
        CoreError::Image(e) => with(
            S3ErrorCode::Custom(e.code.into()),
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.message,
        ),
        CoreError::EntityTooLarge { .. } => bad(
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size".into(),
        ),
        CoreError::EntityTooSmall { .. } => bad(
            S3ErrorCode::EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed object size.".into(),
        ),
        CoreError::InvalidPart { .. } => bad(
            S3ErrorCode::InvalidPart,
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.".into(),
        ),
        CoreError::InvalidPartOrder => bad(
            S3ErrorCode::InvalidPartOrder,
            "The list of parts was not in ascending order. The parts list must be specified in order by part number.".into(),
        ),
        CoreError::InvalidTag(problem) => bad(S3ErrorCode::InvalidTag, tag_message(&problem, "Object tags")),
        CoreError::InvalidLifecycle(problem) => lifecycle_error(&problem),
        CoreError::InvalidBucketTag(problem) => {
            bad(S3ErrorCode::InvalidTag, tag_message(&problem, "Bucket tag count"))
        }
        CoreError::NotSymlink { .. } => bad(
            S3ErrorCode::InvalidRequest,
            "The object is not a symlink.".into(),
        ),
        // S3's words for reading an archived object that is not restored.
        CoreError::InvalidObjectState { .. } => with(
            S3ErrorCode::InvalidObjectState,
            StatusCode::FORBIDDEN,
            "The operation is not valid for the object's storage class".into(),
        ),
        CoreError::RestoreNotSupported { .. } => with(
            S3ErrorCode::InvalidObjectState,
            StatusCode::FORBIDDEN,
            "Restore is not allowed for the object's current storage class".into(),
        ),
        CoreError::RestoreAlreadyInProgress => with(
            S3ErrorCode::RestoreAlreadyInProgress,
            StatusCode::CONFLICT,
            "Object restore is already in progress".into(),
        ),
        CoreError::InvalidRestoreDays { days, class } => bad(
            S3ErrorCode::InvalidArgument,
            format!(
                "Days must be an integer from 1 to {} for this object's storage class ({days:?} was given).",
                class.max_days()
            ),
        ),
        CoreError::InvalidRestoreTier { .. } | CoreError::RestoreTierForArchive => bad(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema".into(),
        ),
        CoreError::PreconditionFailed { .. } => with(
            S3ErrorCode::PreconditionFailed,
            StatusCode::PRECONDITION_FAILED,
            "At least one of the pre-conditions you specified did not hold".into(),
        ),
        CoreError::InvalidRange { .. } => with(
            S3ErrorCode::InvalidRange,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "The requested range is not satisfiable".into(),
        ),
        CoreError::RequestTimeout => bad(
            S3ErrorCode::RequestTimeout,
            "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.".into(),
        ),
        CoreError::IncompleteBody(why) => body_error(&why),
        CoreError::AccessDenied { .. }
        | CoreError::PublicAccessBlocked
        | CoreError::Forbidden(_)
        | CoreError::SaveAsOtherAccount { .. }
        | CoreError::SaveAsOtherRegion { .. } => {
            with(S3ErrorCode::AccessDenied, StatusCode::FORBIDDEN, "Access Denied".into())
        }
        CoreError::InvalidTargetType { .. } => bad(
            S3ErrorCode::InvalidRequest,
            "The symlink target object type is invalid: it is a symlink.".into(),
        ),
        // S3 has no code for a full store; the same answer as OSS.
        CoreError::InsufficientStorage => with(
            S3ErrorCode::Custom("InsufficientStorage".into()),
            StatusCode::INSUFFICIENT_STORAGE,
            "The server's disk is full, so nothing was stored. Reads and deletes still work: delete objects (or have the operator free space in the data directory) and retry; writes are accepted again as soon as space is free, without a restart.".into(),
        ),
        CoreError::Internal(what) => {
            tracing::error!("internal error: {what}");
            s3_error!(
                InternalError,
                "We encountered an internal error. Please try again."
            )
        }
    }
}

/// A write's body that failed as it was read: s3s checks aws-chunked framing and
/// chunk signatures, and the signed SHA-256 of a body, in the stream, with errors of
/// private types that reach the core as their text.
fn body_error(why: &str) -> S3Error {
    let bad = |code: S3ErrorCode, message: &'static str| {
        let mut e = S3Error::with_message(code, message);
        e.set_status_code(StatusCode::BAD_REQUEST);
        e
    };
    if why.contains("AwsChunkedStreamError: SignatureMismatch") {
        let mut e = S3Error::with_message(
            S3ErrorCode::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        );
        e.set_status_code(StatusCode::FORBIDDEN);
        e
    } else if why.contains("UploadStreamError: Sha256Mismatch") {
        bad(
            S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    } else if why.contains("AwsChunkedStreamError: FormatError")
        || why.contains("TooLarge")
        || why.contains("TooManyTrailerHeaders")
    {
        bad(
            S3ErrorCode::InvalidRequest,
            "The aws-chunked body is malformed.",
        )
    } else {
        bad(
            S3ErrorCode::IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        )
    }
}

/// A request signed for another region: S3 names the region it expects, for a
/// header signature or a presigned URL.
pub fn wrong_region(uri: &http::Uri, signed: &str, expected: &str) -> S3Error {
    let presigned = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("X-Amz-Credential=")));
    let mut e = if presigned {
        S3Error::with_message(
            S3ErrorCode::Custom("AuthorizationQueryParametersError".into()),
            format!(
                "Error parsing the X-Amz-Credential parameter; the region '{signed}' is wrong; expecting '{expected}'"
            ),
        )
    } else {
        S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            format!(
                "The authorization header is malformed; the region '{signed}' is wrong; expecting '{expected}'"
            ),
        )
    };
    e.set_status_code(StatusCode::BAD_REQUEST);
    e
}

/// What S3 refuses before it checks a signature, and s3s does not: presigned URLs
/// valid for more than a week or a negative time, and SigV2 header requests without a
/// valid, current `x-amz-date` or `Date`.
pub fn refused_before_auth(request: &http::Request<s3s::Body>) -> Option<S3Error> {
    presigned_limits(request.uri()).or_else(|| sigv2_date(request.headers(), now_ms()))
}

fn presigned_limits(uri: &http::Uri) -> Option<S3Error> {
    let expires = uri.query()?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "X-Amz-Expires").then_some(value)
    })?;
    let message = match expires.parse::<i64>() {
        Ok(secs) if secs < 0 => "X-Amz-Expires must be non-negative",
        Ok(secs) if secs > 604_800 => {
            "X-Amz-Expires must be less than a week (in seconds) that is, the given X-Amz-Expires must be less than 604800 seconds"
        }
        Ok(_) => return None,
        Err(_) => "X-Amz-Expires should be a number",
    };
    // 403 as S3 answers an out-of-range expiry (ceph/s3-tests expects it).
    let mut e = S3Error::with_message(
        S3ErrorCode::Custom("AuthorizationQueryParametersError".into()),
        message,
    );
    e.set_status_code(StatusCode::FORBIDDEN);
    Some(e)
}

/// SigV2 signs `x-amz-date` when sent, else `Date`; S3 wants it a valid HTTP date
/// within 15 minutes of its clock.
fn sigv2_date(headers: &http::HeaderMap, now_ms: i64) -> Option<S3Error> {
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    if !auth.starts_with("AWS ") {
        return None;
    }
    let date = headers
        .get("x-amz-date")
        .or_else(|| headers.get(http::header::DATE));
    // As S3: the weekday is not checked, a time before 1970 is invalid.
    let Some(ms) = date
        .and_then(|d| d.to_str().ok())
        .and_then(|d| d.split_once(", "))
        .and_then(|(_, d)| chrono::NaiveDateTime::parse_from_str(d, "%d %b %Y %H:%M:%S GMT").ok())
        .map(|t| t.and_utc().timestamp_millis())
        .filter(|ms| *ms >= 0)
    else {
        return Some(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        ));
    };
    (ms.abs_diff(now_ms) > 15 * 60 * 1000).then(|| {
        S3Error::with_message(
            S3ErrorCode::RequestTimeTooSkewed,
            "The difference between the request time and the current time is too large.",
        )
    })
}

/// S3 error bodies end with the resource and the request id; s3s writes neither.
pub async fn complete_error_body(
    response: Response,
    resource: &str,
    request_id: &str,
    head: bool,
) -> Response {
    let (mut parts, body) = response.into_parts();
    if head {
        return Response::from_parts(parts, Body::empty());
    }
    let bytes = match http_body_util::Limited::new(body, MAX_ERROR_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let Some(text) = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| t.strip_suffix("</Error>"))
    else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let mut text = text.to_owned();
    if !text.contains("<Resource>") {
        text.push_str(&format!("<Resource>{}</Resource>", xml_escape(resource)));
    }
    if !text.contains("<RequestId>") {
        text.push_str(&format!("<RequestId>{request_id}</RequestId>"));
    }
    text.push_str("</Error>");
    parts.headers.insert("content-length", text.len().into());
    Response::from_parts(parts, Body::from(text))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// S3's InvalidTag messages; `count` names what the count limit is about.
fn tag_message(problem: &TagProblem, count: &str) -> String {
    match problem {
        TagProblem::TooMany { max } => format!("{count} cannot be greater than {max}"),
        TagProblem::EmptyKey | TagProblem::KeyChars { .. } => {
            "The TagKey you have provided is invalid".into()
        }
        TagProblem::KeyTooLong { max, .. } => {
            format!("The TagKey you have provided is too long, max {max}")
        }
        TagProblem::ValueChars { .. } => "The TagValue you have provided is invalid".into(),
        TagProblem::ValueTooLong { max, .. } => {
            format!("The TagValue you have provided is too long, max {max}")
        }
        TagProblem::ReservedPrefix { prefix, .. } if count == "Object tags" => {
            format!("Your TagKey cannot be prefixed with {prefix}")
        }
        TagProblem::ReservedPrefix { .. } => {
            "System tags cannot be added/updated by requester".into()
        }
        TagProblem::Duplicate { .. } => "Cannot provide multiple Tags with the same key".into(),
    }
}

/// PutBucketLifecycleConfiguration refusals, with S3's codes and messages.
fn lifecycle_error(problem: &LifecycleProblem) -> S3Error {
    use LifecycleProblem as P;
    let (code, message) = match problem {
        P::NoRules | P::TooManyRules => (
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema".to_owned(),
        ),
        P::IdTooLong { .. } => (
            S3ErrorCode::InvalidArgument,
            "ID length should not exceed allowed limit of 255".to_owned(),
        ),
        P::DuplicateId { .. } => (
            S3ErrorCode::InvalidArgument,
            "Rule ID must be unique. Found same ID for more than one rule".to_owned(),
        ),
        P::ZeroDays { action, .. } => (
            S3ErrorCode::InvalidArgument,
            format!("'Days' for {} action must be a positive integer", s3_action(*action)),
        ),
        P::NotMidnight { .. } => (
            S3ErrorCode::InvalidArgument,
            "'Date' must be at midnight GMT".to_owned(),
        ),
        P::NoAction { .. } => (
            S3ErrorCode::InvalidRequest,
            "At least one action needs to be specified in a rule".to_owned(),
        ),
        P::MixedDaysAndDate { .. } => (
            S3ErrorCode::InvalidRequest,
            "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule".to_owned(),
        ),
        P::TagsWith { action, .. } => (
            S3ErrorCode::InvalidRequest,
            format!(
                "{} cannot be specified with Tags.",
                if *action == "AbortMultipartUpload" { "AbortIncompleteMultipartUpload" } else { action }
            ),
        ),
        P::Tag { problem, .. } => (S3ErrorCode::InvalidTag, tag_message(problem, "Object tags")),
        // The rest have no S3 wording of their own: S3's code, our explanation.
        other => (S3ErrorCode::InvalidArgument, format!("{other}.")),
    };
    S3Error::with_message(code, message)
}

fn s3_action(action: crate::core::lifecycle::Action) -> &'static str {
    use crate::core::lifecycle::Action as A;
    match action {
        A::Expiration => "Expiration",
        A::Transition => "Transition",
        A::AbortMultipartUpload => "AbortIncompleteMultipartUpload",
        A::NoncurrentVersionExpiration => "NoncurrentVersionExpiration",
        A::NoncurrentVersionTransition => "NoncurrentVersionTransition",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(date_header: &'static str, value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "AWS AK:c2ln".parse().unwrap());
        h.insert(date_header, value.parse().unwrap());
        h
    }

    fn code(e: Option<S3Error>) -> Option<String> {
        e.map(|e| e.code().as_str().to_owned())
    }

    #[test]
    fn sigv2_dates_as_s3_checks_them() {
        // 2010-07-06T21:53:04Z
        let now = 1_278_453_184_000;
        let ok = "Tue, 06 Jul 2010 21:53:04 GMT";
        let wrong_weekday = "Mon, 06 Jul 2010 21:53:04 GMT";
        assert_eq!(code(sigv2_date(&v2("date", wrong_weekday), now)), None);
        assert_eq!(code(sigv2_date(&v2("x-amz-date", ok), now)), None);
        assert_eq!(code(sigv2_date(&v2("date", ok), now)), None);
        for bad in ["Bad Date", "", "Tue, 07 Jul 1950 21:53:04 GMT"] {
            let got = code(sigv2_date(&v2("x-amz-date", bad), now));
            assert_eq!(got.as_deref(), Some("AccessDenied"), "{bad:?}");
        }
        for skewed in [
            "Tue, 06 Jul 2010 22:09:04 GMT",
            "Tue, 07 Jul 9999 21:53:04 GMT",
        ] {
            let got = code(sigv2_date(&v2("x-amz-date", skewed), now));
            assert_eq!(got.as_deref(), Some("RequestTimeTooSkewed"), "{skewed}");
        }
        // x-amz-date wins over Date; other signatures are not looked at here.
        let mut both = v2("date", ok);
        both.insert("x-amz-date", "Bad Date".parse().unwrap());
        assert!(sigv2_date(&both, now).is_some());
        let mut v4 = v2("x-amz-date", "Bad Date");
        v4.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=x".parse().unwrap(),
        );
        assert!(sigv2_date(&v4, now).is_none());
    }

    #[test]
    fn presigned_expiry_out_of_range_is_403() {
        for (q, refused) in [
            ("X-Amz-Expires=604800", false),
            ("X-Amz-Expires=609901", true),
            ("X-Amz-Expires=-7", true),
            ("X-Amz-Expires=x", true),
        ] {
            let uri: http::Uri = format!("/b/k?{q}").parse().unwrap();
            let e = presigned_limits(&uri);
            assert_eq!(e.is_some(), refused, "{q}");
            if let Some(e) = e {
                assert_eq!(e.status_code(), Some(StatusCode::FORBIDDEN));
            }
        }
    }
}
