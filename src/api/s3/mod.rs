//! The S3 dialect. The `s3s` crate reads and writes the S3 wire — routing, SigV4
//! (with `aws-chunked` and trailing checksums), SigV2, presigned URLs, and the DTOs
//! generated from the AWS models; [`S3Dialect`] implements its `S3` trait over
//! [`crate::core`], so storage, digests and permissions are the same as for OSS.
//! Errors map to S3 codes in one place (`error.rs`).

mod bucket;
mod convert;
mod error;
mod guard;
mod lifecycle;
mod multipart;
mod object;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, Uri};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::*;
use s3s::path::S3Path;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Error, S3Request, S3Response, S3Result, s3_error};

use crate::access::{Action, Principal};
use crate::core::{Requester, Store};
use crate::names::{BucketName, ObjectKey};
use crate::observe::RequestSlot;
use crate::server::{AppState, ListenerState};
use crate::storage::{BucketRecord, ObjectRecord};

/// Does this request speak S3 on an ordinary (OSS) listener? AWS signatures, in a
/// header or a presigned URL, are S3; OSS signatures and anonymous requests are OSS.
pub fn is_s3_request(headers: &HeaderMap, uri: &Uri) -> bool {
    if let Some(auth) = headers.get("authorization") {
        let auth = auth.as_bytes();
        return auth.starts_with(b"AWS4-HMAC-SHA256 ") || auth.starts_with(b"AWS ");
    }
    let query = uri.query().unwrap_or_default();
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        name == "X-Amz-Algorithm" || name == "AWSAccessKeyId"
    })
}

/// What the connection tells an operation: the client's address and the region of
/// the listener.
#[derive(Debug, Clone, Copy)]
struct Connection {
    peer: SocketAddr,
    region: usize,
}

/// The S3 service over `app`, shared by every listener.
pub fn service(app: Arc<AppState>) -> S3Service {
    let mut builder = S3ServiceBuilder::new(S3Dialect { app: app.clone() });
    builder.set_host(Hosts(virtual_host_domains(&app)));
    builder.set_auth(Secrets(app));
    builder.set_access(CheckedByCore);
    builder.build()
}

/// Serve one S3 request: the answer gets S3's request-id headers, and an error body
/// names its resource and request id as S3 does.
pub async fn handle(
    listener: &ListenerState,
    peer: SocketAddr,
    request: http::Request<axum::body::Body>,
) -> Response {
    let request_id = new_request_id();
    let resource = request.uri().path().to_owned();
    let head = request.method() == http::Method::HEAD;
    let has_body = request
        .headers()
        .get("content-length")
        .is_some_and(|l| l != "0")
        || request.headers().contains_key("transfer-encoding");
    // Browsers need the CORS headers on errors too.
    let cors = cors_headers(
        &listener.app,
        request.headers(),
        request.uri(),
        request.method(),
    )
    .await;
    if let Some(slot) = request.extensions().get::<RequestSlot>() {
        slot.update(|i| {
            i.dialect = "s3";
            i.request_id = request_id.clone();
        });
    }
    let request = guard::require_final_chunk(request);
    let mut request = request.map(s3s::Body::http_body_unsync);
    request.extensions_mut().insert(Connection {
        peer,
        region: listener.region,
    });
    convert::sigv2_bucket_path(&mut request);
    let refused = error::refused_before_auth(&request).map(S3Error::to_http_response);
    let called = match refused {
        Some(Ok(response)) => Ok(response),
        _ => listener.s3.call(request).await,
    };
    let mut response = match called {
        Ok(response) => response.map(axum::body::Body::new),
        Err(e) => {
            tracing::warn!("S3 request failed: {:?}", e);
            let mut error = s3_error!(InternalError, "The request could not be served.");
            error.set_request_id(&request_id);
            match error.to_http_response() {
                Ok(r) => r.map(axum::body::Body::new),
                Err(_) => http::Response::new(axum::body::Body::empty()),
            }
        }
    };
    if let Some(SuccessStatus(status)) = response.extensions().get().copied() {
        *response.status_mut() = status;
    }
    if response.extensions().get::<UnquotedETag>().is_some() {
        response = unquote_etag(response).await;
    }
    let failed = response.status().is_client_error() || response.status().is_server_error();
    let mut response = if failed {
        error::complete_error_body(response, &resource, &request_id, head).await
    } else {
        response
    };
    // A refused upload may leave its body unread, and then the connection cannot be
    // reused: say so, or clients reuse it and fail their next request (as on OSS).
    if failed && has_body {
        response
            .headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
    }
    let h = response.headers_mut();
    let id = HeaderValue::from_str(&request_id).expect("hex");
    h.insert("x-amz-request-id", id.clone());
    h.insert("x-amz-id-2", id);
    h.insert("server", HeaderValue::from_static("AliyunOSS"));
    super::add_cors_headers(h, cors);
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
    {
        h.insert("date", date);
    }
    response
}

