"""Typed priors that users override by name.

Priors are :class:`pymc_extras.prior.Prior` objects on the *standardized* scale of each model
(outcome divided by its SD, predictors standardized). Users override them by name; an unknown
name is a :class:`~empathy_models.errors.ConfigError` that suggests the closest valid name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from pymc_extras.prior import Prior

from empathy_models.errors import ConfigError

PriorLike = Prior | Mapping


def as_prior(value: PriorLike, name: str) -> Prior:
    """Accept a ``Prior`` or its dict form ``{"dist": ..., "kwargs": {...}}``."""
    if isinstance(value, Prior):
        return value
    if isinstance(value, Mapping):
        try:
            return Prior.from_dict(dict(value))
        except Exception as exc:  # pymc_extras raises several types here
            raise ConfigError(f"prior {name!r}: cannot read {dict(value)!r}: {exc}") from None
    raise ConfigError(
        f"prior {name!r} must be a pymc_extras Prior or a dict, got {type(value).__name__}"
    )


def resolve_priors(
    defaults: Mapping[str, Prior], overrides: Mapping[str, PriorLike] | None
) -> dict[str, Prior]:
    """Merge user overrides into the defaults; misspelt names are errors."""
    out = dict(defaults)
    for name, value in (overrides or {}).items():
        if name not in defaults:
            close = difflib.get_close_matches(name, list(defaults), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"unknown prior name {name!r}{hint} Valid names: {', '.join(sorted(defaults))}"
            )
        out[name] = as_prior(value, name)
    return out


def priors_to_dict(priors: Mapping[str, Prior]) -> dict:
    """JSON-ready form, stored with results."""
    return {k: v.to_dict() for k, v in priors.items()}


def with_dims(prior: Prior, dims: str | tuple[str, ...]) -> Prior:
    """Copy of ``prior`` with ``dims`` (priors are declared without dims by users)."""
    p = prior.deepcopy()
    p.dims = (dims,) if isinstance(dims, str) else tuple(dims)
    return p
