"""The peers' fits of the scaling data, each run in a worker process (``worker.py``).

``statsmodels``: MixedLM REML point estimate of the 3-level variance partition (reading the
CSV included). ``rscript``: an R peer script (``peers/lme4_fit.R``, ``peers/brms_fit.R``),
whose JSON is the record, plus the peak memory of the R process.
"""

from __future__ import annotations

import resource
import subprocess
import time
import warnings
from pathlib import Path

import cases
from measure import peak_rss_mb

from empathy_models import _io

HERE = Path(__file__).resolve().parent


def run_statsmodels(task: dict) -> dict:
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
        "peak_rss_mb": peak_rss_mb(),
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
    rec = _io.read_json(rjson)
    rjson.unlink()
    rec["process_wall_s"] = wall
    rec["peak_rss_mb"] = peak_rss_mb(resource.RUSAGE_CHILDREN)
    return rec
