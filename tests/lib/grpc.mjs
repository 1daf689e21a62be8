// The suites' gRPC side: @grpc/grpc-js clients that load the protos themselves (proto/ for
// lakehose.v1, ./proto/ for grpc.health.v1 and the reflection subset), so that no code
// generated for the server is shared with its tests; bounded unary calls; and an Ingest
// sender that records which eventIDs were acknowledged.
//
// Every call has a deadline. Used from one Node thread; whoever makes clients closes them.

import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export { grpc };

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROTO_DIR = resolve(HERE, '../../proto');
const STANDARD_PROTO_DIR = join(HERE, 'proto');

const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const CHANNEL_OPTIONS = {
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  // Fail fast after a kill: no transparent waiting for a server that is gone.
  'grpc.enable_retries': 0,
};

let loaded = null;
// The service constructors: Ingestor, Transformer, DeadLetters (lakehose.v1), Health
// (grpc.health.v1) and ServerReflection (grpc.reflection.v1alpha), loaded once.
export function services() {
  if (!loaded) {
    const load = (file, dir) => grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [dir] }));
    const lakehose = load('lakehose/v1/lakehose.proto', PROTO_DIR).lakehose.v1;
    const health = load('grpc/health/v1/health.proto', STANDARD_PROTO_DIR).grpc.health.v1;
    const reflection = load('grpc/reflection/v1alpha/reflection.proto', STANDARD_PROTO_DIR).grpc.reflection.v1alpha;
    loaded = {
      Ingestor: lakehose.Ingestor,
      Transformer: lakehose.Transformer,
      DeadLetters: lakehose.DeadLetters,
      Health: health.Health,
      ServerReflection: reflection.ServerReflection,
    };
  }
  return loaded;
}

export const statusName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code) ?? String(code);

export const deadline = (ms) => new Date(Date.now() + ms);

// Clients for one server address (plaintext unless `credentials` are given): {ingestor,
// transformer, deadLetters, health, reflection, close()}.
export function clientsFor(target, credentials = grpc.credentials.createInsecure()) {
  const s = services();
  const c = {
    ingestor: new s.Ingestor(target, credentials, CHANNEL_OPTIONS),
    transformer: new s.Transformer(target, credentials, CHANNEL_OPTIONS),
    deadLetters: new s.DeadLetters(target, credentials, CHANNEL_OPTIONS),
    health: new s.Health(target, credentials, CHANNEL_OPTIONS),
    reflection: new s.ServerReflection(target, credentials, CHANNEL_OPTIONS),
  };
  const all = Object.values(c);
  c.close = () => { for (const client of all) client.close(); };
  return c;
}

// A unary call; resolves the response or rejects with the gRPC error (err.code, err.details).
export function unary(client, method, request, ms = 30_000, metadata = new grpc.Metadata()) {
  return new Promise((resolveP, reject) => {
    client[method](request, metadata, { deadline: deadline(ms) }, (err, response) => (err ? reject(err) : resolveP(response)));
  });
}

export function waitForReady(client, ms = 10_000) {
  return new Promise((r, j) => client.waitForReady(deadline(ms), (err) => (err ? j(err) : r())));
}

// One grpc.health.v1 Check of service "" (what `lakehose health` and the kubelet's grpc
// probe send) on a connection of its own: resolves the status name ('SERVING', ...), or
// rejects with the gRPC error.
export async function healthCheck(target, ms = 5_000) {
  const client = new (services().Health)(target, grpc.credentials.createInsecure());
  try {
    return (await unary(client, 'Check', { service: '' }, ms)).status;
  } finally {
    client.close();
  }
}

// ---- Ingest ----------------------------------------------------------------------------

// An Ingest request for records lines[from, to).
export function ingestRequest(pipeline, lines, from, to, tag) {
  const records = [];
  for (let i = from; i < to; i++) records.push({ record_id: `${tag}-${i}`, data: Buffer.from(lines[i]) });
  return { pipeline, records };
}

// Sends one Ingest of ids/lines [from, to) of `gen` (harness.mjs generate()); adds the
// eventIDs of OK results to `acked`. Resolves {ok: n} or {error: grpc error}. Checks the
// response's shape.
export async function ingestOnce(ingestor, pipeline, gen, from, to, acked, { tag = 'r', deadlineMs = 15_000 } = {}) {
  const req = ingestRequest(pipeline, gen.lines, from, to, tag);
  let resp;
  try {
    resp = await unary(ingestor, 'Ingest', req, deadlineMs);
  } catch (err) {
    return { error: err };
  }
  assert.equal(resp.records.length, to - from, 'Ingest: one result per record');
  let ok = 0;
  resp.records.forEach((r, j) => {
    assert.equal(r.record_id, `${tag}-${from + j}`, 'Ingest: results in order');
    if (r.result === 'OK') {
      acked.add(gen.ids[from + j]);
      ok++;
    } else {
      throw new Error(`record ${gen.ids[from + j]}: ${r.result} ${r.error_code} ${r.error_message} (generated records are all OK)`);
    }
  });
  return { ok };
}

// `concurrency` senders sharing one cursor over `gen`'s records: each sends Ingest
// batches of `batch` records in order until stop() is called, until() says so, or the
// records run out. Every eventID put in a request is added to `sent` (before the call),
// the acked ones to `acked`. After each call, onResult({ok, error, acked (how many this
// call acked), stopping (stop() had been called when it ended)}) runs and is awaited (a
// pause after an error, say). Returns {stop(), done (a promise of all the senders)}.
export function startSenders({ ingestor, pipeline, gen, acked, sent, batch, concurrency, tag, deadlineMs, until = () => false, onResult = () => {} }) {
  let stopping = false;
  let cursor = 0;
  const sender = async (w) => {
    while (!stopping && !until() && cursor < gen.ids.length) {
      const from = cursor;
      const to = Math.min(from + batch, gen.ids.length);
      cursor = to;
      for (let i = from; i < to; i++) sent.add(gen.ids[i]);
      const before = acked.size;
      const r = await ingestOnce(ingestor, pipeline, gen, from, to, acked, { tag: `${tag}w${w}`, deadlineMs });
      await onResult({ ...r, acked: acked.size - before, stopping });
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, (_, w) => sender(w)));
  return { stop: () => { stopping = true; }, done };
}

// Every ListDeadLetters entry (all pages, at most 100 of 1,000), oldest first.
export async function listDeadLetters(deadLetters, ms = 30_000) {
  const entries = [];
  let token = '';
  for (let page = 0; page < 100; page++) {
    const resp = await unary(deadLetters, 'ListDeadLetters', { page_size: 1000, page_token: token }, ms);
    entries.push(...resp.entries);
    token = resp.next_page_token;
    if (!token) break;
  }
  return entries;
}

// Flush through gRPC; resolves the response or rejects.
export const flush = (ingestor, pipeline, ms = 120_000) => unary(ingestor, 'Flush', { pipeline }, ms);

// Flush, retried (1 s apart; onRetry(err) is told of each failure) until it succeeds or
// timeoutMs has passed. Resolves the response; rejects with the last error's status.
export async function flushRetrying(ingestor, pipeline, timeoutMs, onRetry = () => {}) {
  const start = Date.now();
  let lastErr = null;
  while (Date.now() - start < timeoutMs) {
    try {
      return await flush(ingestor, pipeline, Math.max(1_000, timeoutMs - (Date.now() - start)));
    } catch (err) {
      lastErr = err;
      onRetry(err);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  throw new Error(`Flush never succeeded in ${timeoutMs} ms: ${lastErr ? `${statusName(lastErr.code)} ${lastErr.details}` : 'no try'}`);
}
