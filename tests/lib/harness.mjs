// The processes of a black-box suite: its command line (--server, --cli), its temporary
// directory and clean-ups (WorkDir), programs run to completion (`run`, `lakehose
// generate`), and lakehose-server itself (ServerProcess: port files, its JSON log events,
// /metrics, SIGTERM and SIGKILL) with a test-only environment. The gRPC clients are in
// grpc.mjs, the lake reader in lake.mjs, the S3 front in s3_front.mjs.
//
// Every wait here is bounded; nothing is retried silently. Used from one Node thread; a
// ServerProcess belongs to the suite that started it, which must stop or kill it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { after } from 'node:test';
import { parseArgs } from 'node:util';

import { TEST_CREDENTIALS } from './s3_front.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const tail = (s, n = 40) => s.split('\n').slice(-n).join('\n');

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// ---- the command line ------------------------------------------------------------------

// A suite's arguments: --server and --cli (LAKEHOSE_SERVER / LAKEHOSE_CLI work too), made
// absolute because servers run in temp dirs, plus the suite's own parseArgs `options`.
// Exits 2 with the usage line (`usage`: the suite's own options) when a binary is missing.
// Returns {args, serverBin, cliBin}.
export function suiteArgs({ options = {}, usage = '' } = {}) {
  const { values: args } = parseArgs({ options: { server: { type: 'string' }, cli: { type: 'string' }, ...options }, strict: true });
  const serverBin = binary(args.server ?? process.env.LAKEHOSE_SERVER);
  const cliBin = binary(args.cli ?? process.env.LAKEHOSE_CLI);
  if (!serverBin || !cliBin) {
    console.error(`usage: node ${basename(process.argv[1])} --server PATH/TO/lakehose-server --cli PATH/TO/lakehose${usage ? ` ${usage}` : ''}`);
    process.exit(2);
  }
  return { args, serverBin, cliBin };
}

function binary(path) {
  if (!path) return null;
  if (!existsSync(path)) {
    console.error(`no such file: ${path}`);
    return null;
  }
  return resolve(path);
}

// ---- the end of a suite -----------------------------------------------------------------

// Once every test of the file has ended, gives the process `graceMs` to exit by itself;
// if something still holds the event loop then (a socket, a timer, a child a library
// left behind: a harness leak, never a verdict), prints what it is and exits with the
// code the test runner chose. A suite that passed does not run into ctest's timeout.
export function exitWhenDone({ graceMs = 10_000 } = {}) {
  after(() => {
    setTimeout(() => {
      const handles = process._getActiveHandles().map((h) => {
        const kind = h?.constructor?.name ?? typeof h;
        if (kind === 'Socket') return `Socket ${h.localPort} -> ${h.remoteAddress ?? '-'}:${h.remotePort ?? '-'}`;
        if (kind === 'Server') return `Server ${JSON.stringify(h.address?.())}`;
        if (kind === 'ChildProcess') return `ChildProcess ${h.pid} ${h.spawnargs?.join(' ')}`;
        return kind;
      });
      console.error(`# the tests ended ${graceMs} ms ago and the process is still held by ${JSON.stringify(process.getActiveResourcesInfo())}: ${handles.join('; ')}; exiting`);
      process.exit();
    }, graceMs).unref();
  });
}

// ---- the work directory ----------------------------------------------------------------

// A suite's temporary directory (this.path) and what must be undone when the suite ends:
// defer(cleanup) queues a clean-up; close() runs them, the last queued first, ignoring
// their errors, then removes the directory unless `keep` was asked for or fail() was
// called (a failed run keeps its logs and lake for a post-mortem).
export class WorkDir {
  constructor(prefix, { keep = false } = {}) {
    this.path = mkdtempSync(join(tmpdir(), prefix));
    this.keep = keep;
    this.failed = false;
    this.cleanups = [];
  }

  defer(cleanup) { this.cleanups.push(cleanup); }

  fail() { this.failed = true; }

  async close() {
    for (const cleanup of this.cleanups.splice(0).reverse()) await Promise.resolve().then(cleanup).catch(() => {});
    if (!this.keep && !this.failed) rmSync(this.path, { recursive: true, force: true });
    else console.error(`kept ${this.path}`);
  }
}

// ---- programs run to completion --------------------------------------------------------

