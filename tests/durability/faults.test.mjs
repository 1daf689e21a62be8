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
//                    longer than the budget), Flush answers UNAVAILABLE (once every object
//                    is dead-lettered); then heal: Flush (which stores the pipeline's DLQ
//                    entries) and the DLQ retry worker drain the queue
//   e. multipart     objects of 16 MB in 5 MiB parts (compression none), half of the
//                    CompleteMultipartUpload calls answered 200 with an <Error> body
//
// Each: Ingest records (acked eventIDs recorded), Flush (retried, bounded, until it
// answers OK), wait (bounded) until `lakehose dlq list --target ...` is empty, SIGTERM
// (exit 0), then every acked record must be in the bucket exactly once and nothing else.
//
// Outages under continuous load (issue 13; see loadScenario below for every bound and why):
//
//   f. outage-load-503    8 senders ingest for D s with S3 healthy (phase A), then for D s
//                         while the front answers 503 SlowDown to everything (phase B);
//   g. outage-load-reset  the same with every connection reset (phase B);
//                         then the front heals and the backlog must drain.
//
// One server each: buffer_budget_mb 64, dlq.delivery_retry_budget_s 3, 4 MB / 1 s buffers
// (objects seal about every second), the S3 client's default retry policy; the front runs
// in a process of its own (switched over POST /__faults), so that its work with S3 healthy
// does not slow this process's senders. Asserted:
//   (a) Ingest acked in B at least 95% of what it acked in A (unless the disk refused),
//       both phases offering the same load: 80% of the capacity an unpaced 5 s run measured
//       first (--full-rate: unpaced, which on a shared 2-core machine varies by 10%);
//   (b) VmRSS (/proc/PID/status, every 250 ms) never above idle + 64 MB budget + 64 MB;
//   (c) every sealed object left memory (stored, or on disk in the DLQ) within budget +
//       5 s of its seal: lakehose_delivery_oldest_sealed_age_seconds sampled every 250 ms
//       (a missing metric fails the check), and lakehose_oldest_unflushed_record_age_seconds
//       within interval + 1 + budget + 5 s, the DLQ depth growing during B, and
//       delivery.dead_lettered events with reason=destination_down;
//   (d) within the drain time after healing (60 s + max(60 s, D): Flush OK, DLQ empty), the bucket holds
//       every acked record exactly once, and lakehose_dlq_delivered_total rose by the
//       entries added (each delivered, and counted, once);
//   (e) the breaker opened and closed again (lakehose_destination_down{destination} and
//       _breaker_transitions_total{to}, or the first cut's lakehose_destinations_down and
//       _breaker_opened_total).
// Measured figures (acked A vs B, rate with the breaker open, RSS idle/max, oldest sealed
// age, DLQ depth, breaker timings, drain time, CPU) are printed as notes, and every sample
// is kept in <work>/<scenario>/samples.json (kept with --keep or on failure).
// D is 20 s by default (the pair takes about 3-4 minutes); --outage-seconds 60 runs the
// issue's 60 s phases; --budget-mb sets another buffer_budget_mb (the RSS bound follows).
//
//   node tests/durability/faults.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--only NAME,NAME] [--outage-seconds S] [--budget-mb MB] [--full-rate] [--keep]
//
// (LAKEHOSE_SERVER / LAKEHOSE_CLI work too.) Every wait is bounded.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ServerProcess, WorkDir, generate, run, serverEnv, sleep, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, flush, ingestOnce, statusName, unary, waitForReady } from '../lib/grpc.mjs';
import { configYaml, describeVerdict, readLake, verdict } from '../lib/lake.mjs';
import { OUTAGES, TEST_CREDENTIALS, assertFrontAccepted, startS3Front, uriEncode } from '../lib/s3_front.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { only: { type: 'string' }, 'outage-seconds': { type: 'string' }, 'budget-mb': { type: 'string' }, 'full-rate': { type: 'boolean' }, keep: { type: 'boolean' } },
  usage: '[--only NAME,...] [--outage-seconds S] [--budget-mb MB] [--full-rate] [--keep]',
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

// ---- outages under continuous load (f, g) ----------------------------------------------

