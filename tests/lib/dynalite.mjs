// DynamoDB for the black-box suites of `lakehose backfill --scan` (issue 16): dynalite (an
// implementation of DynamoDB's API, in memory) in this process, helpers to create and
// fill its tables with @aws-sdk/client-dynamodb, and a front in its place that checks
// what DynamoDB checks and dynalite does not (SigV4, X-Amz-Target, content type), injects
// DynamoDB's throttling and server errors, and records every Scan so a test can assert
// how a scan was split, paced and resumed.
//
//   import { startDynalite, createTable, loadItems, startDynamoFront, DDB_CREDENTIALS } from './dynalite.mjs';
//   const ddb = await startDynalite();
//   await createTable(ddb.endpoint, 'orders', ['pk', 'S'], ['sk', 'N']);
//   await loadItems(ddb.endpoint, 'orders', makeItems(50_000, 1, { sortKey: true }));  // ddb_export.mjs
//   const front = await startDynamoFront({ target: ddb.endpoint, faults: { throttle: 0.1, seed: 7 },
//                                          checkSignature: { ...DDB_CREDENTIALS, region: 'us-east-1' } });
//   ... point lakehose at front.endpoint ...
//   front.stats().injected.throttle; front.scans.filter((s) => s.segment === 2);
//   front.setFaults({ internal: 1 }); await front.close(); await ddb.close();
//
// The front, per request, in this order (a refusal is answered with DynamoDB's own error
// shape and counted; nothing refused reaches dynalite):
//   - POST / with Content-Type application/x-amz-json-1.0 (else 404, as DynamoDB and
//     dynalite answer an unknown protocol: `<UnknownOperationException/>`), and
//     X-Amz-Target DynamoDB_20120810.<Op> (else 400 UnknownOperationException);
//   - with checkSignature: an `Authorization: AWS4-HMAC-SHA256` header whose scope is
//     <date>/<region>/dynamodb/aws4_request for the configured key, host and x-amz-date
//     signed, a date within 15 minutes, and the signature recomputed with
//     @smithy/signature-v4 over the body received (400 MissingAuthenticationToken,
//     IncompleteSignature, UnrecognizedClient, InvalidSignature: com.amazon.coral.service);
//   - the body JSON (400 SerializationException);
//   - then a fault may be drawn (operations in faults.operations, Scan by default):
//       throughput    400 com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException
//       throttle      400 com.amazon.coral.availability#ThrottlingException
//       requestLimit  400 com.amazonaws.dynamodb.v20120810#RequestLimitExceeded
//       internal      500 com.amazonaws.dynamodb.v20120810#InternalServerError
//       reset         the connection closed with no answer
//     with the messages DynamoDB sends, ThrottlingReasons (as DynamoDB has sent since
//     2025) on the throttling ones, x-amzn-RequestId and x-amz-crc32 (the CRC32 of the
//     body, which DynamoDB clients may check);
//   - else the request goes to dynalite unchanged and its answer comes back unchanged.
// With faults.unprocessed, a BatchWriteItem writes only the first half of its requests
// and answers the rest in UnprocessedItems (for the loaders' retries).
// Every Scan is recorded in front.scans: { seq, tableName, segment, totalSegments,
// exclusiveStartKey, limit, consistentRead, select, returnConsumedCapacity, atMs and
// answeredMs (ms since the front started: pacing), fault (kind or null), status, count,
// scannedCount, lastEvaluatedKey, consumedCapacity, responseBytes } (keys in DynamoDB
// JSON as on the wire).
//
// The API (each is documented where it is defined): startDynalite(options),
// ddbClient(endpoint, options), createTable(endpoint, name, hashKey, rangeKey),
// loadItems(endpoint, table, items, options), scanAll(endpoint, table, options),
// startDynamoFront(options), DEFAULT_DYNAMO_FAULTS, verifyDynamoSigV4(request),
// DynamoError, crc32(bytes), DDB_CREDENTIALS, DDB_REGION, DDB_ACCOUNT.
//
// Everything here is asynchronous; nothing blocks the event loop the suites share.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';

