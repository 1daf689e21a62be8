// A fake Iceberg REST catalog that is strict about the protocol: every request is checked
// against the REST spec (apache/iceberg open-api/rest-catalog-open-api.yaml) and the table
// spec, every departure is answered as the spec says and recorded, and the failures real
// catalogs produce are injected on demand. For the tests of lakehose's REST catalog
// client (Amazon S3 Tables, Glue, Polaris, Nessie, Lakekeeper), none of which runs here.
//
//   import { startRestCatalog } from './rest_catalog.mjs';
//   const cat = await startRestCatalog({
//     auth: { sigv4: { service: 's3tables', region: 'us-east-1', accessKeyId, secretAccessKey } },
//     warehouse: 'arn:aws:s3tables:us-east-1:111122223333:bucket/lake',
//     prefix: 'arn%3Aaws%3As3tables%3Aus-east-1%3A111122223333%3Abucket%2Flake',
//     location: (namespace, name) => `s3://lake/${namespace.join('/')}/${name}`,
//   });
//   ... point the client at cat.url ...
//   cat.faults.push({ op: 'commit', kind: '500-after-apply' });
//   assert.deepEqual(cat.violations, []);
//   cat.table(['sales'], 'orders').metadata['current-snapshot-id'];
//   await cat.close();
//
// Options (startRestCatalog):
//   auth: exactly one of
//     { sigv4: { service, region, accessKeyId, secretAccessKey, sessionToken? } }
//     { oauth2: { clientId, clientSecret, scope?, tokenTtlS = 3600 } }  token endpoint
//        POST /oauth/tokens (cat.tokenUri) and the deprecated POST /v1/oauth/tokens
//     { bearer: 'static-token' }    { none: true }
//   warehouse: GET /v1/config?warehouse= must name it (404 NoSuchWarehouseException);
//     null: the query parameter is not checked.
//   prefix: returned as overrides.prefix; every later path is /v1/<prefix>/...; null: no
//     prefix (paths /v1/namespaces/...). Compared percent-decoded.
//   location(namespace, name) (required): a created table's location when the request
//     has none.
//   writeMetadata(uri, text): where the metadata JSON files go (default: kept in memory in
//     cat.metadataFiles, uri -> text, which stays empty when writeMetadata is given). A
//     throw fails the create / commit with a 500 before the table pointer moves.
//   idempotencyKeyLifetime: e.g. 'PT30M'; advertised in /v1/config, and then the fake
//     honours Idempotency-Key (below). Absent: keys are checked for form only.
//   reassignIds (false): as Java's catalogs do, createTable gives the schema fresh field
//     ids (1.. breadth first, as TypeUtil.assignFreshIds), the spec fresh partition field
//     ids (1000..) and remaps identifier-field-ids, partition and sort source ids. Default:
//     the client's ids are kept (checked: unique, positive).
//   unknownFields ('violation'): a body field the spec does not define is recorded as a
//     violation ('ignore': not) and the request is served, as Java's parsers ignore it.
//   now(): the clock in ms (default Date.now), for token expiry and timestamps.
//   log(line): called with one line per violation as it is found (default: nothing).
//
// The API: cat.url (base URI, routes at /v1/...), cat.tokenUri, cat.requests (every
// request: { op, method, path, query, headers, body, status (null: no answer), fault?,
// replayed?, violations }), cat.violations (every violation: { op, method, path, kind, message }),
// cat.takeViolations() (returns and clears them), cat.faults (a queue the test pushes
// to), cat.table(ns, name) -> { metadataLocation, metadata } | undefined,
// cat.commits(ns, name) -> [{ requirements, updates, snapshotId, metadataLocation }],
// cat.metadataFiles, cat.expireTokens(), await cat.close().
//
// Longs are exact: bodies are parsed with lossless-json, and an integer a double cannot
// hold (snapshot ids are random 63-bit numbers) stays a BigInt in cat.requests, in the
// table state and in what the fake writes and answers. Compare ids with BigInt(x).
//
// Routes (the endpoints advertised in /v1/config): GET /v1/config; POST /oauth/tokens,
// POST /v1/oauth/tokens (oauth2 only); GET, POST /v1/{prefix}/namespaces; GET, HEAD,
// DELETE /v1/{prefix}/namespaces/{ns}; GET, POST .../namespaces/{ns}/tables; GET, HEAD,
// POST, DELETE .../namespaces/{ns}/tables/{table}. A spec route the fake does not serve
// (views, register, rename, transactions, metrics, scan planning, credentials,
// properties, functions, sign) is 406 UnsupportedOperationException and a violation (it
// is not advertised, so a client must not call it); any other path is 404 and a
// violation. Namespaces in a path are joined with 0x1F (%1F) and decoded part by part.
//
// What is checked (each a violation, and the spec's error answer):
//   - auth, per mode. sigv4: the Authorization header (AWS4-HMAC-SHA256), access key,
//     credential scope (date of x-amz-date, region, service, aws4_request), a 5-minute
//     clock skew, host and x-amz-date and every x-amz-* header signed, the session token,
//     x-amz-content-sha256 equal to the body's SHA-256 when sent (UNSIGNED-PAYLOAD is
//     refused: it is S3's alone), and the signature recomputed with @smithy/signature-v4
//     the way every AWS service but S3 does it: canonical URI = the path as sent,
//     normalised (empty, '.' and '..' segments removed) and percent-encoded once more
//     (uriEscapePath: true), payload hash = SHA-256 of the body. Refusals are 403
//     NotAuthorizedException naming why (a mismatch shows the canonical request and the
//     string to sign). oauth2 / bearer: `Authorization: Bearer <live token>`, else 401
//     NotAuthorizedException; an expired token (tokenTtlS passed, or expireTokens())
//     is 401 too (not 419: Java's client refreshes on 401 and fails on 419; the '419'
//     fault injects 419 for the tests that want it). The token endpoint takes
//     application/x-www-form-urlencoded client_credentials (client id and secret in the
//     body or in a Basic header; wrong ones: 401 invalid_client) and the token-exchange
//     refresh of a live token (else 400 invalid_grant); OAuthError bodies.
//   - bodies: JSON (content-type application/json, no duplicate keys, longs within
//     int64) validated with ajv against schemas transcribed from the spec's components
//     (rest_catalog_schemas.mjs) -> 400 BadRequestException with ajv's text; a
//     requirement type or update action the spec does not know -> 400 (the spec requires
//     it); GET / HEAD / DELETE with a body; a malformed Idempotency-Key (not a 36-char
//     UUID); an X-Iceberg-Access-Delegation value outside the spec's enum; pageSize < 1;
//     an unknown `snapshots` mode.
//   - createTable: the schema (field ids unique and positive, identifier fields existing
//     and required, v3-only types in a v2 table), the partition spec (source ids in the
//     schema, names unique, field ids unique) and the sort order (source ids, order-id 0
//     iff unsorted) -> 400. format-version from the `format-version` property (2 by
//     default; 2 or 3, else 400), removed from the properties as Java does.
//   - updateTable, serialised per table: identifier (if sent) equal to the path's; every
//     requirement against the current metadata -> 409 CommitFailedException naming the
//     one that failed; then the updates in order, each checked as Java's
//     TableMetadata.Builder does (add-snapshot: id unique, parent existing, v2+
//     sequence-number present and > last-sequence-number, schema-id existing, v3
//     first-row-id >= next-row-id and added-rows; set-snapshot-ref: snapshot existing,
//     main a branch, no branch-only retention on a tag; set-current-schema /
//     set-default-spec / set-default-sort-order: -1 = the last added in this commit, else
//     an existing id; add-schema / add-spec / add-sort-order reuse an identical one's id
//     or take max+1; assign-uuid only the table's own; upgrade-format-version never
//     down) -> 400; the result is checked whole (current schema, default spec and order
//     exist, refs point at snapshots, main = current-snapshot-id, last ids and sequence
//     numbers not behind) -> 400. A commit with no updates writes nothing and answers
//     the current metadata, as Java does.
//   - an action the spec knows but the fake does not apply (statistics, encryption
//     keys, remove-schemas / -partition-specs) -> 400 and a
//     violation of kind 'unsupported-by-fake' (so a suite notices the fake cannot judge).
//
// What the fake does: new metadata files at `<location>/metadata/<5-digit
// version>-<uuid>.metadata.json` (00000 at create, as Java names them), written before
// the pointer moves; last-updated-ms, snapshot-log (when main moves) and metadata-log
// (trimmed to write.metadata.previous-versions-max, 100) kept as Java does;
// current-snapshot-id is -1 (v2) or null (v3) when there is none, as Java 1.11 writes it;
// LoadTableResult config is {}; ETag on load / create / commit answers and 304 for a
// matching If-None-Match.
// Idempotency (only with idempotencyKeyLifetime): a request whose Idempotency-Key
// finalised before (2xx or 4xx) gets that answer again without running; the same key on
// a different request is a violation and 422. The *-after-apply faults model an answer
// lost after the catalog finalised it, so their key replays the success.
//
// Faults: cat.faults.push({ op, kind, ms?, count? }); op is one of config, token,
// list-namespaces, create-namespace, load-namespace, namespace-exists, drop-namespace,
// list-tables, create-table, load (GET / HEAD of a table), drop-table, commit, or 'any'.
// The first queued fault whose op matches is taken by a request that passed auth and
// validation (count times, default 1) and recorded in its cat.requests entry. Kinds: '409'
// (commit: CommitFailedException, else AlreadyExistsException; nothing applied), '503'
// (SlowDownException, nothing applied), '502' / '504' (CommitStateUnknownException on a
// commit, nothing applied), '500-after-apply' (applied, then 500
// CommitStateUnknownException on a commit, InternalServerError otherwise),
// 'reset-before' / 'reset-after-apply' (the socket destroyed with no answer, before /
// after applying), 'delay' (ms before handling, then handled), '401' / '419' (the auth
// errors, no violation).
//
// Not implemented: views, functions, register / rename / unregister, multi-table
// transactions, stage-create (400) and create transactions (assert-create on a missing
// table: 400), namespace properties updates, pagination (pageToken ignored, all in one
// page), scan planning, vended credentials, remote signing, metrics reports, the
// 'snapshots=refs' view beyond filtering, format v1 and v4 tables, snapshot expiry.
// Responses are not validated against the spec here (the self-test does that).

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';

