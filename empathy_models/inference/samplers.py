"""One ``sampler=`` vocabulary over nutpie, numpyro, blackjax and PyMC's own NUTS."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from empathy_models.errors import ConfigError, SamplerUnavailableError

#: Samplers and the packages (and pip extra) each needs.
SAMPLERS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "nutpie": (("nutpie",), None),
    "numpyro": (("jax", "numpyro"), "jax"),
    "blackjax": (("jax", "blackjax"), "jax"),
    "pymc": ((), None),
}
NUTPIE_BACKENDS = ("numba", "jax")

#: Default sampler: fastest measured on CPU in benchmarks/results (see README, "Samplers").
DEFAULT_SAMPLER = "nutpie"
DEFAULT_BACKEND = "numba"


@dataclass(frozen=True)
class SamplerSettings:
    """Settings of one MCMC run.

    Parameters
    ----------
    sampler : {"nutpie", "numpyro", "blackjax", "pymc"}
        ``"nutpie"`` (default), ``"numpyro"``, ``"blackjax"`` or ``"pymc"``.
    backend : {"numba", "jax"}
        nutpie's compiler: ``"numba"`` (default) or ``"jax"``; ignored by other samplers.
    draws
        Kept draws per chain.
    tune
        Warm-up (tuning) draws per chain.
    chains
        Number of chains.
    seed
        Random seed: the same seed gives the same draws.
    target_accept
        NUTS target acceptance rate; raise (e.g. 0.95) after divergences.
    progressbar
        Show a progress bar; ``None`` (default) shows one only in an interactive terminal
        outside CI.
    cores
        Chains run in parallel on this many cores (default: all, at most ``chains``).
    """

    sampler: str = DEFAULT_SAMPLER
    backend: str = DEFAULT_BACKEND
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 0
    target_accept: float = 0.8
    progressbar: bool | None = None
    cores: int | None = None

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ConfigError(
                f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}"
            )
        if self.backend not in NUTPIE_BACKENDS:
            raise ConfigError(f"unknown nutpie backend {self.backend!r}; choose 'numba' or 'jax'")
        for name in ("draws", "tune", "chains"):
            if int(getattr(self, name)) < (1 if name != "tune" else 0):
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.target_accept < 1:
            raise ConfigError(f"target_accept must be in (0, 1), got {self.target_accept}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> SamplerSettings:
        """A copy with ``changes`` (validated)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_kwargs(cls, settings: SamplerSettings | None = None, **kwargs) -> SamplerSettings:
        """``settings`` (default: the defaults) updated with keyword overrides; an unknown
        keyword is a :class:`ConfigError` naming the valid ones."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise ConfigError(
                f"unknown sampler setting(s) {unknown}; valid: {', '.join(sorted(names))}"
            )
        base = settings if settings is not None else cls()
        return dataclasses.replace(base, **kwargs) if kwargs else base


def study_preset(**overrides) -> SamplerSettings:
    """Sampler settings for the many small fits of a simulation study: 2 chains x 250 draws
    after 300 tuning steps, one core per fit (workers run in parallel), no progress bars."""
    base = {
        "draws": 250,
        "tune": 300,
        "chains": 2,
        "cores": 1,
        "progressbar": False,
    }
    base.update(overrides)
    return SamplerSettings(**base)


def show_progress(progressbar: bool | None) -> bool:
    """Progress bars in an interactive terminal, never in CI or a pipe."""
    if progressbar is not None:
        return progressbar
    return sys.stderr.isatty() and not os.environ.get("CI")


def require(sampler: str, backend: str = DEFAULT_BACKEND) -> None:
    """Raise :class:`SamplerUnavailableError` naming the extra to install."""
    pkgs, extra = SAMPLERS[sampler]
    if sampler == "nutpie" and backend == "jax":
        pkgs, extra = ("nutpie", "jax"), "jax"
    missing = [p for p in pkgs if importlib.util.find_spec(p) is None]
    if missing:
        hint = (
            f"pip install 'empathy_models[{extra}]'"
            if extra
            else f"pip install {' '.join(missing)}"
        )
        raise SamplerUnavailableError(
            f"sampler {sampler!r} needs {', '.join(missing)}, which is not installed: {hint}"
        )


#: Compiled models kept in this process, by structure key (most recently used last).
_COMPILED: OrderedDict[str, object] = OrderedDict()
COMPILED_CACHE_SIZE = 8


def structure_key(model: pm.Model, settings: SamplerSettings) -> str:
    """A key that is equal for two models exactly when one compiled sampler serves both.

    Hashes every operation of the log-density and deterministic graphs in topological order,
    the value of every constant they hold, and the name, type and shape of every shared
    variable (``pm.Data``), but not the shared values: models that differ only in their
    ``pm.Data`` values share a key, and a compiled sampler is reused with the new values.
    """
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import io_toposort

    outputs = [model.logp(), *model.deterministics, *model.free_RVs]
    h = hashlib.sha256()
    h.update(repr((settings.sampler, settings.backend)).encode())
    h.update(repr(sorted((k, len(v)) for k, v in model.coords.items())).encode())
    h.update(repr([rv.name for rv in model.free_RVs]).encode())
    h.update(repr([d.name for d in model.deterministics]).encode())
    index: dict = {}
    for node in io_toposort([], outputs):
        h.update(str(node.op).encode())
        for v in node.inputs:
            if v not in index:
                index[v] = len(index)
                if isinstance(v, SharedVariable):
                    val = v.get_value(borrow=True)
                    h.update(f"shared:{v.name}:{v.type}:{getattr(val, 'shape', ())}".encode())
                elif isinstance(v, Constant):
                    data = np.asarray(v.data)
                    h.update(f"const:{data.dtype}:{data.shape}".encode())
                    h.update(np.ascontiguousarray(data).tobytes())
                else:
                    h.update(f"var:{v.type}".encode())
            h.update(str(index[v]).encode())
    return h.hexdigest()


def shared_values(model: pm.Model) -> dict[str, np.ndarray]:
    """Current values of the model's ``pm.Data`` containers, by name."""
    return {var.name: np.asarray(var.get_value()) for var in model.data_vars}


