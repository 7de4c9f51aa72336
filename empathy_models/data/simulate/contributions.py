"""Generator of the therapist-vs-client contributions family (latent-mean centering).

A session-level predictor (alliance) is the sum of a latent therapist mean ``a_t``, client
deviation ``b_c`` and session state ``d_cs``; the session outcome depends on each part with
its own slope (the state of session ``s`` acting on the outcome of session ``s + lag``), and
a client-level ``post_outcome`` on ``a_t`` and ``b_c``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def contributions_data(
    rng: np.random.Generator,
    n_therapists: int,
    clients_per_therapist: int,
    sessions_per_client: int,
    *,
    beta_therapist: float,
    beta_client: float,
    beta_session: float,
    mu_predictor: float,
    sd_therapist_predictor: float,
    sd_client_predictor: float,
    sigma_predictor: float,
    intercept: float,
    sd_therapist: float,
    sd_client: float,
    sigma: float,
    post_intercept: float,
    post_sd_therapist: float,
    post_sigma: float,
    lag: int,
    predictor: str = "alliance",
    outcome: str = "outcome",
) -> pd.DataFrame:
    """Contributions data given the parameters (the process of :func:`simulate_contributions`).

    Draws, in order: ``a_t``, ``b_c``, ``d_cs`` (the predictor's parts, normal with SDs
    ``sd_therapist_predictor``, ``sd_client_predictor``, ``sigma_predictor``), the outcome's
    therapist and client intercepts (``sd_therapist``, ``sd_client``), its residuals
    (``sigma``), then the post outcome's therapist intercepts and residuals. Sessions
    ``<= lag`` get no state term. Columns: ``therapist``, ``client``, ``session``,
    ``predictor``, ``outcome``, ``post_outcome`` (repeated on the client's rows).
    """
    T, C, S = n_therapists, clients_per_therapist, sessions_per_client
    a = rng.normal(0, sd_therapist_predictor, T)
    b = rng.normal(0, sd_client_predictor, (T, C))
    dd = rng.normal(0, sigma_predictor, (T, C, S))
    x = mu_predictor + a[:, None, None] + b[:, :, None] + dd
    u = rng.normal(0, sd_therapist, T)
    v = rng.normal(0, sd_client, (T, C))
    state = np.zeros((T, C, S))
    if lag == 0:
        state = dd
    else:
        state[:, :, lag:] = dd[:, :, :-lag]
    y = (
        intercept
        + beta_therapist * a[:, None, None]
        + beta_client * b[:, :, None]
        + beta_session * state
        + u[:, None, None]
        + v[:, :, None]
        + rng.normal(0, sigma, (T, C, S))
    )
    post = (
        post_intercept
        + beta_therapist * a[:, None]
        + beta_client * b
        + rng.normal(0, post_sd_therapist, T)[:, None]
        + rng.normal(0, post_sigma, (T, C))
    )
    ti, ci, si = np.meshgrid(np.arange(T), np.arange(C), np.arange(S), indexing="ij")
    return pd.DataFrame(
        {
            "therapist": [f"T{t:03d}" for t in ti.ravel()],
            "client": [f"T{t:03d}_C{c:02d}" for t, c in zip(ti.ravel(), ci.ravel(), strict=True)],
            "session": si.ravel() + 1,
            predictor: x.ravel(),
            outcome: y.ravel(),
            "post_outcome": np.repeat(post.ravel(), S),
        }
    )


def simulate_contributions(
    n_therapists: int = 40,
    clients_per_therapist: int = 6,
    sessions_per_client: int = 10,
    *,
    beta_therapist: float = -4.0,
    beta_client: float = -1.0,
    beta_session: float = -1.5,
    mu_predictor: float = 4.7,
    sd_therapist_predictor: float = 0.25,
    sd_client_predictor: float = 0.4,
    sigma_predictor: float = 0.35,
    intercept: float = 20.0,
    sd_therapist: float = 1.0,
    sd_client: float = 1.5,
    sigma: float = 1.5,
    post_intercept: float = 12.0,
    post_sd_therapist: float = 1.0,
    post_sigma: float = 1.5,
    lag: int = 1,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Small generator of the contributions model with known truth (numpy only).

    Returns a session-level frame with ``therapist``, ``client``, ``session``, ``alliance``
    (the predictor), ``outcome`` (session score: the state of session ``s`` acts on the outcome
    of session ``s + lag``; sessions ``<= lag`` get no state term) and ``post_outcome``
    (client-level, repeated on the client's rows, driven by ``a_t`` and ``b_c`` with the same
    ``beta_therapist`` and ``beta_client``), and a truth dict named as the model reports.
    See :func:`contributions_data`.
    """
    params = {
        "beta_therapist": beta_therapist,
        "beta_client": beta_client,
        "beta_session": beta_session,
        "mu_predictor": mu_predictor,
        "sd_therapist_predictor": sd_therapist_predictor,
        "sd_client_predictor": sd_client_predictor,
        "sigma_predictor": sigma_predictor,
        "intercept": intercept,
        "sd_therapist": sd_therapist,
        "sd_client": sd_client,
        "sigma": sigma,
        "post_intercept": post_intercept,
        "post_sd_therapist": post_sd_therapist,
        "post_sigma": post_sigma,
        "lag": lag,
    }
    rng = np.random.default_rng(seed)
    frame = contributions_data(
        rng, n_therapists, clients_per_therapist, sessions_per_client, **params
    )
    tot = sd_therapist_predictor**2 + sd_client_predictor**2 + sigma_predictor**2
    truth = {
        "beta_therapist": beta_therapist,
        "beta_client": beta_client,
        "beta_session": beta_session,
        "beta_therapist_minus_client": beta_therapist - beta_client,
        "share_therapist_predictor": sd_therapist_predictor**2 / tot,
        "share_client_predictor": sd_client_predictor**2 / tot,
        "share_session_predictor": sigma_predictor**2 / tot,
        "sd_therapist_predictor": sd_therapist_predictor,
        "sd_client_predictor": sd_client_predictor,
        "sigma_predictor": sigma_predictor,
        "mu_predictor": mu_predictor,
        "lag": lag,
    }
    return frame, truth


__all__ = ["contributions_data", "simulate_contributions"]
