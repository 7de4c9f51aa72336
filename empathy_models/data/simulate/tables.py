"""The study's tables (``therapists`` ... ``moments``) from the simulated arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from empathy_models.data.simulate.design import (
    INTERVENTIONS,
    MEASURES,
    PHASES,
    RATERS,
    SUBCOMPONENTS,
    StudyDesign,
)
from empathy_models.data.simulate.levels import Layout, Levels
from empathy_models.data.simulate.ratings import Ratings

#: The tables of a study, in writing order.
TABLES: tuple[str, ...] = ("therapists", "clients", "sessions", "ratings", "moments")


def _labels(prefix: str, n: int, width: int) -> np.ndarray:
    numbers = np.strings.zfill(np.arange(1, n + 1).astype(np.str_), width)
    return np.strings.add(prefix, numbers)


def _str_array(labels: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(labels).astype(object), dtype="str")


def id_labels(design: StudyDesign) -> dict[str, Any]:
    """String labels of therapists (``T001``), clients (``T001_C01``), interventions, raters
    and phases, indexed by their integer codes."""
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


def frame(
    columns: dict[str, Any], labels: dict[str, Any], keep: np.ndarray | None = None
) -> pd.DataFrame:
    """Build a frame; ``(label_kind, codes)`` tuples become string columns; ``keep`` selects
    rows."""
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


def therapists_table(layout: Layout, levels: Levels, labels: dict[str, Any]) -> pd.DataFrame:
    traits = levels.traits
    return frame(
        {
            "therapist": ("therapist", np.arange(layout.n_therapists)),
            "trait_affect_sharing": traits[:, 0],
            "trait_mentalizing": traits[:, 1],
            "trait_empathic_concern": traits[:, 2],
            "regulation": levels.regulation,
        },
        labels,
    )


def clients_table(
    layout: Layout, levels: Levels, post_outcome: np.ndarray, labels: dict[str, Any]
) -> pd.DataFrame:
    return frame(
        {
            "therapist": ("therapist", layout.therapist_of_client),
            "client": ("client", np.arange(layout.n_clients)),
            "intervention": ("intervention", levels.arm),
            "severity": levels.severity,
            "post_outcome": post_outcome,
        },
        labels,
    )


def sessions_table(
    layout: Layout,
    levels: Levels,
    ratings: Ratings,
    outcome: np.ndarray,
    labels: dict[str, Any],
) -> pd.DataFrame:
    c_of_s, x_client = layout.client_of_session, ratings.client
    return frame(
        {
            "therapist": ("therapist", layout.therapist_of_session),
            "client": ("client", c_of_s),
            "session": layout.session_number,
            "intervention": ("intervention", levels.arm[c_of_s]),
            **{k: x_client[:, i] for i, k in enumerate(SUBCOMPONENTS)},
            "empathy": ratings.empathy,
            "alliance": x_client[:, 3],
            "outcome": outcome,
        },
        labels,
    )


def ratings_table(layout: Layout, ratings: Ratings, labels: dict[str, Any]) -> pd.DataFrame:
    """Long multi-rater table: one row per session and rater."""
    n_cs, n_r = layout.n_sessions, layout.n_raters
    row_session = np.repeat(np.arange(n_cs), n_r)
    flat = ratings.x.reshape(n_cs * n_r, len(MEASURES))
    return frame(
        {
            "therapist": ("therapist", layout.therapist_of_session[row_session]),
            "client": ("client", layout.client_of_session[row_session]),
            "session": layout.session_number[row_session],
            "rater": ("rater", np.tile(np.arange(n_r), n_cs)),
            **{k: flat[:, i] for i, k in enumerate(MEASURES)},
        },
        labels,
    )


def moments_table(
    layout: Layout,
    affect: np.ndarray,
    phases: np.ndarray,
    labels: dict[str, Any],
    keep: np.ndarray | None,
) -> pd.DataFrame:
    """EMA table from ``affect[session, moment, (client, therapist)]``; ``keep`` drops rows."""
    n_cs, n_m = layout.n_sessions, layout.moments_per_session
    row_series = np.repeat(np.arange(n_cs), n_m)
    return frame(
        {
            "therapist": ("therapist", layout.therapist_of_session[row_series]),
            "client": ("client", layout.client_of_session[row_series]),
            "session": layout.session_number[row_series],
            "moment": np.tile(np.arange(1, n_m + 1), n_cs),
            "phase": ("phase", np.tile((phases == PHASES[1]).astype(np.intp), n_cs)),
            "client_affect": affect[..., 0].ravel(),
            "therapist_affect": affect[..., 1].ravel(),
        },
        labels,
        keep,
    )


__all__ = [
    "TABLES",
    "clients_table",
    "frame",
    "id_labels",
    "moments_table",
    "ratings_table",
    "sessions_table",
    "therapists_table",
]
