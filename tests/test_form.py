"""Functional form (model 3): three truths, LOO comparison, optimum evidence, CLI, example.

Thresholds (stated in the issue):

* inverted-U truth: quadratic preferred by LOO with |elpd difference| > 2 SE, and the 90%
  interval of the vertex covers the true vertex (4.3); the optimum is reported.
* linear truth: no decisive preference (|elpd difference| < 4 or < 2 SE, the package's
  `decisive` rule after Sivula et al. 2022) and p_vertex_in_range < 0.1.
* saturating monotone truth: no optimum reported, because the two-lines check fails
  (P(opposite signs in the optimum's direction) < 0.5), although the naive quadratic
  criteria (curvature, vertex in range) point to an optimum.

Data: :func:`simulate_form_data` (20 therapists x 5 clients x 8 sessions, seeded).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import empathy_models as em
from empathy_models.data.simulate import simulate_form_data
from empathy_models.errors import ConfigError, MissingColumnError
from empathy_models.models.form import ClientOutcomeError, FunctionalForm
from empathy_models.results.compare import compare
from empathy_models.results.form import optimum_table
from empathy_models.results.result import Result

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {"draws": 1000, "tune": 400, "chains": 2}  # LOO needs draws: MC error


def _fit(df, form, seed=1, **opts):
    spec = FunctionalForm(outcome="outcome", predictor="empathy", form=form, **opts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return em.fit(spec, df, seed=seed, **SETTINGS)


def _interval(res, name, lo=0.05, hi=0.95):
    v = res.posterior[name].values.ravel()
    return float(np.quantile(v, lo)), float(np.quantile(v, hi))


@pytest.fixture(scope="module")
def inverted_u():
    df, truth = simulate_form_data("inverted_u", seed=1)
    return df, truth, {f: _fit(df, f) for f in ("linear", "quadratic")}


@pytest.fixture(scope="module")
def linear():
    df, truth = simulate_form_data("linear", seed=1)
    return df, truth, {f: _fit(df, f) for f in ("linear", "quadratic")}


@pytest.fixture(scope="module")
def saturating():
    df, truth = simulate_form_data("saturating", seed=2)
    return df, truth, _fit(df, "quadratic")


# -- the three truths ----------------------------------------------------------------------
def test_inverted_u_quadratic_preferred_and_vertex_covered(inverted_u):
    _, truth, fits = inverted_u
    table = compare(fits)
    print(table)
    assert table.index[0] == "quadratic"
    diff = table.loc["linear"]
    assert abs(diff["elpd_diff"]) > 2 * diff["dse"]
    assert table.loc["quadratic", "weight"] > 0.9
    lo, hi = _interval(fits["quadratic"], "vertex")
    assert lo <= truth["vertex"] <= hi, (lo, hi)
    lo, hi = _interval(fits["quadratic"], "beta_quadratic")
    assert lo <= 1.2 <= hi
    opt = optimum_table(fits["quadratic"]).iloc[0]
    print(opt)
    assert opt["p_quadratic_positive"] > 0.99 and opt["p_quadratic_negative"] < 0.01
    assert opt["p_curvature_optimum"] > 0.99
    assert opt["p_vertex_in_range"] > 0.95
    assert opt["slope_below_vertex"] < 0 < opt["slope_above_vertex"]
    assert opt["p_two_lines_optimum"] > 0.95
    assert bool(opt["optimum_reported"])
    assert fits["quadratic"].diagnostics["max_rhat"] < 1.05


def test_linear_truth_no_decisive_preference(linear):
    _, _, fits = linear
    table = compare(fits)
    print(table)
    other = table.iloc[1]
    assert abs(other["elpd_diff"]) < 4 or abs(other["elpd_diff"]) < 2 * other["dse"]
    assert not table["decisive"].any()
    lo, hi = _interval(fits["linear"], "beta_linear")
    assert lo <= -1.5 <= hi
    opt = optimum_table(fits["quadratic"]).iloc[0]
    print(opt)
    assert opt["p_vertex_in_range"] < 0.1
    assert not bool(opt["optimum_reported"])


def test_saturating_truth_no_optimum(saturating):
    _, truth, fit = saturating
    assert truth["vertex"] is None
    opt = optimum_table(fit).iloc[0]
    print(opt)
    # the naive quadratic criteria are fooled ...
    assert opt["p_curvature_optimum"] > 0.95
    assert opt["p_vertex_in_range"] > 0.5
    # ... the two-lines check is not: the slope above the vertex is not positive
    assert opt["p_two_lines_optimum"] < 0.5
    assert not bool(opt["optimum_reported"])


# -- comparison ----------------------------------------------------------------------------
def test_compare_refuses_different_units_and_data(inverted_u, linear):
    _, _, fits = inverted_u
    q = fits["quadratic"]
    tree = q.idata.copy()
    ll = tree["log_likelihood"].to_dataset()
    per_group = ll.isel(obs=slice(0, 20)).rename({"obs": "therapist"})
    tree["log_likelihood"] = xr.DataTree(per_group)
    with pytest.raises(ConfigError, match="different units"):
        compare({"per_row": fits["linear"], "per_therapist": Result(tree)})
    with pytest.raises(ConfigError, match="different"):
        compare({"a": fits["linear"], "b": linear[2]["linear"]})
    with pytest.raises(ConfigError, match="at least two"):
        compare([q])


def test_compare_list_labels_and_columns(inverted_u):
    table = compare(list(inverted_u[2].values()))
    assert set(table.index) == {"form_linear_0", "form_quadratic_1"}
    for col in ("elpd", "se", "elpd_diff", "dse", "weight", "n_pareto_k_bad", "unit"):
        assert col in table.columns
    assert table["unit"].iloc[0] == "obs"
    assert np.isclose(table["weight"].sum(), 1.0)


def test_save_load_and_cli_compare(inverted_u, tmp_path):
    from empathy_models.cli.main import app

    fits = inverted_u[2]
    paths = [fits[f].save(tmp_path / f"{f}.nc") for f in ("linear", "quadratic")]
    loaded = em.load_result(paths[1])
    assert np.allclose(loaded.posterior["vertex"], fits["quadratic"].posterior["vertex"])
    assert loaded.info == fits["quadratic"].info
    csv = tmp_path / "cmp.csv"
    out = CliRunner().invoke(app, ["compare", *map(str, paths), "--csv", str(csv)])
    assert out.exit_code == 0, out.output
    assert "quadratic" in out.output and csv.exists()


def test_plot(inverted_u, tmp_path):
    from empathy_models.results.form import plot_form

    plot_form(inverted_u[2], tmp_path / "form.png")
    assert (tmp_path / "form.png").stat().st_size > 1000


# -- CLI fit, building, bad input ------------------------------------------------------------
def test_cli_fit_form(tmp_path):
    from empathy_models.cli.main import app

    df, _ = simulate_form_data("inverted_u", n_therapists=10, clients_per_therapist=3, seed=3)
    data = tmp_path / "d.csv"
    df.rename(columns={"empathy": "emp", "therapist": "tid"}).to_csv(data, index=False)
    out_nc = tmp_path / "q.nc"
    args = ["fit", "form", str(data), "--outcome", "outcome", "--predictor", "emp"]
    args += ["--therapist", "tid", "--form", "quadratic", "--draws", "100", "--tune", "150"]
    args += ["--chains", "2", "--out", str(out_nc), "--summary-csv", str(tmp_path / "s.csv")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "vertex" in res.output and out_nc.exists()
    r = em.load_result(out_nc)
    assert r.family == "form" and "log_likelihood" in r.idata.children


def test_build_never_samples_and_names():
    df, _ = simulate_form_data("linear", n_therapists=8, clients_per_therapist=3, seed=0)
    spec = FunctionalForm("outcome", "empathy", form="quadratic", covariates=("session",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = spec.prepare(df)
    model = spec.build(data).model
    names = set(model.named_vars)
    for n in ("beta_linear", "beta_quadratic", "vertex", "curve", "session", "sigma"):
        assert n in names
    assert model.coords["obs"] is not None and len(model.coords["grid"]) == 60
    smooth = FunctionalForm("outcome", "empathy", form="smooth", n_basis=10).build(data).model
    assert "basis_weight_std" in smooth.named_vars


def test_client_level_model_builds_one_row_per_client():
    df, _ = simulate_form_data("linear", n_therapists=8, clients_per_therapist=3, seed=0)
    df["post"] = df.groupby("client")["outcome"].transform("mean")
    spec = FunctionalForm("post", "empathy", form="quadratic", outcome_level="client")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = spec.prepare(df)
    model = spec.build(data).model
    assert len(model.coords["client"]) == 24
    assert spec.group_levels(data) == ["therapist"]
    with pytest.raises(ClientOutcomeError, match="'outcome'"):
        FunctionalForm("outcome", "empathy", outcome_level="client").build(data_for(df))


def data_for(df):
    spec = FunctionalForm("outcome", "empathy", outcome_level="client")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spec.prepare(df)


def test_bad_inputs():
    df, _ = simulate_form_data("linear", n_therapists=8, clients_per_therapist=3, seed=0)
    with pytest.raises(MissingColumnError, match="'empathy_x'"):
        FunctionalForm("outcome", "empathy_x").prepare(df)
    with pytest.raises(ConfigError, match="form"):
        FunctionalForm("outcome", "empathy", form="cubic")
    with pytest.raises(ConfigError, match="beta_quadratic"):
        FunctionalForm("outcome", "empathy", priors={"beta_quadratik": {"dist": "Normal"}})
    with pytest.raises(ConfigError, match="optimum"):
        FunctionalForm("outcome", "empathy", optimum="best")
    with pytest.raises(ConfigError, match="within"):
        FunctionalForm("outcome", "empathy", outcome_level="client", predictor_part="within")


# -- slow ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_smooth_form_inverted_u(inverted_u):
    df, truth, fits = inverted_u
    sm = _fit(df, "smooth")
    lo, hi = _interval(sm, "vertex")
    assert lo - 0.1 <= truth["vertex"] <= hi + 0.1
    table = compare({"linear": fits["linear"], "smooth": sm})
    assert table.index[0] == "smooth"


@pytest.mark.slow
def test_within_part_and_client_level_fit():
    df, _ = simulate_form_data("inverted_u", seed=4)
    r = _fit(df, "quadratic", predictor_part="within")
    assert f"{'empathy'}_client_mean" in r.reported
    df["post"] = df.groupby("client")["outcome"].transform("mean")
    spec = FunctionalForm("post", "empathy", form="quadratic", outcome_level="client")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = em.fit(spec, df, seed=1, **SETTINGS)
    assert rc.idata["log_likelihood"]["post"].dims[-1] == "client"


@pytest.mark.slow
def test_example_fast(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "functional_form.py"),
            "--fast",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "preferred by LOO: quadratic" in out.stdout
    for name in ("comparison.csv", "optimum.csv", "functional_form.png"):
        assert (tmp_path / name).exists()


def test_compare_refuses_mixed_loglik_scales(inverted_u):
    fits = inverted_u[2]
    tree = fits["linear"].idata.copy()
    tree.attrs["log_likelihood_scale"] = "standardized"
    with pytest.raises(ConfigError, match="scales"):
        compare({"a": Result(tree), "b": fits["quadratic"]})
