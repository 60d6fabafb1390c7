"""Plots of the benchmark results: `python benchmarks/plot.py results/ [--out results/plots]`.

Reads every CSV under the given paths (throughput, memory-profile, compare and latency files, told
apart by file-name prefix or columns) and writes:

  throughput_scaling.png   steps/s vs num_envs (log-log), per env, device and precision
  scaling_efficiency.png   steps/s vs threads, and efficiency = rate / (threads x rate at 1 thread)
  memory_scaling.png       bytes vs num_envs (log-log), planner prediction and measured peak
  chunk_sensitivity.png    steps/s vs chunk and bytes vs chunk
  library_comparison.png   steps/s per library and mode (bars, log scale)

A plot whose data is absent is skipped with a printed note. Each plot_* function returns the
matplotlib Figure (or None), so tests can inspect axes and labels.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_csv import number, read_all  # noqa: E402


def _backend(row: dict) -> str:
    return row.get("backend") or row.get("device") or "?"


def _label(*parts) -> str:
    return " ".join(str(p) for p in parts if p not in (None, ""))


def _machine_note(rows: list[dict]) -> str:
    """The machine(s) behind the rows, for the figure footer."""
    cpus = sorted({r.get("cpu_model", "") for r in rows if r.get("cpu_model")})
    devices = sorted({r.get("device", "") for r in rows if r.get("backend") == "cuda" and r.get("device")})
    commits = sorted({r.get("git_commit", "") for r in rows if r.get("git_commit")})
    parts = []
    if cpus:
        parts.append("CPU: " + "; ".join(cpus))
    if devices:
        parts.append("GPU: " + "; ".join(devices))
    if commits:
        parts.append("commit " + ", ".join(c[:12] for c in commits[:3]) + (" ..." if len(commits) > 3 else ""))
    return " | ".join(parts)


def _finish(fig, rows, title):
    fig.suptitle(title)
    note = _machine_note(rows)
    if note:
        fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _median_by(rows, key_fn, value_col):
    """{key: median of value_col} over rows with a numeric value."""
    groups = defaultdict(list)
    for r in rows:
        v = number(r.get(value_col))
        if v is not None:
            groups[key_fn(r)].append(v)
    return {k: statistics.median(v) for k, v in groups.items()}


def plot_throughput_scaling(rows: list[dict]):
    """steps/s vs num_envs, one line per (env, backend, precision); at each num_envs the best chunk and
    the most threads measured."""
    rows = [r for r in rows if number(r.get("steps_per_s")) and number(r.get("num_envs"))]
    if not rows:
        return None
    max_threads = defaultdict(float)
    for r in rows:
        g = (r.get("env"), _backend(r), r.get("precision"))
        max_threads[g] = max(max_threads[g], number(r.get("threads")) or 0)
    series = defaultdict(dict)
    for r in rows:
        g = (r.get("env"), _backend(r), r.get("precision"))
        if (number(r.get("threads")) or 0) != max_threads[g]:
            continue
        n = number(r["num_envs"])
        series[g][n] = max(series[g].get(n, 0), number(r["steps_per_s"]))
    series = {g: pts for g, pts in series.items() if len(pts) >= 1}
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for (env, backend, precision), pts in sorted(series.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        xs = sorted(pts)
        threads = max_threads[(env, backend, precision)]
        extra = f"{int(threads)} thread{'s' if threads != 1 else ''}" if backend == "cpu" and threads else ""
        ax.plot(xs, [pts[x] for x in xs], marker="o", label=_label(env, backend, precision, extra))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parallel environments (num_envs)")
    ax.set_ylabel("throughput (env steps/s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, rows, "Throughput scaling: env steps/s vs num_envs (best chunk)")


def plot_agent_scaling(rows: list[dict]):
    """Multi-agent envs: agent steps/s vs agents per env (num_agents), one line per (env, backend,
    num_envs); the best chunk at each point."""
    rows = [r for r in rows if (number(r.get("num_agents")) or 1) > 1 and number(r.get("agent_steps_per_s"))]
    if not rows:
        return None
    series = defaultdict(dict)
    for r in rows:
        g = (r.get("env"), _backend(r), int(number(r["num_envs"])))
        n = number(r["num_agents"])
        series[g][n] = max(series[g].get(n, 0), number(r["agent_steps_per_s"]))
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for (env, backend, envs), pts in sorted(series.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        xs = sorted(pts)
        ax.plot(xs, [pts[x] for x in xs], marker="o", label=_label(env, backend, f"{envs:g} envs"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("agents per env (num_agents)")
    ax.set_ylabel("throughput (agent steps/s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, rows, "Multi-agent scaling: agent steps/s vs agents per env (statistics only)")


def plot_scaling_efficiency(rows: list[dict]):
    """steps/s vs threads and parallel efficiency, per (env, backend, precision, num_envs) measured at
    two or more thread counts."""
    rows = [r for r in rows if number(r.get("steps_per_s")) and number(r.get("threads"))]
    best = defaultdict(dict)
    for r in rows:
        g = (r.get("env"), _backend(r), r.get("precision"), int(number(r.get("num_envs")) or 0))
        t = int(number(r["threads"]))
        best[g][t] = max(best[g].get(t, 0), number(r["steps_per_s"]))
    series = {g: pts for g, pts in best.items() if len(pts) >= 2}
    if not series:
        return None
    fig, (ax_rate, ax_eff) = plt.subplots(1, 2, figsize=(11, 4.5))
    for (env, backend, precision, n), pts in sorted(series.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        ts = sorted(pts)
        t0 = ts[0]
        per_thread = pts[t0] / t0  # the rate of one thread (from the fewest threads measured)
        label = _label(env, backend, precision, f"{n:,} envs")
        ax_rate.plot(ts, [pts[t] for t in ts], marker="o", label=label)
        ax_eff.plot(ts, [pts[t] / (t * per_thread) for t in ts], marker="o", label=label)
    all_t = sorted({t for pts in series.values() for t in pts})
    ideal_ref = [(g, pts) for g, pts in series.items()]
    if len(ideal_ref) == 1:
        (_, pts), = ideal_ref
        t0 = min(pts)
        ax_rate.plot(all_t, [pts[t0] / t0 * t for t in all_t], ls="--", color="0.5", label="linear scaling")
    ax_rate.set_xlabel("threads")
    ax_rate.set_ylabel("throughput (env steps/s)")
    ax_rate.set_title("Throughput vs threads")
    ax_eff.axhline(1.0, ls="--", color="0.5")
    ax_eff.set_xlabel("threads")
    ax_eff.set_ylabel("parallel efficiency (rate / (threads x rate at 1 thread))")
    ax_eff.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax_eff.set_ylim(0, max(1.1, ax_eff.get_ylim()[1]))
    ax_eff.set_title("Parallel efficiency")
    for ax in (ax_rate, ax_eff):
        ax.set_xticks(all_t)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, rows, "Scaling efficiency over CPU threads")


def plot_memory_scaling(rows: list[dict]):
    """Predicted and measured bytes vs num_envs, per (env, backend, precision, mode, chunk)."""
    rows = [r for r in rows if number(r.get("num_envs")) and number(r.get("predicted_bytes"))]
    rows = [r for r in rows if r.get("profile", "envs") in ("envs", "")] or rows
    groups = defaultdict(list)
    for r in rows:
        groups[(r.get("env"), _backend(r), r.get("precision"), r.get("mode"), r.get("chunk"))].append(r)
    groups = {g: rs for g, rs in groups.items() if len({r["num_envs"] for r in rs}) >= 2}
    if not groups:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, (g, rs) in enumerate(sorted(groups.items())):
        env, backend, precision, mode, chunk = g
        color = f"C{i % 10}"
        label = _label(env, backend, precision, mode, f"chunk {chunk}" if mode == "trajectory" else "")
        pred = _median_by(rs, lambda r: number(r["num_envs"]), "predicted_bytes")
        meas = _median_by(rs, lambda r: number(r["num_envs"]), "measured_peak_bytes")
        xs = sorted(pred)
        ax.plot(xs, [pred[x] for x in xs], ls="--", color=color, label=label + " (predicted)")
        if meas:
            xm = sorted(meas)
            ax.plot(xm, [meas[x] for x in xm], marker="o", ls="-", color=color, label=label + " (measured peak)")
        refused = [number(r["num_envs"]) for r in rs if r.get("batches") == "0"]
        if refused:
            free = sorted({number(r.get("free_bytes")) or 0 for r in rs if r.get("batches") == "0"})
            at = f" at {free[0] / 1e9:.3g} GB free" if len(free) == 1 and free[0] else ""
            ax.scatter(refused, [pred[x] for x in refused], marker="x", color=color, s=60, zorder=3,
                       label=label + f" (refused by planner{at})")
        split = sorted({number(r["num_envs"]) for r in rs if (number(r.get("batches")) or 0) > 1})
        for x in split[:1]:
            ax.axvline(x, color=color, ls=":", alpha=0.7)
            ax.annotate("splits into batches", (x, ax.get_ylim()[0]), rotation=90, fontsize=7, color=color,
                        va="bottom", ha="right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parallel environments (num_envs)")
    ax.set_ylabel("memory (bytes)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return _finish(fig, rows, "Memory scaling: planner prediction vs measured peak")


def plot_chunk_sensitivity(throughput_rows: list[dict], memory_rows: list[dict]):
    """steps/s vs chunk (throughput files) and bytes vs chunk (memory-profile files)."""
    rate = defaultdict(dict)
    for r in throughput_rows:
        v, c = number(r.get("steps_per_s")), number(r.get("chunk"))
        if v and c:
            g = (r.get("env"), _backend(r), r.get("precision"), int(number(r.get("num_envs")) or 0),
                 int(number(r.get("threads")) or 0))
            rate[g][c] = max(rate[g].get(c, 0), v)
    rate = {g: pts for g, pts in rate.items() if len(pts) >= 2}
    mem = defaultdict(list)
    for r in memory_rows:
        if number(r.get("chunk")) and number(r.get("predicted_bytes")):
            mem[(r.get("env"), _backend(r), r.get("precision"), r.get("mode"), int(number(r.get("num_envs")) or 0))].append(r)
    mem = {g: rs for g, rs in mem.items() if len({r["chunk"] for r in rs}) >= 2}
    if not rate and not mem:
        return None
    fig, (ax_rate, ax_mem) = plt.subplots(1, 2, figsize=(11, 4.5))
    for (env, backend, precision, n, threads), pts in sorted(rate.items()):
        xs = sorted(pts)
        extra = f"{threads} thread{'s' if threads != 1 else ''}" if backend == "cpu" and threads else ""
        ax_rate.plot(xs, [pts[x] for x in xs], marker="o", label=_label(env, backend, precision, f"{n:,} envs", extra))
    if not rate:
        ax_rate.text(0.5, 0.5, "no throughput data with 2+ chunk sizes", ha="center", va="center",
                     transform=ax_rate.transAxes)
    for i, (g, rs) in enumerate(sorted(mem.items())):
        env, backend, precision, mode, n = g
        color = f"C{i % 10}"
        label = _label(env, backend, precision, mode, f"{n:,} envs")
        pred = _median_by(rs, lambda r: number(r["chunk"]), "predicted_bytes")
        meas = _median_by(rs, lambda r: number(r["chunk"]), "measured_peak_bytes")
        xs = sorted(pred)
        ax_mem.plot(xs, [pred[x] for x in xs], ls="--", color=color, label=label + " (predicted)")
        if meas:
            xm = sorted(meas)
            ax_mem.plot(xm, [meas[x] for x in xm], marker="o", color=color, label=label + " (measured peak)")
    if not mem:
        ax_mem.text(0.5, 0.5, "no memory-profile data with 2+ chunk sizes", ha="center", va="center",
                    transform=ax_mem.transAxes)
    ax_rate.set_title("Throughput vs chunk")
    ax_rate.set_xlabel("chunk (steps per kernel launch / tile visit)")
    ax_rate.set_ylabel("throughput (env steps/s)")
    ax_mem.set_title("Memory vs chunk")
    ax_mem.set_xlabel("chunk (steps per kernel launch / tile visit)")
    ax_mem.set_ylabel("memory (bytes)")
    for ax, has in ((ax_rate, rate), (ax_mem, mem)):
        if has:
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
    return _finish(fig, throughput_rows + memory_rows, "Chunk sensitivity: throughput and memory vs chunk size")


def plot_library_comparison(rows: list[dict]):
    """Bars of steps/s per (library, mode), one panel per (env, num_envs), log scale; with 3 or more env
    counts, lines over num_envs instead, one panel per (env, api)."""
    rows = [r for r in rows if number(r.get("steps_per_s")) and r.get("library")]
    if not rows:
        return None
    if len({number(r.get("num_envs")) for r in rows}) >= 3:
        return _plot_library_scaling(rows)
    panels = defaultdict(list)
    for r in rows:
        panels[(r.get("env", ""), int(number(r.get("num_envs")) or 0))].append(r)
    fig, axes = plt.subplots(1, len(panels), figsize=(max(6.0, 4.8 * len(panels)), 5), squeeze=False)
    for ax, ((env, n), rs) in zip(axes[0], sorted(panels.items())):
        vals = _median_by(rs, lambda r: _label(r["library"], r.get("mode", "")), "steps_per_s")
        labels = sorted(vals, key=lambda k: -vals[k])
        bars = ax.bar(range(len(labels)), [vals[k] for k in labels], color=[
            "C3" if k.startswith("simkit") else "C0" for k in labels])
        for b, k in zip(bars, labels):
            ax.annotate(f"{vals[k]:.3g}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                        va="bottom", fontsize=7)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("throughput (env steps/s, log scale)")
        ax.set_title(f"{env}, {n:,} envs")
        ax.grid(True, axis="y", which="both", alpha=0.3)
    return _finish(fig, rows, "Library comparison: env steps/s on one machine")


def _plot_library_scaling(rows: list[dict]):
    panels = defaultdict(list)
    for r in rows:
        panels[(r.get("env", ""), r.get("api", ""))].append(r)
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5.5), squeeze=False)
    for ax, ((env, api), rs) in zip(axes[0], sorted(panels.items())):
        medians = _median_by(rs, lambda r: (_label(r["library"], r.get("mode", "")), number(r["num_envs"])),
                             "steps_per_s")
        for label in sorted({k[0] for k in medians}, key=lambda k: (not k.startswith("simkit"), k)):
            xs = sorted(n for name, n in medians if name == label)
            style = {"color": "C3", "linewidth": 2.5} if label.startswith("simkit") else {}
            ax.plot(xs, [medians[(label, x)] for x in xs], marker="o", label=label, **style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("parallel environments (num_envs)")
        ax.set_ylabel("throughput (env steps/s, log scale)")
        ax.set_title(_label(env, api))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    return _finish(fig, rows, "Library comparison: env steps/s on one machine (median of rounds)")


def make_plots(paths, out_dir) -> list[Path]:
    """Writes every plot that has data; returns the files written."""
    data = read_all(paths)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {
        "throughput_scaling": (plot_throughput_scaling(data["throughput"]), "throughput CSVs"),
        "scaling_efficiency": (plot_scaling_efficiency(data["throughput"]), "throughput CSVs with 2+ thread counts"),
        "agent_scaling": (plot_agent_scaling(data["throughput"]), "throughput CSVs of a multi-agent env"),
        "memory_scaling": (plot_memory_scaling(data["memory"]), "memory-profile CSVs with 2+ num_envs"),
        "chunk_sensitivity": (plot_chunk_sensitivity(data["throughput"], data["memory"]), "CSVs with 2+ chunk sizes"),
        "library_comparison": (plot_library_comparison(data["compare"]), "compare CSVs"),
    }
    written = []
    for name, (fig, needs) in figures.items():
        if fig is None:
            print(f"skipped {name}: no data (needs {needs})")
            continue
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        print(f"wrote {path}")
        written.append(path)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*", default=["results"], help="CSV files or directories (default: results/)")
    ap.add_argument("--out", default=None, help="output directory (default: <first directory>/plots)")
    args = ap.parse_args(argv)
    missing = [p for p in args.inputs if not Path(p).exists()]
    if missing:
        print(f"plot.py: error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    first_dir = next((Path(p) for p in args.inputs if Path(p).is_dir()), Path("results"))
    out = Path(args.out) if args.out else first_dir / "plots"
    written = make_plots(args.inputs, out)
    if not written:
        print("plot.py: no plottable data found", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
