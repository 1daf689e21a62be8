// Damaged dead-letter bodies (README "Durability and the dead-letter queue"): a file lake
// whose directory becomes a regular file once the server runs, so every store fails and,
// after the short delivery retry budget, every object is a delivery dead letter. The
// server is stopped; one body is truncated and a byte of another is flipped; the
// destination is fixed and the server restarted. Then:
//   - the intact entries are delivered by the retry worker, each exactly once;
//   - the two damaged ones are not: they stay, `lakehose dlq list` shows them as
//     damaged, lakehose_dlq_damaged_entries is 2, each is logged as dlq.damaged_entry,
//     and a redrive of one is refused (FAILED_PRECONDITION);
//   - purge by id still removes one (the operator's decision);
//   - the lake holds every acked record except those of the damaged entries, once each,
//     and no partial line.
//
//   node tests/durability/dlq_damage.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose [--keep]
//
// (LAKEHOSE_SERVER / LAKEHOSE_CLI work too.) Every wait is bounded.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, openSync, closeSync, readFileSync, readSync, readdirSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, WorkDir, generate, run, serverEnv, sleep, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, ingestOnce, listDeadLetters, waitForReady } from '../lib/grpc.mjs';
import { configYaml, readLake } from '../lib/lake.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { keep: { type: 'boolean' } },
  usage: '[--keep]',
});

const PIPELINE = 'dur';
const RECORDS = 2_000;
const BATCH = 250;
const DLQ_FILL_BUDGET_MS = 60_000;
const DLQ_DRAIN_BUDGET_MS = 60_000;
const SERVER_LINES = [
  '  shutdown_grace_s: 10',
  '  dlq: { delivery_retry_budget_s: 1, retry_base_ms: 100, retry_max_ms: 300 }',
];

const work = new WorkDir('lakehose-dlq-damage-', { keep: args.keep });

// Runs fn(server, clients) against a new lakehose-server on `cfgPath`, then stops it
// (SIGTERM, exit 0) and resolves what fn resolved. A failure keeps the work directory and
// carries the server's last output.
async function withServer(name, dir, cfgPath, fn) {
  const server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env: serverEnv(dir), name });
  work.defer(() => server.kill());
  let clients = null;
  try {
    await server.waitForPort(20_000);
    clients = clientsFor(server.target);
    await waitForReady(clients.ingestor);
    const result = await fn(server, clients);
    clients.close();
    clients = null;
    const exit = await server.stop(30_000);
    assert.deepEqual(exit, { code: 0, signal: null }, `${name} server on SIGTERM:\n${server.tail()}`);
    return result;
  } catch (err) {
    work.fail();
    err.message += `\n-- last output of the ${name} server:\n${server.tail(25)}`;
    throw err;
  } finally {
    clients?.close();
  }
}

// Every ListDeadLetters entry (all pages).
const listAll = (clients) => listDeadLetters(clients.deadLetters);

// Polls until pred(entries) holds; bounded. Resolves the entries.
async function waitForEntries(clients, pred, budgetMs, what) {
  const end = Date.now() + budgetMs;
  for (;;) {
    const entries = await listAll(clients);
    if (pred(entries)) return entries;
    if (Date.now() > end) throw new Error(`${what}: not within ${budgetMs} ms; entries: ${JSON.stringify(entries.map((e) => [e.id, e.records, e.damage]))}`);
    await sleep(250);
  }
}

