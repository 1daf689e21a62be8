// The second part of disk_full.sh (`disk_full.sh SERVER CLI --outage`): a disk that fills
// during an S3 outage (issue 13). lakehose-server with server.data_dir on the small file
// system the .sh made, delivering to S3 through the fault-injecting front
// (../lib/s3_front.mjs) over s3rver (on the big file system, --work), the dead-letter
// queue on with a short budget (server.dlq.delivery_retry_budget_s: 2) and a buffer budget
// (server.buffer_budget_mb: 2) smaller than what the disk can hold: while the destination
// is down, sealed objects go to the DLQ under data_dir, so the disk, not the in-memory
// budget, is what must run out.
//
//   1. The front answers 503 SlowDown to everything. One sender ingests slowly until the
//      destination's breaker is open (lakehose_destination_down 1; bounded). Before
//      that, sealed objects wait in memory for up to the DLQ budget, so a burst would
//      meet the buffer budget first (as designed; the breaker needs 5 s of failures).
//   2. Four senders ingest as fast as they can until the disk refuses: RESOURCE_EXHAUSTED
//      naming the disk (data_dir and the free-space floor, never a raw ENOSPC: the DLQ
//      stops at half the floor, so the disk keeps room and nothing meets ENOSPC). A refusal for the
//      buffer budget before that (objects waiting in memory for their hand-off to the
//      DLQ) is reported, backed off from and must pass. Nothing else than
//      RESOURCE_EXHAUSTED; the DLQ holds objects; the pending (in-memory) bytes stayed
//      within the budget.
//   3. Still serving: grpc.health SERVING, a small Transform OK; Flush not OK. For 6 s
//      more, a client retrying as told is refused each time, for the disk; the retry
//      worker logs at most one failure per entry, the hand-off's refusals are summed
//      after the first. Then SIGKILL:
//      a new process starts on the full disk with the destination still down, SERVING,
//      and the DLQ lost nothing.
//   4. The front heals: the DLQ drains (bounded), the breaker closes, free space comes
//      back, Ingest is accepted again (bounded), more records, Flush OK (bounded retries).
//   5. SIGTERM (exit 0); a third start on the same data_dir replays the WAL cleanly;
//      Flush OK, the DLQ empty, SIGTERM.
//   6. The bucket holds every acked record exactly once, nothing of a refused request,
//      nothing never sent; the front refused nothing but 412s.
//
//   node disk_outage.mjs --server PATH --cli PATH --data-dir SMALL_FS_DIR --work BIG_DIR
//
// Every wait is bounded; the whole takes about 30 s.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, serverEnv, generate, sleep } from '../lib/harness.mjs';
import { clientsFor, flush, grpc, healthCheck, listDeadLetters, statusName, waitForReady } from '../lib/grpc.mjs';
import { configYaml, readLake } from '../lib/lake.mjs';
import { startS3Front } from '../lib/s3_front.mjs';
import { assertExactlyOnce, diskArgs, freeBytes, restartCleanly, sender, stillServing } from './disk_common.mjs';

const { serverBin: SERVER_BIN, cliBin: CLI_BIN, small: SMALL, work: WORK } = diskArgs();
const PIPELINE = 'dur';
const MiB = 1024 * 1024;
const BUFFER_BUDGET_MB = 2;
const BATCH = 200;
const SENDERS = 4;
const RPC_DEADLINE_MS = 30_000;
const BREAKER_OPEN_BUDGET_MS = 30_000;
const FILL_BUDGET_MS = 40_000;
const DRAIN_BUDGET_MS = 60_000;
const INGEST_AGAIN_BUDGET_MS = 30_000;
const FLUSH_BUDGET_MS = 60_000;
const HOLD_FULL_MS = 6_000;
// Few tries per store, so that a store fails (and feeds the breaker) within a second.
const S3_RETRY = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };

