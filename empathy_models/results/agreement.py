"""Rating designs after the fit: reliability (ICC) and decision-study tables, rater offsets and
perspective contrasts, responder-group comparisons, and their figures.

Tables work on results of the ``agreement`` family (:class:`~empathy_models.RaterAgreement`),
the perspective tables also on the ``raters`` family
(:class:`~empathy_models.RaterPartition`), and :func:`group_comparison_table` on the
``comparison`` family (:class:`~empathy_models.ResponderComparison`). Figures follow
arviz-plots conventions: forest plots are drawn by :func:`arviz_plots.plot_forest`, the
decision-study curve with matplotlib in arviz-plots' ``arviz-variat`` style.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_models.errors import ConfigError
from empathy_models.results.result import CI_PROB

#: The reliability coefficients, their Shrout & Fleiss (1979) names and what they answer.
ICC_ROWS = (
    ("icc_agreement", "ICC(2,1)", "absolute agreement, one rater"),
    ("icc_consistency", "ICC(3,1)", "consistency, one rater"),
    ("icc_agreement_k", "ICC(2,k)", "absolute agreement, mean of the k raters in the data"),
    ("icc_consistency_k", "ICC(3,k)", "consistency, mean of the k raters in the data"),
)


def _bounds(ci_prob: float) -> tuple[float, float]:
    if not 0 < ci_prob < 1:
        raise ConfigError(f"ci_prob must be between 0 and 1, got {ci_prob!r}")
    return (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2


def _summ(v: np.ndarray, ci_prob: float) -> dict:
    lo, hi = _bounds(ci_prob)
    v = np.asarray(v, dtype=float).ravel()
    return {
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "lower": float(np.quantile(v, lo)),
        "upper": float(np.quantile(v, hi)),
    }


def _family(result, *families: str) -> None:
    if result.family not in families:
        raise ConfigError(
            f"this table needs a result of the {' or '.join(families)} family, "
            f"got {result.family!r}"
        )


def icc_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """The four ICCs with posterior mean, median and equal-tailed interval.

    Parameters
    ----------
    result
        A result of the ``agreement`` family.
    ci_prob
        Probability of the interval (default 0.9).

    Returns
    -------
    pandas.DataFrame
        Index: the posterior names (``icc_agreement``, ...); columns ``icc`` (Shrout & Fleiss
        name, with ``k`` the number of raters per target in the data), ``meaning``, ``mean``,
        ``median``, ``lower``, ``upper``. ``attrs``: ``ci_prob`` and ``k_raters``.
    """
    _family(result, "agreement")
    post = result.posterior
    k = result.info.get("k_raters")
    rows = []
    for name, label, meaning in ICC_ROWS:
        lab = label.replace("k", f"{k:g}") if k is not None and "k" in label else label
        rows.append(
            {"parameter": name, "icc": lab, "meaning": meaning} | _summ(post[name], ci_prob)
        )
    out = pd.DataFrame(rows).set_index("parameter")
    out.attrs.update(ci_prob=ci_prob, k_raters=k)
    return out


def dstudy_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Decision study: the reliability of the mean of ``m`` raters, ``m = 1..max_raters``.

    Returns
    -------
    pandas.DataFrame
        One row per ``m``: ``agreement`` and ``consistency`` (posterior medians) with their
        ``*_lower`` / ``*_upper`` interval bounds and ``*_p_reach``, the posterior
        probability that the reliability reaches the spec's ``reliability`` (default 0.8).
        ``attrs``: ``reliability``, ``raters_needed_agreement`` and
        ``raters_needed_consistency`` (posterior medians of the smallest ``m`` that reaches
        it, with ``*_interval``), ``ci_prob``.
    """
    _family(result, "agreement")
    post = result.posterior
    target = float(result.config["options"]["reliability"])
    lo, hi = _bounds(ci_prob)
    m = post["m_raters"].values
    out = pd.DataFrame({"m": m.astype(int)})
    for kind in ("agreement", "consistency"):
        v = post[f"dstudy_{kind}"].stack(sample=("chain", "draw")).transpose("m_raters", ...)
        arr = np.asarray(v.values)
        out[kind] = np.median(arr, axis=1)
        out[f"{kind}_lower"] = np.quantile(arr, lo, axis=1)
        out[f"{kind}_upper"] = np.quantile(arr, hi, axis=1)
        out[f"{kind}_p_reach"] = (arr >= target).mean(axis=1)
    out.attrs.update(reliability=target, ci_prob=ci_prob)
    for kind in ("agreement", "consistency"):
        need = post[f"raters_needed_{kind}"].values.ravel()
        out.attrs[f"raters_needed_{kind}"] = float(np.median(need))
        out.attrs[f"raters_needed_{kind}_interval"] = (
            float(np.quantile(need, lo)),
            float(np.quantile(need, hi)),
        )
    return out


