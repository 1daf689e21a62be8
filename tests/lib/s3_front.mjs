// A verifying, fault-injecting front for s3rver: checks what real S3 checks and s3rver
// does not, and injects the failures real S3 produces, on demand.
//
// As a module:
//   const front = await startS3Front({ faults: { slowDown: 0.2 } });
//   ... point an S3 client at front.endpoint (path-style, region us-east-1) ...
//   front.stats(); front.setFaults({...}); front.setOutage('503'); await front.close();
//
// As a program (runs until SIGTERM/SIGINT):
//   node s3_front.mjs --port-file F [--s3rver-dir D] [--faults JSON] [--bucket lake]
//                     [--session-token T] [--info-file F.json]
//
// Every request is checked, in this order, and refused with S3's own error code:
//   - auth: an `Authorization: AWS4-HMAC-SHA256 ...` header (presigned URLs are not
//     served); the access key, the credential scope (date of x-amz-date, region, service
//     s3, aws4_request), the clock skew (15 min), `host`, `x-amz-date`,
//     `x-amz-content-sha256` and every other x-amz-* header signed, the session token
//     when one is configured; then the signature recomputed with @smithy/signature-v4
//     the way S3 does it (canonical URI = each path segment decoded, then URI-encoded
//     once; no normalisation) -> 403 SignatureDoesNotMatch with the canonical request and
//     string to sign in the body, as S3 does;
//   - payload: x-amz-content-sha256 equal to the SHA-256 of the body
//     (400 XAmzContentSHA256Mismatch; UNSIGNED-PAYLOAD is accepted and counted,
//     aws-chunked streaming is refused 501); Content-MD5 (400 BadDigest / InvalidDigest);
//     x-amz-checksum-{sha256,sha1,crc32,crc32c} (400 BadDigest); Content-Length required
//     on PutObject and UploadPart (411 MissingContentLength);
//   - conditional writes: `If-None-Match: *` on PutObject and CompleteMultipartUpload
//     answers 412 PreconditionFailed when the key exists (serialised per key);
//   - multipart: parts only for an open upload, part numbers 1..10000, Complete with
//     ascending part numbers, known parts and matching ETags, every part but the last at
//     least minPartSize (5 MiB) (400 InvalidPartOrder / InvalidPart / EntityTooSmall,
//     404 NoSuchUpload). AbortMultipartUpload and ListParts, which s3rver lacks, are
//     answered by the front from what it tracked.
// Then faults (see DEFAULT_FAULTS) and, when none fires, the request goes to s3rver with
// the Authorization header removed (s3rver only knows its own keys).
//
// Control endpoints (unsigned, never faulted): GET/POST /__faults (POST replaces the
// fault config with the JSON body), GET /__stats, POST /__stats/reset, GET /__writes.
// Addressing is path-style only: /<bucket>/<key>.

import assert from 'node:assert/strict';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

import S3rver from 's3rver';
import { SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';

export const TEST_CREDENTIALS = Object.freeze({
  accessKeyId: 'AKIDLAKEHOSETEST',
  secretAccessKey: 'lakehose/test/secret/key',
});
export const TEST_REGION = 'us-east-1';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// Fractions are probabilities per request (among requests whose operation is in
// `operations`, or all when it is null); they are drawn in this order from one number:
// slowDown, internalError, reset, resetAfter. `completeError` is drawn separately for
// CompleteMultipartUpload. `script` is a list of fault names applied, in order, to the
// next matching requests before any fraction is drawn ('none' lets one through);
// `scripts` holds such lists per operation, used first (deterministic coverage of each
// fault kind whatever the random draws).
export const DEFAULT_FAULTS = Object.freeze({
  slowDown: 0,       // 503 SlowDown, not forwarded
  internalError: 0,  // 500 InternalError, not forwarded
  reset: 0,          // connection reset before anything is forwarded
  resetAfter: 0,     // forwarded to s3rver (the write happens), then the connection reset
  completeError: 0,  // CompleteMultipartUpload answered 200 with an <Error> body, not forwarded
  latencyMs: 0,      // added before answering; a number or [min, max]
  operations: null,  // e.g. ['PutObject', 'UploadPart']; null = every operation
  script: [],        // e.g. ['slowDown', 'reset', 'none', 'completeError']
  scripts: {},       // per operation, before `script`: e.g. { CompleteMultipartUpload: ['completeError'] }
  seed: null,        // PRNG seed (null = random)
});
const FAULT_NAMES = ['slowDown', 'internalError', 'reset', 'resetAfter', 'completeError', 'none'];

// Whole-destination states for switching a running front (front.setOutage(mode), or POST
// /__faults with the same JSON): 'none' is healthy, '503' answers every request 503
// SlowDown, 'reset' resets every connection once its request is read (nothing reaches
// s3rver either way). A request already past the fault draw finishes as it started.
export const OUTAGES = Object.freeze({
  none: Object.freeze({}),
  503: Object.freeze({ slowDown: 1 }),
  reset: Object.freeze({ reset: 1 }),
});

const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024 * 1024;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const KEEP_REJECTIONS = 50;

// ---- small helpers ---------------------------------------------------------------------

const sha256Hex = (buf) => createHash('sha256').update(buf).digest('hex');

// S3's UriEncode: everything but A-Z a-z 0-9 - . _ ~ percent-encoded, UTF-8, upper-case hex.
export function uriEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// The canonical URI S3 computes from the path it received: each segment percent-decoded,
// then encoded once. No dot-segment removal, no slash merging.
export function s3CanonicalPath(rawPath) {
  return rawPath.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/');
}

function parseRawQuery(rawQuery) {
  const query = {};
  if (!rawQuery) return query;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (k in query) query[k] = [].concat(query[k], v);
    else query[k] = v;
  }
  return query;
}

