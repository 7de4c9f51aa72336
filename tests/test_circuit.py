"""Tests of the emotional-circuit model (SPEC model 5).

Sampling runs use nutpie's JAX backend (compiles this model in seconds; numba needs about a
minute on the 2-core test machine). Recovery tolerances: the truth lies inside the 90%
equal-tailed interval (fixed seeds).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytensor.tensor as pt
import pytest
from scipy.stats import multivariate_normal

import empathy_models as em
from empathy_models.data.simulate import simulate_circuit
from empathy_models.errors import (
    ConfigError,
    DuplicateOccasionError,
    MissingValueError,
    MomentOrderError,
)
from empathy_models.models.circuit import (
    EmotionalCircuit,
    TherapistCovariateError,
    UnequalSpacingWarning,
    circuit_loglik,
    lag_pairs,
)
from empathy_models.results.circuit import impulse_response, therapist_table

FIT = {"chains": 2, "backend": "jax", "progressbar": False}


def interval(post, name, **sel):
    v = post[name].sel(**sel).values.ravel() if sel else post[name].values.ravel()
    return np.quantile(v, [0.05, 0.95])


def covers(post, name, truth, **sel):
    lo, hi = interval(post, name, **sel)
    return lo <= truth <= hi


# -- exactness of the likelihood ---------------------------------------------------------------
def test_marginal_likelihood_equals_brute_force_gaussian():
    """Sufficient statistics + dyad means integrated out == the stacked multivariate normal."""
    df, _ = simulate_circuit(4, 2, 2, 6, sd_throttle=0.1, seed=1)
    df = df.drop(index=[3, 40])  # interior gaps
    spec = EmotionalCircuit(therapist_covariate="trait")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = spec.prepare(df)
    des = spec.design(data)
    rng = np.random.default_rng(0)
    phi_cc, phi_tt, phi_ct = 0.35, 0.25, 0.12
    m0, sds, (sc, st, r) = (0.1, -0.2), (0.6, 0.4), (0.9, 0.7, 0.35)
    phi_tc = rng.normal(0.2, 0.1, (len(des["therapists"]), len(des["phases"])))
    ll = circuit_loglik(
        des, phi_cc, phi_tt, phi_ct, pt.as_tensor(phi_tc), m0, sds, (sc, st, r)
    ).eval()
    pf = spec._pairs(data)
    s = des["scales"]
    z = np.column_stack(
        [
            (pf["C"] - s["mC"]) / s["sC"],
            (pf["T"] - s["mT"]) / s["sT"],
            (pf["C_lag"] - s["mC"]) / s["sC"],
            (pf["T_lag"] - s["mT"]) / s["sT"],
        ]
    )
    key = (pf["therapist"].astype(str) + ":" + pf["client"].astype(str)).to_numpy()
    Sig = np.array([[sc**2, r * sc * st], [r * sc * st, st**2]])
    D = np.diag(np.square(sds))
    ther = [str(t) for t in des["therapists"]]
    brute = []
    for d in des["dyad_labels"]:
        idx = np.flatnonzero(key == d)
        mean, G = [], []
        for i in idx:
            t = ther.index(str(pf["therapist"].iloc[i]))
            p = des["phases"].index(pf["phase"].iloc[i])
            B = np.array([[phi_cc, phi_ct], [phi_tc[t, p], phi_tt]])
            mean.append(B @ z[i, 2:] + (np.eye(2) - B) @ np.array(m0))
            G.append(np.eye(2) - B)
        G = np.vstack(G)
        cov = np.kron(np.eye(len(idx)), Sig) + G @ D @ G.T
        brute.append(multivariate_normal(np.concatenate(mean), cov).logpdf(z[idx, :2].ravel()))
    np.testing.assert_allclose(ll, brute, rtol=1e-10, atol=1e-10)


# -- lag pairs ---------------------------------------------------------------------------------
def _tiny():
    return pd.DataFrame(
        {
            "therapist": ["A"] * 8,
            "client": ["c1"] * 8,
            "session": [1, 1, 1, 1, 2, 2, 2, 2],
            "moment": [1, 2, 4, 5, 1, 2, 3, 4],
            "phase": ["p", "p", "e", "e", "p", "e", "e", "p"],
            "client_affect": [0.1, 0.2, 0.3, 0.4, 0.5, np.nan, 0.7, 0.8],
            "therapist_affect": [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7],
        }
    )


def test_lag_pairs_never_cross_sessions_gaps_or_missing_moments():
    df = _tiny()
    with pytest.warns(UnequalSpacingWarning, match="moment"):
        pairs, info = lag_pairs(df, em.Roles(), "client_affect", "therapist_affect")
    # session 1: (1,2) and (4,5) pair, 2 -> 4 is a gap; session 2: only (3,4) (moment 2 missing)
    assert list(zip(pairs["session"], pairs["moment"], strict=True)) == [(1, 2), (1, 5), (2, 4)]
    assert info["n_pairs"] == 3
    assert info["broken_by_gap"] == 1
    assert info["broken_by_missing_affect"] == 2
    assert info["session_starts"] == 2
    assert info["unequal_spacing"] is True
    # the pair's phase is the phase of moment m; lags are the previous moment's values
    assert pairs["phase"].tolist() == ["p", "e", "p"]
    assert pairs["C_lag"].tolist() == [0.1, 0.3, 0.7]


def test_prepare_counts_missing_moments_in_the_data_summary():
    df = pd.concat([_tiny(), _tiny().assign(therapist="B", client="c2")], ignore_index=True)
    spec = EmotionalCircuit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = spec.prepare(df)
    summ = data.summary()
    assert summ["rows_dropped"] == 2
    assert summ["lag_pairs"]["n_pairs"] == 6
    assert summ["lag_pairs"]["broken_by_gap"] == 2


def test_timestamp_moments_are_paired_and_unequal_spacing_reported():
    df = _tiny().assign(client_affect=lambda d: d["client_affect"].fillna(0.6))
    base = pd.Timestamp("2026-01-01 10:00")
    df["moment"] = [base + pd.Timedelta(minutes=m) for m in (0, 5, 10, 30, 0, 5, 10, 15)]
    with pytest.warns(UnequalSpacingWarning, match="range from"):
        _, info = lag_pairs(df, em.Roles(), "client_affect", "therapist_affect")
    assert info["moment_kind"] == "timestamp" and info["n_pairs"] == 6
    with pytest.warns(UnequalSpacingWarning):
        _, info = lag_pairs(df, em.Roles(), "client_affect", "therapist_affect", max_gap=600)
    assert info["n_pairs"] == 5 and info["broken_by_gap"] == 1


# -- bad inputs --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_frame():
    df, _ = simulate_circuit(12, 2, 2, 8, seed=5)
    return df


def test_moments_out_of_order_error(small_frame):
    df = small_frame.copy()
    df.loc[[2, 3], "moment"] = df.loc[[3, 2], "moment"].to_numpy()
    with pytest.raises(MomentOrderError, match="'moment'"):
        EmotionalCircuit().prepare(df)


def test_duplicated_moments_error(small_frame):
    df = small_frame.copy()
    df.loc[3, "moment"] = df.loc[2, "moment"]
    with pytest.raises(DuplicateOccasionError, match="moment"):
        EmotionalCircuit().prepare(df)


def test_missing_phase_label_error(small_frame):
    df = small_frame.copy()
    df.loc[4, "phase"] = None
    with pytest.raises(MissingValueError, match="'phase'") as exc:
        EmotionalCircuit().prepare(df)
    assert exc.value.rows == [4]


def test_therapist_covariate_must_be_constant_within_therapist(small_frame):
    df = small_frame.copy()
    df.loc[5, "trait"] = 99.0
    with pytest.raises(TherapistCovariateError, match="'trait'"):
        EmotionalCircuit(therapist_covariate="trait").prepare(df)


def test_unknown_phase_and_bad_options(small_frame):
    from empathy_models.errors import UnknownLevelError

    with pytest.raises(UnknownLevelError, match="'phase'"):
        EmotionalCircuit(phase_levels=("processing", "exposure", "closing")).prepare(small_frame)
    with pytest.raises(ConfigError, match="did you mean 'sd_phi_tc'"):
        EmotionalCircuit(priors={"sd_phi_ct": {"dist": "HalfNormal", "kwargs": {"sigma": 1}}})
    with pytest.raises(ConfigError, match="throttle_phases"):
        EmotionalCircuit(throttle_phases=("exposure", "exposure"))


def test_build_never_samples_and_has_named_dims(small_frame):
    spec = EmotionalCircuit(therapist_covariate="trait")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = spec.prepare(small_frame)
    model = spec.build(data).model
    assert set(model.coords) >= {"therapist", "phase", "dyad"}
    assert model.named_vars_to_dims["phi_tc"] == ("therapist", "phase")
    assert "throttle" in spec.reported(data) and "gamma_trait" in spec.reported(data)


# -- recovery ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def recovery():
    df, truth = simulate_circuit(30, 3, 6, 20, sd_phi_tc=0.1, sd_throttle=0.06, gamma=0.05, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = em.fit(
            EmotionalCircuit(
                therapist_covariate="trait", throttle_phases=("exposure", "processing")
            ),
            df,
            draws=500,
            tune=500,
            seed=2,
            **FIT,
        )
    return res, truth


def test_recovers_couplings_by_phase_and_therapist_sd(recovery):
    res, truth = recovery
    post = res.posterior
    for name in (
        "phi_cc",
        "phi_tt",
        "phi_ct",
        "innovation_corr",
        "sigma_client",
        "sigma_therapist",
    ):
        assert covers(post, name, truth[name]), (name, interval(post, name), truth[name])
    for ph, val in truth["phi_tc_mean"].items():
        assert covers(post, "phi_tc_mean", val, phase=ph), (ph, val)
    assert covers(post, "sd_phi_tc", truth["sd_phi_tc"])
    assert covers(post, "sd_throttle", truth["sd_throttle"])
    assert covers(post, "gamma_trait", truth["gamma"])
    assert covers(post, "throttle", truth["throttle"])
    assert res.prob("throttle", 0, "<") > 0.99
    # per-therapist couplings: most 90% intervals cover (binomial slack)
    hits = [
        covers(post, "phi_tc", truth["phi_tc"][t][ph], therapist=t, phase=ph)
        for t in truth["phi_tc"]
        for ph in ("processing", "exposure")
    ]
    assert np.mean(hits) >= 0.8
    d = res.diagnostics
    assert d["divergences"] == 0 and d["max_rhat"] < 1.05


def test_results_tables_impulse_response_and_roundtrip(recovery, tmp_path):
    res, truth = recovery
    tab = therapist_table(res)
    assert len(tab) == 30 and {"throttle", "p_throttle_lt_0", "eta_phi_tc"} <= set(tab.columns)
    irf = impulse_response(res, steps=5, generalized=False)
    assert len(irf) == 2 * 2 * 2 * 6
    post = res.posterior
    one = irf.query("phase == 'exposure' and shock == 'client' and response == 'therapist'")
    # step 1: a client shock of one SD reaches the therapist through phi_tc only
    want = float((post["phi_tc_mean"].sel(phase="exposure") * post["sigma_client"]).mean())
    assert one.loc[one["step"] == 1, "mean"].item() == pytest.approx(want, rel=1e-8)
    assert one.loc[one["step"] == 0, "mean"].item() == 0.0
    assert (irf["lower"] <= irf["mean"]).all() and (irf["mean"] <= irf["upper"]).all()
    from empathy_models.results.circuit import plot_coupling_forest, plot_impulse_response

    plot_coupling_forest(res, tmp_path / "forest.png")
    plot_impulse_response(impulse_response(res, steps=5), tmp_path / "irf.png")
    assert (tmp_path / "forest.png").stat().st_size > 0
    path = res.save(tmp_path / "c.nc")
    back = em.load_result(path)
    pd.testing.assert_frame_equal(back.summary(), res.summary())
    assert back.data_summary["lag_pairs"]["n_pairs"] == res.data_summary["lag_pairs"]["n_pairs"]
    assert "dyad" in back.idata["log_likelihood"].to_dataset().dims


# -- boundaries and gaps are not bridged ------------------------------------------------------------
def _ols_phi_tc(df, within_session=False):
    """Naive OLS coupling from pairs of adjacent rows, bridging gaps (and, unless
    ``within_session``, session boundaries)."""
    c = df["client_affect"].to_numpy()
    t = df["therapist_affect"].to_numpy()
    keep = np.ones(len(df) - 1, dtype=bool)
    if within_session:
        key = (df["client"].astype(str) + ":" + df["session"].astype(str)).to_numpy()
        keep = key[1:] == key[:-1]
    X = np.column_stack([np.ones(len(df) - 1), c[:-1], t[:-1]])[keep]
    return np.linalg.lstsq(X, t[1:][keep], rcond=None)[0][1]


def _boundary_data(seed=9, n_ther=10, per=2, sessions=6, moments=12, phi_tc=0.3):
    """Within-session VAR(1) data whose session *starts* are tied to the previous session:
    T_1 of session s+1 = -6 * C_last of session s. Every within-session pair follows the VAR
    exactly; only a lag bridging the boundary sees the spurious -6 coupling."""
    rng = np.random.default_rng(seed)
    n = n_ther * per
    B = np.array([[0.4, 0.1], [phi_tc, 0.3]])
    L = np.linalg.cholesky(np.array([[1.0, 0.24], [0.24, 0.64]]))
    mu = 0.5 * rng.standard_normal((n, 2))
    x = np.empty((n, sessions, moments, 2))
    for s in range(sessions):
        x[:, s, 0] = rng.standard_normal((n, 2))
        if s > 0:
            x[:, s, 0, 1] = -6.0 * x[:, s - 1, -1, 0]
        for m in range(1, moments):
            x[:, s, m] = x[:, s, m - 1] @ B.T + rng.standard_normal((n, 2)) @ L.T
    x = x + mu[:, None, None, :]
    d = np.repeat(np.arange(n), sessions * moments)
    return pd.DataFrame(
        {
            "therapist": [f"T{i // per}" for i in d],
            "client": [f"C{i}" for i in d],
            "session": np.tile(np.repeat(np.arange(1, sessions + 1), moments), n),
            "moment": np.tile(np.arange(1, moments + 1), n * sessions),
            "client_affect": x[..., 0].ravel(),
            "therapist_affect": x[..., 1].ravel(),
        }
    )


def test_session_boundaries_and_gaps_would_bias_but_are_not_bridged():
    df = _boundary_data()
    first = (df["moment"] == 1).to_numpy()
    # delete 35% of the moments inside sessions (never the first): gaps a bridge would span,
    # where the lag-2 relation (B^2) would pass for a lag-1 coupling
    rng = np.random.default_rng(0)
    drop = ~first & (rng.random(len(df)) < 0.35)
    df = df.loc[~drop].reset_index(drop=True)
    naive = _ols_phi_tc(df)
    naive_gaps = _ols_phi_tc(df, within_session=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = em.fit(
            EmotionalCircuit(use_phase=False),
            df,
            draws=300,
            tune=300,
            seed=4,
            **FIT,
        )
    lo, hi = interval(res.posterior, "phi_tc_mean")
    assert lo <= 0.3 <= hi
    assert not lo <= naive <= hi  # bridging boundaries (and gaps) is clearly biased
    assert naive_gaps < lo  # bridging gaps alone attenuates the coupling (B^2 < B)
    print(f"model 90% [{lo:.3f}, {hi:.3f}], naive {naive:.3f}, gaps bridged {naive_gaps:.3f}")
    assert res.data_summary["lag_pairs"]["broken_by_gap"] > 100


# -- command line and example ---------------------------------------------------------------------
def test_cli_bad_column_names_the_column(small_frame, tmp_path):
    from click.testing import CliRunner

    from empathy_models.cli.main import app
    from empathy_models.errors import MissingColumnError

    csv = tmp_path / "m.csv"
    small_frame.to_csv(csv, index=False)
    r = CliRunner().invoke(
        app,
        ["fit", "circuit", str(csv), "--client-affect", "nope", "--out", str(tmp_path / "x.nc")],
    )
    assert isinstance(r.exception, MissingColumnError) and "'nope'" in str(r.exception)
    r = CliRunner().invoke(app, ["fit", "circuit", "--help"])
    assert r.exit_code == 0 and "--therapist-covariate" in r.output


@pytest.mark.slow
def test_cli_fit_circuit(small_frame, tmp_path):
    from click.testing import CliRunner

    from empathy_models.cli.main import app

    csv = tmp_path / "m.csv"
    small_frame.rename(
        columns={"client_affect": "ca", "therapist_affect": "ta", "moment": "k"}
    ).to_csv(csv, index=False)
    out = tmp_path / "c.nc"
    irf = tmp_path / "irf.csv"
    args = [
        "fit", "circuit", str(csv), "--client-affect", "ca", "--therapist-affect", "ta",
        "--moment", "k", "--phase", "phase", "--therapist-covariate", "trait",
        "--throttle-phases", "exposure,processing", "--draws", "100", "--tune", "100",
        "--chains", "1", "--backend", "jax", "--out", str(out), "--irf-csv", str(irf),
        "--no-progressbar",
    ]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "throttle" in r.output and "lag pairs" in r.output
    assert out.exists() and irf.exists()


@pytest.mark.slow
def test_example_fast(tmp_path):
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "examples"))
    try:
        import circuit as example  # noqa: PLC0415
    finally:
        sys.path.pop(0)
    report = example.main(["--fast", "--out", str(tmp_path), "--seed", "3"])
    for name in (
        "summary.csv",
        "truth_vs_recovered.csv",
        "therapists.csv",
        "coupling_forest.png",
        "impulse_response.png",
    ):
        assert (tmp_path / name).exists(), name
    assert report["throttle_mean"] < 0
