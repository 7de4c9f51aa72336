"""The ``empathy-models`` command line."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from empathy_models.cli import common as c
from empathy_models.data.simulate import SHIPPED_SEED
from empathy_models.errors import EmpathyModelsError

app = typer.Typer(
    help="Bayesian hierarchical models for psychotherapy process research.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
fit_app = typer.Typer(help="Fit a model family to a CSV/Parquet file.", no_args_is_help=True)
app.add_typer(fit_app, name="fit")


@fit_app.command("variance")
def fit_variance(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per occasion.")],
    measure: Annotated[str, typer.Option("--measure", help="Column of the measure to partition.")],
    out: c.OutOpt = Path("variance.nc"),
    therapist: c.TherapistOpt = "therapist",
    client: c.ClientOpt = "client",
    session: c.SessionOpt = "session",
    covariate: c.CovariateOpt = None,
    random_slope: Annotated[
        str | None,
        typer.Option("--random-slope", help="Covariate with a client-level random slope."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Sample random effects explicitly instead of integrating them out."
        ),
    ] = False,
    bounds: Annotated[
        str | None, typer.Option("--bounds", help="Scale bounds of the measure, e.g. 1,7.")
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
    """Variance partition: therapist, client, session and residual shares of a measure."""
    from empathy_models import VariancePartition, fit

    roles = c.roles_from(therapist=therapist, client=client, session=session)
    levels = tuple(r for r in ("therapist", "client") if roles.column(r) is not None)
    lo_hi = tuple(float(v) for v in bounds.split(",")) if bounds else None
    spec = VariancePartition(
        measure=measure,
        covariates=tuple(covariate or ()),
        levels=levels,
        random_slope=random_slope,
        marginalized=False if full else None,
        bounds=lo_hi,
        priors=c.parse_priors(priors),
    )
    sargs = c.SamplerArgs(sampler, backend, draws, tune, chains, seed, target_accept, progress)
    result = fit(spec, data, roles, **sargs.kwargs())
    c.write_outputs(result, out, summary_csv)


@app.command()
def summary(
    result: Annotated[Path, typer.Argument(help="A result file written by `fit`.")],
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the table as CSV.")] = None,
) -> None:
    """Print the summary table of a saved result."""
    from empathy_models import load_result

    r = load_result(result)
    typer.echo(repr(r))
    table = r.summary()
    c.print_table(table)
    for k, v in r.probabilities.items():
        typer.echo(f"{k} = {v:.3f}")
    if csv:
        table.to_csv(csv, index_label="parameter")


@app.command()
def report(
    result: Annotated[Path, typer.Argument(help="A result file written by `fit`.")],
    out: Annotated[
        Path, typer.Option("--out", help="Report file: .md (Markdown) or .html.")
    ] = Path("report.md"),
    ci_prob: Annotated[float, typer.Option("--ci-prob", help="Interval probability.")] = 0.9,
) -> None:
    """Write a Markdown or HTML report (tables, probabilities, figure, provenance)."""
    from empathy_models import load_result
    from empathy_models.results.report import write_report

    path = write_report(load_result(result), out, ci_prob=ci_prob)
    typer.echo(f"wrote {path}")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the simulated study into.")],
    seed: Annotated[int, typer.Option("--seed")] = SHIPPED_SEED,
    therapists: Annotated[int, typer.Option("--therapists")] = 40,
    clients: Annotated[int, typer.Option("--clients", help="Clients per therapist.")] = 6,
    sessions: Annotated[int, typer.Option("--sessions", help="Sessions per client.")] = 10,
    moments: Annotated[
        int, typer.Option("--moments", help="EMA moments per session (0: none).")
    ] = 12,
    form: Annotated[
        str, typer.Option("--form", help="inverted_u | linear | saturating")
    ] = "inverted_u",
) -> None:
    """Simulate a study with known truth (CSV files plus truth.json)."""
    from empathy_models.data.simulate import StudyDesign, simulate_study

    design = StudyDesign(
        n_therapists=therapists,
        clients_per_therapist=clients,
        sessions_per_client=sessions,
        moments_per_session=moments,
        form=form,
    )
    study = simulate_study(design, seed=seed)
    study.write(out)
    typer.echo(f"wrote simulated study (seed {seed}) to {out}")


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's tables, results and figure.")
    ] = Path("demo_output"),
    draws: Annotated[int, typer.Option("--draws")] = 1000,
    tune: Annotated[int, typer.Option("--tune")] = 1000,
    chains: Annotated[int, typer.Option("--chains")] = 4,
    seed: Annotated[int, typer.Option("--seed")] = 1,
) -> None:
    """Variance partition of alliance and each empathy subcomponent on the shipped data."""
    from empathy_models.demo import run_demo

    t0 = time.perf_counter()
    run_demo(out, draws=draws, tune=tune, chains=chains, seed=seed)
    typer.echo(f"demo finished in {time.perf_counter() - t0:.1f} s; outputs in {out.resolve()}")


def _load_plugins() -> None:
    """Import every ``empathy_models.cli.cmd_*`` module: each adds its commands."""
    import empathy_models.cli as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"empathy_models.cli.{info.name}")


_load_plugins()


def main(argv: list[str] | None = None) -> None:
    """Entry point: data and usage errors exit with status 2 and a one-line message."""
    try:
        app(args=argv, standalone_mode=True)
    except EmpathyModelsError as exc:
        c.fail(str(exc))
    except FileNotFoundError as exc:
        c.fail(str(exc))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
