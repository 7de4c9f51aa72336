"""Save/load round trip, atomic writes, files readable by plain ArviZ/xarray."""

from __future__ import annotations

import json
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import nested_sessions

import empathy_models as em
from empathy_models.errors import ResultFileError


@pytest.fixture(scope="module")
def small_result():
    df, _ = nested_sessions(n_therapists=12, clients=3, sessions=4, seed=4)
    df.loc[[0], "alliance"] = np.nan
    with pytest.warns(em.errors.DroppedRowsWarning):
        return em.fit(
            em.VariancePartition("alliance", covariates=("x",)),
            df,
            draws=150,
            tune=150,
            chains=2,
            seed=5,
            warn=False,
        )


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_round_trip_is_exact(small_result, tmp_path, suffix):
    if suffix == ".zarr":
        pytest.importorskip("zarr")
    path = small_result.save(tmp_path / f"fit{suffix}")
    loaded = em.load_result(path)
    pd.testing.assert_frame_equal(loaded.summary(), small_result.summary())
    for name in small_result.posterior.data_vars:
        np.testing.assert_array_equal(
            loaded.posterior[name].values, small_result.posterior[name].values
        )
    assert loaded.data_summary == small_result.data_summary
    assert loaded.data_summary["rows_dropped"] == 1
    assert loaded.config == small_result.config
    assert loaded.spec == small_result.spec
    pd.testing.assert_frame_equal(
        loaded.training_data, small_result.training_data, check_dtype=False
    )


def test_file_opens_without_this_package(small_result, tmp_path):
    path = small_result.save(tmp_path / "fit.nc")
    tree = xr.open_datatree(path, engine="h5netcdf")
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= set(tree.children)
    assert json.loads(tree.attrs["model_config"])["family"] == "variance"
    table = az.summary(tree, var_names=["share_therapist"])
    assert table.shape[0] == 1


def test_interrupted_save_leaves_no_file(small_result, tmp_path, monkeypatch):
    target = tmp_path / "fit.nc"

    def boom(self, path, **kw):
        with open(path, "wb") as fh:
            fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.DataTree, "to_netcdf", boom)
    with pytest.raises(KeyboardInterrupt):
        small_result.save(target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_overwrite_keeps_old_file_until_new_is_complete(small_result, tmp_path, monkeypatch):
    target = small_result.save(tmp_path / "fit.nc")
    before = target.read_bytes()
    monkeypatch.setattr(
        xr.DataTree,
        "to_netcdf",
        lambda self, path, **kw: (_ for _ in ()).throw(OSError("disk full")),
    )
    with pytest.raises(OSError):
        small_result.save(target)
    assert target.read_bytes() == before


def test_tampered_training_data_is_detected(small_result, tmp_path):
    path = small_result.save(tmp_path / "fit.nc")
    tree = xr.open_datatree(path, engine="h5netcdf").load()
    tree["constant_data"]["data__3"] = tree["constant_data"]["data__3"] + 1.0
    tree.to_netcdf(tmp_path / "bad.nc", engine="h5netcdf")
    with pytest.raises(ResultFileError, match="digest"):
        em.load_result(tmp_path / "bad.nc")


def test_not_a_result_file(tmp_path):
    xr.Dataset({"a": ("x", [1, 2])}).to_netcdf(tmp_path / "plain.nc", engine="h5netcdf")
    with pytest.raises(ResultFileError, match="not written by empathy_models"):
        em.load_result(tmp_path / "plain.nc")
    with pytest.raises(ResultFileError, match="not found"):
        em.load_result(tmp_path / "missing.nc")


# -- results written by version 0.1 -------------------------------------------------------------
V01 = Path(__file__).parent / "data" / "results_v0_1"


@pytest.mark.parametrize("family", sorted(p.stem for p in V01.glob("*.nc")))
def test_results_of_version_0_1_still_load(family):
    """Files written by empathy_models 0.1.0 (tests/data/results_v0_1/make_v0_1.py, run at
    commit 1083faa, with options renamed since) load with a version warning: the spec is
    rebuilt with the renamed options, the training data match their digest, and the summary
    and the stored probabilities and facts are readable."""
    with pytest.warns(UserWarning, match="written by empathy_models 0.1.0"):
        result = em.load_result(V01 / f"{family}.nc")
    assert result.family == family and result.version == "0.1.0"
    spec = result.spec  # migrated options
    assert spec.family == family
    table = result.summary()
    assert len(table) > 0 and np.isfinite(table["mean"].to_numpy()).all()
    assert isinstance(result.probabilities, dict) and isinstance(result.info, dict)
    if family == "moderation":
        assert spec.intervention_levels == ("ERP", "MI") and spec.levels == ("therapist", "client")
    if family == "contributions":
        assert spec.centered is True  # saved as noncentered=False
    if family == "form":
        assert spec.centered is False  # saved as parameterization="noncentered"
    if family == "meta":
        assert (spec.missing_outcome, spec.missing_predictor) == ("drop", "drop")
    if family == "circuit":
        assert spec.missing_outcome == "drop"


def test_unknown_option_of_an_old_file_names_its_version():
    from empathy_models.errors import ResultFileError
    from empathy_models.models.base import ModelSpec

    cfg = {"family": "variance", "options": {"measure": "y", "no_such_option": 1}}
    with pytest.raises(ResultFileError, match=r"empathy_models 0\.0\.9.*no_such_option"):
        ModelSpec.from_config(cfg, "0.0.9")
