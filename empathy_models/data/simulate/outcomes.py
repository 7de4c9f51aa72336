"""Outcomes of the study simulator: the functional form of empathy -> symptoms, the
moderated, alliance-driven session outcome (step 4) and the client post-treatment outcome
(step 5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from empathy_models.data.simulate.design import SUBCOMPONENTS, StudyDesign
from empathy_models.data.simulate.levels import Layout, Levels
from empathy_models.data.simulate.ratings import Ratings, measure_means

FormFunction = Callable[[np.ndarray], np.ndarray]


def form_functions(design: StudyDesign) -> tuple[FormFunction, FormFunction]:
    """Form term ``f(u)`` and its derivative, ``u = empathy - center``."""
    if not design.form_effect:
        return (lambda u: np.zeros_like(u)), (lambda u: np.zeros_like(u))
    if design.form == "inverted_u":
        b2 = design.form_quadratic
        b1 = -2.0 * b2 * design.form_vertex_offset
        return (lambda u: b1 * u + b2 * u**2), (lambda u: b1 + 2.0 * b2 * u)
    if design.form == "linear":
        s = design.form_linear_slope
        return (lambda u: s * u), (lambda u: np.full_like(u, s))
    a, r = design.saturating_amplitude, design.saturating_rate
    return (lambda u: a * (np.exp(-r * u) - 1.0)), (lambda u: -a * r * np.exp(-r * u))


def empathy_center(design: StudyDesign) -> float:
    """Population mean of empathy: the mean of the three subcomponent means."""
    return float(np.mean([getattr(design, f"mu_{k}") for k in SUBCOMPONENTS]))


@dataclass(frozen=True)
class SessionOutcome:
    """The session outcome and the latent alliance parts that also drive ``post_outcome``.

    ``alliance_therapist`` (``a_t``), ``alliance_client`` (``b_c``): latent therapist mean
    and client deviation of client-rated alliance; ``n_missing``: outcomes set to NaN.
    """

    outcome: np.ndarray
    alliance_therapist: np.ndarray
    alliance_client: np.ndarray
    n_missing: int


def _lagged(values: np.ndarray, lag: int) -> np.ndarray:
    """``values[client, session]`` shifted ``lag`` sessions later (zeros before)."""
    n_s = values.shape[1]
    out = np.zeros_like(values)
    if lag < n_s:
        out[:, lag:] = values[:, : n_s - lag]
    return out


def session_outcome(
    design: StudyDesign,
    layout: Layout,
    levels: Levels,
    ratings: Ratings,
    rng: np.random.Generator,
    rng_missing: np.random.Generator,
) -> SessionOutcome:
    """Session outcome: covariate, random intercepts, time trend, moderation, form and
    alliance terms plus noise (streams ``outcome`` and ``missing_outcomes``)."""
    d = design
    n_t, n_c, n_cs = layout.n_therapists, layout.n_clients, layout.n_sessions
    t_of_s, c_of_s = layout.therapist_of_session, layout.client_of_session
    u_t = d.sd_therapist_outcome * rng.standard_normal(n_t)
    u_c = d.sd_client_outcome * rng.standard_normal(n_c)
    delta = d.sd_slope_therapist * rng.standard_normal((n_t, 3))
    e = d.sigma_outcome * rng.standard_normal(n_cs)

    a_t = d.sd_therapist_alliance * levels.z_therapist[:, 0, 3]
    b_c = d.sd_client_alliance * levels.z_client[:, 0, 3]
    d_cs = d.sigma_alliance * levels.z_session[:, 0, 3].reshape(n_c, layout.sessions_per_client)
    d_lag = _lagged(d_cs, d.session_effect_lag)

    mu = measure_means(d)
    x_client = ratings.client
    slope_cs = d.slopes().T[levels.arm][c_of_s]  # [session, subcomponent]
    if d.moderation_effects:
        slope_cs = slope_cs + delta[t_of_s]
    moderation = np.sum(slope_cs * (x_client[:, :3] - mu[None, :3]), axis=1)
    form_f, _ = form_functions(d)
    form_term = form_f(ratings.empathy - empathy_center(d))
    bt, bc, bs = (
        (d.beta_therapist_alliance, d.beta_client_alliance, d.beta_session_alliance)
        if d.alliance_effects
        else (0.0, 0.0, 0.0)
    )
    alliance_term = bt * a_t[t_of_s] + bc * b_c[c_of_s] + bs * d_lag.ravel()
    outcome = (
        d.outcome_intercept
        + d.beta_severity * (levels.severity[c_of_s] - d.severity_mean)
        + u_t[t_of_s]
        + u_c[c_of_s]
        - d.time_slope * (layout.session_number - 1)
        + moderation
        + form_term
        + alliance_term
        + e
    )
    n_missing = 0
    if d.missing_outcome_rate > 0:
        miss = rng_missing.random(n_cs) < d.missing_outcome_rate
        outcome[miss] = np.nan
        n_missing = int(miss.sum())
    return SessionOutcome(outcome, a_t, b_c, n_missing)


def post_outcome(
    design: StudyDesign,
    layout: Layout,
    levels: Levels,
    session: SessionOutcome,
    throttle: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Client post-treatment outcome (stream ``post_outcome``); ``throttle`` per therapist."""
    d = design
    t_of_c = layout.therapist_of_client
    u_t_post = d.post_sd_therapist * rng.standard_normal(layout.n_therapists)
    e_post = d.post_sigma * rng.standard_normal(layout.n_clients)
    pbt, pbc = (
        (d.post_beta_therapist_alliance, d.post_beta_client_alliance)
        if d.alliance_effects
        else (0.0, 0.0)
    )
    return (
        d.post_intercept
        + d.post_beta_severity * (levels.severity - d.severity_mean)
        + pbt * session.alliance_therapist[t_of_c]
        + pbc * session.alliance_client
        + d.post_beta_throttle_erp * throttle[t_of_c] * (levels.arm == 0)
        + u_t_post[t_of_c]
        + e_post
    )


__all__ = [
    "SessionOutcome",
    "empathy_center",
    "form_functions",
    "post_outcome",
    "session_outcome",
]
