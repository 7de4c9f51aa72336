"""One real fit per sampler backend, and a clear error for a missing optional package."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import nested_sessions

import empathy_models as em
from empathy_models.errors import ConfigError, SamplerUnavailableError
from empathy_models.inference.samplers import SamplerSettings

BACKENDS = [
    ("nutpie", "numba"),
    ("nutpie", "jax"),
    ("numpyro", "numba"),
    ("blackjax", "numba"),
    ("pymc", "numba"),
]


@pytest.fixture(scope="module")
def data():
    return nested_sessions(n_therapists=15, clients=4, sessions=5, seed=21)


@pytest.mark.parametrize(("sampler", "backend"), BACKENDS)
def test_every_backend_samples_the_same_posterior(data, sampler, backend):
    if sampler in ("numpyro", "blackjax") or backend == "jax":
        pytest.importorskip("jax")
        pytest.importorskip(sampler if sampler != "nutpie" else "nutpie")
    df, truth = data
    result = em.fit(
        em.VariancePartition("alliance", covariates=("x",)),
        df,
        sampler=sampler,
        backend=backend,
        draws=300,
        tune=300,
        chains=2,
        seed=1,
        warn=False,
    )
    post = result.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 300
    # all samplers target the same posterior: the slope is well identified here
    assert abs(float(post["x"].mean()) - truth["x"]) < 0.15
    assert result.diagnostics["max_rhat"] < 1.05
    assert result.sampler["sampler"] == sampler


def test_unknown_sampler_is_config_error():
    with pytest.raises(ConfigError, match="unknown sampler 'stan'"):
        SamplerSettings(sampler="stan")
    with pytest.raises(ConfigError, match="backend"):
        SamplerSettings(backend="cuda")


def test_missing_package_names_the_extra(monkeypatch, data):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "numpyro" else real(name, *a)
    )
    with pytest.raises(SamplerUnavailableError, match=r"empathy_models\[jax\]"):
        em.fit(em.VariancePartition("alliance"), data[0], sampler="numpyro")


def test_settings_are_validated():
    with pytest.raises(ConfigError):
        SamplerSettings(draws=0)
    with pytest.raises(ConfigError):
        SamplerSettings(target_accept=1.5)
    assert np.isclose(SamplerSettings().target_accept, 0.8)
