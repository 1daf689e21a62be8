// Records whose object key the destination would refuse (README "Limits", "Error codes of
// PROCESSING_FAILED"): a 300-byte partition value, or 100 '/' that escape to 300 bytes,
// would make a path component longer than the file lake's 255. Regression: such a record
// was answered OK, and the file lake then failed "File name too long" for the whole object,
// so every Flush of the pipeline answered UNAVAILABLE for minutes and the objects ended in
// the DLQ with their good neighbours. Now the record alone is PROCESSING_FAILED
// KEY_TOO_LONG at Ingest, its neighbours in the same request are OK, and a Flush stores
// them.
//
//   node tests/security/key_too_long.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//
// Bounded: a few seconds; every wait has a deadline; the server is killed on failure.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';

import { ServerProcess, WorkDir, generate, serverEnv, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, flush, unary, waitForReady } from '../lib/grpc.mjs';
import { configYaml, listFiles, objectKey, readLake } from '../lib/lake.mjs';

const { serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs();

const PIPELINE = 'keys';
const RPC_DEADLINE_MS = 15_000;
const FLUSH_DEADLINE_MS = 20_000;  // before the fix, Flush retried for minutes

const work = new WorkDir('lakehose-key-too-long-');  // kept when the test fails
const dir = work.path;
let server = null;
let clients = null;
try {
  const lake = join(dir, 'lake');
  mkdirSync(lake);
  const configPath = join(dir, 'config.yaml');
  // Partitioned by region: prefix "keys/region=<value>/", error_prefix "keys-errors/".
  writeFileSync(configPath, configYaml({
    dataDir: join(dir, 'data'), writerId: 'keys', pipeline: PIPELINE, dest: { kind: 'file', path: lake },
    sizeMb: 64, intervalS: 600,
  }));
  server = new ServerProcess(SERVER_BIN, { dir, configPath, env: serverEnv(dir), name: 'server' });
  await server.waitForPort();
  clients = clientsFor(server.target);
  await waitForReady(clients.ingestor);

  // Five records with a NewImage and a region; the second and fourth get values too long
  // for a file name once rendered as "region=<value>".
  const gen = await generate(CLI_BIN, 200, 11);
  const picked = gen.lines.map((l) => JSON.parse(l)).filter((r) => r.dynamodb.NewImage?.region?.S).slice(0, 5);
  assert.equal(picked.length, 5, 'the generator made records with a NewImage and a region');
  picked[1].dynamodb.NewImage.region.S = 'r'.repeat(300);
  picked[3].dynamodb.NewImage.region.S = '/'.repeat(100);  // 300 bytes once escaped (%2F)
  const bad = new Set([1, 3]);
  const records = picked.map((r, i) => ({ record_id: `k-${i}`, data: Buffer.from(JSON.stringify(r)) }));

  const resp = await unary(clients.ingestor, 'Ingest', { pipeline: PIPELINE, records }, RPC_DEADLINE_MS);
  assert.equal(resp.records.length, records.length, 'Ingest: one result per record');
  resp.records.forEach((r, i) => {
    assert.equal(r.record_id, `k-${i}`, 'Ingest: results in order');
    if (bad.has(i)) {
      assert.equal(r.result, 'PROCESSING_FAILED', `record ${i}: ${r.result} ${r.error_code} ${r.error_message}`);
      assert.equal(r.error_code, 'KEY_TOO_LONG', `record ${i}: ${r.error_message}`);
      assert.match(r.error_message, /^partition key 'region' is 300 bytes after escaping: path component "region=.*" is 307 bytes; a file lake allows 255 per component$/,
        `record ${i}: the message names the key and the lengths`);
      assert.equal(r.key_prefix, `${PIPELINE}-errors/`, `record ${i}: a failed record goes under error_prefix`);
    } else {
      assert.equal(r.result, 'OK', `record ${i}: ${r.error_code} ${r.error_message}`);
    }
  });

  // The Flush stores the good records (and the error documents) at once.
  const started = Date.now();
  const flushed = await flush(clients.ingestor, PIPELINE, FLUSH_DEADLINE_MS);
  const flushMs = Date.now() - started;
  assert.ok(flushed.objects.length >= 1, `Flush stored nothing: ${JSON.stringify(flushed)}`);
  for (const o of flushed.objects) {
    assert.ok(o.key.split('/').every((c) => Buffer.byteLength(c) <= 255), `object key with a component over 255 bytes: ${o.key}`);
  }

  const got = await readLake({ root: lake, pipeline: PIPELINE });
  const good = picked.filter((_, i) => !bad.has(i)).map((r) => r.eventID);
  assert.deepEqual([...got.counts.keys()].sort(), [...good].sort(), 'the lake holds exactly the good records');
  for (const id of good) assert.equal(got.counts.get(id), 1, `${id} once`);
  assert.deepEqual(got.leftovers, [], 'no temporary files left');

  // The refused records are error documents under error_prefix, with their code.
  const errorFiles = listFiles(lake).filter((f) => objectKey(lake, f).startsWith(`${PIPELINE}-errors/`));
  const docs = errorFiles.flatMap((f) => zlib.gunzipSync(readFileSync(f)).toString('utf8').trim().split('\n')).map((l) => JSON.parse(l));
  assert.deepEqual(docs.map((d) => d.errorCode), ['KEY_TOO_LONG', 'KEY_TOO_LONG'], 'two error documents');
  const rawIds = docs.map((d) => JSON.parse(Buffer.from(d.rawData, 'base64').toString('utf8')).eventID).sort();
  assert.deepEqual(rawIds, [picked[1].eventID, picked[3].eventID].sort(), 'the error documents hold the refused records');

  // No object failed delivery; the two refused records wait as processing dead letters
  // (README "Durability and the dead-letter queue"), to be redriven once fixed.
  const metrics = await server.scrape();
  assert.equal(metrics.value('lakehose_dlq_depth', { kind: 'delivery' }) ?? 0, 0, 'lakehose_dlq_depth{kind="delivery"}');
  assert.equal(metrics.value('lakehose_dlq_depth', { kind: 'processing' }), 2, 'lakehose_dlq_depth{kind="processing"}');
  console.log(`ok: 2 records KEY_TOO_LONG, 3 OK; Flush stored ${flushed.objects.length} objects in ${flushMs} ms`);

  const exit = await server.stop();
  assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
} catch (err) {
  work.fail();
  console.error(err);
  if (server) console.error(`server output:\n${server.tail(80)}`);
  process.exitCode = 1;
} finally {
  clients?.close();
  await server?.kill().catch(() => {});
  await work.close();
}
