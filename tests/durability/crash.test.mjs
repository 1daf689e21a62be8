// Crash test (README "Durability and the dead-letter queue"): ack means durable, and a crash never
// duplicates. For each destination (the file lake; S3 through the verifying front over
// s3rver):
//
//   - lakehose-server runs with server.data_dir in a temp dir and one dynamodb-stream
//     pipeline with tiny buffers (size_mb 0.05, --size-mb; interval_s 1), so objects are
//     sealed and uploaded all the time;
//   - a Node gRPC client sends Ingest batches (--batch records, --concurrency calls in
//     flight) of generated records (a new `lakehose generate --seed` per cycle, so every
//     eventID is unique) and records which eventIDs were acked (result OK);
//     some cycles also fire a Flush at a random moment;
//   - the server is killed with SIGKILL at a random moment (300-1500 ms after it serves;
//     about one cycle in seven it is killed 20-250 ms after spawn, during WAL replay or
//     start-up), then restarted on the same data_dir (a new port, --port-file); the client
//     never re-sends anything;
//   - after --cycles cycles: one more start, Flush, SIGTERM (exit 0), and the lake is read
//     (files directly; S3 downloaded from s3rver), every object decompressed, every
//     `_eventID` counted; DuckDB reads it too.
//
// Asserts: every acked eventID is in the lake exactly once; no eventID at all appears
// twice (the client never re-sends, so a duplicate of an unacked record is a bug too);
// nothing in the lake that was never sent; every start that served logged wal.recovered;
// no wal.unknown_pipeline / undecodable_frame / truncate_failed / damaged_segment
// (wal.seal_mismatch and
// seal_without_buffer are counted and printed); the server never died on its own; DuckDB
// (read_json_auto over **/*.jsonl.gz with hive partitioning) reads the same rows.
//
// A first, deterministic case: SIGKILL right after the ack of one request during which
// objects were sealed (the buffer crossed size_mb in the middle of the request).
//
//   node tests/durability/crash.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//        [--cycles 20] [--dest file|s3|both] [--seed N] [--batch 200] [--concurrency 3]
//        [--size-mb 0.05] [--budget-s 240] [--keep]
//
// (LAKEHOSE_SERVER / LAKEHOSE_CLI work too.) Every wait is bounded; each destination
// must finish within --budget-s seconds (default 240). A failed run keeps its directory:
// server.log (every start), acked.txt and sent.txt (eventIDs), the lake, s3rver's files.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, WorkDir, exitWhenDone, generate, serverEnv, sleep, suiteArgs, withTimeout } from '../lib/harness.mjs';
import { clientsFor, flush, flushRetrying, ingestOnce, startSenders, statusName, waitForReady } from '../lib/grpc.mjs';
import { configYaml, describeVerdict, duckdbCounts, readLake, verdict } from '../lib/lake.mjs';
import { assertFrontAccepted, prng, startS3Front } from '../lib/s3_front.mjs';

exitWhenDone();

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: {
    cycles: { type: 'string' },
    dest: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    concurrency: { type: 'string' },
    'budget-s': { type: 'string' },
    'size-mb': { type: 'string' },
    keep: { type: 'boolean' },
  },
  usage: '[--cycles 20] [--dest file|s3|both] [--seed N] [--batch 200] [--concurrency 3] [--size-mb 0.05] [--budget-s 240] [--keep]',
});
const CYCLES = Number(args.cycles ?? 20);
const DESTS = (args.dest ?? 'both') === 'both' ? ['file', 's3'] : [args.dest];
if (!DESTS.every((d) => d === 'file' || d === 's3') || !(CYCLES >= 1)) {
  console.error('--dest is file, s3 or both; --cycles at least 1');
  process.exit(2);
}
const SEED = Number(args.seed ?? (Date.now() % 1_000_000));  // < 10^6
if (!(Number.isInteger(SEED) && SEED >= 0 && SEED < 1e6)) { console.error('--seed: 0 <= N < 1000000'); process.exit(2); }
const BATCH = Number(args.batch ?? 200);
const CONCURRENCY = Number(args.concurrency ?? 3);
const BUDGET_MS = Number(args['budget-s'] ?? 240) * 1000;
// Buffer size that seals an object (default 0.05: several seals inside every request).
const SIZE_MB = Number(args['size-mb'] ?? 0.05);
const RECORDS_PER_CYCLE = 30_000;  // more than a cycle sends (~10k records/s here); the rest is never sent
const PIPELINE = 'dur';
const RPC_DEADLINE_MS = 15_000;
const PORT_TIMEOUT_MS = 30_000;
const SENDERS_SETTLE_MS = RPC_DEADLINE_MS + 5_000;
const FINAL_FLUSH_MS = 120_000;
const EXIT_TIMEOUT_MS = 60_000;
// Replay errors that always mean a broken log. A crash leaves at most a torn tail, never
// a damaged segment (that would be kept aside and counted as records lost).
const BAD_EVENTS = ['wal.unknown_pipeline', 'wal.undecodable_frame', 'wal.truncate_failed', 'wal.damaged_segment'];
// Replay errors that are reported, not failed on: a seal whose records differ from the
// buffer rebuilt by replay. They also occur harmlessly once the segments holding the first
// records of a stored object have been released; whether records were lost or duplicated
// is what the lake check decides.
const SEAL_EVENTS = ['wal.seal_mismatch', 'wal.seal_without_buffer'];

