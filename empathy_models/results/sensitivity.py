"""Prior sensitivity by power-scaling (Kallioinen et al. 2024), for every family.

Power-scaling raises the prior (or the likelihood) to a power ``alpha`` near 1 and measures,
by Pareto-smoothed importance sampling of the existing draws, how far each posterior moves
(``arviz_stats.psense``). It needs two groups besides the posterior:

* ``log_likelihood``: every family stores it (per row, or per top-level group where lower
  levels are integrated out; summed over units, so either works);
* ``log_prior``: the log density of the priors at each draw. :func:`log_prior` computes it
  from the built model's free random variables; :func:`empathy_models.fit` stores it
  (``fit(..., log_prior=True)``, the default) and :func:`with_log_prior` rebuilds the
  model from a result's stored configuration and data when a file lacks it.

Only the priors a user sets by name are scaled: the standard-normal offsets ``z_*`` and the
group effects ``re_*`` of the grouping levels are part of the hierarchical model, not of the
prior, and are left out (as priorsense does for brms' group-level effects).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

#: Free random variables whose density is not power-scaled (hierarchical offsets/effects).
NOT_PRIOR_PREFIXES = ("z_", "re_")
#: Sensitivity above which a quantity is flagged (Kallioinen et al. 2024).
PSENSE_THRESHOLD = 0.05


def log_prior(model, posterior: xr.Dataset) -> xr.Dataset:
    """Log prior density of each prior-carrying free variable at every posterior draw.

    Parameters
    ----------
    model
        The built ``pm.Model`` (``Built.model``).
    posterior
        Posterior draws (dims ``chain``, ``draw``) holding every free variable.

    Returns
    -------
    xarray.Dataset
        One variable per free random variable (named like it, without ``z_*``/``re_*``),
        on the constrained scale the posterior stores (no Jacobian), dims ``chain``,
        ``draw`` and the variable's own dims when its density is elementwise.
    """
    import pytensor
    import pytensor.tensor as pt
    from pymc.model.transform.conditioning import remove_value_transforms
    from pytensor.graph.replace import vectorize_graph

    um = remove_value_transforms(model)
    rvs = [rv for rv in um.free_RVs if not rv.name.startswith(NOT_PRIOR_PREFIXES)]
    if not rvs:
        return xr.Dataset()
    terms = um.logp(vars=rvs, sum=False)
    values = list(um.value_vars)
    missing = [
        um.values_to_rvs[v].name for v in values if um.values_to_rvs[v].name not in posterior
    ]
    if missing:
        raise KeyError(f"the posterior lacks the free variables {missing}")
    batched = {v: pt.tensor(dtype=v.dtype, shape=(None, *v.type.shape)) for v in values}
    outs = vectorize_graph(terms, replace=batched)
    fn = pytensor.function(
        list(batched.values()), outs, on_unused_input="ignore", mode="FAST_COMPILE"
    )
    nc, nd = posterior.sizes["chain"], posterior.sizes["draw"]
    args = []
    for v in values:
        da = posterior[um.values_to_rvs[v].name].transpose("chain", "draw", ...)
        args.append(np.asarray(da.values, dtype=v.dtype).reshape(nc * nd, *da.shape[2:]))
    results = fn(*args)
    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values}
    data = {}
    for rv, lp in zip(rvs, results, strict=True):
        lp = np.asarray(lp).reshape(nc, nd, *np.shape(lp)[1:])
        da = posterior[rv.name].transpose("chain", "draw", ...)
        if lp.shape == da.shape:
            data[rv.name] = xr.DataArray(lp, dims=da.dims, coords=da.coords).reset_coords(drop=True)
        else:  # joint density of a vector (MvNormal, LKJ): one value per draw or per row
            lp = lp.reshape(nc, nd, -1).sum(axis=-1)
            data[rv.name] = xr.DataArray(lp, dims=("chain", "draw"))
    return xr.Dataset(data).assign_coords(coords)


def rebuild_model(result):
    """Rebuild the ``pm.Model`` of a fitted result from its stored configuration, column
    mapping and training rows (validation and build only; nothing is sampled)."""
    from empathy_models.data.roles import Roles

    spec = result.spec
    prepared = spec.prepare(result.training_data, Roles.from_dict(result.roles))
    return spec.build(prepared).model


def with_log_prior(result) -> xr.DataTree | None:
    """The result's tree with a ``log_prior`` group: the stored one, or one computed from
    the rebuilt model (the result is not modified). ``None`` when neither is possible (a
    warning says why)."""
    tree = result.idata
    if "log_prior" in tree.children:
        return tree
    try:
        model = rebuild_model(result)
        lp = log_prior(model, result.posterior)
    except Exception as exc:  # a result of an older version, or data that no longer validate
        warnings.warn(
            f"cannot compute the log prior of this {result.family!r} result ({exc}); "
            "refit with this version of empathy_models for prior sensitivity",
            UserWarning,
            stacklevel=2,
        )
        return None
    tree = tree.copy()
    tree["log_prior"] = xr.DataTree(lp)
    return tree


def prior_sensitivity(
    result,
    var_names: Sequence[str] | None = None,
    threshold: float = PSENSE_THRESHOLD,
) -> pd.DataFrame | None:
    """Power-scaling sensitivity of each reported quantity to the prior and the likelihood.

    Parameters
    ----------
    result
        A fitted :class:`~empathy_models.Result` with a log-likelihood.
    var_names
        Quantities to assess (default: the reported ones with at most
        :data:`~empathy_models.results.figures.MAX_ELEMENTS` elements; correlation matrices
        as their distinct pairs).
    threshold
        Sensitivity above which a quantity is flagged (default 0.05).

    Returns
    -------
    pandas.DataFrame or None
        ``arviz_stats.psense_summary``: one row per quantity (element), columns ``prior``
        and ``likelihood`` (the cumulative Jensen-Shannon distance of the power-scaled
        posterior per unit of log alpha) and ``diagnosis``: ``"potential prior-data
        conflict"`` (both above ``threshold``), ``"potential strong prior / weak
        likelihood"`` (prior above, likelihood below) or ``"✓"``. ``None`` when the result
        has no log-likelihood or its log prior cannot be computed.
    """
    import logging

    import arviz_stats as azs

    from empathy_models.results.figures import _tree, plottable

    tree = with_log_prior(result)
    if tree is None or "log_likelihood" not in tree.children:
        return None
    names = plottable(result, var_names)
    if not names:
        return None
    data = _tree(result, names)
    data["log_prior"] = tree["log_prior"]
    data["log_likelihood"] = tree["log_likelihood"]
    log = logging.getLogger("arviz_stats.psense")
    level = log.level
    log.setLevel(logging.ERROR)  # its warning points to a web page; the report explains
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = azs.psense_summary(data, threshold=threshold, round_to=4)
    finally:
        log.setLevel(level)
    table.index.name = "quantity"
    table.columns.name = None
    return table


__all__ = [
    "NOT_PRIOR_PREFIXES",
    "PSENSE_THRESHOLD",
    "log_prior",
    "prior_sensitivity",
    "rebuild_model",
    "with_log_prior",
]
