"""``fit``: validate, build, sample, post-process, diagnose and stamp a result."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pymc as pm
import xarray as xr

from empathy_models import _io
from empathy_models._version import __version__
from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData
from empathy_models.inference.diagnostics import diagnose
from empathy_models.inference.samplers import SamplerSettings, sample
from empathy_models.results.result import Result, frame_digest, training_data_group
from empathy_models.results.sensitivity import log_prior as prior_log_density


def fit(
    spec,
    data: Any,
    roles: Roles | None = None,
    *,
    settings: SamplerSettings | None = None,
    log_likelihood: bool = True,
    log_prior: bool = True,
    posterior_predictive: bool = False,
    prior_predictive: int = 0,
    warn: bool = True,
    reuse_compiled: bool = False,
    **sampler_kwargs,
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
    settings
        :class:`~empathy_models.inference.samplers.SamplerSettings`; keyword arguments
        named like its fields (``sampler``, ``backend``, ``draws``, ``tune``, ``chains``,
        ``seed``, ``target_accept``, ``progressbar``, ``cores``) override it.
    log_likelihood
        Store the pointwise log-likelihood for LOO (per unit the model defines; see the
        model's docs).
    log_prior
        Store the log prior density of every draw (group ``log_prior``), which prior
        sensitivity by power-scaling needs
        (:func:`~empathy_models.results.sensitivity.prior_sensitivity`).
    posterior_predictive, prior_predictive
        Draw posterior predictive samples; draw this many prior predictive samples.
    warn
        Warn when convergence diagnostics fail.
    reuse_compiled
        Reuse a sampler compiled earlier in this process for a model of the same structure
        (nutpie; simulation studies use this).

    Returns
    -------
    Result
    """
    settings = SamplerSettings.from_kwargs(settings, **sampler_kwargs)
    prepared = data if isinstance(data, PreparedData) else spec.prepare(data, roles)
    built = spec.build(prepared)
    idata, timing = sample(built.model, settings, reuse=reuse_compiled)
    idata = _keep_groups(idata, ("posterior", "sample_stats"))
    if prior_predictive:
        with built.model:
            prior = pm.sample_prior_predictive(
                draws=prior_predictive, random_seed=settings.seed + 1
            )
        for group in ("prior", "prior_predictive"):
            if group in prior.children:
                idata[group] = prior[group]
    idata = spec.postprocess(idata, prepared, built)
    if log_likelihood:
        idata["log_likelihood"] = xr.DataTree(spec.log_likelihood(idata, prepared, built))
        # Every family scores the outcome on the user's scale (see Built.loglik_offset).
        idata.attrs["log_likelihood_scale"] = "original"
    if log_prior:
        try:
            idata["log_prior"] = xr.DataTree(
                prior_log_density(built.model, idata["posterior"].to_dataset())
            )
        except Exception as exc:  # never lose a fit to the sensitivity check
            warnings.warn(
                f"log prior not stored ({exc}); prior sensitivity is unavailable for this fit",
                UserWarning,
                stacklevel=2,
            )
    if posterior_predictive:
        pp = spec.posterior_predictive(idata, prepared, built, seed=settings.seed + 2)
        if pp is not None:
            idata["posterior_predictive"] = xr.DataTree(pp)
    observed = spec.observed_data(prepared, built)
    if observed.data_vars:
        idata["observed_data"] = xr.DataTree(observed)
    cdata, cols = training_data_group(prepared.frame)
    idata["constant_data"] = xr.DataTree(cdata)

    reported = spec.reported(prepared)
    diag = diagnose(idata, spec.sampled(prepared), warn=warn)
    idata.attrs.update(
        {
            "empathy_models_version": __version__,
            "model_config": spec.config_json(),
            "column_mapping": _io.dumps(prepared.roles.to_dict()),
            "data_summary": _io.dumps(prepared.summary()),
            "sampler_settings": _io.dumps(settings.to_dict()),
            "timing": _io.dumps(timing),
            "diagnostics": _io.dumps(diag.to_dict()),
            "reported": _io.dumps(reported),
            "training_columns": _io.dumps(cols),
            "data_digest": frame_digest(prepared.frame),
            "data_source": str(data) if isinstance(data, str | Path) else "",
            "probabilities": _io.dumps(built.probabilities),
            "info": _io.dumps(built.info),
        }
    )
    return Result(idata)


def _keep_groups(idata: xr.DataTree, groups: tuple[str, ...]) -> xr.DataTree:
    return xr.DataTree.from_dict({g: idata[g].to_dataset() for g in groups if g in idata.children})
