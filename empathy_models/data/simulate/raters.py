"""Generator of the multi-rater partition family: every session rated by several raters,
with therapist- and client-level effects correlated across raters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from empathy_models.data.simulate.levels import equicorr

DEFAULT_RATERS = ("client", "therapist", "observer")


def raters_data(
    rng: np.random.Generator,
    n_therapists: int,
    clients_per_therapist: int,
    sessions_per_client: int,
    *,
    raters: Sequence[str],
    means: np.ndarray,
    cov_therapist: np.ndarray,
    cov_client: np.ndarray,
    sigma: np.ndarray,
    missing_rate: float = 0.0,
    measure: str = "empathy",
) -> pd.DataFrame:
    """Long multi-rater data given the parameters (the process of :func:`simulate_raters`).

    Therapist effects ``MVN(0, cov_therapist)`` and client effects ``MVN(0, cov_client)``
    (one value per rater), then independent residuals ``N(0, sigma[rater])``; finally each
    rating is deleted completely at random with probability ``missing_rate``. Columns:
    ``therapist``, ``client``, ``session``, ``rater``, ``measure``.
    """
    R = len(raters)
    T, C, S = n_therapists, clients_per_therapist, sessions_per_client
    u = rng.multivariate_normal(np.zeros(R), cov_therapist, T)
    v = rng.multivariate_normal(np.zeros(R), cov_client, (T, C))
    y = (
        np.asarray(means)[None, None, None, :]
        + u[:, None, None, :]
        + v[:, :, None, :]
        + rng.normal(0, 1, (T, C, S, R)) * np.asarray(sigma)
    )
    ti, ci, si, ri = np.meshgrid(
        np.arange(T), np.arange(C), np.arange(S), np.arange(R), indexing="ij"
    )
    frame = pd.DataFrame(
        {
            "therapist": [f"T{t:03d}" for t in ti.ravel()],
            "client": [f"T{t:03d}_C{c:02d}" for t, c in zip(ti.ravel(), ci.ravel(), strict=True)],
            "session": si.ravel() + 1,
            "rater": np.asarray(raters)[ri.ravel()],
            measure: y.ravel(),
        }
    )
    if missing_rate > 0:
        frame = frame.loc[rng.random(len(frame)) >= missing_rate].reset_index(drop=True)
    return frame


def simulate_raters(
    n_therapists: int = 40,
    clients_per_therapist: int = 5,
    sessions_per_client: int = 6,
    *,
    raters: tuple[str, ...] = DEFAULT_RATERS,
    means: tuple[float, ...] | None = None,
    sd_therapist: tuple[float, ...] | None = None,
    sd_client: tuple[float, ...] | None = None,
    sigma: tuple[float, ...] | None = None,
    corr_therapist: float = 0.6,
    corr_client: float = 0.4,
    missing_rate: float = 0.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Long-format multi-rater data with known truth (numpy only).

    Equicorrelated therapist- and client-level effects across raters; independent residuals;
    each rating deleted completely at random with probability ``missing_rate``. Defaults
    for three raters: means (4.4, 4.7, 4.1), so that therapists overestimate relative to
    clients by 0.3 (as therapists overestimate the alliance, seed 003) and observers rate
    0.3 lower than clients; ``sd_therapist`` 0.3 each, ``sd_client`` (0.4, 0.35, 0.35),
    ``sigma`` (0.4, 0.45, 0.5); for other numbers of raters the first values, repeated as
    needed. See :func:`raters_data`.

    The truth holds, besides the shares and intercepts, ``rater_offset`` (each rater's mean
    minus the average of the raters' means), ``rater_contrast`` (``"a-b"``: mean of rater
    ``a`` minus mean of rater ``b``) and ``rater_superiority`` (``"a-b"``: the probability
    that ``a``'s rating of a session exceeds ``b``'s rating of the same session).
    """
    R = len(raters)

    def per_rater(value, default):
        v = np.resize(np.asarray(default, dtype=float), R) if value is None else value
        v = np.asarray(v, dtype=float)
        if v.shape != (R,):
            raise ValueError(f"need one value per rater ({R}), got {v.tolist()}")
        return v

    means = per_rater(means, (4.4, 4.7, 4.1))
    sd_therapist = per_rater(sd_therapist, (0.3, 0.3, 0.3))
    sd_client = per_rater(sd_client, (0.4, 0.35, 0.35))
    sigma = per_rater(sigma, (0.4, 0.45, 0.5))
    cov = {
        "therapist": np.outer(sd_therapist, sd_therapist) * equicorr(R, corr_therapist),
        "client": np.outer(sd_client, sd_client) * equicorr(R, corr_client),
    }
    frame = raters_data(
        np.random.default_rng(seed),
        n_therapists,
        clients_per_therapist,
        sessions_per_client,
        raters=raters,
        means=means,
        cov_therapist=cov["therapist"],
        cov_client=cov["client"],
        sigma=sigma,
        missing_rate=missing_rate,
    )
    var_t, var_c, var_e = (np.asarray(a) ** 2 for a in (sd_therapist, sd_client, sigma))
    tot = var_t + var_c + var_e
    contrast, superiority = {}, {}
    for i, a in enumerate(raters):
        for j, b in enumerate(raters):
            if i == j:
                continue
            v = sigma[i] ** 2 + sigma[j] ** 2
            v += sum(c[i, i] + c[j, j] - 2 * c[i, j] for c in cov.values())
            contrast[f"{a}-{b}"] = float(means[i] - means[j])
            superiority[f"{a}-{b}"] = float(stats.norm.cdf((means[i] - means[j]) / np.sqrt(v)))
    truth = {
        "raters": list(raters),
        "corr_therapist": corr_therapist,
        "corr_client": corr_client,
        "share_therapist": dict(zip(raters, (var_t / tot).tolist(), strict=True)),
        "share_client": dict(zip(raters, (var_c / tot).tolist(), strict=True)),
        "Intercept": dict(zip(raters, means.tolist(), strict=True)),
        "rater_offset": dict(zip(raters, (means - means.mean()).tolist(), strict=True)),
        "rater_contrast": contrast,
        "rater_superiority": superiority,
    }
    return frame, truth


def to_wide(frame: pd.DataFrame, measure: str, rater: str = "rater") -> pd.DataFrame:
    """Pivot long multi-rater data to one row per session and one column per rater.

    Columns are named ``<measure>_<rater>``; a rater missing from a session gives NaN.
    """
    idx = [c for c in frame.columns if c not in (measure, rater)]
    wide = frame.pivot_table(index=idx, columns=rater, values=measure, aggfunc="first", sort=False)
    wide.columns = [f"{measure}_{c}" for c in wide.columns]
    return wide.reset_index()


__all__ = ["raters_data", "simulate_raters", "to_wide"]
