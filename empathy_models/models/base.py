"""What every model family provides, and the registry used to reload saved results.

A model *spec* is a small frozen dataclass of options. It validates data
(:meth:`ModelSpec.prepare`), builds a :class:`Built` model (:meth:`ModelSpec.build`, never
samples) and, after sampling, adds derived quantities (:meth:`ModelSpec.postprocess`),
pointwise log-likelihoods (:meth:`ModelSpec.log_likelihood`), replicated data
(:meth:`ModelSpec.posterior_predictive`) and the observed data
(:meth:`ModelSpec.observed_data`). Inference lives in :func:`empathy_models.fit`.

Every family puts its data on the scale its priors are declared on through one hook,
:meth:`ModelSpec.location_scale`; ``standardize=False`` (an option of every spec) makes it
the identity, so the priors then act on the data's own units (simulation-based calibration
uses this).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pymc as pm
import pytensor
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models import _io
from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData
from empathy_models.errors import ConfigError, ResultFileError
from empathy_models.models.priors import priors_to_dict, resolve_priors

MODEL_FAMILIES: dict[str, type[ModelSpec]] = {}
LOG2PI = float(np.log(2 * np.pi))


def register(cls: type[ModelSpec]) -> type[ModelSpec]:
    """Class decorator adding a family to :data:`MODEL_FAMILIES`."""
    MODEL_FAMILIES[cls.family] = cls
    return cls


@dataclass
class Built:
    """A built model and everything the later stages need from the build.

    Attributes
    ----------
    model
        The ``pm.Model`` (never sampled by the spec).
    design
        Family-specific numpy arrays computed once from the data (codes, design matrices,
        sufficient statistics, ...), read again by post-processing and predictive checks.
    scales
        Locations and scales used to standardize the data (identity when
        ``standardize=False``).
    loglik
        Pointwise log-likelihood graph (one entry per unit), as a function of the model's
        free random variables, on the standardized scale.
    loglik_name, loglik_dim, loglik_coords
        Name of the stored log-likelihood variable, its unit dimension and unit labels.
    loglik_offset
        Added to each unit's log-likelihood to put it on the outcome's original scale (the
        Jacobian of the standardization, ``-n_unit * log(sd)``).
    info
        JSON-ready facts about the fit (likelihood form, parameterization, ...) stored in the
        result's ``info`` attribute; post-processing may add to it.
    probabilities
        Posterior probabilities filled by post-processing, stored in the result's
        ``probabilities`` attribute.
    """

    model: pm.Model
    design: dict = field(default_factory=dict)
    scales: dict = field(default_factory=dict)
    loglik: Any = None
    loglik_name: str = "y"
    loglik_dim: str = "obs"
    loglik_coords: Any = None
    loglik_offset: Any = 0.0
    info: dict = field(default_factory=dict)
    probabilities: dict = field(default_factory=dict)


def draws_function(model: pm.Model, outputs):
    """Compile ``outputs`` as a function of the model's free random variables.

    Returns ``(fn, names)``: call ``fn(*[value of name for name in names])`` for one draw.
    """
    inputs = list(model.free_RVs)
    fn = pytensor.function(inputs, outputs, on_unused_input="ignore")
    return fn, [rv.name for rv in inputs]


def evaluate_draws(model: pm.Model, graph, posterior: xr.Dataset) -> np.ndarray:
    """Evaluate ``graph`` at every posterior draw: array ``(chain, draw, *graph.shape)``."""
    fn, names = draws_function(model, graph)
    arrays = [np.asarray(posterior[n].values) for n in names]
    c, d = posterior.sizes["chain"], posterior.sizes["draw"]
    first = np.asarray(fn(*[a[0, 0] for a in arrays]))
    out = np.empty((c, d, *first.shape))
    for i in range(c):
        for k in range(d):
            out[i, k] = fn(*[a[i, k] for a in arrays])
    return out


def pointwise_log_likelihood(built: Built, posterior: xr.Dataset) -> xr.Dataset:
    """Pointwise log-likelihood of every draw, per unit, on the outcome's original scale.

    The one helper behind every family's :meth:`ModelSpec.log_likelihood`.
    """
    ll = evaluate_draws(built.model, built.loglik, posterior)
    ll = ll + np.asarray(built.loglik_offset, dtype=float)
    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values}
    labels = built.loglik_coords
    coords[built.loglik_dim] = np.arange(ll.shape[-1]) if labels is None else np.asarray(labels)
    return xr.Dataset(
        {built.loglik_name: (("chain", "draw", built.loglik_dim), ll)},
        coords=coords,
    )


def normal_loglik(y, mu, sigma):
    """Pointwise Gaussian log-density (graph)."""
    return -0.5 * LOG2PI - pm.math.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2


def jacobian_offset(counts, sd) -> np.ndarray:
    """``-n * log(sd)`` per unit: the Jacobian from a standardized outcome back to its units."""
    return -np.asarray(counts, dtype=float) * float(np.log(sd))


@dataclass(frozen=True)
class ModelSpec:
    """Interface of a model family (subclasses are frozen dataclasses).

    Parameters
    ----------
    standardize
        Put the data on the standardized scale the default priors are declared on (default).
        ``False`` fits the data in their own units; the priors then act on those units.
    priors
        Overrides of the default priors by name (see the family's ``default_priors``).
    """

    family: ClassVar[str] = ""
    #: Options renamed since earlier versions: ``{old: new}`` or ``{old: callable(value) ->
    #: {new: value}}``; applied when a saved result is loaded.
    renamed_options: ClassVar[Mapping[str, Any]] = {}

    standardize: bool = field(default=True, kw_only=True)
    priors: Mapping | None = field(default=None, compare=False, kw_only=True)

    # -- priors -----------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Documented default priors, by name."""
        raise NotImplementedError

    def resolved_priors(self) -> dict[str, Prior]:
        return resolve_priors(self.default_priors(), self.priors)

    # -- scale ------------------------------------------------------------------------
    def location_scale(self, values, *, center: bool = True, axis: int | None = 0):
        """Location and scale that standardize ``values`` (the standardize hook).

        Mean and SD (``ddof=0``) along ``axis``; a zero SD is replaced by 1. With
        ``center=False`` the location is 0. With ``standardize=False`` on the spec, the
        identity (location 0, scale 1) with the same shape.
        """
        v = np.asarray(values, dtype=float)
        if v.ndim == 1 or axis is None:
            if not self.standardize or v.size == 0:
                return 0.0, 1.0
            loc, sd = float(np.nanmean(v)), float(np.nanstd(v))
            return (loc if center else 0.0), (sd if sd > 0 else 1.0)
        k = v.shape[1 - axis]
        if not self.standardize or v.shape[axis] == 0:
            return np.zeros(k), np.ones(k)
        loc, sd = np.nanmean(v, axis=axis), np.nanstd(v, axis=axis)
        return (loc if center else np.zeros(k)), np.where(sd > 0, sd, 1.0)

    # -- stages -----------------------------------------------------------------------
    def prepare(self, data: Any, roles: Roles | None = None) -> PreparedData:
        """Validate ``data`` for this model."""
        raise NotImplementedError

    def build(self, data: PreparedData) -> Built:
        """Build the PyMC model; never runs inference."""
        raise NotImplementedError

    def reported(self, data: PreparedData) -> list[str]:
        """Names of the reported quantities (summary table, diagnostics)."""
        raise NotImplementedError

    def sampled(self, data: PreparedData) -> list[str]:
        """Reported quantities that are functions of the sampled parameters, used for
        convergence checks (default: all reported)."""
        return self.reported(data)

    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        """Add derived quantities to the posterior and fill ``built.probabilities`` and
        ``built.info`` (default: nothing)."""
        return idata

    def log_likelihood(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.Dataset:
        """Pointwise log-likelihood on the outcome's original scale, per unit the family
        defines (see :class:`Built`)."""
        return pointwise_log_likelihood(built, idata["posterior"].to_dataset())

    def posterior_predictive(
        self, idata: xr.DataTree, data: PreparedData, built: Built, *, seed: int = 0
    ) -> xr.Dataset | None:
        """Replicated data from the posterior (default: none)."""
        return None

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        """The observed data the likelihood scores (default: none)."""
        return xr.Dataset()

    # -- configuration ----------------------------------------------------------------
    def config(self) -> dict:
        """JSON-ready configuration (stored with results)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "priors":
                v = priors_to_dict(self.resolved_priors())
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return {"family": self.family, "options": out}

    @classmethod
    def from_config(cls, cfg: Mapping, version: str | None = None) -> ModelSpec:
        """Rebuild a spec from :meth:`config` output (options renamed since the version that
        wrote it are migrated)."""
        family = cfg["family"]
        if family not in MODEL_FAMILIES:
            raise ConfigError(f"unknown model family {family!r}")
        klass = MODEL_FAMILIES[family]
        opts = klass.migrate_options(dict(cfg["options"]), version)
        names = {f.name: f for f in dataclasses.fields(klass)}
        kwargs = {}
        for k, v in opts.items():
            if k not in names:
                where = f" (written by empathy_models {version})" if version else ""
                raise ResultFileError(
                    f"saved configuration{where} has option {k!r}, unknown to the {family!r} "
                    "family of this version; refit the model with this version"
                )
            if isinstance(v, list):
                v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
            kwargs[k] = v
        return klass(**kwargs)

    @classmethod
    def migrate_options(cls, opts: dict, version: str | None = None) -> dict:
        """Apply :attr:`renamed_options` to a saved configuration's options."""
        out = dict(opts)
        for old, new in cls.renamed_options.items():
            if old not in out:
                continue
            value = out.pop(old)
            if callable(new):
                out.update(new(value))
            else:
                out[new] = value
        return out

    def config_json(self) -> str:
        return _io.dumps(self.config(), sort_keys=True)


def check_choice(name: str, value: Any, choices: tuple) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
        )
