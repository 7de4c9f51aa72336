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


def _variance_pair():
    spec = em.VariancePartition("alliance")
    a = nested_sessions(n_therapists=8, clients=3, sessions=4, seed=1)[0]
    b = nested_sessions(n_therapists=8, clients=3, sessions=4, seed=2)[0]
    return spec, a, b, "share_therapist"


def _meta_pair():
    from empathy_models.data.simulate import simulate_meta

    kw = {"effects_per_study": (1, 3), "tau_study": 0.1, "moderator": {"a": 0, "b": 0.1}}
    a = simulate_meta(12, seed=1, **kw)[0]
    b = a.assign(r=np.clip(a["r"] + 0.05, -0.9, 0.9))  # same design, other effects
    return em.MetaAnalysis(r="r", n="n", study="study", moderators=("rater",)), a, b, "mu"


@pytest.mark.parametrize("pair", [_variance_pair, _meta_pair], ids=["variance", "meta"])
def test_compiled_sampler_is_reused_for_data_of_the_same_design(pair):
    """Two data sets of one design share a structure key; the second fit reuses the first
    one's compiled sampler (no compilation) and gives the same draws as a fresh compile."""
    import warnings

    from empathy_models.inference.samplers import SamplerSettings, clear_compiled, structure_key

    spec, a, b, name = pair()
    settings = SamplerSettings(draws=100, tune=100, chains=1, seed=4, progressbar=False)
    keys = [structure_key(spec.build(spec.prepare(d)).model, settings) for d in (a, b)]
    assert keys[0] == keys[1]
    clear_compiled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = em.fit(spec, a, settings=settings, reuse_compiled=True, log_likelihood=False)
        reused = em.fit(spec, b, settings=settings, reuse_compiled=True, log_likelihood=False)
        fresh = em.fit(spec, b, settings=settings, log_likelihood=False)
    assert first.timing["compiled"] and not reused.timing["compiled"]
    np.testing.assert_allclose(reused.posterior[name].values, fresh.posterior[name].values)
    assert not np.allclose(reused.posterior[name].values, first.posterior[name].values)