// Runs a program to completion, bounded (SIGKILL and a rejection after timeoutMs); stdout
// optionally into `stdoutFile`. Resolves {code, signal, stdout, stderr} (text); never
// rejects on a non-zero exit.
export function run(bin, argv, { timeoutMs = 60_000, env, cwd, stdoutFile } = {}) {
  return new Promise((resolveP, reject) => {
    const child = spawn(bin, argv, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let file = null;
    let stderr = '';
    if (stdoutFile) {
      file = createWriteStream(stdoutFile);
      child.stdout.pipe(file);
    } else {
      child.stdout.on('data', (c) => out.push(c));
    }
    child.stderr.on('data', (c) => { stderr += c; if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19)); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} ${argv.join(' ')}: no exit after ${timeoutMs} ms\n${tail(stderr)}`));
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      if (file) await new Promise((r) => (file.writableFinished ? r() : file.on('finish', r)));
      resolveP({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
  });
}

// `lakehose generate`: {lines, ids} (ids[i] is the eventID of lines[i]).
export async function generate(cli, records, seed, { workload = 'transactions', timeoutMs = 120_000 } = {}) {
  const r = await run(cli, ['generate', '--workload', workload, '--records', String(records), '--seed', String(seed)], { timeoutMs });
  assert.equal(r.code, 0, `lakehose generate failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, records, 'lakehose generate: one line per record');
  const ids = lines.map((l) => JSON.parse(l).eventID);
  for (const id of ids) assert.ok(typeof id === 'string' && id.length > 0, 'generated record without eventID');
  return { lines, ids };
}

// A generated record (a JSON line) whose images gain two attributes the workload does not
// have, a string and an integer (`loyalty_tier`, `points`): the `i`-th record of a batch
// that makes an Iceberg table's schema evolve. Returns the new line.
export function withNewAttributes(line, i) {
  const r = JSON.parse(line);
  for (const image of ['NewImage', 'OldImage']) {
    const img = r.dynamodb[image];
    if (!img) continue;
    img.loyalty_tier = { S: ['gold', 'silver', 'bronze'][i % 3] };
    img.points = { N: String(i * 7) };
  }
  return JSON.stringify(r);
}

// ---- the server ------------------------------------------------------------------------

// lakehose-server on 127.0.0.1 port 0 (gRPC and metrics), in `dir`: on `configPath`, or
// its embedded defaults without one; `args` are more flags. Its whole output is appended
// to `logFile` and kept (this.output, the last 128-256 KiB), the JSON log events parsed
// (this.events: [{event, level, ...fields}]), its exit kept (this.exit). `wrapper` is a
// command that execs the server (e.g. ['prlimit', '--nofile=80:80']), so that this.pid
// is still the server's.
export class ServerProcess {
  constructor(bin, { dir, configPath, env, logFile, name = 'server', args = [], wrapper = [] }) {
    this.name = name;
    this.portFile = join(dir, `${name}.port`);
    this.metricsPortFile = join(dir, `${name}.metrics_port`);
    rmSync(this.portFile, { force: true });
    rmSync(this.metricsPortFile, { force: true });
    this.logFile = logFile ?? join(dir, `${name}.log`);
    this.output = '';
    this.events = [];
    this.exit = null;
    this.startedAt = Date.now();
    const argv = [...(configPath ? ['--config', configPath] : []), '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0',
      '--metrics-port-file', this.metricsPortFile, '--port-file', this.portFile, ...args];
    this.child = spawn(wrapper.length ? wrapper[0] : bin, wrapper.length ? [...wrapper.slice(1), bin, ...argv] : argv, {
      cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    appendFileSync(this.logFile, `---- ${new Date().toISOString()} ${name} pid ${this.pid} started\n`);
    let partial = '';
    const keep = (c) => {
      const s = c.toString('utf8');
      appendFileSync(this.logFile, s);
      this.output += s;
      if (this.output.length > 256 * 1024) this.output = this.output.slice(-128 * 1024);
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try { this.events.push(JSON.parse(line)); } catch { /* not a log line */ }
      }
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((r) => {
      // 'close': the process has exited and its output has been read to the end.
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        appendFileSync(this.logFile, `---- ${new Date().toISOString()} ${name} pid ${this.pid} exited ${JSON.stringify(this.exit)}\n`);
        r(this.exit);
      });
      this.child.on('error', (err) => { this.exit = { code: null, signal: null, error: err.message }; r(this.exit); });
    });
  }

  running() { return this.exit === null; }

  tail(n = 40) { return tail(this.output, n); }

  eventsNamed(name) { return this.events.filter((e) => e.event === name); }

  // Resolves the events named `name` once there is one (the log reaches us through a
  // pipe, possibly after the port file), or [] after timeoutMs or when the server exits.
  async waitForEvent(name, timeoutMs = 5_000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.eventsNamed(name);
      if (found.length > 0 || Date.now() >= end) return found;
      if (!this.running()) { await sleep(50); return this.eventsNamed(name); }
      await sleep(20);
    }
  }

  // Polls the port file until it holds "<port>\n"; then this.port, this.target,
  // this.metricsPort and this.metricsUrl are set. Throws if the server exits first.
  async waitForPort(timeoutMs = 20_000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (!this.running()) throw new Error(`lakehose-server exited (${JSON.stringify(this.exit)}) before writing its port file:\n${this.tail()}`);
      if (existsSync(this.portFile)) {
        const text = readFileSync(this.portFile, 'utf8');
        const m = /^(\d+)\n$/.exec(text);
        if (m) {
          this.port = Number(m[1]);
          assert.ok(this.port > 0 && this.port < 65536, `port file holds ${JSON.stringify(text)}`);
          this.target = `127.0.0.1:${this.port}`;
          // Written before the port file.
          this.metricsPort = Number(readFileSync(this.metricsPortFile, 'utf8').trim());
          this.metricsUrl = `http://127.0.0.1:${this.metricsPort}/metrics`;
          return this.port;
        }
      }
      await sleep(20);
    }
    throw new Error(`no port in ${this.portFile} after ${timeoutMs} ms:\n${this.tail()}`);
  }

  // SIGTERM; resolves the exit, or kills and throws after timeoutMs.
  async stop(timeoutMs = 60_000) {
    if (!this.running()) return this.exit;
    this.child.kill('SIGTERM');
    let timer;
    const r = await Promise.race([this.exited, new Promise((res) => { timer = setTimeout(() => res(null), timeoutMs); })]);
    clearTimeout(timer);
    if (r === null) {
      await this.kill();
      throw new Error(`lakehose-server did not exit within ${timeoutMs} ms of SIGTERM:\n${this.tail()}`);
    }
    return r;
  }

  // SIGKILL; resolves the exit, or throws when the process is not gone 10 s later.
  async kill() {
    if (!this.running()) return this.exit;
    this.child.kill('SIGKILL');
    await withTimeout(this.exited, 10_000, `lakehose-server pid ${this.pid} to die after SIGKILL`);
    return this.exit;
  }

  // One scrape of /metrics: {text, value(name, labels)} where value sums the samples of
  // `name` whose labels include `labels` (an object), or null if there are none.
  // The exposer closes every connection after its answer without saying so (no
  // `Connection: close`, keep-alive off), and fetch may reuse such a socket: a scrape that
  // finds it closed is tried again, up to 3 times (Prometheus retries the same way).
  async scrape(timeoutMs = 5_000) {
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        if (attempt < 3 && e?.cause?.code === 'UND_ERR_SOCKET') continue;
        throw e;
      }
      assert.equal(res.status, 200, `GET ${this.metricsUrl}`);
      const text = await res.text();
      return { text, value: (name, labels = {}) => sampleValue(text, name, labels) };
    }
  }
}

// The sum of the samples of `name` (exactly; not its _bucket etc.) whose labels include
// `labels`, in a Prometheus text exposition; null when there is none.
export function sampleValue(text, name, labels = {}) {
  let sum = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = {};
    for (const [, k, v] of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[k] = v;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(m[4]);
  }
  return sum;
}

// The server's environment: test credentials only (the S3 front's; a session token when
// given), nothing from the user's AWS set-up.
export function serverEnv(dir, { sessionToken = null } = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    HOME: dir,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-such-credentials'),
    AWS_CONFIG_FILE: join(dir, 'no-such-config'),
  });
  if (sessionToken) env.AWS_SESSION_TOKEN = sessionToken;
  return env;
}
