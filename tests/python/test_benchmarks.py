"""benchmarks/plot.py and benchmarks/regress.py on small committed CSVs and synthetic baselines."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))

import plot  # noqa: E402
import regress  # noqa: E402
from results_csv import classify, read_all  # noqa: E402

PLOTS = ["throughput_scaling", "scaling_efficiency", "memory_scaling", "chunk_sensitivity", "library_comparison"]


def labels(fig):
    return [(ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale(), ax.get_yscale()) for ax in fig.axes]


# ---- plot.py ------------------------------------------------------------------------------------

def test_data_files_are_classified():
    kinds = {p.name.split("_")[0]: classify(p, next(csv.reader(open(p)))) for p in DATA.glob("*.csv")}
    assert kinds == {"throughput": "throughput", "memory": "memory", "compare": "compare"}
    # by columns when the name says nothing
    assert classify("x.csv", ["env", "num_envs", "predicted_bytes", "measured_peak_bytes"]) == "memory"
    assert classify("x.csv", ["library", "mode", "env", "num_envs", "steps_per_s"]) == "compare"
    assert classify("x.csv", ["env", "num_envs", "p50_us", "p99_us"]) == "latency"
    assert classify("x.csv", ["env", "num_envs", "chunk", "steps_per_s"]) == "throughput"


def test_cli_writes_every_plot(tmp_path):
    out = tmp_path / "plots"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "plot.py"), str(DATA), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in PLOTS:
        png = out / f"{name}.png"
        assert png.exists(), r.stdout
        assert png.stat().st_size > 10_000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_have_labelled_log_axes():
    data = read_all([DATA])
    fig = plot.plot_throughput_scaling(data["throughput"])
    assert labels(fig) == [("parallel environments (num_envs)", "throughput (env steps/s)", "log", "log")]
    assert "Throughput scaling" in fig._suptitle.get_text()

    fig = plot.plot_scaling_efficiency(data["throughput"])
    (x0, y0, _, _), (x1, y1, _, _) = labels(fig)
    assert (x0, y0) == ("threads", "throughput (env steps/s)")
    assert x1 == "threads" and y1.startswith("parallel efficiency")
    # efficiency at the fewest threads is 1 by definition
    assert fig.axes[1].lines[0].get_ydata()[0] == pytest.approx(1.0)

    fig = plot.plot_memory_scaling(data["memory"])
    assert labels(fig) == [("parallel environments (num_envs)", "memory (bytes)", "log", "log")]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("predicted" in t for t in legend) and any("measured" in t for t in legend)

    fig = plot.plot_chunk_sensitivity(data["throughput"], data["memory"])
    assert [a.get_ylabel() for a in fig.axes] == ["throughput (env steps/s)", "memory (bytes)"]
    assert all(a.get_xlabel().startswith("chunk") for a in fig.axes)

    fig = plot.plot_library_comparison(data["compare"])
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_ylabel().startswith("throughput (env steps/s")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks[0].startswith("simkit")  # sorted fastest first


def test_absent_data_is_skipped_with_a_note(tmp_path, capsys):
    shutil.copy(DATA / "memory_cpu_20261123T103100Z.csv", tmp_path)
    written = plot.make_plots([tmp_path], tmp_path / "plots")
    assert sorted(p.stem for p in written) == ["chunk_sensitivity", "memory_scaling"]
    out = capsys.readouterr().out
    for name in ("throughput_scaling", "scaling_efficiency", "library_comparison"):
        assert f"skipped {name}: no data" in out


def test_missing_input_is_an_error(tmp_path):
    assert plot.main([str(tmp_path / "nope")]) == 2


# ---- regress.py ---------------------------------------------------------------------------------

def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def synthetic(directory: Path, rate=1e8, peak=3e6, p50=10.0, p99=40.0) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    base = {"env": "CartPole-v1", "precision": "float32", "backend": "cpu", "num_envs": "100000"}
    return [
        write_csv(directory / "throughput_cpu_20260101T000000Z.csv",
                  [dict(base, chunk="32", threads="2", steps_per_s=f"{rate:e}"),
                   dict(base, chunk="32", threads="1", steps_per_s=f"{rate / 2:e}")]),
        write_csv(directory / "memory_cpu_20260101T000000Z.csv",
                  [dict(base, chunk="32", mode="statistics", predicted_bytes="3648576", measured_peak_bytes=f"{peak:.0f}", batches="1"),
                   dict(base, num_envs="1000000000", chunk="32", mode="statistics", predicted_bytes="26001048576",
                        measured_peak_bytes="", batches="0")]),
        write_csv(directory / "latency_cpu_20260101T000000Z.csv",
                  [dict(base, num_envs="1000", library="simkit", p50_us=f"{p50}", p95_us="20", p99_us=f"{p99}")]),
    ]


def run_regress(*args) -> int:
    return regress.main([str(a) for a in args])


def test_baseline_round_trip_passes(tmp_path, capsys):
    files = synthetic(tmp_path / "base")
    baseline = tmp_path / "baseline.json"
    assert run_regress("--save-baseline", baseline, *files) == 0
    doc = json.loads(baseline.read_text())
    kinds = sorted(p["kind"] for p in doc["points"])
    assert kinds == ["latency", "memory", "throughput", "throughput"]  # the refused memory point has no metric
    assert run_regress("--compare-baseline", baseline, *files) == 0
    assert "PASS" in capsys.readouterr().out


def test_changes_within_thresholds_pass(tmp_path):
    baseline = tmp_path / "baseline.json"
    assert run_regress("--save-baseline", baseline, *synthetic(tmp_path / "base")) == 0
    now = synthetic(tmp_path / "now", rate=0.85e8, peak=3.6e6, p50=11.5, p99=46.0)  # -15%, +20%, +15%
    assert run_regress("--compare-baseline", baseline, *now) == 0


@pytest.mark.parametrize("change,metric", [
    ({"rate": 0.7e8}, "steps_per_s"),          # throughput -30%
    ({"peak": 4.2e6}, "measured_peak_bytes"),  # memory +40%
    ({"p99": 50.0}, "p99_us"),                 # latency +25%
])
def test_each_kind_of_regression_fails(tmp_path, capsys, change, metric):
    baseline = tmp_path / "baseline.json"
    assert run_regress("--save-baseline", baseline, *synthetic(tmp_path / "base")) == 0
    capsys.readouterr()
    assert run_regress("--compare-baseline", baseline, *synthetic(tmp_path / "now", **change)) == 1
    out = capsys.readouterr().out
    regressions = [line for line in out.splitlines() if line.startswith("REGRESSION")]
    assert regressions and all(metric in line for line in regressions)  # only the changed kind fails
    assert f"FAIL: {len(regressions)} regression" in out


def test_thresholds_are_configurable(tmp_path):
    baseline = tmp_path / "baseline.json"
    assert run_regress("--save-baseline", baseline, *synthetic(tmp_path / "base")) == 0
    now = synthetic(tmp_path / "now", rate=0.7e8)
    assert run_regress("--compare-baseline", baseline, "--throughput-threshold", "0.35", *now) == 0
    now = synthetic(tmp_path / "now2", peak=3.3e6)  # +10%
    assert run_regress("--compare-baseline", baseline, "--memory-threshold", "0.05", *now) == 1


def test_latest_files_from_results_directory(tmp_path):
    results = tmp_path / "results"
    synthetic(results)
    baseline = tmp_path / "baseline.json"
    assert run_regress("--save-baseline", baseline, "--results", results) == 0
    # a newer throughput file with a slower rate is the one compared
    newer = synthetic(tmp_path / "newer", rate=0.5e8)[0]
    shutil.copy(newer, results / "throughput_cpu_20260102T000000Z.csv")
    assert run_regress("--compare-baseline", baseline, "--results", results) == 1


def test_bad_input_exits_2(tmp_path):
    assert run_regress("--compare-baseline", tmp_path / "missing.json", *synthetic(tmp_path / "d")) == 2
    assert run_regress("--save-baseline", tmp_path / "b.json", tmp_path / "no_such.csv") == 2
    assert run_regress("--compare-baseline") == 2
    assert run_regress("--save-baseline", tmp_path / "b.json", "--memory-threshold", "-1") == 2


# ---- compare.py ---------------------------------------------------------------------------------

def test_compare_one_peer_present_one_missing(tmp_path, monkeypatch, capsys):
    import compare

    monkeypatch.setitem(sys.modules, "envpool", None)  # importing it now fails: the peer is missing
    out = tmp_path / "compare_cpu.csv"
    args = ["--libraries", "gymnasium,envpool", "--num-envs", "16", "--seconds", "0.05", "--output", str(out)]
    assert compare.main(args) == 0
    rows = list(csv.DictReader(open(out)))
    by = {(r["library"], r["mode"]): r for r in rows}
    assert set(by) == {("gymnasium", "serial"), ("gymnasium", "SyncVectorEnv"), ("gymnasium", "numpy vector env"),
                       ("envpool", "sync")}
    for mode in ("serial", "SyncVectorEnv", "numpy vector env"):
        r = by[("gymnasium", mode)]
        assert r["status"] == "ok" and float(r["steps_per_s"]) > 0 and r["git_commit"] and r["cpu_model"]
    missing = by[("envpool", "sync")]
    assert missing["status"] == "missing" and missing["steps_per_s"] == "" and "envpool" in missing["note"]
    text = capsys.readouterr().out
    assert "envpool / sync, CartPole-v1, 16 envs: missing" in text
    # resume keeps the measured points and only retries the missing one
    assert compare.main(args + ["--resume"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 5 and [r["library"] for r in rows[4:]] == ["envpool"]
    # the plot reads compare files and leaves out rows without a number
    fig = plot.plot_library_comparison(read_all([out])["compare"])
    assert len(fig.axes[0].patches) == 3


def test_compare_bad_input_exits_2():
    import compare

    assert compare.main(["--libraries", "nosuchlib"]) == 2
    assert compare.main(["--num-envs", "0"]) == 2
