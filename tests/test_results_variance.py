"""results/variance.py: the shares table and the share bars of a fitted variance partition."""

from __future__ import annotations

import numpy as np
import pytest

import empathy_models as em
from empathy_models.errors import ConfigError
from empathy_models.results.variance import plot_shares, shares_table


def test_shares_table_intervals_are_posterior_quantiles(variance_result):
    post = variance_result.posterior
    for ci_prob in (0.9, 0.5):
        table = shares_table(variance_result, ci_prob=ci_prob).set_index("component")
        assert list(table.index) == ["therapist", "client", "residual"]
        assert table.attrs["ci_prob"] == ci_prob
        lo, hi = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
        for comp, row in table.iterrows():
            v = post[f"share_{comp}"].values.ravel()
            assert row["mean"] == pytest.approx(v.mean(), rel=1e-12)
            assert row["lower"] == pytest.approx(np.quantile(v, lo), rel=1e-12)
            assert row["upper"] == pytest.approx(np.quantile(v, hi), rel=1e-12)
            assert row["p_gt_0.05"] == pytest.approx((v > 0.05).mean())
    # shares of one partition: the posterior means add up to one
    assert shares_table(variance_result)["mean"].sum() == pytest.approx(1.0, abs=1e-9)
    # the stored probability is the table's
    t = shares_table(variance_result).set_index("component")
    p = variance_result.probabilities["P(share_therapist > 0.05)"]
    assert t.loc["therapist", "p_gt_0.05"] == pytest.approx(p)


def test_threshold_and_package_root(variance_result):
    t = shares_table(variance_result, threshold=0.2)
    assert "p_gt_0.2" in t.columns
    assert em.shares_table is shares_table
    with pytest.raises(ConfigError, match="ci_prob"):
        shares_table(variance_result, ci_prob=1.5)


def test_plot_shares(variance_result, tmp_path):
    fig = plot_shares(variance_result, tmp_path / "one.png")
    assert (tmp_path / "one.png").stat().st_size > 5000
    assert fig.axes[0].get_xlim() == (0.0, 1.0)
    plot_shares({"a": variance_result, "b": variance_result}, tmp_path / "two.png", ci_prob=0.5)
    assert (tmp_path / "two.png").stat().st_size > 5000
