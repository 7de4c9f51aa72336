"""The emotional circuit's generator: the within-session VAR(1) process of (client,
therapist) affect, and a small seeded generator of circuit data with known truth.

The VAR process (:func:`stationary_start`, :func:`var_states`) is the one both the study
simulator (:func:`~empathy_models.data.simulate.simulate_study`, EMA moments),
:func:`simulate_circuit` and the circuit's SBC problem use. State order is (client,
therapist); ``phi_tc`` (client -> therapist coupling) varies by therapist and phase, the
other coefficients are shared::

    C_m = phi_cc C_{m-1} + phi_ct T_{m-1} + eC_m
    T_m = phi_tt T_{m-1} + phi_tc[phase_m] C_{m-1} + eT_m,   (eC, eT) ~ MVN(0, Sigma)

on the centered scale (dyad means are added by the callers). Lags restart in every session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from empathy_models.data.simulate.design import PHASES
from empathy_models.errors import ConfigError


def phase_labels(moments_per_session: int) -> np.ndarray:
    """Phase of moments ``1..M``: ``processing | exposure | processing`` blocks.

    The first and last ``M // 3`` moments are ``"processing"``, the middle ones
    ``"exposure"`` (so with ``M < 3`` every moment is ``"exposure"``).
    """
    m = np.arange(1, moments_per_session + 1)
    edge = moments_per_session // 3
    exposure = (m > edge) & (m <= moments_per_session - edge)
    return np.where(exposure, PHASES[1], PHASES[0])


def innovation_cov(sigma_client: float, sigma_therapist: float, corr: float) -> np.ndarray:
    """2 x 2 innovation covariance ``Sigma`` of (client, therapist)."""
    cross = corr * sigma_client * sigma_therapist
    return np.array([[sigma_client**2, cross], [cross, sigma_therapist**2]])


def phi_matrices(phi_cc: float, phi_tt: float, phi_ct: float, phi_tc: np.ndarray) -> np.ndarray:
    """VAR matrices ``[unit, phase, 2, 2]`` from the couplings ``phi_tc[unit, phase]``."""
    phi = np.empty((*phi_tc.shape, 2, 2))
    phi[..., 0, 0] = phi_cc
    phi[..., 0, 1] = phi_ct
    phi[..., 1, 0] = phi_tc
    phi[..., 1, 1] = phi_tt
    return phi


def stationary_chol(phi: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Cholesky factors of the stationary covariances of ``x = Phi x + e`` (batched)."""
    n = phi.shape[0]
    kron = np.einsum("tij,tkl->tikjl", phi, phi).reshape(n, 4, 4)
    lhs = np.eye(4)[None] - kron
    rhs = np.broadcast_to(sigma.reshape(4, 1), (n, 4, 1))
    cov = np.linalg.solve(lhs, rhs).reshape(n, 2, 2)
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    return np.linalg.cholesky(cov)


def stationary_start(
    rng: np.random.Generator, phi: np.ndarray, sigma: np.ndarray, unit_of_series: np.ndarray
) -> np.ndarray:
    """First (centered) state ``[series, 2]`` of every series, drawn from the stationary
    distribution of its unit's VAR matrix ``phi[unit]`` (``[unit, 2, 2]``)."""
    l_stat = stationary_chol(phi, sigma)
    z0 = rng.standard_normal((unit_of_series.shape[0], 2))
    return np.einsum("nij,nj->ni", l_stat[unit_of_series], z0)


