"""Fitting inside a study: prior draws and one replicate's fit.

* :func:`draw_prior` draws from a family's own :class:`pymc_extras.prior.Prior` objects, so a
  simulator reads the priors the model uses (including user overrides).
* :func:`fit_replicate` fits one replicate through :func:`empathy_models.fit` with
  ``reuse_compiled=True``: a worker compiles each model structure once and reuses the compiled
  sampler, with the replicate's ``pm.Data`` values, for every later replicate of the same
  structure (see :func:`empathy_models.inference.samplers.structure_key`).
* :data:`SamplingPlan` is the study preset of
  :class:`~empathy_models.inference.samplers.SamplerSettings` (2 chains x 250 draws after 300
  tuning steps, one core per fit).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from pymc_extras.prior import Prior
from scipy import stats

from empathy_models.data.validation import PreparedData
from empathy_models.inference.fit import fit
from empathy_models.inference.samplers import SamplerSettings, study_preset

#: The study preset of :class:`SamplerSettings` (call it with overrides, e.g. ``draws=100``).
SamplingPlan = study_preset


# -- priors ------------------------------------------------------------------------------------
def draw_prior(prior: Prior, rng: np.random.Generator, size=None):
    """One draw (or ``size`` draws) from a ``Prior`` with numeric parameters."""
    p = {k: float(v) for k, v in prior.parameters.items()}
    dist = prior.distribution
    if dist == "Normal":
        return rng.normal(p.get("mu", 0.0), p.get("sigma", 1.0), size)
    if dist == "HalfNormal":
        return np.abs(rng.normal(0.0, p.get("sigma", 1.0), size))
    if dist == "Beta":
        return rng.beta(p["alpha"], p["beta"], size)
    if dist == "Gamma":
        return rng.gamma(p["alpha"], 1.0 / p["beta"], size)
    if dist == "InverseGamma":
        return stats.invgamma(p["alpha"], scale=p["beta"]).rvs(size=size, random_state=rng)
    if dist == "Exponential":
        return rng.exponential(1.0 / p["lam"], size)
    if dist == "Uniform":
        return rng.uniform(p["lower"], p["upper"], size)
    if dist == "StudentT":
        return p.get("mu", 0.0) + p.get("sigma", 1.0) * rng.standard_t(p["nu"], size)
    if dist == "HalfStudentT":
        return np.abs(p.get("sigma", 1.0) * rng.standard_t(p["nu"], size))
    raise NotImplementedError(f"draw_prior: no simulator for {dist!r} priors")


# -- fitting one replicate ------------------------------------------------------------------------
def fit_replicate(
    spec, data: PreparedData, settings: SamplerSettings, seed: int
) -> tuple[xr.Dataset, dict]:
    """Posterior draws of one replicate and its sampler facts.

    Returns ``(posterior, info)`` with ``info = {"divergences": int, "compiled": bool,
    "result": Result}`` (``compiled``: this call compiled the model; ``False`` when a sampler
    compiled earlier in this worker was reused).
    """
    result = fit(
        spec,
        data,
        settings=settings.replace(seed=int(seed), progressbar=False, cores=1),
        log_likelihood=False,
        log_prior=False,
        warn=False,
        reuse_compiled=True,
    )
    idata = result.idata
    post = idata["posterior"].to_dataset()
    div = int(idata["sample_stats"]["diverging"].sum()) if "sample_stats" in idata.children else 0
    return post, {"divergences": div, "compiled": bool(result.timing["compiled"]), "result": result}


__all__ = ["SamplingPlan", "draw_prior", "fit_replicate"]
