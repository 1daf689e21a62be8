// Fault matrix (README "Durability and the dead-letter queue"): lakehose-server delivering to S3
// through the verifying, fault-injecting front (../lib/s3_front.mjs) over s3rver,
// with a short delivery retry budget (server.dlq.delivery_retry_budget_s: 2) and a fast
// dead-letter retry worker, and few S3 client retries per store (destination.retry), so
// that failures reach the engine's retry and the dead-letter queue within seconds:
//
//   a. slowdown-30   30% of requests answered 503 SlowDown
//   b. resets        connections reset: 15% before forwarding, 10% after s3rver stored the
//                    object (the answer is lost; the retry must get 412 = delivered)
//   c. latency-2s    every request answered 2 s late
//   d. outage        100% 503 until the dead-letter queue holds entries (at least 5 s,
//                    longer than the budget), Flush answers UNAVAILABLE; then heal: the DLQ
//                    retry worker drains the queue
//   e. multipart     objects of 16 MB in 5 MiB parts (compression none), half of the
//                    CompleteMultipartUpload calls answered 200 with an <Error> body
//
// Each: Ingest records (acked eventIDs recorded), Flush (retried, bounded, until it
// answers OK), wait (bounded) until `lakehose dlq list --target ...` is empty, SIGTERM
// (exit 0), then every acked record must be in the bucket exactly once and nothing else.
//
//   node tests/durability/faults.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--only NAME,NAME] [--keep]
//
// (LAKEHOSE_SERVER / LAKEHOSE_CLI work too.) Every wait is bounded.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, WorkDir, generate, run, serverEnv, sleep, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, flush, ingestOnce, statusName, unary, waitForReady } from '../lib/grpc.mjs';
import { configYaml, describeVerdict, readLake, verdict } from '../lib/lake.mjs';
import { TEST_CREDENTIALS, startS3Front } from '../lib/s3_front.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { only: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--only NAME,...] [--keep]',
});

const PIPELINE = 'dur';
const BATCH = 500;
const CONCURRENCY = 2;
const RPC_DEADLINE_MS = 30_000;
const FLUSH_BUDGET_MS = 150_000;
const DLQ_FILL_BUDGET_MS = 60_000;
const DLQ_DRAIN_BUDGET_MS = 120_000;
const OUTAGE_MIN_MS = 5_000;
const SCENARIO_TIMEOUT_MS = 300_000;
const SERVER_LINES = [
  '  shutdown_grace_s: 30',
  '  dlq: { delivery_retry_budget_s: 2, retry_base_ms: 200, retry_max_ms: 1000 }',
];
// Few tries per store, so a failing store reaches the engine (and the budget) quickly.
const S3_RETRY = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };

