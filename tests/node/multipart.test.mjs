// Multipart uploads through ali-oss: the managed multipartUpload (progress, checkpoint
// resume, files and Buffers), the low-level calls, part copies, and their errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  newBucket, removeBucket, rejection, assertOssError, etagOf, crc64, bytes,
} from './lib.mjs';

const KB = 1024;
const PART = 100 * KB; // OSS's (and ali-oss's) minimum part size

let c;
let tmp;

before(async () => {
  c = await newBucket('multipart');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ossify-ali-oss-'));
});

after(async () => {
  if (c) await removeBucket(c);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The ETag OSS gives a completed multipart object: MD5 of the parts' MD5s, "-N". */
function partsEtag(parts) {
  const md5s = parts.map(p => crypto.createHash('md5').update(p).digest());
  const hex = crypto.createHash('md5').update(Buffer.concat(md5s)).digest('hex').toUpperCase();
  return `"${hex}-${md5s.length}"`;
}

/** partsEtag of `data` cut into parts of `partSize`. */
function multipartEtag(data, partSize) {
  const parts = [];
  for (let i = 0; i < data.length; i += partSize) parts.push(data.subarray(i, i + partSize));
  return partsEtag(parts);
}

test('multipartUpload of a Buffer: progress, parts, ETag, CRC-64, meta', async () => {
  const data = bytes(2 * PART + 33 * KB, 7);
  const progress = [];
  let uploadId;
  const r = await c.multipartUpload('mp/buffer.bin', data, {
    partSize: PART,
    parallel: 1,
    mime: 'application/x-test',
    meta: { owner: 'multipart' },
    progress: (p, checkpoint) => {
      progress.push(p);
      if (checkpoint) {
        uploadId = checkpoint.uploadId;
        assert.equal(checkpoint.fileSize, data.length);
        assert.equal(checkpoint.partSize, PART);
      }
    },
  });
  assert.equal(r.res.status, 200);
  assert.equal(r.name, 'mp/buffer.bin');
  assert.equal(r.etag, multipartEtag(data, PART));
  assert.deepEqual(progress, [0, 0.25, 0.5, 0.75, 1]);
  assert.match(uploadId, /^[0-9A-F]{32}$/);
  assert.equal(r.res.headers['x-oss-hash-crc64ecma'], crc64(data));

  const got = await c.get('mp/buffer.bin');
  assert.deepEqual(got.content, data);
  assert.equal(got.res.headers['x-oss-object-type'], 'Multipart');
  assert.equal(got.res.headers['content-type'], 'application/x-test');
  assert.equal(got.res.headers['x-oss-meta-owner'], 'multipart');
  assert.equal(got.res.headers.etag, multipartEtag(data, PART));
  assert.equal(got.res.headers['x-oss-hash-crc64ecma'], crc64(data));
  // The upload is gone once completed.
  assert.deepEqual((await c.listUploads({ prefix: 'mp/buffer.bin' })).uploads, []);
});

test('multipartUpload of a file (parallel parts) and of a small file (one PUT)', async () => {
  const data = bytes(4 * PART + 1, 11);
  const file = path.join(tmp, 'big.bin');
  fs.writeFileSync(file, data);
  const r = await c.multipartUpload('mp/file.bin', file, { partSize: PART, parallel: 3 });
  assert.equal(r.res.status, 200);
  assert.equal(r.etag, multipartEtag(data, PART));
  const got = await c.get('mp/file.bin');
  assert.deepEqual(got.content, data);
  assert.equal(got.res.headers['content-type'], 'application/octet-stream');

  const small = bytes(5 * KB, 12);
  const smallFile = path.join(tmp, 'small.txt');
  fs.writeFileSync(smallFile, small);
  const s = await c.multipartUpload('mp/small.txt', smallFile);
  assert.equal(s.etag, etagOf(small));
  const sg = await c.get('mp/small.txt');
  assert.equal(sg.res.headers['x-oss-object-type'], 'Normal');
  assert.equal(sg.res.headers['content-type'], 'text/plain');
  assert.deepEqual(sg.content, small);
});

test('multipartUpload resumes from a checkpoint', async () => {
  const data = bytes(3 * PART, 13);
  const init = await c.initMultipartUpload('mp/resumed.bin');
  const first = await c.uploadPart('mp/resumed.bin', init.uploadId, 1, data, 0, PART);
  const checkpoint = {
    file: data,
    name: 'mp/resumed.bin',
    fileSize: data.length,
    partSize: PART,
    uploadId: init.uploadId,
    doneParts: [{ number: 1, etag: first.etag }],
  };
  const r = await c.multipartUpload('mp/resumed.bin', data, { checkpoint });
  assert.equal(r.res.status, 200);
  assert.equal(r.etag, multipartEtag(data, PART));
  assert.deepEqual((await c.get('mp/resumed.bin')).content, data);
});

test('init, uploadPart, listParts, listUploads, complete', async () => {
  const data = bytes(PART + 10 * KB, 17);
  const file = path.join(tmp, 'parts.bin');
  fs.writeFileSync(file, data);
  const init = await c.initMultipartUpload('mp/manual.bin', {
    mime: 'text/csv',
    meta: { step: 'init' },
  });
  assert.equal(init.res.status, 200);
  assert.equal(init.bucket, c.options.bucket);
  assert.equal(init.name, 'mp/manual.bin');

  const p2 = await c.uploadPart('mp/manual.bin', init.uploadId, 2, file, PART, data.length);
  const p1 = await c.uploadPart('mp/manual.bin', init.uploadId, 1, file, 0, PART);
  assert.equal(p1.etag, etagOf(data.subarray(0, PART)));
  assert.equal(p2.etag, etagOf(data.subarray(PART)));
  assert.equal(p1.res.headers['x-oss-hash-crc64ecma'], crc64(data.subarray(0, PART)));

  const parts = await c.listParts('mp/manual.bin', init.uploadId);
  assert.equal(parts.res.status, 200);
  assert.equal(parts.uploadId, init.uploadId);
  assert.equal(parts.bucket, c.options.bucket);
  assert.equal(parts.name, 'mp/manual.bin');
  assert.equal(parts.isTruncated, 'false');
  assert.deepEqual(
    parts.parts.map(p => [p.PartNumber, p.ETag, p.Size]),
    [['1', p1.etag, String(PART)], ['2', p2.etag, String(10 * KB)]],
  );
  const page = await c.listParts('mp/manual.bin', init.uploadId, { 'max-parts': 1 });
  assert.equal(page.isTruncated, 'true');
  assert.equal(page.nextPartNumberMarker, '1');
  assert.equal(page.maxParts, '1');
  const rest = await c.listParts('mp/manual.bin', init.uploadId, { 'part-number-marker': 1 });
  // A single <Part> element is an object to ali-oss, several an array.
  assert.equal(rest.parts.PartNumber, '2');

  const other = await c.initMultipartUpload('mp/other.bin');
  const uploads = await c.listUploads({ prefix: 'mp/' });
  assert.equal(uploads.res.status, 200);
  assert.equal(uploads.bucket, c.options.bucket);
  assert.deepEqual(
    uploads.uploads.map(u => [u.name, u.uploadId]),
    [['mp/manual.bin', init.uploadId], ['mp/other.bin', other.uploadId]],
  );
  assert.equal(uploads.isTruncated, false);
  const first = await c.listUploads({ prefix: 'mp/', 'max-uploads': 1 });
  assert.equal(first.isTruncated, true);
  assert.equal(first.nextKeyMarker, 'mp/manual.bin');
  assert.equal(first.nextUploadIdMarker, init.uploadId);

  const done = await c.completeMultipartUpload('mp/manual.bin', init.uploadId, [
    { number: 2, etag: p2.etag },
    { number: 1, etag: p1.etag },
  ]);
  assert.equal(done.res.status, 200);
  assert.equal(done.etag, multipartEtag(data, PART));
  const got = await c.get('mp/manual.bin');
  assert.deepEqual(got.content, data);
  assert.equal(got.res.headers['content-type'], 'text/csv');
  assert.equal(got.res.headers['x-oss-meta-step'], 'init');

  const aborted = await c.abortMultipartUpload('mp/other.bin', other.uploadId);
  assert.equal(aborted.res.status, 204);
  assertOssError(await rejection(c.listParts('mp/other.bin', other.uploadId)), {
    status: 404, code: 'NoSuchUpload', ec: '0042-00000002',
  });
  assert.deepEqual((await c.listUploads({ prefix: 'mp/' })).uploads, []);
});

test('multipart errors: InvalidPart, EntityTooSmall, NoSuchUpload', async () => {
  const data = bytes(PART + KB, 19);
  const init = await c.initMultipartUpload('mp/errors.bin');
  const small = await c.uploadPart('mp/errors.bin', init.uploadId, 1, data, 0, KB);
  const big = await c.uploadPart('mp/errors.bin', init.uploadId, 2, data, 0, PART);

  const wrongEtag = await rejection(c.completeMultipartUpload('mp/errors.bin', init.uploadId, [
    { number: 1, etag: '"00000000000000000000000000000000"' },
  ]));
  assertOssError(wrongEtag, { status: 400, code: 'InvalidPart' });

  const tooSmall = await rejection(c.completeMultipartUpload('mp/errors.bin', init.uploadId, [
    { number: 1, etag: small.etag },
    { number: 2, etag: big.etag },
  ]));
  assertOssError(tooSmall, { status: 400, code: 'EntityTooSmall' });
  assertOssError(await rejection(c.head('mp/errors.bin')), { status: 404, code: 'NoSuchKey' });

  // The upload survives failed completions.
  const parts = await c.listParts('mp/errors.bin', init.uploadId);
  assert.deepEqual(parts.parts.map(p => p.PartNumber), ['1', '2']);
  await c.abortMultipartUpload('mp/errors.bin', init.uploadId);

  const gone = await rejection(c.uploadPart('mp/errors.bin', init.uploadId, 3, data, 0, KB));
  assertOssError(gone, { status: 404, code: 'NoSuchUpload', ec: '0042-00000002' });
  const abortAgain = await rejection(c.abortMultipartUpload('mp/errors.bin', init.uploadId));
  assertOssError(abortAgain, { status: 404, code: 'NoSuchUpload' });
});

test('uploadPartCopy and multipartUploadCopy', async () => {
  const src = bytes(2 * PART + 5 * KB, 23);
  await c.put('mp/copy-src.bin', src);
  const sourceData = { sourceKey: 'mp/copy-src.bin', sourceBucketName: c.options.bucket };

  const init = await c.initMultipartUpload('mp/copied-parts.bin');
  const p1 = await c.uploadPartCopy('mp/copied-parts.bin', init.uploadId, 1, `0-${PART - 1}`, sourceData);
  assert.equal(p1.res.status, 200);
  assert.equal(p1.etag, etagOf(src.subarray(0, PART)));
  const p2 = await c.uploadPartCopy('mp/copied-parts.bin', init.uploadId, 2, `${PART}-${src.length - 1}`, sourceData);
  const done = await c.completeMultipartUpload('mp/copied-parts.bin', init.uploadId, [
    { number: 1, etag: p1.etag },
    { number: 2, etag: p2.etag },
  ]);
  assert.equal(done.etag, partsEtag([src.subarray(0, PART), src.subarray(PART)]));
  assert.deepEqual((await c.get('mp/copied-parts.bin')).content, src);

  const whole = await c.multipartUploadCopy('mp/copied-whole.bin', sourceData, { partSize: PART });
  assert.equal(whole.res.status, 200);
  const got = await c.get('mp/copied-whole.bin');
  assert.deepEqual(got.content, src);
  assert.equal(got.res.headers.etag, multipartEtag(src, PART));
});