const OUTAGE_S = Number(args['outage-seconds'] ?? 20);
const BUDGET_MB = Number(args['budget-mb'] ?? 64);
if (!(OUTAGE_S >= 5 && OUTAGE_S <= 3600) || !(BUDGET_MB >= 16 && BUDGET_MB <= 65536)) {
  console.error(`--outage-seconds must be in [5, 3600] and --budget-mb in [16, 65536]: ${args['outage-seconds']}, ${args['budget-mb']}`);
  process.exit(2);
}
const LOAD = Object.freeze({
  senders: 8,
  batch: 500,
  pool: 20_000,             // generated records, re-sent with fresh eventIDs
  budgetMb: BUDGET_MB,      // server.buffer_budget_mb (64 unless --budget-mb)
  retryBudgetS: 3,          // server.dlq.delivery_retry_budget_s
  sizeMb: 4,                // buffering.size_mb: with interval_s 1, objects seal about every second
  intervalS: 1,
  // RSS above idle + budget: gRPC's buffers for the 8 requests in flight and their parsed
  // copies (8 x ~0.4 MB, x3), the upload threads' encoded bodies (4 x a 4 MB object and
  // its gzip), the DLQ's write buffers, and the allocator's slack (glibc arenas keep freed
  // pages per thread). The README's capacity section measured under 64 MB of such buffers
  // with a 64 MB budget against a stalled S3 with Ingest refused (peak 148 MB = idle 25 +
  // 64 + 59); here Ingest goes on at full rate through the outage (16 workers with their
  // requests, objects written to the DLQ) and measured 75-87 MB above idle + budget (the
  // server capping glibc at one arena per core; 140-165 MB before). Stated: 96 MB.
  overheadMb: 96,
  ackRatio: 0.95,
  capacityS: 5,             // the unpaced run that measures what the server takes
  offeredShare: 0.8,        // the phases offer this share of it (unless --full-rate)
  fullRate: args['full-rate'] === true,
  sealedSlackS: 5,          // an object is on disk within retryBudgetS + this of its seal
  samplePeriodMs: 250,
  // After healing: the breaker's next probe is at most 60 s away (1 s doubling to 60 s),
  // then Flush and the DLQ's retry worker store the backlog, which grows with the outage
  // (measured: 410 objects of a 60 s outage stored in 28 s): 60 s + max(60 s, D).
  drainBudgetMs: (60 + Math.max(60, OUTAGE_S)) * 1000,
  refusalBackoffMs: 200,    // a sender's pause after RESOURCE_EXHAUSTED (never re-sent)
});
const LOAD_SCENARIOS = [
  { name: 'outage-load-503', outage: '503', expect: 'slowDown' },
  { name: 'outage-load-reset', outage: 'reset', expect: 'reset' },
];
const LOAD_TIMEOUT_MS = (4 * OUTAGE_S + 60) * 1000 + LOAD.drainBudgetMs + 120_000;
const OLDEST_SEALED = 'lakehose_delivery_oldest_sealed_age_seconds';

const ALL = [...SCENARIOS.map((s) => s.name), ...LOAD_SCENARIOS.map((s) => s.name)];
const only = args.only ? args.only.split(',') : null;
const RUN = only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
const RUN_LOAD = only ? LOAD_SCENARIOS.filter((s) => only.includes(s.name)) : LOAD_SCENARIOS;
if ((only ?? []).some((n) => !ALL.includes(n)) || RUN.length + RUN_LOAD.length === 0) {
  console.error(`no scenario named ${args.only}; scenarios: ${ALL.join(', ')}`);
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
    assertFrontAccepted(s);
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

// The records of a load run: record `seq` is pool record seq % pool size whose eventID's
// first 12 hex digits are replaced by seq, so that every record sent is distinct and
// whether an eventID was sent is computed, not stored (a run sends millions).
function loadSource(pool) {
  const n = pool.ids.length;
  for (let k = 0; k < n; k++) {
    assert.match(pool.ids[k], /^[0-9a-f]{32}$/, 'lakehose generate: eventIDs of 32 hex digits');
    assert.ok(pool.lines[k].includes(`"eventID":"${pool.ids[k]}"`), `record ${k}: no "eventID":"${pool.ids[k]}"`);
  }
  const idOf = (seq) => seq.toString(16).padStart(12, '0') + pool.ids[seq % n].slice(12);
  let next = 0;
  return {
    // The next `count` records: {lines, ids}, the shape ingestOnce takes.
    batch(count) {
      const lines = new Array(count);
      const ids = new Array(count);
      for (let j = 0; j < count; j++) {
        const seq = next++;
        ids[j] = idOf(seq);
        lines[j] = pool.lines[seq % n].replace(`"eventID":"${pool.ids[seq % n]}"`, `"eventID":"${ids[j]}"`);
      }
      return { lines, ids };
    },
    sent: () => next,
    idOf,
    // The sequence number of a sent eventID, else null.
    seqOf(id) {
      if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) return null;
      const seq = parseInt(id.slice(0, 12), 16);
      return seq < next && idOf(seq) === id ? seq : null;
    },
    // Whether `id` was sent (verdict()'s `sent`).
    has(id) { return this.seqOf(id) !== null; },
  };
}

// The acked eventIDs of a load run, as one bit per record sequence number: a Set of
// millions of strings would grow the test's own heap (and its GC pauses) phase after
// phase, slowing the later phase's senders. The Set's surface verdict() and ingestOnce()
// use: add, has, size, iteration.
class AckedSet {
  constructor(src) {
    this.src = src;
    this.bits = new Uint8Array(1 << 20);
    this.size = 0;
  }

