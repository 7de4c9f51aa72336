"""Data layer: role mapping, validation, reading files, simulation.

Imports lazily (PEP 562): ``empathy_models.data.roles`` and ``empathy_models.data.io`` load
without pandera.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "PreparedData": "empathy_models.data.validation",
    "Roles": "empathy_models.data.roles",
    "prepare": "empathy_models.data.validation",
    "read_table": "empathy_models.data.io",
}

__all__ = ["PreparedData", "Roles", "prepare", "read_table"]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