def rater_offset_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Each rater's (``agreement``) or perspective's (``raters``) offset from the average
    rater: posterior mean, median, interval, ``p_gt_0`` (P(rates higher than the average
    rater)); sorted from the most lenient to the most severe.
    """
    _family(result, "agreement", "raters")
    post = result.posterior
    if "rater_offset" not in post:
        raise ConfigError("the result has no rater_offset (fitted with rater_offsets=False)")
    da = post["rater_offset"].stack(sample=("chain", "draw")).transpose("rater", ...)
    arr = np.asarray(da.values)
    lo, hi = _bounds(ci_prob)
    out = pd.DataFrame(
        {
            "rater": [str(r) for r in da["rater"].values],
            "mean": arr.mean(axis=1),
            "median": np.median(arr, axis=1),
            "lower": np.quantile(arr, lo, axis=1),
            "upper": np.quantile(arr, hi, axis=1),
            "p_gt_0": (arr > 0).mean(axis=1),
        }
    )
    out = out.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs["ci_prob"] = ci_prob
    return out


def rater_contrast_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Pairwise contrasts of perspectives (``raters`` family: ``rater_contrast``) or of groups
    (``agreement`` family with a group role: ``group_contrast``), with the probability of
    superiority for the same target.

    Returns
    -------
    pandas.DataFrame
        One row per ordered pair ``a`` != ``b``: ``contrast`` (mean of ``a`` minus mean of
        ``b``; ``mean``, ``lower``, ``upper``), ``p_gt_0`` (posterior P(a > b)) and
        ``superiority`` (posterior mean and interval of P(a's rating > b's rating of the same
        target)).
    """
    _family(result, "agreement", "raters")
    post = result.posterior
    if result.family == "raters":
        con, sup, dim, dim2 = "rater_contrast", "rater_superiority", "rater", "rater2"
    else:
        if "group_contrast" not in post:
            raise ConfigError("the agreement result has no group role, so no contrasts")
        con, sup, dim, dim2 = "group_contrast", "group_superiority", "group", "group2"
    labels = [str(v) for v in post[dim].values]
    rows = []
    for a in labels:
        for b in labels:
            if a == b:
                continue
            c = post[con].sel({dim: a, dim2: b}).values.ravel()
            s = post[sup].sel({dim: a, dim2: b}).values.ravel()
            sc, ss = _summ(c, ci_prob), _summ(s, ci_prob)
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "contrast": sc["mean"],
                    "contrast_lower": sc["lower"],
                    "contrast_upper": sc["upper"],
                    "p_gt_0": float((c > 0).mean()),
                    "superiority": ss["mean"],
                    "superiority_lower": ss["lower"],
                    "superiority_upper": ss["upper"],
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["ci_prob"] = ci_prob
    return out


