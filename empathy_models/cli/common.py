"""Options and helpers shared by every ``empathy-models fit ...`` command."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from empathy_models.data.roles import Roles

TherapistOpt = Annotated[
    str, typer.Option("--therapist", help="Column of therapist ids ('none' to switch off).")
]
ClientOpt = Annotated[
    str, typer.Option("--client", help="Column of client ids ('none' to switch off).")
]
SessionOpt = Annotated[
    str, typer.Option("--session", help="Column of session numbers ('none' to switch off).")
]
MomentOpt = Annotated[str, typer.Option("--moment", help="Column of EMA moment order.")]
InterventionOpt = Annotated[
    str, typer.Option("--intervention", help="Column of intervention labels.")
]
PhaseOpt = Annotated[str, typer.Option("--phase", help="Column of within-session phase labels.")]
RaterOpt = Annotated[str, typer.Option("--rater", help="Column of rater labels (long format).")]
CovariateOpt = Annotated[
    list[str] | None,
    typer.Option("--covariate", help="Fixed-effect covariate column (repeatable)."),
]
SamplerOpt = Annotated[str, typer.Option("--sampler", help="nutpie | numpyro | blackjax | pymc.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="nutpie backend: numba | jax.")]
DrawsOpt = Annotated[int, typer.Option("--draws", help="Kept draws per chain.")]
TuneOpt = Annotated[int, typer.Option("--tune", help="Warm-up draws per chain.")]
ChainsOpt = Annotated[int, typer.Option("--chains", help="Number of chains.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]
TargetAcceptOpt = Annotated[float, typer.Option("--target-accept", help="NUTS target acceptance.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Result file to write (.nc or .zarr).")]
SummaryCsvOpt = Annotated[
    Path | None, typer.Option("--summary-csv", help="Also write the summary table as CSV.")
]
PriorsOpt = Annotated[
    str | None,
    typer.Option(
        "--priors",
        help='Prior overrides as JSON, e.g. \'{"sd_therapist": {"dist": "HalfNormal", "kwargs": {"sigma": 0.5}}}\'.',
    ),
]
ProgressOpt = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress", help="Progress bar (default: only in a terminal)."),
]


def roles_from(
    therapist: str = "therapist",
    client: str = "client",
    session: str = "session",
    moment: str = "moment",
    intervention: str = "intervention",
    phase: str = "phase",
    rater: str = "rater",
    crossed: bool = False,
) -> Roles:
    """Build :class:`Roles`; the literal ``none`` switches a role off."""

    def norm(v: str) -> str | None:
        return None if v.lower() == "none" else v

    return Roles(
        therapist=norm(therapist),
        client=norm(client),
        session=norm(session),
        moment=norm(moment),
        intervention=norm(intervention),
        phase=norm(phase),
        rater=norm(rater),
        crossed=crossed,
    )


def parse_priors(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        out = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--priors is not valid JSON: {exc}") from None
    if not isinstance(out, dict):
        raise typer.BadParameter("--priors must be a JSON object of name -> prior")
    return out


@dataclass
class SamplerArgs:
    sampler: str
    backend: str
    draws: int
    tune: int
    chains: int
    seed: int
    target_accept: float
    progress: bool | None

    def kwargs(self) -> dict:
        return {
            "sampler": self.sampler,
            "backend": self.backend,
            "draws": self.draws,
            "tune": self.tune,
            "chains": self.chains,
            "seed": self.seed,
            "target_accept": self.target_accept,
            "progressbar": self.progress,
        }


def write_outputs(result, out: Path, summary_csv: Path | None) -> None:
    """Save the result, print the summary, optionally write the summary CSV."""
    result.save(out)
    table = result.summary()
    print_table(table)
    for k, v in result.probabilities.items():
        typer.echo(f"{k} = {v:.3f}")
    if summary_csv is not None:
        summary_csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(summary_csv, index_label="parameter")
    d = {k: (float("nan") if v is None else v) for k, v in result.diagnostics.items()}
    typer.echo(
        f"diagnostics: max R-hat {d['max_rhat']:.3f}, min bulk ESS {d['min_ess_bulk']:.0f}, "
        f"min tail ESS {d['min_ess_tail']:.0f}, divergences {d['divergences']}"
    )
    typer.echo(f"wrote {out}")


def print_table(table: pd.DataFrame) -> None:
    cols = [
        c
        for c in table.columns
        if c in ("mean", "sd", "ess_bulk", "ess_tail", "r_hat") or c.startswith("eti")
    ]
    with pd.option_context(
        "display.width", 160, "display.max_rows", 200, "display.float_format", "{:.4g}".format
    ):
        typer.echo(table[cols].to_string())


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    sys.exit(2)