import {
  BatchWriteItemCommand, CreateTableCommand, DescribeTableCommand, DynamoDBClient, ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Hash } from '@smithy/hash-node';
import { SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';
import dynalite from 'dynalite';

import { parseAmzDate, parseRawQuery, prng } from './s3_front.mjs';

export const DDB_CREDENTIALS = Object.freeze({
  accessKeyId: 'AKIDLAKEHOSEDDB',
  secretAccessKey: 'lakehose/test/ddb/secret',
});
export const DDB_REGION = 'us-east-1';
export const DDB_ACCOUNT = '111122223333';

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_RE = /^DynamoDB_20120810\.([A-Za-z]+)$/;
const MAX_BODY_BYTES = 16 * 1024 * 1024;  // dynalite's limit too
const MAX_SKEW_MS = 15 * 60 * 1000;
const KEEP_REJECTIONS = 50;
const BATCH_SIZE = 25;  // BatchWriteItem's limit

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function listen(server, host, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(server.address().port); });
  });
}

// Closes a server and every connection it holds (keep-alive ones included).
function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// ---- dynalite and the SDK --------------------------------------------------------------

// Starts dynalite on host:port (127.0.0.1, a free port), tables ACTIVE at once. Options
// are dynalite's (createTableMs, deleteTableMs, updateTableMs default 0; maxItemSizeKb;
// path for a LevelDB directory, default in memory). Returns { endpoint, port, server,
// close() }.
export async function startDynalite({ host = '127.0.0.1', port = 0, ...options } = {}) {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...options });
  const bound = await listen(server, host, port);
  let closed = false;
  return {
    endpoint: `http://${host}:${bound}`,
    port: bound,
    server,
    async close() {
      if (closed) return;
      closed = true;
      await closeServer(server);
    },
  };
}

// A DynamoDB client for an endpoint: the test credentials and region unless given,
// maxAttempts 3 (the SDK's default) unless given. The credentials are copied: the SDK
// writes into the object it is given (and DDB_CREDENTIALS is frozen).
export function ddbClient(endpoint, { credentials = DDB_CREDENTIALS, region = DDB_REGION, maxAttempts = 3, ...rest } = {}) {
  return new DynamoDBClient({ endpoint, region, credentials: { ...credentials }, maxAttempts, ...rest });
}

async function withClient(endpoint, client, fn) {
  const own = client ?? ddbClient(endpoint);
  try {
    return await fn(own);
  } finally {
    if (!client) own.destroy();
  }
}

// Creates a table, on-demand, keyed by hashKey [name, 'S'|'N'|'B'] and optionally
// rangeKey, and waits (at most 10 s) until it is ACTIVE. dynalite, like DynamoDB, wants
// names of 3 to 255 characters. Options: client (else one is made and destroyed).
export async function createTable(endpoint, name, hashKey = ['pk', 'S'], rangeKey = null, { client = null } = {}) {
  if (typeof name !== 'string' || name.length < 3) throw new Error(`table names have 3 characters or more: ${JSON.stringify(name)}`);
  const keys = [[...hashKey, 'HASH'], ...(rangeKey ? [[...rangeKey, 'RANGE']] : [])];
  return withClient(endpoint, client, async (c) => {
    await c.send(new CreateTableCommand({
      TableName: name,
      KeySchema: keys.map(([AttributeName, , KeyType]) => ({ AttributeName, KeyType })),
      AttributeDefinitions: keys.map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
      BillingMode: 'PAY_PER_REQUEST',
    }));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { Table } = await c.send(new DescribeTableCommand({ TableName: name }));
      if (Table.TableStatus === 'ACTIVE') return Table;
      if (Date.now() > deadline) throw new Error(`table ${name} still ${Table.TableStatus} after 10 s`);
      await sleep(20);
    }
  });
}

