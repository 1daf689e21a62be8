#!/usr/bin/python3
"""Differential oracle (Python): checks `lakehose transform` output against boto3's
TypeDeserializer (Debian python3-boto3; run with /usr/bin/python3).

    /usr/bin/python3 tests/differential/boto3_oracle.py RECORDS.jsonl RESULTS.jsonl [--min-records N]
    /usr/bin/python3 tests/differential/boto3_oracle.py --self-test

RECORDS.jsonl: DynamoDB stream records, one per line (`lakehose generate`).
RESULTS.jsonl: `lakehose transform` output for them with the `diff` pipeline
(input: dynamodb-stream, image: new-or-old, numbers: number, no partition keys).

For every record: the result is OK with record_id = line number and the operation of the
eventName; the image lakehose should have used (NewImage, else OldImage, else Keys, null
sibling type keys stripped, B/BS base64-decoded to bytes as botocore does before the
deserializer) goes through TypeDeserializer; the result line is read with
json.loads(parse_float=Decimal, parse_int=Decimal) and compared value by value, numbers
as exact Decimals. boto3's decimal context (38 digits, exponent -128..126, traps on
Inexact/Rounded/...) refuses some values DynamoDB JSON can carry; such a number is
counted as an oracle limitation and lakehose's value is compared with the input N text
itself instead. Exits 1 on any mismatch or failed record, or if fewer than --min-records
(20000) records were compared.
"""
import argparse
import base64
import binascii
import decimal
import json
import sys

from boto3.dynamodb.types import Binary, TypeDeserializer

OPERATIONS = {"INSERT": "INSERT", "MODIFY": "UPDATE", "REMOVE": "DELETE"}
SHOW = 5
_DESERIALIZER = TypeDeserializer()


class OracleLimitation(Exception):
    """boto3 cannot represent this value (its decimal context trapped)."""


def strip_null_type_keys(av):
    """{"S": None, "N": "12"} -> {"N": "12"}, at every depth."""
    if not isinstance(av, dict):
        return av
    out = {}
    for t, v in av.items():
        if v is None:
            continue
        if t == "M" and isinstance(v, dict):
            out[t] = {k: strip_null_type_keys(x) for k, x in v.items()}
        elif t == "L" and isinstance(v, list):
            out[t] = [strip_null_type_keys(x) for x in v]
        else:
            out[t] = v
    return out


def exact_decimal(text):
    """The exact value of a decimal text (no context rounding), or None."""
    if not isinstance(text, str):
        return None
    try:
        d = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None
    return d if d.is_finite() else None


def deserialize_leaf(typed):
    """boto3's value for one non-container typed value, as a low-level client would hand it
    over (B/BS as bytes). Raises OracleLimitation where boto3's context traps."""
    (t, v), = typed.items()
    if t == "B":
        typed = {"B": base64.b64decode(v, validate=True)}
    elif t == "BS":
        typed = {"BS": [base64.b64decode(x, validate=True) for x in v]}
    try:
        return _DESERIALIZER.deserialize(typed)
    except decimal.DecimalException as e:
        raise OracleLimitation(f"{type(e).__name__} for {t} {v!r}") from e


def describe(v):
    if isinstance(v, Binary):
        v = v.value
    if isinstance(v, (bytes, bytearray)):
        return "bytes " + base64.b64encode(bytes(v)).decode()
    if isinstance(v, decimal.Decimal):
        return f"Decimal({str(v)})"
    if isinstance(v, set):
        return "set(" + ", ".join(sorted(describe(x) for x in v)) + ")"
    s = json.dumps(v, ensure_ascii=True, default=str)
    return s if len(s) <= 200 else s[:200] + "..."


