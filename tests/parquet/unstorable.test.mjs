// Records a Parquet object cannot hold, end to end (README "Parquet" and "Error codes of
// PROCESSING_FAILED").
//
// Regression: with `input: json` and `format: parquet`, one record nested deeper than the
// Parquet writer accepts made the whole buffer fail at delivery (every Flush UNAVAILABLE,
// the object and its 100 good records in the DLQ), and a number beyond DOUBLE's range
// (1e999999) was written as Infinity. Now, over gRPC Ingest to lakehose-server:
// - inferred schema: 100 good records, one 1,025 levels deep and one holding 1e999999.
//   The deep one is PROCESSING_FAILED NESTING_TOO_DEEP (its error document under the
//   error prefix), the 1e999999 one is OK; Flush succeeds; DuckDB reads 101 rows and the
//   number column is VARCHAR with every number's exact text ("1e999999" included).
// - declared schema (x: double): 100 good records, one with x = 1e999999 and one too
//   deep. Both are PROCESSING_FAILED (UNREPRESENTABLE_VALUE, NESTING_TOO_DEEP); Flush
//   succeeds; DuckDB reads the 100 with their values.
//
//   node tests/parquet/unstorable.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose [--keep]
//
// The server listens on 127.0.0.1 port 0; every wait is bounded; it is stopped in after().

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { ServerProcess, WorkDir, serverEnv, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, flush, unary } from '../lib/grpc.mjs';
import { listFiles } from '../lib/lake.mjs';

const { args, serverBin: SERVER_BIN } = suiteArgs({ options: { keep: { type: 'boolean' } }, usage: '[--keep]' });

const DEEP_LEVELS = 1025;  // one past what the Parquet writer takes (kMaxParquetJsonDepth)
const deepValue = () => `${'['.repeat(DEEP_LEVELS)}1${']'.repeat(DEEP_LEVELS)}`;

function configYaml(dir) {
  const pipeline = (name, parquet) => [
    `  - name: ${name}`,
    '    input: json',
    `    prefix: "${name}/"`,
    `    error_prefix: "${name}-errors/"`,
    '    destination:',
    '      kind: file',
    `      path: ${JSON.stringify(join(dir, 'lake'))}`,
    '      format: parquet',
    '      buffering: { size_mb: 64, interval_s: 3600 }',
    ...(parquet ? [`      parquet: ${parquet}`] : []),
  ];
  return [
    'server:',
    `  data_dir: ${JSON.stringify(join(dir, 'data'))}`,
    '  writer_id: pq',
    'pipelines:',
    ...pipeline('inferred', null),
    ...pipeline('declared', '{ schema: [ { name: id, type: int64, required: true }, { name: x, type: double } ] }'),
    '',
  ].join('\n');
}