// Writes items with BatchWriteItem, 25 a request, `concurrency` requests at a time,
// retrying UnprocessedItems with backoff at most maxRetries times per batch. items: JS
// values (marshalled here, as ddb_export.mjs makeItems gives them) or, with typed: true,
// DynamoDB attribute maps. Returns { written, requests, unprocessedRetries }.
export async function loadItems(endpoint, table, items, { client = null, concurrency = 4, maxRetries = 8, typed = false } = {}) {
  const batches = [];
  for (let i = 0; i < items.length; i += BATCH_SIZE) batches.push(items.slice(i, i + BATCH_SIZE));
  const result = { written: 0, requests: 0, unprocessedRetries: 0 };
  return withClient(endpoint, client, async (c) => {
    let next = 0;
    async function worker() {
      while (next < batches.length) {
        const batch = batches[next++];
        let requests = batch.map((it) => ({ PutRequest: { Item: typed ? it : marshall(it, { removeUndefinedValues: true }) } }));
        for (let attempt = 0; ; ++attempt) {
          result.requests++;
          const out = await c.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
          const left = out.UnprocessedItems?.[table] ?? [];
          result.written += requests.length - left.length;
          if (left.length === 0) break;
          if (attempt >= maxRetries) throw new Error(`${left.length} items still unprocessed after ${maxRetries} retries`);
          result.unprocessedRetries++;
          requests = left;
          await sleep(Math.min(1000, 10 * 2 ** attempt));
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batches.length)) }, worker));
    return result;
  });
}

// A parallel Scan of the whole table (segments at once, each to its end), as attribute
// maps. Options: client, segments (1), limit, consistentRead, maxPages (bound, 100000).
// Returns { items, pages }.
export async function scanAll(endpoint, table, { client = null, segments = 1, limit, consistentRead, maxPages = 100_000 } = {}) {
  return withClient(endpoint, client, async (c) => {
    let pages = 0;
    const parts = await Promise.all(Array.from({ length: segments }, async (_, segment) => {
      const out = [];
      let start;
      do {
        if (++pages > maxPages) throw new Error(`more than ${maxPages} Scan pages`);
        const page = await c.send(new ScanCommand({
          TableName: table, ExclusiveStartKey: start, Limit: limit, ConsistentRead: consistentRead,
          ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}),
        }));
        out.push(...page.Items);
        start = page.LastEvaluatedKey;
      } while (start);
      return out;
    }));
    return { items: parts.flat(), pages };
  });
}

// ---- SigV4 as DynamoDB checks it ---------------------------------------------------------

export class DynamoError extends Error {
  // type: the __type after '#'; namespace: the part before it.
  constructor(status, type, message, namespace = 'com.amazonaws.dynamodb.v20120810', extra = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.namespace = namespace;
    this.extra = extra;
  }

  body() {
    return { __type: `${this.namespace}#${this.type}`, message: this.message, ...this.extra };
  }
}

const coral = (type, message) => new DynamoError(400, type, message, 'com.amazon.coral.service');
const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$/;
const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

