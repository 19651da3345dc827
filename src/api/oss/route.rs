//! The route table: (method, target, sub-resource) → operation, with the RAM
//! action each operation needs beside it.

use http::{HeaderMap, Method};

use super::error::{ApiResult, OssError};
use super::query::Query;
use super::target::Target;
use crate::access::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListBuckets,
    PutBucket,
    DeleteBucket,
    GetBucketInfo,
    GetBucketLocation,
    PutBucketAcl,
    GetBucketAcl,
    ListObjects,
    ListObjectsV2,
    PutObject,
    GetObject,
    HeadObject,
    GetObjectMeta,
    DeleteObject,
    PutObjectAcl,
    GetObjectAcl,
    DeleteMultipleObjects,
    CopyObject,
    AppendObject,
    PutSymlink,
    GetSymlink,
    PutObjectTagging,
    GetObjectTagging,
    DeleteObjectTagging,
    InitiateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    ListMultipartUploads,
    GetBucketStat,
    PutBucketCors,
    GetBucketCors,
    DeleteBucketCors,
    /// CORS preflight: answered from the bucket's rules without authentication.
    Options,
    /// Browser form upload: authenticated by the form's policy signature.
    PostObject,
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
    /// POST ?x-oss-process: process an image, optionally saving it (sys/saveas).
    ProcessObject,
    PutProcessConfiguration,
    GetProcessConfiguration,
    PutBucketTags,
    GetBucketTags,
    DeleteBucketTags,
    PutBucketReferer,
    GetBucketReferer,
    DescribeRegions,
    PutBucketVersioning,
    GetBucketVersioning,
    ListObjectVersions,
    PutPublicAccessBlock,
    GetPublicAccessBlock,
    DeletePublicAccessBlock,
    PutBucketPublicAccessBlock,
    GetBucketPublicAccessBlock,
    DeleteBucketPublicAccessBlock,
    GetBucketPolicyStatus,
    RestoreObject,
    PutBucketArchiveDirectRead,
    GetBucketArchiveDirectRead,
    PutBucketRequestPayment,
    GetBucketRequestPayment,
    PutBucketTransferAcceleration,
    GetBucketTransferAcceleration,
    PutBucketEncryption,
    GetBucketEncryption,
    DeleteBucketEncryption,
    /// `?policy&comp=callback`: named upload callbacks.
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
}

