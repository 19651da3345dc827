//! Bucket operations: PutBucket, DeleteBucket, GetBucketInfo, GetBucketLocation,
//! Put/GetBucketAcl, ListObjects (v1 and v2).

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use percent_encoding::utf8_percent_encode;

use super::object::check_content_md5;
use super::service::{write_location, write_owner};
use super::{MAX_SMALL_BODY, bounded_number, read_small_body};
use crate::access::Acl;
use crate::access::Action;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::{header, iso8601};
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, URL_ENCODE, empty, xml_response};
use crate::core::access::AccessControl;
use crate::core::bucket::{self, CreateBucket};
use crate::core::{now_ms, restore};
use crate::names::ObjectKey;
use crate::storage::ListQuery;

const STORAGE_CLASSES: &[&str] = &[
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];

/// The resource group every bucket reports.
const DEFAULT_RESOURCE_GROUP: &str = "rg-default";

fn acl_header(ctx: &Ctx) -> ApiResult<Option<Acl>> {
    match header(&ctx.headers, "x-oss-acl") {
        None => Ok(None),
        Some(v) => Acl::parse(v).map(Some).ok_or_else(|| {
            OssError::invalid_argument(
                format!("x-oss-acl must be private, public-read or public-read-write, not {v:?}."),
                "x-oss-acl",
                v,
            )
        }),
    }
}

pub async fn put_bucket(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let name = ctx.bucket_str().to_owned();
    let acl = acl_header(ctx)?;
    // PutBucket with x-oss-acl also needs oss:PutBucketAcl (RAM).
    if acl.is_some() {
        ctx.authorize(Action::PutBucketAcl, None, None, None)?;
    }
    // The x-oss-server-side-encryption headers set the new bucket's default
    // encryption (a PutBucketEncryption in the same request).
    let encryption = super::encryption::request_encryption(&ctx.headers)?;
    if encryption.is_some() {
        ctx.authorize(Action::PutBucketEncryption, None, None, None)?;
    }
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    let (mut storage_class, mut redundancy) = ("Standard".to_owned(), "LRS".to_owned());
    if !body.iter().all(u8::is_ascii_whitespace) {
        let config = xml::parse(&body, "CreateBucketConfiguration")?;
        if let Some(class) = config.child_text("StorageClass") {
            if !STORAGE_CLASSES.contains(&class) {
                return Err(OssError::invalid_argument(
                    format!(
                        "StorageClass must be one of {}, not {class:?}.",
                        STORAGE_CLASSES.join(", ")
                    ),
                    "StorageClass",
                    class,
                ));
            }
            storage_class = class.to_owned();
        }
        if let Some(r) = config.child_text("DataRedundancyType") {
            if r != "LRS" && r != "ZRS" {
                return Err(OssError::invalid_argument(
                    format!("DataRedundancyType must be LRS or ZRS, not {r:?}."),
                    "DataRedundancyType",
                    r,
                ));
            }
            redundancy = r.to_owned();
        }
    }
    let request = CreateBucket {
        name: name.clone(),
        acl: acl.map(AccessControl::canned),
        storage_class,
        redundancy,
        encryption,
    };
    bucket::create_bucket(ctx.store(), &ctx.requester, request).await?;
    Ok(with_location(empty(StatusCode::OK), &name))
}

/// `Location: /<bucket>`, as OSS answers PutBucket and PutBucketAcl.
fn with_location(mut response: Response, bucket: &str) -> Response {
    response.headers_mut().insert(
        "location",
        format!("/{bucket}")
            .parse()
            .expect("bucket names are header-safe"),
    );
    response
}

pub async fn delete_bucket(ctx: &Ctx) -> ApiResult<Response> {
    bucket::delete_bucket(ctx.store(), ctx.bucket_str()).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub fn get_bucket_info(ctx: &Ctx) -> ApiResult<Response> {
    let b = ctx.bucket()?;
    let mut w = XmlWriter::new("BucketInfo");
    w.open("Bucket");
    w.elem("AccessMonitor", "Disabled");
    w.elem("CreationDate", iso8601(b.created));
    w.elem("CrossRegionReplication", "Disabled");
    w.elem("DataRedundancyType", &b.redundancy);
    write_location(&mut w, ctx, b);
    w.elem("Name", &b.name);
    // Every OSS bucket belongs to a resource group (the account's default one unless
    // moved); SDKs expect a value. Resource groups are not modelled here.
    w.elem("ResourceGroupId", DEFAULT_RESOURCE_GROUP);
    w.elem("StorageClass", &b.storage_class);
    let accelerated = b.config.transfer_acceleration == Some(true);
    w.elem(
        "TransferAcceleration",
        if accelerated { "Enabled" } else { "Disabled" },
    );
    write_owner(&mut w, &b.owner);
    w.open("AccessControlList");
    w.elem("Grant", b.acl.as_str());
    w.close("AccessControlList");
    w.elem("Comment", "");
    // Only a bucket that has had versioning says so (Enabled or Suspended).
    if let Some(v) = b.config.versioning {
        w.elem("Versioning", v.as_str());
    }
    // OSS lists the logging target here (empty without logging) and whether Block
    // Public Access is on; the v2 SDK reads BlockPublicAccess as a bool.
    w.open("BucketPolicy");
    w.elem("LogBucket", "");
    w.elem("LogPrefix", "");
    w.close("BucketPolicy");
    w.elem(
        "BlockPublicAccess",
        b.public_access_block().is_all().to_string(),
    );
    w.open("ServerSideEncryptionRule");
    super::encryption::write_rule(&mut w, b);
    w.close("ServerSideEncryptionRule");
    w.close("Bucket");
    Ok(xml_response(w.finish()))
}

pub fn get_bucket_location(ctx: &Ctx) -> ApiResult<Response> {
    let b = ctx.bucket()?;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint>{}</LocationConstraint>",
        quick_xml::escape::escape(&b.region)
    );
    Ok(xml_response(body))
}

