// Unit tests of the Node test peers' helpers (no lakehose binary needed):
//   node tests/lib/ddb_values.test.mjs
import test from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'lossless-json';
import { unmarshall } from '@aws-sdk/util-dynamodb';

import {
  normaliseDecimal, decimalsEqual, isJsonNumberText, stripNullTypeKeys, stripNullTypeKeysInMap,
  chooseNewOrOld, compareMap,
} from './ddb_values.mjs';

test('normaliseDecimal: spellings of one value agree', () => {
  for (const group of [
    ['100', '1E+2', '1e2', '1.00e2', '+100.0', '100.000', '0.1e3', '10E1', '1000e-1'],
    ['0', '-0', '0.000', '0E+10', '-0.0e-5', '00'],
    ['-12.5', '-125e-1', '-1.25E1', '-0012.50'],
    ['0.000000000000000000001', '1E-21', '1e-21', '0.1e-20'],
  ]) {
    for (const text of group) assert.equal(normaliseDecimal(text), normaliseDecimal(group[0]), text);
  }
  assert.equal(normaliseDecimal('100'), '1e2');
  assert.equal(normaliseDecimal('-0.0'), '0');
  assert.equal(normaliseDecimal('1E+125'), '1e125');
  assert.equal(normaliseDecimal('1E-130'), '1e-130');
  assert.equal(normaliseDecimal('9.9999999999999999999999999999999999999E+125'),
      '99999999999999999999999999999999999999e88');
});

test('normaliseDecimal: different values and junk', () => {
  assert.notEqual(normaliseDecimal('1'), normaliseDecimal('-1'));
  assert.notEqual(normaliseDecimal('1'), normaliseDecimal('10'));
  assert.notEqual(normaliseDecimal('12345678901234567890123456789012345678'),
      normaliseDecimal('12345678901234567890123456789012345679'));
  assert.ok(!decimalsEqual('1E+125', '1E+124'));
  assert.ok(decimalsEqual('1E+125', '10E+124'));
  for (const junk of ['', '.', 'abc', '1e', '1.2.3', '--1', 'NaN', 'Infinity', '0x10', '1 ', null, 5]) {
    assert.equal(normaliseDecimal(junk), null, String(junk));
  }
  assert.ok(!decimalsEqual('abc', 'abc'));
  // Exponents beyond any double stay exact.
  assert.equal(normaliseDecimal('1e99999999999999999999'), '1e99999999999999999999');
});

test('isJsonNumberText follows RFC 8259', () => {
  for (const ok of ['0', '-0', '1.5', '1E+125', '1e-130', '-12.50e3']) assert.ok(isJsonNumberText(ok), ok);
  for (const bad of ['+1', '.5', '5.', '01', '1e', 'NaN', '']) assert.ok(!isJsonNumberText(bad), bad);
});

test('stripNullTypeKeys removes null siblings at every depth', () => {
  const av = { M: { a: { S: null, N: '12' }, l: { L: [{ BOOL: null, NULL: true }, { S: 'x', N: null }] } } };
  assert.deepEqual(stripNullTypeKeys(av),
      { M: { a: { N: '12' }, l: { L: [{ NULL: true }, { S: 'x' }] } } });
  assert.deepEqual(stripNullTypeKeysInMap({ k: { S: null, N: '1' } }), { k: { N: '1' } });
});

test('chooseNewOrOld: NewImage, else OldImage, else Keys', () => {
  assert.equal(chooseNewOrOld({ dynamodb: { NewImage: {}, OldImage: {}, Keys: {} } }).name, 'NewImage');
  assert.equal(chooseNewOrOld({ dynamodb: { OldImage: {}, Keys: {} } }).name, 'OldImage');
  assert.equal(chooseNewOrOld({ dynamodb: { Keys: {} } }).name, 'Keys');
  assert.equal(chooseNewOrOld({}).name, null);
});

const IMAGE = {
  s: { S: 'a\u2028"\\\u0001😀' },
  n: { N: '12345678901234567890123456789012345678' },
  e: { N: '1E+125' },
  t: { N: '1E-130' },
  b: { B: 'aGVsbG8=' },
  bs: { BS: ['aGk=', 'AA=='] },
  ss: { SS: ['x', 'y'] },
  ns: { NS: ['1', '0', '0'] },
  t1: { BOOL: true },
  z: { NULL: true },
  m: { M: { inner: { L: [{ N: '0.000001' }, { M: {} }, { L: [] }, { SS: [] }] } } },
};
const GOOD = '{"s":"a\\u2028\\"\\\\\\u0001😀","n":12345678901234567890123456789012345678,' +
    '"e":1e125,"t":0.1E-129,"b":"aGVsbG8=","bs":["aGk=","AA=="],"ss":["x","y"],"ns":[1,0,0.0],' +
    '"t1":true,"z":null,"m":{"inner":[1E-6,{},[],[]]}}';

test('compareMap accepts an exact transform', () => {
  const mismatches = [];
  const oracle = unmarshall(IMAGE, { wrapNumbers: true });
  assert.ok(compareMap(IMAGE, oracle, parse(GOOD), '', mismatches), JSON.stringify(mismatches, null, 1));
});

test('compareMap catches wrong values', () => {
  const oracle = unmarshall(IMAGE, { wrapNumbers: true });
  const cases = {
    'last digit of a 38-digit number': ['12345678901234567890123456789012345678', '12345678901234567890123456789012345679'],
    'exponent': ['1e125', '1e124'],
    'number as string': ['1e125', '"1e125"'],
    'string escape': ['\\u0001', '\\u0002'],
    'binary': ['"aGVsbG8="', '"aGVsbG9="'],
    'set order': ['["x","y"]', '["y","x"]'],
    'set member dropped': ['[1,0,0.0]', '[1,0]'],
    'bool': ['"t1":true', '"t1":false'],
    'null': ['"z":null', '"z":false'],
    'nested': ['[1E-6,', '[1E-5,'],
    'empty map vs list': ['{},[],[]]', '[],[],[]]'],
    'extra attribute': ['"z":null', '"z":null,"extra":1'],
  };
  for (const [name, [from, to]] of Object.entries(cases)) {
    const text = GOOD.replace(from, to);
    assert.notEqual(text, GOOD, name);
    const mismatches = [];
    assert.ok(!compareMap(IMAGE, oracle, parse(text), '', mismatches), name);
    assert.ok(mismatches.length > 0, name);
  }
});

test('unmarshall passes base64 B text through unchanged', () => {
  const v = unmarshall({ b: { B: 'aGVsbG8=' }, bs: { BS: ['aGk='] } }, { wrapNumbers: true });
  assert.equal(v.b, 'aGVsbG8=');
  assert.deepEqual([...v.bs], ['aGk=']);
});
