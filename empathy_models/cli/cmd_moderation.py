"""``empathy-models fit moderation``: intervention-moderated slopes of empathy subcomponents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empathy_models.cli import common as c
from empathy_models.cli.main import fit_app


@fit_app.command("moderation")
def fit_moderation(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per session.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Column of the session outcome.")],
    moderator: Annotated[
        str, typer.Option("--moderator", help="Column of intervention labels (e.g. ERP/MI).")
    ] = "intervention",
    predictors: Annotated[
        str,
        typer.Option("--predictors", help="Comma-separated predictor columns."),
    ] = "affect_sharing,mentalizing,empathic_concern",
    levels: Annotated[
        str | None,
        typer.Option("--levels", help="Declared moderator levels, e.g. ERP,MI (default: data)."),
    ] = None,
    rope: Annotated[
        float, typer.Option("--rope", help="ROPE half-width for the contrasts (default 0.1).")
    ] = 0.1,
    rope_scale: Annotated[
        str, typer.Option("--rope-scale", help="std (outcome SD per predictor SD) | raw.")
    ] = "std",
    out: c.OutOpt = Path("moderation.nc"),
    therapist: c.TherapistOpt = "therapist",
    client: c.ClientOpt = "client",
    session: c.SessionOpt = "session",
    covariate: c.CovariateOpt = None,
    no_therapist_slopes: Annotated[
        bool, typer.Option("--no-therapist-slopes", help="Drop the therapist random slopes.")
    ] = False,
    priors: c.PriorsOpt = None,
    sampler: c.SamplerOpt = "nutpie",
    backend: c.BackendOpt = "numba",
    draws: c.DrawsOpt = 1000,
    tune: c.TuneOpt = 1000,
    chains: c.ChainsOpt = 4,
    seed: c.SeedOpt = 0,
    target_accept: c.TargetAcceptOpt = 0.8,
    progress: c.ProgressOpt = None,
    summary_csv: c.SummaryCsvOpt = None,
    contrasts_csv: Annotated[
        Path | None, typer.Option("--contrasts-csv", help="Write the contrast table as CSV.")
    ] = None,
) -> None:
    """Slopes per intervention, contrasts, probability of direction and ROPE shares."""
    from empathy_models import fit
    from empathy_models.models.moderation import ModeratedEffects
    from empathy_models.results.moderation import contrast_table

    roles = c.roles_from(
        therapist=therapist, client=client, session=session, intervention=moderator
    )
    groups = tuple(r for r in ("therapist", "client") if roles.column(r) is not None)
    spec = ModeratedEffects(
        outcome=outcome,
        predictors=tuple(p.strip() for p in predictors.split(",") if p.strip()),
        covariates=tuple(covariate or ()),
        intervention_levels=tuple(v.strip() for v in levels.split(",")) if levels else None,
        levels=groups,
        therapist_slopes=(not no_therapist_slopes) and "therapist" in groups,
        rope=rope,
        rope_scale=rope_scale,
        priors=c.parse_priors(priors),
    )
    sargs = c.SamplerArgs(sampler, backend, draws, tune, chains, seed, target_accept, progress)
    result = fit(spec, data, roles, **sargs.kwargs())
    c.write_outputs(result, out, summary_csv)
    table = contrast_table(result)
    typer.echo(table.to_string(index=False, float_format="{:.3f}".format))
    if contrasts_csv is not None:
        contrasts_csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(contrasts_csv, index=False)
