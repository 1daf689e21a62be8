// What the SIGKILL suites on an Iceberg table share (iceberg/crash.test.mjs on the file
// catalog, iceberg/rest_crash.test.mjs on the REST catalog): their command line, the
// records of each cycle, the kill in start-up, the served part of a cycle (Ingest senders
// that keep what was sent and acknowledged, a Flush at a random moment, SIGKILL, the
// clients left to settle), the last start (Flush, SIGTERM) and the exactly-once verdict.
// The suites start the server, choose the moment and read the table.
//
// Every wait is bounded. Used from one Node thread.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { clientsFor, flush, flushRetrying, startSenders, statusName, waitForReady } from './grpc.mjs';
import { generate, sleep, suiteArgs, withTimeout } from './harness.mjs';
import { describeVerdict } from './lake.mjs';

// A crash suite's command line: harness.mjs suiteArgs with --cycles (5), --seed (random
// below 10^6), --batch (200), --concurrency (3), --budget-s (240) and --keep, plus the
// suite's own `options` and `usage`; `check(args)` returns an error line for them, or
// null. Exits 2 with the usage on a bad value. Returns {args, serverBin, cliBin, cycles,
// seed, batch, concurrency, budgetMs}.
export function crashSuiteArgs({ options = {}, usage = '', check = () => null } = {}) {
  const { args, serverBin, cliBin } = suiteArgs({
    options: {
      cycles: { type: 'string' }, seed: { type: 'string' }, batch: { type: 'string' },
      concurrency: { type: 'string' }, 'budget-s': { type: 'string' }, keep: { type: 'boolean' }, ...options,
    },
    usage: `[--cycles 5] ${usage ? `${usage} ` : ''}[--seed N] [--batch 200] [--concurrency 3] [--budget-s 240] [--keep]`,
  });
  const cycles = Number(args.cycles ?? 5);
  const seed = Number(args.seed ?? (Date.now() % 1_000_000));
  const why = !(cycles >= 1) || !(Number.isInteger(seed) && seed >= 0 && seed < 1e6) ? '--cycles: at least 1; --seed: 0 <= N < 1000000' : check(args);
  if (why) {
    console.error(why);
    process.exit(2);
  }
  return {
    args, serverBin, cliBin, cycles, seed,
    batch: Number(args.batch ?? 200), concurrency: Number(args.concurrency ?? 3), budgetMs: Number(args['budget-s'] ?? 240) * 1000,
  };
}

// The records of each cycle: `lakehose generate` (harness.mjs) of `records` records with a
// seed of its own per cycle (10^12 apart: its seeds are offsets into one stream), the
// next cycle's generated while this one runs; an eventID seen in two cycles is a failed
// assertion. take() resolves the next cycle's {lines, ids}; close() waits for the one
// generated ahead.
export function cycleRecords(cli, records, seed) {
  const allIds = new Set();
  const generateFor = async (cycle) => {
    const g = await generate(cli, records, (cycle + 1) * 1e12 + seed);
    for (const id of g.ids) {
      assert.ok(!allIds.has(id), `eventID ${id} generated twice`);
      allIds.add(id);
    }
    return g;
  };
  let cycle = 0;
  let next = generateFor(0);
  return {
    async take() {
      const g = await next;
      next = generateFor(++cycle);
      return g;
    },
    close: () => next.catch(() => {}),
  };
}

// What the cycles of a SIGKILL suite saw: {flushesFired, diedOnItsOwn: [{cycle, exit,
// tail}] (the server had exited before its kill)}, filled by the functions below.
export const newTally = () => ({ flushesFired: 0, diedOnItsOwn: [] });

// Kills `server` with SIGKILL, noting in `tally` (cycle `cycle`) if it had died on its own.
async function killNoting(server, tally, cycle) {
  if (!server.running()) tally.diedOnItsOwn.push({ cycle, exit: server.exit, tail: server.tail() });
  await server.kill();
}

// A kill during start-up or WAL replay: SIGKILL 20-250 ms (drawn from `random`) after
// `server` was spawned.
export async function killInStartUp(server, random, tally, cycle) {
  await sleep(20 + Math.floor(random() * 230));
  await killNoting(server, tally, cycle);
}

