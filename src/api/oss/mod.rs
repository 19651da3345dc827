//! The OSS dialect: the request spine (target → query → route → authenticate →
//! authorize → execute → respond).

pub mod auth;
pub mod error;
pub mod headers;
pub mod ops;
pub mod query;
pub mod route;
pub mod target;
pub mod xml;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method};

use crate::access::{self, Principal};
use crate::core::{CoreError, Requester, Store, object};
use crate::names::{BucketName, ObjectKey};
use crate::observe::RequestSlot;
use crate::server::{AppState, ListenerState};
use crate::storage::{BucketRecord, ObjectRecord};
use error::{ApiResult, OssError};
use headers::header;
use query::Query;
use route::Operation;

/// Everything an operation handler needs about its request.
pub struct Ctx {
    pub app: Arc<AppState>,
    pub request_id: String,
    /// Index of the request's region.
    pub region: usize,
    /// The principal and the request facts policies test.
    pub requester: Requester,
    pub method: Method,
    /// `http` or `https`: the listener's, for the URLs answers carry.
    pub scheme: &'static str,
    pub headers: HeaderMap,
    pub query: Query,
    pub bucket_name: Option<BucketName>,
    pub key: Option<ObjectKey>,
    /// The bucket's record, when it exists.
    pub bucket: Option<BucketRecord>,
    /// The object's record, loaded for reads.
    pub object: Option<ObjectRecord>,
}

impl Ctx {
    pub fn region_name(&self) -> &str {
        &self.app.regions[self.region].name
    }

    /// The bucket of a bucket- or object-level request (routing guarantees one).
    pub fn bucket(&self) -> ApiResult<&BucketRecord> {
        self.bucket
            .as_ref()
            .ok_or_else(|| OssError::no_such_bucket(self.bucket_str()))
    }

    /// The `versionId` the request names, if any.
    pub fn version_id(&self) -> Option<&str> {
        self.query.get("versionId")
    }

    /// The object (or the version the request names) of an object-level read, loaded
    /// by the spine; NoSuchKey, NoSuchVersion or a delete marker's error otherwise.
    pub fn object(&self) -> ApiResult<&ObjectRecord> {
        let key = self.key_str().to_owned();
        match (&self.object, self.version_id()) {
            (Some(o), _) if o.delete_marker => Err(CoreError::DeleteMarker {
                key,
                version_id: o.version_label().to_owned(),
                requested: true,
            }
            .into()),
            (Some(o), _) => Ok(o),
            (None, None) => Err(OssError::no_such_key(&key)),
            (None, Some(v)) => {
                let version_id = object::parse_version_id(v)?.to_owned();
                Err(CoreError::NoSuchVersion { key, version_id }.into())
            }
        }
    }

    /// [`Ctx::object`] for GET and HEAD, which also say when the latest version of a
    /// missing key is a delete marker.
    pub async fn read_object(&self) -> ApiResult<ObjectRecord> {
        match (&self.object, self.version_id()) {
            (None, None) => {
                Err(
                    object::missing_current(self.store(), self.bucket()?, self.key_str())
                        .await
                        .into(),
                )
            }
            _ => self.object().cloned(),
        }
    }

    pub fn bucket_str(&self) -> &str {
        self.bucket_name
            .as_ref()
            .map(BucketName::as_str)
            .unwrap_or_default()
    }

    pub fn key_str(&self) -> &str {
        self.key.as_ref().map(ObjectKey::as_str).unwrap_or_default()
    }

    /// The storage operations run on.
    pub fn store(&self) -> &Store {
        &self.app.store
    }
}

fn new_request_id() -> String {
    let bytes: [u8; 12] = rand::random();
    hex::encode_upper(bytes)
}

