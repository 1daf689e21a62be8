// Three writers, one table: three lakehose-servers (distinct writer ids and data_dirs, as
// three Kubernetes replicas would run) append to one Iceberg table on the same file
// destination for --seconds, each fed its own generated records by gRPC clients, with
// commit_interval_s 1 and Flushes fired at all three at once every 2 s so that their
// commits race for the same v<N+1>.metadata.json (and for v1, the table's creation).
// Then each is flushed and stopped (SIGTERM, exit 0), and:
//
//   - checkTable (../lib/iceberg.mjs): the table's invariants over every snapshot (no data
//     file live twice, counts, sizes, sequence numbers, manifests by avsc and python3-avro);
//   - every writer's acked records are in the current snapshot exactly once, nothing twice,
//     nothing never sent: no commit was lost when another writer won a race;
//   - every snapshot's lakehose.writer-id is one of the three, each writer's snapshots are
//     as many as its lakehose_iceberg_commits_total, and a data file is added by a
//     snapshot of the writer whose name it carries;
//   - conflicts happened (lakehose_iceberg_commit_conflicts_total > 0 summed) and were
//     retried (every acked record is there).
//
//   node tests/iceberg/writers.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--seconds 10] [--writers 3] [--keep]
//
// (The 30 s: --seconds 30.) Every wait is bounded; servers are killed in clean-ups.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { ServerProcess, WorkDir, exitWhenDone, generate, serverEnv, sleep, suiteArgs, withTimeout } from '../lib/harness.mjs';
import { clientsFor, flush, flushRetrying, startSenders, statusName, waitForReady } from '../lib/grpc.mjs';
import { checkTable, currentRecords } from '../lib/iceberg.mjs';
import { configYaml, describeVerdict, verdict } from '../lib/lake.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { seconds: { type: 'string' }, writers: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--seconds 10] [--writers 3] [--keep]',
});
const SECONDS = Number(args.seconds ?? 10);
const WRITERS = Number(args.writers ?? 3);
if (!(SECONDS > 0) || !(Number.isInteger(WRITERS) && WRITERS >= 2)) {
  console.error('--seconds: > 0; --writers: an integer >= 2');
  process.exit(2);
}
const PIPELINE = 'dur';
const TABLE = 'multi.events';
const PACE_MS = 100;  // each sender waits this long after a batch: the load lasts the whole time
const RECORDS_PER_WRITER = Math.ceil(SECONDS * 4_000);  // more than paced senders send in the time
const BATCH = 200;
const SENDERS_PER_WRITER = 2;
const FLUSH_EVERY_MS = 2_000;
const RPC_DEADLINE_MS = 15_000;
const PORT_TIMEOUT_MS = 30_000;
const FINAL_FLUSH_MS = 120_000;
const EXIT_TIMEOUT_MS = 60_000;

const work = new WorkDir('lakehose-iceberg-writers-', { keep: args.keep });