class Comparer:
    def __init__(self):
        self.mismatches = []          # dicts, in order found
        self.limitations = []         # (record_id, path, reason)
        self.numbers = 0
        self.whole_images = 0         # images boto3 deserialized in one piece
        self.record_id = None

    def fail(self, path, reason, typed, oracle, ours):
        self.mismatches.append({"record_id": self.record_id, "path": path or "(image)", "reason": reason,
                                "input": describe(typed), "oracle": describe(oracle), "lakehose": describe(ours)})
        return False

    def oracle_for(self, typed, path):
        """boto3's value for `typed`; for containers, None (their members are asked one by one)."""
        (t, _), = typed.items()
        if t in ("M", "L"):
            return None
        try:
            return deserialize_leaf(typed)
        except (binascii.Error, ValueError, TypeError) as e:
            return e  # not a value boto3 accepts: compare() reports the mismatch
        except OracleLimitation as e:
            self.limitations.append((self.record_id, path, str(e)))
            return OracleLimitation

    def compare(self, typed, oracle, ours, path):
        """typed: the input typed value (null keys stripped); oracle: boto3's value, or
        OracleLimitation; ours: lakehose's value from json.loads."""
        if not isinstance(typed, dict) or len(typed) != 1:
            return self.fail(path, "input does not have exactly one non-null type key", typed, oracle, ours)
        (t, raw), = typed.items()
        if t == "S":
            if not isinstance(ours, str) or ours != oracle:
                return self.fail(path, "strings differ", typed, oracle, ours)
            return True
        if t == "N":
            self.numbers += 1
            if not isinstance(ours, decimal.Decimal):
                return self.fail(path, "lakehose value is not a JSON number", typed, oracle, ours)
            if oracle is not OracleLimitation and (not isinstance(oracle, decimal.Decimal) or ours != oracle):
                return self.fail(path, "numbers differ as decimals", typed, oracle, ours)
            want = exact_decimal(raw)
            if want is None or ours != want:
                return self.fail(path, "number differs from the input N text", typed, oracle, ours)
            return True
        if t == "B":
            if not isinstance(ours, str):
                return self.fail(path, "lakehose value is not base64 text", typed, oracle, ours)
            try:
                got = base64.b64decode(ours, validate=True)
            except (binascii.Error, ValueError):
                return self.fail(path, "lakehose value is not valid base64", typed, oracle, ours)
            if not isinstance(oracle, Binary) or got != bytes(oracle.value):
                return self.fail(path, "binary bytes differ", typed, oracle, ours)
            if ours != raw:
                return self.fail(path, "base64 text differs from the input B text", typed, oracle, ours)
            return True
        if t == "BOOL":
            if not isinstance(ours, bool) or ours is not oracle:
                return self.fail(path, "booleans differ", typed, oracle, ours)
            return True
        if t == "NULL":
            if ours is not None or oracle is not None:
                return self.fail(path, "expected null", typed, oracle, ours)
            return True
        if t == "M":
            if not isinstance(ours, dict):
                return self.fail(path, "lakehose value is not an object", typed, oracle, ours)
            return self.compare_map(raw, ours, path)
        if t == "L":
            if not isinstance(ours, list) or len(ours) != len(raw):
                return self.fail(path, "lakehose value is not a list of the same length", typed, oracle, ours)
            ok = True
            for i, (x, y) in enumerate(zip(raw, ours)):
                child = f"{path}[{i}]"
                ok = self.compare(x, self.oracle_for(x, child), y, child) and ok
            return ok
        if t in ("SS", "NS", "BS"):
            return self.compare_set(t, typed, raw, oracle, ours, path)
        return self.fail(path, f"unknown input type {t}", typed, oracle, ours)

    def compare_set(self, t, typed, raw, oracle, ours, path):
        if not isinstance(ours, list):
            return self.fail(path, "lakehose value is not an array", typed, oracle, ours)
        if len(ours) != len(raw):
            return self.fail(path, f"{t} has {len(raw)} members in, {len(ours)} out", typed, oracle, ours)
        # lakehose keeps the given members in the given order.
        for i, (x, y) in enumerate(zip(raw, ours)):
            if t == "SS":
                same = isinstance(y, str) and x == y
            elif t == "NS":
                self.numbers += 1
                same = isinstance(y, decimal.Decimal) and exact_decimal(x) == y
            else:
                same = isinstance(y, str) and x == y
            if not same:
                return self.fail(f"{path}[{i}]", f"{t} member differs from the input", typed, oracle, ours)
        if oracle is OracleLimitation:
            return True  # compared with the input above
        if not isinstance(oracle, set):
            return self.fail(path, "oracle value is not a set", typed, oracle, ours)
        # A Python set merges equal members, so compare as sets.
        if t == "BS":
            try:
                mine = {base64.b64decode(y, validate=True) for y in ours}
            except (binascii.Error, ValueError):
                return self.fail(path, "BS member is not valid base64", typed, oracle, ours)
            theirs = {bytes(b.value) for b in oracle}
        else:
            mine, theirs = set(ours), set(oracle)
        if mine != theirs:
            return self.fail(path, f"{t} members differ from the oracle's", typed, oracle, ours)
        return True

    def compare_map(self, typed_map, ours, path):
        if set(typed_map) != set(ours):
            missing = sorted(set(typed_map) - set(ours))
            extra = sorted(set(ours) - set(typed_map))
            self.mismatches.append({"record_id": self.record_id, "path": path or "(image)",
                                    "reason": "attribute names differ",
                                    "missing_in_lakehose": json.dumps(missing), "extra_in_lakehose": json.dumps(extra)})
            return False
        ok = True
        for k in sorted(typed_map):
            child = f"{path}.{json.dumps(k)}" if path else json.dumps(k)
            x = typed_map[k]
            ok = self.compare(x, self.oracle_for(x, child), ours[k], child) and ok
        return ok

    def compare_image(self, typed_map, ours):
        """Deserializes the whole image with boto3 first (what a user would do); if boto3
        refuses some member, falls back to member-by-member with limitations noted."""
        prepared = {}
        whole = None
        try:
            for k, x in typed_map.items():
                prepared[k] = prepare_binary(x)
            whole = _DESERIALIZER.deserialize({"M": prepared})
        except (decimal.DecimalException, ValueError, TypeError):
            whole = None
        self.whole_images += whole is not None
        if whole is None:
            return self.compare_map(typed_map, ours, "")
        return self.compare_with_whole(typed_map, whole, ours, "")

    def compare_with_whole(self, typed_map, oracle_map, ours, path):
        if set(typed_map) != set(ours) or set(oracle_map) != set(typed_map):
            return self.compare_map(typed_map, ours, path)  # reports the names
        ok = True
        for k in sorted(typed_map):
            child = f"{path}.{json.dumps(k)}" if path else json.dumps(k)
            x, o, y = typed_map[k], oracle_map[k], ours[k]
            (t, raw), = x.items() if isinstance(x, dict) and len(x) == 1 else ((None, None),)
            if t == "M" and isinstance(y, dict) and isinstance(o, dict):
                ok = self.compare_with_whole(raw, o, y, child) and ok
            elif t == "L" and isinstance(y, list) and isinstance(o, list) and len(y) == len(raw) == len(o):
                for i, (xi, oi, yi) in enumerate(zip(raw, o, y)):
                    ok = self.compare_list_item(xi, oi, yi, f"{child}[{i}]") and ok
            else:
                ok = self.compare(x, o, y, child) and ok
        return ok

    def compare_list_item(self, x, o, y, path):
        (t, raw), = x.items() if isinstance(x, dict) and len(x) == 1 else ((None, None),)
        if t == "M" and isinstance(y, dict) and isinstance(o, dict):
            return self.compare_with_whole(raw, o, y, path)
        if t == "L" and isinstance(y, list) and isinstance(o, list) and len(y) == len(raw) == len(o):
            ok = True
            for i, (xi, oi, yi) in enumerate(zip(raw, o, y)):
                ok = self.compare_list_item(xi, oi, yi, f"{path}[{i}]") and ok
            return ok
        return self.compare(x, o, y, path)


