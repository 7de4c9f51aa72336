"""Multi-rater partition: recovery of cross-rater correlations, missing raters, wide format,
typed errors for rater labels.

Data come from :func:`simulate_raters`, whose truth is exact. Tolerances: the truth lies inside
the 90% equal-tailed interval.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import empathy_models as em
from empathy_models.data.simulate import simulate_raters, to_wide
from empathy_models.errors import ConfigError
from empathy_models.models.raters import RaterPartition, UnknownRaterError
from empathy_models.results.raters import corr_table

FIT = {"chains": 2, "seed": 1, "progressbar": False}


def _fit(spec, data, draws=500, tune=500, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return em.fit(spec, data, draws=draws, tune=tune, **FIT, **kw)


def test_unknown_rater_label_is_a_clear_error():
    df, _ = simulate_raters(4, 3, 2, seed=0)
    df.loc[df.index[0], "rater"] = "supervisor"
    with pytest.raises(UnknownRaterError, match="supervisor") as exc:
        RaterPartition(measure="empathy").prepare(df)
    assert "column 'rater'" in str(exc.value)
    # declared but absent
    df2, _ = simulate_raters(4, 3, 2, raters=("client", "therapist"), means=(4, 4), seed=0)
    with pytest.raises(UnknownRaterError, match="observer"):
        RaterPartition(measure="empathy").prepare(df2)
    RaterPartition(measure="empathy", raters=("client", "therapist")).prepare(df2)
    with pytest.raises(ConfigError):
        RaterPartition(measure="empathy", measures=("a", "b"))


def test_rater_model_recovers_cross_rater_correlation_with_missing_raters():
    df, truth = simulate_raters(40, 5, 6, missing_rate=0.1, seed=2)
    r = _fit(RaterPartition(measure="empathy"), df, draws=400, tune=400)
    table = corr_table(r)
    for _, row in table.iterrows():
        true = truth[f"corr_{row['level']}"]
        assert row["lower"] < true < row["upper"], row.to_dict()
    assert (table["p_gt_0"] > 0.95).all()
    for lab in truth["raters"]:
        lo, _, hi = (
            np.quantile(v, q)
            for v in [r.posterior["share_therapist"].sel(rater=lab).values.ravel()]
            for q in (0.05, 0.5, 0.95)
        )
        assert lo < truth["share_therapist"][lab] < hi
    s = r.data_summary
    # sessions with a rater missing are used, not dropped
    assert s["rows_used"] == len(df) and s["rows_dropped"] == 0
    n_sessions = len(df[["client", "session"]].drop_duplicates())
    counts = df["rater"].value_counts()
    assert s["missing_ratings_by_rater"] == {k: n_sessions - counts[k] for k in truth["raters"]}
    assert min(s["missing_ratings_by_rater"].values()) > 0
    assert r.posterior["corr_therapist"].dims[-2:] == ("rater", "rater2")


def test_rater_model_samples_on_nutpie_jax_backend():
    """Regression: nutpie's JAX backend panicked on LKJCholeskyCov(compute_corr=True)."""
    pytest.importorskip("jax")
    df, truth = simulate_raters(20, 4, 4, seed=5)
    r = _fit(RaterPartition(measure="empathy"), df, draws=300, tune=300, backend="jax")
    corr = r.posterior["corr_therapist"].values
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, atol=1e-10)
    assert np.all(np.abs(corr) <= 1 + 1e-10)
    assert r.sampler["backend"] == "jax"
    share = r.posterior["share_therapist"].mean(("chain", "draw"))
    for lab in truth["raters"]:
        assert abs(float(share.sel(rater=lab)) - truth["share_therapist"][lab]) < 0.2


def test_wide_format_uses_observed_cells_only():
    df, _ = simulate_raters(6, 3, 3, missing_rate=0.2, seed=3)
    wide = to_wide(df, "empathy")
    assert wide[["empathy_client", "empathy_therapist", "empathy_observer"]].isna().any().any()
    spec = RaterPartition(
        measures=("empathy_client", "empathy_therapist", "empathy_observer"),
        raters=("client", "therapist", "observer"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = spec.prepare(wide)
    assert len(p.design["y"]) == len(df)  # every observed rating, nothing imputed
    model = spec.build(p).model
    assert model["y"].owner is not None
    assert {"corr_therapist", "corr_client", "share_therapist"} <= {
        v.name for v in model.deterministics
    }
