"""Generator of the functional-form family: a session predictor with therapist, client and
session parts, and an outcome ``f(predictor)`` plus random intercepts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from empathy_models.errors import ConfigError

#: True forms of :func:`simulate_form_data`: ``f`` and the vertex (``None``: no optimum).
_TRUE_FORMS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float | None]] = {
    "inverted_u": (lambda x: 1.2 * (x - 4.3) ** 2, 4.3),
    "linear": (lambda x: -1.5 * (x - 4), None),
    "saturating": (lambda x: -4 * (1 - np.exp(-1.2 * (x - 1.5))), None),
}


def form_data(
    rng: np.random.Generator,
    n_therapists: int,
    clients_per_therapist: int,
    sessions_per_client: int,
    f: Callable[[np.ndarray], np.ndarray],
    *,
    predictor_mean: float,
    predictor_sds: Sequence[float],
    intercept: float,
    sd_therapist: float,
    sd_client: float,
    sigma: float,
    predictor: str = "empathy",
    outcome: str = "outcome",
) -> pd.DataFrame:
    """Form data given the parameters (the process of :func:`simulate_form_data`).

    ``x = predictor_mean + therapist + client + session`` parts (normal, SDs
    ``predictor_sds``) and ``y = intercept + f(x) + therapist (sd_therapist) + client
    (sd_client) + residual (sigma)``, drawn in that order. Columns: ``therapist`` (``T00``),
    ``client`` (``C000``), ``session``, ``predictor``, ``outcome``.
    """
    T, C, S = n_therapists, clients_per_therapist, sessions_per_client
    sd_t, sd_c, sd_s = predictor_sds
    t = np.repeat(np.arange(T), C * S)
    c = np.repeat(np.arange(T * C), S)
    x = predictor_mean + rng.normal(0, sd_t, T)[t] + rng.normal(0, sd_c, T * C)[c]
    x = x + rng.normal(0, sd_s, len(t))
    y = intercept + f(x) + rng.normal(0, sd_therapist, T)[t] + rng.normal(0, sd_client, T * C)[c]
    y = y + rng.normal(0, sigma, len(t))
    return pd.DataFrame(
        {
            "therapist": [f"T{i:02d}" for i in t],
            "client": [f"C{i:03d}" for i in c],
            "session": np.tile(np.arange(1, S + 1), T * C),
            predictor: x,
            outcome: y,
        }
    )


def simulate_form_data(
    truth: str = "inverted_u",
    *,
    n_therapists: int = 20,
    clients_per_therapist: int = 5,
    sessions_per_client: int = 8,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Small seeded session-level data set with a known empathy -> symptom relation.

    ``empathy`` (1-7 scale) = 4 + therapist (SD 0.5) + client (SD 0.4) + session (SD 0.8)
    noise; ``outcome`` (symptoms, higher = worse) = 20 + f(empathy) + therapist (SD 1) +
    client (SD 1.5) + residual (SD 1.5) with

    * ``"inverted_u"``: ``f = 1.2 (x - 4.3)^2`` (symptom minimum, i.e. optimal empathy, 4.3);
    * ``"linear"``: ``f = -1.5 (x - 4)``;
    * ``"saturating"``: ``f = -4 (1 - exp(-1.2 (x - 1.5)))``: symptoms fall with empathy and
      level off, with no optimum.

    Returns the frame and the truth (``vertex`` for the inverted-U; ``None`` otherwise).
    See :func:`form_data`.
    """
    if truth not in _TRUE_FORMS:
        raise ConfigError(f"truth must be 'inverted_u', 'linear' or 'saturating', got {truth!r}")
    f, vertex = _TRUE_FORMS[truth]
    df = form_data(
        np.random.default_rng(seed),
        n_therapists,
        clients_per_therapist,
        sessions_per_client,
        f,
        predictor_mean=4.0,
        predictor_sds=(0.5, 0.4, 0.8),
        intercept=20.0,
        sd_therapist=1.0,
        sd_client=1.5,
        sigma=1.5,
    )
    df["empathy"] = np.round(df["empathy"].to_numpy(), 4)
    df["outcome"] = np.round(df["outcome"].to_numpy(), 4)
    return df, {"form": truth, "vertex": vertex}


__all__ = ["form_data", "simulate_form_data"]
