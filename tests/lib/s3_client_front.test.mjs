// The C++ S3 client (GetObject above all) against a real S3 server: s3rver behind the
// verifying front (s3_front.mjs), which checks every signature and payload hash as S3 does.
// Runs the opt-in GoogleTest S3ClientAgainstS3FrontTest of curl_http_client_test with the
// front's endpoint in LAKEHOSE_TEST_S3_ENDPOINT.
//
//   node tests/lib/s3_client_front.test.mjs --test-binary build/release/service/s3/curl_http_client_test
//
// The front listens on 127.0.0.1 port 0; the test binary runs at most 120 s.

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

import { startS3Front } from './s3_front.mjs';

const { values: args } = parseArgs({ options: { 'test-binary': { type: 'string' } }, strict: false });
const BINARY = args['test-binary'];

let front;
before(async () => { front = await startS3Front({ bucket: 'lake' }); });
after(async () => { await front?.close(); });

// Asynchronously: the front answers on this process's event loop.
function runBinary(binary, argv, env, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(binary, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

it('puts and gets objects back through the signature-checking front', { timeout: 150_000 }, async () => {
  assert.ok(BINARY, '--test-binary <curl_http_client_test> is required');
  const run = await runBinary(BINARY, ['--gtest_filter=S3ClientAgainstS3FrontTest.*'],
    { ...process.env, LAKEHOSE_TEST_S3_ENDPOINT: front.endpoint }, 120_000);
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, output);
  assert.match(output, /\[ +OK \] S3ClientAgainstS3FrontTest\.PutThenGetObjectsBack/, output);
  assert.doesNotMatch(output, /SKIPPED/, output);
  const stats = front.stats();
  assert.equal(stats.signatureRejections, 0, JSON.stringify(stats.lastRejections));
  // Two objects and one missing key read, then one refused on its length.
  assert.ok((stats.byOperation.GetObject ?? 0) >= 4, JSON.stringify(stats.byOperation));
});
