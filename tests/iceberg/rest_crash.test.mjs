// Crash test on an Iceberg table kept by a REST catalog (issue 15): ack means committed
// once, whatever the catalog answers and whenever the server dies. lakehose-server runs
// one dynamodb-stream pipeline with `format: iceberg` on S3 (the verifying front, with
// its faults: 503 SlowDown, 500, resets before and after the write reached the bucket,
// 0-20 ms latency), its table in the fake REST catalog (../lib/rest_catalog.mjs, SigV4
// as S3 Tables, in this process), tiny buffers (size_mb 0.05, interval_s 1),
// commit_interval_s 1 and request_timeout_s 2. While it serves, the catalog is given a
// fault at random moments (seeded; a 500 and a reset after applying a commit first): on a
// commit 409, 500 after applying it, a reset after applying it, 503, 502, 504, a reset
// before, a delay past request_timeout_s (answered after the client gave up, and
// applied); on a load 503, a reset or 500. A gRPC client
// sends Ingest batches (a new seed per cycle: every eventID unique) and keeps the acked
// eventIDs; some cycles fire a Flush; SIGKILL at a random moment 2-6 s after the server
// serves, or, in cycles 1, 4, 7..., while a commit is in flight (held by the catalog 1-4 s,
// then applied, or refused when the next start committed first); of the other cycles
// after the first, about one in seven is killed 20-250 ms after spawn (start-up, WAL
// replay). Restart on the same data_dir and writer id; the client never re-sends.
// After --cycles cycles: a last start with the catalog's faults off, Flush, SIGTERM (exit
// 0). Then, on a copy of the bucket with the catalog's metadata files put where their
// locations say:
//
//   - every request the catalog saw was valid by the REST spec (cat.violations empty);
//   - the history is linear: each applied commit's parent was the current snapshot, the
//     snapshot log lists them all; no lakehose.objects identity in two snapshots (no
//     commit repeated after an unknown outcome or a crash);
//   - nothing deleted: the S3 front saw no DeleteObject, DeleteObjects or DeleteBucket;
//     checkTable (../lib/iceberg.mjs, the catalog's layout) finds every manifest list,
//     manifest and data file every snapshot names, no data file live twice, counts and
//     sizes right; the front refused no signature;
//   - the current snapshot's live data files (DuckDB) hold every acked eventID exactly
//     once, nothing never sent; icebird, through the catalog's metadata location, reads
//     as many rows, no eventID twice;
//   - the unknown-outcome path ran: at least one commit answered 500 or reset after the
//     catalog applied it, whose snapshot is in the table (once, by the check above).
// Diagnostics: the faults injected per kind, lakehose_iceberg_commit_unknown_total and
// lakehose_iceberg_objects_already_committed_total summed over the starts (last scrape
// before each kill), objects re-queued by WAL replay, iceberg.commit_failed events.
//
//   node tests/iceberg/rest_crash.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--cycles 5] [--seed N] [--batch 200] [--concurrency 3] [--budget-s 240] [--keep]
//
// (The 20 cycles: --cycles 20 --budget-s 600, about 9 minutes.) Every wait is
// bounded; a failed run keeps its directory (server.log of every start, catalog.log,
// acked.txt, sent.txt, the lake).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { assertExactlyOnce, crashSuiteArgs, cycleRecords, flushAndStop, keepIds, killInStartUp, newTally, sendUntilKilled } from '../lib/crash.mjs';
import { ServerProcess, WorkDir, exitWhenDone, serverEnv, sleep } from '../lib/harness.mjs';
import { checkAppendHistory, checkTable, currentRecords, localPath, mirrorS3, readWithIcebird, withTableServer, writeCatalogMetadata } from '../lib/iceberg.mjs';
import { downloadBucket, verdict } from '../lib/lake.mjs';
import { restConfigYaml } from '../lib/rest_lake.mjs';
import { startRestCatalog } from '../lib/rest_catalog.mjs';
import { TEST_CREDENTIALS, TEST_REGION, assertFrontAccepted, prng, startS3Front } from '../lib/s3_front.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN, cycles: CYCLES, seed: SEED, batch: BATCH, concurrency: CONCURRENCY, budgetMs: BUDGET_MS } = crashSuiteArgs();
const RECORDS_PER_CYCLE = 60_000;  // more than a cycle sends; the rest is never sent
const PIPELINE = 'dur';
const NAMESPACE = ['crash'];
const TABLE = 'events';
const WAREHOUSE = 'arn:aws:s3tables:us-east-1:111122223333:bucket/lake';
const REQUEST_TIMEOUT_S = 2;
const RPC_DEADLINE_MS = 15_000;
const PORT_TIMEOUT_MS = 30_000;
const SENDERS_SETTLE_MS = RPC_DEADLINE_MS + 5_000;
const FINAL_FLUSH_MS = 120_000;
const EXIT_TIMEOUT_MS = 60_000;
// How long a cycle that kills during a commit waits for one to reach the catalog.
const IN_FLIGHT_WAIT_MS = 10_000;