import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';

import { readRequest, resetConnection, serveFake, takeFault as takeFaultFrom } from './fake_service.mjs';
import { REQUIREMENT_SCHEMAS, UPDATE_SCHEMAS, validatorFor } from './rest_catalog_schemas.mjs';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const SIGV4_MAX_SKEW_MS = 5 * 60 * 1000;  // every AWS service but S3 (15 min)
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const V3_TYPES = /^(variant|unknown|timestamp_ns|timestamptz_ns|geometry|geography)/;
const FAULT_KINDS = ['409', '500-after-apply', '503', '502', '504', 'reset-before', 'reset-after-apply', 'delay', '401', '419'];
const OPS = ['config', 'token', 'list-namespaces', 'create-namespace', 'load-namespace', 'namespace-exists', 'drop-namespace',
  'list-tables', 'create-table', 'load', 'drop-table', 'commit', 'any'];

export const ENDPOINTS = Object.freeze([
  'GET /v1/{prefix}/namespaces',
  'POST /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'DELETE /v1/{prefix}/namespaces/{namespace}',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'POST /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}',
]);

// Spec routes (after /v1/{prefix}) the fake does not serve: 406, not 404.
const UNSERVED_ROUTES = [
  /^namespaces\/[^/]+\/(properties|register|register-view|views|functions)(\/.*)?$/,
  /^namespaces\/[^/]+\/tables\/[^/]+\/(plan|tasks|unregister|credentials|sign|metrics)(\/.*)?$/,
  /^(tables\/rename|views\/rename|transactions\/commit)$/,
];

// An error the fake answers: IcebergErrorResponse (or OAuthError when `oauth`).
// `violation` false: the client did nothing wrong (a missing table, a failed requirement).
class CatalogError extends Error {
  constructor(status, type, message, { violation = false, kind = 'protocol', oauth = false, headers = {} } = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.violation = violation;
    this.kind = kind;
    this.oauth = oauth;
    this.headers = headers;
  }
}
const bad = (message, kind = 'schema') => new CatalogError(400, 'BadRequestException', message, { violation: true, kind });
const invalidCommit = (message) => new CatalogError(400, 'ValidationException', message, { violation: true, kind: 'invalid-commit' });
const unsupported = (message) => new CatalogError(400, 'BadRequestException', `not supported by this fake catalog: ${message}`,
  { violation: true, kind: 'unsupported-by-fake' });

const sha256Hex = (b) => createHash('sha256').update(b).digest('hex');
const isId = (a, b) => a !== undefined && a !== null && b !== undefined && b !== null && BigInt(a) === BigInt(b);
const maxOf = (values, floor) => values.reduce((m, v) => (v > m ? v : m), floor);
const clone = (v) => structuredClone(v);

// Integers a double holds stay Numbers; others become BigInt (exact longs).
function parseNumber(text) {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
    const b = BigInt(text);
    if (b < INT64_MIN || b > INT64_MAX) throw new Error(`integer ${text} is outside the int64 range`);
    return b;
  }
  return Number(text);
}
export const parseJson = (text) => losslessParse(text, null, parseNumber);
export const toJson = (value) => losslessStringify(value);

// decodeURIComponent that answers a malformed escape as the client's error.
function decode(text, what) {
  try {
    return decodeURIComponent(text);
  } catch {
    throw bad(`${what} ${text}: malformed percent-encoding`, 'path');
  }
}

function parseQuery(rawQuery) {
  const out = {};
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    out[dec(eq < 0 ? part : part.slice(0, eq))] = eq < 0 ? '' : dec(part.slice(eq + 1));
  }
  return out;
}

// ---- SigV4, the way AWS services other than S3 verify it --------------------------------

// Throws CatalogError(403) naming why a request's SigV4 signature is refused.
export async function verifyServiceSigV4({ method, rawPath, rawQuery, headers, body, sigv4, now }) {
  const refuse = (why) => new CatalogError(403, 'NotAuthorizedException', `SigV4: ${why}`, { violation: true, kind: 'auth' });
  const auth = headers.authorization;
  if (auth === undefined) throw refuse('unsigned request (no Authorization header)');
  const m = AUTH_RE.exec(auth);
  if (!m) throw refuse(`malformed Authorization header: ${auth}`);
  const [, credential, signedHeadersText, provided] = m;
  const [accessKeyId, scopeDate, region, service, terminator, ...rest] = credential.split('/');
  if (rest.length > 0 || terminator !== 'aws4_request') throw refuse(`malformed credential scope: ${credential}`);
  if (accessKeyId !== sigv4.accessKeyId) throw refuse(`unknown access key ${accessKeyId}`);
  if (service !== sigv4.service) throw refuse(`credential should be scoped to the service '${sigv4.service}', not '${service}'`);
  if (region !== sigv4.region) throw refuse(`credential should be scoped to the region '${sigv4.region}', not '${region}'`);
  const longDate = headers['x-amz-date'];
  const d = AMZ_DATE_RE.exec(longDate ?? '');
  if (!d) throw refuse(`x-amz-date missing or malformed: ${longDate}`);
  const signedAt = Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]);
  if (longDate.slice(0, 8) !== scopeDate) throw refuse(`credential scope date ${scopeDate} is not the date of x-amz-date ${longDate}`);
  if (Math.abs(now - signedAt) > SIGV4_MAX_SKEW_MS) throw refuse(`signature expired or not yet valid: x-amz-date ${longDate}, server time ${new Date(now).toISOString()}`);
  const signed = signedHeadersText.split(';');
  if ([...signed].sort().join(';') !== signedHeadersText || signed.some((h) => h !== h.toLowerCase())) {
    throw refuse(`SignedHeaders must be lower-case and sorted: ${signedHeadersText}`);
  }
  const unsigned = ['host', 'x-amz-date', ...Object.keys(headers).filter((h) => h.startsWith('x-amz-'))].filter((h) => !signed.includes(h));
  if (unsigned.length > 0) throw refuse(`headers present but not signed: ${unsigned.join(', ')}`);
  const absent = signed.filter((h) => headers[h] === undefined);
  if (absent.length > 0) throw refuse(`signed headers absent from the request: ${absent.join(', ')}`);
  const token = headers['x-amz-security-token'];
  if ((sigv4.sessionToken ?? undefined) !== token) {
    throw refuse(sigv4.sessionToken ? 'x-amz-security-token missing or not the session token' : 'x-amz-security-token sent, none expected');
  }
  const bodyHash = sha256Hex(body);
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== bodyHash) {
    throw refuse(`x-amz-content-sha256 ${claimed} is not the SHA-256 of the body (${bodyHash})${claimed === 'UNSIGNED-PAYLOAD' ? '; UNSIGNED-PAYLOAD is S3\'s alone' : ''}`);
  }
  const credentials = { accessKeyId: sigv4.accessKeyId, secretAccessKey: sigv4.secretAccessKey, sessionToken: sigv4.sessionToken };
  const signer = new SignatureV4({ credentials, region, service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const request = { method, path: rawPath, query: parseQuery(rawQuery), headers: Object.fromEntries(signed.map((h) => [h, String(headers[h])])) };
  // SignatureV4's own building blocks, fed with exactly the headers the client signed.
  const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signed));
  const canonicalRequest = signer.createCanonicalRequest(request, canonicalHeaders, bodyHash);
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = await signer.createStringToSign(longDate, scope, canonicalRequest, 'AWS4-HMAC-SHA256');
  const expected = await signer.getSignature(longDate, scope, signer.getSigningKey(credentials, region, scopeDate, service), canonicalRequest);
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(provided))) {
    throw refuse(`the signature does not match. Canonical request:\n${canonicalRequest}\nString to sign:\n${stringToSign}`);
  }
}

