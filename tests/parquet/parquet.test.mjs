// Parquet objects, end to end, read by two independent readers.
//
// lakehose-server runs with pipelines that write `format: parquet` (snappy, zstd, gzip
// and none; small row groups in one of them), `lakehose send` ingests records from
// `lakehose generate` (transactions, sites and the edge-case workload), `lakehose flush`
// seals the buffers, and then every .parquet object of the lake is read with DuckDB
// (@duckdb/node-api) and with hyparquet. For each object: its row count, its columns
// and their types (the type lakehose records in the key-value metadata is the one the
// documented inference rules give for the object's records, and DuckDB reports the
// matching SQL type), and every value, compared with the document `lakehose transform`
// gives for the same input record (numbers as exact decimals; DOUBLE columns by value).
// Over the lake: DuckDB counts with hive_partitioning, union_by_name across objects with
// different schemas, and statistics that let a filtered query skip row groups. Error
// documents of failed records stay JSON Lines under the error prefix. Two pipelines
// write `nested: native` (the edge workload, with every DynamoDB type, and transactions):
// there the column tree lakehose records (STRUCT / LIST / the JSON-text fallbacks) is the
// one the documented rules give, DuckDB reports STRUCT(...) and ...[] types for them, and
// both readers give back every nested value equal to the transform output.
//
//   node tests/parquet/parquet.test.mjs --server PATH/TO/lakehose-server --cli PATH/TO/lakehose [--keep]
//
// Every server listens on 127.0.0.1 port 0; every wait is bounded; the server is
// stopped in an after hook.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, openSync, closeSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join, sep } from 'node:path';
import zlib from 'node:zlib';

import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parse as losslessParse, stringify as losslessStringify, isLosslessNumber } from 'lossless-json';

import { ServerProcess, WorkDir, generate, run, serverEnv, suiteArgs } from '../lib/harness.mjs';
import { listFiles, objectKey } from '../lib/lake.mjs';

const { args, serverBin: SERVER_BIN, cliBin: CLI_BIN } = suiteArgs({ options: { keep: { type: 'boolean' } }, usage: '[--keep]' });

const TIMEOUT_MS = 120_000;

// hyparquet reads SNAPPY itself; GZIP and ZSTD pages it hands to a decompressor we pass:
// node's zlib, and the zstd command line tool (Node 20 has no zstd).
function haveZstd() {
  try { execFileSync('zstd', ['--version'], { stdio: 'ignore', timeout: 10_000 }); return true; } catch { return false; }
}
if (!haveZstd()) {
  console.log('SKIP: the zstd command is missing (hyparquet needs it to read ZSTD pages)');
  process.exit(77);
}
const COMPRESSORS = {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  ZSTD: (input) => new Uint8Array(execFileSync('zstd', ['-d', '-c', '-q'], { input, timeout: 30_000, maxBuffer: 1 << 30 })),
};

// Records that fail (an N that is not a number): their error documents must stay JSON
// Lines under the error prefix.
function badRecords(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(JSON.stringify({
      eventID: `bad-${i}`, eventName: 'INSERT', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1',
      dynamodb: { ApproximateCreationDateTime: 1700000000, Keys: { id: { S: `b${i}` } },
        NewImage: { id: { S: `b${i}` }, amount: { N: 'twelve' } }, SequenceNumber: String(i), StreamViewType: 'NEW_IMAGE' },
    }));
  }
  return out;
}

// name, workload, records, compression, extra pipeline lines, parquet options.
const PIPELINES = [
  {
    name: 'tx_snappy', workload: 'transactions', records: 12_000, compression: 'snappy',
    partitioned: true, parquet: '{ row_group_rows: 200 }',
  },
  { name: 'tx_zstd', workload: 'transactions', records: 3_000, compression: 'zstd', partitioned: false, parquet: null },
  { name: 'sites_gzip', workload: 'sites', records: 4_000, compression: 'gzip', partitioned: true, parquet: null },
  { name: 'edge_none', workload: 'edge', records: 1_500, compression: 'none', partitioned: false, parquet: '{ page_kb: 4 }' },
  {
    name: 'tx_strings', workload: 'transactions', records: 1_000, compression: 'snappy', partitioned: false,
    parquet: null, numbers: 'string',
  },
  // nested: native (groups and lists); small pages so that lists span pages.
  {
    name: 'edge_native', workload: 'edge', records: 1_500, compression: 'snappy', partitioned: false,
    parquet: '{ nested: native, page_kb: 4 }', native: true,
  },
  {
    name: 'tx_native', workload: 'transactions', records: 1_000, compression: 'zstd', partitioned: false,
    parquet: '{ nested: native, row_group_rows: 300 }', native: true,
  },
];

