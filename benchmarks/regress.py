"""Baselines and regression checks for the benchmark results.

  python benchmarks/regress.py --save-baseline baseline.json [CSV ...]
  python benchmarks/regress.py --compare-baseline baseline.json [CSV ...]

Without CSV arguments the newest file of each (kind, device) in --results (default results/) is used.
Points are keyed by (kind, env, precision, backend, num_envs, chunk), plus the CPU threads of throughput
rows and the library and mode of compare and latency rows; repeated points take the median. Metrics and the change that counts as a
regression (configurable):

  throughput  steps_per_s                   drop of more than 20%   (--throughput-threshold 0.20)
  compare     steps_per_s per library/mode  drop of more than 20%   (same threshold)
  memory      measured_peak_bytes           growth of more than 30% (--memory-threshold 0.30)
  latency     p50/p95/p99 columns           growth of more than 20% (--latency-threshold 0.20)

Exit code: 1 when any point regressed, 2 on bad input, 0 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_csv import csv_files, latency_columns, latest_files, number, read_csv  # noqa: E402

KEY_FIELDS = ("kind", "env", "precision", "backend", "num_envs", "chunk", "variant")
# metric -> (kind of threshold, True when higher is better)
HIGHER_IS_BETTER = {"throughput": True, "compare": True, "memory": False, "latency": False}
THRESHOLD_OF_KIND = {"throughput": "throughput", "compare": "throughput", "memory": "memory", "latency": "latency"}


def _int_text(v) -> str:
    n = number(v)
    return str(int(n)) if n is not None and n == int(n) else (v or "")


def row_key(kind: str, row: dict) -> tuple:
    variant = ""
    if kind == "throughput" and row.get("threads") not in (None, "", "0"):
        variant = f"threads={_int_text(row['threads'])}"  # CPU rates at 1 and 2 threads are different points
    if kind in ("compare", "latency"):
        variant = "/".join(x for x in (row.get("library", ""), row.get("mode", "")) if x)
    return (kind, row.get("env", ""), row.get("precision", ""), row.get("backend") or row.get("device", ""),
            _int_text(row.get("num_envs")), _int_text(row.get("chunk")), variant)


def row_metrics(kind: str, row: dict) -> dict:
    if kind in ("throughput", "compare"):
        cols = ["steps_per_s"]
    elif kind == "memory":
        cols = ["measured_peak_bytes"]
    else:
        cols = latency_columns(row.keys())
    out = {}
    for c in cols:
        v = number(row.get(c))
        if v is not None:
            out[c] = v
    return out


def collect(files) -> dict:
    """{key: {"metrics": {name: median}, "meta": {...}}} from result files."""
    values = defaultdict(lambda: defaultdict(list))
    meta = {}
    for path in files:
        kind, rows = read_csv(path)
        if kind is None:
            print(f"note: {path}: not a result file of a known kind, ignored")
            continue
        for row in rows:
            metrics = row_metrics(kind, row)
            if not metrics:
                continue  # e.g. a memory point the planner refused: nothing was measured
            key = row_key(kind, row)
            for name, v in metrics.items():
                values[key][name].append(v)
            meta[key] = {k: row.get(k, "") for k in ("timestamp", "git_commit", "host", "cpu_model", "device")}
            meta[key]["file"] = str(path)
    return {k: {"metrics": {m: statistics.median(v) for m, v in ms.items()}, "meta": meta[k]}
            for k, ms in values.items()}


def save_baseline(out: Path, files) -> int:
    points = collect(files)
    if not points:
        print("regress.py: error: no measured points in " + ", ".join(map(str, files)) if files else
              "regress.py: error: no result CSVs found", file=sys.stderr)
        return 2
    doc = {
        "format": "simkit-baseline/1",
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sources": sorted({str(f) for f in files}),
        "points": [dict(zip(KEY_FIELDS, k), metrics=v["metrics"], meta=v["meta"]) for k, v in sorted(points.items())],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"baseline: {len(points)} points from {len(doc['sources'])} file(s) -> {out}")
    return 0


def load_baseline(path: Path) -> dict:
    doc = json.loads(path.read_text())
    if doc.get("format") != "simkit-baseline/1":
        raise ValueError(f"{path}: not a simkit baseline (format {doc.get('format')!r})")
    return {tuple(p.get(f, "") for f in KEY_FIELDS): p for p in doc["points"]}


def _key_text(key: tuple) -> str:
    kind, env, precision, backend, num_envs, chunk, variant = key
    parts = [kind, env, precision, backend, f"n={num_envs}" if num_envs else "", f"chunk={chunk}" if chunk else "", variant]
    return " ".join(p for p in parts if p)


def compare(baseline: dict, current: dict, thresholds: dict) -> tuple[list[dict], int]:
    """Findings per (point, metric) and the number of regressions."""
    findings = []
    for key, base in sorted(baseline.items()):
        kind = key[0]
        if key not in current:
            findings.append({"key": key, "metric": "", "status": "missing"})
            continue
        for metric, old in sorted(base["metrics"].items()):
            new = current[key]["metrics"].get(metric)
            if new is None:
                findings.append({"key": key, "metric": metric, "status": "missing"})
                continue
            change = (new - old) / old if old else 0.0
            limit = thresholds[THRESHOLD_OF_KIND[kind]]
            worse = -change if HIGHER_IS_BETTER[kind] else change
            status = "REGRESSION" if worse > limit else ("improved" if worse < -limit else "ok")
            findings.append({"key": key, "metric": metric, "old": old, "new": new, "change": change,
                             "limit": limit, "status": status})
    new_points = [k for k in current if k not in baseline]
    for key in sorted(new_points):
        findings.append({"key": key, "metric": "", "status": "new"})
    return findings, sum(f["status"] == "REGRESSION" for f in findings)


def report(findings: list[dict], thresholds: dict) -> str:
    lines = [f"thresholds: throughput -{thresholds['throughput']:.0%}, memory +{thresholds['memory']:.0%}, "
             f"latency +{thresholds['latency']:.0%}",
             f"{'status':<11} {'point':<62} {'metric':<20} {'baseline':>12} {'current':>12} {'change':>8}"]
    order = {"REGRESSION": 0, "improved": 1, "ok": 2, "missing": 3, "new": 4}
    for f in sorted(findings, key=lambda f: (order[f["status"]], f["key"])):
        if "old" in f:
            lines.append(f"{f['status']:<11} {_key_text(f['key']):<62} {f['metric']:<20} {f['old']:>12.4g} "
                         f"{f['new']:>12.4g} {f['change']:>+8.1%}")
        else:
            what = "in the baseline, not measured now" if f["status"] == "missing" else "not in the baseline"
            lines.append(f"{f['status']:<11} {_key_text(f['key']):<62} {f['metric'] or '-':<20} {what}")
    counts = defaultdict(int)
    for f in findings:
        counts[f["status"]] += 1
    lines.append("summary: " + ", ".join(f"{counts[s]} {s}" for s in order if counts[s]))
    return "\n".join(lines)


def _fraction(text: str) -> float:
    v = float(text)
    if not 0 <= v < 10:
        raise argparse.ArgumentTypeError(f"threshold must be a fraction such as 0.2 (got {text})")
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    action = ap.add_mutually_exclusive_group(required=True)
    action.add_argument("--save-baseline", metavar="OUT.json", help="write a baseline from the CSVs")
    action.add_argument("--compare-baseline", metavar="FILE.json", help="compare the CSVs with a baseline")
    ap.add_argument("csvs", nargs="*", help="result CSVs or directories (default: newest of each kind in --results)")
    ap.add_argument("--results", default="results", help="directory searched when no CSVs are given (default results/)")
    ap.add_argument("--throughput-threshold", type=_fraction, default=0.20, help="allowed throughput drop (0.20)")
    ap.add_argument("--memory-threshold", type=_fraction, default=0.30, help="allowed memory growth (0.30)")
    ap.add_argument("--latency-threshold", type=_fraction, default=0.20, help="allowed latency growth (0.20)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0

    missing = [p for p in args.csvs if not Path(p).exists()]
    if missing:
        print(f"regress.py: error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.csvs:
        files = csv_files(args.csvs)
    elif Path(args.results).is_dir():
        files = latest_files(args.results)
    else:
        print(f"regress.py: error: no CSVs given and no directory {args.results}", file=sys.stderr)
        return 2
    if not files:
        print("regress.py: error: no result CSVs found", file=sys.stderr)
        return 2
    print("files: " + ", ".join(map(str, files)))

    if args.save_baseline:
        return save_baseline(Path(args.save_baseline), files)

    try:
        baseline = load_baseline(Path(args.compare_baseline))
    except (OSError, ValueError, KeyError) as e:
        print(f"regress.py: error: baseline: {e}", file=sys.stderr)
        return 2
    thresholds = {"throughput": args.throughput_threshold, "memory": args.memory_threshold,
                  "latency": args.latency_threshold}
    findings, regressions = compare(baseline, collect(files), thresholds)
    print(report(findings, thresholds))
    if regressions:
        print(f"FAIL: {regressions} regression(s) against {args.compare_baseline}")
        return 1
    print(f"PASS: no regression against {args.compare_baseline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
