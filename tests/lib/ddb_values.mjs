// Helpers shared by the Node test peers: exact decimal comparison, DynamoDB typed-JSON
// clean-up before an oracle sees it, and a deep comparison of an oracle's value
// (@aws-sdk/util-dynamodb unmarshall with wrapNumbers) with lakehose's output parsed by
// lossless-json. Unit tests: tests/lib/ddb_values.test.mjs.

import { isLosslessNumber } from 'lossless-json';

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

// Canonical text of a decimal number, so that two spellings of the same value compare
// equal: "1E+2", "100", "1.00e2" and "+100.0" all give "1e2"; every zero gives "0".
// The form is [-]<digits without leading or trailing zeros>e<exponent> with
// value = digits * 10^exponent. Exponents are BigInts, so no spelling overflows.
// Returns null for text that is not a decimal number.
export function normaliseDecimal(text) {
  if (typeof text !== 'string') return null;
  const m = DECIMAL_RE.exec(text);
  if (!m) return null;
  const [, sign, intPart = '', fracPart = '', expPart] = m;
  if (intPart.length === 0 && fracPart.length === 0) return null;
  let digits = (intPart + fracPart).replace(/^0+/, '');
  if (digits.length === 0) return '0';
  let exponent = (expPart === undefined ? 0n : BigInt(expPart)) - BigInt(fracPart.length);
  const trimmed = digits.replace(/0+$/, '');
  exponent += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${sign === '-' ? '-' : ''}${digits}e${exponent}`;
}

// True if both texts are decimals of the same value.
export function decimalsEqual(a, b) {
  const na = normaliseDecimal(a);
  return na !== null && na === normaliseDecimal(b);
}

// True if `text` is a number as RFC 8259 spells it.
export function isJsonNumberText(text) {
  return typeof text === 'string' && /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text);
}

// A copy of a typed attribute value with null type keys removed, at every depth:
// {"S": null, "N": "12"} -> {"N": "12"} (the aws-lambda-go samples have such siblings).
export function stripNullTypeKeys(av) {
  if (av === null || typeof av !== 'object' || Array.isArray(av)) return av;
  const out = {};
  for (const [type, value] of Object.entries(av)) {
    if (value === null) continue;
    if (type === 'M' && value && typeof value === 'object' && !Array.isArray(value)) {
      out.M = stripNullTypeKeysInMap(value);
    } else if (type === 'L' && Array.isArray(value)) {
      out.L = value.map(stripNullTypeKeys);
    } else {
      out[type] = value;
    }
  }
  return out;
}

// The same for a map of attribute name -> typed value (an image).
export function stripNullTypeKeysInMap(image) {
  const out = {};
  for (const [name, av] of Object.entries(image)) out[name] = stripNullTypeKeys(av);
  return out;
}

// The image lakehose transforms for `image: new-or-old`: NewImage, else OldImage, else
// Keys, with where it came from.
export function chooseNewOrOld(record) {
  const ddb = record?.dynamodb ?? {};
  for (const name of ['NewImage', 'OldImage', 'Keys']) {
    if (ddb[name] && typeof ddb[name] === 'object') return { name, image: ddb[name] };
  }
  return { name: null, image: null };
}

function describe(v) {
  if (isLosslessNumber(v)) return `number ${v.value}`;
  if (v instanceof Set) return `Set(${[...v].map(describe).join(', ')})`;
  if (v && typeof v === 'object' && typeof v.value === 'string' && !Array.isArray(v)) {
    return `NumberValue ${v.value}`;
  }
  if (v instanceof Uint8Array) return `bytes ${Buffer.from(v).toString('base64')}`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isLosslessNumber(v) &&
      !(v instanceof Set) && !(v instanceof Uint8Array);
}

// The oracle's number text: NumberValue (wrapNumbers: true) or a plain number/bigint.
function oracleNumberText(v) {
  if (v && typeof v === 'object' && typeof v.value === 'string') return v.value;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return null;
}

// The oracle's binary value as base64 text. unmarshall passes a B value through as it
// comes: base64 text stays text (the stream record's form); bytes are encoded here.
function oracleBinaryText(v) {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return null;
}

// Compares one typed attribute value `typed` (null keys stripped), the oracle's value for
// it and lakehose's value (lossless-json). Appends {path, reason, ...} to `mismatches`.
export function compareAttribute(typed, oracle, ours, path, mismatches) {
  const fail = (reason) => {
    mismatches.push({ path, reason, input: describe(typed), oracle: describe(oracle), lakehose: describe(ours) });
    return false;
  };
  const types = Object.keys(typed ?? {});
  if (types.length !== 1) return fail(`input has ${types.length} non-null type keys`);
  const [type] = types;
  const raw = typed[type];
  switch (type) {
    case 'S':
      if (typeof ours !== 'string') return fail('lakehose value is not a string');
      if (oracle !== ours) return fail('strings differ');
      return true;
    case 'N': {
      if (!isLosslessNumber(ours)) return fail('lakehose value is not a JSON number');
      if (!isJsonNumberText(ours.value)) return fail('lakehose number is not RFC 8259 syntax');
      const o = oracleNumberText(oracle);
      if (o === null) return fail('oracle value is not a number');
      if (!decimalsEqual(o, ours.value)) return fail('numbers differ as decimals');
      if (!decimalsEqual(raw, ours.value)) return fail('number differs from the input N text');
      return true;
    }
    case 'B': {
      if (typeof ours !== 'string') return fail('lakehose value is not base64 text');
      const o = oracleBinaryText(oracle);
      if (o === null) return fail('oracle value is not binary');
      if (Buffer.compare(Buffer.from(o, 'base64'), Buffer.from(ours, 'base64')) !== 0) {
        return fail('binary bytes differ');
      }
      if (ours !== raw) return fail('base64 text differs from the input B text');
      return true;
    }
    case 'BOOL':
      if (typeof ours !== 'boolean' || ours !== oracle) return fail('booleans differ');
      return true;
    case 'NULL':
      if (ours !== null || oracle !== null) return fail('expected null');
      return true;
    case 'M': {
      if (!isPlainObject(ours)) return fail('lakehose value is not an object');
      if (!isPlainObject(oracle)) return fail('oracle value is not an object');
      return compareMap(raw, oracle, ours, path, mismatches);
    }
    case 'L': {
      if (!Array.isArray(ours)) return fail('lakehose value is not an array');
      if (!Array.isArray(oracle)) return fail('oracle value is not an array');
      if (ours.length !== raw.length || oracle.length !== raw.length) return fail('list lengths differ');
      let ok = true;
      for (let i = 0; i < raw.length; ++i) {
        ok = compareAttribute(raw[i], oracle[i], ours[i], `${path}[${i}]`, mismatches) && ok;
      }
      return ok;
    }
    case 'SS':
    case 'NS':
    case 'BS': {
      if (!Array.isArray(ours)) return fail('lakehose value is not an array');
      if (!(oracle instanceof Set)) return fail('oracle value is not a Set');
      // lakehose keeps the given members in the given order.
      if (ours.length !== raw.length) return fail(`${type} has ${raw.length} members in, ${ours.length} out`);
      const key = type === 'SS' ? (v) => (typeof v === 'string' ? `s:${v}` : null)
          : type === 'NS' ? (v) => {
            const t = isLosslessNumber(v) ? v.value : oracleNumberText(v);
            const n = normaliseDecimal(t);
            return n === null ? null : `n:${n}`;
          }
          : (v) => {
            const t = oracleBinaryText(v);
            return t === null ? null : `b:${Buffer.from(t, 'base64').toString('base64')}`;
          };
      for (let i = 0; i < raw.length; ++i) {
        const k = key(ours[i]);
        if (k === null) return fail(`${type} member ${i} has the wrong kind`);
        if (type === 'NS' && !isJsonNumberText(ours[i].value)) return fail(`NS member ${i} is not RFC 8259 syntax`);
        if (k !== key(type === 'NS' ? { value: raw[i] } : raw[i])) return fail(`${type} member ${i} differs from the input`);
      }
      // Against the oracle: as multisets when the oracle kept every member (NumberValue
      // objects are never merged), otherwise as sets (a JS Set merges equal strings).
      const ourKeys = ours.map(key).sort();
      const oracleKeys = [...oracle].map(key);
      if (oracleKeys.includes(null)) return fail(`oracle ${type} has a member of the wrong kind`);
      oracleKeys.sort();
      const same = oracleKeys.length === ourKeys.length
          ? oracleKeys.every((k, i) => k === ourKeys[i])
          : JSON.stringify([...new Set(ourKeys)]) === JSON.stringify([...new Set(oracleKeys)]);
      if (!same) return fail(`${type} members differ from the oracle's`);
      return true;
    }
    default:
      return fail(`unknown input type ${type}`);
  }
}

