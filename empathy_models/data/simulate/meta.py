"""Generator of the meta-analysis family: a study-level table of effects with known truth.

True effects are on the analysis scale (Fisher z for ``form="r"``, the effect itself for
``form="effect"``): ``theta_i = mu + u_study + w_i + beta[level] + beta_x * x``, observed
with sampling variance ``1 / (n - 3)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from empathy_models.errors import ConfigError


def _draw_studies(
    rng: np.random.Generator,
    n_studies: int,
    effects_per_study: int | tuple[int, int],
    n_range: tuple[int, int],
    levels: list[str],
    numeric: bool,
) -> dict[str, np.ndarray]:
    """Per study: the number of effects and the sample size; per effect: a standard-normal
    heterogeneity draw, the moderator level, the numeric moderator and a standard-normal
    sampling error, drawn study by study in that order."""
    cols: dict[str, list] = {"study": [], "n": [], "w": [], "level": [], "x": [], "e": []}
    for s in range(n_studies):
        if isinstance(effects_per_study, tuple):
            k = int(rng.integers(effects_per_study[0], effects_per_study[1] + 1))
        else:
            k = int(effects_per_study)
        n = int(np.exp(rng.uniform(np.log(n_range[0]), np.log(n_range[1]))))
        for _j in range(k):
            cols["study"].append(s)
            cols["n"].append(n)
            cols["w"].append(rng.standard_normal())
            if levels:
                cols["level"].append(int(rng.integers(len(levels))))
            if numeric:
                cols["x"].append(float(rng.normal()))
            cols["e"].append(rng.standard_normal())
    return {k: np.asarray(v) for k, v in cols.items()}


def meta_data(
    rng: np.random.Generator,
    n_studies: int,
    *,
    mu: float,
    tau: float,
    tau_study: float | None,
    effects_per_study: int | tuple[int, int],
    n_range: tuple[int, int],
    moderator: Mapping[str, float] | None,
    numeric_moderator: tuple[str, float] | None,
    form: str,
    numeric_per_sd: bool = False,
) -> pd.DataFrame:
    """A study-level table given the parameters (the process of :func:`simulate_meta`).

    Draws the study effects ``u ~ N(0, tau_study)`` (when ``tau_study`` is set), then study
    by study the number of effects, the sample size (log-uniform in ``n_range``) and per
    effect ``w ~ N(0, tau)``, the ``rater`` level (uniform over ``moderator``'s keys), the
    numeric moderator ``x ~ N(0, 1)`` and the sampling error ``N(0, 1 / (n - 3))``. With
    ``numeric_per_sd`` the numeric slope acts per sample SD of ``x`` (``ddof=0``) around its
    sample mean, so that ``mu`` is the effect at the mean moderator.
    """
    if form not in ("r", "effect"):
        raise ConfigError("form must be 'r' or 'effect'")
    u = rng.normal(0, tau_study, n_studies) if tau_study else np.zeros(n_studies)
    levels = list(moderator) if moderator else []
    d = _draw_studies(rng, n_studies, effects_per_study, n_range, levels, bool(numeric_moderator))
    study, n = d["study"], d["n"]
    theta = mu + u[study] + tau * d["w"]
    frame = pd.DataFrame({"study": [f"S{s + 1:03d}" for s in study], "n": n})
    if levels:
        shift = np.array([moderator[lv] for lv in levels])
        theta = theta + shift[d["level"]]
        frame["rater"] = np.array(levels)[d["level"]]
    if numeric_moderator:
        name, slope = numeric_moderator
        x = d["x"]
        theta = theta + slope * ((x - x.mean()) / x.std() if numeric_per_sd else x)
        frame[name] = x
    yz = theta + np.sqrt(1 / (n - 3)) * d["e"]
    if form == "r":
        frame["r"] = np.tanh(yz)
    else:
        frame["yi"], frame["vi"] = yz, 1 / (n - 3)
    return frame


def simulate_meta(
    n_studies: int = 40,
    *,
    mu: float = 0.3,
    tau: float = 0.1,
    tau_study: float | None = None,
    effects_per_study: int | tuple[int, int] = 1,
    n_range: tuple[int, int] = (30, 300),
    moderator: Mapping[str, float] | None = None,
    numeric_moderator: tuple[str, float] | None = None,
    form: str = "r",
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Simulate a study-level table with known truth.

    True effects are on the analysis scale (Fisher z for ``form="r"``, the effect itself for
    ``form="effect"``): theta_i = mu + beta[level] + beta_x * x + u_study + w_i.

    Parameters
    ----------
    n_studies
        Number of studies.
    mu
        Pooled effect at the reference level and ``x = 0``.
    tau, tau_study
        SD of effects within studies; SD between studies (multilevel, needs several
        effects per study).
    effects_per_study
        Effects per study, or a (min, max) range drawn uniformly.
    n_range
        Range of sample sizes (log-uniform).
    moderator
        Categorical moderator ``rater`` with its shift per level, e.g. ``{"client": 0.0,
        "therapist": -0.1, "observer": -0.05}``; the first key is the reference.
    numeric_moderator
        ``(column, slope)`` of a standard-normal numeric moderator.
    form
        ``"r"`` (columns ``r``, ``n``) or ``"effect"`` (columns ``yi``, ``vi``, ``n``).
    seed
        Random seed: same seed, same table.

    Returns
    -------
    (table, truth)
        ``truth`` names quantities as the model does (``mu``, ``tau``, ``tau_study``,
        ``beta_x``, ``beta_rater[therapist]``...). See :func:`meta_data`.
    """
    df = meta_data(
        np.random.default_rng(seed),
        n_studies,
        mu=mu,
        tau=tau,
        tau_study=tau_study,
        effects_per_study=effects_per_study,
        n_range=n_range,
        moderator=moderator,
        numeric_moderator=numeric_moderator,
        form=form,
    )
    truth = {"mu": mu, "tau": tau}
    if tau_study:
        truth["tau_study"] = tau_study
    levels = list(moderator) if moderator else []
    for lv in levels[1:]:
        truth[f"beta_rater[{lv}]"] = moderator[lv] - moderator[levels[0]]
    if numeric_moderator:
        truth[f"beta_{numeric_moderator[0]}"] = numeric_moderator[1]
    return df, truth


__all__ = ["meta_data", "simulate_meta"]