  add(id) {
    const seq = this.src.seqOf(id);
    assert.ok(seq !== null, `acked an eventID that was never sent: ${id}`);
    if (seq >= this.bits.length * 8) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (seq >> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (seq & 7);
    if (!(this.bits[seq >> 3] & mask)) {
      this.bits[seq >> 3] |= mask;
      this.size++;
    }
    return this;
  }

  has(id) {
    const seq = this.src.seqOf(id);
    return seq !== null && seq < this.bits.length * 8 && (this.bits[seq >> 3] & (1 << (seq & 7))) !== 0;
  }

  *[Symbol.iterator]() {
    for (let seq = 0; seq < this.bits.length * 8; seq++) if (this.bits[seq >> 3] & (1 << (seq & 7))) yield this.src.idOf(seq);
  }
}

// LOAD.senders concurrent senders ingest fresh batches until `ms` have passed. Acks that
// arrive after the end still join `acked` (they must reach the lake) but not the phase's
// count. A refused batch is not re-sent (its records are simply never acked). Resolves
// {acked, requests, errors: {CODE: n}, refusals: {budget, disk}, sampleRefusal, maxLatencyMs,
// sumLatencyMs}.
// With `rate` (records/s), the senders together start batches on a fixed schedule (batch k
// at k * batch / rate s; a sender behind it sends at once), so that both phases offer the
// same load; without it every sender sends again as soon as its call returns.
async function sendFor(clients, src, acked, ms, tag, rate = null) {
  const start = Date.now();
  const end = start + ms;
  let issued = 0;
  const r = { acked: 0, requests: 0, errors: {}, refusals: { budget: 0, disk: 0 }, sampleRefusal: null, maxLatencyMs: 0, sumLatencyMs: 0 };
  await Promise.all(Array.from({ length: LOAD.senders }, async (_, w) => {
    for (let i = 0; Date.now() < end; i++) {
      if (rate) {
        const due = start + (issued++ * LOAD.batch * 1000) / rate;
        if (due >= end) break;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      const b = src.batch(LOAD.batch);
      const t0 = Date.now();
      const out = await ingestOnce(clients.ingestor, PIPELINE, b, 0, b.ids.length, acked, { tag: `${tag}${w}.${i}`, deadlineMs: RPC_DEADLINE_MS });
      const t1 = Date.now();
      r.requests++;
      r.maxLatencyMs = Math.max(r.maxLatencyMs, t1 - t0);
      r.sumLatencyMs += t1 - t0;
      if (!out.error) {
        if (t1 <= end) r.acked += out.ok;
        continue;
      }
      const name = statusName(out.error.code);
      r.errors[name] = (r.errors[name] ?? 0) + 1;
      if (out.error.code === 8) {
        // The budget's refusal names it; the WAL's names the disk (free-space floor, ENOSPC).
        if (/buffer budget/.test(out.error.details)) r.refusals.budget++;
        else r.refusals.disk++;
        r.sampleRefusal ??= out.error.details;
      }
      await sleep(LOAD.refusalBackoffMs);
    }
  }));
  return r;
}

// The S3 front and s3rver in a process of their own (s3_front.mjs run as a program), for
// the load runs: in this process their work (SigV4 checks, hashing every body, s3rver's
// writes) would share the senders' event loop with S3 healthy and not during the outage,
// and the ack-rate comparison would measure this test. Controlled over its unsigned
// endpoints (POST /__faults, GET /__stats); the bucket is read from s3rver directly.
// Resolves {endpoint, s3rverEndpoint, bucket, setOutage(mode), stats(), getObject(key),
// close()}.
const S3_FRONT_PROGRAM = fileURLToPath(new URL('../lib/s3_front.mjs', import.meta.url));
async function startFrontProcess(dir) {
  const portFile = join(dir, 'front.port');
  const infoFile = join(dir, 'front.json');
  const child = spawn(process.execPath, [S3_FRONT_PROGRAM, '--port-file', portFile, '--info-file', infoFile,
    '--s3rver-dir', join(dir, 's3rver'), '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr = (stderr + c).slice(-8192); });
  let exited = null;
  const exit = new Promise((r) => child.on('exit', (code, signal) => { exited = { code, signal }; r(exited); }));
  const close = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    let timer;
    const done = await Promise.race([exit, new Promise((r) => { timer = setTimeout(() => r(null), 10_000); })]);
    clearTimeout(timer);
    if (!done) { child.kill('SIGKILL'); await exit; }
  };
  for (const end = Date.now() + 20_000; !existsSync(portFile); await sleep(50)) {
    if (exited || Date.now() > end) {
      await close();
      throw new Error(`the S3 front did not start (${JSON.stringify(exited)}):\n${stderr}`);
    }
  }
  const info = JSON.parse(readFileSync(infoFile, 'utf8'));
  const control = async (method, path, body) => {
    const r = await fetch(`${info.endpoint}${path}`, {
      method, signal: AbortSignal.timeout(10_000),
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    assert.equal(r.status, 200, `${method} ${path} on the S3 front: ${text}`);
    return JSON.parse(text);
  };
  return {
    endpoint: info.endpoint,
    s3rverEndpoint: info.s3rverEndpoint,
    bucket: info.bucket,
    setOutage: (mode) => control('POST', '/__faults', OUTAGES[mode]),
    stats: () => control('GET', '/__stats'),
    // With node:http, not fetch: fetch would undo the objects' Content-Encoding: gzip.
    getObject: (key) => new Promise((resolveP, reject) => {
      const url = `${info.s3rverEndpoint}/${info.bucket}/${key.split('/').map(uriEncode).join('/')}`;
      const req = http.get(url, { timeout: 60_000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => (res.statusCode === 200 ? resolveP(Buffer.concat(chunks))
          : reject(new Error(`s3rver GET ${key}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`s3rver GET ${key}: no answer in 60 s`)));
      req.on('error', reject);
    }),
    close,
  };
}

// VmRSS of a process, in kB (null once it is gone).
function rssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// CPU time of a process (user + system), in seconds (null once it is gone). Fields 14 and
// 15 of /proc/PID/stat, after the command name in parentheses; clock ticks of 1/100 s
// (USER_HZ, 100 on Linux).
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

// The breaker's metrics, under the first cut's names (lakehose_destinations_down,
// lakehose_destination_breaker_opened_total) or the per-destination ones that replace them
// (lakehose_destination_down{destination}, ..._breaker_transitions_total{destination,to});
// null when neither is exported.
const downOf = (m) => m.value('lakehose_destinations_down') ?? m.value('lakehose_destination_down');
const openedOf = (m) => m.value('lakehose_destination_breaker_opened_total') ?? m.value('lakehose_destination_breaker_transitions_total', { to: 'open' });
const closedOf = (m) => m.value('lakehose_destination_breaker_transitions_total', { to: 'closed' });

// Samples the server every LOAD.samplePeriodMs until stop(): VmRSS first (independent of
// the scrape's latency), then /metrics. this.phase labels the samples.
function startSampler(server, acked) {
  const sampler = { phase: 'idle', samples: [], stopped: false };
  sampler.done = (async () => {
    while (!sampler.stopped) {
      const t0 = Date.now();
      const s = { t: t0, phase: sampler.phase, rss: rssKb(server.pid), cpu: cpuSeconds(server.pid), testCpu: cpuSeconds(process.pid), acked: acked.size };
      try {
        const m = await server.scrape(2_000);
        s.oldestSealed = m.value(OLDEST_SEALED);
        s.oldestUnflushed = m.value('lakehose_oldest_unflushed_record_age_seconds', { pipeline: PIPELINE });
        s.pending = m.value('lakehose_pending_bytes');
        s.dlqDepth = m.value('lakehose_dlq_depth', { kind: 'delivery' });
        s.down = downOf(m);
      } catch (err) {
        s.scrapeError = err.message;
      }
      sampler.samples.push(s);
      await sleep(Math.max(0, LOAD.samplePeriodMs - (Date.now() - t0)));
    }
  })();
  sampler.stop = async () => { sampler.stopped = true; await sampler.done; };
  return sampler;
}

const maxOf = (xs) => xs.reduce((a, x) => (x !== null && x !== undefined && (a === null || x > a) ? x : a), null);
const median = (xs) => { const v = xs.filter((x) => x !== null).sort((a, b) => a - b); return v.length ? v[Math.floor(v.length / 2)] : null; };
const mb = (kb) => (kb / 1024).toFixed(1);

// f, g: an outage under continuous load (header comment). Measures everything first,
// prints the figures as notes, then checks (a)-(e) and fails with every check that failed.
async function loadScenario(sc, t) {
  const dir = join(work.path, sc.name);
  mkdirSync(dir, { recursive: true });
  const note = (s) => { t.diagnostic(s); console.log(`[${sc.name}] ${s}`); };
  const front = await startFrontProcess(dir);
  work.defer(() => front.close());
  const cfgPath = join(dir, 'lakehose.yaml');
  writeFileSync(cfgPath, configYaml({
    dataDir: join(dir, 'var'),
    writerId: `faults-${sc.name}`,
    pipeline: PIPELINE,
    dest: { kind: 's3', endpoint: front.endpoint },  // the S3 client's default retry policy
    compression: 'gzip',
    sizeMb: LOAD.sizeMb,
    intervalS: LOAD.intervalS,
    serverLines: [
      '  shutdown_grace_s: 30',
      `  buffer_budget_mb: ${LOAD.budgetMb}`,
      `  dlq: { delivery_retry_budget_s: ${LOAD.retryBudgetS}, retry_base_ms: 200, retry_max_ms: 1000 }`,
    ],
  }));
  const server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env: serverEnv(dir), name: 'server' });
  work.defer(() => server.kill());
  let clients = null;
  let sampler = null;
  try {
    await server.waitForPort(20_000);
    clients = clientsFor(server.target);
    await waitForReady(clients.ingestor);
    const src = loadSource(await generate(CLI_BIN, LOAD.pool, 91e12 + LOAD_SCENARIOS.indexOf(sc)));
    const acked = new AckedSet(src);
    const freeAtStart = statfsSync(dir);
    note(`data_dir: ${(Number(freeAtStart.bavail) * Number(freeAtStart.bsize) / 2 ** 30).toFixed(1)} GiB free`);

    sampler = startSampler(server, acked);
    await sleep(1_500);
    const idleKb = median(sampler.samples.map((x) => x.rss));
    assert.ok(idleKb > 0, `no VmRSS for pid ${server.pid}`);

    // Capacity: the senders as fast as the server answers (S3 healthy). The phases then offer
    // LOAD.offeredShare of it, the same load in both; the ack-rate comparison is not at the
    // mercy of how the machine's cores are shared at the moment (a closed loop measured
    // 90-100% on the same 2-core machine). --full-rate sends as fast as possible instead.
    sampler.phase = 'capacity';
    const cap = await sendFor(clients, src, acked, LOAD.capacityS * 1000, 'c');
    const capacity = Math.round(cap.acked / LOAD.capacityS);
    const rate = LOAD.fullRate ? null : Math.max(LOAD.batch, Math.round(LOAD.offeredShare * capacity));
    note(`capacity (S3 healthy, ${LOAD.capacityS} s, senders unpaced): ${capacity} records/s; phases offer ` +
      `${rate === null ? 'as much as the server takes (--full-rate)' : `${rate}/s (${100 * LOAD.offeredShare}%)`}`);
    await flush(clients.ingestor, PIPELINE, 60_000);

    // Phase A: S3 healthy.
    sampler.phase = 'A';
    const a = await sendFor(clients, src, acked, OUTAGE_S * 1000, 'a', rate);
    note(`phase A (healthy, ${OUTAGE_S} s): ${a.acked} records acked (${Math.round(a.acked / OUTAGE_S)}/s) in ${a.requests} requests, ` +
      `errors ${JSON.stringify(a.errors)}, latency mean ${Math.round(a.sumLatencyMs / a.requests)} max ${a.maxLatencyMs} ms${a.sampleRefusal ? `; e.g. ${a.sampleRefusal}` : ''}`);
    const fa = Date.now();
    await flush(clients.ingestor, PIPELINE, 60_000);
    note(`flush after A: OK in ${Date.now() - fa} ms`);

    // Phase B: everything fails.
    const before = await server.scrape();
    const deadBefore = server.eventsNamed('delivery.dead_lettered').length;
    await front.setOutage(sc.outage);
    const outageAt = Date.now();
    sampler.phase = 'B';
    const b = await sendFor(clients, src, acked, OUTAGE_S * 1000, 'b', rate);
    note(`phase B (${sc.outage} to everything, ${OUTAGE_S} s): ${b.acked} records acked (${Math.round(b.acked / OUTAGE_S)}/s) in ${b.requests} requests, ` +
      `errors ${JSON.stringify(b.errors)}, latency mean ${Math.round(b.sumLatencyMs / b.requests)} max ${b.maxLatencyMs} ms${b.sampleRefusal ? `; e.g. ${b.sampleRefusal}` : ''}`);
    const deadInB = server.eventsNamed('delivery.dead_lettered').slice(deadBefore);
    const byReason = {};
    for (const e of deadInB) byReason[e.reason] = (byReason[e.reason] ?? 0) + 1;

    // Heal; the drain ends when Flush answers OK (every object stored, and the DLQ's
    // delivery entries with it) and `lakehose dlq list` is empty. While the breaker waits
    // for its probe, Flush answers UNAVAILABLE: retried every 500 ms, within the bound.
    await front.setOutage('none');
    const healAt = Date.now();
    sampler.phase = 'drain';
    let drainMs = null;
    let drainState = 'not checked';
    let flushes = 0;
    while (Date.now() - healAt < LOAD.drainBudgetMs) {
      flushes++;
      try {
        await flush(clients.ingestor, PIPELINE, Math.max(1_000, LOAD.drainBudgetMs - (Date.now() - healAt)));
        const listing = await dlqList(server.target, clients);
        if (listing.entries.length === 0) {
          drainMs = Date.now() - healAt;
          break;
        }
        drainState = `Flush OK, but ${listing.entries.length} DLQ entries, e.g. ${listing.entries[0]}`;
      } catch (err) {
        if (err.code === undefined) throw err;
        drainState = `Flush: ${statusName(err.code)} ${err.details}`;
      }
      await sleep(500);
    }
    note(drainMs !== null ? `drained (Flush OK after ${flushes} attempt(s), DLQ empty) ${drainMs} ms after healing`
      : `NOT drained within ${LOAD.drainBudgetMs} ms of healing: ${drainState}`);
    await sleep(2 * LOAD.samplePeriodMs);  // a sample of the breaker after the drain
    await sampler.stop();
    const end = await server.scrape();

    // The bucket, before stopping: what the drain delivered.
    const lake = await readLake({ root: join(dir, 'downloaded'), pipeline: PIPELINE, compression: 'gzip', front });
    const v = verdict(lake, acked, src);
    note(`lake: ${lake.objects} objects, ${lake.lines} lines, ${lake.counts.size} distinct eventIDs; acked ${acked.size} of ${src.sent()} sent; ` +
      `missing ${v.missing.length}, duplicates ${v.duplicates.length}, never sent ${v.strangers.length}, unacked present ${v.unackedPresent}`);

    clients.close();
    clients = null;
    const exit = await server.stop(60_000);

    // The figures (every sample kept in samples.json beside the server log).
    const S = sampler.samples;
    writeFileSync(join(dir, 'samples.json'), JSON.stringify({ outageAt, healAt, idleKb, samples: S }));
    const inPhase = (p) => S.filter((x) => x.phase === p);
    const rssMaxKb = maxOf(S.map((x) => x.rss));
    const rssLimitKb = idleKb + (LOAD.budgetMb + LOAD.overheadMb) * 1024;
    const phaseMax = (field) => Object.fromEntries(['A', 'B', 'drain'].map((p) => [p, maxOf(inPhase(p).map((x) => x[field]))]));
    const sealed = phaseMax('oldestSealed');
    const unflushed = phaseMax('oldestUnflushed');
    const pendingMax = maxOf(S.map((x) => x.pending));
    const bSamples = inPhase('B');
    const depthB = bSamples.map((x) => x.dlqDepth).filter((x) => x !== null);
    const firstDown = bSamples.find((x) => x.down >= 1);
    const drainSamples = inPhase('drain');
    const lastUp = drainSamples.findIndex((x, i) => drainSamples.slice(i).every((y) => y.down === 0));
    const gaps = S.slice(1).map((x, i) => x.t - S[i].t);
    // Ingest's rate once the breaker was open (the outage's steady state), against A's.
    const lastB = bSamples[bSamples.length - 1];
    const openRate = firstDown && lastB.t > firstDown.t ? Math.round((lastB.acked - firstDown.acked) / ((lastB.t - firstDown.t) / 1000)) : null;
    // The server's CPU per phase: busy fraction of one core, and microseconds per record acked.
    const cpuOf = (p) => {
      const xs = inPhase(p);
      if (xs.length < 2) return '-';
      const [x, y] = [xs[0], xs[xs.length - 1]];
      const busy = (y.cpu - x.cpu) / ((y.t - x.t) / 1000);
      const mine = (y.testCpu - x.testCpu) / ((y.t - x.t) / 1000);
      return `${(100 * busy).toFixed(0)}% of a core, ${y.acked > x.acked ? Math.round(1e6 * (y.cpu - x.cpu) / (y.acked - x.acked)) : '-'} us/record ` +
        `(this test's process: ${(100 * mine).toFixed(0)}%)`;
    };
    const scrapeErrors = S.filter((x) => x.scrapeError).length;
    note(`acked: A ${a.acked}, B ${b.acked} (${a.acked ? (100 * b.acked / a.acked).toFixed(1) : '-'}% of A; need ${100 * LOAD.ackRatio}%); ` +
      `refused A ${JSON.stringify(a.refusals)}, B ${JSON.stringify(b.refusals)}; rate with the breaker open ${openRate ?? '-'}/s against A's ${Math.round(a.acked / OUTAGE_S)}/s; ` +
      `server CPU A ${cpuOf('A')}, B ${cpuOf('B')}`);
    note(`RSS: idle ${mb(idleKb)} MB, max ${mb(rssMaxKb)} MB (+${mb(rssMaxKb - idleKb)} MB; limit idle + ${LOAD.budgetMb} + ${LOAD.overheadMb} = ${mb(rssLimitKb)} MB); ` +
      `max per phase ${JSON.stringify(Object.fromEntries(['A', 'B', 'drain'].map((p) => [p, mb(maxOf(inPhase(p).map((x) => x.rss)) ?? 0)])))} MB; ` +
      `pending_bytes max ${pendingMax === null ? '-' : mb(pendingMax / 1024)} MB of ${LOAD.budgetMb} ` +
      `(per phase ${JSON.stringify(Object.fromEntries(Object.entries(phaseMax('pending')).map(([p, x]) => [p, mb((x ?? 0) / 1024)])))})`);
    note(`oldest sealed age (${OLDEST_SEALED}) max per phase: ${JSON.stringify(sealed)} s (limit ${LOAD.retryBudgetS + LOAD.sealedSlackS} s); ` +
      `oldest unflushed record age max per phase: ${JSON.stringify(unflushed)} s (limit ${LOAD.intervalS + 1 + LOAD.retryBudgetS + LOAD.sealedSlackS} s)`);
    note(`DLQ during B: depth ${depthB[0] ?? '-'} -> ${depthB[depthB.length - 1] ?? '-'} (peak ${maxOf(S.map((x) => x.dlqDepth)) ?? '-'}); ` +
      `delivery.dead_lettered in B by reason ${JSON.stringify(byReason)}; dlq_added_total ${before.value('lakehose_dlq_added_total') ?? 0} -> ${end.value('lakehose_dlq_added_total') ?? 0}, ` +
      `dlq_delivered_total ${end.value('lakehose_dlq_delivered_total') ?? 0}, dlq.delivered events ${server.eventsNamed('dlq.delivered').length}`);
    note(`breaker: opened ${firstDown ? `${((firstDown.t - outageAt) / 1000).toFixed(1)} s after the outage began` : 'never (sampled)'}, ` +
      `closed ${lastUp >= 0 ? `${((drainSamples[lastUp].t - healAt) / 1000).toFixed(1)} s after healing` : 'never (sampled)'}; ` +
      `times opened ${openedOf(end)}, closed ${closedOf(end) ?? '(not exported)'}, down now ${downOf(end)}`);
    note(`drain: ${drainMs === null ? `not within ${LOAD.drainBudgetMs} ms` : `${drainMs} ms`} (stated bound ${LOAD.drainBudgetMs} ms); ` +
      `sampling: ${S.length} samples, max gap ${maxOf(gaps)} ms, ${scrapeErrors} failed scrapes`);
    const fstats = await front.stats();
    note(`front: ${fstats.requests} requests, statuses ${JSON.stringify(fstats.byStatus)}, injected ${JSON.stringify(fstats.injected)}, rejected ${JSON.stringify(fstats.rejected)}`);

    // The checks, all of them, then one failure naming every one that failed.
    const failed = [];
    const check = (ok, what) => { if (!ok) failed.push(what); };
    const other = (e) => Object.keys(e).filter((k) => k !== 'RESOURCE_EXHAUSTED');
    check(other(a.errors).length === 0 && other(b.errors).length === 0,
      `Ingest answered errors other than RESOURCE_EXHAUSTED: A ${JSON.stringify(a.errors)}, B ${JSON.stringify(b.errors)}`);
    check(a.acked > 0, 'phase A acked nothing');
    // (a)
    if (b.refusals.disk > 0) {
      note(`(a) NOT CHECKED: the disk refused ${b.refusals.disk} requests in B (${b.sampleRefusal}); "disk permitting" does not hold here`);
    } else {
      check(b.acked >= LOAD.ackRatio * a.acked,
        `(a) Ingest acked ${b.acked} records during the outage, under ${100 * LOAD.ackRatio}% of the ${a.acked} acked with S3 healthy ` +
        `(refused for the budget in B: ${b.refusals.budget} requests, e.g. ${b.sampleRefusal})`);
    }
    // (b)
    check(rssMaxKb !== null && rssMaxKb <= rssLimitKb,
      `(b) VmRSS reached ${mb(rssMaxKb)} MB, above idle ${mb(idleKb)} + budget ${LOAD.budgetMb} + overhead ${LOAD.overheadMb} MB = ${mb(rssLimitKb)} MB`);
    // (c)
    const sealedLimit = LOAD.retryBudgetS + LOAD.sealedSlackS;
    if (S.every((x) => x.oldestSealed === null || x.oldestSealed === undefined)) {
      failed.push(`(c) this server does not export ${OLDEST_SEALED} (issue 13's delivery metrics): the time from seal to disk cannot be checked ` +
        'directly; the fallbacks below still ran');
    } else {
      check(maxOf(S.map((x) => x.oldestSealed)) <= sealedLimit,
        `(c) a sealed object stayed in memory ${maxOf(S.map((x) => x.oldestSealed))} s after its seal, over budget ${LOAD.retryBudgetS} + ${LOAD.sealedSlackS} s ` +
        `(max per phase ${JSON.stringify(sealed)})`);
    }
    const unflushedLimit = LOAD.intervalS + 1 + sealedLimit;
    check(maxOf(S.map((x) => x.oldestUnflushed)) <= unflushedLimit,
      `(c) the oldest record in memory (buffered or sealed) was ${maxOf(S.map((x) => x.oldestUnflushed))} s old, over interval ${LOAD.intervalS} + tick 1 + ` +
      `budget ${LOAD.retryBudgetS} + ${LOAD.sealedSlackS} s (max per phase ${JSON.stringify(unflushed)})`);
    check(depthB.length > 1 && depthB[depthB.length - 1] > depthB[0],
      `(c) lakehose_dlq_depth did not grow during the outage: ${depthB[0]} -> ${depthB[depthB.length - 1]}`);
    check((byReason.destination_down ?? 0) > 0, `(c) no delivery.dead_lettered with reason=destination_down during the outage: ${JSON.stringify(byReason)}`);
    // (d)
    check(drainMs !== null, `(d) not drained within ${LOAD.drainBudgetMs} ms of healing: ${drainState}`);
    check(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0,
      `(d) the bucket does not hold every acked record exactly once:\n${describeVerdict(v, lake)}`);
    check(lake.unexpected.length === 0, `(d) unexpected objects: ${lake.unexpected.slice(0, 5)}`);
    check(end.value('lakehose_dlq_depth') === 0, `(d) lakehose_dlq_depth after the drain: ${end.value('lakehose_dlq_depth')}`);
    // Nothing expires or is purged here: each entry added is delivered once, and counted once
    // (a second store of an entry gets 412 and must not count as a second delivery).
    const added = (end.value('lakehose_dlq_added_total') ?? 0) - (before.value('lakehose_dlq_added_total') ?? 0);
    const delivered = (end.value('lakehose_dlq_delivered_total') ?? 0) - (before.value('lakehose_dlq_delivered_total') ?? 0);
    check(delivered === added, `(d) lakehose_dlq_delivered_total rose by ${delivered} for ${added} entries added (dlq.delivered events: ` +
      `${server.eventsNamed('dlq.delivered').length}; an entry stored by Flush and by the retry worker counts twice?)`);
    // (e)
    check(firstDown !== undefined, '(e) the breaker was never seen open during the outage (lakehose_destinations_down sampled every 250 ms)');
    check((openedOf(end) ?? 0) >= 1, `(e) the breaker's opened count (lakehose_destination_breaker_opened_total or _transitions_total{to="open"}): ${openedOf(end)}`);
    check(downOf(end) === 0, `(e) the breaker did not close after healing: lakehose_destination(s)_down ${downOf(end)}`);
    if (closedOf(end) !== null) check(closedOf(end) >= 1, `(e) lakehose_destination_breaker_transitions_total{to="closed"}: ${closedOf(end)}`);
    // The run itself.
    check((fstats.injected[sc.expect] ?? 0) > 0, `no ${sc.expect} was injected: ${JSON.stringify(fstats.injected)}`);
    const { PreconditionFailed, ...otherRejections } = fstats.rejected;
    check(Object.keys(otherRejections).length === 0, `requests the front refused: ${JSON.stringify(fstats.lastRejections, null, 1)}`);
    check(!readFileSync(server.logFile, 'utf8').includes(TEST_CREDENTIALS.secretAccessKey), 'the secret access key appears in the server log');
    check(exit.code === 0 && exit.signal === null, `lakehose-server on SIGTERM: ${JSON.stringify(exit)}\n${server.tail()}`);
    if (failed.length > 0) assert.fail(`${sc.name}: ${failed.length} check(s) failed:\n- ${failed.join('\n- ')}`);
  } catch (err) {
    work.fail();
    err.message += `\n-- server log: ${server.logFile} (kept)\n-- last server output:\n${server.tail(25)}`;
    throw err;
  } finally {
    await sampler?.stop();
    clients?.close();
    await server.kill().catch(() => {});
    await front.close();
  }
}

describe('fault matrix through the S3 front: nothing lost, nothing twice', { timeout: SCENARIO_TIMEOUT_MS * RUN.length + LOAD_TIMEOUT_MS * RUN_LOAD.length + 60_000 }, () => {
  after(() => work.close());
  it('`lakehose dlq` is available (else ListDeadLetters over gRPC is used)', async (t) => {
    const has = await cliDlqAvailable();
    t.diagnostic(has ? 'lakehose dlq list is used' : 'NOTE: this lakehose has no `dlq` command; the DeadLetters gRPC service is used instead');
  });
  for (const sc of RUN) {
    it(`${sc.name}: ${JSON.stringify(sc.faults)}`, { timeout: SCENARIO_TIMEOUT_MS }, (t) => scenario(sc, t));
  }
  for (const sc of RUN_LOAD) {
    it(`${sc.name}: ${LOAD.senders} senders, ${OUTAGE_S} s healthy then ${OUTAGE_S} s of ${sc.outage} to everything, then healed`,
      { timeout: LOAD_TIMEOUT_MS }, (t) => loadScenario(sc, t));
  }
});
