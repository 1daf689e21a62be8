// Tests of the strict fake Iceberg REST catalog (rest_catalog.mjs), driven by an
// independent client, iceberg-js 1.0.0, and by hand-built requests where iceberg-js cannot
// go (exact 63-bit ids, malformed bodies, SigV4 signed in Node by @smithy/signature-v4
// as an AWS SDK signs for a non-S3 service).
//
//   node --test tests/lib/rest_catalog.test.mjs
//
// Every server listens on 127.0.0.1 port 0; every request has a timeout; every catalog is
// closed in an after hook.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { IcebergError, IcebergRestCatalog } from 'iceberg-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';

import { rawExchange } from './fake_service.mjs';
import { parseJson, startRestCatalog, toJson, verifyServiceSigV4 } from './rest_catalog.mjs';
import { validatorFor } from './rest_catalog_schemas.mjs';

const REQUEST_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 60_000;
const WAREHOUSE = 'arn:aws:s3tables:us-east-1:111122223333:bucket/lake';
const PREFIX = encodeURIComponent(WAREHOUSE);
const SIGV4 = Object.freeze({ service: 's3tables', region: 'us-east-1', accessKeyId: 'AKIDRESTFAKE', secretAccessKey: 'rest/fake/secret' });
const location = (ns, name) => `s3://lake/warehouse/${ns.join('/')}/${name}`;
const BIG_ID = 9007199254740993n;  // 2^53 + 1: a double would round it

// A schema with nested types, as a client would send it (ids chosen by the client).
const SCHEMA = Object.freeze({
  type: 'struct',
  'schema-id': 0,
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'pk', type: 'string', required: true },
    { id: 2, name: 'amount', type: 'decimal(10, 2)', required: false },
    { id: 3, name: 'tags', type: { type: 'list', 'element-id': 6, element: 'string', 'element-required': false }, required: false },
    { id: 4, name: 'attrs', type: { type: 'map', 'key-id': 7, key: 'string', 'value-id': 8, value: 'long', 'value-required': true }, required: false },
    { id: 5, name: 'ts', type: 'timestamptz', required: true },
  ],
});
const SPEC = Object.freeze({ fields: [{ 'source-id': 5, name: 'ts_day', transform: 'day' }] });

const uriPath = (ns, name) => `${ns.map(encodeURIComponent).join('%1F')}${name === undefined ? '' : `/tables/${encodeURIComponent(name)}`}`;

// One HTTP request on a fresh connection. Resolves { status, headers, body } (body parsed
// losslessly when JSON) or { error } when the connection ended with no answer.
function call(base, method, path, { body, headers = {}, raw } = {}) {
  const payload = raw !== undefined ? Buffer.from(raw) : body === undefined ? Buffer.alloc(0) : Buffer.from(toJson(body));
  const h = { ...headers };
  if (body !== undefined && h['content-type'] === undefined) h['content-type'] = 'application/json';
  if (payload.length) h['content-length'] = String(payload.length);
  return rawExchange(base, method, path, h, payload, { parse: parseJson, timeoutMs: REQUEST_TIMEOUT_MS });
}

// Signs as an AWS SDK does for a service other than S3: the path as it goes on the wire
// (already percent-encoded), which SignatureV4 (uriEscapePath: true) normalises and
// encodes once more; x-amz-content-sha256 sent and signed, as Iceberg's Java client does.
async function signedHeaders(base, method, path, payload, { sigv4 = SIGV4, headers = {}, contentSha = true } = {}) {
  const url = new URL(base);
  const qi = path.indexOf('?');
  const query = qi < 0 ? {} : Object.fromEntries(new URLSearchParams(path.slice(qi + 1)));
  const signer = new SignatureV4({
    credentials: { accessKeyId: sigv4.accessKeyId, secretAccessKey: sigv4.secretAccessKey, sessionToken: sigv4.sessionToken },
    region: sigv4.region, service: sigv4.service, sha256: Hash.bind(null, 'sha256'), applyChecksum: contentSha,
  });
  const h = { host: url.host, ...headers };
  if (contentSha) h['x-amz-content-sha256'] = createHash('sha256').update(payload).digest('hex');
  const signed = await signer.sign({
    method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port),
    path: qi < 0 ? path : path.slice(0, qi), query, headers: h, body: payload,
  });
  return signed.headers;
}

