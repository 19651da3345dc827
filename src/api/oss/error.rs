//! The one place that knows OSS error codes: domain errors become [`OssError`],
//! which renders the XML `<Error>` body (or `x-oss-err` on HEAD).

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use http::StatusCode;

use super::auth::AuthError;
use super::xml::XmlWriter;
use crate::access::{Denied, RefererDenial, RequesterPaysDenial};
use crate::core::CoreError;
use crate::core::bucket_tags::TagProblem;
use crate::core::callback::{Failure, Problem};
use crate::core::lifecycle::LifecycleProblem;
use crate::core::restore::ColdClass;

#[derive(Debug, Clone)]
pub struct OssError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub ec: Option<&'static str>,
    /// Operation-specific elements after `HostId` (BucketName, Key, ArgumentName, ...).
    pub extra: Vec<(&'static str, String)>,
    /// Extra response headers (e.g. `x-oss-next-append-position`).
    pub headers: Vec<(&'static str, String)>,
}

pub type ApiResult<T> = Result<T, OssError>;

impl OssError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            ec: None,
            extra: vec![],
            headers: vec![],
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn ec(mut self, ec: &'static str) -> Self {
        self.ec = Some(ec);
        self
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", message)
    }

    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    pub fn missing_argument(name: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MissingArgument", message).with("ArgumentName", name)
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        )
        .with("BucketName", bucket)
        .ec("0015-00000101")
    }

    pub fn no_such_key(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .with("Key", key)
        .ec("0026-00000001")
    }

    pub fn invalid_bucket_name(bucket: &str, why: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidBucketName",
            format!("The specified bucket name {bucket:?} is not valid: it {why}."),
        )
        .with("BucketName", bucket)
    }

    pub fn invalid_object_name(why: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidObjectName",
            format!("The specified object name is not valid: {why}."),
        )
    }

    pub fn malformed_xml(why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            format!(
                "The XML you provided was not well-formed or did not validate against our published schema: {why}"
            ),
        )
    }

    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("{what} is not implemented by this server yet."),
        )
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {what}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    pub fn xml(&self, request_id: &str, host: &str) -> String {
        let mut w = XmlWriter::new("Error");
        w.elem("Code", self.code);
        w.elem("Message", &self.message);
        w.elem("RequestId", request_id);
        w.elem("HostId", host);
        for (name, value) in &self.extra {
            w.elem(name, value);
        }
        if let Some(ec) = self.ec {
            w.elem("EC", ec);
        }
        w.finish()
    }

    /// Render the response. HEAD responses carry no body, so the XML travels
    /// base64-encoded in `x-oss-err`, as OSS does.
    pub fn into_response(self, request_id: &str, host: &str, head: bool) -> Response {
        let xml = self.xml(request_id, host);
        let mut builder = Response::builder()
            .status(self.status)
            .header("content-type", "application/xml");
        if let Some(ec) = self.ec {
            builder = builder.header("x-oss-ec", ec);
        }
        for (name, value) in &self.headers {
            builder = builder.header(*name, value.as_str());
        }
        let body = if head {
            builder = builder.header(
                "x-oss-err",
                base64::engine::general_purpose::STANDARD.encode(&xml),
            );
            Body::empty()
        } else {
            builder = builder.header("content-length", xml.len());
            Body::from(xml)
        };
        builder
            .body(body)
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

impl From<CoreError> for OssError {
    fn from(e: CoreError) -> Self {
        let bad = |code, message: String| Self::new(StatusCode::BAD_REQUEST, code, message);
        match e {
            CoreError::NoSuchBucket { bucket } if bucket.is_empty() => Self::new(
                StatusCode::NOT_FOUND,
                "NoSuchBucket",
                "The specified bucket does not exist.",
            ),
            CoreError::NoSuchBucket { bucket } => Self::no_such_bucket(&bucket),
            CoreError::NoSuchKey { key } if key.is_empty() => Self::new(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            ),
            CoreError::NoSuchKey { key } => Self::no_such_key(&key),
            CoreError::NoSuchUpload { upload_id } => Self::new(
                StatusCode::NOT_FOUND,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            )
            .with("UploadId", upload_id)
            .ec("0042-00000002"),
            CoreError::PublicAccessBlocked => Self::access_denied(
                "Public access is blocked: this bucket or its account has Block Public Access enabled, so public ACLs and bucket policies cannot be set.",
            ),
            CoreError::NoSuchVersion { key, version_id } => Self::new(
                StatusCode::NOT_FOUND,
                "NoSuchVersion",
                "The specified version does not exist.",
            )
            .with("Key", key)
            .with("VersionId", version_id),
            CoreError::InvalidVersionId { version_id } => {
                Self::invalid_argument("Invalid version id specified", "versionId", &version_id)
            }
            // OSS answers a read of a current delete marker as a missing key and one
            // named by its versionId as 405 (EC 0017-00000002: the operation is not
            // supported on a delete marker), saying which marker either way.
            CoreError::DeleteMarker {
                key,
                version_id,
                requested,
            } => if requested {
                Self::method_not_allowed("The specified method is not allowed against this resource.")
                    .ec("0017-00000002")
            } else {
                Self::no_such_key(&key)
            }
            .with_header("x-oss-delete-marker", "true")
            .with_header("x-oss-version-id", version_id),
            CoreError::BucketNotEmpty { bucket } => Self::new(
                StatusCode::CONFLICT,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty: delete its objects first.",
            )
            .with("BucketName", bucket),
            CoreError::BucketAlreadyExists { bucket } => Self::new(
                StatusCode::CONFLICT,
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            )
            .with("BucketName", bucket)
            .ec("0015-00000104"),
            CoreError::TooManyBuckets { max, region } => bad(
                "TooManyBuckets",
                format!("You have attempted to create more than {max} buckets in region {region}."),
            ),
            CoreError::FileAlreadyExists => Self::new(
                StatusCode::CONFLICT,
                "FileAlreadyExists",
                "The object you specified already exists and can not be overwritten (x-oss-forbid-overwrite is true).",
            )
            .ec("0026-00000002"),
            // OSS's words (HTTP 409 page) and EC for a change of a protected object.
            CoreError::FileImmutable => Self::new(
                StatusCode::CONFLICT,
                "FileImmutable",
                "The object you specified is immutable: the bucket's retention policy protects it until its retention period ends (see GetBucketWorm).",
            )
            .ec("0026-00000005"),
            CoreError::NoSuchWormConfiguration => Self::new(
                StatusCode::NOT_FOUND,
                "NoSuchWORMConfiguration",
                "The WORM Configuration does not exist: create one with InitiateBucketWorm, or check the worm id.",
            ),
            CoreError::WormConfigurationLocked => Self::new(
                StatusCode::FORBIDDEN,
                "WORMConfigurationLocked",
                "The WORM Configuration is locked: a locked retention policy cannot be removed or replaced, only extended.",
            ),
            CoreError::InvalidWormConfiguration => bad(
                "InvalidWORMConfiguration",
                "Invalid WORM Configuration: only a locked retention policy can be extended, to a longer period, and an unlocked one must be aborted before another is initiated.".into(),
            ),
            CoreError::InvalidWormDays { days } => Self::invalid_argument(
                "RetentionPeriodInDays must be an integer from 1 to 25550.",
                "RetentionPeriodInDays",
                &days,
            ),
            // OSS's message has no final period here.
            CoreError::PositionNotEqualToLength { next_position } => Self::new(
                StatusCode::CONFLICT,
                "PositionNotEqualToLength",
                "Position is not equal to file length",
            )
            .ec("0026-00000016")
            .with_header("x-oss-next-append-position", next_position.to_string()),
            CoreError::ObjectNotAppendable => Self::new(
                StatusCode::CONFLICT,
                "ObjectNotAppendable",
                "The object is not appendable.",
            ),
            CoreError::InvalidDigest { calculated } => bad(
                "InvalidDigest",
                "The Content-MD5 you specified does not match the MD5 of the body received.".into(),
            )
            .with("CalculatedDigest", calculated)
            .ec("0017-00000503"),
            // Only S3 clients send additional checksums; OSS words it like its CRC check.
            CoreError::BadChecksum { algorithm } => bad(
                "InvalidDigest",
                format!(
                    "The {} checksum you specified does not match the body received.",
                    algorithm.name()
                ),
            ),
            CoreError::InvalidRequest(message) => bad("InvalidRequest", message),
            CoreError::InvalidArgument(message) => bad("InvalidArgument", message),
            CoreError::InvalidCallback(problem) => problem.into(),
            CoreError::NoSuchStyle { name } => Self::new(
                StatusCode::NOT_FOUND,
                "NoSuchStyle",
                "The specified style does not exist.",
            )
            .with("StyleName", name),
            CoreError::ServiceUnavailable(message) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                message,
            ),
            CoreError::Image(e) => {
                let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
                let err = Self::new(status, e.code, e.message);
                match e.ec {
                    Some(ec) => err.ec(ec),
                    None => err,
                }
            }
            CoreError::EntityTooLarge { limit } => bad(
                "EntityTooLarge",
                format!("Your proposed upload exceeds the maximum allowed size of {limit} bytes."),
            ),
            CoreError::EntityTooSmall { min, size } => bad(
                "EntityTooSmall",
                format!(
                    "Your proposed upload is smaller than the minimum allowed size: every part but the last must be at least {min} bytes (a part has {size})."
                ),
            ),
            CoreError::InvalidPart { number, reason } => {
                let e = bad(
                    "InvalidPart",
                    format!("Part {number} was not uploaded or its ETag does not match the one given; list the parts with ListParts."),
                )
                .with("PartNumber", number.to_string());
                match reason {
                    Some(reason) => e.with("Reason", reason),
                    None => e,
                }
            }
            CoreError::InvalidPartOrder => bad(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.".into(),
            ),
            CoreError::InvalidTag(problem) => {
                let e = bad(
                    "InvalidTag",
                    format!(
                        "The object tags are invalid: {problem}. An object has at most 10 tags; keys are 1 to 128 characters and values at most 256, of letters, digits, spaces and + - = . _ : /; keys are unique."
                    ),
                );
                // The ECs of OSS's error pages for object tags.
                match problem {
                    TagProblem::KeyTooLong { .. } => e.ec("0010-00000209"),
                    TagProblem::KeyChars { .. } => e.ec("0010-00000212"),
                    TagProblem::ValueChars { .. }
                    | TagProblem::ValueTooLong { .. }
                    | TagProblem::TooMany { .. }
                    | TagProblem::Duplicate { .. } => e.ec("0010-00000217"),
                    TagProblem::EmptyKey | TagProblem::ReservedPrefix { .. } => e,
                }
            }
            CoreError::InvalidLifecycle(problem) => lifecycle_error(problem),
            CoreError::InvalidBucketTag(problem) => {
                let e = bad(
                    "InvalidTag",
                    format!(
                        "The bucket tags are invalid: {problem}. A bucket has at most 20 tags; keys are 1 to 64 bytes of UTF-8 and do not start with http://, https://, Aliyun or acs; values are at most 128 bytes; keys are unique."
                    ),
                );
                // The ECs of OSS's error pages for PutBucketTags.
                match problem {
                    TagProblem::EmptyKey
                    | TagProblem::KeyTooLong { .. }
                    | TagProblem::ValueTooLong { .. } => e.ec("0010-00000219"),
                    TagProblem::ReservedPrefix { prefix: "acs", .. } => e.ec("0010-00000002"),
                    TagProblem::ReservedPrefix { .. } => e.ec("0010-00000207"),
                    TagProblem::TooMany { .. }
                    | TagProblem::Duplicate { .. }
                    | TagProblem::KeyChars { .. }
                    | TagProblem::ValueChars { .. } => e,
                }
            }
            CoreError::SymlinkTargetNotExist { target } => Self::new(
                StatusCode::NOT_FOUND,
                "SymlinkTargetNotExist",
                "The symlink target object does not exist.",
            )
            .with("SymlinkTarget", target)
            .ec("0026-00000012"),
            // OSS: "the target object of a symbolic link cannot be a symbolic link",
            // checked when the link is read, not when it is created.
            CoreError::InvalidTargetType { target } => bad(
                "InvalidTargetType",
                "The symlink target object type is invalid: it is a symlink.".into(),
            )
            .with("SymlinkTarget", target),
            // EC of OSS's error page for a GetSymlink of an object that is no symlink.
            CoreError::NotSymlink { key } => {
                bad("NotSymlink", "The specified object is not a symlink.".into())
                    .with("Key", key)
                    .ec("0043-00000101")
            }
            // OSS's words and EC for any read of an unrestored cold object.
            CoreError::InvalidObjectState { .. } => Self::new(
                StatusCode::FORBIDDEN,
                "InvalidObjectState",
                "The operation is not valid for the object's state",
            )
            .ec("0016-00000404"),
            CoreError::RestoreNotSupported { .. } => bad(
                "OperationNotSupported",
                "The operation is not supported for this resource".into(),
            )
            .ec("0016-00000702"),
            CoreError::RestoreAlreadyInProgress => Self::new(
                StatusCode::CONFLICT,
                "RestoreAlreadyInProgress",
                "The restore operation is in progress.",
            )
            .ec("0016-00000701"),
            // OSS has one EC for Archive's range and one for the cold archive classes'.
            CoreError::InvalidRestoreDays { days, class } => Self::invalid_argument(
                format!(
                    "The Days of a restore must be an integer from 1 to {} for a {} object.",
                    class.max_days(),
                    class.name()
                ),
                "Days",
                &days,
            )
            .ec(match class {
                ColdClass::Archive => "0016-00000708",
                ColdClass::ColdArchive | ColdClass::DeepColdArchive => "0016-00000704",
            }),
            CoreError::RestoreTierForArchive => Self::malformed_xml(
                "<JobParameters> is for ColdArchive and DeepColdArchive objects; restore an Archive object without it",
            ),
            CoreError::InvalidRestoreTier { tier } => Self::invalid_argument(
                "The Tier of a restore must be Expedited, Standard or Bulk.",
                "Tier",
                &tier,
            )
            .ec("0016-00000703"),
            CoreError::SaveAsOtherAccount {
                target,
                source_bucket: source,
            } => bad(
                "InvalidArgument",
                format!(
                    "sys/saveas: the target bucket {target} belongs to another account than the source bucket {source}; both must belong to the same account."
                ),
            ),
            CoreError::SaveAsOtherRegion {
                target,
                target_region,
                source_bucket: source,
                source_region,
            } => bad(
                "InvalidArgument",
                format!(
                    "sys/saveas: the target bucket {target} is in {target_region}, the source bucket {source} in {source_region}; both must be in the same region."
                ),
            ),
            CoreError::PreconditionFailed { condition } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
            )
            .with("Condition", condition),
            CoreError::InvalidRange { requested, size } => Self::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                format!("The requested range {requested:?} cannot be satisfied for an object of {size} bytes."),
            )
            .with("RangeRequested", requested)
            .with("ActualObjectSize", size.to_string()),
            CoreError::RequestTimeout => bad(
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period.".into(),
            ),
            CoreError::IncompleteBody(why) => bad(
                "IncompleteBody",
                format!("The request body ended early or could not be read: {why}"),
            ),
            CoreError::AccessDenied {
                denied: d,
                action,
                endpoint,
                bucket,
            } => denied(d, action, endpoint, bucket),
            CoreError::Forbidden(message) => Self::access_denied(message),
            // OSS documents no code for a full store; 507 is HTTP's (RFC 4918) and, being
            // a 5xx, tells SDKs the request may succeed later.
            CoreError::InsufficientStorage => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "InsufficientStorage",
                "The server's disk is full, so nothing was stored. Reads and deletes still work: delete objects (or have the operator free space in the data directory) and retry; writes are accepted again as soon as space is free, without a restart.",
            ),
            CoreError::Internal(what) => Self::internal(what),
        }
    }
}

