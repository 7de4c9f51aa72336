"""Intervention-moderated effects after the fit: slopes and contrasts, conditional effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_models.models.moderation import DEFAULT_ROPE, contrast_probabilities
from empathy_models.results.items import ReportItem
from empathy_models.results.result import CI_PROB
from empathy_models.results.style import PALETTE, REFERENCE, figure_style, percent, quantiles, save


def contrast_table(
    result,
    *,
    rope: float | None = None,
    rope_scale: str | None = None,
    between: bool = True,
    ci_prob: float = CI_PROB,
) -> pd.DataFrame:
    """Contrasts between interventions with probability of direction and ROPE share.

    Parameters
    ----------
    result
        A :class:`~empathy_models.Result` of a
        :class:`~empathy_models.models.moderation.ModeratedEffects` fit.
    rope, rope_scale
        Override the ROPE stored with the result (default: the spec's ``rope`` and
        ``rope_scale``).
    between
        Also list the between-client contrasts (``quantity == "contrast_between"``).
    ci_prob
        Probability of the interval (default 0.9).

    Returns
    -------
    pandas.DataFrame
        One row per (quantity, subcomponent, pair): posterior ``mean``, equal-tailed
        ``lower``/``upper``, ``p_gt_0``, ``p_lt_0``, probability of direction ``pd``, the
        share of the posterior inside the ROPE ``p_rope``, and ``rope``, ``rope_scale``.
    """
    opts = result.config["options"]
    rope = opts.get("rope", DEFAULT_ROPE) if rope is None else rope
    rope_scale = opts.get("rope_scale", "std") if rope_scale is None else rope_scale
    lo, hi = quantiles(ci_prob)
    post = result.posterior
    names = ["contrast", "contrast_between"] if between else ["contrast"]
    rows = []
    for name in names:
        for p in contrast_probabilities(post, name, rope, rope_scale):
            v = post[name].sel(subcomponent=p["subcomponent"], pair=p["pair"]).values.ravel()
            rows.append(
                {
                    "quantity": name,
                    "subcomponent": p["subcomponent"],
                    "pair": p["pair"],
                    "mean": float(v.mean()),
                    "lower": float(np.quantile(v, lo)),
                    "upper": float(np.quantile(v, hi)),
                    **{k: p[k] for k in ("p_gt_0", "p_lt_0", "pd", "p_rope")},
                    "rope": rope,
                    "rope_scale": rope_scale,
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["ci_prob"] = ci_prob
    return out


def slope_table(result, *, between: bool = True, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Per-intervention slopes (original units) with equal-tailed intervals and P(slope > 0).

    Returns
    -------
    pandas.DataFrame
        One row per (quantity, subcomponent, intervention): ``mean``, ``lower``, ``upper``,
        ``p_gt_0``.
    """
    lo, hi = quantiles(ci_prob)
    post = result.posterior
    rows = []
    for name in ["slope", "slope_between"] if between else ["slope"]:
        da = post[name]
        for sub in da["subcomponent"].values:
            for lv in da["intervention"].values:
                v = da.sel(subcomponent=sub, intervention=lv).values.ravel()
                rows.append(
                    {
                        "quantity": name,
                        "subcomponent": str(sub),
                        "intervention": str(lv),
                        "mean": float(v.mean()),
                        "lower": float(np.quantile(v, lo)),
                        "upper": float(np.quantile(v, hi)),
                        "p_gt_0": float((v > 0).mean()),
                    }
                )
    out = pd.DataFrame(rows)
    out.attrs["ci_prob"] = ci_prob
    return out


