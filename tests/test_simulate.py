"""Tests of the seeded study simulator (fast; no sampling)."""

from __future__ import annotations

import hashlib
import json
import math
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from empathy_models.data.simulate import (
    FORMS,
    INTERVENTIONS,
    MEASURES,
    PHASES,
    RATERS,
    SHIPPED_SEED,
    SUBCOMPONENTS,
    SimulatedStudy,
    StudyDesign,
    circuit_data,
    data_card,
    load_shipped_study,
    phase_labels,
    shipped_design,
    shipped_study_path,
    simulate_circuit,
    simulate_contributions,
    simulate_form_data,
    simulate_meta,
    simulate_moderation_data,
    simulate_raters,
    simulate_study,
    simulate_variance,
    write_shipped_study,
)
from empathy_models.data.simulate.circuit import innovation_cov, phi_matrices, stationary_chol
from empathy_models.data.simulate.study import to_csv
from empathy_models.errors import ConfigError

SMALL = StudyDesign(
    n_therapists=5, clients_per_therapist=4, sessions_per_client=3, moments_per_session=6
)


def _within(columns: list[np.ndarray], y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """OLS slopes after removing group (client) means: the within-client estimator."""
    frame = pd.DataFrame(np.column_stack([*columns, y]))
    frame = frame - frame.groupby(groups).transform("mean")
    values = frame.to_numpy()
    return np.linalg.lstsq(values[:, :-1], values[:, -1], rcond=None)[0]


# --- determinism ---------------------------------------------------------------------


def test_same_seed_same_bytes_different_seed_different(tmp_path: Path) -> None:
    a = simulate_study(SMALL, seed=11).write(tmp_path / "a")
    b = simulate_study(SMALL, seed=11).write(tmp_path / "b")
    c = simulate_study(SMALL, seed=12).write(tmp_path / "c")
    names = sorted(p.name for p in a.iterdir())
    assert names == [
        "clients.csv",
        "design.json",
        "moments.csv",
        "ratings.csv",
        "sessions.csv",
        "therapists.csv",
        "truth.json",
    ]
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in ("sessions.csv", "moments.csv", "ratings.csv", "clients.csv", "therapists.csv"):
        assert (a / name).read_bytes() != (c / name).read_bytes(), name


def test_frames_identical_in_memory() -> None:
    a, b = simulate_study(SMALL, seed=3), simulate_study(SMALL, seed=3)
    for name, frame in a.tables().items():
        pd.testing.assert_frame_equal(frame, b.tables()[name])
    assert a.truth == b.truth


def test_components_use_independent_streams() -> None:
    base = simulate_study(SMALL, seed=5)
    fewer_moments = simulate_study(SMALL.replace(moments_per_session=0), seed=5)
    no_ratings = simulate_study(SMALL.replace(include_ratings=False), seed=5)
    no_alliance = simulate_study(SMALL.replace(alliance_effects=False), seed=5)
    pd.testing.assert_frame_equal(base.sessions, fewer_moments.sessions)
    pd.testing.assert_frame_equal(base.clients, fewer_moments.clients)
    pd.testing.assert_frame_equal(base.sessions, no_ratings.sessions)
    pd.testing.assert_frame_equal(base.moments, no_ratings.moments)
    # switching an effect off changes the outcomes only
    rated = [*SUBCOMPONENTS, "empathy", "alliance"]
    pd.testing.assert_frame_equal(base.sessions[rated], no_alliance.sessions[rated])
    pd.testing.assert_frame_equal(base.moments, no_alliance.moments)
    assert not np.allclose(base.sessions.outcome, no_alliance.sessions.outcome)
    assert no_alliance.truth["contributions"]["beta_therapist"] == 0.0


# --- shapes, ids, nesting ------------------------------------------------------------


def test_shapes_columns_and_ids() -> None:
    d = SMALL
    s = simulate_study(d, seed=1)
    n_c = d.n_therapists * d.clients_per_therapist
    n_cs = n_c * d.sessions_per_client
    assert list(s.therapists.columns) == [
        "therapist",
        "trait_affect_sharing",
        "trait_mentalizing",
        "trait_empathic_concern",
        "regulation",
    ]
    assert list(s.clients.columns) == [
        "therapist",
        "client",
        "intervention",
        "severity",
        "post_outcome",
    ]
    assert list(s.sessions.columns) == [
        "therapist",
        "client",
        "session",
        "intervention",
        "affect_sharing",
        "mentalizing",
        "empathic_concern",
        "empathy",
        "alliance",
        "outcome",
    ]
    assert list(s.ratings.columns) == ["therapist", "client", "session", "rater", *MEASURES]
    assert list(s.moments.columns) == [
        "therapist",
        "client",
        "session",
        "moment",
        "phase",
        "client_affect",
        "therapist_affect",
    ]
    assert len(s.therapists) == d.n_therapists
    assert len(s.clients) == n_c
    assert len(s.sessions) == n_cs
    assert len(s.ratings) == n_cs * len(RATERS)
    assert len(s.moments) == n_cs * d.moments_per_session
    assert s.therapists.therapist.tolist() == ["T001", "T002", "T003", "T004", "T005"]
    assert s.clients.client.iloc[0] == "T001_C01"
    assert s.sessions.session.dtype == np.int64 and s.moments.moment.dtype == np.int64
    assert sorted(s.sessions.session.unique()) == [1, 2, 3]
    assert sorted(s.moments.moment.unique()) == list(range(1, 7))
    assert set(s.ratings.rater) == set(RATERS)
    assert set(s.sessions.intervention) == set(INTERVENTIONS)
    assert set(s.moments.phase) == set(PHASES)
    np.testing.assert_allclose(
        s.sessions.empathy, s.sessions[list(SUBCOMPONENTS)].mean(axis=1), rtol=0, atol=1e-12
    )
    rated = s.sessions[[*MEASURES]].to_numpy()
    assert rated.min() >= d.rating_min and rated.max() <= d.rating_max
    assert s.truth["n_rows"] == {
        "therapists": 5,
        "clients": n_c,
        "sessions": n_cs,
        "ratings": n_cs * 3,
        "moments": n_cs * 6,
    }


def test_nesting_and_balanced_interventions() -> None:
    d = StudyDesign(n_therapists=30, clients_per_therapist=5, sessions_per_client=2)
    s = simulate_study(d, seed=2)
    for frame in (s.clients, s.sessions, s.ratings, s.moments):
        assert (frame.groupby("client")["therapist"].nunique() == 1).all()
        assert (frame.client.str.split("_").str[0] == frame.therapist).all()
    assert s.clients.client.is_unique
    counts = s.clients.groupby("therapist")["intervention"].value_counts().unstack(fill_value=0)
    assert ((counts["ERP"] - counts["MI"]).abs() <= 1).all()  # odd count: off by one at most
    merged = s.sessions.merge(s.clients, on=["therapist", "client"], suffixes=("", "_client"))
    assert (merged.intervention == merged.intervention_client).all()


def test_client_rated_ratings_equal_sessions_table() -> None:
    s = simulate_study(SMALL, seed=4)
    client_rows = s.ratings[s.ratings.rater == "client"].reset_index(drop=True)
    cols = ["therapist", "client", "session", *MEASURES]
    pd.testing.assert_frame_equal(client_rows[cols], s.sessions[cols])


def test_phase_layout() -> None:
    assert phase_labels(12).tolist() == ["processing"] * 4 + ["exposure"] * 4 + ["processing"] * 4
    assert phase_labels(10).tolist() == ["processing"] * 3 + ["exposure"] * 4 + ["processing"] * 3
    assert phase_labels(2).tolist() == ["exposure", "exposure"]
    assert phase_labels(0).tolist() == []


def test_optional_tables_skipped(tmp_path: Path) -> None:
    s = simulate_study(SMALL.replace(moments_per_session=0, include_ratings=False), seed=1)
    assert s.moments is None and s.ratings is None
    out = s.write(tmp_path)
    assert not (out / "moments.csv").exists() and not (out / "ratings.csv").exists()
    back = SimulatedStudy.read(out)
    assert back.moments is None and back.ratings is None
    assert s.truth["n_rows"]["moments"] == 0


def test_read_roundtrip(tmp_path: Path) -> None:
    s = simulate_study(SMALL, seed=8)
    back = SimulatedStudy.read(s.write(tmp_path))
    assert back.design == s.design and back.seed == s.seed and back.truth == s.truth
    for name, frame in s.roundtrip().tables().items():
        pd.testing.assert_frame_equal(frame, back.tables()[name])
    np.testing.assert_allclose(back.sessions.outcome, s.sessions.outcome, atol=5.1e-5)


# --- truth ---------------------------------------------------------------------------


def test_truth_is_json_serializable_and_complete() -> None:
    s = simulate_study(SMALL, seed=1)
    text = json.dumps(s.truth, allow_nan=False)
    assert json.loads(text) == s.truth
    t = s.truth
    for m in (*MEASURES, "empathy"):
        assert set(t["variance"][m]) == {
            "sd_therapist",
            "sd_client",
            "sigma",
            "share_therapist",
            "share_client",
            "share_residual",
            "Intercept",
        }
        v = t["variance"][m]
        assert math.isclose(v["share_therapist"] + v["share_client"] + v["share_residual"], 1.0)
    for block in ("contributions", "contributions_client"):
        assert {
            "beta_therapist",
            "beta_client",
            "beta_therapist_minus_client",
            "share_therapist_predictor",
        } <= set(t[block])
    assert "beta_session" in t["contributions"]
    assert set(t["moderation"]["slope"]) == set(SUBCOMPONENTS)
    assert set(t["moderation"]["contrast"]["affect_sharing"]) == {"MI_minus_ERP"}
    assert {
        "form",
        "beta_linear",
        "beta_quadratic",
        "vertex",
        "slope_below_vertex",
        "slope_above_vertex",
    } <= set(t["form"])
    assert {
        "phi_cc",
        "phi_tt",
        "phi_ct",
        "phi_tc_mean",
        "sd_phi_tc",
        "gamma_affect_sharing",
        "throttle",
        "innovation_corr",
        "sigma_client",
        "sigma_therapist",
        "phi_tc",
    } <= set(t["circuit"])
    assert set(t["circuit"]["phi_tc"]) == set(s.therapists.therapist)
    assert set(t["circuit"]["phi_tc_mean"]) == set(PHASES)

    def no_numpy(obj: object) -> None:
        if isinstance(obj, dict):
            for v in obj.values():
                no_numpy(v)
        elif isinstance(obj, list):
            for v in obj:
                no_numpy(v)
        else:
            assert obj is None or type(obj) in (bool, int, float, str), type(obj)

    no_numpy(t)


def test_truth_signs_of_the_shipped_design() -> None:
    t = simulate_study(shipped_design().replace(n_therapists=3), seed=1).truth
    slope = t["moderation"]["slope"]
    assert slope["affect_sharing"]["ERP"] > 0 > slope["affect_sharing"]["MI"]
    for k in ("mentalizing", "empathic_concern"):
        assert slope[k]["ERP"] < 0 and slope[k]["MI"] < 0
    assert t["moderation"]["contrast"]["affect_sharing"]["MI_minus_ERP"] < 0
    f = t["form"]
    assert f["form"] == "inverted_u" and f["beta_quadratic"] > 0
    assert f["empathy_q05"] < f["vertex"] < f["empathy_q95"]
    assert f["slope_below_vertex"] < 0 < f["slope_above_vertex"]
    assert math.isclose(f["vertex"], f["center"] - f["beta_linear"] / (2 * f["beta_quadratic"]))
    assert t["circuit"]["throttle"] < 0
    assert t["circuit"]["phi_tc_mean"]["exposure"] < t["circuit"]["phi_tc_mean"]["processing"]
    c = t["contributions"]
    assert c["beta_therapist_minus_client"] == c["beta_therapist"] - c["beta_client"]


def test_form_truth_for_each_form() -> None:
    lin = simulate_study(SMALL.replace(form="linear"), seed=1).truth["form"]
    assert lin["beta_quadratic"] == 0 and lin["vertex"] is None
    assert lin["slope_below_vertex"] == pytest.approx(lin["slope_above_vertex"])
    sat = simulate_study(SMALL.replace(form="saturating"), seed=1).truth["form"]
    assert sat["vertex"] is None
    assert sat["slope_below_vertex"] < 0 and sat["slope_above_vertex"] < 0  # no optimum
    assert abs(sat["slope_above_vertex"]) < abs(sat["slope_below_vertex"])  # levels off
    off = simulate_study(SMALL.replace(form_effect=False), seed=1).truth["form"]
    assert off["beta_linear"] == 0 and off["beta_quadratic"] == 0


# --- recovery of the truth by simple estimators (large designs) ----------------------


def test_variance_shares_of_alliance_near_truth() -> None:
    """Moment (ANOVA) estimators at 1000 x 6 x 10; tolerance 0.04 absolute on each share.

    The therapist share's sampling SD is about 0.012 at this size, so 0.04 is > 3 SD.
    """
    d = StudyDesign(
        n_therapists=1000,
        clients_per_therapist=6,
        sessions_per_client=10,
        moments_per_session=0,
        include_ratings=False,
    )
    s = simulate_study(d, seed=21)
    y = s.sessions.alliance.to_numpy().reshape(d.n_therapists, d.clients_per_therapist, -1)
    n_k, n_s = d.clients_per_therapist, d.sessions_per_client
    sigma2 = y.var(axis=2, ddof=1).mean()
    client_means = y.mean(axis=2)
    sd_c2 = client_means.var(axis=1, ddof=1).mean() - sigma2 / n_s
    sd_t2 = client_means.mean(axis=1).var(ddof=1) - sd_c2 / n_k - sigma2 / (n_k * n_s)
    total = sigma2 + sd_c2 + sd_t2
    truth = s.truth["variance"]["alliance"]
    assert sd_t2 / total == pytest.approx(truth["share_therapist"], abs=0.04)
    assert sd_c2 / total == pytest.approx(truth["share_client"], abs=0.04)
    assert sigma2 / total == pytest.approx(truth["share_residual"], abs=0.04)
    assert math.sqrt(sigma2) == pytest.approx(truth["sigma"], rel=0.03)
    assert y.mean() == pytest.approx(truth["Intercept"], abs=0.03)


@pytest.mark.parametrize("form", FORMS)
def test_form_truth_recovered_within_clients(form: str) -> None:
    """Within-client OLS of outcome on (empathy - center) and its square: 100,000 sessions.

    With the moderation term on the estimand is ``truth['form']['marginal']`` (tolerance
    0.12 on each coefficient, about 3 SE).
    """
    d = StudyDesign(
        n_therapists=1000,
        clients_per_therapist=10,
        sessions_per_client=10,
        moments_per_session=0,
        include_ratings=False,
        form=form,
    )
    s = simulate_study(d, seed=31)
    u = s.sessions.empathy.to_numpy() - s.truth["form"]["center"]
    b = _within(
        [u, u**2, s.sessions.session.to_numpy(float)],
        s.sessions.outcome.to_numpy(),
        s.sessions.client.to_numpy(),
    )
    target = s.truth["form"]["marginal"]
    assert b[0] == pytest.approx(target["beta_linear"], abs=0.12)
    if form != "saturating":  # saturating: only a quadratic approximation
        assert b[1] == pytest.approx(target["beta_quadratic"], abs=0.12)
    assert b[2] == pytest.approx(s.truth["outcome"]["beta_session_number"], abs=0.02)


@pytest.mark.parametrize("form_effect", [False, True])
def test_moderation_truth_recovered_within_clients(form_effect: bool) -> None:
    """Within-client OLS, slopes by intervention; tolerance 0.08 (about 3 SE)."""
    d = StudyDesign(
        n_therapists=1000,
        clients_per_therapist=10,
        sessions_per_client=10,
        moments_per_session=0,
        include_ratings=False,
        form_effect=form_effect,
    )
    s = simulate_study(d, seed=41)
    ss, mod = s.sessions, s.truth["moderation"]
    columns = [
        (ss[k].to_numpy() - mod["centering"][k]) * (ss.intervention.to_numpy() == i)
        for k in SUBCOMPONENTS
        for i in INTERVENTIONS
    ]
    b = _within([*columns, ss.session.to_numpy(float)], ss.outcome.to_numpy(), ss.client.to_numpy())
    target = mod["marginal"]["slope"] if form_effect else mod["slope"]
    expected = [target[k][i] for k in SUBCOMPONENTS for i in INTERVENTIONS]
    np.testing.assert_allclose(b[:-1], expected, atol=0.08)


def test_circuit_truth_recovered_and_lags_do_not_cross_sessions() -> None:
    """Per-phase OLS of the VAR (dyad means switched off so pooled OLS is unbiased)."""
    d = StudyDesign(
        n_therapists=200,
        clients_per_therapist=10,
        sessions_per_client=10,
        include_ratings=False,
        sd_therapist_client_affect=0.0,
        sd_client_client_affect=0.0,
        sd_therapist_therapist_affect=0.0,
        sd_client_therapist_affect=0.0,
    )
    s = simulate_study(d, seed=51)
    n_m = d.moments_per_session
    c = s.moments.client_affect.to_numpy().reshape(-1, n_m)
    t = s.moments.therapist_affect.to_numpy().reshape(-1, n_m)
    phase = s.moments.phase.to_numpy()[:n_m]
    circuit = s.truth["circuit"]
    estimates = {}
    for p in PHASES:
        m = np.flatnonzero(phase[1:] == p) + 1
        x = np.column_stack([np.ones(c[:, m].size), c[:, m - 1].ravel(), t[:, m - 1].ravel()])
        b_t = np.linalg.lstsq(x, t[:, m].ravel(), rcond=None)[0]
        b_c = np.linalg.lstsq(x, c[:, m].ravel(), rcond=None)[0]
        estimates[p] = b_t[1]
        mean_phi_tc = np.mean([v[p] for v in circuit["phi_tc"].values()])
        assert b_t[1] == pytest.approx(mean_phi_tc, abs=0.03)
        assert b_t[2] == pytest.approx(circuit["phi_tt"], abs=0.03)
        assert b_c[1] == pytest.approx(circuit["phi_cc"], abs=0.03)
        assert b_c[2] == pytest.approx(circuit["phi_ct"], abs=0.03)
    assert estimates["exposure"] - estimates["processing"] == pytest.approx(
        circuit["throttle"], abs=0.04
    )
    # No dependence across the session boundary: first moment vs previous session's last.
    same_client = s.moments.client.to_numpy()[::n_m]
    pairs = same_client[1:] == same_client[:-1]
    r_boundary = np.corrcoef(c[1:, 0][pairs], c[:-1, -1][pairs])[0, 1]
    r_within = np.corrcoef(c[:, 1:].ravel(), c[:, :-1].ravel())[0, 1]
    assert abs(r_boundary) < 4 / math.sqrt(pairs.sum())
    assert r_within > 0.3


def test_var_stability() -> None:
    t = simulate_study(SMALL, seed=1).truth["circuit"]
    assert 0 < t["max_abs_eigenvalue"] < 1
    for phases in t["phi_tc"].values():
        for value in phases.values():
            phi = np.array([[t["phi_cc"], t["phi_ct"]], [value, t["phi_tt"]]])
            assert np.abs(np.linalg.eigvals(phi)).max() < 1
    with pytest.raises(ConfigError, match="not stable"):
        simulate_study(SMALL.replace(phi_cc=0.95, phi_tt=0.95, gamma_0=0.9), seed=1)


def test_residual_ar1_and_session_lag() -> None:
    d = StudyDesign(
        n_therapists=400,
        clients_per_therapist=10,
        sessions_per_client=10,
        moments_per_session=0,
        include_ratings=False,
        residual_ar1=0.5,
    )
    s = simulate_study(d, seed=61)
    y = s.sessions.alliance.to_numpy().reshape(d.n_clients, -1)
    dev = y - y.mean(axis=1, keepdims=True)
    r1 = np.corrcoef(dev[:, 1:].ravel(), dev[:, :-1].ravel())[0, 1]
    assert r1 > 0.25  # 0.5 minus the small-sample demeaning bias
    lagged = simulate_study(d.replace(session_effect_lag=1), seed=61)
    assert lagged.truth["contributions"]["session_effect_lag"] == 1
    first = lagged.sessions.session == 1
    same = simulate_study(d.replace(session_effect_lag=1, residual_ar1=0.5), seed=61)
    pd.testing.assert_series_equal(lagged.sessions.outcome[first], same.sessions.outcome[first])


def test_missing_rates_are_counted() -> None:
    d = SMALL.replace(missing_moment_rate=0.2, missing_outcome_rate=0.1, n_therapists=20)
    s = simulate_study(d, seed=71)
    full = d.n_sessions * d.moments_per_session
    assert len(s.moments) == full - s.truth["missing"]["moments_deleted"]
    assert 0 < s.truth["missing"]["moments_deleted"] < full
    assert s.sessions.outcome.isna().sum() == s.truth["missing"]["outcomes_missing"] > 0
    assert s.moments.groupby(["client", "session"]).moment.is_monotonic_increasing.all()


# --- design, shipped data, command line ----------------------------------------------


def test_design_validation_and_roundtrip() -> None:
    d = StudyDesign(n_therapists=7, form="saturating")
    assert StudyDesign.from_dict(d.to_dict()) == d
    json.dumps(d.to_dict())
    with pytest.raises(ConfigError, match="form"):
        StudyDesign(form="cubic")
    with pytest.raises(ConfigError, match="sd_client_alliance"):
        StudyDesign(sd_client_alliance=-1.0)
    with pytest.raises(ConfigError, match="n_therapists"):
        StudyDesign(n_therapists=1)
    with pytest.raises(ConfigError, match="unknown"):
        StudyDesign.from_dict({"n_therapist": 3})
    with pytest.raises(ConfigError, match="unknown"):
        d.replace(nonsense=1)
    with pytest.raises(ConfigError, match="seed"):
        simulate_study(SMALL, seed=-1)
    with pytest.raises(ConfigError):
        StudyDesign(n_therapists=2.5)
    assert isinstance(ConfigError("x"), ValueError)


def test_shipped_data_is_current(tmp_path: Path) -> None:
    path = shipped_study_path()
    if path is None:
        pytest.skip("data/simulated_study is not present (installed package)")
    fresh = write_shipped_study(tmp_path / "shipped")
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in path.iterdir())
    for name in names:
        assert (fresh / name).read_bytes() == (path / name).read_bytes(), (
            f"{name} is stale: rerun scripts/make_shipped_data.py"
        )
    total = sum(p.stat().st_size for p in path.iterdir())
    assert total < 5 * 1024 * 1024