def sample(
    model: pm.Model, settings: SamplerSettings | None = None, *, reuse: bool = False
) -> tuple[xr.DataTree, dict]:
    """Draw from the posterior of ``model``.

    Parameters
    ----------
    model
        The model to sample.
    settings
        Sampler settings (default :class:`SamplerSettings`).
    reuse
        nutpie only: reuse a sampler compiled earlier in this process for a model of the
        same structure (:func:`structure_key`), with this model's ``pm.Data`` values.

    Returns
    -------
    idata
        DataTree with ``posterior`` and ``sample_stats``.
    timing
        ``{"compile_s", "sample_s", "total_s", "compiled"}``: wall times, and whether this
        call compiled (``False`` when a compiled sampler was reused).
    """
    s = settings or SamplerSettings()
    require(s.sampler, s.backend)
    progress = show_progress(s.progressbar)
    cores = s.cores or min(s.chains, os.cpu_count() or 1)
    t0 = time.perf_counter()
    compiled_now = True
    if s.sampler == "nutpie":
        import nutpie

        compiled, compiled_now = _nutpie_compiled(model, s, reuse)
        t1 = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=s.draws,
            tune=s.tune,
            chains=s.chains,
            cores=cores,
            seed=s.seed,
            target_accept=s.target_accept,
            progress_bar=progress,
            save_warmup=False,
        )
        t2 = time.perf_counter()
        idata = _drop_warmup(idata)
        if not compiled_now:
            idata = _with_model_coords(idata, model)
    else:
        with model:
            t1 = time.perf_counter()
            # PyMC picks nutpie by itself when it is installed; "pymc" must mean PyMC's own NUTS.
            kwargs = {"nuts_sampler": "pymc"}
            if s.sampler in ("numpyro", "blackjax"):
                kwargs["nuts_sampler"] = s.sampler
                kwargs["nuts_sampler_kwargs"] = {"chain_method": "vectorized"}
            guard = (
                _blackjax_progress_guard() if s.sampler == "blackjax" else contextlib.nullcontext()
            )
            with guard:
                idata = pm.sample(
                    draws=s.draws,
                    tune=s.tune,
                    chains=s.chains,
                    cores=cores,
                    random_seed=s.seed,
                    target_accept=s.target_accept,
                    progressbar=progress,
                    compute_convergence_checks=False,
                    **kwargs,
                )
            t2 = time.perf_counter()
    # PyMC and the JAX samplers compile inside pm.sample, so their compile time is inside sample_s.
    timing = {
        "compile_s": t1 - t0,
        "sample_s": t2 - t1,
        "total_s": t2 - t0,
        "compiled": compiled_now,
    }
    if s.sampler == "nutpie" and compiled_now:
        timing["disk_cache_hits"] = _disk_cache_hits(compiled)
    return idata, timing


