// Bucket configuration through ali-oss: CORS (and a preflight), lifecycle (with expiry by
// the sweeper), bucket policy, bucket tags, referer (hotlink protection) and versioning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OTHER, OWNER_ID, client, newBucket, removeBucket, rejection, assertOssError, etagOf,
} from './lib.mjs';

/** The URL of an object by path, for requests made without ali-oss. */
function plainUrl(c, key) {
  const base = client({ style: 'path' }).options.endpoint.format().replace(/\/$/, '');
  return `${base}/${c.options.bucket}/${encodeURIComponent(key)}`;
}

async function withBucket(tag, fn, options) {
  const c = await newBucket(tag, options);
  try {
    await fn(c, c.options.bucket);
  } finally {
    await removeBucket(c);
  }
}

test('CORS: putBucketCORS, getBucketCORS, preflight, deleteBucketCORS', () => withBucket('cors', async (c, name) => {
  const root = client();
  const noCors = await rejection(root.getBucketCORS(name));
  assertOssError(noCors, { status: 404, code: 'NoSuchCORSConfiguration' });
  assert.equal(noCors.message, 'The CORS Configuration does not exist.');
  const put = await root.putBucketCORS(name, [
    {
      allowedOrigin: ['http://*.test', 'https://app.example'],
      allowedMethod: ['GET', 'PUT'],
      allowedHeader: ['x-oss-*', 'content-type'],
      exposeHeader: ['ETag', 'x-oss-request-id'],
      maxAgeSeconds: '60',
    },
    { allowedOrigin: '*', allowedMethod: 'HEAD' },
  ]);
  assert.equal(put.res.status, 200);
  const got = await root.getBucketCORS(name);
  assert.deepEqual(got.rules, [
    {
      allowedOrigin: ['http://*.test', 'https://app.example'],
      allowedMethod: ['GET', 'PUT'],
      allowedHeader: ['x-oss-*', 'content-type'],
      exposeHeader: ['ETag', 'x-oss-request-id'],
      maxAgeSeconds: '60',
    },
    { allowedOrigin: '*', allowedMethod: 'HEAD' },
  ]);

  const url = plainUrl(c, 'k');
  const ok = await fetch(url, {
    method: 'OPTIONS',
    headers: {
      Origin: 'http://app.test',
      'Access-Control-Request-Method': 'PUT',
      'Access-Control-Request-Headers': 'x-oss-meta-a, content-type',
    },
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://app.test');
  assert.equal(ok.headers.get('access-control-allow-methods'), 'GET, PUT');
  assert.equal(ok.headers.get('access-control-max-age'), '60');
  const refused = await fetch(url, {
    method: 'OPTIONS',
    headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' },
  });
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /<Code>AccessForbidden<\/Code>/);

  // An SDK request from an allowed origin gets the CORS headers.
  await c.put('k', Buffer.from('v'));
  const get = await c.get('k', { headers: { Origin: 'https://app.example' } });
  assert.equal(get.res.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(get.res.headers['access-control-expose-headers'], 'ETag, x-oss-request-id');

  assert.equal((await root.deleteBucketCORS(name)).res.status, 204);
  assertOssError(await rejection(root.getBucketCORS(name)), {
    status: 404, code: 'NoSuchCORSConfiguration', message: 'The CORS Configuration does not exist.',
  });
}));

test('lifecycle: put, get, expiry by date, delete, bad rules', () => withBucket('lifecycle', async (c, name) => {
  const root = client();
  assertOssError(await rejection(root.getBucketLifecycle(name)), { status: 404, code: 'NoSuchLifecycle' });
  await c.put('logs/old', Buffer.from('x'));
  await c.put('keep', Buffer.from('y'));
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  const put = await root.putBucketLifecycle(name, [
    { id: 'expire-logs', prefix: 'logs/', status: 'Enabled', expiration: { createdBeforeDate: `${tomorrow}T00:00:00.000Z` } },
    { id: 'later', prefix: 'archive/', status: 'Enabled', expiration: { days: 30 } },
    { id: 'uploads', prefix: 'tmp/', status: 'Disabled', abortMultipartUpload: { days: 1 } },
    { id: 'tagged', prefix: 'tagged/', status: 'Enabled', tag: [{ key: 'stage', value: 'done' }], expiration: { days: 7 } },
  ]);
  assert.equal(put.res.status, 200);
  const got = await root.getBucketLifecycle(name);
  assert.deepEqual(got.rules, [
    { id: 'expire-logs', prefix: 'logs/', status: 'Enabled', expiration: { createdBeforeDate: `${tomorrow}T00:00:00.000Z` } },
    { id: 'later', prefix: 'archive/', status: 'Enabled', expiration: { days: '30' } },
    { id: 'uploads', prefix: 'tmp/', status: 'Disabled', abortMultipartUpload: { days: '1' } },
    { id: 'tagged', prefix: 'tagged/', status: 'Enabled', tag: [{ key: 'stage', value: 'done' }], expiration: { days: '7' } },
  ]);

  // The test server sweeps every second.
  const deadline = Date.now() + 10000;
  let gone = false;
  while (!gone && Date.now() < deadline) {
    try {
      await c.head('logs/old');
      await new Promise(r => setTimeout(r, 300));
    } catch (err) {
      assert.equal(err.status, 404);
      gone = true;
    }
  }
  assert.equal(gone, true, 'logs/old was not expired within 10 s');
  assert.equal((await c.get('keep')).content.toString(), 'y');

  assert.equal((await root.deleteBucketLifecycle(name)).res.status, 204);
  assertOssError(await rejection(root.getBucketLifecycle(name)), { status: 404, code: 'NoSuchLifecycle' });

  // Two rules with one ID: refused, nothing stored.
  const dup = await rejection(root.putBucketLifecycle(name, [
    { id: 'same', prefix: 'a/', status: 'Enabled', expiration: { days: 1 } },
    { id: 'same', prefix: 'b/', status: 'Enabled', expiration: { days: 1 } },
  ]));
  assertOssError(dup, { status: 400, code: 'InvalidArgument' });
  assertOssError(await rejection(root.getBucketLifecycle(name)), { status: 404, code: 'NoSuchLifecycle' });
}));

/** ali-oss's getBucketPolicy resolves on any status: a 404 is `policy: null`. */
async function assertNoPolicy(root, name) {
  const none = await root.getBucketPolicy(name);
  assert.equal(none.status, 404);
  assert.equal(none.policy, null);
  assert.match(none.res.data.toString(), /<Code>NoSuchBucketPolicy<\/Code>/);
}

test('bucket policy: put, get, effect on another account, delete', () => withBucket('policy', async (c, name) => {
  const root = client();
  await c.put('shared/a', Buffer.from('shared'));
  await c.put('private/b', Buffer.from('private'));
  const other = client({ bucket: name, keys: OTHER });
  assertOssError(await rejection(other.get('shared/a')), { status: 403, code: 'AccessDenied' });
  await assertNoPolicy(root, name);

  const policy = {
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['oss:GetObject'],
        Principal: ['1000000000000002'],
        Resource: [`acs:oss:*:*:${name}/shared/*`],
      },
    ],
  };
  const put = await root.putBucketPolicy(name, policy);
  assert.equal(put.status, 200);
  const got = await root.getBucketPolicy(name);
  assert.equal(got.status, 200);
  assert.deepEqual(got.policy, policy);
  assert.equal((await other.get('shared/a')).content.toString(), 'shared');
  assertOssError(await rejection(other.get('private/b')), { status: 403, code: 'AccessDenied' });

  const bad = await rejection(root.putBucketPolicy(name, { Version: '1', Statement: [{ Effect: 'Perhaps' }] }));
  assertOssError(bad, { status: 400, code: 'InvalidPolicyDocument' });
  assert.deepEqual((await root.getBucketPolicy(name)).policy, policy);

  assert.equal((await root.deleteBucketPolicy(name)).status, 204);
  await assertNoPolicy(root, name);
  assertOssError(await rejection(other.get('shared/a')), { status: 403, code: 'AccessDenied' });
}));