// ---- table metadata ----------------------------------------------------------------------

// Every field of a schema (struct fields, list elements, map keys and values), depth first.
function schemaFields(schema) {
  const out = [];
  const walk = (type) => {
    if (typeof type !== 'object') return;
    if (type.type === 'struct') {
      for (const f of type.fields) { out.push({ id: f.id, type: f.type, required: f.required, name: f.name }); walk(f.type); }
    } else if (type.type === 'list') {
      out.push({ id: type['element-id'], type: type.element, required: type['element-required'] });
      walk(type.element);
    } else if (type.type === 'map') {
      out.push({ id: type['key-id'], type: type.key, required: true });
      out.push({ id: type['value-id'], type: type.value, required: type['value-required'] });
      walk(type.key);
      walk(type.value);
    }
  }
  walk(schema);
  return out;
}

function checkSchema(schema, formatVersion) {
  const fields = schemaFields(schema);
  const ids = fields.map((f) => f.id);
  if (ids.some((id) => id < 1)) throw invalidCommit(`schema field ids must be positive: ${ids.join(',')}`);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw invalidCommit(`schema field id ${dup} is used twice`);
  for (const t of fields.map((f) => f.type).filter((t) => typeof t === 'string')) {
    if (formatVersion < 3 && V3_TYPES.test(t)) throw invalidCommit(`type ${t} needs format version 3 (table is v${formatVersion})`);
  }
  const names = schema.fields.map((f) => f.name);
  const dupName = names.find((n, i) => names.indexOf(n) !== i);
  if (dupName !== undefined) throw invalidCommit(`schema field name ${dupName} is used twice in a struct`);
  for (const id of schema['identifier-field-ids'] ?? []) {
    const f = fields.find((x) => x.id === id);
    if (!f) throw invalidCommit(`identifier field id ${id} is not in the schema`);
    if (!f.required || typeof f.type !== 'string') throw invalidCommit(`identifier field ${id} must be a required primitive`);
  }
  return maxOf(ids, 0);
}

function checkSpec(spec, schema) {
  const ids = new Set(schemaFields(schema).map((f) => f.id));
  const names = new Set();
  for (const f of spec.fields) {
    if (!ids.has(f['source-id']) && f.transform !== 'void') throw invalidCommit(`partition field ${f.name}: source id ${f['source-id']} is not in the current schema`);
    if (names.has(f.name)) throw invalidCommit(`partition field name ${f.name} is used twice`);
    names.add(f.name);
  }
  const fids = spec.fields.map((f) => f['field-id']).filter((x) => x !== undefined);
  if (fids.some((x, i) => fids.indexOf(x) !== i)) throw invalidCommit(`partition field ids repeat: ${fids.join(',')}`);
}

function checkSortOrder(order, schema) {
  const ids = new Set(schemaFields(schema).map((f) => f.id));
  for (const f of order.fields) {
    if (!ids.has(f['source-id'])) throw invalidCommit(`sort field source id ${f['source-id']} is not in the current schema`);
  }
  if ((order['order-id'] === 0) !== (order.fields.length === 0)) throw invalidCommit(`sort order id 0 is the unsorted order, and only it (order-id ${order['order-id']}, ${order.fields.length} fields)`);
}

// current-snapshot-id of a table with no current snapshot, as Java 1.11 writes it: -1 up
// to v2, null from v3 (TableMetadataParser; the REST spec's schema says a long).
const noSnapshot = (formatVersion) => (formatVersion >= 3 ? null : -1);

// Java's TypeUtil.assignFreshIds: a struct's fields take the next ids first, then each
// field's type is visited; lists take the element id, maps the key and value ids.
function freshIds(schema) {
  let next = 1;
  const map = new Map();
  const visit = (type) => {
    if (typeof type !== 'object') return type;
    if (type.type === 'struct') {
      const fields = type.fields.map((f) => { const id = next++; map.set(f.id, id); return { ...f, id }; });
      return { ...type, fields: fields.map((f) => ({ ...f, type: visit(f.type) })) };
    }
    if (type.type === 'list') {
      const id = next++;
      map.set(type['element-id'], id);
      return { ...type, 'element-id': id, element: visit(type.element) };
    }
    const keyId = next++;
    const valueId = next++;
    map.set(type['key-id'], keyId);
    map.set(type['value-id'], valueId);
    return { ...type, 'key-id': keyId, 'value-id': valueId, key: visit(type.key), value: visit(type.value) };
  };
  const out = visit(schema);
  if (schema['identifier-field-ids']) out['identifier-field-ids'] = schema['identifier-field-ids'].map((id) => map.get(id));
  return { schema: out, map };
}

// JSON with sorted keys: equality of content whatever order the client wrote it in.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return toJson(v);
}

// Java reuses the id of an identical schema / spec / sort order (all but the id equal),
// else adds the item under `newId`. Returns the id.
function addOrReuse(list, idKey, item, newId) {
  const strip = (x) => canonical({ ...x, [idKey]: null });
  const same = list.find((x) => strip(x) === strip(item));
  if (same) return same[idKey];
  list.push({ ...item, [idKey]: newId });
  return newId;
}

