"""Figures (matplotlib, Agg backend: they work without a display)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_shares(results: Mapping[str, object], path=None, ci_prob: float = 0.9):
    """Variance shares with credible intervals, one row per measure.

    Parameters
    ----------
    results
        ``{label: Result}`` of variance-partition fits.
    path
        Where to save the PNG (optional).
    """
    comps = ["therapist", "client", "session", "residual"]
    colors = {
        "therapist": "#1b9e77",
        "client": "#d95f02",
        "session": "#7570b3",
        "residual": "#999999",
    }
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.7 * len(results)))
    lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    labels = list(results)
    for i, label in enumerate(labels):
        post = results[label].posterior
        present = [cc for cc in comps if f"share_{cc}" in post]
        for k, comp in enumerate(present):
            v = post[f"share_{comp}"].values.ravel()
            y = i + (k - (len(present) - 1) / 2) * 0.18
            ax.plot([np.quantile(v, lo_q), np.quantile(v, hi_q)], [y, y], color=colors[comp], lw=2)
            ax.plot(v.mean(), y, "o", color=colors[comp], label=comp if i == 0 else None)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of variance (posterior mean, {int(ci_prob * 100)}% interval)")
    ax.axvline(0.05, color="k", ls=":", lw=0.8)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.invert_yaxis()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
