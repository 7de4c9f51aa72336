"""Multi-rater partition after the fit: cross-rater correlations at each level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_models.results.items import ReportItem
from empathy_models.results.result import CI_PROB
from empathy_models.results.style import percent, quantiles


def corr_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Cross-rater correlations at each level with equal-tailed intervals and P(corr > 0).

    Parameters
    ----------
    result
        A :class:`~empathy_models.Result` of the ``raters`` family.
    ci_prob
        Probability of the interval (default 0.9).

    Returns
    -------
    pandas.DataFrame
        One row per level and rater pair: ``level``, ``rater_a``, ``rater_b``, ``mean``,
        ``lower``, ``upper``, ``p_gt_0``. ``attrs["ci_prob"]`` holds ``ci_prob``.
    """
    lo, hi = quantiles(ci_prob)
    post = result.posterior
    rows = []
    for name in [n for n in result.reported if n.startswith("corr_")]:
        da = post[name]
        labels = [str(v) for v in da["rater"].values]
        for i in range(len(labels)):
            for j in range(i + 1, len(labels)):
                v = da.sel(rater=labels[i], rater2=labels[j]).values.ravel()
                rows.append(
                    {
                        "level": name.removeprefix("corr_"),
                        "rater_a": labels[i],
                        "rater_b": labels[j],
                        "mean": float(v.mean()),
                        "lower": float(np.quantile(v, lo)),
                        "upper": float(np.quantile(v, hi)),
                        "p_gt_0": float((v > 0).mean()),
                    }
                )
    out = pd.DataFrame(rows)
    out.attrs["ci_prob"] = ci_prob
    return out


def report_items(result, ci_prob: float = CI_PROB) -> list[ReportItem]:
    """The rater model's block of the report: the correlation table."""
    table = corr_table(result, ci_prob)
    return [
        ReportItem(
            title="Agreement between raters",
            note=(
                "Correlation of the raters' therapist-level (and client-level) effects: how "
                "far raters agree on which therapists (clients) are high, with "
                f"{percent(ci_prob)} intervals and P(correlation > 0)."
            ),
            table=table.set_index(["level", "rater_a", "rater_b"]),
        )
    ]


__all__ = ["corr_table", "report_items"]
