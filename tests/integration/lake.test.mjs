// The lake, end to end: lakehose-server ingests 100,000 generated DynamoDB stream
// records (`lakehose send`), `lakehose flush` seals the buffers, and the lake is read
// back the way an analyst would: DuckDB's read_json_auto(..., hive_partitioning = true)
// for the row count and the counts per partition, zcat / zstdcat for every object, and
// each record's values compared with the offline Transform output (`lakehose transform`).
// Destinations: the file sink, and S3 through the verifying, fault-injecting front
// (../lib/s3_front.mjs) in front of s3rver, with and without 20% injected 503s. A second, small
// workload (plain JSON, one partition key whose values hold spaces, '=', '%', '+', '/',
// '..', non-ASCII, control characters, the empty string) checks that such keys are
// signed right and that DuckDB reads the original values back from the paths.
//
//   node tests/integration/lake.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose
//                                        [--runs NAME,NAME] [--records N] [--keep]
//
// (LAKEHOSE_SERVER / LAKEHOSE_CLI work too.) --runs picks runs by name (default all),
// --keep leaves the temp directory. Every server listens on 127.0.0.1 port 0; every wait
// is bounded; processes and fronts are stopped in after hooks.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

import { ServerProcess, WorkDir, run, serverEnv, suiteArgs, tail } from '../lib/harness.mjs';
import { EXTENSIONS, listFiles, objectKey } from '../lib/lake.mjs';
import { TEST_REGION, startS3Front } from '../lib/s3_front.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({
  options: { runs: { type: 'string' }, records: { type: 'string' }, keep: { type: 'boolean' } },
  usage: '[--runs NAME,...] [--records N] [--keep]',
});

const RECORDS = Number(args.records ?? 100_000);
const SEED = 11;
const ODD_RECORDS = 3_000;
const PORT_FILE_TIMEOUT_MS = 20_000;
const GENERATE_TIMEOUT_MS = 120_000;
const SEND_TIMEOUT_MS = 240_000;  // send retries RESOURCE_EXHAUSTED/UNAVAILABLE for up to 2 min
const FLUSH_TIMEOUT_MS = 180_000;
const EXIT_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 480_000;
const TOOL_TIMEOUT_MS = 60_000;
const DECOMPRESSORS = { gzip: 'zcat', zstd: 'zstdcat', none: 'cat' };

// The runs. workload: which records and pipeline (WORKLOADS below); faults: what the S3
// front injects during send + flush; flushAll: flush without --pipeline (every pipeline).
const ALL_RUNS = [
  { name: 'file-gzip', workload: 'tx', kind: 'file', compression: 'gzip', stream: false },
  { name: 'file-zstd-stream', workload: 'tx', kind: 'file', compression: 'zstd', stream: true, flushAll: true },
  { name: 's3-gzip-stream-session-token', workload: 'tx', kind: 's3', compression: 'gzip', stream: true, sessionToken: 'IQoJb3JpZ2luX2VjEFAKE//session+token=' },
  // 20% of requests answered 503 SlowDown (and, whatever the draws, the first two PUTs).
  { name: 's3-zstd-503', workload: 'tx', kind: 's3', compression: 'zstd', stream: false, flushAll: true,
    faults: { slowDown: 0.2, scripts: { PutObject: ['slowDown', 'slowDown'] } } },
  // Objects of 5-16 MB uncompressed go up as multipart uploads in 5 MiB parts, under 503s,
  // 500s, connection resets, latency and CompleteMultipartUpload's 200-with-an-error
  // (each kind at least once for sure through `scripts`, more at random).
  { name: 's3-none-multipart-faults', workload: 'tx', kind: 's3', compression: 'none', stream: true, sizeMb: 16, partSizeMb: 5,
    faults: {
      slowDown: 0.1, internalError: 0.05, reset: 0.03, completeError: 0.3, latencyMs: [0, 20],
      scripts: {
        PutObject: ['reset', 'internalError'],
        CreateMultipartUpload: ['slowDown'],
        UploadPart: ['none', 'reset', 'slowDown'],
        CompleteMultipartUpload: ['completeError', 'internalError', 'completeError'],
      },
    } },
  { name: 'file-odd-keys', workload: 'odd', kind: 'file', compression: 'gzip', stream: false },
  { name: 's3-odd-keys', workload: 'odd', kind: 's3', compression: 'zstd', stream: true },
];
const RUNS = args.runs ? ALL_RUNS.filter((r) => args.runs.split(',').includes(r.name)) : ALL_RUNS;
if (args.runs && RUNS.length === 0) {
  console.error(`no run named ${args.runs}; runs: ${ALL_RUNS.map((r) => r.name).join(', ')}`);
  process.exit(2);
}

