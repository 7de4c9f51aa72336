"""Issue-6 speed check: the emotional circuit on 40,000 moments (200 dyads x 10 x 20).

``python benchmarks/circuit_40k.py [--backend jax|numba] [--out benchmarks/results]`` fits
``EmotionalCircuit`` to ``simulate_circuit(40, 5, 10, 20, seed=1)`` (40 therapists x 5
clients = 200 dyads, 10 sessions, 20 moments) with 4 chains x 1,000 draws after 1,000 tuning
steps and writes ``circuit_40k.json``: wall time (compilation included), minimum bulk and
tail ESS over the reported parameters, ESS per second, divergences, R-hat, and the true vs
recovered population couplings.
The true therapist SD of the throttle is an option: at 0 (no therapist differences) the
centred form has a funnel at the boundary (see docs/circuit.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from worker import ess_stats  # benchmarks/worker.py: the suite's ESS over reported names


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
    import empathy_models as em
    from empathy_models.data.simulate import simulate_circuit
    from empathy_models.models.circuit import EmotionalCircuit

    df, truth = simulate_circuit(40, 5, 10, 20, sd_throttle=args.sd_throttle, seed=args.seed)
    t_import = time.perf_counter() - t0
    centered = {"auto": None, "yes": True, "no": False}[args.centered]
    spec = EmotionalCircuit(throttle_phases=("exposure", "processing"), centered=centered)
    t1 = time.perf_counter()
    res = em.fit(
        spec,
        df,
        draws=1000,
        tune=1000,
        chains=4,
        seed=args.seed,
        backend=args.backend,
        progressbar=False,
        log_likelihood=False,
    )
    wall = time.perf_counter() - t1
    ess = ess_stats(res.idata, res.reported)
    min_b, min_t = ess["min_ess_bulk"], ess["min_ess_tail"]
    recovered = {}
    for name, true in truth.items():
        if name in res.posterior and np.isscalar(true) and res.posterior[name].ndim == 2:
            v = res.posterior[name].values.ravel()
            recovered[name] = {
                "true": float(true),
                "mean": float(v.mean()),
                "q05": float(np.quantile(v, 0.05)),
                "q95": float(np.quantile(v, 0.95)),
            }
    rec = {
        "rows": len(df),
        "design": "40 therapists x 5 clients (200 dyads) x 10 sessions x 20 moments",
        "backend": args.backend,
        "chains": 4,
        "draws": 1000,
        "tune": 1000,
        "seed": args.seed,
        "sd_throttle_true": args.sd_throttle,
        "centered": args.centered,
        "import_and_simulate_s": t_import,
        "fit_wall_s": wall,
        "timing": res.timing,
        "min_ess_bulk": min_b,
        "min_ess_tail": min_t,
        "ess_per_s": min_b / wall,
        "diagnostics": res.diagnostics,
        "recovered": recovered,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "empathy_models": em.__version__,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{args.backend}_sdthr{args.sd_throttle:g}_{args.centered}"
    (out / f"circuit_40k_{tag}.json").write_text(json.dumps(rec, indent=1, default=str))
    print(json.dumps({k: rec[k] for k in ("rows", "fit_wall_s", "min_ess_bulk", "ess_per_s")}))
    print(json.dumps(recovered, indent=1))


if __name__ == "__main__":
    main()