/// A success status s3s's serializers do not give (RestoreObject's 202), carried from
/// the operation to [`handle`] as a response extension.
#[derive(Debug, Clone, Copy)]
struct SuccessStatus(http::StatusCode);

/// GetObjectAttributes: S3 writes its `<ETag>` without the quotes s3s puts there.
#[derive(Debug, Clone, Copy)]
struct UnquotedETag;

/// Remove the quotes around the `<ETag>` of a small XML body.
async fn unquote_etag(response: Response) -> Response {
    use http_body_util::BodyExt;
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = http_body_util::Limited::new(body, 64 * 1024)
        .collect()
        .await
    else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let text = String::from_utf8_lossy(&collected.to_bytes())
        .replacen("<ETag>\"", "<ETag>", 1)
        .replacen("\"</ETag>", "</ETag>", 1);
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(text))
}

fn new_request_id() -> String {
    hex::encode_upper(rand::random::<[u8; 8]>())
}

fn virtual_host_domains(app: &AppState) -> Vec<String> {
    let mut domains: Vec<String> = app
        .region_hosts
        .iter()
        .flat_map(|r| r.hosts.iter().cloned())
        .collect();
    domains.push("localhost".into());
    domains
}

/// The CORS headers a request with `Origin` gets from its bucket's rules.
async fn cors_headers(
    app: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    method: &http::Method,
) -> Vec<(&'static str, String)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = header("origin").map(str::to_owned) else {
        return vec![];
    };
    let hosts = Hosts(virtual_host_domains(app));
    let virtual_bucket = s3s::host::S3Host::parse_host_header(&hosts, header("host").unwrap_or(""))
        .ok()
        .and_then(|vh| vh.bucket().map(str::to_owned));
    let path_bucket = uri.path().trim_start_matches('/').split('/').next();
    let Some(bucket) = virtual_bucket.or(path_bucket.filter(|b| !b.is_empty()).map(str::to_owned))
    else {
        return vec![];
    };
    let method = method.as_str().to_owned();
    let Ok(Some(record)) = app.store.meta_read(move |m| m.get_bucket(&bucket)).await else {
        return vec![];
    };
    crate::core::cors::cors_headers(&record, Some(&origin), &method, true)
}

/// Virtual-hosted style: `bucket.<endpoint>` and `bucket.localhost` name the bucket;
/// any other host (an IP address, the endpoint itself) is path style.
struct Hosts(Vec<String>);

impl s3s::host::S3Host for Hosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<s3s::host::VirtualHost<'a>> {
        let name = host
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(h, _)| h);
        for domain in &self.0 {
            if let Some(bucket) = name
                .strip_suffix(domain.as_str())
                .and_then(|b| b.strip_suffix('.'))
                .filter(|b| !b.is_empty())
            {
                return Ok(s3s::host::VirtualHost::new(domain.as_str()).with_bucket(bucket));
            }
        }
        Ok(s3s::host::VirtualHost::new(name))
    }
}

/// The same AccessKeys sign both dialects.
struct Secrets(Arc<AppState>);

#[async_trait::async_trait]
impl S3Auth for Secrets {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        self.0
            .credentials
            .get(access_key)
            .map(|c| SecretKey::from(c.secret.as_str()))
            .ok_or_else(|| {
                s3_error!(
                    InvalidAccessKeyId,
                    "The AWS Access Key Id you provided does not exist in our records."
                )
            })
    }
}

/// Anonymous requests are allowed through to the operations, which authorize every
/// request (anonymous or signed) with the access engine, as for OSS. Here, after
/// routing and before the body is read, S3's refusals that s3s leaves out
/// (`guard.rs`).
struct CheckedByCore;

#[async_trait::async_trait]
impl s3s::access::S3Access for CheckedByCore {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name().to_owned();
        let (bucket, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
        };
        if let Some(slot) = cx.extensions_mut().get::<RequestSlot>() {
            slot.update(|i| {
                i.operation = op.clone();
                i.bucket = bucket;
                i.key = key;
            });
        }
        guard::check_sub_resources(&op, cx.uri())?;
        guard::check_headers(cx.headers())
    }
}

pub struct S3Dialect {
    app: Arc<AppState>,
}

