// Tests of the verifying, fault-injecting S3 front (s3_front.mjs) with requests signed in
// Node by @smithy/signature-v4, as the AWS SDK for JavaScript signs them for S3.
//
//   node tests/lib/s3_front.test.mjs
//
// Every server listens on 127.0.0.1 port 0; every request and wait is bounded; every
// front is closed in an after hook.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';

import { sleep } from './harness.mjs';
import {
  EMPTY_SHA256, OUTAGES, TEST_CREDENTIALS, TEST_REGION, startS3Front, uriEncode, verifySigV4, xmlTags,
} from './s3_front.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REQUEST_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 120_000;
const HIVE_KEY = 'data/siteId=1/my file.jsonl.gz';
const MiB = 1024 * 1024;

const sha256Hex = (b) => createHash('sha256').update(b).digest('hex');
const md5b64 = (b) => createHash('md5').update(b).digest('base64');

// A minimal S3 client: signs with @smithy/signature-v4 the S3 way (path encoded once by
// the caller, uriEscapePath false) and sends with node:http on a fresh connection.
function makeClient(endpoint, { credentials = TEST_CREDENTIALS, sessionToken } = {}) {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    credentials: { ...credentials, ...(sessionToken ? { sessionToken } : {}) },
    region: TEST_REGION, service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false,
  });
  // opts: method, bucket, key, query (object), body, headers, and test hooks:
  // tamper(signedHeaders) -> headers actually sent; signPath (a different path to sign);
  // payloadHash (claimed x-amz-content-sha256); extraUnsigned (headers added after signing).
  async function request(opts) {
    const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(opts.body);
    const bucket = opts.bucket ?? 'lake';
    const path = `/${bucket}${opts.key !== undefined ? `/${opts.key.split('/').map(uriEncode).join('/')}` : ''}`;
    const query = opts.query ?? {};
    const headers = {
      host: url.host,
      'x-amz-content-sha256': opts.payloadHash ?? sha256Hex(body),
      ...(opts.headers ?? {}),
    };
    if (body.length > 0 || ['PUT', 'POST'].includes(opts.method)) headers['content-length'] = String(body.length);
    const signed = await signer.sign({
      method: opts.method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port),
      path: opts.signPath ?? path, query, headers, body,
    }, { signingDate: opts.signingDate ?? new Date() });
    let sendHeaders = { ...signed.headers, ...(opts.extraUnsigned ?? {}) };
    if (opts.tamper) sendHeaders = opts.tamper(sendHeaders);
    const qs = Object.entries(query).map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`)).join('&');
    return rawRequest(url, opts.method, path + (qs ? `?${qs}` : ''), sendHeaders, body);
  }
  return { request };
}

function rawRequest(url, method, path, headers, body) {
  return new Promise((resolveP, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveP({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body && body.length ? body : undefined);
  });
}

async function control(front, method, path, obj) {
  const body = obj === undefined ? null : Buffer.from(JSON.stringify(obj));
  const r = await rawRequest(new URL(front.endpoint), method, path,
    body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}, body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.body}`);
  return JSON.parse(r.body.toString('utf8'));
}

const errorCode = (r) => xmlTags(r.body.toString('utf8'), 'Code')[0];

