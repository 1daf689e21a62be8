// A WAL segment damaged in the middle (README "Durability and the dead-letter queue"): a
// damaged file loses only what is damaged, and says so.
//
//   - lakehose-server with a file lake and buffers that never seal on their own
//     (size_mb 64, interval_s 3600); 5,000 generated records are ingested in 50 requests
//     of 100 (one WAL frame each) and acknowledged;
//   - SIGKILL (everything is still only in the WAL), then 8 bytes in the middle of the
//     WAL segment are inverted;
//   - restart, Flush: every acknowledged record except those of the damaged frame(s) is
//     in the lake exactly once; the records missing are whole requests (whole frames), one
//     or two adjacent ones; their number is what wal.damaged_segment logs as records_lost
//     and what lakehose_wal_records_lost_total counts; lakehose_wal_damaged_segments_total
//     is 1;
//   - after the Flush the segment is not deleted but kept aside, byte for byte, in
//     data_dir/wal/damaged/ (wal.segment_kept_aside; lakehose_wal_segments_kept_aside 1);
//   - a further restart and Flush replay nothing from it and add nothing to the lake; the
//     gauge still says 1; SIGTERM exits 0.
//
//   node tests/durability/wal_damage.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose [--keep]
//
// Every wait is bounded. A failed run keeps its directory (server.log, the lake, the WAL).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { ServerProcess, WorkDir, generate, serverEnv, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, flush, ingestOnce, waitForReady } from '../lib/grpc.mjs';
import { configYaml, describeVerdict, readLake, verdict } from '../lib/lake.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { keep: { type: 'boolean' } },
  usage: '[--keep]',
});
const PIPELINE = 'dur';
const RECORDS = 5_000;
const BATCH = 100;
const PORT_TIMEOUT_MS = 30_000;
const RPC_DEADLINE_MS = 30_000;
const FLUSH_MS = 60_000;

const work = new WorkDir('lakehose-wal-damage-', { keep: args.keep });

// The largest .wal file directly under `dir`.
function largestSegment(dir) {
  let best = null;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.wal')) continue;
    const size = statSync(join(dir, name)).size;
    if (!best || size > best.size) best = { path: join(dir, name), size };
  }
  return best;
}

// Inverts `n` bytes at `offset` of the file.
function invertBytes(path, offset, n) {
  const fd = openSync(path, 'r+');
  try {
    const buf = Buffer.alloc(n);
    assert.equal(readSync(fd, buf, 0, n, offset), n);
    for (let i = 0; i < n; i++) buf[i] ^= 0xff;
    assert.equal(writeSync(fd, buf, 0, n, offset), n);
  } finally {
    closeSync(fd);
  }
}

