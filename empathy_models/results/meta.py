"""Meta-analysis after the fit: effects table, leave-one-study-out, forest and funnel plots.

:func:`leave_one_study_out` is the one post-fit analysis that may refit the model (through
:func:`empathy_models.fit`), for studies whose Pareto-smoothed importance weights are
unreliable or when asked to (``method="refit"``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from empathy_models.errors import ConfigError, DataError
from empathy_models.results.items import ReportItem
from empathy_models.results.result import CI_PROB
from empathy_models.results.style import PALETTE, REFERENCE, figure_style, percent, quantiles, save


def effects_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Observed effects of a fitted meta-analysis with their ``ci_prob`` sampling intervals.

    Returns
    -------
    pandas.DataFrame
        Columns ``label``, [``study``], ``y``, ``v``, ``lower``, ``upper`` (analysis scale:
        ``y -/+ z * sqrt(v)``) and the moderators.
    """
    from scipy.stats import norm

    quantiles(ci_prob)
    spec = result.spec
    df = result.training_data
    y, v = spec.effects(df)
    zq = norm.ppf(0.5 + ci_prob / 2)
    label = (
        df[spec.study].astype(str).to_numpy() if spec.study else np.asarray(df.index.astype(str))
    )
    out = pd.DataFrame(
        {
            "label": label,
            "y": y,
            "v": v,
            "lower": y - zq * np.sqrt(v),
            "upper": y + zq * np.sqrt(v),
        }
    )
    if spec.study:
        out.insert(1, "study", df[spec.study].astype(str).to_numpy())
    for m in spec.moderators:
        out[m] = df[m].to_numpy()
    out.attrs["ci_prob"] = ci_prob
    return out


def leave_one_study_out(
    result,
    method: str = "psis",
    *,
    k_threshold: float = 0.7,
    ci_prob: float = CI_PROB,
    **fit_kwargs,
) -> pd.DataFrame:
    """Leave-one-study-out sensitivity of ``mu`` and ``tau``.

    Parameters
    ----------
    result
        A fitted :class:`~empathy_models.models.meta.MetaAnalysis` result (with its
        log-likelihood for ``method="psis"``).
    method
        ``"psis"`` (default): Pareto-smoothed importance sampling of the full posterior with
        each study's log-likelihood removed; studies whose Pareto k exceeds ``k_threshold``
        are refitted. ``"refit"``: refit the model once per study (exact, slower).
    ci_prob
        Probability of the interval of ``mu`` (default 0.9).
    fit_kwargs
        Sampler settings for refits (default: the original run's).

    Returns
    -------
    pandas.DataFrame
        One row per left-out study: ``study``, ``k`` (effects left out), ``mu_mean``,
        ``mu_lower``, ``mu_upper``, ``tau_mean``, ``pareto_k`` (PSIS) and ``method`` used.
    """
    from arviz_stats.base import array_stats

    from empathy_models.inference.fit import fit

    if method not in ("psis", "refit"):
        raise ConfigError("method must be 'psis' or 'refit'")
    qs = quantiles(ci_prob)
    spec = result.spec
    df = result.training_data
    settings = {
        k: v
        for k, v in result.sampler.items()
        if k in ("sampler", "backend", "draws", "tune", "chains", "seed", "target_accept")
    }
    settings.update(fit_kwargs)
    settings.setdefault("progressbar", False)
    studies = (
        df[spec.study].astype(str).to_numpy() if spec.study else np.asarray(df.index.astype(str))
    )
    labels = list(pd.unique(studies))
    post = result.posterior
    mu = post["mu"].values.ravel()
    tau = post["tau"].values.ravel()
    ll = None
    if method == "psis":
        if "log_likelihood" not in result.idata.children:
            raise ConfigError(
                "the result has no log-likelihood; fit with log_likelihood=True or use method='refit'"
            )
        ll_ds = result.idata["log_likelihood"].to_dataset()["y"]
        unit = ll_ds.dims[-1]
        ll = ll_ds.stack(sample=("chain", "draw")).transpose(unit, "sample")
    rows = []
    for lab in labels:
        mask = studies == lab
        row = {"study": lab, "k": int(mask.sum())}
        done = False
        if method == "psis":
            if unit == "study":
                loglik = ll.sel(study=lab).values
            else:
                loglik = ll.sel(effect=np.asarray(df.index.astype(str))[mask]).values.sum(axis=0)
            # psislw takes the log-likelihood: its log weights are -loglik, Pareto-smoothed
            lw, khat = array_stats.psislw(loglik)
            khat = float(khat)
            row["pareto_k"] = khat
            if khat <= k_threshold:
                w = np.exp(lw - lw.max())
                w /= w.sum()
                row.update(_weighted_summary(mu, tau, w, qs))
                row["method"] = "psis"
                done = True
        if not done:
            sub = df.loc[~mask]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = fit(
                        spec, sub, log_likelihood=False, log_prior=False, warn=False, **settings
                    )
                p = res.posterior
                row.update(
                    _weighted_summary(p["mu"].values.ravel(), p["tau"].values.ravel(), None, qs)
                )
                row["method"] = "refit"
            except DataError as exc:
                row.update(
                    {"mu_mean": np.nan, "mu_lower": np.nan, "mu_upper": np.nan, "tau_mean": np.nan}
                )
                row["method"] = f"not estimable: {exc}"
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["ci_prob"] = ci_prob
    return out


