"""What every model family provides, and the registry used to reload saved results.

A model *spec* is a small frozen dataclass of options. It validates data
(:meth:`ModelSpec.prepare`), builds a ``pm.Model`` (:meth:`ModelSpec.build`, never samples)
and, after sampling, adds derived quantities (:meth:`ModelSpec.postprocess`). Inference
lives in :func:`empathy_models.fit`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import pymc as pm
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData
from empathy_models.errors import ConfigError
from empathy_models.models.priors import priors_to_dict, resolve_priors

MODEL_FAMILIES: dict[str, type[ModelSpec]] = {}


def register(cls: type[ModelSpec]) -> type[ModelSpec]:
    """Class decorator adding a family to :data:`MODEL_FAMILIES`."""
    MODEL_FAMILIES[cls.family] = cls
    return cls


class ModelSpec:
    """Interface of a model family (subclasses are frozen dataclasses)."""

    family: ClassVar[str] = ""

    # -- priors -----------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Documented default priors, by name."""
        raise NotImplementedError

    def resolved_priors(self) -> dict[str, Prior]:
        return resolve_priors(self.default_priors(), getattr(self, "priors", None))

    # -- stages -----------------------------------------------------------------------
    def prepare(self, data: Any, roles: Roles | None = None) -> PreparedData:
        """Validate ``data`` for this model."""
        raise NotImplementedError

    def build(self, data: PreparedData) -> pm.Model:
        """Build the PyMC model; never runs inference."""
        raise NotImplementedError

    def reported(self, data: PreparedData) -> list[str]:
        """Names of the reported quantities (summary table, diagnostics)."""
        raise NotImplementedError

    def postprocess(self, idata: xr.DataTree, data: PreparedData, model: pm.Model) -> xr.DataTree:
        """Add derived quantities to the posterior (default: nothing)."""
        return idata

    def sampled(self, data: PreparedData) -> list[str]:
        """Reported quantities that are functions of the sampled parameters, used for
        convergence checks (default: all reported)."""
        return self.reported(data)

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
    def from_config(cls, cfg: Mapping) -> ModelSpec:
        """Rebuild a spec from :meth:`config` output."""
        family = cfg["family"]
        if family not in MODEL_FAMILIES:
            raise ConfigError(f"unknown model family {family!r}")
        klass = MODEL_FAMILIES[family]
        opts = dict(cfg["options"])
        names = {f.name: f for f in dataclasses.fields(klass)}
        kwargs = {}
        for k, v in opts.items():
            if k not in names:
                raise ConfigError(f"saved configuration has unknown option {k!r} for {family!r}")
            if isinstance(v, list):
                v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
            kwargs[k] = v
        return klass(**kwargs)

    def config_json(self) -> str:
        return json.dumps(self.config(), sort_keys=True, default=_json_default)


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