/// One request's requester and storage, for the operations.
struct Cx {
    app: Arc<AppState>,
    requester: Requester,
    /// `x-amz-expected-bucket-owner`: the account the request's bucket must belong to.
    expected_owner: Option<String>,
}

impl S3Dialect {
    /// The requester of `req`, after checking the region it was signed for.
    fn cx<T>(&self, req: &S3Request<T>) -> S3Result<Cx> {
        let connection = req
            .extensions
            .get::<Connection>()
            .copied()
            .ok_or_else(|| s3_error!(InternalError, "the request lost its connection"))?;
        let region = &self.app.regions[connection.region];
        if let Some(signed) = &req.region {
            let signed = signed.as_str();
            // Tools default to us-east-1; it means the first region.
            let ok = signed == region.name
                || signed == region.v4_name()
                || (signed == "us-east-1" && connection.region == 0);
            if !ok {
                return Err(error::wrong_region(&req.uri, signed, region.v4_name()));
            }
        }
        let principal = match &req.credentials {
            None => Principal::Anonymous,
            Some(c) => self
                .app
                .credentials
                .get(&c.access_key)
                .map(|c| c.principal.clone())
                .ok_or_else(|| s3_error!(InvalidAccessKeyId))?,
        };
        if let Some(slot) = req.extensions.get::<RequestSlot>() {
            slot.update(|i| i.principal = Some(principal.log_name()));
        }
        let header = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let query = |name: &str| query_value(&req.uri, name);
        Ok(Cx {
            app: self.app.clone(),
            expected_owner: header("x-amz-expected-bucket-owner"),
            requester: Requester {
                principal,
                region: region.name.clone(),
                source_ip: connection.peer.ip(),
                user_agent: header("user-agent"),
                referer: header("referer"),
                // SigV4 and SigV2 in the header; presigned URLs carry none.
                header_signed: req.credentials.is_some()
                    && req.headers.contains_key(http::header::AUTHORIZATION),
                request_payer: header("x-amz-request-payer")
                    .or_else(|| query("x-amz-request-payer"))
                    .is_some_and(|v| v.eq_ignore_ascii_case("requester")),
                prefix: query("prefix"),
                delimiter: query("delimiter"),
                // S3's `s3:x-amz-*` condition keys name the request's headers.
                request_keys: crate::core::access::request_keys(
                    req.headers.iter().filter_map(|(name, value)| {
                        let name = name.as_str();
                        let value = value.to_str().ok()?;
                        name.starts_with("x-amz-")
                            .then(|| (format!("s3:{name}"), value))
                    }),
                    req.headers
                        .get("x-amz-tagging")
                        .and_then(|v| v.to_str().ok()),
                ),
                endpoints: self.app.endpoints.clone(),
            },
        })
    }
}

impl Cx {
    fn store(&self) -> &Store {
        &self.app.store
    }

    /// Is `id` an account of this server (the S3 canonical id a grant names)?
    fn account_exists(&self, id: &str) -> bool {
        self.app
            .credentials
            .values()
            .any(|c| c.principal.account() == Some(id))
    }

    /// The bucket's record, or NoSuchBucket.
    async fn bucket(&self, name: &str) -> S3Result<BucketRecord> {
        Ok(self.records(name, None, None).await?.0)
    }

    /// The bucket and the object's record, or the record of version `version_id`
    /// (None when it does not exist).
    async fn object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> S3Result<(BucketRecord, ObjectKey, Option<ObjectRecord>)> {
        let key = parse_key(key)?;
        let (record, object) = self.records(bucket, Some(key.as_str()), version_id).await?;
        Ok((record, key, object))
    }

