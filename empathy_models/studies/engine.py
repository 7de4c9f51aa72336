"""Run many independent fits on Dask: seeding, per-replicate files, resume, failures.

A *study* is ``n`` replicates of one *task*. A task is a picklable callable
``task(index, seed_sequence) -> list[dict]`` returning the tidy rows of one replicate (one
row per parameter, say). :func:`run_study` runs the replicates on a ``dask.distributed``
cluster and writes each replicate's rows to its own file as soon as it finishes:

* **Seeding.** Replicate ``i`` gets ``numpy.random.SeedSequence([seed, i])``: its data, prior
  draw and sampler seed depend on the study seed and the index only, never on which worker
  ran it or in what order, so a study gives the same table with 1 or 20 workers.
* **Resume.** ``out_dir/replicates/00012.json`` is written atomically (temporary file, then
  ``os.replace``): a replicate either has a complete file or none. A rerun with the same
  task and seed skips every replicate that has one, so an interrupted study resumes where it
  stopped and never loses finished work. A rerun with a different task or seed in the same
  folder is an error.
* **Failures.** A replicate that raises is recorded (``status="failed"`` and the error text)
  and the study goes on. ``retry_failed=True`` reruns recorded failures.
* **Workers.** PyTensor compilation is not thread-safe (pymc issue 7819), so the default
  cluster is a ``LocalCluster`` of *processes* with one thread each. A task that compiles a
  model keeps it in a per-process cache (:func:`worker_cache`) and reuses it for every
  replicate that worker runs.

:func:`load_study` reads the finished replicates back into the tidy table.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from empathy_models import _io
from empathy_models.errors import ConfigError

#: Name of the study's manifest file inside ``out_dir``.
MANIFEST = "study.json"
REPLICATES = "replicates"


class Task(Protocol):
    """What :func:`run_study` runs: one replicate from its index and seed sequence."""

    def __call__(self, index: int, seed: np.random.SeedSequence) -> list[dict]: ...

    def config(self) -> dict: ...


# -- per-process cache of compiled models ------------------------------------------------------
_CACHE: dict[Any, Any] = {}


def worker_cache(key: Any, factory: Callable[[], Any]) -> Any:
    """Return the object cached under ``key`` in this process, building it once.

    Dask workers are separate processes with one thread, so every worker compiles each model
    (keyed, e.g., by family and design) once and reuses it across the replicates it runs.
    """
    if key not in _CACHE:
        _CACHE[key] = factory()
    return _CACHE[key]


def clear_worker_cache() -> None:
    _CACHE.clear()


# -- seeds ---------------------------------------------------------------------------------------
def replicate_seed(seed: int, index: int) -> np.random.SeedSequence:
    """Seed sequence of replicate ``index`` of a study with seed ``seed``."""
    return np.random.SeedSequence([int(seed), int(index)])


def sampler_seed(ss: np.random.SeedSequence) -> int:
    """A sampler seed (non-negative int32) derived from a replicate's seed sequence, distinct
    from the stream used to simulate its data."""
    return int(ss.spawn(1)[0].generate_state(1, dtype=np.uint32)[0] >> 1)


# -- files ---------------------------------------------------------------------------------------
def replicate_path(out_dir: str | Path, index: int) -> Path:
    return Path(out_dir) / REPLICATES / f"{index:05d}.json"


def run_replicate(task: Task, index: int, seed: int, out_dir: str) -> dict:
    """Run one replicate and write its file; never raises for an error of the task."""
    t0 = time.perf_counter()
    record: dict[str, Any] = {"index": int(index), "seed": [int(seed), int(index)]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = task(int(index), replicate_seed(seed, index))
        record.update(status="ok", error=None, rows=list(rows))
    except Exception as exc:  # recorded, not fatal: the study goes on
        record.update(
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=8),
            rows=[],
        )
    record["seconds"] = time.perf_counter() - t0
    _io.atomic_write(replicate_path(out_dir, index), _io.dumps(record))
    return {"index": int(index), "status": record["status"]}


def _check_manifest(out_dir: Path, manifest: dict) -> None:
    path = out_dir / MANIFEST
    manifest.update(_io.to_plain(manifest))
    if path.exists():
        old = _io.read_json(path)
        same = {k: old.get(k) for k in ("task", "seed")} == {
            k: manifest[k] for k in ("task", "seed")
        }
        if not same:
            raise ConfigError(
                f"{out_dir} holds a different study (task or seed differ: {old.get('task')}, "
                f"seed {old.get('seed')}); use another --out folder"
            )
        manifest["n"] = max(int(old.get("n", 0)), int(manifest["n"]))
    _io.atomic_write(path, _io.dumps(manifest, indent=2, sort_keys=True))


def pending_replicates(out_dir: str | Path, n: int, *, retry_failed: bool = False) -> list[int]:
    """Indices in ``range(n)`` without a finished (or, with ``retry_failed``, ok) file."""
    todo = []
    for i in range(n):
        p = replicate_path(out_dir, i)
        if not p.exists():
            todo.append(i)
        elif retry_failed and _io.read_json(p).get("status") != "ok":
            todo.append(i)
    return todo


# -- the cluster -----------------------------------------------------------------------------------
def make_client(scheduler: str | None = None, workers: int = 2):
    """A ``dask.distributed.Client``: to ``scheduler`` when given, else to a new
    ``LocalCluster`` of ``workers`` single-threaded processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(
        n_workers=int(workers),
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    return Client(cluster)


def _progress(iterable: Iterable, total: int, show: bool, desc: str):
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="rep")