// Checks a request's SigV4 header signature the way DynamoDB does: the canonical request
// over the body received (DynamoDB needs no x-amz-content-sha256). `headers`: node's
// req.headers. Throws DynamoError (400, com.amazon.coral.service#...) for what DynamoDB
// refuses; returns { canonicalRequest, stringToSign } when the signature matches. Pure:
// `now` is passed in (null: no skew check).
export async function verifyDynamoSigV4({ method, rawPath, rawQuery = '', headers, body, credentials, region, sessionToken = null, now = null }) {
  const auth = headers.authorization;
  if (auth === undefined || !auth.trim().startsWith('AWS4-')) throw coral('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
  const m = AUTH_RE.exec(auth);
  if (!m) throw coral('IncompleteSignatureException', `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth}`);
  const [, credential, signedHeadersText, provided] = m;
  const scope = credential.split('/');
  if (scope.length !== 5) throw coral('IncompleteSignatureException', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scope;
  if (accessKeyId !== credentials.accessKeyId) throw coral('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (scopeRegion !== region) throw coral('InvalidSignatureException', `Credential should be scoped to a valid region, not '${scopeRegion}'. `);
  if (scopeService !== 'dynamodb') throw coral('InvalidSignatureException', `Credential should be scoped to correct service: 'dynamodb'. `);
  if (terminator !== 'aws4_request') throw coral('InvalidSignatureException', `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `);
  const signed = signedHeadersText.split(';');
  if (signed.some((h) => h !== h.toLowerCase()) || [...signed].sort().join(';') !== signedHeadersText) {
    throw coral('InvalidSignatureException', MISMATCH);
  }
  if (!signed.includes('host')) throw coral('InvalidSignatureException', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const longDate = headers['x-amz-date'];
  if (longDate === undefined) throw coral('IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (!signed.includes('x-amz-date')) throw coral('InvalidSignatureException', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  const date = parseAmzDate(longDate);
  if (!date) throw coral('IncompleteSignatureException', `Date must be in ISO-8601 'basic format'. Got '${longDate}'.`);
  if (longDate.slice(0, 8) !== scopeDate) throw coral('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${longDate.slice(0, 8)}'`);
  if (now !== null && Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) {
    throw coral('InvalidSignatureException', `Signature expired: ${longDate} is now earlier than ${new Date(now.getTime() - MAX_SKEW_MS).toISOString().replace(/[-:]|\.\d{3}/g, '')}`);
  }
  if (sessionToken !== null && headers['x-amz-security-token'] !== sessionToken) {
    throw coral('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (signed.some((h) => headers[h] === undefined)) throw coral('InvalidSignatureException', MISMATCH);

  const request = {
    method,
    path: decodeURIComponent(rawPath),
    query: parseRawQuery(rawQuery),
    headers: Object.fromEntries(signed.map((h) => [h, String(headers[h])])),
  };
  const creds = { ...credentials, ...(sessionToken !== null ? { sessionToken } : {}) };
  const signer = new SignatureV4({ credentials: creds, region, service: 'dynamodb', sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signed));
  if (Object.keys(canonicalHeaders).sort().join(';') !== signedHeadersText) throw coral('InvalidSignatureException', MISMATCH);
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const canonicalRequest = signer.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  const credentialScope = `${scopeDate}/${region}/dynamodb/aws4_request`;
  const stringToSign = await signer.createStringToSign(longDate, credentialScope, canonicalRequest, 'AWS4-HMAC-SHA256');
  const expected = await signer.getSignature(longDate, credentialScope, signer.getSigningKey(creds, region, scopeDate, 'dynamodb'), canonicalRequest);
  const a = Buffer.from(expected);
  const b = Buffer.from(provided.toLowerCase());
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    const err = coral('InvalidSignatureException', `${MISMATCH}\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`);
    err.canonicalRequest = canonicalRequest;
    throw err;
  }
  return { canonicalRequest, stringToSign };
}

// ---- the front ---------------------------------------------------------------------------

// Fractions are probabilities per request among the operations in `operations` (null:
// every operation), drawn in this order from one number: throughput, throttle,
// requestLimit, internal, reset. `script` lists faults (or 'none') applied in order to
// the next matching requests before any fraction is drawn.
export const DEFAULT_DYNAMO_FAULTS = Object.freeze({
  throughput: 0,          // 400 ProvisionedThroughputExceededException
  throttle: 0,            // 400 ThrottlingException
  requestLimit: 0,        // 400 RequestLimitExceeded
  internal: 0,            // 500 InternalServerError
  reset: 0,               // connection closed, no answer
  unprocessed: 0,         // BatchWriteItem (whatever `operations` says): half its writes left in UnprocessedItems
  latencyMs: 0,           // added before answering (faults and forwarded requests): number or [min, max]
  operations: ['Scan'],
  script: [],
  throttlingReasons: true,  // ThrottlingReasons in the throttling errors' bodies
  seed: null,             // PRNG seed (null: random)
});
const FAULT_KINDS = ['throughput', 'throttle', 'requestLimit', 'internal', 'reset'];

function normaliseDynamoFaults(f) {
  const out = { ...DEFAULT_DYNAMO_FAULTS, ...(f ?? {}) };
  for (const k of Object.keys(out)) {
    if (!(k in DEFAULT_DYNAMO_FAULTS)) throw new Error(`unknown fault setting ${JSON.stringify(k)}`);
  }
  let sum = 0;
  for (const k of [...FAULT_KINDS, 'unprocessed']) {
    if (typeof out[k] !== 'number' || out[k] < 0 || out[k] > 1) throw new Error(`fault ${k} must be a fraction in [0, 1]`);
    if (k !== 'unprocessed') sum += out[k];
  }
  if (sum > 1) throw new Error('fault fractions add up to more than 1');
  if (!Array.isArray(out.script) || out.script.some((s) => s !== 'none' && !FAULT_KINDS.includes(s))) {
    throw new Error(`script must be a list of ${FAULT_KINDS.join('|')}|none`);
  }
  out.script = [...out.script];
  if (out.operations !== null && !Array.isArray(out.operations)) throw new Error('operations must be a list or null');
  return out;
}

function faultError(kind, tableArn, throttlingReasons) {
  const reasons = (reason) => (throttlingReasons && tableArn ? { ThrottlingReasons: [{ reason, resource: tableArn }] } : {});
  switch (kind) {
    case 'throughput':
      return new DynamoError(400, 'ProvisionedThroughputExceededException',
        'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        undefined, reasons('TableReadProvisionedThroughputExceeded'));
    case 'throttle':
      return new DynamoError(400, 'ThrottlingException',
        'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html',
        'com.amazon.coral.availability', reasons('TableReadKeyRangeThroughputExceeded'));
    case 'requestLimit':
      return new DynamoError(400, 'RequestLimitExceeded',
        'Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase',
        undefined, reasons('TableReadAccountLimitExceeded'));
    case 'internal':
      return new DynamoError(500, 'InternalServerError', 'Internal server error');
    default:
      throw new Error(`no error for fault ${kind}`);
  }
}

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

// The CRC32 DynamoDB sends in x-amz-crc32 (zlib's, as an unsigned decimal).
export function crc32(buf) {
  if (zlib.crc32) return zlib.crc32(buf) >>> 0;
  let c = 0xFFFFFFFF;
  for (let i = 0; i < buf.length; i++) c = CRC32_TABLE[(c ^ buf[i]) & 0xFF] ^ (c >>> 8);
  return (c ^ 0xFFFFFFFF) >>> 0;
}

function newStats() {
  return {
    requests: 0,
    byOperation: {},          // Op -> requests that named it (refused or not)
    byStatus: {},             // HTTP status -> answers
    forwarded: 0,
    injected: { throughput: 0, throttle: 0, requestLimit: 0, internal: 0, reset: 0, unprocessed: 0, latency: 0 },
    rejected: {},             // __type (after '#') or 'UnknownOperation' -> requests the checks refused
    signatureRejections: 0,   // every refusal of the SigV4 checks
    lastRejections: [],
  };
}

// Starts the front before `target` (an endpoint such as startDynalite's). Options:
//   target (required), host ('127.0.0.1'), port (0: free)
//   checkSignature: { accessKeyId, secretAccessKey, region, sessionToken? } or null (no
//     SigV4 check; the other checks stay)
//   faults: see DEFAULT_DYNAMO_FAULTS
//   account: for the table ARNs in ThrottlingReasons (DDB_ACCOUNT)
//   log(line): one line per refused request (default: nothing)
//   now(): the clock for the skew check (default: new Date())
// Returns { endpoint, port, scans, stats(), resetStats(), setFaults(f), takeScans(),
// close() }. setFaults replaces the whole fault config (normalised, new PRNG); a request
// already past its fault draw finishes as it started.
export async function startDynamoFront(options = {}) {
  if (!options.target) throw new Error('startDynamoFront needs target (an endpoint)');
  const target = new URL(options.target);
  const check = options.checkSignature ?? null;
  const account = options.account ?? DDB_ACCOUNT;
  const log = options.log ?? (() => {});
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  const clock = () => performance.now() - started;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let faults;
  let random;
  const setFaults = (f) => {
    faults = normaliseDynamoFaults(f);
    random = prng(faults.seed ?? randomBytes(4).readUInt32LE());
  };
  setFaults(options.faults);
  let stats = newStats();
  const scans = [];
  let nextRequestId = 1;
  const count = (obj, k) => { obj[k] = (obj[k] ?? 0) + 1; };

  function drawFault(op) {
    if (faults.operations !== null && !faults.operations.includes(op)) return null;
    if (faults.script.length > 0) {
      const s = faults.script.shift();
      return s === 'none' ? null : s;
    }
    const r = random();
    let acc = 0;
    return FAULT_KINDS.find((k) => r < (acc += faults[k])) ?? null;
  }

  function latency() {
    const l = faults.latencyMs;
    if (!l) return 0;
    return Array.isArray(l) ? l[0] + random() * (l[1] - l[0]) : l;
  }

  function requestId() {
    return `LAKEHOSEFRONT${String(nextRequestId++).padStart(10, '0')}${'A'.repeat(29)}`.slice(0, 52);
  }

  function send(res, status, body, contentType = CONTENT_TYPE) {
    const bytes = Buffer.from(body);
    count(stats.byStatus, status);
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': bytes.length,
      'x-amzn-RequestId': requestId(),
      'x-amz-crc32': String(crc32(bytes)),
    });
    res.end(bytes);
  }

  function refuse(res, ctx, err) {
    const key = err.type;
    count(stats.rejected, key);
    if (ctx.signature) stats.signatureRejections++;
    const entry = { op: ctx.op, status: err.status, type: key, message: err.message.split('\n')[0] };
    if (err.canonicalRequest) entry.canonicalRequest = err.canonicalRequest;
    stats.lastRejections.push(entry);
    if (stats.lastRejections.length > KEEP_REJECTIONS) stats.lastRejections.shift();
    log(`dynamo front refused ${ctx.op ?? '?'}: ${err.status} ${key}: ${entry.message}`);
    if (err.status === 404) {
      send(res, 404, '<UnknownOperationException/>\n', 'text/plain');
      return;
    }
    send(res, err.status, JSON.stringify(err.body()));
  }

  // The request to dynalite; resolves its answer { status, headers, body }.
  function upstream(req, body) {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      delete headers.connection;
      delete headers['keep-alive'];
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (ur) => {
        const chunks = [];
        ur.on('data', (c) => chunks.push(c));
        ur.on('error', reject);
        ur.on('end', () => resolve({ status: ur.statusCode, headers: ur.headers, body: Buffer.concat(chunks) }));
      });
      up.setTimeout(60_000, () => up.destroy(new Error('dynalite did not answer in 60 s')));
      up.on('error', reject);
      up.end(body);
    });
  }

  // dynalite's answer passed on, its headers kept (x-amz-crc32 recomputed when the body
  // was changed).
  function reply(res, answer, changed = false) {
    count(stats.byStatus, answer.status);
    const out = { ...answer.headers };
    for (const h of ['connection', 'keep-alive', 'transfer-encoding']) delete out[h];
    out['content-length'] = String(answer.body.length);
    if (changed) out['x-amz-crc32'] = String(crc32(answer.body));
    res.writeHead(answer.status, out);
    res.end(answer.body);
  }

  // A BatchWriteItem whose second half (per table) is not written and comes back in
  // UnprocessedItems, as DynamoDB does under load.
  async function partialBatchWrite(req, res, input) {
    const kept = {};
    const left = {};
    for (const [table, requests] of Object.entries(input.RequestItems ?? {})) {
      const k = Math.ceil(requests.length / 2);
      kept[table] = requests.slice(0, k);
      if (requests.length > k) left[table] = requests.slice(k);
    }
    const answer = await upstream(req, Buffer.from(JSON.stringify({ ...input, RequestItems: kept })));
    if (answer.status !== 200) return reply(res, answer);
    const out = JSON.parse(answer.body.toString('utf8'));
    const unprocessed = out.UnprocessedItems ?? {};
    for (const [table, requests] of Object.entries(left)) unprocessed[table] = [...(unprocessed[table] ?? []), ...requests];
    return reply(res, { ...answer, body: Buffer.from(JSON.stringify({ ...out, UnprocessedItems: unprocessed })) }, true);
  }

  async function handle(req, res, body) {
    stats.requests++;
    const ctx = { op: null, signature: false };
    const [rawPath, rawQuery = ''] = req.url.split('?', 2);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (req.method !== 'POST' || rawPath !== '/' || contentType !== CONTENT_TYPE) {
      const err = coral('UnknownOperationException', `${req.method} ${rawPath} with Content-Type ${JSON.stringify(contentType)}`);
      err.status = 404;
      return refuse(res, ctx, err);
    }
    const named = TARGET_RE.exec(req.headers['x-amz-target'] ?? '');
    if (!named) return refuse(res, ctx, coral('UnknownOperationException', `X-Amz-Target ${JSON.stringify(req.headers['x-amz-target'] ?? null)}`));
    ctx.op = named[1];
    count(stats.byOperation, ctx.op);
    if (check !== null) {
      try {
        await verifyDynamoSigV4({
          method: req.method, rawPath, rawQuery, headers: req.headers, body,
          credentials: { accessKeyId: check.accessKeyId, secretAccessKey: check.secretAccessKey },
          region: check.region ?? DDB_REGION, sessionToken: check.sessionToken ?? null, now: now(),
        });
      } catch (err) {
        if (!(err instanceof DynamoError)) throw err;
        ctx.signature = true;
        return refuse(res, ctx, err);
      }
    }
    let input;
    try {
      input = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return refuse(res, ctx, coral('SerializationException', 'the body is not JSON'));
    }
    const scan = ctx.op === 'Scan' ? {
      seq: scans.length + 1,
      tableName: input.TableName ?? null,
      segment: input.Segment ?? null,
      totalSegments: input.TotalSegments ?? null,
      exclusiveStartKey: input.ExclusiveStartKey ?? null,
      limit: input.Limit ?? null,
      consistentRead: input.ConsistentRead ?? false,
      select: input.Select ?? null,
      returnConsumedCapacity: input.ReturnConsumedCapacity ?? null,
      atMs: clock(),
      answeredMs: null,
      fault: null,
      status: null,
      count: null,
      scannedCount: null,
      lastEvaluatedKey: null,
      consumedCapacity: null,
      responseBytes: null,
    } : null;
    if (scan) scans.push(scan);
    const fault = drawFault(ctx.op);
    const delay = latency();
    if (delay > 0) {
      stats.injected.latency++;
      await sleep(delay);
    }
    if (fault !== null) {
      stats.injected[fault]++;
      if (scan) scan.fault = fault;
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      const err = faultError(fault, input.TableName ? `arn:aws:dynamodb:${check?.region ?? DDB_REGION}:${account}:table/${input.TableName}` : null, faults.throttlingReasons);
      if (scan) {
        scan.status = err.status;
        scan.answeredMs = clock();
      }
      send(res, err.status, JSON.stringify(err.body()));
      return;
    }
    stats.forwarded++;
    if (ctx.op === 'BatchWriteItem' && faults.unprocessed > 0 && random() < faults.unprocessed) {
      stats.injected.unprocessed++;
      return partialBatchWrite(req, res, input);
    }
    const answer = await upstream(req, body);
    reply(res, answer);
    if (scan) {
      scan.answeredMs = clock();
      scan.status = answer.status;
      scan.responseBytes = answer.body.length;
      if (answer.status === 200) {
        const out = JSON.parse(answer.body.toString('utf8'));
        scan.count = out.Count ?? null;
        scan.scannedCount = out.ScannedCount ?? null;
        scan.lastEvaluatedKey = out.LastEvaluatedKey ?? null;
        scan.consumedCapacity = out.ConsumedCapacity ?? null;
      }
    }
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err) => {
        log(`dynamo front: ${err.stack ?? err}`);
        if (!res.headersSent) send(res, 500, JSON.stringify(new DynamoError(500, 'InternalServerError', `front: ${err.message}`).body()));
        else res.destroy();
      });
    });
  });
  const port = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  let closed = false;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    scans,
    stats: () => structuredClone(stats),
    resetStats: () => { stats = newStats(); },
    setFaults,
    // The Scans recorded so far, removed from front.scans.
    takeScans: () => scans.splice(0, scans.length),
    async close() {
      if (closed) return;
      closed = true;
      await closeServer(server);
      agent.destroy();
    },
  };
}
