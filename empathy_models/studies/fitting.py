"""Fitting inside a study: prior draws, a data-swappable variance partition, cached compiles.

* :func:`draw_prior` draws from a family's own :class:`pymc_extras.prior.Prior` objects, so a
  simulator reads the priors the model uses (including user overrides).
* :class:`SwappableVariancePartition` is the variance partition with its data held in
  ``pm.Data`` containers: the marginalized likelihood's per-group sufficient statistics and
  the outcome's mean and SD. A worker compiles it once per design (nutpie, numba backend)
  and swaps each replicate's data in with ``CompiledPyMCModel.with_data``: the same compiled
  function with other inputs, so results do not depend on which worker compiled it.
  ``standardize=False`` switches off the outcome's standardization (used by SBC, where the
  data are simulated on the scale the priors are declared on).
* :func:`sample_posterior` samples one replicate: cached-compile path for the swappable
  variance partition, :func:`empathy_models.fit` (compiling per replicate) for other families.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr
from pymc_extras.prior import Prior
from scipy import stats

import empathy_models.models.variance as _vmod
from empathy_models.data.validation import PreparedData
from empathy_models.models.variance import VariancePartition
from empathy_models.studies.engine import worker_cache

_Y_STATS = ("ybar", "wyy")


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


# -- the swappable variance partition -----------------------------------------------------------
@contextlib.contextmanager
def _shared_statistics():
    """While building, put the outcome's sufficient statistics into ``pm.Data``."""
    original = _vmod.marginal_statistics

    def shared(*args, **kwargs):
        st = original(*args, **kwargs)
        for key in _Y_STATS:
            st[key] = pm.Data(f"stat_{key}", st[key])
        return st

    _vmod.marginal_statistics = shared
    try:
        yield
    finally:
        _vmod.marginal_statistics = original


@dataclass(frozen=True)
class SwappableVariancePartition(VariancePartition):
    """:class:`~empathy_models.VariancePartition` whose data can be swapped after compiling.

    Same model and posterior; only the marginalized likelihood without covariates is
    swappable (:meth:`swappable`); other configurations fall back to compiling per fit.

    Parameters
    ----------
    standardize
        Standardize the outcome (default, as the package's model does). ``False`` fits the
        outcome as given: the priors then act on the data's own scale, as SBC needs.
    """

    standardize: bool = True

    def swappable(self, data: PreparedData) -> bool:
        return self.use_marginal(data) and not self.covariates

    def _design(self, data: PreparedData):
        ys, Xs, obs, scale = super()._design(data)
        if self.standardize:
            return ys, Xs, obs, scale
        y = data.frame[self.measure].to_numpy(dtype=float)
        p = len(self.covariates)
        X = data.frame[list(self.covariates)].to_numpy(dtype=float) if p else np.zeros((len(y), 0))
        return y, X, obs, (0.0, 1.0, np.zeros(p), np.ones(p))

    def _original_scale(self, model, data, scale, levels) -> None:
        y_mean, y_sd, x_mean, x_sd = scale
        if self.swappable(data):
            y_mean = pm.Data("scale_y_mean", np.asarray(y_mean, dtype=float))
            y_sd = pm.Data("scale_y_sd", np.asarray(y_sd, dtype=float))
        super()._original_scale(model, data, (y_mean, y_sd, x_mean, x_sd), levels)

    def build(self, data: PreparedData) -> pm.Model:
        if not self.swappable(data):
            return super().build(data)
        with _shared_statistics():
            return super().build(data)

    def data_values(self, data: PreparedData) -> tuple[str, dict[str, np.ndarray]]:
        """``(structure key, values of the pm.Data containers)`` for ``data``."""
        ys, Xs, _, scale = self._design(data)
        levels = self.group_levels(data)
        st = _vmod.marginal_statistics(data, levels, ys, Xs)
        h = hashlib.sha256(self.config_json().encode())
        h.update(repr(levels).encode())
        for key in ("counts", "leaf_top", "rows_top", "groups_top"):
            h.update(np.ascontiguousarray(st[key]).tobytes())
        for par in st["parents"]:
            h.update(np.ascontiguousarray(par).tobytes())
        values = {f"stat_{k}": st[k] for k in _Y_STATS}
        values["scale_y_mean"] = np.asarray(scale[0], dtype=float)
        values["scale_y_sd"] = np.asarray(scale[1], dtype=float)
        return h.hexdigest(), values


# -- sampling one replicate ------------------------------------------------------------------------
@dataclass(frozen=True)
class SamplingPlan:
    """MCMC settings of every fit of a study (small by default: many fits, 2 cores)."""

    draws: int = 250
    tune: int = 300
    chains: int = 2
    target_accept: float = 0.8
    sampler: str = "nutpie"
    backend: str = "numba"

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def sample_posterior(
    spec, data: PreparedData, plan: SamplingPlan, seed: int
) -> tuple[xr.Dataset, dict]:
    """Posterior draws of one replicate and its sampler diagnostics.

    Returns ``(posterior, info)`` with ``info = {"divergences": int, "compiled": bool}``
    (``compiled``: this call compiled the model; False when a cached compile was reused).
    """
    swap = isinstance(spec, SwappableVariancePartition) and spec.swappable(data)
    if swap and plan.sampler == "nutpie" and plan.backend == "numba":
        import nutpie

        key, values = spec.data_values(data)
        built = []

        def compile_once():
            built.append(True)
            return nutpie.compile_pymc_model(spec.build(data), backend="numba")

        compiled = worker_cache(("variance", key), compile_once).with_data(**values)
        idata = nutpie.sample(
            compiled,
            draws=plan.draws,
            tune=plan.tune,
            chains=plan.chains,
            cores=1,
            seed=int(seed),
            target_accept=plan.target_accept,
            progress_bar=False,
            save_warmup=False,
        )
        post = idata["posterior"].to_dataset()
        div = int(idata["sample_stats"]["diverging"].sum())
        return post, {"divergences": div, "compiled": bool(built)}
    from empathy_models.inference.fit import fit

    result = fit(
        spec,
        data,
        sampler=plan.sampler,
        backend=plan.backend,
        draws=plan.draws,
        tune=plan.tune,
        chains=plan.chains,
        seed=int(seed),
        target_accept=plan.target_accept,
        progressbar=False,
        cores=1,
        log_likelihood=False,
        warn=False,
    )
    idata = result.idata
    post = idata["posterior"].to_dataset()
    div = int(idata["sample_stats"]["diverging"].sum()) if "sample_stats" in idata.children else 0
    return post, {"divergences": div, "compiled": True, "result": result}


__all__ = ["SamplingPlan", "SwappableVariancePartition", "draw_prior", "sample_posterior"]
