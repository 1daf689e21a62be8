// A fake of Amazon S3 Tables' own API (not its Iceberg REST endpoint), strict about the
// protocol: the four operations a writer that keeps its own Iceberg metadata needs
// (CreateNamespace, CreateTable, GetTableMetadataLocation, UpdateTableMetadataLocation),
// as the service model (restJson1, signing name s3tables) defines them; every departure
// is answered as the service answers it and recorded; the failures the service produces
// are injected on demand. For the tests of lakehose's `catalog: { kind: s3tables }`,
// which writes the metadata JSON files itself into the table's warehouse location and
// swaps the table's pointer guarded by the version token.
//
//   import { startS3TablesApi } from './s3tables_api.mjs';
//   const api = await startS3TablesApi({
//     region: 'us-east-1', credentials: TEST_CREDENTIALS,
//     tableBucketArn: 'arn:aws:s3tables:us-east-1:111122223333:bucket/lake',
//     warehouseLocation: (namespace, name) => `s3://lake/tables/${randomUUID()}`,
//   });
//   ... point the client at api.url ...
//   api.faults.push({ op: 'update', kind: '500-after-apply' });
//   assert.deepEqual(api.violations, []);
//   api.table('sales', 'orders').history;   // every metadata location it pointed at
//   await api.close();
//
// Options (startS3TablesApi):
//   region, credentials ({ accessKeyId, secretAccessKey, sessionToken? }): SigV4 as every
//     AWS service but S3 verifies it (verifyServiceSigV4 of rest_catalog.mjs: canonical URI
//     = the path as sent, percent-encoded once more; 5-minute skew; host, x-amz-date and
//     every x-amz-* header signed; x-amz-content-sha256 optional, the body's hash when
//     sent), credential scope service `s3tables`.
//   tableBucketArn: the one table bucket this fake serves (another well-formed ARN: 404
//     NotFoundException and a violation: the client was configured with it).
//   warehouseLocation(namespace, name) (optional): a created table's warehouse location,
//     s3://<bucket>[/<prefix>] (default: s3://<random>--table-s3, as the service names
//     them).
//   checkMetadataLocation(uri) (optional, async): null when the file an update points at
//     is readable, else why not; a reason is a violation (kind 'metadata-missing') and the
//     update is still served, as the service does not look.
//   now(): the clock in ms (default Date.now), for SigV4's skew.
//   log(line): called with one line per violation as it is found.
//
// The API: api.url; api.requests (every request: { op, method, path, labels, headers,
// body, status (null: no answer), errorType?, fault?, violations }); api.violations
// ({ op, method, path, kind, message }); api.takeViolations(); api.faults (a queue the
// test pushes to); api.table(namespace, name) -> { namespace, name, tableARN,
// versionToken, metadataLocation (null until set), warehouseLocation, history: [every
// metadataLocation set, in order] } | undefined; api.namespaces() -> [names];
// await api.close().
//
// Routes (labels are percent-encoded as an AWS SDK encodes them: every byte but A-Z a-z
// 0-9 - . _ ~, so the ARN's ':' and '/' arrive as %3A and %2F):
//   PUT  /namespaces/{tableBucketARN}                    CreateNamespace     op create-namespace
//   GET  /namespaces/{tableBucketARN}/{namespace}        GetNamespace        op get-namespace
//   PUT  /tables/{tableBucketARN}/{namespace}            CreateTable         op create-table
//   GET  /tables/{tableBucketARN}/{namespace}/{name}/metadata-location  op get
//   PUT  /tables/{tableBucketARN}/{namespace}/{name}/metadata-location  op update
// Anything else is 404 UnknownOperationException and a violation.
//
// What is checked (each a violation, and the service's error):
//   - SigV4 (above): no Authorization, or an unknown access key -> 403
//     AccessDeniedException; anything else wrong (scope, date, signed headers, token,
//     payload hash, signature) -> 403 InvalidSignatureException naming why.
//   - labels: percent-encoding as the SDK's (a raw ':' is served, but recorded); the ARN
//     against arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:[0-9]{12}:bucket/[a-z0-9_-]{3,63};
//     namespace and name against [0-9a-z_]{1,255} -> 400 BadRequestException.
//   - bodies: GET with a body; PUT without `Content-Type: application/json`; JSON that
//     does not parse or repeats a key; members missing, unknown, of the wrong type or
//     length -> 400 BadRequestException. CreateNamespace {namespace: [one name]};
//     CreateTable {name, format: 'ICEBERG'} (`metadata`, `encryptionConfiguration`,
//     `tags`, `storageClassConfiguration` exist in the service but not in this fake: 400,
//     kind 'unsupported-by-fake'); UpdateTableMetadataLocation {versionToken (1-2048),
//     metadataLocation (1-2048)}; no query parameters anywhere.
//   - UpdateTableMetadataLocation: metadataLocation under `<warehouseLocation>/` and ending
//     in .metadata.json or .metadata.json.gz -> else 400 BadRequestException.
// Not violations (the client did nothing wrong): a namespace or table that exists (409
// ConflictException), a missing one (404 NotFoundException), a version token that is not
// the current one (409 ConflictException, nothing changed).
//
// Faults: api.faults.push({ op, kind, ms?, count? }); op: create-namespace,
// get-namespace, create-table, get, update, or 'any'. The first queued fault whose op
// matches is taken by a request that passed auth and validation (count times, default
// 1) and recorded in its api.requests entry. Kinds: '409' (ConflictException, nothing
// applied), '403' (AccessDeniedException, no violation), '429'
// (TooManyRequestsException), '500' (InternalServerErrorException, nothing applied),
// '503' (ServiceUnavailable, nothing applied), '500-after-apply' (applied, then 500),
// 'reset-before' / 'reset-after-apply' (the socket destroyed with no answer, before /
// after applying), 'delay' (ms before handling, then handled: the token is compared
// after the delay). An after-apply fault taken by a request the service refuses (a
// missing namespace, a stale token: nothing applied) goes back to the front of the queue
// for the next request of its op, and that request is answered as it would be.
//
// State changes are synchronous once a request is validated (one Node thread), so
// updates of one table are serialised without locks.

