// The Node half of disk_full.sh (which creates the small file system and unmounts it):
// lakehose-server with server.data_dir on a small file system (--data-dir, a few MB) and
// its file lake on a big one (--work), server.wal_min_free_mb 1.
//
//   1. A filler file leaves ~2 MiB free. One Ingest of a ~3.5 MB request: the free-space
//      check passes (2 MiB >= 1 MiB), the WAL write(2) hits ENOSPC: RESOURCE_EXHAUSTED,
//      and nothing partial stays in the WAL (its size is unchanged).
//   2. Small Ingests until one is refused by the free-space check (RESOURCE_EXHAUSTED,
//      "less than 1 MiB free").
//   3. Transform still answers; grpc.health still SERVING; Flush OK with every acked
//      record in the lake: the floor refuses new records only, seals and stores are
//      still logged below it (issue 13).
//   4. The filler is deleted: Ingest succeeds again (bounded wait), more records are sent.
//   5. Flush, SIGTERM (exit 0); a second start on the same data_dir replays the WAL with no
//      corrupt tail, Flush, SIGTERM.
//   6. Every acked record is in the lake exactly once; the server never died on its own.
//
//   node disk_full.mjs --server PATH --cli PATH --data-dir SMALL_FS_DIR --work BIG_DIR

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, generate, serverEnv, sleep } from '../lib/harness.mjs';
import { clientsFor, flush, grpc, statusName, waitForReady } from '../lib/grpc.mjs';
import { configYaml, readLake } from '../lib/lake.mjs';
import { assertExactlyOnce, diskArgs, freeBytes, restartCleanly, sender, stillServing } from './disk_common.mjs';

const { serverBin: SERVER_BIN, cliBin: CLI_BIN, small: SMALL, work: WORK } = diskArgs();
const PIPELINE = 'dur';
const MiB = 1024 * 1024;

const free = () => freeBytes(SMALL);
const walBytes = (walDir) => readdirSync(walDir).reduce((a, f) => a + statSync(join(walDir, f)).size, 0);
const log = (s) => console.log(`disk_full: ${s}`);

