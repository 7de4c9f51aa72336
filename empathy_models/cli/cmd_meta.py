"""``empathy-models fit meta``: Bayesian meta-analysis of a table of effects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empathy_models.cli import common as c
from empathy_models.cli.main import fit_app


@fit_app.command("meta")
def fit_meta(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per effect.")],
    effect: Annotated[str | None, typer.Option("--effect", help="Column of effect sizes.")] = None,
    variance: Annotated[
        str | None, typer.Option("--variance", help="Column of sampling variances.")
    ] = None,
    r: Annotated[str | None, typer.Option("--r", help="Column of correlations.")] = None,
    n: Annotated[str | None, typer.Option("--n", help="Column of sample sizes.")] = None,
    counts: Annotated[
        str | None,
        typer.Option(
            "--counts",
            help="Four 2x2 columns ai,bi,ci,di (treated events, non-events, control events, non-events).",
        ),
    ] = None,
    measure: Annotated[
        str | None, typer.Option("--measure", help="With --counts: rr (log RR) or or (log OR).")
    ] = None,
    correction: Annotated[
        float,
        typer.Option(
            "--correction", help="Added to all cells of tables with a zero cell (0: error)."
        ),
    ] = 0.5,
    study: Annotated[
        str | None,
        typer.Option("--study", help="Column of study ids (multilevel when studies repeat)."),
    ] = None,
    moderator: Annotated[
        list[str] | None,
        typer.Option(
            "--moderator", help="Moderator column (repeatable); text columns are categorical."
        ),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference",
            help="Reference level of a categorical moderator, COL=LEVEL (repeatable).",
        ),
    ] = None,
    drop_missing: Annotated[
        bool, typer.Option("--drop-missing", help="Drop (and count) rows with missing values.")
    ] = False,
    loo_csv: Annotated[
        Path | None,
        typer.Option("--loo-csv", help="Write leave-one-study-out estimates (PSIS) as CSV."),
    ] = None,
    forest: Annotated[
        Path | None, typer.Option("--forest", help="Write a forest plot (PNG).")
    ] = None,
    funnel: Annotated[
        Path | None, typer.Option("--funnel", help="Write a funnel plot (PNG).")
    ] = None,
    out: c.OutOpt = Path("meta.nc"),
    priors: c.PriorsOpt = None,
    sampler: c.SamplerOpt = "nutpie",
    backend: c.BackendOpt = "numba",
    draws: c.DrawsOpt = 1000,
    tune: c.TuneOpt = 1000,
    chains: c.ChainsOpt = 4,
    seed: c.SeedOpt = 0,
    target_accept: c.TargetAcceptOpt = 0.9,
    progress: c.ProgressOpt = None,
    summary_csv: c.SummaryCsvOpt = None,
) -> None:
    """Meta-analysis: pooled effect, tau, I^2, moderators, prediction interval."""
    from empathy_models import MetaAnalysis, fit
    from empathy_models.results.meta import leave_one_study_out

    refs = {}
    for item in reference or []:
        if "=" not in item:
            raise typer.BadParameter(f"--reference must be COL=LEVEL, got {item!r}")
        k, v = item.split("=", 1)
        refs[k] = v
    spec = MetaAnalysis(
        effect=effect,
        variance=variance,
        r=r,
        n=n,
        counts=tuple(x.strip() for x in counts.split(",")) if counts else None,
        measure=measure,
        correction=correction,
        study=study,
        moderators=tuple(moderator or ()),
        reference=refs or None,
        missing_outcome="drop" if drop_missing else "error",
        missing_predictor="drop" if drop_missing else "error",
        priors=c.parse_priors(priors),
    )
    sargs = c.SamplerArgs(sampler, backend, draws, tune, chains, seed, target_accept, progress)
    result = fit(spec, data, **sargs.kwargs())
    c.write_outputs(result, out, summary_csv)
    if loo_csv is not None:
        loo_csv.parent.mkdir(parents=True, exist_ok=True)
        leave_one_study_out(result).to_csv(loo_csv, index=False)
        typer.echo(f"wrote {loo_csv}")
    if forest is not None or funnel is not None:
        from empathy_models.results.meta import plot_funnel
        from empathy_models.results.meta import plot_meta_forest as plot_forest

        if forest is not None:
            plot_forest(result, forest)
            typer.echo(f"wrote {forest}")
        if funnel is not None:
            plot_funnel(result, funnel)
            typer.echo(f"wrote {funnel}")
