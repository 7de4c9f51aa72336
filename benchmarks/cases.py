"""What the benchmark suite fits, and the suite's one doorway into ``empathy_models``.

Every case is built from seeded simulated data: :func:`empathy_models.data.simulate.simulate_study`
for the process models, :func:`empathy_models.data.simulate.simulate_meta` for the meta-analysis,
:func:`empathy_models.data.simulate.simulate_circuit` for the 40,000-moment circuit, and a plain
numpy random-intercept generator (:func:`write_scaling_csv`) for the scaling curve, where the
full simulator would be needlessly slow at a million rows.

Every call the suite makes into the package's fitting API (spec classes, simulators,
``fit``, ``read_table``, the studies' sampling plan) is in this module, so a change of that
API is a change here. Reading a fitted ``Result`` is ``measure.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Model families, in the order tables list them.
FAMILIES: tuple[str, ...] = (
    "variance",
    "contributions",
    "raters",
    "form",
    "moderation",
    "circuit",
    "meta",
)

#: Sampler labels of the suite -> ``(sampler, backend)`` arguments of ``empathy_models.fit``.
SAMPLERS: dict[str, tuple[str, str]] = {
    "nutpie-numba": ("nutpie", "numba"),
    "nutpie-jax": ("nutpie", "jax"),
    "numpyro": ("numpyro", "numba"),
    "blackjax": ("blackjax", "numba"),
    "pymc": ("pymc", "numba"),
}
#: The samplers that run on JAX (the GPU lane).
JAX_SAMPLERS: tuple[str, ...] = ("nutpie-jax", "numpyro", "blackjax")
#: The package's default sampler (``empathy_models.inference.samplers.DEFAULT_*``).
DEFAULT_SAMPLER = "nutpie-numba"


@dataclass(frozen=True)
class Size:
    """A study size: the simulator's design, and the number of studies for the meta-analysis."""

    name: str
    n_therapists: int
    clients_per_therapist: int
    sessions_per_client: int
    moments_per_session: int
    meta_studies: int

    def design_kwargs(self) -> dict:
        return {
            "n_therapists": self.n_therapists,
            "clients_per_therapist": self.clients_per_therapist,
            "sessions_per_client": self.sessions_per_client,
            "moments_per_session": self.moments_per_session,
        }

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


SIZES: dict[str, Size] = {
    "tiny": Size("tiny", 6, 3, 4, 6, 12),
    "small": Size("small", 20, 5, 8, 9, 40),
    "medium": Size("medium", 60, 6, 10, 12, 150),
}

#: Scaling curve: rows -> (therapists, clients per therapist, sessions per client).
SCALING_DESIGNS: dict[int, tuple[int, int, int]] = {
    600: (10, 6, 10),  # --quick only
    2_000: (20, 10, 10),
    10_000: (50, 10, 20),
    40_000: (100, 20, 20),  # the brms comparison of issue 8
    200_000: (200, 50, 20),
    1_000_000: (1_000, 50, 20),  # the 1M-row target of issue 8
}
#: True values of the scaling data (the shipped study's client-rated alliance).
SCALING_TRUTH = {"Intercept": 4.7, "sd_therapist": 0.25, "sd_client": 0.40, "sigma": 0.35}
SCALING_MEASURE = "alliance"
#: Crossed rating designs of the agreement section: rows -> (targets, raters, raters per
#: target). 70,000 ratings: 1,000 targets, each rated by 70 of 3,000 raters (a rater rates
#: about 23 targets), the size of a course-evaluation or annotation data set.
AGREEMENT_DESIGNS: dict[int, tuple[int, int, int]] = {
    600: (30, 40, 20),  # --quick only
    70_000: (1_000, 3_000, 70),
}
#: True values of the agreement data (data scale).
AGREEMENT_TRUTH = {"Intercept": 4.0, "sd_target": 0.8, "sd_rater": 0.5, "sigma": 1.0}
#: The circuit of ``circuit_40k.py``: 40 therapists x 5 clients (200 dyads) x 10 sessions x
#: 20 moments = 40,000 moments.
CIRCUIT_40K_DESIGN = (40, 5, 10, 20)


