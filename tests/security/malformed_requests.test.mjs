// Malformed requests against the real lakehose-server (README "Security" and "Logs"):
// garbage bytes and invalid UTF-8 in a string field get INVALID_ARGUMENT with a message on
// every lakehose.v1 method (gRPC 1.51 alone answers UNIMPLEMENTED with none), every line
// the server writes is a JSON log line (no plain-text libprotobuf or gRPC lines), and a
// call with two `authorization` headers gets UNAUTHENTICATED on every service, health
// included.
//
//   node tests/security/malformed_requests.test.mjs --server PATH/TO/lakehose-server \
//        --cli PATH/TO/lakehose [--curl PATH/TO/curl]
//
// Two authorization headers are sent with curl: grpc-js and Node's http2 refuse to send
// them (grpc-js answers INTERNAL itself, before anything reaches the server).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ServerProcess, WorkDir, suiteArgs } from '../lib/harness.mjs';
import { deadline, grpc } from '../lib/grpc.mjs';

const { args, serverBin: SERVER_BIN } = suiteArgs({ options: { curl: { type: 'string' } }, usage: '[--curl PATH]' });
const CURL = args.curl ?? 'curl';
const TOKEN = 'malformed-token-' + 'c0ffee00'.repeat(4);
const RPC_DEADLINE_MS = 10_000;

// Not a protobuf encoding: field 1 with wire type 7 (there is none).
const GARBAGE = Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02, 0x03]);
// Field 1 (pipeline, a string in every request but Redrive's and ListDeadLetters', where
// it is also a string: `pipeline`) holding the bytes C3 28, which are not UTF-8.
const BAD_UTF8 = Buffer.from([0x0a, 0x02, 0xc3, 0x28]);
// TransformRequest.records[0].record_id (Record field 1) not UTF-8.
const BAD_UTF8_RECORD_ID = Buffer.from([0x12, 0x04, 0x0a, 0x02, 0xc3, 0x28]);

const UNARY_METHODS = [
  '/lakehose.v1.Transformer/Transform',
  '/lakehose.v1.Ingestor/Ingest',
  '/lakehose.v1.Ingestor/Flush',
  '/lakehose.v1.DeadLetters/ListDeadLetters',
  '/lakehose.v1.DeadLetters/Redrive',
  '/lakehose.v1.DeadLetters/Purge',
];
// Unary methods whose request has no string field (BAD_UTF8 is an unknown field there).
const NO_STRING_METHODS = ['/lakehose.v1.ServerStatus/GetServerStatus'];

function bearer() {
  const md = new grpc.Metadata();
  md.add('authorization', `Bearer ${TOKEN}`);
  return md;
}

// A unary call with raw request bytes; resolves {code, details}.
function rawUnary(client, method, bytes) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, (b) => b, (b) => b, bytes, bearer(), { deadline: deadline(RPC_DEADLINE_MS) },
        (err) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' }));
  });
}

// One IngestStream message with raw bytes; resolves the stream's {code, details}.
function rawIngestStream(client, bytes) {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest('/lakehose.v1.Ingestor/IngestStream', (b) => b, (b) => b, bearer(),
        { deadline: deadline(RPC_DEADLINE_MS) });
    call.on('data', () => {});
    call.on('error', (err) => resolve({ code: err.code, details: err.details }));
    call.on('end', () => resolve({ code: grpc.status.OK, details: '' }));
    call.write(bytes);
    call.end();
  });
}

