#!/usr/bin/env python
"""Benchmark suite of empathy_models: ``make bench`` (and ``make bench-peers``).

Sections (``--only``; default: all but ``gpu``)
------------------------------------------------
families
    Every model family at a small and a medium size with every sampler backend: wall time
    (compilation and sampling apart and together), min bulk and tail ESS over the reported
    parameters, ESS per second, divergences, max R-hat.
scaling
    The 3-level variance partition from 2,000 to 1,000,000 rows, marginalized vs full:
    reading the CSV, validating, fitting and summarizing, timed together, with peak memory.
peers
    The same model on the same data with statsmodels MixedLM (REML point estimate) and, with
    ``--peers``, lme4 and brms through ``Rscript``; the ratio of ESS/s to brms per sampler.
big
    The 1,000,000-row target of issue 8 (4 chains x 1,000 draws, min bulk ESS >= 400, within
    20 s wall including loading and compilation, under 4 GB, faster than lme4 in the same run),
    repeated, with lme4 run on the same file when R is installed.
gpu
    (``--device-lane``) the JAX samplers for every family at the medium size and on the
    1M-row variance partition, on whatever device JAX finds; writes ``gpu.json``.

Every measurement runs in its own process (``worker.py``) with a time limit. Finished
measurements are cached in ``<out>/.cache`` (keyed by the task and a digest of the package's
and the suite's code), so an interrupted run resumes where it stopped; ``--fresh`` measures
everything again. Each section writes ``<out>/<section>.json``; ``<out>/README.md`` and the
PNG plots are rebuilt from all section files, so sections can be run separately.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import report  # noqa: E402

SECTIONS = ("families", "scaling", "peers", "big", "gpu")
DEFAULT_SECTIONS = ("families", "scaling", "peers", "big")
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
#: Issue 8's targets for the 1M-row fit.
BIG_TARGETS = {"wall_s": 20.0, "min_ess_bulk": 400.0, "peak_rss_mb": 4096.0}


# ----------------------------------------------------------------------------------------
# Provenance
# ----------------------------------------------------------------------------------------


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
    """Digest of the package's and the suite's code: a change invalidates cached records."""
    h = hashlib.sha256()
    import empathy_models

    pkg = Path(empathy_models.__file__).resolve().parent
    files = sorted(pkg.rglob("*.py")) + [HERE / "cases.py", HERE / "worker.py"]
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


# ----------------------------------------------------------------------------------------
# Running measurements
# ----------------------------------------------------------------------------------------


class Runner:
    """Runs tasks in worker processes, with a cache that makes runs resumable."""

    def __init__(
        self,
        out: Path,
        *,
        fresh: bool,
        timeout: float,
        run_id: str,
        quiet: bool,
        cached_only: bool = False,
    ):
        self.out = out
        self.cache = out / ".cache"
        self.fresh = fresh
        self.cached_only = cached_only
        self.timeout = timeout
        self.run_id = run_id
        self.quiet = quiet
        self.digest = code_digest()
        self.cache.mkdir(parents=True, exist_ok=True)
        gi = self.cache / ".gitignore"
        if not gi.exists():
            gi.write_text("*\n")

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)

    def _cache_path(self, section: str, key: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)
        return self.cache / section / f"{safe}.json"

    def run(
        self,
        section: str,
        key: str,
        task: dict,
        *,
        timeout: float | None = None,
        env: dict | None = None,
        force: bool = False,
    ) -> dict:
        """Measure ``task`` (or reuse a cached measurement of the same task and code)."""
        path = self._cache_path(section, key)
        if not (self.fresh or force) and path.exists():
            try:
                cached = json.loads(path.read_text())
            except ValueError:
                cached = {}
            if (
                cached.get("task") == task
                and cached.get("digest") == self.digest
                and cached.get("record", {}).get("status") == "ok"
            ):
                rec = dict(cached["record"])
                rec["cached"] = True
                self.say(f"  {key}: cached ({_brief(rec)})")
                return rec
        if self.cached_only:
            self.say(f"  {key}: not run (no cached measurement of this task and code)")
            return {"status": "not run"}
        path.parent.mkdir(parents=True, exist_ok=True)
        task_file = path.with_suffix(".task.json")
        out_file = path.with_suffix(".out.json")
        task_file.write_text(json.dumps(task))
        if out_file.exists():
            out_file.unlink()
        limit = timeout or self.timeout
        started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        t0 = time.perf_counter()
        cmd = [sys.executable, str(HERE / "worker.py"), str(task_file), str(out_file)]
        proc = subprocess.Popen(
            cmd,
            env=env or os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            timed_out = True
        elapsed = time.perf_counter() - t0
        if timed_out:
            rec = {"status": "timeout", "error": f"no result within {limit:.0f} s"}
        elif out_file.exists():
            rec = json.loads(out_file.read_text())
        else:
            tail = (output or "")[-1500:]
            rec = {"status": "error", "error": f"worker exited {proc.returncode}: {tail}"}
        rec.update({"started": started, "elapsed_s": elapsed, "run_id": self.run_id})
        rec["cached"] = False
        path.write_text(json.dumps({"task": task, "digest": self.digest, "record": rec}))
        for f in (task_file, out_file):
            if f.exists():
                f.unlink()
        self.say(f"  {key}: {_brief(rec)}")
        return rec


def _brief(rec: dict) -> str:
    if rec.get("status") != "ok":
        return f"{rec.get('status')}: {str(rec.get('error', ''))[:300]}"
    parts = [f"wall {rec.get('wall_s', float('nan')):.1f} s"]
    if rec.get("min_ess_bulk") is not None:
        parts.append(f"min bulk ESS {rec['min_ess_bulk']:.0f}")
    if rec.get("ess_per_s") is not None:
        parts.append(f"ESS/s {rec['ess_per_s']:.1f}")
    if rec.get("divergences"):
        parts.append(f"{rec['divergences']} divergences")
    if rec.get("peak_rss_mb") is not None:
        parts.append(f"peak RSS {rec['peak_rss_mb']:.0f} MB")
    return ", ".join(parts)


def cpu_env() -> dict:
    """Environment of CPU measurements: JAX on the CPU even where a GPU exists."""
    env = os.environ.copy()
    env["JAX_PLATFORMS"] = "cpu"
    return env


def device_env() -> dict:
    env = os.environ.copy()
    env.pop("JAX_PLATFORMS", None)
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    return env


# ----------------------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------------------


def mcmc_settings(args) -> dict:
    if args.quick:
        return {"draws": 60, "tune": 60, "chains": 2}
    return {"draws": args.draws, "tune": args.tune, "chains": args.chains}


def section_families(runner: Runner, args, *, lane: str = "cpu") -> tuple[list, dict]:
    sizes = args.sizes or (["tiny"] if args.quick else ["small", "medium"])
    samplers = args.samplers or list(cases.SAMPLERS)
    if lane == "gpu":
        sizes = args.sizes or (["tiny"] if args.quick else ["medium"])
        samplers = [s for s in samplers if s in cases.JAX_SAMPLERS] or list(cases.JAX_SAMPLERS)
    env = cpu_env() if lane == "cpu" else device_env()
    mc = mcmc_settings(args)
    records, not_run = [], []
    for size in sizes:
        for family in args.families or cases.FAMILIES:
            for sampler in samplers:
                task = {
                    "kind": "family",
                    "family": family,
                    "size": size,
                    "sampler": sampler,
                    "seed": args.seed,
                    "data_seed": args.seed,
                    "lane": lane,
                    **mc,
                }
                key = f"{family}/{size}/{sampler}"
                rec = runner.run(lane if lane == "gpu" else "families", key, task, env=env)
                if rec.get("status") == "not run":
                    not_run.append(key)
                    continue
                records.append({"key": key, **task, **rec})
    settings = {
        "sizes": {s: cases.SIZES[s].to_dict() for s in sizes},
        "samplers": samplers,
        "families": list(args.families or cases.FAMILIES),
        "seed": args.seed,
        "not_run": not_run,
        **mc,
    }
    return records, settings


def scaling_rows(args) -> list[int]:
    if args.rows:
        return args.rows
    return [600] if args.quick else [2_000, 10_000, 40_000, 200_000, 1_000_000]


def scaling_fit(runner: Runner, args, rows: int, marginalized: bool, sampler: str, **kw) -> dict:
    """Read + validate + fit + summarize the variance partition of the ``rows`` data set.

    The scaling, peers and big sections share these measurements (one cache namespace), so
    the same fit of the same data with the same code is measured once per run.
    """
    form = "marginalized" if marginalized else "full"
    base = {
        "kind": "scaling",
        "tool": "empathy_models",
        "rows": rows,
        "design": list(cases.SCALING_DESIGNS[rows]),
        "form": form,
        "marginalized": marginalized,
        "sampler": sampler,
        "seed": args.seed,
        **mcmc_settings(args),
    }
    csv = cases.write_scaling_csv(rows, args.seed, runner.cache / "data")
    key = f"variance/{rows}/{form}/{sampler}"
    rec = runner.run("scaling", key, {**base, "csv": str(csv)}, env=cpu_env(), **kw)
    return {**base, **rec}


def section_scaling(runner: Runner, args) -> tuple[list, dict]:
    mc = mcmc_settings(args)
    records = []
    sampler = args.scaling_sampler
    for rows in scaling_rows(args):
        for marginalized in (True, False):
            form = "marginalized" if marginalized else "full"
            key = f"variance/{rows}/{form}"
            if not marginalized and rows > args.full_max_rows:
                reason = f"full form skipped above {args.full_max_rows} rows (--full-max-rows)"
                runner.say(f"  {key}: skipped ({reason})")
                records.append(
                    {
                        "key": key,
                        "tool": "empathy_models",
                        "rows": rows,
                        "design": list(cases.SCALING_DESIGNS[rows]),
                        "form": form,
                        "marginalized": False,
                        "sampler": sampler,
                        "status": "skipped",
                        "error": reason,
                    }
                )
                continue
            records.append({"key": key, **scaling_fit(runner, args, rows, marginalized, sampler)})
    settings = {
        "designs": {str(r): cases.SCALING_DESIGNS[r] for r in scaling_rows(args)},
        "design_order": "therapists x clients per therapist x sessions per client",
        "truth": cases.SCALING_TRUTH,
        "sampler": sampler,
        "full_max_rows": args.full_max_rows,
        "seed": args.seed,
        **mc,
    }
    return records, settings


def section_peers(runner: Runner, args) -> tuple[list, dict]:
    mc = mcmc_settings(args)
    data_dir = runner.cache / "data"
    peer_rows = args.peer_rows or ([600] if args.quick else [40_000])
    records = []
    samplers = args.samplers or list(cases.SAMPLERS)
    brms_rows = (args.brms_rows or peer_rows) if args.peers else []
    # the package on the peer data (and wherever brms runs): every sampler marginalized (the
    # default), and the full parameterization (brms's) with the default sampler
    for rows in sorted(set(peer_rows) | set(brms_rows)):
        for sampler in samplers:
            for marginalized in (True, False) if sampler == cases.DEFAULT_SAMPLER else (True,):
                rec = scaling_fit(runner, args, rows, marginalized, sampler)
                records.append({"key": f"empathy_models/{rows}/{sampler}/{rec['form']}", **rec})
    # statsmodels: every size up to --statsmodels-max-rows
    sm_rows = sorted(set(peer_rows) | set(scaling_rows(args)))
    for rows in sm_rows:
        key = f"statsmodels/{rows}"
        base = {"kind": "statsmodels", "tool": "statsmodels", "rows": rows, "form": "REML"}
        base["design"] = list(cases.SCALING_DESIGNS[rows])
        if rows > args.statsmodels_max_rows:
            reason = f"skipped above {args.statsmodels_max_rows} rows (--statsmodels-max-rows)"
            runner.say(f"  {key}: {reason}")
            records.append({"key": key, **base, "status": "skipped", "error": reason})
            continue
        csv = cases.write_scaling_csv(rows, args.seed, data_dir)
        rec = runner.run("peers", key, {**base, "csv": str(csv)}, env=cpu_env())
        records.append({"key": key, **base, **rec})
    # R peers
    have = r_peers_available() if args.peers else {}
    if args.peers:
        for rows in sm_rows:
            key = f"lme4/{rows}"
            base = {"kind": "rscript", "tool": "lme4", "rows": rows, "form": "REML"}
            base["design"] = list(cases.SCALING_DESIGNS[rows])
            if not have.get("lme4"):
                records.append({"key": key, **base, "status": "skipped", "error": "no lme4"})
                continue
            csv = cases.write_scaling_csv(rows, args.seed, data_dir)
            task = {**base, "script": "lme4_fit.R", "csv": str(csv), "args": []}
            rec = runner.run("peers", key, task)
            records.append({"key": key, **base, **rec})
        bmc = {"chains": 2, "draws": 100, "tune": 100} if args.quick else args.brms_mcmc
        for rows in brms_rows:
            key = f"brms/{rows}"
            base = {"kind": "rscript", "tool": "brms", "rows": rows, "form": "full", **bmc}
            base["design"] = list(cases.SCALING_DESIGNS[rows])
            if not have.get("brms"):
                records.append({"key": key, **base, "status": "skipped", "error": "no brms"})
                continue
            csv = cases.write_scaling_csv(rows, args.seed, data_dir)
            r_args = [bmc["chains"], bmc["draws"], bmc["tune"], args.seed]
            task = {**base, "script": "brms_fit.R", "csv": str(csv), "args": r_args}
            rec = runner.run("peers", key, task, timeout=max(args.timeout, 3600))
            records.append({"key": key, **base, **rec})
    settings = {
        "peer_rows": peer_rows,
        "designs": {str(r): cases.SCALING_DESIGNS[r] for r in sm_rows},
        "samplers": samplers,
        "statsmodels_max_rows": args.statsmodels_max_rows,
        "r_peers": have,
        "brms_mcmc": args.brms_mcmc,
        "seed": args.seed,
        **mc,
    }
    return records, settings


def section_big(runner: Runner, args) -> tuple[list, dict]:
    mc = mcmc_settings(args)
    rows = 600 if args.quick else 1_000_000
    repeats = 1 if args.quick else args.big_repeats
    records = []
    for rep in range(repeats):
        # in a full run every repeat is a new measurement (never served from the cache)
        rec = scaling_fit(runner, args, rows, True, cases.DEFAULT_SAMPLER, force=not args.quick)
        records.append({"key": f"empathy_models/{rows}/rep{rep + 1}", **rec, "repeat": rep + 1})
    have = r_peers_available(("lme4",))
    key = f"lme4/{rows}"
    base = {"kind": "rscript", "tool": "lme4", "rows": rows, "form": "REML"}
    if have.get("lme4"):
        csv = cases.write_scaling_csv(rows, args.seed, runner.cache / "data")
        task = {**base, "script": "lme4_fit.R", "csv": str(csv), "args": []}
        rec = runner.run("big", key, task, force=True)
        records.append({"key": key, **base, **rec})
    else:
        why = "lme4 not installed (make bench-peers installs it)"
        records.append({"key": key, **base, "status": "skipped", "error": why})
    settings = {
        "rows": rows,
        "design": cases.SCALING_DESIGNS[rows],
        "repeats": repeats,
        "targets": BIG_TARGETS,
        "seed": args.seed,
        **mc,
    }
    return records, settings


def jax_device_probe() -> dict:
    code = "import jax, json; print(json.dumps([jax.default_backend(), [str(d) for d in jax.devices()], [getattr(d, 'device_kind', '') for d in jax.devices()]]))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=device_env()
    )
    try:
        backend, devices, kinds = json.loads(proc.stdout.strip().splitlines()[-1])
        return {"jax_backend": backend, "jax_devices": devices, "device_kind": kinds}
    except (ValueError, IndexError):
        return {"jax_backend": None, "error": (proc.stderr or "")[-500:]}


def section_gpu(runner: Runner, args) -> tuple[list, dict]:
    records, settings = section_families(runner, args, lane="gpu")
    for r in records:
        r["section"] = "gpu"
    mc = mcmc_settings(args)
    rows = 600 if args.quick else 1_000_000
    csv = cases.write_scaling_csv(rows, args.seed, runner.cache / "data")
    samplers = [s for s in (args.samplers or cases.JAX_SAMPLERS) if s in cases.JAX_SAMPLERS]
    for sampler in samplers or cases.JAX_SAMPLERS:
        key = f"variance-scaling/{rows}/{sampler}"
        base = {
            "kind": "scaling",
            "family": "variance-scaling",
            "rows": rows,
            "form": "marginalized",
            "marginalized": True,
            "sampler": sampler,
            "seed": args.seed,
            "lane": "gpu",
            **mc,
        }
        rec = runner.run("gpu", key, {**base, "csv": str(csv)}, env=device_env())
        records.append({"key": key, **base, **rec})
    settings["device"] = jax_device_probe()
    settings["variance_scaling_rows"] = rows
    return records, settings


RUNNERS = {
    "families": section_families,
    "scaling": section_scaling,
    "peers": section_peers,
    "big": section_big,
    "gpu": section_gpu,
}


# ----------------------------------------------------------------------------------------
# Writing results
# ----------------------------------------------------------------------------------------


def write_section(out: Path, section: str, records: list, settings: dict, run_meta: dict) -> dict:
    """Merge this run's records into ``<out>/<section>.json`` and return the merged document."""
    path = out / f"{section}.json"
    doc = {}
    if path.exists():
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            doc = {}
    if doc.get("mode") != run_meta["mode"]:
        doc = {}  # quick and full results never mix
    keep = {r["key"]: r for r in doc.get("records", [])}
    for r in records:
        r = {k: v for k, v in r.items() if k not in ("csv", "kind", "traceback")}
        keep[r["key"]] = r
    used_runs = {r.get("run_id") for r in keep.values()}
    runs = {k: v for k, v in doc.get("runs", {}).items() if k in used_runs}
    runs[run_meta["run_id"]] = run_meta
    doc = {
        "section": section,
        "mode": run_meta["mode"],
        "updated": run_meta["finished"],
        "latest_run": run_meta["run_id"],
        "settings": settings,
        "runs": runs,
        "records": list(keep.values()),
    }
    doc["summary"] = report.summarize(section, doc)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_finite(doc), indent=1, default=_json_default, allow_nan=False))
    tmp.replace(path)
    return doc


