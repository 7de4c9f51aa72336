"""Generic figures of any fitted result, drawn by :mod:`arviz_plots` (matplotlib backend).

* :func:`plot_posterior_forest`: forest plots, one per scale (``arviz_plots.plot_forest``),
  so that intercepts, coefficients, SDs, shares and correlations never share an axis;
* :func:`plot_posterior`: marginal posterior densities, each quantity on its own axis
  (``arviz_plots.plot_dist``);
* :func:`plot_rank_diagnostics`: rank Δ-ECDF plots per chain (``arviz_plots.plot_rank``);
* :func:`plot_ppc`: posterior predictive densities over the data (``arviz_plots.plot_ppc_dist``);
* :func:`plot_pit`: ECDF of the probability integral transform (``arviz_plots.plot_ppc_pit``);
* :func:`plot_prior_sensitivity`: power-scaled posteriors (``arviz_plots.plot_psense_dist``).

Each returns an ``arviz_plots.PlotCollection`` (``.savefig(path)`` writes it) or ``None``
when the result lacks what the figure needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from empathy_models.results.result import CI_PROB
from empathy_models.results.style import REFERENCE, figure_style, percent, quantiles

#: Order of the scale groups (panels of the forest, blocks of the summary table).
SCALES = (
    "intercepts and means",
    "coefficients",
    "standard deviations",
    "variances",
    "shares (0 to 1)",
    "correlations (-1 to 1)",
    "predictor units",
    "back-transformed",
    "smooth-term hyperparameters",
)
_INTERCEPTS = {"Intercept", "intercept", "mean_client", "mean_therapist"}
_PREDICTOR_UNITS = {"vertex", "breakpoint"}
#: Quantities with more elements than this are left out of the generic figures (e.g.
#: per-therapist couplings; the family's own figures show those).
MAX_ELEMENTS = 12


def _options(result) -> dict:
    return result.config.get("options", {})


def units(result) -> str:
    """The units the outcome-scale quantities of ``result`` are in, in words."""
    opts = _options(result)
    if result.family == "meta":
        spec = result.spec
        return {"r": "Fisher z", "counts": f"log {str(spec.measure).upper()}"}.get(
            spec.form, "effect units"
        )
    if result.family == "circuit":
        return "affect units"
    name = opts.get("measure") or opts.get("outcome")
    return f"{name} units" if name else "outcome units"


def scale_of(name: str, result=None) -> str:
    """Which scale group (one of :data:`SCALES`) the reported quantity ``name`` is on."""
    if (
        result is not None
        and result.family == "meta"
        and name.startswith(("mu_", "theta_new_"))
        and name.rsplit("_", 1)[-1] in ("r", "rr", "or")
    ):
        return "back-transformed"
    if name.startswith("hsgp_"):
        return "smooth-term hyperparameters"
    if name in _INTERCEPTS and not name.endswith("_predictor"):
        return "intercepts and means"
    if name.startswith("share_") or name.startswith("i2"):
        return "shares (0 to 1)"
    if "corr" in name:
        return "correlations (-1 to 1)"
    if name.startswith("tau2"):
        return "variances"
    if name.startswith(("sd_", "sigma", "tau")):
        return "standard deviations"
    if name in _PREDICTOR_UNITS or name.endswith("_predictor"):
        return "predictor units"
    return "coefficients"


def scale_label(scale: str, result) -> str:
    """Axis label of a scale group: what the numbers are and their units."""
    u = units(result)
    predictor = _options(result).get("predictor") or "predictor"
    if result.family == "circuit":
        coef = "lagged coefficients (affect per affect unit one moment earlier)"
    elif result.family == "meta":
        coef = f"effects and moderator coefficients ({u})"
    else:
        coef = f"coefficients ({u} per unit of the predictor)"
    back = "back-transformed"
    if result.family == "meta":
        back = {"r": "correlation r", "counts": str(result.spec.measure).upper()}.get(
            result.spec.form, back
        )
    return {
        "intercepts and means": f"intercepts and means ({u})",
        "coefficients": coef,
        "standard deviations": f"standard deviations ({u})",
        "variances": f"variances ({u}, squared)",
        "shares (0 to 1)": "shares of variance (0 to 1)",
        "correlations (-1 to 1)": "correlations (-1 to 1)",
        "predictor units": f"{predictor} units (means, SDs and the vertex of the predictor)",
        "back-transformed": back,
        "smooth-term hyperparameters": "smooth-term amplitude and length scale (standardized)",
    }[scale]


def _n_elements(da) -> int:
    return int(np.prod([da.sizes[d] for d in da.dims if d not in ("chain", "draw")], dtype=int))


def plottable(result, var_names: Sequence[str] | None = None, max_elements: int = MAX_ELEMENTS):
    """Reported quantities present in the posterior with at most ``max_elements`` elements
    (correlation matrices count their distinct off-diagonal pairs)."""
    post = result.posterior
    out = []
    for n in var_names or result.reported:
        if n not in post:
            continue
        k = _n_elements(post[n])
        if "rater2" in post[n].dims:
            r = post[n].sizes["rater2"]
            k = r * (r - 1) // 2
        if k <= max_elements:
            out.append(n)
    return out


def scale_groups(result, var_names: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Plottable reported quantities grouped by :func:`scale_of`, in :data:`SCALES` order."""
    groups: dict[str, list[str]] = {s: [] for s in SCALES}
    for n in plottable(result, var_names):
        groups[scale_of(n, result)].append(n)
    return {k: v for k, v in groups.items() if v}


