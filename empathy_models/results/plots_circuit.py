"""Figures of the emotional-circuit model (matplotlib, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

PHASE_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def plot_coupling_forest(result, path=None, ci_prob: float = 0.9, sort_by: str | None = None):
    """Per-therapist client -> therapist coupling ``phi_tc`` by phase (forest plot).

    Each therapist gets one interval per phase (posterior mean and equal-tailed
    ``ci_prob`` interval); dashed lines are the population couplings ``phi_tc_mean``.

    Parameters
    ----------
    result
        A fitted :class:`~empathy_models.models.circuit.EmotionalCircuit` result.
    path
        Where to save the PNG (optional).
    sort_by
        Phase whose coupling orders the therapists (default: the throttle when present,
        otherwise the first phase).
    """
    post = result.posterior
    phi = post["phi_tc"]
    phases = [str(p) for p in post["phase"].values]
    ther = [str(t) for t in post["therapist"].values]
    lo, hi = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    mean = phi.mean(("chain", "draw")).values
    qlo = phi.quantile(lo, ("chain", "draw")).values
    qhi = phi.quantile(hi, ("chain", "draw")).values
    if sort_by is not None:
        key = mean[:, phases.index(sort_by)]
    elif "throttle_therapist" in post:
        key = post["throttle_therapist"].mean(("chain", "draw")).values
    else:
        key = mean[:, 0]
    order = np.argsort(key)
    n = len(ther)
    fig, ax = plt.subplots(figsize=(6.5, 1.0 + 0.22 * n))
    for k, ph in enumerate(phases):
        col = PHASE_COLORS[k % len(PHASE_COLORS)]
        off = (k - (len(phases) - 1) / 2) * 0.25
        y = np.arange(n) + off
        ax.hlines(y, qlo[order, k], qhi[order, k], color=col, lw=1.2)
        ax.plot(mean[order, k], y, "o", ms=3, color=col, label=ph)
        pm_ = float(post["phi_tc_mean"].sel(phase=ph).mean())
        ax.axvline(pm_, color=col, ls="--", lw=0.8)
    ax.set_yticks(range(n), [ther[i] for i in order], fontsize=7)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel(f"client → therapist coupling φ_TC (mean, {int(ci_prob * 100)}% interval)")
    ax.legend(title="phase", fontsize=8, frameon=False, loc="best")
    ax.invert_yaxis()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_impulse_response(irf: pd.DataFrame, path=None):
    """Impulse-response curves with credible bands.

    Parameters
    ----------
    irf
        Output of :func:`~empathy_models.models.circuit.impulse_response`.
    path
        Where to save the PNG (optional).
    """
    shocks = list(dict.fromkeys(irf["shock"]))
    responses = list(dict.fromkeys(irf["response"]))
    phases = list(dict.fromkeys(irf["phase"]))
    fig, axes = plt.subplots(
        len(shocks), len(responses), figsize=(4 * len(responses), 3 * len(shocks)), squeeze=False
    )
    for i, sh in enumerate(shocks):
        for j, rs in enumerate(responses):
            ax = axes[i, j]
            for k, ph in enumerate(phases):
                col = PHASE_COLORS[k % len(PHASE_COLORS)]
                d = irf[(irf["shock"] == sh) & (irf["response"] == rs) & (irf["phase"] == ph)]
                ax.fill_between(d["step"], d["lower"], d["upper"], color=col, alpha=0.25, lw=0)
                ax.plot(d["step"], d["mean"], color=col, label=ph)
            ax.axhline(0, color="k", lw=0.6)
            ax.set_title(f"{sh} shock → {rs} affect", fontsize=9)
            ax.set_xlabel("moments after the shock")
            if j == 0:
                ax.set_ylabel("response (affect units)")
    axes[0, -1].legend(title="phase", fontsize=8, frameon=False)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


__all__ = ["plot_coupling_forest", "plot_impulse_response"]