import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';

import { readRequest, resetConnection, rawExchange, serveFake, takeFault as takeFaultFrom } from './fake_service.mjs';
import { parseJson, verifyServiceSigV4 } from './rest_catalog.mjs';

const MAX_BODY_BYTES = 1024 * 1024;
const SIGNING_NAME = 's3tables';
const ARN_RE = /^arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:[0-9]{12}:bucket\/[a-z0-9_-]{3,63}$/;
const NAME_RE = /^[0-9a-z_]{1,255}$/;
const LOCATION_END_RE = /\.metadata\.json(\.gz)?$/;
const MAX_TOKEN = 2048;
const MAX_LOCATION = 2048;
const FAULT_KINDS = ['409', '403', '429', '500', '503', '500-after-apply', 'reset-before', 'reset-after-apply', 'delay'];
const OPS = ['create-namespace', 'get-namespace', 'create-table', 'get', 'update', 'any'];

// An error the fake answers: restJson1's x-amzn-ErrorType header and {message}.
// `violation` false: the client did nothing wrong.
class ApiError extends Error {
  constructor(status, type, message, { violation = false, kind = 'protocol' } = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.violation = violation;
    this.kind = kind;
  }
}
const bad = (message, kind = 'body') => new ApiError(400, 'BadRequestException', message, { violation: true, kind });

// A label as an AWS SDK sends it (Smithy's URI label encoding: RFC 3986 unreserved
// characters kept, every other byte percent-encoded).
export const encodeLabel = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const clone = (v) => structuredClone(v);
const newToken = () => randomBytes(16).toString('hex');

function checkOptions(o) {
  if (!o.region) throw new Error('region is required');
  if (!o.credentials?.accessKeyId || !o.credentials?.secretAccessKey) throw new Error('credentials { accessKeyId, secretAccessKey } are required');
  if (!ARN_RE.test(o.tableBucketArn ?? '')) throw new Error(`tableBucketArn ${o.tableBucketArn} is not a table bucket ARN`);
  if (o.warehouseLocation !== undefined && typeof o.warehouseLocation !== 'function') throw new Error('warehouseLocation(namespace, name) must be a function');
}