/// OSS's words for a refused `callback` or `callback-var` parameter (400, with the
/// ECs of OSS's error pages where it documents one).
impl From<Problem> for OssError {
    fn from(p: Problem) -> Self {
        match p {
            Problem::Duplicate { name: "callback" } => Self::invalid_argument(
                "Either the callback query string parameter or the x-oss-callback header should be specified, not both.",
                "callback",
                "",
            ),
            Problem::Duplicate { name } => Self::invalid_argument(
                "Either the callback-var query string parameter or the x-oss-callback-var header should be specified, not both.",
                name,
                "",
            ),
            Problem::TooLong => Self::invalid_argument("The length of callback exceed max value.", "callback", ""),
            Problem::NotBase64 { value } => Self::invalid_argument(
                "The callback configuration is not base64 encoded.",
                "callback",
                &value,
            )
            .ec("0007-00000002"),
            Problem::NotJson { decoded } => Self::invalid_argument(
                "The callback configuration is not json format.",
                "callback",
                &decoded,
            ),
            Problem::UrlInvalid { value } => Self::invalid_argument(
                "The callback url configuration is invalid.",
                "callbackUrl",
                &value,
            )
            .ec("0007-00000004"),
            Problem::TooManyUrls { value } => Self::invalid_argument(
                "The number of callback url exceed max value.",
                "callbackUrl",
                &value,
            )
            .ec("0007-00000005"),
            Problem::HostInvalid { value } => Self::invalid_argument(
                "The callback host configuration is invalid.",
                "callbackHost",
                &value,
            ),
            Problem::BodyEmpty => {
                Self::invalid_argument("The callback body is empty.", "callbackBody", "").ec("0007-00000011")
            }
            Problem::BodyInvalid { body } => {
                Self::invalid_argument("The callback body is invalid.", "callbackBody", &body)
            }
            Problem::BodyTypeInvalid => Self::invalid_argument(
                "The callback body type configuration is invalid.",
                "callbackBodyType",
                "",
            )
            .ec("0007-00000012"),
            Problem::BodyTypeUnsupported { value } => Self::invalid_argument(
                "The body type of callback is not supported.",
                "callbackBodyType",
                &value,
            ),
            Problem::SniInvalid => Self::invalid_argument(
                "The callback sni configuration is invalid: callbackSNI must be true or false.",
                "callbackSNI",
                "",
            ),
            Problem::VarTooLong => Self::invalid_argument(
                "The length of callback var exceed max value.",
                "callback-var",
                "",
            )
            .ec("0007-00000101"),
            Problem::VarNotBase64 { value } => Self::invalid_argument(
                "The callback var is not base64 encoded.",
                "callback-var",
                &value,
            ),
            // Sic: OSS's wording.
            Problem::VarNotJson { decoded } => Self::invalid_argument(
                "The callback var is not expecten json.",
                "callback-var",
                &decoded,
            ),
            Problem::NoSuchPolicy { name } => Self::invalid_argument(
                format!(
                    "The bucket has no callback policy named {name:?}; list its policies with GetBucketCallbackPolicy."
                ),
                "callbackPolicy",
                &name,
            ),
            Problem::Refused { url, why } => Self::invalid_argument(
                format!(
                    "Private address is forbidden to callback. This server refuses {url}: {why}; the operator sets the [callback] allow and deny lists (docs/configuration.md)."
                ),
                "callbackUrl",
                &url,
            )
            .ec("0007-00000008"),
        }
    }
}

