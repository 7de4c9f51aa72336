"""Generator of the rater-agreement family: targets rated by crossed (or partially crossed)
raters, optionally on several items and with groups of raters or of targets.

For rating ``i`` of target ``t`` by rater ``r`` on item ``j``::

    y = intercept + group_effect + a_t + b_r + c_j + g_tr + e,

with ``a ~ N(0, sd_target)``, ``b ~ N(0, sd_rater)``, ``c ~ N(0, sd_item)``, the target x
rater interaction ``g ~ N(0, sd_target_rater)`` and ``e ~ N(0, sigma)``. The true reliability
coefficients follow from these components (:func:`agreement_truth`), with the design's number
of raters per target (harmonic mean) and of items per score.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def crossed_design(
    rng: np.random.Generator,
    n_targets: int,
    n_raters: int,
    *,
    raters_per_target: int | None = None,
    n_items: int = 0,
    balanced: bool = False,
) -> pd.DataFrame:
    """Which rater rates which target (and item): a frame of ``target``, ``rater`` (and
    ``item``) ids.

    ``raters_per_target=None`` crosses every rater with every target; otherwise each target
    is rated by that many distinct raters (a partially crossed design: each rater rates about
    ``n_targets * raters_per_target / n_raters`` targets), drawn at random, or with
    ``balanced=True`` assigned cyclically (target ``t`` gets raters ``t, t + 1, ...`` modulo
    ``n_raters``; a fixed design, ``rng`` unused). With ``n_items > 0`` every rater rates
    every item of each of their targets. Ids: ``T0000``, ``R0000``, ``I00``.
    """
    if raters_per_target is None or raters_per_target >= n_raters:
        t = np.repeat(np.arange(n_targets), n_raters)
        r = np.tile(np.arange(n_raters), n_targets)
    else:
        k = int(raters_per_target)
        t = np.repeat(np.arange(n_targets), k)
        if balanced:
            r = (t + np.tile(np.arange(k), n_targets)) % n_raters
        else:
            r = np.concatenate([rng.choice(n_raters, k, replace=False) for _ in range(n_targets)])
        order = np.lexsort((r, t))
        t, r = t[order], r[order]
    out = {"target": np.char.add("T", np.char.zfill(t.astype(str), 4))}
    out["rater"] = np.char.add("R", np.char.zfill(r.astype(str), 4))
    frame = pd.DataFrame(out)
    if n_items:
        frame = frame.loc[frame.index.repeat(n_items)].reset_index(drop=True)
        items = np.tile(np.arange(n_items), len(t))
        frame["item"] = np.char.add("I", np.char.zfill(items.astype(str), 2))
    return frame


def agreement_data(
    rng: np.random.Generator,
    ids: pd.DataFrame,
    *,
    intercept: float,
    sd_target: float,
    sd_rater: float,
    sigma: float,
    sd_item: float = 0.0,
    sd_target_rater: float = 0.0,
    group_means: Mapping[str, float] | None = None,
    group_of: str = "rater",
    measure: str = "rating",
) -> tuple[pd.DataFrame, dict]:
    """Ratings given the design ``ids`` (``target``, ``rater``, optional ``item`` and
    ``group`` columns) and the parameters.

    Draws, in this order, the target, rater, item and target x rater effects and the
    residuals. Item effects are zero-sum (iid ``N(0, sd_item)`` draws minus their mean), so
    that ``intercept`` is the mean over the items, as the model defines it; ``group_means`` maps the labels of the ``group`` column (a classification of
    ``group_of``, raters or targets) to mean offsets added to ``intercept``. Returns the frame
    with the ``measure`` column and the drawn effects: ``{"target": ..., "rater": ...,
    "item": ...}`` (arrays in the order of the sorted labels).
    """
    codes = {}
    for facet in ("target", "rater", "item"):
        if facet in ids:
            c, lab = pd.factorize(ids[facet], sort=True)
            codes[facet] = (c, np.asarray(lab))
    t, r = codes["target"][0], codes["rater"][0]
    eff = {
        "target": sd_target * rng.standard_normal(len(codes["target"][1])),
        "rater": sd_rater * rng.standard_normal(len(codes["rater"][1])),
    }
    y = intercept + eff["target"][t] + eff["rater"][r]
    if "item" in codes:
        item = sd_item * rng.standard_normal(len(codes["item"][1]))
        eff["item"] = item - item.mean()
        y = y + eff["item"][codes["item"][0]]
    _, cell = np.unique(t * len(codes["rater"][1]) + r, return_inverse=True)
    cell = cell.ravel()
    y = y + sd_target_rater * rng.standard_normal(int(cell.max()) + 1)[cell]
    if group_means is not None:
        y = y + ids["group"].map(dict(group_means)).to_numpy(dtype=float)
    y = y + sigma * rng.standard_normal(len(y))
    frame = ids.copy()
    frame[measure] = y
    return frame, eff


def reliability(var_target: float, noise: float, m) -> np.ndarray:
    """Reliability of the mean of ``m`` raters: ``var_target / (var_target + noise / m)``."""
    return var_target / (var_target + noise / np.asarray(m, dtype=float))


def agreement_truth(
    *,
    intercept: float,
    sd_target: float,
    sd_rater: float,
    sigma: float,
    sd_item: float | None = None,
    sd_target_rater: float | None = None,
    k: float,
    items_per_score: float = 1.0,
    between_groups: float = 0.0,
    target_reliability: float = 0.8,
    max_raters: int = 10,
) -> dict:
    """True values named as :class:`~empathy_models.RaterAgreement` reports them.

    ``k`` is the number of raters per target (harmonic mean), ``items_per_score`` the number
    of items averaged into one rater's score of a target, ``between_groups`` the variance of
    the rater groups' means (rater groups count as systematic rater differences).
    """
    vt, vr, s2 = sd_target**2, sd_rater**2, sigma**2
    vtr = (sd_target_rater or 0.0) ** 2
    noise_rel = vtr + s2 / items_per_score
    noise_abs = vr + between_groups + noise_rel
    m = np.arange(1, max_raters + 1)
    odds = target_reliability / (1 - target_reliability)
    truth = {
        "Intercept": intercept,
        "sd_target": sd_target,
        "sd_rater": sd_rater,
        "sigma": sigma,
        "icc_agreement": float(reliability(vt, noise_abs, 1)),
        "icc_consistency": float(reliability(vt, noise_rel, 1)),
        "icc_agreement_k": float(reliability(vt, noise_abs, k)),
        "icc_consistency_k": float(reliability(vt, noise_rel, k)),
        "dstudy_agreement": reliability(vt, noise_abs, m).tolist(),
        "dstudy_consistency": reliability(vt, noise_rel, m).tolist(),
        "raters_needed_agreement": float(max(1, np.ceil(odds * noise_abs / vt - 1e-9))),
        "raters_needed_consistency": float(max(1, np.ceil(odds * noise_rel / vt - 1e-9))),
    }
    if sd_item is not None:
        truth["sd_item"] = sd_item
    if sd_target_rater is not None:
        truth["sd_target_rater"] = sd_target_rater
    return truth


def simulate_agreement(
    n_targets: int = 60,
    n_raters: int = 8,
    *,
    raters_per_target: int | None = None,
    n_items: int = 0,
    intercept: float = 4.0,
    sd_target: float = 0.8,
    sd_rater: float = 0.4,
    sigma: float = 0.6,
    sd_item: float = 0.3,
    sd_target_rater: float = 0.3,
    rater_groups: Mapping[str, float] | None = None,
    measure: str = "rating",
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Seeded crossed rating data with known truth (numpy only).

    Parameters
    ----------
    n_targets, n_raters
        Numbers of targets (e.g. sessions or responses) and raters.
    raters_per_target
        ``None`` (default): every rater rates every target; otherwise each target gets that
        many raters at random (see :func:`crossed_design`).
    n_items
        Items per rating occasion (0: one rating, no item facet). With items the target x
        rater interaction (``sd_target_rater``) and the item effects (``sd_item``) are drawn;
        without items neither is.
    intercept, sd_target, sd_rater, sigma, sd_item, sd_target_rater
        The model's parameters (data scale).
    rater_groups
        ``{label: mean offset}``: raters are split into these groups in equal shares (in
        order, by rater id) and each group's ratings are shifted by its offset; the first
        label is the reference (``Intercept`` is its mean). E.g. ``{"client": 0.0,
        "therapist": 0.3}``: therapists rate 0.3 higher than clients (seed 003: therapists
        overestimate the alliance).
    measure
        Name of the rating column.
    seed
        Random seed.

    Returns
    -------
    frame : pandas.DataFrame
        ``target``, ``rater`` (``item``, ``group``) and ``measure``.
    truth : dict
        The reported quantities' true values (:func:`agreement_truth`), ``rater_offset``
        (each rater's realized offset from the average rater, group offset included, by
        label), and with groups ``group_mean`` and ``group_contrast`` (first minus second
        label, by ``"a-b"``).
    """
    rng = np.random.default_rng(seed)
    ids = crossed_design(
        rng, n_targets, n_raters, raters_per_target=raters_per_target, n_items=n_items
    )
    groups = None
    labels = sorted(pd.unique(ids["rater"]))
    if rater_groups:
        names = list(rater_groups)
        of_rater = {lab: names[i * len(names) // len(labels)] for i, lab in enumerate(labels)}
        ids["group"] = ids["rater"].map(of_rater)
        groups = dict(rater_groups)
    frame, eff = agreement_data(
        rng, ids, intercept=intercept, sd_target=sd_target, sd_rater=sd_rater, sigma=sigma,
        sd_item=sd_item if n_items else 0.0,
        sd_target_rater=sd_target_rater if n_items else 0.0,
        group_means=groups, measure=measure,
    )  # fmt: skip
    pairs = frame.drop_duplicates(["target", "rater"])
    k = len(pairs["target"].unique()) / np.sum(1.0 / pairs.groupby("target").size().to_numpy())
    between, offsets = 0.0, eff["rater"].copy()
    truth_extra = {}
    if groups:
        names = list(groups)
        mu = np.array([groups[g] for g in names])
        w = np.array([sum(of_rater[lab] == g for lab in labels) for g in names], dtype=float)
        w = w / w.sum()
        between = float(np.sum(w * (mu - np.sum(w * mu)) ** 2))
        g_of = np.array([names.index(of_rater[lab]) for lab in labels])
        offsets = offsets + (mu - mu.mean())[g_of]
        truth_extra["group_mean"] = {g: intercept + groups[g] for g in names}
        truth_extra["group_contrast"] = {
            f"{a}-{b}": groups[a] - groups[b] for a in names for b in names if a != b
        }
    truth = agreement_truth(
        intercept=intercept, sd_target=sd_target, sd_rater=sd_rater, sigma=sigma,
        sd_item=sd_item if n_items else None,
        sd_target_rater=sd_target_rater if n_items else None,
        k=float(k), items_per_score=float(n_items or 1), between_groups=between,
    )  # fmt: skip
    truth["rater_offset"] = dict(zip(labels, offsets.tolist(), strict=True))
    truth["k_raters"] = float(k)
    truth.update(truth_extra)
    return frame, truth


__all__ = [
    "agreement_data",
    "agreement_truth",
    "crossed_design",
    "reliability",
    "simulate_agreement",
]
