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
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ServerProcess, generate, suiteArgs } from '../lib/harness.mjs';
import { clientsFor, deadline, grpc, unary } from '../lib/grpc.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs();

const TOKEN = 'e2e-token-' + 'f00dfeed'.repeat(4);
const PORT_FILE_TIMEOUT_MS = 20_000;
const CLI_TIMEOUT_MS = 30_000;
const RPC_DEADLINE_MS = 15_000;

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
  const mtlsFlags = () => ['--tls-ca', join(certs, 'ca.pem'), '--tls-cert', join(certs, 'client.pem'),
    '--tls-key', join(certs, 'client.key')];
  const creds = (ca = 'ca', client = 'client') => grpc.credentials.createSsl(
      readFileSync(join(certs, `${ca}.pem`)),
      client ? readFileSync(join(certs, `${client}.key`)) : null,
      client ? readFileSync(join(certs, `${client}.pem`)) : null);
  // Clients of every service over `credentials`, closed at the end.
  const connect = (credentials) => {
    const c = clientsFor(target, credentials);
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
    server = new ServerProcess(SERVER_BIN, { dir, configPath: join(dir, 'config.yaml') });
    await server.waitForPort(PORT_FILE_TIMEOUT_MS);
    target = server.target;
    const { lines } = await generate(CLI_BIN, 20, 3, { timeoutMs: CLI_TIMEOUT_MS });
    records = `${lines.join('\n')}\n`;
  });

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    if (server?.running()) console.error(`killing lakehose-server; its output:\n${server.output}`);
    await server?.kill().catch(() => {});
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
    const { transformer, ingestor } = connect(creds());
    const request = {
      pipeline: 'demo',
      records: records.trim().split('\n').map((line, i) => ({ record_id: `r${i}`, data: Buffer.from(line) })),
    };
    const response = await unary(transformer, 'Transform', request, RPC_DEADLINE_MS, bearer(TOKEN));
    assert.equal(response.records.length, 20);
    assert.ok(response.records.every((r) => r.result === 'OK'));

    const missing = await rpcError(unary(transformer, 'Transform', request, RPC_DEADLINE_MS));
    assert.equal(missing.code, grpc.status.UNAUTHENTICATED, missing.details);
    assert.match(missing.details, /missing bearer token/);
    const wrong = await rpcError(unary(transformer, 'Transform', request, RPC_DEADLINE_MS, bearer(TOKEN.slice(0, -1) + 'x')));
    assert.equal(wrong.code, grpc.status.UNAUTHENTICATED, wrong.details);
    const ingest = await rpcError(unary(ingestor, 'Flush', {}, RPC_DEADLINE_MS));
    assert.equal(ingest.code, grpc.status.UNAUTHENTICATED, ingest.details);
  });

  it('grpc-js: health needs no token; reflection does', async () => {
    const { health, reflection } = connect(creds());
    const h = await unary(health, 'Check', { service: '' }, RPC_DEADLINE_MS);
    assert.equal(h.status, 'SERVING');

    const list = (metadata) => new Promise((ok, fail) => {
      const call = reflection.ServerReflectionInfo(metadata, { deadline: deadline(RPC_DEADLINE_MS) });
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
      const { health } = connect(credentials);
      const err = await rpcError(unary(health, 'Check', { service: '' }, RPC_DEADLINE_MS));
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
    const exit = await server.stop(20_000);
    assert.deepEqual(exit, { code: 0, signal: null }, server.output.slice(-2000));
  });
});
