// Buckets and objects through ali-oss: bucket lifecycle, put/get/head/delete, streams,
// listings, copy, append, symlinks, ACLs, tagging, deleteMulti and the errors ali-oss
// reports for them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  REGION, OWNER_ID, OTHER, ROOT, client, bucketName, newBucket, removeBucket, rejection,
  assertOssError, etagOf, md5B64, crc64, bytes,
} from './lib.mjs';

let c; // client bound to this file's bucket

before(async () => {
  c = await newBucket('objects');
});

after(async () => {
  if (c) await removeBucket(c);
});

test('bucket: create, list, info, location, ACL, delete', async () => {
  const root = client();
  const name = bucketName('lifecycle');
  const created = await root.putBucket(name, { StorageClass: 'IA', acl: 'public-read' });
  assert.equal(created.res.status, 200);
  assert.equal(created.res.headers.location, `/${name}`);

  const listed = await root.listBuckets({ prefix: name });
  assert.equal(listed.res.status, 200);
  assert.deepEqual(listed.buckets.map(b => [b.name, b.region, b.StorageClass]), [[name, REGION, 'IA']]);
  assert.equal(listed.owner.id, OWNER_ID);
  assert.equal(listed.isTruncated, false);

  const info = await root.getBucketInfo(name);
  assert.equal(info.bucket.Name, name);
  assert.equal(info.bucket.Location, REGION);
  assert.equal(info.bucket.StorageClass, 'IA');
  assert.equal(info.bucket.AccessControlList.Grant, 'public-read');
  assert.equal(info.bucket.Owner.ID, OWNER_ID);

  const loc = await root.getBucketLocation(name);
  assert.equal(loc.location, REGION);

  assert.equal((await root.getBucketACL(name)).acl, 'public-read');
  assert.equal((await root.putBucketACL(name, 'private')).res.status, 200);
  const acl = await root.getBucketACL(name);
  assert.equal(acl.acl, 'private');
  assert.equal(acl.owner.id, OWNER_ID);

  // Re-creating one's own bucket is 200; another account's name is taken.
  assert.equal((await root.putBucket(name)).res.status, 200);
  const taken = await rejection(client({ keys: OTHER }).putBucket(name));
  assertOssError(taken, { status: 409, code: 'BucketAlreadyExists', ec: '0015-00000104' });

  const deleted = await root.deleteBucket(name);
  assert.equal(deleted.res.status, 204);
  const gone = await rejection(root.getBucketInfo(name));
  assertOssError(gone, {
    status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist.', ec: '0015-00000101',
  });
  // An empty <Buckets/> is null to ali-oss.
  assert.equal((await root.listBuckets({ prefix: name })).buckets, null);
});

test('bucket: listBuckets pages with max-keys and marker; getBucketStat', async () => {
  const root = client();
  const prefix = `${bucketName('page')}-`;
  const names = [`${prefix}a`, `${prefix}b`];
  for (const n of names) await root.putBucket(n);
  const [b1, b2] = names.map(bucket => client({ bucket }));
  try {
    const first = await root.listBuckets({ prefix, 'max-keys': 1 });
    assert.deepEqual(first.buckets.map(b => b.name), [names[0]]);
    assert.equal(first.isTruncated, true);
    assert.equal(first.nextMarker, names[0]);
    const second = await root.listBuckets({ prefix, 'max-keys': 1, marker: first.nextMarker });
    assert.deepEqual(second.buckets.map(b => b.name), [names[1]]);
    assert.equal(second.isTruncated, false);

    await b1.put('a', Buffer.from('12345'));
    await b1.put('b', Buffer.from('123'));
    await b1.initMultipartUpload('pending');
    const stat = await root.getBucketStat(b1.options.bucket);
    assert.equal(stat.res.status, 200);
    assert.equal(stat.stat.Storage, '8');
    assert.equal(stat.stat.ObjectCount, '2');
    assert.equal(stat.stat.MultipartUploadCount, '1');
  } finally {
    await removeBucket(b1);
    await removeBucket(b2);
  }
});

