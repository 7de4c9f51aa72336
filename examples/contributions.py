"""Therapist vs client contributions of alliance and empathy to symptoms (SPEC model 2), the
multi-rater partition, and the bias of observed-mean centering.

Run from the repository root::

    python examples/contributions.py --out contributions_output            # full
    python examples/contributions.py --fast --out /tmp/contrib --seed 3     # CI smoke run

Steps

1. Shipped data (``load_shipped_study()``): client-rated alliance and each empathy
   subcomponent, split into a latent therapist mean, a latent client deviation and a session
   state, predicting the *next* session's symptom score within the same client (covariates:
   baseline severity and session number); alliance also predicting the client-level
   post-treatment score. Estimates are set beside the simulator's truth.
2. Multi-rater partition of alliance rated by client, therapist and observer: per-rater
   therapist shares and cross-rater correlations at the therapist and client level.
3. A simulation: few clients per therapist and few sessions per client (and, for contrast,
   a larger design). Observed-mean centering pulls ``beta_therapist`` towards ``beta_client``
   (the within effect); latent centering does not.

Writes ``contributions_shipped.csv``, ``rater_correlations.csv``, ``rater_shares.csv``,
``centering_bias.csv``, ``centering_bias_summary.csv`` and the figures
``contributions_forest.png`` and ``centering_bias.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import empathy_models as em  # noqa: E402
from empathy_models.data.simulate import load_shipped_study, simulate_contributions  # noqa: E402
from empathy_models.models.contributions import Contributions  # noqa: E402
from empathy_models.models.raters import RaterPartition  # noqa: E402
from empathy_models.results.raters import corr_table  # noqa: E402

SUBCOMPONENTS = ("affect_sharing", "mentalizing", "empathic_concern")
PARAMS = ("beta_therapist", "beta_client", "beta_session", "beta_therapist_minus_client")


def _fit(spec, data, args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return em.fit(
            spec,
            data,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
            sampler=args.sampler,
            progressbar=False,
            **kw,
        )


def _row(result, name):
    v = result.posterior[name].values.ravel()
    return {
        "mean": v.mean(),
        "q05": np.quantile(v, 0.05),
        "q95": np.quantile(v, 0.95),
    }


def shipped_truth(study, predictor: str, level: str, lag: int = 1) -> dict:
    """True coefficients of the shipped design for a session model with ``lag`` or a client
    model (``level="client"``)."""
    t = study.truth
    same_lag = lag == int(t["contributions"].get("session_effect_lag", 0))
    if predictor == "alliance":
        if level == "client":
            c = t["contributions_client"]
            out = {k: c[k] for k in ("beta_therapist", "beta_client")}
        else:
            c = t["contributions"]
            out = {k: c[k] for k in ("beta_therapist", "beta_client")}
            # the shipped session state acts on the outcome session_effect_lag sessions later
            # and session states are independent: at any other lag its effect is 0
            out["beta_session"] = c["beta_session"] if same_lag else 0.0
        out["share_therapist_predictor"] = t["contributions"]["share_therapist_predictor"]
    else:
        # the moderated subcomponent slope acts at every level and on the same session;
        # pooled over interventions (about half ERP, half MI) it is the mean marginal slope
        slopes = t["moderation"]["marginal"]["slope"][predictor]
        b = float(np.mean(list(slopes.values())))
        out = {"beta_therapist": b, "beta_client": b, "beta_session": b if lag == 0 else 0.0}
        out["share_therapist_predictor"] = t["variance"][predictor]["share_therapist"]
    out["beta_therapist_minus_client"] = out["beta_therapist"] - out["beta_client"]
    return out


def analyse_shipped(args, out: Path) -> pd.DataFrame:
    study = load_shipped_study()
    sessions = study.sessions.merge(
        study.clients[["client", "severity", "post_outcome"]], on="client", how="left"
    )
    ratings = study.ratings
    if args.fast:
        keep = sorted(sessions["therapist"].unique())[:12]
        sessions = sessions[sessions["therapist"].isin(keep)]
        ratings = ratings[ratings["therapist"].isin(keep)]
    predictors = ("alliance",) if args.fast else ("alliance", *SUBCOMPONENTS)
    rows = []
    runs = [(p, "session", 1) for p in predictors]
    if not args.fast:
        runs += [("alliance", "session", 0), ("alliance", "client", 0)]
    for predictor, level, lag in runs:
        t0 = time.perf_counter()
        spec = Contributions(
            predictor=predictor,
            outcome="outcome" if level == "session" else "post_outcome",
            outcome_level=level,
            lag=lag,
            covariates=("severity",),
            session_trend=level == "session",
        )
        r = _fit(spec, sessions, args)
        wall = time.perf_counter() - t0
        truth = shipped_truth(study, predictor, level, lag)
        for name in [*PARAMS, "share_therapist_predictor"]:
            if name not in r.reported:
                continue
            rows.append(
                {
                    "predictor": predictor,
                    "outcome_level": level,
                    "lag": lag if level == "session" else np.nan,
                    "parameter": name,
                    **_row(r, name),
                    "truth": truth.get(name, np.nan),
                    "p_beta_therapist_lt_client": r.prob("beta_therapist_minus_client", 0, "<"),
                    "min_ess_bulk": r.diagnostics["min_ess_bulk"],
                    "wall_s": wall,
                }
            )
        print(f"  {predictor} -> {spec.outcome} ({level}, lag {lag}): {wall:.1f} s")
    table = pd.DataFrame(rows)
    table["covered_90"] = (table["q05"] < table["truth"]) & (table["truth"] < table["q95"])
    table.to_csv(out / "contributions_shipped.csv", index=False)
    _forest(table, out / "contributions_forest.png")

    # multi-rater partition of alliance (client, therapist, observer ratings)
    t0 = time.perf_counter()
    r = _fit(RaterPartition(measure="alliance", bounds=(1, 7)), ratings, args)
    ct = corr_table(r)
    rt = study.truth["raters"]["corr"]
    ct["truth"] = [
        rt[lv][a][b] for lv, a, b in zip(ct["level"], ct["rater_a"], ct["rater_b"], strict=True)
    ]
    ct.to_csv(out / "rater_correlations.csv", index=False)
    shares = pd.DataFrame(
        {
            lab: {
                "share_therapist": float(r.posterior["share_therapist"].sel(rater=lab).mean()),
                "share_client": float(r.posterior["share_client"].sel(rater=lab).mean()),
                "share_residual": float(r.posterior["share_residual"].sel(rater=lab).mean()),
            }
            for lab in r.posterior["rater"].values
        }
    ).T
    shares.index.name = "rater"
    shares.to_csv(out / "rater_shares.csv")
    print(f"  raters (alliance): {time.perf_counter() - t0:.1f} s")
    return table


def _forest(table: pd.DataFrame, path: Path) -> None:
    t = table[table["parameter"].isin(PARAMS[:3])].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(t) + 1.2))
    y = np.arange(len(t))[::-1]
    colors = {"beta_therapist": "C0", "beta_client": "C1", "beta_session": "C2"}
    for yi, (_, row) in zip(y, t.iterrows(), strict=True):
        c = colors[row["parameter"]]
        ax.plot([row["q05"], row["q95"]], [yi, yi], color=c)
        ax.plot(row["mean"], yi, "o", color=c)
        ax.plot(row["truth"], yi, "kx")
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{p} ({lv if lv == 'client' else 'next session' if lag == 1 else f'lag {lag:.0f}'}): "
            f"{n.removeprefix('beta_')}"
            for p, lv, lag, n in t[["predictor", "outcome_level", "lag", "parameter"]].to_numpy()
        ],
        fontsize=7,
    )
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("outcome points per rating point (mean, 90% interval; x = truth)")
    ax.set_title("Therapist vs client vs session contributions (shipped data)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def centering_bias(args, out: Path) -> pd.DataFrame:
    """Observed vs latent centering on designs with small and larger clusters."""
    designs = [(2, 3)] if args.fast else [(2, 3), (6, 10)]
    reps = 1 if args.fast else args.reps
    n_t = 60 if args.fast else 100
    rows = []
    for k, n in designs:
        for rep in range(reps):
            df, truth = simulate_contributions(n_t, k, n, seed=args.seed * 1000 + rep)
            for cen in ("latent", "observed"):
                spec = Contributions(
                    predictor="alliance",
                    outcome="post_outcome",
                    outcome_level="client",
                    centering=cen,
                )
                r = _fit(spec, df, args, log_likelihood=False)
                for name in ("beta_therapist", "beta_client"):
                    est = _row(r, name)
                    rows.append(
                        {
                            "clients_per_therapist": k,
                            "sessions_per_client": n,
                            "replicate": rep,
                            "centering": cen,
                            "parameter": name,
                            **est,
                            "truth": truth[name],
                            "error": est["mean"] - truth[name],
                            "covered_90": est["q05"] < truth[name] < est["q95"],
                        }
                    )
        print(f"  bias simulation {k} clients x {n} sessions: done")
    table = pd.DataFrame(rows)
    table.to_csv(out / "centering_bias.csv", index=False)
    summary = (
        table.groupby(["clients_per_therapist", "sessions_per_client", "parameter", "centering"])
        .agg(
            truth=("truth", "first"),
            mean_estimate=("mean", "mean"),
            bias=("error", "mean"),
            rmse=("error", lambda e: float(np.sqrt(np.mean(np.square(e))))),
            coverage_90=("covered_90", "mean"),
            replicates=("error", "size"),
        )
        .reset_index()
    )
    summary.to_csv(out / "centering_bias_summary.csv", index=False)
    _bias_plot(table, out / "centering_bias.png")
    return summary


def _bias_plot(table: pd.DataFrame, path: Path) -> None:
    t = table[table["parameter"] == "beta_therapist"]
    groups = list(t.groupby(["clients_per_therapist", "sessions_per_client"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3.5), squeeze=False)
    for ax, ((k, n), g) in zip(axes[0], groups, strict=True):
        for i, cen in enumerate(("latent", "observed")):
            gg = g[g["centering"] == cen]
            x = i + 0.08 * (np.arange(len(gg)) - (len(gg) - 1) / 2)
            ax.errorbar(
                x,
                gg["mean"],
                yerr=[gg["mean"] - gg["q05"], gg["q95"] - gg["mean"]],
                fmt="o",
                color=f"C{i}",
            )
        ax.axhline(g["truth"].iloc[0], color="k", lw=1, label="true beta_therapist")
        ax.axhline(-1.0, color="grey", ls="--", lw=1, label="beta_client (within)")
        ax.set_xticks([0, 1])
        ax.set_xticklabels(["latent", "observed"])
        ax.set_title(f"{k} clients/therapist, {n} sessions/client", fontsize=9)
        ax.set_ylabel("beta_therapist (mean, 90% interval)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="Tiny settings (CI smoke run).")
    parser.add_argument("--out", type=Path, default=Path("contributions_output"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5, help="Replicates per simulated design.")
    parser.add_argument(
        "--sampler",
        default=None,
        help="Sampler (default: nutpie; pymc with --fast, which compiles faster for a tiny run).",
    )
    args = parser.parse_args(argv)
    args.sampler = args.sampler or ("pymc" if args.fast else "nutpie")
    args.draws, args.tune, args.chains = (100, 100, 1) if args.fast else (1000, 1000, 2)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print("shipped data:")
    table = analyse_shipped(args, args.out)
    print("centering bias:")
    summary = centering_bias(args, args.out)
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        cols = ["predictor", "outcome_level", "parameter", "mean", "q05", "q95", "truth"]
        print(table[cols].to_string(index=False))
        print(summary.to_string(index=False))
    print(f"wrote tables and figures to {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