def plot_conditional_effects(result, path=None, ci_prob: float = CI_PROB, quantity: str = "slope"):
    """Expected outcome against each subcomponent's within-client deviation, per intervention.

    One panel per subcomponent; a line and credible band per intervention over ±2 SD of
    the predictor's within-client deviation (other predictors at their means).
    """
    import matplotlib.pyplot as plt

    post = result.posterior
    slope = post[quantity]
    icpt = post["intercept"]
    subs = [str(s) for s in slope["subcomponent"].values]
    levels = [str(v) for v in slope["intervention"].values]
    train = result.training_data
    opts = result.config["options"]
    client_col = result.roles.get("client")
    lo_q, hi_q = quantiles(ci_prob)
    with figure_style():
        fig, axes = plt.subplots(1, len(subs), figsize=(3.6 * len(subs), 3.4), squeeze=False)
        for k, sub in enumerate(subs):
            ax = axes[0, k]
            x = train[sub].to_numpy(dtype=float)
            if client_col in train.columns and quantity == "slope":
                x = x - train.groupby(client_col)[sub].transform("mean").to_numpy()
            grid = np.linspace(-2 * x.std(), 2 * x.std(), 41)
            for j, lv in enumerate(levels):
                b = slope.sel(subcomponent=sub, intervention=lv).values.ravel()
                a = icpt.sel(intervention=lv).values.ravel()
                curves = a[:, None] + b[:, None] * grid[None, :]
                col = PALETTE[j % len(PALETTE)]
                ax.fill_between(
                    grid,
                    np.quantile(curves, lo_q, axis=0),
                    np.quantile(curves, hi_q, axis=0),
                    color=col,
                    alpha=0.25,
                    lw=0,
                )
                ax.plot(grid, curves.mean(axis=0), color=col, label=lv)
            part = "within-client deviation" if quantity == "slope" else "client mean"
            ax.set_xlabel(f"{sub} ({part})")
            ax.set_title(sub)
            if k == 0:
                ax.set_ylabel(f"expected {opts.get('outcome', 'outcome')}")
                ax.legend(frameon=False, fontsize=8)
    return save(fig, path)


def plot_contrast_forest(result, path=None, ci_prob: float = CI_PROB, between: bool = False):
    """Forest of intervention contrasts with credible intervals, pd and ROPE shares."""
    import matplotlib.pyplot as plt

    table = contrast_table(result, between=between, ci_prob=ci_prob)
    with figure_style():
        fig, ax = plt.subplots(figsize=(7, 0.9 + 0.45 * len(table)))
        labels = []
        for i, row in table.iterrows():
            ax.plot([row["lower"], row["upper"]], [i, i], color=PALETTE[0], lw=2.5)
            ax.plot(row["mean"], i, "o", color=PALETTE[0])
            ax.text(
                1.01,
                i,
                f"pd {row['pd']:.2f}  ROPE {row['p_rope']:.2f}",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=8,
            )
            prefix = "between: " if row["quantity"] == "contrast_between" else ""
            labels.append(f"{prefix}{row['subcomponent']} {row['pair']}")
        ax.axvline(0, color=REFERENCE, ls=":", lw=1)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(f"contrast of slopes (posterior mean, {percent(ci_prob)} interval)")
    return save(fig, path)


def report_items(result, ci_prob: float = CI_PROB) -> list[ReportItem]:
    """The moderation model's block of the report: contrasts, slopes, conditional effects."""
    contrasts = contrast_table(result, ci_prob=ci_prob)
    opts = result.config["options"]
    scale = "standardized" if opts.get("rope_scale", "std") == "std" else "outcome"
    return [
        ReportItem(
            title="Contrasts between interventions",
            note=(
                "Each subcomponent's slope in one intervention minus another, with the "
                f"probability of direction (pd) and the share inside the ROPE (|contrast| < "
                f"{opts.get('rope', DEFAULT_ROPE)} on the {scale} scale): a large ROPE share "
                "says the slopes are practically equal."
            ),
            table=contrasts.set_index(["quantity", "subcomponent", "pair"]),
            figure=plot_contrast_forest(result, ci_prob=ci_prob),
        ),
        ReportItem(
            title="Slopes per intervention",
            note="Within-client (and between-client) slopes in the outcome's units.",
            table=slope_table(result, ci_prob=ci_prob).set_index(
                ["quantity", "subcomponent", "intervention"]
            ),
            figure=plot_conditional_effects(result, ci_prob=ci_prob),
        ),
    ]


__all__ = [
    "contrast_table",
    "plot_conditional_effects",
    "plot_contrast_forest",
    "report_items",
    "slope_table",
]