/// PutBucketAcl; on a bucket that does not exist it creates one with that ACL (Standard,
/// LRS), as OSS documents, which also takes `oss:PutBucket`.
pub async fn put_bucket_acl(ctx: &Ctx) -> ApiResult<Response> {
    let acl = acl_header(ctx)?.ok_or_else(|| {
        OssError::missing_argument("x-oss-acl", "PutBucketAcl needs the x-oss-acl header.")
    })?;
    match &ctx.bucket {
        Some(b) => bucket::put_bucket_acl(ctx.store(), b, AccessControl::canned(acl)).await?,
        None => {
            ctx.authorize(Action::PutBucket, None, None, None)?;
            let request = CreateBucket {
                name: ctx.bucket_str().to_owned(),
                acl: Some(AccessControl::canned(acl)),
                storage_class: "Standard".to_owned(),
                redundancy: "LRS".to_owned(),
                encryption: None,
            };
            bucket::create_bucket(ctx.store(), &ctx.requester, request).await?;
        }
    }
    Ok(with_location(empty(StatusCode::OK), ctx.bucket_str()))
}

pub fn get_bucket_acl(ctx: &Ctx) -> ApiResult<Response> {
    let b = ctx.bucket()?;
    let mut w = XmlWriter::new("AccessControlPolicy");
    write_owner(&mut w, &b.owner);
    w.open("AccessControlList");
    w.elem("Grant", b.acl.as_str());
    w.close("AccessControlList");
    Ok(xml_response(w.finish()))
}

/// `encoding-type=url`: keys and prefixes in responses are percent-encoded.
#[derive(Debug, Clone, Copy)]
pub struct Encoding(bool);

impl Encoding {
    pub fn apply(self, s: &str) -> String {
        if self.0 {
            utf8_percent_encode(s, URL_ENCODE).to_string()
        } else {
            s.to_owned()
        }
    }

    pub fn write_type(self, w: &mut XmlWriter) {
        if self.0 {
            w.elem("EncodingType", "url");
        }
    }
}

pub fn url_encoding(ctx: &Ctx) -> ApiResult<Encoding> {
    match ctx.query.get("encoding-type") {
        None => Ok(Encoding(false)),
        Some(v) if v.eq_ignore_ascii_case("url") => Ok(Encoding(true)),
        Some(v) => Err(OssError::invalid_argument(
            "encoding-type must be \"url\".",
            "encoding-type",
            v,
        )),
    }
}

/// Most keys one DeleteMultipleObjects request may name.
const MAX_DELETE_KEYS: usize = 1000;

pub async fn delete_multiple_objects(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
    let body = read_small_body(body, 2 * MAX_SMALL_BODY).await?;
    // OSS requires Content-MD5 here; every SDK sends it.
    check_content_md5(&ctx.headers, &body, true)?;
    let doc = xml::parse(&body, "Delete")?;
    let quiet = doc
        .child_text("Quiet")
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let keys: Vec<(&str, Option<&str>)> = doc
        .children_named("Object")
        .map(|o| {
            (
                o.child_text("Key").unwrap_or_default(),
                o.child_text("VersionId").filter(|v| !v.is_empty()),
            )
        })
        .collect();
    if keys.is_empty() || keys.len() > MAX_DELETE_KEYS {
        return Err(OssError::malformed_xml(format!(
            "<Delete> must name 1 to {MAX_DELETE_KEYS} <Object> elements, not {}",
            keys.len()
        )));
    }
    // A malformed VersionId fails the whole request before anything is deleted (the
    // oss2 suite's test_delete_object_versions_with_invalid_arguments).
    for (_, version_id) in &keys {
        if let Some(id) = version_id {
            crate::core::object::parse_version_id(id)?;
        }
    }
    let mut w = XmlWriter::new("DeleteResult");
    encoding.write_type(&mut w);
    let bucket = ctx.bucket()?;
    for (key, version_id) in keys {
        let outcome = match ObjectKey::parse(key) {
            Err(e) => Err(OssError::invalid_object_name(e.0)),
            Ok(key) => {
                bucket::delete_listed_object(ctx.store(), &ctx.requester, bucket, &key, version_id)
                    .await
                    .map_err(OssError::from)
            }
        };
        match outcome {
            Ok(_) if quiet => {}
            Ok(deleted) => {
                w.open("Deleted");
                w.elem("Key", encoding.apply(key));
                if let Some(id) = version_id {
                    w.elem("VersionId", id);
                }
                if deleted.delete_marker {
                    w.elem("DeleteMarker", "true");
                    w.elem(
                        "DeleteMarkerVersionId",
                        deleted.version_id.as_deref().unwrap_or_default(),
                    );
                }
                w.close("Deleted");
            }
            Err(e) => {
                w.open("Error");
                w.elem("Key", encoding.apply(key));
                if let Some(id) = version_id {
                    w.elem("VersionId", id);
                }
                w.elem("Code", e.code);
                w.elem("Message", &e.message);
                w.close("Error");
            }
        }
    }
    Ok(xml_response(w.finish()))
}

