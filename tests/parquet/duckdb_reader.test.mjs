// lakehose's Parquet reader (core/parquet/parquet_reader.h) over files an independent
// writer made: DuckDB (@duckdb/node-api) writes Parquet files (every codec lakehose reads,
// several row groups, dictionary and plain strings, every scalar type DuckDB maps onto
// Parquet's common ones, STRUCTs, LISTs of scalars, lists and structs, nulls everywhere),
// testing/parquet_read_tool reads them, and every value must be the one DuckDB itself reads
// from the same file, in the reader's documented JSON form (decimals as exact text at
// their scale, timestamps as ms since the epoch, exact decimal ms below a millisecond,
// DATE as days, BLOB as base64, FLOAT and DOUBLE the same value). The columns it reports
// are the writer's types for them. Files DuckDB writes with encodings the reader does not
// read (Parquet v2's DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT) and
// MAP columns are refused with UNIMPLEMENTED naming the encoding / the MAP.
//
//   node tests/parquet/duckdb_reader.test.mjs --tool PATH/TO/parquet_read_tool [--keep]
//
// No network, no servers; every child process has a timeout.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { DuckDBInstance } from '@duckdb/node-api';
import { parse as losslessParse, isLosslessNumber } from 'lossless-json';

const { values: args } = parseArgs({ options: { tool: { type: 'string' }, keep: { type: 'boolean' } }, strict: true });
if (!args.tool) {
  console.error('usage: node duckdb_reader.test.mjs --tool PATH/TO/parquet_read_tool [--keep]');
  process.exit(2);
}

const FLAT = `SELECT i::BIGINT AS id, i::INTEGER AS i32, -i::SMALLINT AS i16,
  'name' || (i % 5) AS s, 'u' || i || ' \u00e9\u4e2d "q"' AS u,
  (i * 1.25)::DECIMAL(18,2) AS d18, (i * -7.001)::DECIMAL(38,3) AS d38, (i * 3)::DECIMAL(9,1) AS d9,
  '12345678901234567890123456789012345678'::DECIMAL(38,0) AS d38max,
  i / 3 AS dbl, (i / 7)::FLOAT AS flt, CASE WHEN i = 5 THEN 'inf'::DOUBLE WHEN i = 6 THEN 1e-7 ELSE i * 1e300 END AS dwide,
  i % 2 = 0 AS b, CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS n,
  TIMESTAMP '2024-01-01' + to_microseconds(i * 1001) AS ts,
  (TIMESTAMP '2024-01-01' + to_milliseconds(i))::TIMESTAMP_MS AS ts_ms,
  DATE '2024-01-01' + i::INTEGER AS dt,
  CASE WHEN i % 2 = 0 THEN '\\x00\\x01\\xFF'::BLOB WHEN i % 5 = 1 THEN NULL ELSE 'abc'::BLOB END AS bl
  FROM range(3000) t(i)`;

const NESTED = `SELECT i AS id,
  CASE WHEN i % 7 = 0 THEN NULL ELSE {'a': i, 'b': 's' || i, 'c': CASE WHEN i % 2 = 0 THEN NULL ELSE [i] END} END AS st,
  CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN [] ELSE [i, NULL, i + 1] END AS l,
  CASE WHEN i % 5 = 0 THEN NULL ELSE [[i], [], NULL, [NULL, i]] END AS ll,
  [{'k': i, 'v': [i::VARCHAR]}, NULL, {'k': NULL, 'v': []}] AS ls,
  {'inner': {'deep': [i % 3 = 0]}} AS ss
  FROM range(700) t(i)`;

// name, query, COPY options (all Parquet format v1 pages, which lakehose reads).
const FILES = [
  ['flat_zstd', FLAT, 'COMPRESSION zstd, ROW_GROUP_SIZE 1000'],
  ['flat_snappy', FLAT, 'COMPRESSION snappy'],
  ['flat_gzip', FLAT, 'COMPRESSION gzip, ROW_GROUP_SIZE 700'],
  ['flat_none', FLAT, 'COMPRESSION uncompressed'],
  ['nested_zstd', NESTED, 'COMPRESSION zstd, ROW_GROUP_SIZE 256'],
  ['nested_none', NESTED, 'COMPRESSION uncompressed'],
];