function newTableMetadata(req, location, { reassignIds, now }) {
  const properties = { ...(req.properties ?? {}) };
  const formatVersion = Number(properties['format-version'] ?? 2);
  delete properties['format-version'];
  if (formatVersion !== 2 && formatVersion !== 3) throw new CatalogError(400, 'BadRequestException', `this fake builds format v2 and v3 tables, not v${properties['format-version']}`);
  let schema = { ...req.schema, 'schema-id': 0 };
  let spec = { 'spec-id': 0, fields: (req['partition-spec']?.fields ?? []).map((f) => ({ ...f })) };
  let order = req['write-order'] ?? { 'order-id': 0, fields: [] };
  checkSchema(req.schema, formatVersion);
  checkSpec(spec, req.schema);
  checkSortOrder(order, req.schema);
  if (reassignIds) {
    const fresh = freshIds(req.schema);
    schema = { ...fresh.schema, 'schema-id': 0 };
    spec.fields = spec.fields.map((f, i) => ({ ...f, 'source-id': fresh.map.get(f['source-id']) ?? f['source-id'], 'field-id': 1000 + i }));
    order = { 'order-id': order.fields.length ? 1 : 0, fields: order.fields.map((f) => ({ ...f, 'source-id': fresh.map.get(f['source-id']) })) };
  } else {
    let nextField = maxOf(spec.fields.map((f) => f['field-id'] ?? 0), 999) + 1;
    spec.fields = spec.fields.map((f) => ({ ...f, 'field-id': f['field-id'] ?? nextField++ }));
  }
  const md = {
    'format-version': formatVersion,
    'table-uuid': randomUUID(),
    location: location.replace(/\/+$/, ''),
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': maxOf(schemaFields(schema).map((f) => f.id), 0),
    'current-schema-id': 0,
    schemas: [schema],
    'default-spec-id': 0,
    'partition-specs': [spec],
    'last-partition-id': maxOf(spec.fields.map((f) => f['field-id']), 999),
    'default-sort-order-id': order['order-id'],
    'sort-orders': [order],
    properties,
    'current-snapshot-id': noSnapshot(formatVersion),
    refs: {},
    snapshots: [],
    statistics: [],
    'partition-statistics': [],
    'snapshot-log': [],
    'metadata-log': [],
  };
  if (formatVersion >= 3) md['next-row-id'] = 0;
  return md;
}

// Returns null when the requirement holds, else why not.
function failedRequirement(r, md) {
  const has = (actual, want, what) => (actual === want ? null : `${r.type}: ${what} is ${actual}, expected ${want}`);
  switch (r.type) {
    case 'assert-create': return 'assert-create: the table already exists';
    case 'assert-table-uuid': return has(md['table-uuid'], r.uuid, 'table-uuid');
    case 'assert-ref-snapshot-id': {
      const ref = md.refs?.[r.ref];
      if (r['snapshot-id'] === null) return ref ? `assert-ref-snapshot-id: ref ${r.ref} exists (snapshot ${ref['snapshot-id']}), expected none` : null;
      if (!ref) return `assert-ref-snapshot-id: ref ${r.ref} does not exist, expected snapshot ${r['snapshot-id']}`;
      return isId(ref['snapshot-id'], r['snapshot-id']) ? null : `assert-ref-snapshot-id: ref ${r.ref} is at snapshot ${ref['snapshot-id']}, expected ${r['snapshot-id']}`;
    }
    case 'assert-last-assigned-field-id': return has(md['last-column-id'], r['last-assigned-field-id'], 'last-column-id');
    case 'assert-current-schema-id': return has(md['current-schema-id'], r['current-schema-id'], 'current-schema-id');
    case 'assert-last-assigned-partition-id': return has(md['last-partition-id'], r['last-assigned-partition-id'], 'last-partition-id');
    case 'assert-default-spec-id': return has(md['default-spec-id'], r['default-spec-id'], 'default-spec-id');
    case 'assert-default-sort-order-id': return has(md['default-sort-order-id'], r['default-sort-order-id'], 'default-sort-order-id');
    default: throw new Error(`unreachable requirement ${r.type}`);
  }
}

// Applies the updates to a copy of `base`, as Java's TableMetadata.Builder does.
function applyUpdates(base, updates, now) {
  const md = clone(base);
  const added = { schema: null, spec: null, order: null };
  const currentSchema = () => md.schemas.find((s) => s['schema-id'] === md['current-schema-id']);
  const pickId = (id, last, what, list, key) => {
    if (id === -1) {
      if (last === null) throw invalidCommit(`${what} -1 means the last added in this commit, and none was added`);
      return last;
    }
    if (!list.some((x) => x[key] === id)) throw invalidCommit(`${what} ${id} does not exist`);
    return id;
  };
  for (const u of updates) {
    switch (u.action) {
      case 'assign-uuid':
        if (u.uuid !== md['table-uuid']) throw invalidCommit(`assign-uuid ${u.uuid}: the table already has uuid ${md['table-uuid']}`);
        break;
      case 'upgrade-format-version':
        if (u['format-version'] < md['format-version']) throw invalidCommit(`cannot downgrade format version ${md['format-version']} to ${u['format-version']}`);
        if (u['format-version'] > 3) throw unsupported(`format version ${u['format-version']}`);
        if (u['format-version'] >= 3 && md['next-row-id'] === undefined) md['next-row-id'] = 0;
        if (md['current-snapshot-id'] === noSnapshot(md['format-version'])) md['current-snapshot-id'] = noSnapshot(u['format-version']);
        md['format-version'] = u['format-version'];
        break;
      case 'add-schema': {
        const maxId = checkSchema(u.schema, md['format-version']);
        if (u['last-column-id'] !== undefined && u['last-column-id'] < md['last-column-id']) {
          throw invalidCommit(`add-schema last-column-id ${u['last-column-id']} is behind the table's ${md['last-column-id']}`);
        }
        added.schema = addOrReuse(md.schemas, 'schema-id', u.schema, maxOf(md.schemas.map((x) => x['schema-id']), -1) + 1);
        md['last-column-id'] = Math.max(md['last-column-id'], maxId, u['last-column-id'] ?? 0);
        break;
      }
      case 'set-current-schema':
        md['current-schema-id'] = pickId(u['schema-id'], added.schema, 'schema-id', md.schemas, 'schema-id');
        break;
      case 'add-spec': {
        checkSpec(u.spec, currentSchema());
        let next = md['last-partition-id'] + 1;
        const fields = u.spec.fields.map((f) => ({ ...f, 'field-id': f['field-id'] ?? next++ }));
        added.spec = addOrReuse(md['partition-specs'], 'spec-id', { fields }, maxOf(md['partition-specs'].map((x) => x['spec-id']), -1) + 1);
        md['last-partition-id'] = maxOf(fields.map((f) => f['field-id']), md['last-partition-id']);
        break;
      }
      case 'set-default-spec':
        md['default-spec-id'] = pickId(u['spec-id'], added.spec, 'spec-id', md['partition-specs'], 'spec-id');
        break;
      case 'add-sort-order': {
        checkSortOrder(u['sort-order'], currentSchema());
        const order = u['sort-order'];
        added.order = addOrReuse(md['sort-orders'], 'order-id', order, order.fields.length === 0 ? 0 : maxOf(md['sort-orders'].map((x) => x['order-id']), 0) + 1);
        break;
      }
      case 'set-default-sort-order':
        md['default-sort-order-id'] = pickId(u['sort-order-id'], added.order, 'sort-order-id', md['sort-orders'], 'order-id');
        break;
      case 'add-snapshot': {
        const s = u.snapshot;
        const id = s['snapshot-id'];
        if (md.snapshots.some((x) => isId(x['snapshot-id'], id))) throw invalidCommit(`snapshot ${id} already exists`);
        const parent = s['parent-snapshot-id'];
        if (parent !== undefined && parent !== null && !md.snapshots.some((x) => isId(x['snapshot-id'], parent))) {
          throw invalidCommit(`snapshot ${id}: parent ${parent} does not exist`);
        }
        if (md['format-version'] >= 2) {
          if (s['sequence-number'] === undefined) throw invalidCommit(`snapshot ${id}: sequence-number is required in a v${md['format-version']} table`);
          if (BigInt(s['sequence-number']) <= BigInt(md['last-sequence-number'])) {
            throw invalidCommit(`snapshot ${id}: sequence number ${s['sequence-number']} is not above the last sequence number ${md['last-sequence-number']}`);
          }
        }
        if (s['schema-id'] !== undefined && !md.schemas.some((x) => x['schema-id'] === s['schema-id'])) {
          throw invalidCommit(`snapshot ${id}: schema-id ${s['schema-id']} does not exist`);
        }
        if (md['format-version'] >= 3) {
          if (s['first-row-id'] === undefined || s['added-rows'] === undefined) throw invalidCommit(`snapshot ${id}: first-row-id and added-rows are required in a v3 table`);
          if (BigInt(s['first-row-id']) < BigInt(md['next-row-id'])) throw invalidCommit(`snapshot ${id}: first-row-id ${s['first-row-id']} is behind next-row-id ${md['next-row-id']}`);
          md['next-row-id'] = parseNumber(String(BigInt(s['first-row-id']) + BigInt(s['added-rows'])));
        }
        md.snapshots.push(clone(s));
        if (s['sequence-number'] !== undefined) md['last-sequence-number'] = s['sequence-number'];
        break;
      }
      case 'set-snapshot-ref': {
        const name = u['ref-name'];
        if (!md.snapshots.some((x) => isId(x['snapshot-id'], u['snapshot-id']))) throw invalidCommit(`ref ${name}: snapshot ${u['snapshot-id']} does not exist`);
        if (name === 'main' && u.type !== 'branch') throw invalidCommit('ref main must be a branch');
        if (u.type === 'tag' && (u['min-snapshots-to-keep'] !== undefined || u['max-snapshot-age-ms'] !== undefined)) {
          throw invalidCommit(`tag ${name}: min-snapshots-to-keep and max-snapshot-age-ms are for branches only`);
        }
        for (const k of ['min-snapshots-to-keep', 'max-snapshot-age-ms', 'max-ref-age-ms']) {
          if (u[k] !== undefined && BigInt(u[k]) <= 0n) throw invalidCommit(`ref ${name}: ${k} must be positive`);
        }
        const ref = { 'snapshot-id': u['snapshot-id'], type: u.type };
        for (const k of ['max-ref-age-ms', 'max-snapshot-age-ms', 'min-snapshots-to-keep']) if (u[k] !== undefined) ref[k] = u[k];
        const was = md.refs[name];
        md.refs[name] = ref;
        if (name === 'main' && !isId(was?.['snapshot-id'], ref['snapshot-id'])) {
          md['current-snapshot-id'] = ref['snapshot-id'];
          md['snapshot-log'].push({ 'snapshot-id': ref['snapshot-id'], 'timestamp-ms': now });
        }
        break;
      }
      case 'remove-snapshots': {
        // As Java's builder: ids the table lacks are ignored; refs naming a removed
        // snapshot go with it (main too: then no current snapshot); the snapshot-log
        // keeps only the entries after the last removed snapshot's.
        const ids = u['snapshot-ids'];
        if (!Array.isArray(ids) || ids.length === 0) throw invalidCommit('remove-snapshots needs snapshot-ids');
        const gone = (id) => ids.some((x) => isId(x, id));
        md.snapshots = md.snapshots.filter((s) => !gone(s['snapshot-id']));
        for (const [name, ref] of Object.entries(md.refs)) {
          if (!gone(ref['snapshot-id'])) continue;
          delete md.refs[name];
          if (name === 'main') md['current-snapshot-id'] = noSnapshot(md['format-version']);
        }
        let cut = 0;
        md['snapshot-log'].forEach((e, i) => { if (gone(e['snapshot-id'])) cut = i + 1; });
        md['snapshot-log'] = md['snapshot-log'].slice(cut);
        break;
      }
      case 'remove-snapshot-ref':
        delete md.refs[u['ref-name']];
        if (u['ref-name'] === 'main') md['current-snapshot-id'] = noSnapshot(md['format-version']);
        break;
      case 'set-location':
        md.location = u.location.replace(/\/+$/, '');
        break;
      case 'set-properties':
        Object.assign(md.properties, u.updates);
        break;
      case 'remove-properties':
        for (const k of u.removals) delete md.properties[k];
        break;
      default:
        throw unsupported(`update action ${u.action}`);
    }
  }
  md['last-updated-ms'] = Math.max(now, base['last-updated-ms'] + 1);
  // snapshot-log entries carry the last-updated-ms of the metadata that made the change.
  for (const e of md['snapshot-log'].slice(base['snapshot-log'].length)) e['timestamp-ms'] = md['last-updated-ms'];
  return md;
}

