// Presigned URLs from ali-oss (signatureUrl, asyncSignatureUrl, signatureUrlV4) used by a
// plain HTTP client, browser form uploads signed by calculatePostSignature and
// signPostObjectPolicyV4, image processing on GET (the result cache, HEIC/AVIF sources), and
// processObjectSave (sys/saveas).
// ali-oss refuses to presign for an IP endpoint, so URLs always come from a path-style
// client on http://localhost:<port>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import signUtils from 'ali-oss/lib/common/signUtils.js';
import {
  client, newBucket, removeBucket, rejection, assertOssError, etagOf, png, pngSize,
} from './lib.mjs';

const PNG = png(20, 10);

let c; // the file's bucket, in the run's addressing style
let signer; // the same bucket, path style (for presigned URLs)

before(async () => {
  c = await newBucket('urls');
  signer = client({ bucket: c.options.bucket, style: 'path' });
  await c.put('img/pic.png', PNG);
  await c.put('text.txt', Buffer.from('presigned body'), { mime: 'text/plain' });
});

after(async () => {
  if (c) await removeBucket(c);
});

test('signatureUrl GET: plain, with response overrides, expired, tampered', async () => {
  const url = signer.signatureUrl('text.txt', { expires: 600 });
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'presigned body');
  assert.equal(r.headers.get('content-type'), 'text/plain');
  assert.equal(r.headers.get('etag'), etagOf(Buffer.from('presigned body')));

  const overridden = signer.signatureUrl('text.txt', {
    response: { 'content-type': 'application/x-download', 'content-disposition': 'attachment; filename="t.txt"' },
  });
  const o = await fetch(overridden);
  assert.equal(o.status, 200);
  assert.equal(o.headers.get('content-type'), 'application/x-download');
  assert.equal(o.headers.get('content-disposition'), 'attachment; filename="t.txt"');

  const expired = await fetch(signer.signatureUrl('text.txt', { expires: -60 }));
  assert.equal(expired.status, 403);
  const body = await expired.text();
  assert.match(body, /<Code>AccessDenied<\/Code>/);
  assert.match(body, /<Message>Request has expired.<\/Message>/);

  const tampered = await fetch(url.replace('text.txt', 'img/pic.png'));
  assert.equal(tampered.status, 403);
  assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

  const missing = await fetch(signer.signatureUrl('absent.txt'));
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /<Code>NoSuchKey<\/Code>/);

  const async = await fetch(await signer.asyncSignatureUrl('text.txt', { expires: 60 }));
  assert.equal(async.status, 200);
  assert.equal(await async.text(), 'presigned body');
});

test('signatureUrl PUT with Content-Type and a signed x-oss-meta header', async () => {
  const url = signer.signatureUrl('uploaded.png', {
    method: 'PUT',
    'Content-Type': 'image/png',
    'x-oss-meta-source': 'browser',
  });
  const r = await fetch(url, {
    method: 'PUT',
    body: PNG,
    headers: { 'Content-Type': 'image/png', 'x-oss-meta-source': 'browser' },
  });
  assert.equal(r.status, 200, await r.text());
  assert.equal(r.headers.get('etag'), etagOf(PNG));
  const got = await c.get('uploaded.png');
  assert.deepEqual(got.content, PNG);
  assert.equal(got.res.headers['content-type'], 'image/png');
  assert.equal(got.res.headers['x-oss-meta-source'], 'browser');

  // Another Content-Type than the one signed: refused, nothing changed.
  const wrong = await fetch(url, {
    method: 'PUT',
    body: Buffer.from('not a png'),
    headers: { 'Content-Type': 'text/plain', 'x-oss-meta-source': 'browser' },
  });
  assert.equal(wrong.status, 403);
  assert.match(await wrong.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  assert.deepEqual((await c.get('uploaded.png')).content, PNG);
});

/** POST a form to the bucket (fields in order, the file last, as OSS requires). The
 * body goes in one write, as a buffer, unless `streamed`. */
async function postForm(fields, body = 'form body', { streamed = false } = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([body], { type: 'text/plain' }), 'hello.txt');
  const url = `${signer.options.endpoint.format().replace(/\/$/, '')}/${c.options.bucket}`;
  if (streamed) return fetch(url, { method: 'POST', body: form, redirect: 'manual' });
  const encoded = new Request(url, { method: 'POST', body: form });
  return fetch(url, {
    method: 'POST',
    body: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'Content-Type': encoded.headers.get('content-type') },
    redirect: 'manual',
  });
}

// A form refused before its body is read: the server drains the rest of the body
// before closing (lingering close, as OSS behind Tengine does), so fetch (undici),
// still streaming the body, gets the 403 rather than EPIPE/RST ("fetch failed").
test('a refused form streamed by fetch gets its 403', async () => {
  const policy = {
    expiration: new Date(Date.now() + 600000).toISOString(),
    conditions: [['starts-with', '$key', 'form/']],
  };
  const signed = signer.calculatePostSignature(policy);
  for (let i = 0; i < 20; i++) {
    const refused = await postForm({ key: `elsewhere/${i}`, ...signed }, 'x', { streamed: true });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
  }
});