test('bucket tags: putBucketTags, getBucketTags, deleteBucketTags, listBuckets by tag', () => withBucket('tags', async (c, name) => {
  const root = client();
  const empty = await root.getBucketTags(name);
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.tag, {});
  // ali-oss writes tags into the XML unescaped, so no '&' or '<' here.
  const put = await root.putBucketTags(name, { team: 'storage', 'cost center': 'r+d/1' });
  assert.equal(put.status, 200);
  assert.deepEqual((await root.getBucketTags(name)).tag, { team: 'storage', 'cost center': 'r+d/1' });

  const listed = await root.listBuckets({ prefix: name, 'tag-key': 'team', 'tag-value': 'storage' });
  assert.deepEqual(listed.buckets.map(b => b.name), [name]);
  const none = await root.listBuckets({ prefix: name, 'tag-key': 'team', 'tag-value': 'other' });
  assert.equal(none.buckets, null);

  // A replacement replaces the whole set.
  await root.putBucketTags(name, { only: 'one' });
  assert.deepEqual((await root.getBucketTags(name)).tag, { only: 'one' });

  const bad = await rejection(root.putBucketTags(name, { 'aliyun-reserved': 'x' }));
  assertOssError(bad, { status: 400, code: 'InvalidTag', ec: '0010-00000207' });
  assert.deepEqual((await root.getBucketTags(name)).tag, { only: 'one' });

  const del = await root.deleteBucketTags(name);
  assert.equal(del.status, 204);
  assert.deepEqual((await root.getBucketTags(name)).tag, {});

  const other = client({ keys: OTHER });
  assertOssError(await rejection(other.getBucketTags(name)), { status: 403, code: 'AccessDenied' });
}));

