// Shared helpers of the ali-oss tests. tests/sdk/test_ali_oss.py runs each *.test.mjs
// with `node --test` against the pytest session server and passes it:
//   OSSIFY_PORT            port of the oss-cn-hangzhou listener on 127.0.0.1
//   OSSIFY_REGION          oss-cn-hangzhou
//   OSSIFY_SIGNING         v1 (ali-oss's default) or v4 (authorizationV4: true)
//   OSSIFY_ADDRESSING      path: endpoint http://localhost:<port> with sldEnable (path style)
//                          ip:   endpoint http://127.0.0.1:<port>; ali-oss then sends
//                                Host: <bucket>.oss-cn-hangzhou.aliyuncs.com
//   OSSIFY_ACCESS_KEY_ID / OSSIFY_ACCESS_KEY_SECRET            root of account 1
//   OSSIFY_OTHER_ACCESS_KEY_ID / OSSIFY_OTHER_ACCESS_KEY_SECRET root of account 2
//   OSSIFY_OWNER_ID        account 1's id (the Owner ID in listings and ACLs)
//   OSSIFY_BUCKET_PREFIX   fresh for each run; tests append their own tag
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import OSS from 'ali-oss';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through tests/sdk/test_ali_oss.py`);
  return v;
}

export const PORT = need('OSSIFY_PORT');
export const REGION = need('OSSIFY_REGION');
export const SIGNING = need('OSSIFY_SIGNING');
export const ADDRESSING = need('OSSIFY_ADDRESSING');
export const ROOT = { id: need('OSSIFY_ACCESS_KEY_ID'), secret: need('OSSIFY_ACCESS_KEY_SECRET') };
export const OTHER = { id: need('OSSIFY_OTHER_ACCESS_KEY_ID'), secret: need('OSSIFY_OTHER_ACCESS_KEY_SECRET') };
export const OWNER_ID = need('OSSIFY_OWNER_ID');
const PREFIX = need('OSSIFY_BUCKET_PREFIX');

/** Options that address the server in the given style (see the header). */
export function addressing(style = ADDRESSING) {
  if (style === 'path') return { endpoint: `http://localhost:${PORT}`, sldEnable: true };
  if (style === 'ip') return { endpoint: `http://127.0.0.1:${PORT}` };
  throw new Error(`OSSIFY_ADDRESSING=${style}: use path or ip`);
}

/** An ali-oss client of the test server (root of account 1 unless `keys`). */
export function client({ bucket, keys = ROOT, style = ADDRESSING, ...extra } = {}) {
  return new OSS({
    accessKeyId: keys.id,
    accessKeySecret: keys.secret,
    region: REGION,
    authorizationV4: SIGNING === 'v4',
    ...addressing(style),
    ...(bucket ? { bucket } : {}),
    ...extra,
  });
}

let counter = 0;
/** A bucket name unique in this run. */
export function bucketName(tag) {
  counter += 1;
  return `${PREFIX}-${counter}-${tag}`.slice(0, 63).replace(/-+$/, '');
}

/** Create a fresh bucket and return a client bound to it. */
export async function newBucket(tag, options = {}) {
  const name = bucketName(tag);
  const r = await client().putBucket(name, options);
  assert.equal(r.res.status, 200);
  assert.equal(r.bucket, name);
  return client({ bucket: name });
}

/** Delete every version, upload and object of the client's bucket, then the bucket. */
export async function removeBucket(c) {
  const name = c.options.bucket;
  const uploads = await c.listUploads({ 'max-uploads': 1000 });
  for (const u of uploads.uploads) await c.abortMultipartUpload(u.name, u.uploadId);
  let keyMarker;
  let versionIdMarker;
  for (;;) {
    const q = { 'max-keys': 1000 };
    if (keyMarker !== undefined) Object.assign(q, { keyMarker, versionIdMarker });
    const v = await c.getBucketVersions(q);
    for (const o of [...v.objects, ...v.deleteMarker]) {
      await c.delete(o.name, { versionId: o.versionId });
    }
    if (!v.nextMarker) break;
    keyMarker = v.nextMarker;
    versionIdMarker = v.NextVersionIdMarker;
  }
  await c.deleteBucket(name);
}

/** The error an async call throws (fails when it resolves). */
export async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the request succeeded; an OSS error was expected');
}

/** Check the parts of an OSS error that ali-oss exposes: `status`, `code`, `name`,
 * the request id, and (from an error body) the message and EC. */
export function assertOssError(err, { status, code, message, ec }) {
  assert.equal(err.status, status, `status of ${err.name}: ${err.message}`);
  assert.equal(err.code, code, `code of ${err.name}: ${err.message}`);
  assert.equal(err.name, `${code}Error`);
  assert.match(err.requestId, /^[0-9A-F]{24}$/);
  if (message !== undefined) {
    // ali-oss appends request details to the body's <Message>.
    assert.ok(err.message.startsWith(message), `message "${err.message}" should start with "${message}"`);
  }
  if (ec !== undefined) assert.equal(err.ecCode, ec);
}

export const md5Hex = data => crypto.createHash('md5').update(data).digest('hex').toUpperCase();
export const md5B64 = data => crypto.createHash('md5').update(data).digest('base64');

/** A quoted upper-case MD5, as OSS writes the ETag of a plain upload. */
export const etagOf = data => `"${md5Hex(data)}"`;

// CRC-64/ECMA-182 as OSS reports it in x-oss-hash-crc64ecma (reflected, init and xorout
// all ones), a decimal string.
const CRC64_TABLE = (() => {
  const poly = 0xc96c5795d7870f42n;
  const t = [];
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t.push(c);
  }
  return t;
})();
export function crc64(data) {
  const mask = 0xffffffffffffffffn;
  let c = mask;
  for (const b of data) c = CRC64_TABLE[Number((c ^ BigInt(b)) & 0xffn)] ^ (c >> 8n);
  return ((c ^ mask) & mask).toString();
}

/** Deterministic pseudo-random bytes. */
export function bytes(n, seed = 1) {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** An RGB PNG of `width` x `height`, left half red, right half blue. */
export function png(width, height) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set(x < width / 2 ? [255, 0, 0] : [0, 0, 255], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** Width and height from a PNG's IHDR. */
export function pngSize(data) {
  assert.deepEqual([...data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}
