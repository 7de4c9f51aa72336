"""One measurement, in a process of its own: ``python worker.py TASK.json OUT.json``.

A fresh process per measurement keeps measurements apart: compile caches in memory, JAX's
state and the peak resident memory (``ru_maxrss``) of one fit do not leak into the next, and
a crash or a hang ends one measurement, not the suite. ``runner.py`` writes the task, starts
this script with a time limit and reads the record it writes.

Task kinds
----------
``family``
    Fit one model family at one size with one sampler; time the whole ``empathy_models.fit``
    call (``measure.measure_family``).
``scaling``
    Read a CSV, validate, fit and summarize the variance partition, timed together
    (``measure.measure_scaling``).
``agreement``
    Read a CSV, validate, fit and summarize the crossed rating model
    (``measure.measure_agreement``).
``statsmodels``
    statsmodels MixedLM REML point estimate of the same variance partition (read included).
``rscript``
    Run an R peer script (``peers/*.R``) and report its JSON plus its peak memory.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import peer_fits  # noqa: E402

from empathy_models import _io  # noqa: E402


def device_info() -> dict:
    """JAX's default backend and devices (only when JAX is already imported)."""
    if "jax" not in sys.modules:
        return {}
    import jax

    devices = jax.devices()
    return {
        "jax_backend": jax.default_backend(),
        "jax_device": str(devices[0]) if devices else None,
        "jax_device_kind": getattr(devices[0], "device_kind", None) if devices else None,
        "jax_device_count": len(devices),
    }


def measure_task(task: dict, out_path: Path) -> dict:
    kind = task["kind"]
    if kind == "family":
        return measure.measure_family(task)
    if kind == "scaling":
        return measure.measure_scaling(task)
    if kind == "agreement":
        return measure.measure_agreement(task)
    if kind == "statsmodels":
        return peer_fits.run_statsmodels(task)
    if kind == "rscript":
        return peer_fits.run_rscript(task, out_path)
    raise ValueError(f"unknown task kind {kind!r}")


def main(argv: list[str]) -> int:
    task_path, out_path = Path(argv[0]), Path(argv[1])
    task = _io.read_json(task_path)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = measure_task(task, out_path)
        rec["status"] = "ok"
        rec.update(device_info())
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # recorded, the suite goes on (Rust panics are BaseExceptions)
        rec = {
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}"[:2000],
            "traceback": traceback.format_exc()[-4000:],
        }
    rec["process_s"] = time.perf_counter() - t0
    rec["pid"] = os.getpid()
    _io.write_json(out_path, rec, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
