"""Rating designs: rater agreement (RaterAgreement), perspective offsets (RaterPartition) and
responder comparisons (ResponderComparison).

Recovery is checked against the simulators' truth (``simulate_agreement``,
``simulate_raters``, ``simulate_comparison``) with the tolerances stated in each test; the
integrated likelihood against a dense multivariate normal and against the full
parameterization; the ICCs against Shrout & Fleiss (1979) and against REML peers
(statsmodels, and lme4 when R is installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytensor.tensor as pt
import pytest
from scipy import stats

import empathy_models as em
from empathy_models.data.simulate import simulate_agreement, simulate_comparison, simulate_raters
from empathy_models.errors import (
    ConfigError,
    ConstantMeasureError,
    DataError,
    MissingColumnError,
    NestingError,
    UnknownLevelError,
)
from empathy_models.models.agreement import (
    RaterAgreement,
    anova_icc,
    collapse,
    make_chain,
    row_sums,
    sufficient_sums,
    y_statistics,
)
from empathy_models.models.comparison import ResponderComparison
from empathy_models.results import agreement as ra

#: JAX compiles these small models in seconds (numba takes 15-40 s per model).
FIT = {"chains": 2, "seed": 1, "progressbar": False, "backend": "jax"}

#: Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges, and their published ICCs.
SF_TABLE = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)
SF_PUBLISHED = {
    "ICC(1,1)": 0.17,
    "ICC(2,1)": 0.29,
    "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44,
    "ICC(2,k)": 0.62,
    "ICC(3,k)": 0.91,
}


def _fit(spec, data, roles=None, draws=500, tune=500, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return em.fit(spec, data, roles, draws=draws, tune=tune, **{**FIT, **kw})


def _draws(result, name, **sel):
    da = result.posterior[name]
    return (da.sel(**sel) if sel else da).values.ravel()


def _sf_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [(f"t{t}", f"j{j}", SF_TABLE[t, j]) for t in range(6) for j in range(4)],
        columns=["target", "rater", "score"],
    )


# -- Shrout & Fleiss ----------------------------------------------------------------------------
def test_anova_icc_reproduces_the_shrout_fleiss_table():
    """The classical ANOVA estimates of the published example, to the published 2 decimals."""
    got = anova_icc(SF_TABLE)
    for name, value in SF_PUBLISHED.items():
        assert round(got[name], 2) == value, name


def test_shrout_fleiss_example_posterior():
    """The Bayesian ICCs of Shrout & Fleiss's example against the published values.

    With 6 targets and 4 judges a posterior is wide and its mean is pulled by the prior and by
    the skew of a ratio of variances, so it does not reproduce an ANOVA point estimate. What
    should hold: each published value lies inside the central 90% interval and the posterior
    median is within 0.06 of it (measured: differences 0.005 to 0.02).
    """
    r = _fit(RaterAgreement(measure="score"), _sf_frame(), draws=1000, tune=1000, chains=4)
    assert r.info["k_raters"] == 4
    for name, key in (
        ("icc_agreement", "ICC(2,1)"),
        ("icc_consistency", "ICC(3,1)"),
        ("icc_agreement_k", "ICC(2,k)"),
        ("icc_consistency_k", "ICC(3,k)"),
    ):
        v = _draws(r, name)
        lo, hi = np.quantile(v, [0.05, 0.95])
        assert lo < SF_PUBLISHED[key] < hi, name
        assert abs(np.median(v) - SF_PUBLISHED[key]) < 0.06, (name, np.median(v))
    # judge means 7.67, 2.50, 4.33, 6.67: the offsets keep their order
    off = r.posterior["rater_offset"].mean(("chain", "draw")).values
    assert list(np.argsort(off)) == [1, 2, 3, 0]


# -- the integrated likelihood ------------------------------------------------------------------
def _dense_loglik(resid, top, cell, sd_top, sd_cell, sigma):
    """Per-top-unit log-density of the residuals with both nested effects in a dense
    covariance (the definition the integrated likelihood must match)."""
    out = []
    for u in np.unique(top):
        i = top == u
        same_cell = cell[i][:, None] == cell[i][None, :]
        cov = sigma**2 * np.eye(i.sum()) + sd_top**2 + sd_cell**2 * same_cell
        out.append(stats.multivariate_normal(np.zeros(i.sum()), cov).logpdf(resid[i]))
    return np.array(out)


def test_integrated_likelihood_equals_the_dense_gaussian():
    """Targets with a nested target x rater interaction integrated out (exact, any point)."""
    rng = np.random.default_rng(4)
    frame, _ = simulate_agreement(7, 5, raters_per_target=3, n_items=2, seed=2)
    frame = frame.iloc[rng.permutation(len(frame))[:-5]]  # unbalanced, unsorted
    t = pd.factorize(frame["target"], sort=True)[0]
    r = pd.factorize(frame["rater"], sort=True)[0]
    item = pd.factorize(frame["item"], sort=True)[0]
    cell = pd.factorize(t * 10 + r, sort=True)[0]
    chain = make_chain(["target", "target_rater"], [t, cell])
    y = rng.normal(size=len(t))
    a_r, c_i = rng.normal(size=r.max() + 1), rng.normal(size=item.max() + 1)
    sd_t, sd_c, sigma = 0.7, 0.4, 0.9
    terms = {"rater": (pt.as_tensor(a_r), r), "item": (pt.as_tensor(c_i), item)}
    expected = _dense_loglik(y - a_r[r] - c_i[item], t, cell, sd_t, sd_c, sigma)

    S, Q = row_sums(pt.as_tensor(y), terms.values(), chain, per_unit=True)
    per_unit = collapse(S, Q, chain, [sd_t, sd_c], sigma, per_unit=True)[0].eval()
    np.testing.assert_allclose(per_unit, expected, rtol=1e-10, atol=1e-10)

    stats_ = y_statistics(y, {"rater": r, "item": item}, chain)
    stats_.update(bottom=chain.codes[-1], n_bottom=chain.sizes[-1])
    S, Q = sufficient_sums(stats_, terms, len(y))
    total = collapse(S, Q, chain, [sd_t, sd_c], sigma, per_unit=False)[0].eval()
    np.testing.assert_allclose(total, expected.sum(), rtol=1e-10)


def test_integrated_and_full_parameterizations_give_the_same_posterior():
    """Integrating targets, integrating raters, or sampling every effect: the same posterior
    within Monte Carlo error (posterior means differ by less than 4 combined MCSEs + 0.01)."""
    frame, _ = simulate_agreement(16, 6, raters_per_target=3, n_items=2, seed=3)
    names = ["sd_target", "sd_rater", "sd_target_rater", "sigma", "icc_agreement"]
    fits = {
        mode: _fit(RaterAgreement(measure="rating", integrate=mode), frame, draws=800)
        for mode in ("target", "rater", "none")
    }
    summ = {m: f.summary(names) for m, f in fits.items()}
    for a, b in (("target", "none"), ("rater", "none"), ("target", "rater")):
        diff = (summ[a]["mean"] - summ[b]["mean"]).abs()
        tol = 4 * np.hypot(summ[a]["mcse_mean"], summ[b]["mcse_mean"]) + 0.01
        assert (diff < tol).all(), (a, b, diff.to_dict(), tol.to_dict())
    # rater offsets: drawn from their conditional posterior when raters are integrated out
    off = {m: f.posterior["rater_offset"].mean(("chain", "draw")).values for m, f in fits.items()}
    assert np.max(np.abs(off["rater"] - off["target"])) < 0.06
    assert fits["rater"].info["integrated"] == "rater"
    assert fits["none"].info["integrated"] == "none"


# -- recovery -----------------------------------------------------------------------------------
def test_recovery_partially_crossed_design():
    """150 targets, 40 raters, 5 raters per target (750 ratings): every reported quantity
    against the simulator's truth. Tolerances: the truth inside the central 95% interval of
    each variance component and ICC, posterior medians of the ICCs within 0.08 and of the
    decision-study curve within 0.08 at every m, raters needed within 1 of the truth (median),
    rater offsets correlated > 0.85 with the realized offsets and covered by 80% of their 90%
    intervals."""
    frame, truth = simulate_agreement(150, 40, raters_per_target=5, seed=11)
    r = _fit(RaterAgreement(measure="rating"), frame, draws=600)
    assert r.info["k_raters"] == pytest.approx(5.0)
    for name in ("Intercept", "sd_target", "sd_rater", "sigma"):
        lo, hi = np.quantile(_draws(r, name), [0.025, 0.975])
        assert lo < truth[name] < hi, name
    for name in ("icc_agreement", "icc_consistency", "icc_agreement_k", "icc_consistency_k"):
        v = _draws(r, name)
        assert np.quantile(v, 0.025) < truth[name] < np.quantile(v, 0.975), name
        assert abs(np.median(v) - truth[name]) < 0.08, name
    table = ra.dstudy_table(r)
    for kind in ("agreement", "consistency"):
        assert np.max(np.abs(table[kind] - truth[f"dstudy_{kind}"])) < 0.08
        assert np.all(np.diff(table[kind]) > 0)
        need = table.attrs[f"raters_needed_{kind}"]
        assert abs(need - truth[f"raters_needed_{kind}"]) <= 1, kind
    offs = ra.rater_offset_table(r).set_index("rater")
    true_off = pd.Series(truth["rater_offset"]).loc[offs.index]
    assert np.corrcoef(offs["mean"], true_off)[0, 1] > 0.85
    covered = (offs["lower"] < true_off) & (true_off < offs["upper"])
    assert covered.mean() >= 0.8


def test_recovery_items_and_rater_perspectives():
    """Targets rated on 3 items by 4 of 60 raters, half of them therapists who rate 0.3
    higher than clients (seed 003). The therapist - client contrast has the truth in its 90%
    interval and P(therapist > client) > 0.95; the target x rater interaction, the residual,
    the target SD and the ICCs have the truth inside their 95% intervals."""
    frame, truth = simulate_agreement(
        150, 60, raters_per_target=4, n_items=3, rater_groups={"client": 0.0, "therapist": 0.3},
        seed=5,
    )  # fmt: skip
    r = _fit(RaterAgreement(measure="rating"), frame)
    assert r.info["interaction"] and r.info["items_per_score"] == pytest.approx(3.0)
    con = _draws(r, "group_contrast", group="therapist", group2="client")
    lo, hi = np.quantile(con, [0.05, 0.95])
    assert lo < truth["group_contrast"]["therapist-client"] < hi
    assert r.probabilities["P(group_mean[client] > group_mean[therapist])"] < 0.05
    for name in ("sd_target", "sd_target_rater", "sigma", "sd_item", "icc_agreement"):
        lo, hi = np.quantile(_draws(r, name), [0.025, 0.975])
        assert lo < truth[name] < hi, name
    table = ra.rater_contrast_table(r)
    row = table[(table["a"] == "therapist") & (table["b"] == "client")].iloc[0]
    assert row["p_gt_0"] > 0.95 and row["superiority"] > 0.5


def test_rater_partition_recovers_the_therapists_overestimation():
    """simulate_raters: therapists rate 0.3 higher than clients, observers 0.3 lower. The
    perspective contrasts have the truth in their 90% intervals, P(therapist-rated >
    client-rated) > 0.95, and the probability of superiority for the same session has the
    truth in its 90% interval."""
    df, truth = simulate_raters(30, 4, 5, seed=2)
    r = _fit(em.RaterPartition(measure="empathy"), df, draws=400, tune=400)
    table = ra.rater_contrast_table(r)
    for _, row in table.iterrows():
        key = f"{row['a']}-{row['b']}"
        assert row["contrast_lower"] < truth["rater_contrast"][key] < row["contrast_upper"], key
        sup = truth["rater_superiority"][key]
        assert row["superiority_lower"] < sup < row["superiority_upper"], key
    assert r.probabilities["P(rater_offset[therapist] > rater_offset[client])"] > 0.95
    offs = ra.rater_offset_table(r)
    assert list(offs["rater"]) == ["therapist", "client", "observer"]


# -- peers --------------------------------------------------------------------------------------
def _peer_data():
    frame, truth = simulate_agreement(40, 6, seed=21)
    return frame, truth


def _components_icc(sd_t, sd_r, sigma, k):
    vt, vr, s2 = sd_t**2, sd_r**2, sigma**2
    return {
        "icc_agreement": vt / (vt + vr + s2),
        "icc_consistency": vt / (vt + s2),
        "icc_agreement_k": vt / (vt + (vr + s2) / k),
        "icc_consistency_k": vt / (vt + s2 / k),
    }


def _compare_with_reml(result, reml: dict):
    """Posterior medians against REML: the target SD and sigma within 12%, the rater SD
    (6 raters: the prior matters) within 30%, the ICCs within 0.05."""
    med = {n: float(np.median(_draws(result, n))) for n in ("sd_target", "sd_rater", "sigma")}
    assert abs(med["sd_target"] / reml["sd_target"] - 1) < 0.12
    assert abs(med["sigma"] / reml["sigma"] - 1) < 0.12
    assert abs(med["sd_rater"] / reml["sd_rater"] - 1) < 0.30
    iccs = _components_icc(reml["sd_target"], reml["sd_rater"], reml["sigma"], 6)
    for name, value in iccs.items():
        assert abs(np.median(_draws(result, name)) - value) < 0.05, name


def test_against_statsmodels_reml_crossed_random_effects():
    """40 targets x 6 raters, fully crossed: posterior medians against statsmodels' REML
    estimates of the crossed variance components (tolerances in ``_compare_with_reml``)."""
    import statsmodels.formula.api as smf

    frame, _ = _peer_data()
    frame = frame.assign(one=1)
    model = smf.mixedlm(
        "rating ~ 1",
        frame,
        groups="one",
        vc_formula={"target": "0 + C(target)", "rater": "0 + C(rater)"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(reml=True)
    vc = dict(zip(model.exog_vc.names, np.sqrt(fit.vcomp), strict=True))
    reml = {"sd_target": vc["target"], "sd_rater": vc["rater"], "sigma": np.sqrt(fit.scale)}
    r = _fit(RaterAgreement(measure="rating"), frame.drop(columns="one"), draws=1000)
    _compare_with_reml(r, reml)


def _lme4_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('lme4', quietly = TRUE))"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _lme4_available(), reason="R with lme4 is not installed")
def test_against_lme4_reml_crossed_random_effects(tmp_path):
    """The same data through lme4's ``lmer(rating ~ 1 + (1 | target) + (1 | rater))``."""
    frame, _ = _peer_data()
    csv = tmp_path / "ratings.csv"
    frame.to_csv(csv, index=False)
    script = (
        "suppressPackageStartupMessages(library(lme4));"
        f"d <- read.csv('{csv}');"
        "m <- lmer(rating ~ 1 + (1 | target) + (1 | rater), data = d, REML = TRUE);"
        "v <- as.data.frame(VarCorr(m));"
        'cat(sprintf(\'{"sd_target": %.10f, "sd_rater": %.10f, "sigma": %.10f}\','
        "v$sdcor[v$grp == 'target'], v$sdcor[v$grp == 'rater'], sigma(m)))"
    )
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    reml = json.loads(out.stdout)
    r = _fit(RaterAgreement(measure="rating"), frame, draws=1000)
    _compare_with_reml(r, reml)