/// Longest prefix, marker or delimiter accepted in a listing.
const MAX_LIST_PARAM: usize = 1024;

/// A listing's prefix, marker or delimiter ("" when absent), within bounds.
pub fn list_param(ctx: &Ctx, name: &str) -> ApiResult<String> {
    let v = ctx.query.get(name).unwrap_or_default();
    if v.len() > MAX_LIST_PARAM {
        return Err(OssError::invalid_argument(
            format!("{name} must be at most {MAX_LIST_PARAM} bytes."),
            name,
            "",
        ));
    }
    Ok(v.to_owned())
}

pub async fn list_objects(ctx: &Ctx, v2: bool) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let param = |name: &str| list_param(ctx, name);
    let encoding = url_encoding(ctx)?;
    let enc = |s: &str| encoding.apply(s);
    let prefix = param("prefix")?;
    let delimiter = param("delimiter")?;
    let max_keys = bounded_number(ctx, "max-keys", 100, 1000)?;
    let marker = param("marker")?;
    let start_after = param("start-after")?;
    let token = match ctx.query.get("continuation-token") {
        Some(t) => Some(
            URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|k| String::from_utf8(k).ok())
                .ok_or_else(|| {
                    OssError::invalid_argument(
                        "The continuation token is not valid.",
                        "continuation-token",
                        t,
                    )
                })?,
        ),
        None => None,
    };
    let fetch_owner = ctx
        .query
        .get("fetch-owner")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let start = if v2 {
        token.clone().unwrap_or_default().max(start_after.clone())
    } else {
        marker.clone()
    };
    let query = ListQuery {
        prefix: prefix.clone(),
        delimiter: delimiter.clone(),
        start_after: start,
        max_keys,
    };
    let listing = bucket::list_objects(ctx.store(), &bucket.name, query).await?;

    let mut w = XmlWriter::new("ListBucketResult");
    w.elem("Name", &bucket.name);
    w.elem("Prefix", enc(&prefix));
    if v2 {
        if ctx.query.has("start-after") {
            w.elem("StartAfter", enc(&start_after));
        }
        if let Some(t) = ctx.query.get("continuation-token") {
            w.elem("ContinuationToken", t);
        }
    } else {
        w.elem("Marker", enc(&marker));
    }
    w.elem("MaxKeys", max_keys.to_string());
    w.elem("Delimiter", enc(&delimiter));
    encoding.write_type(&mut w);
    w.elem("IsTruncated", listing.truncated.to_string());
    if let Some(next) = &listing.next_marker {
        if v2 {
            w.elem("NextContinuationToken", URL_SAFE_NO_PAD.encode(next));
        } else {
            w.elem("NextMarker", enc(next));
        }
    }
    if v2 {
        w.elem(
            "KeyCount",
            (listing.objects.len() + listing.common_prefixes.len()).to_string(),
        );
    }
    let now = now_ms();
    for (key, o) in &listing.objects {
        w.open("Contents");
        w.elem("Key", enc(key));
        w.elem("LastModified", iso8601(o.last_modified));
        w.elem("ETag", format!("\"{}\"", o.etag));
        w.elem("Type", &o.object_type);
        w.elem("Size", o.size.to_string());
        w.elem("StorageClass", &o.storage_class);
        if let Some(info) = restore::restore_info(o, now) {
            w.elem("RestoreInfo", info);
        }
        if !v2 || fetch_owner {
            write_owner(&mut w, &bucket.owner);
        }
        w.close("Contents");
    }
    for p in &listing.common_prefixes {
        w.open("CommonPrefixes");
        w.elem("Prefix", enc(p));
        w.close("CommonPrefixes");
    }
    Ok(xml_response(w.finish()))
}