// On `server` (a harness.mjs ServerProcess whose port is known): `concurrency` senders of
// Ingest batches of `batch` records over `gen` (grpc.mjs startSenders: every eventID put
// in a request goes to `sent`, the acknowledged ones to `acked`); each error met while the
// server serves counted in `errors` (gRPC status name -> n) and followed by a 100 ms
// pause; with probability `flushChance` (drawn from `random`) a Flush fired at a random
// moment before `killAt` (ms since the epoch); SIGKILL once `killWhen()` resolves
// (default: at killAt); then the senders, the Flush and the promises of `settling` must
// settle within settleMs. The Flush and a death before the kill are noted in `tally`
// (newTally) as cycle `cycle`.
export async function sendUntilKilled({
  server, pipeline, gen, acked, sent, errors, random, killAt, killWhen = () => sleep(Math.max(0, killAt - Date.now())),
  batch, concurrency, cycle, tally, deadlineMs, settleMs, flushChance = 0.5, settling = [],
}) {
  const tag = `c${cycle}`;
  const clients = clientsFor(server.target);
  try {
    await waitForReady(clients.ingestor, 10_000);
    const senders = startSenders({
      ingestor: clients.ingestor, pipeline, gen, acked, sent, batch, concurrency, tag, deadlineMs,
      onResult: async (r) => {
        if (!r.error || r.stopping) return;
        const name = statusName(r.error.code);
        errors[name] = (errors[name] ?? 0) + 1;
        await sleep(100);
      },
    });
    let flusher = null;
    if (random() < flushChance) {
      tally.flushesFired++;
      flusher = sleep(Math.floor(random() * Math.max(0, killAt - Date.now())))
        .then(() => flush(clients.ingestor, pipeline, deadlineMs)).catch(() => {});
    }
    await killWhen();
    senders.stop();
    await killNoting(server, tally, cycle);
    await withTimeout(Promise.all([senders.done, flusher, ...settling]), settleMs, `cycle ${cycle}: the senders to settle`);
  } finally {
    clients.close();
  }
}

// The last start of a SIGKILL suite, on `server` (its port known): Flush, retried until it
// succeeds within flushMs (note(line) told of each failure), commits what every earlier
// start left; then beforeStop() (a last scrape, say), SIGTERM and an exit 0 within exitMs
// (else a failed assertion with the server's last lines).
export async function flushAndStop(server, { pipeline, flushMs, exitMs, note = () => {}, beforeStop = async () => {} }) {
  const clients = clientsFor(server.target);
  try {
    await flushRetrying(clients.ingestor, pipeline, flushMs, (err) => note(`final flush: ${statusName(err.code)} ${err.details}; retrying`));
  } finally {
    clients.close();
  }
  await beforeStop();
  const exit = await server.stop(exitMs);
  assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM:\n${server.tail()}`);
}

// Writes acked.txt and sent.txt (one eventID a line) in `dir`, for a failed run's post-mortem.
export function keepIds(dir, { acked, sent }) {
  writeFileSync(join(dir, 'acked.txt'), `${[...acked].join('\n')}\n`);
  writeFileSync(join(dir, 'sent.txt'), `${[...sent].join('\n')}\n`);
}

// A crash suite's verdict on an Iceberg table: the server never died on its own (`tally`),
// something was acked, the current snapshot holds every acked eventID exactly once and
// nothing never sent (`v`: lake.mjs verdict of iceberg.mjs currentRecords `recs`), and
// icebird read as many rows, no eventID twice (`icebirdRows`). `logFile` is named in the
// failure.
export function assertExactlyOnce({ tally, acked, v, recs, icebirdRows, logFile }) {
  assert.deepEqual(tally.diedOnItsOwn.map((d) => d.cycle), [], `the server exited on its own: ${JSON.stringify(tally.diedOnItsOwn, null, 1)}`);
  assert.ok(acked.size > 0, 'nothing was acked');
  assert.ok(v.missing.length === 0 && v.duplicates.length === 0 && v.strangers.length === 0,
    `the current snapshot does not hold every acked record exactly once (log: ${logFile}):\n${describeVerdict(v, recs)}`);
  assert.equal(icebirdRows.length, recs.lines, 'icebird reads as many rows as the live files hold');
  assert.equal(new Set(icebirdRows.map((r) => r._eventID)).size, icebirdRows.length, 'icebird: no eventID twice');
}
