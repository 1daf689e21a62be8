// Iceberg-ready Parquet data files, read by DuckDB (@duckdb/node-api).
//
// testing/parquet_iceberg_fixture writes a file the way the Iceberg writer calls
// lakehose's Parquet writer (a declared schema with a field id on every column, STRUCT and
// LIST columns, a LIST of STRUCTs, timestamptz, decimal, binary; zstd; several row groups
// and pages; a long "iceberg.schema" key-value entry) and prints the file's per-field
// metrics. This suite checks, with DuckDB:
// - parquet_schema: field_id on every element but the root and the LISTs' repeated
//   "list" groups, equal to the declared ids; timestamptz as TIMESTAMP_MICROS adjusted to
//   UTC (DuckDB: TIMESTAMP WITH TIME ZONE);
// - read_parquet: every value equal to the input records (timestamps as ms * 1000);
// - parquet_kv_metadata: the whole "iceberg.schema" value;
// - the metrics: column sizes and value / null counts equal the sums over the row groups
//   of DuckDB's parquet_metadata, and equal what the records give (computed here, on
//   their own); lower / upper bounds equal Iceberg's single-value serialization of the
//   records' min / max (strings truncated to 16 code points, the upper one incremented),
//   none for leaves under a LIST.
//
//   node tests/parquet/iceberg_fields.test.mjs --fixture PATH/TO/parquet_iceberg_fixture [--keep]

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { DuckDBInstance } from '@duckdb/node-api';

const { values: args } = parseArgs({ options: { fixture: { type: 'string' }, keep: { type: 'boolean' } }, strict: true });
if (!args.fixture) {
  console.error('usage: node iceberg_fields.test.mjs --fixture PATH/TO/parquet_iceberg_fixture [--keep]');
  process.exit(2);
}

// The declared columns: depth-first schema elements (name, field id; null for the root
// and the repeated groups) and the leaves with their ids, as the fixture declares them.
const ELEMENTS = [
  ['schema', null], ['id', 1], ['name', 2], ['amount', 3], ['score', 4], ['active', 5], ['payload', 6],
  ['ts', 7], ['addr', 8], ['city', 9], ['zip', 10], ['tags', 11], ['list', null], ['element', 12],
  ['items', 13], ['list', null], ['element', 14], ['sku', 15], ['qty', 16],
];
const LEAF_IDS = [1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 15, 16];

// ---- Iceberg's single-value serialization, written here from the spec (Appendix D) ----