def group_comparison_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Responder-group comparison: group differences per condition and averaged, condition
    contrasts per group and their interaction, probabilities of superiority and the
    rank-biserial correlation.

    Returns
    -------
    pandas.DataFrame
        One row per quantity (``quantity`` as named in the posterior with its coordinates),
        ``mean``, ``median``, ``lower``, ``upper`` and ``p_gt`` (P(quantity > 0); for
        ``superiority*`` P(> 0.5)). ``attrs``: ``contrast`` (which group minus which),
        ``design_note`` (what the design cannot show) and ``ci_prob``.
    """
    _family(result, "comparison")
    post = result.posterior
    rows = []
    for name in (
        "group_diff", "group_diff_mean", "condition_diff", "interaction", "superiority",
        "rank_biserial", "superiority_response",
    ):  # fmt: skip
        if name not in post:
            continue
        da = post[name]
        dims = [d for d in da.dims if d not in ("chain", "draw")]
        stacked = da.stack(sample=("chain", "draw")).transpose(*dims, "sample")
        arr = np.asarray(stacked.values).reshape(-1, stacked.sizes["sample"])
        idx = list(np.ndindex(*[da.sizes[d] for d in dims])) if dims else [()]
        null = 0.5 if name.startswith("superiority") else 0.0
        for row, ix in zip(arr, idx, strict=True):
            coords = ", ".join(str(da[d].values[i]) for d, i in zip(dims, ix, strict=True))
            label = f"{name}[{coords}]" if coords else name
            rows.append({"quantity": label} | _summ(row, ci_prob) | {"p_gt": (row > null).mean()})
    out = pd.DataFrame(rows).set_index("quantity")
    out.attrs.update(
        ci_prob=ci_prob,
        contrast=result.info.get("contrast"),
        design_note=result.info.get("design_note"),
    )
    return out


# -- report ---------------------------------------------------------------------------------------
def report_items(result, ci_prob: float = CI_PROB) -> list:
    """The rating families' blocks of the report (``agreement``: reliability, decision study,
    rater offsets and group contrasts; ``comparison``: the group comparison and the design
    note)."""
    try:
        from empathy_models.results.items import ReportItem
    except ImportError:  # pragma: no cover - older layouts without the report items
        from types import SimpleNamespace

        def ReportItem(**kw):  # noqa: N802
            return SimpleNamespace(**{"table": None, "figure": None, "note": "", **kw})

    pct = f"{100 * ci_prob:g}%"
    if result.family == "comparison":
        table = group_comparison_table(result, ci_prob)
        return [
            ReportItem(
                title="Group comparison",
                note=(
                    f"{table.attrs['contrast']} on the rating scale per condition, condition "
                    "contrasts per group and their interaction, and the probability that a "
                    "random responder of the first group is rated above one of the second "
                    f"(rank-biserial form 2 PS - 1), with {pct} intervals. "
                    f"What the design cannot show: {table.attrs['design_note']}."
                ),
                table=table,
                figure=plot_group_contrasts(result, ci_prob=ci_prob),
            )
        ]
    items = [
        ReportItem(
            title="Reliability (intraclass correlations)",
            note=(
                "Absolute agreement counts raters' severity as error (scores read on their own "
                "scale, different raters for different targets); consistency ignores it (same "
                f"raters for every target, only the ranking matters). {pct} intervals."
            ),
            table=icc_table(result, ci_prob),
        ),
        ReportItem(
            title="Decision study",
            note=(
                "Reliability of the mean of m raters and the probability that it reaches the "
                "target reliability."
            ),
            table=dstudy_table(result, ci_prob),
            figure=plot_dstudy(result, ci_prob=ci_prob),
        ),
    ]
    if "rater_offset" in result.posterior:
        items.append(
            ReportItem(
                title="Rater offsets",
                note="Each rater's mean offset from the average rater (severity or leniency).",
                table=rater_offset_table(result, ci_prob),
                figure=plot_rater_offsets(result, ci_prob=ci_prob),
            )
        )
    if "group_contrast" in result.posterior:
        items.append(
            ReportItem(
                title="Group contrasts",
                note=(
                    "Difference of the group means for the same target, P(first > second), and "
                    "the probability that a rating from the first group exceeds one from the "
                    "second for the same target."
                ),
                table=rater_contrast_table(result, ci_prob),
            )
        )
    return items


# -- figures ------------------------------------------------------------------------------------
@contextlib.contextmanager
def _style():
    """arviz-plots' ``arviz-variat`` style (the package's figure style where available)."""
    try:
        from empathy_models.results.style import figure_style
    except ImportError:
        import matplotlib

        matplotlib.use("Agg")
        import arviz_plots
        import matplotlib.pyplot as plt

        path = Path(arviz_plots.__file__).parent / "styles" / "arviz-variat.mplstyle"
        with plt.style.context(str(path) if path.exists() else "default"):
            yield
        return
    with figure_style():
        yield


def _save(pc_or_fig, path):
    if path is not None:
        pc_or_fig.savefig(path, dpi=110, bbox_inches="tight")
    return pc_or_fig


def plot_rater_offsets(result, path=None, ci_prob: float = CI_PROB, max_raters: int = 30):
    """Forest plot of the rater offsets (``arviz_plots.plot_forest``), most lenient first.

    With more than ``max_raters`` raters only the ``max_raters // 2`` most lenient and most
    severe are shown. Returns the ``PlotCollection``.
    """
    import arviz_plots as azp

    table = rater_offset_table(result, ci_prob)
    keep = list(table["rater"])
    if len(keep) > max_raters:
        half = max_raters // 2
        keep = keep[:half] + keep[-half:]
    post = result.posterior
    labels = np.asarray([str(v) for v in post["rater"].values])
    sel = post[["rater_offset"]].isel(rater=[int(np.flatnonzero(labels == r)[0]) for r in keep])
    with _style():
        pc = azp.plot_forest(
            sel, var_names=["rater_offset"], combined=True, ci_probs=[0.5, ci_prob],
            point_estimate="median", backend="matplotlib",
        )  # fmt: skip
    return _save(pc, path)


def plot_dstudy(result, path=None, ci_prob: float = CI_PROB):
    """Decision-study curve: reliability of the mean of ``m`` raters (absolute agreement and
    consistency, posterior median with a ``ci_prob`` band), the target reliability and the
    number of raters needed. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    table = dstudy_table(result, ci_prob)
    target = table.attrs["reliability"]
    with _style():
        fig, ax = plt.subplots(figsize=(6, 4))
        for kind, label in (("agreement", "absolute agreement"), ("consistency", "consistency")):
            (line,) = ax.plot(table["m"], table[kind], marker="o", label=label)
            ax.fill_between(
                table["m"], table[f"{kind}_lower"], table[f"{kind}_upper"],
                color=line.get_color(), alpha=0.2, lw=0,
            )  # fmt: skip
        ax.axhline(target, color="0.35", ls="--", lw=1)
        need_a = table.attrs["raters_needed_agreement"]
        need_c = table.attrs["raters_needed_consistency"]
        ax.text(
            table["m"].iloc[-1], target - 0.02,
            f"{target:g} reached with {need_a:g} raters (agreement), {need_c:g} (consistency)",
            ha="right", va="top", fontsize=8, color="0.35",
        )  # fmt: skip
        ax.set_title("Decision study", fontsize=10)
        ax.set_xlabel("number of raters m")
        ax.set_ylabel(f"reliability (median, {100 * ci_prob:g}% int.)")
        ax.set_ylim(0, 1)
        ax.set_xticks(table["m"])
        ax.legend(loc="lower right")
        fig.tight_layout()
    return _save(fig, path)