def _weighted_summary(mu, tau, w, qs) -> dict:
    if w is None:
        w = np.full(len(mu), 1 / len(mu))
    order = np.argsort(mu)
    cw = np.cumsum(w[order])
    q = lambda p: float(mu[order][min(np.searchsorted(cw, p), len(mu) - 1)])  # noqa: E731
    return {
        "mu_mean": float(np.sum(w * mu)),
        "mu_lower": q(qs[0]),
        "mu_upper": q(qs[1]),
        "tau_mean": float(np.sum(w * tau)),
    }


def _back(result):
    """Back-transform to the reporting scale (r, RR, OR) or identity, and its axis label."""
    spec = result.spec
    if spec.form == "r":
        return np.tanh, "correlation r"
    if spec.form == "counts":
        return np.exp, f"{spec.measure.upper()} (log axis)"
    return (lambda x: x), "effect"


def plot_meta_forest(result, path=None, ci_prob: float = CI_PROB, back_transform: bool = True):
    """Forest plot of a meta-analysis: each effect with its ``ci_prob`` interval (square
    size by weight 1 / v), the pooled effect ``mu`` as a diamond (posterior median and
    credible interval) and the prediction interval for a new study (``theta_new``) as a bar
    below it.

    With a categorical moderator, effects are grouped by level. Correlations are shown as r,
    ratios on a log axis.
    """
    import matplotlib.pyplot as plt

    tab = effects_table(result, ci_prob=ci_prob)
    f, xlabel = _back(result) if back_transform else ((lambda x: x), "effect (analysis scale)")
    cat = [m for m in result.spec.moderators if not pd.api.types.is_numeric_dtype(tab[m])]
    if cat:
        tab = tab.sort_values(cat[0], kind="stable")
    k = len(tab)
    lo_q, hi_q = quantiles(ci_prob)
    with figure_style():
        fig, ax = plt.subplots(figsize=(7, 1.5 + 0.22 * k))
        ypos = np.arange(k)[::-1] + 2
        w = 1 / tab["v"].to_numpy()
        size = 15 + 60 * w / w.max()
        if cat:
            levels = list(dict.fromkeys(tab[cat[0]]))
            col = [PALETTE[levels.index(v) % len(PALETTE)] for v in tab[cat[0]]]
        else:
            col = ["#333333"] * k
        ax.hlines(ypos, f(tab["lower"]), f(tab["upper"]), color=col, lw=1)
        ax.scatter(f(tab["y"]), ypos, s=size, marker="s", c=col, zorder=3)
        post = result.posterior
        mu = post["mu"].values.ravel()
        m, lo, hi = np.median(mu), np.quantile(mu, lo_q), np.quantile(mu, hi_q)
        ax.fill(f(np.array([lo, m, hi, m])), [0.9, 1.2, 0.9, 0.6], color="k")
        tn = post["theta_new"].values.ravel()
        ax.hlines(
            0.2, f(np.quantile(tn, lo_q)), f(np.quantile(tn, hi_q)), color="k", lw=3, alpha=0.4
        )
        labels = list(tab["label"]) + ["pooled mu", "new study (PI)"]
        ax.set_yticks(list(ypos) + [0.9, 0.2], labels, fontsize=7)
        ax.axvline(f(0.0), color=REFERENCE, ls=":", lw=0.8)
        if result.spec.form == "counts" and back_transform:
            ax.set_xscale("log")
        ax.set_xlabel(f"{xlabel}; {percent(ci_prob)} intervals")
        title = "Forest plot"
        if result.spec.moderators:
            title += " (mu: reference level / moderators at 0)"
        ax.set_title(title, fontsize=9)
        if cat:
            for i, lv in enumerate(levels):
                ax.plot([], [], "s", color=PALETTE[i % len(PALETTE)], label=lv)
            ax.legend(fontsize=7, frameon=False, loc="lower right", title=cat[0], title_fontsize=7)
    return save(fig, path)