describe('records a Parquet object cannot hold fail alone', { timeout: 300_000 }, () => {
  let work;
  let server;
  let clients;
  let conn;
  const lake = () => join(work.path, 'lake');

  before(async () => {
    work = new WorkDir('lakehose-parquet-unstorable-', { keep: args.keep });
    const cfg = join(work.path, 'cfg.yaml');
    writeFileSync(cfg, configYaml(work.path));
    server = new ServerProcess(SERVER_BIN, { dir: work.path, configPath: cfg, env: serverEnv(work.path) });
    await server.waitForPort();
    clients = clientsFor(server.target);
    conn = await (await DuckDBInstance.create(':memory:')).connect();
  });

  after(async () => {
    clients?.close();
    if (server) await server.stop();
    await work?.close();
  });

  // Ingests `docs` (JSON texts) into `pipeline`; returns the results by record_id.
  async function ingest(pipeline, docs) {
    const records = docs.map((d, i) => ({ record_id: `r${i}`, data: Buffer.from(d) }));
    const resp = await unary(clients.ingestor, 'Ingest', { pipeline, records }, 30_000);
    assert.equal(resp.records.length, docs.length, 'one result per record');
    return resp.records;
  }

  async function readBack(pipeline) {
    const files = listFiles(join(lake(), pipeline)).filter((f) => f.endsWith('.parquet'));
    assert.equal(files.length, 1, `${pipeline}: one object`);
    const one = `read_parquet('${files[0].replaceAll("'", "''")}')`;
    const rows = (await conn.runAndReadAll(`SELECT * FROM ${one} ORDER BY id`)).getRowObjectsJson();
    const types = Object.fromEntries((await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${one}`)).getRowObjectsJson()
      .map((r) => [r.column_name, r.column_type]));
    return { rows, types };
  }

  it('inferred: the too-deep record is refused at Ingest, 1e999999 keeps its digits', async () => {
    const docs = [];
    for (let i = 0; i < 100; i++) docs.push(`{"id":${i},"n":${i}.5,"tag":"good"}`);
    docs.push(`{"id":100,"n":1e999999,"tag":"huge"}`);
    docs.push(`{"id":101,"n":1,"tag":"deep","a":${deepValue()}}`);
    const results = await ingest('inferred', docs);
    for (let i = 0; i <= 100; i++) assert.equal(results[i].result, 'OK', `record ${i}: ${results[i].error_message}`);
    const deep = results[101];
    assert.equal(deep.result, 'PROCESSING_FAILED');
    assert.equal(deep.error_code, 'NESTING_TOO_DEEP');
    assert.match(deep.key_prefix, /^inferred-errors\//);

    const f = await flush(clients.ingestor, 'inferred');
    assert.equal(f.objects.filter((o) => o.uri.endsWith('.parquet')).length, 1, 'Flush stored one Parquet object');

    const { rows, types } = await readBack('inferred');
    assert.equal(rows.length, 101, 'the 100 good records and the 1e999999 one');
    assert.deepEqual(rows.map((r) => Number(r.id)), [...Array(101).keys()]);
    assert.equal(types.n, 'VARCHAR', 'a number beyond DOUBLE is not written as a DOUBLE');
    assert.equal(rows[100].n, '1e999999', 'the exact digits');
    assert.equal(rows[7].n, '7.5');
    assert.ok(!('a' in types), 'the refused record left nothing in the object');

    // Its error document, JSON Lines under the error prefix.
    const errors = listFiles(join(lake(), 'inferred-errors'));
    assert.equal(errors.length, 1, 'one error object');
    const doc = JSON.parse(readFileSync(errors[0], 'utf8').trim());
    assert.equal(doc.errorCode, 'NESTING_TOO_DEEP');
  });

  it('declared double: 1e999999 and the too-deep record are refused, the 100 others stored', async () => {
    const docs = [];
    for (let i = 0; i < 100; i++) docs.push(`{"id":${i},"x":${i}.25}`);
    docs.push('{"id":100,"x":1e999999}');
    docs.push(`{"id":101,"x":1,"a":${deepValue()}}`);
    const results = await ingest('declared', docs);
    for (let i = 0; i < 100; i++) assert.equal(results[i].result, 'OK', `record ${i}: ${results[i].error_message}`);
    assert.equal(results[100].result, 'PROCESSING_FAILED');
    assert.equal(results[100].error_code, 'UNREPRESENTABLE_VALUE');
    assert.match(results[100].error_message, /column "x" \(double\) cannot hold "1e999999"/);
    assert.equal(results[101].result, 'PROCESSING_FAILED');
    assert.equal(results[101].error_code, 'NESTING_TOO_DEEP');

    const f = await flush(clients.ingestor, 'declared');
    assert.equal(f.objects.filter((o) => o.uri.endsWith('.parquet')).length, 1, 'Flush stored one Parquet object');
    const { rows, types } = await readBack('declared');
    assert.equal(rows.length, 100);
    assert.equal(types.x, 'DOUBLE');
    assert.deepEqual(rows.map((r) => Number(r.id)), [...Array(100).keys()]);
    assert.equal(Number(rows[3].x), 3.25);
    assert.ok(rows.every((r) => Number.isFinite(Number(r.x))), 'no Infinity');
  });
});
