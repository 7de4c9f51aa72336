"""Seeded simulator of a psychotherapy process study with known truth.

One call, :func:`simulate_study`, draws a whole study from a generative model of the
process the package's models describe, and returns the data tables together with the true
parameter values, named as the models name them (``study.truth``).

Generative model
----------------
Indices: therapist ``t``, client ``c`` (nested in one therapist), session ``s = 1..S``,
moment ``m = 1..M`` inside a session. Ratings are on a continuous 1-7 Likert-like scale;
``outcome`` is a symptom score (higher = worse).

1. **Therapists.** Trait affect sharing, mentalizing and empathic concern are standard
   normal with equal correlations ``trait_corr``; ``regulation`` (empathy-regulation
   skill) is standard normal and independent of them.
2. **Clients.** Each therapist's clients are assigned ``ERP`` / ``MI`` in balanced, randomly
   ordered halves (with an odd count the extra client's arm is random). ``severity`` is
   ``N(severity_mean, severity_sd)`` and independent of everything else.
3. **Session ratings.** For measure ``k`` (the three subcomponents and ``alliance``) and rater
   ``r``::

       x[r,k,t,c,s] = mu_k + offset_r + sd_therapist_k * zT[r,k,t]
                      + sd_client_k * zC[r,k,c] + sigma_k * zS[r,k,c,s]

   with standard-normal ``z`` at each level. At every level the ``z`` are correlated across
   raters (equal correlations ``rater_corr_<level>``) and across the three subcomponents
   (equal correlations ``trait_corr`` / ``client_subcomponent_corr`` /
   ``session_subcomponent_corr``); alliance is independent of the subcomponents at every
   level. For the client rater ``zT`` of a subcomponent *is* the therapist's trait.
   ``zS`` may follow an AR(1) over sessions (``residual_ar1``; stationary variance 1).
   The client-rated values form the ``sessions`` table; the ``ratings`` table holds all
   three raters. Values are clipped to ``[rating_min, rating_max]`` when
   ``clip_ratings`` (the counts are in ``truth["clipped"]``; zero in the shipped data).
   ``empathy`` is the mean of the three client-rated subcomponents.
4. **Session outcome**::

       outcome = outcome_intercept + beta_severity * (severity - severity_mean)
                 + uT_t + uC_c - time_slope * (session - 1)
                 + sum_k (slope[k, intervention] + delta[t, k]) * (x_k - mu_k)   # moderation
                 + f(empathy)                                                    # form
                 + beta_T * aT_t + beta_C * bC_c + beta_S * dS_{c, s - lag}      # alliance
                 + e

   where ``x_k`` is the client-rated session value of subcomponent ``k`` and ``mu_k`` its
   design mean (so the slope multiplies the *total* deviation from the grand mean),
   ``delta[t, k] ~ N(0, sd_slope_therapist)`` are therapist random slopes, and
   ``aT_t = sd_therapist_alliance * zT``, ``bC_c = sd_client_alliance * zC``,
   ``dS = sigma_alliance * zS`` are the latent therapist mean, client deviation and session
   state of client-rated alliance. ``f`` is the form term (see :class:`StudyDesign`).
   The three switches ``moderation_effects``, ``form_effect`` and ``alliance_effects``
   zero their terms without changing any other draw.
5. **Client post-treatment outcome**::

       post_outcome = post_intercept + post_beta_severity * (severity - severity_mean)
                      + post_beta_therapist_alliance * aT_t + post_beta_client_alliance * bC_c
                      + post_beta_throttle_erp * throttle_t * [intervention == ERP]
                      + uT'_t + e'

6. **Emotional circuit (EMA moments).** With latent person-mean centering, for each session
   of each dyad (state order client, therapist)::

       C_m = muC + phi_cc (C_{m-1} - muC) + phi_ct (T_{m-1} - muT) + eC_m
       T_m = muT + phi_tt (T_{m-1} - muT) + phi_tc[t, phase_m] (C_{m-1} - muC) + eT_m
       phi_tc[t, phase] = gamma_0 + gamma_phase + gamma_affect_sharing * zAS_t + eta_t
                          + gamma_regulation_exposure * zREG_t * [phase == exposure]

   ``(eC, eT) ~ MVN(0, Sigma)`` with SDs ``sigma_client_affect``, ``sigma_therapist_affect``
   and correlation ``innovation_corr``; ``eta_t = sd_phi_tc * (corr_regulation_phi_tc *
   regulation_t + sqrt(1 - corr^2) * u_t)``; ``zAS``/``zREG`` are the therapist traits
   standardized across the study's therapists (sample mean 0, SD 1 with ``ddof=1``).
   ``gamma_phase`` is 0 for ``processing`` and ``gamma_exposure`` for ``exposure``. In the
   ``alpha`` form of the spec, ``alpha_dyad = (I - Phi) mu_dyad``. The dyad means ``muC``,
   ``muT`` are sums of therapist, client and (optionally) session normal effects. Lags
   restart in every session: the first moment of a session is drawn from the stationary
   distribution of the first phase's VAR, so nothing crosses a session boundary. Every
   session has three blocks: ``processing`` (moments ``1..M//3``), ``exposure`` (the middle
   moments) and ``processing`` again (the last ``M//3``); the same generic labels are used
   in ERP and MI sessions ("exposure" = the emotionally activating middle segment).
   ``missing_moment_rate`` deletes moment rows completely at random (gaps in ``moment``).

Reproducibility: ``numpy.random.SeedSequence(seed).spawn`` gives one independent generator
per component (see ``STREAMS``), so e.g. changing ``moments_per_session`` or
``include_ratings`` leaves the session-level data unchanged, and toggling an effect switch
changes only the outcomes. Everything is vectorized; loops run only over sessions (AR(1))
and moments (VAR recursion), each vectorized across all dyads.
"""

from __future__ import annotations

import argparse
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from empathy_models.errors import ConfigError

__all__ = [
    "FORMS",
    "INTERVENTIONS",
    "MEASURES",
    "PHASES",
    "RATERS",
    "SHIPPED_SEED",
    "SUBCOMPONENTS",
    "SimulatedStudy",
    "StudyDesign",
    "data_card",
    "load_shipped_study",
    "main",
    "phase_labels",
    "shipped_design",
    "shipped_study_path",
    "simulate_study",
    "write_shipped_study",
]

SUBCOMPONENTS: tuple[str, ...] = ("affect_sharing", "mentalizing", "empathic_concern")
MEASURES: tuple[str, ...] = (*SUBCOMPONENTS, "alliance")
INTERVENTIONS: tuple[str, ...] = ("ERP", "MI")
RATERS: tuple[str, ...] = ("client", "therapist", "observer")
PHASES: tuple[str, ...] = ("processing", "exposure")
FORMS: tuple[str, ...] = ("inverted_u", "linear", "saturating")
LEVELS: tuple[str, ...] = ("therapist", "client", "session")
TABLES: tuple[str, ...] = ("therapists", "clients", "sessions", "ratings", "moments")

#: Seed of the shipped study in ``data/simulated_study``.
SHIPPED_SEED = 20261122
#: Float format of the written CSV files (4 decimals).
FLOAT_FORMAT = "%.4f"
#: Independent random streams, one per component, in spawn order (append only).
STREAMS: tuple[str, ...] = (
    "therapists",
    "clients",
    "client_effects",
    "session_effects",
    "raters",
    "outcome",
    "post_outcome",
    "circuit",
    "moments",
    "missing_moments",
    "missing_outcomes",
)
_SHIPPED_COMMAND = (
    "python -m empathy_models.data.simulate --out data/simulated_study --seed 20261122"
)
_Z95 = 1.6448536269514722  # standard normal 95th percentile


