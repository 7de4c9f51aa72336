"""``empathy-models simulate``, ``demo`` and ``cache``."""

from __future__ import annotations

import time
from pathlib import Path

import click

from empathy_models.cli import options as o
from empathy_models.cli.app import app
from empathy_models.cli.output import echo
from empathy_models.defaults import SHIPPED_SEED

Folder = click.Path(path_type=Path, file_okay=False)


@app.command()
@click.option("--out", type=Folder, required=True, help="Folder to write the simulated study into.")
@click.option("--seed", type=int, default=SHIPPED_SEED, show_default=True, help="Simulation seed.")
@click.option("--therapists", type=int, default=40, show_default=True, help="Therapists.")
@click.option("--clients", type=int, default=6, show_default=True, help="Clients per therapist.")
@click.option("--sessions", type=int, default=10, show_default=True, help="Sessions per client.")
@click.option(
    "--moments", type=int, default=12, show_default=True, help="EMA moments per session (0: none)."
)
@click.option(
    "--form",
    type=click.Choice(["inverted_u", "linear", "saturating"]),
    default="inverted_u",
    show_default=True,
    help="True form of the empathy-outcome relation.",
)
def simulate(
    out: Path, seed: int, therapists: int, clients: int, sessions: int, moments: int, form: str
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
    simulate_study(design, seed=seed).write(out)
    echo(f"wrote simulated study (seed {seed}) to {out}")


DEMO_SETTINGS = ("draws", "tune", "chains", "seed")


@o.add(o.sampler_options(include=DEMO_SETTINGS, defaults={"seed": 1}))
@app.command(cls=o.SectionedCommand)
@click.option(
    "--out",
    type=Folder,
    default=Path("demo_output"),
    show_default=True,
    help="Folder for the demo's tables, results and figure.",
)
def demo(out: Path, **values) -> None:
    """Variance partition of alliance and each empathy subcomponent on the shipped data."""
    from empathy_models.demo import run_demo

    settings = {
        "seed": 1,
        **o.split(o.given(click.get_current_context().command, values), "sampler"),
    }
    t0 = time.perf_counter()
    run_demo(out, **settings)
    echo(f"demo finished in {time.perf_counter() - t0:.1f} s; outputs in {out.resolve()}")


@app.command()
@click.option("--clear", is_flag=True, help="Delete the cache folder.")
def cache(clear: bool) -> None:
    """Show (or clear) the folder where compiled models are cached across processes."""
    from empathy_models import _cache

    if clear:
        echo(f"deleted {_cache.clear()}")
    else:
        root = _cache.cache_dir()
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0
        echo(f"{root} ({size / 1e6:.1f} MB; set {_cache.ENV_VAR} to move it)")
