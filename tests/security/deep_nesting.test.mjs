// Regression (README "Limits", "Error codes of PROCESSING_FAILED"): one 100 KB record,
// {"a": then 50,000 '[' and 50,000 ']' then '}', used to kill lakehose-server (SIGSEGV,
// a stack overflow in the recursive walk of `input: json`) through Transform or Ingest,
// and `lakehose transform --config` the same way. It now fails alone with
// PROCESSING_FAILED NESTING_TOO_DEEP, the server keeps serving, and the CLI exits
// normally. A record 32 levels deep (what DynamoDB allows) still passes.
//
//   node tests/security/deep_nesting.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//
// Plaintext on 127.0.0.1 port 0; every wait is bounded; the server is killed if anything
// fails.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, WorkDir, run, serverEnv, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, healthCheck, unary } from '../lib/grpc.mjs';

const { serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs();

const RPC_DEADLINE_MS = 15_000;
const CLI_TIMEOUT_MS = 30_000;

const deepArrays = (depth) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
const REPRODUCER = deepArrays(50_000);
// The path where the limit is crossed: the 33rd array, inside 32.
const PATH_OF_33RD = `data.a${'[0]'.repeat(32)}`;

function configYaml(dir) {
  return [
    'server:',
    '  metrics_listen: 127.0.0.1:0',
    `  data_dir: ${join(dir, 'data')}`,
    'pipelines:',
    '  - name: docs',
    '    input: json',
    '    destination:',
    '      kind: file',
    `      path: ${join(dir, 'lake')}`,
    '',
  ].join('\n');
}

function assertTooDeep(result, recordId) {
  assert.equal(result.record_id, recordId);
  assert.equal(result.result, 'PROCESSING_FAILED', JSON.stringify(result));
  assert.equal(result.error_code, 'NESTING_TOO_DEEP');
  assert.equal(result.error_message, `${PATH_OF_33RD}: more than 32 levels of nested maps and lists`);
}

describe('a 50,000-deep record with input: json', { timeout: 110_000 }, () => {
  let work, server, clients;

  before(async () => {
    work = new WorkDir('lakehose-deep-nesting-');
    writeFileSync(join(work.path, 'config.yaml'), configYaml(work.path));
    server = new ServerProcess(SERVER_BIN, {
      dir: work.path, configPath: join(work.path, 'config.yaml'), env: serverEnv(work.path),
    });
    await server.waitForPort();
    clients = clientsFor(server.target);
  });

  after(async () => {
    clients?.close();
    if (server?.running()) await server.kill().catch(() => {});
    await work?.close();
  });

  it('the reproducer is the 100 KB record of the report', () => {
    assert.equal(REPRODUCER.length, 100_006);
  });

  it('Transform: fails alone with NESTING_TOO_DEEP; its neighbours pass', async () => {
    const resp = await unary(clients.transformer, 'Transform', {
      pipeline: 'docs',
      records: [
        { record_id: 'before', data: Buffer.from('{"x":1}') },
        { record_id: 'deep', data: Buffer.from(REPRODUCER) },
        { record_id: 'd32', data: Buffer.from(deepArrays(32)) },
        { record_id: 'd33', data: Buffer.from(deepArrays(33)) },
      ],
    }, RPC_DEADLINE_MS);
    assert.equal(resp.records.length, 4);
    assert.equal(resp.records[0].result, 'OK');
    assertTooDeep(resp.records[1], 'deep');
    assert.equal(resp.records[2].result, 'OK', JSON.stringify(resp.records[2]));
    assert.equal(resp.records[2].data.toString(), deepArrays(32));
    assertTooDeep(resp.records[3], 'd33');
    assert.ok(server.running(), `the server died:\n${server.tail()}`);
  });

  it('Ingest: fails alone with NESTING_TOO_DEEP', async () => {
    const resp = await unary(clients.ingestor, 'Ingest', {
      pipeline: 'docs',
      records: [
        { record_id: 'deep', data: Buffer.from(REPRODUCER) },
        { record_id: 'ok', data: Buffer.from('{"y":2}') },
      ],
    }, RPC_DEADLINE_MS);
    assert.equal(resp.records.length, 2);
    assertTooDeep(resp.records[0], 'deep');
    assert.equal(resp.records[1].result, 'OK');
    assert.ok(server.running(), `the server died:\n${server.tail()}`);
  });

  it('the server still serves afterwards', async () => {
    assert.equal(await healthCheck(server.target), 'SERVING');
    const resp = await unary(clients.transformer, 'Transform', {
      pipeline: 'docs', records: [{ record_id: 'after', data: Buffer.from('{"z":[[3]]}') }],
    }, RPC_DEADLINE_MS);
    assert.equal(resp.records[0].result, 'OK');
    assert.equal(resp.records[0].data.toString(), '{"z":[[3]]}');
  });

  it('lakehose transform --config (offline): one verdict per line, exit 0', async () => {
    const input = join(work.path, 'deep.jsonl');
    writeFileSync(input, `${REPRODUCER}\n{"x":1}\n`);
    const r = await run(CLI_BIN, ['transform', '--config', join(work.path, 'config.yaml'),
      '--pipeline', 'docs', '--input', input], { timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(r.signal, null, `lakehose transform died of ${r.signal}:\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assertTooDeep(lines[0], '1');
    assert.equal(lines[1].result, 'OK');
  });
});
