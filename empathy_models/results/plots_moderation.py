"""Figures of the moderation model: conditional effects and a forest of contrasts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_conditional_effects(result, path=None, ci_prob: float = 0.9, quantity: str = "slope"):
    """Expected outcome against each subcomponent's within-client deviation, per intervention.

    One panel per subcomponent; a line and credible band per intervention over ±2 SD of
    the predictor's within-client deviation (other predictors at their means).
    """
    post = result.posterior
    slope = post[quantity]
    icpt = post["intercept"]
    subs = [str(s) for s in slope["subcomponent"].values]
    levels = [str(v) for v in slope["intervention"].values]
    train = result.training_data
    opts = result.config["options"]
    client_col = result.roles.get("client")
    lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    fig, axes = plt.subplots(1, len(subs), figsize=(3.6 * len(subs), 3.4), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
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
            col = colors[j % len(colors)]
            ax.fill_between(
                grid,
                np.quantile(curves, lo_q, axis=0),
                np.quantile(curves, hi_q, axis=0),
                color=col,
                alpha=0.25,
            )
            ax.plot(grid, curves.mean(axis=0), color=col, label=lv)
        ax.set_xlabel(
            f"{sub} ({'within-client deviation' if quantity == 'slope' else 'client mean'})"
        )
        ax.set_title(sub)
        if k == 0:
            ax.set_ylabel(f"expected {opts.get('outcome', 'outcome')}")
            ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_contrast_forest(result, path=None, ci_prob: float = 0.9, between: bool = False):
    """Forest of intervention contrasts with credible intervals, pd and ROPE shares."""
    from empathy_models.models.moderation import contrast_table

    table = contrast_table(result, between=between)
    lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    post = result.posterior
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.45 * len(table)))
    labels = []
    for i, row in table.iterrows():
        v = post[row["quantity"]].sel(subcomponent=row["subcomponent"], pair=row["pair"]).values
        v = v.ravel()
        ax.plot([np.quantile(v, lo_q), np.quantile(v, hi_q)], [i, i], color="k", lw=2)
        ax.plot(v.mean(), i, "o", color="k")
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
    ax.axvline(0, color="grey", ls=":", lw=1)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"contrast of slopes (posterior mean, {int(ci_prob * 100)}% interval)")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


__all__ = ["plot_conditional_effects", "plot_contrast_forest"]