test('PostObject with a V1 policy from calculatePostSignature', async () => {
  const policy = {
    expiration: new Date(Date.now() + 600000).toISOString(),
    conditions: [{ bucket: c.options.bucket }, ['starts-with', '$key', 'form/'], ['content-length-range', 1, 100]],
  };
  const signed = signer.calculatePostSignature(policy);
  assert.deepEqual(Object.keys(signed), ['OSSAccessKeyId', 'Signature', 'policy']);
  const r = await postForm({
    key: 'form/${filename}', success_action_status: '201', 'x-oss-meta-from': 'form', ...signed,
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  assert.match(text, /<Key>form\/hello.txt<\/Key>/);
  assert.equal(r.headers.get('etag'), etagOf(Buffer.from('form body')));
  const got = await c.get('form/hello.txt');
  assert.equal(got.content.toString(), 'form body');
  assert.equal(got.res.headers['x-oss-meta-from'], 'form');
  assert.equal(got.res.headers['content-type'], 'text/plain');

  // The policy's conditions hold: another prefix and a body over 100 bytes are refused.
  for (const [key, body] of [['elsewhere/x', 'x'], ['form/big', 'x'.repeat(101)]]) {
    const refused = await postForm({ key, ...signed }, body);
    assert.equal(refused.status, 403, key);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
  }
  assertOssError(await rejection(c.head('form/big')), { status: 404, code: 'NoSuchKey' });
});

test('PostObject with a V4 policy from signPostObjectPolicyV4', async () => {
  const date = new Date();
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const credential = signUtils.getCredential(stamp.slice(0, 8), 'cn-hangzhou', signer.options.accessKeyId);
  const policy = {
    expiration: new Date(date.getTime() + 600000).toISOString(),
    conditions: [
      { bucket: c.options.bucket },
      { 'x-oss-credential': credential },
      { 'x-oss-date': stamp },
      { 'x-oss-signature-version': 'OSS4-HMAC-SHA256' },
      ['eq', '$success_action_status', '200'],
      ['in', '$content-type', ['text/plain', 'image/png']],
    ],
  };
  const fields = {
    key: 'form/v4.txt',
    'Content-Type': 'text/plain',
    success_action_status: '200',
    'x-oss-date': stamp,
    'x-oss-credential': credential,
    'x-oss-signature-version': 'OSS4-HMAC-SHA256',
    policy: Buffer.from(JSON.stringify(policy)).toString('base64'),
    'x-oss-signature': signer.signPostObjectPolicyV4(policy, date),
  };
  const r = await postForm(fields, 'v4 form');
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal((await c.get('form/v4.txt')).content.toString(), 'v4 form');

  const wrongType = await postForm({ ...fields, key: 'form/v4-bad.txt', 'Content-Type': 'text/html' }, 'x');
  assert.equal(wrongType.status, 403);
  assert.match(await wrongType.text(), /<Code>AccessDenied<\/Code>/);
  const forged = await postForm({ ...fields, 'x-oss-signature': '0'.repeat(64) }, 'forged');
  assert.equal(forged.status, 403);
  assert.match(await forged.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  assert.equal((await c.get('form/v4.txt')).content.toString(), 'v4 form');
});

test('signatureUrl with process image/resize,w_10 on a PNG', async () => {
  const url = signer.signatureUrl('img/pic.png', { process: 'image/resize,w_10' });
  assert.match(url, /x-oss-process=image%2Fresize%2Cw_10/);
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  const out = Buffer.from(await r.arrayBuffer());
  assert.deepEqual(pngSize(out), { width: 10, height: 5 });

  const bad = await fetch(signer.signatureUrl('img/pic.png', { process: 'image/resize,w_0' }));
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /<Code>InvalidArgument<\/Code>/);
});

test('get with process, and image info as JSON', async () => {
  const r = await c.get('img/pic.png', { process: 'image/resize,h_5' });
  assert.equal(r.res.status, 200);
  assert.deepEqual(pngSize(r.content), { width: 10, height: 5 });
  const info = await c.get('img/pic.png', { process: 'image/info' });
  const json = JSON.parse(info.content.toString());
  assert.deepEqual(
    [json.ImageWidth.value, json.ImageHeight.value, json.Format.value, json.FileSize.value],
    ['20', '10', 'png', String(PNG.length)],
  );
  // HEIC output (x265 through libheif), read back by ossify's own HEIC reader.
  const heic = await c.get('img/pic.png', { process: 'image/format,heic' });
  assert.equal(heic.res.headers['content-type'], 'image/heic');
  assert.equal(heic.content.subarray(4, 12).toString(), 'ftypheic');
  await c.put('img/pic.heic', heic.content);
  const heicInfo = JSON.parse((await c.get('img/pic.heic', { process: 'image/info' })).content.toString());
  assert.deepEqual(
    [heicInfo.ImageWidth.value, heicInfo.ImageHeight.value, heicInfo.Format.value],
    ['20', '10', 'heic'],
  );
  // HEIC and AVIF sources (tests/fixtures: 320x200 photos) decode like JPEG.
  for (const name of ['photo.heic', 'photo.avif']) {
    const fixture = readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
    await c.put(`img/${name}`, fixture);
    const out = await c.get(`img/${name}`, { process: 'image/resize,w_100/format,png' });
    assert.equal(out.res.headers['content-type'], 'image/png', name);
    assert.deepEqual(pngSize(out.content), { width: 100, height: 63 }, name);
  }
});

test('processed results: a cache hit answers as the render did; a new watermark revalidates', async () => {
  await c.put('img/src.png', png(40, 20));
  await c.put('img/mark.png', png(8, 8));
  const mark = Buffer.from('img/mark.png').toString('base64url');
  const process = `image/watermark,image_${mark},g_nw,t_100`;
  const first = await c.get('img/src.png', { process });
  assert.equal(first.res.headers['x-ossify-image-cache'], 'miss');
  // The result is stored after the answer.
  let again;
  for (let i = 0; i < 200; i++) {
    again = await c.get('img/src.png', { process });
    if (again.res.headers['x-ossify-image-cache'] === 'hit') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(again.res.headers['x-ossify-image-cache'], 'hit');
  assert.deepEqual(again.content, first.content);
  for (const h of ['etag', 'content-type', 'content-length', 'last-modified']) {
    assert.equal(again.res.headers[h], first.res.headers[h], h);
  }
  const etag = first.res.headers.etag;
  const unchanged = await c.get('img/src.png', { process, headers: { 'If-None-Match': etag } });
  assert.equal(unchanged.res.status, 304);
  // Another watermark object: another result, and another ETag, so no 304.
  await c.put('img/mark.png', png(6, 6));
  const changed = await c.get('img/src.png', { process, headers: { 'If-None-Match': etag } });
  assert.equal(changed.res.status, 200);
  assert.equal(changed.res.headers['x-ossify-image-cache'], 'miss');
  assert.notEqual(changed.res.headers.etag, etag);
  assert.notDeepEqual(changed.content, first.content);
});

test('signatureUrlV4: GET with x-oss-process and PUT with a signed header', async () => {
  const getUrl = await signer.signatureUrlV4('GET', 600, { queries: { 'x-oss-process': 'image/resize,w_10' } }, 'img/pic.png');
  assert.match(getUrl, /x-oss-signature-version=OSS4-HMAC-SHA256/);
  const r = await fetch(getUrl);
  assert.equal(r.status, 200, await r.clone().text());
  assert.deepEqual(pngSize(Buffer.from(await r.arrayBuffer())), { width: 10, height: 5 });

  const putUrl = await signer.signatureUrlV4(
    'PUT', 600, { headers: { 'Content-Type': 'text/plain', 'x-oss-meta-v': '4' } }, 'v4-put.txt',
  );
  const put = await fetch(putUrl, {
    method: 'PUT',
    body: 'via v4 url',
    headers: { 'Content-Type': 'text/plain', 'x-oss-meta-v': '4' },
  });
  assert.equal(put.status, 200, await put.clone().text());
  const got = await c.get('v4-put.txt');
  assert.equal(got.content.toString(), 'via v4 url');
  assert.equal(got.res.headers['x-oss-meta-v'], '4');

  const wrongMeta = await fetch(putUrl, {
    method: 'PUT',
    body: 'forged',
    headers: { 'Content-Type': 'text/plain', 'x-oss-meta-v': '5' },
  });
  assert.equal(wrongMeta.status, 403);
  assert.match(await wrongMeta.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  assert.equal((await c.get('v4-put.txt')).content.toString(), 'via v4 url');
});

test('processObjectSave: same bucket, other bucket, and its errors', async () => {
  const r = await c.processObjectSave('img/pic.png', 'img/thumb.png', 'image/resize,w_10');
  assert.equal(r.status, 200);
  const thumb = await c.get('img/thumb.png');
  assert.deepEqual(pngSize(thumb.content), { width: 10, height: 5 });
  assert.equal(thumb.res.headers['content-type'], 'image/png');

  const other = await newBucket('saveas');
  try {
    const cross = await c.processObjectSave('img/pic.png', 'out/rotated.png', 'image/rotate,90', other.options.bucket);
    assert.equal(cross.status, 200);
    assert.deepEqual(pngSize((await other.get('out/rotated.png')).content), { width: 10, height: 20 });
  } finally {
    await removeBucket(other);
  }

  // ali-oss's processObjectSave resolves on any status, with the error body in res.data.
  const missing = await c.processObjectSave('img/absent.png', 'img/x.png', 'image/resize,w_10');
  assert.equal(missing.status, 404);
  assert.match(missing.res.data.toString(), /<Code>NoSuchKey<\/Code>/);
  const badStep = await c.processObjectSave('img/pic.png', 'img/y.png', 'image/resize,w_0');
  assert.equal(badStep.status, 400);
  assert.match(badStep.res.data.toString(), /<Code>InvalidArgument<\/Code>/);
  assertOssError(await rejection(c.head('img/y.png')), { status: 404, code: 'NoSuchKey' });
});