def _disk_cache_hits(compiled) -> int:
    """How many compiled functions of a nutpie model were loaded from the disk cache: the
    numba functions PyTensor generated for the log-density (with its gradient) and for the
    expansion to the stored variables, and nutpie's own wrappers (numba's hit counters)."""
    hits = 0
    for name in ("logp_func", "expand_func"):
        jit_fn = getattr(getattr(getattr(compiled, name, None), "vm", None), "jit_fn", None)
        stats = getattr(jit_fn, "stats", None)
        hits += int(sum(getattr(stats, "cache_hits", {}).values())) if stats else 0
    for name in ("compiled_logp_func", "compiled_expand_func"):
        hits += int(getattr(getattr(compiled, name, None), "cache_hits", 0) or 0)
    return hits


def _nutpie_compiled(model: pm.Model, s: SamplerSettings, reuse: bool):
    import nutpie

    kwargs = {"backend": s.backend}
    if s.backend == "jax":
        kwargs["gradient_backend"] = "jax"
    else:
        kwargs["cache"] = True  # nutpie's numba wrappers on disk (see empathy_models._cache)
    if not reuse:
        return nutpie.compile_pymc_model(model, **kwargs), True
    key = structure_key(model, s)
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
        values = shared_values(model)
        return (_COMPILED[key].with_data(**values) if values else _COMPILED[key]), False
    compiled = nutpie.compile_pymc_model(model, **kwargs)
    _COMPILED[key] = compiled
    while len(_COMPILED) > COMPILED_CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return compiled, True


def clear_compiled() -> None:
    """Forget the compiled samplers kept in this process."""
    _COMPILED.clear()


def _with_model_coords(idata: xr.DataTree, model: pm.Model) -> xr.DataTree:
    """A reused sampler carries the coordinate labels of the model it was compiled for;
    put this model's labels on the draws."""
    groups = {}
    for name in idata.children:
        ds = idata[name].to_dataset()
        labels = {
            d: np.asarray(model.coords[d])
            for d in ds.dims
            if d in model.coords
            and model.coords[d] is not None
            and len(model.coords[d]) == ds.sizes[d]
        }
        groups[name] = ds.assign_coords(labels)
    return xr.DataTree.from_dict(groups)


@contextlib.contextmanager
def _blackjax_progress_guard():
    """PyMC 6.3 passes ``progress_bar`` on to ``blackjax.window_adaptation`` (which forwards it
    to the NUTS kernel, a TypeError with blackjax 1.7); drop it for the duration of a call."""
    import blackjax

    original = blackjax.window_adaptation

    def window_adaptation(*args, progress_bar=None, **kwargs):
        return original(*args, **kwargs)

    blackjax.window_adaptation = window_adaptation
    try:
        yield
    finally:
        blackjax.window_adaptation = original


def _drop_warmup(idata: xr.DataTree) -> xr.DataTree:
    keep = {k: idata[k] for k in idata.children if not k.startswith("warmup")}
    return xr.DataTree.from_dict({k: v.to_dataset() for k, v in keep.items()})