def run_study(
    task: Task,
    n: int,
    *,
    seed: int,
    out_dir: str | Path,
    scheduler: str | None = None,
    workers: int = 2,
    client=None,
    progress: bool = True,
    retry_failed: bool = False,
    stop_after: int | None = None,
) -> pd.DataFrame:
    """Run ``n`` replicates of ``task`` on Dask and return the tidy table.

    Parameters
    ----------
    task
        Picklable callable ``task(index, seed_sequence) -> list[dict]`` with a ``config()``
        method (stored in ``out_dir/study.json`` and checked on resume).
    n
        Number of replicates (indices ``0 .. n-1``). Raising ``n`` on a rerun adds replicates.
    seed
        Study seed; replicate ``i`` is seeded by ``SeedSequence([seed, i])``.
    out_dir
        Folder of the study: ``study.json`` and ``replicates/NNNNN.json``.
    scheduler
        Address of an existing scheduler (``tcp://host:8786``); default: a local cluster.
    workers
        Worker processes of the local cluster (one thread each).
    client
        An existing ``dask.distributed.Client`` to use instead (not closed here).
    progress
        Show a progress bar over finished replicates.
    retry_failed
        Rerun replicates recorded as failed.
    stop_after
        Stop (cancelling the rest) once this many replicates have finished in this call; for
        tests and for running a study in slices. The table then holds what is finished.

    Returns
    -------
    pandas.DataFrame
        :func:`load_study` of ``out_dir``.
    """
    if n < 0:
        raise ConfigError(f"n must be >= 0, got {n}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"task": task.config(), "seed": int(seed), "n": int(n)}
    _check_manifest(out, manifest)
    todo = pending_replicates(out, n, retry_failed=retry_failed)
    if todo:
        own = client is None
        client = client or make_client(scheduler, workers)
        try:
            from distributed import as_completed

            futures = client.map(
                run_replicate,
                [task] * len(todo),
                todo,
                [int(seed)] * len(todo),
                [str(out)] * len(todo),
                pure=False,
            )
            done = 0
            ac = as_completed(futures)
            for fut in _progress(ac, len(todo), progress, desc=_desc(task)):
                fut.result()
                done += 1
                if stop_after is not None and done >= stop_after:
                    client.cancel(futures)
                    break
        finally:
            if own:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
    return load_study(out, n=n)


def _desc(task: Task) -> str:
    cfg = task.config()
    return str(cfg.get("kind", "study")) + (f" {cfg['family']}" if "family" in cfg else "")


def load_study(out_dir: str | Path, n: int | None = None) -> pd.DataFrame:
    """Tidy table of a study's finished replicates, ordered by replicate then row.

    Columns: ``replicate``, ``status`` (``ok`` / ``failed``), ``error`` and the task's row
    fields. A failed replicate contributes one row with its error text.
    """
    out = Path(out_dir)
    if n is None:
        manifest = out / MANIFEST
        n = int(_io.read_json(manifest)["n"]) if manifest.exists() else None
    files = sorted((out / REPLICATES).glob("[0-9]*.json")) if (out / REPLICATES).exists() else []
    rows = []
    for f in files:
        i = int(f.stem)
        if n is not None and i >= n:
            continue
        rec = _io.read_json(f)
        if rec["status"] == "ok":
            for r in rec["rows"]:
                rows.append({"replicate": i, "status": "ok", "error": None, **r})
        else:
            rows.append({"replicate": i, "status": "failed", "error": rec.get("error")})
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=["replicate", "status", "error"])
    return df.reset_index(drop=True)


def replicate_timings(out_dir: str | Path) -> pd.Series:
    """Seconds per finished replicate (not part of the table: timings are not reproducible)."""
    out = Path(out_dir) / REPLICATES
    recs = [_io.read_json(f) for f in sorted(out.glob("[0-9]*.json"))]
    return pd.Series({r["index"]: r["seconds"] for r in recs}, name="seconds")


__all__ = [
    "Task",
    "clear_worker_cache",
    "load_study",
    "make_client",
    "pending_replicates",
    "replicate_path",
    "replicate_seed",
    "replicate_timings",
    "run_replicate",
    "run_study",
    "sampler_seed",
    "worker_cache",
]
