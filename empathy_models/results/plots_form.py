"""Figure of a functional-form fit: fitted curve with credible band over the data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_form(results, path=None, ci_prob: float = 0.9, ax=None, max_points: int = 4000):
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
    if not isinstance(results, dict):
        results = {results.config["options"].get("form", "fit"): results}
    first = next(iter(results.values()))
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
    lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    colors = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a"]
    for k, (label, res) in enumerate(results.items()):
        curve = res.posterior["curve"]
        grid = curve["grid"].values
        draws = curve.values.reshape(-1, len(grid))
        col = colors[k % len(colors)]
        ax.fill_between(
            grid,
            np.quantile(draws, lo_q, axis=0),
            np.quantile(draws, hi_q, axis=0),
            color=col,
            alpha=0.25,
            lw=0,
        )
        ax.plot(grid, np.median(draws, axis=0), color=col, lw=2, label=label)
        info = res.info
        info = info.get("form_info", info)
        if "vertex_median" in info:
            v = res.posterior["vertex"].values.ravel()
            a, b = np.quantile(v, [lo_q, hi_q])
            a, b = max(a, grid[0]), min(b, grid[-1])
            if a < b:
                ax.axvspan(a, b, color=col, alpha=0.12, lw=0)
            if grid[0] <= info["vertex_median"] <= grid[-1]:
                ax.axvline(info["vertex_median"], color=col, ls="--", lw=1)
            verdict = "optimum reported" if info["optimum_reported"] else "no optimum reported"
            ax.text(
                0.02,
                0.97 - 0.06 * k,
                f"{label}: vertex {info['vertex_median']:.2f} "
                f"[{info['vertex_q05']:.2f}, {info['vertex_q95']:.2f}], {verdict}",
                transform=ax.transAxes,
                fontsize=8,
                va="top",
                color=col,
            )
    ax.set_xlabel(opts["predictor"])
    ax.set_ylabel(opts["outcome"])
    ax.set_title(
        f"fitted curve, {int(ci_prob * 100)}% band (random effects 0, covariates at means)",
        fontsize=9,
    )
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


__all__ = ["plot_form"]