    /// Bucket and object (or version) records in one trip to the blocking pool; an
    /// invalid version id loads no object.
    async fn records(
        &self,
        bucket: &str,
        key: Option<&str>,
        version_id: Option<&str>,
    ) -> S3Result<(BucketRecord, Option<ObjectRecord>)> {
        let valid = BucketName::parse(bucket).map_err(|e| {
            s3_error!(
                InvalidBucketName,
                "The specified bucket is not valid: {bucket:?} {}.",
                e.0
            )
        })?;
        let (b, k) = (valid.as_str().to_owned(), key.map(str::to_owned));
        let v = version_id.map(str::to_owned);
        let (record, object) = self
            .store()
            .meta_read(move |m| {
                let record = m.get_bucket(&b)?;
                let object = match (&record, k, v) {
                    (Some(_), Some(k), None) => m.get_object(&b, &k)?,
                    (Some(_), Some(k), Some(v)) if crate::storage::is_version_id(&v) => {
                        m.get_object_version(&b, &k, &v)?
                    }
                    _ => None,
                };
                Ok((record, object))
            })
            .await
            .map_err(error::from_core)?;
        let record = record
            .ok_or_else(|| error::from_core(crate::core::CoreError::no_such_bucket(bucket)))?;
        if self
            .expected_owner
            .as_ref()
            .is_some_and(|owner| *owner != record.owner)
        {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        Ok((record, object))
    }

    /// May the requester run `action` (on version `version_id`, when given)?
    fn authorize(
        &self,
        action: Action,
        bucket: &BucketRecord,
        key: Option<&str>,
        object: Option<&ObjectRecord>,
    ) -> S3Result<()> {
        self.requester
            .authorize(action, Some(bucket), None, key, object)
            .map_err(error::from_core)
    }
}

/// A query parameter, decoded.
fn query_value(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn parse_key(key: &str) -> S3Result<ObjectKey> {
    ObjectKey::parse(key).map_err(|e| {
        if key.len() > 1023 {
            s3_error!(KeyTooLongError, "Your key is too long.")
        } else {
            s3_error!(InvalidArgument, "Invalid object key: {}.", e.0)
        }
    })
}

type R<T> = S3Result<S3Response<T>>;

/// An empty `204 No Content` answer (S3's deletes, PutBucketPolicy, AbortMultipartUpload).
fn no_content<T: Default>() -> S3Response<T> {
    let mut response = S3Response::new(T::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    response
}

/// The route table: s3s has resolved the operation; each one names its permission
/// where it authorizes (in the operation modules).
#[async_trait::async_trait]
impl S3 for S3Dialect {
    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> R<ListBucketsOutput> {
        bucket::list_buckets(self.cx(&req)?, req.input).await
    }
    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> R<CreateBucketOutput> {
        bucket::create_bucket(self.cx(&req)?, req.input).await
    }
    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> R<HeadBucketOutput> {
        bucket::head_bucket(self.cx(&req)?, req.input).await
    }
    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> R<DeleteBucketOutput> {
        bucket::delete_bucket(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> R<GetBucketLocationOutput> {
        bucket::get_bucket_location(self.cx(&req)?, req.input).await
    }
    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> R<ListObjectsOutput> {
        bucket::list_objects(self.cx(&req)?, req.input).await
    }
    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> R<ListObjectsV2Output> {
        bucket::list_objects_v2(self.cx(&req)?, req.input).await
    }
    async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> R<PutPublicAccessBlockOutput> {
        bucket::put_public_access_block(self.cx(&req)?, req.input).await
    }
    async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> R<GetPublicAccessBlockOutput> {
        bucket::get_public_access_block(self.cx(&req)?, req.input).await
    }
    async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> R<DeletePublicAccessBlockOutput> {
        bucket::delete_public_access_block(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> R<GetBucketPolicyStatusOutput> {
        bucket::get_bucket_policy_status(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_acl(&self, req: S3Request<GetBucketAclInput>) -> R<GetBucketAclOutput> {
        bucket::get_bucket_acl(self.cx(&req)?, req.input).await
    }
    async fn put_bucket_acl(&self, req: S3Request<PutBucketAclInput>) -> R<PutBucketAclOutput> {
        bucket::put_bucket_acl(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> R<GetBucketVersioningOutput> {
        bucket::get_bucket_versioning(self.cx(&req)?, req.input).await
    }
    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> R<PutBucketVersioningOutput> {
        bucket::put_bucket_versioning(self.cx(&req)?, req.input).await
    }
    async fn put_bucket_cors(&self, req: S3Request<PutBucketCorsInput>) -> R<PutBucketCorsOutput> {
        bucket::put_bucket_cors(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_cors(&self, req: S3Request<GetBucketCorsInput>) -> R<GetBucketCorsOutput> {
        bucket::get_bucket_cors(self.cx(&req)?, req.input).await
    }
    async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> R<DeleteBucketCorsOutput> {
        bucket::delete_bucket_cors(self.cx(&req)?, req.input).await
    }
    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> R<PutBucketPolicyOutput> {
        bucket::put_bucket_policy(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> R<GetBucketPolicyOutput> {
        bucket::get_bucket_policy(self.cx(&req)?, req.input).await
    }
    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> R<DeleteBucketPolicyOutput> {
        bucket::delete_bucket_policy(self.cx(&req)?, req.input).await
    }
    async fn put_bucket_encryption(
        &self,
        req: S3Request<PutBucketEncryptionInput>,
    ) -> R<PutBucketEncryptionOutput> {
        bucket::put_bucket_encryption(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_encryption(
        &self,
        req: S3Request<GetBucketEncryptionInput>,
    ) -> R<GetBucketEncryptionOutput> {
        bucket::get_bucket_encryption(self.cx(&req)?, req.input).await
    }
    async fn delete_bucket_encryption(
        &self,
        req: S3Request<DeleteBucketEncryptionInput>,
    ) -> R<DeleteBucketEncryptionOutput> {
        bucket::delete_bucket_encryption(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> R<GetBucketTaggingOutput> {
        bucket::get_bucket_tagging(self.cx(&req)?, req.input).await
    }
    async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> R<PutBucketTaggingOutput> {
        bucket::put_bucket_tagging(self.cx(&req)?, req.input).await
    }
    async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> R<DeleteBucketTaggingOutput> {
        bucket::delete_bucket_tagging(self.cx(&req)?, req.input).await
    }
    async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<PutBucketLifecycleConfigurationInput>,
    ) -> R<PutBucketLifecycleConfigurationOutput> {
        lifecycle::put_bucket_lifecycle_configuration(self.cx(&req)?, req.input).await
    }
    async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<GetBucketLifecycleConfigurationInput>,
    ) -> R<GetBucketLifecycleConfigurationOutput> {
        lifecycle::get_bucket_lifecycle_configuration(self.cx(&req)?, req.input).await
    }
    async fn delete_bucket_lifecycle(
        &self,
        req: S3Request<DeleteBucketLifecycleInput>,
    ) -> R<DeleteBucketLifecycleOutput> {
        lifecycle::delete_bucket_lifecycle(self.cx(&req)?, req.input).await
    }
    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> R<ListObjectVersionsOutput> {
        bucket::list_object_versions(self.cx(&req)?, req.input).await
    }
    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> R<DeleteObjectsOutput> {
        bucket::delete_objects(self.cx(&req)?, req.input).await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> R<PutObjectOutput> {
        let cx = self.cx(&req)?;
        object::put_object(cx, req.input, &req.headers, req.trailing_headers).await
    }
    async fn get_object(&self, req: S3Request<GetObjectInput>) -> R<GetObjectOutput> {
        let cx = self.cx(&req)?;
        match query_value(&req.uri, "x-oss-process") {
            Some(spec) => object::get_processed(cx, req.input, &spec, &req.headers).await,
            None => object::get_object(cx, req.input, &req.headers).await,
        }
    }
    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> R<HeadObjectOutput> {
        let cx = self.cx(&req)?;
        object::head_object(cx, req.input, &req.headers).await
    }
    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> R<DeleteObjectOutput> {
        object::delete_object(self.cx(&req)?, req.input).await
    }
    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> R<CopyObjectOutput> {
        object::copy_object(self.cx(&req)?, req.input).await
    }
    async fn restore_object(&self, req: S3Request<RestoreObjectInput>) -> R<RestoreObjectOutput> {
        object::restore_object(self.cx(&req)?, req.input).await
    }
    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> R<GetObjectAttributesOutput> {
        object::get_object_attributes(self.cx(&req)?, req.input).await
    }
    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> R<GetObjectTaggingOutput> {
        object::get_object_tagging(self.cx(&req)?, req.input).await
    }
    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> R<PutObjectTaggingOutput> {
        object::put_object_tagging(self.cx(&req)?, req.input).await
    }
    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> R<DeleteObjectTaggingOutput> {
        object::delete_object_tagging(self.cx(&req)?, req.input).await
    }
    async fn get_object_acl(&self, req: S3Request<GetObjectAclInput>) -> R<GetObjectAclOutput> {
        object::get_object_acl(self.cx(&req)?, req.input).await
    }
    async fn put_object_acl(&self, req: S3Request<PutObjectAclInput>) -> R<PutObjectAclOutput> {
        object::put_object_acl(self.cx(&req)?, req.input).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> R<CreateMultipartUploadOutput> {
        multipart::create_multipart_upload(self.cx(&req)?, req.input).await
    }
    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> R<UploadPartOutput> {
        let cx = self.cx(&req)?;
        multipart::upload_part(cx, req.input, &req.headers, req.trailing_headers).await
    }
    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> R<UploadPartCopyOutput> {
        multipart::upload_part_copy(self.cx(&req)?, req.input).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> R<CompleteMultipartUploadOutput> {
        multipart::complete_multipart_upload(self.cx(&req)?, req.input).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> R<AbortMultipartUploadOutput> {
        multipart::abort_multipart_upload(self.cx(&req)?, req.input).await
    }
    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> R<ListPartsOutput> {
        multipart::list_parts(self.cx(&req)?, req.input).await
    }
    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> R<ListMultipartUploadsOutput> {
        multipart::list_multipart_uploads(self.cx(&req)?, req.input).await
    }
}