const free = () => freeBytes(SMALL);
// Bytes of the files in `d` (a temp file renamed meanwhile counts as none).
const dirBytes = (d) => (existsSync(d) ? readdirSync(d).reduce((a, f) => {
  const st = statSync(join(d, f), { throwIfNoEntry: false });
  return a + (st?.isFile() ? st.size : 0);
}, 0) : 0);
const mib = (n) => (n / MiB).toFixed(2);
const log = (s) => console.log(`disk_outage: ${s}`);

// Polls pred() (async, truthy = done) every `everyMs` until it holds; bounded. Resolves
// its value; throws naming `what` after budgetMs.
async function waitFor(pred, budgetMs, what, everyMs = 250) {
  const end = Date.now() + budgetMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${budgetMs} ms`);
    await sleep(everyMs);
  }
}

const dlqEntries = (clients) => listDeadLetters(clients.deadLetters);

async function main() {
  const dataDir = join(SMALL, 'var');
  const walDir = join(dataDir, 'wal');
  const dlqDir = join(dataDir, 'dlq');
  const front = await startS3Front({ s3rverDir: join(WORK, 's3rver') });
  const cfgPath = join(WORK, 'lakehose-outage.yaml');
  writeFileSync(cfgPath, configYaml({
    dataDir, writerId: 'diskoutage', pipeline: PIPELINE,
    dest: { kind: 's3', endpoint: front.endpoint, retry: S3_RETRY },
    sizeMb: 0.05, intervalS: 1,
    serverLines: [
      '  wal_min_free_mb: 1',
      `  buffer_budget_mb: ${BUFFER_BUDGET_MB}`,
      '  shutdown_grace_s: 30',
      '  dlq: { delivery_retry_budget_s: 2, retry_base_ms: 200, retry_max_ms: 1000 }',
    ],
  }));
  const env = serverEnv(WORK);
  const freeAtStart = free();
  log(`small file system ${SMALL}: ${mib(freeAtStart)} MiB free; buffer budget ${BUFFER_BUDGET_MB} MB`);

  const gen = await generate(CLI_BIN, 50_000, 91e12);
  const acked = new Set();
  const sent = new Set();
  const send = sender({ gen, pipeline: PIPELINE, acked, sent, deadlineMs: RPC_DEADLINE_MS });

  let server = new ServerProcess(SERVER_BIN, { dir: WORK, configPath: cfgPath, env, name: 'server-outage' });
  let clients = null;
  try {
    await server.waitForPort(20_000);
    clients = clientsFor(server.target);
    await waitForReady(clients.ingestor);

    // 1. The outage; one slow sender until the breaker is open.
    const outageAt = Date.now();
    front.setFaults({ slowDown: 1, seed: 1313 });
    const opened = await waitFor(async () => {
      const r = await send(clients.ingestor, 50, 'w');
      assert.ok(!r.error, `Ingest while the destination goes down (disk not yet full, ${mib(free())} MiB free): ` +
        `${r.error && `${statusName(r.error.code)} ${r.error.details}`}`);
      const m = await server.scrape();
      return m.value('lakehose_destination_down') >= 1 ? m : null;
    }, BREAKER_OPEN_BUDGET_MS, 'the breaker to open (lakehose_destination_down 1) under 100% 503', 200);
    log(`breaker open ${Date.now() - outageAt} ms into the outage (opened ${opened.value('lakehose_destination_breaker_transitions_total', { to: 'open' })} time(s)); ` +
      `acked ${acked.size}; ${mib(free())} MiB free; WAL ${mib(dirBytes(walDir))} MiB, DLQ ${mib(dirBytes(dlqDir))} MiB`);

    // 2. Fill: senders as fast as they can until the disk refuses; pending bytes sampled.
    // A refusal for the buffer budget means objects wait in memory for their hand-off to
    // the DLQ (one durable file each, fsync included, by the upload threads): on a file
    // system where that is slower than the WAL, a burst outruns it. Such a refusal is
    // allowed (the in-memory budget is truly spent) but must pass: the sender backs off
    // as told (1 s) and goes on, until the disk is what refuses.
    let peakPending = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try { peakPending = Math.max(peakPending, (await server.scrape()).value('lakehose_pending_bytes') ?? 0); } catch { /* next */ }
        await sleep(100);
      }
    })();
    const refusals = [];
    const budgetRefusals = [];
    const errors = {};
    const fillStart = Date.now();
    let full = false;
    await Promise.all(Array.from({ length: SENDERS }, async (_, w) => {
      while (!full && Date.now() - fillStart < FILL_BUDGET_MS) {
        const r = await send(clients.ingestor, BATCH, `f${w}-`);
        if (!r.error) continue;
        const n = statusName(r.error.code);
        errors[n] = (errors[n] ?? 0) + 1;
        if (r.error.code !== grpc.status.RESOURCE_EXHAUSTED) continue;
        if (/buffer budget/.test(r.error.details)) {
          budgetRefusals.push({ details: r.error.details, freeBytes: free(), atMs: Date.now() - fillStart });
          await sleep(1000);
          continue;
        }
        refusals.push({ details: r.error.details, freeBytes: free() });
        full = true;
      }
    }));
    sampling = false;
    await sampler;
    const fillMs = Date.now() - fillStart;
    const atFull = await server.scrape();
    const freeAtFull = free();
    const walAtFull = dirBytes(walDir);
    const dlqAtFull = dirBytes(dlqDir);
    log(`fill: ${fillMs} ms, acked ${acked.size} of ${sent.size} sent; errors ${JSON.stringify(errors)}; ` +
      `${mib(freeAtFull)} MiB free, WAL ${mib(walAtFull)} MiB, DLQ ${mib(dlqAtFull)} MiB; ` +
      `peak lakehose_pending_bytes ${mib(peakPending)} MiB (budget ${BUFFER_BUDGET_MB} MB)`);
    if (budgetRefusals.length > 0) {
      const b = budgetRefusals[0];
      log(`NOTE: ${budgetRefusals.length} refusal(s) for the buffer budget first, the first ${b.atMs} ms into the fill with ` +
        `${mib(b.freeBytes)} MiB free (the DLQ hand-off was slower than Ingest): ${b.details}`);
    }
    assert.deepEqual(Object.keys(errors), ['RESOURCE_EXHAUSTED'], `Ingest errors other than RESOURCE_EXHAUSTED: ${JSON.stringify(errors)}`);
    // With the destination down, objects go to the DLQ on data_dir: in the end the disk
    // fills, and the answer says so (the free-space floor, or ENOSPC from a write).
    assert.ok(full, `the disk never refused within ${FILL_BUDGET_MS} ms of ingest at full speed on a ${mib(freeAtStart)} MiB disk ` +
      `(${budgetRefusals.length} refusals for the buffer budget, the last: ${budgetRefusals.at(-1)?.details}; ${mib(free())} MiB free)`);
    const kinds = new Set(refusals.map((x) => x.details));
    for (const d of kinds) log(`refusal: ${d}`);
    const first = refusals[0];
    // The free-space floor, never a raw ENOSPC: the DLQ stops at half the floor, so the
    // disk never reaches 0 bytes and the WAL's check is what refuses.
    assert.match(first.details, /less than 1 MiB free/, `the refusal names the floor of the full disk: ${first.details}`);
    assert.ok(first.details.includes(dataDir), `the refusal names the directory (${dataDir}): ${first.details}`);
    assert.match(first.details, /retry in/i, `the refusal says when to retry: ${first.details}`);
    assert.ok(peakPending <= BUFFER_BUDGET_MB * MiB, `pending bytes ${peakPending} past the buffer budget`);
    assert.ok(freeAtFull < 2 * MiB, `refused with ${mib(freeAtFull)} MiB free (floor 1 MiB)`);
    assert.ok(freeAtFull > 0, 'the disk reached 0 bytes free: the DLQ did not keep its floor (half of wal_min_free_mb)');
    const dlqFull = await dlqEntries(clients);
    const dlqRecords = dlqFull.reduce((a, e) => a + Number(e.records), 0);
    log(`DLQ at full: ${dlqFull.length} entries, ${dlqRecords} records (of ${acked.size} acked; the rest in the WAL and memory); ` +
      `lakehose_dlq_depth ${atFull.value('lakehose_dlq_depth', { kind: 'delivery' })}, ` +
      `rejected disk_full ${atFull.value('lakehose_ingest_rejected_records_total', { reason: 'disk_full' })}, ` +
      `buffer_full ${atFull.value('lakehose_ingest_rejected_records_total', { reason: 'buffer_full' })}`);
    assert.ok(dlqFull.length > 0, 'the DLQ is empty at full disk: the outage did not dead-letter');
    assert.ok(atFull.value('lakehose_ingest_rejected_records_total', { reason: 'disk_full' }) > 0, 'refusals counted as disk_full');
    assert.equal(atFull.value('lakehose_ingest_rejected_records_total', { reason: 'buffer_full' }) ?? 0, budgetRefusals.length * BATCH,
      'refusals counted as buffer_full');
    for (const e of dlqFull) {
      assert.equal(e.kind, 'DELIVERY', `entry ${e.id}: ${JSON.stringify(e)}`);
      assert.equal(e.pipeline, PIPELINE, `entry ${e.id}: ${JSON.stringify(e)}`);
    }
    assert.ok(dlqRecords <= acked.size, `the DLQ holds ${dlqRecords} records, more than the ${acked.size} acked`);
    assert.equal(await front.listObjects().then((l) => l.length), 0, 'objects reached the bucket through a 100% 503 front');

    // 3. Still serving.
    const fullFlush = await stillServing(clients, server.target, PIPELINE, gen.lines[0]);
    log(`Transform OK and health SERVING while full; Flush while full and down: ${fullFlush}`);
    assert.ok(!/^OK/.test(fullFlush), `Flush answered ${fullFlush} while S3 answers 503 to everything`);
    // Seals pass under the floor (the WAL keeps the space below it for its progress
    // frames), so Flush seals everything; a buffer it could not seal would be counted as
    // a buffer, never as an object.
    assert.doesNotMatch(fullFlush, /object\(s\) could not be stored yet \(first error: a buffer could not be sealed/,
      `Flush counts buffers it could not seal as objects: ${fullFlush}`);
    assert.ok(server.running(), 'the server died with a full disk');
    const addFailed = server.eventsNamed('dlq.add_failed');
    const recordFailed = server.eventsNamed('dlq.record_attempt_failed');
    log(`events so far: delivery.dead_lettered ${server.eventsNamed('delivery.dead_lettered').length}, ` +
      `dlq.add_failed ${addFailed.length}${addFailed.length ? ` (${addFailed[0].error})` : ''}, ` +
      `dlq.record_attempt_failed ${recordFailed.length}${recordFailed.length ? ` (${recordFailed[0].error})` : ''}, ` +
      `delivery.seal_not_logged ${server.eventsNamed('delivery.seal_not_logged').length}`);

    // 3b. The outage and the full disk last: a client that retries as told is refused each
    // time, for the disk, and the server stays up.
    const holdEnd = Date.now() + HOLD_FULL_MS;
    const held = {};
    const holdFrontRequests = front.stats().requests;
    const holdRecordFailed = server.eventsNamed('dlq.record_attempt_failed').length;
    while (Date.now() < holdEnd) {
      const r = await send(clients.ingestor, BATCH, 'h');
      const k = r.error ? statusName(r.error.code) : 'OK';
      held[k] = (held[k] ?? 0) + 1;
      if (r.error) {
        assert.equal(r.error.code, grpc.status.RESOURCE_EXHAUSTED, `Ingest while full and down: ${statusName(r.error.code)} ${r.error.details}`);
        assert.doesNotMatch(r.error.details, /buffer budget/, `a refusal while full and down blames the buffer budget: ${r.error.details}`);
      }
      await sleep(500);
    }
    assert.ok(server.running(), 'the server died while full and down');
    const recordFailedHold = server.eventsNamed('dlq.record_attempt_failed').length - holdRecordFailed;
    log(`held full and down for ${HOLD_FULL_MS} ms: Ingest answers ${JSON.stringify(held)}; ${mib(free())} MiB free; ` +
      `${front.stats().requests - holdFrontRequests} requests reached the front; dlq.record_attempt_failed ${recordFailedHold}`);
    // The DLQ refuses new entries below half the floor (issue 13: it used to write the
    // disk down to ENOSPC), so nothing meets ENOSPC. The retry worker keeps an entry's
    // backoff in memory when it cannot record an attempt, so such a failure is logged at
    // most once per entry, not at every tick; a seal the WAL refused is logged once per
    // buffer (then summed), not once per buffer per tick.
    const enospc = ['dlq.add_failed', 'dlq.record_attempt_failed', 'delivery.seal_not_logged', 'delivery.store_failed']
      .flatMap((n) => server.eventsNamed(n)).filter((e) => /No space left/.test(e.error ?? ''));
    assert.equal(enospc.length, 0, `ENOSPC met while full and down: ${JSON.stringify(enospc.slice(0, 3))}`);
    assert.ok(recordFailedHold <= dlqFull.length, `${recordFailedHold} dlq.record_attempt_failed in ${HOLD_FULL_MS} ms for ${dlqFull.length} entries`);
    const sealNotLogged = server.eventsNamed('delivery.seal_not_logged').length;
    const addFailedHeld = server.eventsNamed('dlq.add_failed').length;
    log(`while full and down: delivery.seal_not_logged ${sealNotLogged}, dlq.add_failed ${addFailedHeld} ` +
      `(dlq.add_failures summaries ${server.eventsNamed('dlq.add_failures').length})`);
    assert.ok(addFailedHeld <= 2, `dlq.add_failed logged ${addFailedHeld} times: the disk's refusals are summed after the first`);

    // 3c. A crash while full and down: what was acked is on disk (WAL or DLQ). A new
    // process starts on the full disk with the destination still down, and serves; the
    // acked records reach the bucket after healing (checked at the end).
    const dlqBeforeCrash = (await dlqEntries(clients)).length;
    clients.close();
    clients = null;
    assert.deepEqual(await server.kill(), { code: null, signal: 'SIGKILL' }, 'SIGKILL while full and down');
    const crashedEvents = server.events;
    server = new ServerProcess(SERVER_BIN, { dir: WORK, configPath: cfgPath, env, name: 'server-outage' });
    await server.waitForPort(20_000);
    const recFull = await server.waitForEvent('wal.recovered');
    assert.ok(recFull.length > 0, 'no wal.recovered after the crash on a full disk');
    clients = clientsFor(server.target);
    await waitForReady(clients.ingestor);
    assert.equal(await healthCheck(server.target, 30_000), 'SERVING', 'health after the crash, full and down');
    const dlqAfterCrash = (await dlqEntries(clients)).length;
    log(`restarted after SIGKILL, full and down: wal.recovered ${JSON.stringify(recFull[0])}; DLQ ${dlqBeforeCrash} -> ${dlqAfterCrash} entries; ` +
      `${mib(free())} MiB free`);
    assert.ok(dlqAfterCrash >= dlqBeforeCrash, `DLQ entries lost in the crash: ${dlqBeforeCrash} -> ${dlqAfterCrash}`);

    // 4. Heal: the DLQ drains, space comes back, Ingest is accepted again.
    front.setFaults({});
    const healedAt = Date.now();
    log(`healed after an outage of ${healedAt - outageAt} ms`);
    await waitFor(async () => (await dlqEntries(clients)).length === 0, DRAIN_BUDGET_MS, 'the DLQ to drain after healing', 500);
    const drainMs = Date.now() - healedAt;
    const freeAfterDrain = free();
    log(`DLQ drained in ${drainMs} ms (dlq.delivered ${server.eventsNamed('dlq.delivered').length}); ` +
      `${mib(freeAfterDrain)} MiB free, WAL ${mib(dirBytes(walDir))} MiB, DLQ ${mib(dirBytes(dlqDir))} MiB`);
    assert.ok(freeAfterDrain > freeAtFull + dlqAtFull / 2, `space did not come back: ${mib(freeAtFull)} -> ${mib(freeAfterDrain)} MiB free ` +
      `(the DLQ held ${mib(dlqAtFull)} MiB)`);
    const again = await waitFor(async () => {
      const r = await send(clients.ingestor, BATCH, 'a');
      if (r.error) {
        assert.equal(r.error.code, grpc.status.RESOURCE_EXHAUSTED, `Ingest after healing: ${statusName(r.error.code)} ${r.error.details}`);
        return null;
      }
      return Date.now();
    }, INGEST_AGAIN_BUDGET_MS, 'Ingest to be accepted again after healing', 500);
    log(`Ingest accepted again ${again - healedAt} ms after healing`);
    for (let i = 0; i < 5; i++) {
      const r = await send(clients.ingestor, BATCH, 'b');
      assert.ok(!r.error, `Ingest after recovery: ${r.error && `${statusName(r.error.code)} ${r.error.details}`}`);
    }
    const f0 = Date.now();
    const flushed = await waitFor(async () => {
      try {
        return await flush(clients.ingestor, PIPELINE, FLUSH_BUDGET_MS);
      } catch (err) {
        if (err.code === undefined) throw err;
        log(`flush after healing: ${statusName(err.code)} ${err.details}; retrying`);
        return null;
      }
    }, FLUSH_BUDGET_MS, 'Flush to answer OK after healing', 1000);
    log(`flush OK ${Date.now() - f0} ms: ${flushed.objects.length} objects; acked ${acked.size} of ${sent.size} sent`);
    await waitFor(async () => (await dlqEntries(clients)).length === 0, DRAIN_BUDGET_MS, 'the DLQ to be empty after the Flush', 500);
    const healed = await server.scrape();
    assert.equal(healed.value('lakehose_destination_down'), 0, 'lakehose_destination_down after healing');
    assert.equal(healed.value('lakehose_dlq_depth'), 0, 'lakehose_dlq_depth after healing');

    // 5. SIGTERM; a third start replays the WAL cleanly and stores nothing twice.
    clients.close();
    clients = null;
    const exit = await server.stop(60_000);
    assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
    const third = await restartCleanly({
      serverBin: SERVER_BIN, dir: WORK, configPath: cfgPath, env, name: 'server-outage', pipeline: PIPELINE,
      earlierEvents: [...crashedEvents, ...server.events], flushMs: FLUSH_BUDGET_MS,
      during: async (c) => assert.equal((await dlqEntries(c)).length, 0, 'DLQ entries after the third start'),
    });
    log(`third start: wal.recovered ${JSON.stringify(third.recovered)}; flush ${third.flushed.objects.length} objects`);

    // 6. The bucket.
    const lake = await readLake({ root: join(WORK, 'downloaded'), pipeline: PIPELINE, front });
    const s = front.stats();
    log(`front: ${s.requests} requests, statuses ${JSON.stringify(s.byStatus)}, injected ${JSON.stringify(s.injected)}, rejected ${JSON.stringify(s.rejected)}`);
    assertExactlyOnce(lake, acked, sent, (line) => log(`bucket: ${line}`));
    assert.equal(lake.unexpected.length, 0, `unexpected objects: ${lake.unexpected.slice(0, 5)}`);
    const { PreconditionFailed, ...otherRejections } = s.rejected;
    assert.deepEqual(otherRejections, {}, `requests the front refused: ${JSON.stringify(s.lastRejections, null, 1)}`);
    log('PASS');
  } catch (err) {
    console.error(`disk_outage: FAIL: ${err.stack ?? err}\n-- server log: ${server.logFile}\n${server.tail(25)}`);
    process.exitCode = 1;
  } finally {
    clients?.close();
    await server.kill().catch(() => {});
    await front.close();
  }
}

main().catch((err) => { console.error(err.stack ?? String(err)); process.exit(1); });
