"""Reading the result CSVs of every benchmark (throughput, memory-profile, compare, latency/step API):
which kind a file is, its rows with numbers parsed, and the latest file of each kind."""

from __future__ import annotations

import csv
import re
from pathlib import Path

KINDS = ("throughput", "memory", "compare", "latency")

# File name prefixes (results/<kind>_<device>_<timestamp>.csv) and the kind they hold.
_PREFIXES = {
    "throughput": "throughput",
    "memory": "memory",
    "memory-profile": "memory",
    "memory_profile": "memory",
    "compare": "compare",
    "comparison": "compare",
    "latency": "latency",
    "step_api": "latency",
}

_LATENCY_COLUMN = re.compile(r"(^|_)p(50|95|99)($|_)")


def latency_columns(columns) -> list[str]:
    """Columns holding latency percentiles (p50_us, us_per_step_p95, ...)."""
    return [c for c in columns if _LATENCY_COLUMN.search(c)]


def classify(path: Path | str, columns) -> str | None:
    """The kind of a result file, from its name and, failing that, its columns; None if unknown."""
    name = Path(path).name
    for prefix, kind in sorted(_PREFIXES.items(), key=lambda kv: -len(kv[0])):
        if name.startswith(prefix + "_"):
            return kind
    cols = set(columns)
    if {"predicted_bytes", "measured_peak_bytes"} <= cols:
        return "memory"
    if latency_columns(cols):
        return "latency"
    if {"library", "mode", "steps_per_s"} <= cols:
        return "compare"
    if {"steps_per_s", "num_envs"} <= cols:
        return "throughput"
    return None


def number(value):
    """A float for numeric text, None for empty or non-numeric cells."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_csv(path: Path | str) -> tuple[str | None, list[dict]]:
    """(kind, rows) of one result file; every row also carries `_file` and `_kind`."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = [dict(r) for r in reader]
        columns = reader.fieldnames or []
    kind = classify(path, columns)
    for r in rows:
        r["_file"] = str(path)
        r["_kind"] = kind
    return kind, rows


def csv_files(paths) -> list[Path]:
    """Every *.csv under the given files and directories (recursively), sorted."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.csv")))
        elif p.suffix == ".csv":
            out.append(p)
    return sorted(set(out))


def read_all(paths) -> dict[str, list[dict]]:
    """Rows by kind from every CSV under `paths`; files of unknown kind are skipped."""
    by_kind: dict[str, list[dict]] = {k: [] for k in KINDS}
    for path in csv_files(paths):
        kind, rows = read_csv(path)
        if kind is not None:
            by_kind[kind].extend(rows)
    return by_kind


_STAMP = re.compile(r"(\d{8}T\d{6}Z?)")


def latest_files(directory: Path | str) -> list[Path]:
    """The newest CSV of each (kind, device) in `directory`, by the timestamp in its name (else mtime)."""
    newest: dict[tuple, tuple] = {}
    for path in csv_files([directory]):
        kind, _ = read_csv(path)
        if kind is None:
            continue
        stem = path.stem
        m = _STAMP.search(stem)
        stamp = m.group(1) if m else ""
        rest = stem[: m.start()].rstrip("_") if m else stem
        prefix = next((p for p in sorted(_PREFIXES, key=len, reverse=True) if rest.startswith(p + "_")), "")
        device = rest[len(prefix) + 1:] if prefix else rest
        order = (stamp, path.stat().st_mtime)
        key = (kind, device)
        if key not in newest or order > newest[key][0]:
            newest[key] = (order, path)
    return sorted(p for _, p in newest.values())
