// End-to-end test of lakehose-server from a Node @grpc/grpc-js client that loads proto/
// itself (no generated code shared with the server).
//
//   node tests/e2e/grpc_node_client.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//
// (LAKEHOSE_SERVER / LAKEHOSE_CLI work too.) Starts the server on its embedded defaults
// (pipeline `demo`) on a free port in a temporary directory, then: 3 batches of 500
// generated transactions records; a batch mixing good and malformed records; requests that
// must get INVALID_ARGUMENT, after which the server must still serve; grpc.health.v1
// Check; server reflection ListServices; and SIGTERM, which must end the server with exit
// code 0. Every wait is bounded; the server is killed if anything fails.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ServerProcess, generate, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, deadline, grpc, statusName, unary, waitForReady } from '../lib/grpc.mjs';

const { serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs();

const PORT_FILE_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;
const RPC_DEADLINE_MS = 30_000;
const TEST_TIMEOUT_MS = 90_000;
const BATCH = 500;
const MAX_RECORDS = 10_000;
const OPERATIONS = { INSERT: 'INSERT', MODIFY: 'UPDATE', REMOVE: 'DELETE' };

// ---- helpers ---------------------------------------------------------------------------

async function expectStatus(promise, code, what) {
  let response;
  try {
    response = await promise;
  } catch (err) {
    assert.equal(err.code, code,
        `${what}: expected ${statusName(code)}, got ${statusName(err.code)}: ${err.details}`);
    assert.ok(typeof err.details === 'string' && err.details.length > 0, `${what}: the status has no reason`);
    return err;
  }
  assert.fail(`${what}: expected ${statusName(code)}, got OK with ${response?.records?.length} records`);
}

// The image the demo pipeline reads (image: new-or-old).
function imageOf(record) {
  const d = record.dynamodb;
  return d.NewImage ?? d.OldImage ?? d.Keys;
}

function checkOkResult(r, line, where) {
  assert.equal(r.result, 'OK', `${where}: ${r.error_code} ${r.error_message}`);
  const record = JSON.parse(line);
  assert.equal(r.operation, OPERATIONS[record.eventName], `${where}: operation for ${record.eventName}`);
  const doc = JSON.parse(Buffer.from(r.data).toString('utf8'));
  assert.ok(doc && typeof doc === 'object' && !Array.isArray(doc), `${where}: data is not a JSON object`);
  const image = imageOf(record);
  assert.equal(doc.transaction_id, image.transaction_id.S, `${where}: data.transaction_id`);
  const keys = r.partition_keys;
  for (const k of ['region', 'date', 'hour']) {
    assert.ok(typeof keys[k] === 'string' && keys[k].length > 0, `${where}: partition key ${k} missing: ${JSON.stringify(keys)}`);
  }
  // A KEYS_ONLY REMOVE has no region (the demo's default "unknown") and no timestamp
  // (the fallback: ApproximateCreationDateTime, seconds in Lambda's shape).
  assert.equal(keys.region, image.region ? image.region.S : 'unknown', `${where}: partition key region`);
  // date/hour come from the image's `timestamp` (ms, UTC).
  const eventMs = image.timestamp ? Number(image.timestamp.N) : record.dynamodb.ApproximateCreationDateTime * 1000;
  const iso = new Date(eventMs).toISOString();
  assert.equal(keys.date, iso.slice(0, 10), `${where}: partition key date`);
  assert.equal(keys.hour, iso.slice(11, 13), `${where}: partition key hour`);
  assert.ok(r.key_prefix.startsWith('transactions/region='), `${where}: key_prefix ${r.key_prefix}`);
  assert.ok(r.key_prefix.startsWith(`transactions/region=${keys.region}/`), `${where}: key_prefix ${r.key_prefix}`);
  assert.equal(r.error_code, '', `${where}: error_code on an OK record`);
}

let activeServer = null;  // for the last-resort guard at the bottom

// ---- the test --------------------------------------------------------------------------

describe('lakehose-server from a Node gRPC client', { timeout: 10 * 60_000 }, () => {
  let dir;
  let server;
  let clients;
  let transformer;
  let health;
  let reflection;
  let lines;
  const closeClients = () => {
    clients?.close();
    clients = null;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lakehose-e2e-'));
    ({ lines } = await generate(CLI_BIN, 3 * BATCH, 7, { timeoutMs: 60_000 }));
    server = new ServerProcess(SERVER_BIN, { dir });
    activeServer = server;
    await server.waitForPort(PORT_FILE_TIMEOUT_MS);
    clients = clientsFor(server.target);
    ({ transformer, health, reflection } = clients);
    await waitForReady(transformer, 10_000);
  });

  after(async () => {
    closeClients();
    if (server?.running()) {
      console.error(`lakehose-server still running at the end; killing it. Its last output:\n${server.tail()}`);
    }
    await server?.kill().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('transforms 3 batches of 500 transactions records: every record_id once, in order, OK', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (let b = 0; b < 3; ++b) {
      const batch = lines.slice(b * BATCH, (b + 1) * BATCH);
      const ids = batch.map((_, i) => `b${b}-r${i}`);
      const response = await unary(transformer, 'Transform', {
        pipeline: 'demo',
        records: batch.map((line, i) => ({
          record_id: ids[i],
          data: Buffer.from(line),
          approximate_arrival_timestamp: String(1700000000000 + i),
        })),
      });
      assert.deepEqual(response.records.map((r) => r.record_id), ids, `batch ${b}: record_ids in order, each once`);
      response.records.forEach((r, i) => checkOkResult(r, batch[i], `batch ${b} record ${ids[i]}`));
    }
  });

  it('fails only the malformed records of a mixed batch, naming the attribute path', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Records that have a NewImage, to corrupt.
    const withNew = lines.filter((l) => JSON.parse(l).dynamodb.NewImage);
    assert.ok(withNew.length >= 10);
    const corrupt = (line, mutate) => {
      const rec = JSON.parse(line);
      mutate(rec.dynamodb.NewImage);
      return JSON.stringify(rec);
    };
    const cases = [
      { data: withNew[0] },
      { data: '{"eventName": "INSERT", "dynamodb": {not json', bad: [] },
      { data: withNew[1] },
      { data: corrupt(withNew[2], (im) => { im.amount = { N: 'abc' }; }), bad: ['amount'] },
      { data: withNew[3] },
      { data: corrupt(withNew[4], (im) => { im.currency = { XX: 'USD' }; }), bad: ['currency'] },
      { data: withNew[5] },
      {
        data: corrupt(withNew[6], (im) => { im.details = { M: { inner: { L: [{ N: '1' }, { N: '1.2.3' }] } } }; }),
        bad: ['details', 'inner'],
      },
      { data: withNew[7] },
    ];
    const response = await unary(transformer, 'Transform', {
      pipeline: 'demo',
      records: cases.map((c, i) => ({ record_id: `mixed-${i}`, data: Buffer.from(c.data) })),
    });
    assert.deepEqual(response.records.map((r) => r.record_id), cases.map((_, i) => `mixed-${i}`));
    response.records.forEach((r, i) => {
      const where = `mixed-${i}`;
      if (!cases[i].bad) {
        checkOkResult(r, cases[i].data, where);
        return;
      }
      assert.equal(r.result, 'PROCESSING_FAILED', `${where}: expected PROCESSING_FAILED, got ${r.result}`);
      assert.match(r.error_code, /^\S+$/, `${where}: error_code`);
      assert.ok(r.error_message.length > 0, `${where}: error_message is empty`);
      for (const name of cases[i].bad) {
        assert.ok(r.error_message.includes(name), `${where}: error_message does not name ${name}: ${r.error_message}`);
      }
      assert.equal(Buffer.from(r.data).length, 0, `${where}: a failed record carries data`);
    });
    // Distinct failures get a code each: a bad number is not an unknown type.
    const codes = response.records.filter((r) => r.result !== 'OK').map((r) => r.error_code);
    assert.notEqual(codes[1], codes[2], `bad N and unknown type key share the code ${codes[1]}`);
  });

  it('answers INVALID_ARGUMENT for malformed requests and keeps serving', { timeout: TEST_TIMEOUT_MS }, async () => {
    const good = lines[0];
    const one = (id, data = good) => ({ record_id: id, data: Buffer.from(data) });
    const IA = grpc.status.INVALID_ARGUMENT;

    await expectStatus(unary(transformer, 'Transform', { pipeline: 'no-such-pipeline', records: [one('1')] }), IA, 'unknown pipeline');
    await expectStatus(unary(transformer, 'Transform', { pipeline: 'demo', records: [one('1'), one('')] }), IA, 'empty record_id');
    await expectStatus(unary(transformer, 'Transform', { pipeline: 'demo', records: [one('a'), one('b'), one('a')] }), IA,
        'duplicate record_id');
    const tooMany = Array.from({ length: MAX_RECORDS + 1 }, (_, i) => one(`r${i}`, '{}'));
    await expectStatus(unary(transformer, 'Transform', { pipeline: 'demo', records: tooMany }), IA,
        `${MAX_RECORDS + 1} records`);
    const rec = JSON.parse(good);
    imageOf(rec).padding = { S: 'x'.repeat(2 * 1024 * 1024) };
    const huge = JSON.stringify(rec);
    assert.ok(huge.length > 2 * 1024 * 1024);
    await expectStatus(unary(transformer, 'Transform', { pipeline: 'demo', records: [one('small'), one('huge', huge)] }), IA,
        'a 2 MiB record');

    // Exactly the limit is fine.
    const atLimit = Array.from({ length: MAX_RECORDS }, (_, i) => one(`r${i}`, '{}'));
    const limitResponse = await unary(transformer, 'Transform', { pipeline: 'demo', records: atLimit });
    assert.equal(limitResponse.records.length, MAX_RECORDS);
    assert.ok(limitResponse.records.every((r) => r.result === 'PROCESSING_FAILED'), '"{}" is not a stream record');

    // Still serving.
    const batch = lines.slice(0, 20);
    const response = await unary(transformer, 'Transform', {
      pipeline: 'demo',
      records: batch.map((line, i) => one(`after-${i}`, line)),
    });
    assert.deepEqual(response.records.map((r) => r.record_id), batch.map((_, i) => `after-${i}`));
    response.records.forEach((r, i) => checkOkResult(r, batch[i], `after-${i}`));
  });

  it('serves grpc.health.v1 Health/Check: SERVING', { timeout: TEST_TIMEOUT_MS }, async () => {
    const response = await unary(health, 'Check', { service: '' });
    assert.equal(response.status, 'SERVING');
  });

  it('serves reflection: ListServices includes lakehose.v1.Transformer', { timeout: TEST_TIMEOUT_MS }, async () => {
    const call = reflection.ServerReflectionInfo({ deadline: deadline(RPC_DEADLINE_MS) });
    const responses = [];
    const waiters = [];
    let ended = null;
    call.on('data', (m) => {
      responses.push(m);
      waiters.splice(0).forEach((w) => w());
    });
    call.on('error', (err) => {
      ended = err;
      waiters.splice(0).forEach((w) => w());
    });
    call.on('end', () => {
      ended = ended ?? new Error('stream ended');
      waiters.splice(0).forEach((w) => w());
    });
    const next = async (n) => {
      const until = Date.now() + 10_000;
      while (responses.length < n) {
        if (ended) throw ended;
        if (Date.now() > until) throw new Error('no reflection response within 10 s');
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
      return responses[n - 1];
    };
    try {
      call.write({ host: '', list_services: '*' });
      const listed = await next(1);
      assert.equal(listed.message_response, 'list_services_response', JSON.stringify(listed.error_response));
      const names = listed.list_services_response.service.map((s) => s.name);
      assert.ok(names.includes('lakehose.v1.Transformer'), `services: ${names.join(', ')}`);
      assert.ok(names.includes('grpc.health.v1.Health'), `services: ${names.join(', ')}`);

      // What grpcurl does next: fetch the file that defines the service.
      call.write({ host: '', file_containing_symbol: 'lakehose.v1.Transformer' });
      const file = await next(2);
      assert.equal(file.message_response, 'file_descriptor_response', JSON.stringify(file.error_response));
      const blobs = file.file_descriptor_response.file_descriptor_proto.map((b) => Buffer.from(b).toString('latin1'));
      assert.ok(blobs.some((b) => b.includes('lakehose/v1/lakehose.proto') && b.includes('Transformer')),
          'no FileDescriptorProto for lakehose/v1/lakehose.proto');
    } finally {
      call.end();
      call.cancel();
    }
  });

  it('drains and exits 0 on SIGTERM within 15 s', { timeout: TEST_TIMEOUT_MS }, async () => {
    closeClients();
    assert.ok(server.running(), `lakehose-server already exited: ${JSON.stringify(server.exit)}`);
    const exit = await server.stop(EXIT_TIMEOUT_MS);
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null },
        `exit after SIGTERM; last output:\n${server.tail()}`);
  });
});

// A last guard so a wedged run never outlives ctest: kill the server and fail.
setTimeout(() => {
  console.error('grpc_node_client.test.mjs: overall time limit (12 min) reached');
  if (activeServer?.running()) activeServer.child.kill('SIGKILL');
  process.exit(1);
}, 12 * 60_000).unref();
