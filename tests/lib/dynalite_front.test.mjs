// Tests of dynalite.mjs: dynalite filled through BatchWriteItem, a parallel Scan through
// the front returns every item once, the front's injected errors are what the SDK knows
// as DynamoDB's, its Scan records show each segment resumed from its last key, and
// requests DynamoDB would refuse (signature, target, content type) are refused.
//
//   cd tests && node --test lib/dynalite_front.test.mjs

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';

import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

import { canonicalImage, makeItems, typedOf } from './ddb_export.mjs';
import {
  crc32, createTable, DDB_CREDENTIALS, DDB_REGION, ddbClient, DynamoError, loadItems, scanAll, startDynalite,
  startDynamoFront, verifyDynamoSigV4,
} from './dynalite.mjs';

const TABLE = 'items';
const N_ITEMS = 2000;
const CHECK = { ...DDB_CREDENTIALS, region: DDB_REGION };

let ddb;
let items;
const fronts = [];
const clients = [];

async function front(options) {
  const f = await startDynamoFront({ target: ddb.endpoint, checkSignature: CHECK, ...options });
  fronts.push(f);
  return f;
}

function client(endpoint, options) {
  const c = ddbClient(endpoint, options);
  clients.push(c);
  return c;
}

before(async () => {
  ddb = await startDynalite();
  await createTable(ddb.endpoint, TABLE, ['pk', 'S']);
  items = makeItems(N_ITEMS, 21);
  const loaded = await loadItems(ddb.endpoint, TABLE, items, { concurrency: 8 });
  assert.equal(loaded.written, N_ITEMS);
  assert.equal(loaded.requests, N_ITEMS / 25);
});

after(async () => {
  for (const c of clients) c.destroy();
  for (const f of fronts) await f.close();
  await ddb?.close();
});

// Asserts the scanned items are the loaded ones, each once, equal as DynamoDB holds them.
function assertEveryItemOnce(scanned) {
  const byKey = new Map();
  for (const it of scanned) {
    assert.ok(!byKey.has(it.pk.S), `${it.pk.S} scanned twice`);
    byKey.set(it.pk.S, it);
  }
  assert.equal(byKey.size, N_ITEMS);
  for (const want of items) {
    const got = byKey.get(want.pk);
    assert.ok(got, `${want.pk} not scanned`);
    assert.deepEqual(canonicalImage(got), canonicalImage(typedOf(want)), want.pk);
  }
}

// Per segment, each Scan after the first starts at the key the previous answered Scan
// of that segment ended at (a faulted Scan is retried from the same key).
function assertResumed(scans, segments) {
  for (let segment = 0; segment < segments; ++segment) {
    const mine = scans.filter((s) => s.segment === segment);
    assert.ok(mine.length >= 2, `segment ${segment} took ${mine.length} Scans`);
    assert.equal(mine[0].exclusiveStartKey, null);
    let last = null;
    for (const s of mine) {
      assert.equal(s.totalSegments, segments);
      assert.deepEqual(s.exclusiveStartKey, last, `segment ${segment} Scan ${s.seq} resumed from the last key`);
      if (s.status === 200) last = s.lastEvaluatedKey;
    }
    assert.equal(last, null, `segment ${segment} scanned to its end`);
  }
}

test('a parallel Scan of 4 segments through the front returns every item once', async () => {
  const f = await front({});
  const c = client(f.endpoint);
  const { items: scanned } = await scanAll(f.endpoint, TABLE, { client: c, segments: 4, limit: 100 });
  assertEveryItemOnce(scanned);
  const stats = f.stats();
  assert.equal(stats.signatureRejections, 0, JSON.stringify(stats.lastRejections));
  assert.deepEqual(stats.rejected, {});
  assert.equal(stats.forwarded, stats.requests);
  assert.equal(stats.byOperation.Scan, f.scans.length);
  assert.ok(f.scans.every((s) => s.limit === 100 && s.consistentRead === false && s.tableName === TABLE && s.fault === null));
  assert.equal(f.scans.reduce((n, s) => n + s.count, 0), N_ITEMS);
  assertResumed(f.scans, 4);
});