impl Operation {
    pub fn action(self) -> Action {
        use Operation::*;
        match self {
            ListBuckets => Action::ListBuckets,
            PutBucket => Action::PutBucket,
            DeleteBucket => Action::DeleteBucket,
            GetBucketInfo => Action::GetBucketInfo,
            GetBucketLocation => Action::GetBucketLocation,
            PutBucketAcl => Action::PutBucketAcl,
            GetBucketAcl => Action::GetBucketAcl,
            ListObjects | ListObjectsV2 => Action::ListObjects,
            // CopyObject and UploadPartCopy also need oss:GetObject on the source.
            PutObject
            | PostObject
            | CopyObject
            | AppendObject
            | PutSymlink
            | InitiateMultipartUpload
            | UploadPart
            | UploadPartCopy
            | CompleteMultipartUpload => Action::PutObject,
            GetObject | HeadObject | GetObjectMeta | GetSymlink => Action::GetObject,
            // DeleteMultipleObjects is checked again per key.
            DeleteObject | DeleteMultipleObjects => Action::DeleteObject,
            PutObjectTagging => Action::PutObjectTagging,
            GetObjectTagging => Action::GetObjectTagging,
            DeleteObjectTagging => Action::DeleteObjectTagging,
            AbortMultipartUpload => Action::AbortMultipartUpload,
            ListParts => Action::ListParts,
            ListMultipartUploads => Action::ListMultipartUploads,
            GetBucketStat => Action::GetBucketStat,
            PutBucketCors => Action::PutBucketCors,
            // Preflight is not authorized; GetBucketCors is the closest action.
            GetBucketCors | Options => Action::GetBucketCors,
            DeleteBucketCors => Action::DeleteBucketCors,
            PutBucketLifecycle => Action::PutBucketLifecycle,
            GetBucketLifecycle => Action::GetBucketLifecycle,
            DeleteBucketLifecycle => Action::DeleteBucketLifecycle,
            PutBucketPolicy => Action::PutBucketPolicy,
            GetBucketPolicy => Action::GetBucketPolicy,
            DeleteBucketPolicy => Action::DeleteBucketPolicy,
            PutStyle => Action::PutStyle,
            GetStyle => Action::GetStyle,
            ListStyle => Action::ListStyle,
            DeleteStyle => Action::DeleteStyle,
            // saveas also needs oss:PutObject on the target (checked by the handler).
            ProcessObject => Action::PostProcessTask,
            PutProcessConfiguration => Action::PutProcessConfiguration,
            GetProcessConfiguration => Action::GetProcessConfiguration,
            PutObjectAcl => Action::PutObjectAcl,
            GetObjectAcl => Action::GetObjectAcl,
            PutBucketTags => Action::PutBucketTagging,
            GetBucketTags => Action::GetBucketTagging,
            DeleteBucketTags => Action::DeleteBucketTagging,
            PutBucketReferer => Action::PutBucketReferer,
            GetBucketReferer => Action::GetBucketReferer,
            DescribeRegions => Action::DescribeRegions,
            PutPublicAccessBlock => Action::PutPublicAccessBlock,
            GetPublicAccessBlock => Action::GetPublicAccessBlock,
            DeletePublicAccessBlock => Action::DeletePublicAccessBlock,
            PutBucketPublicAccessBlock => Action::PutBucketPublicAccessBlock,
            GetBucketPublicAccessBlock => Action::GetBucketPublicAccessBlock,
            DeleteBucketPublicAccessBlock => Action::DeleteBucketPublicAccessBlock,
            GetBucketPolicyStatus => Action::GetBucketPolicyStatus,
            PutBucketVersioning => Action::PutBucketVersioning,
            GetBucketVersioning => Action::GetBucketVersioning,
            ListObjectVersions => Action::ListObjectVersions,
            RestoreObject => Action::RestoreObject,
            PutBucketArchiveDirectRead => Action::PutBucketArchiveDirectRead,
            GetBucketArchiveDirectRead => Action::GetBucketArchiveDirectRead,
            PutBucketRequestPayment => Action::PutBucketRequestPayment,
            GetBucketRequestPayment => Action::GetBucketRequestPayment,
            PutBucketTransferAcceleration => Action::PutBucketTransferAcceleration,
            GetBucketTransferAcceleration => Action::GetBucketTransferAcceleration,
            PutBucketEncryption => Action::PutBucketEncryption,
            GetBucketEncryption => Action::GetBucketEncryption,
            DeleteBucketEncryption => Action::DeleteBucketEncryption,
            PutBucketCallbackPolicy => Action::PutBucketCallbackPolicy,
            GetBucketCallbackPolicy => Action::GetBucketCallbackPolicy,
            DeleteBucketCallbackPolicy => Action::DeleteBucketCallbackPolicy,
            PutBucketWebsite => Action::PutBucketWebsite,
            GetBucketWebsite => Action::GetBucketWebsite,
            DeleteBucketWebsite => Action::DeleteBucketWebsite,
            PutBucketLogging => Action::PutBucketLogging,
            GetBucketLogging => Action::GetBucketLogging,
            DeleteBucketLogging => Action::DeleteBucketLogging,
            InitiateBucketWorm => Action::InitiateBucketWorm,
            AbortBucketWorm => Action::AbortBucketWorm,
            CompleteBucketWorm => Action::CompleteBucketWorm,
            ExtendBucketWorm => Action::ExtendBucketWorm,
            GetBucketWorm => Action::GetBucketWorm,
        }
    }
}

/// Sub-resources that select an operation, in the order they are looked for.
const ROUTED: &[&str] = &[
    "acl",
    "bucketInfo",
    "location",
    "objectMeta",
    "uploads",
    "uploadId",
    "append",
    "delete",
    "symlink",
    "tagging",
    "stat",
    "cors",
    "lifecycle",
    "policy",
    "style",
    "x-oss-process",
    "processConfiguration",
    "referer",
    "regions",
    "versioning",
    "versions",
    "publicAccessBlock",
    "policyStatus",
    "restore",
    "bucketArchiveDirectRead",
    "requestPayment",
    "transferAcceleration",
    "encryption",
    "website",
    "logging",
    "worm",
    // ExtendBucketWorm is `?wormId=ID&wormExtend`: wormId is looked for first.
    "wormId",
    "wormExtend",
];