/// 203 CallbackFailed: the object is stored but its callback failed, worded as OSS
/// words each cause.
impl From<Failure> for OssError {
    fn from(f: Failure) -> Self {
        let message = match f {
            Failure::Unreachable => {
                "Error status : -1. OSS can not connect to your callbackUrl, please check it."
                    .into()
            }
            Failure::Timeout => "Cost too long time.".into(),
            Failure::Status(code) => format!("Error status : {code}."),
            Failure::ResponseTooLarge => {
                "Error Status : 400.User server return too long content-length value.".into()
            }
            Failure::ResponseNotJson => "Response body is not valid json format.".into(),
            Failure::ImageInfo => "Get image info failed.".into(),
            Failure::BodyTooLong => format!(
                "The callback body is longer than {} bytes once its variables are substituted.",
                crate::core::callback::MAX_BODY
            ),
        };
        let e = Self::new(
            StatusCode::NON_AUTHORITATIVE_INFORMATION,
            "CallbackFailed",
            message,
        );
        match f {
            Failure::Status(_) => e.ec("0007-00000203"),
            _ => e,
        }
    }
}

impl From<AuthError> for OssError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidAccessKeyId { access_key_id } => Self::new(
                StatusCode::FORBIDDEN,
                "InvalidAccessKeyId",
                "The OSS Access Key Id you provided does not exist in our records.",
            )
            .with("OSSAccessKeyId", access_key_id)
            .ec("0002-00000902"),
            AuthError::SignatureDoesNotMatch {
                access_key_id,
                provided,
                string_to_sign,
                canonical_request,
                version,
            } => {
                let bytes = string_to_sign
                    .bytes()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut e = Self::new(
                    StatusCode::FORBIDDEN,
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                )
                .with("OSSAccessKeyId", access_key_id)
                .with("SignatureProvided", provided)
                .with("StringToSign", string_to_sign)
                .with("StringToSignBytes", bytes);
                if let Some(canonical) = canonical_request {
                    e = e.with("CanonicalRequest", canonical);
                }
                e.ec(version.mismatch_ec())
            }
            // OSS's wording, which applications match on; EC of OSS error page
            // 0002-00000504 (request time too far from the server's).
            AuthError::RequestTimeTooSkewed {
                request_time,
                server_time,
            } => Self::new(
                StatusCode::FORBIDDEN,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
            .ec("0002-00000504")
            .with("RequestTime", request_time)
            .with("ServerTime", server_time)
            .with("MaxAllowedSkewMilliseconds", "900000"),
            AuthError::AccessDenied { message, ec } => {
                let e = Self::access_denied(message);
                match ec {
                    Some(ec) => e.ec(ec),
                    None => e,
                }
            }
            AuthError::InvalidArgument { message, ec } => {
                let e = Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message);
                match ec {
                    Some(ec) => e.ec(ec),
                    None => e,
                }
            }
        }
    }
}

