"""benchmarks/plot.py and benchmarks/regress.py on small committed CSVs and synthetic baselines."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
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


def test_library_comparison_over_many_env_counts_draws_lines():
    rows = [{"library": lib, "mode": mode, "api": api, "env": "CartPole-v1", "num_envs": str(n),
             "steps_per_s": str(rate * n), "cpu_model": "test CPU"}
            for lib, mode, api, rate in [("simkit", "rollout", "throughput", 10.0), ("gymnax", "scan", "throughput", 1.0),
                                         ("simkit", "env.step", "step API", 5.0), ("envpool", "sync", "step API", 2.0)]
            for n in (1, 100, 10_000)]
    fig = plot.plot_library_comparison(rows)
    assert [ax.get_title() for ax in fig.axes] == ["CartPole-v1 step API", "CartPole-v1 throughput"]
    for ax in fig.axes:
        assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
        labels = [line.get_label() for line in ax.lines]
        assert len(labels) == 2 and labels[0].startswith("simkit")
        assert list(ax.lines[0].get_xdata()) == [1, 100, 10_000]


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


# ---- compare.py, its worker and the peer venvs ---------------------------------------------------

sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
import compare  # noqa: E402
import qlearn_compare  # noqa: E402
import setup_venvs  # noqa: E402
import worker  # noqa: E402

# A stand-in for benchmarks/peers/worker.py: prints the JSON line a worker would, with a rate per
# library, or hangs for "hangpeer" (to hit --timeout), or dies without a line for "crashpeer".
FAKE_WORKER = """
import json, sys, time
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
lib, n = args["--library"], int(args["--num-envs"])
if lib == "hangpeer":
    time.sleep(60)
if lib == "crashpeer":
    sys.exit("Segmentation fault (pretend)")
rate = {"simkit": 4e6, "fakepeer": 1e6}[lib]
print("some library chatter on stdout")
print(json.dumps({"status": "ok", "library": lib, "mode": args["--mode"], "num_envs": n, "library_version": "9.9", "device": "cpu", "batch_steps": 10, "env_steps": 10 * n,
                  "seconds": 0.01, "steps_per_s": rate, "setup_seconds": 0.0, "note": "fake " + args["--mode"]}))
