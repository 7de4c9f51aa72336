"""Running measurements in worker processes, caching them, and storing section files.

Every measurement runs ``worker.py`` in a fresh process with a time limit. Finished
measurements are cached in ``<out>/.cache/<section>/<key>.json`` with their task and the
code digest (``provenance.code_digest``), so an interrupted run resumes and a code change
measures again. Every JSON file goes through ``empathy_models._io`` (strict JSON, atomic).
"""

from __future__ import annotations

import datetime as _dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from provenance import code_digest

from empathy_models import _io

HERE = Path(__file__).resolve().parent


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


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


def mcmc_settings(args) -> dict:
    if args.quick:
        return {"draws": 60, "tune": 60, "chains": 2}
    return {"draws": args.draws, "tune": args.tune, "chains": args.chains}


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
            _io.atomic_write(gi, "*\n")

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)

    def _cache_path(self, section: str, key: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)
        return self.cache / section / f"{safe}.json"

    def _cached(self, path: Path, task: dict) -> dict | None:
        try:
            cached = _io.read_json(path, {})
        except ValueError:
            return None
        if (
            cached.get("task") == task
            and cached.get("digest") == self.digest
            and cached.get("record", {}).get("status") == "ok"
        ):
            return {**cached["record"], "cached": True}
        return None

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
        if not (self.fresh or force) and (rec := self._cached(path, task)) is not None:
            self.say(f"  {key}: cached ({brief(rec)})")
            return rec
        if self.cached_only:
            self.say(f"  {key}: not run (no cached measurement of this task and code)")
            return {"status": "not run"}
        task_file = path.with_suffix(".task.json")
        out_file = path.with_suffix(".out.json")
        _io.write_json(task_file, task)
        out_file.unlink(missing_ok=True)
        limit = timeout or self.timeout
        started = now()
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
            rec = _io.read_json(out_file)
        else:
            tail = (output or "")[-1500:]
            rec = {"status": "error", "error": f"worker exited {proc.returncode}: {tail}"}
        rec.update({"started": started, "elapsed_s": elapsed, "run_id": self.run_id})
        rec["cached"] = False
        _io.write_json(path, {"task": task, "digest": self.digest, "record": rec}, indent=None)
        task_file.unlink(missing_ok=True)
        out_file.unlink(missing_ok=True)
        self.say(f"  {key}: {brief(rec)}")
        return rec


def brief(rec: dict) -> str:
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


def write_section(
    out: Path,
    section: str,
    records: list,
    settings: dict,
    run_meta: dict,
    summarize: Callable[[dict], dict],
) -> dict:
    """Merge this run's records into ``<out>/<section>.json`` and return the merged document."""
    path = out / f"{section}.json"
    try:
        doc = _io.read_json(path, {})
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
    doc = _io.to_plain(doc)  # what the file holds is what the summary is computed from
    doc["summary"] = summarize(doc)
    _io.write_json(path, doc, indent=1)
    return doc
