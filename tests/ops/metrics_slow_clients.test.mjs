// Slow and half-open clients of /metrics (README "Metrics"): connections that send half an
// HTTP request and stay open used to stop every scrape for 30 s each (one civetweb worker,
// its default request timeout). Here five of them stay connected while /metrics must still
// answer within a bound, each is closed by the server after the request timeout, and
// /metrics answers again once they are gone; past the worker count a scrape waits for a
// timeout round, no longer.
//
//   node metrics_slow_clients.test.mjs --server PATH --cli PATH

import assert from 'node:assert/strict';
import net from 'node:net';

import { ServerProcess, WorkDir, serverEnv, suiteArgs, withTimeout } from '../lib/harness.mjs';

const { serverBin: SERVER } = suiteArgs();

// What the server promises (service/metrics/metrics.h, MetricsExposerOptions).
const WORKERS = 8;
const REQUEST_TIMEOUT_MS = 2_000;
// A scrape while fewer slow clients than workers are connected: answered at once; the
// bound is below the request timeout, so it cannot pass by waiting one out.
const SCRAPE_BOUND_MS = 1_500;

// A connection that sent the start of a request and nothing more. `closed` resolves with
// the milliseconds from connect to the server closing it.
async function halfRequest(port) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await withTimeout(new Promise((resolveP, reject) => {
    socket.once('connect', resolveP);
    socket.once('error', reject);
  }), 5_000, 'connect to the metrics port');
  const start = Date.now();
  socket.on('error', () => {});  // a reset counts as closed, below
  socket.on('data', () => {});   // civetweb answers 400 on its timeout
  socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const closed = new Promise((resolveP) => socket.once('close', () => resolveP(Date.now() - start)));
  return { socket, closed };
}

// One scrape of /metrics, timed; throws when it takes longer than `boundMs`.
async function timedScrape(server, boundMs, what) {
  const start = Date.now();
  let scrape;
  try {
    scrape = await server.scrape(boundMs);
  } catch (err) {
    throw new Error(`${what}: /metrics did not answer within ${boundMs} ms (${err.message})`);
  }
  const ms = Date.now() - start;
  assert.ok(scrape.value('lakehose_build_info') === 1, `${what}: a full exposition`);
  return ms;
}

const work = new WorkDir('lakehose-metrics-slow-');
const dir = work.path;
let server = null;
const sockets = [];
try {
  server = new ServerProcess(SERVER, { dir, env: serverEnv(dir), name: 'lakehose' });  // embedded defaults
  await server.waitForPort();
  await timedScrape(server, SCRAPE_BOUND_MS, 'before any slow client');

  // Five half requests, more than the two of the report and fewer than the workers.
  const slow = [];
  for (let i = 0; i < 5; ++i) slow.push(await halfRequest(server.metricsPort));
  sockets.push(...slow.map((s) => s.socket));
  const during = [];
  for (let i = 0; i < 3; ++i) during.push(await timedScrape(server, SCRAPE_BOUND_MS, `scrape ${i + 1} with 5 half requests open`));
  // The server closes each of them after its request timeout, not at once and not never.
  const closedAfter = await withTimeout(Promise.all(slow.map((s) => s.closed)), 5 * REQUEST_TIMEOUT_MS, 'the server to close the half requests');
  for (const ms of closedAfter) assert.ok(ms >= REQUEST_TIMEOUT_MS - 200, `a half request was closed after ${ms} ms, before the ${REQUEST_TIMEOUT_MS} ms timeout`);
  const after = await timedScrape(server, SCRAPE_BOUND_MS, 'after the half requests were closed');

  // Three times the workers: a scrape queues behind rounds of timeouts, bounded.
  const many = [];
  for (let i = 0; i < 3 * WORKERS; ++i) many.push(await halfRequest(server.metricsPort));
  sockets.push(...many.map((s) => s.socket));
  const manyBound = 4 * REQUEST_TIMEOUT_MS + 2_000;
  const queued = await timedScrape(server, manyBound, `scrape with ${many.length} half requests open`);
  for (const s of many) s.socket.destroy();
  const last = await timedScrape(server, SCRAPE_BOUND_MS, 'after the clients went away');

  assert.ok(server.running(), 'the server kept running');
  console.log(`ok: with 5 half requests open, /metrics answered in ${during.join(', ')} ms (bound ${SCRAPE_BOUND_MS}); ` +
    `they were closed after ${Math.min(...closedAfter)}-${Math.max(...closedAfter)} ms; then ${after} ms; ` +
    `with ${many.length} open (${WORKERS} workers) ${queued} ms (bound ${manyBound}); then ${last} ms`);
} catch (err) {
  work.fail();
  console.error(err);
  if (server) console.error(`---- server log\n${server.tail(30)}`);
} finally {
  for (const s of sockets) s.destroy();
  if (server) await server.stop().catch((e) => { work.fail(); console.error(e); });
  await work.close();
}
process.exit(work.failed ? 1 : 0);
