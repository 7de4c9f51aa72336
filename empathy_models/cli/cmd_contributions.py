"""``empathy-models fit contributions`` and ``fit raters``: therapist vs client contributions
(latent between/within disaggregation) and the multi-rater partition."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empathy_models.cli import common as c
from empathy_models.cli.main import fit_app


@fit_app.command("contributions")
def fit_contributions(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per session.")],
    predictor: Annotated[
        str, typer.Option("--predictor", help="Session-level predictor (e.g. alliance).")
    ],
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome column.")],
    outcome_level: Annotated[
        str,
        typer.Option(
            "--outcome-level",
            help="session (the outcome LAG sessions later in the same client) | client "
            "(one value per client, repeated on its rows).",
        ),
    ] = "session",
    lag: Annotated[
        int, typer.Option("--lag", help="Session outcome: sessions ahead (1 = next, 0 = same).")
    ] = 1,
    centering: Annotated[
        str,
        typer.Option("--centering", help="latent (default) | observed (biased; comparison only)."),
    ] = "latent",
    session_trend: Annotated[
        bool,
        typer.Option("--session-trend", help="Add the outcome session's number as a covariate."),
    ] = False,
    centered_latent: Annotated[
        bool,
        typer.Option(
            "--centered-latent",
            help="Sample the latent therapist/client parts centred (many sessions per client).",
        ),
    ] = False,
    out: c.OutOpt = Path("contributions.nc"),
    therapist: c.TherapistOpt = "therapist",
    client: c.ClientOpt = "client",
    session: c.SessionOpt = "session",
    covariate: c.CovariateOpt = None,
    bounds: Annotated[
        str | None, typer.Option("--bounds", help="Scale bounds of the predictor, e.g. 1,7.")
    ] = None,
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
) -> None:
    """Therapist vs client contributions: beta_therapist, beta_client, beta_session."""
    from empathy_models.inference.fit import fit
    from empathy_models.models.contributions import Contributions

    roles = c.roles_from(therapist=therapist, client=client, session=session)
    spec = Contributions(
        predictor=predictor,
        outcome=outcome,
        outcome_level=outcome_level,
        lag=lag,
        covariates=tuple(covariate or ()),
        centering=centering,
        session_trend=session_trend,
        centered=centered_latent,
        bounds=tuple(float(v) for v in bounds.split(",")) if bounds else None,
        priors=c.parse_priors(priors),
    )
    sargs = c.SamplerArgs(sampler, backend, draws, tune, chains, seed, target_accept, progress)
    result = fit(spec, data, roles, **sargs.kwargs())
    c.write_outputs(result, out, summary_csv)


@fit_app.command("raters")
def fit_raters(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file of ratings.")],
    measure: Annotated[
        str | None,
        typer.Option("--measure", help="Long format: the measure column (with --rater)."),
    ] = None,
    measures: Annotated[
        str | None,
        typer.Option(
            "--measures", help="Wide format: measure columns, e.g. a_client,a_ther,a_obs."
        ),
    ] = None,
    raters: Annotated[
        str | None,
        typer.Option(
            "--raters",
            help="Declared rater labels, comma-separated (long default: client,therapist,observer; "
            "wide: labels of the --measures columns).",
        ),
    ] = None,
    rater: c.RaterOpt = "rater",
    lkj_eta: Annotated[float, typer.Option("--lkj-eta", help="LKJ prior shape.")] = 2.0,
    out: c.OutOpt = Path("raters.nc"),
    therapist: c.TherapistOpt = "therapist",
    client: c.ClientOpt = "client",
    session: c.SessionOpt = "session",
    bounds: Annotated[
        str | None, typer.Option("--bounds", help="Scale bounds of the ratings, e.g. 1,7.")
    ] = None,
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
) -> None:
    """Multi-rater partition: per-rater shares and cross-rater correlations by level."""
    from empathy_models.inference.fit import fit
    from empathy_models.models.raters import RaterPartition

    if (measure is None) == (measures is None):
        c.fail("give either --measure (long format, with --rater) or --measures (wide format)")
    roles = c.roles_from(therapist=therapist, client=client, session=session, rater=rater)
    levels = tuple(r for r in ("therapist", "client") if roles.column(r) is not None)
    spec = RaterPartition(
        measure=measure,
        measures=tuple(m.strip() for m in measures.split(",")) if measures else (),
        raters=tuple(r.strip() for r in raters.split(",")) if raters else None,
        levels=levels,
        lkj_eta=lkj_eta,
        bounds=tuple(float(v) for v in bounds.split(",")) if bounds else None,
        priors=c.parse_priors(priors),
    )
    sargs = c.SamplerArgs(sampler, backend, draws, tune, chains, seed, target_accept, progress)
    result = fit(spec, data, roles, **sargs.kwargs())
    c.write_outputs(result, out, summary_csv)