def plot_group_contrasts(result, path=None, ci_prob: float = CI_PROB):
    """Forest plot of the group contrasts (``arviz_plots.plot_forest``): for the
    ``comparison`` family the group differences, condition contrasts and interaction; for
    the ``agreement`` family with groups the group contrasts. Returns the
    ``PlotCollection``."""
    import arviz_plots as azp

    post = result.posterior
    if result.family == "comparison":
        names = [
            n
            for n in ("group_diff", "group_diff_mean", "condition_diff", "interaction")
            if n in post
        ]
        data = post[names]
    else:
        _family(result, "agreement")
        if "group_contrast" not in post:
            raise ConfigError("the agreement result has no group role, so no contrasts")
        g = [str(v) for v in post["group"].values]
        pairs = [(a, b) for i, a in enumerate(g) for b in g[i + 1 :]]
        data = post[["group_contrast"]]
        names = ["group_contrast"]
        stacked = [data.sel(group=a, group2=b).expand_dims(pair=[f"{a} - {b}"]) for a, b in pairs]
        import xarray as xr

        data = xr.concat(stacked, dim="pair").drop_vars(["group", "group2"])
    with _style():
        pc = azp.plot_forest(
            data, var_names=names, combined=True, ci_probs=[0.5, ci_prob],
            point_estimate="median", backend="matplotlib",
        )  # fmt: skip
    return _save(pc, path)


__all__ = [
    "dstudy_table",
    "group_comparison_table",
    "icc_table",
    "plot_dstudy",
    "plot_group_contrasts",
    "plot_rater_offsets",
    "rater_contrast_table",
    "rater_offset_table",
    "report_items",
]
