"""Model comparison by PSIS-LOO over fitted models of any family.

Each model's stored pointwise log-likelihood is scored with Pareto-smoothed importance
sampling leave-one-out cross-validation (:func:`arviz_stats.loo`) and the models are ranked
with :func:`arviz_stats.compare` (stacking weights). Models are comparable only when their
log-likelihoods are over the same units (for example per session row, per client, per
therapist) of the same data; anything else is refused with a :class:`ConfigError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import arviz_stats as azs
import numpy as np
import pandas as pd

from empathy_models.errors import ConfigError
from empathy_models.results.result import Result

#: Pareto k above which the PSIS estimate for a unit is unreliable.
PARETO_K_MAX = 0.7
#: Root attribute in which a result states the outcome scale of its log-likelihood
#: (``"original"``: density of the outcome in the data's units).
SCALE_ATTR = "log_likelihood_scale"
DECISIVE_ELPD = 4.0  # Sivula et al. (2022): smaller differences are not distinguishable


class ParetoKWarning(UserWarning):
    """Some units have Pareto k > 0.7: their leave-one-out estimate is unreliable."""


def _label(result: Result, i: int) -> str:
    try:
        cfg = result.config
        form = cfg.get("options", {}).get("form")
        base = cfg["family"] + (f"_{form}" if form else "")
    except Exception:  # pragma: no cover - results always carry a config
        base = "model"
    return f"{base}_{i}"


def _loglik_var(name: str, result: Result) -> str:
    if "log_likelihood" not in result.idata.children:
        raise ConfigError(
            f"model {name!r} has no log_likelihood group; refit with fit(..., log_likelihood=True)"
        )
    ll = result.idata["log_likelihood"].to_dataset()
    names = list(ll.data_vars)
    if len(names) != 1:
        raise ConfigError(
            f"model {name!r} stores {len(names)} log-likelihood variables {names}; "
            "compare needs exactly one"
        )
    return names[0]


def _units(name: str, result: Result, var: str) -> tuple[tuple[str, ...], dict]:
    da = result.idata["log_likelihood"][var]
    dims = tuple(d for d in da.dims if d not in ("chain", "draw"))
    coords = {
        d: np.asarray(da[d].values) if d in da.coords else np.arange(da.sizes[d]) for d in dims
    }
    return dims, coords


def _observed(result: Result, var: str, dims: tuple[str, ...]) -> np.ndarray | None:
    if "observed_data" not in result.idata.children:
        return None
    obs = result.idata["observed_data"].to_dataset()
    if var in obs.data_vars and tuple(obs[var].dims) == dims:
        return np.asarray(obs[var].values, dtype=float)
    return None


def check_comparable(results: Mapping[str, Result]) -> str:
    """Raise :class:`ConfigError` unless every model's log-likelihood is over the same units
    of the same data; return the log-likelihood variable name of the first model.

    Checked: one log-likelihood variable per model; the same unit dimensions (e.g. ``obs``
    vs ``therapist`` is refused: per-row and per-therapist log-likelihoods measure different
    predictive tasks); the same number and labels of units; the same observed values
    (where both store them); and the same number of rows used.
    """
    if len(results) < 2:
        raise ConfigError("compare needs at least two fitted models")
    ref_name, ref = next(iter(results.items()))
    ref_var = _loglik_var(ref_name, ref)
    ref_dims, ref_coords = _units(ref_name, ref, ref_var)
    ref_obs = _observed(ref, ref_var, ref_dims)
    ref_rows = (ref.data_summary or {}).get("rows_used")
    for name, res in list(results.items())[1:]:
        var = _loglik_var(name, res)
        dims, coords = _units(name, res, var)
        if dims != ref_dims:
            raise ConfigError(
                f"cannot compare {ref_name!r} and {name!r}: their log-likelihoods are on "
                f"different units ({', '.join(ref_dims) or 'none'} vs {', '.join(dims) or 'none'}); "
                "LOO values are only comparable for the same left-out units (for example refit "
                "with the same likelihood form, per row or per group, in both)"
            )
        for d in dims:
            a, b = ref_coords[d], coords[d]
            if a.shape != b.shape or not np.array_equal(a.astype(str), b.astype(str)):
                raise ConfigError(
                    f"cannot compare {ref_name!r} and {name!r}: they were fitted to different "
                    f"data ({len(a)} vs {len(b)} units along {d!r}, or different unit labels)"
                )
        rows = (res.data_summary or {}).get("rows_used")
        if ref_rows is not None and rows is not None and rows != ref_rows:
            raise ConfigError(
                f"cannot compare {ref_name!r} and {name!r}: they were fitted to different "
                f"data ({ref_rows} vs {rows} rows used)"
            )
        obs = _observed(res, var, dims)
        if ref_obs is not None and obs is not None:
            if obs.shape != ref_obs.shape or not np.allclose(
                obs, ref_obs, rtol=1e-9, atol=1e-12, equal_nan=True
            ):
                raise ConfigError(
                    f"cannot compare {ref_name!r} and {name!r}: they were fitted to different data "
                    f"(the observed values of {ref_var!r} and {var!r} differ); LOO compares "
                    "models of the same data"
                )
    scales = {n: r.idata.attrs.get(SCALE_ATTR) for n, r in results.items()}
    stated = {v for v in scales.values() if v is not None}
    if len(stated) > 1:
        raise ConfigError(
            f"cannot compare: the log-likelihoods are on different outcome scales {scales} "
            "(a density on a standardized outcome differs from one on the original scale by "
            "the Jacobian n * log(SD))"
        )
    if stated and None in scales.values():
        missing = [n for n, v in scales.items() if v is None]
        warnings.warn(
            f"models {missing} do not state the scale of their log-likelihood "
            f"(attribute {SCALE_ATTR!r}); the others state {stated.pop()!r}. If a model "
            "scores a standardized outcome, its elpd is shifted by n * log(SD)",
            UserWarning,
            stacklevel=3,
        )
    return ref_var


def compare(
    results: Mapping[str, Result] | Sequence[Result],
    *,
    method: str = "stacking",
) -> pd.DataFrame:
    """Compare fitted models by PSIS-LOO.

    Parameters
    ----------
    results
        ``{label: Result}`` or a list of results (labelled ``<family>[_<form>]_<i>``). Every
        result must store a log-likelihood (``fit(..., log_likelihood=True)``, the default)
        over the same units of the same data.
    method
        Weights: ``"stacking"`` (default), ``"BB-pseudo-BMA"`` or ``"pseudo-BMA"``.

    Returns
    -------
    pandas.DataFrame
        One row per model, best first, indexed by label, with columns ``rank``, ``elpd``
        (``elpd_loo``), ``se``, ``elpd_diff`` (from the best model, <= 0), ``dse`` (SE of the
        difference), ``p_loo`` (effective number of parameters), ``weight``, ``n_units``,
        ``unit`` (what is left out), ``n_pareto_k_bad`` (units with Pareto k > 0.7) and
        ``decisive`` for the non-best models: ``|elpd_diff| > 4`` and ``|elpd_diff| > 2 dse``.
        Below an absolute difference of 4 the normal approximation behind ``dse`` is
        unreliable and the models predict about equally well (Sivula, Magnusson, Matamoros &
        Vehtari 2022; the LOO FAQ); nested models differing by one unneeded parameter often
        show ``|elpd_diff|`` near 1-2 with a tiny ``dse``.

    Raises
    ------
    ConfigError
        Fewer than two models, a model without log-likelihood, or models whose
        log-likelihoods are over different units or different data.

    Warns
    -----
    ParetoKWarning
        When any model has units with Pareto k > 0.7.
    """
    if isinstance(results, Mapping):
        named = dict(results)
    else:
        named = {_label(r, i): r for i, r in enumerate(results)}
    for name, r in named.items():
        if not isinstance(r, Result):
            raise ConfigError(f"model {name!r} is a {type(r).__name__}, not a fitted Result")
    var = check_comparable(named)
    loos = {}
    for name, r in named.items():
        v = _loglik_var(name, r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loos[name] = azs.loo(r.idata, var_name=v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = azs.compare(loos, method=method, round_to="none")
    dims, _ = _units(next(iter(named)), next(iter(named.values())), var)
    out = pd.DataFrame(index=table.index)
    out["rank"] = table["rank"].astype(int)
    out["elpd"] = table["elpd"].astype(float)
    out["se"] = table["se"].astype(float)
    out["elpd_diff"] = -np.abs(table["elpd_diff"].astype(float))
    out["dse"] = table["dse"].astype(float)
    out["p_loo"] = table["p"].astype(float)
    out["weight"] = table["weight"].astype(float)
    out["n_units"] = [int(np.size(loos[n].pareto_k)) for n in out.index]
    out["unit"] = ", ".join(dims)
    out["n_pareto_k_bad"] = [
        int(np.sum(np.asarray(loos[n].pareto_k) > PARETO_K_MAX)) for n in out.index
    ]
    diff = out["elpd_diff"].abs()
    out["decisive"] = (diff > DECISIVE_ELPD) & (diff > 2 * out["dse"]) & (out["rank"] > 0)
    out.index.name = "model"
    bad = out.loc[out["n_pareto_k_bad"] > 0, "n_pareto_k_bad"]
    if len(bad):
        detail = ", ".join(f"{k}: {v} of {out.loc[k, 'n_units']}" for k, v in bad.items())
        warnings.warn(
            f"Pareto k > {PARETO_K_MAX} for some units ({detail}): their PSIS-LOO estimates are "
            "unreliable; treat elpd differences with care, or use leave-one-group-out with a "
            "marginal (per-group) likelihood, or refit without those units",
            ParetoKWarning,
            stacklevel=2,
        )
    return out


__all__ = ["compare"]
