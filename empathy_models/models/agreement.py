"""Crossed rating designs: rater agreement, severity and reliability (generalizability theory in
Bayesian form).

Ratings come in long format, one row per rating: the ``target`` rated (a session, a response, a
therapist), the ``rater`` who rated it, optionally the ``item`` of a multi-item scale and a
``group`` of targets or of raters (e.g. the rater's perspective). For rating ``i``

    y_i = mu + a_target[i] + b_rater[i] (+ c_item[i]) (+ g_target_rater[i]) (+ group effect) + e_i

with ``a ~ N(0, sd_target)``, ``b ~ N(0, sd_rater)``, ``c ~ N(0, sd_item)``, the target x rater
interaction ``g ~ N(0, sd_target_rater)`` (included when a target-rater pair holds several
ratings, e.g. several items) and ``e ~ N(0, sigma)``. Targets and raters may be fully crossed
(every rater rates every target) or partially crossed (each rater rates a few targets).

Reported (posterior names): ``icc_agreement`` ICC(2,1) (absolute agreement, one rater),
``icc_consistency`` ICC(3,1) (consistency, one rater), ``icc_agreement_k`` and
``icc_consistency_k`` (the average of the ``k`` raters per target in the data), the decision
study ``dstudy_agreement[m]`` / ``dstudy_consistency[m]`` (reliability of the mean of ``m``
raters, ``m = 1..max_raters``), ``raters_needed_agreement`` / ``raters_needed_consistency``
(the smallest ``m`` whose reliability reaches ``reliability``), ``rater_offset[rater]`` (each
rater's severity or leniency) and, with groups, group means, contrasts and probabilities of
superiority.

Scale. Random effects crossed this way cannot be collapsed level by level as nested ones can
(see :mod:`~empathy_models.models.variance`). The likelihood here integrates the larger of the
two main facets (targets or raters; ``integrate``) out analytically, together with the
target x rater interaction nested in it: given the sampled effects, the ratings of one level of
the integrated facet are compound-symmetric Gaussian, whose density needs only per-level sums
of residuals. A gradient then costs two sparse passes over the ratings, and the sampler moves in
the space of the smaller facet only. The integrated facet's effects are drawn afterwards from
their exact conditional posterior given each draw (for ``rater_offset``). ``integrate="none"``
samples every effect explicitly (the same posterior; tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.sparse as psp
import pytensor.tensor as pt
import scipy.sparse as sps
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData, prepare
from empathy_models.errors import (
    ConfigError,
    ConstantMeasureError,
    DataError,
    NestingError,
    UnknownLevelError,
)
from empathy_models.models.base import (
    Built,
    ModelSpec,
    check_choice,
    evaluate_draws,
    jacobian_offset,
    normal_loglik,
    register,
)
from empathy_models.models.priors import with_dims

LOG2PI = float(np.log(2 * np.pi))
LIKELIHOODS = ("gaussian", "ordinal")
# TODO(ordinal): once models/likelihoods.py (the shared cumulative-link likelihood) is merged,
# the "ordinal" branch samples every facet (integrate="none": a non-Gaussian likelihood cannot
# be integrated analytically), scores the categories with likelihoods.ordinal_outcome on
# eta = linear_predictor(terms), replaces sigma^2 by likelihoods.latent_residual_variance(link)
# in the ICCs (latent-scale reliability) and adds a `link` option; ResponderComparison likewise
# reports its contrasts on the latent scale.
ORDINAL_TODO = (
    "likelihood='ordinal' needs the package's shared cumulative-link likelihood "
    "(empathy_models.models.likelihoods), which this version does not have yet; use "
    "likelihood='gaussian'"
)


# -- the engine: integrated nested facets and sampled crossed facets ----------------------------
@dataclass
class Chain:
    """Facets integrated out analytically: nested levels, top to bottom (numpy only).

    Attributes
    ----------
    names
        Level names, top first (e.g. ``["rater", "target_rater"]``).
    codes
        Per-row codes of each level.
    sizes
        Number of groups of each level.
    parents
        ``parents[k]``: for each group of level ``k + 1``, its group at level ``k``.
    tops
        ``tops[k]``: for each group of level ``k``, its group at the top level.
    counts
        Rows of each bottom-level group.
    """

    names: list[str]
    codes: list[np.ndarray]
    sizes: list[int]
    parents: list[np.ndarray]
    tops: list[np.ndarray]
    counts: np.ndarray

    @property
    def n_top(self) -> int:
        return self.sizes[0]

    @property
    def rows_top(self) -> np.ndarray:
        return np.bincount(self.codes[0], minlength=self.n_top).astype(float)


def make_chain(names: list[str], codes: list[np.ndarray]) -> Chain:
    """A :class:`Chain` from per-row codes of nested levels (each lower level nested in the
    one above: every group has one parent)."""
    sizes = [int(c.max()) + 1 for c in codes]
    parents = []
    for k in range(len(codes) - 1):
        par = np.full(sizes[k + 1], -1, dtype=np.int64)
        par[codes[k + 1]] = codes[k]
        if np.any(par[codes[k + 1]] != codes[k]):  # pragma: no cover - construction guarantees
            raise ValueError(f"{names[k + 1]} is not nested in {names[k]}")
        parents.append(par)
    tops = [np.arange(sizes[0])]
    for k in range(1, len(codes)):
        tops.append(tops[k - 1][parents[k - 1]])
    counts = np.bincount(codes[-1], minlength=sizes[-1]).astype(float)
    return Chain(list(names), list(codes), sizes, parents, tops, counts)


def segment_sum(values, index: np.ndarray, size: int):
    """Symbolic ``np.bincount(index, weights=values, minlength=size)``."""
    return pt.zeros((size,), dtype=values.dtype)[take_index(index)].inc(values)


def take_index(codes):
    """Integer codes as a constant tensor (indexing with a large numpy array directly is slow
    to build)."""
    return (
        pt.as_tensor(np.asarray(codes, dtype=np.int64)) if isinstance(codes, np.ndarray) else codes
    )


def incidence_product(rows: np.ndarray, cols: np.ndarray, n_rows: int, x):
    """``M @ x`` (symbolic) where ``M[i, j]`` counts the pairs ``(rows[k], cols[k]) == (i, j)``.

    A sparse product (PyTensor's ``structured_dot``) costs two passes over the pairs per
    gradient evaluation (forward and transposed), where a gather followed by a scatter-add
    costs four; with numba it is about twice as fast at 70,000 ratings. ``M`` is assembled
    from dense constant arrays, so a compiled model's structure key sees the design.
    """
    n_cols = int(np.max(cols)) + 1
    m = sps.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.sort_indices()
    matrix = psp.CSR(
        pt.as_tensor(m.data.astype(np.float64)),
        pt.as_tensor(m.indices.astype(np.int32)),
        pt.as_tensor(m.indptr.astype(np.int32)),
        pt.as_tensor(np.asarray(m.shape, dtype=np.int32)),
    )
    return psp.structured_dot(matrix, pt.shape_padright(x))[:, 0]


def linear_predictor(terms):
    """Per-row sum of gathered level effects: ``terms`` is a list of ``(effects, codes)``."""
    eta = 0.0
    for effects, codes in terms:
        eta = eta + effects[take_index(codes)]
    return eta


def row_sums(y, terms, chain: Chain, *, per_unit: bool):
    """``(S, Q)`` for :func:`collapse` from per-row residuals ``y - eta``."""
    resid = y - linear_predictor(terms)
    S = segment_sum(resid, chain.codes[-1], chain.sizes[-1])
    if per_unit:
        return S, segment_sum(resid * resid, chain.codes[0], chain.n_top)
    return S, pt.sum(resid * resid)


def y_statistics(ys: np.ndarray, terms_codes: dict[str, np.ndarray], chain: Chain) -> dict:
    """The outcome's sufficient statistics for :func:`sufficient_sums` (numpy): its sum per
    bottom-level group of the chain, per level of every sampled term, and its sum of
    squares."""
    out = {
        "Sy_bottom": np.bincount(chain.codes[-1], weights=ys, minlength=chain.sizes[-1]),
        "yy": np.asarray(float(ys @ ys)),
    }
    for name, codes in terms_codes.items():
        out[f"Sy_{name}"] = np.bincount(codes, weights=ys, minlength=int(codes.max()) + 1)
    return out


def sufficient_sums(stats: dict, terms: dict, n_rows: int):
    """``(S, Q)`` (total ``Q``) for :func:`collapse` from the outcome's sufficient statistics.

    With ``eta = sum_f E_f[codes_f]``, ``sum(resid^2) = yy - 2 sum_f E_f . Sy_f +
    sum(eta^2)``, and ``sum(eta^2)`` comes from the terms' level counts and pairwise
    contingency tables when these are small (no per-row pass at all), and ``S`` is a sparse
    product per term (:func:`incidence_product`).
    ``terms`` maps a name to ``(effects, codes)``; ``stats`` holds ``Sy_bottom``, ``yy``,
    ``Sy_<name>`` and the chain's ``bottom`` codes and size.
    """
    names = list(terms)
    S = stats["Sy_bottom"]
    for effects, codes in terms.values():
        S = S - incidence_product(stats["bottom"], codes, stats["n_bottom"], effects)
    cross = sum(pt.dot(terms[f][0], stats[f"Sy_{f}"]) for f in names)
    sizes = {f: int(terms[f][1].max()) + 1 for f in names}
    small = all(
        sizes[f] * sizes[g] <= 2 * n_rows for i, f in enumerate(names) for g in names[i + 1 :]
    )
    if small:
        sq = 0.0
        for i, f in enumerate(names):
            E_f, c_f = terms[f]
            sq = sq + pt.dot(np.bincount(c_f, minlength=sizes[f]).astype(float) * E_f, E_f)
            for g in names[i + 1 :]:
                E_g, c_g = terms[g]
                table = np.zeros((sizes[f], sizes[g]))
                np.add.at(table, (c_f, c_g), 1.0)
                sq = sq + 2.0 * pt.dot(E_f, pt.dot(table, E_g))
    else:
        eta = linear_predictor(terms.values())
        sq = pt.sum(eta * eta)
    return S, stats["yy"] - 2.0 * cross + sq


def collapse(S, Q, chain: Chain, sds: list, sigma, *, per_unit: bool):
    """Log-likelihood of residuals with the chain's nested effects integrated out.

    The residuals are the ratings minus every sampled effect; they enter through ``S``, their
    sum per bottom-level group, and ``Q``, their sum of squares (per top-level group when
    ``per_unit``, else in total; see :func:`row_sums` and :func:`sufficient_sums`). ``sds``
    are the SDs of the chain's levels (top first), ``sigma`` the residual SD. Returns
    ``(ll, m_top, v_top)``: the log-likelihood (per top-level group when ``per_unit``, else
    summed) and for each top-level group the mean ``m_top`` and variance ``v_top`` of the
    data's information about its effect (``m_top ~ N(effect, v_top)``), from which the
    effects' conditional posterior follows (:func:`conditional_draws`).

    The bottom level's ratings are compound-symmetric given the level above; each level is
    collapsed onto its parent with the precision-weighted-mean identity.
    """
    s2 = sigma**2
    n = chain.counts
    n_bottom = chain.sizes[-1]
    n_top = chain.n_top
    m = S / n
    if per_unit:
        groups_top = np.bincount(chain.tops[-1], minlength=n_top).astype(float)
        logn_top = np.bincount(chain.tops[-1], weights=np.log(n), minlength=n_top)
        SSn = S * S / n if len(chain.sizes) == 1 else segment_sum(S * S / n, chain.tops[-1], n_top)
        ll = (
            -0.5 * (chain.rows_top - groups_top) * (LOG2PI + pt.log(s2))
            - 0.5 * logn_top
            - 0.5 * (Q - SSn) / s2
        )
    else:
        N, G = float(len(chain.codes[-1])), float(n_bottom)
        ll = (
            -0.5 * (N - G) * (LOG2PI + pt.log(s2))
            - 0.5 * float(np.log(n).sum())
            - 0.5 * (Q - pt.sum(S * S / n)) / s2
        )
    a = s2 / n + sds[-1] ** 2
    data_var = s2 / n
    for k in range(len(chain.sizes) - 2, -1, -1):
        par, n_par = chain.parents[k], chain.sizes[k]
        prec = 1.0 / a
        P = segment_sum(prec, par, n_par)
        mbar = segment_sum(m * prec, par, n_par) / P
        term = -0.5 * (LOG2PI + pt.log(a)) - 0.5 * prec * (m - mbar[take_index(par)]) ** 2
        pterm = 0.5 * (LOG2PI - pt.log(P))
        if per_unit:
            ll = ll + segment_sum(term, chain.tops[k + 1], n_top)
            ll = ll + (pterm if k == 0 else segment_sum(pterm, chain.tops[k], n_top))
        else:
            ll = ll + pt.sum(term) + pt.sum(pterm)
        m, data_var = mbar, 1.0 / P
        a = data_var + sds[k] ** 2
    top = -0.5 * (LOG2PI + pt.log(a)) - 0.5 * m**2 / a
    ll = ll + (top if per_unit else pt.sum(top))
    return ll, m, data_var


def conditional_draws(m_top, v_top, sd, rng: np.random.Generator) -> np.ndarray:
    """Draws of integrated top-level effects from their conditional posterior: prior
    ``N(0, sd^2)``, data ``m_top ~ N(effect, v_top)`` (arrays broadcast over draws; computed
    in place, as there may be millions of them)."""
    m_top = np.asarray(m_top, dtype=float)
    prec = 1.0 / np.asarray(v_top, dtype=float)
    out = m_top * prec
    prec += 1.0 / np.asarray(sd, dtype=float) ** 2
    out /= prec
    noise = rng.standard_normal(out.shape)
    np.sqrt(prec, out=prec)
    noise /= prec
    out += noise
    return out


def backfit(y: np.ndarray, codes: list[np.ndarray], iters: int = 10):
    """Additive main effects of crossed facets by backfitting level means (numpy). Returns the
    effects per facet and the residual variance; used to choose parameterizations."""
    effects = [np.zeros(int(c.max()) + 1) for c in codes]
    counts = [np.bincount(c).astype(float) for c in codes]
    r = y - y.mean()
    for _ in range(iters):
        for j, c in enumerate(codes):
            r = r + effects[j][c]
            effects[j] = np.bincount(c, weights=r, minlength=len(counts[j])) / counts[j]
            r = r - effects[j][c]
    return effects, float(np.mean(r**2))


def centered_choice(y: np.ndarray, codes: list[np.ndarray]) -> list[bool]:
    """Centred parameterization for the facets whose levels the data pin down well.

    A facet is sampled centred when ``median(ratings per level) * var(effects) / var(residual)
    > 1`` for moment estimates from :func:`backfit` (the data then dominate the prior of each
    level, where the non-centred form mixes badly); otherwise non-centred.
    """
    effects, s2 = backfit(y, codes)
    out = []
    for c, e in zip(codes, effects, strict=True):
        n = np.bincount(c).astype(float)
        v = max(float(np.var(e)) - s2 * float(np.mean(1.0 / n)), 0.0)
        out.append(bool(np.median(n) * v / max(s2, 1e-12) > 1.0))
    return out


def facet_effects(name: str, sd, *, centered: bool, center=None):
    """Effects of one sampled facet (dims ``name``) and their deviations from ``center``.

    With a ``center`` (the intercept, or group means) the effects are ``N(center, sd)``;
    without one they are zero-sum (``pm.ZeroSumNormal``): ``e - mean(e)`` of iid
    ``N(0, sd)`` effects, exactly, with their mean absorbed by the intercept. A facet with few
    levels (items, prompts, evaluators) otherwise makes a ridge of the intercept and the
    effects' mean that a diagonal mass matrix cannot follow. ``centered`` chooses the centred
    or non-centred form. Returns ``(effects, deviations)``.
    """
    if center is None:
        if centered:
            a = pm.ZeroSumNormal(f"{name}_effect", sigma=sd, dims=name)
        else:
            a = sd * pm.ZeroSumNormal(f"z_{name}", sigma=1.0, dims=name)
        return a, a
    if centered:
        a = pm.Normal(f"{name}_effect", mu=center, sigma=sd, dims=name)
        return a, a - center
    dev = sd * pm.Normal(f"z_{name}", 0.0, 1.0, dims=name)
    return center + dev, dev


def harmonic_mean(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(len(x) / np.sum(1.0 / x))


# -- data -----------------------------------------------------------------------------------------
@dataclass
class RatingData(PreparedData):
    """:class:`PreparedData` plus the codes of a rating design."""

    design: dict = field(default_factory=dict)
    extra_info: dict = field(default_factory=dict)

    def summary(self) -> dict:
        out = super().summary()
        out.update(self.extra_info)
        return out


def with_design(prepared: PreparedData, design: dict, info: dict) -> RatingData:
    base = {f.name: getattr(prepared, f.name) for f in fields(PreparedData)}
    return RatingData(**base, design=design, extra_info=info)


def check_constant_within(frame, roles: Roles, role: str, within: str) -> None:
    """``role`` must take one value within each level of ``within`` (e.g. a rater's group)."""
    col, wcol = roles.column(role), roles.column(within)
    n = frame.groupby(wcol, sort=False, observed=True)[col].nunique()
    bad = n.index[n > 1]
    if len(bad):
        raise NestingError(
            f"{within} {bad[0]!r} has {int(n.loc[bad[0]])} different {role} values "
            f"({len(bad)} such {within}s); a {role} must classify whole {within}s",
            role=role,
            column=col,
            rows=list(frame.index[frame[wcol].isin(bad[:1])]),
        )


def declared_levels(frame, roles: Roles, role: str, declared) -> tuple[np.ndarray, list[str]]:
    """Codes of a categorical role in the declared order (default: sorted labels)."""
    col = roles.column(role)
    lab = frame[col].astype(str).to_numpy()
    present = sorted(pd.unique(lab))
    levels = [str(v) for v in declared] if declared else present
    unknown = [v for v in present if v not in levels]
    if unknown:
        raise UnknownLevelError(
            f"level(s) {unknown[:5]} are in the data but not among the declared levels {levels}",
            role=role,
            column=col,
            rows=list(frame.index[np.isin(lab, unknown)]),
        )
    absent = [v for v in levels if v not in present]
    if absent:
        raise UnknownLevelError(
            f"declared level(s) {absent} have no rows in the data", role=role, column=col
        )
    index = {v: i for i, v in enumerate(levels)}
    return np.asarray([index[v] for v in lab], dtype=np.int64), levels


# -- the agreement family -------------------------------------------------------------------------
@register
@dataclass(frozen=True)
class RaterAgreement(ModelSpec):
    """Crossed rating design: rater agreement (ICCs), severity and reliability of ratings.

    Parameters
    ----------
    measure
        Column of the ratings; one row per rating, with the ``target`` role (what is rated)
        and the ``rater`` role (who rated it), optionally the ``item`` role (the item of a
        multi-item scale) and the ``group`` role.
    group_of : {"rater", "target"}
        What the optional ``group`` role classifies: raters (e.g. the rater's perspective,
        ``client`` / ``therapist`` / ``observer``, or human vs language-model raters) or
        targets (e.g. two clinics). Each group gets a fixed mean; a group must hold whole
        raters (targets). Rater groups enter absolute agreement as systematic rater
        differences; target groups are removed from the target variance.
    group_levels
        Order of the group labels (default: sorted); contrasts read first minus second.
    likelihood : {"gaussian", "ordinal"}
        Likelihood of the ratings. Only ``"gaussian"`` is available in this version;
        ``"ordinal"`` (cumulative link on the latent scale) is reserved for the package's
        shared ordinal likelihood.
    interaction
        Model the target x rater interaction (a rater's particular view of a particular
        target) as its own variance component. Default ``None``: yes when some target-rater
        pair holds several ratings (several items, or repeated ratings); without such pairs
        it cannot be told apart from the residual.
    integrate : {"auto", "target", "rater", "none"}
        Which main facet to integrate out analytically (with the interaction nested in it):
        ``"auto"`` (default) the one with more levels; ``"none"`` samples every effect (the
        full parameterization, for checks).
    centered
        Parameterization of the sampled facets' effects: ``True`` centred, ``False``
        non-centred, ``None`` (default) chosen per facet from the data (centred where each
        level's ratings pin its effect down well).
    reliability
        Reliability the decision study aims at (default 0.8): ``raters_needed_*`` is the
        smallest number of raters whose averaged rating reaches it.
    max_raters
        The decision study projects reliability for 1 to ``max_raters`` raters (default 10).
    rater_offsets
        Report ``rater_offset[rater]``, each rater's mean offset from the average rater
        (default ``True``); switch off for very many raters to keep the result small.
    bounds
        Declared scale bounds of the ratings, e.g. ``(1, 7)``; values outside are an error.
    missing_outcome : {"drop", "error"}
        Rows with a missing rating: ``"drop"`` (default; counted in the result) or
        ``"error"``.
    """

    family = "agreement"

    measure: str
    group_of: str = "rater"
    group_levels: tuple[str, ...] = ()
    likelihood: str = "gaussian"
    interaction: bool | None = None
    integrate: str = "auto"
    centered: bool | None = None
    reliability: float = 0.8
    max_raters: int = 10
    rater_offsets: bool = True
    bounds: tuple[float, float] | None = None
    missing_outcome: str = "drop"

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_levels", tuple(str(g) for g in self.group_levels))
        if self.bounds is not None:
            object.__setattr__(self, "bounds", tuple(self.bounds))
        check_choice("group_of", self.group_of, ("rater", "target"))
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        check_choice("integrate", self.integrate, ("auto", "target", "rater", "none"))
        check_choice("missing_outcome", self.missing_outcome, ("drop", "error"))
        if self.likelihood == "ordinal":
            raise ConfigError(ORDINAL_TODO)
        if not 0 < self.reliability < 1:
            raise ConfigError(f"reliability must be between 0 and 1, got {self.reliability}")
        if int(self.max_raters) < 1:
            raise ConfigError(f"max_raters must be at least 1, got {self.max_raters}")
        self.resolved_priors()

    # -- priors -------------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale (ratings divided by their SD).

        ``Intercept`` Normal(0, 1); ``beta_group`` Normal(0, 1) per group after the first;
        ``sd_target``, ``sd_rater``, ``sd_item``, ``sd_target_rater`` and ``sigma``
        HalfNormal(1).
        """
        return {
            "Intercept": Prior("Normal", mu=0, sigma=1),
            "beta_group": Prior("Normal", mu=0, sigma=1),
            "sd_target": Prior("HalfNormal", sigma=1),
            "sd_rater": Prior("HalfNormal", sigma=1),
            "sd_item": Prior("HalfNormal", sigma=1),
            "sd_target_rater": Prior("HalfNormal", sigma=1),
            "sigma": Prior("HalfNormal", sigma=1),
        }

    # -- data ---------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> RatingData:
        """Validate the ratings and code the facets.

        Raises
        ------
        NestingError
            A group that does not hold whole raters (targets).
        ConstantMeasureError
            The ratings do not vary.
        """
        roles = roles or Roles()
        prepared = prepare(
            data,
            roles,
            id_roles=["target", "rater"],
            optional_id_roles=["item", "group"],
            measures=[self.measure],
            bounds={self.measure: self.bounds} if self.bounds else None,
            missing_outcome=self.missing_outcome,
            occasion_roles=[],
            grouping_roles=["target", "rater"],
        )
        frame = prepared.frame
        y = frame[self.measure].to_numpy(dtype=float)
        if not np.std(y) > 0:
            raise ConstantMeasureError(
                "the ratings are constant; there is no variance to partition",
                role="measure",
                column=self.measure,
            )
        t, t_lab = prepared.codes("target")
        r, r_lab = prepared.codes("rater")
        design = {"y": y, "target": t, "rater": r}
        labels = {"target": t_lab, "rater": r_lab}
        if prepared.has("item"):
            design["item"], labels["item"] = prepared.codes("item")
        cell, cell_inv = np.unique(t * len(r_lab) + r, return_inverse=True)
        design["target_rater"] = cell_inv.ravel().astype(np.int64)
        per_cell = np.bincount(design["target_rater"]).astype(float)
        raters_per_target = np.bincount(t[np.unique(design["target_rater"], return_index=True)[1]])
        if prepared.has("group"):
            check_constant_within(frame, prepared.roles, "group", self.group_of)
            g, g_lab = declared_levels(frame, prepared.roles, "group", self.group_levels)
            if len(g_lab) < 2:
                raise DataError(
                    "the group role has one level; switch it off (Roles(group=None)) or add data",
                    role="group",
                    column=prepared.column("group"),
                )
            design["group"] = g
            labels["group"] = np.asarray(g_lab)
            facet = design[self.group_of]
            level_group = np.empty(len(labels[self.group_of]), dtype=np.int64)
            level_group[facet] = g
            design["level_group"] = level_group
        elif self.group_levels:
            raise ConfigError("group_levels is set but the data have no group role column")
        design["labels"] = labels
        info = {
            "n_ratings": int(len(y)),
            "raters_per_target_harmonic": harmonic_mean(raters_per_target),
            "ratings_per_cell_harmonic": harmonic_mean(per_cell),
            "fully_crossed": bool(len(cell) == len(t_lab) * len(r_lab)),
        }
        return with_design(prepared, design, info)

    def _ensure(self, data: PreparedData) -> RatingData:
        if isinstance(data, RatingData) and data.design:
            return data
        return self.prepare(data.frame, data.roles)

    # -- structure -----------------------------------------------------------------------------
    def has_interaction(self, data: RatingData) -> bool:
        if self.interaction is not None:
            return bool(self.interaction)
        return bool(np.bincount(data.design["target_rater"]).max() > 1)

    def integrated(self, data: RatingData) -> str | None:
        """The main facet integrated out (``None``: every effect sampled)."""
        if self.integrate == "none":
            return None
        if self.integrate in ("target", "rater"):
            return self.integrate
        lab = data.design["labels"]
        return "rater" if len(lab["rater"]) > len(lab["target"]) else "target"

    def reported(self, data: PreparedData) -> list[str]:
        data = self._ensure(data)
        names = ["Intercept"]
        if "group" in data.design:
            names += ["group_mean", "group_contrast", "group_superiority"]
        names += ["sd_target", "sd_rater"]
        if "item" in data.design:
            names.append("sd_item")
        if self.has_interaction(data):
            names.append("sd_target_rater")
        names += ["sigma", "icc_agreement", "icc_consistency", "icc_agreement_k"]
        names += ["icc_consistency_k", "dstudy_agreement", "dstudy_consistency"]
        names += ["raters_needed_agreement", "raters_needed_consistency"]
        return names

    def sampled(self, data: PreparedData) -> list[str]:
        skip = ("raters_needed", "group_contrast", "group_superiority", "dstudy")
        return [n for n in self.reported(data) if not n.startswith(skip)]

    # -- model --------------------------------------------------------------------------------
    def build(self, data: PreparedData) -> Built:
        data = self._ensure(data)
        d = data.design
        labels = d["labels"]
        y_mean, y_sd = self.location_scale(d["y"])
        ys = (d["y"] - y_mean) / y_sd
        interaction = self.has_interaction(data)
        integ = self.integrated(data)
        main = ["target", "rater"]
        sampled = [f for f in main if f != integ]
        if "item" in d:
            sampled.append("item")
        if interaction and integ is None:
            sampled.append("target_rater")
        host = sampled[0]
        if self.centered is None:
            cent = dict(zip(sampled, centered_choice(ys, [d[f] for f in sampled]), strict=True))
        else:
            cent = dict.fromkeys(sampled, bool(self.centered))
        priors = self.resolved_priors()
        grouped = "group" in d
        coords = {"target": labels["target"], "rater": labels["rater"]}
        if "item" in d:
            coords["item"] = labels["item"]
        if interaction:
            coords["target_rater"] = np.arange(int(d["target_rater"].max()) + 1)
        if grouped:
            coords["group"] = list(labels["group"])
            coords["group2"] = list(labels["group"])
            coords["group_free"] = list(labels["group"][1:])
        m_max = int(self.max_raters)
        coords["m_raters"] = np.arange(1, m_max + 1)
        with pm.Model(coords=coords) as model:
            # the ratings enter the sampled model as data only where its density reads them
            # row by row; the integrated likelihood reads their sufficient statistics
            y = pm.Data("rating_std", ys) if integ is None else pt.as_tensor(ys)
            loc = pm.Data("scale_y_mean", np.asarray(y_mean, dtype=float))
            scale = pm.Data("scale_y_sd", np.asarray(y_sd, dtype=float))
            b0 = priors["Intercept"].create_variable("Intercept_std")
            if grouped:
                beta = with_dims(priors["beta_group"], "group_free").create_variable(
                    "beta_group_std"
                )
                beta_all = pt.concatenate([pt.zeros((1,)), beta])
            sds = {
                f: priors[f"sd_{f}"].create_variable(f"sd_{f}_std")
                for f in (*main, *(["item"] if "item" in d else []))
            }
            if interaction:
                sds["target_rater"] = priors["sd_target_rater"].create_variable(
                    "sd_target_rater_std"
                )
            sigma = priors["sigma"].create_variable("sigma_std")
            terms, devs = {}, {}
            for f in sampled:
                center = None  # zero-sum effects: the intercept is their mean in the data
                if f == host:
                    center = b0
                    if grouped and self.group_of == f:
                        center = b0 + beta_all[take_index(d["level_group"])]
                elif grouped and self.group_of == f:
                    center = beta_all[take_index(d["level_group"])]
                a, devs[f] = facet_effects(f, sds[f], centered=cent[f], center=center)
                terms[f] = (a, d[f])
            if grouped and self.group_of == integ:
                terms["group"] = (beta_all, d["group"])
            if integ is None:
                eta = linear_predictor(terms.values())
                pm.Normal("y", mu=eta, sigma=sigma, observed=y)
                ll = normal_loglik(y, eta, sigma)
                unit, unit_labels, n_unit = "obs", np.arange(len(ys)), np.ones(len(ys))
                top = None
            else:
                names = [integ] + (["target_rater"] if interaction else [])
                chain = make_chain(names, [d[n] for n in names])
                chain_sds = [sds[n] for n in names]
                # the outcome's sufficient statistics enter as data: a compiled sampler is
                # reused for another outcome with the same design (simulation studies)
                ystats = y_statistics(ys, {f: c for f, (_, c) in terms.items()}, chain)
                stats = {k: pm.Data(f"stat_{k}", v) for k, v in ystats.items()}
                stats.update(bottom=chain.codes[-1], n_bottom=chain.sizes[-1])
                S, Q = sufficient_sums(stats, terms, len(ys))
                total, m_top, v_top = collapse(S, Q, chain, chain_sds, sigma, per_unit=False)
                pm.Potential("marginal_loglik", total)
                top = (m_top, v_top)  # for the integrated effects' conditional draws
                S, Q = row_sums(y, terms.values(), chain, per_unit=True)
                ll, _, _ = collapse(S, Q, chain, chain_sds, sigma, per_unit=True)
                unit, unit_labels, n_unit = integ, labels[integ], chain.rows_top
            self._derived(model, data, sds, sigma, b0, beta_all if grouped else None, scale, loc)
            if self.rater_offsets and integ != "rater":
                off = devs["rater"]
                if grouped and self.group_of == "rater":
                    off = off + (beta_all - pt.mean(beta_all))[take_index(d["level_group"])]
                pm.Deterministic("rater_offset", scale * off, dims="rater")
        return Built(
            model=model,
            design={**d, "sampled": sampled, "centered": cent, "integrated": integ, "top": top},
            scales={"y_mean": y_mean, "y_sd": y_sd},
            loglik=ll,
            loglik_name=self.measure,
            loglik_dim=unit,
            loglik_coords=unit_labels,
            loglik_offset=jacobian_offset(n_unit, y_sd),
            info={
                "likelihood": self.likelihood,
                "integrated": integ or "none",
                "sampled": sampled,
                "centered": cent,
                "interaction": interaction,
                "k_raters": data.extra_info["raters_per_target_harmonic"],
                "items_per_score": self._items_per_score(data),
            },
        )

    def _items_per_score(self, data: RatingData) -> float:
        """Ratings averaged into one rater's score of a target (1 without items)."""
        if "item" not in data.design:
            return 1.0
        return data.extra_info["ratings_per_cell_harmonic"]

    def _derived(self, model, data: RatingData, sds, sigma, b0, beta_all, scale, loc) -> None:
        d = data.design
        k = data.extra_info["raters_per_target_harmonic"]
        n_items = self._items_per_score(data)
        pm.Deterministic("Intercept", loc + scale * b0)
        for f, sd in sds.items():
            pm.Deterministic(f"sd_{f}", scale * sd)
        pm.Deterministic("sigma", scale * sigma)
        vt = sds["target"] ** 2
        vr = sds["rater"] ** 2
        vtr = sds["target_rater"] ** 2 if "target_rater" in sds else 0.0
        s2 = sigma**2
        between_groups = 0.0
        if beta_all is not None:
            means = b0 + beta_all
            pm.Deterministic("group_mean", loc + scale * means, dims="group")
            diff = means[:, None] - means[None, :]
            pm.Deterministic("group_contrast", scale * diff, dims=("group", "group2"))
            if self.group_of == "rater":
                w = np.bincount(d["level_group"], minlength=len(d["labels"]["group"]))
                w = w / w.sum()
                centre = pt.sum(w * means)
                between_groups = pt.sum(w * (means - centre) ** 2)
                v_one = vr + vtr + s2
            else:
                v_one = vt + vtr + s2
            pm.Deterministic(
                "group_superiority",
                0.5 * (1 + pt.erf(diff / pt.sqrt(2 * v_one) / np.sqrt(2.0))),
                dims=("group", "group2"),
            )
        noise_rel = vtr + s2 / n_items
        noise_abs = vr + between_groups + noise_rel
        pm.Deterministic("icc_agreement", vt / (vt + noise_abs))
        pm.Deterministic("icc_consistency", vt / (vt + noise_rel))
        pm.Deterministic("icc_agreement_k", vt / (vt + noise_abs / k))
        pm.Deterministic("icc_consistency_k", vt / (vt + noise_rel / k))
        m = np.arange(1, int(self.max_raters) + 1, dtype=float)
        pm.Deterministic("dstudy_agreement", vt / (vt + noise_abs / m), dims="m_raters")
        pm.Deterministic("dstudy_consistency", vt / (vt + noise_rel / m), dims="m_raters")
        odds = self.reliability / (1 - self.reliability)
        # the smallest m with vt / (vt + noise / m) >= reliability; the tiny slack keeps an
        # exact boundary case at its integer
        need_abs = pt.maximum(1.0, pt.ceil(odds * noise_abs / vt - 1e-9))
        need_rel = pt.maximum(1.0, pt.ceil(odds * noise_rel / vt - 1e-9))
        pm.Deterministic("raters_needed_agreement", need_abs)
        pm.Deterministic("raters_needed_consistency", need_rel)

    # -- after sampling -------------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        data = self._ensure(data)
        d = built.design
        post = idata["posterior"].to_dataset()
        if self.rater_offsets and d["integrated"] == "rater":
            off = self._integrated_offsets(post, built)
            post["rater_offset"] = (("chain", "draw", "rater"), off)
            post = post.assign_coords(rater=d["labels"]["rater"])
            idata["posterior"] = xr.DataTree(post)
        probs = built.probabilities
        for name in ("icc_agreement", "icc_consistency"):
            probs[f"P({name} > 0.75)"] = float((post[name] > 0.75).mean())
        for name in ("dstudy_agreement", "dstudy_consistency"):
            v = post[name]
            for m in v["m_raters"].values:
                probs[f"P({name}[{int(m)}] >= {self.reliability:g})"] = float(
                    (v.sel(m_raters=m) >= self.reliability).mean()
                )
        if "group_contrast" in post:
            labels = [str(g) for g in post["group"].values]
            for i, a in enumerate(labels):
                for b in labels[i + 1 :]:
                    v = post["group_contrast"].sel(group=a, group2=b)
                    probs[f"P(group_mean[{a}] > group_mean[{b}])"] = float((v > 0).mean())
        return idata

    def _integrated_offsets(self, post: xr.Dataset, built: Built) -> np.ndarray:
        """Rater offsets when the rater facet is integrated out: drawn, for every posterior
        draw, from their exact conditional posterior given the sampled parameters."""
        d = built.design
        m_top, v_top = built.design["top"]
        both = evaluate_draws(built.model, pt.stack([m_top, v_top]), post)
        sd = post["sd_rater_std"].values[..., None]
        seed = int(np.abs(post["sigma_std"].values).ravel()[0] * 1e9) % (2**32)
        u = conditional_draws(both[:, :, 0], both[:, :, 1], sd, np.random.default_rng(seed))
        if "group" in d and self.group_of == "rater":
            beta = post["beta_group_std"].values
            beta_all = np.concatenate([np.zeros(beta.shape[:2] + (1,)), beta], axis=-1)
            centred = beta_all - beta_all.mean(axis=-1, keepdims=True)
            u = u + centred[..., d["level_group"]]
        return u * built.scales["y_sd"]

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        d = built.design
        return xr.Dataset({self.measure: ("obs", d["y"])}, coords={"obs": np.arange(len(d["y"]))})


def anova_icc(table: np.ndarray) -> dict[str, float]:
    """Shrout & Fleiss (1979) ANOVA estimates of the six ICCs from a complete targets x
    raters table (numpy; the classical point estimates the Bayesian model is checked against).

    Returns ``ICC(1,1)``, ``ICC(2,1)``, ``ICC(3,1)``, ``ICC(1,k)``, ``ICC(2,k)``, ``ICC(3,k)``.
    """
    x = np.asarray(table, dtype=float)
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_total = np.sum((x - grand) ** 2)
    ss_err = ss_total - ss_rows - ss_cols
    bms = ss_rows / (n - 1)
    jms = ss_cols / (k - 1)
    ems = ss_err / ((n - 1) * (k - 1))
    wms = (ss_cols + ss_err) / (n * (k - 1))
    return {
        "ICC(1,1)": (bms - wms) / (bms + (k - 1) * wms),
        "ICC(2,1)": (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n),
        "ICC(3,1)": (bms - ems) / (bms + (k - 1) * ems),
        "ICC(1,k)": (bms - wms) / bms,
        "ICC(2,k)": (bms - ems) / (bms + (jms - ems) / n),
        "ICC(3,k)": (bms - ems) / bms,
    }


__all__ = ["RaterAgreement", "RatingData", "anova_icc"]