"""


def fake_measurement(library, api="throughput", venv=None):
    return worker.Measurement(library, "fast", api, venv, {"CartPole-v1": "CartPole-v1"}, library, None)


@pytest.fixture
def fake_peers(tmp_path, monkeypatch):
    """simkit (main venv), fakepeer (an installed venv), absentpeer (never installed), hangpeer."""
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    monkeypatch.setattr(compare, "WORKER", script)
    monkeypatch.setattr(worker, "MEASUREMENTS", [fake_measurement("simkit"), fake_measurement("fakepeer", venv="fakepeer"),
                                                 fake_measurement("absentpeer", venv="absentpeer"),
                                                 fake_measurement("hangpeer"), fake_measurement("crashpeer")])
    cache = tmp_path / "peers"
    (cache / "fakepeer" / "venv" / "bin").mkdir(parents=True)
    (cache / "fakepeer" / "venv" / "bin" / "python").symlink_to(sys.executable)
    (cache / "fakepeer" / "status.json").write_text(json.dumps(
        {"peer": "fakepeer", "status": "ok", "python": str(cache / "fakepeer" / "venv" / "bin" / "python")}))
    return cache


def read_rows(path):
    return list(csv.DictReader(open(path)))


def test_compare_one_fake_peer_present_one_missing(tmp_path, fake_peers, capsys):
    out = tmp_path / "compare_cpu.csv"
    args = ["--libraries", "simkit,fakepeer,absentpeer", "--num-envs", "1,1e3", "--repeat", "2", "--seconds", "0.01",
            "--cache-dir", str(fake_peers), "--output", str(out), "--env", "CartPole-v1"]
    assert compare.main(args) == 0
    rows = read_rows(out)
    # interleaved: per env count, each library once per round
    assert [(r["num_envs"], r["repeat"], r["library"]) for r in rows][:6] == [
        ("1", "0", "simkit"), ("1", "0", "fakepeer"), ("1", "0", "absentpeer"),
        ("1", "1", "simkit"), ("1", "1", "fakepeer"), ("1", "1", "absentpeer")]
    assert len(rows) == 12
    ok = [r for r in rows if r["library"] != "absentpeer"]
    assert all(r["status"] == "ok" and r["library_version"] == "9.9" and r["git_commit"] and r["cpu_model"]
               and r["cpu_isa"] for r in ok)
    assert {float(r["steps_per_s"]) for r in ok if r["library"] == "fakepeer"} == {1e6}
    missing = [r for r in rows if r["library"] == "absentpeer"]
    assert all(r["status"] == "missing" and r["steps_per_s"] == "" and "setup_venvs.py --peers absentpeer" in r["note"]
               for r in missing)
    text = capsys.readouterr().out
    assert "absentpeer / fast, CartPole-v1, 1,000 envs, round 2: missing" in text
    assert "CartPole-v1, throughput: env steps/s" in text and "(4x)" in text  # simkit 4e6 / fakepeer 1e6
    # --resume measures only what is missing: the absent peer's 4 points
    assert compare.main(args + ["--resume"]) == 0
    rows = read_rows(out)
    assert len(rows) == 16 and {r["library"] for r in rows[12:]} == {"absentpeer"}
    # the library-comparison plot reads these rows and leaves out the ones without a number
    fig = plot.plot_library_comparison(read_all([out])["compare"])
    assert [len(ax.patches) for ax in fig.axes] == [2, 2]


def test_compare_bounds_each_worker_by_time(tmp_path, fake_peers, capsys):
    out = tmp_path / "compare_cpu.csv"
    start = time.perf_counter()
    assert compare.main(["--libraries", "hangpeer,crashpeer,simkit", "--num-envs", "10", "--repeat", "1",
                         "--seconds", "0.01", "--timeout", "1", "--cache-dir", str(fake_peers), "--output", str(out),
                         "--env", "CartPole-v1"]) == 0
    assert time.perf_counter() - start < 20
    by = {r["library"]: r for r in read_rows(out)}
    assert by["hangpeer"]["status"] == "timeout" and "--timeout 1 s" in by["hangpeer"]["note"]
    assert by["crashpeer"]["status"] == "failed" and "Segmentation fault (pretend)" in by["crashpeer"]["note"]
    assert by["simkit"]["status"] == "ok"  # the sweep went on


def test_compare_plan_and_estimate():
    points = compare.plan(["CartPole-v1", "GeneCircuit-v0"], [1, 100], ["simkit", "myriad", "gymnax"], 2)
    gene = [p for p in points if p["env"] == "GeneCircuit-v0"]
    assert {p["measurement"].library for p in gene} == {"simkit", "myriad"}  # only the peers that have it
    cart = [(p["num_envs"], p["repeat"], p["measurement"].library) for p in points if p["env"] == "CartPole-v1"]
    assert cart[:6] == [(1, 0, "simkit"), (1, 0, "simkit"), (1, 0, "gymnax"), (1, 0, "gymnax"),
                        (1, 0, "myriad"), (1, 0, "myriad")]
    assert compare.estimate_seconds(points, 2.0) > 2.0 * len(points)


def test_compare_dry_run_prints_the_duration(capsys):
    assert compare.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "points to measure" in out and "estimated" in out


def test_compare_bad_input_exits_2(capsys):
    assert compare.main(["--libraries", "nosuchlib"]) == 2
    assert "nosuchlib" in capsys.readouterr().err
    assert compare.main(["--num-envs", "0"]) == 2
    assert compare.main(["--num-envs", "1.5"]) == 2
    assert compare.main(["--seconds", "0"]) == 2


def test_worker_protocol_is_one_json_line():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "peers" / "worker.py"), "--library", "gymnasium",
                        "--mode", "numpy vector env", "--num-envs", "16", "--seconds", "0.02"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout.strip().splitlines()[-1])
    assert row["status"] == "ok" and row["api"] == "step API" and row["num_envs"] == 16
    assert row["env_steps"] == 16 * row["batch_steps"] and row["seconds"] >= 0.02
    assert row["steps_per_s"] == pytest.approx(row["env_steps"] / row["seconds"])
    assert row["library_version"] == "1.4.0"


def test_worker_reports_what_it_cannot_run(monkeypatch):
    monkeypatch.setitem(sys.modules, "envpool", None)  # importing it now fails
    assert worker.measure("envpool", "sync", "CartPole-v1", 4, 0.01, 32, 0)["status"] == "missing"
    row = worker.measure("gymnasium", "serial", "GeneCircuit-v0", 4, 0.01, 32, 0)
    assert row["status"] == "skipped" and "no GeneCircuit-v0" in row["note"]
    row = worker.measure("gymnasium", "serial", "CartPole-v1", worker.PYTHON_ENV_CAP + 1, 0.01, 32, 0)
    assert row["status"] == "skipped" and "not run above" in row["note"]
    with pytest.raises(SystemExit):
        worker.main(["--library", "gymnasium", "--mode", "nosuchmode", "--num-envs", "4"])


def test_every_measurement_has_a_known_api_and_venv():
    assert {m.api for m in worker.MEASUREMENTS} == {"throughput", "step API"}
    assert {m.venv for m in worker.MEASUREMENTS} - {None} <= set(setup_venvs.PEERS)
    assert all(m.run is not None and "CartPole-v1" in m.envs for m in worker.MEASUREMENTS)


def test_setup_venvs_reports_a_failed_peer_and_goes_on(tmp_path, monkeypatch, capsys):
    impossible = setup_venvs.Peer("future", [], setup_venvs.install_envpool, "pass", min_python=(9, 9))
    monkeypatch.setitem(setup_venvs.PEERS, "future", impossible)
    assert setup_venvs.main(["--peers", "future", "--cache-dir", str(tmp_path)]) == 0
    assert "future: FAILED: needs Python >= 9.9" in capsys.readouterr().out
    status = setup_venvs.read_status(tmp_path, "future")
    assert status["status"] == "failed" and "9.9" in status["error"]
    assert setup_venvs.read_status(tmp_path, "never")["status"] == "missing"
    with pytest.raises(SystemExit):
        setup_venvs.main(["--peers", "nosuchpeer", "--cache-dir", str(tmp_path)])


def test_pip_errors_are_summarised():
    out = "Collecting x\nERROR: Could not find a version that satisfies the requirement x==9\nERROR: No matching distribution\n"
    assert setup_venvs.error_summary(out, 1) == ("ERROR: Could not find a version that satisfies the requirement x==9"
                                                 " | ERROR: No matching distribution")
    assert setup_venvs.error_summary("", 3) == "exit code 3, no output"


# ---- qlearn_compare.py --------------------------------------------------------------------------

def test_qlearn_compare_without_the_peer_still_measures_simkit(tmp_path, capsys):
    out = tmp_path / "qlearn_compare.csv"
    assert qlearn_compare.main(["--num-envs", "16", "--threads", "1,2", "--seconds", "0.05", "--mpi-ranks", "",
                                "--cache-dir", str(tmp_path / "no_peers"), "--output", str(out)]) == 0
    rows = read_rows(out)
    assert [(r["library"], r["threads"]) for r in rows] == [("dist_classicrl", "1"), ("simkit", "1"),
                                                             ("dist_classicrl", "2"), ("simkit", "2")]
    peer = rows[0]
    assert peer["status"] == "missing" and "setup_venvs.py --peers dist_classicrl" in peer["note"]
    for r in rows[1::2]:
        assert r["status"] == "ok" and float(r["seconds"]) >= 0.05 and int(r["repeats"]) >= 1
        assert int(r["env_steps"]) == int(r["repeats"]) * int(r["work_env_steps"])
    assert "dist_classicrl      16 envs 1 thread(s)            missing" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("mpirun") is None or not qlearn_compare.QLEARN.exists(), reason="no mpirun or qlearn")
def test_qlearn_compare_mpi_rows_measure_simkit_over_ranks(tmp_path, monkeypatch):
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "1")
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    out = tmp_path / "qlearn_compare.csv"
    assert qlearn_compare.main(["--num-envs", "16", "--threads", "1", "--seconds", "0.01", "--mpi-ranks", "2",
                                "--mpi-work", "320", "--cache-dir", str(tmp_path / "no_peers"),
                                "--output", str(out)]) == 0
    mpi = [r for r in read_rows(out) if r["ranks"] == "2"]
    assert [r["library"] for r in mpi] == ["dist_classicrl", "simkit"]
    assert mpi[0]["status"] == "missing"
    assert mpi[1]["status"] == "ok" and int(mpi[1]["env_steps"]) == 320 and float(mpi[1]["steps_per_s"]) > 0
