"""The study design: every generating parameter of a simulated study, and the shipped one."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from empathy_models import defaults
from empathy_models._io import to_plain
from empathy_models.errors import ConfigError

SUBCOMPONENTS: tuple[str, ...] = ("affect_sharing", "mentalizing", "empathic_concern")
MEASURES: tuple[str, ...] = (*SUBCOMPONENTS, "alliance")
INTERVENTIONS: tuple[str, ...] = ("ERP", "MI")
RATERS: tuple[str, ...] = ("client", "therapist", "observer")
PHASES: tuple[str, ...] = ("processing", "exposure")
FORMS: tuple[str, ...] = ("inverted_u", "linear", "saturating")
LEVELS: tuple[str, ...] = ("therapist", "client", "session")

#: Seed of the shipped study: :data:`empathy_models.defaults.SHIPPED_SEED`, re-exported here.
SHIPPED_SEED = defaults.SHIPPED_SEED


@dataclass(frozen=True)
class StudyDesign:
    """Every generating parameter of a simulated study (see :mod:`empathy_models.data.simulate`).

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
        _check_types(self)
        _check_sizes(self)
        _check_scales(self)
        _check_correlations(self)
        _check_form(self)

    # --- conversions -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain, JSON-serializable dict."""
        return {k: to_plain(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StudyDesign:
        """Inverse of :meth:`to_dict`; an unknown key is a :class:`ConfigError`."""
        _check_names(cls, d)
        return cls(**d)

    def replace(self, **changes: Any) -> StudyDesign:
        """A copy with some fields changed (an unknown name is a :class:`ConfigError`)."""
        _check_names(type(self), changes)
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


# --- validation, in stages (the first failing check raises) -----------------------------

#: Smallest allowed value of the size fields.
_MINIMUM = {
    "n_therapists": 2,
    "clients_per_therapist": 1,
    "sessions_per_client": 1,
    "moments_per_session": 0,
    "session_effect_lag": 0,
}
_NONNEGATIVE = ("severity_sd", "post_sigma", "saturating_amplitude")
_POSITIVE = ("sigma_client_affect", "sigma_therapist_affect", "saturating_rate")
_OPEN_UNIT = ("residual_ar1", "innovation_corr", "corr_regulation_phi_tc")
_EQUICORRELATIONS = (
    "trait_corr",
    "client_subcomponent_corr",
    "session_subcomponent_corr",
    "rater_corr_therapist",
    "rater_corr_client",
    "rater_corr_session",
)
_RATES = ("missing_moment_rate", "missing_outcome_rate")


def _fail(name: str, requirement: str, value: Any) -> None:
    raise ConfigError(f"StudyDesign.{name} must {requirement}, got {value!r}")


def _check_names(cls: type, d: dict[str, Any]) -> None:
    unknown = sorted(set(d) - {f.name for f in fields(cls)})
    if unknown:
        raise ConfigError(f"unknown StudyDesign fields {unknown}")


def _check_types(d: StudyDesign) -> None:
    """Integers, booleans and finite numbers where the field's type says so."""
    for f in fields(d):
        value = getattr(d, f.name)
        if f.type in ("int", int):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                _fail(f.name, "be an integer", value)
        elif f.type in ("bool", bool):
            if not isinstance(value, bool | np.bool_):
                _fail(f.name, "be True or False", value)
        elif f.type in ("float", float):
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                _fail(f.name, "be a number", value)
            if not math.isfinite(float(value)):
                _fail(f.name, "be finite", value)


def _check_sizes(d: StudyDesign) -> None:
    if d.form not in FORMS:
        raise ConfigError(f"StudyDesign.form must be one of {FORMS}, got {d.form!r}")
    for name, low in _MINIMUM.items():
        if getattr(d, name) < low:
            raise ConfigError(f"StudyDesign.{name} must be >= {low}, got {getattr(d, name)}")


def _check_scales(d: StudyDesign) -> None:
    """SDs non-negative, innovation SDs and the saturation rate positive."""
    for f in fields(d):
        is_sd = f.name.startswith(("sd_", "sigma_", "post_sd_")) or f.name in _NONNEGATIVE
        if is_sd and getattr(d, f.name) < 0:
            raise ConfigError(f"StudyDesign.{f.name} must be >= 0, got {getattr(d, f.name)}")
    for name in _POSITIVE:
        if getattr(d, name) <= 0:
            raise ConfigError(f"StudyDesign.{name} must be > 0, got {getattr(d, name)}")


def _check_correlations(d: StudyDesign) -> None:
    """Correlations and AR coefficients in range, missingness rates in ``[0, 1)``."""
    for name in _OPEN_UNIT:
        if not -1 < getattr(d, name) < 1:
            raise ConfigError(f"StudyDesign.{name} must lie in (-1, 1), got {getattr(d, name)}")
    for name in _EQUICORRELATIONS:
        if not -0.5 < getattr(d, name) < 1:
            raise ConfigError(
                f"StudyDesign.{name} must lie in (-0.5, 1) (an equal correlation of three "
                f"variables), got {getattr(d, name)}"
            )
    for name in _RATES:
        if not 0 <= getattr(d, name) < 1:
            raise ConfigError(f"StudyDesign.{name} must lie in [0, 1), got {getattr(d, name)}")


def _check_form(d: StudyDesign) -> None:
    if not d.rating_min < d.rating_max:
        raise ConfigError("StudyDesign.rating_min must be below rating_max")
    if d.form == "inverted_u" and d.form_quadratic <= 0:
        raise ConfigError(
            "StudyDesign.form_quadratic must be > 0 for form='inverted_u' (symptoms "
            "U-shaped, benefit inverted-U)"
        )


__all__ = [
    "FORMS",
    "INTERVENTIONS",
    "LEVELS",
    "MEASURES",
    "PHASES",
    "RATERS",
    "SHIPPED_SEED",
    "SUBCOMPONENTS",
    "StudyDesign",
    "shipped_design",
]