# -- responder comparison -----------------------------------------------------------------------
def test_comparison_recovers_group_condition_contrasts():
    """12 responders per group, 8 prompts, 3 evaluators, before/after: the group differences,
    condition contrasts, interaction and probabilities of superiority have the truth in their
    90% intervals; P(LLM > trainee) > 0.95; the within-answer SDs within 20%."""
    frame, truth = simulate_comparison({"LLM": 12, "trainee": 12}, n_prompts=8, seed=7)
    spec = ResponderComparison(
        measure="empathy", group_levels=("LLM", "trainee"), condition_levels=("before", "after")
    )
    r = _fit(spec, frame)
    post = r.posterior
    for name in ("group_diff", "superiority", "rank_biserial", "superiority_response"):
        for k, c in enumerate(("before", "after")):
            lo, hi = np.quantile(_draws(r, name, condition=c), [0.05, 0.95])
            assert lo < truth[name][k] < hi, (name, c)
    for g, grp in enumerate(("LLM", "trainee")):
        v = post["condition_diff"].sel(group=grp, contrast="after").values.ravel()
        assert np.quantile(v, 0.05) < truth["condition_diff"][g][0] < np.quantile(v, 0.95)
    lo, hi = np.quantile(_draws(r, "interaction", contrast="after"), [0.05, 0.95])
    assert lo < truth["interaction"][0] < hi
    assert r.probabilities["P(LLM > trainee)"] > 0.95
    for name in ("sd_response", "sigma"):
        assert abs(np.median(_draws(r, name)) / truth[name] - 1) < 0.2, name
    table = ra.group_comparison_table(r)
    assert table.attrs["contrast"] == "LLM - trainee"
    assert "single-turn" in table.attrs["design_note"]
    assert ra.report_items(r)[0].title == "Group comparison"


