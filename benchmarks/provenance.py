"""What every results file records about where and with what it was measured."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

import cases

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VERSION_PACKAGES = (
    "empathy_models",
    "pymc",
    "pytensor",
    "nutpie",
    "numba",
    "numpyro",
    "jax",
    "jaxlib",
    "blackjax",
    "arviz",
    "arviz-stats",
    "numpy",
    "pandas",
    "statsmodels",
)
#: The suite's files that decide what a measurement does (not how it is reported).
MEASURING_CODE = ("cases.py", "measure.py", "peer_fits.py", "worker.py")


def machine_info() -> dict:
    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
    }
    try:
        info["cores_available"] = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover
        info["cpu"] = platform.processor()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:  # pragma: no cover
        pass
    return info


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in VERSION_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "empathy_models"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if rev.returncode == 0:
            out["git_commit"] = rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:  # pragma: no cover - no git
        pass
    return out


def code_digest() -> str:
    """Digest of the package's and the suite's measuring code: a change invalidates caches."""
    h = hashlib.sha256()
    files = sorted(cases.package_dir().rglob("*.py")) + [HERE / f for f in MEASURING_CODE]
    files += sorted((HERE / "peers").glob("*.R"))
    for f in files:
        h.update(str(f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def r_peers_available(packages: tuple[str, ...] = ("lme4", "brms")) -> dict:
    """Which R peers ``Rscript`` can load (empty when R is absent)."""
    if shutil.which("Rscript") is None:
        return {}
    out = {}
    for pkg in packages:
        proc = subprocess.run(
            ["Rscript", "-e", f"suppressMessages({{library({pkg}); library(jsonlite)}})"],
            capture_output=True,
        )
        out[pkg] = proc.returncode == 0
    return out
