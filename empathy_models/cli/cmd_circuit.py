"""``empathy-models fit circuit``: the therapeutic emotional circuit (dyadic VAR(1))."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empathy_models.cli import common as c
from empathy_models.cli.main import fit_app


@fit_app.command("circuit")
def fit_circuit(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per EMA moment.")],
    client_affect: Annotated[
        str, typer.Option("--client-affect", help="Column of the client's momentary affect.")
    ] = "client_affect",
    therapist_affect: Annotated[
        str, typer.Option("--therapist-affect", help="Column of the therapist's momentary affect.")
    ] = "therapist_affect",
    moment: c.MomentOpt = "moment",
    phase: Annotated[
        str,
        typer.Option(
            "--phase", help="Column of within-session phase labels ('none' to switch off)."
        ),
    ] = "phase",
    therapist_covariate: Annotated[
        str | None,
        typer.Option(
            "--therapist-covariate",
            help="Therapist-level column (constant within therapist) predicting the coupling.",
        ),
    ] = None,
    throttle: Annotated[
        str | None,
        typer.Option(
            "--throttle",
            help="Phases of the throttle contrast 'A,B' (A minus B), e.g. exposure,processing.",
        ),
    ] = None,
    common_throttle: Annotated[
        bool,
        typer.Option(
            "--common-throttle", help="Same throttle for every therapist (no sd_throttle)."
        ),
    ] = False,
    moment_step: Annotated[
        int, typer.Option("--moment-step", help="Integer moments pair when they differ by this.")
    ] = 1,
    max_gap: Annotated[
        float | None,
        typer.Option("--max-gap", help="Timestamp moments: longest interval (s) forming a pair."),
    ] = None,
    out: c.OutOpt = Path("circuit.nc"),
    therapist: c.TherapistOpt = "therapist",
    client: c.ClientOpt = "client",
    session: c.SessionOpt = "session",
    crossed: Annotated[
        bool, typer.Option("--crossed", help="Clients may see several therapists.")
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
    irf_csv: Annotated[
        Path | None,
        typer.Option("--irf-csv", help="Also write impulse responses (10 steps) as CSV."),
    ] = None,
) -> None:
    """Emotional circuit: client <-> therapist affect coupling by therapist and phase."""
    from empathy_models import fit
    from empathy_models.models.circuit import EmotionalCircuit
    from empathy_models.results.circuit import impulse_response

    roles = c.roles_from(
        therapist=therapist,
        client=client,
        session=session,
        moment=moment,
        phase=phase,
        crossed=crossed,
    )
    spec = EmotionalCircuit(
        client_affect=client_affect,
        therapist_affect=therapist_affect,
        therapist_covariate=therapist_covariate,
        use_phase=roles.phase is not None,
        throttle_phases=tuple(p.strip() for p in throttle.split(",")) if throttle else None,
        therapist_throttle=not common_throttle,
        moment_step=moment_step,
        max_gap=max_gap,
        priors=c.parse_priors(priors),
    )
    sargs = c.SamplerArgs(sampler, backend, draws, tune, chains, seed, target_accept, progress)
    result = fit(spec, data, roles, **sargs.kwargs())
    c.write_outputs(result, out, summary_csv)
    pairs = result.data_summary.get("lag_pairs", {})
    typer.echo(
        f"lag pairs: {pairs.get('n_pairs')} formed, {pairs.get('broken_by_gap')} broken by gaps, "
        f"{pairs.get('broken_by_missing_affect')} by missing affect; "
        f"unequal spacing: {pairs.get('unequal_spacing')}"
    )
    if irf_csv is not None:
        irf_csv.parent.mkdir(parents=True, exist_ok=True)
        impulse_response(result, steps=10).to_csv(irf_csv, index=False)
