"""Variance partition after the fit: the shares table and the share bars."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from empathy_models.results.items import ReportItem
from empathy_models.results.result import CI_PROB
from empathy_models.results.style import (
    COMPONENT_COLORS,
    REFERENCE,
    figure_style,
    percent,
    quantiles,
    save,
)

#: Share above which a component is conventionally called non-negligible.
SHARE_THRESHOLD = 0.05


def shares_table(
    result, ci_prob: float = CI_PROB, threshold: float = SHARE_THRESHOLD
) -> pd.DataFrame:
    """Shares of variance with equal-tailed intervals and the probability of exceeding
    ``threshold``.

    Parameters
    ----------
    result
        A :class:`~empathy_models.Result` of the ``variance`` family.
    ci_prob
        Probability of the interval (default :data:`~empathy_models.results.result.CI_PROB`).
    threshold
        Share whose exceedance probability is reported (default 0.05).

    Returns
    -------
    pandas.DataFrame
        One row per component (``therapist``, ``client``, [``session``], ``residual``):
        ``mean``, ``lower``, ``upper`` (the ``ci_prob`` interval) and ``p_gt_<threshold>``.
        ``attrs["ci_prob"]`` holds ``ci_prob``.
    """
    lo, hi = quantiles(ci_prob)
    post = result.posterior
    rows = []
    for name in [n for n in result.reported if n.startswith("share_")]:
        v = post[name].values.ravel()
        rows.append(
            {
                "component": name.removeprefix("share_"),
                "mean": float(v.mean()),
                "lower": float(np.quantile(v, lo)),
                "upper": float(np.quantile(v, hi)),
                f"p_gt_{threshold:g}": float((v > threshold).mean()),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["ci_prob"] = ci_prob
    return out


def plot_shares(results, path=None, ci_prob: float = CI_PROB, threshold: float = SHARE_THRESHOLD):
    """Variance shares with credible intervals, one row per fit (e.g. per measure).

    Parameters
    ----------
    results
        One variance-partition ``Result`` or ``{label: Result}``.
    path
        Where to save the PNG (optional).
    ci_prob
        Probability of the intervals.
    threshold
        Drawn as a dotted reference line (default 5%).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not isinstance(results, Mapping):
        results = {results.config["options"].get("measure", "fit"): results}
    lo_q, hi_q = quantiles(ci_prob)
    labels = list(results)
    comps = list(COMPONENT_COLORS)
    with figure_style():
        fig, ax = plt.subplots(figsize=(7, 1.2 + 0.75 * len(results)))
        seen = set()
        for i, label in enumerate(labels):
            post = results[label].posterior
            present = [c for c in comps if f"share_{c}" in post]
            for k, comp in enumerate(present):
                v = post[f"share_{comp}"].values.ravel()
                y = i + (k - (len(present) - 1) / 2) * 0.18
                col = COMPONENT_COLORS[comp]
                ax.plot([np.quantile(v, lo_q), np.quantile(v, hi_q)], [y, y], color=col, lw=2.5)
                ax.plot(v.mean(), y, "o", color=col, ms=6, label=None if comp in seen else comp)
                seen.add(comp)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"share of variance (posterior mean and {percent(ci_prob)} interval)")
        ax.axvline(threshold, color=REFERENCE, ls=":", lw=1)
        ax.text(
            threshold + 0.005,
            0.01,
            f"{threshold:.0%}",
            transform=ax.get_xaxis_transform(),
            va="bottom",
            ha="left",
            fontsize=8,
            color=REFERENCE,
        )
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, ncols=len(seen))
        ax.set_ylim(len(labels) - 0.5, -0.5)
    return save(fig, path)


def report_items(result, ci_prob: float = CI_PROB) -> list[ReportItem]:
    """The variance partition's block of the report: shares table and share bars."""
    table = shares_table(result, ci_prob)
    return [
        ReportItem(
            title="Shares of variance",
            note=(
                f"Each component's share of the total variance, with its {percent(ci_prob)} "
                "interval and the probability that it exceeds 5%, the share above which a "
                "therapist effect is conventionally called non-negligible."
            ),
            table=table.set_index("component"),
            figure=plot_shares(result, ci_prob=ci_prob),
        )
    ]


__all__ = ["SHARE_THRESHOLD", "plot_shares", "report_items", "shares_table"]
