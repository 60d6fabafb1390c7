"""Result rows for the Python benchmarks: the citation metadata of design.md and a CSV writer that
appends and flushes one row at a time (an interrupted sweep keeps what it measured)."""

from __future__ import annotations

import csv
import datetime
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    """The model name plus, on x86, the CPUID family and model, as the C++ CLIs write it: VMs often
    report only "AMD EPYC", which hides the generation (family 25 is Zen 3/4, 26 is Zen 5)."""
    try:
        fields = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        name = fields.get("model name")
        if name:
            if "cpu family" in fields and "model" in fields:
                return f"{name} (family {fields['cpu family']} model {fields['model']})"
            return name
    except OSError:
        pass
    return platform.processor() or "unknown"


# Widest vector extension first: the ISA decides what the compilers (ours and XLA's) can use.
_ISA_FLAGS = [("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")]


def cpu_isa() -> str:
    """The widest x86 vector extension this CPU reports (plus FMA), e.g. "AVX-512, FMA"; "" if unknown."""
    try:
        flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), [])
    except OSError:
        return ""
    widest = next((name for flag, name in _ISA_FLAGS if flag in flags), "")
    return ", ".join(filter(None, [widest, "FMA" if "fma" in flags else ""]))


def metadata() -> dict:
    """The columns every row starts with."""
    import simkit

    gpus = [d for d in simkit.devices() if d["kind"] == "cuda"]
    return {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": git_commit(),
        "simkit_version": simkit.__version__,
        "host": platform.node(),
        "cpu_model": cpu_model(),
        "cpu_isa": cpu_isa(),
        "cores": os.cpu_count(),
        "gpu": gpus[0]["name"] if gpus else "",
        "driver": gpus[0]["driver_version"] if gpus else "",
        "cuda_runtime": gpus[0]["runtime_version"] if gpus else "",
    }


def default_path(kind: str, device: str) -> Path:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return ROOT / "results" / f"{kind}_{device}_{stamp}.csv"


class RowWriter:
    """Appends dict rows to a CSV, writing the header first when the file is new."""

    def __init__(self, path: Path | str, columns: list[str]):
        self.path = Path(path)
        self.columns = columns
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if not fresh:
            with open(self.path, newline="") as f:
                header = next(csv.reader(f), [])
            if header != columns:
                raise ValueError(f"{self.path} exists with other columns; choose another --output")
        self._file = open(self.path, "a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=columns)
        if fresh:
            self._writer.writeheader()
            self._file.flush()

    def write(self, row: dict) -> None:
        self._writer.writerow({k: row.get(k, "") for k in self.columns})
        self._file.flush()

    def close(self) -> None:
        self._file.close()
