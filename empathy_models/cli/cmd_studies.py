"""``empathy-models sbc``, ``power`` and ``recovery``: simulation studies on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empathy_models.cli.main import app

SimsOpt = Annotated[int, typer.Option("--sims", help="Number of replicates (per design cell).")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Address of a running Dask scheduler (default: a local cluster)."
    ),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", help="Local cluster: worker processes, one thread each.")
]
StudySeedOpt = Annotated[int, typer.Option("--seed", help="Study seed (replicate i: (seed, i)).")]
DrawsOpt = Annotated[int, typer.Option("--draws", help="Kept draws per chain of every fit.")]
TuneOpt = Annotated[int, typer.Option("--tune", help="Warm-up draws per chain of every fit.")]
ChainsOpt = Annotated[int, typer.Option("--chains", help="Chains of every fit.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar.")]


def _plan(draws: int, tune: int, chains: int):
    from empathy_models.studies.fitting import SamplingPlan

    return SamplingPlan(draws=draws, tune=tune, chains=chains)


@app.command()
def sbc(
    model: Annotated[str, typer.Argument(help="Model family, e.g. variance, meta, circuit.")],
    sims: SimsOpt = 200,
    out: Annotated[
        Path | None, typer.Option("--out", help="Study folder (default: sbc_<MODEL>).")
    ] = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    seed: StudySeedOpt = 0,
    draws: DrawsOpt = 250,
    tune: TuneOpt = 300,
    chains: ChainsOpt = 2,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Level of the Holm-corrected uniformity test.")
    ] = 0.01,
    progress: ProgressOpt = True,
) -> None:
    """Simulation-based calibration of a model family (resumes an interrupted study)."""
    from empathy_models.studies.sbc import family_summary, plot_sbc, run_sbc, uniformity

    out = out or Path(f"sbc_{model}")
    table = run_sbc(
        model, sims, seed=seed, out_dir=out, plan=_plan(draws, tune, chains),
        scheduler=scheduler, workers=workers, progress=progress,
    )  # fmt: skip
    table.to_csv(out / "ranks.csv", index=False)
    uni = uniformity(table)
    uni.to_csv(out / "uniformity.csv", index=False)
    plot_sbc(table, model, out / "ecdf.png")
    summ = family_summary(table, alpha=alpha).iloc[0]
    typer.echo(uni.to_string(index=False))
    typer.echo(
        f"{model}: {summ['sims']} simulations, {summ['failed']} failed; min Holm-corrected "
        f"p = {summ['min_p_holm']:.4f} ({summ['worst_parameter']}): "
        f"{'uniform' if summ['pass'] else 'NOT uniform'} at alpha = {alpha}"
    )
    typer.echo(f"wrote {out / 'ranks.csv'}, {out / 'uniformity.csv'}, {out / 'ecdf.png'}")


@app.command()
def power(
    question: Annotated[
        str, typer.Option("--question", help="share | moderation | optimum")
    ] = "share",
    therapists: Annotated[
        str, typer.Option("--therapists", help="Numbers of therapists, e.g. 10,20,40,80.")
    ] = "10,20,40,80",
    clients: Annotated[str, typer.Option("--clients", help="Clients per therapist.")] = "4",
    sessions: Annotated[str, typer.Option("--sessions", help="Sessions per client.")] = "5",
    sims: SimsOpt = 100,
    out: Annotated[Path, typer.Option("--out", help="Study folder.")] = Path("power"),
    true_share: Annotated[
        float | None,
        typer.Option("--true-share", help="share: true therapist share of alliance."),
    ] = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    seed: StudySeedOpt = 0,
    draws: DrawsOpt = 250,
    tune: TuneOpt = 300,
    chains: ChainsOpt = 2,
    progress: ProgressOpt = True,
) -> None:
    """Power vs therapists, clients per therapist and sessions per client (CSV + PNG)."""
    from empathy_models.studies.power import plot_power, power_table, run_power

    table = run_power(
        question, therapists=therapists, clients=clients, sessions=sessions, sims=sims,
        out_dir=out, seed=seed, plan=_plan(draws, tune, chains), true_share=true_share,
        scheduler=scheduler, workers=workers, progress=progress,
    )  # fmt: skip
    table.to_csv(out / f"{question}_replicates.csv", index=False)
    pw = power_table(table)
    pw.to_csv(out / f"{question}_power.csv", index=False)
    plot_power(pw, out / f"{question}_power.png")
    typer.echo(pw.to_string(index=False))
    typer.echo(f"wrote {out / f'{question}_power.csv'} and {out / f'{question}_power.png'}")


@app.command()
def recovery(
    therapists: Annotated[str, typer.Option("--therapists", help="e.g. 10,20,40.")] = "10,20,40",
    clients: Annotated[str, typer.Option("--clients", help="Clients per therapist.")] = "4",
    sessions: Annotated[str, typer.Option("--sessions", help="Sessions per client.")] = "5",
    measure: Annotated[str, typer.Option("--measure", help="Measure to partition.")] = "alliance",
    sims: SimsOpt = 100,
    out: Annotated[Path, typer.Option("--out", help="Study folder.")] = Path("recovery"),
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = 2,
    seed: StudySeedOpt = 0,
    draws: DrawsOpt = 250,
    tune: TuneOpt = 300,
    chains: ChainsOpt = 2,
    progress: ProgressOpt = True,
) -> None:
    """Bias, RMSE and 50%/90% interval coverage of the variance partition across designs."""
    from empathy_models.studies.recovery import recovery_table, run_recovery

    table = run_recovery(
        therapists=therapists, clients=clients, sessions=sessions, sims=sims, out_dir=out,
        measure=measure, seed=seed, plan=_plan(draws, tune, chains), scheduler=scheduler,
        workers=workers, progress=progress,
    )  # fmt: skip
    rec = recovery_table(table)
    rec.to_csv(out / "recovery.csv", index=False)
    typer.echo(rec.to_string(index=False))
    typer.echo(f"wrote {out / 'recovery.csv'}")
