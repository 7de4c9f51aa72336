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


def test_second_process_loads_the_compiled_model_from_the_disk_cache(tmp_path):
    """The same fit in two fresh processes: the second loads the compiled log-density from
    the cache folder (counted by numba's cache-hit counters, not by timing)."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, numpy as np, pandas as pd\n"
        "import empathy_models as em\n"
        "rng = np.random.default_rng(0)\n"
        "t = np.repeat(np.arange(12), 8)\n"
        "df = pd.DataFrame({'therapist': t, 'y': rng.normal(size=12)[t] + rng.normal(size=96)})\n"
        "spec = em.VariancePartition('y', levels=('therapist',))\n"
        "roles = em.Roles(client=None, session=None)\n"
        "r = em.fit(spec, df, roles, draws=50, tune=50, chains=1, seed=1, warn=False)\n"
        "print(json.dumps(r.timing))\n"
    )
    env = {**os.environ, "EMPATHY_MODELS_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("PYTENSOR_FLAGS", None)
    runs = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert runs[0]["disk_cache_hits"] == 0
    assert runs[1]["disk_cache_hits"] >= 1
    assert (tmp_path / "cache" / "numba").is_dir() and (tmp_path / "cache" / "pytensor").is_dir()
