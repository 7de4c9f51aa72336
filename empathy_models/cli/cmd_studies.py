"""``empathy-models sbc``, ``power`` and ``recovery``: simulation studies on Dask."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from empathy_models.cli import options as o
from empathy_models.cli.app import app
from empathy_models.cli.output import echo

Folder = click.Path(path_type=Path, file_okay=False)

#: Sampler settings a study sets itself for every fit: a seed per replicate, one core per fit,
#: no per-fit progress bar (``--progress`` shows the study's).
STUDY_FIXED = ("seed", "progressbar", "cores")


def study_options(sims: int) -> Callable:
    """The options every study command shares (``sims``: the default number of replicates)."""
    decorators = [
        click.option(
            "--sims", type=int, default=sims, show_default=True,
            help="Number of replicates (per design cell).",
        ),
        click.option(
            "--scheduler",
            help="Address of a running Dask scheduler (default: a local cluster).",
        ),
        click.option(
            "--workers", type=int, default=2, show_default=True,
            help="Local cluster: worker processes, one thread each.",
        ),
        click.option(
            "--seed", type=int, default=0, show_default=True,
            help="Study seed (replicate i gets seed (seed, i)).",
        ),
        click.option(
            "--progress/--no-progress", default=True, show_default=True,
            help="Progress bar of the study.",
        ),
    ]  # fmt: skip

    def deco(f):
        for d in reversed(decorators):
            f = d(f)
        return f

    return deco


def sampler_block() -> list[o.GeneratedOption]:
    """Sampler settings of every fit of a study (the study preset's defaults)."""
    return o.sampler_options(preset="study", exclude=STUDY_FIXED)


def plan_from(values: dict):
    """The study's :class:`SamplerSettings` (study preset, updated with the given settings)."""
    from empathy_models.studies.fitting import SamplingPlan

    given = o.given(click.get_current_context().command, values)
    return SamplingPlan(**o.split(given, "sampler"))


def families() -> list[str]:
    return sorted(o.manifest()["families"])


@o.add(sampler_block())
@app.command(cls=o.SectionedCommand)
@click.argument("model", type=click.Choice(families()), metavar="MODEL")
@click.option("--out", type=Folder, help="Study folder (default: sbc_<MODEL>).")
@click.option(
    "--alpha", type=float, default=0.01, show_default=True,
    help="Level of the Holm-corrected uniformity test.",
)  # fmt: skip
@study_options(sims=200)
def sbc(model, out, alpha, sims, scheduler, workers, seed, progress, **values) -> None:
    """Simulation-based calibration of a model family (resumes an interrupted study).

    MODEL: a model family, as in ``empathy-models fit``.
    """
    from empathy_models.studies.sbc import family_summary, plot_sbc, run_sbc, uniformity

    out = out or Path(f"sbc_{model}")
    table = run_sbc(
        model, sims, seed=seed, out_dir=out, plan=plan_from(values),
        scheduler=scheduler, workers=workers, progress=progress,
    )  # fmt: skip
    table.to_csv(out / "ranks.csv", index=False)
    uni = uniformity(table)
    uni.to_csv(out / "uniformity.csv", index=False)
    plot_sbc(table, model, out / "ecdf.png")
    summ = family_summary(table, alpha=alpha).iloc[0]
    echo(uni.to_string(index=False))
    echo(
        f"{model}: {summ['sims']} simulations, {summ['failed']} failed; min Holm-corrected "
        f"p = {summ['min_p_holm']:.4f} ({summ['worst_parameter']}): "
        f"{'uniform' if summ['pass'] else 'NOT uniform'} at alpha = {alpha}"
    )
    echo(f"wrote {out / 'ranks.csv'}, {out / 'uniformity.csv'}, {out / 'ecdf.png'}")


@o.add(sampler_block())
@app.command(cls=o.SectionedCommand)
@click.option(
    "--question",
    type=click.Choice(["share", "moderation", "optimum"]),
    default="share",
    show_default=True,
    help="What the study is planned around.",
)
@click.option(
    "--therapists",
    default="10,20,40,80",
    show_default=True,
    help="Numbers of therapists, comma-separated.",
)
@click.option("--clients", default="4", show_default=True, help="Clients per therapist (list).")
@click.option("--sessions", default="5", show_default=True, help="Sessions per client (list).")
@click.option("--out", type=Folder, default=Path("power"), show_default=True, help="Study folder.")
@click.option("--true-share", type=float, help="share: true therapist share of alliance.")
@study_options(sims=100)
def power(
    question, therapists, clients, sessions, out, true_share, sims, scheduler, workers, seed,
    progress, **values,
) -> None:  # fmt: skip
    """Power vs therapists, clients per therapist and sessions per client (CSV + PNG)."""
    from empathy_models.studies.power import plot_power, power_table, run_power

    table = run_power(
        question, therapists=therapists, clients=clients, sessions=sessions, sims=sims,
        out_dir=out, seed=seed, plan=plan_from(values), true_share=true_share,
        scheduler=scheduler, workers=workers, progress=progress,
    )  # fmt: skip
    table.to_csv(out / f"{question}_replicates.csv", index=False)
    pw = power_table(table)
    pw.to_csv(out / f"{question}_power.csv", index=False)
    plot_power(pw, out / f"{question}_power.png")
    echo(pw.to_string(index=False))
    echo(f"wrote {out / f'{question}_power.csv'} and {out / f'{question}_power.png'}")


@o.add(sampler_block())
@app.command(cls=o.SectionedCommand)
@click.option(
    "--therapists", default="10,20,40", show_default=True,
    help="Numbers of therapists, comma-separated.",
)  # fmt: skip
@click.option("--clients", default="4", show_default=True, help="Clients per therapist (list).")
@click.option("--sessions", default="5", show_default=True, help="Sessions per client (list).")
@click.option("--measure", default="alliance", show_default=True, help="Measure to partition.")
@click.option(
    "--out", type=Folder, default=Path("recovery"), show_default=True, help="Study folder."
)
@study_options(sims=100)
def recovery(
    therapists, clients, sessions, measure, out, sims, scheduler, workers, seed, progress,
    **values,
) -> None:  # fmt: skip
    """Bias, RMSE and 50%/90% interval coverage of the variance partition across designs."""
    from empathy_models.studies.recovery import recovery_table, run_recovery

    table = run_recovery(
        therapists=therapists, clients=clients, sessions=sessions, sims=sims, out_dir=out,
        measure=measure, seed=seed, plan=plan_from(values), scheduler=scheduler,
        workers=workers, progress=progress,
    )  # fmt: skip
    rec = recovery_table(table)
    rec.to_csv(out / "recovery.csv", index=False)
    echo(rec.to_string(index=False))
    echo(f"wrote {out / 'recovery.csv'}")
