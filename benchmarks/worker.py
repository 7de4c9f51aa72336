"""One measurement, in a process of its own: ``python worker.py TASK.json OUT.json``.

A fresh process per measurement keeps measurements apart: compile caches in memory, JAX's
state and the peak resident memory (``ru_maxrss``) of one fit do not leak into the next, and
a crash or a hang ends one measurement, not the suite. ``run.py`` writes the task, starts
this script with a time limit and reads the record it writes.

Task kinds
----------
``family``
    Fit one model family at one size with one sampler; time the whole ``empathy_models.fit``
    call (validation, model building, compilation, sampling, post-processing).
``scaling``
    Read a CSV, validate, fit and summarize the variance partition, timed together.
``statsmodels``
    statsmodels MixedLM REML point estimate of the same variance partition (read included).
``rscript``
    Run an R peer script (``peers/*.R``) and report its JSON plus its peak memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def ess_stats(idata, names: list[str]) -> dict:
    """Min bulk / tail ESS and max R-hat over ``names`` (every element of every array)."""
    import arviz_stats as azs
    import numpy as np

    post = idata["posterior"].to_dataset()
    names = [n for n in names if n in post.data_vars]
    ds = post[names]
    out = {"ess_params": names}
    per = {}
    for key, fn in (
        ("ess_bulk", lambda d: azs.ess(d, method="bulk")),
        ("ess_tail", lambda d: azs.ess(d, method="tail")),
        ("r_hat", azs.rhat),
    ):
        res = fn(ds)
        vals = {n: np.asarray(res[n].values, dtype=float).ravel() for n in names}
        per[key] = vals
    bulk = np.concatenate([v for v in per["ess_bulk"].values()]) if names else np.array([])
    tail = np.concatenate([v for v in per["ess_tail"].values()]) if names else np.array([])
    rhat = np.concatenate([v for v in per["r_hat"].values()]) if names else np.array([])
    bulk = bulk[np.isfinite(bulk)]
    tail = tail[np.isfinite(tail)]
    rhat = rhat[np.isfinite(rhat)]
    out["min_ess_bulk"] = float(bulk.min()) if bulk.size else float("nan")
    out["min_ess_tail"] = float(tail.min()) if tail.size else float("nan")
    out["max_rhat"] = float(rhat.max()) if rhat.size else float("nan")
    worst = min(per["ess_bulk"], key=lambda n: np.nanmin(per["ess_bulk"][n]), default="")
    out["worst_ess_param"] = worst
    return out


def divergences(idata) -> int:
    import numpy as np

    if "sample_stats" not in idata.children:
        return 0
    ss = idata["sample_stats"].to_dataset()
    for name in ("diverging", "divergences"):
        if name in ss:
            return int(np.asarray(ss[name].values).astype(bool).sum())
    return 0


def _fit_record(result, wall_s: float, rows_in: int) -> dict:
    timing = result.timing or {}
    ess = ess_stats(result.idata, result.reported)
    ds = result.data_summary or {}
    rec = {
        "rows": rows_in,
        "rows_used": ds.get("rows_used"),
        "compile_s": timing.get("compile_s"),
        "sample_s": timing.get("sample_s"),
        "sampler_total_s": timing.get("total_s"),
        "wall_s": wall_s,
        **ess,
        "ess_per_s": ess["min_ess_bulk"] / wall_s if wall_s > 0 else None,
        "divergences": divergences(result.idata),
        "n_draws": int(
            result.posterior.sizes.get("chain", 0) * result.posterior.sizes.get("draw", 0)
        ),
    }
    return rec


def run_family(task: dict) -> dict:
    import cases

    size = cases.SIZES[task["size"]]
    spec, data, rows = cases.family_case(task["family"], size, task["data_seed"])
    sampler, backend = cases.SAMPLERS[task["sampler"]]
    import empathy_models as em

    t0 = time.perf_counter()
    result = em.fit(
        spec,
        data,
        sampler=sampler,
        backend=backend,
        draws=task["draws"],
        tune=task["tune"],
        chains=task["chains"],
        seed=task["seed"],
        progressbar=False,
        log_likelihood=task.get("log_likelihood", False),
        warn=False,
    )
    wall = time.perf_counter() - t0
    return _fit_record(result, wall, rows)


def run_scaling(task: dict) -> dict:
    import cases

    import empathy_models as em

    rss_before = _peak_rss_mb()
    spec = cases.scaling_spec(task["marginalized"])
    sampler, backend = cases.SAMPLERS[task["sampler"]]
    t0 = time.perf_counter()
    data = em.read_table(task["csv"])
    t1 = time.perf_counter()
    result = em.fit(
        spec,
        data,
        sampler=sampler,
        backend=backend,
        draws=task["draws"],
        tune=task["tune"],
        chains=task["chains"],
        seed=task["seed"],
        progressbar=False,
        log_likelihood=task.get("log_likelihood", False),
        warn=False,
    )
    t2 = time.perf_counter()
    summary = result.summary()
    t3 = time.perf_counter()
    rec = _fit_record(result, t3 - t0, len(data))
    rec.update(
        {
            "read_s": t1 - t0,
            "fit_s": t2 - t1,
            "summary_s": t3 - t2,
            "peak_rss_mb": _peak_rss_mb(),
            "rss_after_import_mb": rss_before,
            "estimates": {k: float(summary.loc[k, "mean"]) for k in summary.index},
        }
    )
    return rec


def run_statsmodels(task: dict) -> dict:
    import cases
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf

    measure = cases.SCALING_MEASURE
    t0 = time.perf_counter()
    df = pd.read_csv(task["csv"])
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm(
            f"{measure} ~ 1",
            df,
            groups=df["therapist"],
            re_formula="1",
            vc_formula={"client": "0 + C(client)"},
        )
        res = model.fit(reml=True, method=["lbfgs"])
    t2 = time.perf_counter()
    sd_t = float(np.sqrt(res.cov_re.iloc[0, 0]))
    sd_c = float(np.sqrt(res.vcomp[0]))
    sigma = float(np.sqrt(res.scale))
    total = sd_t**2 + sd_c**2 + sigma**2
    return {
        "rows": len(df),
        "read_s": t1 - t0,
        "fit_s": t2 - t1,
        "wall_s": t2 - t0,
        "converged": bool(res.converged),
        "peak_rss_mb": _peak_rss_mb(),
        "estimates": {
            "Intercept": float(res.fe_params.iloc[0]),
            "sd_therapist": sd_t,
            "sd_client": sd_c,
            "sigma": sigma,
            "share_therapist": sd_t**2 / total,
            "share_client": sd_c**2 / total,
            "share_residual": sigma**2 / total,
        },
    }


def run_rscript(task: dict, out_path: Path) -> dict:
    rjson = out_path.with_suffix(".r.json")
    cmd = ["Rscript", str(HERE / "peers" / task["script"]), task["csv"], str(rjson)]
    cmd += [str(a) for a in task.get("args", [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not rjson.exists():
        tail = (proc.stderr or proc.stdout)[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {tail}")
    rec = json.loads(rjson.read_text())
    rjson.unlink()
    rec["process_wall_s"] = wall
    rec["peak_rss_mb"] = _peak_rss_mb(resource.RUSAGE_CHILDREN)
    return rec


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


def main(argv: list[str]) -> int:
    task_path, out_path = Path(argv[0]), Path(argv[1])
    task = json.loads(task_path.read_text())
    kind = task["kind"]
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "family":
                rec = run_family(task)
            elif kind == "scaling":
                rec = run_scaling(task)
            elif kind == "statsmodels":
                rec = run_statsmodels(task)
            elif kind == "rscript":
                rec = run_rscript(task, out_path)
            else:
                raise ValueError(f"unknown task kind {kind!r}")
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
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec, indent=1, default=float))
    tmp.replace(out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
