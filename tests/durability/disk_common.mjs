// What the two Node parts of disk_full.sh share (disk_full.mjs: the file lake;
// disk_outage.mjs: S3 during an outage): their command line, the free space of the small
// file system, a sender that records what was sent and acked, and the restart on the same
// data_dir that must replay the WAL cleanly, and the verdict on the lake.

import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { basename, resolve } from 'node:path';

import { ServerProcess, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, flush, healthCheck, ingestOnce, statusName, unary } from '../lib/grpc.mjs';
import { describeVerdict, verdict } from '../lib/lake.mjs';

// --server, --cli, --data-dir (the small file system) and --work (a big one); exits 2
// with the usage line when one is missing. Returns {serverBin, cliBin, small, work}.
export function diskArgs() {
  const usage = '--data-dir SMALL_FS_DIR --work BIG_DIR';
  const { args, serverBin, cliBin } = suiteArgs({
    options: { 'data-dir': { type: 'string' }, work: { type: 'string' } },
    usage,
  });
  if (!args['data-dir'] || !args.work) {
    console.error(`usage: node ${basename(process.argv[1])} --server PATH/TO/lakehose-server --cli PATH/TO/lakehose ${usage}`);
    process.exit(2);
  }
  return { serverBin, cliBin, small: resolve(args['data-dir']), work: resolve(args.work) };
}

// Bytes an unprivileged writer can still use on the file system of `dir`.
export const freeBytes = (dir) => { const s = statfsSync(dir); return s.bavail * s.bsize; };

// send(ingestor, n, tag): one Ingest of the next n records of `gen` (harness.mjs
// generate()), added to `sent` first and to `acked` when answered OK; resolves
// ingestOnce's {ok} or {error}. Throws when the generated records run out.
export function sender({ gen, pipeline, acked, sent, deadlineMs = 30_000 }) {
  let cursor = 0;
  return (ingestor, n, tag = 'b') => {
    const from = cursor;
    const to = Math.min(from + n, gen.ids.length);
    assert.ok(to > from, 'ran out of generated records');
    cursor = to;
    for (let i = from; i < to; i++) sent.add(gen.ids[i]);
    return ingestOnce(ingestor, pipeline, gen, from, to, acked, { tag: `${tag}${from}`, deadlineMs });
  };
}

// While the disk is full: a small Transform answers OK and grpc.health says SERVING; then
// a Flush of `pipeline` is tried. Resolves its answer as text ("OK, N objects, M records",
// or the status and message).
export async function stillServing(clients, target, pipeline, line) {
  const tr = await unary(clients.transformer, 'Transform', { pipeline, records: [{ record_id: 'x', data: Buffer.from(line) }] });
  assert.equal(tr.records[0].result, 'OK', 'Transform while the disk is full');
  assert.equal(await healthCheck(target, 30_000), 'SERVING', 'health while the disk is full');
  try {
    const f = await flush(clients.ingestor, pipeline, 30_000);
    return `OK, ${f.objects.length} objects, ${f.objects.reduce((a, o) => a + Number(o.records), 0)} records`;
  } catch (err) {
    if (err.code === undefined) throw err;
    return `${statusName(err.code)} ${err.details}`;
  }
}

// WAL events that mean the log was not consistent (replay had to skip or refuse something).
const WAL_TROUBLE = /^wal\.(corrupt_tail|replay_skipped_corrupt_tail|seal_mismatch|seal_without_buffer|undecodable_frame|truncate_failed|unknown_pipeline)$/;

// After the previous server on `configPath` stopped: starts another one, which must log
// wal.recovered; Flush (`pipeline`); `during(clients)` for more checks; SIGTERM, exit 0.
// `earlierEvents` are the log events of the servers before; none of them nor of this one
// may be WAL trouble. Resolves {recovered (the wal.recovered event), flushed}.
export async function restartCleanly({ serverBin, dir, configPath, env, name, pipeline, earlierEvents, during = null, flushMs = 60_000 }) {
  const server = new ServerProcess(serverBin, { dir, configPath, env, name });
  let clients = null;
  try {
    await server.waitForPort(20_000);
    const rec = await server.waitForEvent('wal.recovered');
    assert.ok(rec.length > 0, 'no wal.recovered at the restart');
    clients = clientsFor(server.target);
    const flushed = await flush(clients.ingestor, pipeline, flushMs);
    if (during) await during(clients);
    clients.close();
    clients = null;
    const exit = await server.stop(60_000);
    assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM after the restart:\n${server.tail()}`);
    const bad = [...earlierEvents, ...server.events].filter((e) => WAL_TROUBLE.test(e.event));
    assert.deepEqual(bad, [], 'the WAL is consistent after the disk was full');
    return { recovered: rec[0], flushed };
  } catch (err) {
    err.message += `\n-- server log: ${server.logFile}\n${server.tail(25)}`;
    throw err;
  } finally {
    clients?.close();
    await server.kill().catch(() => {});
  }
}

// The verdict on `lake` (lake.mjs readLake()), logged with `log`: every acked record once,
// nothing never sent, nothing of a refused request (nothing partial). Returns it.
export function assertExactlyOnce(lake, acked, sent, log) {
  const v = verdict(lake, acked, sent);
  log(`lake: ${lake.objects} objects, ${lake.lines} lines; acked ${acked.size}; missing ${v.missing.length}, duplicates ${v.duplicates.length}, ` +
    `never sent ${v.strangers.length}, refused records present ${v.unackedPresent}`);
  assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0, describeVerdict(v, lake));
  assert.equal(v.unackedPresent, 0, 'records of refused requests must not be in the lake (nothing partial)');
  return v;
}
