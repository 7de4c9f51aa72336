"""Generator of the variance-partition family: random intercepts of therapists and clients
plus a session residual (the study simulator's ratings, without raters or bounds)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def variance_data(
    rng: np.random.Generator,
    n_therapists: int,
    clients_per_therapist: int,
    sessions_per_client: int,
    *,
    intercept: float,
    sd_therapist: float,
    sd_client: float,
    sigma: float,
    measure: str = "y",
) -> pd.DataFrame:
    """Session data given the parameters: ``intercept + therapist + client + residual``.

    Draws the therapist effects ``N(0, sd_therapist)``, the client effects
    ``N(0, sd_client)`` and the residuals ``N(0, sigma)``, in that order. Columns:
    ``therapist`` (``T000``), ``client`` (``T000_C00``), ``session``, ``measure``.
    """
    T, C, S = n_therapists, clients_per_therapist, sessions_per_client
    th = np.repeat(np.arange(T), C * S)
    cl = np.repeat(np.arange(T * C), S)
    y = intercept + sd_therapist * rng.standard_normal(T)[th]
    y = y + sd_client * rng.standard_normal(T * C)[cl]
    y = y + sigma * rng.standard_normal(len(th))
    return pd.DataFrame(
        {
            "therapist": [f"T{t:03d}" for t in th],
            "client": [f"T{t:03d}_C{c % C:02d}" for t, c in zip(th, cl, strict=True)],
            "session": np.tile(np.arange(1, S + 1), T * C),
            measure: y,
        }
    )


def variance_truth(
    intercept: float, sd_therapist: float, sd_client: float, sigma: float
) -> dict[str, float]:
    """True values named as :class:`~empathy_models.VariancePartition` reports them."""
    tot = sd_therapist**2 + sd_client**2 + sigma**2
    return {
        "Intercept": intercept,
        "sd_therapist": sd_therapist,
        "sd_client": sd_client,
        "sigma": sigma,
        "share_therapist": sd_therapist**2 / tot,
        "share_client": sd_client**2 / tot,
        "share_residual": sigma**2 / tot,
    }


def simulate_variance(
    n_therapists: int = 40,
    clients_per_therapist: int = 6,
    sessions_per_client: int = 10,
    *,
    intercept: float = 4.7,
    sd_therapist: float = 0.25,
    sd_client: float = 0.4,
    sigma: float = 0.35,
    measure: str = "alliance",
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Small seeded generator of the variance partition with known truth (numpy only).

    Defaults: the shipped study's client-rated alliance (without bounds). Returns the
    session frame (see :func:`variance_data`) and the truth (``Intercept``, the SDs and the
    shares of the total variance).
    """
    frame = variance_data(
        np.random.default_rng(seed),
        n_therapists,
        clients_per_therapist,
        sessions_per_client,
        intercept=intercept,
        sd_therapist=sd_therapist,
        sd_client=sd_client,
        sigma=sigma,
        measure=measure,
    )
    return frame, variance_truth(intercept, sd_therapist, sd_client, sigma)


__all__ = ["simulate_variance", "variance_data", "variance_truth"]