def test_load_shipped_study(monkeypatch: pytest.MonkeyPatch) -> None:
    study = load_shipped_study()
    assert study.seed == SHIPPED_SEED and study.design == shipped_design()
    assert len(study.sessions) == 40 * 6 * 10 and len(study.moments) == 2400 * 12
    # Without the repository the same values are regenerated in memory.
    import empathy_models.data.simulate.study as sim_study

    monkeypatch.setattr(sim_study, "shipped_study_path", lambda: None)
    regenerated = load_shipped_study()
    for name, frame in study.tables().items():
        pd.testing.assert_frame_equal(frame, regenerated.tables()[name])
    assert regenerated.truth == study.truth


def test_data_card_code_regenerates_the_study(tmp_path: Path) -> None:
    """The Python code quoted in a data card rewrites the same files."""
    design = StudyDesign(n_therapists=3, clients_per_therapist=2, form="linear", clip_ratings=False)
    study = simulate_study(design, seed=9)
    first = study.write(tmp_path / "first", data_card=True)
    card = (first / "DATA_CARD.md").read_text()
    assert card == data_card(study)
    code = textwrap.dedent(card.split("```")[1]).replace("<folder>", str(tmp_path / "second"))
    assert "n_therapists=3" in code and "form='linear'" in code and "seed=9" in code
    exec(code, {})  # noqa: S102 - the card's own regeneration code
    for path in first.iterdir():
        assert (tmp_path / "second" / path.name).read_bytes() == path.read_bytes(), path.name