const SCENARIOS = [
  { name: 'slowdown-30', records: 20_000, sizeMb: 0.5, faults: { slowDown: 0.3 }, expect: ['slowDown'] },
  { name: 'resets', records: 20_000, sizeMb: 0.5, faults: { reset: 0.15, resetAfter: 0.1 }, expect: ['reset', 'resetAfter'] },
  { name: 'latency-2s', records: 5_000, sizeMb: 1, faults: { latencyMs: 2000 }, expect: ['latency'] },
  { name: 'outage', records: 10_000, sizeMb: 0.5, faults: { slowDown: 1 }, expect: ['slowDown'], outage: true },
  { name: 'multipart', records: 30_000, sizeMb: 16, partSizeMb: 5, compression: 'none', partitioned: false,
    faults: { completeError: 0.5, scripts: { CompleteMultipartUpload: ['completeError'] } }, expect: ['completeError'] },
];
const RUN = args.only ? SCENARIOS.filter((s) => args.only.split(',').includes(s.name)) : SCENARIOS;
if (RUN.length === 0) {
  console.error(`no scenario named ${args.only}; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const work = new WorkDir('lakehose-faults-', { keep: args.keep });  // kept when a scenario fails

// Whether this build's CLI has `lakehose dlq` (else the DeadLetters gRPC service is used).
let cliHasDlq = null;
async function cliDlqAvailable() {
  if (cliHasDlq === null) {
    const r = await run(CLI_BIN, ['dlq', '--help'], { timeoutMs: 10_000 });
    cliHasDlq = r.code === 0 && !/unknown command/.test(r.stderr);
  }
  return cliHasDlq;
}

// Lists the dead letters: with `lakehose dlq list --target T` when the CLI has it
// (entries: its non-empty, non-header stdout lines), else ListDeadLetters over gRPC.
// Resolves {via, entries: [...], raw}.
async function dlqList(target, clients) {
  if (await cliDlqAvailable()) {
    const r = await run(CLI_BIN, ['dlq', 'list', '--target', target], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`lakehose dlq list --target ${target} exited ${r.code}: ${r.stderr}`);
    // A table (header "ID KIND PIPELINE ...", one row per entry) on stdout, and
    // "lakehose dlq list: N entries" on stderr.
    const text = r.stdout;
    const entries = text.split('\n').filter((l) => l.trim() !== '' && !/^ID\s+KIND\b/.test(l));
    const m = /lakehose dlq list: (\d+) entries/.exec(r.stderr);
    if (m) assert.equal(Number(m[1]), entries.length, `lakehose dlq list: the count on stderr and the table disagree:\n${text}${r.stderr}`);
    return { via: 'cli', entries, raw: text };
  }
  const entries = [];
  let token = '';
  for (let page = 0; page < 1000; page++) {
    const resp = await unary(clients.deadLetters, 'ListDeadLetters', { page_size: 1000, page_token: token }, 30_000);
    entries.push(...resp.entries);
    token = resp.next_page_token;
    if (!token) break;
  }
  return { via: 'grpc', entries, raw: JSON.stringify(entries) };
}

// Polls `lakehose dlq list` until pred(entries) holds; bounded. Resolves the last listing.
async function waitForDlq(target, clients, pred, budgetMs, what) {
  const end = Date.now() + budgetMs;
  let last = null;
  for (;;) {
    last = await dlqList(target, clients);
    if (pred(last.entries)) return last;
    if (Date.now() > end) throw new Error(`${what}: not within ${budgetMs} ms; dlq list (${last.via}):\n${last.raw}`);
    await sleep(500);
  }
}

async function scenario(sc, t) {
  const dir = join(work.path, sc.name);
  mkdirSync(dir, { recursive: true });
  const note = (s) => { t.diagnostic(s); console.log(`[${sc.name}] ${s}`); };
  const front = await startS3Front({ s3rverDir: join(dir, 's3rver') });
  work.defer(() => front.close());
  const compression = sc.compression ?? 'gzip';
  const cfgPath = join(dir, 'lakehose.yaml');
  writeFileSync(cfgPath, configYaml({
    dataDir: join(dir, 'var'),
    writerId: `faults-${sc.name}`,
    pipeline: PIPELINE,
    dest: { kind: 's3', endpoint: front.endpoint, partSizeMb: sc.partSizeMb, retry: S3_RETRY },
    compression,
    sizeMb: sc.sizeMb,
    intervalS: 1,
    partitioned: sc.partitioned ?? true,
    serverLines: SERVER_LINES,
  }));
  const server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env: serverEnv(dir), name: 'server' });
  work.defer(() => server.kill());
  let clients = null;
  try {
    await server.waitForPort(20_000);
    clients = clientsFor(server.target);
    await waitForReady(clients.ingestor);
    const gen = await generate(CLI_BIN, sc.records, 77e12 + SCENARIOS.indexOf(sc));
    const acked = new Set();
    const sent = new Set(gen.ids);

    const faultsOnAt = Date.now();
    front.setFaults({ ...sc.faults, seed: 4242 + SCENARIOS.indexOf(sc) });

    // Ingest: answered from the WAL whatever S3 does.
    const t0 = Date.now();
    const errors = {};
    let cursor = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (cursor < gen.ids.length) {
        const from = cursor;
        const to = Math.min(from + BATCH, gen.ids.length);
        cursor = to;
        const r = await ingestOnce(clients.ingestor, PIPELINE, gen, from, to, acked, { tag: `w${w}`, deadlineMs: RPC_DEADLINE_MS });
        if (r.error) {
          const n = statusName(r.error.code);
          errors[n] = (errors[n] ?? 0) + 1;
          if (r.error.code === 8) await sleep(1000);  // RESOURCE_EXHAUSTED: back off; never re-sent
        }
      }
    }));
    note(`ingest: ${acked.size}/${sc.records} acked in ${Date.now() - t0} ms, errors ${JSON.stringify(errors)}`);
    assert.deepEqual(Object.keys(errors).filter((k) => k !== 'RESOURCE_EXHAUSTED'), [], `Ingest failed under S3 faults: ${JSON.stringify(errors)}`);

    // The outage: Flush cannot succeed; the DLQ fills; then heal.
    let dlqPeak = 0;
    if (sc.outage) {
      try {
        await flush(clients.ingestor, PIPELINE, 60_000);
        assert.fail('Flush answered OK during a 100% 503 outage');
      } catch (err) {
        if (err.code === undefined) throw err;
        note(`flush during the outage: ${statusName(err.code)} ${err.details}`);
        assert.equal(err.code, 14, `Flush during the outage: expected UNAVAILABLE, got ${statusName(err.code)} ${err.details}`);
      }
      const filled = await waitForDlq(server.target, clients, (e) => e.length > 0, DLQ_FILL_BUDGET_MS, 'the DLQ to receive the objects that ran out of their budget');
      dlqPeak = filled.entries.length;
      // What the gRPC service says about them.
      const listed = await unary(clients.deadLetters, 'ListDeadLetters', { pipeline: PIPELINE, page_size: 1000 });
      assert.ok(listed.entries.length > 0, 'ListDeadLetters is empty while `lakehose dlq list` is not');
      for (const e of listed.entries) {
        assert.equal(e.kind, 'DELIVERY', `entry ${e.id}: kind`);
        assert.equal(e.pipeline, PIPELINE, `entry ${e.id}: pipeline`);
        assert.ok(Number(e.records) > 0 && e.key.startsWith(`${PIPELINE}/`), `entry ${e.id}: ${JSON.stringify(e)}`);
        assert.ok(e.attempts >= 1 && /SlowDown|503/.test(e.last_error), `entry ${e.id}: attempts ${e.attempts}, last error ${e.last_error}`);
      }
      const wait = OUTAGE_MIN_MS - (Date.now() - faultsOnAt);
      if (wait > 0) await sleep(wait);
      const more = await dlqList(server.target, clients);
      dlqPeak = Math.max(dlqPeak, more.entries.length);
      note(`outage of ${Date.now() - faultsOnAt} ms: ${dlqPeak} DLQ entries (via ${filled.via}), e.g. ${filled.entries[0]}; ` +
        `${server.eventsNamed('delivery.dead_lettered').length} delivery.dead_lettered events`);
      // The metrics show it: the depth, what was added, and S3 counted as throttled.
      const during = await server.scrape();
      const depth = during.value('lakehose_dlq_depth', { kind: 'delivery' });
      assert.ok(depth > 0, `lakehose_dlq_depth{kind="delivery"} during the outage: ${depth}`);
      assert.ok(during.value('lakehose_dlq_added_total', { pipeline: PIPELINE, kind: 'delivery' }) >= depth, 'lakehose_dlq_added_total');
      assert.ok(during.value('lakehose_dlq_oldest_entry_age_seconds') > 0, 'lakehose_dlq_oldest_entry_age_seconds');
      assert.ok(during.value('lakehose_s3_requests_total', { outcome: 'throttled' }) > 0, 'S3 503 SlowDown counted as throttled');
      note(`metrics during the outage: dlq_depth ${depth}, s3 throttled ${during.value('lakehose_s3_requests_total', { outcome: 'throttled' })}`);
      front.setFaults({});
      note('healed');
    }

    // Flush until it answers OK (objects still failing make it answer UNAVAILABLE).
    const f0 = Date.now();
    let flushed = null;
    let attempts = 0;
    while (!flushed) {
      attempts++;
      try {
        flushed = await flush(clients.ingestor, PIPELINE, FLUSH_BUDGET_MS);
      } catch (err) {
        if (err.code === undefined) throw err;
        assert.ok(Date.now() - f0 < FLUSH_BUDGET_MS, `Flush never answered OK within ${FLUSH_BUDGET_MS} ms: ${statusName(err.code)} ${err.details}`);
        note(`flush: ${statusName(err.code)} ${err.details}; retrying`);
        await sleep(1000);
      }
    }
    note(`flush OK after ${attempts} attempt(s), ${Date.now() - f0} ms: ${flushed.objects.length} objects`);

    // The dead-letter queue drains (the retry worker; under the fault, for a..c and e).
    const d0 = Date.now();
    const drained = await waitForDlq(server.target, clients, (e) => e.length === 0, DLQ_DRAIN_BUDGET_MS, 'the DLQ to drain');
    note(`DLQ empty after ${Date.now() - d0} ms (via ${drained.via}); dlq.delivered events ${server.eventsNamed('dlq.delivered').length}, ` +
      `delivery.dead_lettered ${server.eventsNamed('delivery.dead_lettered').length}, dlq.retry_failed ${server.eventsNamed('dlq.retry_failed').length}`);
    if (sc.outage) {
      assert.ok(server.eventsNamed('delivery.dead_lettered').length > 0, 'no delivery.dead_lettered logged during the outage');
      assert.ok(server.eventsNamed('dlq.delivered').length > 0, 'no dlq.delivered logged after healing');
      const after = await server.scrape();
      assert.equal(after.value('lakehose_dlq_depth'), 0, 'lakehose_dlq_depth after the drain');
      assert.ok(after.value('lakehose_dlq_delivered_total', { pipeline: PIPELINE }) > 0, 'lakehose_dlq_delivered_total after the drain');
    }
    {
      // Every injected fault shows up as a non-ok S3 outcome, and every object as an ok one.
      const m = await server.scrape();
      if (sc.faults.latencyMs) {
        const slow = m.value('lakehose_s3_request_duration_seconds_count') - m.value('lakehose_s3_request_duration_seconds_bucket', { le: '1' });
        assert.ok(slow > 0, `S3 requests slower than 1 s in lakehose_s3_request_duration_seconds: ${slow}`);
      } else {
        const notOk = m.value('lakehose_s3_requests_total') - m.value('lakehose_s3_requests_total', { outcome: 'ok' });
        assert.ok(notOk > 0, `the faults of ${sc.name} are counted in lakehose_s3_requests_total: ${notOk}`);
      }
      assert.ok(m.value('lakehose_objects_written_total', { pipeline: PIPELINE }) > 0, 'lakehose_objects_written_total');
    }

    front.setFaults({});
    clients.close();
    // Hundreds of failed, retried and signed requests later, no secret is in the log.
    const log = readFileSync(server.logFile, 'utf8');
    assert.ok(!log.includes(TEST_CREDENTIALS.secretAccessKey), 'the secret access key appears in the server log');
    clients = null;
    const exit = await server.stop(60_000);
    assert.deepEqual(exit, { code: 0, signal: null }, `lakehose-server on SIGTERM:\n${server.tail()}`);

    // The bucket.
    const lake = await readLake({ root: join(dir, 'downloaded'), pipeline: PIPELINE, compression, front });
    const v = verdict(lake, acked, sent);
    const s = front.stats();
    note(`lake: ${lake.objects} objects, ${lake.lines} lines, ${lake.counts.size} distinct eventIDs; acked ${acked.size}; ` +
      `missing ${v.missing.length}, duplicates ${v.duplicates.length}, never sent ${v.strangers.length}`);
    note(`front: ${s.requests} requests ${JSON.stringify(s.byOperation)}, statuses ${JSON.stringify(s.byStatus)}, injected ${JSON.stringify(s.injected)}, ` +
      `uploads ${JSON.stringify(s.uploads)}, open uploads ${s.openUploads.length}, rejected ${JSON.stringify(s.rejected)}`);
    assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0,
      `${sc.name}: the bucket does not hold every acked record exactly once:\n${describeVerdict(v, lake)}`);
    assert.equal(lake.unexpected.length, 0, `unexpected objects: ${lake.unexpected.slice(0, 5)}`);
    assert.equal(acked.size, sc.records, 'every record acked');
    assert.equal(s.signatureRejections, 0, `signature rejections: ${JSON.stringify(s.lastRejections, null, 1)}`);
    assert.equal(s.authRejections, 0, `auth rejections: ${JSON.stringify(s.lastRejections, null, 1)}`);
    const { PreconditionFailed, ...otherRejections } = s.rejected;
    assert.deepEqual(otherRejections, {}, `requests the front refused: ${JSON.stringify(s.lastRejections, null, 1)}`);
    for (const k of sc.expect) assert.ok((s.injected[k] ?? 0) > 0, `no ${k} was injected: ${JSON.stringify(s.injected)}`);
    if (sc.partSizeMb) {
      assert.ok(s.uploads.completed > 0, `no multipart upload completed: ${JSON.stringify(s.uploads)}`);
      assert.ok(lake.objects >= 2, 'expected at least two multipart objects');
    }
    if (sc.faults.resetAfter) note(`412 answers (a retried store that had landed): ${s.byStatus['412'] ?? 0}`);
  } catch (err) {
    work.fail();
    err.message += `\n-- server log: ${server.logFile} (kept)\n-- last server output:\n${server.tail(25)}`;
    throw err;
  } finally {
    clients?.close();
    await server.kill().catch(() => {});
    await front.close();
  }
}

describe('fault matrix through the S3 front: nothing lost, nothing twice', { timeout: SCENARIO_TIMEOUT_MS * RUN.length + 60_000 }, () => {
  after(() => work.close());
  it('`lakehose dlq` is available (else ListDeadLetters over gRPC is used)', async (t) => {
    const has = await cliDlqAvailable();
    t.diagnostic(has ? 'lakehose dlq list is used' : 'NOTE: this lakehose has no `dlq` command; the DeadLetters gRPC service is used instead');
  });
  for (const sc of RUN) {
    it(`${sc.name}: ${JSON.stringify(sc.faults)}`, { timeout: SCENARIO_TIMEOUT_MS }, (t) => scenario(sc, t));
  }
});