// ---- helpers ---------------------------------------------------------------------------

// Reads a whole (possibly compressed) object with the system tool: zcat, zstdcat or cat.
async function decompress(compression, file) {
  const r = await run(DECOMPRESSORS[compression], [file], { timeoutMs: TOOL_TIMEOUT_MS });
  assert.equal(r.code, 0, `${DECOMPRESSORS[compression]} ${file} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

function configYaml(runSpec, { lakeDir, dataDir, frontPort }) {
  const w = WORKLOADS[runSpec.workload];
  const dest = runSpec.kind === 'file'
    ? [`      kind: file`, `      path: ${JSON.stringify(lakeDir)}`]
    : [`      kind: s3`, `      bucket: lake`, `      endpoint: http://127.0.0.1:${frontPort}`, `      force_path_style: true`, `      region: ${TEST_REGION}`,
      ...(runSpec.partSizeMb ? [`      part_size_mb: ${runSpec.partSizeMb}`] : [])];
  return [
    'server:',
    `  data_dir: ${JSON.stringify(dataDir)}`,
    `  writer_id: ${writerId(runSpec)}`,
    'pipelines:',
    `  - name: ${w.pipeline}`,
    ...w.pipelineYaml,
    '    destination:',
    ...dest,
    '      format: jsonl',
    `      compression: ${runSpec.compression}`,
    `      buffering: { size_mb: ${runSpec.sizeMb ?? 4}, interval_s: 3600 }`,
    '',
  ].join('\n');
}

const writerId = (runSpec) => `it-${runSpec.name}`;

// DuckDB, the way Athena would read the lake: hive partitions from the path. Returns the
// count, the counts per partition (values joined with '/', NULL as <null>), each
// record's partition values by id, and the columns a query sees.
const partitionKey = (values) => values.map((v) => (v === null ? '<null>' : v)).join('/');

async function readWithDuckDB(lakeDir, w, compression) {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const rows = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
  try {
    const glob = `${lakeDir}/${w.pipeline}/**/*${EXTENSIONS[compression]}`.replaceAll("'", "''");
    const src = `read_json_auto('${glob}', hive_partitioning = true)`;
    const cols = w.partitions.map((p) => `CAST("${p}" AS VARCHAR) AS "${p}"`).join(', ');
    const names = w.partitions.map((p) => `"${p}"`).join(', ');
    const total = Number((await rows(`SELECT count(*) AS n FROM ${src}`))[0].n);
    const perPartition = {};
    for (const g of await rows(`SELECT ${cols}, count(*) AS n FROM ${src} GROUP BY ALL ORDER BY ${names}`)) {
      perPartition[partitionKey(w.partitions.map((p) => g[p]))] = Number(g.n);
    }
    const byId = new Map();
    for (const r of await rows(`SELECT "${w.idField}" AS id, ${cols} FROM ${src}`)) {
      byId.set(r.id, partitionKey(w.partitions.map((p) => r[p])));
    }
    const columns = (await rows(`DESCRIBE SELECT * FROM ${src}`)).map((r) => r.column_name);
    return { total, perPartition, byId, columns };
  } finally {
    conn.closeSync?.();
    instance.closeSync?.();
  }
}

// ---- the offline truth -----------------------------------------------------------------

// The workloads: records, pipeline, where the id and the partition keys are.
// duckValues: what DuckDB must show for a record's partition columns (hive_partitioning
// decodes Hive's %XX escapes and reads __HIVE_DEFAULT_PARTITION__ as NULL).
const ODD_VALUES = ['a b', 'x=y', '50%', 'c+d', 'ü ñ', '日本', '..', '.', '', 'a&b', 'tab\there', 'slash/inside',
  'q?#x', 'semi;colon', 'tilde~', "it's", '(paren)', 'star*', 'back\\slash', 'brace{}', 'plain'];