# --------------------------------------------------------------------------------------
# Design
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyDesign:
    """Every generating parameter of a simulated study (see the module docstring).

    Parameters
    ----------
    n_therapists, clients_per_therapist, sessions_per_client, moments_per_session : int
        Study size (defaults 40, 6, 10, 12). ``moments_per_session=0`` skips the EMA table.
        At least 2 therapists.
    include_ratings : bool
        Build the multi-rater ``ratings`` table (default True).
    form : {"inverted_u", "linear", "saturating"}
        True functional form of empathy -> outcome (default ``"inverted_u"``). With
        ``u = empathy - c`` and ``c`` the population mean of empathy (mean of the three
        ``mu_<subcomponent>``), the outcome gets ``f(empathy)``:

        * ``"inverted_u"``: ``f = beta_linear * u + form_quadratic * u**2`` with
          ``beta_linear = -2 * form_quadratic * form_vertex_offset``: symptoms are U-shaped,
          the benefit is inverted-U, the optimum (vertex) is at ``c + form_vertex_offset``.
        * ``"linear"``: ``f = form_linear_slope * u``.
        * ``"saturating"``: ``f = saturating_amplitude * (exp(-saturating_rate * u) - 1)``:
          symptoms fall monotonically with empathy and level off (no interior optimum).
    alliance_effects, moderation_effects, form_effect : bool
        Switch the alliance, moderation and form terms of the session outcome on or off
        (all default True). Switching a term off changes no other draw. ``alliance_effects``
        also switches the alliance terms of ``post_outcome``.
    trait_corr : float
        Correlation of the three empathy traits = therapist-level correlation of the three
        subcomponents, for every rater (default 0.3).
    client_subcomponent_corr, session_subcomponent_corr : float
        Client- and session-level correlation of the three subcomponents (default 0.3).
    mu_affect_sharing, mu_mentalizing, mu_empathic_concern, mu_alliance : float
        Client-rated grand means (4.3, 4.5, 4.6, 4.7).
    sd_therapist_affect_sharing, sd_client_affect_sharing, sigma_affect_sharing : float
        Therapist, client and session (residual) SDs; likewise for ``mentalizing`` and
        ``empathic_concern`` (all three: 0.30, 0.35, 0.40) and ``alliance``
        (0.25, 0.40, 0.35).
    residual_ar1 : float
        AR(1) coefficient of the session-level deviations across a client's sessions, with
        the stationary variance kept at ``sigma**2`` (default 0: independent).
    rater_offset_therapist, rater_offset_observer : float
        Mean offset of therapist- and observer-ratings relative to client ratings, on every
        measure (-0.3, -0.6).
    rater_corr_therapist, rater_corr_client, rater_corr_session : float
        Correlation between raters of the same measure's therapist-, client- and
        session-level effects (0.5, 0.4, 0.2).
    rating_min, rating_max : float
        Scale bounds (1, 7).
    clip_ratings : bool
        Clip ratings to the bounds (default True; counts reported in ``truth["clipped"]``).
    severity_mean, severity_sd : float
        Client baseline severity, on the symptom scale (20, 3).
    outcome_intercept : float
        Session outcome at session 1 for an average client with all predictors at their
        means (20).
    beta_severity : float
        Session outcome per point of severity (1.0).
    time_slope : float
        Symptom decrease per session (0.4): the outcome has ``- time_slope * (session - 1)``.
    sd_therapist_outcome, sd_client_outcome, sigma_outcome : float
        Random-intercept and residual SDs of the session outcome (1.0, 1.5, 1.5).
    beta_therapist_alliance, beta_client_alliance, beta_session_alliance : float
        Session outcome per rating point of the latent therapist mean, client deviation and
        session state of client-rated alliance (-4.0, -1.0, -1.5).
    session_effect_lag : int
        0 (default): the session state acts on the same session's outcome; ``L > 0``: on
        the outcome ``L`` sessions later (earlier sessions get none).
    slope_affect_sharing_erp, slope_affect_sharing_mi : float
        Moderated slope of affect sharing in ERP (+1.2: hurts) and MI (-0.6: helps).
    slope_mentalizing_erp, slope_mentalizing_mi : float
        (-0.3, -0.3): helps in both.
    slope_empathic_concern_erp, slope_empathic_concern_mi : float
        (-0.2, -0.3): helps in both.
    sd_slope_therapist : float
        SD of therapist random deviations of each subcomponent slope, shared by both
        interventions (0.1).
    form_quadratic : float
        ``"inverted_u"`` curvature, > 0 (2.0).
    form_vertex_offset : float
        ``"inverted_u"`` vertex minus the population mean of empathy (0.15).
    form_linear_slope : float
        ``"linear"`` slope (-1.0).
    saturating_amplitude, saturating_rate : float
        ``"saturating"`` amplitude and rate (0.75, 2.0).
    post_intercept, post_beta_severity : float
        Client post-treatment outcome intercept and severity slope (12.0, 0.8).
    post_beta_therapist_alliance, post_beta_client_alliance : float
        Post outcome per point of latent therapist mean / client deviation of alliance
        (-5.0, -1.0).
    post_sd_therapist, post_sigma : float
        Therapist random-intercept and residual SDs of the post outcome (1.0, 3.0).
    post_beta_throttle_erp : float
        Post outcome of ERP clients per unit of their therapist's throttle (default 0).
    phi_cc, phi_tt, phi_ct : float
        Client and therapist autoregressions and therapist -> client cross-lag
        (0.4, 0.3, 0.1).
    gamma_0 : float
        Mean client -> therapist coupling in ``processing`` at average trait affect sharing
        (0.3).
    gamma_exposure : float
        Throttle: exposure minus processing coupling (-0.15).
    gamma_affect_sharing : float
        Coupling per (sample) SD of trait affect sharing (0.08).
    sd_phi_tc : float
        SD of the therapist random effect ``eta_t`` on the coupling (0.06).
    corr_regulation_phi_tc : float
        Correlation of ``eta_t`` with regulation skill (-0.6: skilled regulators couple
        less).
    gamma_regulation_exposure : float
        Extra exposure-phase coupling per (sample) SD of regulation (default 0: every
        therapist has the same throttle, as the spec's model 5 assumes).
    sigma_client_affect, sigma_therapist_affect, innovation_corr : float
        Innovation SDs and correlation (1.0, 0.8, 0.3).
    sd_therapist_client_affect, sd_client_client_affect : float
        SDs of the therapist and client parts of the client-affect dyad mean (0.3, 0.5).
    sd_therapist_therapist_affect, sd_client_therapist_affect : float
        The same for therapist affect (0.4, 0.2).
    sd_session_affect : float
        SD of a session-level shift of each dyad mean (default 0).
    missing_moment_rate : float
        Share of moment rows deleted completely at random (default 0).
    missing_outcome_rate : float
        Share of session outcomes set to NaN completely at random (default 0).

    Examples
    --------
    >>> design = StudyDesign(n_therapists=100, form="linear")
    >>> design.to_dict()["form"]
    'linear'
    """

    # size
    n_therapists: int = 40
    clients_per_therapist: int = 6
    sessions_per_client: int = 10
    moments_per_session: int = 12
    include_ratings: bool = True
    form: str = "inverted_u"
    # switches
    alliance_effects: bool = True
    moderation_effects: bool = True
    form_effect: bool = True
    # correlations among subcomponents
    trait_corr: float = 0.3
    client_subcomponent_corr: float = 0.3
    session_subcomponent_corr: float = 0.3
    # session ratings (client-rated)
    mu_affect_sharing: float = 4.3
    mu_mentalizing: float = 4.5
    mu_empathic_concern: float = 4.6
    mu_alliance: float = 4.7
    sd_therapist_affect_sharing: float = 0.30
    sd_client_affect_sharing: float = 0.35
    sigma_affect_sharing: float = 0.40
    sd_therapist_mentalizing: float = 0.30
    sd_client_mentalizing: float = 0.35
    sigma_mentalizing: float = 0.40
    sd_therapist_empathic_concern: float = 0.30
    sd_client_empathic_concern: float = 0.35
    sigma_empathic_concern: float = 0.40
    sd_therapist_alliance: float = 0.25
    sd_client_alliance: float = 0.40
    sigma_alliance: float = 0.35
    residual_ar1: float = 0.0
    # raters
    rater_offset_therapist: float = -0.3
    rater_offset_observer: float = -0.6
    rater_corr_therapist: float = 0.5
    rater_corr_client: float = 0.4
    rater_corr_session: float = 0.2
    rating_min: float = 1.0
    rating_max: float = 7.0
    clip_ratings: bool = True
    # clients
    severity_mean: float = 20.0
    severity_sd: float = 3.0
    # session outcome
    outcome_intercept: float = 20.0
    beta_severity: float = 1.0
    time_slope: float = 0.4
    sd_therapist_outcome: float = 1.0
    sd_client_outcome: float = 1.5
    sigma_outcome: float = 1.5
    beta_therapist_alliance: float = -4.0
    beta_client_alliance: float = -1.0
    beta_session_alliance: float = -1.5
    session_effect_lag: int = 0
    slope_affect_sharing_erp: float = 1.2
    slope_affect_sharing_mi: float = -0.6
    slope_mentalizing_erp: float = -0.3
    slope_mentalizing_mi: float = -0.3
    slope_empathic_concern_erp: float = -0.2
    slope_empathic_concern_mi: float = -0.3
    sd_slope_therapist: float = 0.1
    form_quadratic: float = 2.0
    form_vertex_offset: float = 0.15
    form_linear_slope: float = -1.0
    saturating_amplitude: float = 0.75
    saturating_rate: float = 2.0
    # client post-treatment outcome
    post_intercept: float = 12.0
    post_beta_severity: float = 0.8
    post_beta_therapist_alliance: float = -5.0
    post_beta_client_alliance: float = -1.0
    post_sd_therapist: float = 1.0
    post_sigma: float = 3.0
    post_beta_throttle_erp: float = 0.0
    # emotional circuit
    phi_cc: float = 0.4
    phi_tt: float = 0.3
    phi_ct: float = 0.1
    gamma_0: float = 0.3
    gamma_exposure: float = -0.15
    gamma_affect_sharing: float = 0.08
    sd_phi_tc: float = 0.06
    corr_regulation_phi_tc: float = -0.6
    gamma_regulation_exposure: float = 0.0
    sigma_client_affect: float = 1.0
    sigma_therapist_affect: float = 0.8
    innovation_corr: float = 0.3
    sd_therapist_client_affect: float = 0.3
    sd_client_client_affect: float = 0.5
    sd_therapist_therapist_affect: float = 0.4
    sd_client_therapist_affect: float = 0.2
    sd_session_affect: float = 0.0
    # missingness
    missing_moment_rate: float = 0.0
    missing_outcome_rate: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                if isinstance(value, bool) or not isinstance(value, int | np.integer):
                    raise ConfigError(f"StudyDesign.{f.name} must be an integer, got {value!r}")
            elif f.type in ("bool", bool):
                if not isinstance(value, bool | np.bool_):
                    raise ConfigError(f"StudyDesign.{f.name} must be True or False, got {value!r}")
            elif f.type in ("float", float):
                if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                    raise ConfigError(f"StudyDesign.{f.name} must be a number, got {value!r}")
                if not math.isfinite(float(value)):
                    raise ConfigError(f"StudyDesign.{f.name} must be finite, got {value!r}")
        if self.form not in FORMS:
            raise ConfigError(f"StudyDesign.form must be one of {FORMS}, got {self.form!r}")
        minimum = {
            "n_therapists": 2,
            "clients_per_therapist": 1,
            "sessions_per_client": 1,
            "moments_per_session": 0,
            "session_effect_lag": 0,
        }
        for name, low in minimum.items():
            if getattr(self, name) < low:
                raise ConfigError(f"StudyDesign.{name} must be >= {low}, got {getattr(self, name)}")
        for f in fields(self):
            if f.name.startswith(("sd_", "sigma_", "post_sd_")) or f.name in (
                "severity_sd",
                "post_sigma",
                "saturating_amplitude",
            ):
                if getattr(self, f.name) < 0:
                    raise ConfigError(
                        f"StudyDesign.{f.name} must be >= 0, got {getattr(self, f.name)}"
                    )
        for name in ("sigma_client_affect", "sigma_therapist_affect", "saturating_rate"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"StudyDesign.{name} must be > 0, got {getattr(self, name)}")
        for name in ("residual_ar1", "innovation_corr", "corr_regulation_phi_tc"):
            if not -1 < getattr(self, name) < 1:
                raise ConfigError(
                    f"StudyDesign.{name} must lie in (-1, 1), got {getattr(self, name)}"
                )
        for name in (
            "trait_corr",
            "client_subcomponent_corr",
            "session_subcomponent_corr",
            "rater_corr_therapist",
            "rater_corr_client",
            "rater_corr_session",
        ):
            if not -0.5 < getattr(self, name) < 1:
                raise ConfigError(
                    f"StudyDesign.{name} must lie in (-0.5, 1) (an equal correlation of three "
                    f"variables), got {getattr(self, name)}"
                )
        for name in ("missing_moment_rate", "missing_outcome_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(
                    f"StudyDesign.{name} must lie in [0, 1), got {getattr(self, name)}"
                )
        if not self.rating_min < self.rating_max:
            raise ConfigError("StudyDesign.rating_min must be below rating_max")
        if self.form == "inverted_u" and self.form_quadratic <= 0:
            raise ConfigError(
                "StudyDesign.form_quadratic must be > 0 for form='inverted_u' (symptoms "
                "U-shaped, benefit inverted-U)"
            )

    # --- conversions -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain, JSON-serializable dict."""
        return {k: _plain(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StudyDesign:
        """Inverse of :meth:`to_dict`; an unknown key is a :class:`ConfigError`."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown StudyDesign fields {unknown}")
        return cls(**d)

    def replace(self, **changes: Any) -> StudyDesign:
        """A copy with some fields changed (an unknown name is a :class:`ConfigError`)."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"unknown StudyDesign fields {unknown}")
        return replace(self, **changes)

    # --- derived quantities ----------------------------------------------------------

    @property
    def n_clients(self) -> int:
        """Total number of clients."""
        return self.n_therapists * self.clients_per_therapist

    @property
    def n_sessions(self) -> int:
        """Total number of sessions."""
        return self.n_clients * self.sessions_per_client

    def measure_parameters(self, measure: str) -> dict[str, float]:
        """``mu``, ``sd_therapist``, ``sd_client`` and ``sigma`` of a client-rated measure."""
        if measure not in MEASURES:
            raise ConfigError(f"unknown measure {measure!r}; measures are {MEASURES}")
        return {
            "mu": float(getattr(self, f"mu_{measure}")),
            "sd_therapist": float(getattr(self, f"sd_therapist_{measure}")),
            "sd_client": float(getattr(self, f"sd_client_{measure}")),
            "sigma": float(getattr(self, f"sigma_{measure}")),
        }

    def slopes(self) -> np.ndarray:
        """Moderated slopes as an array ``[subcomponent, intervention]`` (zeros when off)."""
        out = np.array(
            [
                [getattr(self, f"slope_{k}_{i.lower()}") for i in INTERVENTIONS]
                for k in SUBCOMPONENTS
            ],
            dtype=float,
        )
        return out if self.moderation_effects else np.zeros_like(out)

    def rater_offsets(self) -> np.ndarray:
        """Mean offset of each rater (client, therapist, observer)."""
        return np.array([0.0, self.rater_offset_therapist, self.rater_offset_observer])


def shipped_design() -> StudyDesign:
    """The design of the shipped study (the defaults: 40 x 6 x 10 x 12, inverted-U)."""
    return StudyDesign()


def phase_labels(moments_per_session: int) -> np.ndarray:
    """Phase of moments ``1..M``: ``processing | exposure | processing`` blocks.

    The first and last ``M // 3`` moments are ``"processing"``, the middle ones
    ``"exposure"`` (so with ``M < 3`` every moment is ``"exposure"``).
    """
    m = np.arange(1, moments_per_session + 1)
    edge = moments_per_session // 3
    exposure = (m > edge) & (m <= moments_per_session - edge)
    return np.where(exposure, PHASES[1], PHASES[0])


# --------------------------------------------------------------------------------------
# Simulated study
# --------------------------------------------------------------------------------------

_STRING_COLUMNS = ("therapist", "client", "intervention", "rater", "phase")
_INT_COLUMNS = ("session", "moment")


@dataclass
class SimulatedStudy:
    """Data and truth of one simulated study.

    Attributes
    ----------
    therapists : pandas.DataFrame
        One row per therapist: ``therapist``, ``trait_affect_sharing``,
        ``trait_mentalizing``, ``trait_empathic_concern``, ``regulation``.
    clients : pandas.DataFrame
        One row per client: ``therapist``, ``client``, ``intervention``, ``severity``,
        ``post_outcome``.
    sessions : pandas.DataFrame
        One row per session, client-rated: ``therapist``, ``client``, ``session``,
        ``intervention``, ``affect_sharing``, ``mentalizing``, ``empathic_concern``,
        ``empathy``, ``alliance``, ``outcome``.
    ratings : pandas.DataFrame or None
        Long multi-rater table (``None`` when ``include_ratings=False``): ``therapist``,
        ``client``, ``session``, ``rater``, and the four measures.
    moments : pandas.DataFrame or None
        EMA table (``None`` when ``moments_per_session=0``): ``therapist``, ``client``,
        ``session``, ``moment``, ``phase``, ``client_affect``, ``therapist_affect``.
    truth : dict
        True parameters, JSON-serializable (see :func:`simulate_study`).
    design : StudyDesign
        The generating design.
    seed : int
        The seed.
    """

    therapists: pd.DataFrame
    clients: pd.DataFrame
    sessions: pd.DataFrame
    ratings: pd.DataFrame | None
    moments: pd.DataFrame | None
    truth: dict[str, Any]
    design: StudyDesign
    seed: int

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that exist, by name (``therapists`` ... ``moments``)."""
        out = {name: getattr(self, name) for name in TABLES}
        return {k: v for k, v in out.items() if v is not None}

    def write(
        self, directory: str | Path, *, data_card: bool = False, command: str | None = None
    ) -> Path:
        """Write the study as CSV and JSON files.

        Writes ``therapists.csv``, ``clients.csv``, ``sessions.csv``, ``ratings.csv`` and
        ``moments.csv`` (those that exist; a stale copy of a missing one is removed),
        ``truth.json`` and ``design.json``; floats with
        4 decimals, ``\\n`` line ends, so the bytes depend only on the design and seed.

        Parameters
        ----------
        directory
            Folder (created if missing).
        data_card
            Also write ``DATA_CARD.md`` (see :func:`data_card`).
        command
            Regeneration command quoted in the data card.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tables = self.tables()
        for name in TABLES:
            path = directory / f"{name}.csv"
            if name in tables:
                path.write_text(_to_csv(tables[name]), encoding="utf-8", newline="")
            elif path.exists():  # a table this study does not have: remove a stale copy
                path.unlink()
        (directory / "truth.json").write_text(_dump_json(self.truth), encoding="utf-8", newline="")
        meta = {"seed": self.seed, "design": self.design.to_dict()}
        (directory / "design.json").write_text(_dump_json(meta), encoding="utf-8", newline="")
        if data_card:
            text = _render_data_card(self, command)
            (directory / "DATA_CARD.md").write_text(text, encoding="utf-8", newline="")
        return directory

    @classmethod
    def read(cls, directory: str | Path) -> SimulatedStudy:
        """Read a study written by :meth:`write` (floats then carry 4 decimals)."""
        directory = Path(directory)
        meta = json.loads((directory / "design.json").read_text(encoding="utf-8"))
        truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
        frames: dict[str, pd.DataFrame | None] = {}
        for name in TABLES:
            path = directory / f"{name}.csv"
            frames[name] = _read_csv(path) if path.exists() else None
        return cls(
            therapists=frames["therapists"],
            clients=frames["clients"],
            sessions=frames["sessions"],
            ratings=frames["ratings"],
            moments=frames["moments"],
            truth=truth,
            design=StudyDesign.from_dict(meta["design"]),
            seed=int(meta["seed"]),
        )

    def roundtrip(self) -> SimulatedStudy:
        """This study as it reads back from its CSV/JSON files (4-decimal floats)."""
        frames = {name: _read_csv(io.StringIO(_to_csv(df))) for name, df in self.tables().items()}
        return SimulatedStudy(
            therapists=frames["therapists"],
            clients=frames["clients"],
            sessions=frames["sessions"],
            ratings=frames.get("ratings"),
            moments=frames.get("moments"),
            truth=json.loads(_dump_json(self.truth)),
            design=self.design,
            seed=self.seed,
        )


def _to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _read_csv(source: str | Path | io.StringIO) -> pd.DataFrame:
    header = pd.read_csv(source, nrows=0).columns
    if isinstance(source, io.StringIO):
        source.seek(0)
    dtype: dict[str, Any] = {c: "str" for c in header if c in _STRING_COLUMNS}
    dtype.update({c: "int64" for c in header if c in _INT_COLUMNS})
    return pd.read_csv(source, dtype=dtype)


def _plain(value: Any, digits: int | None = None) -> Any:
    """Recursively convert numpy scalars/arrays and tuples to plain JSON types.

    Non-finite floats become ``None``; with ``digits`` floats are rounded to that many
    significant digits (hides 1e-16 arithmetic noise in derived true values).
    """
    if isinstance(value, dict):
        return {str(k): _plain(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, digits) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v, digits) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return None
        return v if digits is None else float(f"{v:.{digits}g}")
    return value


def _tidy(value: Any) -> Any:
    """Plain types with floats rounded to 12 significant digits."""
    return _plain(value, 12)


def _dump_json(obj: Any) -> str:
    return json.dumps(_plain(obj), indent=2, allow_nan=False) + "\n"


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------


def _equicorr(n: int, rho: float) -> np.ndarray:
    return (1.0 - rho) * np.eye(n) + rho * np.ones((n, n))


def _measure_corr(rho_sub: float) -> np.ndarray:
    """4 x 4 correlation of (three subcomponents, alliance) at one level."""
    r = np.eye(len(MEASURES))
    r[:3, :3] = _equicorr(3, rho_sub)
    return r


def _chol(matrix: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError as err:  # pragma: no cover - guarded by design checks
        raise ConfigError(f"{what} is not positive definite") from err


def _level_corr(design: StudyDesign) -> dict[str, float]:
    return {
        "therapist": design.trait_corr,
        "client": design.client_subcomponent_corr,
        "session": design.session_subcomponent_corr,
    }


def _rater_corr(design: StudyDesign) -> dict[str, float]:
    return {
        "therapist": design.rater_corr_therapist,
        "client": design.rater_corr_client,
        "session": design.rater_corr_session,
    }


def _level_sd(design: StudyDesign) -> np.ndarray:
    """SDs ``[level, measure]`` of the client-rated measures."""
    p = [design.measure_parameters(k) for k in MEASURES]
    return np.array(
        [[q["sd_therapist"] for q in p], [q["sd_client"] for q in p], [q["sigma"] for q in p]]
    )


def _level_cov(design: StudyDesign) -> dict[str, np.ndarray]:
    """Population covariance of the four client-rated measures at each level."""
    sd = _level_sd(design)
    rho = _level_corr(design)
    return {
        level: np.outer(sd[i], sd[i]) * _measure_corr(rho[level]) for i, level in enumerate(LEVELS)
    }


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


def _labels(prefix: str, n: int, width: int) -> np.ndarray:
    numbers = np.strings.zfill(np.arange(1, n + 1).astype(np.str_), width)
    return np.strings.add(prefix, numbers)


def _str_array(
    labels: np.ndarray, index: np.ndarray | None = None
) -> pd.api.extensions.ExtensionArray:
    arr = pd.array(np.asarray(labels).astype(object), dtype="str")
    return arr if index is None else arr.take(index)


def _level_draws(
    w_client: np.ndarray,
    rng_raters: np.random.Generator | None,
    meas_chol: np.ndarray,
    rater_chol: np.ndarray,
) -> np.ndarray:
    """Standard-normal effects ``[unit, rater, measure]`` at one level.

    ``w_client`` (``[unit, measure]``) are the client-rater's effects; other raters are
    drawn from ``rng_raters`` with the same cross-measure correlation and combined so that
    the rater correlation is ``rater_chol @ rater_chol.T`` (Kronecker structure). Without
    ``rng_raters`` only the client rater is returned.
    """
    if rng_raters is None:
        return w_client[..., None, :]
    shape = (*w_client.shape[:-1], len(RATERS) - 1, w_client.shape[-1])
    w_other = rng_raters.standard_normal(shape) @ meas_chol.T
    w = np.concatenate([w_client[..., None, :], w_other], axis=-2)
    return np.einsum("rj,...jm->...rm", rater_chol, w)


def _form_functions(
    design: StudyDesign,
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
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


def _empathy_center(design: StudyDesign) -> float:
    return float(np.mean([getattr(design, f"mu_{k}") for k in SUBCOMPONENTS]))


def _phi_matrices(design: StudyDesign, phi_tc: np.ndarray) -> np.ndarray:
    """VAR matrices ``[therapist, phase, 2, 2]``, state order (client, therapist)."""
    n = phi_tc.shape[0]
    phi = np.empty((n, len(PHASES), 2, 2))
    phi[..., 0, 0] = design.phi_cc
    phi[..., 0, 1] = design.phi_ct
    phi[..., 1, 0] = phi_tc
    phi[..., 1, 1] = design.phi_tt
    return phi


def _stationary_chol(phi: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Cholesky factors of the stationary covariances of ``x = Phi x + e`` (batched)."""
    n = phi.shape[0]
    kron = np.einsum("tij,tkl->tikjl", phi, phi).reshape(n, 4, 4)
    lhs = np.eye(4)[None] - kron
    rhs = np.broadcast_to(sigma.reshape(4, 1), (n, 4, 1))
    cov = np.linalg.solve(lhs, rhs).reshape(n, 2, 2)
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    return np.linalg.cholesky(cov)


def simulate_study(design: StudyDesign | None = None, seed: int = 0) -> SimulatedStudy:
    """Simulate one study with known truth.

    Parameters
    ----------
    design
        The generating design (default: :class:`StudyDesign` defaults).
    seed
        Non-negative integer. Same design and seed give identical frames.

    Returns
    -------
    SimulatedStudy
        Tables and ``truth``, a JSON-serializable dict with keys:

        ``variance``
            ``{measure: {"sd_therapist", "sd_client", "sigma", "share_therapist",
            "share_client", "share_residual", "Intercept"}}`` for the client-rated session
            measures and ``empathy`` (population values; shares of the sum of the three
            variances).
        ``raters``
            Rater offsets, cross-rater correlations at each level, and the variance
            partition of every rater's measures.
        ``contributions``
            Alliance -> session outcome: ``beta_therapist``, ``beta_client``,
            ``beta_session``, ``beta_therapist_minus_client``, ``share_therapist_predictor``.
        ``contributions_client``
            Alliance -> ``post_outcome`` (same keys; ``share_therapist_predictor`` is the
            therapist share of the client's latent mean alliance).
        ``moderation``
            ``slope[subcomponent][intervention]``, ``contrast[subcomponent]["MI_minus_ERP"]``
            and ``marginal`` (what a model linear in the subcomponents recovers while the
            form term is on).
        ``form``
            ``form``, ``beta_linear``, ``beta_quadratic``, ``vertex``,
            ``slope_below_vertex``, ``slope_above_vertex`` and more, plus ``marginal``
            (what an empathy-only model recovers while the moderation term is on).
        ``outcome``, ``post_outcome``
            Intercepts, covariate slopes and random-effect SDs.
        ``circuit``
            ``phi_cc``, ``phi_tt``, ``phi_ct``, ``phi_tc_mean``, ``sd_phi_tc``,
            ``gamma_affect_sharing``, ``throttle``, ``innovation_corr``, ``sigma_client``,
            ``sigma_therapist``, ``phi_tc`` per therapist and phase, and more.
        ``clipped``, ``missing``, ``n_rows``, ``seed``
            Bookkeeping.
    """
    design = StudyDesign() if design is None else design
    if not isinstance(design, StudyDesign):
        raise ConfigError(f"design must be a StudyDesign, got {type(design).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    d = design
    rng = _streams(seed)
    n_t, n_k, n_s, n_m = (
        d.n_therapists,
        d.clients_per_therapist,
        d.sessions_per_client,
        d.moments_per_session,
    )
    n_c = n_t * n_k
    n_cs = n_c * n_s
    n_r = len(RATERS) if d.include_ratings else 1
    t_of_c = np.repeat(np.arange(n_t), n_k)
    c_of_s = np.repeat(np.arange(n_c), n_s)
    t_of_s = t_of_c[c_of_s]
    session_number = np.tile(np.arange(1, n_s + 1), n_c)

    rho = _level_corr(d)
    meas_chol = {
        lv: _chol(_measure_corr(rho[lv]), f"the {lv}-level measure correlation") for lv in LEVELS
    }
    rater_corr = _rater_corr(d)
    rater_chol = {
        lv: _chol(_equicorr(len(RATERS), rater_corr[lv]), f"the {lv}-level rater correlation")
        for lv in LEVELS
    }
    rng_raters = rng["raters"] if d.include_ratings else None

    # 1. therapists -------------------------------------------------------------------
    g = rng["therapists"]
    traits = g.standard_normal((n_t, 3)) @ _chol(_equicorr(3, d.trait_corr), "trait correlation").T
    regulation = g.standard_normal(n_t)
    z_alliance_t = g.standard_normal(n_t)
    w_t = np.column_stack([traits, z_alliance_t])
    z_t = _level_draws(w_t, rng_raters, meas_chol["therapist"], rater_chol["therapist"])

    # 2. clients ----------------------------------------------------------------------
    g = rng["clients"]
    extra = g.integers(0, 2, size=n_t)
    base = (np.arange(n_k)[None, :] + extra[:, None]) % 2
    order = np.argsort(g.random((n_t, n_k)), axis=1)
    arm = np.take_along_axis(base, order, axis=1).ravel()  # 0 = ERP, 1 = MI
    severity = d.severity_mean + d.severity_sd * g.standard_normal(n_c)

    w_c = rng["client_effects"].standard_normal((n_c, len(MEASURES))) @ meas_chol["client"].T
    z_c = _level_draws(w_c, rng_raters, meas_chol["client"], rater_chol["client"])

    # 3. session-level deviations (optionally AR(1) across a client's sessions) -------
    w_s = rng["session_effects"].standard_normal((n_c, n_s, len(MEASURES))) @ meas_chol["session"].T
    eps = _level_draws(w_s, rng_raters, meas_chol["session"], rater_chol["session"])
    if d.residual_ar1 != 0.0:
        scale = math.sqrt(1.0 - d.residual_ar1**2)
        for s in range(1, n_s):
            eps[:, s] = d.residual_ar1 * eps[:, s - 1] + scale * eps[:, s]
    z_s = eps.reshape(n_cs, n_r, len(MEASURES))

    sd = _level_sd(d)
    mu = np.array([d.measure_parameters(k)["mu"] for k in MEASURES])
    offsets = d.rater_offsets()[:n_r]
    x = (
        mu[None, None, :]
        + offsets[None, :, None]
        + sd[0] * z_t[t_of_s]
        + sd[1] * z_c[c_of_s]
        + sd[2] * z_s
    )
    below = (x < d.rating_min).sum(axis=0)
    above = (x > d.rating_max).sum(axis=0)
    if d.clip_ratings:
        np.clip(x, d.rating_min, d.rating_max, out=x)
    x_client = x[:, 0, :]
    empathy = x_client[:, :3].mean(axis=1)

    # 4. session outcome --------------------------------------------------------------
    g = rng["outcome"]
    u_t = d.sd_therapist_outcome * g.standard_normal(n_t)
    u_c = d.sd_client_outcome * g.standard_normal(n_c)
    delta = d.sd_slope_therapist * g.standard_normal((n_t, 3))
    e = d.sigma_outcome * g.standard_normal(n_cs)

    a_t = d.sd_therapist_alliance * z_t[:, 0, 3]
    b_c = d.sd_client_alliance * z_c[:, 0, 3]
    d_cs = d.sigma_alliance * z_s[:, 0, 3].reshape(n_c, n_s)
    lag = d.session_effect_lag
    d_lag = np.zeros_like(d_cs)
    if lag < n_s:
        d_lag[:, lag:] = d_cs[:, : n_s - lag]

    slopes = d.slopes()
    slope_cs = slopes.T[arm][c_of_s]  # [session, subcomponent]
    if d.moderation_effects:
        slope_cs = slope_cs + delta[t_of_s]
    moderation = np.sum(slope_cs * (x_client[:, :3] - mu[None, :3]), axis=1)
    center = _empathy_center(d)
    form_f, _ = _form_functions(d)
    form_term = form_f(empathy - center)
    bt, bc, bs = (
        (d.beta_therapist_alliance, d.beta_client_alliance, d.beta_session_alliance)
        if d.alliance_effects
        else (0.0, 0.0, 0.0)
    )
    alliance_term = bt * a_t[t_of_s] + bc * b_c[c_of_s] + bs * d_lag.ravel()
    outcome = (
        d.outcome_intercept
        + d.beta_severity * (severity[c_of_s] - d.severity_mean)
        + u_t[t_of_s]
        + u_c[c_of_s]
        - d.time_slope * (session_number - 1)
        + moderation
        + form_term
        + alliance_term
        + e
    )
    n_missing_outcome = 0
    if d.missing_outcome_rate > 0:
        miss = rng["missing_outcomes"].random(n_cs) < d.missing_outcome_rate
        outcome[miss] = np.nan
        n_missing_outcome = int(miss.sum())

    # 6 (parameters). emotional circuit -----------------------------------------------
    g = rng["circuit"]
    eta_noise = g.standard_normal(n_t)
    mean_t = g.standard_normal((n_t, 2))
    mean_c = g.standard_normal((n_c, 2))
    mean_s = g.standard_normal((n_cs, 2))
    z_as = _standardize(traits[:, 0])
    z_reg = _standardize(regulation)
    r_eta = d.corr_regulation_phi_tc
    eta = d.sd_phi_tc * (r_eta * regulation + math.sqrt(1.0 - r_eta**2) * eta_noise)
    gamma_phase = np.array([0.0, d.gamma_exposure])
    phi_tc = (
        d.gamma_0
        + gamma_phase[None, :]
        + (d.gamma_affect_sharing * z_as + eta)[:, None]
        + np.outer(z_reg, [0.0, d.gamma_regulation_exposure])
    )
    throttle = phi_tc[:, 1] - phi_tc[:, 0]
    phi = _phi_matrices(d, phi_tc)
    max_eig = float(np.abs(np.linalg.eigvals(phi)).max())
    if max_eig >= 1.0:
        raise ConfigError(
            f"the emotional-circuit VAR is not stable for some therapist and phase (largest "
            f"eigenvalue modulus {max_eig:.3f} >= 1): lower phi_cc, phi_tt, phi_ct, gamma_0 "
            f"or the spread of phi_tc (sd_phi_tc, gamma_affect_sharing)"
        )

    # 5. post-treatment outcome -------------------------------------------------------
    g = rng["post_outcome"]
    u_t_post = d.post_sd_therapist * g.standard_normal(n_t)
    e_post = d.post_sigma * g.standard_normal(n_c)
    pbt, pbc = (
        (d.post_beta_therapist_alliance, d.post_beta_client_alliance)
        if d.alliance_effects
        else (0.0, 0.0)
    )
    post_outcome = (
        d.post_intercept
        + d.post_beta_severity * (severity - d.severity_mean)
        + pbt * a_t[t_of_c]
        + pbc * b_c
        + d.post_beta_throttle_erp * throttle[t_of_c] * (arm == 0)
        + u_t_post[t_of_c]
        + e_post
    )

    # 6. EMA moments ------------------------------------------------------------------
    moments_df = None
    n_deleted = 0
    if n_m > 0:
        sd_mean = np.array(
            [
                [d.sd_therapist_client_affect, d.sd_therapist_therapist_affect],
                [d.sd_client_client_affect, d.sd_client_therapist_affect],
                [d.sd_session_affect, d.sd_session_affect],
            ]
        )
        dyad_mean = sd_mean[0] * mean_t[t_of_s] + sd_mean[1] * mean_c[c_of_s] + sd_mean[2] * mean_s
        states, phases = _simulate_circuit(d, phi, t_of_s, rng["moments"])
        affect = states + dyad_mean[:, None, :]  # [series, moment, (client, therapist)]
        rows = n_cs * n_m
        row_series = np.repeat(np.arange(n_cs), n_m)
        keep = None
        if d.missing_moment_rate > 0:
            keep = rng["missing_moments"].random(rows) >= d.missing_moment_rate
            n_deleted = int(rows - keep.sum())
        moments_df = _frame(
            {
                "therapist": ("therapist", t_of_s[row_series]),
                "client": ("client", c_of_s[row_series]),
                "session": session_number[row_series],
                "moment": np.tile(np.arange(1, n_m + 1), n_cs),
                "phase": ("phase", np.tile((phases == PHASES[1]).astype(np.intp), n_cs)),
                "client_affect": affect[..., 0].ravel(),
                "therapist_affect": affect[..., 1].ravel(),
            },
            _id_labels(d),
            keep,
        )

    # tables --------------------------------------------------------------------------
    labels = _id_labels(d)
    therapists_df = _frame(
        {
            "therapist": ("therapist", np.arange(n_t)),
            "trait_affect_sharing": traits[:, 0],
            "trait_mentalizing": traits[:, 1],
            "trait_empathic_concern": traits[:, 2],
            "regulation": regulation,
        },
        labels,
    )
    clients_df = _frame(
        {
            "therapist": ("therapist", t_of_c),
            "client": ("client", np.arange(n_c)),
            "intervention": ("intervention", arm),
            "severity": severity,
            "post_outcome": post_outcome,
        },
        labels,
    )
    sessions_df = _frame(
        {
            "therapist": ("therapist", t_of_s),
            "client": ("client", c_of_s),
            "session": session_number,
            "intervention": ("intervention", arm[c_of_s]),
            **{k: x_client[:, i] for i, k in enumerate(SUBCOMPONENTS)},
            "empathy": empathy,
            "alliance": x_client[:, 3],
            "outcome": outcome,
        },
        labels,
    )
    ratings_df = None
    if d.include_ratings:
        row_session = np.repeat(np.arange(n_cs), n_r)
        flat = x.reshape(n_cs * n_r, len(MEASURES))
        ratings_df = _frame(
            {
                "therapist": ("therapist", t_of_s[row_session]),
                "client": ("client", c_of_s[row_session]),
                "session": session_number[row_session],
                "rater": ("rater", np.tile(np.arange(n_r), n_cs)),
                **{k: flat[:, i] for i, k in enumerate(MEASURES)},
            },
            labels,
        )

    # truth ---------------------------------------------------------------------------
    therapist_ids = _id_labels(d)["therapist"].tolist()
    form_truth = _truth_form(d)
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
        "circuit": _truth_circuit(d, therapist_ids, phi_tc, throttle, eta, max_eig),
        "clipped": {
            "applied": bool(d.clip_ratings),
            "bounds": [d.rating_min, d.rating_max],
            "counts": {
                RATERS[r]: {k: int(below[r, i] + above[r, i]) for i, k in enumerate(MEASURES)}
                for r in range(n_r)
            },
            "total": int(below.sum() + above.sum()),
        },
        "missing": {"moments_deleted": n_deleted, "outcomes_missing": n_missing_outcome},
        "n_rows": {
            "therapists": n_t,
            "clients": n_c,
            "sessions": n_cs,
            "ratings": n_cs * n_r if d.include_ratings else 0,
            "moments": 0 if moments_df is None else len(moments_df),
        },
    }
    return SimulatedStudy(
        therapists=therapists_df,
        clients=clients_df,
        sessions=sessions_df,
        ratings=ratings_df,
        moments=moments_df,
        truth=_tidy(truth),
        design=d,
        seed=seed,
    )


def _standardize(v: np.ndarray) -> np.ndarray:
    sd = v.std(ddof=1)
    return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)


def _id_labels(design: StudyDesign) -> dict[str, Any]:
    n_t, n_k = design.n_therapists, design.clients_per_therapist
    therapist = _labels("T", n_t, max(3, len(str(n_t))))
    suffix = _labels("_C", n_k, max(2, len(str(n_k))))
    client = np.strings.add(np.repeat(therapist, n_k), np.tile(suffix, n_t))
    return {
        "therapist": _str_array(therapist),
        "client": _str_array(client),
        "intervention": _str_array(np.array(INTERVENTIONS)),
        "rater": _str_array(np.array(RATERS)),
        "phase": _str_array(np.array(PHASES)),
    }


def _frame(
    columns: dict[str, Any], labels: dict[str, Any], keep: np.ndarray | None = None
) -> pd.DataFrame:
    """Build a frame; ``(label_kind, codes)`` tuples become string columns."""
    data = {}
    for name, value in columns.items():
        if isinstance(value, tuple):
            kind, codes = value
            if keep is not None:
                codes = codes[keep]
            data[name] = labels[kind].take(np.asarray(codes, dtype=np.intp))
        else:
            arr = np.asarray(value)
            data[name] = arr[keep] if keep is not None else arr
    return pd.DataFrame(data)


def _simulate_circuit(
    design: StudyDesign, phi: np.ndarray, t_of_series: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Centered VAR(1) states ``[series, moment, 2]`` and the phase labels of the moments."""
    n_m = design.moments_per_session
    n = t_of_series.shape[0]
    phases = phase_labels(n_m)
    phase_idx = (phases == PHASES[1]).astype(int)
    s_c, s_t, r = design.sigma_client_affect, design.sigma_therapist_affect, design.innovation_corr
    sigma = np.array([[s_c**2, r * s_c * s_t], [r * s_c * s_t, s_t**2]])
    l_sigma = np.linalg.cholesky(sigma)
    l_stat = _stationary_chol(phi[:, phase_idx[0]], sigma)  # [therapist, 2, 2]
    phi_tc_series = phi[:, :, 1, 0][t_of_series]  # [series, phase]
    states = np.empty((n, n_m, 2))
    z0 = rng.standard_normal((n, 2))
    states[:, 0] = np.einsum("nij,nj->ni", l_stat[t_of_series], z0)
    for m in range(1, n_m):
        innov = rng.standard_normal((n, 2)) @ l_sigma.T
        prev_c, prev_t = states[:, m - 1, 0], states[:, m - 1, 1]
        states[:, m, 0] = design.phi_cc * prev_c + design.phi_ct * prev_t + innov[:, 0]
        states[:, m, 1] = (
            design.phi_tt * prev_t + phi_tc_series[:, phase_idx[m]] * prev_c + innov[:, 1]
        )
    return states, phases


# --------------------------------------------------------------------------------------
# Truth
# --------------------------------------------------------------------------------------


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
    return {lv: float(w @ c @ w) for lv, c in _level_cov(design).items()}


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
        _empathy_center(design),
    )
    return out


def _truth_raters(design: StudyDesign) -> dict[str, Any]:
    corr = _rater_corr(design)
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
    center = _empathy_center(design)
    level_var = _empathy_level_var(design)
    sd_emp = math.sqrt(sum(level_var.values()))
    q05, q95 = center - _Z95 * sd_emp, center + _Z95 * sd_emp
    f, fprime = _form_functions(design)
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
    # What an empathy-only model finds while the moderation term is on: E[moderation | empathy]
    # is linear in empathy at each level with slope sum_k mean_i slope[k, i] * p[k, level].
    slopes = design.slopes().mean(axis=1)
    covs = _level_cov(design)
    wvec = np.array([1 / 3, 1 / 3, 1 / 3, 0.0])
    by_level = {}
    for lv, c in covs.items():
        v = float(wvec @ c @ wvec)
        by_level[lv] = float(slopes @ (c @ wvec)[:3] / v) if v > 0 else 0.0
    c_tot = sum(covs.values())
    v_tot = float(wvec @ c_tot @ wvec)
    extra = float(slopes @ (c_tot @ wvec)[:3] / v_tot) if v_tot > 0 else 0.0
    bl_m = out["quadratic_approximation"]["beta_linear"] + extra
    bq_m = out["quadratic_approximation"]["beta_quadratic"]
    v_m = center - bl_m / (2.0 * bq_m) if bq_m > 1e-12 else None
    out["marginal"] = {
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
    return out


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
    design: StudyDesign,
    therapist_ids: Sequence[str],
    phi_tc: np.ndarray,
    throttle: np.ndarray,
    eta: np.ndarray,
    max_eig: float,
) -> dict[str, Any]:
    phases = phase_labels(design.moments_per_session)
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
        "max_abs_eigenvalue": max_eig,
        "phase_by_moment": phases.tolist(),
        "trait_standardization": "sample mean and SD (ddof=1) across the study's therapists",
        "note": (
            "latent person-mean centered VAR(1), state (client_affect, therapist_affect); "
            "phi_tc[t, phase] = gamma_0 + gamma_phase + gamma_affect_sharing * z(trait) + "
            "eta_t (+ gamma_regulation_exposure * z(regulation) in exposure); throttle = "
            "exposure minus processing coupling; lags restart every session"
        ),
    }


# --------------------------------------------------------------------------------------
# Shipped data
# --------------------------------------------------------------------------------------


def shipped_study_path() -> Path | None:
    """Path of the repository's ``data/simulated_study`` if present, else ``None``."""
    path = Path(__file__).resolve().parents[2] / "data" / "simulated_study"
    return path if (path / "sessions.csv").is_file() and (path / "design.json").is_file() else None


def load_shipped_study() -> SimulatedStudy:
    """The shipped study: read from ``data/simulated_study``, or regenerated from its seed.

    When the package is installed without the repository the study is simulated in memory
    (seed ``SHIPPED_SEED``, :func:`shipped_design`) and passed through the same CSV
    formatting, so both routes give the same values.
    """
    path = shipped_study_path()
    if path is not None:
        return SimulatedStudy.read(path)
    return simulate_study(shipped_design(), seed=SHIPPED_SEED).roundtrip()


def write_shipped_study(directory: str | Path | None = None) -> Path:
    """(Re)write the shipped study and its data card (default: ``<repo>/data/simulated_study``)."""
    if directory is None:
        directory = Path(__file__).resolve().parents[2] / "data" / "simulated_study"
    study = simulate_study(shipped_design(), seed=SHIPPED_SEED)
    return study.write(directory, data_card=True, command=_SHIPPED_COMMAND)


# --------------------------------------------------------------------------------------
# Data card
# --------------------------------------------------------------------------------------

_COLUMN_DOCS: dict[str, dict[str, str]] = {
    "therapists": {
        "therapist": "therapist id (`T001`, ...)",
        "trait_affect_sharing": "trait affect sharing (standard normal scale); the client-rated therapist effect on `affect_sharing` is `sd_therapist_affect_sharing` times this",
        "trait_mentalizing": "trait mentalizing (standard normal), likewise for `mentalizing`",
        "trait_empathic_concern": "trait empathic concern (standard normal), likewise for `empathic_concern`",
        "regulation": "empathy-regulation skill (standard normal); correlates `corr_regulation_phi_tc` with the therapist's coupling effect `eta`",
    },
    "clients": {
        "therapist": "therapist id",
        "client": "client id, globally unique (`T001_C01`): each client has one therapist",
        "intervention": "`ERP` (exposure and response prevention) or `MI` (motivational interviewing), balanced within therapist",
        "severity": "baseline symptom severity (symptom scale)",
        "post_outcome": "post-treatment symptom score (higher = worse)",
    },
    "sessions": {
        "therapist": "therapist id",
        "client": "client id",
        "session": "session number 1..S",
        "intervention": "the client's intervention",
        "affect_sharing": "client-rated affect sharing (continuous 1-7)",
        "mentalizing": "client-rated mentalizing (1-7)",
        "empathic_concern": "client-rated empathic concern (1-7)",
        "empathy": "mean of the three client-rated subcomponents (computed before rounding)",
        "alliance": "client-rated alliance (1-7)",
        "outcome": "session symptom score (higher = worse)",
    },
    "ratings": {
        "therapist": "therapist id",
        "client": "client id",
        "session": "session number",
        "rater": "`client`, `therapist` or `observer`; the `client` rows equal the `sessions` table",
        "affect_sharing": "rating (1-7)",
        "mentalizing": "rating (1-7)",
        "empathic_concern": "rating (1-7)",
        "alliance": "rating (1-7)",
    },
    "moments": {
        "therapist": "therapist id",
        "client": "client id",
        "session": "session number",
        "moment": "EMA prompt 1..M inside the session",
        "phase": "`processing` (first and last M//3 moments) or `exposure` (the middle ones), in every session",
        "client_affect": "client affect (centered scale, mean 0 across dyads)",
        "therapist_affect": "therapist affect (centered scale)",
    },
}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def data_card(study: SimulatedStudy, command: str | None = None) -> str:
    """Markdown data card of a simulated study: files, columns, parameters and truth.

    Parameters
    ----------
    study
        The study.
    command
        The command that regenerates it (default: the ``python -m`` form with its seed
        and every design field that differs from the defaults).

    Returns
    -------
    str
        The card's Markdown text.
    """
    return _render_data_card(study, command)


def _render_data_card(study: SimulatedStudy, command: str | None) -> str:
    d, t = study.design, study.truth
    command = command or (
        f"python -m empathy_models.data.simulate --out <folder> --seed {study.seed}"
        + "".join(
            f" --set {k}={json.dumps(v)}"
            for k, v in d.to_dict().items()
            if v != getattr(StudyDesign(), k)
        )
    )
    lines = [
        "# Simulated study: data card",
        "",
        "Simulated psychotherapy process study with known truth, written by "
        "`empathy_models.data.simulate` (see that module's docstring for the full generative "
        "model). Nothing in it is real data.",
        "",
        f"* Seed: `{study.seed}`",
        f"* Design: {d.n_therapists} therapists x {d.clients_per_therapist} clients x "
        f"{d.sessions_per_client} sessions x {d.moments_per_session} EMA moments; "
        f"true form `{d.form}`.",
        f"* Terms of the session outcome that are on: alliance = {d.alliance_effects}, "
        f"moderation = {d.moderation_effects}, form = {d.form_effect}.",
        "* Regenerate (from the repository root, with the package installed):",
        "",
        "  ```",
        f"  {command}",
        "  ```",
        "",
        "  (equivalently `python scripts/make_shipped_data.py` for the shipped study). The "
        "files are byte-identical on every run.",
        "* Floats are written with 4 decimals; `truth.json` holds the true values at full "
        "precision, `design.json` the seed and every generating parameter.",
        f"* Ratings clipped to [{d.rating_min:g}, {d.rating_max:g}]: "
        f"{t['clipped']['total']} values; moments deleted: {t['missing']['moments_deleted']}; "
        f"outcomes missing: {t['missing']['outcomes_missing']}.",
        "",
        "## Files and columns",
        "",
    ]
    for name, frame in study.tables().items():
        lines += [f"### `{name}.csv` ({len(frame)} rows)", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {_COLUMN_DOCS[name].get(c, '')} |" for c in frame.columns]
        lines.append("")
    lines += [
        "`truth.json`: the true parameters, named as the models name them; `design.json`: seed "
        "and design.",
        "",
        "## Generative model (short)",
        "",
        "* ratings: `x = mu_k + offset_rater + therapist + client + session` effects, SDs "
        "below; effects correlated across raters and subcomponents at each level; alliance "
        "independent of the subcomponents.",
        "* session outcome: `Intercept + beta_severity (severity - severity_mean) + u_t + u_c - "
        "time_slope (session - 1) + sum_k slope[k, intervention] (x_k - mu_k) + f(empathy) + "
        "beta_T a_t + beta_C b_c + beta_S d_cs + e` (a_t, b_c, d_cs: latent therapist mean, "
        "client deviation and session state of client-rated alliance).",
        "* post outcome: `post_intercept + post_beta_severity (severity - severity_mean) + "
        "post_beta_T a_t + post_beta_C b_c + u_t + e`.",
        "* EMA: latent-mean-centered VAR(1) of (client, therapist) affect per session, "
        "`phi_tc[t, phase] = gamma_0 + gamma_phase + gamma_affect_sharing z(trait AS) + eta_t`; "
        "the first moment of each session is drawn from the stationary distribution, so lags "
        "never cross sessions.",
        "",
        "## Generating parameters (`StudyDesign`)",
        "",
        "| parameter | value |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | {_fmt(v)} |" for k, v in d.to_dict().items()]
    lines += ["", "## True values", ""]
    lines += ["### Variance partition of client-rated measures (`truth['variance']`)", ""]
    keys = (
        "sd_therapist",
        "sd_client",
        "sigma",
        "share_therapist",
        "share_client",
        "share_residual",
        "Intercept",
    )
    lines += ["| measure | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for m, v in t["variance"].items():
        lines.append(f"| {m} | " + " | ".join(f"{v[k]:.4f}" for k in keys) + " |")
    lines += [
        "",
        "### Alliance contributions (`truth['contributions']`, `truth['contributions_client']`)",
        "",
    ]
    for block in ("contributions", "contributions_client"):
        vals = {
            k: v
            for k, v in t[block].items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        lines.append(f"* `{block}`: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in vals.items()))
    lines += ["", "### Moderation (`truth['moderation']`)", ""]
    lines += [
        "| subcomponent | ERP | MI | MI_minus_ERP | marginal ERP | marginal MI |",
        "|---|---|---|---|---|---|",
    ]
    mod = t["moderation"]
    for k in SUBCOMPONENTS:
        lines.append(
            f"| {k} | {mod['slope'][k]['ERP']:.4f} | {mod['slope'][k]['MI']:.4f} | "
            f"{mod['contrast'][k]['MI_minus_ERP']:.4f} | {mod['marginal']['slope'][k]['ERP']:.4f} | "
            f"{mod['marginal']['slope'][k]['MI']:.4f} |"
        )
    lines += [
        "",
        "Slopes multiply the total deviation of the client-rated subcomponent from its design "
        'mean (`mu_<subcomponent>`); "marginal" = what a model linear in the subcomponents '
        "recovers while the form term is on.",
        "",
        "### Functional form (`truth['form']`)",
        "",
    ]
    form = t["form"]
    for k in (
        "form",
        "term",
        "center",
        "beta_linear",
        "beta_quadratic",
        "beta_linear_raw",
        "vertex",
        "vertex_in_range",
        "slope_below_vertex",
        "slope_above_vertex",
        "empathy_sd",
        "empathy_q05",
        "empathy_q95",
    ):
        if k in form:
            lines.append(f"* `{k}`: {_fmt(form[k])}")
    marg = form["marginal"]
    lines.append(
        f"* `marginal` (empathy-only model with the moderation term on): beta_linear = "
        f"{_fmt(marg['beta_linear'])}, beta_quadratic = {_fmt(marg['beta_quadratic'])}, "
        f"vertex = {_fmt(marg['vertex'])}"
    )
    lines += ["", "### Emotional circuit (`truth['circuit']`)", ""]
    circ = t["circuit"]
    for k in (
        "phi_cc",
        "phi_tt",
        "phi_ct",
        "phi_tc_mean",
        "sd_phi_tc",
        "gamma_affect_sharing",
        "throttle",
        "innovation_corr",
        "sigma_client",
        "sigma_therapist",
        "max_abs_eigenvalue",
    ):
        lines.append(f"* `{k}`: {_fmt(circ[k])}")
    lines += [
        "* per-therapist couplings: `truth['circuit']['phi_tc']` (therapist -> phase -> value)",
        "",
        "### Outcomes",
        "",
        "* `outcome`: "
        + ", ".join(
            f"{k} = {_fmt(v)}" for k, v in t["outcome"].items() if k not in ("note", "terms_on")
        ),
        "* `post_outcome`: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in t["post_outcome"].items()),
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m empathy_models.data.simulate --out DIR [--seed N] [--set KEY=VALUE ...]``."""
    parser = argparse.ArgumentParser(
        prog="python -m empathy_models.data.simulate",
        description="Simulate a psychotherapy process study with known truth.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    parser.add_argument("--seed", type=int, default=SHIPPED_SEED, help="random seed")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a StudyDesign field (VALUE parsed as JSON, else as a string)",
    )
    parser.add_argument("--no-data-card", action="store_true", help="skip DATA_CARD.md")
    args = parser.parse_args(argv)
    changes: dict[str, Any] = {}
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep:
            parser.error(f"--set expects KEY=VALUE, got {item!r}")
        try:
            changes[key] = json.loads(raw)
        except json.JSONDecodeError:
            changes[key] = raw
    design = StudyDesign().replace(**changes)
    study = simulate_study(design, seed=args.seed)
    command = (
        f"python -m empathy_models.data.simulate --out {args.out.as_posix()} --seed {args.seed}"
    )
    command += "".join(f" --set {k}={json.dumps(v)}" for k, v in changes.items())
    study.write(args.out, data_card=not args.no_data_card, command=command)
    print(f"wrote simulated study (seed {args.seed}) to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
