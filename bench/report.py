#!/usr/bin/python3
"""Turns bench/run.sh's rows (one JSON object per line) into the table and the JSON file.

    bench/report.py ROWS.jsonl --output FILE.json [--only REGEX] [--smoke]

Every row gets records/s, MB/s of input (10^6 bytes) and its ratio to the Node.js peer and
to the simdjson ceiling of the same workload (backfill rows: items/s and MB/s of the whole
run, and the ratio to the Node.js peer of the same source; current-state rows: changes/s of
the whole stream and the ratio to the change-log table of the same run); then the targets (bench/README.md, "Targets") are
checked and printed as met or missed (never an exit status: timings are not asserted).
Exits 1 only if a row is missing or produced no numbers.
"""
import argparse
import datetime
import json
import os
import platform
import re
import sys

ROWS = [
    ("python_peer", "Python peer (boto3 TypeDeserializer)"),
    ("node_peer", "Node.js peer (@aws-sdk/util-dynamodb unmarshall)"),
    ("simdjson", "ceiling: simdjson DOM parse + walk"),
    ("memcpy", "ceiling: memcpy of the input"),
    ("zstd", "ceiling: zstd -3 of the output"),
    ("gzip", "ceiling: gzip -6 of the output"),
    ("core", "lakehose core transform (1 core)"),
    ("grpc_transform", "Transform over gRPC (loopback, 500/batch, 4 streams)"),
    ("ingest_file_zstd", "Ingest -> files, zstd (+ Flush)"),
    ("ingest_file_gzip", "Ingest -> files, gzip (+ Flush)"),
    ("ingest_file_parquet_snappy", "Ingest -> files, Parquet snappy (+ Flush)"),
    ("ingest_file_parquet_zstd", "Ingest -> files, Parquet zstd (+ Flush)"),
    ("ingest_iceberg", "Ingest -> Iceberg table, zstd Parquet (+ Flush, commit)"),
    ("ingest_s3", "Ingest -> s3rver via SigV4 front, zstd (+ Flush)"),
    ("memory_stalled_s3", "Ingest while S3 stalls (memory bound)"),
]
WORKLOADS = ["transactions", "sites"]
# The backfill workload (bench/backfill_rows.mjs): whole runs, wall clock, each rated against
# the Node.js peer of the same source (the export on disk, or dynalite).
BACKFILL_ROWS = [
    ("backfill_export", "lakehose backfill --export -> gzip JSON Lines"),
    ("backfill_export_parquet", "lakehose backfill --export -> Parquet zstd"),
    ("backfill_export_node_peer", "Node.js peer (zlib, JSON.parse, unmarshall)"),
    ("backfill_export_python_peer", "Python peer (gzip, json, TypeDeserializer)"),
    ("backfill_scan", "lakehose backfill --scan of dynalite"),
    ("backfill_scan_node_peer", "Node.js peer (client-dynamodb Scan, unmarshall)"),
    ("backfill_scan_python_peer", "Python peer (boto3 scan, TypeDeserializer)"),
]
# The current workload (bench/current_rows.mjs): one DynamoDB change stream into a
# mode: current table and into a mode: changelog table in the same run; changes/s of the
# whole stream (Ingest acked + the final Flush committed), rated against the change log.
CURRENT_ROWS = [
    ("current_changelog", "Ingest -> Iceberg mode: changelog (+ Flush, commit)"),
    ("current_table", "Ingest -> Iceberg mode: current (+ Flush, commit)"),
]
# Resident memory allowed above the idle server and the buffer budget: gRPC buffers of the
# requests in flight (4 streams x ~0.7 MB, doubled while parsed), the transformers' parse
# buffers, the WAL's group-commit buffer, sealed objects being compressed, and malloc's
# per-thread arenas keeping freed pages. See bench/README.md, "Memory".
MEMORY_OVERHEAD_MB = 64


def rate_of(r):
    """Records/s and bytes/s of a row. Single-core rows (peers, ceilings, core) are rated
    by their fastest pass over the input, in CPU seconds of the measuring thread: on a
    shared, busy machine noise only ever slows a pass down, and stretches wall time more
    than CPU time. The gRPC and Ingest rows are wall-clock throughput of the whole run."""
    if r.get("best_pass_cpu_seconds"):
        return r["pass_records"] / r["best_pass_cpu_seconds"], r["pass_bytes"] / r["best_pass_cpu_seconds"]
    s = secs(r)
    return (r["records"] / s, r["bytes"] / s) if s else (None, None)


