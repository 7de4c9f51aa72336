"""``empathy-models fit form``: linear, quadratic or smooth outcome-predictor relation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empathy_models.cli import common as c
from empathy_models.cli.main import fit_app


@fit_app.command("form")
def fit_form(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per session.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome column.")],
    predictor: Annotated[str, typer.Option("--predictor", help="Predictor column (empathy).")],
    form: Annotated[
        str, typer.Option("--form", help="linear | quadratic | smooth (HSGP).")
    ] = "quadratic",
    outcome_level: Annotated[
        str,
        typer.Option("--outcome-level", help="session (one row per session) | client."),
    ] = "session",
    predictor_part: Annotated[
        str,
        typer.Option("--predictor-part", help="raw | between (client mean) | within."),
    ] = "raw",
    optimum: Annotated[
        str,
        typer.Option(
            "--optimum",
            help="minimum (outcome is a symptom score, lower is better) | maximum.",
        ),
    ] = "minimum",
    client_outcome: Annotated[
        str,
        typer.Option(
            "--client-outcome", help="Client level: constant | mean | last (session rows)."
        ),
    ] = "constant",
    out: c.OutOpt = Path("form.nc"),
    therapist: c.TherapistOpt = "therapist",
    client: c.ClientOpt = "client",
    session: c.SessionOpt = "session",
    covariate: c.CovariateOpt = None,
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
    """Functional form of the outcome-predictor relation, with optimum evidence."""
    from empathy_models.inference.fit import fit
    from empathy_models.models.form import FunctionalForm

    roles = c.roles_from(therapist=therapist, client=client, session=session)
    levels = tuple(r for r in ("therapist", "client") if roles.column(r) is not None)
    spec = FunctionalForm(
        outcome=outcome,
        predictor=predictor,
        form=form,
        outcome_level=outcome_level,
        predictor_part=predictor_part,
        covariates=tuple(covariate or ()),
        levels=levels,
        optimum=optimum,
        client_outcome=client_outcome,
        priors=c.parse_priors(priors),
    )
    sargs = c.SamplerArgs(sampler, backend, draws, tune, chains, seed, target_accept, progress)
    result = fit(spec, data, roles, **sargs.kwargs())
    c.write_outputs(result, out, summary_csv)
    info = result.info
    if "vertex_median" in info:
        verdict = "reported" if info["optimum_reported"] else "NOT reported"
        typer.echo(
            f"vertex {info['vertex_median']:.3g} (90% interval {info['vertex_q05']:.3g} to "
            f"{info['vertex_q95']:.3g}); observed range (5th-95th pct) {info['range_q05']:.3g} "
            f"to {info['range_q95']:.3g}; optimum ({info['optimum']}) {verdict} at evidence "
            f"{info['evidence']}"
        )