test('referer: putBucketReferer, getBucketReferer, presigned reads checked', () => withBucket('referer', async (c, name) => {
  const root = client();
  const initial = await root.getBucketReferer(name);
  assert.equal(initial.allowEmpty, true);
  assert.equal(initial.referers, null);

  const put = await root.putBucketReferer(name, false, ['https://good.example', 'https://*.cdn.example']);
  assert.equal(put.res.status, 200);
  const got = await root.getBucketReferer(name);
  assert.equal(got.allowEmpty, false);
  assert.deepEqual(got.referers, ['https://good.example', 'https://*.cdn.example']);

  await c.put('pic.txt', Buffer.from('protected'));
  // Requests signed in a header are never checked.
  assert.equal((await c.get('pic.txt')).content.toString(), 'protected');
  // Presigned URLs are.
  const signed = client({ bucket: name, style: 'path' });
  const url = signed.signatureUrl('pic.txt', { expires: 600 });
  const good = await fetch(url, { headers: { Referer: 'https://img.cdn.example/page' } });
  assert.equal(good.status, 200);
  assert.equal(await good.text(), 'protected');
  const badRef = await fetch(url, { headers: { Referer: 'https://evil.example/' } });
  assert.equal(badRef.status, 403);
  const body = await badRef.text();
  assert.match(body, /<Code>AccessDenied<\/Code>/);
  assert.match(body, /<Message>You are denied by bucket referer policy.<\/Message>/);
  assert.match(body, /<EC>0003-00000503<\/EC>/);
  const noRef = await fetch(url);
  assert.equal(noRef.status, 403);
  assert.match(await noRef.text(), /<EC>0003-00000501<\/EC>/);

  await root.putBucketReferer(name, true, []);
  const cleared = await root.getBucketReferer(name);
  assert.equal(cleared.allowEmpty, true);
  assert.equal(cleared.referers, null);
  assert.equal((await fetch(url)).status, 200);
}));

