"""Forest and funnel plots of a fitted meta-analysis (matplotlib, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _back(result):
    """Back-transform to the reporting scale (r, RR, OR) or identity, and its axis label."""
    spec = result.spec
    if spec.form == "r":
        return np.tanh, "correlation r"
    if spec.form == "counts":
        return np.exp, f"{spec.measure.upper()} (log axis)"
    return (lambda x: x), "effect"


def plot_forest(result, path=None, ci_prob: float = 0.95, back_transform: bool = True):
    """Forest plot: each effect with its ``ci_prob`` interval (square size by weight
    1 / v), the pooled effect ``mu`` as a diamond (posterior median and credible interval)
    and the prediction interval for a new study (``theta_new``) as a bar below it.

    With a categorical moderator, effects are grouped by level. Correlations are shown as r,
    ratios on a log axis.
    """
    from empathy_models.models.meta import effects_table

    tab = effects_table(result, ci=ci_prob)
    f, xlabel = _back(result) if back_transform else ((lambda x: x), "effect (analysis scale)")
    cat = [m for m in result.spec.moderators if tab[m].dtype == object]
    if cat:
        tab = tab.sort_values(cat[0], kind="stable")
    k = len(tab)
    fig, ax = plt.subplots(figsize=(7, 1.5 + 0.22 * k))
    ypos = np.arange(k)[::-1] + 2
    w = 1 / tab["v"].to_numpy()
    size = 15 + 60 * w / w.max()
    colors = plt.cm.tab10.colors
    if cat:
        levels = list(dict.fromkeys(tab[cat[0]]))
        col = [colors[levels.index(v) % 10] for v in tab[cat[0]]]
    else:
        col = ["#333333"] * k
    ax.hlines(ypos, f(tab["lo"]), f(tab["hi"]), color=col, lw=1)
    ax.scatter(f(tab["y"]), ypos, s=size, marker="s", c=col, zorder=3)
    post = result.posterior
    lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    mu = post["mu"].values.ravel()
    m, lo, hi = np.median(mu), np.quantile(mu, lo_q), np.quantile(mu, hi_q)
    ax.fill(f(np.array([lo, m, hi, m])), [0.9, 1.2, 0.9, 0.6], color="k")
    tn = post["theta_new"].values.ravel()
    ax.hlines(0.2, f(np.quantile(tn, lo_q)), f(np.quantile(tn, hi_q)), color="k", lw=3, alpha=0.4)
    labels = list(tab["label"]) + ["pooled mu", "new study (PI)"]
    ax.set_yticks(list(ypos) + [0.9, 0.2], labels, fontsize=7)
    ax.axvline(f(0.0), color="k", ls=":", lw=0.8)
    if result.spec.form == "counts" and back_transform:
        ax.set_xscale("log")
    ax.set_xlabel(f"{xlabel}; {int(ci_prob * 100)}% intervals")
    title = "Forest plot"
    if result.spec.moderators:
        title += " (mu: reference level / moderators at 0)"
    ax.set_title(title, fontsize=9)
    if cat:
        for i, lv in enumerate(levels):
            ax.plot([], [], "s", color=colors[i % 10], label=lv)
        ax.legend(fontsize=7, frameon=False, loc="lower right", title=cat[0], title_fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_funnel(result, path=None, ci_prob: float = 0.95):
    """Funnel plot: effects (analysis scale) against their standard errors (inverted axis),
    with the pooled ``mu`` (posterior median) and the pseudo-confidence funnel
    mu +/- z * SE. Asymmetry hints at small-study effects or publication bias."""
    from scipy.stats import norm

    from empathy_models.models.meta import effects_table

    tab = effects_table(result)
    se = np.sqrt(tab["v"].to_numpy())
    mu = float(np.median(result.posterior["mu"].values))
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    grid = np.linspace(0, se.max() * 1.05, 50)
    zq = norm.ppf(0.5 + ci_prob / 2)
    ax.fill_betweenx(grid, mu - zq * grid, mu + zq * grid, color="#dddddd")
    ax.axvline(mu, color="k", lw=1)
    ax.axvline(0, color="k", ls=":", lw=0.8)
    ax.scatter(tab["y"], se, s=18, c="#1b9e77", edgecolor="k", lw=0.4, zorder=3)
    ax.set_ylim(se.max() * 1.05, 0)
    spec = result.spec
    scale = {"r": "Fisher z", "counts": f"log {(spec.measure or '').upper()}"}.get(
        spec.form, "effect"
    )
    ax.set_xlabel(scale)
    ax.set_ylabel("standard error")
    ax.set_title(f"Funnel plot ({int(ci_prob * 100)}% pseudo-confidence region)", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


__all__ = ["plot_forest", "plot_funnel"]