function checkFault(f) {
  if (!OPS.includes(f.op)) throw new Error(`fault op ${f.op} is not one of ${OPS.join(', ')}`);
  if (!FAULT_KINDS.includes(f.kind)) throw new Error(`fault kind ${f.kind} is not one of ${FAULT_KINDS.join(', ')}`);
  if (f.kind === 'delay' && !(f.ms >= 0)) throw new Error('a delay fault needs ms');
}

// Checks a JSON object's members: `spec` maps member -> (value) => null | why not;
// `required` lists those that must be there; `unsupported` those the service knows and
// this fake does not serve.
function checkMembers(body, what, spec, required, unsupported = []) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad(`${what}: the body must be a JSON object`);
  for (const k of Object.keys(body)) {
    if (unsupported.includes(k)) throw new ApiError(400, 'BadRequestException', `not supported by this fake: ${what}.${k}`, { violation: true, kind: 'unsupported-by-fake' });
    if (!Object.hasOwn(spec, k)) throw bad(`${what}: unknown member '${k}' (members: ${Object.keys(spec).join(', ')})`);
  }
  for (const k of required) if (body[k] === undefined || body[k] === null) throw bad(`${what}: member '${k}' is required`);
  for (const [k, check] of Object.entries(spec)) {
    if (body[k] === undefined) continue;
    const why = check(body[k]);
    if (why) throw bad(`${what}.${k}: ${why}`);
  }
}
const stringOf = (min, max, re) => (v) => {
  if (typeof v !== 'string') return `must be a string, not ${JSON.stringify(v)}`;
  if (v.length < min || v.length > max) return `length ${v.length} is outside ${min}..${max}`;
  if (re && !re.test(v)) return `'${v}' does not match ${re}`;
  return null;
};

// One request to the API as an AWS SDK sends it (for tests of the fake and of clients):
// `path` as it goes on the wire (labels already encoded), signed by @smithy/signature-v4
// for `service` (default s3tables) as the SDK signs every non-S3 service (the path
// encoded once more; `uriEscapePath: false` signs it as S3 does), with
// x-amz-content-sha256 when `contentSha`. `body`: an object sent
// as JSON (or `raw`: bytes as they are, `headers` added; `tamper(payload)`: the bytes
// sent instead of the signed ones). `sign: false`: unsigned. Resolves { status, headers,
// body (parsed when JSON) } or { error } when the connection ended with no answer.
export async function callS3TablesApi(base, method, path, {
  body, raw, headers = {}, region, credentials, service = SIGNING_NAME, sign = true, contentSha = false, uriEscapePath = true, tamper,
  timeoutMs = 10_000,
} = {}) {
  const url = new URL(base);
  const payload = raw !== undefined ? Buffer.from(raw) : body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  let h = { host: url.host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers };
  if (payload.length) h['content-length'] = String(payload.length);
  if (sign) {
    if (contentSha) h['x-amz-content-sha256'] = createHash('sha256').update(payload).digest('hex');
    const signer = new SignatureV4({ credentials, region, service, sha256: Hash.bind(null, 'sha256'), uriEscapePath });
    const qi = path.indexOf('?');
    const signed = await signer.sign({
      method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), headers: h, body: payload,
      path: qi < 0 ? path : path.slice(0, qi), query: qi < 0 ? {} : Object.fromEntries(new URLSearchParams(path.slice(qi + 1))),
    });
    h = signed.headers;
  }
  const sent = tamper ? Buffer.from(tamper(payload)) : payload;
  if (sent.length !== payload.length) h['content-length'] = String(sent.length);
  return rawExchange(base, method, path, h, sent, { timeoutMs });
}

