// `lakehose health` through an S3 outage and its recovery (README "Destination down"):
// lakehose-server writes to a stub S3 endpoint (in this process) that answers 503
// SlowDown to everything, with server.destination_breaker set low so that a few failed
// stores open the breaker. While it is down: health is still SERVING (exit 0), the
// destination's line (state, outage, last error) and the dead-letter backlog follow the
// status line, and /metrics shows lakehose_destination_down 1 and the backlog bytes. With
// a token on the server, health without one prints the status line only. Once the stub
// answers 200: the breaker closes, the backlog drains, and health is "SERVING\n" alone.
//
//   node tests/cli/health_detail.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ServerProcess, WorkDir, generate, run, serverEnv, sleep, suiteArgs } from '../lib/harness.mjs';

const { serverBin, cliBin } = suiteArgs();
const TOKEN = 'health-detail-token-0123456789abcdef';

// The stub S3: `mode.down` answers 503 SlowDown; otherwise every PUT is stored (200 with
// an ETag), so the retry worker's conditional PutObjects land.
const mode = { down: true, puts: 0 };
function startStub() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (mode.down) {
        const body = '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
        res.writeHead(503, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      if (req.method === 'PUT') mode.puts += 1;
      res.writeHead(req.method === 'PUT' ? 200 : 404, { ETag: '"e"', 'Content-Length': 0 });
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('lakehose health while a destination is down', () => {
  let work;
  let stub;
  let server;
  let endpointHost;

  before(async () => {
    work = new WorkDir('lakehose-health-detail-');
    stub = await startStub();
    work.defer(() => new Promise((r) => stub.close(r)));
    endpointHost = `127.0.0.1:${stub.address().port}`;
    writeFileSync(join(work.path, 'token'), `${TOKEN}\n`);
    writeFileSync(join(work.path, 'config.yaml'), `server:
  data_dir: ${join(work.path, 'data')}
  shutdown_grace_s: 5
  auth: { token_file: ${join(work.path, 'token')} }
  dlq: { delivery_retry_budget_s: 1, retry_base_ms: 100, retry_max_ms: 500 }
  destination_breaker: { failure_threshold: 2, min_down_s: 0, probe_base_ms: 200, probe_max_s: 1 }
pipelines:
  - name: demo
    input: dynamodb-stream
    partition_keys:
      region: { attribute: region, default: unknown }
    prefix: "t/region=!{partitionKeyFromLambda:region}/"
    destination:
      kind: s3
      bucket: lake
      region: us-east-1
      endpoint: http://${endpointHost}
      format: jsonl
      compression: gzip
      retry: { max_attempts: 2, base_delay_ms: 50, max_delay_ms: 100 }
      buffering: { size_mb: 64, interval_s: 3600 }
`);
    server = new ServerProcess(serverBin, { dir: work.path, configPath: join(work.path, 'config.yaml'), env: serverEnv(work.path) });
    work.defer(() => server.kill());
    await server.waitForPort();
  });

  after(async () => {
    if (server?.running()) await server.stop(20_000).catch(() => {});
    await work?.close();
  });

  const health = (extra = []) => run(cliBin, ['health', '--target', server.target, ...extra], { timeoutMs: 20_000 });

  it('acks, dead-letters, and health shows the destination down and the backlog (exit 0)', async () => {
    const { lines } = await generate(cliBin, 600, 7);
    writeFileSync(join(work.path, 'records.jsonl'), `${lines.join('\n')}\n`);
    const tokenFlags = ['--token-file', join(work.path, 'token')];
    const sent = await run(cliBin, ['send', '--target', server.target, '--pipeline', 'demo', '--input', join(work.path, 'records.jsonl'), ...tokenFlags]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, /600 ok/);
    // Its answer (every object dead-lettered, nothing stored) is the engine's business; what
    // matters here is that it returns once each object has reached the dead-letter queue.
    await run(cliBin, ['flush', '--target', server.target, ...tokenFlags], { timeoutMs: 60_000 });

    const name = `${endpointHost}/lake`;
    const h = await health(tokenFlags);
    assert.equal(h.code, 0, `S3 being down is not the server being down: ${h.stdout}${h.stderr}`);
    const out = h.stdout.split('\n');
    assert.equal(out[0], 'SERVING');
    assert.match(out[1], new RegExp(`^destination ${name.replaceAll('.', '\\.')}: down \\((open|half_open)\\) for \\d+ s(; next probe in \\d+ s)?; last error: .*SlowDown`), h.stdout);
    assert.match(h.stdout, /^dead-letter backlog: [1-9]\d* objects, [1-9]\d* bytes on disk$/m);

    // Without the token: the status line only, same exit code.
    const bare = await health();
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stdout, 'SERVING\n');

    const m = await server.scrape();
    assert.equal(m.value('lakehose_destination_down', { destination: name }), 1);
    assert.ok(m.value('lakehose_dlq_backlog_bytes') > 0, 'the backlog on disk');
    assert.ok(m.value('lakehose_destination_breaker_transitions_total', { destination: name, to: 'open' }) >= 1);
  });

  it('after the destination heals: the breaker closes, the backlog drains, health is the status line alone', async () => {
    mode.down = false;
    const tokenFlags = ['--token-file', join(work.path, 'token')];
    let h;
    const end = Date.now() + 60_000;
    for (let i = 0; i < 600 && Date.now() < end; i++) {
      h = await health(tokenFlags);
      if (h.stdout === 'SERVING\n') break;
      await sleep(100);
    }
    assert.equal(h.stdout, 'SERVING\n', 'no destination down, no backlog, within 60 s of healing');
    assert.ok(mode.puts > 0, 'the dead letters were stored');
    const m = await server.scrape();
    const name = `${endpointHost}/lake`;
    assert.equal(m.value('lakehose_destination_down', { destination: name }), 0);
    assert.equal(m.value('lakehose_destination_outage_seconds', { destination: name }), 0);
    assert.ok(m.value('lakehose_destination_probes_total', { destination: name, result: 'ok' }) >= 1);
    assert.equal(m.value('lakehose_dlq_backlog_bytes'), 0);
    assert.ok(m.value('lakehose_dlq_delivered_total') > 0, 'the drain');
  });
});