/// OSS sub-resources of operations this server does not offer yet.
const UNSUPPORTED: &[&str] = &[
    "x-oss-async-process",
    "inventory",
    "replication",
    "qos",
    "resourceGroup",
    "cname",
    "accessPoint",
    "accessPointPolicy",
    "accessMonitor",
    "metaQuery",
    "dataRedundancyTransition",
    "userDefinedLogFieldsConfig",
    "reservedCapacity",
    "httpsConfig",
    "cleanRestoredObject",
    "replicationLocation",
    "replicationProgress",
    "rtc",
    "overwriteConfig",
    "qosInfo",
    "redundancyTransition",
    "objectWormConfiguration",
    "live",
    "comp",
    "vod",
    "status",
    "eventNotification",
    "acceleration",
    "responseHeader",
    "resourcePool",
    "resourcePoolInfo",
    "resourcePoolBuckets",
];

/// Query parameters that qualify an operation rather than select one. Any other
/// name without a value (outside the `x-oss-` and `response-` families) is a
/// sub-resource this server does not know: it is refused, never taken for another
/// operation (`GET /bucket?bogus` must not list objects). Unknown parameters with a
/// value are ignored, as OSS ignores them (`X-Oss-Process=...` returns the object).
const PARAMETERS: &[&str] = &[
    "prefix",
    "marker",
    "max-keys",
    "delimiter",
    "encoding-type",
    "list-type",
    "continuation-token",
    "start-after",
    "fetch-owner",
    "key-marker",
    "upload-id-marker",
    "max-uploads",
    "partNumber",
    "part-number-marker",
    "max-parts",
    "position",
    "styleName",
    "category",
    "sequential",
    "versionId",
    "version-id-marker",
    "resource-group-id",
    "tag-key",
    "tag-value",
    "OSSAccessKeyId",
    "Signature",
    "Expires",
    "security-token",
    // Upload callbacks of PutObject and CompleteMultipartUpload (presigned URLs).
    "callback",
    "callback-var",
];

fn is_parameter(name: &str) -> bool {
    PARAMETERS.contains(&name)
        || ROUTED.contains(&name)
        || name.starts_with("x-oss-")
        || name.starts_with("response-")
}

