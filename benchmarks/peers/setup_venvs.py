"""One virtual environment per peer library, installed from PyPI by name, for benchmarks/compare.py.

    python benchmarks/peers/setup_venvs.py [--peers gymnax,envpool,...] [--cache-dir .peers] [--force]

Each peer gets <cache-dir>/<peer>/venv (default cache dir: .peers/ at the repository root, gitignored),
an install log (install.log) and status.json: "ok" with the installed versions, or "failed" with the
pip (or build) error. A peer that fails is reported and skipped by compare.py; this script never
stops at the first failure. A peer already "ok" is kept unless --force.

Why separate venvs: the peers pin versions that cannot live together (gymnax declares gymnasium<1.4,
PufferLib 3.0 numpy<2 and gymnasium 0.29, Myriad jaxlib 0.7.2, dist-classicrl Python >= 3.13).

  gymnax          gymnax 1.0.1 with --no-deps, then what it imports at run time (jax[cpu], flax,
                  matplotlib, seaborn, six, gymnasium) without its gymnasium<1.4 pin
  envpool         envpool 1.2.x (a manylinux wheel)
  pufferlib       PufferLib 3.0.0 has no wheel and its setup.py imports torch and downloads raylib and
                  box2d from GitHub, so pip cannot even read its metadata here. The sdist is fetched
                  from PyPI's simple index (sha256 checked), and only the CartPole C binding
                  (pufferlib/ocean/cartpole/binding.c, linked against the raylib the sdist bundles) is
                  compiled; numpy<2, gymnasium 0.29.1 and gym 0.23.1 as PufferLib pins them
  myriad          myriad-jax 0.2.x with its own pins (jaxlib 0.7.2)
  dist_classicrl  dist-classicrl needs Python >= 3.13 (found on PATH or under ~/.pyenv, or --python313)
                  and an MPI library for mpi4py (Debian: openmpi-bin libopenmpi-dev)

Gymnasium itself and simkit run in the main .venv (requirements-dev.txt), not here.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / ".peers"
PIP_TIMEOUT_S = 1800  # one pip command; jax and flax wheels are large


class InstallError(Exception):
    """A step of a peer's install failed; the message is the error to report."""


@dataclass
class Peer:
    name: str
    dists: list[str]  # distributions whose versions status.json records
    install: Callable[[Path, Path, "Log"], None]  # (venv python, peer dir, log)
    check: str  # Python run in the venv (cwd: the peer dir) that must succeed for "ok"
    min_python: tuple[int, int] = (3, 10)
    notes: list[str] = field(default_factory=list)


class Log:
    """Appends every command and its output to install.log."""

    def __init__(self, path: Path):
        self.path = path
        path.write_text("")

    def write(self, text: str) -> None:
        with open(self.path, "a") as f:
            f.write(text if text.endswith("\n") else text + "\n")

    def run(self, cmd: list[str], cwd: Path | None = None, timeout: float = PIP_TIMEOUT_S) -> str:
        self.write(f"$ {' '.join(map(str, cmd))}")
        try:
            proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise InstallError(f"timed out after {timeout:.0f} s: {' '.join(map(str, cmd[:6]))}") from None
        self.write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise InstallError(error_summary(proc.stdout + proc.stderr, proc.returncode))
        return proc.stdout


def error_summary(output: str, returncode: int) -> str:
    """The lines a reader needs: pip's ERROR lines, else the last non-empty line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "error:", "ModuleNotFoundError", "ImportError"))]
    picked = errors[-3:] if errors else lines[-1:]
    return " | ".join(picked)[:500] or f"exit code {returncode}, no output"


def pip(py: Path, log: Log, *args: str) -> None:
    log.run([py, "-m", "pip", "install", "--disable-pip-version-check", *args])


# ---- the peers -------------------------------------------------------------------------------------

def install_gymnax(py: Path, peer_dir: Path, log: Log) -> None:
    pip(py, log, "--no-deps", "gymnax==1.0.1")
    # gymnax/__init__ imports every env module: bsuite/misc envs need matplotlib, seaborn, six.
    pip(py, log, "jax[cpu]>=0.6,<0.12", "flax", "matplotlib", "seaborn", "six", "gymnasium")


def install_envpool(py: Path, peer_dir: Path, log: Log) -> None:
    pip(py, log, "envpool==1.2.*")


def install_myriad(py: Path, peer_dir: Path, log: Log) -> None:
    pip(py, log, "myriad-jax==0.2.*")


PUFFERLIB_VERSION = "3.0.0"
PUFFERLIB_BUILD = '''\
"""Builds only PufferLib's CartPole C binding (the full setup.py needs torch and GitHub downloads)."""
import numpy
from setuptools import Extension, setup