def family_case(family: str, size: Size, seed: int):
    """``(spec, data, rows)`` of one family at one size.

    ``rows`` is the number of data rows handed to ``fit`` (sessions, ratings, moments or
    effect sizes).
    """
    import empathy_models as em
    from empathy_models.data.simulate import StudyDesign, simulate_study

    if family == "meta":
        from empathy_models.data.simulate import simulate_meta

        shifts = {"client": 0.0, "therapist": -0.1, "observer": 0.05}
        table, _ = simulate_meta(
            size.meta_studies,
            mu=0.3,
            tau=0.1,
            effects_per_study=(1, 3),
            n_range=(20, 250),
            moderator=shifts,
            form="r",
            seed=seed,
        )
        spec = em.MetaAnalysis(r="r", n="n", study="study", moderators=("rater",))
        return spec, table, len(table)

    design = StudyDesign(
        **{
            **size.design_kwargs(),
            "moments_per_session": size.moments_per_session if family == "circuit" else 0,
        },
        include_ratings=family == "raters",
    )
    study = simulate_study(design, seed=seed)
    if family == "variance":
        spec, data = em.VariancePartition(measure="alliance", bounds=(1, 7)), study.sessions
    elif family == "contributions":
        spec = em.Contributions(predictor="alliance", outcome="outcome")
        data = study.sessions
    elif family == "raters":
        spec, data = em.RaterPartition(measure="alliance", bounds=(1, 7)), study.ratings
    elif family == "form":
        spec = em.FunctionalForm(
            outcome="outcome", predictor="empathy", form="quadratic", optimum="minimum"
        )
        data = study.sessions
    elif family == "moderation":
        spec = em.ModeratedEffects(outcome="outcome", intervention_levels=("ERP", "MI"))
        data = study.sessions
    elif family == "circuit":
        traits = study.therapists[["therapist", "trait_affect_sharing"]]
        data = study.moments.merge(traits, on="therapist", how="left")
        spec = em.EmotionalCircuit(therapist_covariate="trait_affect_sharing")
    else:
        raise ValueError(f"unknown family {family!r}; choose among {', '.join(FAMILIES)}")
    return spec, data, len(data)


def scaling_frame(rows: int, seed: int):
    """Three-level random-intercept Gaussian data (therapist > client > session), numpy only."""
    import pandas as pd

    if rows not in SCALING_DESIGNS:
        raise ValueError(f"no scaling design for {rows} rows; choose among {list(SCALING_DESIGNS)}")
    n_t, n_c, n_s = SCALING_DESIGNS[rows]
    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(n_t, dtype=np.int64), n_c * n_s)
    c = np.repeat(np.arange(n_t * n_c, dtype=np.int64), n_s)
    s = np.tile(np.arange(1, n_s + 1, dtype=np.int64), n_t * n_c)
    tr = SCALING_TRUTH
    y = (
        tr["Intercept"]
        + tr["sd_therapist"] * rng.standard_normal(n_t)[t]
        + tr["sd_client"] * rng.standard_normal(n_t * n_c)[c]
        + tr["sigma"] * rng.standard_normal(len(t))
    )
    return pd.DataFrame(
        {
            "therapist": t + 1,
            "client": c + 1,
            "session": s,
            SCALING_MEASURE: np.round(y, 4),
        }
    )


def write_scaling_csv(rows: int, seed: int, folder: Path) -> Path:
    """Write (once) the scaling data set of ``rows`` rows and return its path."""
    from empathy_models import _io

    path = folder / f"variance_{rows}_seed{seed}.csv"
    if not path.exists():
        _io.atomic_write(path, lambda tmp: scaling_frame(rows, seed).to_csv(tmp, index=False))
    return path


