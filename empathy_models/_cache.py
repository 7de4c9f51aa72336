"""Where compiled models are cached on disk, across processes.

A model compiled for nutpie's numba backend is cached by PyTensor's numba backend, which
writes the compiled log-density (with its gradient) and the expansion function to disk,
keyed by the graph with its constants: a second process fitting the same model to the same
data (or, where the data enter as ``pm.Data``, to other data of the same design) loads them
instead of compiling. nutpie's own numba wrappers are asked to cache too (``cache=True``);
nutpie 0.16 builds them as closures that numba cannot cache, so they are still compiled in
each process. Everything is written under :func:`cache_dir`:

* ``$EMPATHY_MODELS_CACHE_DIR`` when set, else the platform's user cache folder
  (``platformdirs.user_cache_dir("empathy_models")``, e.g. ``~/.cache/empathy_models`` on
  Linux);
* numba's files in ``<cache>/numba`` (``NUMBA_CACHE_DIR``), PyTensor's in
  ``<cache>/pytensor`` (``PYTENSOR_FLAGS=base_compiledir=...``) and JAX's persistent
  compilation cache (nutpie's JAX backend, numpyro, blackjax) in ``<cache>/jax``
  (``JAX_COMPILATION_CACHE_DIR``), unless the user set those variables already.

The folders are set when ``empathy_models`` is imported, before numba and PyTensor are
(they read them at import). Delete the folder to clear the cache (``empathy-models cache
--clear`` does it): nothing in it is needed, it only saves compilation time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ENV_VAR = "EMPATHY_MODELS_CACHE_DIR"


def cache_dir() -> Path:
    """The package's cache folder (see the module docstring)."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("empathy_models"))


def configure() -> Path:
    """Point numba and PyTensor at the package's cache folder (unless the user set them);
    returns the folder. Has no effect on libraries already imported."""
    root = cache_dir()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(root / "numba"))
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(root / "jax"))
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "base_compiledir" not in flags and "compiledir" not in flags:
        extra = f"base_compiledir={root / 'pytensor'}"
        os.environ["PYTENSOR_FLAGS"] = f"{flags},{extra}" if flags else extra
    return root


def clear() -> Path:
    """Delete the cache folder; returns its path."""
    root = cache_dir()
    shutil.rmtree(root, ignore_errors=True)
    return root