test('injected throttling and server errors are retried by the SDK, counted, and the scan resumes', async () => {
  const f = await front({ faults: { throttle: 0.15, throughput: 0.15, internal: 0.05, seed: 7 } });
  const c = client(f.endpoint, { maxAttempts: 25 });
  const { items: scanned } = await scanAll(f.endpoint, TABLE, { client: c, segments: 4, limit: 100 });
  assertEveryItemOnce(scanned);
  const stats = f.stats();
  assert.ok(stats.injected.throttle > 0 && stats.injected.throughput > 0, JSON.stringify(stats.injected));
  const faulted = f.scans.filter((s) => s.fault !== null);
  assert.equal(faulted.length, stats.injected.throttle + stats.injected.throughput + stats.injected.internal);
  assert.equal(stats.forwarded + faulted.length, stats.requests);
  assert.equal(stats.byStatus[400], stats.injected.throttle + stats.injected.throughput);
  assert.equal(stats.byStatus[500] ?? 0, stats.injected.internal);
  assertResumed(f.scans, 4);
});

test('the SDK sees the injected errors as DynamoDB\'s exceptions', async () => {
  const f = await front({ faults: { script: ['throughput', 'throttle', 'requestLimit', 'internal', 'reset'] } });
  const c = client(f.endpoint, { maxAttempts: 1 });
  const scan = () => c.send(new ScanCommand({ TableName: TABLE, Limit: 1 }));
  for (const [name, status] of [
    ['ProvisionedThroughputExceededException', 400], ['ThrottlingException', 400], ['RequestLimitExceeded', 400],
    ['InternalServerError', 500]]) {
    await assert.rejects(scan(), (err) => {
      assert.equal(err.name, name);
      assert.equal(err.$metadata.httpStatusCode, status);
      return true;
    });
  }
  await assert.rejects(scan(), (err) => /socket hang up|ECONNRESET/.test(`${err.message} ${err.code}`));
  const ok = await scan();
  assert.equal(ok.Count, 1);
  // Only Scan is faulted unless told otherwise.
  f.setFaults({ throttle: 1 });
  const got = await c.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: items[0].pk } } }));
  assert.equal(got.Item.pk.S, items[0].pk);
  await assert.rejects(scan(), { name: 'ThrottlingException' });
  assert.deepEqual(f.stats().injected, { throughput: 1, throttle: 2, requestLimit: 1, internal: 1, reset: 1, unprocessed: 0, latency: 0 });
});

test('BatchWriteItem answered half unprocessed: loadItems retries until every item is written', async () => {
  const f = await front({ faults: { unprocessed: 0.5, seed: 3 } });
  const c = client(f.endpoint);
  await createTable(f.endpoint, 'partial', ['pk', 'S'], null, { client: c });
  const some = items.slice(0, 300);
  const loaded = await loadItems(f.endpoint, 'partial', some, { client: c, maxRetries: 20 });
  assert.equal(loaded.written, 300);
  // 12 batches, one more request per retry; a batch of one item cannot be halved.
  const injected = f.stats().injected.unprocessed;
  assert.ok(loaded.unprocessedRetries > 0 && injected >= loaded.unprocessedRetries, JSON.stringify({ loaded, injected }));
  assert.equal(loaded.requests, 12 + loaded.unprocessedRetries);
  const { items: scanned } = await scanAll(f.endpoint, 'partial', { client: c });
  assert.deepEqual(scanned.map((it) => it.pk.S).sort(), some.map((it) => it.pk).sort());
});

test('Scan records carry timing and consumed capacity for pacing checks', async () => {
  const f = await front({ faults: { latencyMs: 20 } });
  const c = client(f.endpoint);
  let start;
  for (let page = 0; page < 3; ++page) {
    const out = await c.send(new ScanCommand({ TableName: TABLE, Limit: 50, ReturnConsumedCapacity: 'TOTAL', ExclusiveStartKey: start }));
    start = out.LastEvaluatedKey;
  }
  assert.equal(f.scans.length, 3);
  for (const [i, s] of f.scans.entries()) {
    assert.equal(s.returnConsumedCapacity, 'TOTAL');
    assert.equal(s.consumedCapacity?.TableName, TABLE, JSON.stringify(s.consumedCapacity));
    assert.ok(s.consumedCapacity.CapacityUnits > 0);
    assert.ok(s.answeredMs - s.atMs >= 19, `latency applied: ${s.answeredMs - s.atMs}`);
    assert.ok(s.responseBytes > 1000);
    if (i > 0) assert.ok(s.atMs >= f.scans[i - 1].answeredMs);
  }
  assert.equal(f.stats().injected.latency, 3);
  assert.equal(f.takeScans().length, 3);
  assert.equal(f.scans.length, 0);
});