const xmlEscape = (s) => String(s).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);
export const xmlUnescape = (s) => s.replace(/&(lt|gt|amp|apos|quot|#\d+|#x[0-9a-fA-F]+);/g, (m, e) => {
  switch (e) {
    case 'lt': return '<';
    case 'gt': return '>';
    case 'amp': return '&';
    case 'apos': return "'";
    case 'quot': return '"';
    default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  }
});

export function xmlTags(xml, tag) {
  const out = [];
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  let m;
  while ((m = re.exec(xml)) !== null) out.push(xmlUnescape(m[1]));
  return out;
}

// Asserts what a run through the front must show whatever faults it injected: every
// request signed right and authorized, and none refused but for a failed precondition (a
// conditional write whose earlier attempt landed), from front.stats().
export function assertFrontAccepted(stats) {
  const last = JSON.stringify(stats.lastRejections, null, 1);
  assert.equal(stats.signatureRejections, 0, `signature rejections: ${last}`);
  assert.equal(stats.authRejections, 0, `auth rejections: ${last}`);
  const { PreconditionFailed, ...otherRejections } = stats.rejected;
  assert.deepEqual(otherRejections, {}, `requests the front refused: ${last}`);
}

// mulberry32: small seeded PRNG so that a fault pattern can be replayed.
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82F63B78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32c(buf) {
  let c = 0xFFFFFFFF;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xFF] ^ (c >>> 8);
  return (c ^ 0xFFFFFFFF) >>> 0;
}
const u32be = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const CHECKSUMS = {
  'x-amz-checksum-sha256': (b) => createHash('sha256').update(b).digest('base64'),
  'x-amz-checksum-sha1': (b) => createHash('sha1').update(b).digest('base64'),
  'x-amz-checksum-crc32': zlib.crc32 ? (b) => u32be(zlib.crc32(b)).toString('base64') : null,
  'x-amz-checksum-crc32c': (b) => u32be(crc32c(b)).toString('base64'),
};

class S3Error extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

