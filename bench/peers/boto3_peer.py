#!/usr/bin/python3
"""The Python peer: what an AWS-sample transformation Lambda does per record, with boto3's
TypeDeserializer, for the embedded `demo` pipeline (lakehose-server --print-default-config).

    /usr/bin/python3 bench/peers/boto3_peer.py RECORDS.jsonl [--min-seconds S] [--check OUT.tsv]

Per record, the same job as lakehose's core transform:
  decode the stream record (json.loads), choose the image (NewImage, else OldImage, else
  Keys: `image: new-or-old`), convert it with TypeDeserializer, add the metadata
  (_eventID, _eventName, _ApproximateCreationDateTime in ms), compute the partition keys
  (region with default "unknown"; date %Y-%m-%d and hour %H of `timestamp` in ms, UTC,
  else of ApproximateCreationDateTime), make them Hive-path-safe, render the prefix and
  the document as one JSON line.
Written plainly, the way a Lambda would be (no deliberately slow code): numbers come out
of TypeDeserializer as Decimal and are written as int or float (the usual DecimalEncoder
of the AWS samples; lossy beyond 15-17 digits, which lakehose is not), sets as lists,
binary as base64.

Prints one JSON object: {"row", "records", "bytes", "seconds" (wall), "cpu_seconds" (this
thread's), "passes"}. The input is read into memory first; only the loop is timed,
repeated until --min-seconds of CPU time have passed.
"""
import argparse
import base64
import datetime
import decimal
import json
import sys
import time

from boto3.dynamodb.types import Binary, TypeDeserializer

_DESERIALIZER = TypeDeserializer()
_HIVE_ESCAPE = {c: "%%%02X" % c for c in list(range(0x20)) + [0x7F] + [ord(x) for x in "\"#%'*/:=?\\{[]^"]}
_UTC = datetime.timezone.utc


def _default(o):
    if isinstance(o, decimal.Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    if isinstance(o, set):
        return list(o)
    if isinstance(o, Binary):
        return base64.b64encode(o.value).decode("ascii")
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def path_safe(v):
    if v == "":
        return "__HIVE_DEFAULT_PARTITION__"
    if v in (".", ".."):
        return "%2E" * len(v)
    return v.translate(_HIVE_ESCAPE)


def deserialize_image(image):
    out = {}
    for k, av in image.items():
        if "B" in av:
            av = {"B": base64.b64decode(av["B"])}  # botocore hands B over as bytes
        elif "BS" in av:
            av = {"BS": [base64.b64decode(x) for x in av["BS"]]}
        out[k] = _DESERIALIZER.deserialize(av)
    return out


def transform(line):
    """One stream record (JSON text) -> (key_prefix, partition values, JSON line)."""
    rec = json.loads(line)
    ddb = rec["dynamodb"]
    image = ddb.get("NewImage") or ddb.get("OldImage") or ddb.get("Keys")
    item = deserialize_image(image)
    act = ddb.get("ApproximateCreationDateTime")
    creation_ms = int(round(act * 1000)) if act is not None else None
    doc = {"_eventID": rec.get("eventID"), "_eventName": rec.get("eventName"),
           "_ApproximateCreationDateTime": creation_ms}
    doc.update(item)
    region = item.get("region")
    region = path_safe(str(region) if region is not None else "unknown")
    ts = item.get("timestamp")
    ms = int(ts) if isinstance(ts, decimal.Decimal) else creation_ms
    t = datetime.datetime.fromtimestamp(ms // 1000, _UTC)
    date, hour = path_safe(t.strftime("%Y-%m-%d")), path_safe(t.strftime("%H"))
    prefix = f"transactions/region={region}/date={date}/hour={hour}/"
    return prefix, (region, date, hour), json.dumps(doc, default=_default, separators=(",", ":"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("records")
    p.add_argument("--min-seconds", type=float, default=2.0)
    p.add_argument("--check", help="first write prefix<TAB>line per record here (untimed)")
    a = p.parse_args()
    with open(a.records, "rb") as f:
        lines = [l for l in f.read().split(b"\n") if l]
    nbytes = sum(len(l) for l in lines)
    if a.check:  # untimed
        with open(a.check, "w") as check:
            for line in lines:
                prefix, _, doc = transform(line)
                check.write(f"{prefix}\t{doc}\n")
    passes, elapsed, cpu, out_bytes, best = 0, 0.0, 0.0, 0, None
    while passes == 0 or cpu < a.min_seconds:
        start, cpu_start = time.perf_counter(), time.thread_time()
        out_bytes = 0
        for line in lines:
            prefix, _, doc = transform(line)
            out_bytes += len(doc)
        used = time.thread_time() - cpu_start
        best = used if best is None else min(best, used)
        cpu += used
        elapsed += time.perf_counter() - start
        passes += 1
    print(json.dumps({"row": "python_peer", "records": len(lines) * passes, "bytes": nbytes * passes,
                      "out_bytes": out_bytes * passes, "seconds": elapsed, "cpu_seconds": cpu, "passes": passes,
                      "pass_records": len(lines), "pass_bytes": nbytes, "best_pass_cpu_seconds": best}))


if __name__ == "__main__":
    sys.exit(main())
