"""When does empathy help? ERP vs MI slopes of the empathy subcomponents (SPEC model 4).

Fits :class:`~empathy_models.ModeratedEffects` to the shipped simulated study (or, when the
simulator is not installed, to the module's own generator), prints the per-intervention
slopes, the MI-minus-ERP contrasts with their probability of direction and ROPE share, and
the simulator's truth, and writes the tables (CSV) and figures (PNG).

    python examples/moderation.py --out moderation_output [--fast] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd


def load_data(seed: int, fast: bool):
    """Sessions and the true slopes: shipped study when available."""
    try:
        from empathy_models.data.simulate import load_shipped_study
    except ImportError:  # pragma: no cover - simulator absent
        load_shipped_study = None
    if load_shipped_study is not None:
        study = load_shipped_study()
        sessions = study.sessions
        if fast:  # a third of the therapists keeps the example quick
            keep = sorted(sessions["therapist"].unique())[::3]
            sessions = sessions[sessions["therapist"].isin(keep)]
        mod = study.truth["moderation"]
        # a model linear in the subcomponents estimates the marginal slopes (form term on)
        truth = mod.get("marginal", mod)
        return sessions.reset_index(drop=True), truth["slope"], truth["contrast"], "shipped study"
    from empathy_models.data.simulate import simulate_moderation_data

    df, truth = simulate_moderation_data(seed=seed, n_therapists=12 if fast else 30)
    return df, truth["slope"], truth["contrast"], "moderation generator"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("moderation_output"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fast", action="store_true", help="tiny settings for CI")
    parser.add_argument("--rope", type=float, default=0.1)
    args = parser.parse_args(argv)

    import empathy_models as em
    from empathy_models.models.moderation import ModeratedEffects
    from empathy_models.results.moderation import (
        contrast_table,
        plot_conditional_effects,
        plot_contrast_forest,
        slope_table,
    )

    args.out.mkdir(parents=True, exist_ok=True)
    data, true_slope, true_contrast, source = load_data(args.seed, args.fast)
    covariates = tuple(c for c in ("alliance",) if c in data.columns)
    spec = ModeratedEffects(
        outcome="outcome", covariates=covariates, intervention_levels=("ERP", "MI"), rope=args.rope
    )
    draws, tune, chains = (200, 200, 2) if args.fast else (1000, 1000, 4)
    t0 = time.perf_counter()
    result = em.fit(spec, data, draws=draws, tune=tune, chains=chains, seed=args.seed)
    wall = time.perf_counter() - t0

    slopes = slope_table(result)
    slopes["truth"] = [
        true_slope.get(r.subcomponent, {}).get(r.intervention, float("nan"))
        for r in slopes.itertuples()
    ]
    contrasts = contrast_table(result)
    contrasts["truth"] = [
        true_contrast.get(r.subcomponent, {}).get(r.pair, float("nan"))
        for r in contrasts.itertuples()
    ]
    slopes.to_csv(args.out / "slopes.csv", index=False)
    contrasts.to_csv(args.out / "contrasts.csv", index=False)
    result.summary().to_csv(args.out / "summary.csv", index_label="parameter")
    plot_conditional_effects(result, args.out / "conditional_effects.png")
    plot_contrast_forest(result, args.out / "contrast_forest.png")

    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(f"data: {source}, {len(data)} sessions; fit {wall:.1f} s")
        print("\nslopes (outcome units per unit of the predictor; truth from the simulator)")
        print(slopes.to_string(index=False))
        print("\ncontrasts (pd = probability of direction; p_rope = share inside the ROPE)")
        print(contrasts.to_string(index=False))
    d = result.diagnostics
    print(
        f"\ndiagnostics: max R-hat {d['max_rhat']:.3f}, min bulk ESS {d['min_ess_bulk']:.0f}, "
        f"divergences {d['divergences']}"
    )
    info = {"wall_s": wall, "diagnostics": d, "source": source}
    (args.out / "run.json").write_text(json.dumps(info, indent=2))
    return {"slopes": slopes, "contrasts": contrasts, "result": result}


if __name__ == "__main__":
    main()
