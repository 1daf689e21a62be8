#!/usr/bin/env python3
"""JSON Lines of `lakehose generate` as the CLI's other input formats, streamed (one line
at a time in, one record at a time out), for bench/README.md's "CLI streaming" figures and
tests/cli/cli_streaming_test.sh.

  bench/cli_inputs.py lambda   < records.jsonl > event.json     # {"Records": [...]}, one line
  bench/cli_inputs.py lambda-pretty < records.jsonl > event.json  # one record per line
  bench/cli_inputs.py firehose < records.jsonl > event.json     # {"invocationId", "records": [...]}
"""
import base64
import sys


def main() -> int:
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind not in ("lambda", "lambda-pretty", "firehose"):
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.stdout
    sep = "\n" if kind == "lambda-pretty" else ""
    if kind == "firehose":
        out.write('{"invocationId":"bench","deliveryStreamArn":"arn:aws:firehose:bench","records":[')
    else:
        out.write('{"Records": [' + sep)
    n = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if n:
            out.write("," + sep)
        n += 1
        if kind == "firehose":
            data = base64.b64encode(line.encode()).decode()
            out.write('{"recordId":"r%d","approximateArrivalTimestamp":%d,"data":"%s"}'
                      % (n, 1700000000000 + n, data))
        else:
            out.write(line)
    out.write(sep + "]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
