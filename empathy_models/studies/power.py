"""Power analysis: how often a study of a given size detects what it is planned around.

Each replicate simulates a whole study with :func:`empathy_models.data.simulate.simulate_study`
(``StudyDesign`` with the requested numbers of therapists, clients per therapist and sessions
per client; everything else at the simulator's defaults unless overridden), fits the model
that answers the question, and applies a stated decision rule:

``share``
    Variance partition of client-rated ``alliance`` (the package's model, standardized as
    users fit it; compiled once per design and reused). **Detected** when
    ``P(share_therapist > 0.05 | data) > 0.95``. The true share is the simulator's (0.181 by
    default) or ``true_share`` (the therapist SD of alliance is set to give it, client and
    session SDs unchanged).
``moderation``
    Intervention-moderated effects of the three empathy subcomponents on session outcome.
    **Detected** when the probability of direction of the affect-sharing contrast
    (MI minus ERP slope) exceeds 0.95 *and* its sign is the true sign.
``optimum``
    Quadratic functional form of outcome on client-rated empathy. **Detected** when the
    family's optimum rule reports an optimum (``optimum_table``: P(curvature towards the
    optimum), P(vertex inside the observed 5-95% range) and the two-lines check all > 0.95).

Power is the share of replicates detected, with a Wilson 95% interval (:func:`power_table`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from empathy_models.data.simulate import StudyDesign, simulate_study
from empathy_models.errors import ConfigError
from empathy_models.models.variance import VariancePartition
from empathy_models.studies.engine import make_client, run_study, sampler_seed
from empathy_models.studies.fitting import (
    SamplingPlan,
    fit_replicate,
)

QUESTIONS = ("share", "moderation", "optimum")
#: Decision threshold of every rule (posterior probability).
EVIDENCE = 0.95
#: Therapist share that counts as "a therapist effect worth reporting".
SHARE_THRESHOLD = 0.05


def _design(therapists: int, clients: int, sessions: int, true_share: float | None) -> StudyDesign:
    d = StudyDesign(
        n_therapists=int(therapists),
        clients_per_therapist=int(clients),
        sessions_per_client=int(sessions),
        moments_per_session=0,
        include_ratings=False,
    )
    if true_share is not None:
        if not 0 < true_share < 1:
            raise ConfigError(f"true_share must be in (0, 1), got {true_share}")
        rest = d.sd_client_alliance**2 + d.sigma_alliance**2
        d = d.replace(sd_therapist_alliance=float(np.sqrt(true_share / (1 - true_share) * rest)))
    return d


@dataclass(frozen=True)
class PowerTask:
    """One replicate of one design cell of a power study (picklable)."""

    question: str
    therapists: int
    clients: int
    sessions: int
    plan: SamplingPlan = field(default_factory=SamplingPlan)
    true_share: float | None = None

    def __post_init__(self) -> None:
        if self.question not in QUESTIONS:
            raise ConfigError(f"question must be one of {QUESTIONS}, got {self.question!r}")

    def config(self) -> dict:
        return {
            "kind": "power",
            "question": self.question,
            "therapists": self.therapists,
            "clients": self.clients,
            "sessions": self.sessions,
            "plan": self.plan.to_dict(),
            "true_share": self.true_share,
        }

    def __call__(self, index: int, ss: np.random.SeedSequence) -> list[dict]:
        s_seed = sampler_seed(ss)
        data_seed = int(ss.generate_state(1, dtype=np.uint32)[0])
        design = _design(self.therapists, self.clients, self.sessions, self.true_share)
        study = simulate_study(design, seed=data_seed)
        base = {
            "question": self.question,
            "therapists": self.therapists,
            "clients": self.clients,
            "sessions": self.sessions,
        }
        return [{**base, **getattr(self, f"_{self.question}")(study, s_seed)}]

    def _share(self, study, seed: int) -> dict:
        spec = VariancePartition(measure="alliance")
        prepared = spec.prepare(study.sessions)
        post, info = fit_replicate(spec, prepared, self.plan, seed)
        v = post["share_therapist"].values.ravel()
        p = float((v > SHARE_THRESHOLD).mean())
        return {
            "quantity": "share_therapist",
            "truth": float(study.truth["variance"]["alliance"]["share_therapist"]),
            "mean": float(v.mean()),
            "q05": float(np.quantile(v, 0.05)),
            "q95": float(np.quantile(v, 0.95)),
            "probability": p,
            "detected": bool(p > EVIDENCE),
            "divergences": info["divergences"],
        }

    def _moderation(self, study, seed: int) -> dict:
        from empathy_models.models.moderation import ModeratedEffects

        spec = ModeratedEffects(outcome="outcome", levels=("ERP", "MI"))
        prepared = spec.prepare(study.sessions)
        post, info = fit_replicate(spec, prepared, self.plan, seed)
        c = post["contrast"].sel(subcomponent="affect_sharing", pair="MI_minus_ERP").values.ravel()
        truth = float(study.truth["moderation"]["contrast"]["affect_sharing"]["MI_minus_ERP"])
        p_pos = float((c > 0).mean())
        pd_ = max(p_pos, 1 - p_pos)
        right_sign = (p_pos > 0.5) == (truth > 0)
        return {
            "quantity": "contrast[affect_sharing, MI_minus_ERP]",
            "truth": truth,
            "mean": float(c.mean()),
            "q05": float(np.quantile(c, 0.05)),
            "q95": float(np.quantile(c, 0.95)),
            "probability": pd_,
            "detected": bool(pd_ > EVIDENCE and right_sign),
            "divergences": info["divergences"],
        }

    def _optimum(self, study, seed: int) -> dict:
        from empathy_models.models.form import FunctionalForm
        from empathy_models.results.form import optimum_table

        spec = FunctionalForm(
            outcome="outcome", predictor="empathy", form="quadratic", evidence=EVIDENCE
        )
        prepared = spec.prepare(study.sessions)
        post, info = fit_replicate(spec, prepared, self.plan, seed)
        row = optimum_table(info["result"]).iloc[0]
        truth = study.truth["form"]
        return {
            "quantity": "vertex",
            "truth": float(truth.get("vertex", np.nan)) if isinstance(truth, dict) else np.nan,
            "mean": float(row["vertex"]),
            "q05": float(row["vertex_lower"]),
            "q95": float(row["vertex_upper"]),
            "probability": float(row.get("p_optimum", np.nan)),
            "detected": bool(row["optimum_reported"]),
            "divergences": info["divergences"],
        }


def _ints(values) -> list[int]:
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    out = [int(v) for v in values]
    if not out or min(out) < 1:
        raise ConfigError(f"design sizes must be positive integers, got {values!r}")
    return out


def run_power(
    question: str,
    *,
    therapists,
    clients=(6,),
    sessions=(10,),
    sims: int,
    out_dir: str | Path,
    seed: int = 0,
    plan: SamplingPlan | None = None,
    true_share: float | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """Run (or resume) a power study over the grid therapists x clients x sessions.

    Every design cell is a study of its own in ``out_dir/T<t>_C<c>_S<s>`` (replicate ``i`` is
    seeded by ``(seed, i)`` in every cell); one Dask client serves all cells. Returns the
    tidy table of every replicate (one row each).
    """
    if question not in QUESTIONS:
        raise ConfigError(f"question must be one of {QUESTIONS}, got {question!r}")
    plan = plan or SamplingPlan()
    cells = list(itertools.product(_ints(therapists), _ints(clients), _ints(sessions)))
    out = Path(out_dir)
    client = make_client(scheduler, workers)
    tables = []
    try:
        for t, c, s in cells:
            task = PowerTask(question, t, c, s, plan, true_share)
            tab = run_study(
                task, sims, seed=seed, out_dir=out / f"T{t}_C{c}_S{s}", client=client,
                progress=progress,
            )  # fmt: skip
            # failed replicates carry only their error: label them with their cell
            tables.append(tab.assign(question=question, therapists=t, clients=c, sessions=s))
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()
    return pd.concat(tables, ignore_index=True)


def power_table(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Power per design cell with a Wilson interval (failed replicates are excluded and
    counted)."""
    rows = []
    keys = ["question", "therapists", "clients", "sessions"]
    for key, g in table.groupby(keys, sort=True):
        failed = int((g["status"] != "ok").sum())
        g = g[g["status"] == "ok"]
        n, k = len(g), int(g["detected"].astype(bool).sum())
        if n == 0:
            continue
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "sims": n,
                "failed": failed,
                "truth": float(g["truth"].iloc[0]),
                "power": k / n,
                "power_lo": ci.low,
                "power_hi": ci.high,
                "mean_estimate": float(g["mean"].mean()),
                "mean_probability": float(g["probability"].mean()),
            }
        )
    return pd.DataFrame(rows)


def plot_power(power: pd.DataFrame, path: str | Path, x: str = "therapists") -> Path:
    """Power curve(s) against ``x`` (one line per other design setting), Wilson bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    others = [k for k in ("therapists", "clients", "sessions") if k != x]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, g in power.groupby(others, sort=True):
        g = g.sort_values(x)
        label = ", ".join(f"{k}={v}" for k, v in zip(others, key, strict=True))
        ax.plot(g[x], g["power"], marker="o", label=label)
        ax.fill_between(g[x], g["power_lo"], g["power_hi"], alpha=0.2)
    ax.axhline(0.8, color="grey", lw=0.8, ls="--")
    ax.set_ylim(0, 1)
    ax.set_xlabel(x)
    ax.set_ylabel("power")
    q = power["question"].iloc[0]
    ax.set_title(f"power: {q} (rule: posterior probability > {EVIDENCE})")
    ax.legend(fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


__all__ = ["QUESTIONS", "PowerTask", "plot_power", "power_table", "run_power"]
