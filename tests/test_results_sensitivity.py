"""results/sensitivity.py: the log prior behind power-scaling, and what psense reports.

The log prior is checked against PyMC's own ``compute_log_prior`` on prior draws of every
family's built model (no sampling); power-scaling is checked on two fits of the same data, one
with the default priors and one with a prior that contradicts the data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from conftest import RESULTS_FIT, nested_sessions

import empathy_models as em
from empathy_models.data import simulate as sim
from empathy_models.results.result import Result
from empathy_models.results.sensitivity import (
    NOT_PRIOR_PREFIXES,
    log_prior,
    prior_sensitivity,
    with_log_prior,
)


def _models():
    df, _ = nested_sessions(n_therapists=6, clients=3, sessions=4, seed=2)
    yield "variance", em.VariancePartition("alliance", covariates=("x",)), df
    yield "variance full", em.VariancePartition("alliance", marginalized=False), df
    d, _ = sim.simulate_raters(6, 3, 3, seed=1)
    yield "raters (LKJ)", em.RaterPartition(measure="empathy"), d
    d, _ = sim.simulate_moderation_data(n_therapists=6, seed=1)
    yield "moderation (MvNormal)", em.ModeratedEffects(outcome="outcome"), d
    d, _ = sim.simulate_circuit(4, 2, 2, 8, seed=1)
    yield "circuit", em.EmotionalCircuit(), d
    d, _ = sim.simulate_contributions(6, 3, 4, seed=1)
    yield "contributions", em.Contributions(predictor="alliance", outcome="outcome"), d
    d, _ = sim.simulate_form_data(n_therapists=6, seed=1)
    yield "form", em.FunctionalForm(outcome="outcome", predictor="empathy"), d
    d, _ = sim.simulate_meta(12, moderator={"client": 0.2, "observer": 0.3}, seed=1)
    yield "meta", em.MetaAnalysis(r="r", n="n", study="study", moderators=("rater",)), d


CASES = list(_models())
FAST = {"mode": "FAST_COMPILE"}  # no C compilation: the graphs are evaluated a few times


@pytest.mark.parametrize("label, spec, data", CASES, ids=[c[0] for c in CASES])
def test_log_prior_matches_pymc(label, spec, data):
    """Every prior-carrying free variable's log density equals PyMC's ``compute_log_prior`` at
    the same (prior) draws, to 1e-9; offsets ``z_*`` and group effects ``re_*`` are left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few groups: irrelevant here
        model = spec.build(spec.prepare(data)).model
        with model:
            prior = pm.sample_prior_predictive(draws=40, random_seed=3, compile_kwargs=FAST)
    draws = prior["prior"].to_dataset()
    ours = log_prior(model, draws)
    want = pm.stats.compute_log_prior(
        xr.DataTree.from_dict({"posterior": draws}),
        model=model,
        extend_inferencedata=False,
        progressbar=False,
        compile_kwargs=FAST,
    )
    expected = {v for v in want.data_vars if not v.startswith(NOT_PRIOR_PREFIXES)}
    assert set(ours.data_vars) == expected, label
    for name in expected:
        a = ours[name].values
        b = want[name].values
        if a.shape != b.shape:  # a joint density stored per draw
            b = b.reshape(*a.shape, -1).sum(-1)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=f"{label}: {name}")


def test_fit_stores_log_prior_and_rebuild_gives_the_same(variance_result):
    lp = variance_result.idata["log_prior"].to_dataset()
    assert set(lp.data_vars) == {"Intercept_std", "beta_std", "sd_therapist_std"} | {
        "sd_client_std",
        "sigma_std",
    }
    tree = variance_result.idata.copy()
    del tree["log_prior"]
    rebuilt = with_log_prior(Result(tree))["log_prior"].to_dataset()
    for name in lp.data_vars:
        np.testing.assert_allclose(rebuilt[name].values, lp[name].values, rtol=1e-12)


@pytest.fixture(scope="module")
def conflicting(variance_csv):
    """The same data with an Intercept prior of N(3, 0.05) on the standardized scale, i.e.
    three SDs away from the data's mean, and ten times narrower than the data allow."""
    spec = em.VariancePartition(
        "alliance",
        covariates=("x",),
        priors={"Intercept": {"dist": "Normal", "kwargs": {"mu": 3, "sigma": 0.05}}},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return em.fit(spec, str(variance_csv), **RESULTS_FIT)


def test_psense_flags_a_conflicting_prior_and_not_the_defaults(variance_result, conflicting):
    default = prior_sensitivity(variance_result)
    assert list(default.columns) == ["prior", "likelihood", "diagnosis"]
    assert set(default.index) == set(variance_result.reported)
    # default priors: weak against 300 rows; the intercept is decided by the data
    assert default.loc["Intercept", "prior"] < 0.05
    assert default.loc["Intercept", "diagnosis"] == "✓"
    bad = prior_sensitivity(conflicting)
    assert bad.loc["Intercept", "prior"] > 0.05
    assert bad.loc["Intercept", "diagnosis"] == "potential prior-data conflict"
    # and the conflict moved the posterior: the intercept is pulled towards the prior
    assert float(conflicting.posterior["Intercept"].mean()) > float(
        variance_result.posterior["Intercept"].mean()
    )


def test_no_log_likelihood_means_no_sensitivity(variance_result):
    tree = variance_result.idata.copy()
    del tree["log_likelihood"]
    assert prior_sensitivity(Result(tree)) is None
