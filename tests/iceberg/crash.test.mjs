// Crash test on an Iceberg table: ack means committed once, and a crash never commits a
// data file twice. For each destination (the file lake; S3 through the verifying front,
// with faults: 503 SlowDown, 500, connection resets before and after the write reached the
// bucket, 0-20 ms latency, so that a metadata PUT's outcome is sometimes unknown),
// lakehose-server runs one dynamodb-stream pipeline with `format: iceberg`, tiny buffers
// (size_mb 0.01 per partition-key values, 0.05 on S3; interval_s 1) and commit_interval_s 1, so
// objects are sealed, stored and committed all the time; a gRPC
// client sends Ingest batches of generated records (a new seed per cycle: every eventID
// is unique) and keeps the acked eventIDs; some cycles fire a Flush; SIGKILL at a random
// moment 500-3000 ms after the server serves (one cycle in seven 20-250 ms after spawn,
// during start-up and WAL replay); restart on the same data_dir; the client never
// re-sends. After --cycles cycles: a last start, Flush, SIGTERM (exit 0), then:
//
//   - checkTable (../lib/iceberg.mjs): no data file live twice in any snapshot, counts,
//     sizes, sequence numbers, snapshot ids, manifests decoded by avsc and python3-avro;
//   - the current snapshot's live data files (DuckDB) hold every acked eventID exactly
//     once, no eventID twice, nothing never sent;
//   - icebird reads the same number of rows, no eventID twice;
//   - the server never died on its own; on S3, the front refused no signature.
// On S3 the second cycle also begins with a 3 s outage (503 to everything): objects sealed
// then go to the dead-letter queue (delivery_retry_budget_s 2), whose retry worker stores
// and commits them after the front heals, or the next start's final Flush does.
// The S3 bucket is downloaded from s3rver first and read as the file lake is (its s3://
// locations mapped to the copy).
//
//   node tests/iceberg/crash.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--cycles 5] [--dest file|s3|both] [--seed N] [--batch 200] [--concurrency 3] [--budget-s 240] [--keep]
//
// (The 20 cycles: --cycles 20.) Every wait is bounded; a failed run keeps its
// directory (server.log of every start, acked.txt, sent.txt, the lake).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { ServerProcess, WorkDir, generate, serverEnv, sleep, suiteArgs, withTimeout } from '../lib/harness.mjs';
import { clientsFor, flush, flushRetrying, startSenders, statusName, waitForReady } from '../lib/grpc.mjs';
import { checkTable, currentRecords, mirrorS3, readWithIcebird, withTableServer } from '../lib/iceberg.mjs';
import { configYaml, describeVerdict, downloadBucket, verdict } from '../lib/lake.mjs';
import { assertFrontAccepted, prng, startS3Front } from '../lib/s3_front.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: {
    cycles: { type: 'string' }, dest: { type: 'string' }, seed: { type: 'string' }, batch: { type: 'string' },
    concurrency: { type: 'string' }, 'budget-s': { type: 'string' }, keep: { type: 'boolean' },
  },
  usage: '[--cycles 5] [--dest file|s3|both] [--seed N] [--batch 200] [--concurrency 3] [--budget-s 240] [--keep]',
});
const CYCLES = Number(args.cycles ?? 5);
const SEED = Number(args.seed ?? (Date.now() % 1_000_000));
const DESTS = (args.dest ?? 'both') === 'both' ? ['file', 's3'] : [args.dest];
if (!(CYCLES >= 1) || !(Number.isInteger(SEED) && SEED >= 0 && SEED < 1e6) || !DESTS.every((d) => d === 'file' || d === 's3')) {
  console.error('--cycles: at least 1; --seed: 0 <= N < 1000000; --dest: file, s3 or both');
  process.exit(2);
}
const BATCH = Number(args.batch ?? 200);
const CONCURRENCY = Number(args.concurrency ?? 3);
const BUDGET_MS = Number(args['budget-s'] ?? 240) * 1000;
const RECORDS_PER_CYCLE = 30_000;  // more than a cycle sends; the rest is never sent
const PIPELINE = 'dur';
const RPC_DEADLINE_MS = 15_000;
const PORT_TIMEOUT_MS = 30_000;
const SENDERS_SETTLE_MS = RPC_DEADLINE_MS + 5_000;
const FINAL_FLUSH_MS = 120_000;
const EXIT_TIMEOUT_MS = 60_000;

const work = new WorkDir('lakehose-iceberg-crash-', { keep: args.keep });

// The S3 front's faults: every kind, a few percent each (seeded).
const S3_FAULTS = { slowDown: 0.04, internalError: 0.03, reset: 0.03, resetAfter: 0.04, latencyMs: [0, 20], seed: SEED };