const work = new WorkDir('lakehose-crash-', { keep: args.keep });  // kept when a run fails

// One destination: cycles of send + SIGKILL + restart, then the final check.
async function crashRun(dest, t) {
  const started = Date.now();
  const dir = join(work.path, dest);
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'var');
  const lakeDir = join(dir, 'lake');
  const logFile = join(dir, 'server.log');
  const random = prng(SEED * 31 + (dest === 's3' ? 7 : 3));
  let front = null;
  if (dest === 's3') {
    front = await startS3Front({ s3rverDir: join(dir, 's3rver') });
    work.defer(() => front.close());
  }
  const cfgPath = join(dir, 'lakehose.yaml');
  writeFileSync(cfgPath, configYaml({
    dataDir,
    writerId: `crash-${dest}`,
    pipeline: PIPELINE,
    dest: dest === 'file' ? { kind: 'file', path: lakeDir } : { kind: 's3', endpoint: front.endpoint },
    sizeMb: SIZE_MB,
    intervalS: 1,
    serverLines: ['  shutdown_grace_s: 30'],
  }));
  const env = serverEnv(dir);

  const acked = new Set();
  const sent = new Set();       // every eventID that was ever in an Ingest request
  const allIds = new Set();     // every eventID generated (uniqueness check)
  const errorsWhileServing = {};  // status -> count, for calls that failed before the kill
  const errorsAtKill = {};
  const badEvents = [];
  const sealEvents = {};
  const corruptTails = [];
  const recovered = [];          // wal.recovered fields per start that served
  const diedOnItsOwn = [];
  let batchesOk = 0;
  let flushesFired = 0;
  let earlyKills = 0;
  let servedStarts = 0;
  const perCycle = [];

  const note = (s) => t.diagnostic(s);
  const inspect = (server, cycle) => {
    for (const e of server.events) {
      if (BAD_EVENTS.includes(e.event)) badEvents.push({ cycle, ...e });
      if (SEAL_EVENTS.includes(e.event)) sealEvents[e.event] = (sealEvents[e.event] ?? 0) + 1;
      if (e.event === 'wal.corrupt_tail' || e.event === 'wal.replay_skipped_corrupt_tail') corruptTails.push({ cycle, ...e });
    }
  };
  // `lakehose generate` seeds are offsets into one SplitMix64 stream (seed s+1 is seed s
  // shifted by one draw), so nearby seeds share most eventIDs: the seeds of the cycles are
  // 10^12 apart, far more than the draws of one cycle.
  const seedOf = (cycle) => (cycle + 1) * 1e12 + SEED;
  const genFor = async (cycle) => {
    const g = await generate(CLI_BIN, RECORDS_PER_CYCLE, seedOf(cycle));
    for (const id of g.ids) {
      assert.ok(!allIds.has(id), `eventID ${id} generated twice (seed ${seedOf(cycle)})`);
      allIds.add(id);
    }
    return g;
  };

  let server = null;
  work.defer(() => server?.kill());
  let nextGen = genFor(0);
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      assert.ok(Date.now() - started < BUDGET_MS, `${dest}: over the time budget of ${BUDGET_MS} ms after ${cycle} cycles`);
      const gen = await nextGen;
      nextGen = genFor(cycle + 1);
      const early = cycle > 0 && random() < 0.15;
      const c = { cycle, early, acked: 0, batches: 0 };
      server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile, name: 'server' });

      if (early) {
        // Kill during start-up / WAL replay.
        earlyKills++;
        c.killAfterMs = 20 + Math.floor(random() * 230);
        await sleep(c.killAfterMs);
        const served = existsSync(server.portFile);
        if (!server.running()) diedOnItsOwn.push({ cycle, exit: server.exit, tail: server.tail() });
        await server.kill();
        if (served) {
          servedStarts++;
          assert.ok((await server.waitForEvent('wal.recovered', 2_000)).length > 0, `cycle ${cycle}: served without logging wal.recovered:\n${server.tail()}`);
        }
        c.served = served;
        inspect(server, cycle);
        perCycle.push(c);
        continue;
      }

      await server.waitForPort(PORT_TIMEOUT_MS);
      servedStarts++;
      const rec = await server.waitForEvent('wal.recovered');
      assert.ok(rec.length > 0, `cycle ${cycle}: the server serves but logged no wal.recovered:\n${server.tail()}`);
      recovered.push({ cycle, records: Number(rec[0].records), objects_requeued: Number(rec[0].objects_requeued), open_buffers: Number(rec[0].open_buffers) });
      c.killAfterMs = 300 + Math.floor(random() * 1200);
      const killAt = Date.now() + c.killAfterMs;
      const clients = clientsFor(server.target);
      await waitForReady(clients.ingestor, 10_000);

      const senders = startSenders({
        ingestor: clients.ingestor, pipeline: PIPELINE, gen, acked, sent, batch: BATCH, concurrency: CONCURRENCY,
        tag: `c${cycle}`, deadlineMs: RPC_DEADLINE_MS,
        onResult: async (r) => {
          c.batches++;
          if (r.error) {
            const name = statusName(r.error.code);
            const bucket = r.stopping ? errorsAtKill : errorsWhileServing;
            bucket[name] = (bucket[name] ?? 0) + 1;
            if (!r.stopping) {
              if (r.error.code !== 8 /* RESOURCE_EXHAUSTED */) note(`cycle ${cycle}: Ingest failed while serving: ${name} ${r.error.details}`);
              await sleep(100);
            }
          } else {
            batchesOk++;
            c.acked += r.acked;
          }
        },
      });
      // Sometimes a Flush at a random moment (its outcome does not matter; the kill may cut it).
      let flusher = null;
      if (random() < 0.5) {
        const at = Math.floor(random() * c.killAfterMs);
        flushesFired++;
        flusher = sleep(at).then(() => flush(clients.ingestor, PIPELINE, RPC_DEADLINE_MS)).catch(() => {});
      }
      await sleep(Math.max(0, killAt - Date.now()));
      if (!server.running()) diedOnItsOwn.push({ cycle, exit: server.exit, tail: server.tail() });
      senders.stop();
      const exit = await server.kill();
      c.exit = exit;
      await withTimeout(Promise.all([senders.done, flusher]), SENDERS_SETTLE_MS, `cycle ${cycle}: the senders to settle after the kill`);
      clients.close();
      inspect(server, cycle);
      perCycle.push(c);
    }
    await nextGen.catch(() => {});

    // The last start: recover, flush, SIGTERM.
    server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile, name: 'server' });
    await server.waitForPort(PORT_TIMEOUT_MS);
    servedStarts++;
    const rec = await server.waitForEvent('wal.recovered');
    assert.ok(rec.length > 0, `final start: no wal.recovered logged:\n${server.tail()}`);
    recovered.push({ cycle: 'final', records: Number(rec[0].records), objects_requeued: Number(rec[0].objects_requeued), open_buffers: Number(rec[0].open_buffers) });
    const clients = clientsFor(server.target);
    try {
      await flushRetrying(clients.ingestor, PIPELINE, FINAL_FLUSH_MS, (err) => note(`final flush: ${statusName(err.code)} ${err.details}; retrying`));
    } catch (err) {
      err.message += `\n${server.tail()}`;
      throw err;
    } finally {
      clients.close();
    }
    const exit = await server.stop(EXIT_TIMEOUT_MS);
    inspect(server, 'final');
    assert.deepEqual(exit, { code: 0, signal: null }, `lakehose-server on SIGTERM:\n${server.tail()}`);

    // For a post-mortem of a kept run: what was sent and acked.
    writeFileSync(join(dir, 'acked.txt'), `${[...acked].join('\n')}\n`);
    writeFileSync(join(dir, 'sent.txt'), `${[...sent].join('\n')}\n`);

    // The lake.
    const root = dest === 'file' ? lakeDir : join(dir, 'downloaded');
    const lake = await readLake({ root, pipeline: PIPELINE, compression: 'gzip', front });
    const v = verdict(lake, acked, sent);
    // DuckDB globs **/*.jsonl.gz, dot files included: it reads left-over temp files too.
    let duck;
    try {
      duck = await duckdbCounts(root, PIPELINE, 'gzip');
    } catch (err) {
      duck = { error: err.message.split('\n')[0] };
    }
    const elapsed = Date.now() - started;
    const totalRecovered = recovered.reduce((a, r) => a + (Number.isFinite(r.records) ? r.records : 0), 0);
    const totalRequeued = recovered.reduce((a, r) => a + (Number.isFinite(r.objects_requeued) ? r.objects_requeued : 0), 0);
    const summary = [
      `crash test, destination ${dest} (seed ${SEED}, batch ${BATCH}, concurrency ${CONCURRENCY}, size_mb ${SIZE_MB}):`,
      `  cycles ${CYCLES} (${earlyKills} killed during start-up), starts that served ${servedStarts}, ${elapsed} ms`,
      `  sent ${sent.size} records, acked ${acked.size} (${batchesOk} batches), flushes fired mid-cycle ${flushesFired}`,
      `  lake: ${lake.objects} objects, ${lake.lines} lines, ${lake.counts.size} distinct eventIDs; ` +
        `unacked records present ${v.unackedPresent}; duplicates ${v.duplicates.length}; missing ${v.missing.length}; never sent ${v.strangers.length}`,
      duck.error ? `  DuckDB: cannot read the lake: ${duck.error}`
        : `  DuckDB: ${duck.rows} rows, ${duck.distinct} distinct _eventID, ${duck.duplicated} duplicated, ${duck.files} files`,
      `  left-over temp files in the lake: ${lake.leftovers.length}${lake.leftovers.length ? ` e.g. ${lake.leftovers[0]}` : ''}; other unexpected files: ${lake.unexpected.length}`,
      `  WAL replay: ${totalRecovered} records replayed, ${totalRequeued} sealed objects re-queued over ${recovered.length} starts; corrupt tails reported ${corruptTails.length}`,
      `  Ingest errors while serving ${JSON.stringify(errorsWhileServing)}, at the kill ${JSON.stringify(errorsAtKill)}`,
      `  replay seal inconsistencies ${JSON.stringify(sealEvents)}; bad WAL events ${badEvents.length}${badEvents.length ? `: ${badEvents.slice(0, 5).map((e) => JSON.stringify(e)).join(' ')}` : ''}`,
    ];
    if (front) {
      const s = front.stats();
      summary.push(`  S3 front: ${s.requests} requests ${JSON.stringify(s.byOperation)}, statuses ${JSON.stringify(s.byStatus)}, ` +
        `conditional writes ${s.conditionalWrites}, rejected ${JSON.stringify(s.rejected)}`);
      assertFrontAccepted(s);
    }
    console.log(summary.join('\n'));
    for (const l of summary) note(l);

    assert.deepEqual(diedOnItsOwn.map((d) => d.cycle), [], `the server exited on its own: ${JSON.stringify(diedOnItsOwn, null, 1)}`);
    assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0,
      `${dest}: the lake does not hold every acked record exactly once (log: ${logFile}):\n${describeVerdict(v, lake)}`);
    assert.ok(acked.size > 0, 'nothing was acked at all');
    const leftovers = lake.leftovers.length ? ` (${lake.leftovers.length} temp files left in the lake by the file sink, e.g. ${lake.leftovers[0]})` : '';
    assert.ok(!duck.error, `DuckDB cannot read the lake: ${duck.error}${leftovers}`);
    assert.equal(duck.rows, lake.lines, `DuckDB rows = lines read${leftovers}`);
    assert.equal(duck.duplicated, 0, `DuckDB sees no _eventID twice${leftovers}`);
    assert.deepEqual(badEvents, [], `WAL replay reported inconsistencies (log: ${logFile})`);
    assert.equal(servedStarts, perCycle.filter((c) => !c.early || c.served).length + 1, 'every serving start was counted');
    assert.ok(Date.now() - started < BUDGET_MS + FINAL_FLUSH_MS, `${dest}: took ${Date.now() - started} ms`);
  } catch (err) {
    work.fail();
    err.message += `\n-- server log: ${logFile} (kept)`;
    if (server) err.message += `\n-- last server output:\n${server.tail(30)}`;
    throw err;
  } finally {
    await server?.kill().catch(() => {});
    await front?.close();
  }
}