def var_states(
    rng: np.random.Generator,
    first: np.ndarray,
    phi_tc: np.ndarray,
    phase_index: np.ndarray,
    *,
    phi_cc: float,
    phi_tt: float,
    phi_ct: float,
    sigma: np.ndarray,
) -> np.ndarray:
    """Centered VAR(1) states ``[series, moment, 2]`` from the first states ``first``.

    ``phi_tc[series, phase]`` are the series' couplings, ``phase_index[moment]`` the phase
    of each moment (the first moment's is not used) and ``sigma`` the innovation covariance.
    One innovation draw ``[series, 2]`` per moment after the first.
    """
    n, n_m = first.shape[0], phase_index.shape[0]
    l_sigma = np.linalg.cholesky(sigma)
    states = np.empty((n, n_m, 2))
    if n_m == 0:
        return states
    states[:, 0] = first
    for m in range(1, n_m):
        innov = rng.standard_normal((n, 2)) @ l_sigma.T
        prev_c, prev_t = states[:, m - 1, 0], states[:, m - 1, 1]
        states[:, m, 0] = phi_cc * prev_c + phi_ct * prev_t + innov[:, 0]
        states[:, m, 1] = phi_tt * prev_t + phi_tc[:, phase_index[m]] * prev_c + innov[:, 1]
    return states


# --- the small generator ---------------------------------------------------------------


