"""Parameter recovery and interval coverage across designs.

:class:`RecoveryTask` simulates a whole study with
:func:`empathy_models.data.simulate.simulate_study` (known truth, named as the models name
it), fits the variance partition of one measure (the package's model as users fit it,
standardized, compiled once per design and reused) and returns, per reported parameter, the
truth, the posterior mean and the 5/25/50/75/95% quantiles. :func:`recovery_table` turns any
such table (SBC tables included) into bias, RMSE and the coverage of the central 50% and 90%
intervals per design and parameter; coverage has a Wilson interval so that a miss is judged
against Monte Carlo error.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from empathy_models.data.simulate import StudyDesign, simulate_study
from empathy_models.models.variance import VariancePartition
from empathy_models.studies.engine import make_client, run_study, sampler_seed
from empathy_models.studies.fitting import (
    SamplingPlan,
    fit_replicate,
)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
VARIANCE_PARAMETERS = (
    "Intercept",
    "sd_therapist",
    "sd_client",
    "sigma",
    "share_therapist",
    "share_client",
    "share_residual",
)


@dataclass(frozen=True)
class RecoveryTask:
    """Variance partition of ``measure`` on a simulated study of the given size."""

    therapists: int
    clients: int
    sessions: int
    measure: str = "alliance"
    plan: SamplingPlan = field(default_factory=SamplingPlan)

    def config(self) -> dict:
        return {
            "kind": "recovery",
            "family": "variance",
            "measure": self.measure,
            "therapists": self.therapists,
            "clients": self.clients,
            "sessions": self.sessions,
            "plan": self.plan.to_dict(),
        }

    def __call__(self, index: int, ss: np.random.SeedSequence) -> list[dict]:
        s_seed = sampler_seed(ss)
        design = StudyDesign(
            n_therapists=self.therapists,
            clients_per_therapist=self.clients,
            sessions_per_client=self.sessions,
            moments_per_session=0,
            include_ratings=False,
        )
        study = simulate_study(design, seed=int(ss.generate_state(1, dtype=np.uint32)[0]))
        truth = study.truth["variance"][self.measure]
        spec = VariancePartition(measure=self.measure)
        post, info = fit_replicate(spec, spec.prepare(study.sessions), self.plan, s_seed)
        rows = []
        for name in VARIANCE_PARAMETERS:
            v = post[name].values.ravel()
            q = np.quantile(v, QUANTILES)
            rows.append(
                {
                    "family": "variance",
                    "therapists": self.therapists,
                    "clients": self.clients,
                    "sessions": self.sessions,
                    "parameter": name,
                    "truth": float(truth[name]),
                    "mean": float(v.mean()),
                    **{f"q{int(100 * p):02d}": float(x) for p, x in zip(QUANTILES, q, strict=True)},
                    "divergences": info["divergences"],
                }
            )
        return rows


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(method="wilson")
    return float(ci.low), float(ci.high)


def recovery_table(table: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Bias, RMSE, and 50% / 90% central-interval coverage per design and parameter.

    ``table`` needs ``parameter``, ``truth``, ``mean``, ``q05``, ``q25``, ``q75``, ``q95``;
    ``by`` are the design columns (default: those of therapists/clients/sessions/family
    present).
    """
    ok = table[table["status"] == "ok"] if "status" in table else table
    if by is None:
        by = [c for c in ("family", "therapists", "clients", "sessions") if c in ok.columns]
    rows = []
    for key, g in ok.groupby([*by, "parameter"], sort=False):
        err = g["mean"] - g["truth"]
        in50 = ((g["q25"] <= g["truth"]) & (g["truth"] <= g["q75"])).to_numpy()
        in90 = ((g["q05"] <= g["truth"]) & (g["truth"] <= g["q95"])).to_numpy()
        lo50, hi50 = _wilson(int(in50.sum()), len(g))
        lo90, hi90 = _wilson(int(in90.sum()), len(g))
        rows.append(
            {
                **dict(zip([*by, "parameter"], key, strict=True)),
                "sims": len(g),
                "truth_mean": float(g["truth"].mean()),
                "bias": float(err.mean()),
                "rmse": float(np.sqrt((err**2).mean())),
                "coverage50": float(in50.mean()),
                "coverage50_lo": lo50,
                "coverage50_hi": hi50,
                "coverage90": float(in90.mean()),
                "coverage90_lo": lo90,
                "coverage90_hi": hi90,
            }
        )
    return pd.DataFrame(rows)


def run_recovery(
    *,
    therapists,
    clients=(4,),
    sessions=(5,),
    sims: int,
    out_dir: str | Path,
    measure: str = "alliance",
    seed: int = 0,
    plan: SamplingPlan | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """Run (or resume) recovery studies over a design grid; returns the tidy table."""
    from empathy_models.studies.power import _ints

    plan = plan or SamplingPlan()
    client = make_client(scheduler, workers)
    tables = []
    try:
        for t, c, s in itertools.product(_ints(therapists), _ints(clients), _ints(sessions)):
            task = RecoveryTask(t, c, s, measure, plan)
            tab = run_study(
                task, sims, seed=seed, out_dir=Path(out_dir) / f"T{t}_C{c}_S{s}",
                client=client, progress=progress,
            )  # fmt: skip
            tables.append(tab.assign(therapists=t, clients=c, sessions=s))
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()
    return pd.concat(tables, ignore_index=True)


__all__ = ["RecoveryTask", "recovery_table", "run_recovery"]