describe('SigV4 verification against the AWS published S3 examples', () => {
  const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
  const host = 'examplebucket.s3.amazonaws.com';
  const auth = (sh, sig) => `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${sh},Signature=${sig}`;
  const cases = [
    ['GET object with Range', 'GET', '/test.txt', '',
      { host, range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z' },
      'host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'],
    ['PUT object with a Date header and a $ in the key', 'PUT', '/test%24file.text', '',
      { host, date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': sha256Hex('Welcome to Amazon S3.'), 'x-amz-date': '20130524T000000Z' },
      'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd'],
    ['GET bucket lifecycle', 'GET', '/', 'lifecycle',
      { host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z' },
      'host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'],
    ['GET bucket (list objects)', 'GET', '/', 'max-keys=2&prefix=J',
      { host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z' },
      'host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'],
  ];
  for (const [name, method, rawPath, rawQuery, headers, signedHeaders, signature] of cases) {
    it(name, async () => {
      const r = await verifySigV4({ method, rawPath, rawQuery, headers: { ...headers, authorization: auth(signedHeaders, signature) }, credentials, region: 'us-east-1' });
      assert.equal(r.expected, signature, r.canonicalRequest);
      assert.ok(r.ok);
      const bad = await verifySigV4({ method, rawPath, rawQuery, headers: { ...headers, authorization: auth(signedHeaders, signature.replace(/^./, (c) => (c === '0' ? '1' : '0'))) }, credentials, region: 'us-east-1' });
      assert.equal(bad.ok, false);
    });
  }
  it('a key encoded twice (uriEscapePath on, as for other services) does not verify', async () => {
    // Signed over /data/siteId%253D1 (double-encoded); S3 computes /data/siteId%3D1.
    const good = await verifySigV4({ method: 'GET', rawPath: '/lake/a%3Db', rawQuery: '',
      headers: { host: 'h', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${'0'.repeat(64)}` },
      credentials: TEST_CREDENTIALS, region: 'us-east-1' });
    assert.match(good.canonicalRequest, /^GET\n\/lake\/a%3Db\n/);
  });
});

describe('the S3 front', { timeout: TEST_TIMEOUT_MS }, () => {
  let front;
  let client;
  const lines = [];

  before(async () => {
    front = await startS3Front({ log: (l) => lines.push(l) });
    client = makeClient(front.endpoint);
  });
  after(async () => {
    await front?.close();
  });

  it('PutObject with a Hive key (= and a space) passes and reads back', async () => {
    const body = randomBytes(10_000);
    const put = await client.request({ method: 'PUT', key: HIVE_KEY, body, headers: { 'content-md5': md5b64(body), 'content-type': 'application/gzip' } });
    assert.equal(put.status, 200, put.body.toString());
    assert.equal(put.headers.etag, `"${createHash('md5').update(body).digest('hex')}"`);
    const get = await client.request({ method: 'GET', key: HIVE_KEY });
    assert.equal(get.status, 200, get.body.toString());
    assert.ok(get.body.equals(body));
    assert.ok((await front.getObject(HIVE_KEY)).equals(body));
    const listed = await front.listObjects('lake', 'data/');
    assert.deepEqual(listed.map((o) => o.key), [HIVE_KEY]);
    const head = await client.request({ method: 'HEAD', key: HIVE_KEY });
    assert.equal(head.status, 200);
    assert.equal(front.writes()[`lake/${HIVE_KEY}`].size, body.length);
  });

  it('x-amz-checksum-sha256 and -crc32c are verified', async () => {
    const body = Buffer.from('checksummed body\n');
    const sha = createHash('sha256').update(body).digest('base64');
    const ok = await client.request({ method: 'PUT', key: 'c/ok', body, headers: { 'x-amz-checksum-sha256': sha } });
    assert.equal(ok.status, 200, ok.body.toString());
    // crc32c("123456789") = 0xE3069283
    const ok2 = await client.request({ method: 'PUT', key: 'c/crc', body: '123456789', headers: { 'x-amz-checksum-crc32c': Buffer.from([0xE3, 0x06, 0x92, 0x83]).toString('base64') } });
    assert.equal(ok2.status, 200, ok2.body.toString());
    const bad = await client.request({ method: 'PUT', key: 'c/bad', body, headers: { 'x-amz-checksum-sha256': createHash('sha256').update('other').digest('base64') } });
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad), 'BadDigest');
  });

  it('multipart create / upload / complete, with ListParts and Abort', async () => {
    const key = 'tx/region=EU/date=2023-11-15/big object.jsonl.zst';
    const create = await client.request({ method: 'POST', key, query: { uploads: '' } });
    assert.equal(create.status, 200, create.body.toString());
    const uploadId = xmlTags(create.body.toString(), 'UploadId')[0];
    assert.ok(uploadId);
    const part1 = randomBytes(5 * MiB);
    const part2 = randomBytes(1234);
    const etags = [];
    for (const [n, p] of [[1, part1], [2, part2]]) {
      const r = await client.request({ method: 'PUT', key, query: { partNumber: String(n), uploadId }, body: p, headers: { 'content-md5': md5b64(p) } });
      assert.equal(r.status, 200, r.body.toString());
      etags.push(r.headers.etag);
    }
    const parts = await client.request({ method: 'GET', key, query: { uploadId } });
    assert.equal(parts.status, 200, parts.body.toString());
    assert.deepEqual(xmlTags(parts.body.toString(), 'PartNumber'), ['1', '2']);
    const completeXml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await client.request({ method: 'POST', key, query: { uploadId }, body: completeXml });
    assert.equal(done.status, 200, done.body.toString());
    assert.match(done.body.toString(), /<CompleteMultipartUploadResult>/);
    const get = await client.request({ method: 'GET', key });
    assert.equal(get.status, 200);
    assert.ok(get.body.equals(Buffer.concat([part1, part2])));
    // The upload is gone: a second Complete is NoSuchUpload.
    const again = await client.request({ method: 'POST', key, query: { uploadId }, body: completeXml });
    assert.equal(again.status, 404);
    assert.equal(errorCode(again), 'NoSuchUpload');

    // Abort another upload; its parts are refused afterwards.
    const c2 = await client.request({ method: 'POST', key: 'abort/me', query: { uploads: '' } });
    const id2 = xmlTags(c2.body.toString(), 'UploadId')[0];
    const abort = await client.request({ method: 'DELETE', key: 'abort/me', query: { uploadId: id2 } });
    assert.equal(abort.status, 204);
    const late = await client.request({ method: 'PUT', key: 'abort/me', query: { partNumber: '1', uploadId: id2 }, body: 'x' });
    assert.equal(late.status, 404);
    assert.equal(errorCode(late), 'NoSuchUpload');
    const s = front.stats();
    assert.equal(s.uploads.completed, 1);
    assert.equal(s.uploads.aborted, 1);
    assert.deepEqual(s.openUploads, []);
  });

  it('Complete refuses small parts, unknown parts and wrong order', async () => {
    const key = 'small/parts';
    const create = await client.request({ method: 'POST', key, query: { uploads: '' } });
    const uploadId = xmlTags(create.body.toString(), 'UploadId')[0];
    const etags = [];
    for (const n of [1, 2]) {
      const r = await client.request({ method: 'PUT', key, query: { partNumber: String(n), uploadId }, body: randomBytes(1000) });
      assert.equal(r.status, 200);
      etags.push(r.headers.etag);
    }
    const xml = (list) => `<CompleteMultipartUpload>${list.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const small = await client.request({ method: 'POST', key, query: { uploadId }, body: xml([[1, etags[0]], [2, etags[1]]]) });
    assert.equal(small.status, 400);
    assert.equal(errorCode(small), 'EntityTooSmall');
    const order = await client.request({ method: 'POST', key, query: { uploadId }, body: xml([[2, etags[1]], [1, etags[0]]]) });
    assert.equal(errorCode(order), 'InvalidPartOrder');
    const unknown = await client.request({ method: 'POST', key, query: { uploadId }, body: xml([[1, '"0123"']]) });
    assert.equal(errorCode(unknown), 'InvalidPart');
    const abort = await client.request({ method: 'DELETE', key, query: { uploadId } });
    assert.equal(abort.status, 204);
  });

  it('a tampered signature gets 403 SignatureDoesNotMatch with the canonical request', async () => {
    const before = front.stats().signatureRejections;
    const r = await client.request({
      method: 'PUT', key: 'tampered', body: 'x',
      tamper: (h) => ({ ...h, authorization: h.authorization.replace(/Signature=(.)/, (m, c) => `Signature=${c === 'a' ? 'b' : 'a'}`) }),
    });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r), 'SignatureDoesNotMatch');
    assert.match(r.body.toString(), /<CanonicalRequest>PUT\n\/lake\/tampered\n/);
    // Signed over a double-encoded path: what a generic SigV4 signer does, not S3's rule.
    const dbl = await client.request({ method: 'PUT', key: HIVE_KEY, body: 'x', signPath: `/lake/${HIVE_KEY.split('/').map((s) => uriEncode(uriEncode(s))).join('/')}` });
    assert.equal(dbl.status, 403);
    assert.equal(errorCode(dbl), 'SignatureDoesNotMatch');
    // A signed header changed after signing.
    const changed = await client.request({ method: 'PUT', key: 'changed', body: 'x', headers: { 'content-type': 'text/plain' },
      tamper: (h) => ({ ...h, 'content-type': 'application/json' }) });
    assert.equal(errorCode(changed), 'SignatureDoesNotMatch');
    // Wrong secret.
    const wrong = makeClient(front.endpoint, { credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'nope' } });
    const w = await wrong.request({ method: 'GET', key: HIVE_KEY });
    assert.equal(errorCode(w), 'SignatureDoesNotMatch');
    assert.equal(front.stats().signatureRejections, before + 4);
    assert.equal(await front.listObjects('lake', 'tampered').then((l) => l.length), 0);
  });

  it('other auth failures: unknown key, unsigned x-amz header, skew, anonymous', async () => {
    const other = makeClient(front.endpoint, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 's' } });
    assert.equal(errorCode(await other.request({ method: 'GET', key: 'k' })), 'InvalidAccessKeyId');
    const unsigned = await client.request({ method: 'PUT', key: 'k', body: 'x', extraUnsigned: { 'x-amz-storage-class': 'STANDARD_IA' } });
    assert.equal(unsigned.status, 403);
    assert.equal(errorCode(unsigned), 'AccessDenied');
    const skewed = await client.request({ method: 'GET', key: 'k', signingDate: new Date(Date.now() - 3_600_000) });
    assert.equal(errorCode(skewed), 'RequestTimeTooSkewed');
    const anon = await rawRequest(new URL(front.endpoint), 'GET', `/lake/${uriEncode('k')}`, {}, null);
    assert.equal(anon.status, 403);
  });

  it('a wrong payload hash gets 400 XAmzContentSHA256Mismatch, a wrong Content-MD5 400 BadDigest', async () => {
    const r = await client.request({ method: 'PUT', key: 'hash/wrong', body: 'the body', payloadHash: sha256Hex('another body') });
    assert.equal(r.status, 400, r.body.toString());
    assert.equal(errorCode(r), 'XAmzContentSHA256Mismatch');
    const m = await client.request({ method: 'PUT', key: 'hash/md5', body: 'the body', headers: { 'content-md5': md5b64('another body') } });
    assert.equal(m.status, 400);
    assert.equal(errorCode(m), 'BadDigest');
    assert.equal(front.stats().rejected.XAmzContentSHA256Mismatch, 1);
    assert.equal((await front.listObjects('lake', 'hash/')).length, 0);
  });

  it('If-None-Match: * on an existing key gets 412, on a new key passes', async () => {
    const key = 'cond/object.jsonl.gz';
    const first = await client.request({ method: 'PUT', key, body: 'one', headers: { 'if-none-match': '*' } });
    assert.equal(first.status, 200, first.body.toString());
    const second = await client.request({ method: 'PUT', key, body: 'two', headers: { 'if-none-match': '*' } });
    assert.equal(second.status, 412);
    assert.equal(errorCode(second), 'PreconditionFailed');
    assert.equal((await front.getObject(key)).toString(), 'one');
    // Two racing conditional PUTs of a new key: exactly one wins.
    const race = await Promise.all([1, 2, 3].map((i) => client.request({ method: 'PUT', key: 'cond/race', body: `v${i}`, headers: { 'if-none-match': '*' } })));
    assert.deepEqual(race.map((r) => r.status).sort(), [200, 412, 412]);
    // And on CompleteMultipartUpload.
    const create = await client.request({ method: 'POST', key, query: { uploads: '' } });
    const uploadId = xmlTags(create.body.toString(), 'UploadId')[0];
    const p = await client.request({ method: 'PUT', key, query: { partNumber: '1', uploadId }, body: 'part' });
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${p.headers.etag}</ETag></Part></CompleteMultipartUpload>`;
    const done = await client.request({ method: 'POST', key, query: { uploadId }, body: xml, headers: { 'if-none-match': '*' } });
    assert.equal(done.status, 412);
    assert.equal((await front.getObject(key)).toString(), 'one');
    await client.request({ method: 'DELETE', key, query: { uploadId } });
  });

  it('injected 503 SlowDown at a 30% rate is roughly honoured', async () => {
    front.setFaults({ slowDown: 0.3, seed: 7 });
    front.resetStats();
    const N = 300;
    let n503 = 0;
    for (let i = 0; i < N; i++) {
      const r = await client.request({ method: 'HEAD', key: HIVE_KEY });
      if (r.status === 503) n503++;
      else assert.equal(r.status, 200);
    }
    front.setFaults({});
    const s = front.stats();
    assert.equal(s.injected.slowDown, n503);
    assert.equal(s.byStatus['503'], n503);
    // Binomial(300, 0.3): mean 90, sd ~7.9.
    assert.ok(n503 > 55 && n503 < 125, `${n503} of ${N} answered 503`);
    const body = await client.request({ method: 'GET', key: HIVE_KEY, headers: {} }); // faults off again
    assert.equal(body.status, 200);
  });

  it('503 and 500 carry S3 XML bodies; a scripted fault applies to the next request only', async () => {
    front.setFaults({ script: ['slowDown', 'internalError', 'none'] });
    const a = await client.request({ method: 'GET', key: HIVE_KEY });
    assert.equal(a.status, 503);
    assert.equal(errorCode(a), 'SlowDown');
    const b = await client.request({ method: 'GET', key: HIVE_KEY });
    assert.equal(b.status, 500);
    assert.equal(errorCode(b), 'InternalError');
    assert.equal((await client.request({ method: 'GET', key: HIVE_KEY })).status, 200);
    assert.equal((await client.request({ method: 'GET', key: HIVE_KEY })).status, 200);
    // Per-operation scripts: only PUTs take them.
    front.setFaults({ scripts: { PutObject: ['internalError', 'none', 'slowDown'] } });
    assert.equal((await client.request({ method: 'GET', key: HIVE_KEY })).status, 200);
    assert.equal((await client.request({ method: 'PUT', key: 'scripted/a', body: 'a' })).status, 500);
    assert.equal((await client.request({ method: 'PUT', key: 'scripted/a', body: 'a' })).status, 200);
    assert.equal((await client.request({ method: 'HEAD', key: HIVE_KEY })).status, 200);
    assert.equal((await client.request({ method: 'PUT', key: 'scripted/a', body: 'a' })).status, 503);
    assert.equal((await client.request({ method: 'PUT', key: 'scripted/a', body: 'a' })).status, 200);
    assert.deepEqual(front.getFaults().scripts, { PutObject: [] });
    front.setFaults({});
  });

  it('reset destroys the connection; resetAfter does so after the write happened', async () => {
    front.setFaults({ script: ['reset'] });
    await assert.rejects(client.request({ method: 'PUT', key: 'reset/before', body: 'x' }), (e) => /ECONNRESET|socket hang up/.test(e.message + e.code));
    assert.equal((await front.listObjects('lake', 'reset/')).length, 0);
    front.setFaults({ script: ['resetAfter'] });
    await assert.rejects(client.request({ method: 'PUT', key: 'reset/after', body: 'y' }), (e) => /ECONNRESET|socket hang up/.test(e.message + e.code));
    assert.equal((await front.getObject('reset/after')).toString(), 'y');
    const s = front.stats();
    assert.equal(s.injected.reset, 1);
    assert.equal(s.injected.resetAfter, 1);
    front.setFaults({});
  });

  it('an outage switched on and off while running: 503 to all, resets for all, healed', async () => {
    front.resetStats();
    front.setOutage('503');
    for (let i = 0; i < 5; i++) {
      const r = await client.request({ method: 'PUT', key: 'outage/a', body: 'a' });
      assert.equal(r.status, 503);
      assert.equal(errorCode(r), 'SlowDown');
    }
    assert.equal((await client.request({ method: 'HEAD', key: HIVE_KEY })).status, 503);
    front.setOutage('reset');
    for (let i = 0; i < 5; i++) {
      await assert.rejects(client.request({ method: 'PUT', key: 'outage/a', body: 'a' }), (e) => /ECONNRESET|socket hang up/.test(e.message + e.code));
    }
    assert.equal((await front.listObjects('lake', 'outage/')).length, 0, 'nothing reached s3rver during the outage');
    front.setOutage('none');
    assert.equal((await client.request({ method: 'PUT', key: 'outage/a', body: 'a' })).status, 200);
    assert.equal((await front.getObject('outage/a')).toString(), 'a');
    const s = front.stats();
    assert.equal(s.injected.slowDown, 6);
    assert.equal(s.injected.reset, 5);
    assert.equal(front.getFaults().slowDown + front.getFaults().reset, 0, 'healed');
    assert.throws(() => front.setOutage('flood'), /no outage mode "flood"/);
    assert.deepEqual(Object.keys(OUTAGES).sort(), ['503', 'none', 'reset']);
  });

  it('latency is added', async () => {
    front.setFaults({ latencyMs: 300 });
    const t0 = Date.now();
    assert.equal((await client.request({ method: 'HEAD', key: HIVE_KEY })).status, 200);
    assert.ok(Date.now() - t0 >= 290, `took ${Date.now() - t0} ms`);
    front.setFaults({});
  });

  it('CompleteMultipartUpload can answer 200 with an <Error> body; a retry completes', async () => {
    front.setFaults({ completeError: 1 });
    const key = 'quirk/complete';
    const create = await client.request({ method: 'POST', key, query: { uploads: '' } });
    const uploadId = xmlTags(create.body.toString(), 'UploadId')[0];
    const p = await client.request({ method: 'PUT', key, query: { partNumber: '1', uploadId }, body: 'only part' });
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${p.headers.etag}</ETag></Part></CompleteMultipartUpload>`;
    const r = await client.request({ method: 'POST', key, query: { uploadId }, body: xml });
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /<Error><Code>InternalError<\/Code>/);
    assert.equal((await front.listObjects('lake', 'quirk/')).length, 0);
    front.setFaults({});
    const retry = await client.request({ method: 'POST', key, query: { uploadId }, body: xml });
    assert.equal(retry.status, 200);
    assert.match(retry.body.toString(), /<CompleteMultipartUploadResult>/);
    assert.equal((await front.getObject(key)).toString(), 'only part');
    assert.equal(front.stats().injected.completeError, 1);
  });

  it('faults and stats over the control endpoints', async () => {
    front.resetStats();
    const f = await control(front, 'POST', '/__faults', { internalError: 1, operations: ['PutObject'] });
    assert.equal(f.internalError, 1);
    assert.equal((await client.request({ method: 'PUT', key: 'ctl/x', body: 'x' })).status, 500);
    assert.equal((await client.request({ method: 'HEAD', key: HIVE_KEY })).status, 200);
    await control(front, 'POST', '/__faults', {});
    assert.equal((await client.request({ method: 'PUT', key: 'ctl/x', body: 'x' })).status, 200);
    const s = await control(front, 'GET', '/__stats');
    assert.ok(s.requests > 0);
    assert.ok(s.byOperation.PutObject > 0);
    assert.equal(s.injected.internalError, 1);
    await control(front, 'POST', '/__stats/reset', {});
    assert.equal((await control(front, 'GET', '/__stats')).requests, 0);
    const bad = await rawRequest(new URL(front.endpoint), 'POST', '/__faults', { 'content-length': '16' }, Buffer.from('{"slowDown": 2}.'));
    assert.equal(bad.status, 400);
  });
});

describe('the S3 front with a session token', { timeout: TEST_TIMEOUT_MS }, () => {
  let front;
  before(async () => { front = await startS3Front({ sessionToken: 'FwoGZXIvYXdzEtest//token+with/odd=chars' }); });
  after(async () => { await front?.close(); });

  it('accepts X-Amz-Security-Token when it matches and refuses it otherwise', async () => {
    const good = makeClient(front.endpoint, { sessionToken: 'FwoGZXIvYXdzEtest//token+with/odd=chars' });
    const r = await good.request({ method: 'PUT', key: 'tok/a', body: 'a' });
    assert.equal(r.status, 200, r.body.toString());
    const none = makeClient(front.endpoint);
    assert.equal(errorCode(await none.request({ method: 'PUT', key: 'tok/b', body: 'b' })), 'InvalidToken');
    const other = makeClient(front.endpoint, { sessionToken: 'other' });
    assert.equal(errorCode(await other.request({ method: 'PUT', key: 'tok/c', body: 'c' })), 'InvalidToken');
    // A token changed after signing.
    const t = await good.request({ method: 'PUT', key: 'tok/d', body: 'd', tamper: (h) => ({ ...h, 'x-amz-security-token': 'other' }) });
    assert.equal(t.status, 403);
  });
});

describe('the S3 front as a program', { timeout: TEST_TIMEOUT_MS }, () => {
  let dir;
  let child;
  before(() => { dir = mkdtempSync(join(tmpdir(), 's3front-cli-')); });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes its port file, serves, and exits 0 on SIGTERM', async () => {
    const portFile = join(dir, 'port');
    const s3rverDir = join(dir, 's3rver');
    child = spawn(process.execPath, [join(HERE, 's3_front.mjs'), '--port-file', portFile, '--s3rver-dir', s3rverDir,
      '--faults', JSON.stringify({ script: ['slowDown'] }), '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const end = Date.now() + 20_000;
    while (!existsSync(portFile)) {
      assert.ok(Date.now() < end, `no port file after 20 s: ${stderr}`);
      assert.equal(child.exitCode, null, `front exited: ${stderr}`);
      await sleep(50);
    }
    const port = Number(readFileSync(portFile, 'utf8').trim());
    const c = makeClient(`http://127.0.0.1:${port}`);
    const first = await c.request({ method: 'PUT', key: 'cli/x', body: 'x' });
    assert.equal(first.status, 503);
    const second = await c.request({ method: 'PUT', key: 'cli/x', body: 'x' });
    assert.equal(second.status, 200, second.body.toString());
    // The s3rver directory given holds the object.
    assert.ok(existsSync(join(s3rverDir, 'lake')));
    child.kill('SIGTERM');
    let timer;
    const res = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r('timeout'), 10_000); })]);
    clearTimeout(timer);
    assert.deepEqual(res, { code: 0, signal: null }, stderr);
  });
});