async function main() {
  const dataDir = join(SMALL, 'var');
  const walDir = join(dataDir, 'wal');
  const lakeDir = join(WORK, 'lake');
  const filler = join(SMALL, 'filler');
  mkdirSync(lakeDir, { recursive: true });
  const cfgPath = join(WORK, 'lakehose.yaml');
  writeFileSync(cfgPath, configYaml({
    dataDir, writerId: 'diskfull', pipeline: PIPELINE, dest: { kind: 'file', path: lakeDir },
    sizeMb: 64, intervalS: 3600, serverLines: ['  wal_min_free_mb: 1', '  shutdown_grace_s: 30'],
  }));
  const env = serverEnv(WORK);
  log(`small file system ${SMALL}: ${(free() / MiB).toFixed(2)} MiB free`);

  // Records: 30,000 (two pools far apart in the generator's stream).
  const gen = await generate(CLI_BIN, 30_000, 55e12);
  const acked = new Set();
  const sent = new Set();
  const send = sender({ gen, pipeline: PIPELINE, acked, sent });

  const server = new ServerProcess(SERVER_BIN, { dir: WORK, configPath: cfgPath, env, name: 'server' });
  let clients = null;
  try {
    await server.waitForPort(20_000);
    clients = clientsFor(server.target);
    await waitForReady(clients.ingestor);

    // Some records while there is room.
    for (let i = 0; i < 5; i++) assert.equal((await send(clients.ingestor, 200)).ok, 200, 'Ingest with room on the disk');
    log(`acked ${acked.size} with room; WAL ${walBytes(walDir)} bytes; ${(free() / MiB).toFixed(2)} MiB free`);

    // 1. Filler: leave ~2 MiB; one ~3.5 MB request hits ENOSPC in write(2).
    const leave = 2 * MiB;
    const fillBytes = free() - leave;
    assert.ok(fillBytes > 0, 'the small file system is too small');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(MiB, 0x5a);
    for (let left = fillBytes; left > 0;) {
      const n = writeSync(fd, chunk, 0, Math.min(chunk.length, left));
      left -= n;
    }
    fsyncSync(fd);
    closeSync(fd);
    await sleep(250);  // the server looks at free space at most every 100 ms
    const walBefore = walBytes(walDir);
    log(`filler ${(fillBytes / MiB).toFixed(2)} MiB; ${(free() / MiB).toFixed(2)} MiB free; WAL ${walBefore} bytes`);
    const big = await send(clients.ingestor, 5000);
    assert.ok(big.error, `a ~3.5 MB Ingest with ${(free() / MiB).toFixed(2)} MiB free answered OK`);
    log(`big Ingest: ${statusName(big.error.code)} ${big.error.details}`);
    assert.equal(big.error.code, grpc.status.RESOURCE_EXHAUSTED, `big Ingest on a full disk: ${statusName(big.error.code)} ${big.error.details}`);
    assert.match(big.error.details, /No space left on device/, 'the real ENOSPC path (write(2) failed), not the free-space check');
    assert.equal(walBytes(walDir), walBefore, 'the WAL keeps nothing of a refused request');
    assert.ok(server.running(), 'the server died on ENOSPC');

    // 2. Small requests until the free-space check refuses them.
    let refused = null;
    let smallOk = 0;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await send(clients.ingestor, 200);
      if (r.error) refused = r.error;
      else smallOk++;
    }
    assert.ok(refused, 'never refused while filling the last MiB');
    log(`${smallOk} small Ingests OK, then ${statusName(refused.code)} ${refused.details}; ${(free() / MiB).toFixed(2)} MiB free`);
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED, `refusal on a full disk: ${statusName(refused.code)} ${refused.details}`);
    // A retry delay for well-behaved clients: the message says when, and (unary) the
    // grpc-retry-pushback-ms trailer is set (not visible through grpc-js's callback API).
    assert.match(refused.details, /retry/i, 'the refusal says when to retry');

    // 3. Still serving: Transform, health; Flush seals and stores below the floor.
    const fullFlush = await stillServing(clients, server.target, PIPELINE, gen.lines[0]);
    const lakeAtFull = await readLake({ root: lakeDir, pipeline: PIPELINE });
    log(`Transform OK and health SERVING while full; Flush while full answered: ${fullFlush}; lake then holds ${lakeAtFull.lines} of ${acked.size} acked records`);
    const notLogged = server.eventsNamed('delivery.seal_not_logged');
    if (notLogged.length) log(`delivery.seal_not_logged x${notLogged.length}: ${JSON.stringify(notLogged[0])}`);
    // Flush's contract: "Seal and deliver now; returns when the objects are stored". An OK
    // while acked records stay in buffers is a false answer (checked at the end, so that
    // recovery is still exercised).
    const flushLied = /^OK/.test(fullFlush) && lakeAtFull.lines < acked.size
      ? `Flush answered OK (${fullFlush}) while the disk was full, but ${acked.size - lakeAtFull.lines} acked records were not stored ` +
        `(their seals could not be logged: delivery.seal_not_logged x${notLogged.length}); expected a non-OK status such as RESOURCE_EXHAUSTED`
      : null;
    if (flushLied) log(`NOTE: ${flushLied}`);
    assert.match(fullFlush, /^OK/, `Flush below the floor (seals are logged under it): ${fullFlush}`);
    assert.equal(lakeAtFull.lines, acked.size, 'Flush below the floor stored every acked record');
    assert.ok(server.running(), 'the server died while the disk was full');

    // 4. Room again: Ingest succeeds (bounded; the free-space check is cached 100 ms).
    rmSync(filler);
    log(`filler deleted; ${(free() / MiB).toFixed(2)} MiB free`);
    const end = Date.now() + 10_000;
    let again;
    for (;;) {
      again = await send(clients.ingestor, 200);
      if (!again.error || Date.now() > end) break;
      assert.equal(again.error.code, grpc.status.RESOURCE_EXHAUSTED, `after freeing space: ${statusName(again.error.code)} ${again.error.details}`);
      await sleep(200);
    }
    assert.ok(!again.error, `Ingest still refused 10 s after space came back: ${again.error && again.error.details}`);
    for (let i = 0; i < 10; i++) assert.equal((await send(clients.ingestor, 200)).ok, 200, 'Ingest after space came back');
    log(`Ingest OK again; acked ${acked.size} of ${sent.size} sent`);

    // 5. Flush, SIGTERM; a second start replays the WAL cleanly.
    const f1 = await flush(clients.ingestor, PIPELINE, 60_000);
    log(`flush: ${f1.objects.length} objects, ${f1.objects.reduce((a, o) => a + Number(o.records), 0)} records`);
    clients.close();
    clients = null;
    assert.ok(server.running(), 'the server died');
    const exit = await server.stop(60_000);
    assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
    const second = await restartCleanly({
      serverBin: SERVER_BIN, dir: WORK, configPath: cfgPath, env, name: 'server', pipeline: PIPELINE, earlierEvents: server.events,
    });
    log(`second start: wal.recovered ${JSON.stringify(second.recovered)}; flush ${second.flushed.objects.length} objects`);

    // 6. The lake.
    const lake = await readLake({ root: lakeDir, pipeline: PIPELINE });
    assertExactlyOnce(lake, acked, sent, log);
    assert.equal(lake.leftovers.length, 0, `left-over temp files: ${lake.leftovers}`);
    assert.equal(flushLied, null, flushLied ?? '');
    log('PASS');
  } catch (err) {
    console.error(`disk_full: FAIL: ${err.stack ?? err}\n-- server log: ${server.logFile}\n${server.tail(25)}`);
    process.exitCode = 1;
  } finally {
    clients?.close();
    await server.kill().catch(() => {});
  }
}

main().catch((err) => { console.error(err.stack ?? String(err)); process.exit(1); });