// The reader's column types for DuckDB's.
const WRITER_TYPE = {
  BIGINT: 'int64', INTEGER: 'int64', SMALLINT: 'int64', VARCHAR: 'string', DOUBLE: 'double', FLOAT: 'double',
  BOOLEAN: 'bool', 'TIMESTAMP': 'timestamptz', 'TIMESTAMP_MS': 'timestamp_ms', DATE: 'int64', BLOB: 'binary',
};
function writerType(name, duckType) {
  if (name === 'ts_ms') return 'timestamp_ms';  // DuckDB reads TIMESTAMP(MILLIS) back as TIMESTAMP
  const m = /^DECIMAL\(\d+,(\d+)\)$/.exec(duckType);
  if (m) return `decimal(38,${m[1]})`;
  if (duckType.endsWith('[]')) return 'list';
  if (duckType.startsWith('STRUCT')) return 'struct';
  return WRITER_TYPE[duckType];
}

// Microseconds since the epoch as the reader's milliseconds: whole ms as an integer, else
// exact decimal text without trailing zeros.
function usToMs(us) {
  const v = BigInt(us);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / 1000n, frac = a % 1000n;
  let text = whole.toString();
  if (frac !== 0n) text += '.' + frac.toString().padStart(3, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + text;
}

// A value the reader wrote (lossless-json) as comparable text; numbers keep their digits.
function text(v) {
  if (isLosslessNumber(v)) return v.toString();
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(text);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, text(x)]));
  return typeof v === 'number' ? String(v) : v;
}

