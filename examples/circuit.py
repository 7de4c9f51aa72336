"""The therapeutic emotional circuit on the shipped study's EMA moments.

Fits the dyadic VAR(1) of client and therapist affect (SPEC model 5) with the coupling
``phi_tc`` varying by therapist and phase and predicted by the therapist's trait affect
sharing, then

* compares the recovered couplings and the throttle (exposure minus processing coupling)
  with the simulator's truth (``truth_vs_recovered.csv``),
* lists which therapists regulate, i.e. couple less than their trait predicts
  (``therapists.csv``, with their regulation skill from the therapist table),
* draws the per-therapist coupling forest and the impulse responses.

Usage::

    python examples/circuit.py --out circuit_output            # full posterior
    python examples/circuit.py --fast --out /tmp/circuit_fast  # CI smoke run
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="10 therapists, few draws (smoke run).")
    ap.add_argument("--out", type=Path, default=Path("circuit_output"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--backend",
        default="jax",
        help="nutpie backend (jax compiles this model in seconds; numba takes about a minute).",
    )
    args = ap.parse_args(argv)

    import empathy_models as em
    from empathy_models.data.simulate import load_shipped_study
    from empathy_models.models.circuit import EmotionalCircuit
    from empathy_models.results.circuit import (
        impulse_response,
        plot_coupling_forest,
        plot_impulse_response,
        therapist_table,
    )

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    study = load_shipped_study()
    ther = study.therapists[["therapist", "trait_affect_sharing", "regulation"]]
    moments = study.moments.merge(
        ther[["therapist", "trait_affect_sharing"]], on="therapist", how="left"
    )
    truth = study.truth["circuit"]
    if args.fast:
        keep = sorted(moments["therapist"].unique())[:10]
        moments = moments[moments["therapist"].isin(keep)]
        draws, tune = 150, 150
    else:
        draws, tune = 1000, 1000

    spec = EmotionalCircuit(
        therapist_covariate="trait_affect_sharing", throttle_phases=("exposure", "processing")
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = em.fit(
            spec, moments, draws=draws, tune=tune, chains=2, seed=args.seed, backend=args.backend
        )
    wall = time.perf_counter() - t0

    summary = result.summary()
    summary.to_csv(out / "summary.csv", index_label="parameter")

    # truth vs recovered ------------------------------------------------------------------
    post = result.posterior
    rows = []

    def add(name, truth_value, draws_):
        v = np.asarray(draws_).ravel()
        lo, hi = np.quantile(v, [0.05, 0.95])
        rows.append(
            {
                "parameter": name,
                "truth": truth_value,
                "mean": v.mean(),
                "q05": lo,
                "q95": hi,
                "covered": bool(lo <= truth_value <= hi),
            }
        )

    for name in ("phi_cc", "phi_tt", "phi_ct", "innovation_corr", "sigma_client"):
        add(name, truth[name], post[name].values)
    add("sigma_therapist", truth["sigma_therapist"], post["sigma_therapist"].values)
    for ph, val in truth["phi_tc_mean"].items():
        add(f"phi_tc_mean[{ph}]", val, post["phi_tc_mean"].sel(phase=ph).values)
    add("sd_phi_tc", truth["sd_phi_tc"], post["sd_phi_tc"].values)
    add(
        "gamma_trait_affect_sharing",
        truth["gamma_affect_sharing"],
        post["gamma_trait_affect_sharing"].values,
    )
    add("throttle", truth["throttle"], post["throttle"].values)
    tvr = pd.DataFrame(rows)
    tvr.to_csv(out / "truth_vs_recovered.csv", index=False)

    # which therapists regulate ----------------------------------------------------------------
    tab = therapist_table(result).merge(ther, on="therapist", how="left")
    tab["true_phi_tc[processing]"] = [truth["phi_tc"][t]["processing"] for t in tab["therapist"]]
    tab["true_phi_tc[exposure]"] = [truth["phi_tc"][t]["exposure"] for t in tab["therapist"]]
    tab["true_eta"] = [truth["eta"][t] for t in tab["therapist"]]
    tab["regulates"] = tab["p_eta_lt_0"] > 0.9
    tab = tab.sort_values("eta_phi_tc")
    tab.to_csv(out / "therapists.csv", index=False)
    cover = np.mean(
        [
            (r[f"phi_tc[{ph}]_lower"] <= r[f"true_phi_tc[{ph}]"] <= r[f"phi_tc[{ph}]_upper"])
            for _, r in tab.iterrows()
            for ph in ("processing", "exposure")
        ]
    )
    corr_reg = float(np.corrcoef(tab["eta_phi_tc"], tab["regulation"])[0, 1])
    corr_true = float(np.corrcoef(tab["eta_phi_tc"], tab["true_eta"])[0, 1])

    irf = impulse_response(result, steps=10)
    irf.to_csv(out / "impulse_response.csv", index=False)
    plot_coupling_forest(result, out / "coupling_forest.png")
    plot_impulse_response(irf, out / "impulse_response.png")
    result.save(out / "circuit.nc")

    report = {
        "rows": int(len(moments)),
        "lag_pairs": result.data_summary["lag_pairs"]["n_pairs"],
        "fit_wall_s": round(wall, 1),
        "timing": result.timing,
        "min_ess_bulk": result.diagnostics["min_ess_bulk"],
        "max_rhat": result.diagnostics["max_rhat"],
        "divergences": result.diagnostics["divergences"],
        "throttle_true": truth["throttle"],
        "throttle_mean": float(post["throttle"].mean()),
        "P(throttle < 0)": float((post["throttle"] < 0).mean()),
        "phi_tc_interval_coverage_90": float(cover),
        "corr(eta_hat, regulation)": corr_reg,
        "corr(eta_hat, eta_true)": corr_true,
        "regulating_therapists": tab.loc[tab["regulates"], "therapist"].tolist(),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    with pd.option_context("display.width", 140, "display.float_format", "{:.3f}".format):
        print(tvr.to_string(index=False))
        print(
            tab[["therapist", "eta_phi_tc", "p_eta_lt_0", "throttle", "regulation"]]
            .head(8)
            .to_string(index=False)
        )
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