def circuit_data(
    rng: np.random.Generator,
    n_therapists: int,
    clients_per_therapist: int,
    sessions: int,
    moments: int,
    *,
    phi_cc: float,
    phi_tt: float,
    phi_ct: float,
    phi_tc_mean: Mapping[str, float],
    sd_phi_tc: float,
    sd_throttle: float,
    gamma: float,
    sigma_client: float,
    sigma_therapist: float,
    innovation_corr: float,
    mean: Sequence[float] = (0.0, 0.0),
    sd_mean: Sequence[float] = (0.5, 0.5),
    start: str = "stationary",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Circuit data given the parameters: the generative process of :func:`simulate_circuit`.

    Draws, in order: a standard-normal therapist ``trait``; the therapist coupling effects
    ``eta ~ N(0, sd_phi_tc)`` and throttle deviations ``N(0, sd_throttle)``, so that
    ``phi_tc[t] = phi_tc_mean[phase] + gamma * z(trait) + eta_t (+ throttle deviation in the
    second phase)`` with ``z`` the trait standardized across therapists; dyad means
    ``mean + sd_mean * N(0, 1)`` (client, therapist); then the VAR states. The first half of
    each session's moments is in the first phase of ``phi_tc_mean``, the rest in the second.

    ``start="stationary"`` draws each session's first moment from the stationary
    distribution of the first phase's VAR around the dyad mean; ``start="free"`` draws it
    standard normal on the data scale, independent of the parameters (for models that
    condition on the first moment, as SBC needs).

    Returns
    -------
    frame, effects
        The long frame (``therapist``, ``client``, ``session``, ``moment``, ``phase``,
        ``client_affect``, ``therapist_affect``, ``trait``) and the drawn therapist
        effects: ``trait`` and ``phi_tc`` (``[therapist, phase]``), with ``phases``.
    """
    if start not in ("stationary", "free"):
        raise ConfigError(f"start must be 'stationary' or 'free', got {start!r}")
    phm = dict(phi_tc_mean)
    labels = list(phm)
    trait = rng.standard_normal(n_therapists)
    z = standardize(trait)
    eta = sd_phi_tc * rng.standard_normal(n_therapists)
    thr_dev = sd_throttle * rng.standard_normal(n_therapists)
    tc = np.empty((n_therapists, 2))
    tc[:, 0] = phm[labels[0]] + gamma * z + eta
    tc[:, 1] = phm[labels[1]] + gamma * z + eta + thr_dev
    sigma = innovation_cov(sigma_client, sigma_therapist, innovation_corr)
    n_dy = n_therapists * clients_per_therapist
    t_of = np.repeat(np.arange(n_therapists), clients_per_therapist)
    mu = np.asarray(mean, dtype=float) + np.asarray(sd_mean, dtype=float) * rng.standard_normal(
        (n_dy, 2)
    )
    n_ser = n_dy * sessions
    d_of = np.repeat(np.arange(n_dy), sessions)
    ph_idx = (np.arange(moments) >= moments // 2).astype(int)
    if start == "stationary":
        phi_first = phi_matrices(phi_cc, phi_tt, phi_ct, tc[:, 0])
        first = stationary_start(rng, phi_first, sigma, t_of[d_of])
    else:
        first = rng.standard_normal((n_ser, 2)) - mu[d_of]
    x = var_states(
        rng, first, tc[t_of[d_of]], ph_idx, phi_cc=phi_cc, phi_tt=phi_tt, phi_ct=phi_ct, sigma=sigma
    )
    x = x + mu[d_of][:, None, :]
    tid = np.array([f"T{t:03d}" for t in range(n_therapists)])
    cid = np.array([f"C{d:04d}" for d in range(n_dy)])
    frame = pd.DataFrame(
        {
            "therapist": np.repeat(tid[t_of[d_of]], moments),
            "client": np.repeat(cid[d_of], moments),
            "session": np.repeat(np.tile(np.arange(1, sessions + 1), n_dy), moments),
            "moment": np.tile(np.arange(1, moments + 1), n_ser),
            "phase": np.tile(np.array(labels)[ph_idx], n_ser),
            "client_affect": x[..., 0].ravel(),
            "therapist_affect": x[..., 1].ravel(),
            "trait": np.repeat(trait[t_of[d_of]], moments),
        }
    )
    return frame, {"trait": trait, "phi_tc": tc, "phases": labels, "therapists": tid}


def simulate_circuit(
    n_therapists: int = 20,
    clients_per_therapist: int = 3,
    sessions: int = 4,
    moments: int = 20,
    *,
    phi_cc: float = 0.4,
    phi_tt: float = 0.3,
    phi_ct: float = 0.1,
    phi_tc_mean: Mapping[str, float] | None = None,
    sd_phi_tc: float = 0.08,
    sd_throttle: float = 0.0,
    gamma: float = 0.0,
    sigma_client: float = 1.0,
    sigma_therapist: float = 0.8,
    innovation_corr: float = 0.3,
    sd_alpha: float = 0.5,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Small seeded generator of circuit data (the study simulator covers full studies).

    Phases: the first half of each session is ``processing``, the second ``exposure``.
    The first moment of each session is drawn from the stationary distribution (so lags
    restart every session). Returns the long frame (columns therapist, client, session,
    moment, phase, client_affect, therapist_affect, trait) and the truth. See
    :func:`circuit_data` for the generative process.
    """
    phm = dict(phi_tc_mean or {"processing": 0.3, "exposure": 0.1})
    frame, effects = circuit_data(
        np.random.default_rng(seed),
        n_therapists,
        clients_per_therapist,
        sessions,
        moments,
        phi_cc=phi_cc,
        phi_tt=phi_tt,
        phi_ct=phi_ct,
        phi_tc_mean=phm,
        sd_phi_tc=sd_phi_tc,
        sd_throttle=sd_throttle,
        gamma=gamma,
        sigma_client=sigma_client,
        sigma_therapist=sigma_therapist,
        innovation_corr=innovation_corr,
        sd_mean=(sd_alpha, sd_alpha),
    )
    labels, tc = effects["phases"], effects["phi_tc"]
    truth = {
        "phi_cc": phi_cc,
        "phi_tt": phi_tt,
        "phi_ct": phi_ct,
        "phi_tc_mean": phm,
        "sd_phi_tc": sd_phi_tc,
        "sd_throttle": sd_throttle,
        "gamma": gamma,
        "throttle": phm[labels[1]] - phm[labels[0]],
        "innovation_corr": innovation_corr,
        "sigma_client": sigma_client,
        "sigma_therapist": sigma_therapist,
        "phi_tc": {
            t: dict(zip(labels, tc[i], strict=True)) for i, t in enumerate(effects["therapists"])
        },
    }
    return frame, truth


def standardize(v: np.ndarray) -> np.ndarray:
    """``v`` minus its mean over its sample SD (``ddof=1``); zeros when the SD is 0."""
    sd = v.std(ddof=1)
    return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)


__all__ = [
    "circuit_data",
    "innovation_cov",
    "phase_labels",
    "phi_matrices",
    "simulate_circuit",
    "stationary_chol",
    "stationary_start",
    "var_states",
]