// A gRPC call made by curl with the given headers: {status, message} from its trailers
// (or headers, for a trailers-only answer). With `withMessage`, one empty message is sent;
// without, none (the request ends with its headers, so that an answer given before the
// body is read cannot race with curl sending it).
function curlCall(target, path, headers, { withMessage = false } = {}) {
  const r = spawnSync(CURL, ['-sS', '--http2-prior-knowledge', '--max-time', '10', '-D', '-', '-o', '/dev/null',
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', ...headers.flatMap((h) => ['-H', h]),
    '--data-binary', withMessage ? '@-' : '', `http://${target}${path}`],
  { input: withMessage ? Buffer.alloc(5) : '', encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.error, undefined, `curl: ${r.error}`);
  const status = /^grpc-status: *(\d+)/mi.exec(r.stdout);
  const message = /^grpc-message: *(.*?)\r?$/mi.exec(r.stdout);
  assert.ok(status, `curl ${path}: exit ${r.status}, no grpc-status in\n${r.stdout}\n${r.stderr}`);
  return { status: Number(status[1]), message: message ? message[1] : '' };
}

describe('malformed requests and duplicate credentials', { timeout: 110_000 }, () => {
  let work, server, client;

  before(async () => {
    work = new WorkDir('lakehose-malformed-');
    writeFileSync(join(work.path, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(work.path, 'config.yaml'), [
      'server:',
      `  data_dir: ${join(work.path, 'data')}`,
      '  auth:',
      `    token_file: ${join(work.path, 'token')}`,
      'pipelines:',
      '  - name: demo',
      '    input: dynamodb-stream',
      '    image: new-or-old',
      '    destination:',
      '      kind: file',
      `      path: ${join(work.path, 'lake')}`,
      '',
    ].join('\n'));
    server = new ServerProcess(SERVER_BIN, { dir: work.path, configPath: join(work.path, 'config.yaml') });
    work.defer(() => server.kill());
    await server.waitForPort();
    client = new grpc.Client(server.target, grpc.credentials.createInsecure());
    work.defer(() => client.close());
  });

  after(async () => { await work?.close(); });

  it('garbage bytes: INVALID_ARGUMENT naming the message type, on every unary method', async () => {
    for (const method of [...UNARY_METHODS, ...NO_STRING_METHODS]) {
      const r = await rawUnary(client, method, GARBAGE);
      assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `${method}: ${r.code} ${r.details}`);
      assert.match(r.details, /^request is not a valid lakehose\.v1\.\w+Request: the bytes are not a protobuf encoding/, method);
    }
  });

  it('a string field that is not UTF-8: INVALID_ARGUMENT naming the field', async () => {
    for (const method of UNARY_METHODS) {
      const r = await rawUnary(client, method, BAD_UTF8);
      assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `${method}: ${r.code} ${r.details}`);
      assert.match(r.details, /is not valid UTF-8/, method);
    }
    const nested = await rawUnary(client, '/lakehose.v1.Transformer/Transform', BAD_UTF8_RECORD_ID);
    assert.equal(nested.code, grpc.status.INVALID_ARGUMENT, nested.details);
    assert.match(nested.details, /records\[0\]\.record_id is not valid UTF-8/);
  });

  it('IngestStream: a malformed message ends the stream INVALID_ARGUMENT', async () => {
    for (const bytes of [GARBAGE, BAD_UTF8]) {
      const r = await rawIngestStream(client, bytes);
      assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `${r.code} ${r.details}`);
      assert.match(r.details, /^request is not a valid lakehose\.v1\.IngestRequest: /);
    }
  });

  it('a well-formed request still works after them', async () => {
    const r = await rawUnary(client, '/lakehose.v1.Transformer/Transform', Buffer.from([0x0a, 0x04, ...Buffer.from('demo')]));
    assert.equal(r.code, grpc.status.OK, r.details);
  });

  it('two authorization headers: UNAUTHENTICATED on every service, health included', () => {
    const auth = `authorization: Bearer ${TOKEN}`;
    for (const path of ['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch', ...UNARY_METHODS, ...NO_STRING_METHODS,
      '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo']) {
      const r = curlCall(server.target, path, [auth, auth]);
      assert.equal(r.status, grpc.status.UNAUTHENTICATED, `${path}: ${r.status} ${r.message}`);
      assert.match(r.message, /more than one authorization metadata value/, path);
    }
    // One header: health answers (and the curl request itself is sound).
    assert.equal(curlCall(server.target, '/grpc.health.v1.Health/Check', [auth], { withMessage: true }).status, grpc.status.OK);
  });

  it('every line the server wrote is a JSON log line, and the token is in none', async () => {
    const exit = await server.stop(20_000);
    assert.deepEqual(exit, { code: 0, signal: null }, server.tail());
    const lines = server.output.split('\n').filter((l) => l.length > 0);
    assert.ok(lines.length > 3, server.output);
    for (const line of lines) {
      let event;
      assert.doesNotThrow(() => { event = JSON.parse(line); }, `not a JSON log line: ${line}`);
      assert.equal(typeof event.event, 'string', line);
      assert.equal(typeof event.level, 'string', line);
    }
    assert.ok(!server.output.includes(TOKEN), 'the token must never be logged');
  });
});