function runTool(...toolArgs) {
  return spawnSync(args.tool, toolArgs, { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
}

describe('lakehose reads Parquet files DuckDB wrote', () => {
  let dir, db, conn;
  const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lakehose-duckdb-reader-'));
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    await conn.run('SET threads = 1');  // file order, so rows line up one to one
    for (const [name, sql, options] of FILES)
      await conn.run(`COPY (${sql}) TO '${join(dir, name)}.parquet' (FORMAT parquet, ${options})`);
  });
  after(() => {
    if (args.keep) console.log(`kept ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name] of FILES) {
    it(`${name}: every value is DuckDB's`, async () => {
      const file = join(dir, `${name}.parquet`);
      const types = Object.fromEntries((await q(`DESCRIBE SELECT * FROM read_parquet('${file}')`))
        .map((r) => [r.column_name, r.column_type]));
      // What the reader must give, computed by DuckDB: timestamps as epoch microseconds,
      // dates as days, blobs as base64; everything else as DuckDB returns it.
      const select = Object.entries(types).map(([c, t]) => {
        if (t === 'TIMESTAMP' || t === 'TIMESTAMP_MS') return `epoch_us("${c}")::VARCHAR AS "${c}"`;
        if (t === 'DATE') return `("${c}" - DATE '1970-01-01') AS "${c}"`;
        if (t === 'BLOB') return `to_base64("${c}") AS "${c}"`;
        return `"${c}"`;
      }).join(', ');
      const want = await q(`SELECT ${select} FROM read_parquet('${file}')`);

      const out = runTool(file);
      assert.equal(out.status, 0, out.stderr);
      const rows = out.stdout.split('\n').filter((l) => l.length > 0);
      assert.equal(rows.length, want.length);
      let compared = 0;
      for (let r = 0; r < rows.length; r++) {
        const got = losslessParse(rows[r]);
        assert.deepEqual(Object.keys(got), Object.keys(types), `row ${r}: members in schema order, nulls kept`);
        for (const [c, t] of Object.entries(types)) {
          const g = got[c], w = want[r][c];
          const where = `row ${r} column ${c} (${t}): got ${rows[r]}`;
          if (w === null) {
            assert.equal(g, null, where);
          } else if (t === 'DOUBLE' || t === 'FLOAT') {
            if (typeof w === 'string') assert.equal(g, w, where);  // "Infinity"
            else if (t === 'DOUBLE') assert.equal(Number(g.toString()), w, where);
            else assert.equal(Math.fround(Number(g.toString())), Math.fround(w), where);
          } else if (t === 'TIMESTAMP' || t === 'TIMESTAMP_MS') {
            assert.equal(text(g), usToMs(w), where);
          } else {
            assert.deepEqual(text(g), text(w), where);
          }
          compared++;
        }
      }
      assert.ok(compared > 1000, `compared ${compared} values`);

      const cols = runTool('--columns', file);
      assert.equal(cols.status, 0, cols.stderr);
      const described = JSON.parse(cols.stdout);
      assert.deepEqual(described.map((c) => c.name), Object.keys(types));
      for (const c of described) assert.equal(c.type, writerType(c.name, types[c.name]), `column ${c.name} (${types[c.name]})`);
    });
  }

  it('several row groups and dictionary pages are what DuckDB wrote', async () => {
    const file = join(dir, 'flat_zstd.parquet');
    const groups = await q(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('${file}')`);
    assert.ok(Number(groups[0].n) >= 2, JSON.stringify(groups));
    const enc = await q(`SELECT path_in_schema AS p, encodings AS e, compression AS c FROM parquet_metadata('${file}') WHERE row_group_id = 0`);
    assert.ok(enc.some((r) => /DICTIONARY/.test(r.e)), JSON.stringify(enc));
    assert.ok(enc.every((r) => r.c === 'ZSTD'), JSON.stringify(enc));
  });

  // Parquet format v2 files: DuckDB picks DELTA / BYTE_STREAM_SPLIT encodings the reader
  // does not read; a v2 dictionary-encoded column it does read (DATA_PAGE_V2 pages).
  const V2 = [
    ['v2_int64', 'SELECT i::BIGINT AS v FROM range(100) t(i)', 'DELTA_BINARY_PACKED'],
    ['v2_double', 'SELECT i::DOUBLE / 3 AS v FROM range(100) t(i)', 'BYTE_STREAM_SPLIT'],
    ['v2_strings', `SELECT 'u' || i AS v FROM range(100) t(i)`, 'DELTA_LENGTH_BYTE_ARRAY'],
    ['map', 'SELECT MAP {\'a\': i} AS v FROM range(3) t(i)', 'MAP', 'V1'],
  ];
  for (const [name, sql, what, version = 'V2'] of V2) {
    it(`${name}: refused with UNIMPLEMENTED naming ${what}`, async () => {
      const file = join(dir, `${name}.parquet`);
      await conn.run(`COPY (${sql}) TO '${file}' (FORMAT parquet, PARQUET_VERSION ${version})`);
      const out = runTool(file);
      assert.equal(out.status, 1, out.stdout);
      assert.match(out.stderr, /^UNIMPLEMENTED: /);
      assert.ok(out.stderr.includes(what), out.stderr);
      assert.ok(out.stderr.includes('"v"'), out.stderr);
    });
  }

  it('v2 pages of a dictionary-encoded column are read', async () => {
    const file = join(dir, 'v2_dict.parquet');
    await conn.run(`COPY (SELECT 'x' || (i % 3) AS v, NULLIF(i % 4, 0) > 1 AS b FROM range(100) t(i)) TO '${file}' (FORMAT parquet, PARQUET_VERSION V2)`);
    const pages = await q(`SELECT encodings AS e FROM parquet_metadata('${file}')`);
    const out = runTool(file);
    assert.equal(out.status, 0, `${out.stderr} ${JSON.stringify(pages)}`);
    const want = await q(`SELECT v, b FROM read_parquet('${file}')`);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows, want);
  });
});
