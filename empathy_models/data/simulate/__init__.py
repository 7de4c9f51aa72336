"""Seeded simulators with known truth: whole studies, and one small generator per family.

One call, :func:`simulate_study`, draws a whole study from a generative model of the
process the package's models describe, and returns the data tables together with the true
parameter values, named as the models name them (``study.truth``). Beside it, each model
family has one small generator in its own module: a function that draws data given the
parameters and a random generator (``<family>_data``), used by the family's seeded
``simulate_*`` function and by its simulation-based calibration
(:mod:`empathy_models.studies.sbc`):

=============================  ===========================================================
module                         contents
=============================  ===========================================================
``design``                     :class:`StudyDesign`, :func:`shipped_design`, ``SHIPPED_SEED``
``levels``                     therapist, client and session level draws
``ratings``                    session ratings by rater
``outcomes``                   functional form, moderated session outcome, post outcome
``moments``                    the study's EMA moments (couplings, dyad means)
``circuit``                    the within-session VAR process; :func:`simulate_circuit`
``truths``                     the true values (``study.truth``)
``tables``, ``card``           the study's tables and its Markdown data card
``study``                      :func:`simulate_study`, :class:`SimulatedStudy`, files,
                               the shipped study
``variance``, ``raters``,      the families' small generators: :func:`simulate_variance`,
``contributions``, ``form``,   :func:`simulate_raters`, :func:`simulate_contributions`,
``moderation``, ``meta``,      :func:`simulate_form_data`, :func:`simulate_moderation_data`,
``agreement``, ``comparison``  :func:`simulate_meta`, :func:`simulate_agreement`,
                               :func:`simulate_comparison`
=============================  ===========================================================

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
per component (see :data:`STREAMS`), so e.g. changing ``moments_per_session`` or
``include_ratings`` leaves the session-level data unchanged, and toggling an effect switch
changes only the outcomes. Everything is vectorized; loops run only over sessions (AR(1))
and moments (VAR recursion), each vectorized across all dyads.
"""

from empathy_models.data.simulate.agreement import (
    agreement_data,
    agreement_truth,
    crossed_design,
    simulate_agreement,
)
from empathy_models.data.simulate.card import data_card
from empathy_models.data.simulate.circuit import (
    circuit_data,
    phase_labels,
    simulate_circuit,
    stationary_start,
    var_states,
)
from empathy_models.data.simulate.comparison import (
    comparison_data,
    comparison_design,
    comparison_truth,
    simulate_comparison,
)
from empathy_models.data.simulate.contributions import contributions_data, simulate_contributions
from empathy_models.data.simulate.design import (
    FORMS,
    INTERVENTIONS,
    LEVELS,
    MEASURES,
    PHASES,
    RATERS,
    SHIPPED_SEED,
    SUBCOMPONENTS,
    StudyDesign,
    shipped_design,
)
from empathy_models.data.simulate.form import form_data, simulate_form_data
from empathy_models.data.simulate.meta import meta_data, simulate_meta
from empathy_models.data.simulate.moderation import (
    draw_moderation_outcome,
    moderation_outcome,
    simulate_moderation_data,
)
from empathy_models.data.simulate.raters import raters_data, simulate_raters, to_wide
from empathy_models.data.simulate.study import (
    FLOAT_FORMAT,
    STREAMS,
    SimulatedStudy,
    load_shipped_study,
    shipped_study_path,
    simulate_study,
    write_shipped_study,
)
from empathy_models.data.simulate.tables import TABLES
from empathy_models.data.simulate.variance import simulate_variance, variance_data

__all__ = [
    "FLOAT_FORMAT",
    "FORMS",
    "INTERVENTIONS",
    "LEVELS",
    "MEASURES",
    "PHASES",
    "RATERS",
    "SHIPPED_SEED",
    "STREAMS",
    "SUBCOMPONENTS",
    "TABLES",
    "SimulatedStudy",
    "StudyDesign",
    "agreement_data",
    "agreement_truth",
    "circuit_data",
    "comparison_data",
    "comparison_design",
    "comparison_truth",
    "contributions_data",
    "crossed_design",
    "data_card",
    "draw_moderation_outcome",
    "form_data",
    "load_shipped_study",
    "meta_data",
    "moderation_outcome",
    "phase_labels",
    "raters_data",
    "shipped_design",
    "shipped_study_path",
    "simulate_circuit",
    "simulate_comparison",
    "simulate_agreement",
    "simulate_contributions",
    "simulate_form_data",
    "simulate_meta",
    "simulate_moderation_data",
    "simulate_raters",
    "simulate_study",
    "simulate_variance",
    "stationary_start",
    "to_wide",
    "var_states",
    "variance_data",
    "write_shipped_study",
]