function configYaml(dir) {
  const lines = ['server:', `  data_dir: ${JSON.stringify(join(dir, 'data'))}`, '  writer_id: pq', 'pipelines:'];
  for (const p of PIPELINES) {
    lines.push(
      `  - name: ${p.name}`,
      '    input: dynamodb-stream',
      '    image: new-or-old',
      '    metadata: [eventID, eventName, ApproximateCreationDateTime]',
      `    numbers: ${p.numbers ?? 'number'}`,
    );
    if (p.partitioned) {
      lines.push(
        '    partition_keys:',
        '      region: { attribute: region, default: unknown }',
        '      date: { timestamp: timestamp, unit: ms, format: "%Y-%m-%d", fallback: approximate_creation_time }',
        `    prefix: "${p.name}/region=!{partitionKeyFromLambda:region}/date=!{partitionKeyFromLambda:date}/"`,
      );
    } else {
      lines.push(`    prefix: "${p.name}/all/"`);
    }
    lines.push(
      `    error_prefix: "${p.name}-errors/"`,
      '    destination:',
      '      kind: file',
      `      path: ${JSON.stringify(join(dir, 'lake'))}`,
      '      format: parquet',
      `      compression: ${p.compression}`,
      '      buffering: { size_mb: 64, interval_s: 3600 }',
    );
    if (p.parquet) lines.push(`      parquet: ${p.parquet}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- exact decimals and the documented inference rules ---------------------------------

// A decimal text as {neg, digits (no leading/trailing zeros), exp}: value = digits * 10^exp.
function splitDecimal(text) {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(String(text));
  assert.ok(m, `not a decimal: ${text}`);
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let exp = (m[4] ? Number(m[4]) : 0) - (m[3] ?? '').length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return { neg: false, digits: '', exp: 0 };
  while (digits.endsWith('0')) { digits = digits.slice(0, -1); exp++; }
  return { neg: m[1] === '-', digits, exp };
}
const decimalKey = (text) => { const d = splitDecimal(text); return d.digits === '' ? '0' : `${d.neg ? '-' : ''}${d.digits}e${d.exp}`; };
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function fitsInt64(d) {
  if (d.digits === '') return true;
  if (d.exp < 0 || d.digits.length + d.exp > 19) return false;
  const v = BigInt(d.digits) * 10n ** BigInt(d.exp) * (d.neg ? -1n : 1n);
  return v >= INT64_MIN && v <= INT64_MAX;
}

const kindOf = (v) => (v === undefined || v === null ? null
  : typeof v === 'string' ? 'string'
    : typeof v === 'boolean' ? 'bool'
      : isLosslessNumber(v) ? 'number' : 'nested');

// README "Parquet": the type lakehose must have chosen for these values.
function expectedType(values) {
  const kinds = new Set(values.map(kindOf).filter((k) => k !== null));
  if (kinds.size !== 1) return 'string';
  const [kind] = kinds;
  if (kind === 'bool') return 'bool';
  if (kind === 'nested') return 'json';
  if (kind === 'string') return 'string';
  const ds = values.filter((v) => kindOf(v) === 'number').map((v) => splitDecimal(v.value));
  if (ds.every(fitsInt64)) return 'int64';
  const scale = Math.max(0, ...ds.map((d) => (d.exp < 0 ? -d.exp : 0)));
  if (scale <= 18 && ds.every((d) => d.digits === '' || d.digits.length + d.exp + scale <= 38)) return `decimal(38,${scale})`;
  return 'double';
}

const DUCK_TYPE = { string: 'VARCHAR', json: 'VARCHAR', int64: 'BIGINT', double: 'DOUBLE', bool: 'BOOLEAN' };
const duckType = (t) => DUCK_TYPE[t] ?? t.replace('decimal', 'DECIMAL');

// ---- nested: native ----------------------------------------------------------------------

const NATIVE_MAX_DEPTH = 32;  // kMaxParquetNativeDepth
const nestedKind = (v) => {
  const k = kindOf(v);
  return k !== 'nested' ? k : Array.isArray(v) ? 'array' : 'object';
};

// README "Parquet" (nested: native): the column for these values (all the values of one
// position), as lakehose.columns describes it: {type}, {type: 'struct', fields: [{name,
// ...}]} or {type: 'list', element: {...}}. `depth` is 1 for a top-level member.
function expectedNative(values, depth) {
  const kinds = new Set(values.map(nestedKind).filter((k) => k !== null));
  if (kinds.size === 1 && depth <= NATIVE_MAX_DEPTH) {
    if (kinds.has('object')) {
      const names = [];
      const seen = new Set();
      for (const v of values) {
        if (nestedKind(v) !== 'object') continue;
        for (const n of Object.keys(v)) if (!seen.has(n)) { seen.add(n); names.push(n); }
      }
      if (names.length > 0) {  // objects that are always {}: JSON text
        return {
          type: 'struct',
          fields: names.map((n) => ({ name: n, ...expectedNative(values.map((v) => (v == null ? null : v[n])), depth + 1) })),
        };
      }
    }
    if (kinds.has('array')) {
      const elements = values.filter((v) => nestedKind(v) === 'array').flat();
      // Elements of more than one kind: the whole array is JSON text.
      if (new Set(elements.map(nestedKind).filter((k) => k !== null)).size <= 1) {
        return { type: 'list', element: expectedNative(elements, depth + 1) };
      }
    }
  }
  return { type: expectedType(values) };
}

// DuckDB's type for a described column: STRUCT(...), T[] or the scalar type.
function checkDuckType(desc, duck, where) {
  if (desc.type === 'list') {
    assert.ok(duck.endsWith('[]'), `${where}: DuckDB type ${duck} is not a LIST`);
    checkDuckType(desc.element, duck.slice(0, -2), `${where}[]`);
  } else if (desc.type === 'struct') {
    assert.ok(duck.startsWith('STRUCT(') && duck.endsWith(')'), `${where}: DuckDB type ${duck} is not a STRUCT`);
  } else {
    assert.equal(duck, duckType(desc.type), `${where}: DuckDB type`);
  }
}

// A reader's value for a described column against the document's value; absent and null
// both read as null (hyparquet may give undefined).
function checkNested(desc, got, want, reader, where) {
  if (got === undefined) got = null;
  if (want === undefined || want === null) {
    assert.equal(got, null, `${where}: ${reader} expected null, read ${JSON.stringify(got, (_, x) => (typeof x === 'bigint' ? String(x) : x))}`);
    return;
  }
  if (desc.type === 'struct') {
    assert.ok(got !== null && typeof got === 'object' && !Array.isArray(got), `${where}: ${reader} expected an object`);
    for (const f of desc.fields) checkNested(f, got[f.name], want[f.name], reader, `${where}.${JSON.stringify(f.name)}`);
    return;
  }
  if (desc.type === 'list') {
    assert.ok(Array.isArray(got), `${where}: ${reader} expected an array`);
    assert.equal(got.length, want.length, `${where}: ${reader} array length`);
    for (let i = 0; i < want.length; i++) checkNested(desc.element, got[i], want[i], reader, `${where}[${i}]`);
    return;
  }
  checkValue(desc.type, got, want, reader, where);
}

// How many columns of each kind a described tree has (to check the workloads exercise them).
function countShapes(desc, counts) {
  counts[desc.type] = (counts[desc.type] ?? 0) + 1;
  if (desc.type === 'struct') for (const f of desc.fields) countShapes(f, counts);
  if (desc.type === 'list') countShapes(desc.element, counts);
}

// `got` (from a reader, already in JS form) against the document's value `want`.
function checkValue(type, got, want, reader, where) {
  const k = kindOf(want);
  if (k === null) { assert.equal(got, null, `${where}: ${reader} expected null`); return; }
  assert.notEqual(got, null, `${where}: ${reader} read null for ${losslessStringify(want)}`);
  switch (type) {
    case 'string':
    case 'json':
      if (k === 'string') assert.equal(got, want, `${where}: ${reader}`);
      else if (k === 'bool') assert.equal(got, String(want), `${where}: ${reader}`);
      else if (k === 'number') assert.equal(got, want.value, `${where}: ${reader} (number as its exact text)`);
      else assert.equal(losslessStringify(losslessParse(got)), losslessStringify(want), `${where}: ${reader} (JSON text)`);
      return;
    case 'bool':
      assert.equal(got, want, `${where}: ${reader}`);
      return;
    case 'int64':
      assert.equal(BigInt(got), BigInt(decimalKey(want.value).replace(/e(\d+)$/, (_, e) => '0'.repeat(Number(e)))),
        `${where}: ${reader} int64`);
      return;
    case 'double':
      assert.equal(Number(got), Number(want.value), `${where}: ${reader} double`);
      return;
    default: {  // decimal(38,s)
      if (typeof got === 'number') {  // hyparquet converts DECIMAL to a JS number
        const w = Number(want.value);
        assert.ok(Math.abs(got - w) <= 1e-12 * Math.max(1, Math.abs(w)), `${where}: ${reader} decimal ${got} vs ${want.value}`);
      } else {
        assert.equal(decimalKey(got), decimalKey(want.value), `${where}: ${reader} decimal (exact)`);
      }
    }
  }
}

// ---- the run ---------------------------------------------------------------------------

describe('parquet objects read by DuckDB and hyparquet', { timeout: 600_000 }, () => {
  let work;  // WorkDir, made in before()
  let dir;
  let server;
  let db;
  let conn;
  const expected = new Map();  // pipeline -> Map(_eventID -> {doc, prefix})
  const failedCount = new Map();
  const lakeRoot = () => join(dir, 'lake');
  const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
  const lit = (s) => `'${s.replaceAll("'", "''")}'`;

  before(async () => {
    work = new WorkDir('lakehose-parquet-', { keep: args.keep });
    dir = work.path;
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, configYaml(dir));
    for (const p of PIPELINES) {
      const { lines } = await generate(CLI_BIN, p.records, 7, { workload: p.workload });
      if (p.name === 'edge_none') lines.push(...badRecords(7));
      const input = join(dir, `${p.name}.in`);
      writeFileSync(input, `${lines.join('\n')}\n`);
      const out = join(dir, `${p.name}.out`);
      const t = await run(CLI_BIN, ['transform', '--config', cfg, '--pipeline', p.name, '--input', input, '--output', out],
        { timeoutMs: TIMEOUT_MS });
      assert.ok(t.code === 0 || t.code === 1, `lakehose transform: ${t.stderr}`);
      const docs = new Map();
      let failed = 0;
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        if (!line) continue;
        const r = losslessParse(line);
        if (r.result !== 'OK') { failed += r.result === 'PROCESSING_FAILED'; continue; }
        docs.set(r.data._eventID, { doc: r.data, prefix: r.key_prefix });
      }
      assert.ok(docs.size > p.records / 2, `${p.name}: transform gave only ${docs.size} OK records`);
      expected.set(p.name, docs);
      failedCount.set(p.name, failed);
    }
    server = new ServerProcess(SERVER_BIN, { dir, configPath: cfg, env: serverEnv(dir) });
    await server.waitForPort();
    for (const p of PIPELINES) {
      const s = await run(CLI_BIN, ['send', '--target', server.target, '--pipeline', p.name, '--input', join(dir, `${p.name}.in`)],
        { timeoutMs: TIMEOUT_MS });
      assert.ok(s.code === 0 || s.code === 1, `lakehose send ${p.name}: ${s.stderr}`);
    }
    const f = await run(CLI_BIN, ['flush', '--target', server.target], { timeoutMs: TIMEOUT_MS });
    assert.equal(f.code, 0, `lakehose flush: ${f.stderr}`);
    const instance = await DuckDBInstance.create(':memory:');
    db = instance;
    conn = await instance.connect();
  });

  after(async () => {
    conn?.closeSync?.();
    db?.closeSync?.();
    if (server) await server.stop();
    await work?.close();
  });

  for (const p of PIPELINES) {
    it(`${p.name}: every object reads back equal with both readers`, async () => {
      const docs = expected.get(p.name);
      const files = listFiles(join(lakeRoot(), p.name)).filter((f) => !f.includes(`${sep}.tmp-`));
      assert.ok(files.length > 0, 'no objects');
      const seen = new Set();
      const shapes = {};  // nested: native, column kinds over every object
      for (const file of files) {
        const key = objectKey(lakeRoot(), file);
        assert.ok(key.endsWith('.parquet'), `${key}: not a .parquet object`);
        const prefix = key.slice(0, key.lastIndexOf('/') + 1);

        // hyparquet: metadata, schema, rows.
        const buf = readFileSync(file);
        const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
        const meta = parquetMetadata(ab);
        const kv = Object.fromEntries((meta.key_value_metadata ?? []).map((e) => [e.key, e.value]));
        assert.equal(kv['lakehose.pipeline'], p.name, `${key}: key-value metadata names the pipeline`);
        const columns = JSON.parse(kv['lakehose.columns']);
        const hyRows = await parquetReadObjects({ file: ab, compressors: COMPRESSORS });

        // DuckDB: the same object.
        const one = `read_parquet(${lit(file)}, hive_partitioning = false)`;
        const duckRows = await q(`SELECT * FROM ${one}`);
        const described = await q(`DESCRIBE SELECT * FROM ${one}`);
        assert.equal(hyRows.length, duckRows.length, `${key}: row counts of the two readers`);
        assert.equal(Number(meta.num_rows), duckRows.length, `${key}: num_rows`);
        assert.equal(described.length, columns.length, `${key}: DuckDB column count`);

        // The records of this object, in order (both readers keep file order).
        const wants = duckRows.map((r, i) => {
          const id = r._eventID;
          assert.equal(hyRows[i]._eventID, id, `${key}: row ${i} is the same record in both readers`);
          const w = docs.get(id);
          assert.ok(w, `${key}: a record that transform did not give OK: ${id}`);
          assert.equal(w.prefix, prefix, `${key}: record ${id} in the wrong partition`);
          assert.ok(!seen.has(id), `${key}: record ${id} written twice`);
          seen.add(id);
          return w.doc;
        });
        // Columns: the union of the records' members, in first-appearance order.
        const names = [];
        for (const w of wants) for (const n of Object.keys(w)) if (!names.includes(n)) names.push(n);
        assert.deepEqual(columns.map((c) => c.name), names, `${key}: columns`);
        for (let c = 0; c < columns.length; c++) {
          const { name, type } = columns[c];
          const values = wants.map((w) => w[name]);
          if (p.native) {
            const { name: _n, required: _r, source: _s, ...desc } = columns[c];
            assert.deepEqual(desc, expectedNative(values, 1), `${key}: the column tree chosen for ${JSON.stringify(name)}`);
            countShapes(desc, shapes);
            checkDuckType(desc, described[c].column_type, `${key} column ${JSON.stringify(name)}`);
            const duckName = described[c].column_name;
            for (let i = 0; i < wants.length; i++) {
              const where = `${key} row ${i} column ${JSON.stringify(name)}`;
              checkNested(desc, duckRows[i][duckName], values[i], 'DuckDB', where);
              checkNested(desc, hyRows[i][name], values[i], 'hyparquet', where);
            }
            continue;
          }
          assert.equal(type, expectedType(values), `${key}: the type chosen for ${JSON.stringify(name)}`);
          assert.equal(described[c].column_type, duckType(type), `${key}: DuckDB's type for ${JSON.stringify(name)}`);
          const duckName = described[c].column_name;
          for (let i = 0; i < wants.length; i++) {
            const where = `${key} row ${i} column ${JSON.stringify(name)}`;
            checkValue(type, duckRows[i][duckName], values[i], 'DuckDB', where);
            checkValue(type, hyRows[i][name], values[i], 'hyparquet', where);
          }
        }
      }
      assert.equal(seen.size, docs.size, 'every OK record is in the lake exactly once');
      if (p.workload === 'edge' && p.native) {
        // The edge workload has M, L and sets: groups, lists and the mixed-kind fallbacks.
        for (const t of ['struct', 'list', 'json', 'string']) assert.ok(shapes[t] > 0, `no ${t} column: ${JSON.stringify(shapes)}`);
      }
      if (p.workload === 'transactions' && p.native) assert.ok(shapes.list > 0, 'tags (SS) is a LIST');
    });
  }

  it('hive_partitioning and union_by_name over a partitioned lake', async () => {
    const docs = expected.get('tx_snappy');
    const want = new Map();
    for (const { doc } of docs.values()) {
      const r = doc.region ?? 'unknown';
      want.set(r, (want.get(r) ?? 0) + 1);
    }
    const glob = lit(`${lakeRoot()}/tx_snappy/**/*.parquet`);
    const rows = await q(`SELECT region, count(*) AS n, count(DISTINCT date) AS dates FROM read_parquet(${glob}, hive_partitioning = true, union_by_name = true) GROUP BY region ORDER BY region`);
    assert.deepEqual(new Map(rows.map((r) => [r.region, Number(r.n)])), new Map([...want].sort()));
    const [total] = await q(`SELECT count(*) AS n FROM read_parquet(${lit(`${lakeRoot()}/*/**/*.parquet`)}, hive_partitioning = false, union_by_name = true)`);
    let all = 0;
    for (const d of expected.values()) all += d.size;
    assert.equal(Number(total.n), all, 'every pipeline, one query');
  });

  it('row group statistics let a filtered query skip row groups', async () => {
    const glob = lit(`${lakeRoot()}/tx_snappy/**/*.parquet`);
    const stats = await q(`SELECT file_name, row_group_id, stats_min_value AS lo, stats_max_value AS hi
      FROM parquet_metadata(${glob}) WHERE path_in_schema = '_ApproximateCreationDateTime'`);
    assert.ok(stats.length >= 20, `expected many row groups, got ${stats.length}`);
    for (const g of stats) assert.ok(g.lo !== null && g.hi !== null, 'every row group has min/max');
    // A narrow range: only the row groups whose [min, max] overlap it need to be read.
    const mins = stats.map((g) => BigInt(g.lo)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const lo = mins[Math.floor(mins.length / 2)];
    const hi = lo + 1000n;
    const needed = stats.filter((g) => BigInt(g.hi) >= lo && BigInt(g.lo) <= hi);
    assert.ok(needed.length > 0 && needed.length < stats.length / 4, `statistics prune: ${needed.length} of ${stats.length} row groups overlap`);
    let want = 0;
    for (const { doc } of expected.get('tx_snappy').values()) {
      const t = BigInt(doc._ApproximateCreationDateTime.value);
      if (t >= lo && t <= hi) want++;
    }
    const where = `WHERE _ApproximateCreationDateTime BETWEEN ${lo} AND ${hi}`;
    const [got] = await q(`SELECT count(*) AS n FROM read_parquet(${glob}, hive_partitioning = true) ${where}`);
    assert.equal(Number(got.n), want);

    // Proof that DuckDB does not read the others: copy the lake, overwrite every column
    // chunk of every row group the range does not need with garbage, and query again.
    // The filtered query still answers (it never read them); an unfiltered one fails.
    const copy = join(dir, 'pruned');
    const chunks = await q(`SELECT file_name, row_group_id, coalesce(dictionary_page_offset, data_page_offset) AS start,
      total_compressed_size AS size FROM parquet_metadata(${glob})`);
    const keep = new Set(needed.map((g) => `${g.file_name}#${g.row_group_id}`));
    const files = [...new Set(chunks.map((c) => c.file_name))];
    let spoiled = 0;
    for (const [i, f] of files.entries()) {
      const dest = join(copy, `f${i}.parquet`);
      if (i === 0) execFileSync('mkdir', ['-p', copy]);
      copyFileSync(f, dest);
      const fd = openSync(dest, 'r+');
      try {
        for (const c of chunks) {
          if (c.file_name !== f || keep.has(`${f}#${c.row_group_id}`)) continue;
          writeSync(fd, Buffer.alloc(Number(c.size), 0xff), 0, Number(c.size), Number(c.start));
          spoiled++;
        }
      } finally { closeSync(fd); }
    }
    assert.ok(spoiled > 0);
    const copyGlob = lit(`${copy}/*.parquet`);
    const [again] = await q(`SELECT count(*) AS n, count(DISTINCT "_eventID") AS ids FROM read_parquet(${copyGlob}, union_by_name = true) ${where}`);
    assert.equal(Number(again.n), want, 'the filtered query reads only row groups with matching statistics');
    await assert.rejects(q(`SELECT count(DISTINCT "_eventID") FROM read_parquet(${copyGlob}, union_by_name = true)`), 'reading every row group hits the garbage');
  });

  it('error documents stay JSON Lines under the error prefix', async () => {
    const failed = failedCount.get('edge_none');
    assert.ok(failed > 0, 'the edge workload has failing records');
    const errFiles = listFiles(join(lakeRoot(), 'edge_none-errors'));
    assert.ok(errFiles.length > 0);
    let lines = 0;
    for (const f of errFiles) {
      assert.ok(f.endsWith('.jsonl'), `${f}: error documents are .jsonl`);
      for (const l of readFileSync(f, 'utf8').split('\n')) {
        if (!l) continue;
        lines++;
        assert.ok('errorCode' in JSON.parse(l));
      }
    }
    assert.equal(lines, failed);
  });
});
