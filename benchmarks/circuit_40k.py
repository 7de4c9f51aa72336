"""Issue-6 speed check: the emotional circuit on 40,000 moments (200 dyads x 10 x 20).

``python benchmarks/circuit_40k.py [--backend jax|numba] [--out benchmarks/results]`` fits
``EmotionalCircuit`` to ``simulate_circuit(40, 5, 10, 20, seed=1)`` (40 therapists x 5
clients = 200 dyads, 10 sessions, 20 moments; ``cases.circuit_40k_case``) with 4 chains x
1,000 draws after 1,000 tuning steps and writes ``circuit_40k_<backend>_sdthr<S>_<form>.json``:
wall time (compilation included), minimum bulk and tail ESS over the reported parameters, ESS
per second (``measure.py``, the suite's definition), R-hat, and the true vs recovered
population couplings.
The true therapist SD of the throttle is an option: at 0 (no therapist differences) the
centred form has a funnel at the boundary (see docs/circuit.md).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases  # noqa: E402
from measure import fit_record, timed_fit  # noqa: E402

MCMC = {"chains": 4, "draws": 1000, "tune": 1000}


def recovered(posterior, truth: dict) -> dict:
    """True value, posterior mean and 90% interval of every scalar parameter with a truth."""
    out = {}
    for name, true in truth.items():
        if name in posterior and np.isscalar(true) and posterior[name].ndim == 2:
            v = posterior[name].values.ravel()
            out[name] = {
                "true": float(true),
                "mean": float(v.mean()),
                "q05": float(np.quantile(v, 0.05)),
                "q95": float(np.quantile(v, 0.95)),
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="jax", choices=("jax", "numba"))
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--sd-throttle", type=float, default=0.05, help="true therapist SD of the throttle"
    )
    ap.add_argument(
        "--centered", choices=("auto", "yes", "no"), default="auto", help="therapist effects' form"
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    centered = {"auto": None, "yes": True, "no": False}[args.centered]
    spec, df, truth = cases.circuit_40k_case(args.sd_throttle, centered, args.seed)
    t_import = time.perf_counter() - t0  # the package's import included
    from empathy_models import _io

    sampler = f"nutpie-{args.backend}"
    res, wall = timed_fit(spec, df, sampler, MCMC, seed=args.seed, warn=True)
    fit = fit_record(res, wall, len(df))
    n_t, n_c, n_s, n_m = cases.CIRCUIT_40K_DESIGN
    rec = {
        "rows": len(df),
        "design": f"{n_t} therapists x {n_c} clients ({n_t * n_c} dyads) x {n_s} sessions x "
        f"{n_m} moments",
        "backend": args.backend,
        **MCMC,
        "seed": args.seed,
        "sd_throttle_true": args.sd_throttle,
        "centered": args.centered,
        "import_and_simulate_s": t_import,
        "fit_wall_s": wall,
        "timing": res.timing,
        "min_ess_bulk": fit["min_ess_bulk"],
        "min_ess_tail": fit["min_ess_tail"],
        "ess_per_s": fit["ess_per_s"],
        "diagnostics": res.diagnostics,
        "recovered": recovered(res.posterior, truth),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "empathy_models": cases.package_version(),
    }
    tag = f"{args.backend}_sdthr{args.sd_throttle:g}_{args.centered}"
    _io.write_json(Path(args.out) / f"circuit_40k_{tag}.json", rec, indent=1)
    print(_io.dumps({k: rec[k] for k in ("rows", "fit_wall_s", "min_ess_bulk", "ess_per_s")}))
    print(_io.dumps(rec["recovered"], indent=1))


if __name__ == "__main__":
    main()