// ---- SigV4 verification (pure) ---------------------------------------------------------

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function parseAmzDate(s) {
  const m = AMZ_DATE_RE.exec(s ?? '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

// Recomputes an S3 SigV4 header signature with @smithy/signature-v4 from what was on the
// wire. `headers`: lower-case name -> value (node's req.headers). Returns
// {ok, expected, provided, canonicalRequest, stringToSign} or throws S3Error for a
// malformed or unacceptable Authorization header. Pure: `now` is passed in (null = do not
// check the skew).
export async function verifySigV4({ method, rawPath, rawQuery, headers, credentials, region, sessionToken = null, now = null }) {
  const auth = headers.authorization;
  if (auth === undefined) {
    if ('X-Amz-Algorithm' in parseRawQuery(rawQuery)) {
      throw new S3Error(501, 'NotImplemented', 'presigned URLs are not served by this front');
    }
    throw new S3Error(403, 'AccessDenied', 'Access Denied (anonymous request)');
  }
  const m = AUTH_RE.exec(auth);
  if (!m) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed: ${auth}`);
  }
  const [, credential, signedHeadersText, provided] = m;
  const scopeParts = credential.split('/');
  if (scopeParts.length !== 5) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `the Credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request": ${credential}`);
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scopeParts;
  if (accessKeyId !== credentials.accessKeyId) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  }
  if (scopeRegion !== region) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `the region '${scopeRegion}' is wrong; expecting '${region}'`, { Region: region });
  }
  if (scopeService !== 's3' || terminator !== 'aws4_request') {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `the credential scope must end in s3/aws4_request: ${credential}`);
  }
  const signedHeaders = signedHeadersText.split(';');
  const lower = signedHeaders.map((h) => h.toLowerCase());
  if (lower.join(';') !== signedHeadersText || [...lower].sort().join(';') !== signedHeadersText) {
    throw new S3Error(403, 'SignatureDoesNotMatch', `SignedHeaders must be lower-case and sorted: ${signedHeadersText}`);
  }
  // The date: x-amz-date, or Date when there is no x-amz-date.
  let signingDate;
  let longDate;
  if (headers['x-amz-date'] !== undefined) {
    longDate = headers['x-amz-date'];
    signingDate = parseAmzDate(longDate);
    if (!signingDate) throw new S3Error(403, 'AccessDenied', `X-Amz-Date is malformed: ${longDate}`);
  } else if (headers.date !== undefined) {
    signingDate = new Date(headers.date);
    if (Number.isNaN(signingDate.getTime())) throw new S3Error(403, 'AccessDenied', `Date is malformed: ${headers.date}`);
    longDate = signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '');
  } else {
    throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  if (longDate.slice(0, 8) !== scopeDate) {
    throw new S3Error(403, 'SignatureDoesNotMatch', `the credential scope date ${scopeDate} is not the date of the request ${longDate}`);
  }
  if (now !== null && Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.',
      { RequestTime: longDate, ServerTime: now.toISOString(), MaxAllowedSkewMilliseconds: MAX_SKEW_MS });
  }
  for (const required of ['host', 'x-amz-content-sha256']) {
    if (!lower.includes(required)) {
      throw new S3Error(403, 'AccessDenied', `the ${required} header must be signed (SignedHeaders=${signedHeadersText})`);
    }
  }
  if (headers['x-amz-date'] !== undefined && !lower.includes('x-amz-date')) {
    throw new S3Error(403, 'AccessDenied', 'the x-amz-date header must be signed');
  }
  const unsignedAmz = Object.keys(headers).filter((h) => h.startsWith('x-amz-') && !lower.includes(h));
  if (unsignedAmz.length > 0) {
    throw new S3Error(403, 'AccessDenied', `There were headers present in the request which were not signed: ${unsignedAmz.join(', ')}`,
      { HeadersNotSigned: unsignedAmz.join(', ') });
  }
  if (sessionToken !== null) {
    if (headers['x-amz-security-token'] === undefined) {
      throw new S3Error(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid (x-amz-security-token missing).');
    }
    if (headers['x-amz-security-token'] !== sessionToken) {
      throw new S3Error(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    }
  } else if (headers['x-amz-security-token'] !== undefined) {
    throw new S3Error(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid (no session token expected).');
  }
  const missing = lower.filter((h) => headers[h] === undefined);
  if (missing.length > 0) {
    throw new S3Error(403, 'SignatureDoesNotMatch', `signed headers absent from the request: ${missing.join(', ')}`);
  }

  let canonicalPath;
  try {
    canonicalPath = s3CanonicalPath(rawPath);
  } catch {
    throw new S3Error(400, 'InvalidURI', `Couldn't parse the specified URI: ${rawPath}`);
  }
  const request = {
    method,
    path: canonicalPath,
    query: parseRawQuery(rawQuery),
    headers: Object.fromEntries(lower.map((h) => [h, String(headers[h])])),
  };
  const creds = { ...credentials, ...(sessionToken !== null ? { sessionToken } : {}) };
  const signer = new SignatureV4({
    credentials: creds, region, service: 's3', sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false, applyChecksum: false,
  });
  // The building blocks of SignatureV4.signRequest, fed with the headers the client
  // signed (signRequest itself would drop a signed Date header and add its own).
  const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(lower));
  if (Object.keys(canonicalHeaders).sort().join(';') !== signedHeadersText) {
    throw new S3Error(403, 'SignatureDoesNotMatch', `cannot sign exactly the headers ${signedHeadersText}`);
  }
  const payloadHash = headers['x-amz-content-sha256'];
  const canonicalRequest = signer.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  const scope = `${scopeDate}/${region}/s3/aws4_request`;
  const stringToSign = await signer.createStringToSign(longDate, scope, canonicalRequest, 'AWS4-HMAC-SHA256');
  const expected = await signer.getSignature(longDate, scope,
    signer.getSigningKey(creds, region, scopeDate, 's3'), canonicalRequest);
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided.toLowerCase(), 'utf8');
  const ok = a.length === b.length && timingSafeEqual(a, b);
  return { ok, expected, provided, canonicalRequest, stringToSign, accessKeyId };
}

// ---- operations ------------------------------------------------------------------------

// Names an S3 operation from a path-style request.
export function operationOf(method, bucket, key, query) {
  const has = (q) => Object.prototype.hasOwnProperty.call(query, q);
  if (!bucket) return method === 'GET' ? 'ListBuckets' : 'Unknown';
  if (!key) {
    switch (method) {
      case 'PUT': return 'CreateBucket';
      case 'HEAD': return 'HeadBucket';
      case 'DELETE': return 'DeleteBucket';
      case 'POST': return has('delete') ? 'DeleteObjects' : 'Unknown';
      case 'GET':
        if (has('uploads')) return 'ListMultipartUploads';
        if (has('location')) return 'GetBucketLocation';
        return query['list-type'] === '2' ? 'ListObjectsV2' : 'ListObjects';
      default: return 'Unknown';
    }
  }
  switch (method) {
    case 'PUT':
      if (has('uploadId') || has('partNumber')) return 'UploadPart';
      return has('tagging') ? 'PutObjectTagging' : 'PutObject';
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      return 'Unknown';
    case 'DELETE': return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'GET': return has('uploadId') ? 'ListParts' : 'GetObject';
    case 'HEAD': return 'HeadObject';
    default: return 'Unknown';
  }
}

// ---- the front -------------------------------------------------------------------------

function newStats() {
  return {
    requests: 0,
    byOperation: {},
    byStatus: {},
    forwarded: 0,
    rejected: {},             // S3 error code -> count, for requests the checks refused
    signatureRejections: 0,   // SignatureDoesNotMatch
    authRejections: 0,        // every 403 of the auth checks (signature, key, token, skew...)
    injected: { slowDown: 0, internalError: 0, reset: 0, resetAfter: 0, completeError: 0, latency: 0 },
    unsignedPayload: 0,
    checksumsVerified: {},    // header -> count
    checksumsUnverified: {},  // x-amz-checksum-* the front cannot compute (e.g. crc64nvme)
    integrity: {},            // PutObject/UploadPart -> {md5, checksum, neither}: what guarded the body
    conditionalWrites: 0,     // writes with If-None-Match: *
    bytesIn: 0,
    uploads: { created: 0, completed: 0, aborted: 0 },
    lastRejections: [],
  };
}