async function signedCall(base, method, path, { body, sigv4, tamper } = {}) {
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(toJson(body));
  const headers = await signedHeaders(base, method, path, payload, { sigv4, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
  return call(base, method, path, { raw: tamper ? tamper(payload) : payload, headers });
}

// A fetch for iceberg-js that signs every request (its auth config cannot: it never sees
// the request).
function signingFetch(sigv4 = SIGV4) {
  return async (input, init = {}) => {
    const url = new URL(input);
    const payload = init.body === undefined ? Buffer.alloc(0) : Buffer.from(init.body);
    const headers = await signedHeaders(url.origin, init.method ?? 'GET', url.pathname + url.search, payload, { sigv4, headers: Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) });
    delete headers.host;
    return fetch(input, { ...init, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  };
}
const timedFetch = (input, init = {}) => fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

const snapshot = (id, parent, seq, extra = {}) => ({
  'snapshot-id': id, ...(parent === null ? {} : { 'parent-snapshot-id': parent }), 'sequence-number': seq,
  'timestamp-ms': Date.now(), 'manifest-list': `s3://lake/warehouse/sales/orders/metadata/snap-${id}.avro`,
  summary: { operation: 'append', 'added-data-files': '1' }, 'schema-id': 0, ...extra,
});
// The commit a writer sends to append snapshot `id` on top of `parent` (null: the first),
// asserting that main is at `expected`.
const appendCommit = (id, parent, seq, expected = parent) => ({
  requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': expected }],
  updates: [
    { action: 'add-snapshot', snapshot: snapshot(id, parent, seq) },
    { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
  ],
});

function assertValid(schemaName, value) {
  const r = validatorFor(schemaName)(JSON.parse(toJson(value)));
  assert.ok(r.ok, `${schemaName}: ${r.errors}`);
  assert.equal(r.unknownFields, null, `${schemaName}: ${r.unknownFields}`);
}

async function createOrders(cat, base, { ns = ['sales'], name = 'orders', sign = false, headers = {} } = {}) {
  const send = (method, path, body) => (sign ? signedCall(base, method, path, { body }) : call(base, method, path, { body, headers }));
  const p = cat.prefixPath;
  const a = await send('POST', `${p}/namespaces`, { namespace: ns });
  assert.equal(a.status, 200, toJson(a.body));
  const b = await send('POST', `${p}/namespaces/${uriPath(ns)}/tables`, { name, schema: SCHEMA, 'partition-spec': SPEC });
  assert.equal(b.status, 200, toJson(b.body));
  return b.body;
}

describe('rest catalog: protocol with iceberg-js (no auth)', { timeout: TEST_TIMEOUT_MS }, () => {
  let cat;
  let client;
  before(async () => {
    cat = await startRestCatalog({ auth: { none: true }, warehouse: WAREHOUSE, prefix: PREFIX, location });
    client = new IcebergRestCatalog({ baseUrl: cat.url, warehouse: WAREHOUSE, fetch: timedFetch });
  });
  after(() => cat?.close());

  it('config names the prefix and the endpoints; a wrong warehouse is 404', async () => {
    const config = await client.loadConfig();
    assertValid('CatalogConfig', config);
    assert.equal(config.overrides.prefix, PREFIX);
    assert.ok(config.endpoints.includes('POST /v1/{prefix}/namespaces/{namespace}/tables/{table}'));
    const r = await call(cat.url, 'GET', `/v1/config?warehouse=${encodeURIComponent('arn:aws:s3tables:us-east-1:111122223333:bucket/other')}`);
    assert.equal(r.status, 404);
    assert.equal(r.body.error.type, 'NoSuchWarehouseException');
    assertValid('IcebergErrorResponse', r.body);
    assert.equal(cat.takeViolations().length, 1);
  });

  it('creates, lists, loads and commits a table that iceberg-js reads back', async () => {
    await client.createNamespace({ namespace: ['sales'] }, { properties: { owner: 'lakehose' } });
    await assert.rejects(client.createNamespace({ namespace: ['sales'] }), (e) => e instanceof IcebergError && e.status === 409 && e.icebergType === 'AlreadyExistsException');
    assert.equal(await client.namespaceExists({ namespace: ['sales'] }), true);
    assert.equal(await client.namespaceExists({ namespace: ['nope'] }), false);
    assert.deepEqual((await client.loadNamespaceMetadata({ namespace: ['sales'] })).properties, { owner: 'lakehose' });

    const created = await client.createTableResult({ namespace: ['sales'] }, { name: 'orders', schema: SCHEMA, 'partition-spec': SPEC, properties: { 'write.format.default': 'parquet' } });
    assertValid('LoadTableResult', { ...created, etag: undefined });
    assert.match(created['metadata-location'], /^s3:\/\/lake\/warehouse\/sales\/orders\/metadata\/00000-[0-9a-f-]{36}\.metadata\.json$/);
    const md = created.metadata;
    assert.equal(md['format-version'], 2);
    assert.equal(md.location, 's3://lake/warehouse/sales/orders');
    assert.equal(md['last-column-id'], 8);
    assert.deepEqual(md['partition-specs'], [{ 'spec-id': 0, fields: [{ 'source-id': 5, name: 'ts_day', transform: 'day', 'field-id': 1000 }] }]);
    assert.equal(md['last-partition-id'], 1000);
    assert.equal(md['current-snapshot-id'], -1);
    assert.deepEqual(md.properties, { 'write.format.default': 'parquet' });
    await assert.rejects(client.createTable({ namespace: ['sales'] }, { name: 'orders', schema: SCHEMA }), (e) => e.status === 409);
    await assert.rejects(client.createTable({ namespace: ['nope'] }, { name: 'orders', schema: SCHEMA }), (e) => e.status === 404 && e.icebergType === 'NoSuchNamespaceException');

    assert.deepEqual((await client.listTables({ namespace: ['sales'] })).identifiers, [{ namespace: ['sales'], name: 'orders' }]);
    assert.equal(await client.tableExists({ namespace: ['sales'], name: 'orders' }), true);
    assert.equal(await client.tableExists({ namespace: ['sales'], name: 'nope' }), false);
    await assert.rejects(client.loadTable({ namespace: ['sales'], name: 'nope' }), (e) => e.status === 404 && e.icebergType === 'NoSuchTableException');

    const committed = await client.updateTable({ namespace: ['sales'], name: 'orders' }, appendCommit(101, null, 1));
    assertValid('CommitTableResponse', committed);
    assert.match(committed['metadata-location'], /\/metadata\/00001-[0-9a-f-]{36}\.metadata\.json$/);
    const loaded = await client.loadTableResult({ namespace: ['sales'], name: 'orders' });
    assert.equal(loaded['metadata-location'], committed['metadata-location']);
    assert.equal(loaded.metadata['current-snapshot-id'], 101);
    assert.equal(loaded.metadata['last-sequence-number'], 1);
    assert.deepEqual(loaded.metadata.refs, { main: { 'snapshot-id': 101, type: 'branch' } });
    assert.deepEqual(loaded.metadata['metadata-log'].map((e) => e['metadata-file']), [created['metadata-location']]);
    assert.deepEqual(loaded.metadata['snapshot-log'].map((e) => e['snapshot-id']), [101]);
    assert.equal(await client.loadTableResult({ namespace: ['sales'], name: 'orders' }, { ifNoneMatch: loaded.etag }), null);

    // The metadata files written are the metadata answered.
    assert.deepEqual(JSON.parse(cat.metadataFiles.get(committed['metadata-location'])), JSON.parse(toJson(committed.metadata)));
    assert.equal(cat.metadataFiles.size, 2);
    assert.deepEqual(cat.commits(['sales'], 'orders').map((c) => c.snapshotId), [101]);
    assert.deepEqual(cat.violations, []);
  });

  it('keeps 63-bit snapshot ids exact and decodes multi-part namespaces', async () => {
    const ns = ['lake', 'raw.events'];
    const p = `/v1/${PREFIX}/namespaces`;
    assert.equal((await call(cat.url, 'POST', p, { body: { namespace: ['lake'] } })).status, 200);
    assert.equal((await call(cat.url, 'POST', p, { body: { namespace: ns } })).status, 200);
    assert.deepEqual((await client.listNamespaces({ parent: { namespace: ['lake'] } })).namespaces, [{ namespace: ns }]);
    await client.createTable({ namespace: ns }, { name: 'big ids', schema: SCHEMA });
    const r = await call(cat.url, 'POST', `${p}/${uriPath(ns, 'big ids')}`, { body: appendCommit(BIG_ID, null, 1) });
    assert.equal(r.status, 200, toJson(r.body));
    assert.equal(r.body.metadata['current-snapshot-id'], BIG_ID);
    assert.equal(cat.table(ns, 'big ids').metadata.refs.main['snapshot-id'], BIG_ID);
    const next = await call(cat.url, 'POST', `${p}/${uriPath(ns, 'big ids')}`, { body: appendCommit(BIG_ID + 2n, BIG_ID, 2) });
    assert.equal(next.status, 200, toJson(next.body));
    assert.equal(next.body.metadata.snapshots[1]['parent-snapshot-id'], BIG_ID);
    assert.match(cat.metadataFiles.get(next.body['metadata-location']), /"current-snapshot-id":9007199254740995/);
    assert.deepEqual(cat.violations, []);
  });

  it('refuses malformed bodies (400 and a violation) and a stale requirement (409, no violation)', async () => {
    const t = `/v1/${PREFIX}/namespaces/sales/tables`;
    const noSchema = await call(cat.url, 'POST', t, { body: { name: 'x' } });
    assert.equal(noSchema.status, 400);
    assert.equal(noSchema.body.error.type, 'BadRequestException');
    assert.match(noSchema.body.error.message, /must have required property 'schema'/);
    assertValid('IcebergErrorResponse', noSchema.body);

    const unknownAction = await call(cat.url, 'POST', `${t}/orders`, { body: { requirements: [], updates: [{ action: 'make-it-so' }] } });
    assert.equal(unknownAction.status, 400);
    assert.match(unknownAction.body.error.message, /unknown update action 'make-it-so'/);
    const unknownRequirement = await call(cat.url, 'POST', `${t}/orders`, { body: { requirements: [{ type: 'assert-magic' }], updates: [] } });
    assert.equal(unknownRequirement.status, 400);

    const stale = await call(cat.url, 'POST', `${t}/orders`, { body: appendCommit(102, 55, 2) });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.type, 'CommitFailedException');
    assert.match(stale.body.error.message, /assert-ref-snapshot-id: ref main is at snapshot 101, expected 55/);
    const notNull = await call(cat.url, 'POST', `${t}/orders`, { body: appendCommit(102, null, 2) });
    assert.equal(notNull.status, 409);

    const v = cat.takeViolations();
    assert.deepEqual(v.map((x) => x.kind), ['schema', 'unknown-update', 'unknown-requirement']);
    assert.match(v[0].message, /CreateTableRequest: .*'schema'/);
    assert.equal(cat.requests.at(-1).status, 409);
    assert.deepEqual(cat.requests.at(-1).violations, []);
  });

  it('refuses commits that would make the table invalid, and records them', async () => {
    const t = `/v1/${PREFIX}/namespaces/sales/tables/orders`;
    const cases = [
      [appendCommit(102, 101, 1), /sequence number 1 is not above the last sequence number 1/],
      [appendCommit(101, 101, 2), /snapshot 101 already exists/],
      [appendCommit(102, 77, 2, 101), /parent 77 does not exist/],
      [{ requirements: [], updates: [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 999 }] }, /snapshot 999 does not exist/],
      [{ requirements: [], updates: [{ action: 'set-current-schema', 'schema-id': -1 }] }, /none was added/],
      [{ requirements: [], updates: [{ action: 'remove-statistics', 'snapshot-id': 101 }] }, /not supported by this fake/],
    ];
    for (const [body, re] of cases) {
      const r = await call(cat.url, 'POST', t, { body });
      assert.equal(r.status, 400, toJson(r.body));
      assert.match(r.body.error.message, re);
    }
    const kinds = cat.takeViolations().map((x) => x.kind);
    assert.deepEqual(kinds, ['invalid-commit', 'invalid-commit', 'invalid-commit', 'invalid-commit', 'invalid-commit', 'unsupported-by-fake']);
    assert.equal(cat.table(['sales'], 'orders').metadata.snapshots.length, 1);
  });

  it('evolves the schema and spec: -1 means the last added', async () => {
    const t = `/v1/${PREFIX}/namespaces/sales/tables/orders`;
    const schema1 = { ...SCHEMA, 'schema-id': 1, fields: [...SCHEMA.fields, { id: 9, name: 'note', type: 'string', required: false }] };
    const r = await call(cat.url, 'POST', t, {
      body: {
        requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }, { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 8 },
          { type: 'assert-default-spec-id', 'default-spec-id': 0 }, { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 1000 }],
        updates: [{ action: 'add-schema', schema: schema1 }, { action: 'set-current-schema', 'schema-id': -1 },
          { action: 'add-spec', spec: { fields: [{ 'source-id': 1, name: 'pk_bucket', transform: 'bucket[16]' }] } }, { action: 'set-default-spec', 'spec-id': -1 },
          { action: 'set-properties', updates: { 'commit.retry.num-retries': '7' } }],
      },
    });
    assert.equal(r.status, 200, toJson(r.body));
    assert.equal(r.body.metadata['current-schema-id'], 1);
    assert.equal(r.body.metadata['last-column-id'], 9);
    assert.equal(r.body.metadata['default-spec-id'], 1);
    assert.equal(r.body.metadata['last-partition-id'], 1001);
    assert.equal(r.body.metadata.properties['commit.retry.num-retries'], '7');
    const stale = await call(cat.url, 'POST', t, { body: { requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }], updates: [] } });
    assert.equal(stale.status, 409);
    // An identical schema (keys in another order) takes back its id, as Java does.
    const reordered = Object.fromEntries(Object.entries(SCHEMA).reverse());
    const back = await call(cat.url, 'POST', t, { body: { requirements: [], updates: [{ action: 'add-schema', schema: reordered }, { action: 'set-current-schema', 'schema-id': -1 }] } });
    assert.equal(back.status, 200, toJson(back.body));
    assert.equal(back.body.metadata['current-schema-id'], 0);
    assert.equal(back.body.metadata.schemas.length, 2);
    assert.equal(back.body.metadata['last-column-id'], 9);
    assert.deepEqual(cat.violations, []);
  });

  it('records fields the spec does not define, and serves the request', async () => {
    const r = await call(cat.url, 'POST', `/v1/${PREFIX}/namespaces`, { body: { namespace: ['extra'], propertie: {} } });
    assert.equal(r.status, 200);
    const v = cat.takeViolations();
    assert.equal(v.length, 1);
    assert.equal(v[0].kind, 'unknown-field');
    assert.match(v[0].message, /propertie/);
  });

  it('answers unknown and unserved routes, wrong prefixes and wrong content types as errors', async () => {
    const cases = [
      ['GET', '/v1/nope', 404], ['GET', `/v1/other/namespaces`, 404], ['GET', '/v1/namespaces', 404],
      ['GET', `/v1/${PREFIX}/namespaces/sales/views`, 406], ['POST', `/v1/${PREFIX}/transactions/commit`, 406],
      ['PUT', `/v1/${PREFIX}/namespaces/sales/tables/orders`, 405],
    ];
    for (const [method, path, status] of cases) {
      const r = await call(cat.url, method, path);
      assert.equal(r.status, status, `${method} ${path}`);
      assertValid('IcebergErrorResponse', r.body);
    }
    const text = await call(cat.url, 'POST', `/v1/${PREFIX}/namespaces`, { raw: '{"namespace":["t"]}', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.status, 400);
    const dup = await call(cat.url, 'POST', `/v1/${PREFIX}/namespaces`, { raw: '{"namespace":["a"],"namespace":["b"]}', headers: { 'content-type': 'application/json' } });
    assert.equal(dup.status, 400);
    assert.match(dup.body.error.message, /Duplicate key/);
    const badKey = await call(cat.url, 'POST', `/v1/${PREFIX}/namespaces`, { body: { namespace: ['k'] }, headers: { 'idempotency-key': 'not-a-uuid' } });
    assert.equal(badKey.status, 400);
    assert.equal(cat.takeViolations().length, cases.length + 3);
  });

  it('serialises concurrent commits to a table: one wins, the others fail their requirement', async () => {
    const t = `/v1/${PREFIX}/namespaces/sales/tables/orders`;
    const base = cat.table(['sales'], 'orders').metadata;
    const answers = await Promise.all([201, 202, 203, 204].map((id) => call(cat.url, 'POST', t, { body: appendCommit(id, 101, base['last-sequence-number'] + 1) })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409, 409]);
    assert.equal(cat.table(['sales'], 'orders').metadata.snapshots.length, 2);
    assert.deepEqual(cat.violations, []);
  });

  it('expires snapshots: remove-snapshots drops them, their refs and the log before them', async () => {
    const t = `/v1/${PREFIX}/namespaces/sales/tables/orders`;
    const before = cat.table(['sales'], 'orders').metadata;
    const current = Number(before['current-snapshot-id']);
    const r1 = await call(cat.url, 'POST', t, { body: appendCommit(9001, current, Number(before['last-sequence-number']) + 1) });
    assert.equal(r1.status, 200, toJson(r1.body));
    const older = r1.body.metadata.snapshots.map((s) => Number(s['snapshot-id'])).filter((id) => id !== 9001);
    assert.ok(older.length >= 1);
    const r2 = await call(cat.url, 'POST', t, {
      body: {
        requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 9001 }],
        updates: [{ action: 'remove-snapshots', 'snapshot-ids': older }, { action: 'set-properties', updates: { 'lakehose.x': 'y' } }],
      },
    });
    assert.equal(r2.status, 200, toJson(r2.body));
    const md = r2.body.metadata;
    assert.deepEqual(md.snapshots.map((s) => Number(s['snapshot-id'])), [9001]);
    assert.deepEqual(md['snapshot-log'].map((e) => Number(e['snapshot-id'])), [9001]);
    assert.equal(Number(md['current-snapshot-id']), 9001);
    assert.equal(md.properties['lakehose.x'], 'y');
    assert.deepEqual(cat.takeViolations(), []);
  });
});