def test_million_session_rows_design() -> None:
    """1,000 therapists x 50 clients x 20 sessions, sessions only: time printed, not asserted."""
    d = StudyDesign(
        n_therapists=1000,
        clients_per_therapist=50,
        sessions_per_client=20,
        moments_per_session=0,
        include_ratings=False,
    )
    start = time.perf_counter()
    s = simulate_study(d, seed=1)
    elapsed = time.perf_counter() - start
    print(f"\nsimulate_study 1,000,000 session rows: {elapsed:.2f} s")
    assert len(s.sessions) == 1_000_000 and s.moments is None and s.ratings is None
    assert s.sessions.client.nunique() == 50_000


# --- regression: today's numbers -------------------------------------------------------


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_shipped_study_regenerates_the_committed_files_exactly() -> None:
    """Every table of the shipped design and seed, as written to CSV, and the truth equal
    the committed files in data/simulated_study byte for byte."""
    path = shipped_study_path()
    if path is None:
        pytest.skip("data/simulated_study is not present (installed package)")
    study = simulate_study(shipped_design(), seed=SHIPPED_SEED)
    assert sorted(study.tables()) == sorted(p.stem for p in path.glob("*.csv"))
    for name, frame in study.tables().items():
        assert to_csv(frame) == (path / f"{name}.csv").read_text(encoding="utf-8"), name
    truth = json.dumps(study.truth, indent=2, allow_nan=False) + "\n"
    assert truth == (path / "truth.json").read_text(encoding="utf-8")