def prepare_binary(av):
    """B/BS base64 text -> bytes, at every depth (botocore decodes them off the wire)."""
    (t, v), = av.items()
    if t == "B":
        return {"B": base64.b64decode(v, validate=True)}
    if t == "BS":
        return {"BS": [base64.b64decode(x, validate=True) for x in v]}
    if t == "M":
        return {"M": {k: prepare_binary(x) for k, x in v.items()}}
    if t == "L":
        return {"L": [prepare_binary(x) for x in v]}
    return av


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def load_result(line):
    return json.loads(line, parse_float=decimal.Decimal, parse_int=decimal.Decimal,
                      parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)


def choose_new_or_old(record):
    ddb = record.get("dynamodb") or {}
    for name in ("NewImage", "OldImage", "Keys"):
        if isinstance(ddb.get(name), dict):
            return name, ddb[name]
    return None, None


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8")  # strict: lakehose output must be valid UTF-8
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def run(records_path, results_path, min_records):
    records = read_lines(records_path)
    results = read_lines(results_path)
    c = Comparer()
    counts = {"OK": 0, "PROCESSING_FAILED": 0, "DROPPED": 0, "other": 0, "compared": 0}
    images = {"NewImage": 0, "OldImage": 0, "Keys": 0}
    if len(results) != len(records):
        c.mismatches.append({"record_id": "(all)", "path": "",
                             "reason": f"{len(records)} input records but {len(results)} result lines"})
    for i in range(min(len(records), len(results))):
        rid = str(i + 1)
        c.record_id = rid
        try:
            result = load_result(results[i])
        except ValueError as e:
            c.mismatches.append({"record_id": rid, "path": "(result line)", "reason": f"not valid JSON: {e}",
                                 "line": results[i][:300]})
            continue
        if result.get("record_id") != rid:
            c.mismatches.append({"record_id": rid, "path": "record_id",
                                 "reason": f"expected {rid!r}, got {result.get('record_id')!r}"})
            continue
        verdict = result.get("result")
        if verdict != "OK":
            counts[verdict if verdict in counts else "other"] += 1
            c.mismatches.append({"record_id": rid, "path": "result", "reason": f"expected OK, got {verdict}",
                                 "error_code": result.get("error_code"), "error_message": result.get("error_message")})
            continue
        counts["OK"] += 1
        record = json.loads(records[i])
        want_op = OPERATIONS.get(record.get("eventName"))
        if result.get("operation") != want_op:
            c.mismatches.append({"record_id": rid, "path": "operation",
                                 "reason": f"eventName {record.get('eventName')}: expected {want_op}, got {result.get('operation')}"})
        name, image = choose_new_or_old(record)
        if image is None:
            c.mismatches.append({"record_id": rid, "path": "dynamodb", "reason": "input has no image (generator problem)"})
            continue
        images[name] += 1
        data = result.get("data")
        if not isinstance(data, dict):
            c.mismatches.append({"record_id": rid, "path": "data", "reason": "data is not a JSON object"})
            continue
        typed = {k: strip_null_type_keys(v) for k, v in image.items()}
        c.compare_image(typed, data)
        counts["compared"] += 1

    bad_records = len({m["record_id"] for m in c.mismatches})
    print("boto3 oracle (boto3.dynamodb.types.TypeDeserializer):")
    print(f"  input records:    {len(records)}")
    print(f"  results:          {len(results)} (OK {counts['OK']}, PROCESSING_FAILED {counts['PROCESSING_FAILED']}, "
          f"DROPPED {counts['DROPPED']}, other {counts['other']})")
    print(f"  records compared: {counts['compared']} (NewImage {images['NewImage']}, OldImage {images['OldImage']}, "
          f"Keys {images['Keys']}); numbers compared: {c.numbers}")
    print(f"  oracle limitations (boto3's decimal context refused a number; compared with the input N text): "
          f"{len(c.limitations)}")
    for rid, path, why in c.limitations[:SHOW]:
        print(f"  - record {rid} {path}: {why}")
    print(f"  mismatches:       {len(c.mismatches)} in {bad_records} records")
    for m in c.mismatches[:SHOW]:
        print("  - " + json.dumps(m, ensure_ascii=True))
    if len(c.mismatches) > SHOW:
        print(f"  ... and {len(c.mismatches) - SHOW} more")
    ok = not c.mismatches
    if counts["compared"] < min_records:
        print(f"  FAIL: only {counts['compared']} records compared; at least {min_records} required")
        ok = False
    print("boto3 oracle: PASS" if ok else "boto3 oracle: FAIL")
    return 0 if ok else 1