// Compares an image (name -> typed value), the oracle's object and lakehose's object.
export function compareMap(typedMap, oracle, ours, path, mismatches) {
  const keysOf = (o) => Object.keys(o).sort();
  const want = keysOf(typedMap);
  const gotOurs = keysOf(ours);
  const gotOracle = keysOf(oracle);
  const sameKeys = (a, b) => a.length === b.length && a.every((k, i) => k === b[i]);
  if (!sameKeys(want, gotOurs) || !sameKeys(want, gotOracle)) {
    const missing = want.filter((k) => !Object.prototype.hasOwnProperty.call(ours, k));
    const extra = gotOurs.filter((k) => !Object.prototype.hasOwnProperty.call(typedMap, k));
    mismatches.push({
      path: path || '(image)',
      reason: 'attribute names differ',
      missing_in_lakehose: missing.map((k) => JSON.stringify(k)).join(', '),
      extra_in_lakehose: extra.map((k) => JSON.stringify(k)).join(', '),
      oracle_names: gotOracle.length,
    });
    return false;
  }
  let ok = true;
  for (const k of want) {
    const child = path ? `${path}.${JSON.stringify(k)}` : JSON.stringify(k);
    ok = compareAttribute(typedMap[k], oracle[k], ours[k], child, mismatches) && ok;
  }
  return ok;
}
