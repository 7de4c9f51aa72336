"""Simulation studies on Dask: engine (seeding, resume, failures), SBC, power, recovery.

The cluster tests run real fits (nutpie) on a real 2-process ``LocalCluster``; designs and
draws are tiny so that each test takes seconds, not minutes.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (a dependency of distributed)

from empathy_models.errors import ConfigError  # noqa: E402
from empathy_models.studies import engine  # noqa: E402
from empathy_models.studies.fitting import SamplingPlan, draw_prior  # noqa: E402
from empathy_models.studies.power import power_table, run_power  # noqa: E402
from empathy_models.studies.recovery import recovery_table  # noqa: E402
from empathy_models.studies.sbc import (  # noqa: E402
    PROBLEMS,
    SBCTask,
    family_summary,
    holm,
    lkj_corr,
    run_sbc,
    thin_indices,
    uniformity,
)

# the test module's own tasks travel to the workers by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

TINY = SamplingPlan(draws=100, tune=150, chains=1)
L = 19  # 20 rank values: 20 bins of one


class FlakyTask:
    """Cheap task: replicate 1 fails, the others return a draw from their seed."""

    def config(self) -> dict:
        return {"kind": "flaky"}

    def __call__(self, index, ss):
        if index == 1:
            raise RuntimeError("replicate 1 always fails")
        x = np.random.default_rng(ss).normal(size=2)
        return [{"parameter": "a", "value": x[0]}, {"parameter": "b", "value": x[1]}]


@pytest.fixture(scope="module")
def client():
    c = engine.make_client(workers=2)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


# -- pure functions ---------------------------------------------------------------------------
def test_replicate_seed_depends_on_study_seed_and_index_only():
    a = np.random.default_rng(engine.replicate_seed(7, 3)).normal(size=3)
    b = np.random.default_rng(engine.replicate_seed(7, 3)).normal(size=3)
    c = np.random.default_rng(engine.replicate_seed(7, 4)).normal(size=3)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    s1 = engine.sampler_seed(engine.replicate_seed(7, 3))
    assert s1 == engine.sampler_seed(engine.replicate_seed(7, 3)) and 0 <= s1 < 2**31


def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.array([0.01, 0.04, 0.03, 0.5, 0.002])
    ref = multitest.multipletests(p, method="holm")[1]
    np.testing.assert_allclose(holm(p), ref)


def test_uniformity_accepts_uniform_and_rejects_skewed_ranks():
    rng = np.random.default_rng(1)
    n = 400
    good = rng.integers(0, 100, n)
    bad = np.minimum(99, (rng.beta(2, 1, n) * 100).astype(int))
    table = pd.DataFrame(
        {
            "replicate": np.r_[np.arange(n), np.arange(n)],
            "status": "ok",
            "family": "x",
            "parameter": ["good"] * n + ["bad"] * n,
            "rank": np.r_[good, bad],
            "L": 99,
            "divergences": 0,
        }
    )
    uni = uniformity(table).set_index("parameter")
    assert uni.loc["good", "p_holm"] > 0.01 and uni.loc["bad", "p_holm"] < 1e-6
    assert not family_summary(table)["pass"].item()


def test_lkj_draws_are_correlation_matrices_with_the_lkj_marginal():
    rng = np.random.default_rng(0)
    draws = np.array([lkj_corr(3, 2.0, rng) for _ in range(2000)])
    assert np.allclose(draws[:, np.arange(3), np.arange(3)], 1)
    assert (np.linalg.eigvalsh(draws) > 0).all()
    # LKJ(eta) in dimension d: (r + 1) / 2 ~ Beta(eta - 1 + d / 2, same)
    u = (draws[:, 0, 2] + 1) / 2
    assert stats.kstest(u, stats.beta(2.5, 2.5).cdf).pvalue > 0.01


def test_draw_prior_reads_the_family_priors():
    pr = PROBLEMS["moderation"]().priors()
    x = draw_prior(pr["sd_slope_intervention"], np.random.default_rng(0), 20000)
    assert abs(x.mean() - 2 / 6) < 0.01  # Gamma(2, 6)


def test_thin_indices():
    idx = thin_indices(500, 99)
    assert len(idx) == 99 and idx[0] == 0 and idx[-1] == 499
    with pytest.raises(ConfigError):
        thin_indices(50, 99)


@pytest.mark.parametrize("family", sorted(PROBLEMS))
def test_every_family_has_an_sbc_simulator_matching_its_posterior(family):
    """Each family's simulator runs and every true value names a posterior quantity (no fit:
    the model is only built)."""
    prob = PROBLEMS[family]()
    frame, truth = prob.simulate(np.random.default_rng(3))
    spec = prob.spec()
    model = spec.build(spec.prepare(frame, prob.roles())).model
    names = set(model.named_vars)
    for name in truth:
        assert name.partition("[")[0] in names, name
        assert np.isfinite(truth[name])


def test_recovery_table_coverage():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=300)
    mean = truth + rng.normal(size=300)  # posterior N(mean, 1) contains truth as calibrated
    q = {f"q{p:02d}": mean + stats.norm.ppf(p / 100) for p in (5, 25, 75, 95)}
    t = pd.DataFrame({"parameter": "x", "truth": truth, "mean": mean, **q})
    rec = recovery_table(t).iloc[0]
    assert rec["coverage50_lo"] < 0.5 < rec["coverage50_hi"]
    assert rec["coverage90_lo"] < 0.9 < rec["coverage90_hi"]
    assert abs(rec["bias"]) < 0.2 and 0.8 < rec["rmse"] < 1.2


# -- the engine on a real cluster --------------------------------------------------------------------
def test_failed_replicate_is_recorded_not_fatal(client, tmp_path):
    table = engine.run_study(FlakyTask(), 4, seed=1, out_dir=tmp_path, client=client)
    assert sorted(table["replicate"].unique()) == [0, 1, 2, 3]
    failed = table[table["status"] == "failed"]
    assert failed["replicate"].tolist() == [1]
    assert "replicate 1 always fails" in failed["error"].item()
    rec = json.loads(engine.replicate_path(tmp_path, 1).read_text())
    assert rec["status"] == "failed" and "RuntimeError" in rec["traceback"]
    # a rerun keeps the recorded failure unless asked to retry it
    again = engine.run_study(FlakyTask(), 4, seed=1, out_dir=tmp_path, client=client)
    pd.testing.assert_frame_equal(again, table)


def test_a_folder_holds_one_study(client, tmp_path):
    engine.run_study(FlakyTask(), 1, seed=1, out_dir=tmp_path, client=client)
    with pytest.raises(ConfigError, match="different study"):
        engine.run_study(FlakyTask(), 1, seed=2, out_dir=tmp_path, client=client)


def test_tiny_sbc_on_two_workers_resumes_to_the_same_table(client, tmp_path):
    """Tiny SBC (variance family, real nutpie fits) on the 2-worker cluster; an interrupted
    study (stopped after 2 replicates, one finished file lost) resumes to the same table."""
    full = run_sbc(
        "variance", 6, seed=11, out_dir=tmp_path / "full", plan=TINY, L=L, client=client,
        progress=False,
    )  # fmt: skip
    assert full["status"].eq("ok").all()
    assert full["replicate"].nunique() == 6
    assert full["rank"].between(0, L).all() and (full["L"] == L).all()
    assert set(full["parameter"]) >= {"sd_therapist", "share_therapist", "sigma"}
    part = tmp_path / "part"
    first = run_sbc(
        "variance", 6, seed=11, out_dir=part, plan=TINY, L=L, client=client, progress=False,
        stop_after=2,
    )  # fmt: skip
    assert 2 <= first["replicate"].nunique() < 6
    done = sorted(p for p in (part / "replicates").glob("*.json"))
    done[0].unlink()  # a lost file is redone, the others are kept
    kept = {p.name: p.stat().st_mtime_ns for p in done[1:]}
    resumed = run_sbc(
        "variance", 6, seed=11, out_dir=part, plan=TINY, L=L, client=client, progress=False
    )
    pd.testing.assert_frame_equal(resumed, full)
    assert {p: (part / "replicates" / p).stat().st_mtime_ns for p in kept} == kept
    uni = uniformity(full, bins=4)
    assert len(uni) == full["parameter"].nunique()


def test_tiny_power_study_on_two_workers(tmp_path):
    table = run_power(
        "share", therapists="4,6", clients="3", sessions="3", sims=3, out_dir=tmp_path,
        seed=5, plan=TINY, workers=2, progress=False,
    )  # fmt: skip
    assert table["status"].eq("ok").all() and len(table) == 6
    pw = power_table(table)
    assert pw["therapists"].tolist() == [4, 6] and (pw["sims"] == 3).all()
    assert pw["power"].between(0, 1).all() and (pw["power_lo"] <= pw["power"]).all()
    assert (pw["truth"] > 0.05).all()
    from empathy_models.studies.power import plot_power

    assert plot_power(pw, tmp_path / "p.png").stat().st_size > 0


@pytest.mark.slow
def test_same_seed_same_table_with_one_and_two_workers(client, tmp_path):
    two = run_sbc(
        "variance", 4, seed=3, out_dir=tmp_path / "two", plan=TINY, L=L, client=client,
        progress=False,
    )  # fmt: skip
    one = run_sbc(
        "variance", 4, seed=3, out_dir=tmp_path / "one", plan=TINY, L=L, workers=1,
        progress=False,
    )  # fmt: skip
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["meta", "form"])
def test_sbc_replicate_of_compiled_per_fit_families(family, tmp_path):
    """Families that compile per fit run through the same engine (in-process here)."""
    rows = SBCTask(family, TINY, L)(0, engine.replicate_seed(1, 0))
    assert rows and all(0 <= r["rank"] <= L for r in rows)


@pytest.mark.slow
def test_cli_sbc_and_power(tmp_path):
    from empathy_models.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(
            ["sbc", "variance", "--sims", "3", "--workers", "1", "--draws", "100",
             "--tune", "100", "--chains", "1", "--out", str(tmp_path / "s"), "--no-progress"]
        )  # fmt: skip
    assert exc.value.code == 0
    assert (tmp_path / "s" / "uniformity.csv").exists()
    with pytest.raises(SystemExit) as exc:
        main(
            ["power", "--question", "share", "--therapists", "4", "--clients", "3",
             "--sessions", "3", "--sims", "2", "--workers", "1", "--draws", "100",
             "--tune", "100", "--chains", "1", "--out", str(tmp_path / "p"), "--no-progress"]
        )  # fmt: skip
    assert exc.value.code == 0
    assert (tmp_path / "p" / "share_power.png").exists()