describe('rest catalog: faults', { timeout: TEST_TIMEOUT_MS }, () => {
  let cat;
  const ns = ['f'];
  const t = (name) => `/v1/${PREFIX}/namespaces/${uriPath(ns, name)}`;
  before(async () => {
    cat = await startRestCatalog({ auth: { none: true }, warehouse: WAREHOUSE, prefix: PREFIX, location, idempotencyKeyLifetime: 'PT30M' });
    cat.prefixPath = `/v1/${PREFIX}`;
    await createOrders(cat, cat.url, { ns });
    assert.equal((await call(cat.url, 'GET', `/v1/config?warehouse=${encodeURIComponent(WAREHOUSE)}`)).body['idempotency-key-lifetime'], 'PT30M');
  });
  after(() => cat?.close());

  const head = () => cat.table(ns, 'orders').metadata['current-snapshot-id'];
  const seq = () => cat.table(ns, 'orders').metadata['last-sequence-number'];

  it('409, 503, 502, 504 and reset-before leave the table as it was', async () => {
    for (const [kind, status, type] of [['409', 409, 'CommitFailedException'], ['503', 503, 'SlowDownException'], ['502', 502, 'CommitStateUnknownException'], ['504', 504, 'CommitStateUnknownException'], ['reset-before', null, null]]) {
      cat.faults.push({ op: 'commit', kind });
      const before_ = cat.table(ns, 'orders').metadataLocation;
      const r = await call(cat.url, 'POST', t('orders'), { body: appendCommit(300, head() === -1 ? null : head(), seq() + 1) });
      if (status === null) assert.ok(r.error, `${kind}: expected no answer`);
      else {
        assert.equal(r.status, status, kind);
        assert.equal(r.body.error.type, type);
      }
      assert.equal(cat.table(ns, 'orders').metadataLocation, before_, `${kind} applied the commit`);
      assert.deepEqual(cat.requests.at(-1).fault, { op: 'commit', kind });
    }
    assert.equal(cat.faults.length, 0);
    assert.deepEqual(cat.violations, []);
  });

  it('500-after-apply: the commit is applied, the answer is 500 CommitStateUnknownException', async () => {
    cat.faults.push({ op: 'commit', kind: '500-after-apply' });
    const r = await call(cat.url, 'POST', t('orders'), { body: appendCommit(301, null, seq() + 1) });
    assert.equal(r.status, 500);
    assert.equal(r.body.error.type, 'CommitStateUnknownException');
    assert.equal(head(), 301);
  });

  it('reset-after-apply: no answer, the commit is applied; the same Idempotency-Key replays the success', async () => {
    cat.faults.push({ op: 'commit', kind: 'reset-after-apply' });
    const key = '017f22e2-79b0-7cc3-98c4-dc0c0c07398f';
    const body = appendCommit(302, 301, seq() + 1);
    const r = await call(cat.url, 'POST', t('orders'), { body, headers: { 'idempotency-key': key } });
    assert.ok(r.error, 'expected the connection to end with no answer');
    assert.equal(head(), 302);
    const again = await call(cat.url, 'POST', t('orders'), { body, headers: { 'idempotency-key': key } });
    assert.equal(again.status, 200);
    assert.equal(again.body.metadata['current-snapshot-id'], 302);
    assert.equal(cat.requests.at(-1).replayed, true);
    assert.equal(cat.commits(ns, 'orders').length, 2);
    const reused = await call(cat.url, 'POST', t('orders'), { body: appendCommit(303, 302, seq() + 1), headers: { 'idempotency-key': key } });
    assert.equal(reused.status, 422);
    assert.deepEqual(cat.takeViolations().map((v) => v.kind), ['idempotency']);
  });

  it('delay, count, op any, and the injected auth errors', async () => {
    cat.faults.push({ op: 'load', kind: 'delay', ms: 300 });
    const t0 = Date.now();
    assert.equal((await call(cat.url, 'GET', t('orders'))).status, 200);
    assert.ok(Date.now() - t0 >= 290, 'the delay was not applied');
    cat.faults.push({ op: 'load', kind: '419', count: 2 });
    assert.equal((await call(cat.url, 'GET', t('orders'))).status, 419);
    assert.equal((await call(cat.url, 'GET', t('orders'))).body.error.type, 'AuthenticationTimeoutException');
    assert.equal((await call(cat.url, 'GET', t('orders'))).status, 200);
    cat.faults.push({ op: 'any', kind: '401' });
    assert.equal((await call(cat.url, 'GET', `/v1/${PREFIX}/namespaces/f`)).status, 401);
    cat.faults.push({ op: 'create-table', kind: '500-after-apply' });
    const c = await call(cat.url, 'POST', `/v1/${PREFIX}/namespaces/f/tables`, { body: { name: 'second', schema: SCHEMA } });
    assert.equal(c.status, 500);
    assert.ok(cat.table(ns, 'second'), 'the table was not created');
    assert.deepEqual(cat.violations, []);
  });
});