function normaliseFaults(f) {
  const out = { ...DEFAULT_FAULTS, ...(f ?? {}) };
  for (const k of Object.keys(out)) {
    if (!(k in DEFAULT_FAULTS)) throw new Error(`unknown fault setting ${JSON.stringify(k)}`);
  }
  for (const k of ['slowDown', 'internalError', 'reset', 'resetAfter', 'completeError']) {
    if (typeof out[k] !== 'number' || out[k] < 0 || out[k] > 1) throw new Error(`fault ${k} must be a fraction in [0, 1]`);
  }
  if (out.slowDown + out.internalError + out.reset + out.resetAfter > 1) throw new Error('fault fractions add up to more than 1');
  if (!Array.isArray(out.script) || out.script.some((s) => !FAULT_NAMES.includes(s))) {
    throw new Error(`script must be a list of ${FAULT_NAMES.join('|')}`);
  }
  out.script = [...out.script];
  if (typeof out.scripts !== 'object' || out.scripts === null || Array.isArray(out.scripts)) throw new Error('scripts must map operation -> list');
  out.scripts = Object.fromEntries(Object.entries(out.scripts).map(([op, list]) => {
    if (!Array.isArray(list) || list.some((x) => !FAULT_NAMES.includes(x))) throw new Error(`scripts.${op} must be a list of ${FAULT_NAMES.join('|')}`);
    return [op, [...list]];
  }));
  return out;
}