// The deterministic core of the random cycles: one Ingest of 200 records (~150 KB) into
// one partition whose buffer seals at 50 KB, so objects are sealed in the middle of the
// request; once the sealed objects are stored (the rest of the request waits in its buffer,
// interval 60 s), SIGKILL; restart, Flush, SIGTERM: all 200 acked records must be in the
// lake, once.
async function sealMidRequest(t) {
  const dir = join(work.path, 'seal-mid-request');
  mkdirSync(dir, { recursive: true });
  const lakeDir = join(dir, 'lake');
  const cfgPath = join(dir, 'lakehose.yaml');
  writeFileSync(cfgPath, configYaml({
    dataDir: join(dir, 'var'), writerId: 'crash-seal', pipeline: PIPELINE, dest: { kind: 'file', path: lakeDir },
    sizeMb: 0.05, intervalS: 60, partitioned: false,
  }));
  const env = serverEnv(dir);
  const gen = await generate(CLI_BIN, 200, 99e12 + SEED);
  const acked = new Set();
  let server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, name: 'server' });
  work.defer(() => server.kill());
  try {
    await server.waitForPort(PORT_TIMEOUT_MS);
    let clients = clientsFor(server.target);
    const r = await ingestOnce(clients.ingestor, PIPELINE, gen, 0, 200, acked, { deadlineMs: RPC_DEADLINE_MS });
    assert.equal(r.ok, 200, `Ingest: ${r.error?.details}`);
    // Wait (bounded) until the objects sealed during the request are in the lake.
    const end = Date.now() + 10_000;
    let lake;
    do {
      await sleep(100);
      lake = await readLake({ root: lakeDir, pipeline: PIPELINE });
    } while (lake.objects === 0 && Date.now() < end);
    const before = { objects: lake.objects, records: lake.lines };
    assert.ok(before.records > 0 && before.records < 200, `expected part of the request stored before the kill, got ${JSON.stringify(before)}`);
    await server.kill();
    clients.close();
    server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, name: 'server' });
    await server.waitForPort(PORT_TIMEOUT_MS);
    clients = clientsFor(server.target);
    const f = await flush(clients.ingestor, PIPELINE, FINAL_FLUSH_MS);
    clients.close();
    const exit = await server.stop(EXIT_TIMEOUT_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, `lakehose-server on SIGTERM:\n${server.tail()}`);
    lake = await readLake({ root: lakeDir, pipeline: PIPELINE });
    const v = verdict(lake, acked, null);
    const line = `seal mid-request: before the kill ${before.objects} objects / ${before.records} records stored; after restart + Flush ` +
      `(${f.objects.length} objects) ${lake.objects} objects, ${lake.counts.size} of 200 acked records, missing ${v.missing.length}, duplicates ${v.duplicates.length}`;
    console.log(line);
    t.diagnostic(line);
    const said = server.events.filter((e) => BAD_EVENTS.includes(e.event) || SEAL_EVENTS.includes(e.event));
    assert.ok(v.missing.length === 0 && v.duplicates.length === 0,
      `${line}\n${describeVerdict(v, lake)}\nreplay said: ${said.map((e) => JSON.stringify(e)).join('\n')}`);
  } catch (err) {
    work.fail();
    err.message += `\n-- server log: ${join(dir, 'server.log')} (kept)`;
    throw err;
  } finally {
    await server.kill().catch(() => {});
  }
}

describe(`crash test: ${CYCLES} SIGKILL cycles per destination (${DESTS.join(', ')})`, { timeout: (BUDGET_MS + 200_000) * DESTS.length }, () => {
  after(() => work.close());
  it('SIGKILL after the ack of a request that sealed objects mid-request: nothing lost', { timeout: 60_000 }, (t) => sealMidRequest(t));
  for (const dest of DESTS) {
    it(`${dest}: every acked eventID in the lake exactly once, no duplicates`, { timeout: BUDGET_MS + 200_000 }, (t) => crashRun(dest, t));
  }
});
