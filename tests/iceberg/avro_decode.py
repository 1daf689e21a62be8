#!/usr/bin/python3
"""Decodes Avro object container files with Debian's python3-avro (an independent reader)
and prints, as JSON, each file's header schema, key-value metadata and records in the
form tests/iceberg/avro_peers.test.mjs compares: integers and floats as decimal strings,
bytes as "hex:..", decimals as "dec:<unscaled>", timestamps as microseconds since the
epoch, dates as days.

    /usr/bin/python3 avro_decode.py FILE...
"""
import datetime
import decimal
import json
import sys
import warnings

import avro.datafile
import avro.io

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def canonical(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        # As JavaScript's String(n) and C++'s shortest round trip write it.
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return "hex:" + v.hex()
    if isinstance(v, decimal.Decimal):
        sign, digits, exponent = v.as_tuple()
        unscaled = int("".join(map(str, digits)) or "0")
        return "dec:" + ("-" if sign and unscaled else "") + str(unscaled)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return str((v - EPOCH) // datetime.timedelta(microseconds=1))
    if isinstance(v, datetime.date):
        return str((v - datetime.date(1970, 1, 1)).days)
    if isinstance(v, list):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    raise TypeError(f"unexpected value {v!r}")


def main():
    # python3-avro warns about logical types it leaves alone (uuid on fixed, map on array).
    warnings.simplefilter("ignore")
    out = {}
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            reader = avro.datafile.DataFileReader(f, avro.io.DatumReader())
            records = [canonical(r) for r in reader]
            meta = {k: v.decode("utf-8") for k, v in reader.meta.items()}
        out[path] = {"schema": meta.pop("avro.schema"), "codec": meta.pop("avro.codec", "null"),
                     "metadata": meta, "records": records}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
