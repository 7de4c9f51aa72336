"""Shared fixtures: small seeded data sets with known truth."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

# JAX must not grab all cores or preallocate; tests run two xdist workers on two cores.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")


def nested_sessions(
    n_therapists: int = 30,
    clients: int = 6,
    sessions: int = 8,
    sd_therapist: float = 0.5,
    sd_client: float = 0.8,
    sigma: float = 1.0,
    intercept: float = 4.0,
    slope: float = 0.5,
    seed: int = 1,
) -> tuple[pd.DataFrame, dict]:
    """Three-level random-intercept data (therapist > client > session) with one covariate."""
    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(n_therapists), clients * sessions)
    c = np.repeat(np.arange(n_therapists * clients), sessions)
    s = np.tile(np.arange(1, sessions + 1), n_therapists * clients)
    x = rng.normal(size=len(t))
    y = (
        intercept
        + slope * x
        + rng.normal(0, sd_therapist, n_therapists)[t]
        + rng.normal(0, sd_client, n_therapists * clients)[c]
        + rng.normal(0, sigma, len(t))
    )
    df = pd.DataFrame(
        {
            "therapist": [f"T{i:03d}" for i in t],
            "client": [f"C{i:04d}" for i in c],
            "session": s,
            "x": x,
            "alliance": y,
        }
    )
    total = sd_therapist**2 + sd_client**2 + sigma**2
    truth = {
        "Intercept": intercept,
        "x": slope,
        "sd_therapist": sd_therapist,
        "sd_client": sd_client,
        "sigma": sigma,
        "share_therapist": sd_therapist**2 / total,
        "share_client": sd_client**2 / total,
        "share_residual": sigma**2 / total,
    }
    return df, truth


@pytest.fixture
def sessions_df():
    return nested_sessions()[0]


@pytest.fixture
def ema_df():
    """EMA rows: 3 moments in each session."""
    df, _ = nested_sessions(n_therapists=12, clients=3, sessions=4, seed=3)
    rows = df.loc[df.index.repeat(3)].reset_index(drop=True)
    rows["moment"] = np.tile([1, 2, 3], len(df))
    return rows


#: Sampler settings of the small fits shared by the results tests (report, tables, sensitivity).
RESULTS_FIT = {"draws": 300, "tune": 300, "chains": 2, "seed": 4, "progressbar": False}


@pytest.fixture(scope="session")
def variance_csv(tmp_path_factory):
    """A 300-row three-level data set written to CSV (15 therapists x 4 clients x 5 sessions)."""
    df, _ = nested_sessions(n_therapists=15, clients=4, sessions=5, seed=21)
    path = tmp_path_factory.mktemp("data") / "sessions.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def variance_result(variance_csv):
    """A small variance partition fitted from a CSV path, with posterior predictive draws."""
    import warnings

    import empathy_models as em

    spec = em.VariancePartition("alliance", covariates=("x",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return em.fit(spec, str(variance_csv), posterior_predictive=True, **RESULTS_FIT)
