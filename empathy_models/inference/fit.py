"""``fit``: validate, build, sample, post-process, diagnose and stamp a result."""

from __future__ import annotations

import json
from typing import Any

import pymc as pm
import xarray as xr

from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData
from empathy_models.inference.diagnostics import diagnose
from empathy_models.inference.samplers import SamplerSettings, sample, show_progress
from empathy_models.results.result import Result, frame_digest, training_data_group


def fit(
    spec,
    data: Any,
    roles: Roles | None = None,
    *,
    sampler: str = "nutpie",
    backend: str = "numba",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.8,
    progressbar: bool | None = None,
    cores: int | None = None,
    log_likelihood: bool = True,
    posterior_predictive: bool = False,
    prior_predictive: int = 0,
    warn: bool = True,
) -> Result:
    """Fit a model family to data.

    Parameters
    ----------
    spec
        A model spec such as :class:`~empathy_models.VariancePartition`.
    data
        DataFrame (never modified), path to CSV/Parquet, or :class:`PreparedData`.
    roles
        Column mapping (default: columns named like the roles).
    sampler, backend, draws, tune, chains, seed, target_accept, progressbar, cores
        See :class:`~empathy_models.inference.samplers.SamplerSettings`.
    log_likelihood
        Store the log-likelihood for LOO (per unit the model defines; see the model's docs).
    posterior_predictive, prior_predictive
        Draw posterior predictive samples; draw this many prior predictive samples.
    warn
        Warn when convergence diagnostics fail.

    Returns
    -------
    Result
    """
    from empathy_models import __version__

    settings = SamplerSettings(
        sampler=sampler,
        backend=backend,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        target_accept=target_accept,
        progressbar=progressbar,
        cores=cores,
    )
    prepared = data if isinstance(data, PreparedData) else spec.prepare(data, roles)
    model = spec.build(prepared)
    idata, timing = sample(model, settings)
    idata = _keep_groups(idata, ("posterior", "sample_stats"))
    if prior_predictive:
        with model:
            prior = pm.sample_prior_predictive(draws=prior_predictive, random_seed=seed + 1)
        for group in ("prior", "prior_predictive"):
            if group in prior.children:
                idata[group] = prior[group]
    idata = spec.postprocess(idata, prepared, model)
    if log_likelihood and hasattr(spec, "log_likelihood"):
        ll = spec.log_likelihood(idata, prepared, model)
        if ll is not None:
            idata["log_likelihood"] = xr.DataTree(ll)
            # Every family scores the outcome on the user's scale (see each log_likelihood).
            idata.attrs["log_likelihood_scale"] = "original"
    if posterior_predictive and hasattr(spec, "posterior_predictive"):
        pp = spec.posterior_predictive(
            idata, prepared, model, seed=seed + 2, progressbar=show_progress(progressbar)
        )
        if pp is not None:
            idata["posterior_predictive"] = xr.DataTree(pp)
    if hasattr(spec, "observed_data"):
        idata["observed_data"] = xr.DataTree(spec.observed_data(prepared))
    cdata, cols = training_data_group(prepared.frame)
    idata["constant_data"] = xr.DataTree(cdata)

    reported = spec.reported(prepared)
    diag = diagnose(idata, spec.sampled(prepared), warn=warn)
    idata.attrs.update(
        {
            "empathy_models_version": __version__,
            "model_config": spec.config_json(),
            "column_mapping": json.dumps(prepared.roles.to_dict()),
            "data_summary": json.dumps(prepared.summary()),
            "sampler_settings": json.dumps(settings.to_dict()),
            "timing": json.dumps(timing),
            "diagnostics": json.dumps(diag.to_dict()),
            "reported": json.dumps(reported),
            "training_columns": json.dumps(cols),
            "data_digest": frame_digest(prepared.frame),
        }
    )
    return Result(idata)


def _keep_groups(idata: xr.DataTree, groups: tuple[str, ...]) -> xr.DataTree:
    return xr.DataTree.from_dict({g: idata[g].to_dataset() for g in groups if g in idata.children})