export async function startS3TablesApi(options) {
  checkOptions(options);
  const sigv4 = { service: SIGNING_NAME, region: options.region, ...options.credentials };
  const bucketArn = options.tableBucketArn;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const warehouseOf = options.warehouseLocation ?? (() => `s3://${randomUUID().replaceAll('-', '').slice(0, 20)}--table-s3`);

  const namespaces = new Map();  // name -> { createdAt }
  const tables = new Map();      // `${namespace}\x00${name}` -> table state
  const requests = [];
  const violations = [];
  const faults = [];
  const tableKey = (ns, name) => `${ns}\x00${name}`;

  const takeFault = (op) => takeFaultFrom(faults, op, checkFault);


  function record(ctx, kind, message) {
    const v = { op: ctx.op, method: ctx.method, path: ctx.rawPath, kind, message };
    violations.push(v);
    ctx.entry.violations.push(v);
    log(`s3tables api: ${kind} violation on ${ctx.method} ${ctx.rawPath}: ${message}`);
  }

  async function checkAuth(ctx) {
    try {
      await verifyServiceSigV4({ method: ctx.method, rawPath: ctx.rawPath, rawQuery: ctx.rawQuery, headers: ctx.headers, body: ctx.rawBody, sigv4, now: now() });
    } catch (err) {
      if (err.status !== 403) throw err;
      const denied = /unsigned request|unknown access key/.test(err.message);
      throw new ApiError(403, denied ? 'AccessDeniedException' : 'InvalidSignatureException', err.message, { violation: true, kind: 'auth' });
    }
  }

  // ---- routing ----

  // A label: decoded, and its encoding compared with the SDK's.
  function label(ctx, raw, what) {
    let value;
    try {
      value = decodeURIComponent(raw);
    } catch {
      throw bad(`${what} label ${raw}: malformed percent-encoding`, 'path');
    }
    if (raw !== encodeLabel(value)) record(ctx, 'label-encoding', `${what} label '${raw}' is not encoded as an AWS SDK encodes it ('${encodeLabel(value)}')`);
    return value;
  }

  // -> { op, labels } or throws. rawPath is as received (percent-encoded).
  function route(ctx) {
    const { method, rawPath } = ctx;
    const segs = rawPath.split('/').slice(1);
    const unknown = () => new ApiError(404, 'UnknownOperationException', `no operation ${method} ${rawPath}`, { violation: true, kind: 'route' });
    if (rawPath[0] !== '/' || segs.some((s) => s === '')) throw unknown();
    let op = null;
    if (segs[0] === 'namespaces' && segs.length === 2 && method === 'PUT') op = 'create-namespace';
    else if (segs[0] === 'namespaces' && segs.length === 3 && method === 'GET') op = 'get-namespace';
    else if (segs[0] === 'tables' && segs.length === 3 && method === 'PUT') op = 'create-table';
    else if (segs[0] === 'tables' && segs.length === 5 && segs[4] === 'metadata-location') op = { GET: 'get', PUT: 'update' }[method] ?? null;
    if (!op) throw unknown();
    ctx.op = ctx.entry.op = op;
    const labels = { tableBucketARN: label(ctx, segs[1], 'tableBucketARN') };
    if (segs.length >= 3) labels.namespace = label(ctx, segs[2], 'namespace');
    if (segs.length >= 4) labels.name = label(ctx, segs[3], 'name');
    ctx.entry.labels = labels;
    if (!ARN_RE.test(labels.tableBucketARN)) throw bad(`tableBucketARN '${labels.tableBucketARN}' does not match ${ARN_RE}`, 'path');
    for (const k of ['namespace', 'name']) {
      if (labels[k] !== undefined && !NAME_RE.test(labels[k])) throw bad(`${k} '${labels[k]}' does not match ${NAME_RE}`, 'path');
    }
    if (labels.tableBucketARN !== bucketArn) {
      throw new ApiError(404, 'NotFoundException', `The specified table bucket ${labels.tableBucketARN} does not exist (this fake serves ${bucketArn})`, { violation: true, kind: 'bucket' });
    }
    return { op, labels };
  }

  function jsonBody(ctx) {
    const type = (ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw bad(`Content-Type must be application/json, not '${ctx.headers['content-type'] ?? ''}'`, 'content-type');
    try {
      ctx.body = parseJson(ctx.rawBody.toString('utf8'));
    } catch (e) {
      throw bad(`the body is not valid JSON: ${e.message}`, 'json');
    }
    return ctx.body;
  }

  function requireNamespace(ns) {
    if (!namespaces.has(ns)) throw new ApiError(404, 'NotFoundException', `The specified namespace ${ns} does not exist.`);
  }
  function requireTable(ns, name) {
    const t = tables.get(tableKey(ns, name));
    if (!t) throw new ApiError(404, 'NotFoundException', `The specified table ${ns}.${name} does not exist.`);
    return t;
  }

  // ---- handlers: each validates, then returns { apply() -> { status, body } } ----

  const handlers = {
    'create-namespace'(ctx, { tableBucketARN }) {
      const body = jsonBody(ctx);
      checkMembers(body, 'CreateNamespaceRequest', {
        namespace: (v) => (!Array.isArray(v) || v.length !== 1 ? `must be a list of exactly one name, not ${JSON.stringify(v)}` : stringOf(1, 255, NAME_RE)(v[0])),
      }, ['namespace']);
      const ns = body.namespace[0];
      return {
        apply() {
          if (namespaces.has(ns)) throw new ApiError(409, 'ConflictException', `A namespace with the name ${ns} already exists.`);
          namespaces.set(ns, { createdAt: new Date(now()).toISOString() });
          return { status: 200, body: { tableBucketARN, namespace: [ns] } };
        },
      };
    },
    'get-namespace'(ctx, { namespace: ns }) {
      return {
        apply() {
          requireNamespace(ns);
          const n = namespaces.get(ns);
          return { status: 200, body: { namespace: [ns], createdAt: n.createdAt, createdBy: bucketArn.split(':')[4], ownerAccountId: bucketArn.split(':')[4] } };
        },
      };
    },
    'create-table'(ctx, { namespace: ns }) {
      const body = jsonBody(ctx);
      checkMembers(body, 'CreateTableRequest', {
        name: stringOf(1, 255, NAME_RE),
        format: (v) => (v === 'ICEBERG' ? null : `must be 'ICEBERG', not ${JSON.stringify(v)}`),
      }, ['name', 'format'], ['metadata', 'encryptionConfiguration', 'tags', 'storageClassConfiguration']);
      return {
        apply() {
          requireNamespace(ns);
          if (tables.has(tableKey(ns, body.name))) throw new ApiError(409, 'ConflictException', `A table with the name ${body.name} already exists in namespace ${ns}.`);
          const warehouseLocation = String(warehouseOf(ns, body.name)).replace(/\/+$/, '');
          const t = {
            namespace: ns, name: body.name, tableARN: `${bucketArn}/table/${randomUUID()}`, versionToken: newToken(),
            metadataLocation: null, warehouseLocation, history: [],
          };
          tables.set(tableKey(ns, body.name), t);
          return { status: 200, body: { tableARN: t.tableARN, versionToken: t.versionToken } };
        },
      };
    },
    get(ctx, { namespace: ns, name }) {
      return {
        apply() {
          const t = requireTable(ns, name);
          const body = { versionToken: t.versionToken, warehouseLocation: t.warehouseLocation };
          if (t.metadataLocation !== null) body.metadataLocation = t.metadataLocation;
          return { status: 200, body };
        },
      };
    },
    async update(ctx, { namespace: ns, name }) {
      const body = jsonBody(ctx);
      checkMembers(body, 'UpdateTableMetadataLocationRequest', {
        versionToken: stringOf(1, MAX_TOKEN),
        metadataLocation: stringOf(1, MAX_LOCATION),
      }, ['versionToken', 'metadataLocation']);
      const loc = body.metadataLocation;
      const known = tables.get(tableKey(ns, name));
      if (known) {
        if (!loc.startsWith(`${known.warehouseLocation}/`)) {
          throw bad(`metadataLocation ${loc} is not under the table's warehouse location ${known.warehouseLocation}`, 'metadata-location');
        }
        if (!LOCATION_END_RE.test(loc)) throw bad(`metadataLocation ${loc} does not end with .metadata.json or .metadata.json.gz`, 'metadata-location');
        if (options.checkMetadataLocation) {
          const why = await options.checkMetadataLocation(loc);
          if (why) record(ctx, 'metadata-missing', `metadataLocation ${loc}: ${why}`);
        }
      }
      return {
        apply() {
          const t = requireTable(ns, name);
          if (body.versionToken !== t.versionToken) {
            throw new ApiError(409, 'ConflictException', 'The version token provided does not match the current version token of the table.');
          }
          t.metadataLocation = loc;
          t.versionToken = newToken();
          t.history.push(loc);
          return { status: 200, body: { name, tableARN: t.tableARN, namespace: [ns], versionToken: t.versionToken, metadataLocation: loc } };
        },
      };
    },
  };

  // ---- one request ----

  function send(ctx, res, status, body, errorType) {
    ctx.entry.status = status;
    if (errorType) ctx.entry.errorType = errorType;
    const text = JSON.stringify(body);
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers).end(text);
  }

  const destroy = resetConnection;


  function faultError(kind) {
    switch (kind) {
      case '409': return new ApiError(409, 'ConflictException', 'Injected: a concurrent change won');
      case '403': return new ApiError(403, 'AccessDeniedException', 'Injected: access denied');
      case '429': return new ApiError(429, 'TooManyRequestsException', 'Injected: too many requests');
      case '500': case '500-after-apply': return new ApiError(500, 'InternalServerErrorException', 'Injected: internal server error');
      case '503': return new ApiError(503, 'ServiceUnavailable', 'Injected: service unavailable');
      default: return null;
    }
  }

  async function handle(req, res) {
    const ctx = await readRequest(req, res, MAX_BODY_BYTES);
    if (!ctx) return;
    ctx.entry = { op: 'unknown', method: ctx.method, path: ctx.rawPath, labels: {}, headers: { ...req.headers }, body: ctx.body, status: null, violations: [] };
    requests.push(ctx.entry);
    try {
      await checkAuth(ctx);
      const { op, labels } = route(ctx);
      if (ctx.rawQuery !== '') throw bad(`query parameters are not part of ${op}: ?${ctx.rawQuery}`, 'query');
      if (ctx.method === 'GET' && ctx.rawBody.length > 0) throw bad(`GET with a ${ctx.rawBody.length}-byte body`);
      const step = await handlers[op](ctx, labels);
      ctx.entry.body = ctx.body;
      const fault = takeFault(op);
      if (fault) ctx.entry.fault = fault;
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      if (fault?.kind === 'reset-before') return destroy(res);
      if (fault && !fault.kind.endsWith('after-apply')) {
        const injected = faultError(fault.kind);
        if (injected) throw injected;
      }
      let out;
      try {
        out = step.apply();
      } catch (err) {
        if (fault?.kind.endsWith('after-apply')) {
          faults.unshift(fault);
          delete ctx.entry.fault;
        }
        throw err;
      }
      if (fault?.kind === 'reset-after-apply') return destroy(res);
      if (fault?.kind === '500-after-apply') throw faultError(fault.kind);
      return send(ctx, res, out.status, out.body);
    } catch (err) {
      ctx.entry.body = ctx.body;
      if (!(err instanceof ApiError)) {
        record(ctx, 'fake-failure', `the fake failed: ${err.stack ?? err}`);
        return send(ctx, res, 500, { message: `fake failure: ${err.message}` }, 'InternalServerErrorException');
      }
      if (err.violation) record(ctx, err.kind, err.message);
      return send(ctx, res, err.status, { message: err.message }, err.type);
    }
  }

  const served = await serveFake(handle, violations);
  const { url } = served;

  const nsOf = (namespace) => (Array.isArray(namespace) ? namespace[0] : namespace);
  return {
    url,
    requests,
    violations,
    faults,
    takeViolations: () => violations.splice(0, violations.length),
    table(namespace, name) {
      const t = tables.get(tableKey(nsOf(namespace), name));
      return t ? clone(t) : undefined;
    },
    namespaces: () => [...namespaces.keys()],
    close: served.close,
  };
}