test('bucket: putBucketACL on a missing bucket creates it with that ACL', async () => {
  const root = client();
  const name = bucketName('aclnew');
  const put = await root.putBucketACL(name, 'public-read');
  assert.equal(put.res.status, 200);
  assert.equal(put.bucket, name);
  try {
    assert.equal((await root.getBucketACL(name)).acl, 'public-read');
    const info = await root.getBucketInfo(name);
    assert.equal(info.bucket.StorageClass, 'Standard');
    assert.equal(info.bucket.Owner.ID, OWNER_ID);
  } finally {
    await root.deleteBucket(name);
  }
});

test('bucket: deleting a bucket with objects is BucketNotEmpty', async () => {
  const b = await newBucket('notempty');
  await b.put('k', Buffer.from('x'));
  const err = await rejection(client().deleteBucket(b.options.bucket));
  assertOssError(err, { status: 409, code: 'BucketNotEmpty' });
  assert.equal((await b.get('k')).content.toString(), 'x');
  await removeBucket(b);
});

test('object: put a Buffer with meta and headers, get, head, getObjectMeta', async () => {
  const data = Buffer.from('hello ali-oss\n');
  const put = await c.put('dir/hello.txt', data, {
    meta: { author: 'alice', 'build-id': '42' },
    mime: 'text/plain',
    headers: {
      'Cache-Control': 'max-age=60',
      'Content-Disposition': 'attachment; filename="hello.txt"',
      'x-oss-storage-class': 'Standard',
    },
  });
  assert.equal(put.res.status, 200);
  assert.equal(put.name, 'dir/hello.txt');
  assert.equal(put.res.headers.etag, etagOf(data));
  assert.equal(put.res.headers['content-md5'], md5B64(data));
  assert.equal(put.res.headers['x-oss-hash-crc64ecma'], crc64(data));

  const got = await c.get('dir/hello.txt');
  assert.equal(got.res.status, 200);
  assert.deepEqual(got.content, data);
  const h = got.res.headers;
  assert.equal(h['content-type'], 'text/plain');
  assert.equal(h['cache-control'], 'max-age=60');
  assert.equal(h['content-disposition'], 'attachment; filename="hello.txt"');
  assert.equal(h['x-oss-meta-author'], 'alice');
  assert.equal(h['x-oss-meta-build-id'], '42');
  assert.equal(h.etag, etagOf(data));
  assert.equal(h['x-oss-object-type'], 'Normal');
  assert.equal(h['x-oss-storage-class'], 'Standard');
  assert.equal(h['x-oss-hash-crc64ecma'], crc64(data));
  assert.equal(h['content-length'], String(data.length));

  const head = await c.head('dir/hello.txt');
  assert.equal(head.status, 200);
  assert.deepEqual(head.meta, { author: 'alice', 'build-id': '42' });
  assert.equal(head.res.headers['content-length'], String(data.length));
  assert.equal(head.res.headers.etag, etagOf(data));

  const meta = await c.getObjectMeta('dir/hello.txt');
  assert.equal(meta.status, 200);
  assert.equal(meta.res.headers['content-length'], String(data.length));
  assert.equal(meta.res.headers.etag, etagOf(data));
  assert.ok(meta.res.headers['last-modified'].endsWith(' GMT'));
});