# -- data errors and options --------------------------------------------------------------------
def test_rating_designs_raise_typed_data_errors():
    frame, _ = simulate_agreement(10, 4, rater_groups={"client": 0.0, "therapist": 0.3}, seed=1)
    bad = frame.copy()
    bad.loc[bad.index[0], "group"] = "therapist" if bad["group"].iloc[0] == "client" else "client"
    with pytest.raises(NestingError, match="group") as exc:
        RaterAgreement(measure="rating").prepare(bad)
    assert "column 'group'" in str(exc.value)
    with pytest.raises(MissingColumnError, match="target"):
        RaterAgreement(measure="rating").prepare(frame.drop(columns="target"))
    with pytest.raises(ConstantMeasureError):
        RaterAgreement(measure="rating").prepare(frame.assign(rating=3.0))
    with pytest.raises(UnknownLevelError, match="observer"):
        RaterAgreement(measure="rating", group_levels=("client", "observer")).prepare(frame)
    with pytest.raises(ConfigError, match="ordinal"):
        RaterAgreement(measure="rating", likelihood="ordinal")
    with pytest.raises(ConfigError, match="integrate"):
        RaterAgreement(measure="rating", integrate="items")
    with pytest.raises(ConfigError, match="unknown prior"):
        RaterAgreement(measure="rating", priors={"sd_raters": {"dist": "HalfNormal"}})

    comp, _ = simulate_comparison({"LLM": 3, "trainee": 3}, n_prompts=3, n_raters=2, seed=1)
    three = comp.copy()
    three.loc[three["responder"] == "LLM_00", "group"] = "expert"
    with pytest.raises(DataError, match="exactly two groups"):
        ResponderComparison(measure="empathy").prepare(three)
    moved = comp.copy()
    moved.loc[moved.index[0], "group"] = "trainee"
    with pytest.raises(NestingError, match="responder"):
        ResponderComparison(measure="empathy").prepare(moved)


