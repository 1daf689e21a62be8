// Tests of the fake S3 Tables API (s3tables_api.mjs): requests signed by
// @smithy/signature-v4 as an AWS SDK signs them for s3tables pass, bad ones are refused
// as the service refuses them and recorded; the version token rules; each fault does
// what it says.
//
//   node --test tests/lib/s3tables_api.test.mjs
//
// Every server listens on 127.0.0.1 port 0; every request has a timeout; every fake is
// closed in an after hook.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { callS3TablesApi, encodeLabel, startS3TablesApi } from './s3tables_api.mjs';

const TEST_TIMEOUT_MS = 60_000;
const REGION = 'us-east-1';
const CREDENTIALS = Object.freeze({ accessKeyId: 'AKIDS3TABLESFAKE', secretAccessKey: 's3tables/fake/secret' });
const BUCKET_ARN = 'arn:aws:s3tables:us-east-1:111122223333:bucket/lake';
const ARN = encodeLabel(BUCKET_ARN);

const P = {
  namespaces: `/namespaces/${ARN}`,
  tables: (ns) => `/tables/${ARN}/${ns}`,
  location: (ns, name) => `/tables/${ARN}/${ns}/${name}/metadata-location`,
};

describe('s3tables api', { timeout: TEST_TIMEOUT_MS }, () => {
  let api;
  let n = 0;
  const call = (method, path, o = {}) => callS3TablesApi(api.url, method, path, { region: REGION, credentials: CREDENTIALS, ...o });
  // A fresh namespace with table `orders`: { ns, token, warehouse }.
  const newTable = async () => {
    const ns = `ns_${n++}`;
    assert.equal((await call('PUT', P.namespaces, { body: { namespace: [ns] } })).status, 200);
    const c = await call('PUT', P.tables(ns), { body: { name: 'orders', format: 'ICEBERG' } });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    return { ns, token: c.body.versionToken, warehouse: api.table(ns, 'orders').warehouseLocation };
  };
  const meta = (warehouse, v) => `${warehouse}/metadata/${String(v).padStart(5, '0')}-${crypto.randomUUID()}.metadata.json`;
  const update = (ns, versionToken, metadataLocation, o = {}) => call('PUT', P.location(ns, 'orders'), { body: { versionToken, metadataLocation }, ...o });
  const expectError = (r, status, type) => {
    assert.equal(r.status, status, JSON.stringify(r.body ?? r.error?.message));
    assert.equal(r.headers['x-amzn-errortype'], type);
    assert.equal(typeof r.body.message, 'string');
  };
  const expectViolation = (kind) => {
    const v = api.takeViolations();
    assert.deepEqual(v.map((x) => x.kind), [kind], JSON.stringify(v));
  };

  before(async () => {
    api = await startS3TablesApi({
      region: REGION, credentials: CREDENTIALS, tableBucketArn: BUCKET_ARN, warehouseLocation: (ns, name) => `s3://lake/tables/${ns}-${name}`,
    });
  });
  after(() => api?.close());

  it('creates a namespace and a table, reads and moves the metadata location with the version token', async () => {
    const a = await call('PUT', P.namespaces, { body: { namespace: ['sales'] } });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { tableBucketARN: BUCKET_ARN, namespace: ['sales'] });
    assert.ok(a.headers['x-amzn-requestid']);
    expectError(await call('PUT', P.namespaces, { body: { namespace: ['sales'] } }), 409, 'ConflictException');
    expectError(await call('PUT', P.tables('nope'), { body: { name: 'orders', format: 'ICEBERG' } }), 404, 'NotFoundException');
    const g = await call('GET', `/namespaces/${ARN}/sales`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body.namespace, ['sales']);

    const c = await call('PUT', P.tables('sales'), { body: { name: 'orders', format: 'ICEBERG' } });
    assert.equal(c.status, 200);
    assert.match(c.body.tableARN, /^arn:aws:s3tables:us-east-1:111122223333:bucket\/lake\/table\/[0-9a-f-]{36}$/);
    assert.ok(c.body.versionToken.length > 0);
    expectError(await call('PUT', P.tables('sales'), { body: { name: 'orders', format: 'ICEBERG' } }), 409, 'ConflictException');

    const l0 = await call('GET', P.location('sales', 'orders'));
    assert.equal(l0.status, 200);
    assert.deepEqual(l0.body, { versionToken: c.body.versionToken, warehouseLocation: 's3://lake/tables/sales-orders' });
    expectError(await call('GET', P.location('sales', 'nope')), 404, 'NotFoundException');

    const m0 = meta('s3://lake/tables/sales-orders', 0);
    const u0 = await update('sales', l0.body.versionToken, m0);
    assert.equal(u0.status, 200);
    assert.deepEqual({ ...u0.body, versionToken: undefined }, { name: 'orders', tableARN: c.body.tableARN, namespace: ['sales'], versionToken: undefined, metadataLocation: m0 });
    assert.notEqual(u0.body.versionToken, l0.body.versionToken);
    const l1 = await call('GET', P.location('sales', 'orders'));
    assert.deepEqual(l1.body, { versionToken: u0.body.versionToken, metadataLocation: m0, warehouseLocation: 's3://lake/tables/sales-orders' });

    // A stale token: 409, nothing moves, not a violation.
    const m1 = meta('s3://lake/tables/sales-orders', 1);
    expectError(await update('sales', l0.body.versionToken, m1), 409, 'ConflictException');
    assert.equal(api.table('sales', 'orders').metadataLocation, m0);
    const u1 = await update('sales', u0.body.versionToken, `${m1}.gz`);
    assert.equal(u1.status, 200);
    assert.deepEqual(api.table(['sales'], 'orders').history, [m0, `${m1}.gz`]);
    assert.deepEqual(api.namespaces().includes('sales'), true);
    assert.deepEqual(api.violations, []);
  });

  it('refuses a metadata location outside the warehouse or not a metadata file (400, a violation)', async () => {
    const { ns, token, warehouse } = await newTable();
    expectError(await update(ns, token, 's3://lake/elsewhere/metadata/00000-x.metadata.json'), 400, 'BadRequestException');
    expectViolation('metadata-location');
    expectError(await update(ns, token, `${warehouse}-other/metadata/00000-x.metadata.json`), 400, 'BadRequestException');
    expectViolation('metadata-location');
    expectError(await update(ns, token, `${warehouse}/metadata/00000-x.json`), 400, 'BadRequestException');
    expectViolation('metadata-location');
    assert.equal(api.table(ns, 'orders').metadataLocation, null);
    assert.equal((await update(ns, token, meta(warehouse, 0))).status, 200);
  });

  it('refuses unsigned, wrongly scoped and badly signed requests (403, a violation)', async () => {
    const { ns } = await newTable();
    const path = P.location(ns, 'orders');
    expectError(await call('GET', path, { sign: false }), 403, 'AccessDeniedException');
    expectViolation('auth');
    expectError(await call('GET', path, { credentials: { ...CREDENTIALS, accessKeyId: 'AKIDOTHER' } }), 403, 'AccessDeniedException');
    expectViolation('auth');
    expectError(await call('GET', path, { service: 's3' }), 403, 'InvalidSignatureException');
    expectViolation('auth');
    expectError(await call('GET', path, { region: 'us-west-2' }), 403, 'InvalidSignatureException');
    expectViolation('auth');
    expectError(await call('GET', path, { credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' } }), 403, 'InvalidSignatureException');
    expectViolation('auth');
    const t = api.table(ns, 'orders');
    const tampered = await update(ns, t.versionToken, meta(t.warehouseLocation, 0), { tamper: (p) => Buffer.from(p.toString().replace('00000', '00009')) });
    expectError(tampered, 403, 'InvalidSignatureException');
    expectViolation('auth');
    assert.equal(api.table(ns, 'orders').metadataLocation, null);
    // A signature over the path as sent, not encoded a second time (as S3 signs): refused,
    // as every other service refuses it.
    expectError(await call('GET', path, { uriEscapePath: false }), 403, 'InvalidSignatureException');
    expectViolation('auth');
    // x-amz-content-sha256 sent and signed (as Java's and C++'s SDKs may): fine.
    assert.equal((await call('GET', path, { contentSha: true })).status, 200);
    assert.deepEqual(api.violations, []);
  });

  it('checks labels, bodies and routes (400 / 404, a violation); a raw ":" is served and recorded', async () => {
    const { ns, token, warehouse } = await newTable();
    const cases = [
      ['PUT', P.namespaces, { body: { namespace: ['sales_x'], extra: 1 } }, 400, 'BadRequestException', 'body'],
      ['PUT', P.namespaces, { body: {} }, 400, 'BadRequestException', 'body'],
      ['PUT', P.namespaces, { body: { namespace: ['a', 'b'] } }, 400, 'BadRequestException', 'body'],
      ['PUT', P.namespaces, { body: { namespace: ['Sales'] } }, 400, 'BadRequestException', 'body'],
      ['PUT', P.namespaces, { raw: '{"namespace":["a"],"namespace":["b"]}', headers: { 'content-type': 'application/json' } }, 400, 'BadRequestException', 'json'],
      ['PUT', P.namespaces, { raw: '{"namespace":["a"]}', headers: { 'content-type': 'text/plain' } }, 400, 'BadRequestException', 'content-type'],
      ['PUT', P.tables(ns), { body: { name: 'orders2' } }, 400, 'BadRequestException', 'body'],
      ['PUT', P.tables(ns), { body: { name: 'orders2', format: 'DELTA' } }, 400, 'BadRequestException', 'body'],
      ['PUT', P.tables(ns), { body: { name: 'orders2', format: 'ICEBERG', metadata: { iceberg: { schema: { fields: [] } } } } }, 400, 'BadRequestException', 'unsupported-by-fake'],
      ['PUT', P.location(ns, 'orders'), { body: { metadataLocation: meta(warehouse, 0) } }, 400, 'BadRequestException', 'body'],
      ['PUT', P.location(ns, 'orders'), { body: { versionToken: token, metadataLocation: meta(warehouse, 0), name: 'orders' } }, 400, 'BadRequestException', 'body'],
      ['PUT', P.location(ns, 'orders'), { body: { versionToken: 7, metadataLocation: meta(warehouse, 0) } }, 400, 'BadRequestException', 'body'],
      ['GET', `${P.location(ns, 'orders')}?x=1`, {}, 400, 'BadRequestException', 'query'],
      ['GET', P.location(ns, 'orders'), { raw: '{}', headers: { 'content-type': 'application/json' } }, 400, 'BadRequestException', 'body'],
      ['GET', P.location(ns, 'Orders'), {}, 400, 'BadRequestException', 'path'],
      ['GET', `/tables/${encodeLabel('arn:aws:s3tables:us-east-1:111122223333:bucket/other')}/${ns}/orders/metadata-location`, {}, 404, 'NotFoundException', 'bucket'],
      ['GET', `/tables/${encodeLabel('not-an-arn')}/${ns}/orders/metadata-location`, {}, 400, 'BadRequestException', 'path'],
      ['GET', `/tables/${BUCKET_ARN}/${ns}/orders/metadata-location`, {}, 404, 'UnknownOperationException', 'route'],  // the ARN's '/' not encoded
      ['DELETE', P.location(ns, 'orders'), {}, 404, 'UnknownOperationException', 'route'],
      ['POST', P.tables(ns), { body: { name: 'x', format: 'ICEBERG' } }, 404, 'UnknownOperationException', 'route'],
      ['GET', `/get-table?tableBucketARN=${ARN}`, {}, 404, 'UnknownOperationException', 'route'],
    ];
    for (const [method, path, o, status, type, kind] of cases) {
      const r = await call(method, path, o);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(o)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.headers['x-amzn-errortype'], type, `${method} ${path}`);
      const v = api.takeViolations();
      assert.deepEqual(v.map((x) => x.kind), [kind], `${method} ${path} ${JSON.stringify(o)}: ${JSON.stringify(v)}`);
    }
    assert.equal(api.table(ns, 'orders').metadataLocation, null);
    // ':' is allowed unencoded in a path, and the service decodes it alike; an SDK never
    // sends it so.
    const rawColon = `/tables/${BUCKET_ARN.replace('/', '%2F')}/${ns}/orders/metadata-location`;
    assert.equal((await call('GET', rawColon)).status, 200);
    expectViolation('label-encoding');
  });

  it('two updates with the same token: one wins, the other is 409', async () => {
    const { ns, token, warehouse } = await newTable();
    const [a, b] = await Promise.all([update(ns, token, meta(warehouse, 0)), update(ns, token, meta(warehouse, 0))]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409]);
    assert.equal(api.table(ns, 'orders').history.length, 1);
    assert.deepEqual(api.violations, []);
  });

  it('faults: each kind does what it says', async () => {
    const { ns, token: t0, warehouse } = await newTable();
    const table = () => api.table(ns, 'orders');
    const tokenNow = () => table().versionToken;
    const last = () => api.requests.at(-1);

    api.faults.push({ op: 'update', kind: '409' });
    expectError(await update(ns, t0, meta(warehouse, 0)), 409, 'ConflictException');
    assert.equal(tokenNow(), t0, '409: nothing applied');
    assert.deepEqual(last().fault, { op: 'update', kind: '409' });

    for (const [kind, status, type] of [['500', 500, 'InternalServerErrorException'], ['503', 503, 'ServiceUnavailable'], ['429', 429, 'TooManyRequestsException'], ['403', 403, 'AccessDeniedException']]) {
      api.faults.push({ op: 'update', kind });
      expectError(await update(ns, t0, meta(warehouse, 0)), status, type);
      assert.equal(tokenNow(), t0, `${kind}: nothing applied`);
    }
    api.faults.push({ op: 'update', kind: 'reset-before' });
    const rb = await update(ns, t0, meta(warehouse, 0));
    assert.ok(rb.error, 'reset-before: no answer');
    assert.equal(tokenNow(), t0, 'reset-before: nothing applied');
    assert.equal(last().status, null);

    const m0 = meta(warehouse, 0);
    api.faults.push({ op: 'update', kind: '500-after-apply' });
    expectError(await update(ns, t0, m0), 500, 'InternalServerErrorException');
    assert.equal(table().metadataLocation, m0, '500-after-apply: applied');
    const t1 = tokenNow();
    assert.notEqual(t1, t0);

    const m1 = meta(warehouse, 1);
    api.faults.push({ op: 'update', kind: 'reset-after-apply' });
    assert.ok((await update(ns, t1, m1)).error, 'reset-after-apply: no answer');
    assert.equal(table().metadataLocation, m1, 'reset-after-apply: applied');
    const t2 = tokenNow();

    // delay: the token is compared after the delay, so a change in between wins.
    api.faults.push({ op: 'update', kind: 'delay', ms: 300 });
    const started = Date.now();
    const delayed = update(ns, t2, meta(warehouse, 2));
    await new Promise((r) => setTimeout(r, 50));
    const m2 = meta(warehouse, 2);
    assert.equal((await update(ns, t2, m2)).status, 200);
    expectError(await delayed, 409, 'ConflictException');
    assert.ok(Date.now() - started >= 300, 'delay: answered after ms');
    assert.equal(table().metadataLocation, m2);

    // count, and the other ops; 'any' matches them all.
    api.faults.push({ op: 'get', kind: '503', count: 2 });
    expectError(await call('GET', P.location(ns, 'orders')), 503, 'ServiceUnavailable');
    expectError(await call('GET', P.location(ns, 'orders')), 503, 'ServiceUnavailable');
    assert.equal((await call('GET', P.location(ns, 'orders'))).status, 200);
    api.faults.push({ op: 'create-namespace', kind: '500-after-apply' });
    expectError(await call('PUT', P.namespaces, { body: { namespace: [`${ns}_b`] } }), 500, 'InternalServerErrorException');
    assert.ok(api.namespaces().includes(`${ns}_b`), 'create-namespace 500-after-apply: created');
    // An after-apply fault waits for a request that applies.
    api.faults.push({ op: 'create-table', kind: 'reset-after-apply' });
    expectError(await call('PUT', P.tables(`${ns}_none`), { body: { name: 'orders', format: 'ICEBERG' } }), 404, 'NotFoundException');
    assert.equal(last().fault, undefined);
    assert.equal(api.faults.length, 1);
    assert.ok((await call('PUT', P.tables(ns), { body: { name: 'other', format: 'ICEBERG' } })).error, 'reset-after-apply: no answer');
    assert.ok(api.table(ns, 'other'), 'create-table reset-after-apply: created');
    api.faults.push({ op: 'create-table', kind: 'reset-before' });
    assert.ok((await call('PUT', P.tables(`${ns}_b`), { body: { name: 'orders', format: 'ICEBERG' } })).error);
    assert.equal(api.table(`${ns}_b`, 'orders'), undefined, 'create-table reset-before: not created');
    api.faults.push({ op: 'any', kind: '409' });
    expectError(await call('PUT', P.tables(`${ns}_b`), { body: { name: 'orders', format: 'ICEBERG' } }), 409, 'ConflictException');
    assert.equal(api.table(`${ns}_b`, 'orders'), undefined);
    assert.equal(api.faults.length, 0);
    // A refused request does not take a fault.
    api.faults.push({ op: 'update', kind: '500' });
    expectError(await update(ns, tokenNow(), 's3://elsewhere/x.metadata.json'), 400, 'BadRequestException');
    expectViolation('metadata-location');
    assert.equal(api.faults.length, 1);
    api.faults.length = 0;
    assert.deepEqual(api.violations, []);
  });
});