describe(`${WRITERS} writers append to one Iceberg table for ${SECONDS} s`, { timeout: SECONDS * 1000 + 6 * FINAL_FLUSH_MS }, () => {
  it('every writer\'s acked records are in the table once; conflicts are counted and retried', async (t) => {
    const lakeDir = join(work.path, 'lake');
    const tableDir = join(lakeDir, ...TABLE.split('.'));
    const writers = [];
    let duck = null;
    let conn = null;
    try {
      for (let w = 0; w < WRITERS; w++) {
        const dir = join(work.path, `w${w}`);
        mkdirSync(dir, { recursive: true });
        const cfg = join(dir, 'lakehose.yaml');
        writeFileSync(cfg, configYaml({
          dataDir: join(dir, 'var'), writerId: `w${w}`, pipeline: PIPELINE, dest: { kind: 'file', path: lakeDir }, sizeMb: 1, intervalS: 1,
          iceberg: { table: TABLE, commitIntervalS: 1 },
        }));
        const gen = await generate(CLI_BIN, RECORDS_PER_WRITER, (w + 1) * 1e12 + 7);
        writers.push({ w, id: `w${w}`, dir, cfg, gen, acked: new Set(), sent: new Set(), errors: {} });
      }
      // All servers start together: the table's creation races too.
      for (const wr of writers) {
        wr.server = new ServerProcess(SERVER_BIN, { dir: wr.dir, configPath: wr.cfg, env: serverEnv(wr.dir), name: wr.id });
        work.defer(() => wr.server.kill());
      }
      for (const wr of writers) {
        await wr.server.waitForPort(PORT_TIMEOUT_MS);
        wr.clients = clientsFor(wr.server.target);
        await waitForReady(wr.clients.ingestor, 10_000);
      }
      const end = Date.now() + SECONDS * 1000;
      const sendersOf = writers.map((wr) => startSenders({
        ingestor: wr.clients.ingestor, pipeline: PIPELINE, gen: wr.gen, acked: wr.acked, sent: wr.sent, batch: BATCH,
        concurrency: SENDERS_PER_WRITER, tag: wr.id, deadlineMs: RPC_DEADLINE_MS, until: () => Date.now() >= end,
        onResult: async (r) => {
          if (r.error) {
            const name = statusName(r.error.code);
            wr.errors[name] = (wr.errors[name] ?? 0) + 1;
          }
          await sleep(PACE_MS);
        },
      }));
      let flushRounds = 0;
      const flusher = async () => {
        while (Date.now() + FLUSH_EVERY_MS < end) {
          await sleep(FLUSH_EVERY_MS);
          flushRounds++;
          // Their outcome does not matter here; the final Flush must succeed.
          await Promise.all(writers.map((wr) => flush(wr.clients.ingestor, PIPELINE, RPC_DEADLINE_MS).catch(() => {})));
        }
      };
      await withTimeout(Promise.all([...sendersOf.map((s) => s.done), flusher()]), SECONDS * 1000 + 2 * RPC_DEADLINE_MS, 'the senders to finish');

      // Final Flushes, all at once, then the metrics, then SIGTERM.
      await Promise.all(writers.map((wr) => flushRetrying(wr.clients.ingestor, PIPELINE, FINAL_FLUSH_MS).catch((err) => {
        err.message = `${wr.id}: ${err.message}`;
        throw err;
      })));
      for (const wr of writers) {
        const scrape = await wr.server.scrape();
        const v = (n) => scrape.value(n, { pipeline: PIPELINE }) ?? 0;
        wr.metrics = {
          commits: v('lakehose_iceberg_commits_total'), conflicts: v('lakehose_iceberg_commit_conflicts_total'),
          failures: v('lakehose_iceberg_commit_failures_total'), records: v('lakehose_iceberg_records_committed_total'),
          schemaUpdates: v('lakehose_iceberg_schema_updates_total'),
        };
        wr.clients.close();
        const exit = await wr.server.stop(EXIT_TIMEOUT_MS);
        assert.deepEqual(exit, { code: 0, signal: null }, `${wr.id} on SIGTERM:\n${wr.server.tail()}`);
      }

      duck = await DuckDBInstance.create(':memory:');
      conn = await duck.connect();
      // Column metrics, bounds, partition values and python3-avro are iceberg.table's
      // checks; here, what exactly-once needs (and what stays fast over thousands of files).
      const checked = await checkTable(tableDir, conn, { deep: false, python: false });
      const recs = await currentRecords(checked, conn);
      const acked = new Set(writers.flatMap((wr) => [...wr.acked]));
      const sent = new Set(writers.flatMap((wr) => [...wr.sent]));
      const verdictAll = verdict(recs, acked, sent);
      const m = checked.meta.current;
      const conflicts = writers.reduce((a, wr) => a + wr.metrics.conflicts, 0);
      for (const wr of writers) {
        t.diagnostic(`${wr.id}: sent ${wr.sent.size}, acked ${wr.acked.size}, errors ${JSON.stringify(wr.errors)}, metrics ${JSON.stringify(wr.metrics)}`);
      }
      t.diagnostic(`table v${checked.meta.hint}: ${m.snapshots.length} snapshots, ${recs.files} live files, ${recs.lines} rows; ${flushRounds} flush rounds; conflicts ${conflicts}; ` +
        `missing ${verdictAll.missing.length}, duplicates ${verdictAll.duplicates.length}, never sent ${verdictAll.strangers.length}, unacked present ${verdictAll.unackedPresent}`);

      assert.ok(verdictAll.missing.length === 0 && verdictAll.duplicates.length === 0 && verdictAll.strangers.length === 0,
        `the table does not hold every acked record exactly once:\n${describeVerdict(verdictAll, recs)}`);
      for (const wr of writers) {
        assert.ok(wr.acked.size > 0, `${wr.id}: nothing acked`);
        const mine = m.snapshots.filter((s) => s.summary['lakehose.writer-id'] === wr.id).length;
        assert.equal(mine, wr.metrics.commits, `${wr.id}: snapshots in the table vs lakehose_iceberg_commits_total`);
      }
      const ids = new Set(writers.map((wr) => wr.id));
      const writerOf = new Map(m.snapshots.map((s) => [BigInt(s['snapshot-id']), s.summary['lakehose.writer-id']]));
      for (const s of m.snapshots) assert.ok(ids.has(s.summary['lakehose.writer-id']), `snapshot ${s['snapshot-id']}: writer ${s.summary['lakehose.writer-id']}`);
      for (const f of checked.files.values()) {
        const by = writerOf.get(f.addedBy);
        assert.ok(f.path.split('/').at(-1).startsWith(`${PIPELINE}-${by}-`), `${f.path} was added by ${by}'s snapshot`);
      }
      assert.ok(conflicts > 0, `no commit conflict in ${flushRounds} rounds of simultaneous Flushes: the race was not exercised`);
    } catch (err) {
      work.fail();
      for (const wr of writers) if (wr.server) err.message += `\n-- ${wr.id} (tail):\n${wr.server.tail(15)}`;
      throw err;
    } finally {
      conn?.closeSync?.();
      duck?.closeSync?.();
      for (const wr of writers) await wr.server?.kill().catch(() => {});
      await work.close();
    }
  });
});