// The whole-table invariants of the table spec; throws invalidCommit.
function checkTableMetadata(md) {
  const has = (list, key, id) => list.some((x) => x[key] === id);
  if (!has(md.schemas, 'schema-id', md['current-schema-id'])) throw invalidCommit(`current-schema-id ${md['current-schema-id']} does not exist`);
  if (!has(md['partition-specs'], 'spec-id', md['default-spec-id'])) throw invalidCommit(`default-spec-id ${md['default-spec-id']} does not exist`);
  if (!has(md['sort-orders'], 'order-id', md['default-sort-order-id'])) throw invalidCommit(`default-sort-order-id ${md['default-sort-order-id']} does not exist`);
  const maxField = maxOf(md.schemas.flatMap((s) => schemaFields(s).map((f) => f.id)), 0);
  if (maxField > md['last-column-id']) throw invalidCommit(`last-column-id ${md['last-column-id']} is behind field id ${maxField}`);
  for (const [name, ref] of Object.entries(md.refs)) {
    if (!md.snapshots.some((s) => isId(s['snapshot-id'], ref['snapshot-id']))) throw invalidCommit(`ref ${name} points at missing snapshot ${ref['snapshot-id']}`);
  }
  const main = md.refs.main;
  if (main ? !isId(main['snapshot-id'], md['current-snapshot-id']) : md['current-snapshot-id'] !== noSnapshot(md['format-version'])) {
    throw invalidCommit(`current-snapshot-id ${md['current-snapshot-id']} is not the main branch's ${main?.['snapshot-id']}`);
  }
  for (const s of md.snapshots) {
    if (s['sequence-number'] !== undefined && BigInt(s['sequence-number']) > BigInt(md['last-sequence-number'])) {
      throw invalidCommit(`snapshot ${s['snapshot-id']} has sequence number ${s['sequence-number']} above last-sequence-number ${md['last-sequence-number']}`);
    }
  }
}