const WORKLOADS = {
  tx: {
    pipeline: 'tx',
    records: RECORDS,
    async makeRecords(file) {
      const gen = await run(CLI_BIN, ['generate', '--workload', 'transactions', '--records', String(RECORDS), '--seed', String(SEED)],
        { timeoutMs: GENERATE_TIMEOUT_MS, stdoutFile: file });
      assert.equal(gen.code, 0, `lakehose generate failed: ${gen.stderr}`);
    },
    pipelineYaml: [
      '    input: dynamodb-stream',
      '    image: new-or-old',
      '    metadata: [eventID, eventName]',
      '    partition_keys:',
      '      region: { attribute: region, default: unknown }',
      '      date: { timestamp: timestamp, unit: ms, format: "%Y-%m-%d", fallback: approximate_creation_time }',
      '    prefix: "tx/region=!{partitionKeyFromLambda:region}/date=!{partitionKeyFromLambda:date}/"',
    ],
    idField: '_eventID',
    partitions: ['region', 'date'],
    duckValues: (r) => [r.partition_keys.region, r.partition_keys.date],
  },
  odd: {
    pipeline: 'odd',
    records: ODD_RECORDS,
    async makeRecords(file) {
      const lines = [];
      for (let i = 0; i < ODD_RECORDS; i++) {
        const doc = { id: `odd-${String(i).padStart(5, '0')}`, n: i, note: `record ${i}` };
        if (i % 50 !== 49) doc.site = ODD_VALUES[i % ODD_VALUES.length];  // else: the default
        lines.push(JSON.stringify(doc));
      }
      writeFileSync(file, `${lines.join('\n')}\n`);
    },
    pipelineYaml: [
      '    input: json',
      '    partition_keys:',
      '      site: { attribute: site, default: unknown }',
      '    prefix: "odd/site=!{partitionKeyFromLambda:site}/"',
    ],
    idField: 'id',
    partitions: ['site'],
    duckValues: (r) => ['site' in r.data ? (r.data.site === '' ? null : r.data.site) : r.partition_keys.site],
  },
};

let work;  // WorkDir, made in before()
const truths = new Map();  // workload -> promise of its offline truth

// Generates a workload's records and runs them through `lakehose transform` offline:
// {recordsFile, ok, byId: Map(id -> {text, keys (path-safe partition values), duck}),
//  perPartition (DuckDB's view: counts by duckValues)}.
function truthOf(name) {
  if (!truths.has(name)) truths.set(name, offlineTruth(name));
  return truths.get(name);
}

async function offlineTruth(name) {
  const w = WORKLOADS[name];
  const dir = join(work.path, `offline-${name}`);
  mkdirSync(dir, { recursive: true });
  const recordsFile = join(dir, 'records.jsonl');
  await w.makeRecords(recordsFile);
  const cfg = join(dir, 'offline.yaml');
  writeFileSync(cfg, configYaml({ name: 'offline', workload: name, kind: 'file', compression: 'gzip' },
    { lakeDir: join(dir, 'unused-lake'), dataDir: join(dir, 'unused-var') }));
  const outFile = join(dir, 'transform.jsonl');
  const tr = await run(CLI_BIN, ['transform', '--config', cfg, '--pipeline', w.pipeline, '--input', recordsFile, '--output', outFile],
    { timeoutMs: GENERATE_TIMEOUT_MS });
  assert.equal(tr.code, 0, `lakehose transform failed: ${tr.stderr}`);
  const byId = new Map();
  const perPartition = {};
  let ok = 0;
  let lines = 0;
  for (const line of readFileSync(outFile, 'utf8').split('\n')) {
    if (line === '') continue;
    lines++;
    const r = JSON.parse(line);
    if (r.result !== 'OK') continue;
    ok++;
    // The document as the server serialised it: the text of "data" (the last member).
    const at = line.lastIndexOf(',"data":');
    assert.ok(at > 0 && line.endsWith('}'), `unexpected transform output line: ${line.slice(0, 200)}`);
    const text = line.slice(at + ',"data":'.length, -1);
    const id = r.data[w.idField];
    assert.ok(typeof id === 'string' && id.length > 0, `no ${w.idField} in ${text.slice(0, 200)}`);
    assert.ok(!byId.has(id), `${w.idField} ${id} repeats in the generated records`);
    const duck = partitionKey(w.duckValues(r));
    byId.set(id, { text, keys: w.partitions.map((p) => r.partition_keys[p]), duck });
    perPartition[duck] = (perPartition[duck] ?? 0) + 1;
  }
  assert.equal(lines, w.records, 'transform output has one line per record');
  assert.equal(ok, w.records, `every record of workload ${name} is OK offline`);
  rmSync(outFile);
  return { recordsFile, ok, byId, perPartition };
}