function errorXml(code, message, requestId, extra = {}) {
  const fields = Object.entries(extra).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>${fields}` +
    `<RequestId>${requestId}</RequestId><HostId>${Buffer.from(requestId).toString('base64')}</HostId></Error>`;
}

// Starts s3rver and the front. Options: bucket ('lake'), buckets (list, overrides bucket),
// s3rverDir (default: a new temp dir, removed on close), credentials, region,
// sessionToken, faults, minPartSize, log (function for one line per rejected request).
export async function startS3Front(options = {}) {
  const credentials = options.credentials ?? TEST_CREDENTIALS;
  const region = options.region ?? TEST_REGION;
  const sessionToken = options.sessionToken ?? null;
  const minPartSize = options.minPartSize ?? MIN_PART_SIZE;
  const buckets = options.buckets ?? [options.bucket ?? 'lake'];
  const log = options.log ?? (() => {});
  const ownDir = !options.s3rverDir;
  const dir = options.s3rverDir ?? mkdtempSync(join(tmpdir(), 's3rver-'));
  mkdirSync(dir, { recursive: true });

  const s3rver = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: dir,
    configureBuckets: buckets.map((name) => ({ name })),
    allowMismatchedSignatures: true, vhostBuckets: false,
  });
  const s3rverAddr = await s3rver.run();
  const s3rverPort = s3rverAddr.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  let faults = normaliseFaults(options.faults);
  let random = prng(faults.seed ?? randomBytes(4).readUInt32LE());
  let stats = newStats();
  const uploads = new Map();   // uploadId -> {bucket, key, parts: Map(n -> {size, etag}), state}
  const writes = new Map();    // "bucket/key" -> {size, headers}
  const keyLocks = new Map();  // "bucket/key" -> promise tail
  let nextRequestId = 1;

  const count = (obj, k, n = 1) => { obj[k] = (obj[k] ?? 0) + n; };

  // One request to s3rver, unsigned; resolves {status, headers, body}.
  function toS3rver(method, path, headers, body) {
    return new Promise((resolveP, reject) => {
      const h = { ...headers };
      for (const k of ['authorization', 'host', 'expect', 'transfer-encoding', 'connection', 'keep-alive']) delete h[k];
      h.host = `127.0.0.1:${s3rverPort}`;
      h['content-length'] = String(body?.length ?? 0);
      const req = http.request({ host: '127.0.0.1', port: s3rverPort, method, path, headers: h, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolveP({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.setTimeout(60_000, () => req.destroy(new Error('s3rver did not answer in 60 s')));
      req.on('error', reject);
      req.end(body && body.length ? body : undefined);
    });
  }

  async function withKeyLock(k, fn) {
    const prev = keyLocks.get(k) ?? Promise.resolve();
    let release;
    const mine = new Promise((r) => { release = r; });
    const tail = prev.then(() => mine);
    keyLocks.set(k, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (keyLocks.get(k) === tail) keyLocks.delete(k);
    }
  }

  function drawFault(op) {
    if (faults.scripts[op]?.length > 0) {
      const s = faults.scripts[op].shift();
      return s === 'none' || (s === 'completeError' && op !== 'CompleteMultipartUpload') ? null : s;
    }
    if (faults.operations && !faults.operations.includes(op)) return null;
    if (faults.script.length > 0) {
      const s = faults.script.shift();
      if (s === 'completeError' && op !== 'CompleteMultipartUpload') return null;
      return s === 'none' ? null : s;
    }
    if (op === 'CompleteMultipartUpload' && faults.completeError > 0 && random() < faults.completeError) return 'completeError';
    const r = random();
    let acc = 0;
    for (const k of ['slowDown', 'internalError', 'reset', 'resetAfter']) {
      acc += faults[k];
      if (r < acc) return k;
    }
    return null;
  }

  function latency() {
    const l = faults.latencyMs;
    if (!l) return 0;
    if (Array.isArray(l)) return l[0] + random() * (l[1] - l[0]);
    return l;
  }

  function reject(ctx, err) {
    count(stats.rejected, err.code);
    if (err.status === 403) stats.authRejections++;
    if (err.code === 'SignatureDoesNotMatch') stats.signatureRejections++;
    const entry = { op: ctx.op, method: ctx.method, path: ctx.rawPath, query: ctx.rawQuery, status: err.status, code: err.code, message: err.message };
    if (err.extra?.CanonicalRequest) entry.canonicalRequest = err.extra.CanonicalRequest;
    stats.lastRejections.push(entry);
    if (stats.lastRejections.length > KEEP_REJECTIONS) stats.lastRejections.shift();
    log(`s3 front: ${err.status} ${err.code} for ${ctx.op} ${ctx.method} ${ctx.rawPath}${ctx.rawQuery ? `?${ctx.rawQuery}` : ''}: ${err.message}`);
  }

  function send(ctx, res, status, headers, body) {
    count(stats.byStatus, String(status));
    const h = { 'x-amz-request-id': ctx.requestId, 'x-amz-id-2': Buffer.from(ctx.requestId).toString('base64'), ...headers };
    if (ctx.method === 'HEAD') {
      res.writeHead(status, h);
      res.end();
      return;
    }
    const b = body ?? Buffer.alloc(0);
    h['content-length'] = String(Buffer.byteLength(b));
    res.writeHead(status, h);
    res.end(b);
  }

  function sendError(ctx, res, err) {
    send(ctx, res, err.status, { 'content-type': 'application/xml' }, errorXml(err.code, err.message, ctx.requestId, err.extra));
  }

  function resetSocket(res) {
    const sock = res.socket ?? res.req?.socket;
    if (!sock) return;
    if (typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
    else sock.destroy();
  }

  async function verifyPayload(ctx) {
    const { headers, body } = ctx;
    const claimed = headers['x-amz-content-sha256'];
    if (claimed === undefined) {
      throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    if (claimed === 'UNSIGNED-PAYLOAD') {
      stats.unsignedPayload++;
    } else if (claimed.startsWith('STREAMING-')) {
      throw new S3Error(501, 'NotImplemented', `this front does not decode aws-chunked payloads (${claimed})`);
    } else if (!/^[0-9a-f]{64}$/.test(claimed)) {
      throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.',
        { ArgumentName: 'x-amz-content-sha256', ArgumentValue: claimed });
    } else {
      const actual = sha256Hex(body);
      if (actual !== claimed) {
        throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: claimed, S3ComputedContentSHA256: actual });
      }
    }
    const md5 = headers['content-md5'];
    if (md5 !== undefined) {
      const raw = Buffer.from(md5, 'base64');
      if (raw.length !== 16 || raw.toString('base64') !== md5) {
        throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': md5 });
      }
      const actual = createHash('md5').update(body).digest('base64');
      if (actual !== md5) {
        throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.',
          { ExpectedDigest: md5, CalculatedDigest: actual });
      }
    }
    if (ctx.op === 'PutObject' || ctx.op === 'UploadPart') {
      const hasChecksum = Object.keys(headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-algorithm' && h !== 'x-amz-checksum-type');
      const i = stats.integrity[ctx.op] ?? (stats.integrity[ctx.op] = { md5: 0, checksum: 0, neither: 0 });
      if (md5 !== undefined) i.md5++;
      if (hasChecksum) i.checksum++;
      if (md5 === undefined && !hasChecksum) i.neither++;
    }
    for (const [h, fn] of Object.entries(CHECKSUMS)) {
      if (headers[h] === undefined || fn === null) continue;
      const actual = fn(body);
      if (actual !== headers[h]) {
        throw new S3Error(400, 'BadDigest', `The ${h.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`);
      }
      count(stats.checksumsVerified, h);
    }
    for (const h of Object.keys(headers)) {
      if (h.startsWith('x-amz-checksum-') && !['x-amz-checksum-algorithm', 'x-amz-checksum-type'].includes(h) && !CHECKSUMS[h]) count(stats.checksumsUnverified, h);
    }
  }

  async function keyExists(bucket, key) {
    const r = await toS3rver('HEAD', `/${uriEncode(bucket)}/${key.split('/').map(uriEncode).join('/')}`, {}, null);
    return r.status === 200;
  }

  // Answers CompleteMultipartUpload's checks; returns the upload.
  function checkComplete(ctx) {
    const u = uploads.get(ctx.query.uploadId);
    if (!u || u.state !== 'open' || u.bucket !== ctx.bucket || u.key !== ctx.key) {
      throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: ctx.query.uploadId });
    }
    const xml = ctx.body.toString('utf8');
    const partXml = xmlTags(xml, 'Part');
    if (!/<CompleteMultipartUpload[\s>]/.test(xml) || partXml.length === 0) {
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    }
    const parts = partXml.map((p) => ({ number: Number(xmlTags(p, 'PartNumber')[0]), etag: (xmlTags(p, 'ETag')[0] ?? '').replace(/"/g, '') }));
    for (let i = 0; i < parts.length; i++) {
      if (!Number.isInteger(parts[i].number) || (i > 0 && parts[i].number <= parts[i - 1].number)) {
        throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
      }
    }
    for (let i = 0; i < parts.length; i++) {
      const have = u.parts.get(parts[i].number);
      if (!have || have.etag !== parts[i].etag) {
        throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.',
          { UploadId: ctx.query.uploadId, PartNumber: parts[i].number, ETag: parts[i].etag });
      }
      if (i < parts.length - 1 && have.size < minPartSize) {
        throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.',
          { ProposedSize: have.size, MinSizeAllowed: minPartSize, PartNumber: parts[i].number });
      }
    }
    return u;
  }

  function listPartsXml(ctx, u) {
    const parts = [...u.parts.entries()].sort((a, b) => a[0] - b[0])
      .map(([n, p]) => `<Part><PartNumber>${n}</PartNumber><ETag>"${p.etag}"</ETag><Size>${p.size}</Size></Part>`).join('');
    return '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult>' +
      `<Bucket>${xmlEscape(u.bucket)}</Bucket><Key>${xmlEscape(u.key)}</Key><UploadId>${xmlEscape(ctx.query.uploadId)}</UploadId>` +
      `<MaxParts>10000</MaxParts><IsTruncated>false</IsTruncated>${parts}</ListPartsResult>`;
  }

  function recordWrite(ctx, size) {
    const keep = {};
    for (const [h, v] of Object.entries(ctx.headers)) {
      if (h.startsWith('x-amz-') || ['content-type', 'content-encoding', 'content-md5', 'if-none-match'].includes(h)) keep[h] = v;
    }
    writes.set(`${ctx.bucket}/${ctx.key}`, { size, headers: keep });
  }

  // Everything after the checks and faults: forward, track multipart state.
  async function forward(ctx) {
    const path = ctx.rawPath + (ctx.rawQuery ? `?${ctx.rawQuery}` : '');
    const r = await toS3rver(ctx.method, path, ctx.headers, ctx.body);
    stats.forwarded++;
    if (r.status === 200) {
      switch (ctx.op) {
        case 'CreateMultipartUpload': {
          const id = xmlTags(r.body.toString('utf8'), 'UploadId')[0];
          if (id) {
            uploads.set(id, { bucket: ctx.bucket, key: ctx.key, parts: new Map(), state: 'open', headers: ctx.headers });
            stats.uploads.created++;
          }
          break;
        }
        case 'UploadPart': {
          const u = uploads.get(ctx.query.uploadId);
          u?.parts.set(Number(ctx.query.partNumber), { size: ctx.body.length, etag: String(r.headers.etag ?? '').replace(/"/g, '') });
          break;
        }
        case 'CompleteMultipartUpload': {
          const u = uploads.get(ctx.query.uploadId);
          if (u) {
            u.state = 'completed';
            stats.uploads.completed++;
            const size = [...u.parts.values()].reduce((a, p) => a + p.size, 0);
            recordWrite({ ...ctx, headers: { ...u.headers, ...ctx.headers } }, size);
          }
          break;
        }
        case 'PutObject':
          recordWrite(ctx, ctx.body.length);
          break;
        default:
      }
    }
    const headers = {};
    for (const [k, v] of Object.entries(r.headers)) {
      if (!['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'x-amz-request-id', 'x-amz-id-2'].includes(k)) headers[k] = v;
    }
    return { status: r.status, headers, body: r.body };
  }

  async function handle(req, res) {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    const chunks = [];
    let size = 0;
    for await (const c of req) {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(c);
    }
    const body = Buffer.concat(chunks);

    // Control endpoints.
    if (rawPath.startsWith('/__')) {
      const json = (status, obj) => {
        const b = JSON.stringify(obj, null, 1);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) }).end(b);
      };
      try {
        if (rawPath === '/__faults' && req.method === 'GET') return json(200, faults);
        if (rawPath === '/__faults' && req.method === 'POST') {
          api.setFaults(body.length ? JSON.parse(body.toString('utf8')) : {});
          return json(200, faults);
        }
        if (rawPath === '/__stats' && req.method === 'GET') return json(200, api.stats());
        if (rawPath === '/__stats/reset' && req.method === 'POST') { api.resetStats(); return json(200, {}); }
        if (rawPath === '/__writes' && req.method === 'GET') return json(200, Object.fromEntries(writes));
        return json(404, { error: `no control endpoint ${req.method} ${rawPath}` });
      } catch (e) {
        return json(400, { error: e.message });
      }
    }

    const ctx = {
      method: req.method, rawPath, rawQuery, headers: req.headers, body,
      requestId: `LH${String(nextRequestId++).padStart(14, '0')}`,
    };
    stats.requests++;
    stats.bytesIn += body.length;
    try {
      ctx.query = parseRawQuery(rawQuery);
      const segs = rawPath.split('/');
      ctx.bucket = segs[1] ? decodeURIComponent(segs[1]) : '';
      ctx.key = segs.length > 2 ? segs.slice(2).map((s) => decodeURIComponent(s)).join('/') : '';
    } catch {
      ctx.op = 'Unknown';
      const err = new S3Error(400, 'InvalidURI', `Couldn't parse the specified URI: ${url}`);
      reject(ctx, err);
      return sendError(ctx, res, err);
    }
    ctx.op = operationOf(req.method, ctx.bucket, ctx.key, ctx.query);
    count(stats.byOperation, ctx.op);

    try {
      // 1. Auth.
      const v = await verifySigV4({ method: req.method, rawPath, rawQuery, headers: req.headers, credentials, region, sessionToken, now: new Date() });
      if (!v.ok) {
        throw new S3Error(403, 'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
          { AWSAccessKeyId: v.accessKeyId, StringToSign: v.stringToSign, SignatureProvided: v.provided, CanonicalRequest: v.canonicalRequest });
      }
      // 2. Payload and request shape.
      await verifyPayload(ctx);
      if ((ctx.op === 'PutObject' || ctx.op === 'UploadPart') && req.headers['content-length'] === undefined) {
        throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
      }
      if (ctx.op === 'Unknown') throw new S3Error(501, 'NotImplemented', `this front does not serve ${req.method} ${url}`);
      const inm = req.headers['if-none-match'];
      const conditional = (ctx.op === 'PutObject' || ctx.op === 'CompleteMultipartUpload') && inm !== undefined;
      if (conditional && inm.trim() !== '*') {
        throw new S3Error(501, 'NotImplemented', `If-None-Match other than * is not supported on writes: ${inm}`);
      }
      if ((ctx.op === 'PutObject' || ctx.op === 'CompleteMultipartUpload') && req.headers['if-match'] !== undefined) {
        throw new S3Error(501, 'NotImplemented', 'If-Match on writes is not supported by this front');
      }
      if (ctx.op === 'UploadPart') {
        const n = Number(ctx.query.partNumber);
        if (!Number.isInteger(n) || n < 1 || n > 10000) {
          throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
            { ArgumentName: 'partNumber', ArgumentValue: String(ctx.query.partNumber) });
        }
        const u = uploads.get(ctx.query.uploadId);
        if (!u || u.state !== 'open' || u.bucket !== ctx.bucket || u.key !== ctx.key) {
          throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.', { UploadId: String(ctx.query.uploadId) });
        }
      }
      if (ctx.op === 'AbortMultipartUpload' || ctx.op === 'ListParts') {
        const u = uploads.get(ctx.query.uploadId);
        if (!u || u.state !== 'open' || u.bucket !== ctx.bucket || u.key !== ctx.key) {
          throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.', { UploadId: String(ctx.query.uploadId) });
        }
      }
      if (ctx.op === 'CompleteMultipartUpload') checkComplete(ctx);

      // 3. Faults.
      const fault = drawFault(ctx.op);
      const wait = latency();
      if (wait > 0) {
        stats.injected.latency++;
        await new Promise((r) => setTimeout(r, wait));
      }
      switch (fault) {
        case 'slowDown':
          stats.injected.slowDown++;
          return sendError(ctx, res, new S3Error(503, 'SlowDown', 'Please reduce your request rate.'));
        case 'internalError':
          stats.injected.internalError++;
          return sendError(ctx, res, new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'));
        case 'reset':
          stats.injected.reset++;
          return resetSocket(res);
        case 'completeError':
          if (ctx.op === 'CompleteMultipartUpload') {
            stats.injected.completeError++;
            return send(ctx, res, 200, { 'content-type': 'application/xml' },
              errorXml('InternalError', 'We encountered an internal error. Please try again.', ctx.requestId));
          }
          break;
        default:
      }

      // 4. Conditional writes, serialised per key; then s3rver.
      const run = async () => {
        if (conditional) {
          stats.conditionalWrites++;
          if (await keyExists(ctx.bucket, ctx.key)) {
            throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
          }
        }
        if (ctx.op === 'AbortMultipartUpload') {
          uploads.get(ctx.query.uploadId).state = 'aborted';
          stats.uploads.aborted++;
          return { status: 204, headers: {}, body: null };
        }
        if (ctx.op === 'ListParts') {
          return { status: 200, headers: { 'content-type': 'application/xml' }, body: listPartsXml(ctx, uploads.get(ctx.query.uploadId)) };
        }
        return forward(ctx);
      };
      const out = conditional ? await withKeyLock(`${ctx.bucket}/${ctx.key}`, run) : await run();
      if (fault === 'resetAfter') {
        stats.injected.resetAfter++;
        return resetSocket(res);
      }
      return send(ctx, res, out.status, out.headers, out.body);
    } catch (err) {
      if (!(err instanceof S3Error)) {
        log(`s3 front: internal failure on ${ctx.op} ${url}: ${err.stack ?? err}`);
        return sendError(ctx, res, new S3Error(500, 'InternalError', `front failure: ${err.message}`));
      }
      reject(ctx, err);
      return sendError(ctx, res, err);
    }
  }

  const server = http.createServer({ keepAlive: true, requestTimeout: 300_000 }, (req, res) => {
    handle(req, res).catch((err) => {
      log(`s3 front: ${err.stack ?? err}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r, j) => server.listen(options.port ?? 0, '127.0.0.1', (e) => (e ? j(e) : r())));
  const port = server.address().port;

  // Direct, unsigned access to s3rver (what is really stored).
  async function listObjects(bucket = buckets[0], prefix = '') {
    const out = [];
    let startAfter = '';
    for (;;) {
      const q = `list-type=2&max-keys=1000&prefix=${uriEncode(prefix)}${startAfter ? `&start-after=${uriEncode(startAfter)}` : ''}`;
      const r = await toS3rver('GET', `/${uriEncode(bucket)}?${q}`, {}, null);
      if (r.status !== 200) throw new Error(`s3rver list failed: ${r.status} ${r.body}`);
      const xml = r.body.toString('utf8');
      const contents = xmlTags(xml, 'Contents');
      for (const c of contents) out.push({ key: xmlTags(c, 'Key')[0], size: Number(xmlTags(c, 'Size')[0]) });
      if (xmlTags(xml, 'IsTruncated')[0] !== 'true' || contents.length === 0) break;
      startAfter = out[out.length - 1].key;
    }
    return out;
  }
  async function getObject(key, bucket = buckets[0]) {
    const r = await toS3rver('GET', `/${uriEncode(bucket)}/${key.split('/').map(uriEncode).join('/')}`, {}, null);
    if (r.status !== 200) throw new Error(`s3rver get ${key} failed: ${r.status} ${r.body}`);
    return r.body;
  }
  async function downloadAll(destDir, bucket = buckets[0], prefix = '') {
    const objects = await listObjects(bucket, prefix);
    for (const o of objects) {
      const dest = join(destDir, ...o.key.split('/'));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, await getObject(o.key, bucket));
    }
    return objects;
  }

  let closed = false;
  const api = {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    s3rverPort,
    s3rverEndpoint: `http://127.0.0.1:${s3rverPort}`,
    dir,
    bucket: buckets[0],
    credentials,
    region,
    setFaults(f) {
      faults = normaliseFaults(f);
      random = prng(faults.seed ?? randomBytes(4).readUInt32LE());
      return faults;
    },
    getFaults: () => structuredClone(faults),
    setOutage(mode) {
      if (!Object.hasOwn(OUTAGES, mode)) throw new Error(`no outage mode ${JSON.stringify(mode)}; modes: ${Object.keys(OUTAGES).join(', ')}`);
      return api.setFaults(OUTAGES[mode]);
    },
    stats: () => ({
      ...structuredClone(stats),
      openUploads: [...uploads.entries()].filter(([, u]) => u.state === 'open').map(([id, u]) => ({ uploadId: id, key: u.key, parts: u.parts.size })),
    }),
    resetStats() { stats = newStats(); },
    writes: () => Object.fromEntries(writes),
    listObjects,
    getObject,
    downloadAll,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise((r) => { server.close(() => r()); server.closeAllConnections(); });
      agent.destroy();
      s3rver.httpServer?.closeAllConnections?.();
      await s3rver.close().catch(() => {});
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}

// ---- CLI -------------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: {
      'port-file': { type: 'string' },
      'info-file': { type: 'string' },
      's3rver-dir': { type: 'string' },
      faults: { type: 'string' },
      bucket: { type: 'string', multiple: true },
      'session-token': { type: 'string' },
      'min-part-size': { type: 'string' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values['port-file']) {
    console.error('usage: node s3_front.mjs --port-file F [--info-file F.json] [--s3rver-dir D] [--faults JSON] [--bucket NAME]... [--session-token T] [--min-part-size BYTES] [--quiet]');
    process.exit(2);
  }
  const front = await startS3Front({
    s3rverDir: values['s3rver-dir'],
    faults: values.faults ? JSON.parse(values.faults) : undefined,
    buckets: values.bucket?.length ? values.bucket : undefined,
    sessionToken: values['session-token'],
    minPartSize: values['min-part-size'] ? Number(values['min-part-size']) : undefined,
    log: values.quiet ? undefined : (line) => console.error(line),
  });
  if (values['info-file']) {
    writeFileSync(values['info-file'], JSON.stringify({
      port: front.port, endpoint: front.endpoint, s3rverPort: front.s3rverPort, s3rverEndpoint: front.s3rverEndpoint,
      s3rverDir: front.dir, bucket: front.bucket, accessKeyId: front.credentials.accessKeyId,
      secretAccessKey: front.credentials.secretAccessKey, region: front.region,
    }, null, 1));
  }
  // Written last, atomically: its presence means ready.
  writeFileSync(`${values['port-file']}.tmp`, `${front.port}\n`);
  (await import('node:fs')).renameSync(`${values['port-file']}.tmp`, values['port-file']);
  console.error(`s3 front on ${front.endpoint} (s3rver ${front.s3rverEndpoint}, dir ${front.dir}, bucket ${front.bucket})`);
  const stop = async (sig) => {
    console.error(`s3 front: ${sig}, stats: ${JSON.stringify({ ...front.stats(), lastRejections: undefined })}`);
    await front.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err.stack ?? String(err));
    process.exit(1);
  });
}

// Exposed for tests of the front itself.
export { S3Error, parseRawQuery };