describe('s3tables api: checkMetadataLocation and a session token', { timeout: TEST_TIMEOUT_MS }, () => {
  let api;
  const written = new Set();
  const creds = { ...CREDENTIALS, sessionToken: 'session/token' };
  before(async () => {
    api = await startS3TablesApi({
      region: REGION, credentials: creds, tableBucketArn: BUCKET_ARN,
      checkMetadataLocation: async (uri) => (written.has(uri) ? null : 'no such object'),
    });
  });
  after(() => api?.close());

  it('an update to a file not written is served and recorded; the session token is required', async () => {
    const call = (method, path, o = {}) => callS3TablesApi(api.url, method, path, { region: REGION, credentials: creds, ...o });
    assert.equal((await call('PUT', P.namespaces, { body: { namespace: ['s'] } })).status, 200);
    const c = await call('PUT', P.tables('s'), { body: { name: 't', format: 'ICEBERG' } });
    const wh = api.table('s', 't').warehouseLocation;
    assert.match(wh, /^s3:\/\/[0-9a-f]{20}--table-s3$/);
    const m0 = `${wh}/metadata/00000-a.metadata.json`;
    written.add(m0);
    assert.equal((await call('PUT', P.location('s', 't'), { body: { versionToken: c.body.versionToken, metadataLocation: m0 } })).status, 200);
    assert.deepEqual(api.violations, []);
    const u = await call('PUT', P.location('s', 't'), { body: { versionToken: api.table('s', 't').versionToken, metadataLocation: `${wh}/metadata/00001-b.metadata.json` } });
    assert.equal(u.status, 200);
    assert.deepEqual(api.takeViolations().map((v) => v.kind), ['metadata-missing']);
    const noToken = await call('GET', P.location('s', 't'), { credentials: CREDENTIALS });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.deepEqual(api.takeViolations().map((v) => v.kind), ['auth']);
  });
});