const metadataFileName = (location, version) => `${location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;

// ---- the server --------------------------------------------------------------------------

function checkOptions(o) {
  const modes = Object.keys(o.auth ?? {});
  if (modes.length !== 1 || !['sigv4', 'oauth2', 'bearer', 'none'].includes(modes[0])) {
    throw new Error(`auth must be exactly one of sigv4, oauth2, bearer, none: ${JSON.stringify(o.auth)}`);
  }
  if (o.auth.sigv4) {
    for (const k of ['service', 'region', 'accessKeyId', 'secretAccessKey']) if (!o.auth.sigv4[k]) throw new Error(`auth.sigv4.${k} is required`);
  }
  if (o.auth.oauth2 && (!o.auth.oauth2.clientId || !o.auth.oauth2.clientSecret)) throw new Error('auth.oauth2 needs clientId and clientSecret');
  if (typeof o.location !== 'function') throw new Error('location(namespace, name) is required');
}

function checkFault(f) {
  if (!OPS.includes(f.op)) throw new Error(`fault op ${f.op} is not one of ${OPS.join(', ')}`);
  if (!FAULT_KINDS.includes(f.kind)) throw new Error(`fault kind ${f.kind} is not one of ${FAULT_KINDS.join(', ')}`);
  if (f.kind === 'delay' && !(f.ms >= 0)) throw new Error('a delay fault needs ms');
}

export async function startRestCatalog(options) {
  checkOptions(options);
  const auth = options.auth;
  const prefix = options.prefix ?? null;
  const warehouse = options.warehouse ?? null;
  const now = options.now ?? Date.now;
  const unknownFields = options.unknownFields ?? 'violation';
  const log = options.log ?? (() => {});
  const metadataFiles = new Map();
  const writeMetadata = options.writeMetadata ?? (async (uri, text) => { metadataFiles.set(uri, text); });

  const namespaces = new Map();   // key (parts joined by 0x1F) -> { namespace, properties }
  const tables = new Map();       // key ns\x1Fname... -> table state
  const tokens = new Map();       // access token -> { expiresAt, revoked }
  const idempotency = new Map();  // key -> { fingerprint, status, headers, body }
  const tableLocks = new Map();
  const requests = [];
  const violations = [];
  const faults = [];

  const nsKey = (ns) => ns.join('\x1F');
  const tableKey = (ns, name) => `${nsKey(ns)}\x00${name}`;

  // Runs fn after every earlier call for the same table has finished.
  function serialised(key, fn) {
    const run = (tableLocks.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    tableLocks.set(key, tail);
    tail.then(() => { if (tableLocks.get(key) === tail) tableLocks.delete(key); });
    return run;
  }

  const takeFault = (op) => takeFaultFrom(faults, op, checkFault);


  function issueToken() {
    const token = `tok-${randomUUID()}`;
    tokens.set(token, { expiresAt: now() + (auth.oauth2.tokenTtlS ?? 3600) * 1000, revoked: false });
    return token;
  }

  function bearerOf(headers) {
    const m = /^Bearer\s+(\S+)$/.exec(headers.authorization ?? '');
    return m ? m[1] : null;
  }

  async function checkAuth(ctx) {
    if (auth.none) return;
    if (auth.sigv4) {
      await verifyServiceSigV4({ method: ctx.method, rawPath: ctx.rawPath, rawQuery: ctx.rawQuery, headers: ctx.headers, body: ctx.rawBody, sigv4: auth.sigv4, now: now() });
      return;
    }
    const challenge = { 'www-authenticate': 'Bearer' };
    const token = bearerOf(ctx.headers);
    if (token === null) throw new CatalogError(401, 'NotAuthorizedException', 'no bearer token (Authorization: Bearer <token>)', { violation: true, kind: 'auth', headers: challenge });
    if (auth.bearer !== undefined) {
      if (token !== auth.bearer) throw new CatalogError(401, 'NotAuthorizedException', 'unknown bearer token', { violation: true, kind: 'auth', headers: challenge });
      return;
    }
    const t = tokens.get(token);
    if (!t) throw new CatalogError(401, 'NotAuthorizedException', 'unknown bearer token', { violation: true, kind: 'auth', headers: challenge });
    if (t.revoked || now() >= t.expiresAt) throw new CatalogError(401, 'NotAuthorizedException', 'the bearer token has expired', { violation: true, kind: 'auth', headers: challenge });
  }

  // ---- routing ----

  // -> { op, params } or throws. rawPath is as received (percent-encoded).
  function route(method, rawPath) {
    if (rawPath === '/oauth/tokens' || rawPath === '/v1/oauth/tokens') {
      if (!auth.oauth2) throw new CatalogError(404, 'NoSuchEndpointException', `this catalog issues no tokens (auth mode ${Object.keys(auth)[0]})`, { violation: true, kind: 'route' });
      if (method !== 'POST') throw new CatalogError(405, 'BadRequestException', `${method} ${rawPath}: only POST`, { violation: true, kind: 'route' });
      return { op: 'token', params: {} };
    }
    if (rawPath === '/v1/config') {
      if (method !== 'GET') throw new CatalogError(405, 'BadRequestException', `${method} /v1/config: only GET`, { violation: true, kind: 'route' });
      return { op: 'config', params: {} };
    }
    const segs = rawPath.split('/');
    if (segs[0] !== '' || segs[1] !== 'v1') throw new CatalogError(404, 'NoSuchEndpointException', `no route ${method} ${rawPath}`, { violation: true, kind: 'route' });
    let rest = segs.slice(2);
    if (prefix !== null) {
      if (rest.length === 0 || decode(rest[0], 'prefix') !== decodeURIComponent(prefix)) {
        throw new CatalogError(404, 'NoSuchEndpointException', `${rawPath} does not start with /v1/${prefix} (the prefix of /v1/config)`, { violation: true, kind: 'route' });
      }
      rest = rest.slice(1);
    }
    const tail = rest.join('/');
    if (UNSERVED_ROUTES.some((re) => re.test(tail))) {
      throw new CatalogError(406, 'UnsupportedOperationException', `${method} ${rawPath}: not served by this catalog (not in /v1/config endpoints)`, { violation: true, kind: 'route' });
    }
    const ns = (seg) => {
      const parts = decode(seg, 'namespace').split('\x1F');
      if (parts.some((p) => p === '')) throw bad(`namespace path segment ${seg} has an empty part`, 'path');
      return parts;
    };
    const ops = {
      1: { GET: 'list-namespaces', POST: 'create-namespace' },
      2: { GET: 'load-namespace', HEAD: 'namespace-exists', DELETE: 'drop-namespace' },
      3: { GET: 'list-tables', POST: 'create-table' },
      4: { GET: 'load', HEAD: 'load', POST: 'commit', DELETE: 'drop-table' },
    };
    const shapeOk = rest[0] === 'namespaces' && rest.length <= 4 && (rest.length < 3 || rest[2] === 'tables') && rest.every((s, i) => i === 0 || s !== '');
    if (!shapeOk) throw new CatalogError(404, 'NoSuchEndpointException', `no route ${method} ${rawPath}`, { violation: true, kind: 'route' });
    const op = ops[rest.length][method];
    if (!op) throw new CatalogError(405, 'BadRequestException', `${method} is not served on ${rawPath}`, { violation: true, kind: 'route' });
    const params = {};
    if (rest.length >= 2) params.namespace = ns(rest[1]);
    if (rest.length === 4) params.table = decode(rest[3], 'table name');
    return { op, params };
  }

  // ---- bodies ----

  // Parses and validates a JSON body against `schemaName`; returns the lossless value.
  function jsonBody(ctx, schemaName) {
    const type = (ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw bad(`content-type must be application/json, not '${ctx.headers['content-type'] ?? ''}'`, 'content-type');
    const text = ctx.rawBody.toString('utf8');
    let plain;
    try {
      plain = JSON.parse(text);
      ctx.body = parseJson(text);
    } catch (e) {
      throw bad(`the body is not valid JSON: ${e.message}`, 'json');
    }
    checkValue(ctx, schemaName, plain);
    return ctx.body;
  }

  function checkValue(ctx, schemaName, plain, where = '') {
    const r = validatorFor(schemaName)(plain);
    if (!r.ok) throw bad(`${schemaName}${where}: ${r.errors}`);
    if (r.unknownFields && unknownFields !== 'ignore') {
      record(ctx, 'unknown-field', `${schemaName}${where}: fields the spec does not define: ${r.unknownFields}`);
    }
  }

  function checkCommitBody(ctx) {
    const body = jsonBody(ctx, 'CommitTableRequest');
    const plain = JSON.parse(ctx.rawBody.toString('utf8'));
    plain.requirements.forEach((r, i) => {
      if (!Object.hasOwn(REQUIREMENT_SCHEMAS, r.type)) throw bad(`requirements[${i}]: unknown requirement type '${r.type}' (the spec requires a 400)`, 'unknown-requirement');
      checkValue(ctx, `requirement:${r.type}`, r, ` requirements[${i}]`);
    });
    plain.updates.forEach((u, i) => {
      if (!Object.hasOwn(UPDATE_SCHEMAS, u.action)) throw bad(`updates[${i}]: unknown update action '${u.action}' (the spec requires a 400)`, 'unknown-update');
      checkValue(ctx, `update:${u.action}`, u, ` updates[${i}]`);
    });
    return body;
  }

  function record(ctx, kind, message) {
    const v = { op: ctx.op, method: ctx.method, path: ctx.rawPath, kind, message };
    violations.push(v);
    ctx.entry.violations.push(v);
    log(`rest catalog: ${kind} violation on ${ctx.method} ${ctx.rawPath}: ${message}`);
  }

  // ---- handlers: each returns { status, body?, headers? } ----

  function loadResult(t, query = {}) {
    let metadata = t.metadata;
    if (query.snapshots === 'refs') {
      const keep = new Set(Object.values(metadata.refs).map((r) => String(r['snapshot-id'])));
      metadata = { ...metadata, snapshots: metadata.snapshots.filter((s) => keep.has(String(s['snapshot-id']))) };
    }
    return { 'metadata-location': t.metadataLocation, metadata, config: {} };
  }
  const etagOf = (t, query) => `"${sha256Hex(`${t.metadataLocation}|${query.snapshots ?? 'all'}`).slice(0, 32)}"`;

  function requireNamespace(ns) {
    const n = namespaces.get(nsKey(ns));
    if (!n) throw new CatalogError(404, 'NoSuchNamespaceException', `namespace ${ns.join('.')} does not exist`);
    return n;
  }
  function requireTable(ns, name) {
    const t = tables.get(tableKey(ns, name));
    if (!t) throw new CatalogError(404, 'NoSuchTableException', `table ${ns.join('.')}.${name} does not exist`);
    return t;
  }

  // A table's next metadata file, written before the pointer moves.
  async function writeVersion(t, md) {
    const version = t.version + 1;
    const uri = metadataFileName(md.location, version);
    try {
      await writeMetadata(uri, toJson(md));
    } catch (e) {
      throw new CatalogError(500, 'InternalServerError', `writing ${uri} failed: ${e.message}`);
    }
    return { version, uri };
  }

  // `apply` runs the change; `fault` may ask for 500 / reset after it.
  const handlers = {
    config(ctx) {
      if (warehouse !== null && ctx.query.warehouse !== warehouse) {
        throw new CatalogError(404, 'NoSuchWarehouseException', `warehouse ${JSON.stringify(ctx.query.warehouse ?? null)} does not exist (this catalog serves ${warehouse})`,
          { violation: true, kind: 'config' });
      }
      const overrides = {};
      if (prefix !== null) overrides.prefix = prefix;
      if (warehouse !== null) overrides.warehouse = warehouse;
      const body = { defaults: {}, overrides, endpoints: [...ENDPOINTS] };
      if (options.idempotencyKeyLifetime !== undefined) body['idempotency-key-lifetime'] = options.idempotencyKeyLifetime;
      return { status: 200, body };
    },
    'list-namespaces'(ctx) {
      let parent = [];
      if (ctx.query.parent) {
        parent = ctx.query.parent.split('\x1F');
        requireNamespace(parent);
      }
      const out = [];
      for (const { namespace } of namespaces.values()) {
        if (namespace.length === parent.length + 1 && parent.every((p, i) => namespace[i] === p)) out.push(namespace);
      }
      return { status: 200, body: { namespaces: out } };
    },
    'create-namespace'(ctx) {
      const body = jsonBody(ctx, 'CreateNamespaceRequest');
      if (body.namespace.length === 0 || body.namespace.some((p) => p === '' || p.includes('\x1F'))) throw bad(`namespace ${JSON.stringify(body.namespace)}: empty, or a part is empty or holds 0x1F`);
      return {
        apply() {
          const key = nsKey(body.namespace);
          if (namespaces.has(key)) throw new CatalogError(409, 'AlreadyExistsException', `namespace ${body.namespace.join('.')} already exists`);
          const properties = { ...(body.properties ?? {}) };
          namespaces.set(key, { namespace: body.namespace, properties });
          return { status: 200, body: { namespace: body.namespace, properties } };
        },
      };
    },
    'load-namespace'(ctx) {
      const n = requireNamespace(ctx.params.namespace);
      return { status: 200, body: { namespace: n.namespace, properties: n.properties } };
    },
    'namespace-exists'(ctx) {
      requireNamespace(ctx.params.namespace);
      return { status: 204 };
    },
    'drop-namespace'(ctx) {
      return {
        apply() {
          const ns = ctx.params.namespace;
          requireNamespace(ns);
          if ([...tables.values()].some((t) => nsKey(t.namespace) === nsKey(ns))) throw new CatalogError(409, 'NamespaceNotEmptyException', `namespace ${ns.join('.')} is not empty`);
          namespaces.delete(nsKey(ns));
          return { status: 204 };
        },
      };
    },
    'list-tables'(ctx) {
      const ns = ctx.params.namespace;
      requireNamespace(ns);
      const identifiers = [...tables.values()].filter((t) => nsKey(t.namespace) === nsKey(ns)).map((t) => ({ namespace: t.namespace, name: t.name }));
      return { status: 200, body: { identifiers } };
    },
    'create-table'(ctx) {
      const body = jsonBody(ctx, 'CreateTableRequest');
      const ns = ctx.params.namespace;
      if (body['stage-create']) throw new CatalogError(400, 'BadRequestException', 'stage-create is not supported by this fake catalog');
      return {
        async apply() {
          requireNamespace(ns);
          return serialised(tableKey(ns, body.name), async () => {
            if (tables.has(tableKey(ns, body.name))) throw new CatalogError(409, 'AlreadyExistsException', `table ${ns.join('.')}.${body.name} already exists`);
            const md = newTableMetadata(body, body.location ?? options.location(ns, body.name), { reassignIds: options.reassignIds, now: now() });
            checkTableMetadata(md);
            const t = { namespace: ns, name: body.name, version: -1, metadata: md, metadataLocation: null, commits: [] };
            const { version, uri } = await writeVersion(t, md);
            Object.assign(t, { version, metadataLocation: uri });
            tables.set(tableKey(ns, body.name), t);
            return { status: 200, body: loadResult(t), headers: { etag: etagOf(t, {}) } };
          });
        },
      };
    },
    load(ctx) {
      const t = requireTable(ctx.params.namespace, ctx.params.table);
      if (ctx.query.snapshots !== undefined && !['all', 'refs'].includes(ctx.query.snapshots)) throw bad(`snapshots=${ctx.query.snapshots}: must be all or refs`, 'query');
      if (ctx.method === 'HEAD') return { status: 204 };
      const etag = etagOf(t, ctx.query);
      if (ctx.headers['if-none-match'] === etag) return { status: 304, headers: { etag } };
      return { status: 200, body: loadResult(t, ctx.query), headers: { etag } };
    },
    'drop-table'(ctx) {
      return {
        apply() {
          requireTable(ctx.params.namespace, ctx.params.table);
          tables.delete(tableKey(ctx.params.namespace, ctx.params.table));
          return { status: 204 };
        },
      };
    },
    commit(ctx) {
      const body = checkCommitBody(ctx);
      const { namespace: ns, table: name } = ctx.params;
      if (body.identifier && (nsKey(body.identifier.namespace) !== nsKey(ns) || body.identifier.name !== name)) {
        throw bad(`identifier ${body.identifier.namespace.join('.')}.${body.identifier.name} is not the table of the path ${ns.join('.')}.${name}`, 'identifier');
      }
      return {
        apply: () => serialised(tableKey(ns, name), async () => {
          const t = tables.get(tableKey(ns, name));
          if (!t) {
            if (body.requirements.some((r) => r.type === 'assert-create')) throw unsupported('create transactions (assert-create on a table that does not exist)');
            requireTable(ns, name);
          }
          for (const r of body.requirements) {
            const why = failedRequirement(r, t.metadata);
            if (why) throw new CatalogError(409, 'CommitFailedException', `Requirement failed: ${why}`);
          }
          if (body.updates.length === 0) return { status: 200, body: { 'metadata-location': t.metadataLocation, metadata: t.metadata } };
          const base = t.metadata;
          const md = applyUpdates(base, body.updates, now());
          md['metadata-log'].push({ 'metadata-file': t.metadataLocation, 'timestamp-ms': base['last-updated-ms'] });
          const keepLog = Number(md.properties['write.metadata.previous-versions-max'] ?? 100);
          if (md['metadata-log'].length > keepLog) md['metadata-log'] = md['metadata-log'].slice(-keepLog);
          checkTableMetadata(md);
          const { version, uri } = await writeVersion(t, md);
          Object.assign(t, { version, metadata: md, metadataLocation: uri });
          t.commits.push({ requirements: body.requirements, updates: body.updates, snapshotId: md['current-snapshot-id'], metadataLocation: uri });
          return { status: 200, body: { 'metadata-location': uri, metadata: md }, headers: { etag: etagOf(t, {}) } };
        }),
      };
    },
    token(ctx) {
      const oauthError = (status, error, description) => new CatalogError(status, error, description, { oauth: true, violation: status === 400, kind: 'oauth' });
      const type = (ctx.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') throw oauthError(400, 'invalid_request', `content-type must be application/x-www-form-urlencoded, not '${ctx.headers['content-type'] ?? ''}'`);
      const form = parseQuery(ctx.rawBody.toString('utf8'));
      ctx.body = form;
      const basic = /^Basic\s+(\S+)$/.exec(ctx.headers.authorization ?? '');
      if (basic && form.client_id === undefined) {
        const [id, ...secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
        form.client_id = decodeURIComponent(id);
        form.client_secret = decodeURIComponent(secret.join(':'));
      }
      const o = auth.oauth2;
      const answer = (token) => ({
        status: 200,
        headers: { 'cache-control': 'no-store' },
        body: { access_token: token, token_type: 'bearer', expires_in: o.tokenTtlS ?? 3600, issued_token_type: ACCESS_TOKEN_TYPE, ...(o.scope ? { scope: o.scope } : {}) },
      });
      const checkScope = () => {
        if (o.scope && form.scope !== undefined && !form.scope.split(' ').includes(o.scope)) throw oauthError(400, 'invalid_scope', `scope '${form.scope}' does not include '${o.scope}'`);
      };
      if (form.grant_type === 'client_credentials') {
        const r = validatorFor('OAuthClientCredentialsRequest')(form);
        if (!r.ok) throw oauthError(400, 'invalid_request', r.errors);
        if (form.client_id !== o.clientId || form.client_secret !== o.clientSecret) {
          throw new CatalogError(401, 'invalid_client', 'unknown client id or wrong secret', { oauth: true });
        }
        checkScope();
        return { apply: () => answer(issueToken()) };
      }
      if (form.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange') {
        const r = validatorFor('OAuthTokenExchangeRequest')(form);
        if (!r.ok) throw oauthError(400, 'invalid_request', r.errors);
        const t = tokens.get(form.subject_token);
        if (!t || t.revoked || now() >= t.expiresAt) throw new CatalogError(400, 'invalid_grant', 'the subject token is unknown or expired', { oauth: true });
        checkScope();
        return { apply: () => answer(issueToken()) };
      }
      throw oauthError(400, 'unsupported_grant_type', `grant_type '${form.grant_type}' is not client_credentials or token-exchange`);
    },
  };

  // ---- one request ----

  function send(ctx, res, out) {
    ctx.entry.status = out.status;
    const headers = { ...(out.headers ?? {}) };
    if (out.body === undefined || ctx.method === 'HEAD') {
      res.writeHead(out.status, headers).end();
      return;
    }
    const text = toJson(out.body);
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(text);
    res.writeHead(out.status, headers).end(text);
  }

  function errorAnswer(err) {
    if (err.oauth) return { status: err.status, headers: err.headers, body: { error: err.type, error_description: err.message } };
    return { status: err.status, headers: err.headers, body: { error: { message: err.message, type: err.type, code: err.status } } };
  }

  const destroy = resetConnection;


  function faultAnswer(ctx, kind) {
    const commit = ctx.op === 'commit';
    const unknown = (status, message) => new CatalogError(status, commit ? 'CommitStateUnknownException' : 'InternalServerError', message);
    switch (kind) {
      case '409': return commit ? new CatalogError(409, 'CommitFailedException', 'Injected: commit failed, a concurrent change won')
        : new CatalogError(409, 'AlreadyExistsException', 'Injected: already exists');
      case '503': return new CatalogError(503, 'SlowDownException', 'Injected: slow down');
      case '502': return unknown(502, 'Injected: invalid response from the upstream server');
      case '504': return unknown(504, 'Injected: gateway timed out');
      case '500-after-apply': return unknown(500, 'Injected: internal server error after the change was applied');
      case '401': return new CatalogError(401, 'NotAuthorizedException', 'Injected: not authorized', { headers: { 'www-authenticate': 'Bearer' } });
      case '419': return new CatalogError(419, 'AuthenticationTimeoutException', 'Injected: credentials have timed out');
      default: return null;
    }
  }

  async function handle(req, res) {
    const ctx = await readRequest(req, res, MAX_BODY_BYTES);
    if (!ctx) return;
    ctx.entry = { op: 'unknown', method: ctx.method, path: ctx.rawPath, query: {}, headers: { ...req.headers }, body: undefined, status: null, violations: [] };
    requests.push(ctx.entry);
    try {
      try {
        ctx.query = parseQuery(ctx.rawQuery);
      } catch {
        throw bad(`malformed query string: ${ctx.rawQuery}`, 'query');
      }
      ctx.entry.query = ctx.query;
      const { op, params } = route(ctx.method, ctx.rawPath);
      ctx.op = ctx.entry.op = op;
      ctx.params = params;
      if (op !== 'token') await checkAuth(ctx);
      if (['GET', 'HEAD', 'DELETE'].includes(ctx.method) && ctx.rawBody.length > 0) throw bad(`${ctx.method} with a ${ctx.rawBody.length}-byte body`, 'body');
      if (ctx.query.pageSize !== undefined && !/^[1-9]\d*$/.test(ctx.query.pageSize)) throw bad(`pageSize=${ctx.query.pageSize}: must be an integer >= 1`, 'query');
      const delegation = ctx.headers['x-iceberg-access-delegation'];
      if (delegation !== undefined && delegation.split(',').some((m) => !['vended-credentials', 'remote-signing'].includes(m.trim()))) {
        throw bad(`X-Iceberg-Access-Delegation: ${delegation}: not a list of vended-credentials, remote-signing`, 'header');
      }
      const key = ctx.headers['idempotency-key'];
      if (key !== undefined && !UUID_RE.test(key)) throw bad(`Idempotency-Key '${key}' is not a 36-character UUID`, 'header');
      const fingerprint = `${ctx.method} ${ctx.rawPath} ${sha256Hex(ctx.rawBody)}`;
      const replaying = options.idempotencyKeyLifetime !== undefined && key !== undefined && ['POST', 'DELETE'].includes(ctx.method);
      if (replaying && idempotency.has(key)) {
        const done = idempotency.get(key);
        if (done.fingerprint !== fingerprint) {
          throw new CatalogError(422, 'UnprocessableEntityException', `Idempotency-Key ${key} was used for another request (${done.fingerprint.split(' ').slice(0, 2).join(' ')})`, { violation: true, kind: 'idempotency' });
        }
        ctx.entry.replayed = true;
        if (typeof ctx.body === 'string' && ctx.headers['content-type']?.startsWith('application/json')) ctx.body = parseJson(ctx.body);
        ctx.entry.body = ctx.body;
        return send(ctx, res, done.answer);
      }
      const step = await handlers[op](ctx);
      ctx.entry.body = ctx.body;
      const fault = takeFault(op);
      if (fault) ctx.entry.fault = fault;
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      if (fault?.kind === 'reset-before') return destroy(res);
      const injected = fault && !fault.kind.endsWith('after-apply') ? faultAnswer(ctx, fault.kind) : null;
      if (injected) throw injected;
      let out;
      try {
        out = step.apply ? await step.apply() : step;
      } catch (err) {
        // A deterministic 4xx finalises the key (the spec's rule); a 5xx does not.
        if (replaying && err instanceof CatalogError && err.status < 500) idempotency.set(key, { fingerprint, answer: errorAnswer(err) });
        throw err;
      }
      if (replaying && out.status < 300) idempotency.set(key, { fingerprint, answer: out });
      if (fault?.kind === 'reset-after-apply') return destroy(res);
      if (fault?.kind === '500-after-apply') throw faultAnswer(ctx, fault.kind);
      return send(ctx, res, out);
    } catch (err) {
      if (!(err instanceof CatalogError)) {
        record(ctx, 'fake-failure', `the fake failed: ${err.stack ?? err}`);
        return send(ctx, res, errorAnswer(new CatalogError(500, 'InternalServerError', `fake catalog failure: ${err.message}`)));
      }
      if (err.violation) record(ctx, err.kind, err.message);
      if (ctx.entry.body === undefined) ctx.entry.body = ctx.body;
      return send(ctx, res, errorAnswer(err));
    }
  }

  const served = await serveFake(handle, violations);
  const { url } = served;

  return {
    url,
    tokenUri: `${url}/oauth/tokens`,
    requests,
    violations,
    faults,
    metadataFiles,
    takeViolations: () => violations.splice(0, violations.length),
    table(namespace, name) {
      const t = tables.get(tableKey(namespace, name));
      return t ? { metadataLocation: t.metadataLocation, metadata: clone(t.metadata) } : undefined;
    },
    commits: (namespace, name) => clone(tables.get(tableKey(namespace, name))?.commits ?? []),
    expireTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    close: served.close,
  };
}