def _expanded(result, name: str) -> dict:
    """``{label: DataArray}`` of one quantity: itself, or for a correlation matrix
    (``rater x rater2``) one scalar per distinct pair, labelled ``name[a, b]``."""
    da = result.posterior[name]
    if "rater2" not in da.dims:
        return {name: da}
    labels = [str(v) for v in da["rater"].values]
    return {
        f"{name}[{a}, {b}]": da.sel(rater=a, rater2=b, drop=True)
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
    }


def _tree(result, names):
    """A DataTree whose posterior holds ``names`` (correlation matrices as their pairs)."""
    import xarray as xr

    data = {}
    for n in names:
        data.update(_expanded(result, n))
    return xr.DataTree.from_dict({"posterior": xr.Dataset(data)})


def _flat_tree(result, names):
    """Like :func:`_tree`, with every element a scalar variable labelled ``name[a, b]``, so
    a forest has one column of labels."""
    import xarray as xr

    data = {}
    for n in names:
        for label, da in _expanded(result, n).items():
            dims = [d for d in da.dims if d not in ("chain", "draw")]
            if not dims:
                data[label] = da
                continue
            stacked = da.stack(_el=dims)
            for k in range(stacked.sizes["_el"]):
                key = stacked["_el"].values[k]
                key = key if isinstance(key, tuple) else (key,)
                inner = ", ".join(str(x) for x in key)
                data[f"{label}[{inner}]"] = stacked.isel(_el=k, drop=True).drop_vars(
                    [c for c in stacked.coords if c not in ("chain", "draw")], errors="ignore"
                )
    return xr.DataTree.from_dict({"posterior": xr.Dataset(data)})


def _size(result, name: str) -> int:
    return sum(_n_elements(da) for da in _expanded(result, name).values())


def _height(result, names) -> float:
    return 1.0 + 0.36 * sum(_size(result, n) for n in names)


def plot_posterior_forest(
    result, ci_prob: float = CI_PROB, var_names: Sequence[str] | None = None
) -> dict:
    """Forest plots (posterior mean, 50% and ``ci_prob`` equal-tailed intervals, chains
    combined), one per scale group.

    Returns
    -------
    dict
        ``{scale: PlotCollection}`` in :data:`SCALES` order.
    """
    import arviz_plots as azp

    quantiles(ci_prob)
    out = {}
    for scale, names in scale_groups(result, var_names).items():
        tree = _flat_tree(result, names)
        longest = max(len(v) for v in tree["posterior"].to_dataset().data_vars)
        label_w = 0.4 + 0.068 * longest  # inches of the label column (9-10 pt text)
        with figure_style():
            pc = azp.plot_forest(
                tree,
                combined=True,
                point_estimate="mean",
                ci_kind="eti",
                ci_probs=(0.5, ci_prob),
                backend="matplotlib",
                figure_kwargs={
                    "figsize": (label_w + 4.4, _height(result, names)),
                    "width_ratios": [label_w, 4.4],
                },
            )
            fig = pc.get_viz("figure")
            for ax in fig.axes:
                if ax.texts:  # the column of labels: drop its "variable" tick
                    ax.set_xticks([])
            lo, hi = fig.axes[0].get_ylim()
            fig.axes[0].set_ylim(lo - 0.4, hi + 0.4)  # no label sits on the axis line
            ax = fig.axes[-1]
            x0, x1 = ax.get_xlim()
            if x0 < 0 < x1:
                ax.axvline(0, color=REFERENCE, ls=":", lw=0.8, zorder=0)
            fig.supxlabel(
                f"{scale_label(scale, result)}: mean, 50% and {percent(ci_prob)} intervals",
                fontsize=10,
            )
        out[scale] = pc
    return out