def secs(r):
    """Single-core rows are measured in CPU seconds of the measuring thread (a shared,
    busy machine stretches wall time, not CPU time); the gRPC and Ingest rows in wall
    seconds (they are throughput of the whole machine)."""
    return r.get("cpu_seconds") or r.get("seconds")


def fmt_rate(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt_ratio(v):
    return "-" if v is None else (f"{v:.2f}x" if v < 10 else f"{v:.1f}x")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows")
    p.add_argument("--output", required=True)
    p.add_argument("--only", default=".")
    p.add_argument("--smoke", action="store_true")
    a = p.parse_args()
    raw = [json.loads(l) for l in open(a.rows) if l.strip()]
    by = {(r["workload"], r["row"]): r for r in raw}

    problems = []
    table = []
    for w in WORKLOADS:
        node = by.get((w, "node_peer"), {})
        simd = by.get((w, "simdjson"), {})
        rate = lambda r: rate_of(r)[0] if r else None
        node_rate, simd_rate = rate(node), rate(simd)
        for name, label in ROWS:
            if not re.search(a.only, name):
                continue
            if name == "memory_stalled_s3" and w != "transactions":
                continue
            r = by.get((w, name))
            if r is None:
                problems.append(f"{w}/{name}: row missing")
                continue
            if "error" in r:
                problems.append(f"{w}/{name}: {r['error']}")
                table.append({"workload": w, "row": name, "label": label, "error": r["error"]})
                continue
            if not r.get("seconds") or r.get("records") is None or r["seconds"] <= 0:
                problems.append(f"{w}/{name}: no numbers ({r})")
                continue
            rs = rate(r)
            if name != "memory_stalled_s3" and rs <= 0:
                problems.append(f"{w}/{name}: zero records/s")
            row = {
                "workload": w, "row": name, "label": label,
                "records_per_s": rs, "mb_per_s": rate_of(r)[1] / 1e6,
                "basis": "cpu" if r.get("cpu_seconds") else "wall",
                "x_node": rs / node_rate if node_rate else None,
                "x_simdjson": rs / simd_rate if simd_rate else None,
                "raw": r,
            }
            if name in ("zstd", "gzip"):
                row["note"] = f"{r['out_bytes'] / r['passes'] / r['best_pass_cpu_seconds'] / 1e6:,.0f} MB/s of output compressed"
            notes = []
            if (name.startswith("grpc") or name.startswith("ingest")) and r.get("server_cpu_seconds", -1) > 0:
                # What two otherwise idle cores would sustain: records per CPU-second of
                # server and client together, times the two cores they share.
                cpu = r["server_cpu_seconds"] + r["client_cpu_seconds"]
                row["cpu_bound_records_per_s"] = 2 * r["records"] / cpu
                row["server_cpu_us_per_record"] = 1e6 * r["server_cpu_seconds"] / r["records"]
                row["client_cpu_us_per_record"] = 1e6 * r["client_cpu_seconds"] / r["records"]
                notes.append(f"CPU/record: server {row['server_cpu_us_per_record']:.2f} us + client "
                             f"{row['client_cpu_us_per_record']:.2f} us -> {row['cpu_bound_records_per_s']:,.0f}/s on 2 idle cores")
            if name.startswith("ingest") and r.get("resource_exhausted"):
                notes.append(f"{r['resource_exhausted']} RESOURCE_EXHAUSTED retried")
            if r.get("lake_bytes"):
                row["lake_bytes"] = r["lake_bytes"]
                gz = by.get((w, "ingest_file_gzip"), {}).get("lake_bytes")
                rel = f" = {r['lake_bytes'] / gz:.2f}x gzip JSONL" if gz else ""
                what = "table (data + metadata)" if name == "ingest_iceberg" else "lake"
                notes.append(f"{what} {r['lake_bytes'] / 1e6:,.1f} MB on disk{rel}")
            if r.get("probe_flush_ms"):
                ms = sorted(r["probe_flush_ms"])
                row["probe_flush_ms"] = r["probe_flush_ms"]
                row["probe_flush_ms_median"] = ms[len(ms) // 2]
                row["probe_flush_ms_max"] = ms[-1]
                notes.append(f"Flush of {r.get('batch', 500)} records: median {ms[len(ms) // 2]:,.0f} ms, "
                             f"max {ms[-1]:,.0f} ms ({len(ms)} probes)")
            if notes:
                row["note"] = "; ".join(notes)
            if name == "memory_stalled_s3":
                budget_kb = r["budget_mb"] * 1024
                bound_kb = r["server_idle_rss_kb"] + budget_kb + MEMORY_OVERHEAD_MB * 1024
                row["memory"] = {
                    "budget_mb": r["budget_mb"], "idle_rss_mb": r["server_idle_rss_kb"] / 1024,
                    "max_rss_mb": r["server_max_rss_kb"] / 1024, "hwm_mb": r["server_hwm_kb"] / 1024,
                    "bound_mb": bound_kb / 1024, "overhead_mb": MEMORY_OVERHEAD_MB,
                    "resource_exhausted": r["resource_exhausted"],
                    "within_bound": r["server_hwm_kb"] <= bound_kb,
                    "first_half_max_rss_mb": r.get("server_rss_first_half_max_kb", -1) / 1024,
                    "second_half_max_rss_mb": r.get("server_rss_second_half_max_kb", -1) / 1024,
                }
                m = row["memory"]
                row["note"] = (f"HWM {m['hwm_mb']:.0f} MB (idle {m['idle_rss_mb']:.0f} + budget {m['budget_mb']}"
                               f" + {MEMORY_OVERHEAD_MB} = {m['bound_mb']:.0f} MB bound), "
                               f"{r['resource_exhausted']} RESOURCE_EXHAUSTED; max RSS 1st half "
                               f"{m['first_half_max_rss_mb']:.0f} MB, 2nd half {m['second_half_max_rss_mb']:.0f} MB")
                if r["server_hwm_kb"] <= 0:
                    problems.append(f"{w}/{name}: no memory sample")
            table.append(row)

    def whole_run_rows(workload, rows):
        """(name, label, row) of the workload's whole-run rows that match --only and have
        numbers; a missing, failed (a failed correctness check included, its numbers kept)
        or empty row is a problem."""
        for name, label in rows:
            if not re.search(a.only, name):
                continue
            r = by.get((workload, name))
            if r is None:
                problems.append(f"{workload}/{name}: row missing")
            elif "error" in r:
                problems.append(f"{workload}/{name}: {r['error']}")
                table.append({"workload": workload, "row": name, "label": label, "error": r["error"], "raw": r})
            elif not r.get("seconds") or not r.get("records") or r["seconds"] <= 0:
                problems.append(f"{workload}/{name}: no numbers ({r})")
            else:
                yield name, label, r

    # Backfill rows: items/s and MB/s (of the export's DynamoDB JSON, uncompressed) of the
    # whole run, against the Node.js peer of the same source.
    bf_rate = {}
    for name, _ in BACKFILL_ROWS:
        r = by.get(("backfill", name), {})
        if r.get("seconds") and r.get("records"):
            bf_rate[name] = r["records"] / r["seconds"]
    for name, label, r in whole_run_rows("backfill", BACKFILL_ROWS):
        source = "scan" if name.startswith("backfill_scan") else "export"
        node_rate = bf_rate.get(f"backfill_{source}_node_peer")
        rs = bf_rate[name]
        row = {
            "workload": "backfill", "row": name, "label": label, "source": r.get("source"),
            "records_per_s": rs, "mb_per_s": r["bytes"] / r["seconds"] / 1e6, "basis": "wall",
            "x_node": rs / node_rate if node_rate else None, "x_simdjson": None,
            "threads": r.get("threads"), "raw": r,
        }
        notes = [f"{r['threads']} thread{'s' if r.get('threads') != 1 else ''}"]
        if r.get("cpu_seconds_process"):
            row["cpu_us_per_item"] = 1e6 * r["cpu_seconds_process"] / r["records"]
            notes.append(f"process CPU {r['cpu_seconds_process']:.2f} s = {row['cpu_us_per_item']:.0f} us/item")
        if r.get("out_bytes"):
            notes.append(f"lake {r['out_bytes'] / 1e6:,.1f} MB in {r.get('objects', '?')} objects")
        row["note"] = "; ".join(notes)
        table.append(row)

    # Current-state rows: changes/s of the whole stream, against mode: changelog.
    cur_rate = {}
    for name, _ in CURRENT_ROWS:
        r = by.get(("current", name), {})
        if r.get("seconds") and r.get("records") and "error" not in r:
            cur_rate[name] = r["records"] / r["seconds"]
    for name, label, r in whole_run_rows("current", CURRENT_ROWS):
        rs = cur_rate[name]
        peer = cur_rate.get("current_changelog")
        row = {
            "workload": "current", "row": name, "label": label,
            "records_per_s": rs, "mb_per_s": r["bytes"] / r["seconds"] / 1e6, "basis": "wall",
            "x_node": None, "x_simdjson": None,
            "x_changelog": rs / peer if peer else None, "raw": r,
        }
        notes, details = [], []
        if r.get("server_cpu_seconds", -1) > 0:
            row["server_cpu_us_per_change"] = 1e6 * r["server_cpu_seconds"] / r["records"]
            row["client_cpu_us_per_change"] = 1e6 * r["client_cpu_seconds"] / r["records"]
            notes.append(f"CPU/change: server {row['server_cpu_us_per_change']:.2f} us + client "
                         f"{row['client_cpu_us_per_change']:.2f} us")
        notes.append(f"live rows {r['live_in_table']:,} = expected (checked)")
        commits = (f"commits: {r.get('commits')} (due every {r.get('commit_interval_s')} s), the final Flush "
                   f"{r.get('flush_seconds', 0):.1f} s")
        gap = r.get("commit_gap_ms") or {}
        if gap.get("p50") is not None:
            commits += (f"; commit to commit p50 {gap['p50'] / 1e3:.1f} s, p90 {gap['p90'] / 1e3:.1f} s, "
                        f"max {gap['max'] / 1e3:.1f} s")
        if r.get("probe_flush_ms"):
            ms = sorted(r["probe_flush_ms"])
            row["probe_flush_ms_median"] = ms[len(ms) // 2]
            commits += f"; Flush of 500 changes median {ms[len(ms) // 2]:,.0f} ms, max {ms[-1]:,.0f} ms"
        details.append(commits)
        big = [c for c in r.get("commit_phases") or [] if c["records"] >= 10 * r.get("batch", 500)]
        if big:
            def secs_of(ms):
                return "-" if ms is None else f"{ms / 1e3:.1f}"
            parts = [f"{c['records']:,}: {secs_of(c['plan_ms'])} / {secs_of(c['deletes_and_delta_ms'])} / "
                     f"{secs_of(c['manifests_and_metadata_ms'])} / {secs_of(c['index_apply_ms'])}" for c in big]
            details.append("commits of the run (records: plan / delete files + index delta / manifests + metadata / "
                           "index update, s): " + "; ".join(parts))
        size = (f"table: data {r['table_data_bytes'] / 1e6:,.1f} MB in {r['table_data_files']} files, "
                f"metadata {r['table_metadata_bytes'] / 1e6:,.1f} MB, {r['snapshots']} snapshots")
        if r.get("mode") == "current":
            size += (f"; position deletes {r['table_delete_bytes'] / 1e6:,.1f} MB in {r['table_delete_files']} files, "
                     f"{r['position_deletes']:,} rows")
        details.append(size)
        if r.get("mode") == "current":
            live = r["live_expected"]
            row["index_bytes_per_live_key"] = r["index_bytes"] / live if live else None
            details.append(f"key index {r['index_bytes'] / 1e6:,.1f} MB on disk = {r['index_bytes'] / max(live, 1):,.0f} "
                           f"B per live key ({live:,}); index deltas {r['index_delta_bytes'] / 1e6:,.1f} MB")
            details.append(f"changes applied {r['changes_applied']:,}, stale {r['changes_stale']:,}, "
                           f"superseded {r['changes_superseded']:,}; TTL deletes {r.get('ttl_deletes')}")
        row["details"] = details
        row["note"] = "; ".join(notes)
        table.append(row)

    # current_compact: `lakehose table compact`, `expire` and `reindex` on the table
    # current_table left; its rate is the rows of the rewritten data files per second.
    if re.search(a.only, "current_compact"):
        label = "lakehose table compact (rows of rewritten files)"
        r = by.get(("current", "current_compact"))
        if r is None:
            problems.append("current/current_compact: row missing")
        elif "error" in r:
            problems.append(f"current/current_compact: {r['error']}")
            table.append({"workload": "current", "row": "current_compact", "label": label, "error": r["error"], "raw": r})
        elif not r.get("compact_seconds"):
            problems.append(f"current/current_compact: no numbers ({r})")
        else:
            c, b, f = r["compact"], r["before"], r["after"]
            read = c["rows_kept"] + c["rows_dropped"]
            row = {
                "workload": "current", "row": "current_compact", "label": label,
                "records_per_s": read / r["compact_seconds"],
                "mb_per_s": r["compact_rewritten_bytes"] / r["compact_seconds"] / 1e6, "basis": "wall",
                "x_node": None, "x_simdjson": None, "x_changelog": None,
                "read_ratio": r["read_ratio"], "raw": r,
            }
            row["note"] = (f"{r['compact_seconds']:.1f} s; DuckDB reads the live rows {r['read_ratio']:.1f}x faster "
                           f"after ({r['read_before_seconds']:.2f} s -> {r['read_after_seconds']:.2f} s); "
                           f"live rows {r['live_after']:,} = expected (checked)")
            details = [
                f"rewrote {c['data_files_rewritten']} of {b['data_files']} data files ({read:,} rows: {c['rows_kept']:,} kept, "
                f"{c['rows_dropped']:,} deleted) into {c['data_files_added']}; delete files removed {c['delete_files_removed']}, "
                f"added {c['delete_files_added']}; keys moved {c['keys_moved']:,}",
                f"table before: {b['data_files']} data files ({b['data_rows']:,} rows, {b['data_bytes'] / 1e6:,.1f} MB), "
                f"{b['delete_files']} delete files ({b['position_deletes']:,} position deletes, {b['delete_bytes'] / 1e6:,.1f} MB); "
                f"after: {f['data_files']} ({f['data_rows']:,} rows, {f['data_bytes'] / 1e6:,.1f} MB), "
                f"{f['delete_files']} ({f['position_deletes']:,}, {f['delete_bytes'] / 1e6:,.1f} MB)",
                f"reindex from the deltas of {r['reindex_deltas_snapshots']} snapshots {r['reindex_deltas_seconds']:.1f} s; "
                f"expire --older-than 0s --retain-last 1 {r['expire_seconds']:.1f} s ({r['expire']['snapshots_expired']} "
                f"expired, checkpoint written, {r['expire']['unreferenced_files']} files / "
                f"{r['expire']['unreferenced_bytes'] / 1e6:,.1f} MB unreferenced, listed and deleted: "
                f"{r['listed_files_deleted']} files, {r['listed_bytes_deleted'] / 1e6:,.1f} MB); reindex from the checkpoint "
                f"{r['reindex_checkpoint_seconds']:.1f} s (index {r['index_bytes'] / 1e6:,.1f} MB on disk)",
            ]
            if r.get("probe_after_flush_ms"):
                ms = sorted(r["probe_after_flush_ms"])
                started = f" (started in {r['restart_seconds']:.1f} s)" if r.get("restart_seconds") is not None else ""
                details.append(f"then the server again{started}: Flush of 500 MODIFYs median {ms[len(ms) // 2]:,.0f} ms, max "
                               f"{ms[-1]:,.0f} ms ({r['probe_after_records']:,} in all; live rows {r['live_after_probes']:,}, checked)")
            row["details"] = details
            table.append(row)

    def get(w, name):
        for t in table:
            if t["workload"] == w and t["row"] == name and "records_per_s" in t:
                return t
        return None

    # Iceberg against Parquet zstd, the same records in the same run (the design wants
    # Iceberg within 10% of Parquet: reported as ratios, never asserted).
    iceberg = []
    for w in WORKLOADS:
        ice, pq = get(w, "ingest_iceberg"), get(w, "ingest_file_parquet_zstd")
        if not ice or not pq:
            continue
        ir, pr = ice["raw"], pq["raw"]
        c = {"workload": w, "records_per_s_ratio": ice["records_per_s"] / pq["records_per_s"]}
        if ice.get("server_cpu_us_per_record") and pq.get("server_cpu_us_per_record"):
            c["server_cpu_per_record_ratio"] = ice["server_cpu_us_per_record"] / pq["server_cpu_us_per_record"]
        if ir.get("lake_bytes") and pr.get("lake_bytes"):
            c["bytes_on_disk_ratio"] = ir["lake_bytes"] / pr["lake_bytes"]
            c["table_bytes"] = ir["lake_bytes"]
            c["parquet_lake_bytes"] = pr["lake_bytes"]
        for k in ("table_data_bytes", "table_metadata_bytes", "table_data_files", "table_metadata_files",
                  "commits_logged", "flush_seconds"):
            if k in ir:
                c[k] = ir[k]
        for k in ("lake_files", "flush_seconds"):
            if k in pr:
                c["parquet_" + k] = pr[k]
        if ice.get("probe_flush_ms_median") is not None and pq.get("probe_flush_ms_median") is not None:
            c["probe_flush_ms_median"] = ice["probe_flush_ms_median"]
            c["parquet_probe_flush_ms_median"] = pq["probe_flush_ms_median"]
        iceberg.append(c)

    # Targets (bench/README.md, "Targets"), from this run.

    targets = []
    core, node, simd = get("transactions", "core"), get("transactions", "node_peer"), get("transactions", "simdjson")
    if core and simd:
        targets.append(("core transform >= 0.6x simdjson ceiling (transactions)", core["x_simdjson"], 0.6))
    if core and node:
        targets.append(("core transform >= 10x Node.js peer (transactions)", core["x_node"], 10.0))
    g = get("transactions", "grpc_transform")
    if g:
        targets.append(("Transform over gRPC >= 300,000 records/s (transactions)", g["records_per_s"] / 300000, 1.0))
        if g.get("cpu_bound_records_per_s"):
            targets.append(("  the same from CPU per record, had the 2 cores been idle (estimate)",
                            g["cpu_bound_records_per_s"] / 300000, 1.0))
    iz, z = get("transactions", "ingest_file_zstd"), get("transactions", "zstd")
    if iz and core and z:
        ceiling = min(core["records_per_s"], z["records_per_s"])
        targets.append(("Ingest files zstd >= 0.7x min(core, zstd ceiling) (transactions)",
                        iz["records_per_s"] / ceiling, 0.7))
    mem = get("transactions", "memory_stalled_s3")
    target_rows = [{"target": t, "value": v, "threshold": th, "met": v >= th} for t, v, th in targets]
    if mem:
        m = mem["memory"]
        target_rows.append({"target": "memory within budget + overhead under stalled S3, RESOURCE_EXHAUSTED answered",
                            "value": m["hwm_mb"], "threshold": m["bound_mb"],
                            "met": m["within_bound"] and m["resource_exhausted"] > 0})

    # Print.
    print()
    print(f"lakehose benchmark suite{' (SMOKE: tiny inputs, numbers meaningless)' if a.smoke else ''}"
          f" - {platform.node()}, {os.cpu_count()} CPUs, {datetime.datetime.now().isoformat(timespec='seconds')}")
    def print_rows(rows, unit, ceiling):
        """The rows under one header; `ceiling`: with the x simdjson and time columns."""
        extra = f" {'x simdjson':>10} {'time':>5}" if ceiling else ""
        print(f"  {'row':<56} {unit:>12} {'MB/s':>8} {'x node':>8}{extra}  note")
        for t in rows:
            if "error" in t:
                print(f"  {t['label']:<56} {'FAILED':>12}  {t['error']}")
                continue
            extra = f" {fmt_ratio(t['x_simdjson']):>10} {t['basis']:>5}" if ceiling else ""
            print(f"  {t['label']:<56} {fmt_rate(t['records_per_s']):>12} {t['mb_per_s']:>8,.1f} "
                  f"{fmt_ratio(t['x_node']):>8}{extra}  {t.get('note', '')}")

    for w in WORKLOADS:
        rows = [t for t in table if t["workload"] == w]
        if rows:
            print(f"\n{w}")
            print_rows(rows, "records/s", True)
    bf = [t for t in table if t["workload"] == "backfill"]
    if bf:
        first = next((t["raw"] for t in bf if "error" not in t), None)
        what = (f" ({first['records']:,} items, {first['bytes'] / 1e6:,.1f} MB of DynamoDB JSON; whole runs, wall clock;"
                " x node: against the Node.js peer of the same source)") if first else ""
        print(f"\nbackfill{what}")
        print_rows(bf, "items/s", False)
    cur = [t for t in table if t["workload"] == "current"]
    if cur:
        first = next((t["raw"] for t in cur if "error" not in t), None)
        what = (f" ({first['records']:,} changes of {first['items']:,} items, {first['bytes'] / 1e6:,.0f} MB of stream records;"
                " whole runs: Ingest acked + final Flush committed; wall clock)") if first else ""
        print(f"\ncurrent-state tables{what}")
        print(f"  {'row':<56} {'changes/s':>12} {'MB/s':>8} {'x chlog':>8}  note")
        for t in cur:
            if "error" in t:
                print(f"  {t['label']:<56} {'FAILED':>12}  {t['error']}")
                continue
            print(f"  {t['label']:<56} {fmt_rate(t['records_per_s']):>12} {t['mb_per_s']:>8,.1f} "
                  f"{fmt_ratio(t['x_changelog']):>8}  {t.get('note', '')}")
            for d in t.get("details", []):
                print(f"    {d}")
    if iceberg:
        print("\nIceberg vs Parquet zstd (same records, same run; design: Iceberg within 10%, i.e. >= 0.90x)")
        for c in iceberg:
            parts = [f"records/s {c['records_per_s_ratio']:.2f}x"]
            if "server_cpu_per_record_ratio" in c:
                parts.append(f"server CPU/record {c['server_cpu_per_record_ratio']:.2f}x")
            if "bytes_on_disk_ratio" in c:
                parts.append(f"bytes on disk {c['bytes_on_disk_ratio']:.2f}x ({c['table_bytes'] / 1e6:,.2f} MB vs "
                             f"{c['parquet_lake_bytes'] / 1e6:,.2f} MB)")
            print(f"  {c['workload']:<13} " + ", ".join(parts))
            details = []
            if "table_data_bytes" in c:
                details.append(f"table: data {c['table_data_bytes'] / 1e6:,.2f} MB in {c['table_data_files']} files, "
                               f"metadata {c['table_metadata_bytes'] / 1e3:,.1f} kB in {c['table_metadata_files']} files, "
                               f"{c['commits_logged']} commit(s) in the run")
            if "parquet_lake_files" in c:
                details.append(f"Parquet lake: {c['parquet_lake_files']} files")
            if "flush_seconds" in c and "parquet_flush_seconds" in c:
                details.append(f"the run's final Flush {c['flush_seconds']:.2f} s vs {c['parquet_flush_seconds']:.2f} s")
            if "probe_flush_ms_median" in c:
                details.append(f"Flush of one batch (median): {c['probe_flush_ms_median']:,.0f} ms vs "
                               f"{c['parquet_probe_flush_ms_median']:,.0f} ms")
            for d in details:
                print(f"  {'':<13} {d}")
    if target_rows:
        print("\ntargets")
        for t in target_rows:
            status = "met" if t["met"] else "MISSED"
            if "memory" in t["target"]:
                print(f"  {status:<7} {t['target']}: HWM {t['value']:.0f} MB vs {t['threshold']:.0f} MB")
            else:
                print(f"  {status:<7} {t['target']}: {t['value']:.2f} (needs {t['threshold']:g})")
    for pr in problems:
        print(f"PROBLEM: {pr}", file=sys.stderr)

    with open(a.output, "w") as f:
        json.dump({"time": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
                   "cpus": os.cpu_count(), "smoke": a.smoke, "rows": table, "iceberg_vs_parquet": iceberg,
                   "targets": target_rows,
                   "problems": problems}, f, indent=1)
    print(f"\nwritten: {a.output}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
