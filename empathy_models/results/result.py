"""The fitted-model object: an ArviZ ``DataTree`` plus what produced it."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import arviz as az
import pandas as pd
import xarray as xr

from empathy_models import _io
from empathy_models._version import __version__
from empathy_models.errors import ResultFileError

#: Probability of every credible interval the package reports unless told otherwise.
CI_PROB = 0.9
#: Attributes in which version 0.1 stored what ``info`` now holds.
LEGACY_INFO_ATTRS = (
    "likelihood",
    "centering",
    "form_info",
    "meta_form",
    "rope",
    "moderator_levels",
    "predictor_correlation",
    "throttle_contrast",
)


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a data frame's values and column names (order-sensitive)."""
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in frame.columns]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()


class Result:
    """A fitted model.

    Attributes
    ----------
    idata
        ArviZ ``DataTree`` with ``posterior``, ``sample_stats``, ``observed_data``,
        ``constant_data`` (the validated training rows) and, where computed,
        ``log_likelihood``, ``prior_predictive`` and ``posterior_predictive``. Its root
        attributes carry the package version, the model configuration, the column mapping,
        the data summary (rows used and dropped), sampler settings, timings and diagnostics,
        each as a JSON string, so the file is self-describing in plain ArviZ.
    """

    def __init__(self, idata: xr.DataTree):
        self.idata = idata

    # -- metadata -----------------------------------------------------------------------
    def _attr(self, key: str, default=None):
        return _io.loads(self.idata.attrs.get(key), default)

    @property
    def family(self) -> str:
        return self._attr("model_config")["family"]

    @property
    def config(self) -> dict:
        return self._attr("model_config")

    @property
    def roles(self) -> dict:
        return self._attr("column_mapping")

    @property
    def data_summary(self) -> dict:
        return self._attr("data_summary")

    @property
    def sampler(self) -> dict:
        return self._attr("sampler_settings")

    @property
    def timing(self) -> dict:
        return self._attr("timing")

    @property
    def diagnostics(self) -> dict:
        return self._attr("diagnostics")

    @property
    def reported(self) -> list[str]:
        return self._attr("reported")

    @property
    def probabilities(self) -> dict[str, float]:
        """Posterior probabilities computed after sampling (e.g. ``P(share_therapist > 0.05)``)."""
        return self._attr("probabilities", {})

    @property
    def info(self) -> dict:
        """Family-specific facts about the fit (likelihood form, parameterization, ...)."""
        out = dict(self._attr("info", {}))
        for legacy in LEGACY_INFO_ATTRS:  # results written by version 0.1
            if legacy in self.idata.attrs and legacy not in out:
                raw = self.idata.attrs[legacy]
                try:
                    out[legacy] = _io.loads(raw)
                except ValueError:  # plain strings, e.g. likelihood="marginalized"
                    out[legacy] = raw
        return out

    @property
    def data_source(self) -> str:
        """The file the data were read from, when ``fit`` was given a path (else ``""``)."""
        return str(self.idata.attrs.get("data_source", ""))

    @property
    def version(self) -> str:
        return self.idata.attrs.get("empathy_models_version", "")

    @property
    def spec(self):
        from empathy_models.models.base import ModelSpec

        return ModelSpec.from_config(self.config, self.version)

    @property
    def posterior(self) -> xr.Dataset:
        return self.idata["posterior"].to_dataset()

    @property
    def training_data(self) -> pd.DataFrame:
        """The validated rows the model was fitted to (user's column names)."""
        ds = self.idata["constant_data"].to_dataset()
        cols = self._attr("training_columns")
        df = pd.DataFrame(
            {c: ds[f"data__{i}"].values for i, c in enumerate(cols)}, index=ds["row"].values
        )
        return df

    # -- summaries -----------------------------------------------------------------------
    def summary(self, var_names: list[str] | None = None, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """Posterior summary of the reported quantities.

        Columns: ``mean``, ``sd``, the equal-tailed interval bounds for ``ci_prob``,
        ``ess_bulk``, ``ess_tail``, ``r_hat``, ``mcse_mean``, ``mcse_sd``.
        """
        names = var_names or self.reported
        table = az.summary(
            self.idata, var_names=names, ci_prob=ci_prob, ci_kind="eti", round_to="none"
        )
        table.index.name = "parameter"
        return table.astype(float)

    def prob(self, name: str, threshold: float = 0.0, direction: str = ">") -> float | xr.DataArray:
        """Posterior probability that ``name`` is above (``">"``) or below (``"<"``) ``threshold``."""
        da = self.posterior[name]
        hit = da > threshold if direction == ">" else da < threshold
        out = hit.mean(("chain", "draw"))
        return float(out) if out.ndim == 0 else out

    def __repr__(self) -> str:
        ds = self.data_summary
        return (
            f"<Result {self.family}: {ds.get('rows_used')} rows used, {ds.get('rows_dropped')} dropped; "
            f"{self.sampler.get('sampler')} {self.sampler.get('chains')}x{self.sampler.get('draws')} draws>"
        )

    # -- IO ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write to netCDF (``.nc``) or zarr (``.zarr``) atomically.

        The file is written under a temporary name in the same folder and renamed into
        place, so an interrupted save never leaves a corrupt file at ``path``.
        """
        path = Path(path)
        if path.suffix == ".zarr":
            return _io.atomic_write(path, lambda tmp: self.idata.to_zarr(tmp))
        return _io.atomic_write(path, lambda tmp: self.idata.to_netcdf(tmp, engine="h5netcdf"))


def load_result(path: str | Path, *, check: bool = True) -> Result:
    """Read a result written by :meth:`Result.save`.

    Checks that it was written by this package, that the stored training data still
    match their digest, and warns when the package version differs.
    """
    path = Path(path)
    if not path.exists():
        raise ResultFileError(f"result file not found: {path}")
    try:
        if path.suffix == ".zarr":
            tree = xr.open_datatree(path, engine="zarr")
        else:
            tree = xr.open_datatree(path, engine="h5netcdf")
        tree = tree.load()
        tree.close()
    except Exception as exc:
        raise ResultFileError(f"cannot read {path}: {exc}") from None
    if "model_config" not in tree.attrs:
        raise ResultFileError(
            f"{path} was not written by empathy_models (no model_config attribute)"
        )
    result = Result(tree)
    if check:
        saved = tree.attrs.get("data_digest")
        if saved and frame_digest(result.training_data) != saved:
            raise ResultFileError(f"{path}: the stored training data do not match their digest")
        if result.version != __version__:
            warnings.warn(
                f"{path} was written by empathy_models {result.version}; this is {__version__}",
                UserWarning,
                stacklevel=2,
            )
    return result


def training_data_group(frame: pd.DataFrame) -> tuple[xr.Dataset, list[str]]:
    """Encode a frame as a Dataset with dim ``row`` (column names kept in an attribute,
    since users' names may not be valid netCDF names)."""
    data = {}
    for i, c in enumerate(frame.columns):
        v = frame[c].to_numpy()
        if v.dtype == object or pd.api.types.is_string_dtype(frame[c]):
            v = frame[c].astype(str).to_numpy().astype("U")
        data[f"data__{i}"] = ("row", v)
    idx = frame.index.to_numpy()
    if idx.dtype == object:
        idx = idx.astype(str)
    return xr.Dataset(data, coords={"row": idx}), [str(c) for c in frame.columns]


__all__ = ["CI_PROB", "Result", "frame_digest", "load_result"]