def plot_posterior(
    result, ci_prob: float = CI_PROB, var_names: Sequence[str] | None = None, max_panels: int = 24
):
    """Marginal posterior densities with the posterior mean and ``ci_prob`` interval, each
    quantity on its own axis (at most ``max_panels`` panels)."""
    import arviz_plots as azp

    names = _fit_panels(result, plottable(result, var_names), max_panels)
    if not names:
        return None
    tree = _tree(result, names)
    n = sum(_n_elements(da) for da in tree["posterior"].to_dataset().data_vars.values())
    cols = min(4, n)
    with figure_style():
        return azp.plot_dist(
            tree,
            kind="kde",
            point_estimate="mean",
            ci_kind="eti",
            ci_prob=ci_prob,
            backend="matplotlib",
            col_wrap=cols,
            figure_kwargs={"figsize": (2.6 * cols, 1.9 * int(np.ceil(n / cols)))},
        )


def _fit_panels(result, names, max_panels):
    out, total = [], 0
    for n in names:
        k = _size(result, n)
        if total + k > max_panels:
            continue
        out.append(n)
        total += k
    return out


def plot_rank_diagnostics(result, var_names: Sequence[str] | None = None, max_panels: int = 16):
    """Rank Δ-ECDF plots: each chain's fractional ranks against uniformity, with a
    simultaneous envelope (``arviz_plots.plot_rank``). Chains that explore the same
    posterior stay inside the envelope."""
    import arviz_plots as azp

    names = _fit_panels(result, plottable(result, var_names), max_panels)
    if not names or result.posterior.sizes.get("chain", 1) < 2:
        return None
    tree = _tree(result, names)
    n = sum(_n_elements(da) for da in tree["posterior"].to_dataset().data_vars.values())
    cols = min(4, n)
    with figure_style():
        return azp.plot_rank(
            tree,
            backend="matplotlib",
            col_wrap=cols,
            figure_kwargs={"figsize": (2.6 * cols, 1.9 * int(np.ceil(n / cols)))},
        )


def _predictive(result):
    children = result.idata.children
    if "posterior_predictive" not in children or "observed_data" not in children:
        return None
    pp = result.idata["posterior_predictive"].to_dataset()
    obs = result.idata["observed_data"].to_dataset()
    names = [v for v in pp.data_vars if v in obs.data_vars]
    return names or None


def plot_ppc(result, num_samples: int = 50):
    """Densities of ``num_samples`` replicated data sets over the observed data's density
    (``arviz_plots.plot_ppc_dist``); ``None`` without a ``posterior_predictive`` group."""
    import arviz_plots as azp

    names = _predictive(result)
    if names is None:
        return None
    with figure_style():
        return azp.plot_ppc_dist(
            result.idata,
            var_names=names,
            num_samples=num_samples,
            backend="matplotlib",
            figure_kwargs={"figsize": (min(4.2 * len(names), 9), 2.8)},
        )


def plot_pit(result):
    """ECDF of the probability integral transform ``P(y_rep <= y)`` minus the uniform CDF,
    with a simultaneous envelope (``arviz_plots.plot_ppc_pit``); ``None`` without a
    ``posterior_predictive`` group."""
    import arviz_plots as azp

    names = _predictive(result)
    if names is None:
        return None
    with figure_style():
        return azp.plot_ppc_pit(
            result.idata,
            var_names=names,
            backend="matplotlib",
            figure_kwargs={"figsize": (min(4.2 * len(names), 9), 2.8)},
        )


def plot_prior_sensitivity(result, var_names: Sequence[str] | None = None, max_panels: int = 6):
    """Posteriors under power-scaled priors and likelihoods (``alpha`` 0.8 and 1.25;
    ``arviz_plots.plot_psense_dist``). Needs ``log_prior`` and ``log_likelihood`` groups
    (see :func:`empathy_models.results.sensitivity.with_log_prior`)."""
    import arviz_plots as azp

    from empathy_models.results.sensitivity import with_log_prior

    tree = with_log_prior(result)
    if tree is None or "log_likelihood" not in tree.children:
        return None
    names = [n for n in plottable(result, var_names) if result.posterior[n].ndim == 2]
    names = names[:max_panels]
    if not names:
        return None
    with figure_style():
        return azp.plot_psense_dist(
            tree,
            var_names=names,
            backend="matplotlib",
            figure_kwargs={"figsize": (9, 1.2 + 0.9 * len(names))},
        )


__all__ = [
    "MAX_ELEMENTS",
    "SCALES",
    "plot_pit",
    "plot_posterior",
    "plot_posterior_forest",
    "plot_ppc",
    "plot_prior_sensitivity",
    "plot_rank_diagnostics",
    "scale_groups",
    "scale_label",
    "scale_of",
    "units",
]