const work = new WorkDir('lakehose-iceberg-rest-crash-', { keep: args.keep });

const S3_FAULTS = { slowDown: 0.04, internalError: 0.03, reset: 0.03, resetAfter: 0.04, latencyMs: [0, 20], seed: SEED };
// The catalog's faults, drawn one at a time (weights); a delay is longer than
// request_timeout_s: the client gives up, then the catalog applies the commit.
const COMMIT_FAULTS = [['409', 2], ['500-after-apply', 3], ['reset-after-apply', 3], ['503', 1], ['502', 1], ['504', 1], ['reset-before', 1], ['delay', 2]];
const LOAD_FAULTS = [['503', 1], ['reset-before', 1], ['500-after-apply', 1]];
const AFTER_APPLY = new Set(['500-after-apply', 'reset-after-apply']);

const pick = (random, weighted) => {
  let r = random() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [kind, w] of weighted) if ((r -= w) < 0) return kind;
  return weighted.at(-1)[0];
};

// The add-snapshot of a commit request the catalog saw, or null.
const addedSnapshot = (entry) => entry.body?.updates?.find?.((u) => u.action === 'add-snapshot')?.snapshot ?? null;

describe(`Iceberg REST catalog crash test (${CYCLES} SIGKILL cycles, seed ${SEED})`, { timeout: BUDGET_MS + FINAL_FLUSH_MS + 180_000 }, () => {
  after(() => work.close());
  it('every acked record is in the current snapshot exactly once; no commit repeated, no file deleted, every request valid', async (t) => {
    const started = Date.now();
    const dir = work.path;
    const dataDir = join(dir, 'var');
    const lakeDir = join(dir, 'lake');
    const logFile = join(dir, 'server.log');
    const catalogLog = join(dir, 'catalog.log');
    const cfgPath = join(dir, 'lakehose.yaml');
    mkdirSync(dataDir, { recursive: true });
    const front = await startS3Front({ s3rverDir: join(dir, 's3rver'), faults: S3_FAULTS });
    work.defer(() => front.close());
    const cat = await startRestCatalog({
      auth: { sigv4: { service: 's3tables', region: TEST_REGION, ...TEST_CREDENTIALS } },
      warehouse: WAREHOUSE,
      prefix: encodeURIComponent(WAREHOUSE),
      location: (ns, name) => `s3://${front.bucket}/wh/${ns.join('/')}/${name}`,
      log: (line) => appendFileSync(catalogLog, `${line}\n`),
    });
    work.defer(() => cat.close());
    writeFileSync(cfgPath, restConfigYaml({
      dataDir, writerId: 'crash-rest', pipeline: PIPELINE, sizeMb: 0.05, intervalS: 1, commitIntervalS: 1,
      endpoint: front.endpoint, table: `${NAMESPACE.join('.')}.${TABLE}`, server: { shutdown_grace_s: 30 },
      catalog: { uri: cat.url, warehouse: WAREHOUSE, auth: { sigv4: { service: 's3tables' } }, requestTimeoutS: REQUEST_TIMEOUT_S },
    }));
    const env = serverEnv(dir);
    const random = prng(SEED * 31 + 17);
    const chaosRandom = prng(SEED * 31 + 19);
    const acked = new Set();
    const sent = new Set();
    const tally = newTally();
    const errorsWhileServing = {};
    const injected = {};  // 'op kind' -> n
    let earlyKills = 0;
    let inFlightKills = 0;
    let inFlightMissed = 0;
    let requeued = 0;
    let commitFailedEvents = 0;
    // Per start, the last scrape's counters (a kill loses what came after it).
    const metrics = { unknown: 0, alreadyCommitted: 0, conflicts: 0, commits: 0 };
    const note = (s) => t.diagnostic(s);
    const fromLog = (srv) => {
      for (const e of srv.eventsNamed('wal.recovered')) requeued += Number(e.objects_requeued) || 0;
      commitFailedEvents += srv.eventsNamed('iceberg.commit_failed').length;
    };
    const records = cycleRecords(CLI_BIN, RECORDS_PER_CYCLE, SEED);
    let duck = null;
    let conn = null;

    // The catalog's faults while a server serves: every 200 ms, when none is queued, one
    // with probability 0.8 (a commit round, a load then a commit, comes about once a
    // second): first a 500 and a reset after applying a commit (the unknown outcomes this
    // suite is about), then each kind once in a shuffled order (every run sees them all),
    // then drawn by weight. A fault still queued at a kill goes back to the front.
    const deck = [
      { op: 'commit', kind: '500-after-apply' }, { op: 'commit', kind: 'reset-after-apply' },
      ...[...COMMIT_FAULTS.map(([kind]) => ({ op: 'commit', kind })), ...LOAD_FAULTS.map(([kind]) => ({ op: 'load', kind }))]
        .map((f) => [chaosRandom(), f]).sort((a, b) => a[0] - b[0]).map(([, f]) => f),
    ];
    const nextFault = () => {
      if (deck.length) return deck.shift();
      const onCommit = chaosRandom() < 0.8;
      return { op: onCommit ? 'commit' : 'load', kind: pick(chaosRandom, onCommit ? COMMIT_FAULTS : LOAD_FAULTS) };
    };
    let chaos = null;
    const startChaos = () => {
      const timer = setInterval(() => {
        if (cat.faults.length > 0 || chaosRandom() >= 0.8) return;
        const fault = nextFault();
        if (fault.kind === 'delay' && fault.ms === undefined) fault.ms = REQUEST_TIMEOUT_S * 1000 + 500 + Math.floor(chaosRandom() * 1500);
        cat.faults.push(fault);
      }, 200);
      let stopped = false;
      return () => {
        clearInterval(timer);
        if (!stopped) deck.unshift(...cat.faults.splice(0));
        stopped = true;
      };
    };
    // Scrapes the server's counters every 250 ms; returns stop(), which adds the last values
    // seen to `metrics`.
    const watch = (srv) => {
      let stop = false;
      const last = { unknown: 0, alreadyCommitted: 0, conflicts: 0, commits: 0 };
      const done = (async () => {
        while (!stop && srv.running()) {
          try {
            const m = await srv.scrape(2_000);
            last.unknown = m.value('lakehose_iceberg_commit_unknown_total', { pipeline: PIPELINE }) ?? last.unknown;
            last.alreadyCommitted = m.value('lakehose_iceberg_objects_already_committed_total', { pipeline: PIPELINE }) ?? last.alreadyCommitted;
            last.conflicts = m.value('lakehose_iceberg_commit_conflicts_total', { pipeline: PIPELINE }) ?? last.conflicts;
            last.commits = m.value('lakehose_iceberg_commits_total', { pipeline: PIPELINE }) ?? last.commits;
          } catch { /* killed mid-scrape */ }
          await sleep(250);
        }
        for (const k of Object.keys(metrics)) metrics[k] += last[k];
      })();
      return async () => { stop = true; await done; };
    };
    // Resolves once a commit the catalog holds (a delay fault) has arrived after `from`
    // (an index into cat.requests), kept in `held`; or false after IN_FLIGHT_WAIT_MS.
    const held = new Set();
    const commitHeld = async (from) => {
      const end = Date.now() + IN_FLIGHT_WAIT_MS;
      while (Date.now() < end) {
        const q = cat.requests.slice(from).find((r) => r.op === 'commit' && r.fault?.kind === 'delay');
        if (q) return held.add(q);
        await sleep(10);
      }
      return false;
    };

    let server = null;  // killed in `finally` below
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        assert.ok(Date.now() - started < BUDGET_MS, `over the time budget of ${BUDGET_MS} ms after ${cycle} cycles`);
        const gen = await records.take();
        server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
        const inFlight = cycle % 3 === 1;
        if (cycle > 0 && !inFlight && random() < 0.15) {
          // Killed during start-up or replay.
          earlyKills++;
          await killInStartUp(server, random, tally, cycle);
          fromLog(server);
          continue;
        }
        await server.waitForPort(PORT_TIMEOUT_MS);
        const stopWatching = watch(server);
        const stopChaos = startChaos();
        chaos = stopChaos;
        let killWhen;
        const killAt = Date.now() + 2000 + Math.floor(random() * 4000);
        if (inFlight) {
          // A commit held by the catalog, the kill during it: the catalog applies it after
          // the server is gone (or refuses it, if the next start committed first).
          inFlightKills++;
          const holdMs = 1000 + Math.floor(random() * 3000);
          const killAfter = Math.floor(random() * (holdMs - 300));
          killWhen = async () => {
            await sleep(Math.max(0, killAt - Date.now()));
            stopChaos();
            const from = cat.requests.length;
            cat.faults.length = 0;
            cat.faults.push({ op: 'commit', kind: 'delay', ms: holdMs });
            if (await commitHeld(from)) {
              await sleep(killAfter);
            } else {
              inFlightMissed++;
              cat.faults.length = 0;
            }
          };
        }
        await sendUntilKilled({
          server, pipeline: PIPELINE, gen, acked, sent, errors: errorsWhileServing, random, killAt, ...(killWhen ? { killWhen } : {}),
          batch: BATCH, concurrency: CONCURRENCY, cycle, tally, deadlineMs: RPC_DEADLINE_MS, settleMs: SENDERS_SETTLE_MS,
        });
        stopChaos();
        chaos = null;
        await stopWatching();
        fromLog(server);
      }
      await records.close();

      // The last start: recover, Flush (commits everything), SIGTERM. The catalog is
      // healthy; the S3 front keeps its faults.
      server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
      await server.waitForPort(PORT_TIMEOUT_MS);
      await flushAndStop(server, { pipeline: PIPELINE, flushMs: FINAL_FLUSH_MS, exitMs: EXIT_TIMEOUT_MS, note, beforeStop: watch(server) });
      fromLog(server);
      keepIds(dir, { acked, sent });
      // A commit held past the last kill is applied or refused by now (holds are 1-4 s).
      const pending = cat.requests.filter((q) => q.op === 'commit' && q.status === null && !q.fault?.kind.startsWith('reset')).length;

      // What the catalog saw and did.
      for (const q of cat.requests) {
        if (!q.fault) continue;
        const k = `${q.op} ${held.has(q) ? 'held, server killed' : q.fault.kind}`;
        injected[k] = (injected[k] ?? 0) + 1;
      }
      const table = cat.table(NAMESPACE, TABLE);
      assert.ok(table, 'the catalog holds the table');
      const applied = cat.commits(NAMESPACE, TABLE);
      const snapshotIds = new Set(table.metadata.snapshots.map((s) => String(s['snapshot-id'])));
      // Commits whose answer the server never got although the catalog applied them.
      const lostAnswers = cat.requests.filter((q) => q.op === 'commit' && q.fault && (AFTER_APPLY.has(q.fault.kind) || q.fault.kind === 'delay'))
        .map((q) => ({ kind: held.has(q) ? 'held, server killed' : q.fault.kind, snapshot: addedSnapshot(q) }))
        .filter((q) => q.snapshot && snapshotIds.has(String(q.snapshot['snapshot-id'])));
      const lostByKind = {};
      for (const q of lostAnswers) lostByKind[q.kind] = (lostByKind[q.kind] ?? 0) + 1;
      // Commits sent again as they were (same snapshot id) right after a reset: libcurl
      // re-sends a request whose reused connection closed before any answer, so the server
      // sees the second answer (409 when the first was applied), not the reset.
      const commitRequests = cat.requests.filter((q) => q.op === 'commit');
      const resent = {};
      commitRequests.forEach((q, i) => {
        const again = commitRequests[i + 1];
        if (!q.fault?.kind.startsWith('reset') || !again || String(addedSnapshot(again)?.['snapshot-id']) !== String(addedSnapshot(q)?.['snapshot-id'])) return;
        const k = `${q.fault.kind} -> ${again.status}`;
        resent[k] = (resent[k] ?? 0) + 1;
      });

      // The table: the bucket copied here, the catalog's metadata files put where their
      // locations say.
      front.setFaults({});
      await downloadBucket(front, lakeDir);
      mirrorS3(`s3://${front.bucket}`, lakeDir);
      writeCatalogMetadata(cat.metadataFiles);
      const tableDir = localPath(table.metadata.location);
      duck = await DuckDBInstance.create(':memory:');
      conn = await duck.connect();
      const checked = await checkTable(tableDir, conn, { deep: false, python: false, rest: true });
      assert.equal(JSON.stringify(checked.meta.current), JSON.stringify(JSON.parse(cat.metadataFiles.get(table.metadataLocation))),
        'the newest metadata file is the one the catalog points at');
      const history = checkAppendHistory(checked.meta.current);
      for (const snap of history.chain) {
        assert.deepEqual([snap.summary['lakehose.writer-id'], snap.summary['lakehose.pipeline']], ['crash-rest', PIPELINE], `snapshot ${snap['snapshot-id']}: writer and pipeline`);
      }
      // Each applied commit's parent was the current snapshot then.
      applied.forEach((c, i) => {
        const s = c.updates.find((u) => u.action === 'add-snapshot')?.snapshot;
        assert.ok(s, `applied commit ${i} adds a snapshot`);
        assert.equal(String(s['parent-snapshot-id'] ?? null), i === 0 ? 'null' : String(applied[i - 1].snapshotId), `applied commit ${i}: its parent is the snapshot before`);
      });
      assert.equal(applied.length, history.chain.length, 'one snapshot per applied commit');
      const recs = await currentRecords(checked, conn);
      const v = verdict(recs, acked, sent);
      const icebirdRows = await withTableServer(lakeDir, tableDir, async ({ tableUrl }) => readWithIcebird(tableUrl, basename(table.metadataLocation)));
      const icebirdIds = new Set(icebirdRows.map((r) => r._eventID));
      const s = front.stats();
      const m = checked.meta.current;
      const summary = [
        `Iceberg REST crash test (seed ${SEED}, batch ${BATCH}, concurrency ${CONCURRENCY}): ${CYCLES} cycles (${earlyKills} killed in start-up, ` +
          `${inFlightKills} killed during a held commit, ${inFlightMissed} of them with no commit in time), ${Date.now() - started} ms`,
        `  sent ${sent.size}, acked ${acked.size}, flushes fired mid-cycle ${tally.flushesFired}, Ingest errors while serving ${JSON.stringify(errorsWhileServing)}`,
        `  catalog: ${cat.requests.length} requests, faults injected ${JSON.stringify(injected)}, ${applied.length} commits applied; ` +
          `applied but unanswered, in the table: ${JSON.stringify(lostByKind)}; commits still unanswered at the end ${pending}; ` +
          `re-sent by the HTTP client after a reset ${JSON.stringify(resent)}`,
        `  server (summed over starts, last scrape before each kill): commit_unknown ${metrics.unknown}, objects_already_committed ${metrics.alreadyCommitted}, ` +
          `conflicts ${metrics.conflicts}, commits ${metrics.commits}; objects re-queued by WAL replay ${requeued}; iceberg.commit_failed events ${commitFailedEvents}`,
        `  table: ${m.snapshots.length} snapshots, ${history.identities.size} objects committed, ${recs.files} live data files, ${recs.lines} rows, ` +
          `${recs.counts.size} distinct eventIDs; unacked present ${v.unackedPresent}; duplicates ${v.duplicates.length}; missing ${v.missing.length}; never sent ${v.strangers.length}`,
        `  icebird: ${icebirdRows.length} rows, ${icebirdIds.size} distinct`,
        `  S3 front: ${s.requests} requests ${JSON.stringify(s.byOperation)}, statuses ${JSON.stringify(s.byStatus)}, ` +
          `injected ${JSON.stringify(s.injected)}, conditional writes ${s.conditionalWrites}, rejected ${JSON.stringify(s.rejected)}`,
      ];
      for (const l of summary) note(l);
      console.log(summary.join('\n'));

      assert.deepEqual(cat.violations, [], 'every request to the catalog was valid');
      assertFrontAccepted(s);
      for (const op of ['DeleteObject', 'DeleteObjects', 'DeleteBucket']) assert.equal(s.byOperation[op] ?? 0, 0, `the S3 front saw no ${op}`);
      assertExactlyOnce({ tally, acked, v, recs, icebirdRows, logFile });
      assert.ok(lostAnswers.some((q) => AFTER_APPLY.has(q.kind)),
        `the unknown-outcome path ran: a commit answered 500 or reset after the catalog applied it, in the table (faults ${JSON.stringify(injected)})`);
    } catch (err) {
      work.fail();
      err.message += `\n-- server log: ${logFile}, catalog log: ${catalogLog} (kept)`;
      if (server) err.message += `\n-- last server output:\n${server.tail(30)}`;
      throw err;
    } finally {
      chaos?.();
      conn?.closeSync?.();
      duck?.closeSync?.();
      await server?.kill().catch(() => {});
      await cat.close();
      await front.close();
    }
  });
});
