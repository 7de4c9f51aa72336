"""Session ratings by rater: ``x = mu + offset_rater + therapist + client + session`` effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from empathy_models.data.simulate.design import MEASURES, StudyDesign
from empathy_models.data.simulate.levels import Layout, Levels, level_sd


@dataclass(frozen=True)
class Ratings:
    """Session ratings ``x[session, rater, measure]`` (clipped when the design says so) and
    the counts of values below / above the scale bounds before clipping (``[rater, measure]``).
    """

    x: np.ndarray
    below: np.ndarray
    above: np.ndarray

    @property
    def client(self) -> np.ndarray:
        """Client-rated values ``[session, measure]`` (the ``sessions`` table)."""
        return self.x[:, 0, :]

    @property
    def empathy(self) -> np.ndarray:
        """Mean of the three client-rated subcomponents."""
        return self.client[:, :3].mean(axis=1)


def measure_means(design: StudyDesign) -> np.ndarray:
    """Client-rated grand means ``mu_k`` of the four measures."""
    return np.array([design.measure_parameters(k)["mu"] for k in MEASURES])


def session_ratings(design: StudyDesign, layout: Layout, levels: Levels) -> Ratings:
    """Every rater's session ratings of the four measures (step 3 of the generative model)."""
    d = design
    sd = level_sd(d)
    mu = measure_means(d)
    offsets = d.rater_offsets()[: layout.n_raters]
    x = (
        mu[None, None, :]
        + offsets[None, :, None]
        + sd[0] * levels.z_therapist[layout.therapist_of_session]
        + sd[1] * levels.z_client[layout.client_of_session]
        + sd[2] * levels.z_session
    )
    below = (x < d.rating_min).sum(axis=0)
    above = (x > d.rating_max).sum(axis=0)
    if d.clip_ratings:
        np.clip(x, d.rating_min, d.rating_max, out=x)
    return Ratings(x, below, above)


__all__ = ["Ratings", "measure_means", "session_ratings"]