// ---- one run ---------------------------------------------------------------------------

const FLUSH_LINE = /^([^\t]+)\t(\d+)\t(\d+)$/;
const SEND_SUMMARY = /lakehose send: (\d+) records: (\d+) ok, (\d+) dropped, (\d+) failed/;
const reEscape = (x) => x.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

async function lakeRun(runSpec, t) {
  const w = WORKLOADS[runSpec.workload];
  const truth = await truthOf(runSpec.workload);
  const dir = join(work.path, runSpec.name);
  mkdirSync(dir, { recursive: true });
  const ext = EXTENSIONS[runSpec.compression];
  let front = null;
  let server = null;
  const diag = [];
  const note = (s) => { diag.push(s); t.diagnostic(s); };
  try {
    if (runSpec.kind === 's3') {
      front = await startS3Front({ sessionToken: runSpec.sessionToken ?? null, log: (l) => { if (diag.length < 200) diag.push(l); } });
      work.defer(() => front.close());
    }
    const lakeDir = join(dir, 'lake');
    const cfgPath = join(dir, 'lakehose.yaml');
    writeFileSync(cfgPath, configYaml(runSpec, { lakeDir, dataDir: join(dir, 'var'), frontPort: front?.port }));

    server = new ServerProcess(SERVER_BIN, { dir, configPath: cfgPath, env: serverEnv(dir, { sessionToken: runSpec.sessionToken }) });
    work.defer(() => server.kill());
    await server.waitForPort(PORT_FILE_TIMEOUT_MS);
    const target = server.target;

    if (runSpec.faults) front.setFaults({ ...runSpec.faults, seed: 20231115 });

    // Send.
    const t0 = Date.now();
    const send = await run(CLI_BIN, ['send', '--target', target, '--pipeline', w.pipeline, '--input', truth.recordsFile, '--batch', '500',
      ...(runSpec.stream ? ['--stream'] : [])], { timeoutMs: SEND_TIMEOUT_MS });
    assert.equal(send.code, 0, `lakehose send exited ${send.code} (${send.signal}):\n${tail(send.stderr)}\n-- server:\n${server.tail()}`);
    const summary = SEND_SUMMARY.exec(send.stderr);
    assert.ok(summary, `no summary from lakehose send:\n${tail(send.stderr)}`);
    assert.deepEqual(summary.slice(1, 5).map(Number), [w.records, truth.ok, 0, 0], summary[0]);
    note(`send: ${summary[0]} in ${Date.now() - t0} ms`);

    // Flush.
    const t1 = Date.now();
    const flush = await run(CLI_BIN, ['flush', '--target', target, ...(runSpec.flushAll ? [] : ['--pipeline', w.pipeline])],
      { timeoutMs: FLUSH_TIMEOUT_MS });
    assert.equal(flush.code, 0, `lakehose flush exited ${flush.code}:\n${tail(flush.stderr)}\n-- server:\n${server.tail()}`);
    const flushed = flush.stdout.split('\n').filter((l) => l !== '').map((l) => {
      const m = FLUSH_LINE.exec(l);
      assert.ok(m, `flush printed ${JSON.stringify(l)}, not <uri>\\t<records>\\t<bytes>`);
      return { uri: m[1], records: Number(m[2]), bytes: Number(m[3]) };
    });
    note(`flush: ${flushed.length} objects in ${Date.now() - t1} ms; ${flush.stderr.trim()}`);
    if (front) front.setFaults({});

    // Collect the lake: the file sink's directory, or every object of the bucket.
    let lakeRoot = lakeDir;
    let s3Objects = null;
    if (runSpec.kind === 's3') {
      lakeRoot = join(dir, 'downloaded');
      mkdirSync(lakeRoot, { recursive: true });
      s3Objects = await front.downloadAll(lakeRoot);
    }
    const files = listFiles(lakeRoot);
    const keys = files.map((f) => objectKey(lakeRoot, f));
    assert.ok(keys.length > 0, 'the lake is empty');

    // Keys: <pipeline>/<k>=<v>/.../<pipeline>-<writer_id>-<sequence><ext>, fixed-width
    // sortable sequences, nothing else (no temp files left by the file sink).
    const keyRe = new RegExp(`^${reEscape(w.pipeline)}/${w.partitions.map((p) => `${reEscape(p)}=([^/]+)/`).join('')}` +
      `${reEscape(w.pipeline)}-${reEscape(writerId(runSpec))}-(\\d+)${reEscape(ext)}$`);
    const seqOf = (m) => m[w.partitions.length + 1];
    const seqs = new Set();
    const widths = new Set();
    for (const k of keys) {
      const m = keyRe.exec(k);
      assert.ok(m, `unexpected object ${JSON.stringify(k)} (expected ${keyRe})`);
      assert.ok(!seqs.has(seqOf(m)), `sequence ${seqOf(m)} used twice`);
      seqs.add(seqOf(m));
      widths.add(seqOf(m).length);
    }
    assert.equal(widths.size, 1, `sequence widths differ: ${[...widths]}`);
    assert.ok([...widths][0] >= 12, `sequences of ${[...widths][0]} digits`);
    note(`${keys.length} objects, sequence width ${[...widths][0]}`);

    // Every object flush reported is there with its byte count; its record count is its
    // line count (checked below). URIs: file://<root>/<key> or s3://lake/<key>, the key
    // as is or percent-encoded.
    const sizeOf = new Map(keys.map((k, i) => [k, statSync(files[i]).size]));
    const flushedByKey = new Map();
    const rawUris = [];
    for (const o of flushed) {
      const prefix = runSpec.kind === 'file' ? `file://${lakeDir}/` : 's3://lake/';
      assert.ok(o.uri.startsWith(prefix), `flush uri ${o.uri} does not start with ${prefix}`);
      let key = o.uri.slice(prefix.length);
      if (!sizeOf.has(key)) {
        try { key = decodeURIComponent(key); } catch { /* not encoded */ }
      } else if (/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/.test(key) || /%(?![0-9A-F]{2})/.test(key)) {
        rawUris.push(o.uri);
      }
      assert.ok(sizeOf.has(key), `flush reported ${o.uri}, which is not in the lake`);
      assert.equal(o.bytes, sizeOf.get(key), `bytes of ${key}`);
      flushedByKey.set(key, o);
    }
    if (rawUris.length) note(`NOTE: ${rawUris.length} flushed URIs carry the key unencoded (not valid URI syntax), e.g. ${JSON.stringify(rawUris[0])}`);

    // Every object decompresses with the system tool; every line is an OK record's
    // document, in the right partition, with the Transform output's values, once.
    const seen = new Set();
    let lines = 0;
    let losslessCompared = 0;
    for (let i = 0; i < files.length; i++) {
      const m = keyRe.exec(keys[i]);
      const text = await decompress(runSpec.compression, files[i]);
      assert.ok(text.endsWith('\n'), `${keys[i]} does not end with a newline`);
      const objLines = text.slice(0, -1).split('\n');
      if (flushedByKey.has(keys[i])) assert.equal(objLines.length, flushedByKey.get(keys[i]).records, `records of ${keys[i]}`);
      for (const line of objLines) {
        lines++;
        const doc = JSON.parse(line);
        const id = doc[w.idField];
        const want = truth.byId.get(id);
        assert.ok(want, `${keys[i]}: a record with ${w.idField} ${id} that was not sent as OK`);
        assert.ok(!seen.has(id), `${keys[i]}: ${w.idField} ${id} is in the lake twice`);
        seen.add(id);
        w.partitions.forEach((p, j) => {
          assert.equal(m[j + 1], want.keys[j], `${id} is under ${p}=${m[j + 1]}, Transform says ${want.keys[j]}`);
        });
        if (line !== want.text) {
          losslessCompared++;
          assert.equal(losslessStringify(losslessParse(line)), losslessStringify(losslessParse(want.text)), `values of ${id} in ${keys[i]}`);
        }
      }
    }
    assert.equal(lines, truth.ok, 'lines in the lake');
    assert.equal(seen.size, truth.ok, 'distinct records in the lake');
    note(`${lines} lines read back with ${DECOMPRESSORS[runSpec.compression]}, ${lines - losslessCompared} byte-identical to Transform's data, ${losslessCompared} equal in value`);

    // DuckDB with hive partitioning: the count, the counts per partition, and each
    // record's partition values as a query sees them.
    const duck = await readWithDuckDB(lakeRoot, w, runSpec.compression);
    assert.equal(duck.total, truth.ok, 'DuckDB count(*)');
    assert.deepEqual(duck.perPartition, truth.perPartition, `DuckDB counts per (${w.partitions.join(', ')})`);
    for (const [id, want] of truth.byId) {
      assert.equal(duck.byId.get(id), want.duck, `DuckDB's (${w.partitions.join(', ')}) of ${id}`);
    }
    for (const c of [w.idField, ...w.partitions]) assert.ok(duck.columns.includes(c), `column ${c} missing: ${duck.columns}`);
    note(`DuckDB: ${duck.total} rows in ${Object.keys(duck.perPartition).length} partitions`);

    // The S3 front's view.
    if (front) {
      const s = front.stats();
      note(`front: ${s.requests} requests ${JSON.stringify(s.byOperation)}, statuses ${JSON.stringify(s.byStatus)}, injected ${JSON.stringify(s.injected)}, conditional writes ${s.conditionalWrites}, checksums ${JSON.stringify(s.checksumsVerified)}, integrity ${JSON.stringify(s.integrity)}`);
      assert.equal(s.signatureRejections, 0, `signature rejections: ${JSON.stringify(s.lastRejections, null, 1)}`);
      assert.equal(s.authRejections, 0, `auth rejections: ${JSON.stringify(s.lastRejections, null, 1)}`);
      assert.deepEqual(s.rejected, {}, `requests the front refused: ${JSON.stringify(s.lastRejections, null, 1)}`);
      assert.equal(s.unsignedPayload, 0, 'requests with x-amz-content-sha256: UNSIGNED-PAYLOAD');
      assert.deepEqual(s.openUploads, [], 'multipart uploads left open');
      assert.equal(s3Objects.length, keys.length);
      for (const op of ['PutObject', 'UploadPart']) {
        assert.equal(s.integrity?.[op]?.neither ?? 0, 0, `${op} requests without Content-MD5 or an x-amz-checksum-*`);
      }
      if (runSpec.faults?.slowDown) assert.ok(s.injected.slowDown > 0, 'no 503 was injected');
      if (runSpec.faults?.internalError) assert.ok(s.injected.internalError > 0, 'no 500 was injected');
      if (runSpec.faults?.reset) assert.ok(s.injected.reset > 0, 'no connection was reset');
      if (runSpec.partSizeMb) {
        assert.ok(s.uploads.completed > 0, 'no multipart upload was completed');
        if (runSpec.faults?.completeError) assert.ok(s.injected.completeError > 0, 'no CompleteMultipartUpload answered 200 with an error');
      }
    }

    // SIGTERM: exit 0, and nothing new written at shutdown (everything was flushed).
    const exit = await server.stop(EXIT_TIMEOUT_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, `lakehose-server on SIGTERM:\n${server.tail()}`);
    const after = runSpec.kind === 's3' ? (await front.listObjects()).map((o) => o.key).sort() : listFiles(lakeDir).map((f) => objectKey(lakeDir, f));
    assert.deepEqual(after, [...keys].sort(), 'objects written after the flush, at shutdown');
  } catch (err) {
    if (diag.length) err.message += `\n-- diagnostics:\n${diag.join('\n')}`;
    if (server) err.message += `\n-- server output (tail):\n${server.tail()}`;
    throw err;
  } finally {
    await server?.kill().catch(() => {});
    await front?.close();
    if (!args.keep) rmSync(join(dir, 'lake'), { recursive: true, force: true });
    if (!args.keep) rmSync(join(dir, 'downloaded'), { recursive: true, force: true });
  }
}

// ---- the tests -------------------------------------------------------------------------

describe(`the lake (${RECORDS} transactions records, seed ${SEED}; ${ODD_RECORDS} records with awkward partition values)`,
  { timeout: RUN_TIMEOUT_MS * (RUNS.length + 1) }, () => {
    before(() => {
      work = new WorkDir('lakehose-lake-', { keep: args.keep });
    });

    after(() => work?.close());

    for (const r of RUNS) {
      const what = `${r.workload}, ${r.kind}, ${r.compression}, ${r.stream ? 'IngestStream' : 'Ingest'}${r.flushAll ? ', Flush all' : ''}` +
        `${r.faults ? `, faults ${JSON.stringify(r.faults)}` : ''}`;
      it(`${r.name}: ${what}`, { timeout: RUN_TIMEOUT_MS }, (t) => lakeRun(r, t));
    }
  });