describe('rest catalog: SigV4 (s3tables)', { timeout: TEST_TIMEOUT_MS }, () => {
  let cat;
  before(async () => {
    cat = await startRestCatalog({ auth: { sigv4: SIGV4 }, warehouse: WAREHOUSE, prefix: PREFIX, location });
    cat.prefixPath = `/v1/${PREFIX}`;
  });
  after(() => cat?.close());

  it('verifies the AWS SigV4 test suite vectors (get-vanilla, the normalised relative paths, get-utf8)', async () => {
    // From the AWS Signature Version 4 test suite: service 'service', the example key;
    // the request path as the suite gives it (not yet percent-encoded).
    const sigv4 = { service: 'service', region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
    const vanilla = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
    const vectors = [['/', vanilla], ['/example/..', vanilla], ['/./', vanilla], ['//', vanilla], ['/example1/example2/../..', vanilla],
      ['/\u1234', '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85']];
    for (const [rawPath, signature] of vectors) {
      const headers = {
        host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
      };
      await verifyServiceSigV4({ method: 'GET', rawPath, rawQuery: '', headers, body: Buffer.alloc(0), sigv4, now: Date.UTC(2015, 7, 30, 12, 36) });
      const flipped = { ...headers, authorization: headers.authorization.replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
      await assert.rejects(verifyServiceSigV4({ method: 'GET', rawPath, rawQuery: '', headers: flipped, body: Buffer.alloc(0), sigv4, now: Date.UTC(2015, 7, 30, 12, 36) }), /signature does not match/);
    }
  });

  it('serves iceberg-js signing every request, with the prefix and a multi-part namespace', async () => {
    const client = new IcebergRestCatalog({ baseUrl: cat.url, warehouse: WAREHOUSE, fetch: signingFetch() });
    // Characters that the canonical URI encodes twice: ':' ' ' '/' inside a segment.
    const ns = ['a', 'b:c d/e'];
    await client.createNamespace({ namespace: ['a'] });
    await client.createNamespace({ namespace: ns });
    assert.equal(await client.namespaceExists({ namespace: ns }), true);
    await client.createTable({ namespace: ns }, { name: 'my orders', schema: SCHEMA });
    assert.equal(await client.tableExists({ namespace: ns, name: 'my orders' }), true);
    await client.updateTable({ namespace: ns, name: 'my orders' }, appendCommit(7, null, 1));
    assert.equal((await client.loadTable({ namespace: ns, name: 'my orders' }))['current-snapshot-id'], 7);
    assert.ok(cat.table(ns, 'my orders'));
    assert.deepEqual(cat.violations, []);
  });

  it('refuses unsigned, wrong-service, wrong-key, tampered and stale requests with 403', async () => {
    const path = `/v1/${PREFIX}/namespaces`;
    const refused = async (r, re) => {
      assert.equal(r.status, 403, toJson(r.body));
      assert.equal(r.body.error.type, 'NotAuthorizedException');
      assert.match(r.body.error.message, re);
    };
    await refused(await call(cat.url, 'GET', path), /unsigned request/);
    await refused(await signedCall(cat.url, 'GET', path, { sigv4: { ...SIGV4, service: 'glue' } }), /scoped to the service 's3tables', not 'glue'/);
    await refused(await signedCall(cat.url, 'GET', path, { sigv4: { ...SIGV4, region: 'eu-west-1' } }), /region/);
    await refused(await signedCall(cat.url, 'GET', path, { sigv4: { ...SIGV4, secretAccessKey: 'wrong' } }), /signature does not match[\s\S]*Canonical request:\nGET\n\/v1\/arn%253Aaws%253As3tables/);
    await refused(await signedCall(cat.url, 'POST', path, { body: { namespace: ['x'] }, tamper: () => Buffer.from('{"namespace":["y"]}') }), /x-amz-content-sha256/);
    // A body changed with no x-amz-content-sha256 to betray it: the signature does.
    const payload = Buffer.from('{"namespace":["x"]}');
    const headers = await signedHeaders(cat.url, 'POST', path, payload, { headers: { 'content-type': 'application/json' }, contentSha: false });
    await refused(await call(cat.url, 'POST', path, { raw: '{"namespace":["z"]}', headers }), /signature does not match/);
    const stale = await signedHeaders(cat.url, 'GET', path, Buffer.alloc(0));
    const old = new Date(Date.now() - 10 * 60 * 1000);
    const signer = new SignatureV4({ credentials: SIGV4, region: SIGV4.region, service: SIGV4.service, sha256: Hash.bind(null, 'sha256') });
    const oldSigned = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: Number(new URL(cat.url).port), path, query: {}, headers: { host: new URL(cat.url).host } }, { signingDate: old });
    await refused(await call(cat.url, 'GET', path, { headers: oldSigned.headers }), /expired/);
    assert.ok(stale.authorization);
    assert.equal(cat.takeViolations().length, 7);
    assert.equal((await signedCall(cat.url, 'GET', path)).status, 200);
    // x-amz-content-sha256 is optional for a service other than S3: the catalog hashes the body.
    const unsent = await signedHeaders(cat.url, 'POST', path, payload, { headers: { 'content-type': 'application/json' }, contentSha: false });
    assert.equal(unsent['x-amz-content-sha256'], undefined);
    assert.equal((await call(cat.url, 'POST', path, { raw: payload, headers: unsent })).status, 200);
    assert.deepEqual(cat.violations, []);
  });

  it('checks the session token when one is configured', async () => {
    const withToken = await startRestCatalog({ auth: { sigv4: { ...SIGV4, sessionToken: 'sess' } }, warehouse: null, prefix: null, location });
    try {
      assert.equal((await signedCall(withToken.url, 'GET', '/v1/namespaces', { sigv4: { ...SIGV4, sessionToken: 'sess' } })).status, 200);
      assert.equal((await signedCall(withToken.url, 'GET', '/v1/namespaces')).status, 403);
      assert.equal((await signedCall(withToken.url, 'GET', '/v1/namespaces', { sigv4: { ...SIGV4, sessionToken: 'other' } })).status, 403);
    } finally {
      await withToken.close();
    }
  });
});

