"""EMA moments of the study simulator (step 6): the therapists' couplings, the dyad means
and the within-session VAR(1) process of :mod:`empathy_models.data.simulate.circuit`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from empathy_models.data.simulate.circuit import (
    innovation_cov,
    phase_labels,
    phi_matrices,
    standardize,
    stationary_start,
    var_states,
)
from empathy_models.data.simulate.design import PHASES, StudyDesign
from empathy_models.data.simulate.levels import Layout, Levels
from empathy_models.errors import ConfigError


@dataclass(frozen=True)
class CircuitDraws:
    """Therapist couplings and the standard-normal parts of the dyad means.

    ``phi_tc`` ``[therapist, phase]``, ``throttle`` (exposure minus processing coupling),
    ``eta`` (therapist random effect), ``phi`` ``[therapist, phase, 2, 2]``, ``max_eig``
    (largest eigenvalue modulus of any ``phi``) and ``z_mean_*`` (``[unit, 2]``).
    """

    phi_tc: np.ndarray
    throttle: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    max_eig: float
    z_mean_therapist: np.ndarray
    z_mean_client: np.ndarray
    z_mean_session: np.ndarray


def circuit_parameters(
    design: StudyDesign, layout: Layout, levels: Levels, rng: np.random.Generator
) -> CircuitDraws:
    """Couplings ``phi_tc[t, phase]`` from the therapist traits (stream ``circuit``).

    Raises :class:`ConfigError` when some therapist's VAR is not stable.
    """
    d = design
    n_t = layout.n_therapists
    eta_noise = rng.standard_normal(n_t)
    mean_t = rng.standard_normal((n_t, 2))
    mean_c = rng.standard_normal((layout.n_clients, 2))
    mean_s = rng.standard_normal((layout.n_sessions, 2))
    z_as = standardize(levels.traits[:, 0])
    z_reg = standardize(levels.regulation)
    r_eta = d.corr_regulation_phi_tc
    eta = d.sd_phi_tc * (r_eta * levels.regulation + math.sqrt(1.0 - r_eta**2) * eta_noise)
    gamma_phase = np.array([0.0, d.gamma_exposure])
    phi_tc = (
        d.gamma_0
        + gamma_phase[None, :]
        + (d.gamma_affect_sharing * z_as + eta)[:, None]
        + np.outer(z_reg, [0.0, d.gamma_regulation_exposure])
    )
    phi = phi_matrices(d.phi_cc, d.phi_tt, d.phi_ct, phi_tc)
    max_eig = float(np.abs(np.linalg.eigvals(phi)).max())
    if max_eig >= 1.0:
        raise ConfigError(
            f"the emotional-circuit VAR is not stable for some therapist and phase (largest "
            f"eigenvalue modulus {max_eig:.3f} >= 1): lower phi_cc, phi_tt, phi_ct, gamma_0 "
            f"or the spread of phi_tc (sd_phi_tc, gamma_affect_sharing)"
        )
    throttle = phi_tc[:, 1] - phi_tc[:, 0]
    return CircuitDraws(phi_tc, throttle, eta, phi, max_eig, mean_t, mean_c, mean_s)


def dyad_means(design: StudyDesign, layout: Layout, circuit: CircuitDraws) -> np.ndarray:
    """Mean of (client, therapist) affect in every session ``[session, 2]``: therapist,
    client and session parts."""
    d = design
    sd_mean = np.array(
        [
            [d.sd_therapist_client_affect, d.sd_therapist_therapist_affect],
            [d.sd_client_client_affect, d.sd_client_therapist_affect],
            [d.sd_session_affect, d.sd_session_affect],
        ]
    )
    return (
        sd_mean[0] * circuit.z_mean_therapist[layout.therapist_of_session]
        + sd_mean[1] * circuit.z_mean_client[layout.client_of_session]
        + sd_mean[2] * circuit.z_mean_session
    )


def moment_affect(
    design: StudyDesign, layout: Layout, circuit: CircuitDraws, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Affect ``[session, moment, (client, therapist)]`` and the phase of each moment.

    Each session's first moment comes from the stationary distribution of its therapist's
    VAR in the first moment's phase (stream ``moments``).
    """
    d = design
    phases = phase_labels(layout.moments_per_session)
    phase_idx = (phases == PHASES[1]).astype(int)
    sigma = innovation_cov(d.sigma_client_affect, d.sigma_therapist_affect, d.innovation_corr)
    t_of_s = layout.therapist_of_session
    first = stationary_start(rng, circuit.phi[:, phase_idx[0]], sigma, t_of_s)
    states = var_states(
        rng,
        first,
        circuit.phi_tc[t_of_s],
        phase_idx,
        phi_cc=d.phi_cc,
        phi_tt=d.phi_tt,
        phi_ct=d.phi_ct,
        sigma=sigma,
    )
    return states + dyad_means(d, layout, circuit)[:, None, :], phases


__all__ = ["CircuitDraws", "circuit_parameters", "dyad_means", "moment_affect"]