/// The axum entry point for every request.
pub async fn handle(
    State(listener): State<ListenerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let request_id = new_request_id();
    let host = header(request.headers(), "host")
        .unwrap_or_default()
        .to_owned();
    let head = request.method() == Method::HEAD;
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let has_body = header(request.headers(), "content-length").is_some_and(|l| l != "0")
        || request.headers().contains_key("transfer-encoding");
    let slot = request.extensions().get::<RequestSlot>().cloned();
    let mut response = match dispatch(listener, peer, request_id.clone(), request).await {
        Ok(response) => response,
        Err(e) => {
            tracing::debug!(%method, %path, code = e.code, message = %e.message, "request failed");
            if let Some(slot) = &slot {
                slot.update(|i| {
                    if let Some(line) = &mut i.access_log {
                        line.error_code = Some(e.code.to_string());
                    }
                });
            }
            let mut response = e.into_response(&request_id, &host, head);
            // A refused upload may leave its body unread, and then the connection cannot
            // be reused: say so, or clients reuse it and fail their next request.
            if has_body {
                response
                    .headers_mut()
                    .insert("connection", HeaderValue::from_static("close"));
            }
            response
        }
    };
    let h = response.headers_mut();
    h.insert(
        "x-oss-request-id",
        HeaderValue::from_str(&request_id).expect("hex"),
    );
    h.insert("server", HeaderValue::from_static("AliyunOSS"));
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
    {
        h.insert("date", date);
    }
    tracing::debug!(%method, %path, status = response.status().as_u16(), request_id, "request");
    response
}

