"""Timing a fit and its ESS per second: the suite's one definition of both.

ESS/s is the minimum bulk ESS over every element of the parameters a result reports
(``Result.reported``: the SDs, shares, couplings a user reads, not only the sampled ones)
divided by the wall time of the whole ``fit`` call, compilation included (for the scaling
data also reading the CSV and ``summary()``). ``worker.py`` runs :func:`measure_family` and
:func:`measure_scaling` in fresh processes; ``circuit_40k.py`` uses :func:`timed_fit` and
:func:`fit_record` directly.
"""

from __future__ import annotations

import resource
import time

import cases


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process (or of its waited-for children)."""
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def timed_fit(spec, data, sampler: str, mcmc: dict, *, seed: int, warn: bool = False):
    """``(result, seconds)`` of one :func:`cases.fit` call, compilation included."""
    t0 = time.perf_counter()
    result = cases.fit(spec, data, sampler, mcmc, seed=seed, warn=warn)
    return result, time.perf_counter() - t0


def ess_stats(idata, names: list[str]) -> dict:
    """Min bulk / tail ESS and max R-hat over ``names`` (every element of every array)."""
    import arviz_stats as azs
    import numpy as np

    post = idata["posterior"].to_dataset()
    names = [n for n in names if n in post.data_vars]
    ds = post[names]
    per = {}
    for key, fn in (
        ("ess_bulk", lambda d: azs.ess(d, method="bulk")),
        ("ess_tail", lambda d: azs.ess(d, method="tail")),
        ("r_hat", azs.rhat),
    ):
        res = fn(ds)
        per[key] = {n: np.asarray(res[n].values, dtype=float).ravel() for n in names}

    def finite(key: str):
        vals = np.concatenate(list(per[key].values())) if names else np.array([])
        return vals[np.isfinite(vals)]

    bulk, tail, rhat = finite("ess_bulk"), finite("ess_tail"), finite("r_hat")
    return {
        "ess_params": names,
        "min_ess_bulk": float(bulk.min()) if bulk.size else float("nan"),
        "min_ess_tail": float(tail.min()) if tail.size else float("nan"),
        "max_rhat": float(rhat.max()) if rhat.size else float("nan"),
        "worst_ess_param": min(
            per["ess_bulk"], key=lambda n: np.nanmin(per["ess_bulk"][n]), default=""
        ),
    }


def divergences(idata) -> int:
    import numpy as np

    if "sample_stats" not in idata.children:
        return 0
    ss = idata["sample_stats"].to_dataset()
    for name in ("diverging", "divergences"):
        if name in ss:
            return int(np.asarray(ss[name].values).astype(bool).sum())
    return 0


def fit_record(result, wall_s: float, rows_in: int) -> dict:
    """The measured numbers of one fit; ``wall_s`` is what ESS/s divides by."""
    timing = result.timing or {}
    ess = ess_stats(result.idata, result.reported)
    ds = result.data_summary or {}
    return {
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


def _mcmc(task: dict) -> dict:
    return {k: task[k] for k in ("draws", "tune", "chains")}


def measure_family(task: dict) -> dict:
    """One model family at one size with one sampler; wall = the whole ``fit`` call."""
    size = cases.SIZES[task["size"]]
    spec, data, rows = cases.family_case(task["family"], size, task["data_seed"])
    result, wall = timed_fit(spec, data, task["sampler"], _mcmc(task), seed=task["seed"])
    return fit_record(result, wall, rows)


def measure_agreement(task: dict) -> dict:
    """Read the CSV, validate, fit and summarize the crossed rating model, timed together."""
    rss_before = peak_rss_mb()
    spec = cases.agreement_spec()
    t0 = time.perf_counter()
    data = cases.read_table(task["csv"])
    read_s = time.perf_counter() - t0
    result, fit_s = timed_fit(spec, data, task["sampler"], _mcmc(task), seed=task["seed"])
    t2 = time.perf_counter()
    summary = result.summary()
    summary_s = time.perf_counter() - t2
    rec = fit_record(result, read_s + fit_s + summary_s, len(data))
    scalars = [k for k in summary.index if "[" not in k]
    rec.update(
        {
            "read_s": read_s,
            "fit_s": fit_s,
            "summary_s": summary_s,
            "peak_rss_mb": peak_rss_mb(),
            "rss_after_import_mb": rss_before,
            "estimates": {k: float(summary.loc[k, "mean"]) for k in scalars},
            "intervals": {
                k: [float(summary.loc[k, "eti90_lb"]), float(summary.loc[k, "eti90_ub"])]
                for k in scalars
            },
            "info": result.info,
        }
    )
    return rec


def measure_scaling(task: dict) -> dict:
    """Read the CSV, validate, fit and summarize the variance partition, timed together."""
    rss_before = peak_rss_mb()
    spec = cases.scaling_spec(task["marginalized"])
    t0 = time.perf_counter()
    data = cases.read_table(task["csv"])
    read_s = time.perf_counter() - t0
    result, fit_s = timed_fit(spec, data, task["sampler"], _mcmc(task), seed=task["seed"])
    t2 = time.perf_counter()
    summary = result.summary()
    summary_s = time.perf_counter() - t2
    rec = fit_record(result, read_s + fit_s + summary_s, len(data))
    rec.update(
        {
            "read_s": read_s,
            "fit_s": fit_s,
            "summary_s": summary_s,
            "peak_rss_mb": peak_rss_mb(),
            "rss_after_import_mb": rss_before,
            "estimates": {k: float(summary.loc[k, "mean"]) for k in summary.index},
        }
    )
    return rec
