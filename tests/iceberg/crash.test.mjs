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

import { assertExactlyOnce, crashSuiteArgs, cycleRecords, flushAndStop, keepIds, killInStartUp, newTally, sendUntilKilled } from '../lib/crash.mjs';
import { ServerProcess, WorkDir, exitWhenDone, serverEnv, sleep } from '../lib/harness.mjs';
import { checkTable, currentRecords, mirrorS3, readWithIcebird, withTableServer } from '../lib/iceberg.mjs';
import { configYaml, downloadBucket, verdict } from '../lib/lake.mjs';
import { assertFrontAccepted, prng, startS3Front } from '../lib/s3_front.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN, cycles: CYCLES, seed: SEED, batch: BATCH, concurrency: CONCURRENCY, budgetMs: BUDGET_MS } = crashSuiteArgs({
  options: { dest: { type: 'string' } },
  usage: '[--dest file|s3|both]',
  check: (a) => (['file', 's3', 'both', undefined].includes(a.dest) ? null : '--dest: file, s3 or both'),
});
const DESTS = (args.dest ?? 'both') === 'both' ? ['file', 's3'] : [args.dest];
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
    const tally = newTally();
    const errorsWhileServing = {};
    let earlyKills = 0;
    let outages = 0;
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
    const records = cycleRecords(CLI_BIN, RECORDS_PER_CYCLE, SEED);

    let server = null;
    work.defer(() => server?.kill());
    let duck = null;
    let conn = null;
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        assert.ok(Date.now() - started < BUDGET_MS, `over the time budget of ${BUDGET_MS} ms after ${cycle} cycles`);
        const gen = await records.take();
        server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
        if (cycle > 0 && !(front !== null && cycle === 1) && random() < 0.15) {
          // Killed during start-up or replay.
          earlyKills++;
          await killInStartUp(server, random, tally, cycle);
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
        await sendUntilKilled({
          server, pipeline: PIPELINE, gen, acked, sent, errors: errorsWhileServing, random, killAt,
          batch: BATCH, concurrency: CONCURRENCY, cycle, tally, deadlineMs: RPC_DEADLINE_MS, settleMs: SENDERS_SETTLE_MS, settling: [healing],
        });
        replayed(server);
      }
      await records.close();

      // The last start: recover, Flush (commits everything), SIGTERM.
      server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
      await server.waitForPort(PORT_TIMEOUT_MS);
      let already = null;
      await flushAndStop(server, {
        pipeline: PIPELINE, flushMs: FINAL_FLUSH_MS, exitMs: EXIT_TIMEOUT_MS, note,
        beforeStop: async () => { already = (await server.scrape()).value('lakehose_iceberg_objects_already_committed_total', { pipeline: PIPELINE }); },
      });
      replayed(server);
      keepIds(dir, { acked, sent });

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
        `  sent ${sent.size}, acked ${acked.size}, flushes fired mid-cycle ${tally.flushesFired}, Ingest errors while serving ${JSON.stringify(errorsWhileServing)}`,
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
      assertExactlyOnce({ tally, acked, v, recs, icebirdRows, logFile });
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