test('the wire shape of an injected error: __type, message, ThrottlingReasons, x-amz-crc32', async () => {
  const f = await front({ checkSignature: null, faults: { script: ['throughput', 'throttle', 'internal'] } });
  const post = () => fetch(`${f.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan', authorization: 'AWS4-HMAC-SHA256 x' },
    body: JSON.stringify({ TableName: TABLE }),
  });
  const expect = [
    [400, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', 'TableReadProvisionedThroughputExceeded'],
    [400, 'com.amazon.coral.availability#ThrottlingException', 'TableReadKeyRangeThroughputExceeded'],
    [500, 'com.amazonaws.dynamodb.v20120810#InternalServerError', null],
  ];
  for (const [status, type, reason] of expect) {
    const res = await post();
    const text = await res.text();
    assert.equal(res.status, status);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.0');
    assert.equal(res.headers.get('x-amz-crc32'), String(crc32(Buffer.from(text))));
    assert.ok(res.headers.get('x-amzn-requestid'));
    const body = JSON.parse(text);
    assert.equal(body.__type, type);
    assert.ok(body.message.length > 10);
    if (reason) assert.deepEqual(body.ThrottlingReasons, [{ reason, resource: `arn:aws:dynamodb:us-east-1:111122223333:table/${TABLE}` }]);
    else assert.ok(!('ThrottlingReasons' in body));
  }
});

test('requests DynamoDB would refuse are refused and never reach dynalite', async () => {
  const f = await front({});
  const scan = (c) => c.send(new ScanCommand({ TableName: TABLE, Limit: 1 }));
  await assert.rejects(scan(client(f.endpoint, { maxAttempts: 1, credentials: { ...DDB_CREDENTIALS, secretAccessKey: 'wrong' } })),
    { name: 'InvalidSignatureException' });
  await assert.rejects(scan(client(f.endpoint, { maxAttempts: 1, credentials: { ...DDB_CREDENTIALS, accessKeyId: 'AKIDOTHER' } })),
    { name: 'UnrecognizedClientException' });
  await assert.rejects(scan(client(f.endpoint, { maxAttempts: 1, region: 'eu-west-1' })), { name: 'InvalidSignatureException' });
  const raw = (headers, body = '{}') => fetch(`${f.endpoint}/`, { method: 'POST', headers, body });
  let res = await raw({ 'content-type': 'application/json', 'x-amz-target': 'DynamoDB_20120810.Scan' });
  assert.equal(res.status, 404);
  assert.equal(await res.text(), '<UnknownOperationException/>\n');
  res = await raw({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20111205.Scan' });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).__type, 'com.amazon.coral.service#UnknownOperationException');
  res = await raw({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' });
  assert.equal((await res.json()).__type, 'com.amazon.coral.service#MissingAuthenticationTokenException');
  const stats = f.stats();
  assert.equal(stats.forwarded, 0);
  assert.equal(stats.signatureRejections, 4);
  assert.deepEqual(stats.rejected, { InvalidSignatureException: 2, UnrecognizedClientException: 1, UnknownOperationException: 2, MissingAuthenticationTokenException: 1 });
});

test('verifyDynamoSigV4: the signature covers the body received and the clock', async () => {
  const signer = new SignatureV4({ credentials: DDB_CREDENTIALS, region: DDB_REGION, service: 'dynamodb', sha256: Hash.bind(null, 'sha256') });
  const body = JSON.stringify({ TableName: TABLE, Segment: 1, TotalSegments: 4 });
  const when = new Date(Date.UTC(2026, 11, 7, 12, 0, 0));
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 8000, path: '/', query: {},
    headers: { host: '127.0.0.1:8000', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
    body,
  }, { signingDate: when });
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const verify = (b, now = when) => verifyDynamoSigV4({ method: 'POST', rawPath: '/', headers, body: Buffer.from(b), credentials: DDB_CREDENTIALS, region: DDB_REGION, now });
  const ok = await verify(body);
  assert.ok(ok.canonicalRequest.endsWith(createHash('sha256').update(body).digest('hex')));
  await assert.rejects(verify(body.replace('"Segment":1', '"Segment":2')), (err) => err instanceof DynamoError && err.type === 'InvalidSignatureException');
  await assert.rejects(verify(body, new Date(when.getTime() + 16 * 60_000)), /Signature expired/);
});
