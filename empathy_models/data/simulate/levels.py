"""Therapist, client and session level draws of the study simulator.

Each level's standard-normal effects have the shape ``[unit, rater, measure]``: correlated
across the four measures (the three subcomponents equally, alliance independent) and across
raters (equally), with the client rater's effects drawn first from the level's own stream so
that switching the other raters off changes nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from empathy_models.data.simulate.design import LEVELS, MEASURES, RATERS, StudyDesign
from empathy_models.errors import ConfigError


@dataclass(frozen=True)
class Layout:
    """Sizes and index maps of a study: client -> therapist, session -> client/therapist."""

    n_therapists: int
    clients_per_therapist: int
    sessions_per_client: int
    moments_per_session: int
    n_raters: int
    therapist_of_client: np.ndarray
    client_of_session: np.ndarray
    therapist_of_session: np.ndarray
    session_number: np.ndarray

    @classmethod
    def of(cls, design: StudyDesign) -> Layout:
        n_t, n_k, n_s = (
            design.n_therapists,
            design.clients_per_therapist,
            design.sessions_per_client,
        )
        n_c = n_t * n_k
        t_of_c = np.repeat(np.arange(n_t), n_k)
        c_of_s = np.repeat(np.arange(n_c), n_s)
        return cls(
            n_therapists=n_t,
            clients_per_therapist=n_k,
            sessions_per_client=n_s,
            moments_per_session=design.moments_per_session,
            n_raters=len(RATERS) if design.include_ratings else 1,
            therapist_of_client=t_of_c,
            client_of_session=c_of_s,
            therapist_of_session=t_of_c[c_of_s],
            session_number=np.tile(np.arange(1, n_s + 1), n_c),
        )

    @property
    def n_clients(self) -> int:
        return self.n_therapists * self.clients_per_therapist

    @property
    def n_sessions(self) -> int:
        return self.n_clients * self.sessions_per_client


# --- correlation structure ------------------------------------------------------------


def equicorr(n: int, rho: float) -> np.ndarray:
    """``n x n`` correlation matrix with every off-diagonal element ``rho``."""
    return (1.0 - rho) * np.eye(n) + rho * np.ones((n, n))


def measure_corr(rho_sub: float) -> np.ndarray:
    """4 x 4 correlation of (three subcomponents, alliance) at one level."""
    r = np.eye(len(MEASURES))
    r[:3, :3] = equicorr(3, rho_sub)
    return r


def chol(matrix: np.ndarray, what: str) -> np.ndarray:
    """Cholesky factor; a matrix that is not positive definite is a :class:`ConfigError`."""
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError as err:  # pragma: no cover - guarded by design checks
        raise ConfigError(f"{what} is not positive definite") from err


def level_corr(design: StudyDesign) -> dict[str, float]:
    """Equal correlation of the three subcomponents at each level."""
    return {
        "therapist": design.trait_corr,
        "client": design.client_subcomponent_corr,
        "session": design.session_subcomponent_corr,
    }


def rater_corr(design: StudyDesign) -> dict[str, float]:
    """Equal correlation of the raters' effects at each level."""
    return {
        "therapist": design.rater_corr_therapist,
        "client": design.rater_corr_client,
        "session": design.rater_corr_session,
    }


def level_sd(design: StudyDesign) -> np.ndarray:
    """SDs ``[level, measure]`` of the client-rated measures."""
    p = [design.measure_parameters(k) for k in MEASURES]
    return np.array(
        [[q["sd_therapist"] for q in p], [q["sd_client"] for q in p], [q["sigma"] for q in p]]
    )


def level_cov(design: StudyDesign) -> dict[str, np.ndarray]:
    """Population covariance of the four client-rated measures at each level."""
    sd = level_sd(design)
    rho = level_corr(design)
    return {
        level: np.outer(sd[i], sd[i]) * measure_corr(rho[level]) for i, level in enumerate(LEVELS)
    }


# --- draws ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Levels:
    """Level draws: therapist traits, client arms and severity, standardized effects.

    ``z_therapist`` ``[therapist, rater, measure]``, ``z_client`` ``[client, rater,
    measure]`` and ``z_session`` ``[session, rater, measure]`` are standard normal (the
    session part with its AR(1) applied); ``arm`` is 0 for ERP and 1 for MI.
    """

    traits: np.ndarray
    regulation: np.ndarray
    z_therapist: np.ndarray
    arm: np.ndarray
    severity: np.ndarray
    z_client: np.ndarray
    z_session: np.ndarray


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


def _balanced_arms(rng: np.random.Generator, n_t: int, n_k: int) -> np.ndarray:
    """Each therapist's clients in balanced, randomly ordered ERP/MI halves (0 = ERP)."""
    extra = rng.integers(0, 2, size=n_t)
    base = (np.arange(n_k)[None, :] + extra[:, None]) % 2
    order = np.argsort(rng.random((n_t, n_k)), axis=1)
    return np.take_along_axis(base, order, axis=1).ravel()


def draw_levels(design: StudyDesign, layout: Layout, rng: dict[str, np.random.Generator]) -> Levels:
    """Therapists (1), clients (2) and session-level deviations (3) of the generative model.

    Uses the streams ``therapists``, ``clients``, ``client_effects``, ``session_effects``
    and (for the therapist and observer raters) ``raters``, in that order.
    """
    d = design
    n_t, n_c = layout.n_therapists, layout.n_clients
    n_s, n_r = layout.sessions_per_client, layout.n_raters
    rho, rho_r = level_corr(d), rater_corr(d)
    meas_chol = {
        lv: chol(measure_corr(rho[lv]), f"the {lv}-level measure correlation") for lv in LEVELS
    }
    rater_chol = {
        lv: chol(equicorr(len(RATERS), rho_r[lv]), f"the {lv}-level rater correlation")
        for lv in LEVELS
    }
    rng_raters = rng["raters"] if d.include_ratings else None

    g = rng["therapists"]
    traits = g.standard_normal((n_t, 3)) @ chol(equicorr(3, d.trait_corr), "trait correlation").T
    regulation = g.standard_normal(n_t)
    w_t = np.column_stack([traits, g.standard_normal(n_t)])
    z_t = _level_draws(w_t, rng_raters, meas_chol["therapist"], rater_chol["therapist"])

    g = rng["clients"]
    arm = _balanced_arms(g, n_t, layout.clients_per_therapist)
    severity = d.severity_mean + d.severity_sd * g.standard_normal(n_c)
    w_c = rng["client_effects"].standard_normal((n_c, len(MEASURES))) @ meas_chol["client"].T
    z_c = _level_draws(w_c, rng_raters, meas_chol["client"], rater_chol["client"])

    w_s = rng["session_effects"].standard_normal((n_c, n_s, len(MEASURES))) @ meas_chol["session"].T
    eps = _level_draws(w_s, rng_raters, meas_chol["session"], rater_chol["session"])
    if d.residual_ar1 != 0.0:
        scale = math.sqrt(1.0 - d.residual_ar1**2)
        for s in range(1, n_s):
            eps[:, s] = d.residual_ar1 * eps[:, s - 1] + scale * eps[:, s]
    z_s = eps.reshape(layout.n_sessions, n_r, len(MEASURES))
    return Levels(traits, regulation, z_t, arm, severity, z_c, z_s)


__all__ = [
    "Layout",
    "Levels",
    "chol",
    "draw_levels",
    "equicorr",
    "level_corr",
    "level_cov",
    "level_sd",
    "measure_corr",
    "rater_corr",
]