test('object: putMeta replaces metadata; get into a file', async () => {
  const data = Buffer.from('meta body');
  await c.put('meta.txt', data, { meta: { a: '1' }, mime: 'text/plain' });
  const r = await c.putMeta('meta.txt', { b: '2' });
  assert.equal(r.res.status, 200);
  const head = await c.head('meta.txt');
  assert.deepEqual(head.meta, { b: '2' });
  assert.equal(head.res.headers.etag, etagOf(data));

  const file = path.join(os.tmpdir(), `ossify-ali-oss-${process.pid}.txt`);
  try {
    const got = await c.get('meta.txt', file);
    assert.equal(got.res.status, 200);
    assert.equal(got.content, null);
    assert.deepEqual(fs.readFileSync(file), data);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test('object: ranges and conditional reads', async () => {
  const data = Buffer.from('0123456789');
  await c.put('range.txt', data);
  const part = await c.get('range.txt', { headers: { Range: 'bytes=2-5' } });
  assert.equal(part.res.status, 206);
  assert.equal(part.content.toString(), '2345');
  assert.equal(part.res.headers['content-range'], 'bytes 2-5/10');

  const notModified = await c.get('range.txt', { headers: { 'If-None-Match': etagOf(data) } });
  assert.equal(notModified.res.status, 304);
  const head304 = await c.head('range.txt', { headers: { 'If-None-Match': etagOf(data) } });
  assert.equal(head304.status, 304);
  assert.equal(head304.meta, null);

  const failed = await rejection(c.get('range.txt', { headers: { 'If-Match': '"0000"' } }));
  assertOssError(failed, { status: 412, code: 'PreconditionFailed' });
});

test('object: keys with spaces, plus signs, unicode and slashes round-trip', async () => {
  const keys = ['a b+c.txt', 'sub/dir/ü-文件.bin', 'x%2Fy', 'q?x=1&y=2'];
  for (const [i, key] of keys.entries()) {
    const body = Buffer.from(`body ${i}`);
    await c.put(key, body);
    assert.deepEqual((await c.get(key)).content, body, key);
  }
  const listed = await c.list({ 'max-keys': 1000 });
  for (const key of keys) assert.ok(listed.objects.some(o => o.name === key), key);
  for (const key of keys) assert.equal((await c.delete(key)).res.status, 204);
});

test('object: putStream (chunked), put of a stream with contentLength, getStream', async () => {
  const data = bytes(300 * 1024 + 7, 3);
  const chunks = [];
  for (let i = 0; i < data.length; i += 64 * 1024) chunks.push(data.subarray(i, i + 64 * 1024));
  const chunked = await c.putStream('stream/chunked.bin', Readable.from(chunks), {
    meta: { via: 'stream' },
  });
  assert.equal(chunked.res.status, 200);
  assert.equal(chunked.res.headers.etag, etagOf(data));
  assert.equal(chunked.res.headers['x-oss-hash-crc64ecma'], crc64(data));

  const sized = await c.put('stream/sized.bin', Readable.from(chunks), { contentLength: data.length });
  assert.equal(sized.res.status, 200);
  assert.equal(sized.res.headers.etag, etagOf(data));

  for (const key of ['stream/chunked.bin', 'stream/sized.bin']) {
    const s = await c.getStream(key);
    assert.equal(s.res.status, 200);
    const parts = [];
    for await (const part of s.stream) parts.push(part);
    assert.deepEqual(Buffer.concat(parts), data, key);
  }
  assert.equal((await c.head('stream/chunked.bin')).meta.via, 'stream');
});

test('object: delete, then NoSuchKey on get and head; deleting again is 204', async () => {
  await c.put('doomed.txt', Buffer.from('bye'));
  assert.equal((await c.delete('doomed.txt')).res.status, 204);
  assert.equal((await c.delete('doomed.txt')).res.status, 204);
  const err = await rejection(c.get('doomed.txt'));
  assertOssError(err, {
    status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', ec: '0026-00000001',
  });
  // HEAD has no body: ali-oss makes NoSuchKey of the bare 404.
  const headErr = await rejection(c.head('doomed.txt'));
  assertOssError(headErr, { status: 404, code: 'NoSuchKey' });
});

test('object: NoSuchBucket, AccessDenied for another account, SignatureDoesNotMatch', async () => {
  const missing = client({ bucket: bucketName('missing') });
  const err = await rejection(missing.get('k'));
  assertOssError(err, {
    status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist.', ec: '0015-00000101',
  });
  const putErr = await rejection(missing.put('k', Buffer.from('x')));
  assertOssError(putErr, { status: 404, code: 'NoSuchBucket' });

  await c.put('private.txt', Buffer.from('mine'));
  const other = client({ bucket: c.options.bucket, keys: OTHER });
  const denied = await rejection(other.get('private.txt'));
  assertOssError(denied, { status: 403, code: 'AccessDenied', ec: '0003-00000001' });
  const deniedPut = await rejection(other.put('private.txt', Buffer.from('theirs')));
  assertOssError(deniedPut, { status: 403, code: 'AccessDenied', ec: '0003-00000001' });
  assert.equal((await c.get('private.txt')).content.toString(), 'mine');

  const wrong = client({ bucket: c.options.bucket, keys: { id: ROOT.id, secret: 'not-the-secret' } });
  const bad = await rejection(wrong.get('private.txt'));
  assertOssError(bad, {
    status: 403,
    code: 'SignatureDoesNotMatch',
    message: 'The request signature we calculated does not match the signature you provided.',
    ec: wrong.options.authorizationV4 ? '0002-00000201' : '0002-00000040',
  });
  const badPut = await rejection(wrong.put('private.txt', Buffer.from('forged')));
  assertOssError(badPut, { status: 403, code: 'SignatureDoesNotMatch' });
  assert.equal((await c.get('private.txt')).content.toString(), 'mine');

  const unknown = client({ bucket: c.options.bucket, keys: { id: 'LTAInobody', secret: 'x' } });
  assertOssError(await rejection(unknown.get('private.txt')), {
    status: 403, code: 'InvalidAccessKeyId', ec: '0002-00000902',
  });
});

test('object: a wrong Content-MD5 is InvalidDigest and stores nothing', async () => {
  const err = await rejection(c.put('digest.txt', Buffer.from('payload'), {
    headers: { 'Content-MD5': md5B64(Buffer.from('other')) },
  }));
  assertOssError(err, { status: 400, code: 'InvalidDigest', ec: '0017-00000503' });
  assertOssError(await rejection(c.head('digest.txt')), { status: 404, code: 'NoSuchKey' });
});

test('list and listV2: prefix, delimiter, marker, max-keys, continuation', async () => {
  const b = await newBucket('listing');
  const keys = ['a/1', 'a/2', 'a/b/3', 'b/4', 'c'];
  for (const k of keys) await b.put(k, Buffer.from(k));

  const all = await b.list();
  assert.deepEqual(all.objects.map(o => o.name), keys);
  assert.deepEqual(all.objects.map(o => o.size), keys.map(k => k.length));
  assert.deepEqual(all.objects.map(o => o.etag), keys.map(k => etagOf(Buffer.from(k))));
  assert.equal(all.objects[0].owner.id, OWNER_ID);
  assert.equal(all.objects[0].type, 'Normal');
  assert.equal(all.objects[0].storageClass, 'Standard');
  assert.equal(all.prefixes, null);
  assert.equal(all.isTruncated, false);

  const dir = await b.list({ prefix: 'a/', delimiter: '/' });
  assert.deepEqual(dir.objects.map(o => o.name), ['a/1', 'a/2']);
  assert.deepEqual(dir.prefixes, ['a/b/']);

  const top = await b.list({ delimiter: '/' });
  assert.deepEqual(top.objects.map(o => o.name), ['c']);
  assert.deepEqual(top.prefixes, ['a/', 'b/']);

  const page1 = await b.list({ 'max-keys': 2 });
  assert.deepEqual(page1.objects.map(o => o.name), ['a/1', 'a/2']);
  assert.equal(page1.isTruncated, true);
  assert.equal(page1.nextMarker, 'a/2');
  const page2 = await b.list({ 'max-keys': 2, marker: page1.nextMarker });
  assert.deepEqual(page2.objects.map(o => o.name), ['a/b/3', 'b/4']);
  const page3 = await b.list({ 'max-keys': 2, marker: page2.nextMarker });
  assert.deepEqual(page3.objects.map(o => o.name), ['c']);
  assert.equal(page3.isTruncated, false);
  assert.equal(page3.nextMarker, null);

  const v2 = await b.listV2({ 'max-keys': 3 });
  assert.deepEqual(v2.objects.map(o => o.name), ['a/1', 'a/2', 'a/b/3']);
  assert.equal(v2.keyCount, 3);
  assert.equal(v2.isTruncated, true);
  assert.equal(v2.objects[0].owner, null);
  assert.equal(typeof v2.nextContinuationToken, 'string');
  const v2next = await b.listV2({ 'max-keys': 3, 'continuation-token': v2.nextContinuationToken });
  assert.deepEqual(v2next.objects.map(o => o.name), ['b/4', 'c']);
  assert.equal(v2next.keyCount, 2);
  assert.equal(v2next.isTruncated, false);
  assert.equal(v2next.continuationToken, v2.nextContinuationToken);
  assert.equal(v2next.nextContinuationToken, null);

  const v2dir = await b.listV2({ prefix: 'a/', delimiter: '/', 'fetch-owner': true });
  assert.deepEqual(v2dir.objects.map(o => o.name), ['a/1', 'a/2']);
  assert.deepEqual(v2dir.prefixes, ['a/b/']);
  assert.equal(v2dir.keyCount, 3);
  assert.equal(v2dir.objects[0].owner.id, OWNER_ID);

  const after = await b.listV2({ 'start-after': 'a/b/3' });
  assert.deepEqual(after.objects.map(o => o.name), ['b/4', 'c']);

  const empty = await b.list({ prefix: 'zzz' });
  assert.deepEqual(empty.objects, []);
  await removeBucket(b);
});

test('copy: same bucket, other bucket, metadata replaced or kept', async () => {
  const data = Buffer.from('copy me');
  await c.put('copy/src.txt', data, { meta: { origin: 'src' }, mime: 'text/plain' });

  const kept = await c.copy('copy/kept.txt', 'copy/src.txt');
  assert.equal(kept.res.status, 200);
  assert.equal(kept.data.etag, etagOf(data));
  assert.match(kept.data.lastModified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const keptHead = await c.head('copy/kept.txt');
  assert.deepEqual(keptHead.meta, { origin: 'src' });
  assert.equal(keptHead.res.headers['content-type'], 'text/plain');

  const replaced = await c.copy('copy/replaced.txt', 'copy/src.txt', {
    meta: { origin: 'copy' },
    headers: { 'Content-Type': 'application/x-copied' },
  });
  assert.equal(replaced.res.status, 200);
  const rHead = await c.head('copy/replaced.txt');
  assert.deepEqual(rHead.meta, { origin: 'copy' });
  assert.equal(rHead.res.headers['content-type'], 'application/x-copied');
  assert.deepEqual((await c.get('copy/replaced.txt')).content, data);

  const other = await newBucket('copydst');
  const cross = await other.copy('from-other.txt', 'copy/src.txt', c.options.bucket);
  assert.equal(cross.res.status, 200);
  assert.deepEqual((await other.get('from-other.txt')).content, data);
  const slashForm = await other.copy('slash.txt', `/${c.options.bucket}/copy/src.txt`);
  assert.equal(slashForm.data.etag, etagOf(data));
  await removeBucket(other);

  const missing = await rejection(c.copy('copy/none.txt', 'copy/absent.txt'));
  assertOssError(missing, { status: 404, code: 'NoSuchKey' });

  // A failed source condition names the bare header (ali-oss sends If-Match as
  // x-oss-copy-source-if-match too) and copies nothing.
  const srcHead = await c.head('copy/src.txt');
  const lastYear = new Date(Date.parse(srcHead.res.headers['last-modified']) - 366 * 86400e3).toUTCString();
  for (const [header, value] of [['If-Match', '"0123"'], ['If-Unmodified-Since', lastYear]]) {
    const failed = await rejection(c.copy('copy/cond.txt', 'copy/src.txt', { headers: { [header]: value } }));
    assertOssError(failed, { status: 412, code: 'PreconditionFailed' });
    assert.equal(failed.message, `At least one of the pre-conditions you specified did not hold. (condition: ${header})`);
  }
  assertOssError(await rejection(c.head('copy/cond.txt')), { status: 404, code: 'NoSuchKey' });
});

test('append: positions, next position, CRC-64 and the wrong-position error', async () => {
  const one = Buffer.from('first,');
  const two = Buffer.from('second');
  const r1 = await c.append('append.log', one);
  assert.equal(r1.res.status, 200);
  assert.equal(r1.nextAppendPosition, String(one.length));
  assert.equal(r1.res.headers['x-oss-hash-crc64ecma'], crc64(one));
  const r2 = await c.append('append.log', two, { position: r1.nextAppendPosition });
  assert.equal(r2.nextAppendPosition, String(one.length + two.length));
  const all = Buffer.concat([one, two]);
  assert.equal(r2.res.headers['x-oss-hash-crc64ecma'], crc64(all));
  const got = await c.get('append.log');
  assert.deepEqual(got.content, all);
  assert.equal(got.res.headers['x-oss-object-type'], 'Appendable');
  assert.equal(got.res.headers['x-oss-next-append-position'], String(all.length));

  const err = await rejection(c.append('append.log', Buffer.from('x'), { position: '3' }));
  assertOssError(err, { status: 409, code: 'PositionNotEqualToLength', ec: '0026-00000016' });
  // OSS's message has no final period.
  assert.equal(err.message, 'Position is not equal to file length');
  assert.deepEqual((await c.get('append.log')).content, all);

  await c.put('normal.txt', Buffer.from('n'));
  const notAppendable = await rejection(c.append('normal.txt', Buffer.from('x'), { position: '1' }));
  assertOssError(notAppendable, { status: 409, code: 'ObjectNotAppendable' });
});

test('symlink: putSymlink, getSymlink, reading through it, meta on the link', async () => {
  const data = Buffer.from('target body');
  await c.put('link/target.txt', data, { mime: 'text/plain' });
  const put = await c.putSymlink('link/alias', 'link/target.txt', { meta: { kind: 'alias' } });
  assert.equal(put.res.status, 200);
  const sym = await c.getSymlink('link/alias');
  assert.equal(sym.targetName, 'link/target.txt');
  assert.equal(sym.res.headers['x-oss-meta-kind'], 'alias');
  const got = await c.get('link/alias');
  assert.deepEqual(got.content, data);
  assert.equal(got.res.headers['x-oss-object-type'], 'Symlink');
  assert.equal(got.res.headers['content-type'], 'text/plain');

  const uni = await c.putSymlink('link/ü alias', 'link/ü target+1.txt');
  assert.equal(uni.res.status, 200);
  assert.equal((await c.getSymlink('link/ü alias')).targetName, 'link/ü target+1.txt');
  const dangling = await rejection(c.get('link/ü alias'));
  assertOssError(dangling, {
    status: 404, code: 'SymlinkTargetNotExist', message: 'The symlink target object does not exist.', ec: '0026-00000012',
  });

  const notLink = await rejection(c.getSymlink('link/target.txt'));
  assertOssError(notLink, { status: 400, code: 'NotSymlink', ec: '0043-00000101' });
});

test('object ACL: putACL, getACL, and what another account can read', async () => {
  await c.put('acl/obj.txt', Buffer.from('acl body'));
  const initial = await c.getACL('acl/obj.txt');
  assert.equal(initial.acl, 'default');
  assert.equal(initial.owner.id, OWNER_ID);

  const other = client({ bucket: c.options.bucket, keys: OTHER });
  assertOssError(await rejection(other.get('acl/obj.txt')), { status: 403, code: 'AccessDenied' });

  assert.equal((await c.putACL('acl/obj.txt', 'public-read')).res.status, 200);
  assert.equal((await c.getACL('acl/obj.txt')).acl, 'public-read');
  assert.equal((await other.get('acl/obj.txt')).content.toString(), 'acl body');

  const bad = await rejection(c.putACL('acl/obj.txt', 'everyone'));
  assertOssError(bad, { status: 400, code: 'InvalidArgument' });
  assert.equal((await c.getACL('acl/obj.txt')).acl, 'public-read');

  await c.put('acl/at-put.txt', Buffer.from('x'), { headers: { 'x-oss-object-acl': 'public-read-write' } });
  assert.equal((await c.getACL('acl/at-put.txt')).acl, 'public-read-write');
});

test('object tagging: put, get, delete, and at upload', async () => {
  await c.put('tag/obj.txt', Buffer.from('t'));
  assert.deepEqual((await c.getObjectTagging('tag/obj.txt')).tag, {});
  const put = await c.putObjectTagging('tag/obj.txt', { project: 'ossify', 'k 2': 'v/2' });
  assert.equal(put.status, 200);
  const got = await c.getObjectTagging('tag/obj.txt');
  assert.equal(got.status, 200);
  assert.deepEqual(got.tag, { project: 'ossify', 'k 2': 'v/2' });
  assert.equal((await c.head('tag/obj.txt')).res.headers['x-oss-tagging-count'], '2');
  const del = await c.deleteObjectTagging('tag/obj.txt');
  assert.equal(del.status, 204);
  assert.deepEqual((await c.getObjectTagging('tag/obj.txt')).tag, {});

  await c.put('tag/at-put.txt', Buffer.from('t'), { headers: { 'x-oss-tagging': 'a=1&b=two' } });
  assert.deepEqual((await c.getObjectTagging('tag/at-put.txt')).tag, { a: '1', b: 'two' });

  const missing = await rejection(c.getObjectTagging('tag/absent.txt'));
  assertOssError(missing, { status: 404, code: 'NoSuchKey' });
});

test('deleteMulti: verbose and quiet, keys needing XML escapes, absent keys', async () => {
  const keys = ['multi/a', 'multi/b c', 'multi/x&y<z>', 'multi/d'];
  for (const k of keys) await c.put(k, Buffer.from(k));
  const verbose = await c.deleteMulti(['multi/a', 'multi/b c', 'multi/x&y<z>', 'multi/never']);
  assert.equal(verbose.res.status, 200);
  assert.deepEqual(
    verbose.deleted.map(d => d.Key).sort(),
    ['multi/a', 'multi/b c', 'multi/never', 'multi/x&y<z>'],
  );
  const quiet = await c.deleteMulti(['multi/d'], { quiet: true });
  assert.equal(quiet.res.status, 200);
  assert.deepEqual(quiet.deleted, []);
  assert.deepEqual((await c.list({ prefix: 'multi/' })).objects, []);
});

test('restore: Archive restores once (202, then RestoreAlreadyInProgress); JobParameters only for cold archive', async () => {
  await c.put('cold/archive.txt', Buffer.from('a'), { headers: { 'x-oss-storage-class': 'Archive' } });
  // ali-oss sends <JobParameters> for type ColdArchive: an Archive object refuses it.
  const job = await rejection(c.restore('cold/archive.txt', { type: 'ColdArchive' }));
  assertOssError(job, { status: 400, code: 'MalformedXML' });
  assert.equal((await c.restore('cold/archive.txt')).res.status, 202);
  assertOssError(await rejection(c.restore('cold/archive.txt')), { status: 409, code: 'RestoreAlreadyInProgress' });
  // Checked before the running restore.
  assertOssError(await rejection(c.restore('cold/archive.txt', { type: 'ColdArchive' })), {
    status: 400, code: 'MalformedXML',
  });

  await c.put('cold/cold.txt', Buffer.from('c'), { headers: { 'x-oss-storage-class': 'ColdArchive' } });
  const cold = await c.restore('cold/cold.txt', { type: 'ColdArchive', Days: 2, JobParameters: 'Bulk' });
  assert.equal(cold.res.status, 202);
  assert.equal(cold.res.headers['x-oss-object-restore-priority'], 'Bulk');
});