test('versioning: enable, versions on put, get/head/delete by versionId, getBucketVersions', () => withBucket('versions', async (c, name) => {
  const root = client();
  const initial = await root.getBucketVersioning(name);
  assert.equal(initial.status, 200);
  assert.equal(initial.versionStatus, undefined);

  assert.equal((await root.putBucketVersioning(name, 'Enabled')).status, 200);
  assert.equal((await root.getBucketVersioning(name)).versionStatus, 'Enabled');

  const v1 = await c.put('doc.txt', Buffer.from('first'));
  const v2 = await c.put('doc.txt', Buffer.from('second'));
  const id1 = v1.res.headers['x-oss-version-id'];
  const id2 = v2.res.headers['x-oss-version-id'];
  assert.equal(typeof id1, 'string');
  assert.ok(id1.length > 0);
  assert.notEqual(id1, id2);

  const latest = await c.get('doc.txt');
  assert.equal(latest.content.toString(), 'second');
  assert.equal(latest.res.headers['x-oss-version-id'], id2);
  const old = await c.get('doc.txt', { versionId: id1 });
  assert.equal(old.content.toString(), 'first');
  assert.equal(old.res.headers['x-oss-version-id'], id1);
  const oldHead = await c.head('doc.txt', { versionId: id1 });
  assert.equal(oldHead.res.headers.etag, etagOf(Buffer.from('first')));

  // A plain delete leaves a delete marker; the versions stay.
  const del = await c.delete('doc.txt');
  assert.equal(del.res.status, 204);
  assert.equal(del.res.headers['x-oss-delete-marker'], 'true');
  const markerId = del.res.headers['x-oss-version-id'];
  assert.equal(typeof markerId, 'string');
  const hidden = await rejection(c.get('doc.txt'));
  assertOssError(hidden, { status: 404, code: 'NoSuchKey' });
  assert.equal((await c.get('doc.txt', { versionId: id1 })).content.toString(), 'first');
  // The marker named by its versionId cannot be read: 405 (HEAD too).
  const marker = await rejection(c.get('doc.txt', { versionId: markerId }));
  assertOssError(marker, {
    status: 405, code: 'MethodNotAllowed', message: 'The specified method is not allowed against this resource.', ec: '0017-00000002',
  });
  assert.equal((await rejection(c.head('doc.txt', { versionId: markerId }))).status, 405);

  const versions = await c.getBucketVersions({ prefix: 'doc.txt' });
  assert.equal(versions.res.status, 200);
  assert.deepEqual(
    versions.objects.map(o => [o.name, o.versionId, o.isLatest, o.size, o.etag]),
    [
      ['doc.txt', id2, false, 6, etagOf(Buffer.from('second'))],
      ['doc.txt', id1, false, 5, etagOf(Buffer.from('first'))],
    ],
  );
  assert.deepEqual(versions.deleteMarker.map(m => [m.name, m.versionId]), [['doc.txt', markerId]]);
  assert.equal(versions.objects[0].owner.id, OWNER_ID);

  // Deleting the marker by id brings the latest version back.
  const unmark = await c.delete('doc.txt', { versionId: markerId });
  assert.equal(unmark.res.status, 204);
  assert.equal(unmark.res.headers['x-oss-delete-marker'], 'true');
  assert.equal(unmark.res.headers['x-oss-version-id'], markerId);
  assert.equal((await c.get('doc.txt')).content.toString(), 'second');

  // Deleting a version by id removes it for good.
  const drop = await c.delete('doc.txt', { versionId: id2 });
  assert.equal(drop.res.status, 204);
  assert.equal(drop.res.headers['x-oss-version-id'], id2);
  assert.equal((await c.get('doc.txt')).content.toString(), 'first');
  const after = await c.getBucketVersions({ prefix: 'doc.txt' });
  assert.deepEqual(after.objects.map(o => [o.versionId, o.isLatest]), [[id1, true]]);
  assert.deepEqual(after.deleteMarker, []);

  // ossify's version ids are 32 hex digits: one of that form that does not exist is
  // NoSuchVersion, anything else InvalidArgument (never a read of the current version).
  const unknownId = id1.replace(/.$/, d => (d === '0' ? '1' : '0'));
  assertOssError(await rejection(c.get('doc.txt', { versionId: unknownId })), {
    status: 404, code: 'NoSuchVersion', message: 'The specified version does not exist.',
  });
  assertOssError(await rejection(c.get('doc.txt', { versionId: 'not-a-version' })), {
    status: 400, code: 'InvalidArgument', message: 'Invalid version id specified',
  });
  assertOssError(await rejection(c.head('doc.txt', { versionId: 'not-a-version' })), {
    status: 400, code: 'InvalidArgument',
  });

  // copy from a version, deleteMulti of versions and of a current object.
  const copied = await c.copy('doc-copy.txt', 'doc.txt', { versionId: id1 });
  assert.equal(copied.data.etag, etagOf(Buffer.from('first')));
  const copyId = copied.res.headers['x-oss-version-id'];
  assert.match(copyId, /^[0-9a-f]{32}$/);
  assert.equal((await c.get('doc-copy.txt')).content.toString(), 'first');
  const multi = await c.deleteMulti([{ key: 'doc-copy.txt', versionId: copyId }, 'doc.txt']);
  const byKey = Object.fromEntries(multi.deleted.map(d => [d.Key, d]));
  assert.equal(byKey['doc-copy.txt'].VersionId, copyId);
  assert.equal(byKey['doc-copy.txt'].DeleteMarker, undefined);
  assert.equal(byKey['doc.txt'].DeleteMarker, 'true');
  assert.match(byKey['doc.txt'].DeleteMarkerVersionId, /^[0-9a-f]{32}$/);
  assertOssError(await rejection(c.get('doc-copy.txt', { versionId: copyId })), {
    status: 404, code: 'NoSuchVersion',
  });
  assertOssError(await rejection(c.get('doc.txt')), { status: 404, code: 'NoSuchKey' });
  await c.delete('doc.txt', { versionId: byKey['doc.txt'].DeleteMarkerVersionId });
  assert.equal((await c.get('doc.txt')).content.toString(), 'first');

  assert.equal((await root.putBucketVersioning(name, 'Suspended')).status, 200);
  assert.equal((await root.getBucketVersioning(name)).versionStatus, 'Suspended');
  const suspended = await c.put('doc.txt', Buffer.from('third'));
  assert.equal(suspended.res.headers['x-oss-version-id'], 'null');
}));