async function damagedMiddle(t) {
  const dir = work.path;
  const dataDir = join(dir, 'var');
  const walDir = join(dataDir, 'wal');
  const lakeDir = join(dir, 'lake');
  const cfgPath = join(dir, 'lakehose.yaml');
  writeFileSync(cfgPath, configYaml({
    dataDir, writerId: 'wal-damage', pipeline: PIPELINE, dest: { kind: 'file', path: lakeDir },
    sizeMb: 64, intervalS: 3600, partitioned: false,
  }));
  const env = serverEnv(dir);
  const logFile = join(dir, 'server.log');
  const gen = await generate(CLI_BIN, RECORDS, 424242);
  const acked = new Set();
  const batches = [];  // eventIDs of each request (= one WAL frame)
  let server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
  work.defer(() => server.kill());
  try {
    await server.waitForPort(PORT_TIMEOUT_MS);
    let clients = clientsFor(server.target);
    await waitForReady(clients.ingestor, 10_000);
    for (let from = 0; from < RECORDS; from += BATCH) {
      const r = await ingestOnce(clients.ingestor, PIPELINE, gen, from, from + BATCH, acked, { tag: `b${from}`, deadlineMs: RPC_DEADLINE_MS });
      assert.equal(r.ok, BATCH, `Ingest [${from}, ${from + BATCH}): ${r.error?.details}`);
      batches.push(gen.ids.slice(from, from + BATCH));
    }
    assert.equal(acked.size, RECORDS);
    clients.close();
    await server.kill();
    const lakeBefore = await readLake({ root: lakeDir, pipeline: PIPELINE });
    assert.equal(lakeBefore.lines, 0, 'nothing was stored before the kill (buffers never sealed)');

    const seg = largestSegment(walDir);
    assert.ok(seg && seg.size > 100_000, `a WAL segment holding the 5,000 records: ${JSON.stringify(seg)}`);
    const at = Math.floor(seg.size / 2);
    invertBytes(seg.path, at, 8);
    const damagedBytes = readFileSync(seg.path);

    // Restart on the damaged log, Flush.
    server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
    await server.waitForPort(PORT_TIMEOUT_MS);
    const damaged = await server.waitForEvent('wal.damaged_segment');
    assert.equal(damaged.length, 1, `one wal.damaged_segment event:\n${server.tail()}`);
    const ev = damaged[0];
    assert.equal(ev.segment, seg.path);
    const ranges = ev.skipped.split(',').map((r) => r.split('-').map(Number));
    assert.ok(ranges.some(([b, e]) => b <= at && at + 8 <= e), `the skipped ranges ${ev.skipped} cover the damage at ${at}`);
    const recovered = await server.waitForEvent('wal.recovered');
    assert.equal(recovered.length, 1);
    let scrape = await server.scrape();
    clients = clientsFor(server.target);
    const f = await flush(clients.ingestor, PIPELINE, FLUSH_MS);
    clients.close();

    const lake = await readLake({ root: lakeDir, pipeline: PIPELINE });
    const v = verdict(lake, acked, acked);
    // What is missing is whole requests (whole frames), one or two adjacent ones.
    const missing = new Set(v.missing);
    const hit = batches.map((ids, i) => ({ i, n: ids.filter((id) => missing.has(id)).length })).filter((b) => b.n > 0);
    const line = `WAL damaged at byte ${at} of ${seg.size}: replay skipped ${ev.skipped}, logged frames_lost ${ev.frames_lost}, ` +
      `records_lost ${ev.records_lost}; recovered ${recovered[0].records} records; after Flush (${f.objects.length} objects) ` +
      `${lake.counts.size} of ${RECORDS} acked records in the lake, missing ${v.missing.length} (requests ${hit.map((b) => b.i).join(', ')}), ` +
      `duplicates ${v.duplicates.length}`;
    console.log(line);
    t.diagnostic(line);
    assert.equal(v.duplicates.length, 0, describeVerdict(v, lake));
    assert.equal(v.strangers.length, 0, describeVerdict(v, lake));
    assert.ok(hit.length === 1 || (hit.length === 2 && hit[1].i === hit[0].i + 1), `missing records come from ${JSON.stringify(hit)}`);
    for (const b of hit) assert.equal(b.n, BATCH, `request ${b.i} is missing whole, not in part`);
    assert.equal(Number(ev.records_lost), v.missing.length, 'records_lost logged = records actually missing');
    assert.equal(Number(ev.frames_lost), hit.length, 'frames_lost logged = requests missing');
    assert.equal(Number(recovered[0].records), RECORDS - v.missing.length);
    assert.equal(scrape.value('lakehose_wal_records_lost_total'), v.missing.length, 'lakehose_wal_records_lost_total');
    assert.equal(scrape.value('lakehose_wal_damaged_segments_total'), 1);
    assert.equal(scrape.value('lakehose_wal_corrupt_tails_total'), 0, 'a damaged middle is not a torn tail');

    // Kept aside after the Flush, byte for byte; never deleted.
    const aside = join(walDir, 'damaged', basename(seg.path));
    assert.ok(!existsSync(seg.path), 'the damaged segment left the live log');
    assert.ok(existsSync(aside), `kept aside as ${aside}`);
    assert.ok(readFileSync(aside).equals(damagedBytes), 'kept aside unchanged');
    assert.ok((await server.waitForEvent('wal.segment_kept_aside')).length === 1, `wal.segment_kept_aside:\n${server.tail()}`);
    scrape = await server.scrape();
    assert.equal(scrape.value('lakehose_wal_segments_kept_aside'), 1);
    assert.deepEqual(await server.stop(FLUSH_MS), { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);

    // Once more: nothing is replayed from the kept-aside segment, nothing added to the lake.
    server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env, logFile });
    await server.waitForPort(PORT_TIMEOUT_MS);
    const again = await server.waitForEvent('wal.recovered');
    assert.equal(Number(again[0].records), 0, 'nothing replayed again');
    assert.equal(server.eventsNamed('wal.damaged_segment').length, 0);
    scrape = await server.scrape();
    assert.equal(scrape.value('lakehose_wal_segments_kept_aside'), 1, 'still kept aside until an operator removes it');
    clients = clientsFor(server.target);
    await flush(clients.ingestor, PIPELINE, FLUSH_MS);
    clients.close();
    const lake2 = await readLake({ root: lakeDir, pipeline: PIPELINE });
    assert.equal(lake2.lines, lake.lines, 'the lake is unchanged');
    assert.deepEqual(await server.stop(FLUSH_MS), { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
    assert.ok(existsSync(aside));
  } catch (err) {
    work.fail();
    err.message += `\n-- kept: ${dir}\n-- last server output:\n${server.tail(30)}`;
    throw err;
  } finally {
    await server.kill().catch(() => {});
  }
}

describe('WAL damaged in the middle of a segment', { timeout: 240_000 }, () => {
  after(() => work.close());
  it('loses only the damaged frames, reports the records lost, keeps the segment aside', { timeout: 200_000 }, (t) => damagedMiddle(t));
});