#: sha256 of the CSV text of every table and of truth.json, recorded from the simulator
#: before it became a package (one design without moments, one saturating without ratings).
SMALL_DESIGN_DIGESTS = {
    "no_moments": (
        StudyDesign(
            n_therapists=6,
            clients_per_therapist=3,
            sessions_per_client=5,
            moments_per_session=0,
            residual_ar1=0.3,
            session_effect_lag=1,
            missing_outcome_rate=0.1,
        ),
        7,
        {
            "therapists": "a8f8d1539be7b1bfdbbe52c89ba47a925fbb5caf741e1c9d69d79e2644059bd8",
            "clients": "f4b398c60e912ccbb598e0532eb29b54018f9ee490fce266a48df9baabbdb110",
            "sessions": "497ccb9146f04952dc5023616c2461a952aea4a51892ec618cb39ef30ca57770",
            "ratings": "ee4d7ceaede2fc6381f092b5296ea28172156a809264b4db8f757c6ff6c0f6f1",
            "truth.json": "cd8c19dc1963a3b6ba60d4526d74fbae13f10a4b745c8a51f788cf1a9999b022",
        },
    ),
    "saturating": (
        StudyDesign(
            n_therapists=5,
            clients_per_therapist=3,
            sessions_per_client=3,
            moments_per_session=9,
            form="saturating",
            include_ratings=False,
            missing_moment_rate=0.1,
            sd_session_affect=0.2,
            gamma_regulation_exposure=0.05,
            post_beta_throttle_erp=1.0,
        ),
        8,
        {
            "therapists": "ef6575e6ab74aa1f6c0c2bc96eaf1f76e1fabe9505f76b7323d34cd910cabaf1",
            "clients": "5057868a17814d6210fb6b6e0d33c19373793bf76ac125619b8710f2217fd5ef",
            "sessions": "40d45e1538d75dba1267b93e7abfe11fae9e8123b1d8589bee845e13b13995e5",
            "moments": "49ca8d967d4f38390dd48fd925314dbf62601880fbd03ce8d06f5fba4583d0d9",
            "truth.json": "aa241126253731e863be01c8deeca5f13d9baa85f09b88a5ce3cb42732974947",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(SMALL_DESIGN_DIGESTS))
def test_small_designs_give_the_recorded_numbers(name: str) -> None:
    design, seed, expected = SMALL_DESIGN_DIGESTS[name]
    study = simulate_study(design, seed=seed)
    got = {table: _text_digest(to_csv(frame)) for table, frame in study.tables().items()}
    got["truth.json"] = _text_digest(json.dumps(study.truth, indent=2, allow_nan=False) + "\n")
    assert got == expected


def _generator_digests(frame: pd.DataFrame, truth: dict) -> dict[str, str]:
    text = frame.to_csv(index=False, float_format="%.12g", lineterminator="\n")
    return {
        "frame": _text_digest(text),
        "truth": _text_digest(json.dumps(truth, sort_keys=True, default=str)),
    }


#: The families' seeded generators: calls and the digests of their frames (12 significant
#: digits) and truth, recorded before the generators moved out of the model modules (the
#: raters' digests re-recorded when its defaults made therapists overestimate by 0.3 and its
#: truth gained the perspective offsets).
GENERATOR_CALLS = {
    "contributions": lambda: simulate_contributions(5, 3, 4, seed=1),
    "contributions_lag0": lambda: simulate_contributions(5, 3, 4, lag=0, seed=2),
    "moderation": lambda: simulate_moderation_data(n_therapists=4, seed=1),
    "raters": lambda: simulate_raters(4, 3, 2, missing_rate=0.2, seed=3),
    "raters2": lambda: simulate_raters(
        4, 3, 2, raters=("client", "therapist"), means=(4, 4), seed=0
    ),
    "form_inverted_u": lambda: simulate_form_data("inverted_u", n_therapists=4, seed=1),
    "form_linear": lambda: simulate_form_data("linear", n_therapists=4, seed=1),
    "form_saturating": lambda: simulate_form_data("saturating", n_therapists=4, seed=1),
    "meta": lambda: simulate_meta(
        12,
        tau_study=0.1,
        effects_per_study=(1, 3),
        moderator={"client": 0.0, "therapist": -0.1},
        numeric_moderator=("year", 0.05),
        seed=1,
    ),
    "meta_effect": lambda: simulate_meta(8, form="effect", seed=2),
    "circuit": lambda: simulate_circuit(4, 2, 2, 6, sd_throttle=0.1, gamma=0.05, seed=1),
}
GENERATOR_DIGESTS = {
    "contributions": {
        "frame": "a66ab13e6b5c900de5d596de164bc790d600c395b9483d3528126e05f55c0fd7",
        "truth": "ee04c31bb32e4b0dcbe71e32b0be03b65f9ef3abedbd7eb844ba21e28de9260b",
    },
    "contributions_lag0": {
        "frame": "8bccd148332a67203fa1f1a83c247bbfce0eb820ccc6c934a2172fa076d4adf6",
        "truth": "8c331ee1fcd667fca488ae39867ec5d313e65ec4b30354fb7213baf35d84355a",
    },
    "moderation": {
        "frame": "5cf94308dcc9dde7d905a05a40c9216e6e772a1445739210758e8034ecaffc0c",
        "truth": "0f99bbbb73cb80c001eee2308a7d1eb15851b7dbe6163934ccc1f9e7581afee8",
    },
    "raters": {
        "frame": "fd412280ee0ca4b303cce75eb166b464e52397bcc542266cbc483aea4d8522a5",
        "truth": "10b7eb3058fcd1352514e23c30a70d85266eec26677fe0c479bab8c886d82870",
    },
    "raters2": {
        "frame": "e2f88e84d2729ff748bfcec95ba9e71e10330ebd4a02f38b18de2695d44b7939",
        "truth": "0813ff15daa1dfd45381c3eeebd2ed790ebcb660757f3b21449bc9d26cd7f665",
    },
    "form_inverted_u": {
        "frame": "83144678ecb0784b355490b59df6f4feebbe3f7be5483b0e7b3ac6a4c70e4e20",
        "truth": "de60c0118bd58daaa619ea5f349204875039e669074ed16fa0e449171cd753ab",
    },
    "form_linear": {
        "frame": "59ce26eab5a90209190a91817b10b09f858ff10a7b55efa3ef3feeb1f23f72bd",
        "truth": "4baf9118862ad3f935390db830a5b717ef4a122200b4155a78929eb429d82039",
    },
    "form_saturating": {
        "frame": "8e56662bfbe0b14a6ff29234e5271c6e2b2c5abe4674a701e32174eb7dbadb6f",
        "truth": "f1aed47799a3b926bd626e7390eb94a19e33cb958324ed56f6ef3f27e634dc44",
    },
    "meta": {
        "frame": "fe769c0a5a3e9628843f124f339fe598ef21a8f2d006bc9d5d05d5b21a0058ae",
        "truth": "650113760d9c764440e8e48ae3c1a584d8bd778354c6e63e712be55e5ce9e1df",
    },
    "meta_effect": {
        "frame": "93707327970f3ac7053671540c52eea050444f1c4235a6d558781ab9e815d98a",
        "truth": "e7305646ef8647562794817955ea4bc519a335c3009a6da627592295c26e0848",
    },
    "circuit": {
        "frame": "dffa332cf8dc57f22983584abb3135b79db3534d3cf9b1f3a55541fe95301706",
        "truth": "324bc772eb3c8dce049a41337da31f979d07ee2396ec03db2fa313a6023735c6",
    },
}


@pytest.mark.parametrize("name", sorted(GENERATOR_CALLS))
def test_family_generators_give_the_recorded_numbers(name: str) -> None:
    assert _generator_digests(*GENERATOR_CALLS[name]()) == GENERATOR_DIGESTS[name]


def test_simulate_variance_shares_and_determinism() -> None:
    frame, truth = simulate_variance(60, 5, 8, seed=3)
    again, _ = simulate_variance(60, 5, 8, seed=3)
    pd.testing.assert_frame_equal(frame, again)
    assert list(frame.columns) == ["therapist", "client", "session", "alliance"]
    assert len(frame) == 60 * 5 * 8 and frame.client.nunique() == 300
    assert math.isclose(
        truth["share_therapist"] + truth["share_client"] + truth["share_residual"], 1.0
    )
    # method-of-moments check of the session SD within clients (n = 2,100 df): within 5%
    y = frame.alliance.to_numpy().reshape(300, 8)
    within_sd = np.sqrt(((y - y.mean(axis=1, keepdims=True)) ** 2).sum() / (300 * 7))
    assert abs(within_sd / truth["sigma"] - 1) < 0.05


def test_var_process_starts_stationary_and_free() -> None:
    """The shared VAR generator: a stationary start keeps the stationary covariance at every
    moment; a free start draws the first moment standard normal on the data scale."""
    kwargs = dict(
        phi_cc=0.4,
        phi_tt=0.3,
        phi_ct=0.1,
        phi_tc_mean={"processing": 0.3, "exposure": 0.3},
        sd_phi_tc=0.0,
        sd_throttle=0.0,
        gamma=0.0,
        sigma_client=1.0,
        sigma_therapist=0.8,
        innovation_corr=0.3,
        sd_mean=(0.0, 0.0),
    )
    rng = np.random.default_rng(0)
    frame, _ = circuit_data(rng, 2, 50, 40, 6, **kwargs)  # 4,000 series x 6 moments
    x = frame[["client_affect", "therapist_affect"]].to_numpy().reshape(4000, 6, 2)
    phi = phi_matrices(0.4, 0.3, 0.1, np.array([0.3]))
    l_stat = stationary_chol(phi, innovation_cov(1.0, 0.8, 0.3))[0]
    stationary = l_stat @ l_stat.T
    for m in (0, 5):  # SE of a variance about 1 / sqrt(2000): 2.2%; 12% is > 5 SE
        np.testing.assert_allclose(np.cov(x[:, m].T), stationary, rtol=0.12, atol=0.03)
    free, _ = circuit_data(
        np.random.default_rng(1), 2, 50, 40, 6, **{**kwargs, "mean": (3.0, -2.0)}, start="free"
    )
    first = free[free.moment == 1][["client_affect", "therapist_affect"]].to_numpy()
    np.testing.assert_allclose(first.mean(axis=0), 0.0, atol=0.1)
    np.testing.assert_allclose(first.std(axis=0), 1.0, atol=0.05)
    later = free[free.moment == 6][["client_affect", "therapist_affect"]].to_numpy()
    np.testing.assert_allclose(later.mean(axis=0), [3.0, -2.0], atol=0.1)