// `lakehose dlq list`: {rows: [[id, ...columns]], stderr}.
async function cliList(target) {
  const r = await run(CLI_BIN, ['dlq', 'list', '--target', target], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `lakehose dlq list exited ${r.code}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  assert.match(lines[0], /^ID\s+KIND\s+PIPELINE\s+ATTEMPTS\s+AGE\s+NEXT\s+LAST ERROR$/);
  return { rows: lines.slice(1), stdout: r.stdout, stderr: r.stderr };
}

// The _eventIDs of a delivery body (uncompressed JSON Lines).
const bodyIds = (text) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)._eventID);

// Flips one bit of an ASCII letter or digit near the middle of `path` (so the size and
// the newlines stay as they were: only the checksum can tell). Returns the offset.
function flipByte(path) {
  const size = readFileSync(path).length;
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    for (let at = Math.floor(size / 2); at < size; at++) {
      readSync(fd, b, 0, 1, at);
      if (/[A-Za-z0-9]/.test(String.fromCharCode(b[0]))) {
        b[0] ^= 0x01;
        writeSync(fd, b, 0, 1, at);
        return at;
      }
    }
  } finally {
    closeSync(fd);
  }
  throw new Error(`no letter to flip in ${path}`);
}

describe('damaged dead-letter bodies: kept, reported, never delivered', { timeout: 240_000 }, () => {
  after(() => work.close());

  it('delivers the intact entries once and keeps the truncated and the flipped one', { timeout: 230_000 }, async (t) => {
    const dir = work.path;
    const note = (s) => { t.diagnostic(s); console.log(s); };
    const blocked = join(dir, 'blocked');
    const lakeRoot = join(blocked, 'lake');
    const dlqDir = join(dir, 'var', 'dlq');
    const cfgPath = join(dir, 'lakehose.yaml');
    writeFileSync(cfgPath, configYaml({
      dataDir: join(dir, 'var'), writerId: 'dlq-damage', pipeline: PIPELINE,
      dest: { kind: 'file', path: lakeRoot }, sizeMb: 0.05, intervalS: 1, serverLines: SERVER_LINES,
    }));

    // 1. Every object becomes a delivery dead letter.
    const acked = new Set();
    const bodies = new Map();  // id -> eventIDs
    const entries = await withServer('first', dir, cfgPath, async (server, clients) => {
      // Start-up checks refuse a lake path that cannot hold objects, so the lake is
      // broken after the server has started: its directory becomes a regular file.
      rmSync(blocked, { recursive: true, force: true });
      writeFileSync(blocked, 'a file where the lake directory should be\n');
      const gen = await generate(CLI_BIN, RECORDS, 4242);
      for (let from = 0; from < RECORDS; from += BATCH) {
        const r = await ingestOnce(clients.ingestor, PIPELINE, gen, from, Math.min(from + BATCH, RECORDS), acked);
        assert.ok(!r.error, `Ingest: ${r.error?.details}`);
      }
      assert.equal(acked.size, RECORDS, 'every record acked');
      const es = await waitForEntries(clients, (l) => l.reduce((n, e) => n + Number(e.records), 0) === RECORDS,
        DLQ_FILL_BUDGET_MS, 'every acked record in a delivery dead letter');
      assert.ok(es.length >= 4, `expected several objects, got ${es.length} dead letters`);
      for (const e of es) {
        assert.equal(e.kind, 'DELIVERY');
        assert.equal(e.damaged, false, `${e.id}: ${e.damage}`);
        const ids = bodyIds(readFileSync(join(dlqDir, `${e.id}.body`), 'utf8'));
        assert.equal(ids.length, Number(e.records), `${e.id}: lines vs records`);
        bodies.set(e.id, ids);
      }
      note(`${es.length} delivery dead letters holding ${RECORDS} records`);
      return es;
    });

    // 2. Damage two bodies while the server is stopped; fix the destination.
    const [truncated, flipped] = [entries[0].id, entries[1].id];
    const truncatedPath = join(dlqDir, `${truncated}.body`);
    const fullSize = readFileSync(truncatedPath).length;
    truncateSync(truncatedPath, Math.floor(fullSize / 2));
    const flippedAt = flipByte(join(dlqDir, `${flipped}.body`));
    note(`truncated ${truncated} from ${fullSize} to ${Math.floor(fullSize / 2)} bytes; flipped a bit of ${flipped} at ${flippedAt}`);
    rmSync(blocked);
    mkdirSync(blocked);
    const damagedIds = new Set([...bodies.get(truncated), ...bodies.get(flipped)]);
    const attemptsAtStop = (id) => JSON.parse(readFileSync(join(dlqDir, `${id}.json`), 'utf8')).attempts;
    const attemptsBefore = [attemptsAtStop(truncated), attemptsAtStop(flipped)];
    const intact = entries.slice(2).map((e) => e.id);

    // 3. Restart: the intact entries are delivered, the damaged ones stay.
    await withServer('second', dir, cfgPath, async (server, clients) => {
      const left = await waitForEntries(clients, (es) => es.length === 2, DLQ_DRAIN_BUDGET_MS, 'the intact dead letters to be delivered');
      assert.deepEqual(left.map((e) => e.id), [truncated, flipped], 'the damaged entries are the ones left');
      assert.ok(left.every((e) => e.damaged), `both listed as damaged: ${JSON.stringify(left)}`);
      assert.match(left[0].damage, /^body: body is \d+ bytes, the metadata says \d+$/);
      assert.match(left[1].damage, /^body: body CRC-32 is \d+, the metadata says \d+$/);
      // Not even tried: their attempts are as they were.
      assert.deepEqual(left.map((e) => e.attempts), attemptsBefore);

      const listed = await cliList(server.target);
      note(`lakehose dlq list:\n${listed.stdout}${listed.stderr}`);
      assert.equal(listed.rows.length, 2, listed.stdout);
      for (const [i, id] of [truncated, flipped].entries()) {
        assert.match(listed.rows[i], new RegExp(`^${id}\\s+delivery\\s+${PIPELINE}\\s+\\d+\\s+\\S+\\s+damaged\\s+damaged: body: `), listed.rows[i]);
      }
      assert.match(listed.stderr, /lakehose dlq list: 2 entries, 2 damaged/);

      const m = await server.scrape();
      assert.equal(m.value('lakehose_dlq_damaged_entries'), 2, 'lakehose_dlq_damaged_entries');
      assert.equal(m.value('lakehose_dlq_depth', { kind: 'delivery' }), 2, 'lakehose_dlq_depth');
      assert.equal(m.value('lakehose_dlq_delivered_total', { pipeline: PIPELINE }), intact.length, 'lakehose_dlq_delivered_total');

      const damagedEvents = server.eventsNamed('dlq.damaged_entry');
      assert.deepEqual(damagedEvents.map((e) => e.id).sort(), [truncated, flipped].sort(), JSON.stringify(damagedEvents));
      assert.ok(damagedEvents.every((e) => e.reason.startsWith('body: ')), JSON.stringify(damagedEvents));
      const delivered = server.eventsNamed('dlq.delivered').map((e) => e.id).sort();
      assert.deepEqual(delivered, [...intact].sort(), 'each intact entry delivered once');

      // A redrive is refused and changes nothing.
      const redrive = await run(CLI_BIN, ['dlq', 'redrive', '--target', server.target, '--id', flipped], { timeoutMs: 30_000 });
      assert.equal(redrive.code, 1, `redrive of a damaged entry: exit ${redrive.code}\n${redrive.stdout}${redrive.stderr}`);
      assert.match(redrive.stdout, new RegExp(`^${flipped}\\tfailed\\tFAILED_PRECONDITION: dead letter ${flipped} is damaged \\(body: body CRC-32`));
      // Purge by id is the operator's decision: it removes the entry and its files.
      const purge = await run(CLI_BIN, ['dlq', 'purge', '--target', server.target, '--id', truncated], { timeoutMs: 30_000 });
      assert.equal(purge.code, 0, `purge by id: ${purge.stderr}`);
      assert.equal(purge.stdout.trim(), truncated);
      assert.deepEqual(readdirSync(dlqDir).filter((f) => f.startsWith(truncated)), []);
      assert.deepEqual((await listAll(clients)).map((e) => [e.id, e.attempts]), [[flipped, attemptsBefore[1]]]);
      assert.equal((await server.scrape()).value('lakehose_dlq_damaged_entries'), 1);
    });

    // 4. The lake: every acked record but the damaged entries', once each; readLake
    //    refuses any line that is not a whole JSON document.
    const lake = await readLake({ root: lakeRoot, pipeline: PIPELINE });
    note(`lake: ${lake.objects} objects, ${lake.lines} lines; ${damagedIds.size} records held by the damaged entries`);
    assert.equal(lake.objects, intact.length, 'one object per intact entry');
    assert.deepEqual(lake.unexpected, []);
    assert.deepEqual(lake.leftovers, []);
    for (const id of damagedIds) assert.ok(!lake.counts.has(id), `${id} (in a damaged entry) reached the lake`);
    const missing = [...acked].filter((id) => !damagedIds.has(id) && lake.counts.get(id) !== 1);
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acked records of intact entries not in the lake exactly once`);
    assert.equal(lake.lines, RECORDS - damagedIds.size);
  });
});
