// SIGTERM drain (README "Durability and the dead-letter queue"): while Ingest calls
// are in flight, SIGTERM must let them finish (each answers OK or, if it arrived after the
// drain began, UNAVAILABLE "server is shutting down" from the service during the lame-duck
// second: never CANCELLED, INTERNAL or a broken connection), turn health NOT_SERVING, flush the buffers within server.shutdown_grace_s, and exit 0; every record
// acked before or during the drain is in the lake, once, right after the exit (no restart
// needed), and nothing is left to replay.
//
//   node tests/durability/drain.test.mjs --server PATH --cli PATH
//
// Bounded: about 10 s; every wait has a deadline.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, WorkDir, generate, serverEnv, sleep, suiteArgs, withTimeout } from '../lib/harness.mjs';
import { clientsFor, healthCheck, ingestOnce, statusName, waitForReady } from '../lib/grpc.mjs';
import { configYaml, describeVerdict, readLake, verdict } from '../lib/lake.mjs';

const { serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs();

const PIPELINE = 'drain';
const SENDERS = 8;      // concurrent Ingest calls
const BATCH = 200;      // records per call
const RECORDS = 40_000; // more than the senders can send before the SIGTERM

const work = new WorkDir('lakehose-drain-');  // kept when the test fails
const dir = work.path;
let server = null;
try {
  const lake = join(dir, 'lake');
  mkdirSync(lake);
  const configPath = join(dir, 'config.yaml');
  // Big buffers and a long interval: at SIGTERM almost everything is still buffered, so the
  // drain has to flush it.
  writeFileSync(configPath, configYaml({
    dataDir: join(dir, 'data'), writerId: 'drain', pipeline: PIPELINE, dest: { kind: 'file', path: lake },
    sizeMb: 64, intervalS: 600, serverLines: ['  shutdown_grace_s: 20'],
  }));
  server = new ServerProcess(SERVER_BIN, { dir, configPath, env: serverEnv(dir), name: 'server' });
  await server.waitForPort();
  const gen = await generate(CLI_BIN, RECORDS, 77);
  const clients = clientsFor(server.target);
  await waitForReady(clients.ingestor);

  // Senders: each takes the next batch until told to stop or refused.
  const acked = new Set();
  const outcomes = {};  // status name -> calls
  const details = new Set();  // how the refused calls ended
  let next = 0;
  let sigtermAt = 0;
  let okAfterSigterm = 0;
  const sender = async () => {
    while (next < RECORDS) {
      const from = next;
      next += BATCH;
      const started = Date.now();
      const r = await ingestOnce(clients.ingestor, PIPELINE, gen, from, Math.min(from + BATCH, RECORDS), acked, { deadlineMs: 30_000 });
      const name = r.error ? statusName(r.error.code) : 'OK';
      outcomes[name] = (outcomes[name] ?? 0) + 1;
      if (r.error) details.add(`${name}: ${r.error.details} (started ${started - sigtermAt} ms after SIGTERM)`);
      if (!r.error && sigtermAt && started < sigtermAt) okAfterSigterm++;
      if (r.error) return;  // UNAVAILABLE: the server is draining (checked below)
    }
  };
  const senders = Array.from({ length: SENDERS }, sender);
  // Let calls flow, then SIGTERM while SENDERS calls are in flight.
  const until = Date.now() + 5_000;
  while (acked.size < 2_000 && Date.now() < until) await sleep(20);
  assert.ok(acked.size > 0, 'no Ingest was acked before the SIGTERM');
  sigtermAt = Date.now();
  server.child.kill('SIGTERM');
  // Health says NOT_SERVING while draining (or the server is already gone). Asked once the
  // server has taken the signal (a health call racing the kill could be answered first,
  // more so on a busy machine), and again until it says so within the lame-duck second.
  await server.waitForEvent('server.draining', 5_000);
  let healthState = null;
  for (const until = Date.now() + 800; ;) {
    healthState = await healthCheck(server.target, 2_000).catch((err) => `error ${statusName(err.code)}`);
    if (healthState !== 'SERVING' || Date.now() >= until) break;
    await sleep(20);
  }
  await withTimeout(Promise.all(senders), 30_000, 'the senders to finish');
  const exit = await withTimeout(server.exited, 30_000, 'the server to exit after SIGTERM');
  clients.close();

  console.log(`drain: ${acked.size} records acked; calls ${JSON.stringify(outcomes)}; ` +
    `${okAfterSigterm} calls in flight at SIGTERM answered OK; health during drain: ${healthState}; ${[...details].join('; ')}`);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${server.tail()}`);
  for (const name of Object.keys(outcomes))
    assert.ok(name === 'OK' || name === 'UNAVAILABLE', `a call during the drain ended ${name} (only OK or UNAVAILABLE allowed): ${JSON.stringify(outcomes)}`);
  assert.ok(okAfterSigterm > 0, 'no call that was in flight at SIGTERM finished OK: in-flight calls must finish');
  // The lame-duck second: the port still answers, health says NOT_SERVING, and new calls
  // are refused by the service (not cut off by the transport).
  assert.equal(healthState, 'NOT_SERVING', 'health while draining');
  for (const d of details) assert.match(d, /^UNAVAILABLE: server is shutting down/, 'how a call during the drain was refused');
  // Everything acked is in the lake now (flushed by the drain), each record once.
  const view = await readLake({ root: lake, pipeline: PIPELINE });
  const v = verdict(view, acked, null);
  assert.equal(v.missing.length + v.duplicates.length, 0, describeVerdict(v, view));
  assert.equal(server.eventsNamed('delivery.shutdown_incomplete').length, 0, 'the drain left objects unstored');
  console.log(`ok: ${view.counts.size} records in ${view.objects} objects after the drain`);
} catch (err) {
  work.fail();
  console.error(err);
  if (server) console.error(`---- server log\n${server.tail(30)}`);
} finally {
  if (server && server.running()) await server.kill();
  await work.close();
}
process.exit(work.failed ? 1 : 0);
