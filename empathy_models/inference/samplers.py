"""One ``sampler=`` vocabulary over nutpie, numpyro, blackjax and PyMC's own NUTS."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from dataclasses import dataclass

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
    sampler
        ``"nutpie"`` (default), ``"numpyro"``, ``"blackjax"`` or ``"pymc"``.
    backend
        nutpie's compiler: ``"numba"`` (default) or ``"jax"``; ignored by other samplers.
    draws, tune, chains
        Kept draws per chain, warm-up draws per chain, number of chains.
    seed
        Random seed: the same seed gives the same draws.
    target_accept
        NUTS target acceptance rate; raise (e.g. 0.95) after divergences.
    progressbar
        ``None`` shows a bar only in an interactive terminal outside CI.
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
        from dataclasses import asdict

        return asdict(self)


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


def sample(model: pm.Model, settings: SamplerSettings | None = None) -> tuple[xr.DataTree, dict]:
    """Draw from the posterior of ``model``.

    Returns
    -------
    idata
        DataTree with ``posterior`` and ``sample_stats``.
    timing
        ``{"compile_s", "sample_s", "total_s"}`` wall times.
    """
    s = settings or SamplerSettings()
    require(s.sampler, s.backend)
    progress = show_progress(s.progressbar)
    cores = s.cores or min(s.chains, os.cpu_count() or 1)
    t0 = time.perf_counter()
    if s.sampler == "nutpie":
        import nutpie

        kwargs = {"backend": s.backend}
        if s.backend == "jax":
            kwargs["gradient_backend"] = "jax"
        compiled = nutpie.compile_pymc_model(model, **kwargs)
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
    timing = {"compile_s": t1 - t0, "sample_s": t2 - t1, "total_s": t2 - t0}
    return idata, timing


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
