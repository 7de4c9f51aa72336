"""Tests of the intervention-moderation model (SPEC model 4).

Data come from :func:`empathy_models.data.simulate.simulate_moderation_data` (a seeded
numpy generator with known within-client slopes; truth: affect sharing -0.4 in ERP and
+0.4 in MI, mentalizing +0.3 and empathic concern +0.2 in both).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pytest

import empathy_models as em
from empathy_models.data.simulate import simulate_moderation_data
from empathy_models.errors import ConfigError, TooFewGroupsError, UnknownLevelError
from empathy_models.models.moderation import ModeratedEffects
from empathy_models.results.moderation import contrast_table, slope_table

ROOT = Path(__file__).resolve().parents[1]
# 700 warm-up draws: with 300, step size and mass matrix are not settled for the therapist
# random slopes (divergences, R-hat up to 1.06); 700 gives 3-11 divergences and R-hat <= 1.04
# (sd_slope_therapist) over sampler seeds 1-3; slopes and contrasts have R-hat <= 1.01.
FIT = dict(draws=300, tune=700, chains=2, target_accept=0.9, log_likelihood=False)


def _fit(df, seed, **kw):
    spec = ModeratedEffects(covariates=("severity",), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return em.fit(spec, df, seed=seed, **FIT)


@pytest.fixture(scope="module")
def flip():
    df, truth = simulate_moderation_data(seed=1, n_therapists=20)
    return _fit(df, seed=1), truth


def _inside(draws, true, level):
    lo, hi = np.quantile(np.ravel(draws), [(1 - level) / 2, (1 + level) / 2])
    return lo < true < hi, (round(float(lo), 3), round(float(hi), 3), true)


def test_sign_flip_recovered(flip):
    # The flip (affect sharing's slope under each intervention and its contrast) must sit inside
    # its own 90% interval, as the issue asks. The other six truths are checked jointly: nine
    # separate 90% intervals all covering would fail 61% of the time for a calibrated model
    # (1 - 0.9**9), so they get simultaneous 90% intervals (Bonferroni, 1 - 0.10 / 9 each).
    # Calibration itself is tested by SBC (benchmarks/results/sbc).
    # Seen here: mentalizing-under-ERP's truth 0.3 sits at the posterior's 5th percentile.
    result, truth = flip
    post = result.posterior
    joint = 1 - 0.10 / 9
    for name, level_dim in (("slope", "intervention"), ("contrast", "pair")):
        da = post[name]
        for sub in da["subcomponent"].values:
            for lv in da[level_dim].values:
                true = truth[name][str(sub)][str(lv)]
                draws = da.sel({"subcomponent": sub, level_dim: lv}).values
                level = 0.90 if sub == "affect_sharing" else joint
                ok, info = _inside(draws, true, level)
                assert ok, (name, str(sub), str(lv), level, info)
    slopes = slope_table(result, between=False).set_index(["subcomponent", "intervention"])
    assert len(slopes) == 6
    assert (
        slopes.loc[("affect_sharing", "ERP"), "upper"]
        < 0
        < slopes.loc[("affect_sharing", "MI"), "lower"]
    )
    table = contrast_table(result, between=False)
    a = table.set_index("subcomponent").loc["affect_sharing"]
    assert a["pair"] == "MI_minus_ERP"
    assert a["pd"] > 0.95 and a["p_gt_0"] > 0.95
    # stored with the result
    probs = result.probabilities
    assert probs["pd(contrast[affect_sharing, MI_minus_ERP])"] > 0.95
    assert result.posterior["slope"].dims[2:] == ("subcomponent", "intervention")
    assert result.posterior["contrast"].dims[2:] == ("subcomponent", "pair")
    assert result.config["options"]["intervention_levels"] == ["ERP", "MI"]  # inferred and stored
    # slopes and contrasts are well mixed; the worst R-hat is sd_slope_therapist (truth 0.1,
    # near its boundary), measured 1.03-1.04 across sampler seeds.
    rhat = az.rhat(result.posterior[["slope", "contrast"]])
    assert max(float(rhat[v].max()) for v in rhat.data_vars) < 1.05
    assert result.diagnostics["max_rhat"] < 1.1


def test_figures_and_save(flip, tmp_path):
    from empathy_models.results.moderation import (
        plot_conditional_effects,
        plot_contrast_forest,
    )

    result, _ = flip
    plot_conditional_effects(result, tmp_path / "ce.png")
    plot_contrast_forest(result, tmp_path / "forest.png", between=True)
    assert (tmp_path / "ce.png").stat().st_size > 0
    path = result.save(tmp_path / "m.nc")
    loaded = em.load_result(path)
    assert np.allclose(contrast_table(loaded)["mean"], contrast_table(result)["mean"])
    assert isinstance(loaded.spec, ModeratedEffects)


N_NULL = 3


def _null_batch(n):
    flat = {"affect_sharing": 0.2, "mentalizing": 0.3, "empathic_concern": 0.2}
    slopes = {k: {"ERP": v, "MI": v} for k, v in flat.items()}
    covered = []
    for seed in range(n):
        df, _ = simulate_moderation_data(
            seed=100 + seed, n_therapists=12, sessions_per_client=6, slopes=slopes
        )
        table = contrast_table(_fit(df, seed=seed), between=False)
        covered += list((table["lower"] < 0) & (table["upper"] > 0))
    return np.array(covered)


def test_no_moderation_contrasts_contain_zero():
    """Batch of 3 seeded null data sets x 3 contrasts: at least 7 of 9 90% intervals
    contain zero (nominal 90%, partial pooling makes it higher)."""
    covered = _null_batch(N_NULL)
    assert covered.sum() >= 7, covered


@pytest.mark.slow
def test_no_moderation_contrasts_contain_zero_big_batch():
    """20 data sets x 3 contrasts: at least 85% of 90% intervals contain zero."""
    covered = _null_batch(20)
    assert covered.mean() >= 0.85, covered.mean()


# -- bad input ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    return simulate_moderation_data(seed=3, n_therapists=12, sessions_per_client=4)[0]


def test_undeclared_level_is_error(small):
    df = small.copy()
    df.loc[df.index[:8], "intervention"] = "CBT"
    with pytest.raises(UnknownLevelError, match="intervention") as err:
        ModeratedEffects(intervention_levels=("ERP", "MI")).prepare(df)
    assert "CBT" in str(err.value)
    assert err.value.column == "intervention"


def test_declared_level_without_clients_is_error(small):
    with pytest.raises(UnknownLevelError, match="'intervention'") as err:
        ModeratedEffects(intervention_levels=("ERP", "MI", "CBT")).prepare(small)
    assert "CBT" in str(err.value)


def test_single_level_is_error(small):
    df = small[small["intervention"] == "ERP"]
    with pytest.raises(TooFewGroupsError, match="'intervention'"):
        ModeratedEffects().prepare(df)


def test_renamed_moderator_column(small):
    df = small.rename(columns={"intervention": "arm"})
    prepared = ModeratedEffects().prepare(df, em.Roles(intervention="arm"))
    assert prepared.n_rows == len(df)
    with pytest.raises(UnknownLevelError, match="'arm'"):
        ModeratedEffects(intervention_levels=("ERP",) * 1 + ("XX",)).prepare(
            df, em.Roles(intervention="arm")
        )


def test_bad_options():
    with pytest.raises(ConfigError, match="rope_scale"):
        ModeratedEffects(rope_scale="sd")
    with pytest.raises(ConfigError, match="sd_slope_interventon"):
        ModeratedEffects(priors={"sd_slope_interventon": {"dist": "HalfNormal"}})
    with pytest.raises(ConfigError):
        ModeratedEffects(intervention_levels=("ERP",))


def test_build_never_samples(small):
    spec = ModeratedEffects(covariates=("severity",))
    model = spec.build(spec.prepare(small)).model
    assert "slope" in model.named_vars and "contrast" in model.named_vars
    assert model.coords["pair"] == ("MI_minus_ERP",)


def test_cli(tmp_path, small):
    from click.testing import CliRunner

    from empathy_models.cli.main import app

    path = tmp_path / "d.csv"
    small.rename(columns={"intervention": "arm"}).to_csv(path, index=False)
    res = CliRunner().invoke(
        app,
        [
            "fit", "moderation", str(path), "--outcome", "outcome",
            "--predictors", "affect_sharing,mentalizing,empathic_concern",
            "--intervention", "arm", "--rope", "0.2", "--covariates", "severity",
            "--draws", "100", "--tune", "100", "--chains", "1",
            "--out", str(tmp_path / "r.nc"), "--contrasts-csv", str(tmp_path / "c.csv"),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "MI_minus_ERP" in res.output
    assert (tmp_path / "c.csv").exists()


@pytest.mark.slow
def test_example_fast(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "moderation.py"),
            "--fast",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "contrasts.csv").exists() and (tmp_path / "contrast_forest.png").exists()
