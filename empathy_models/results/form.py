"""Functional form after the fit: the optimum table and the fitted curve over the data."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from empathy_models.errors import ConfigError
from empathy_models.results.items import ReportItem
from empathy_models.results.result import CI_PROB
from empathy_models.results.style import PALETTE, figure_style, percent, quantiles, save


def _form_info(result) -> dict:
    info = result.info
    return info.get("form_info", info)  # results written by version 0.1


def optimum_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """One-row table of the optimum evidence of a quadratic or smooth fit.

    Parameters
    ----------
    result
        A quadratic or smooth :class:`~empathy_models.Result` of the ``form`` family.
    ci_prob
        Probability of the vertex interval (default 0.9).

    Returns
    -------
    pandas.DataFrame
        Columns: ``vertex`` (posterior median) with its equal-tailed ``ci_prob`` interval
        (``vertex_lower``, ``vertex_upper``), the probabilities computed after sampling
        (``p_quadratic_negative``, ``p_curvature_optimum``, ``p_vertex_in_range``,
        ``p_optimum``, ``p_two_lines_opposite``, ``p_two_lines_optimum``, ...), the two-lines
        slopes' means, the ``breakpoint``, the observed range (``range_q05``, ``range_q95``:
        the predictor's 5th and 95th percentiles), ``optimum`` (minimum or maximum) and
        ``optimum_reported`` (all criteria reach the spec's ``evidence``).

    Raises
    ------
    ConfigError
        For a linear fit or a result of another family.
    """
    info = _form_info(result)
    if result.family != "form" or "vertex_median" not in info:
        raise ConfigError("optimum_table needs a quadratic or smooth fit of the 'form' family")
    lo, hi = quantiles(ci_prob)
    post = result.posterior
    vertex = post["vertex"].values.ravel()
    row = {
        "vertex": info["vertex_median"],
        "vertex_lower": float(np.quantile(vertex, lo)),
        "vertex_upper": float(np.quantile(vertex, hi)),
        **result.probabilities,
        "slope_below_vertex": float(post["slope_below_vertex"].mean()),
        "slope_above_vertex": float(post["slope_above_vertex"].mean()),
        "breakpoint": info["breakpoint"],
        "range_q05": info["range_q05"],
        "range_q95": info["range_q95"],
        "optimum": info["optimum"],
        "optimum_reported": info["optimum_reported"],
    }
    out = pd.DataFrame([row])
    out.attrs["ci_prob"] = ci_prob
    return out


def plot_form(results, path=None, ci_prob: float = CI_PROB, ax=None, max_points: int = 4000):
    """Fitted curve(s) with credible bands over the data; the vertex interval is shaded.

    Parameters
    ----------
    results
        One ``Result`` of the ``form`` family, or ``{label: Result}`` fitted to the same data
        (e.g. linear and quadratic).
    path
        Where to save the PNG (optional).
    ci_prob
        Probability of the band and of the vertex interval.
    ax
        Matplotlib axes to draw on (default: a new figure).
    max_points
        At most this many data points are drawn (a seeded subsample).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not isinstance(results, Mapping):
        results = {results.config["options"].get("form", "fit"): results}
    first = next(iter(results.values()))
    lo_q, hi_q = quantiles(ci_prob)
    with figure_style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.5, 4.5))
        else:
            fig = ax.figure
        obs = first.idata["observed_data"].to_dataset()
        opts = first.config["options"]
        x = obs[opts["predictor"]].values
        y = obs[opts["outcome"]].values
        if len(x) > max_points:
            keep = np.random.default_rng(0).choice(len(x), max_points, replace=False)
            x, y = x[keep], y[keep]
        ax.scatter(x, y, s=6, alpha=0.25, color="0.4", lw=0, label="data")
        for k, (label, res) in enumerate(results.items()):
            curve = res.posterior["curve"]
            grid = curve["grid"].values
            draws = curve.values.reshape(-1, len(grid))
            col = PALETTE[k % len(PALETTE)]
            ax.fill_between(
                grid,
                np.quantile(draws, lo_q, axis=0),
                np.quantile(draws, hi_q, axis=0),
                color=col,
                alpha=0.25,
                lw=0,
            )
            ax.plot(grid, np.median(draws, axis=0), color=col, lw=2, label=label)
            info = _form_info(res)
            if "vertex_median" in info:
                v = res.posterior["vertex"].values.ravel()
                a, b = np.quantile(v, [lo_q, hi_q])
                shade_a, shade_b = max(a, grid[0]), min(b, grid[-1])
                if shade_a < shade_b:
                    ax.axvspan(shade_a, shade_b, color=col, alpha=0.12, lw=0)
                if grid[0] <= info["vertex_median"] <= grid[-1]:
                    ax.axvline(info["vertex_median"], color=col, ls="--", lw=1)
                verdict = "optimum reported" if info["optimum_reported"] else "no optimum reported"
                ax.text(
                    0.02,
                    0.97 - 0.06 * k,
                    f"{label}: vertex {info['vertex_median']:.2f} [{a:.2f}, {b:.2f}], {verdict}",
                    transform=ax.transAxes,
                    fontsize=8,
                    va="top",
                    color=col,
                )
        ax.set_xlabel(opts["predictor"])
        ax.set_ylabel(opts["outcome"])
        ax.set_title(
            f"fitted curve, {percent(ci_prob)} band (random effects 0, covariates at means)",
            fontsize=9,
        )
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    return save(fig, path)


def report_items(result, ci_prob: float = CI_PROB) -> list[ReportItem]:
    """The functional form's block of the report: curve, and the optimum evidence."""
    items = [
        ReportItem(
            title="Fitted relation",
            note=(
                f"Posterior median curve with its {percent(ci_prob)} band over the data "
                "(random effects at 0, covariates at their means); for a quadratic or smooth "
                "fit the vertex and its interval are marked."
            ),
            figure=plot_form(result, ci_prob=ci_prob),
        )
    ]
    if "vertex_median" in _form_info(result):
        table = optimum_table(result, ci_prob).T
        table.columns = ["value"]
        table.index.name = "quantity"
        items.append(
            ReportItem(
                title="Is there an optimum?",
                note=(
                    "An optimum is reported only when the curvature points the right way, the "
                    "vertex lies inside the observed range (5th to 95th percentile) and the "
                    "two-lines check (separate slopes either side of the vertex) finds "
                    "opposite signs, each with probability at least the spec's evidence level."
                ),
                table=table,
            )
        )
    return items


__all__ = ["optimum_table", "plot_form", "report_items"]
