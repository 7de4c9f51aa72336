"""Therapist vs client contributions after the fit: the slopes of each part and their
differences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_models.results.items import ReportItem
from empathy_models.results.result import CI_PROB
from empathy_models.results.style import percent, quantiles

#: The parts' slopes and their differences, in the order they are reported.
SLOPES = (
    "beta_therapist",
    "beta_client",
    "beta_session",
    "beta_therapist_minus_client",
    "beta_client_minus_session",
    "beta_therapist_minus_session",
)


def contributions_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Slopes of the predictor's therapist, client and session parts, and their differences.

    Parameters
    ----------
    result
        A :class:`~empathy_models.Result` of the ``contributions`` family.
    ci_prob
        Probability of the interval (default 0.9).

    Returns
    -------
    pandas.DataFrame
        One row per slope or difference present: ``quantity``, ``mean``, ``lower``,
        ``upper``, ``p_gt_0`` and ``p_lt_0`` (outcome units per predictor unit).
    """
    lo, hi = quantiles(ci_prob)
    post = result.posterior
    rows = []
    for name in SLOPES:
        if name not in post:
            continue
        v = post[name].values.ravel()
        rows.append(
            {
                "quantity": name,
                "mean": float(v.mean()),
                "lower": float(np.quantile(v, lo)),
                "upper": float(np.quantile(v, hi)),
                "p_gt_0": float((v > 0).mean()),
                "p_lt_0": float((v < 0).mean()),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["ci_prob"] = ci_prob
    return out


def report_items(result, ci_prob: float = CI_PROB) -> list[ReportItem]:
    """The contributions model's block of the report: slopes of the parts."""
    opts = result.config["options"]
    return [
        ReportItem(
            title="Therapist, client and session parts",
            note=(
                f"{opts.get('predictor', 'The predictor')} is split into the therapist's latent "
                "mean, the client's latent deviation from it and the session's deviation; each "
                f"part has its own slope on {opts.get('outcome', 'the outcome')} "
                f"({percent(ci_prob)} intervals). A therapist slope that differs from the client "
                "slope means the two levels relate to the outcome differently."
            ),
            table=contributions_table(result, ci_prob).set_index("quantity"),
        )
    ]


__all__ = ["SLOPES", "contributions_table", "report_items"]