def test_roles_map_user_columns_and_results_round_trip(tmp_path):
    """Users' own column names through Roles; save/load keeps summaries; tables and figures."""
    frame, _ = simulate_agreement(30, 6, seed=2)
    mine = frame.rename(columns={"target": "session_id", "rater": "coder", "rating": "score"})
    roles = em.Roles(target="session_id", rater="coder")
    r = _fit(RaterAgreement(measure="score", max_raters=6), mine, roles, draws=300, tune=300)
    assert r.data_summary["n_target"] == 30 and r.data_summary["n_rater"] == 6
    path = r.save(tmp_path / "agreement.nc")
    back = em.load_result(path)
    pd.testing.assert_frame_equal(back.summary(), r.summary())
    assert back.probabilities == r.probabilities
    icc = ra.icc_table(back)
    assert list(icc["icc"]) == ["ICC(2,1)", "ICC(3,1)", "ICC(2,6)", "ICC(3,6)"]
    assert len(ra.dstudy_table(back)) == 6
    items = ra.report_items(back)
    assert [i.title for i in items][:2] == [
        "Reliability (intraclass correlations)",
        "Decision study",
    ]
    ra.plot_dstudy(back, tmp_path / "dstudy.png")
    ra.plot_rater_offsets(back, tmp_path / "offsets.png")
    assert (tmp_path / "dstudy.png").stat().st_size > 0
    assert (tmp_path / "offsets.png").stat().st_size > 0
    # the log-likelihood is stored per level of the integrated facet (the LOO unit)
    assert back.idata["log_likelihood"]["score"].dims[-1] == back.info["integrated"]


def test_llm_vs_trainee_example_runs_fast(tmp_path):
    """The example's smoke run writes both analyses side by side and the design note."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "llm_vs_trainee.py"
    spec = importlib.util.spec_from_file_location("example_llm_vs_trainee", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--fast", "--out", str(tmp_path), "--seed", "3", "--backend", "jax"])
    side = pd.read_csv(tmp_path / "comparison.csv")
    assert list(side["condition"]) == ["before", "after"]
    assert side["mw_p"].between(0, 1).all()
    assert (side["bayes_rank_biserial_lower"] < side["bayes_rank_biserial_upper"]).all()
    assert "single-turn" in (tmp_path / "NOTE.md").read_text()
    assert (tmp_path / "group_contrasts.png").stat().st_size > 0
