"""True parameter values of a simulated study, named as the models name them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from empathy_models._io import to_plain
from empathy_models.data.simulate.circuit import phase_labels
from empathy_models.data.simulate.design import (
    INTERVENTIONS,
    LEVELS,
    MEASURES,
    PHASES,
    RATERS,
    SUBCOMPONENTS,
    StudyDesign,
)
from empathy_models.data.simulate.levels import level_cov, rater_corr
from empathy_models.data.simulate.moments import CircuitDraws
from empathy_models.data.simulate.outcomes import empathy_center, form_functions
from empathy_models.data.simulate.ratings import Ratings

_Z95 = 1.6448536269514722  # standard normal 95th percentile


def study_truth(
    design: StudyDesign,
    seed: int,
    therapist_ids: Sequence[str],
    circuit: CircuitDraws,
    ratings: Ratings,
    missing: dict[str, int],
    n_rows: dict[str, int],
) -> dict[str, Any]:
    """The ``truth`` dict of :func:`~empathy_models.data.simulate.simulate_study` (plain
    JSON types, floats rounded to 12 significant digits)."""
    d = design
    form_truth = _truth_form(d)
    n_r = ratings.below.shape[0]
    below, above = ratings.below, ratings.above
    truth: dict[str, Any] = {
        "seed": seed,
        "variance": _truth_variance(d),
        "raters": _truth_raters(d),
        "contributions": _truth_contributions(d),
        "contributions_client": _truth_contributions_client(d),
        "moderation": _truth_moderation(d, form_truth["mean_slope"]),
        "form": form_truth,
        "outcome": _truth_outcome(d),
        "post_outcome": _truth_post(d),
        "circuit": _truth_circuit(d, therapist_ids, circuit),
        "clipped": {
            "applied": bool(d.clip_ratings),
            "bounds": [d.rating_min, d.rating_max],
            "counts": {
                RATERS[r]: {k: int(below[r, i] + above[r, i]) for i, k in enumerate(MEASURES)}
                for r in range(n_r)
            },
            "total": int(below.sum() + above.sum()),
        },
        "missing": missing,
        "n_rows": n_rows,
    }
    return to_plain(truth, 12)


def _partition(sd_t: float, sd_c: float, sigma: float, intercept: float) -> dict[str, float]:
    total = sd_t**2 + sd_c**2 + sigma**2
    share = (lambda v: v / total) if total > 0 else (lambda v: float("nan"))
    return {
        "sd_therapist": sd_t,
        "sd_client": sd_c,
        "sigma": sigma,
        "share_therapist": share(sd_t**2),
        "share_client": share(sd_c**2),
        "share_residual": share(sigma**2),
        "Intercept": intercept,
    }


def _empathy_level_var(design: StudyDesign) -> dict[str, float]:
    w = np.array([1 / 3, 1 / 3, 1 / 3, 0.0])
    return {lv: float(w @ c @ w) for lv, c in level_cov(design).items()}


def _truth_variance(design: StudyDesign) -> dict[str, Any]:
    out = {}
    for k in MEASURES:
        p = design.measure_parameters(k)
        out[k] = _partition(p["sd_therapist"], p["sd_client"], p["sigma"], p["mu"])
    v = _empathy_level_var(design)
    out["empathy"] = _partition(
        math.sqrt(v["therapist"]),
        math.sqrt(v["client"]),
        math.sqrt(v["session"]),
        empathy_center(design),
    )
    return out


def _truth_raters(design: StudyDesign) -> dict[str, Any]:
    corr = rater_corr(design)
    offsets = design.rater_offsets()
    variance = {}
    for r, rater in enumerate(RATERS):
        variance[rater] = {}
        for k in MEASURES:
            p = design.measure_parameters(k)
            variance[rater][k] = _partition(
                p["sd_therapist"], p["sd_client"], p["sigma"], p["mu"] + offsets[r]
            )
    return {
        "raters": list(RATERS),
        "offset": {rater: float(offsets[r]) for r, rater in enumerate(RATERS)},
        "corr": {
            level: {a: {b: (1.0 if a == b else corr[level]) for b in RATERS} for a in RATERS}
            for level in LEVELS
        },
        "variance": variance,
        "note": (
            "x[rater] = mu + offset[rater] + therapist + client + session effects; the same "
            "SDs for every rater; corr[level][a][b] is the correlation of raters a and b's "
            "effects on the same measure at that level (cross-measure correlations as for "
            "the client rater; alliance independent of the subcomponents)"
        ),
    }


def _truth_contributions(design: StudyDesign) -> dict[str, Any]:
    p = design.measure_parameters("alliance")
    on = design.alliance_effects
    bt = design.beta_therapist_alliance if on else 0.0
    bc = design.beta_client_alliance if on else 0.0
    bs = design.beta_session_alliance if on else 0.0
    part = _partition(p["sd_therapist"], p["sd_client"], p["sigma"], p["mu"])
    return {
        "predictor": "alliance",
        "outcome": "outcome",
        "enabled": on,
        "beta_therapist": bt,
        "beta_client": bc,
        "beta_session": bs,
        "beta_therapist_minus_client": bt - bc,
        "share_therapist_predictor": part["share_therapist"],
        "share_client_predictor": part["share_client"],
        "share_session_predictor": part["share_residual"],
        "session_effect_lag": design.session_effect_lag,
        "note": (
            "betas per rating point of the latent therapist mean a_t, latent client "
            "deviation b_c and session state d_cs of client-rated alliance (same-session "
            "outcome when session_effect_lag = 0)"
        ),
    }


def _truth_contributions_client(design: StudyDesign) -> dict[str, Any]:
    p = design.measure_parameters("alliance")
    on = design.alliance_effects
    bt = design.post_beta_therapist_alliance if on else 0.0
    bc = design.post_beta_client_alliance if on else 0.0
    vt, vc = p["sd_therapist"] ** 2, p["sd_client"] ** 2
    return {
        "predictor": "alliance",
        "outcome": "post_outcome",
        "enabled": on,
        "beta_therapist": bt,
        "beta_client": bc,
        "beta_therapist_minus_client": bt - bc,
        "share_therapist_predictor": vt / (vt + vc) if vt + vc > 0 else float("nan"),
        "share_therapist_session_predictor": _partition(
            p["sd_therapist"], p["sd_client"], p["sigma"], p["mu"]
        )["share_therapist"],
        "note": (
            "share_therapist_predictor = sd_therapist^2 / (sd_therapist^2 + sd_client^2), "
            "the therapist share of the client's latent mean alliance"
        ),
    }


def _truth_moderation(design: StudyDesign, mean_slope_form: float) -> dict[str, Any]:
    slopes = design.slopes()
    proj = mean_slope_form / 3.0

    def table(offset: float) -> tuple[dict, dict]:
        slope = {
            k: {i: float(slopes[a, b] + offset) for b, i in enumerate(INTERVENTIONS)}
            for a, k in enumerate(SUBCOMPONENTS)
        }
        contrast = {k: {"MI_minus_ERP": slope[k]["MI"] - slope[k]["ERP"]} for k in SUBCOMPONENTS}
        return slope, contrast

    slope, contrast = table(0.0)
    m_slope, m_contrast = table(proj)
    return {
        "enabled": design.moderation_effects,
        "slope": slope,
        "contrast": contrast,
        "sd_slope_therapist": design.sd_slope_therapist if design.moderation_effects else 0.0,
        "centering": {k: design.measure_parameters(k)["mu"] for k in SUBCOMPONENTS},
        "note": (
            "outcome += sum_k (slope[k][intervention] + delta[therapist, k]) * (x_k - mu_k), "
            "x_k the session's client-rated value and mu_k = centering[k] its design mean; "
            "the same slope acts at the therapist, client and session level"
        ),
        "marginal": {
            "slope": m_slope,
            "contrast": m_contrast,
            "form_projection": proj,
            "note": (
                "population slopes of a model linear in the three subcomponents when the "
                "form term is on: slope + E[f'(empathy)] / 3 at every level (Stein's lemma); "
                "contrasts are unaffected"
            ),
        },
    }


def _normal_grid(mean: float, sd: float, n: int = 40001) -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(-9.0, 9.0, n)
    w = np.exp(-0.5 * z**2)
    return mean + sd * z, w / w.sum()


def _truth_form(design: StudyDesign) -> dict[str, Any]:
    center = empathy_center(design)
    level_var = _empathy_level_var(design)
    sd_emp = math.sqrt(sum(level_var.values()))
    q05, q95 = center - _Z95 * sd_emp, center + _Z95 * sd_emp
    f, fprime = form_functions(design)
    grid, w = _normal_grid(0.0, sd_emp)
    f_vals, fp_vals = f(grid), fprime(grid)
    mean_f = float(w @ f_vals)
    mean_slope = float(w @ fp_vals)
    # Best quadratic approximation (Hermite projection): f ~ E f + E[f'] u + E[f'']/2 (u^2 - s^2);
    # E[f''] = E[f' u] / s^2 by Stein's lemma.
    quad = float(w @ (fp_vals * grid)) / sd_emp**2 / 2.0 if sd_emp > 0 else 0.0
    out: dict[str, Any] = {"form": design.form, "enabled": design.form_effect, "center": center}
    if not design.form_effect:
        b1, b2, vertex = 0.0, 0.0, None
        split = center
        out["term"] = "none (form_effect=False)"
    elif design.form == "inverted_u":
        b2 = design.form_quadratic
        b1 = -2.0 * b2 * design.form_vertex_offset
        vertex = center + design.form_vertex_offset
        split = vertex
        out["term"] = "f = beta_linear * (empathy - center) + beta_quadratic * (empathy - center)^2"
    elif design.form == "linear":
        b1, b2, vertex = design.form_linear_slope, 0.0, None
        split = center
        out["term"] = "f = beta_linear * (empathy - center)"
    else:
        b1, b2, vertex = mean_slope, quad, None
        split = center - b1 / (2.0 * b2) if b2 > 0 else center
        out["term"] = "f = amplitude * (exp(-rate * (empathy - center)) - 1)"
        out["amplitude"] = design.saturating_amplitude
        out["rate"] = design.saturating_rate
        out["note"] = (
            "saturating: no interior optimum (vertex None); beta_linear / beta_quadratic are "
            "the population-best quadratic approximation, whose vertex "
            "(quadratic_approximation.vertex) is a spurious optimum; the true slopes on "
            "either side of it have the same sign"
        )
    below = grid + center < split
    above = ~below

    def cond_mean(mask: np.ndarray) -> float | None:
        mass = float(w[mask].sum())
        return float(w[mask] @ fp_vals[mask]) / mass if mass > 1e-12 else None

    qa_vertex = center - mean_slope / (2.0 * quad) if quad > 1e-12 else None
    out.update(
        {
            "beta_linear": b1,
            "beta_quadratic": b2,
            "beta_linear_raw": b1 - 2.0 * b2 * center,
            "vertex": vertex,
            "vertex_in_range": None if vertex is None else bool(q05 < vertex < q95),
            "split_point": split,
            "slope_below_vertex": cond_mean(below),
            "slope_above_vertex": cond_mean(above),
            "mean_slope": mean_slope,
            "mean_of_term": mean_f,
            "empathy_mean": center,
            "empathy_sd": sd_emp,
            "empathy_q05": q05,
            "empathy_q95": q95,
            "quadratic_approximation": {
                "beta_linear": mean_slope,
                "beta_quadratic": quad,
                "vertex": qa_vertex,
            },
        }
    )
    out["marginal"] = _form_marginal(design, out["quadratic_approximation"], center, q05, q95)
    return out


def _form_marginal(
    design: StudyDesign, quad: dict[str, Any], center: float, q05: float, q95: float
) -> dict[str, Any]:
    """What an empathy-only model finds while the moderation term is on: E[moderation |
    empathy] is linear in empathy at each level with slope sum_k mean_i slope[k, i] *
    p[k, level]."""
    slopes = design.slopes().mean(axis=1)
    covs = level_cov(design)
    wvec = np.array([1 / 3, 1 / 3, 1 / 3, 0.0])
    by_level = {}
    for lv, c in covs.items():
        v = float(wvec @ c @ wvec)
        by_level[lv] = float(slopes @ (c @ wvec)[:3] / v) if v > 0 else 0.0
    c_tot = sum(covs.values())
    v_tot = float(wvec @ c_tot @ wvec)
    extra = float(slopes @ (c_tot @ wvec)[:3] / v_tot) if v_tot > 0 else 0.0
    bl_m = quad["beta_linear"] + extra
    bq_m = quad["beta_quadratic"]
    v_m = center - bl_m / (2.0 * bq_m) if bq_m > 1e-12 else None
    return {
        "beta_linear": bl_m,
        "beta_quadratic": bq_m,
        "vertex": v_m,
        "vertex_in_range": None if v_m is None else bool(q05 < v_m < q95),
        "moderation_projection": extra,
        "moderation_projection_by_level": by_level,
        "note": (
            "population quadratic fit of outcome on empathy pooled over interventions when the "
            "moderation term is on (coefficients on empathy - center): the moderation term "
            "adds moderation_projection to the linear coefficient (the same at every level when "
            "the subcomponents share one variance structure, as by default)"
        ),
    }


def _truth_outcome(design: StudyDesign) -> dict[str, Any]:
    return {
        "Intercept": design.outcome_intercept,
        "beta_severity": design.beta_severity,
        "severity_mean": design.severity_mean,
        "severity_sd": design.severity_sd,
        "beta_session_number": -design.time_slope,
        "sd_therapist": design.sd_therapist_outcome,
        "sd_client": design.sd_client_outcome,
        "sd_client_total": math.sqrt(
            design.sd_client_outcome**2 + (design.beta_severity * design.severity_sd) ** 2
        ),
        "sigma": design.sigma_outcome,
        "terms_on": {
            "alliance": design.alliance_effects,
            "moderation": design.moderation_effects,
            "form": design.form_effect,
        },
        "note": (
            "Intercept at session 1 with severity at severity_mean and every predictor at its "
            "design mean; sd_client_total includes severity when it is not a covariate"
        ),
    }


def _truth_post(design: StudyDesign) -> dict[str, Any]:
    on = design.alliance_effects
    return {
        "Intercept": design.post_intercept,
        "beta_severity": design.post_beta_severity,
        "severity_mean": design.severity_mean,
        "beta_therapist_alliance": design.post_beta_therapist_alliance if on else 0.0,
        "beta_client_alliance": design.post_beta_client_alliance if on else 0.0,
        "beta_throttle_erp": design.post_beta_throttle_erp,
        "sd_therapist": design.post_sd_therapist,
        "sigma": design.post_sigma,
    }


def _truth_circuit(
    design: StudyDesign, therapist_ids: Sequence[str], circuit: CircuitDraws
) -> dict[str, Any]:
    phases = phase_labels(design.moments_per_session)
    phi_tc, throttle, eta = circuit.phi_tc, circuit.throttle, circuit.eta
    return {
        "phi_cc": design.phi_cc,
        "phi_tt": design.phi_tt,
        "phi_ct": design.phi_ct,
        "phi_tc_mean": {
            "processing": design.gamma_0,
            "exposure": design.gamma_0 + design.gamma_exposure,
        },
        "gamma_0": design.gamma_0,
        "gamma_phase": {"processing": 0.0, "exposure": design.gamma_exposure},
        "sd_phi_tc": design.sd_phi_tc,
        "gamma_affect_sharing": design.gamma_affect_sharing,
        "gamma_regulation_exposure": design.gamma_regulation_exposure,
        "corr_regulation_phi_tc": design.corr_regulation_phi_tc,
        "throttle": design.gamma_exposure,
        "innovation_corr": design.innovation_corr,
        "sigma_client": design.sigma_client_affect,
        "sigma_therapist": design.sigma_therapist_affect,
        "phi_tc": {
            tid: {ph: float(phi_tc[i, j]) for j, ph in enumerate(PHASES)}
            for i, tid in enumerate(therapist_ids)
        },
        "throttle_by_therapist": {tid: float(throttle[i]) for i, tid in enumerate(therapist_ids)},
        "eta": {tid: float(eta[i]) for i, tid in enumerate(therapist_ids)},
        "sd_mean": {
            "client_affect": {
                "therapist": design.sd_therapist_client_affect,
                "client": design.sd_client_client_affect,
                "session": design.sd_session_affect,
            },
            "therapist_affect": {
                "therapist": design.sd_therapist_therapist_affect,
                "client": design.sd_client_therapist_affect,
                "session": design.sd_session_affect,
            },
        },
        "max_abs_eigenvalue": circuit.max_eig,
        "phase_by_moment": phases.tolist(),
        "trait_standardization": "sample mean and SD (ddof=1) across the study's therapists",
        "note": (
            "latent person-mean centered VAR(1), state (client_affect, therapist_affect); "
            "phi_tc[t, phase] = gamma_0 + gamma_phase + gamma_affect_sharing * z(trait) + "
            "eta_t (+ gamma_regulation_exposure * z(regulation) in exposure); throttle = "
            "exposure minus processing coupling; lags restart every session"
        ),
    }


__all__ = ["study_truth"]
