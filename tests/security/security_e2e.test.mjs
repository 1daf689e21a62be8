// The real lakehose-server with mutual TLS and a bearer token (README "Security"), met
// by the peers a user would bring: the `lakehose` CLI (transform --target, health) and a
// Node @grpc/grpc-js client that loads proto/ itself.
//
//   node tests/security/security_e2e.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//
// Certificates are made by make_certs.sh (openssl) in a temporary directory. Every wait
// is bounded; the server is killed if anything fails.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROTO_DIR = resolve(HERE, '../../proto');
const { values: args } = parseArgs({
  options: { server: { type: 'string' }, cli: { type: 'string' } },
  strict: true,
});
const SERVER_BIN = args.server ? resolve(args.server) : undefined;
const CLI_BIN = args.cli ? resolve(args.cli) : undefined;
if (!SERVER_BIN || !CLI_BIN) {
  console.error('usage: node security_e2e.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose');
  process.exit(2);
}

const TOKEN = 'e2e-token-' + 'f00dfeed'.repeat(4);
const PORT_FILE_TIMEOUT_MS = 20_000;
const CLI_TIMEOUT_MS = 30_000;
const RPC_DEADLINE_MS = 15_000;
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const HEALTH_PROTO = `syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }
`;
const REFLECTION_PROTO = `syntax = "proto3";
package grpc.reflection.v1alpha;
service ServerReflection {
  rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse);
}
message ServerReflectionRequest { string host = 1; oneof message_request { string list_services = 7; } }
message ServerReflectionResponse {
  string valid_host = 1;
  oneof message_response { ListServiceResponse list_services_response = 6; }
}
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = (ms = RPC_DEADLINE_MS) => new Date(Date.now() + ms);

function unary(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((ok, fail) => {
    client[method](request, metadata, { deadline: deadline() }, (err, response) => (err ? fail(err) : ok(response)));
  });
}

async function rpcError(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

function bearer(token) {
  const md = new grpc.Metadata();
  md.add('authorization', `Bearer ${token}`);
  return md;
}

// Runs the CLI; bounded; returns {status, stdout, stderr}.
function cli(argv, { input = '', env = {} } = {}) {
  const r = spawnSync(CLI_BIN, argv, {
    input, encoding: 'utf8', timeout: CLI_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, LAKEHOSE_TOKEN: '', ...env },
  });
  assert.equal(r.error, undefined, `lakehose ${argv.join(' ')}: ${r.error}`);
  return r;
}

class ServerProcess {
  constructor(dir, config) {
    this.portFile = join(dir, 'port');
    this.output = '';
    this.exit = null;
    this.child = spawn(SERVER_BIN, ['--config', config, '--listen', '127.0.0.1:0', '--port-file', this.portFile],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => { this.output = (this.output + chunk.toString('utf8')).slice(-64 * 1024); };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((r) => {
      this.child.on('exit', (code, signal) => r((this.exit = { code, signal })));
      this.child.on('error', (err) => r((this.exit = { code: null, signal: null, error: err })));
    });
  }
  running() { return this.exit === null; }
  async waitForPort() {
    const end = Date.now() + PORT_FILE_TIMEOUT_MS;
    while (Date.now() < end) {
      if (!this.running()) throw new Error(`lakehose-server exited ${JSON.stringify(this.exit)}:\n${this.output}`);
      if (existsSync(this.portFile)) {
        const m = /^(\d+)\n$/.exec(readFileSync(this.portFile, 'utf8'));
        if (m) return Number(m[1]);
      }
      await sleep(50);
    }
    throw new Error(`no port after ${PORT_FILE_TIMEOUT_MS} ms:\n${this.output}`);
  }
  async waitForExit(ms) {
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r(null), ms); });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return result;
  }
  async kill() {
    if (this.running()) this.child.kill('SIGKILL');
    await this.waitForExit(5_000);
  }
}

function configYaml(dir, { tls = {}, tokenFile } = {}) {
  const lines = ['server:', '  metrics_listen: 127.0.0.1:0', `  data_dir: ${join(dir, 'data')}`];
  if (Object.keys(tls).length) {
    lines.push('  tls:');
    for (const [k, v] of Object.entries(tls)) lines.push(`    ${k}: ${v}`);
  }
  if (tokenFile) lines.push('  auth:', `    token_file: ${tokenFile}`);
  lines.push(
    'pipelines:',
    '  - name: demo',
    '    input: dynamodb-stream',
    '    image: new-or-old',
    '    destination:',
    '      kind: file',
    `      path: ${join(dir, 'lake')}`,
  );
  return lines.join('\n') + '\n';
}

describe('lakehose-server with mutual TLS and a bearer token', { timeout: 110_000 }, () => {
  let dir, certs, server, target, records;
  const clients = [];
  let lakehose, healthService, reflectionService;
  const mtlsFlags = () => ['--tls-ca', join(certs, 'ca.pem'), '--tls-cert', join(certs, 'client.pem'),
    '--tls-key', join(certs, 'client.key')];
  const creds = (ca = 'ca', client = 'client') => grpc.credentials.createSsl(
      readFileSync(join(certs, `${ca}.pem`)),
      client ? readFileSync(join(certs, `${client}.key`)) : null,
      client ? readFileSync(join(certs, `${client}.pem`)) : null);
  const client = (Service, credentials) => {
    const c = new Service(target, credentials);
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lakehose-security-e2e-'));
    certs = join(dir, 'certs');
    execFileSync(join(HERE, '..', '..', 'testing', 'make_certs.sh'), [certs], { timeout: 30_000 });
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'config.yaml'), configYaml(dir, {
      tls: { cert_file: join(certs, 'server.pem'), key_file: join(certs, 'server.key'), client_ca_file: join(certs, 'ca.pem') },
      tokenFile: join(dir, 'token'),
    }));
    server = new ServerProcess(dir, join(dir, 'config.yaml'));
    target = `127.0.0.1:${await server.waitForPort()}`;
    records = execFileSync(CLI_BIN, ['generate', '--workload', 'transactions', '--records', '20', '--seed', '3'],
        { encoding: 'utf8', timeout: CLI_TIMEOUT_MS });

    lakehose = grpc.loadPackageDefinition(
        protoLoader.loadSync('lakehose/v1/lakehose.proto', { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] })).lakehose.v1;
    writeFileSync(join(dir, 'health.proto'), HEALTH_PROTO);
    writeFileSync(join(dir, 'reflection.proto'), REFLECTION_PROTO);
    healthService = grpc.loadPackageDefinition(
        protoLoader.loadSync('health.proto', { ...LOADER_OPTIONS, includeDirs: [dir] })).grpc.health.v1.Health;
    reflectionService = grpc.loadPackageDefinition(
        protoLoader.loadSync('reflection.proto', { ...LOADER_OPTIONS, includeDirs: [dir] }))
        .grpc.reflection.v1alpha.ServerReflection;
  });

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    if (server?.running()) console.error(`killing lakehose-server; its output:\n${server.output}`);
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logged its transport security at start-up', () => {
    assert.match(server.output, /server\.transport_security/);
    assert.match(server.output, /"tls":"mutual"/);
    assert.match(server.output, /"auth":"bearer"/);
    assert.ok(!server.output.includes(TOKEN), 'the token must never be logged');
  });

  it('lakehose health: SERVING over mutual TLS without a token (exit 0)', () => {
    const r = cli(['health', '--target', target, ...mtlsFlags()]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'SERVING\n');
  });

  it('lakehose health: an unknown service is exit 1, SERVICE_UNKNOWN', () => {
    const r = cli(['health', '--target', target, '--service', 'no.such.Service', ...mtlsFlags()]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, 'SERVICE_UNKNOWN\n');
  });

  it('lakehose health: exit 2 when the TLS handshake fails or nothing listens, or on usage errors', () => {
    const noCert = cli(['health', '--target', target, '--tls-ca', join(certs, 'ca.pem')]);
    assert.equal(noCert.status, 2, noCert.stderr);
    assert.match(noCert.stderr, /UNAVAILABLE/);
    const otherCa = cli(['health', '--target', target, '--tls-ca', join(certs, 'other-ca.pem'),
      '--tls-cert', join(certs, 'client.pem'), '--tls-key', join(certs, 'client.key')]);
    assert.equal(otherCa.status, 2, otherCa.stderr);
    const plaintext = cli(['health', '--target', target, '--timeout', '3']);
    assert.equal(plaintext.status, 2, plaintext.stderr);
    const missing = cli(['health', '--target', target, '--tls-ca', join(certs, 'nope.pem')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--tls-ca .*nope\.pem: cannot read/);
    assert.equal(cli(['health']).status, 2);
    assert.equal(cli(['health', '--target', target, '--timeout', 'soon']).status, 2);
    assert.equal(cli(['health', '--target', target, '--tls-cert', join(certs, 'client.pem')]).status, 2);
  });

  it('lakehose transform --target: served with --token-file, or LAKEHOSE_TOKEN', () => {
    for (const [how, extra, env] of [
      ['--token-file', ['--token-file', join(dir, 'token')], {}],
      ['LAKEHOSE_TOKEN', [], { LAKEHOSE_TOKEN: TOKEN }],
    ]) {
      const r = cli(['transform', '--target', target, '--pipeline', 'demo', ...mtlsFlags(), ...extra],
          { input: records, env });
      assert.equal(r.status, 0, `${how}: ${r.stderr}`);
      const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(results.length, 20, how);
      assert.ok(results.every((x) => x.result === 'OK'), `${how}: ${r.stdout.slice(0, 300)}`);
      assert.match(r.stderr, /20 records: 20 ok/);
    }
  });

  it('lakehose transform --target: UNAUTHENTICATED without the token or with a wrong one (exit 1)', () => {
    const none = cli(['transform', '--target', target, '--pipeline', 'demo', ...mtlsFlags()], { input: records });
    assert.equal(none.status, 1, none.stderr);
    assert.match(none.stderr, /UNAUTHENTICATED: missing bearer token/);
    const wrong = cli(['transform', '--target', target, '--pipeline', 'demo', ...mtlsFlags()],
        { input: records, env: { LAKEHOSE_TOKEN: 'x'.repeat(32) } });
    assert.equal(wrong.status, 1, wrong.stderr);
    assert.match(wrong.stderr, /UNAUTHENTICATED: invalid bearer token/);
    const dlq = cli(['dlq', 'list', '--target', target, ...mtlsFlags()]);
    assert.equal(dlq.status, 1, dlq.stderr);
    assert.match(dlq.stderr, /UNAUTHENTICATED/);
    const dlqOk = cli(['dlq', 'list', '--target', target, ...mtlsFlags(), '--token-file', join(dir, 'token')]);
    assert.equal(dlqOk.status, 0, dlqOk.stderr);
  });

  it('grpc-js over mutual TLS: Transform with the token; UNAUTHENTICATED without it', async () => {
    const transformer = client(lakehose.Transformer, creds());
    const request = {
      pipeline: 'demo',
      records: records.trim().split('\n').map((line, i) => ({ record_id: `r${i}`, data: Buffer.from(line) })),
    };
    const response = await unary(transformer, 'Transform', request, bearer(TOKEN));
    assert.equal(response.records.length, 20);
    assert.ok(response.records.every((r) => r.result === 'OK'));

    const missing = await rpcError(unary(transformer, 'Transform', request));
    assert.equal(missing.code, grpc.status.UNAUTHENTICATED, missing.details);
    assert.match(missing.details, /missing bearer token/);
    const wrong = await rpcError(unary(transformer, 'Transform', request, bearer(TOKEN.slice(0, -1) + 'x')));
    assert.equal(wrong.code, grpc.status.UNAUTHENTICATED, wrong.details);
    const ingestor = client(lakehose.Ingestor, creds());
    const ingest = await rpcError(unary(ingestor, 'Flush', {}));
    assert.equal(ingest.code, grpc.status.UNAUTHENTICATED, ingest.details);
  });

  it('grpc-js: health needs no token; reflection does', async () => {
    const health = client(healthService, creds());
    const h = await unary(health, 'Check', { service: '' });
    assert.equal(h.status, 'SERVING');

    const reflection = client(reflectionService, creds());
    const list = (metadata) => new Promise((ok, fail) => {
      const call = reflection.ServerReflectionInfo(metadata, { deadline: deadline() });
      const names = [];
      call.on('data', (m) => names.push(...(m.list_services_response?.service ?? []).map((s) => s.name)));
      call.on('error', fail);
      call.on('end', () => ok(names));
      call.write({ list_services: '' });
      call.end();
    });
    const denied = await rpcError(list(new grpc.Metadata()));
    assert.equal(denied.code, grpc.status.UNAUTHENTICATED, denied.details);
    const names = await list(bearer(TOKEN));
    assert.ok(names.includes('lakehose.v1.Transformer'), JSON.stringify(names));
  });

  it('grpc-js: no client certificate, another CA, or plaintext cannot connect', async () => {
    for (const [what, credentials] of [
      ['no client certificate', creds('ca', null)],
      ['a client certificate from another CA', creds('ca', 'other-client')],
      ['trusting another CA', creds('other-ca', 'client')],
      ['plaintext', grpc.credentials.createInsecure()],
    ]) {
      const health = client(healthService, credentials);
      const err = await rpcError(unary(health, 'Check', { service: '' }));
      assert.equal(err.code, grpc.status.UNAVAILABLE, `${what}: ${err.code} ${err.details}`);
    }
  });

  it('refuses to start when a TLS file is missing, naming the key and the file', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, configYaml(join(dir, 'bad'), {
      tls: { cert_file: join(certs, 'server.pem'), key_file: join(certs, 'missing.key') },
    }));
    const r = spawnSync(SERVER_BIN, ['--config', bad, '--listen', '127.0.0.1:0'],
        { encoding: 'utf8', timeout: CLI_TIMEOUT_MS });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /server\.tls\.key_file .*missing\.key: cannot read: No such file or directory/);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    for (const c of clients.splice(0)) c.close();
    server.child.kill('SIGTERM');
    const exit = await server.waitForExit(20_000);
    assert.deepEqual(exit, { code: 0, signal: null }, server.output.slice(-2000));
  });
});