const le64 = (v) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return b; };
const f64 = (v) => { const b = Buffer.alloc(8); b.writeDoubleLE(v); return b; };
function decimalBytes(unscaled) {  // minimal big-endian two's complement
  let n = 1;
  while (unscaled < -(1n << BigInt(8 * n - 1)) || unscaled >= (1n << BigInt(8 * n - 1))) n++;
  const b = Buffer.alloc(n);
  let v = BigInt.asUintN(8 * n, unscaled);
  for (let i = n - 1; i >= 0; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  return b;
}
function unscaled(text, scale) {
  const neg = text.startsWith('-');
  const [i, f = ''] = text.replace('-', '').split('.');
  const v = BigInt(i + f.padEnd(scale, '0'));
  return neg ? -v : v;
}
// Strings: the first 16 code points; the upper bound increments the last one that can be.
function stringLower(s) { return Buffer.from(Array.from(s).slice(0, 16).join(''), 'utf8'); }
function stringUpper(s) {
  const cps = Array.from(s);
  if (cps.length <= 16) return Buffer.from(s, 'utf8');
  const kept = cps.slice(0, 16);
  for (let i = 15; i >= 0; i--) {
    let next = kept[i].codePointAt(0) + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return Buffer.from(kept.slice(0, i).join('') + String.fromCodePoint(next), 'utf8');
  }
  return null;
}
const byteOrder = (a, b) => Buffer.compare(a, b);

// What the metrics must be, from the records alone: per leaf id, [values, nulls, lower, upper].
function expectedMetrics(records) {
  const out = new Map();
  const scalar = (id, get, ser, order, lowerOf = ser, upperOf = ser) => {
    const vals = records.map(get).filter((v) => v !== undefined && v !== null);
    const sorted = [...vals].sort(order);
    out.set(id, {
      values: records.length, nulls: records.length - vals.length,
      lower: sorted.length ? lowerOf(sorted[0]) : null, upper: sorted.length ? upperOf(sorted[sorted.length - 1]) : null,
    });
  };
  const num = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  scalar(1, (r) => r.id, le64, num);
  scalar(2, (r) => r.name, (s) => Buffer.from(s, 'utf8'), (a, b) => byteOrder(Buffer.from(a), Buffer.from(b)), stringLower, stringUpper);
  scalar(3, (r) => (r.amount === undefined ? undefined : unscaled(r.amount, 2)), decimalBytes, num);
  scalar(4, (r) => r.score, f64, num);
  scalar(5, (r) => (r.active === undefined ? undefined : r.active ? 1 : 0), (v) => Buffer.from([v]), num);
  scalar(6, (r) => (r.payload === undefined ? undefined : Buffer.from(r.payload, 'base64')), (b) => b, byteOrder);
  scalar(7, (r) => (r.ts === undefined ? undefined : BigInt(r.ts) * 1000n), le64, num);
  scalar(9, (r) => r.addr?.city, (s) => Buffer.from(s, 'utf8'), (a, b) => byteOrder(Buffer.from(a), Buffer.from(b)), stringLower, stringUpper);
  scalar(10, (r) => r.addr?.zip, le64, num);
  // Leaves under a LIST: one value per element, one null per null element and per null,
  // absent or empty list (Parquet's num_values / null_count); no bounds.
  const listed = (id, list, get) => {
    let values = 0; let nulls = 0;
    for (const r of records) {
      const l = list(r);
      if (!l || l.length === 0) { values++; nulls++; continue; }
      for (const e of l) { values++; const v = get(e); if (v === undefined || v === null) nulls++; }
    }
    out.set(id, { values, nulls, lower: null, upper: null });
  };
  listed(12, (r) => r.tags, (e) => e);
  listed(15, (r) => r.items, (e) => e?.sku);
  listed(16, (r) => r.items, (e) => e?.qty);
  return out;
}

describe('Iceberg-ready Parquet data files (DuckDB)', () => {
  let dir;
  let db;
  let conn;
  let metrics;
  let records;
  let file;
  const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lakehose-iceberg-parquet-'));
    metrics = JSON.parse(execFileSync(args.fixture, [dir], { encoding: 'utf8', timeout: 60_000 }));
    records = readFileSync(join(dir, 'records.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    file = `'${join(dir, 'iceberg.parquet').replaceAll("'", "''")}'`;
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
  });

  after(() => {
    conn?.closeSync?.();
    db?.closeSync?.();
    if (dir && !args.keep) rmSync(dir, { recursive: true, force: true });
  });

  it('parquet_schema shows the declared field id on every column', async () => {
    const rows = await q(`SELECT name, field_id, converted_type, logical_type, repetition_type FROM parquet_schema(${file})`);
    assert.deepEqual(rows.map((r) => [r.name, r.field_id === null ? null : Number(r.field_id)]), ELEMENTS);
    const ts = rows.find((r) => r.name === 'ts');
    assert.equal(ts.converted_type, 'TIMESTAMP_MICROS');
    assert.match(ts.logical_type, /isAdjustedToUTC=1/);
    assert.match(ts.logical_type, /MICROS=MicroSeconds\(\)/);
    assert.equal(rows.find((r) => r.name === 'id').repetition_type, 'REQUIRED');
  });

  it('read_parquet gives back every record', async () => {
    const rows = await q(`SELECT id, name, amount::VARCHAR AS amount, score, active, hex(payload) AS payload,
      epoch_us(ts) AS ts, typeof(ts) AS ts_type, to_json(addr) AS addr, to_json(tags) AS tags, to_json(items) AS items
      FROM read_parquet(${file}) ORDER BY id`);
    assert.equal(rows.length, records.length);
    for (const [i, r] of records.entries()) {
      const g = rows[i];
      const want = {
        id: String(r.id), name: r.name ?? null, amount: r.amount ?? null, score: r.score ?? null, active: r.active ?? null,
        payload: r.payload === undefined ? null : Buffer.from(r.payload, 'base64').toString('hex').toUpperCase(),
        ts: r.ts === undefined ? null : String(BigInt(r.ts) * 1000n),
        addr: r.addr ? { city: r.addr.city ?? null, zip: r.addr.zip ?? null } : null,
        tags: r.tags ?? null,
        items: r.items ? r.items.map((e) => (e ? { sku: e.sku ?? null, qty: e.qty ?? null } : null)) : null,
      };
      const got = {
        ...g, addr: g.addr === null ? null : JSON.parse(g.addr), tags: g.tags === null ? null : JSON.parse(g.tags),
        items: g.items === null ? null : JSON.parse(g.items),
      };
      delete got.ts_type;
      assert.deepEqual(got, want, `record ${i}`);
      assert.equal(g.ts_type, 'TIMESTAMP WITH TIME ZONE');
    }
  });

  it('the long iceberg.schema key-value entry is kept whole', async () => {
    const kv = await q(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${file})`);
    const entry = kv.find((e) => e.k === 'iceberg.schema');
    assert.ok(entry, 'iceberg.schema present');
    const want = readFileSync(join(dir, 'iceberg.schema.json'), 'utf8');
    assert.ok(want.length > 100_000);
    // Not assert.equal: a difference would print both 200 KB values.
    assert.ok(entry.v === want, `iceberg.schema: ${entry.v.length} characters read, ${want.length} written`);
    assert.equal(JSON.parse(entry.v).fields.length, 3000);
  });

  it('metrics: sizes and counts are the sums of the row groups\' column chunks', async () => {
    const chunks = await q(`SELECT row_group_id, column_id, num_values, stats_null_count, total_compressed_size
      FROM parquet_metadata(${file})`);
    assert.ok(new Set(chunks.map((c) => c.row_group_id)).size >= 3, 'several row groups');
    assert.deepEqual(metrics.map((m) => m.field_id), LEAF_IDS);
    for (const [col, m] of metrics.entries()) {
      const mine = chunks.filter((c) => Number(c.column_id) === col);
      const sum = (k) => mine.reduce((a, c) => a + Number(c[k]), 0);
      assert.equal(m.column_size, sum('total_compressed_size'), `column_size of ${m.field_id}`);
      assert.equal(m.value_count, sum('num_values'), `value_count of ${m.field_id}`);
      assert.equal(m.null_count, sum('stats_null_count'), `null_count of ${m.field_id}`);
      assert.equal(m.nan_count, m.field_id === 4 ? 0 : -1);
    }
  });

  it('metrics: counts and bounds are what the records give', () => {
    const want = expectedMetrics(records);
    for (const m of metrics) {
      const w = want.get(m.field_id);
      assert.equal(m.value_count, w.values, `value_count of ${m.field_id}`);
      assert.equal(m.null_count, w.nulls, `null_count of ${m.field_id}`);
      assert.equal(m.lower ?? null, w.lower === null ? null : w.lower.toString('hex'), `lower bound of ${m.field_id}`);
      assert.equal(m.upper ?? null, w.upper === null ? null : w.upper.toString('hex'), `upper bound of ${m.field_id}`);
    }
    // The cases that matter: a 300-character name truncated, an upper bound incremented.
    const name = metrics.find((m) => m.field_id === 2);
    assert.equal(Buffer.from(name.upper, 'hex').toString('utf8'), 'été café naïve s');
  });
});