pub fn route(
    method: &Method,
    target: &Target,
    query: &Query,
    headers: &HeaderMap,
) -> ApiResult<Operation> {
    // `comp` selects an operation only as `?policy&comp=callback`.
    let callback_policy = query.has("policy") && query.get("comp") == Some("callback");
    if let Some(name) = UNSUPPORTED
        .iter()
        .find(|name| query.has(name) && !(callback_policy && **name == "comp"))
    {
        return Err(OssError::not_implemented(&format!(
            "The sub-resource {name:?}"
        )));
    }
    if let Some((name, _)) = query
        .pairs
        .iter()
        .find(|(name, value)| value.is_empty() && !is_parameter(name))
    {
        return Err(OssError::not_implemented(&format!(
            "The sub-resource {name:?}"
        )));
    }
    let copy = headers.contains_key("x-oss-copy-source");
    let sub = ROUTED.iter().copied().find(|name| query.has(name));
    let level = match (&target.bucket, &target.key) {
        (None, _) => "service",
        (Some(_), None) => "bucket",
        (Some(_), Some(_)) => "object",
    };
    use Operation::*;
    let op = match (level, method.as_str(), sub) {
        ("service", "GET", None) => ListBuckets,
        ("service", "GET", Some("regions")) => DescribeRegions,
        // ListBuckets' `tagging` filter (several key-value pairs) is not served;
        // `tag-key`/`tag-value` are.
        ("service", "GET", Some("tagging")) => {
            return Err(OssError::not_implemented(
                "Filtering ListBuckets by ?tagging (use tag-key and tag-value)",
            ));
        }
        ("bucket", "PUT", None) => PutBucket,
        ("bucket", "DELETE", None) => DeleteBucket,
        ("bucket", "GET", Some("bucketInfo")) => GetBucketInfo,
        ("bucket", "GET", Some("location")) => GetBucketLocation,
        ("bucket", "PUT", Some("acl")) => PutBucketAcl,
        ("bucket", "GET", Some("acl")) => GetBucketAcl,
        ("bucket", "GET", None) if query.get("list-type") == Some("2") => ListObjectsV2,
        ("bucket", "GET", None) => ListObjects,
        ("bucket" | "object", "OPTIONS", _) => Options,
        ("bucket", "POST", None) => PostObject,
        ("bucket", "PUT", Some("processConfiguration")) => PutProcessConfiguration,
        ("bucket", "GET", Some("processConfiguration")) => GetProcessConfiguration,
        ("bucket", "PUT", Some("style")) => PutStyle,
        ("bucket", "GET", Some("style")) if query.has("styleName") => GetStyle,
        ("bucket", "GET", Some("style")) => ListStyle,
        ("bucket", "DELETE", Some("style")) => DeleteStyle,
        ("bucket", "GET", Some("stat")) => GetBucketStat,
        ("bucket", "PUT", Some("cors")) => PutBucketCors,
        ("bucket", "GET", Some("cors")) => GetBucketCors,
        ("bucket", "DELETE", Some("cors")) => DeleteBucketCors,
        ("bucket", "PUT", Some("lifecycle")) => PutBucketLifecycle,
        ("bucket", "GET", Some("lifecycle")) => GetBucketLifecycle,
        ("bucket", "DELETE", Some("lifecycle")) => DeleteBucketLifecycle,
        ("bucket", "PUT", Some("policy")) if callback_policy => PutBucketCallbackPolicy,
        ("bucket", "GET", Some("policy")) if callback_policy => GetBucketCallbackPolicy,
        ("bucket", "DELETE", Some("policy")) if callback_policy => DeleteBucketCallbackPolicy,
        ("bucket", "PUT", Some("policy")) => PutBucketPolicy,
        ("bucket", "GET", Some("policy")) => GetBucketPolicy,
        ("bucket", "DELETE", Some("policy")) => DeleteBucketPolicy,
        ("bucket", "GET", Some("uploads")) => ListMultipartUploads,
        ("bucket", "PUT", Some("tagging")) => PutBucketTags,
        ("bucket", "GET", Some("tagging")) => GetBucketTags,
        ("bucket", "DELETE", Some("tagging")) => DeleteBucketTags,
        ("bucket", "PUT", Some("referer")) => PutBucketReferer,
        ("bucket", "GET", Some("referer")) => GetBucketReferer,
        ("service", "PUT", Some("publicAccessBlock")) => PutPublicAccessBlock,
        ("service", "GET", Some("publicAccessBlock")) => GetPublicAccessBlock,
        ("service", "DELETE", Some("publicAccessBlock")) => DeletePublicAccessBlock,
        ("bucket", "PUT", Some("publicAccessBlock")) => PutBucketPublicAccessBlock,
        ("bucket", "GET", Some("publicAccessBlock")) => GetBucketPublicAccessBlock,
        ("bucket", "DELETE", Some("publicAccessBlock")) => DeleteBucketPublicAccessBlock,
        ("bucket", "GET", Some("policyStatus")) => GetBucketPolicyStatus,
        ("bucket", "PUT", Some("versioning")) => PutBucketVersioning,
        ("bucket", "GET", Some("versioning")) => GetBucketVersioning,
        ("bucket", "GET", Some("versions")) => ListObjectVersions,
        ("bucket", "PUT", Some("bucketArchiveDirectRead")) => PutBucketArchiveDirectRead,
        ("bucket", "GET", Some("bucketArchiveDirectRead")) => GetBucketArchiveDirectRead,
        ("bucket", "PUT", Some("requestPayment")) => PutBucketRequestPayment,
        ("bucket", "GET", Some("requestPayment")) => GetBucketRequestPayment,
        ("bucket", "PUT", Some("transferAcceleration")) => PutBucketTransferAcceleration,
        ("bucket", "GET", Some("transferAcceleration")) => GetBucketTransferAcceleration,
        ("bucket", "PUT", Some("encryption")) => PutBucketEncryption,
        ("bucket", "GET", Some("encryption")) => GetBucketEncryption,
        ("bucket", "DELETE", Some("encryption")) => DeleteBucketEncryption,
        ("bucket", "POST", Some("delete")) => DeleteMultipleObjects,
        ("bucket", "PUT", Some("website")) => PutBucketWebsite,
        ("bucket", "GET", Some("website")) => GetBucketWebsite,
        ("bucket", "DELETE", Some("website")) => DeleteBucketWebsite,
        ("bucket", "PUT", Some("logging")) => PutBucketLogging,
        ("bucket", "GET", Some("logging")) => GetBucketLogging,
        ("bucket", "DELETE", Some("logging")) => DeleteBucketLogging,
        ("bucket", "POST", Some("worm")) => InitiateBucketWorm,
        ("bucket", "DELETE", Some("worm")) => AbortBucketWorm,
        ("bucket", "GET", Some("worm")) => GetBucketWorm,
        ("bucket", "POST", Some("wormId")) if query.has("wormExtend") => ExtendBucketWorm,
        ("bucket", "POST", Some("wormId")) => CompleteBucketWorm,
        ("object", "PUT", None) if copy => CopyObject,
        ("object", "PUT", None) => PutObject,
        ("object", "POST", Some("append")) => AppendObject,
        ("object", "PUT", Some("symlink")) => PutSymlink,
        ("object", "GET", Some("symlink")) => GetSymlink,
        ("object", "PUT", Some("tagging")) => PutObjectTagging,
        ("object", "GET", Some("tagging")) => GetObjectTagging,
        ("object", "DELETE", Some("tagging")) => DeleteObjectTagging,
        ("object", "POST", Some("uploads")) => InitiateMultipartUpload,
        ("object", "PUT", Some("uploadId")) if copy => UploadPartCopy,
        ("object", "PUT", Some("uploadId")) => UploadPart,
        ("object", "POST", Some("uploadId")) => CompleteMultipartUpload,
        ("object", "DELETE", Some("uploadId")) => AbortMultipartUpload,
        ("object", "GET", Some("uploadId")) => ListParts,
        // GET ?x-oss-process returns the processed image (GetObject's rights).
        ("object", "GET", None | Some("x-oss-process")) => GetObject,
        ("object", "POST", Some("x-oss-process")) => ProcessObject,
        ("object", "HEAD", None | Some("x-oss-process")) => HeadObject,
        ("object", "HEAD" | "GET", Some("objectMeta")) => GetObjectMeta,
        // OSS takes DELETE ?symlink as DeleteObject (oss2 reuses GetSymlink's params:
        // the oss2 suite's test_put_symlink_with_version deletes versions that way).
        ("object", "DELETE", None | Some("symlink")) => DeleteObject,
        ("object", "POST", Some("restore")) => RestoreObject,
        ("object", "PUT", Some("acl")) => PutObjectAcl,
        ("object", "GET", Some("acl")) => GetObjectAcl,
        (level, method, sub) => {
            return Err(OssError::method_not_allowed(format!(
                "The method {method} is not allowed on this {level}-level resource{}.",
                sub.map(|s| format!(" with ?{s}")).unwrap_or_default()
            )));
        }
    };
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(bucket: Option<&str>, key: Option<&str>) -> Target {
        Target {
            region: 0,
            bucket: bucket.map(Into::into),
            key: key.map(Into::into),
        }
    }

    #[test]
    fn table() {
        use Operation::*;
        let none = HeaderMap::new();
        let cases = [
            ("GET", t(None, None), "", Ok(ListBuckets)),
            ("PUT", t(Some("b"), None), "", Ok(PutBucket)),
            ("PUT", t(Some("b"), None), "acl", Ok(PutBucketAcl)),
            ("GET", t(Some("b"), None), "acl=", Ok(GetBucketAcl)),
            ("GET", t(Some("b"), None), "bucketInfo", Ok(GetBucketInfo)),
            ("GET", t(Some("b"), None), "location", Ok(GetBucketLocation)),
            (
                "PUT",
                t(Some("b"), None),
                "requestPayment",
                Ok(PutBucketRequestPayment),
            ),
            (
                "GET",
                t(Some("b"), None),
                "requestPayment",
                Ok(GetBucketRequestPayment),
            ),
            (
                "PUT",
                t(Some("b"), None),
                "transferAcceleration",
                Ok(PutBucketTransferAcceleration),
            ),
            (
                "GET",
                t(Some("b"), None),
                "transferAcceleration",
                Ok(GetBucketTransferAcceleration),
            ),
            (
                "GET",
                t(Some("b"), None),
                "list-type=2&prefix=a",
                Ok(ListObjectsV2),
            ),
            ("GET", t(Some("b"), None), "prefix=a", Ok(ListObjects)),
            ("DELETE", t(Some("b"), None), "", Ok(DeleteBucket)),
            ("PUT", t(Some("b"), Some("k")), "", Ok(PutObject)),
            (
                "GET",
                t(Some("b"), Some("k")),
                "response-content-type=x",
                Ok(GetObject),
            ),
            ("HEAD", t(Some("b"), Some("k")), "", Ok(HeadObject)),
            (
                "HEAD",
                t(Some("b"), Some("k")),
                "objectMeta",
                Ok(GetObjectMeta),
            ),
            ("DELETE", t(Some("b"), Some("k")), "", Ok(DeleteObject)),
            ("PUT", t(Some("b"), Some("k")), "acl", Ok(PutObjectAcl)),
            ("GET", t(Some("b"), Some("k")), "acl", Ok(GetObjectAcl)),
            ("POST", t(Some("b"), Some("k")), "", Err("MethodNotAllowed")),
            ("PUT", t(None, None), "", Err("MethodNotAllowed")),
            (
                "POST",
                t(Some("b"), Some("k")),
                "uploads",
                Ok(InitiateMultipartUpload),
            ),
            (
                "PUT",
                t(Some("b"), Some("k")),
                "partNumber=1&uploadId=x",
                Ok(UploadPart),
            ),
            (
                "POST",
                t(Some("b"), Some("k")),
                "uploadId=x",
                Ok(CompleteMultipartUpload),
            ),
            (
                "DELETE",
                t(Some("b"), Some("k")),
                "uploadId=x",
                Ok(AbortMultipartUpload),
            ),
            ("GET", t(Some("b"), Some("k")), "uploadId=x", Ok(ListParts)),
            (
                "GET",
                t(Some("b"), None),
                "uploads",
                Ok(ListMultipartUploads),
            ),
            (
                "POST",
                t(Some("b"), None),
                "delete",
                Ok(DeleteMultipleObjects),
            ),
            (
                "POST",
                t(Some("b"), Some("k")),
                "append&position=0",
                Ok(AppendObject),
            ),
            ("PUT", t(Some("b"), Some("k")), "symlink", Ok(PutSymlink)),
            (
                "DELETE",
                t(Some("b"), Some("k")),
                "symlink",
                Ok(DeleteObject),
            ),
            (
                "GET",
                t(Some("b"), Some("k")),
                "tagging",
                Ok(GetObjectTagging),
            ),
            (
                "PUT",
                t(Some("b"), None),
                "lifecycle",
                Ok(PutBucketLifecycle),
            ),
            ("OPTIONS", t(Some("b"), Some("k")), "", Ok(Options)),
            (
                "GET",
                t(Some("b"), Some("k")),
                "x-oss-process=image/resize,w_1",
                Ok(GetObject),
            ),
            (
                "POST",
                t(Some("b"), Some("k")),
                "x-oss-process",
                Ok(ProcessObject),
            ),
            ("GET", t(Some("b"), None), "style", Ok(ListStyle)),
            ("GET", t(Some("b"), None), "style&styleName=s", Ok(GetStyle)),
            (
                "DELETE",
                t(Some("b"), None),
                "style=b&styleName=s",
                Ok(DeleteStyle),
            ),
            ("GET", t(Some("b"), None), "website", Ok(GetBucketWebsite)),
            ("PUT", t(Some("b"), None), "website", Ok(PutBucketWebsite)),
            (
                "DELETE",
                t(Some("b"), None),
                "website",
                Ok(DeleteBucketWebsite),
            ),
            ("GET", t(Some("b"), None), "logging", Ok(GetBucketLogging)),
            ("POST", t(Some("b"), None), "worm", Ok(InitiateBucketWorm)),
            ("DELETE", t(Some("b"), None), "worm", Ok(AbortBucketWorm)),
            ("GET", t(Some("b"), None), "worm", Ok(GetBucketWorm)),
            (
                "POST",
                t(Some("b"), None),
                "wormId=A1",
                Ok(CompleteBucketWorm),
            ),
            (
                "POST",
                t(Some("b"), None),
                "wormId=A1&wormExtend",
                Ok(ExtendBucketWorm),
            ),
            ("PUT", t(Some("b"), None), "worm", Err("MethodNotAllowed")),
            (
                "POST",
                t(Some("b"), None),
                "wormExtend",
                Err("MethodNotAllowed"),
            ),
            // Unknown sub-resources never fall through to another operation.
            (
                "PUT",
                t(Some("b"), None),
                "publicAccessBlock",
                Ok(PutBucketPublicAccessBlock),
            ),
            (
                "PUT",
                t(Some("b"), None),
                "inventory",
                Err("NotImplemented"),
            ),
            ("GET", t(None, None), "regions", Ok(DescribeRegions)),
            (
                "GET",
                t(None, None),
                "regions=oss-cn-hangzhou",
                Ok(DescribeRegions),
            ),
            (
                "GET",
                t(None, None),
                "tag-key=a&tag-value=b",
                Ok(ListBuckets),
            ),
            ("GET", t(None, None), "tagging=x", Err("NotImplemented")),
            ("PUT", t(Some("b"), None), "tagging", Ok(PutBucketTags)),
            ("GET", t(Some("b"), None), "tagging", Ok(GetBucketTags)),
            (
                "DELETE",
                t(Some("b"), None),
                "tagging=k1,k2",
                Ok(DeleteBucketTags),
            ),
            ("PUT", t(Some("b"), None), "referer", Ok(PutBucketReferer)),
            (
                "PUT",
                t(Some("b"), None),
                "encryption",
                Ok(PutBucketEncryption),
            ),
            (
                "GET",
                t(Some("b"), None),
                "encryption",
                Ok(GetBucketEncryption),
            ),
            (
                "DELETE",
                t(Some("b"), None),
                "encryption",
                Ok(DeleteBucketEncryption),
            ),
            ("GET", t(Some("b"), None), "referer", Ok(GetBucketReferer)),
            (
                "DELETE",
                t(Some("b"), None),
                "referer",
                Err("MethodNotAllowed"),
            ),
            ("GET", t(Some("b"), None), "bogus", Err("NotImplemented")),
            (
                "POST",
                t(Some("b"), Some("k")),
                "restore",
                Ok(RestoreObject),
            ),
            (
                "POST",
                t(Some("b"), Some("k")),
                "restore&versionId=null",
                Ok(RestoreObject),
            ),
            (
                "GET",
                t(Some("b"), Some("k")),
                "restore",
                Err("MethodNotAllowed"),
            ),
            (
                "PUT",
                t(Some("b"), None),
                "bucketArchiveDirectRead",
                Ok(PutBucketArchiveDirectRead),
            ),
            (
                "GET",
                t(Some("b"), None),
                "bucketArchiveDirectRead",
                Ok(GetBucketArchiveDirectRead),
            ),
            (
                "PUT",
                t(Some("b"), None),
                "policy&comp=callback",
                Ok(PutBucketCallbackPolicy),
            ),
            (
                "GET",
                t(Some("b"), None),
                "comp=callback&policy",
                Ok(GetBucketCallbackPolicy),
            ),
            (
                "DELETE",
                t(Some("b"), None),
                "policy&comp=callback",
                Ok(DeleteBucketCallbackPolicy),
            ),
            ("GET", t(Some("b"), None), "policy", Ok(GetBucketPolicy)),
            (
                "GET",
                t(Some("b"), None),
                "comp=callback",
                Err("NotImplemented"),
            ),
            (
                "PUT",
                t(Some("b"), Some("k")),
                "callback=e30&callback-var=e30",
                Ok(PutObject),
            ),
            (
                "GET",
                t(Some("b"), Some("k")),
                "bogus=",
                Err("NotImplemented"),
            ),
            (
                "GET",
                t(Some("b"), Some("k")),
                "X-Oss-Process=a",
                Ok(GetObject),
            ),
            (
                "GET",
                t(Some("b"), Some("k")),
                "x-oss-traffic-limit=819200&response-expires=x",
                Ok(GetObject),
            ),
        ];
        for (method, target, q, want) in cases {
            let got = route(
                &method.parse().unwrap(),
                &target,
                &Query::parse(Some(q)).unwrap(),
                &none,
            );
            assert_eq!(got.map_err(|e| e.code), want, "{method} {target:?} {q}");
        }
        assert_eq!(ListObjectsV2.action().name(), "oss:ListObjects");
        assert_eq!(GetObjectMeta.action().name(), "oss:GetObject");
        assert_eq!(GetBucketTags.action().name(), "oss:GetBucketTagging");
        assert_eq!(DescribeRegions.action().name(), "oss:DescribeRegions");
        assert_eq!(RestoreObject.action().name(), "oss:RestoreObject");
        assert_eq!(ExtendBucketWorm.action().name(), "oss:ExtendBucketWorm");
    }
}
