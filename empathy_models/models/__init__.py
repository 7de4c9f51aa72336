"""Model families: one module each, each building a ``pm.Model`` from validated data.

Every module in this package is imported here so that its spec registers itself in
:data:`MODEL_FAMILIES` (used to reload saved results) and its public names are exported.
"""

import importlib
import pkgutil

from empathy_models.models.base import MODEL_FAMILIES, ModelSpec, register

__all__ = ["MODEL_FAMILIES", "ModelSpec", "register"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name in ("base", "priors") or _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_mod, "__all__", []):
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