/// Maps an authorization refusal; `endpoint` is the host of the bucket's region.
fn denied(d: Denied, action: &str, endpoint: String, bucket: String) -> OssError {
    match d {
        // OSS's words for every hotlink refusal; the EC says which rule refused.
        Denied::Referer(why) => OssError::access_denied("You are denied by bucket referer policy.")
            .with("BucketName", bucket)
            .ec(match why {
                RefererDenial::Empty => "0003-00000501",
                RefererDenial::Blacklisted => "0003-00000502",
                RefererDenial::NotWhitelisted => "0003-00000503",
            }),
        // OSS's refusals on a pay-by-requester bucket, one EC per case.
        Denied::RequesterPays(why) => match why {
            RequesterPaysDenial::Anonymous => OssError::access_denied(
                "This bucket is pay-by-requester: anonymous access is not allowed. Sign the request and send x-oss-request-payer: requester.",
            )
            .ec("0003-00000701"),
            RequesterPaysDenial::Presigned => OssError::access_denied(
                "This bucket is pay-by-requester: add x-oss-request-payer=requester to the signed URL to accept the charges.",
            )
            .ec("0003-00000702"),
            RequesterPaysDenial::Signed => OssError::access_denied(
                "This bucket is pay-by-requester: send x-oss-request-payer: requester to accept the charges.",
            )
            .ec("0003-00000703"),
        },
        Denied::WrongRegion { .. } => OssError::access_denied(
            "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
        )
        .with("Endpoint", endpoint)
        .ec("0003-00000001"),
        Denied::ExplicitDeny => {
            OssError::access_denied(format!("You are denied by an explicit Deny in a policy ({action}).")).ec("0003-00000301")
        }
        Denied::NotAllowed => OssError::access_denied(format!(
            "You have no right to access this object or bucket: nothing allows {action} for this requester (check the ACL, the bucket policy and the RAM policy)."
        ))
        .ec("0003-00000001"),
    }
}