RAYLIB = "raylib-5.5_linux_amd64"  # bundled in the sdist
setup(name="pufferlib-cartpole-binding", script_args=["build_ext", "--inplace"], ext_modules=[Extension(
    "pufferlib.ocean.cartpole.binding", ["pufferlib/ocean/cartpole/binding.c"],
    include_dirs=[numpy.get_include(), RAYLIB + "/include"],
    extra_compile_args=["-O2", "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION", "-DPLATFORM_DESKTOP"],
    extra_objects=[RAYLIB + "/lib/libraylib.a"], libraries=["m", "dl", "pthread"])])
'''


def fetch_pypi_sdist(name: str, version: str, dest: Path, log: Log) -> Path:
    """Downloads the sdist of name==version from PyPI's simple index (the one pip reads, PEP 691 JSON)
    and checks the sha256 the index gives."""
    context = ssl.create_default_context(cafile=os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE"))
    index = f"https://pypi.org/simple/{name}/"
    filename = f"{name}-{version}.tar.gz"
    log.write(f"GET {index}")
    try:
        request = urllib.request.Request(index, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(request, timeout=60, context=context) as r:
            entry = next(f for f in json.load(r)["files"] if f["filename"] == filename)
        sha256 = entry["hashes"]["sha256"]
        path = dest / filename
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
            log.write(f"GET {entry['url']}")
            with urllib.request.urlopen(entry["url"], timeout=600, context=context) as r:
                path.write_bytes(r.read())
    except StopIteration:
        raise InstallError(f"PyPI lists no {filename}") from None
    except (OSError, ValueError, KeyError) as e:
        raise InstallError(f"cannot download {filename} from PyPI: {type(e).__name__}: {e}") from None
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        raise InstallError(f"{filename}: sha256 differs from PyPI's")
    return path


def install_pufferlib(py: Path, peer_dir: Path, log: Log) -> None:
    pip(py, log, "numpy<2", "gymnasium==0.29.1", "gym==0.23.1", "setuptools")
    archive = fetch_pypi_sdist("pufferlib", PUFFERLIB_VERSION, peer_dir, log)
    src = peer_dir / "src"
    shutil.rmtree(src, ignore_errors=True)
    top = f"pufferlib-{PUFFERLIB_VERSION}/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.startswith((top + "pufferlib/", top + "raylib-5.5_linux_amd64/")) and m.isreg()]
        for m in members:
            m.name = m.name[len(top):]
        tar.extractall(src, members=members)
    (src / "build_cartpole.py").write_text(PUFFERLIB_BUILD)
    log.run([py, "build_cartpole.py"], cwd=src, timeout=600)
    site = log.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    (Path(site) / "pufferlib_src.pth").write_text(str(src) + "\n")


def install_dist_classicrl(py: Path, peer_dir: Path, log: Log) -> None:
    pip(py, log, "dist-classicrl")


PEERS = {p.name: p for p in [
    Peer("gymnax", ["gymnax", "jax", "jaxlib", "flax", "gymnasium"], install_gymnax,
         "import gymnax; gymnax.make('CartPole-v1')"),
    Peer("envpool", ["envpool", "gymnasium", "numpy"], install_envpool,
         "import envpool; envpool.make('CartPole-v1', env_type='gymnasium', num_envs=2).reset()"),
    Peer("pufferlib", ["numpy", "gymnasium"], install_pufferlib,
         "from pufferlib.ocean.cartpole.cartpole import Cartpole; Cartpole(num_envs=2).reset(seed=0)",
         notes=[f"pufferlib {PUFFERLIB_VERSION} sdist, CartPole C binding only"]),
    Peer("myriad", ["myriad-jax", "jax", "jaxlib"], install_myriad,
         "from myriad.envs import make_env; make_env('cartpole-control'); make_env('ccasr-gfp-control')"),
    Peer("dist_classicrl", ["dist-classicrl", "gymnasium", "mpi4py", "numpy"], install_dist_classicrl,
         "import dist_classicrl.benchmarks.throughput_benchmark", min_python=(3, 13)),
]}


# ---- interpreters, status and the CLI ---------------------------------------------------------------

def python_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                             text=True, timeout=60).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None


def find_python(minimum: tuple[int, int], explicit: str | None) -> str | None:
    """The explicit interpreter if it is >= minimum; else this one, python3.N on PATH or one under ~/.pyenv."""
    def new_enough(python):
        version = python_version(python)
        return version is not None and version >= minimum

    if explicit:
        return explicit if new_enough(explicit) else None
    candidates = [sys.executable] + [shutil.which(f"python3.{m}") for m in range(minimum[1], 20)]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.*/bin/python3")), reverse=True)
    return next((c for c in candidates if c and new_enough(c)), None)


def venv_python(peer_dir: Path) -> Path:
    return peer_dir / "venv" / "bin" / "python"


def read_status(cache_dir: Path, name: str) -> dict:
    """status.json of a peer, or a "missing" status saying how to install it."""
    path = Path(cache_dir) / name / "status.json"
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"peer": name, "status": "missing",
                "error": f"no venv: run `python benchmarks/peers/setup_venvs.py --peers {name}`"}
    if status.get("status") == "ok" and not venv_python(path.parent).exists():
        return {"peer": name, "status": "missing", "error": f"{venv_python(path.parent)} is gone; rerun setup_venvs.py"}
    return status


def installed_versions(py: Path, dists: list[str]) -> dict:
    code = ("import importlib.metadata as m, json, sys\nv = {}\nfor d in sys.argv[1:]:\n"
            "    try: v[d] = m.version(d)\n    except m.PackageNotFoundError: pass\nprint(json.dumps(v))")
    out = subprocess.run([str(py), "-c", code, *dists], capture_output=True, text=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


def setup_peer(peer: Peer, cache_dir: Path, python313: str | None, force: bool) -> dict:
    peer_dir = cache_dir / peer.name
    old = read_status(cache_dir, peer.name)
    if old.get("status") == "ok" and not force:
        return dict(old, kept=True)
    peer_dir.mkdir(parents=True, exist_ok=True)
    log = Log(peer_dir / "install.log")
    start = time.time()
    status = {"peer": peer.name, "status": "failed", "log": str(log.path)}
    try:
        base = find_python(peer.min_python, python313 if peer.min_python >= (3, 13) else None)
        if base is None:
            raise InstallError(f"needs Python >= {'.'.join(map(str, peer.min_python))}; none found on PATH or "
                               "under ~/.pyenv (give one with --python313)")
        shutil.rmtree(peer_dir / "venv", ignore_errors=True)
        log.run([base, "-m", "venv", peer_dir / "venv"], timeout=300)
        py = venv_python(peer_dir)
        peer.install(py, peer_dir, log)
        log.run([py, "-c", peer.check], cwd=peer_dir, timeout=300)
        versions = installed_versions(py, peer.dists)
        if peer.name == "pufferlib":  # built from the sdist, not installed as a distribution
            versions["pufferlib"] = PUFFERLIB_VERSION
        status.update(status="ok", python=str(py), base_python=base, versions=versions, notes=peer.notes)
    except InstallError as e:
        status["error"] = str(e)
    except Exception as e:  # a broken archive, a full disk: this peer fails, the others still install
        status["error"] = f"{type(e).__name__}: {e}"
    status["seconds"] = round(time.time() - start, 1)
    (peer_dir / "status.json").write_text(json.dumps(status, indent=2) + "\n")
    return status


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of: " + ", ".join(PEERS))
    ap.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where the venvs go (default: .peers/)")
    ap.add_argument("--python313", help="a Python >= 3.13 interpreter for dist_classicrl")
    ap.add_argument("--force", action="store_true", help="reinstall peers that are already ok")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.peers.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        ap.error(f"--peers: unknown {', '.join(unknown)} (known: {', '.join(PEERS)})")
    cache_dir = Path(args.cache_dir).resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(f"{name}: installing ...", flush=True)
        s = setup_peer(PEERS[name], cache_dir, args.python313, args.force)
        if s["status"] == "ok":
            versions = ", ".join(f"{k} {v}" for k, v in s.get("versions", {}).items())
            print(f"{name}: ok{' (kept)' if s.get('kept') else ''}: {versions}", flush=True)
        else:
            print(f"{name}: FAILED: {s['error']} (log: {s.get('log')})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