describe(`Iceberg crash test (${CYCLES} SIGKILL cycles, seed ${SEED})`, { timeout: DESTS.length * (BUDGET_MS + FINAL_FLUSH_MS + 120_000) }, () => {
  after(() => work.close());
  for (const dest of DESTS) it(`${dest}: every acked record is in the current snapshot exactly once; no data file is live twice`, async (t) => {
    const started = Date.now();
    const dir = join(work.path, dest);
    mkdirSync(dir, { recursive: true });
    const dataDir = join(dir, 'var');
    const lakeDir = join(dir, 'lake');
    const tableDir = join(lakeDir, 'crash', 'events');
    const logFile = join(dir, 'server.log');
    const cfgPath = join(dir, 'lakehose.yaml');
    let front = null;
    if (dest === 's3') {
      front = await startS3Front({ s3rverDir: join(dir, 's3rver'), faults: S3_FAULTS });
      work.defer(() => front.close());
    }
    writeFileSync(cfgPath, configYaml({
      // (S3: 0.05 MB, fewer objects: every one costs several round trips through the front.)
      dataDir, writerId: 'crash-ice', pipeline: PIPELINE, sizeMb: dest === 's3' ? 0.05 : 0.01, intervalS: 1,
      dest: dest === 'file' ? { kind: 'file', path: lakeDir } : { kind: 's3', endpoint: front.endpoint },
      // A short delivery retry budget: objects sealed in an outage reach the dead-letter
      // queue (and its retry worker stores and commits them) within the cycle.
      serverLines: ['  shutdown_grace_s: 30', '  dlq: { delivery_retry_budget_s: 2, retry_base_ms: 200, retry_max_ms: 1000 }'],
      iceberg: { table: 'crash.events', commitIntervalS: 1 },
    }));
    const env = serverEnv(dir);
    const random = prng(SEED * 31 + (dest === 's3' ? 13 : 11));
    const acked = new Set();
    const sent = new Set();
    const allIds = new Set();
    const diedOnItsOwn = [];
    const errorsWhileServing = {};
    let earlyKills = 0;
    let outages = 0;
    let flushesFired = 0;
    const note = (s) => t.diagnostic(s);
    // What WAL replay re-queued over all starts: sealed objects stored or committed again
    // after a crash, the path where a commit must not repeat what a snapshot holds.
    let requeued = 0;
    // And what went through the dead-letter queue (S3 outages): objects handed to it, and
    // entries its retry worker stored (and committed) later.
    let deadLettered = 0;
    let dlqDelivered = 0;
    const replayed = (srv) => {
      for (const e of srv.eventsNamed('wal.recovered')) requeued += Number(e.objects_requeued) || 0;
      deadLettered += srv.eventsNamed('delivery.dead_lettered').length;
      dlqDelivered += srv.eventsNamed('dlq.delivered').length;
    };
    // Seeds 10^12 apart: `lakehose generate` seeds are offsets into one stream.
    const genFor = async (cycle) => {
      const g = await generate(CLI_BIN, RECORDS_PER_CYCLE, (cycle + 1) * 1e12 + SEED);
      for (const id of g.ids) {
        assert.ok(!allIds.has(id), `eventID ${id} generated twice`);
        allIds.add(id);
      }
      return g;
    };

    let server = null;
    work.defer(() => server?.kill());
    let duck = null;
    let conn = null;
    let nextGen = genFor(0);
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        assert.ok(Date.now() - started < BUDGET_MS, `over the time budget of ${BUDGET_MS} ms after ${cycle} cycles`);
        const gen = await nextGen;
        nextGen = genFor(cycle + 1);
        server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
        if (cycle > 0 && !(front !== null && cycle === 1) && random() < 0.15) {
          // Killed during start-up or replay.
          earlyKills++;
          await sleep(20 + Math.floor(random() * 230));
          if (!server.running()) diedOnItsOwn.push({ cycle, exit: server.exit, tail: server.tail() });
          await server.kill();
          replayed(server);
          continue;
        }
        await server.waitForPort(PORT_TIMEOUT_MS);
        // On S3, the second cycle begins with an outage (503 to everything) of 3 s, then
        // the front heals (its faults as before) and the kill comes 0.5-2.5 s later.
        const outage = front !== null && cycle === 1;
        const killAt = Date.now() + (outage ? 3500 : 500) + Math.floor(random() * (outage ? 2000 : 2500));
        let healing = null;
        if (outage) {
          outages++;
          front.setOutage('503');
          healing = sleep(3000).then(() => front.setFaults(S3_FAULTS));
        }
        const clients = clientsFor(server.target);
        await waitForReady(clients.ingestor, 10_000);
        const senders = startSenders({
          ingestor: clients.ingestor, pipeline: PIPELINE, gen, acked, sent, batch: BATCH, concurrency: CONCURRENCY,
          tag: `c${cycle}`, deadlineMs: RPC_DEADLINE_MS,
          onResult: async (r) => {
            if (!r.error || r.stopping) return;
            const name = statusName(r.error.code);
            errorsWhileServing[name] = (errorsWhileServing[name] ?? 0) + 1;
            await sleep(100);
          },
        });
        let flusher = null;
        if (random() < 0.5) {
          flushesFired++;
          flusher = sleep(Math.floor(random() * (killAt - Date.now()))).then(() => flush(clients.ingestor, PIPELINE, RPC_DEADLINE_MS)).catch(() => {});
        }
        await sleep(Math.max(0, killAt - Date.now()));
        if (!server.running()) diedOnItsOwn.push({ cycle, exit: server.exit, tail: server.tail() });
        senders.stop();
        await server.kill();
        replayed(server);
        await withTimeout(Promise.all([senders.done, flusher, healing]), SENDERS_SETTLE_MS, `cycle ${cycle}: the senders to settle`);
        clients.close();
      }
      await nextGen.catch(() => {});

      // The last start: recover, Flush (commits everything), SIGTERM.
      server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
      await server.waitForPort(PORT_TIMEOUT_MS);
      const clients = clientsFor(server.target);
      try {
        await flushRetrying(clients.ingestor, PIPELINE, FINAL_FLUSH_MS, (err) => note(`final flush: ${statusName(err.code)} ${err.details}; retrying`));
      } finally {
        clients.close();
      }
      const already = (await server.scrape()).value('lakehose_iceberg_objects_already_committed_total', { pipeline: PIPELINE });
      const exit = await server.stop(EXIT_TIMEOUT_MS);
      replayed(server);
      assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
      writeFileSync(join(dir, 'acked.txt'), `${[...acked].join('\n')}\n`);
      writeFileSync(join(dir, 'sent.txt'), `${[...sent].join('\n')}\n`);

      // The table (an S3 bucket copied here first, its s3:// locations mapped to the copy).
      if (front) {
        front.setFaults({});
        await downloadBucket(front, lakeDir);
        mirrorS3(`s3://${front.bucket}`, lakeDir);
      }
      assert.ok(existsSync(join(tableDir, 'metadata', 'version-hint.text')), 'no table was written');
      duck = await DuckDBInstance.create(':memory:');
      conn = await duck.connect();
      // Column metrics, bounds, partition values and python3-avro are iceberg.table's
      // checks; here, what exactly-once needs (and what stays fast over thousands of files).
      const checked = await checkTable(tableDir, conn, { deep: false, python: false });
      const recs = await currentRecords(checked, conn);
      const v = verdict(recs, acked, sent);
      const icebirdRows = await withTableServer(lakeDir, tableDir, async ({ tableUrl }) => readWithIcebird(tableUrl));
      const icebirdIds = new Set(icebirdRows.map((r) => r._eventID));
      const m = checked.meta.current;
      const summary = [
        `Iceberg crash test (seed ${SEED}, batch ${BATCH}, concurrency ${CONCURRENCY}): ${CYCLES} cycles (${earlyKills} killed in start-up, ${outages} begun with a 3 s S3 outage), ${Date.now() - started} ms`,
        `  objects dead-lettered ${deadLettered}, dead letters stored from the queue ${dlqDelivered}`,
        `  sent ${sent.size}, acked ${acked.size}, flushes fired mid-cycle ${flushesFired}, Ingest errors while serving ${JSON.stringify(errorsWhileServing)}`,
        `  table: v${checked.meta.hint}, ${m.snapshots.length} snapshots, ${recs.files} live data files, ${recs.lines} rows, ${recs.counts.size} distinct eventIDs; ` +
          `unacked present ${v.unackedPresent}; duplicates ${v.duplicates.length}; missing ${v.missing.length}; never sent ${v.strangers.length}`,
        `  icebird: ${icebirdRows.length} rows, ${icebirdIds.size} distinct; sealed objects re-queued by replay over all starts ${requeued}, ` +
          `found already committed at the last start ${already}`,
      ];
      if (front) {
        const s = front.stats();
        summary.push(`  S3 front: ${s.requests} requests ${JSON.stringify(s.byOperation)}, statuses ${JSON.stringify(s.byStatus)}, ` +
          `injected ${JSON.stringify(s.injected)}, conditional writes ${s.conditionalWrites}, rejected ${JSON.stringify(s.rejected)}`);
      }
      for (const l of summary) note(l);
      console.log(summary.join('\n'));
      if (front) assertFrontAccepted(front.stats());
      assert.deepEqual(diedOnItsOwn.map((d) => d.cycle), [], `the server exited on its own: ${JSON.stringify(diedOnItsOwn, null, 1)}`);
      assert.ok(acked.size > 0, 'nothing was acked');
      assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0,
        `the current snapshot does not hold every acked record exactly once (log: ${logFile}):\n${describeVerdict(v, recs)}`);
      assert.equal(icebirdRows.length, recs.lines, 'icebird reads as many rows as the live files hold');
      assert.equal(icebirdIds.size, icebirdRows.length, 'icebird: no eventID twice');
    } catch (err) {
      work.fail();
      err.message += `\n-- server log: ${logFile} (kept)`;
      if (server) err.message += `\n-- last server output:\n${server.tail(30)}`;
      throw err;
    } finally {
      conn?.closeSync?.();
      duck?.closeSync?.();
      await server?.kill().catch(() => {});
      await front?.close();
    }
  });
});
