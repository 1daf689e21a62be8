// Start-up checks (README "Pipelines", "Start-up checks"): configs and flags that used to
// start a server that could not work (it answered Ingest OK and failed at delivery, or
// listened on another port) must stop start-up: a non-zero exit, no port file, and a
// message naming the config file (or flag), the key path and the reason. A control run
// of the same config without the fault starts.
//
//   node startup_checks.test.mjs --server PATH --cli PATH
//
// A lake directory that is not writable needs a directory this user cannot write in: a
// mode 0555 one, or, as root (who writes through modes), /sys when it refuses files.
// Without one that case is skipped, and says so.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, WorkDir, run, serverEnv, suiteArgs } from '../lib/harness.mjs';

const { serverBin: SERVER } = suiteArgs();

const work = new WorkDir('lakehose-startup-checks-');
const dir = work.path;

// A one-pipeline config writing a file lake at `lakePath`; `server` and `pipeline` are
// extra lines (indented) under server: and the pipeline.
function config(name, { lakePath = join(dir, 'lake'), server = [], pipeline = [] } = {}) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, [
    'server:',
    `  data_dir: ${JSON.stringify(join(dir, `data-${name}`))}`,
    ...server.map((l) => `  ${l}`),
    'pipelines:',
    '  - name: p',
    ...pipeline.map((l) => `    ${l}`),
    `    destination: { kind: file, path: ${JSON.stringify(lakePath)} }`,
    '',
  ].join('\n'));
  return path;
}

// Runs the server as the harness does (ports 0 unless `args` say otherwise); it must exit
// non-zero before writing its port file, with `expected` (a string) on stderr.
async function refused(what, argv, expected) {
  const portFile = join(dir, 'refused.port');
  const r = await run(SERVER, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--port-file', portFile, ...argv],
    { cwd: dir, env: serverEnv(dir), timeoutMs: 15_000 });
  assert.notEqual(r.code, 0, `${what}: the server exited 0\n${r.stderr}`);
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}`);
  assert.ok(!existsSync(portFile), `${what}: the port file was written`);
  assert.ok(r.stderr.includes(expected), `${what}: stderr lacks ${JSON.stringify(expected)}:\n${r.stderr}`);
  console.log(`ok: ${what}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
}

// A directory this process cannot create files in, or null.
function unwritableDirectory() {
  if (process.getuid() !== 0) {
    const d = join(dir, 'read-only');
    mkdirSync(d, { mode: 0o555 });
    chmodSync(d, 0o555);
    work.defer(() => chmodSync(d, 0o755));
    return d;
  }
  try {
    mkdirSync('/sys/lakehose-probe');
    rmdirSync('/sys/lakehose-probe');
    return null;  // root can create files there
  } catch {
    return existsSync('/sys') ? '/sys' : null;
  }
}

let control = null;
try {
  // The control: the base config starts.
  const good = config('good');
  control = new ServerProcess(SERVER, { dir, configPath: good, env: serverEnv(dir), name: 'control' });
  await control.waitForPort();
  await control.stop();
  assert.equal(control.exit.code, 0, 'the control server exits 0 on SIGTERM');
  console.log('ok: the base config starts');

  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a directory\n');
  const c1 = config('lake-is-file', { lakePath: file });
  await refused('a lake path that is a file', ['--config', c1],
    `${c1}: pipelines[0].destination.path: ${file} is not a directory`);
  const c2 = config('lake-under-file', { lakePath: join(file, 'lake') });
  await refused('a lake path under a file', ['--config', c2],
    `${c2}: pipelines[0].destination.path: cannot create the directory ${join(file, 'lake')}: Not a directory`);
  const ro = unwritableDirectory();
  if (ro === null) {
    console.log('SKIP: a lake directory that is not writable: running as root and /sys accepts files, so no directory refuses a write');
  } else {
    const c3 = config('lake-read-only', { lakePath: ro });
    await refused(`a lake path that is not writable (${ro})`, ['--config', c3],
      `${c3}: pipelines[0].destination.path: cannot create a file in ${ro}: `);
  }
  const c4 = config('prefix-dotdot', { pipeline: ['prefix: "data/../outside/"'] });
  await refused('a prefix with a .. component', ['--config', c4],
    `${c4}: pipelines[0].prefix: renders as "data/../outside/": an object key must not have a \`..\` component`);
  const c5 = config('error-prefix-dotdot', { pipeline: ['error_prefix: "../errors/"'] });
  await refused('an error_prefix with a .. component', ['--config', c5],
    `${c5}: pipelines[0].error_prefix: renders as "../errors/"`);
  await refused('--listen 127.0.0.1:99999', ['--config', good, '--listen', '127.0.0.1:99999'],
    '--listen 127.0.0.1:99999: port 99999 is out of range (0-65535)');
  await refused('--metrics-listen 127.0.0.1:70000', ['--config', good, '--metrics-listen', '127.0.0.1:70000'],
    '--metrics-listen 127.0.0.1:70000: port 70000 is out of range (0-65535)');
  // The config's address is what runs when --listen is not given.
  const c6 = config('grpc-listen', { server: ['grpc_listen: 127.0.0.1:99999'] });
  const r6 = await run(SERVER, ['--config', c6, '--metrics-listen', '127.0.0.1:0'], { cwd: dir, env: serverEnv(dir), timeoutMs: 15_000 });
  assert.notEqual(r6.code, 0, `server.grpc_listen 127.0.0.1:99999: the server exited 0\n${r6.stderr}`);
  assert.ok(r6.stderr.includes(`${c6}: server.grpc_listen: port 99999 is out of range (0-65535)`), r6.stderr);
  console.log(`ok: server.grpc_listen 127.0.0.1:99999: exit ${r6.code}`);
  const c7 = config('dlq-retry', { server: ['dlq: { retry_base_ms: 5000, retry_max_ms: 1000 }'] });
  await refused('dlq.retry_base_ms > retry_max_ms', ['--config', c7],
    `${c7}: server.dlq.retry_base_ms: must not exceed server.dlq.retry_max_ms (5000 > 1000)`);
  // Nothing was written in the lake a refused start named.
  assert.ok(!existsSync(join(dir, 'outside')), 'no directory outside the lake');
} catch (err) {
  work.fail();
  console.error(err);
  if (control) console.error(`---- control server log\n${control.tail(30)}`);
} finally {
  if (control) await control.kill().catch(() => {});
  await work.close();
}
process.exit(work.failed ? 1 : 0);
