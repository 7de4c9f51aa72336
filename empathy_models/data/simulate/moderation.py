"""Generator of the intervention-moderated effects family.

The outcome of a session is ``intercept[j] + sum_k (slope[k, j] + delta[t, k]) * within_k
+ sum_k slope_between[k, j] * between_k + further terms``, with ``j`` the client's
intervention, ``within``/``between`` the within-client and between-client parts of the
subcomponents and ``delta`` therapist random slopes (:func:`moderation_outcome`).
:func:`simulate_moderation_data` builds the parts from latent client means;
:func:`draw_moderation_outcome` draws the random effects and the noise for given parts.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from empathy_models.data.simulate.levels import equicorr

DEFAULT_PREDICTORS = ("affect_sharing", "mentalizing", "empathic_concern")


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products, summed in column order."""
    out = a[:, 0] * b[:, 0]
    for k in range(1, a.shape[1]):
        out = out + a[:, k] * b[:, k]
    return out


def moderation_outcome(
    level: np.ndarray,
    within: np.ndarray,
    between: np.ndarray,
    *,
    intercept: np.ndarray,
    slope: np.ndarray,
    slope_between: np.ndarray,
    slope_deviation: np.ndarray | None = None,
    terms: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """The moderated outcome given its parts (no random draws).

    Parameters
    ----------
    level
        Intervention code ``j`` of each row.
    within, between
        ``[row, subcomponent]`` within- and between-client parts of the subcomponents.
    intercept
        ``[intervention]`` intercepts.
    slope, slope_between
        ``[subcomponent, intervention]`` within and between slopes.
    slope_deviation
        ``[row, subcomponent]`` random deviations of the within slopes (the row's
        therapist's), or ``None``.
    terms
        Further per-row terms, added in order (random intercepts, covariates, noise).
    """
    w_slope = slope.T[level]
    if slope_deviation is not None:
        w_slope = w_slope + slope_deviation
    y = intercept[level] + _rowdot(w_slope, within)
    y = y + _rowdot(slope_between.T[level], between)
    for term in terms:
        y = y + term
    return y


def draw_moderation_outcome(
    rng: np.random.Generator,
    level: np.ndarray,
    therapist: np.ndarray,
    client: np.ndarray,
    within: np.ndarray,
    between: np.ndarray,
    *,
    intercept: np.ndarray,
    slope: np.ndarray,
    slope_between: np.ndarray,
    sd_slope_therapist: np.ndarray | float,
    sd_therapist: float,
    sd_client: float,
    sigma: float,
) -> np.ndarray:
    """The moderated outcome given its parts and parameters, with random effects drawn.

    Draws, in order: therapist slope deviations ``N(0, sd_slope_therapist)``
    (``[therapist, subcomponent]``), therapist and client intercepts (``sd_therapist``,
    ``sd_client``) and residuals (``sigma``); ``therapist`` and ``client`` are integer codes
    ``0..n-1`` per row.
    """
    n_t, n_c = int(therapist.max()) + 1, int(client.max()) + 1
    u = rng.standard_normal((n_t, within.shape[1])) * sd_slope_therapist
    z_t = rng.standard_normal(n_t)
    z_c = rng.standard_normal(n_c)
    e = rng.standard_normal(len(level))
    return moderation_outcome(
        level,
        within,
        between,
        intercept=intercept,
        slope=slope,
        slope_between=slope_between,
        slope_deviation=u[therapist],
        terms=(sd_therapist * z_t[therapist], sd_client * z_c[client], sigma * e),
    )


def _nested_normals(rng: np.random.Generator, T: int, C: int, S: int, K: int) -> dict:
    """The standard normals of :func:`simulate_moderation_data`, drawn in its nested order:
    per therapist (trait K, intercept, slopes K), per client (mean K, intercept, severity),
    per session (state K, residual)."""
    per_client = K + 2 + S * (K + 1)
    per_therapist = 2 * K + 1 + C * per_client
    z = rng.standard_normal(T * per_therapist).reshape(T, per_therapist)
    zc = z[:, 2 * K + 1 :].reshape(T, C, per_client)
    zs = zc[..., K + 2 :].reshape(T, C, S, K + 1)
    return {
        "trait": z[:, :K],
        "intercept_t": z[:, K],
        "slope_t": z[:, K + 1 : 2 * K + 1],
        "mean_c": zc[..., :K],
        "intercept_c": zc[..., K],
        "severity": zc[..., K + 1],
        "state": zs[..., :K],
        "residual": zs[..., K],
    }


def _matvec(matrix: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``matrix @ v`` for every vector ``v`` along the last axis of ``z``."""
    return (matrix @ z[..., None])[..., 0]


def simulate_moderation_data(
    *,
    n_therapists: int = 24,
    clients_per_therapist: int = 6,
    sessions_per_client: int = 8,
    levels: tuple[str, ...] = ("ERP", "MI"),
    slopes: Mapping[str, Mapping[str, float]] | None = None,
    slopes_between: Mapping[str, Mapping[str, float]] | None = None,
    predictor_corr: float = 0.5,
    sd_therapist: float = 0.5,
    sd_client: float = 0.7,
    sd_slope_therapist: float = 0.1,
    sigma: float = 1.0,
    severity_effect: float = -0.3,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Session-level data with intervention-moderated slopes and their truth.

    Clients are nested in therapists and each client receives one intervention (the
    therapist's clients alternate between the levels). Each subcomponent is a therapist trait
    (SD 0.5) plus a client deviation (SD 0.7) plus a session state (SD 1), centred at 4 on a
    1–7-like scale, with correlation ``predictor_corr`` between subcomponents at every level.
    The outcome (higher = better) is ``intercept[j] + sum_k slope[k, j] * (x - mu_client)
    + sum_k slope_between[k, j] * (mu_client - 4) + severity_effect * severity + therapist
    and client intercepts + therapist random slopes + noise``, with ``mu_client`` the latent
    client mean (see :func:`moderation_outcome`).

    Default truth (the Nook & Zaki prediction): within-client slope of affect sharing
    ``-0.4`` in ERP and ``+0.4`` in MI; mentalizing ``+0.3`` and empathic concern ``+0.2`` in
    both. Between slopes default to the within slopes.

    Returns
    -------
    frame, truth
        ``truth`` holds ``slope``, ``slope_between`` (nested dicts subcomponent ->
        intervention -> value), ``contrast`` (subcomponent -> pair -> value), ``intercept``,
        ``sd_therapist``, ``sd_client``, ``sd_slope_therapist``, ``sigma`` and ``severity``.
    """
    rng = np.random.default_rng(seed)
    preds = list(DEFAULT_PREDICTORS)
    K = len(preds)
    T, C, S = n_therapists, clients_per_therapist, sessions_per_client
    if slopes is None:
        slopes = {
            "affect_sharing": {levels[0]: -0.4, levels[1]: 0.4},
            "mentalizing": dict.fromkeys(levels, 0.3),
            "empathic_concern": dict.fromkeys(levels, 0.2),
        }
    if slopes_between is None:
        slopes_between = slopes
    slope = np.array([[slopes[p][lv] for lv in levels] for p in preds])
    slope_b = np.array([[slopes_between[p][lv] for lv in levels] for p in preds])
    L = np.linalg.cholesky(equicorr(K, predictor_corr))
    intercepts = {lv: 5.0 + 0.25 * i for i, lv in enumerate(levels)}

    z = _nested_normals(rng, T, C, S, K)
    trait = _matvec(0.5 * L, z["trait"])  # [T, K]
    mu_c = 4.0 + trait[:, None, :] + _matvec(0.7 * L, z["mean_c"])  # [T, C, K]
    state = _matvec(L, z["state"])  # [T, C, S, K]
    ti, ci, _ = np.meshgrid(np.arange(T), np.arange(C), np.arange(S), indexing="ij")
    ti, ci = ti.ravel(), ci.ravel()
    level = (ci + ti) % len(levels)
    within = state.reshape(-1, K)
    mu_rows = mu_c[ti, ci]
    y = moderation_outcome(
        level,
        within,
        mu_rows - 4.0,
        intercept=np.array(list(intercepts.values())),
        slope=slope,
        slope_between=slope_b,
        slope_deviation=(sd_slope_therapist * z["slope_t"])[ti],
        terms=(
            severity_effect * z["severity"][ti, ci],
            (sd_therapist * z["intercept_t"])[ti],
            (sd_client * z["intercept_c"])[ti, ci],
            sigma * z["residual"].ravel(),
        ),
    )
    x = mu_rows + within
    frame = pd.DataFrame(
        {
            "therapist": [f"T{t:03d}" for t in ti],
            "client": [f"T{t:03d}C{c:02d}" for t, c in zip(ti, ci, strict=True)],
            "session": np.tile(np.arange(1, S + 1), T * C),
            "intervention": [levels[j] for j in level],
            **{p: x[:, k] for k, p in enumerate(preds)},
            "severity": z["severity"][ti, ci],
            "outcome": y,
        }
    )
    return frame, _moderation_truth(
        preds,
        levels,
        slope,
        slope_b,
        intercepts,
        sd_therapist=sd_therapist,
        sd_client=sd_client,
        sd_slope_therapist=sd_slope_therapist,
        sigma=sigma,
        severity=severity_effect,
    )


def _moderation_truth(preds, levels, slope, slope_b, intercepts, **scalars) -> dict:
    pairs = list(itertools.combinations(range(len(levels)), 2))
    return {
        "slope": {
            p: {lv: float(slope[k, j]) for j, lv in enumerate(levels)} for k, p in enumerate(preds)
        },
        "slope_between": {
            p: {lv: float(slope_b[k, j]) for j, lv in enumerate(levels)}
            for k, p in enumerate(preds)
        },
        "contrast": {
            p: {
                f"{levels[j]}_minus_{levels[i]}": float(slope[k, j] - slope[k, i]) for i, j in pairs
            }
            for k, p in enumerate(preds)
        },
        "intercept": intercepts,
        **scalars,
    }


__all__ = ["draw_moderation_outcome", "moderation_outcome", "simulate_moderation_data"]
