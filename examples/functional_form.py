"""Is there an optimal level of empathy? Linear vs quadratic, compared by PSIS-LOO.

On the shipped simulated study (session outcome = symptom score with a U-shape in empathy,
i.e. an inverted-U benefit), fit the outcome on client-rated empathy in a linear and a
quadratic form inside the therapist/client multilevel structure, compare them by PSIS-LOO,
and report the optimum (vertex) with its interval, the optimum evidence and the two-lines
check, next to the simulator's truth.

Writes ``comparison.csv``, ``optimum.csv``, ``summary_<form>.csv``, ``<form>.nc`` and
``functional_form.png`` into ``--out``.

Usage::

    python examples/functional_form.py --out form_output          # full run
    python examples/functional_form.py --fast --out /tmp/form      # seconds, for CI
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from empathy_models.data.roles import Roles
from empathy_models.data.simulate import simulate_form_data
from empathy_models.inference.fit import fit
from empathy_models.models.form import FunctionalForm
from empathy_models.results.compare import compare
from empathy_models.results.form import optimum_table, plot_form


def load_data(seed: int, fast: bool) -> tuple[pd.DataFrame, dict, list[str], str]:
    """Shipped study if the simulator is available, else the module's small generator."""
    try:
        from empathy_models.data.simulate import load_shipped_study

        study = load_shipped_study()
        df = study.sessions
        if fast:  # a subset of therapists keeps CI quick
            keep = sorted(df["therapist"].unique())[:20]
            df = df[df["therapist"].isin(keep)]
        truth = study.truth.get("form", {})
        return df, truth, ["session", "alliance"], "shipped study"
    except ImportError:
        df, truth = simulate_form_data("inverted_u", seed=seed)
        return df, truth, [], "simulate_form_data('inverted_u')"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings (CI smoke run)")
    parser.add_argument("--out", type=Path, default=Path("functional_form_output"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    draws, tune, chains = (200, 200, 2) if args.fast else (1000, 1000, 4)

    df, truth, covariates, source = load_data(args.seed, args.fast)
    print(f"data: {source}, {len(df)} session rows")
    results, timings = {}, {}
    for form in ("linear", "quadratic"):
        spec = FunctionalForm(
            outcome="outcome",
            predictor="empathy",
            form=form,
            covariates=tuple(covariates),
            optimum="minimum",  # outcome is a symptom score: the optimum minimizes it
        )
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if args.fast else "default")
            res = fit(spec, df, Roles(), draws=draws, tune=tune, chains=chains, seed=args.seed)
        timings[form] = time.perf_counter() - t0
        res.save(out / f"{form}.nc")
        res.summary().to_csv(out / f"summary_{form}.csv", index_label="parameter")
        results[form] = res
        d = res.diagnostics
        print(
            f"{form}: {timings[form]:.1f} s, min bulk ESS {d['min_ess_bulk']:.0f}, "
            f"max R-hat {d['max_rhat']:.3f}, divergences {d['divergences']}"
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if args.fast else "default")
        table = compare(results)
    table.to_csv(out / "comparison.csv", index_label="model")
    opt = optimum_table(results["quadratic"])
    true_vertex = truth.get("vertex") if isinstance(truth, dict) else None
    marginal = truth.get("marginal", {}) if isinstance(truth, dict) else {}
    opt["true_vertex"] = true_vertex
    opt["true_vertex_marginal"] = marginal.get("vertex")
    opt.to_csv(out / "optimum.csv", index=False)
    plot_form(results, out / "functional_form.png")

    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print("\nPSIS-LOO comparison (best first):")
        print(table[["elpd", "se", "elpd_diff", "dse", "weight", "n_pareto_k_bad"]].to_string())
        print("\nquadratic fit:")
        print(results["quadratic"].summary()[["mean", "eti90_lb", "eti90_ub"]].to_string())
    row = opt.iloc[0]
    best = table.index[0]
    diff = table.iloc[1]
    print(
        f"\npreferred by LOO: {best} (elpd difference {diff['elpd_diff']:.1f}, "
        f"SE {diff['dse']:.1f}, {'decisive' if diff['decisive'] else 'not decisive'}: rule |diff| > 4 and > 2 SE)"
    )
    print(
        f"optimum (symptom minimum) at empathy {row['vertex']:.2f}, 90% interval "
        f"[{row['vertex_lower']:.2f}, {row['vertex_upper']:.2f}]; true vertex {true_vertex}"
        + (
            f" (marginal over interventions {marginal['vertex']:.3f})"
            if marginal.get("vertex") is not None
            else ""
        )
    )
    print(
        f"P(beta_quadratic > 0) = {row['p_quadratic_positive']:.3f}, "
        f"P(beta_quadratic < 0) = {row['p_quadratic_negative']:.3f}, "
        f"P(vertex in 5th-95th pct [{row['range_q05']:.2f}, {row['range_q95']:.2f}]) = "
        f"{row['p_vertex_in_range']:.3f}"
    )
    print(
        f"two lines at {row['breakpoint']:.2f}: slope below {row['slope_below_vertex']:.2f}, "
        f"above {row['slope_above_vertex']:.2f}, P(opposite signs, optimum direction) = "
        f"{row['p_two_lines_optimum']:.3f} -> optimum "
        f"{'REPORTED' if row['optimum_reported'] else 'NOT reported'}"
    )
    print(f"outputs in {out.resolve()}")
    return {"comparison": table, "optimum": opt, "results": results, "timings": timings}


if __name__ == "__main__":
    main()
