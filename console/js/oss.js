// A small OSS client for the page: path-style requests to this origin, signed with
// OSS V4 (OSS4-HMAC-SHA256) in the Authorization header or in presigned URLs.

import { hex, hmacSha256, md5Base64, sha256Hex } from "./crypto.js";

const ALGORITHM = "OSS4-HMAC-SHA256";
const UNSIGNED = "UNSIGNED-PAYLOAD";

/** An OSS error response: `code` and `message` are the server's own. */
export class OssError extends Error {
  constructor(status, code, message, requestId = "", ec = "") {
    super(message || code || "HTTP " + status);
    this.status = status;
    this.code = code || "HTTP " + status;
    this.requestId = requestId;
    /** The error's EC (`0002-…`: authentication, `0003-…`: authorization). */
    this.ec = ec;
  }

  toString() {
    return this.code + ": " + this.message;
  }
}

/** RFC 3986 encoding: everything but A-Z a-z 0-9 - _ . ~ (what the server signs). */
function encode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** `/<bucket>/<key>` with the key's slashes kept, `/` for the service. */
function resourcePath(bucket, key) {
  if (!bucket) return "/";
  return "/" + encode(bucket) + "/" + (key || "").split("/").map(encode).join("/");
}

/** Canonical query: encoded pairs sorted, a bare name when the value is empty. */
function canonicalQuery(query) {
  return Object.entries(query)
    .map(([name, value]) => [encode(name), encode(value == null ? "" : String(value))])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => (value === "" ? name : name + "=" + value))
    .join("&");
}

function timestamp(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}

export function parseXml(text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) throw new Error("The server sent malformed XML.");
  return doc;
}

/** Text of the first `tag` element under `node` ("" when there is none). */
export function xmlText(node, tag) {
  const el = node.getElementsByTagName(tag)[0];
  return el ? el.textContent : "";
}

export function xmlEscape(text) {
  return String(text).replace(/[<>&"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
}

/** The OssError of a failed response: from the XML body, or the x-oss-err header (HEAD). */
function errorOf(status, headers, body) {
  let xml = body;
  if (!xml && headers.get("x-oss-err")) {
    try {
      xml = atob(headers.get("x-oss-err"));
    } catch {
      xml = "";
    }
  }
  let code = "";
  let message = "";
  if (xml) {
    try {
      const doc = parseXml(xml);
      code = xmlText(doc, "Code");
      message = xmlText(doc, "Message");
    } catch {
      message = xml.slice(0, 300);
    }
  }
  return new OssError(status, code, message, headers.get("x-oss-request-id") || "", headers.get("x-oss-ec") || "");
}

export class Client {
  /** `region` is the V4 signing region (`cn-hangzhou`). */
  constructor(accessKeyId, secret, region) {
    this.accessKeyId = accessKeyId;
    this.secret = secret;
    this.region = region;
  }

  scope(date) {
    return date + "/" + this.region + "/oss/aliyun_v4_request";
  }

  async signature(canonicalRequest, stamp) {
    const date = stamp.slice(0, 8);
    const stringToSign = [ALGORITHM, stamp, this.scope(date), await sha256Hex(canonicalRequest)].join("\n");
    let key = await hmacSha256("aliyun_v4" + this.secret, date);
    for (const part of [this.region, "oss", "aliyun_v4_request"]) key = await hmacSha256(key, part);
    return hex(await hmacSha256(key, stringToSign));
  }

  /** URL and headers (Authorization included) of a signed request. */
  async sign(method, bucket, key, query = {}, headers = {}) {
    const stamp = timestamp(new Date());
    const all = { ...headers, "x-oss-date": stamp, "x-oss-content-sha256": UNSIGNED };
    const signed = Object.entries(all)
      .map(([name, value]) => [name.toLowerCase(), String(value).trim()])
      .filter(([name]) => name.startsWith("x-oss-") || name === "content-type" || name === "content-md5")
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const path = resourcePath(bucket, key);
    const qs = canonicalQuery(query);
    const canonical = [method, path, qs, signed.map(([n, v]) => n + ":" + v + "\n").join(""), "", UNSIGNED].join("\n");
    const signature = await this.signature(canonical, stamp);
    all.Authorization =
      ALGORITHM + " Credential=" + this.accessKeyId + "/" + this.scope(stamp.slice(0, 8)) + ",Signature=" + signature;
    return { url: path + (qs ? "?" + qs : ""), headers: all };
  }

  /** A presigned URL (absolute) valid for `expires` seconds. */
  async presign(method, bucket, key, expires, query = {}) {
    const stamp = timestamp(new Date());
    const q = {
      ...query,
      "x-oss-signature-version": ALGORITHM,
      "x-oss-credential": this.accessKeyId + "/" + this.scope(stamp.slice(0, 8)),
      "x-oss-date": stamp,
      "x-oss-expires": String(expires),
    };
    const path = resourcePath(bucket, key);
    const qs = canonicalQuery(q);
    const signature = await this.signature([method, path, qs, "", "", UNSIGNED].join("\n"), stamp);
    return location.origin + path + "?" + qs + "&x-oss-signature=" + signature;
  }

  /**
   * A signed fetch. Resolves to the Response when it is a success, else throws the
   * server's OssError. `body` strings and Blobs need a `content-type` header (signed).
   */
  async request(method, { bucket = "", key = "", query = {}, headers = {}, body } = {}) {
    const { url, headers: signedHeaders } = await this.sign(method, bucket, key, query, headers);
    let response;
    try {
      response = await fetch(url, { method, headers: signedHeaders, body, cache: "no-store", credentials: "omit" });
    } catch (e) {
      throw new OssError(0, "NetworkError", "The server could not be reached: " + e.message);
    }
    if (!response.ok) throw errorOf(response.status, response.headers, await response.text());
    return response;
  }

  async xml(method, options) {
    return parseXml(await (await this.request(method, options)).text());
  }

  /** XML body request: sets content-type, and Content-MD5 when `md5` is true. */
  async sendXml(method, options, text, md5 = false) {
    const headers = { ...(options.headers || {}), "content-type": "application/xml" };
    if (md5) headers["content-md5"] = md5Base64(text);
    return this.request(method, { ...options, headers, body: text });
  }

  /**
   * A signed XMLHttpRequest upload (fetch reports no upload progress). Resolves to
   * the XMLHttpRequest once it succeeded; `onProgress(loadedBytes)`; aborting `signal`
   * cancels it.
   */
  async upload(method, { bucket, key, query = {}, headers = {}, body, onProgress, signal }) {
    const cancelled = () => new OssError(0, "Cancelled", "The upload was cancelled.");
    if (signal && signal.aborted) throw cancelled();
    const { url, headers: signedHeaders } = await this.sign(method, bucket, key, query, headers);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (const [name, value] of Object.entries(signedHeaders)) xhr.setRequestHeader(name, value);
      if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
        else {
          const h = { get: (name) => xhr.getResponseHeader(name) };
          reject(errorOf(xhr.status, h, xhr.responseText));
        }
      };
      xhr.onerror = () => reject(new OssError(0, "NetworkError", "The upload failed (network error)."));
      xhr.onabort = () => reject(cancelled());
      if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  }
}