def _finite(o):
    """NaN and infinities become null: the files stay strict JSON."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    return o


def _json_default(o):
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)


def parse_list(text: str | None, allowed=None, kind=str) -> list | None:
    if text is None:
        return None
    items = [kind(x.strip()) for x in text.split(",") if x.strip()]
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise SystemExit(f"error: unknown {bad}; choose among {', '.join(map(str, allowed))}")
    return items


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    p.add_argument(
        "--only",
        help=f"comma-separated sections among {', '.join(SECTIONS)} (default: all but gpu)",
    )
    p.add_argument("--peers", action="store_true", help="also run lme4 and brms via Rscript")
    p.add_argument("--quick", action="store_true", help="tiny sizes and draws (smoke test)")
    p.add_argument(
        "--device-lane",
        action="store_true",
        help="run the JAX samplers on JAX's default device (the gpu section) and nothing else",
    )
    p.add_argument("--families", help=f"comma-separated, among {', '.join(cases.FAMILIES)}")
    p.add_argument("--samplers", help=f"comma-separated, among {', '.join(cases.SAMPLERS)}")
    p.add_argument("--sizes", help="families section sizes, among " + ", ".join(cases.SIZES))
    p.add_argument(
        "--rows", help="scaling rows, among " + ", ".join(map(str, cases.SCALING_DESIGNS))
    )
    p.add_argument("--seed", type=int, default=1, help="data and sampler seed (default 1)")
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    p.add_argument("--fresh", action="store_true", help="ignore cached measurements")
    p.add_argument(
        "--cached-only",
        action="store_true",
        help="measure nothing: rebuild the families section from cached measurements (those\n"
        "of the same task and code); cells without one are listed as not run",
    )
    p.add_argument("--full-max-rows", type=int, default=200_000, help="largest full-form fit")
    p.add_argument("--statsmodels-max-rows", type=int, default=200_000)
    p.add_argument("--scaling-sampler", default=cases.DEFAULT_SAMPLER, choices=list(cases.SAMPLERS))
    p.add_argument("--peer-rows", help="rows of the peer comparison (default 40000)")
    p.add_argument("--brms-rows", help="rows brms is run on (default: the peer rows)")
    p.add_argument("--big-repeats", type=int, default=3, help="repeats of the 1M-row fit")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.device_lane:
        sections = ["gpu"]
    elif args.only:
        sections = parse_list(args.only, SECTIONS)
    else:
        sections = list(DEFAULT_SECTIONS)
    if args.cached_only and set(sections) - {"families", "gpu"}:
        build_parser().error("--cached-only rebuilds the families (or gpu) section only")
    args.families = parse_list(args.families, cases.FAMILIES)
    args.samplers = parse_list(args.samplers, cases.SAMPLERS)
    args.sizes = parse_list(args.sizes, cases.SIZES)
    args.rows = parse_list(args.rows, cases.SCALING_DESIGNS, int)
    args.peer_rows = parse_list(args.peer_rows, cases.SCALING_DESIGNS, int)
    args.brms_rows = parse_list(args.brms_rows, cases.SCALING_DESIGNS, int)
    args.brms_mcmc = {"chains": 2, "draws": 1000, "tune": 1000}
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    run_id = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    runner = Runner(
        out,
        fresh=args.fresh,
        timeout=args.timeout,
        run_id=run_id,
        quiet=args.quiet,
        cached_only=args.cached_only,
    )
    meta = {
        "run_id": run_id,
        "mode": "quick" if args.quick else "full",
        "argv": sys.argv[1:] if argv is None else list(argv),
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions(),
        "code_digest": runner.digest,
        "seed": args.seed,
    }
    for section in sections:
        runner.say(f"== {section}")
        t0 = time.perf_counter()
        records, settings = RUNNERS[section](runner, args)
        meta["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        meta.setdefault("section_s", {})[section] = time.perf_counter() - t0
        doc = write_section(out, section, records, settings, meta)
        for line in report.headline(section, doc):
            runner.say(line)
    report.write_all(out)
    runner.say(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