describe('rest catalog: OAuth2 and bearer', { timeout: TEST_TIMEOUT_MS }, () => {
  let cat;
  let clock = Date.now();
  const form = (o) => Object.entries(o).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const tokenRequest = (path, fields, headers = {}) => call(cat.url, 'POST', path, { raw: form(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  before(async () => {
    cat = await startRestCatalog({ auth: { oauth2: { clientId: 'lakehose', clientSecret: 's3cret', scope: 'catalog', tokenTtlS: 60 } }, warehouse: null, prefix: null, location, now: () => clock });
  });
  after(() => cat?.close());

  it('issues a token for the right secret, refuses a wrong one, and serves iceberg-js with it', async () => {
    assert.equal(cat.tokenUri, `${cat.url}/oauth/tokens`);
    const ok = await tokenRequest('/oauth/tokens', { grant_type: 'client_credentials', client_id: 'lakehose', client_secret: 's3cret', scope: 'catalog' });
    assert.equal(ok.status, 200, toJson(ok.body));
    assertValid('OAuthTokenResponse', ok.body);
    assert.equal(ok.body.token_type, 'bearer');
    assert.equal(ok.body.expires_in, 60);
    const wrong = await tokenRequest('/v1/oauth/tokens', { grant_type: 'client_credentials', client_id: 'lakehose', client_secret: 'nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const basic = await tokenRequest('/v1/oauth/tokens', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from('lakehose:s3cret').toString('base64')}` });
    assert.equal(basic.status, 200);

    const client = new IcebergRestCatalog({ baseUrl: cat.url, auth: { type: 'bearer', token: ok.body.access_token }, fetch: timedFetch });
    await client.createNamespace({ namespace: ['o'] });
    assert.equal((await client.listNamespaces()).namespaces.length, 1);
    const anonymous = new IcebergRestCatalog({ baseUrl: cat.url, fetch: timedFetch });
    await assert.rejects(anonymous.listNamespaces(), (e) => e.status === 401);
    assert.equal(cat.takeViolations().length, 1);

    // Expiry by the clock, then refresh by token exchange of a live token.
    const fresh = (await tokenRequest('/oauth/tokens', { grant_type: 'client_credentials', client_id: 'lakehose', client_secret: 's3cret' })).body.access_token;
    const exchanged = await tokenRequest('/oauth/tokens', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: fresh, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    assert.equal(exchanged.status, 200);
    clock += 61_000;
    assert.equal((await call(cat.url, 'GET', '/v1/namespaces', { headers: { authorization: `Bearer ${fresh}` } })).status, 401);
    const late = await tokenRequest('/oauth/tokens', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: fresh, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    assert.equal(late.status, 400);
    assert.equal(late.body.error, 'invalid_grant');
    cat.takeViolations();
  });

  it('expireTokens: the next request with an issued token is 401', async () => {
    const tok = (await tokenRequest('/oauth/tokens', { grant_type: 'client_credentials', client_id: 'lakehose', client_secret: 's3cret' })).body.access_token;
    assert.equal((await call(cat.url, 'GET', '/v1/namespaces', { headers: { authorization: `Bearer ${tok}` } })).status, 200);
    cat.expireTokens();
    const r = await call(cat.url, 'GET', '/v1/namespaces', { headers: { authorization: `Bearer ${tok}` } });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.type, 'NotAuthorizedException');
    assert.equal(r.headers['www-authenticate'], 'Bearer');
    const again = (await tokenRequest('/oauth/tokens', { grant_type: 'client_credentials', client_id: 'lakehose', client_secret: 's3cret' })).body.access_token;
    assert.equal((await call(cat.url, 'GET', '/v1/namespaces', { headers: { authorization: `Bearer ${again}` } })).status, 200);
  });

  it('bearer mode takes the static token only', async () => {
    const b = await startRestCatalog({ auth: { bearer: 'static' }, warehouse: null, prefix: null, location });
    try {
      assert.equal((await call(b.url, 'GET', '/v1/namespaces', { headers: { authorization: 'Bearer static' } })).status, 200);
      assert.equal((await call(b.url, 'GET', '/v1/namespaces', { headers: { authorization: 'Bearer other' } })).status, 401);
      assert.equal((await call(b.url, 'POST', '/oauth/tokens', { raw: 'grant_type=client_credentials' })).status, 404);
    } finally {
      await b.close();
    }
  });
});

describe('rest catalog: format v3', { timeout: TEST_TIMEOUT_MS }, () => {
  it('builds v3 from the format-version property and checks row lineage; v3 types need v3', async () => {
    const cat = await startRestCatalog({ auth: { none: true }, warehouse: null, prefix: null, location });
    try {
      assert.equal((await call(cat.url, 'POST', '/v1/namespaces', { body: { namespace: ['v'] } })).status, 200);
      const variant = { ...SCHEMA, fields: [...SCHEMA.fields, { id: 9, name: 'doc', type: 'variant', required: false }] };
      const v2 = await call(cat.url, 'POST', '/v1/namespaces/v/tables', { body: { name: 'old', schema: variant } });
      assert.equal(v2.status, 400);
      assert.match(v2.body.error.message, /variant needs format version 3/);
      assert.deepEqual(cat.takeViolations().map((x) => x.kind), ['invalid-commit']);

      const r = await call(cat.url, 'POST', '/v1/namespaces/v/tables', { body: { name: 't', schema: variant, properties: { 'format-version': '3' } } });
      assert.equal(r.status, 200, toJson(r.body));
      assertValid('LoadTableResult', r.body);
      assert.equal(r.body.metadata['format-version'], 3);
      assert.equal(r.body.metadata['next-row-id'], 0);
      assert.equal(r.body.metadata['current-snapshot-id'], null);
      assert.deepEqual(r.body.metadata.properties, {});
      const noLineage = await call(cat.url, 'POST', '/v1/namespaces/v/tables/t', { body: appendCommit(1, null, 1) });
      assert.equal(noLineage.status, 400);
      assert.match(noLineage.body.error.message, /first-row-id and added-rows are required/);
      const commit = appendCommit(1, null, 1);
      Object.assign(commit.updates[0].snapshot, { 'first-row-id': 0, 'added-rows': 10 });
      const ok = await call(cat.url, 'POST', '/v1/namespaces/v/tables/t', { body: commit });
      assert.equal(ok.status, 200, toJson(ok.body));
      assert.equal(ok.body.metadata['next-row-id'], 10);
      const behind = appendCommit(2, 1, 2);
      Object.assign(behind.updates[0].snapshot, { 'first-row-id': 5, 'added-rows': 1 });
      const r2 = await call(cat.url, 'POST', '/v1/namespaces/v/tables/t', { body: behind });
      assert.equal(r2.status, 400);
      assert.match(r2.body.error.message, /first-row-id 5 is behind next-row-id 10/);
      assert.equal(cat.takeViolations().length, 2);
    } finally {
      await cat.close();
    }
  });
});

describe('rest catalog: reassignIds', { timeout: TEST_TIMEOUT_MS }, () => {
  it('gives fresh ids breadth first and remaps the spec and identifier fields', async () => {
    const cat = await startRestCatalog({ auth: { none: true }, warehouse: null, prefix: null, location, reassignIds: true });
    try {
      assert.equal((await call(cat.url, 'POST', '/v1/namespaces', { body: { namespace: ['r'] } })).status, 200);
      const shuffled = {
        ...SCHEMA, 'identifier-field-ids': [11],
        fields: [
          { id: 11, name: 'pk', type: 'string', required: true },
          { id: 12, name: 'tags', type: { type: 'list', 'element-id': 20, element: 'string', 'element-required': false }, required: false },
          { id: 13, name: 'ts', type: 'timestamptz', required: true },
        ],
      };
      const r = await call(cat.url, 'POST', '/v1/namespaces/r/tables', { body: { name: 't', schema: shuffled, 'partition-spec': { fields: [{ 'source-id': 13, name: 'd', transform: 'day', 'field-id': 5000 }] } } });
      assert.equal(r.status, 200, toJson(r.body));
      const md = r.body.metadata;
      assert.deepEqual(md.schemas[0].fields.map((f) => f.id), [1, 2, 3]);
      assert.equal(md.schemas[0].fields[1].type['element-id'], 4);
      assert.deepEqual(md.schemas[0]['identifier-field-ids'], [1]);
      assert.deepEqual(md['partition-specs'][0].fields, [{ 'source-id': 3, name: 'd', transform: 'day', 'field-id': 1000 }]);
      assert.equal(md['last-column-id'], 4);
      assert.deepEqual(cat.violations, []);
    } finally {
      await cat.close();
    }
  });
});