def _self_test_image(image, good, limitations, bad_cases):
    typed = {k: strip_null_type_keys(v) for k, v in image.items()}
    c = Comparer()
    c.record_id = "1"
    assert c.compare_image(typed, load_result(good)), c.mismatches
    assert not c.mismatches, c.mismatches
    assert len(c.limitations) == limitations, c.limitations
    assert c.whole_images == (1 if limitations == 0 else 0)
    for name, (old, new) in bad_cases.items():
        text = good.replace(old, new, 1)
        assert text != good, name
        c = Comparer()
        c.record_id = "1"
        assert not c.compare_image(typed, load_result(text)), name
        assert c.mismatches, name


def self_test():
    """Checks the comparer on hand-made cases (no lakehose binary needed)."""
    image = {
        "s": {"S": "a\u2028\"\\\u0001\U0001F600"},
        "n": {"N": "12345678901234567890123456789012345678"},
        "e": {"N": "1E+125"},
        "t": {"N": "1E-130"},
        "big": {"N": "123456789012345678901234567890123456789"},  # 39 digits: boto3 traps Inexact
        "b": {"B": "aGVsbG8="},
        "bs": {"BS": ["aGk=", "AA=="]},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "0", "0"]},
        "t1": {"BOOL": True},
        "z": {"NULL": True},
        "nul": {"S": None, "N": "12"},
        "m": {"M": {"inner": {"L": [{"N": "0.000001"}, {"M": {}}, {"L": []}, {"SS": []}, {"N": "1E-170", "S": None}]}}},
    }
    good = ('{"s":"a\\u2028\\"\\\\\\u0001\U0001F600","n":12345678901234567890123456789012345678,'
            '"e":1e125,"t":0.1E-129,"big":123456789012345678901234567890123456789,"b":"aGVsbG8=",'
            '"bs":["aGk=","AA=="],"ss":["x","y"],"ns":[1,0,0.0],"t1":true,"z":null,"nul":12,'
            '"m":{"inner":[1E-6,{},[],[],1e-170]}}')
    assert strip_null_type_keys(image["nul"]) == {"N": "12"}
    bad_cases = {
        "last digit": ("12345678901234567890123456789012345678", "12345678901234567890123456789012345679"),
        "exponent": ("1e125", "1e124"),
        "number as string": ("1e125", '"1e125"'),
        "escape": ("\\u0001", "\\u0002"),
        "binary": ('"aGVsbG8="', '"aGVsbG9="'),
        "set order": ('["x","y"]', '["y","x"]'),
        "set member dropped": ("[1,0,0.0]", "[1,0]"),
        "bool": ('"t1":true', '"t1":false'),
        "bool as number": ('"t1":true', '"t1":1'),
        "null": ('"z":null', '"z":false'),
        "nested": ("[1E-6,", "[1E-5,"),
        "empty map vs list": ("{},[],[],", "[],[],[],"),
        "extra attribute": ('"z":null', '"z":null,"extra":1'),
    }
    # With numbers boto3 refuses: member-by-member, two limitations.
    _self_test_image(image, good, 2, dict(bad_cases, **{
        "39th digit": ("123456789012345678901234567890123456789", "123456789012345678901234567890123456780"),
        "tiny": ("1e-170", "1e-171")}))
    # Without them: boto3 deserializes the whole image.
    image["big"] = {"N": "5"}
    image["m"]["M"]["inner"]["L"][4] = {"N": "1E-100", "S": None}
    good = good.replace("123456789012345678901234567890123456789", "5").replace("1e-170", "1e-100")
    _self_test_image(image, good, 0, dict(bad_cases, tiny=("1e-100", "1e-101")))
    for bad_json in ('{"a":NaN}', '{"a":1,"a":2}'):
        try:
            load_result(bad_json)
        except ValueError:
            pass
        else:
            raise AssertionError(f"accepted {bad_json}")
    print("boto3_oracle self-test: PASS")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", nargs="?")
    ap.add_argument("results", nargs="?")
    ap.add_argument("--min-records", type=int, default=20000)
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if not a.records or not a.results:
        ap.error("RECORDS and RESULTS are required")
    return run(a.records, a.results, a.min_records)


if __name__ == "__main__":
    sys.exit(main())