def plot_funnel(result, path=None, ci_prob: float = CI_PROB):
    """Funnel plot: effects (analysis scale) against their standard errors (inverted axis),
    with the pooled ``mu`` (posterior median) and the pseudo-confidence funnel
    ``mu +/- z * SE`` of probability ``ci_prob``. Asymmetry hints at small-study effects or
    publication bias."""
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    tab = effects_table(result, ci_prob=ci_prob)
    se = np.sqrt(tab["v"].to_numpy())
    mu = float(np.median(result.posterior["mu"].values))
    with figure_style():
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        grid = np.linspace(0, se.max() * 1.05, 50)
        zq = norm.ppf(0.5 + ci_prob / 2)
        ax.fill_betweenx(grid, mu - zq * grid, mu + zq * grid, color="#e6e6e6")
        ax.axvline(mu, color="k", lw=1)
        ax.axvline(0, color=REFERENCE, ls=":", lw=0.8)
        ax.scatter(tab["y"], se, s=18, c=PALETTE[0], edgecolor="k", lw=0.4, zorder=3)
        ax.set_ylim(se.max() * 1.05, 0)
        spec = result.spec
        scale = {"r": "Fisher z", "counts": f"log {(spec.measure or '').upper()}"}.get(
            spec.form, "effect"
        )
        ax.set_xlabel(scale)
        ax.set_ylabel("standard error")
        ax.set_title(f"Funnel plot ({percent(ci_prob)} pseudo-confidence region)", fontsize=9)
    return save(fig, path)


def report_items(result, ci_prob: float = CI_PROB) -> list[ReportItem]:
    """The meta-analysis' block of the report: forest and funnel plots."""
    return [
        ReportItem(
            title="Forest plot",
            note=(
                f"Each effect with its {percent(ci_prob)} sampling interval, the pooled effect "
                "(diamond) and the prediction interval for a new study."
            ),
            figure=plot_meta_forest(result, ci_prob=ci_prob),
        ),
        ReportItem(
            title="Funnel plot",
            note="Effects against their standard errors; asymmetry hints at small-study effects.",
            figure=plot_funnel(result, ci_prob=ci_prob),
        ),
    ]


__all__ = [
    "effects_table",
    "leave_one_study_out",
    "plot_funnel",
    "plot_meta_forest",
    "report_items",
]