/// PutBucketLifecycle refusals. OSS documents the ECs of some (its 0014-000000xx
/// pages) but not their codes: a broken rule count is MalformedXML, every other
/// refusal InvalidArgument.
fn lifecycle_error(problem: LifecycleProblem) -> OssError {
    let message = format!("The lifecycle configuration is invalid: {problem}.");
    let e = match &problem {
        LifecycleProblem::NoRules | LifecycleProblem::TooManyRules => {
            return OssError::malformed_xml(format_args!(
                "a lifecycle configuration has 1 to {} rules",
                crate::core::lifecycle::MAX_RULES
            ));
        }
        // The oss2 suite's test_lifecycle_storage_transitions_mixed expects InvalidRequest.
        LifecycleProblem::MixedDaysAndDate { .. } => {
            return OssError::new(StatusCode::BAD_REQUEST, "InvalidRequest", message);
        }
        // OSS's wording, which the oss2 suite's test_lifecycle_overlap_exception checks.
        LifecycleProblem::Overlap {
            same_prefix: false,
            action: Some(action),
            ..
        } => OssError::invalid_argument(
            format!("Overlap for same action type {action}"),
            "LifecycleConfiguration",
            "",
        ),
        _ => OssError::invalid_argument(message, "LifecycleConfiguration", ""),
    };
    match problem {
        LifecycleProblem::NotPrefix { .. } => e.ec("0014-00000035"),
        LifecycleProblem::SizeRange { .. } => e.ec("0014-00000041"),
        LifecycleProblem::Overlap {
            same_prefix: true, ..
        } => e.ec("0014-00000085"),
        LifecycleProblem::Overlap { .. } => e.ec("0014-00000084"),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_xml_shape() {
        let xml = OssError::no_such_key("a<b").xml("REQ", "host");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>REQ</RequestId><HostId>host</HostId><Key>a&lt;b</Key><EC>0026-00000001</EC></Error>"
        );
    }

    #[test]
    fn head_errors_travel_in_a_header() {
        let response = OssError::no_such_key("k").into_response("R", "h", true);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let err = response.headers()["x-oss-err"].to_str().unwrap();
        let xml = base64::engine::general_purpose::STANDARD
            .decode(err)
            .unwrap();
        assert!(
            String::from_utf8(xml)
                .unwrap()
                .contains("<Code>NoSuchKey</Code>")
        );
    }
}
