"""Convergence checks after every fit."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import arviz_stats as azs
import numpy as np
import xarray as xr

from empathy_models.errors import ConvergenceWarning

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100


@dataclass(frozen=True)
class Diagnostics:
    """Worst-case convergence numbers over the reported parameters."""

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    n_draws: int
    worst_rhat_param: str
    worst_ess_param: str

    def problems(self, chains: int) -> list[str]:
        """Human-readable problems with what to do about each."""
        out = []
        if self.divergences > 0:
            out.append(
                f"{self.divergences} divergent transitions: raise target_accept (e.g. 0.95), "
                "or check the priors and the model for funnel geometry"
            )
        if chains < 2:
            out.append(
                "one chain: R-hat cannot check convergence; run at least 2 chains (4 recommended)"
            )
        elif np.isfinite(self.max_rhat) and self.max_rhat > RHAT_MAX:
            out.append(
                f"R-hat {self.max_rhat:.3f} > {RHAT_MAX} for '{self.worst_rhat_param}': chains disagree; "
                "run more tune and draws, and check for multimodality"
            )
        need = ESS_PER_CHAIN_MIN * chains
        if self.min_ess_bulk < need or self.min_ess_tail < need:
            out.append(
                f"low effective sample size (bulk {self.min_ess_bulk:.0f}, tail {self.min_ess_tail:.0f} "
                f"< {need}) for '{self.worst_ess_param}': increase draws before trusting intervals"
            )
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def diagnose(idata: xr.DataTree, var_names: list[str], *, warn: bool = True) -> Diagnostics:
    """Compute R-hat, bulk/tail ESS and divergences; warn with advice when they fail."""
    post = idata["posterior"].to_dataset()[var_names]
    rhat = azs.rhat(post)
    ess_b = azs.ess(post, method="bulk")
    ess_t = azs.ess(post, method="tail")

    def worst(ds: xr.Dataset, fn) -> tuple[float, str]:
        best_val, best_name = None, ""
        for name, da in ds.data_vars.items():
            vals = np.asarray(da.values, dtype=float).ravel()
            if vals.size == 0:
                continue
            v = fn(np.where(np.isnan(vals), -np.inf if fn is np.max else np.inf, vals))
            if (
                best_val is None
                or (fn is np.max and v > best_val)
                or (fn is np.min and v < best_val)
            ):
                best_val, best_name = float(v), name
        if best_val is None or not np.isfinite(best_val):  # no chains to compare, or all NaN
            return float("nan"), ""
        return best_val, best_name

    max_rhat, rhat_name = worst(rhat, np.max)
    min_bulk, bulk_name = worst(ess_b, np.min)
    min_tail, tail_name = worst(ess_t, np.min)
    div = 0
    if "sample_stats" in idata.children and "diverging" in idata["sample_stats"].data_vars:
        div = int(idata["sample_stats"]["diverging"].values.sum())
    chains = post.sizes["chain"]
    diag = Diagnostics(
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        divergences=div,
        n_draws=int(chains * post.sizes["draw"]),
        worst_rhat_param=rhat_name,
        worst_ess_param=bulk_name if min_bulk <= min_tail else tail_name,
    )
    if warn:
        for msg in diag.problems(chains):
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    return diag