async fn dispatch(
    listener: ListenerState,
    peer: SocketAddr,
    request_id: String,
    request: Request,
) -> ApiResult<Response> {
    let app = listener.app;
    let (parts, body) = request.into_parts();
    let target = target::resolve(
        header(&parts.headers, "host"),
        parts.uri.path(),
        &app.region_hosts,
        listener.region,
    )?;
    let query = Query::parse(parts.uri.query())?;
    let routed = route::route(&parts.method, &target, &query, &parts.headers);
    let slot = parts.extensions.get::<RequestSlot>().cloned();
    if let Some(slot) = &slot {
        slot.update(|i| {
            i.dialect = "oss";
            i.request_id = request_id.clone();
            i.bucket = target.bucket.clone();
            i.key = target.key.clone();
            if let Ok(op) = &routed {
                i.operation = format!("{op:?}");
            }
        });
    }

    let now = chrono::Utc::now();
    let view = auth::RequestView {
        method: parts.method.as_str(),
        bucket: target.bucket.as_deref(),
        key: target.key.as_deref(),
        query: &query.pairs,
        headers: &parts.headers,
    };
    let outcome = auth::authenticate(&view, now, app.as_ref());
    let access_key_id = match &outcome {
        Ok(auth::AuthOutcome::Signed(signed)) => Some(signed.access_key_id.clone()),
        _ => None,
    };
    // The principal, and whether it signed in the Authorization header.
    let authenticated = match outcome {
        Err(e) => Err(OssError::from(e)),
        Ok(auth::AuthOutcome::Anonymous) => Ok((Principal::Anonymous, false)),
        Ok(auth::AuthOutcome::Signed(signed)) => {
            let expected = app.regions[target.region].v4_name();
            if let Some(region) = signed.v4_region.as_deref()
                && region != expected
            {
                // OSS's EC differs by form: 0002-00000228 for the Authorization header,
                // 0002-00000226 for a presigned URL's x-oss-credential.
                let (place, ec) = match signed.presigned {
                    true => ("x-oss-credential", "0002-00000226"),
                    false => ("Authorization header", "0002-00000228"),
                };
                Err(OssError::access_denied(format!(
                    "Invalid signing region in {place}: this endpoint serves region {expected:?}, the request was signed for {region:?}."
                ))
                .ec(ec))
            } else {
                app.credentials
                    .get(&signed.access_key_id)
                    .map(|c| (c.principal.clone(), !signed.presigned))
                    .ok_or_else(|| {
                        OssError::from(auth::AuthError::InvalidAccessKeyId {
                            access_key_id: signed.access_key_id,
                        })
                    })
            }
        }
    };

    let bucket_name = match &target.bucket {
        Some(name) => {
            Some(BucketName::parse(name).map_err(|e| OssError::invalid_bucket_name(name, e.0))?)
        }
        None => None,
    };
    let key = match &target.key {
        Some(key) => Some(ObjectKey::parse(key).map_err(|e| OssError::invalid_object_name(e.0))?),
        None => None,
    };
    // A missing bucket is NoSuchBucket before any routing or authentication error, as
    // OSS answers (SDK helpers such as oss2's `is_bucket_exist()` rely on it); nothing
    // else of the bucket or its objects is answered before authentication.
    // PutBucketAcl creates a missing bucket, as OSS documents.
    let creates_bucket = matches!(routed, Ok(Operation::PutBucket | Operation::PutBucketAcl));
    let (bucket, object) = match &bucket_name {
        Some(name) => {
            // Bucket and object records in one metadata read.
            let object_key = matches!(
                routed,
                Ok(Operation::GetObject
                    | Operation::HeadObject
                    | Operation::GetObjectMeta
                    | Operation::GetObjectAcl
                    | Operation::GetSymlink
                    | Operation::GetObjectTagging
                    | Operation::ProcessObject)
            )
            .then(|| key.as_ref().map(|k| k.as_str().to_owned()))
            .flatten();
            let name = name.clone();
            // A read of a version loads that version; an invalid id loads nothing, so
            // `Ctx::object` refuses it (InvalidArgument) instead of reading the current one.
            let version = query.get("versionId").map(str::to_owned);
            let (bucket, object) = app
                .store
                .meta_read(move |m| {
                    let bucket = m.get_bucket(name.as_str())?;
                    let object = match (&bucket, object_key, version) {
                        (Some(_), Some(key), None) => m.get_object(name.as_str(), &key)?,
                        (Some(_), Some(key), Some(v)) if crate::storage::is_version_id(&v) => {
                            m.get_object_version(name.as_str(), &key, &v)?
                        }
                        _ => None,
                    };
                    Ok((bucket, object))
                })
                .await?;
            if bucket.is_none() && !creates_bucket {
                return Err(OssError::no_such_bucket(
                    target.bucket.as_deref().unwrap_or_default(),
                ));
            }
            (bucket, object)
        }
        None => (None, None),
    };
    // Every request on a bucket with logging enabled gets an access-log line, refused
    // ones included.
    if let Some(slot) = &slot
        && let Some(logging) = bucket.as_ref().and_then(|b| b.config.logging.clone())
    {
        let text = |name: &str| header(&parts.headers, name).map(str::to_owned);
        let pending = crate::core::access_log::Pending {
            target: logging,
            remote_ip: peer.ip().to_string(),
            time: now,
            request_line: format!("{} {} {:?}", parts.method, parts.uri, parts.version),
            referer: text("referer"),
            user_agent: text("user-agent"),
            host: text("host").unwrap_or_default(),
            request_id: request_id.clone(),
            requester: authenticated
                .as_ref()
                .ok()
                .and_then(|(p, _)| p.account())
                .map(str::to_owned),
            operation: routed
                .as_ref()
                .map(|op| format!("{op:?}"))
                .unwrap_or_default(),
            bucket: target.bucket.clone().unwrap_or_default(),
            key: target.key.clone(),
            object_size: object.as_ref().map(|o| o.size),
            owner: bucket.as_ref().map(|b| b.owner.clone()).unwrap_or_default(),
            storage_class: bucket
                .as_ref()
                .map(|b| b.storage_class.clone())
                .unwrap_or_default(),
            access_key_id,
            error_code: None,
        };
        slot.update(|i| i.access_log = Some(Box::new(pending)));
    }
    let op = match routed {
        Ok(op) => op,
        // An operation OSS has and this server lacks: OSS would check the signature
        // first, so a bad one is still answered as such (InvalidAccessKeyId, ...).
        Err(e) if e.status == http::StatusCode::NOT_IMPLEMENTED => {
            authenticated?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    // A CORS preflight is answered from the bucket's rules whatever credentials it
    // carries: OSS ignores its signature (a bad one is not an error).
    let (principal, header_signed) = match op {
        Operation::Options => (Principal::Anonymous, false),
        _ => authenticated?,
    };
    if let Some(slot) = &slot {
        slot.update(|i| i.principal = Some(principal.log_name()));
    }
    let requester = Requester {
        principal,
        region: app.regions[target.region].name.clone(),
        source_ip: peer.ip(),
        user_agent: header(&parts.headers, "user-agent").map(str::to_owned),
        referer: header(&parts.headers, "referer").map(str::to_owned),
        header_signed,
        // In the header, or in a presigned URL's query string.
        request_payer: header(&parts.headers, "x-oss-request-payer")
            .or_else(|| query.get("x-oss-request-payer"))
            .is_some_and(|v| v.eq_ignore_ascii_case("requester")),
        prefix: query.get("prefix").map(str::to_owned),
        delimiter: query.get("delimiter").map(str::to_owned),
        request_keys: crate::core::access::request_keys(
            std::iter::empty(),
            header(&parts.headers, "x-oss-tagging"),
        ),
        endpoints: app.endpoints.clone(),
    };
    let ctx = Ctx {
        app: app.clone(),
        request_id,
        region: target.region,
        requester,
        method: parts.method.clone(),
        scheme: if listener.tls { "https" } else { "http" },
        headers: parts.headers,
        query,
        bucket_name,
        key,
        bucket,
        object,
    };
    // PutBucket on an existing name is settled by the handler (owner → update, else 409).
    let bucket = ctx.bucket.as_ref().filter(|_| op != Operation::PutBucket);
    // Browsers need the CORS headers on errors too.
    let cors = ctx
        .bucket
        .as_ref()
        .filter(|_| op != Operation::Options)
        .map(|b| {
            crate::core::cors::cors_headers(
                b,
                header(&ctx.headers, "origin"),
                ctx.method.as_str(),
                false,
            )
        })
        .unwrap_or_default();
    let result = async {
        // Anonymous reads of a website bucket: each document is authorized on its own.
        if let Some(head) = ops::website::serves(op, &ctx) {
            return ops::website::serve(&ctx, head).await;
        }
        // A preflight needs no rights; a form upload is authorized by its own signature.
        if !matches!(op, Operation::Options | Operation::PostObject) {
            let action = match ctx.version_id() {
                Some(_) => op.action().on_version(),
                None => op.action(),
            };
            ctx.authorize(
                action,
                bucket,
                ctx.key.as_ref().map(ObjectKey::as_str),
                ctx.object.as_ref(),
            )?;
        }
        ops::execute(op, &ctx, body).await
    };
    match result.await {
        Ok(mut response) => {
            super::add_cors_headers(response.headers_mut(), cors);
            Ok(response)
        }
        Err(mut e) => {
            e.headers.extend(cors);
            Err(e)
        }
    }
}

impl Ctx {
    /// May the requester run `action` on `bucket` (and `key` in it)? `object` is the
    /// object's record when it exists (its ACL counts). Without a bucket record the
    /// request's bucket name names the resource (PutBucket), or it is service-level.
    pub fn authorize(
        &self,
        action: access::Action,
        bucket: Option<&BucketRecord>,
        key: Option<&str>,
        object: Option<&ObjectRecord>,
    ) -> ApiResult<()> {
        self.authorize_as(&self.requester.principal, action, bucket, key, object)
    }

    /// [`Ctx::authorize`] for another principal (PostObject signs in its form).
    pub fn authorize_as(
        &self,
        principal: &Principal,
        action: access::Action,
        bucket: Option<&BucketRecord>,
        key: Option<&str>,
        object: Option<&ObjectRecord>,
    ) -> ApiResult<()> {
        let name = self.bucket_name.as_ref().map(BucketName::as_str);
        Ok(self
            .requester
            .authorize_as(principal, action, bucket, name, key, object)?)
    }
}

pub use crate::names::URL_ENCODE;

/// An empty 200/204 response.
pub fn empty(status: http::StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    if status != http::StatusCode::NO_CONTENT {
        response
            .headers_mut()
            .insert("content-length", HeaderValue::from_static("0"));
    }
    response
}

/// An XML 200 response.
pub fn xml_response(body: String) -> Response {
    Response::builder()
        .header("content-type", "application/xml")
        .header("content-length", body.len())
        .body(Body::from(body))
        .expect("valid response")
}
