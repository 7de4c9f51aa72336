"""Emotional circuit after the fit: impulse responses, the therapist table and figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_models.results.items import ReportItem
from empathy_models.results.result import CI_PROB
from empathy_models.results.style import PALETTE, REFERENCE, figure_style, percent, quantiles, save


def impulse_response(
    result,
    steps: int = 10,
    *,
    therapist: str | None = None,
    generalized: bool = True,
    ci_prob: float = CI_PROB,
) -> pd.DataFrame:
    """Impulse responses of the fitted circuit, with credible bands from posterior draws.

    A shock of one innovation SD in the client's (or the therapist's) affect at step 0; the
    response of both affects ``k`` moments later is ``B^k s`` (original scale), with ``B``
    the VAR matrix of the phase (held fixed) at the population coupling ``phi_tc_mean`` (or at
    one therapist's ``phi_tc``). ``generalized=True`` (Pesaran-Shin) lets the other affect
    move at step 0 as the innovation correlation implies (``s = Sigma e_j / sd_j``);
    otherwise ``s = sd_j e_j``. The client -> therapist -> client loop shows as the client's
    own response exceeding ``phi_cc^k``.

    Returns
    -------
    DataFrame with columns ``phase``, ``shock``, ``response``, ``step``, ``mean``, ``lower``,
    ``upper`` (equal-tailed ``ci_prob`` interval).
    """
    post = result.posterior
    st = post.stack(sample=("chain", "draw"))
    phi_cc = st["phi_cc"].values
    phi_tt = st["phi_tt"].values
    phi_ct = st["phi_ct"].values
    if therapist is None:
        tc = st["phi_tc_mean"].transpose("phase", "sample").values
    else:
        tc = st["phi_tc"].sel(therapist=therapist).transpose("phase", "sample").values
    phases = [str(p) for p in post["phase"].values]
    sc, sT, r = (
        st["sigma_client"].values,
        st["sigma_therapist"].values,
        st["innovation_corr"].values,
    )
    lo, hi = quantiles(ci_prob)
    rows = []
    names = ("client", "therapist")
    for pi, ph in enumerate(phases):
        B = np.zeros((len(phi_cc), 2, 2))
        B[:, 0, 0], B[:, 0, 1], B[:, 1, 0], B[:, 1, 1] = phi_cc, phi_ct, tc[pi], phi_tt
        for j, shock in enumerate(names):
            if generalized:
                sdj = sc if j == 0 else sT
                cov = r * sc * sT
                vec = np.stack([sc**2, cov], 1) if j == 0 else np.stack([cov, sT**2], 1)
                vec = vec / sdj[:, None]
            else:
                vec = np.zeros((len(phi_cc), 2))
                vec[:, j] = sc if j == 0 else sT
            x = vec
            for k in range(steps + 1):
                for i, resp in enumerate(names):
                    v = x[:, i]
                    rows.append(
                        {
                            "phase": ph,
                            "shock": shock,
                            "response": resp,
                            "step": k,
                            "mean": float(v.mean()),
                            "lower": float(np.quantile(v, lo)),
                            "upper": float(np.quantile(v, hi)),
                        }
                    )
                x = np.einsum("sij,sj->si", B, x)
    return pd.DataFrame(rows)


def therapist_table(result, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Per-therapist couplings by phase and throttle, with intervals and probabilities.

    Columns: ``therapist``, ``phi_tc[<phase>]`` means and intervals, ``eta_phi_tc`` (the
    therapist's coupling deviation shared by all phases, beyond what the covariate predicts;
    negative = couples less, i.e. regulates) with ``p_eta_lt_0``, ``throttle`` mean and interval,
    ``p_throttle_lt_0`` and ``p_throttle_below_mean`` (probability that the therapist's
    throttle is stronger, i.e. more negative, than the population throttle).
    """
    post = result.posterior
    lo, hi = quantiles(ci_prob)
    phi = post["phi_tc"]
    out = pd.DataFrame({"therapist": [str(t) for t in post["therapist"].values]})
    for ph in post["phase"].values:
        v = phi.sel(phase=ph)
        out[f"phi_tc[{ph}]"] = v.mean(("chain", "draw")).values
        out[f"phi_tc[{ph}]_lower"] = v.quantile(lo, ("chain", "draw")).values
        out[f"phi_tc[{ph}]_upper"] = v.quantile(hi, ("chain", "draw")).values
    if "eta_phi_tc" in post:
        eta = post["eta_phi_tc"]
        out["eta_phi_tc"] = eta.mean(("chain", "draw")).values
        out["p_eta_lt_0"] = (eta < 0).mean(("chain", "draw")).values
    if "throttle_therapist" in post:
        th = post["throttle_therapist"]
        out["throttle"] = th.mean(("chain", "draw")).values
        out["throttle_lower"] = th.quantile(lo, ("chain", "draw")).values
        out["throttle_upper"] = th.quantile(hi, ("chain", "draw")).values
        out["p_throttle_lt_0"] = (th < 0).mean(("chain", "draw")).values
        out["p_throttle_below_mean"] = (th < post["throttle"]).mean(("chain", "draw")).values
    return out


PHASE_COLORS = PALETTE


def plot_coupling_forest(result, path=None, ci_prob: float = CI_PROB, sort_by: str | None = None):
    """Per-therapist client -> therapist coupling ``phi_tc`` by phase (forest plot).

    Each therapist gets one interval per phase (posterior mean and equal-tailed
    ``ci_prob`` interval); dashed lines are the population couplings ``phi_tc_mean``.

    Parameters
    ----------
    result
        A fitted :class:`~empathy_models.models.circuit.EmotionalCircuit` result.
    path
        Where to save the PNG (optional).
    sort_by
        Phase whose coupling orders the therapists (default: the throttle when present,
        otherwise the first phase).
    """
    import matplotlib.pyplot as plt

    post = result.posterior
    phi = post["phi_tc"]
    phases = [str(p) for p in post["phase"].values]
    ther = [str(t) for t in post["therapist"].values]
    lo, hi = quantiles(ci_prob)
    mean = phi.mean(("chain", "draw")).values
    qlo = phi.quantile(lo, ("chain", "draw")).values
    qhi = phi.quantile(hi, ("chain", "draw")).values
    if sort_by is not None:
        key = mean[:, phases.index(sort_by)]
    elif "throttle_therapist" in post:
        key = post["throttle_therapist"].mean(("chain", "draw")).values
    else:
        key = mean[:, 0]
    order = np.argsort(key)
    n = len(ther)
    with figure_style():
        fig, ax = plt.subplots(figsize=(6.5, 1.0 + 0.22 * n))
        for k, ph in enumerate(phases):
            col = PHASE_COLORS[k % len(PHASE_COLORS)]
            off = (k - (len(phases) - 1) / 2) * 0.25
            y = np.arange(n) + off
            ax.hlines(y, qlo[order, k], qhi[order, k], color=col, lw=1.2)
            ax.plot(mean[order, k], y, "o", ms=3, color=col, label=ph)
            pm_ = float(post["phi_tc_mean"].sel(phase=ph).mean())
            ax.axvline(pm_, color=col, ls="--", lw=0.8)
        ax.set_yticks(range(n), [ther[i] for i in order], fontsize=7)
        ax.axvline(0, color=REFERENCE, lw=0.6)
        ax.set_xlabel(f"client → therapist coupling φ_TC (mean, {percent(ci_prob)} interval)")
        ax.legend(title="phase", fontsize=8, frameon=False, loc="best")
        ax.invert_yaxis()
    return save(fig, path)


def plot_impulse_response(irf: pd.DataFrame, path=None):
    """Impulse-response curves with credible bands.

    Parameters
    ----------
    irf
        Output of :func:`impulse_response`.
    path
        Where to save the PNG (optional).
    """
    import matplotlib.pyplot as plt

    shocks = list(dict.fromkeys(irf["shock"]))
    responses = list(dict.fromkeys(irf["response"]))
    phases = list(dict.fromkeys(irf["phase"]))
    with figure_style():
        fig, axes = plt.subplots(
            len(shocks),
            len(responses),
            figsize=(4 * len(responses), 3 * len(shocks)),
            squeeze=False,
        )
        for i, sh in enumerate(shocks):
            for j, rs in enumerate(responses):
                ax = axes[i, j]
                for k, ph in enumerate(phases):
                    col = PHASE_COLORS[k % len(PHASE_COLORS)]
                    d = irf[(irf["shock"] == sh) & (irf["response"] == rs) & (irf["phase"] == ph)]
                    ax.fill_between(d["step"], d["lower"], d["upper"], color=col, alpha=0.25, lw=0)
                    ax.plot(d["step"], d["mean"], color=col, label=ph)
                ax.axhline(0, color=REFERENCE, lw=0.6)
                ax.set_title(f"{sh} shock → {rs} affect", fontsize=9)
                ax.set_xlabel("moments after the shock")
                if j == 0:
                    ax.set_ylabel("response (affect units)")
        axes[0, -1].legend(title="phase", fontsize=8, frameon=False)
    return save(fig, path)


def report_items(result, ci_prob: float = CI_PROB) -> list[ReportItem]:
    """The circuit's block of the report: impulse responses and per-therapist couplings."""
    irf = impulse_response(result, steps=10, ci_prob=ci_prob)
    return [
        ReportItem(
            title="Impulse responses",
            note=(
                "How a one-SD shock to the client's (or the therapist's) affect travels "
                "through the dyad over the next moments, by phase, at the population "
                f"coupling (generalized responses; mean and {percent(ci_prob)} band)."
            ),
            figure=plot_impulse_response(irf),
        ),
        ReportItem(
            title="Couplings per therapist",
            note=(
                "Client → therapist coupling φ_TC of each therapist by phase; dashed lines "
                "are the population couplings. A therapist left of the line takes on less "
                "of the client's affect (regulates)."
            ),
            table=therapist_table(result, ci_prob).set_index("therapist"),
            figure=plot_coupling_forest(result, ci_prob=ci_prob),
        ),
    ]


__all__ = [
    "plot_coupling_forest",
    "plot_impulse_response",
    "report_items",
    "impulse_response",
    "therapist_table",
]
