#!/usr/bin/python3
"""The Python peer of `lakehose backfill`: what a user would write with boto3 to turn a
DynamoDB export, or a parallel Scan, into a gzip JSON Lines lake with the bench's
`backfill` pipeline (the demo pipeline's partition keys and metadata, bench/backfill_rows.mjs).

    /usr/bin/python3 bench/peers/backfill_boto3_peer.py --export DIR --out DIR
    /usr/bin/python3 bench/peers/backfill_boto3_peer.py --scan --endpoint URL --table T \
        [--segments 4] [--page-items 1000] --out DIR   (credentials from AWS_ACCESS_KEY_ID/...)

Per item, the same job as lakehose: boto3's TypeDeserializer (numbers as Decimal, written
as int or float by json.dumps' default, the AWS samples' DecimalEncoder: lossy beyond
15-17 digits, which lakehose is not; sets as lists; binary as base64), add _eventID,
_eventName (INSERT) and _ApproximateCreationDateTime (the export time, or the scan's
start), compute the partition keys (region with default "unknown"; date and hour of
`timestamp` in ms, else of that time), render the prefix and json.dumps the document. Each
export data file, or each Scan page, becomes one gzip object per prefix.
  Export: the data files listed by the manifest, one after the other (gzip, json), one
thread. Binary in an export is base64 text, which TypeDeserializer does not take (it wants
the bytes botocore decodes from the wire): B and BS are decoded first, at any depth. No
MD5 or item-count checks, which lakehose does.
  Scan: boto3's client (endpoint_url) and one thread per segment
(concurrent.futures), as AWS's parallel-scan samples do; the GIL serialises the
conversion. N values are read with decimal.Decimal rather than boto3's 38-digit context,
which refuses dynalite's spelling of numbers near 1E+125 (see _Deserializer).

Prints one JSON object: {"row", "records", "seconds" (wall, from after the imports to the
last object written), "cpu_seconds_process" (start-up included), "out_bytes", "objects"}.
"""
import argparse
import base64
import concurrent.futures
import datetime
import decimal
import gzip
import json
import os
import sys
import threading
import time

from boto3.dynamodb.types import TypeDeserializer

# The pieces of the same conversion in the stream peer: JSON of Decimal, sets and Binary,
# Hive path-safe values, UTC.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boto3_peer import _UTC, _default, path_safe  # noqa: E402


class _Deserializer(TypeDeserializer):
    # dynalite spells 1.2345678901234567890123456789012345678E+125 as a 126-digit integer,
    # which boto3's 38-digit context refuses (decimal.Rounded); DynamoDB does not. The same
    # Decimal, without the context's checks.
    def _deserialize_n(self, value):
        return decimal.Decimal(value)


_DESERIALIZER = _Deserializer()


def decode_binary(av):
    """An attribute value of an export line with B/BS as bytes, as botocore would hand it."""
    (kind, v), = av.items()
    if kind == "B":
        return {"B": base64.b64decode(v)}
    if kind == "BS":
        return {"BS": [base64.b64decode(x) for x in v]}
    if kind == "M":
        return {"M": {k: decode_binary(x) for k, x in v.items()}}
    if kind == "L":
        return {"L": [decode_binary(x) for x in v]}
    return av


def convert(image, event_id, creation_ms):
    """One item (attribute map) -> (prefix, JSON line)."""
    item = {k: _DESERIALIZER.deserialize(av) for k, av in image.items()}
    doc = {"_eventID": event_id, "_eventName": "INSERT", "_ApproximateCreationDateTime": creation_ms}
    doc.update(item)
    region = item.get("region")
    region = path_safe(str(region) if region is not None else "unknown")
    ts = item.get("timestamp")
    ms = int(ts) if isinstance(ts, decimal.Decimal) else creation_ms
    t = datetime.datetime.fromtimestamp(ms // 1000, _UTC)
    date, hour = path_safe(t.strftime("%Y-%m-%d")), path_safe(t.strftime("%H"))
    return f"backfill/region={region}/date={date}/hour={hour}/", json.dumps(doc, default=_default, separators=(",", ":"))


class Stats:
    def __init__(self):
        self.records = self.out_bytes = self.objects = 0
        self.lock = threading.Lock()


def write_unit(out_dir, unit, converted, stats):
    by_prefix = {}
    for prefix, line in converted:
        by_prefix.setdefault(prefix, []).append(line)
    for prefix, lines in by_prefix.items():
        d = os.path.join(out_dir, prefix)
        os.makedirs(d, exist_ok=True)
        data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"))
        with open(os.path.join(d, f"{unit}.jsonl.gz"), "wb") as f:
            f.write(data)
        with stats.lock:
            stats.out_bytes += len(data)
            stats.objects += 1
            stats.records += len(lines)


def export_run(export_dir, out_dir, stats):
    with open(os.path.join(export_dir, "manifest-summary.json")) as f:
        summary = json.load(f)
    export_id = summary["exportArn"].rsplit("/", 1)[1]
    creation_ms = int(datetime.datetime.fromisoformat(summary["exportTime"].replace("Z", "+00:00")).timestamp() * 1000)
    with open(os.path.join(export_dir, "manifest-files.json")) as f:
        entries = [json.loads(l) for l in f if l.strip()]
    for index, entry in enumerate(entries):
        key = entry["dataFileS3Key"]
        converted = []
        with gzip.open(os.path.join(export_dir, key[key.rindex("/data/") + 1:]), "rt", encoding="utf-8") as f:
            for n, line in enumerate((l for l in f if l.strip()), 1):
                image = {k: decode_binary(av) for k, av in json.loads(line)["Item"].items()}
                converted.append(convert(image, f"{export_id}:{index}:{n}", creation_ms))
        write_unit(out_dir, f"export-{index}", converted, stats)


def scan_run(a, out_dir, stats):
    import boto3  # only here: the export path needs no client

    client = boto3.client("dynamodb", endpoint_url=a.endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"))
    creation_ms = int(time.time() * 1000)

    def segment(seg):
        start_key = None
        for page in range(10**9):
            kw = {"TableName": a.table, "Segment": seg, "TotalSegments": a.segments, "Limit": a.page_items}
            if start_key:
                kw["ExclusiveStartKey"] = start_key
            out = client.scan(**kw)
            converted = [convert(image, f"scan:{a.table}:{seg}:{page}:{i}", creation_ms)
                         for i, image in enumerate(out.get("Items", []))]
            write_unit(out_dir, f"scan-{seg}-{page}", converted, stats)
            start_key = out.get("LastEvaluatedKey")
            if not start_key:
                return

    with concurrent.futures.ThreadPoolExecutor(a.segments) as pool:
        for f in [pool.submit(segment, s) for s in range(a.segments)]:
            f.result()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--export")
    p.add_argument("--scan", action="store_true")
    p.add_argument("--endpoint")
    p.add_argument("--table")
    p.add_argument("--segments", type=int, default=4)
    p.add_argument("--page-items", type=int, default=1000)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    if not a.export and not (a.scan and a.endpoint and a.table):
        p.error("give --export DIR, or --scan --endpoint URL --table T")
    stats = Stats()
    start = time.perf_counter()
    if a.export:
        export_run(a.export, a.out, stats)
    else:
        scan_run(a, a.out, stats)
    seconds = time.perf_counter() - start
    t = os.times()
    print(json.dumps({"row": "backfill_export_python_peer" if a.export else "backfill_scan_python_peer",
                      "records": stats.records, "seconds": seconds, "cpu_seconds_process": t.user + t.system,
                      "out_bytes": stats.out_bytes, "objects": stats.objects}))


if __name__ == "__main__":
    sys.exit(main())