def agreement_frame(rows: int, seed: int):
    """Crossed ratings (targets x partially crossed raters) of the agreement section, from
    :func:`empathy_models.data.simulate.simulate_agreement`, with the truth."""
    from empathy_models.data.simulate import simulate_agreement

    if rows not in AGREEMENT_DESIGNS:
        raise ValueError(
            f"no agreement design for {rows} rows; choose among {list(AGREEMENT_DESIGNS)}"
        )
    n_t, n_r, k = AGREEMENT_DESIGNS[rows]
    tr = AGREEMENT_TRUTH
    frame, truth = simulate_agreement(
        n_t, n_r, raters_per_target=k, intercept=tr["Intercept"], sd_target=tr["sd_target"],
        sd_rater=tr["sd_rater"], sigma=tr["sigma"], seed=seed,
    )  # fmt: skip
    frame["rating"] = frame["rating"].round(4)
    return frame, truth


def write_agreement_csv(rows: int, seed: int, folder: Path) -> Path:
    """Write (once) the agreement data set of ``rows`` ratings and return its path."""
    from empathy_models import _io

    path = folder / f"agreement_{rows}_seed{seed}.csv"
    if not path.exists():
        frame, _ = agreement_frame(rows, seed)
        _io.atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return path


def agreement_truth(rows: int, seed: int) -> dict:
    """The reported quantities' true values of the agreement data (JSON-ready scalars)."""
    _, truth = agreement_frame(rows, seed)
    keys = ("Intercept", "sd_target", "sd_rater", "sigma", "icc_agreement", "icc_consistency")
    keys += ("icc_agreement_k", "icc_consistency_k")
    return {k: float(truth[k]) for k in keys}


def agreement_spec():
    """The crossed rating model of the agreement section (package defaults)."""
    import empathy_models as em

    return em.RaterAgreement(measure="rating")


def scaling_spec(marginalized: bool):
    """The 3-level variance partition of the scaling curve (session = residual level)."""
    import empathy_models as em

    return em.VariancePartition(
        measure=SCALING_MEASURE, levels=("therapist", "client"), marginalized=marginalized
    )


def fit(spec, data, sampler: str, mcmc: dict, *, seed: int, warn: bool = False):
    """``empathy_models.fit`` with the suite's sampler label and MCMC settings.

    No log-likelihood or predictive draws are computed: they are not part of sampling.
    """
    import empathy_models as em

    name, backend = SAMPLERS[sampler]
    return em.fit(
        spec,
        data,
        sampler=name,
        backend=backend,
        draws=mcmc["draws"],
        tune=mcmc["tune"],
        chains=mcmc["chains"],
        seed=seed,
        progressbar=False,
        log_likelihood=False,
        warn=warn,
    )


def read_table(path: str | Path):
    """The package's reader (CSV, TSV, Parquet), as a user would load the scaling data."""
    import empathy_models as em

    return em.read_table(path)


def circuit_40k_case(sd_throttle: float, centered: bool | None, seed: int):
    """``(spec, data, truth)`` of the 40,000-moment emotional circuit."""
    from empathy_models.data.simulate import simulate_circuit
    from empathy_models.models.circuit import EmotionalCircuit

    data, truth = simulate_circuit(*CIRCUIT_40K_DESIGN, sd_throttle=sd_throttle, seed=seed)
    spec = EmotionalCircuit(throttle_phases=("exposure", "processing"), centered=centered)
    return spec, data, truth


def sampling_plan(draws: int, tune: int, chains: int):
    """The simulation studies' sampling settings (``studies.py``)."""
    from empathy_models.studies.fitting import SamplingPlan

    return SamplingPlan(draws=draws, tune=tune, chains=chains)


def package_dir() -> Path:
    """The imported package's folder (its code is part of the cache key)."""
    import empathy_models

    return Path(empathy_models.__file__).resolve().parent


def package_version() -> str:
    from empathy_models._version import __version__

    return __version__
