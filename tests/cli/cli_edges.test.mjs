// The lakehose CLI at its edges (README "The CLI"): input it must read right or refuse
// clearly, servers it cannot reach, and --help.
//
//   node tests/cli/cli_edges.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//
// - A JSON Lines file whose first line holds an integer beyond 2^64 is read line by line,
//   and the integer reaches the output digit for digit.
// - A directory (or an unreadable file) given as --input is an error naming it.
// - Every command that talks to a server, pointed at a free port (nothing listening) or at a
//   loopback "blackhole" (accepts TCP, never answers), says it is connecting to HOST:PORT
//   and fails within its --deadline; `send` says when it retries a server that refuses.
// - Every command's --help has an options section; lakehose-server --help names every
//   service the server registers (asked of its reflection service) and its options.
// Loopback only; every wait is bounded.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { ServerProcess, WorkDir, run, serverEnv, sleep, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, deadline, grpc, services } from '../lib/grpc.mjs';

const { serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs();
const TEST_TIMEOUT_MS = 60_000;
const DEADLINE_S = 2;
const SLACK_MS = 3_000;  // process start-up and exit on a loaded machine

const work = new WorkDir('lakehose-cli-edges-');
const configPath = join(work.path, 'json.yaml');
writeFileSync(configPath, 'pipelines:\n  - name: j\n    input: json\n    prefix: "data/"\n    destination: { kind: file, path: ./lake }\n');

// A port nothing listens on (bound, then closed).
async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// Accepts TCP connections and never answers: a gRPC handshake there never completes.
async function blackhole() {
  const sockets = new Set();
  const s = createServer((sock) => { sockets.add(sock); sock.on('error', () => {}); sock.on('close', () => sockets.delete(sock)); });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  work.defer(() => { for (const sock of sockets) sock.destroy(); s.close(); });
  return `127.0.0.1:${s.address().port}`;
}

// Every command that connects, with what it needs besides --target.
const CONNECTING = (input) => [
  ['send', '--pipeline', 'j', '--input', input],
  ['transform', '--pipeline', 'j', '--input', input],
  ['flush'],
  ['health'],
  ['dlq', 'list'],
  ['dlq', 'redrive', '--all'],
  ['dlq', 'purge', '--id', 'x'],
];

describe('lakehose CLI edges', () => {
  after(() => work.close());

  it('reads a JSON Lines file whose first line holds an integer beyond 2^64 line by line, losslessly', { timeout: TEST_TIMEOUT_MS }, async () => {
    const input = join(work.path, 'big.jsonl');
    writeFileSync(input, '{"n": 18446744073709551616}\n{"n": 1}\n{"n": 123456789012345678901234567890.5e1}\n');
    const r = await run(CLI_BIN, ['transform', '--config', configPath, '--pipeline', 'j', '--input', input]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l);
    assert.equal(lines.length, 3, `expected 3 results, got:\n${r.stdout}`);
    assert.match(r.stderr, /3 records: 3 ok/);
    assert.ok(lines[0].includes('"data":{"n":18446744073709551616}'), lines[0]);
    assert.ok(lines[2].includes('"data":{"n":123456789012345678901234567890.5e1}'), lines[2]);
  });

  it('refuses a directory or an unreadable file as --input, naming it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = join(work.path, 'a-directory');
    mkdirSync(dir);
    for (const argv of [['transform', '--config', configPath, '--pipeline', 'j'], ['send', '--target', '127.0.0.1:1', '--pipeline', 'j']]) {
      const r = await run(CLI_BIN, [...argv, '--input', dir], { timeoutMs: 10_000 });
      assert.notEqual(r.code, 0, `${argv[0]} --input DIR exited 0: ${r.stderr}`);
      assert.match(r.stderr, /--input .*a-directory: is a directory/, `${argv[0]}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /0 records/);
    }
    const missing = await run(CLI_BIN, ['transform', '--config', configPath, '--pipeline', 'j', '--input', join(work.path, 'no-such.jsonl')]);
    assert.notEqual(missing.code, 0, missing.stderr);
    assert.match(missing.stderr, /cannot open --input .*no-such\.jsonl: No such file or directory/);
    if (process.getuid?.() !== 0) {  // root reads any file
      const locked = join(work.path, 'locked.jsonl');
      writeFileSync(locked, '{"n": 1}\n');
      chmodSync(locked, 0o000);
      const r = await run(CLI_BIN, ['transform', '--config', configPath, '--pipeline', 'j', '--input', locked]);
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /--input .*locked\.jsonl: .*[Pp]ermission denied/);
    }
  });

  for (const [what, target] of [['a free port', async () => `127.0.0.1:${await freePort()}`], ['a blackhole', blackhole]]) {
    it(`every command that connects to ${what} says so and fails within --deadline`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const input = join(work.path, 'one.jsonl');
      writeFileSync(input, '{"n": 1}\n');
      const t = await target();
      for (const argv of CONNECTING(input)) {
        const started = Date.now();
        const r = await run(CLI_BIN, [...argv, '--target', t, '--deadline', String(DEADLINE_S)], { timeoutMs: 30_000 });
        const ms = Date.now() - started;
        const name = argv.slice(0, 2).join(' ');
        assert.notEqual(r.code, 0, `${name}: exit 0 from ${what}`);
        assert.ok(ms < DEADLINE_S * 1000 + SLACK_MS, `${name}: ${ms} ms with --deadline ${DEADLINE_S}`);
        assert.ok(r.stderr.includes(`connecting to ${t}`), `${name}: no "connecting to ${t}" on stderr:\n${r.stderr}`);
        assert.ok(r.stderr.includes(`cannot connect to ${t}`), `${name}: no "cannot connect to ${t}" on stderr:\n${r.stderr}`);
        assert.equal(r.stdout, '', `${name}: stdout`);
      }
    });
  }

  it('says when send retries a server that refuses once connected, instead of a silent wait', { timeout: TEST_TIMEOUT_MS }, async () => {
    // A fake Ingestor that is reachable but answers every Ingest UNAVAILABLE.
    let calls = 0;
    const fake = new grpc.Server();
    fake.addService(services().Ingestor.service, {
      Ingest: (_call, cb) => { calls += 1; cb({ code: grpc.status.UNAVAILABLE, details: 'fake: going away' }); },
    });
    const port = await new Promise((resolveP, reject) => fake.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolveP(p))));
    work.defer(() => fake.forceShutdown());
    const input = join(work.path, 'one.jsonl');
    writeFileSync(input, '{"n": 1}\n');
    const child = spawn(CLI_BIN, ['send', '--target', `127.0.0.1:${port}`, '--pipeline', 'j', '--input', input], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    const exited = new Promise((r) => child.on('close', r));
    try {
      const until = Date.now() + 10_000;
      while (!stderr.includes('retrying') && Date.now() < until && child.exitCode === null) await sleep(50);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    assert.ok(calls >= 1, `the fake saw no Ingest; stderr:\n${stderr}`);
    assert.match(stderr, /lakehose send: UNAVAILABLE: fake: going away; retrying for up to 2 minutes/);
    assert.doesNotMatch(stderr, /connecting to/);  // the connection itself was quick
  });

  it('refuses a --deadline that is not a positive number of seconds', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const bad of ['0', '-1', 'soon', '']) {
      const r = await run(CLI_BIN, ['flush', '--target', '127.0.0.1:1', '--deadline', bad]);
      assert.equal(r.code, 2, `--deadline ${JSON.stringify(bad)}: ${r.stderr}`);
      assert.match(r.stderr, /--deadline/);
    }
  });

  it('has an options section in every command\'s --help', { timeout: TEST_TIMEOUT_MS }, async () => {
    const commands = [['transform'], ['send'], ['flush'], ['generate'], ['health'], ['dlq'], ['dlq', 'list'], ['dlq', 'redrive'], ['dlq', 'purge'], ['table'], ['table', 'inspect'], ['backfill']];
    const top = await run(CLI_BIN, ['--help']);
    assert.equal(top.code, 0);
    // Every command the top-level usage lists is covered here.
    const listed = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    assert.deepEqual(listed.sort(), [...new Set(commands.map((c) => c[0]))].sort(), top.stdout);
    const connecting = new Set(CONNECTING('-').map((c) => c.slice(0, c[0] === 'dlq' ? 2 : 1).join(' ')));
    for (const argv of commands) {
      const r = await run(CLI_BIN, [...argv, '--help']);
      const name = argv.join(' ');
      assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
      assert.match(r.stdout, /^options:\n {2}--/m, `${name} --help has no options section:\n${r.stdout}`);
      assert.match(r.stdout, /^ {2}--help {2,}/m, `${name} --help does not list --help`);
      if (connecting.has(name)) {
        assert.match(r.stdout, /^ {2}--deadline SECONDS {2,}.*default 10/m, `${name} --help lacks --deadline:\n${r.stdout}`);
        assert.match(r.stdout, /^ {2}--tls-ca FILE/m, `${name} --help lacks the connection options`);
      }
    }
  });

  describe('lakehose-server --help', () => {
    let server;
    before(async () => {
      server = new ServerProcess(SERVER_BIN, { dir: work.path, env: serverEnv(work.path) });
      work.defer(() => server.kill());
      await server.waitForPort();
    });
    after(async () => { await server?.stop(); });

    it('names every service the server registers, and its options', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { reflection, close } = clientsFor(server.target);
      let names;
      try {
        names = await new Promise((resolveP, reject) => {
          const call = reflection.ServerReflectionInfo({ deadline: deadline(10_000) });
          call.on('data', (m) => { resolveP(m.list_services_response?.service?.map((s) => s.name) ?? []); call.end(); });
          call.on('error', reject);
          call.write({ host: '', list_services: '*' });
        });
      } finally {
        close();
      }
      assert.ok(names.length >= 4, `reflection lists ${names.join(', ')}`);
      const r = await run(SERVER_BIN, ['--help']);
      assert.equal(r.code, 0, r.stderr);
      for (const name of names) {
        const shown = name === 'grpc.health.v1.Health' ? 'grpc.health.v1' : name.startsWith('grpc.reflection.') ? 'reflection' : name;
        assert.ok(r.stdout.includes(shown), `lakehose-server --help does not name ${name}:\n${r.stdout}`);
      }
      assert.match(r.stdout, /^options:\n {2}--/m, r.stdout);
      for (const flag of ['--config FILE', '--listen HOST:PORT', '--port-file', '--metrics-listen', '--log-format', '--print-default-config', '--help'])
        assert.ok(r.stdout.includes(flag), `lakehose-server --help lacks ${flag}`);
    });
  });
});
