"""Multi-rater partition (multivariate form of model 1): how much of client-, therapist- and
observer-rated empathy is the therapist's, and how do the raters agree at each level?

For rater (or measure) r and session s of client c of therapist t,

    y_tcsr = mu_r + u_tr + v_cr + e_tcsr,     e_tcsr ~ N(0, sigma_r)
    u_t = (u_t1..u_tR) ~ MVN(0, Sigma_therapist),   v_c ~ MVN(0, Sigma_client)

with LKJ priors on the correlation matrices of ``Sigma_therapist`` and ``Sigma_client``
(``pm.LKJCholeskyCov``) and non-centred random effects (``u_t = L z_t``). Each rater's scores
are standardized by that rater's mean and SD for the priors; SDs and intercepts are reported on
the data's scale, shares and correlations are scale-free.

Perspectives differ in level as well as in what they rank high (therapists overestimate the
alliance compared with clients): ``rater_offset[rater]`` is each perspective's mean minus the
average of the perspectives' means, ``rater_contrast[rater, rater2]`` the difference of two
perspectives' means for the same session, and ``rater_superiority[rater, rater2]`` the
probability that ``rater``'s rating of a session exceeds ``rater2``'s rating of the same
session (``Phi(contrast / sd)``, with ``sd`` the SD of the difference of the two ratings of a
session from every level's covariance and the residuals).

Data come long (one row per session and rater: a rater column plus one measure column) or wide
(one row per session, one column per rater or per measure). A session where a rater is missing
is used: in long format it just has fewer rows; in wide format only the observed cells enter
the likelihood (NaN cells are skipped by indexing, not imputed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData, prepare
from empathy_models.errors import (
    ConfigError,
    DataError,
    Placeholder,
    UnknownLevelError,
    option_hint,
)
from empathy_models.models.base import Built, ModelSpec, normal_loglik, register
from empathy_models.models.priors import with_dims

DEFAULT_RATERS = ("client", "therapist", "observer")


class UnknownRaterError(UnknownLevelError):
    """A rater label in the data was not declared to the model (or a declared one has no rows)."""


@dataclass
class RaterData(PreparedData):
    """:class:`PreparedData` plus the observed cells (long arrays) of the rater model."""

    design: dict = field(default_factory=dict)
    extra_info: dict = field(default_factory=dict)

    def summary(self) -> dict:
        out = super().summary()
        out.update(self.extra_info)
        return out


@register
@dataclass(frozen=True)
class RaterPartition(ModelSpec):
    """Correlated therapist- and client-level effects of several raters of one measure.

    Parameters
    ----------
    measure
        Long format: the measure column; the rater role column says who rated it.
    measures
        Wide format: several measure columns, one per rater (or several measures of one
        construct). Give either ``measure`` or ``measures``.
    raters
        Long format: the declared rater labels (default ``("client", "therapist",
        "observer")``); a label in the data that is not declared, or a declared label with no
        rows, is an :class:`UnknownRaterError`. Wide format: labels of the ``measures``
        columns, in order (default: the column names).
    levels
        Levels with correlated random effects, among ``"therapist"`` and ``"client"``.
    lkj_eta
        Shape of the LKJ prior on each correlation matrix (default 2: mild shrinkage to 0).
    bounds
        Declared scale bounds of the ratings, e.g. ``(1, 7)``.
    """

    family = "raters"

    measure: str | None = None
    measures: tuple[str, ...] = ()
    raters: tuple[str, ...] | None = None
    levels: tuple[str, ...] = ("therapist", "client")
    lkj_eta: float = 2.0
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "measures", tuple(self.measures))
        object.__setattr__(self, "levels", tuple(self.levels))
        if self.raters is not None:
            object.__setattr__(self, "raters", tuple(str(r) for r in self.raters))
        if self.bounds is not None:
            object.__setattr__(self, "bounds", tuple(self.bounds))
        if (self.measure is None) == (not self.measures):
            raise ConfigError(
                "give either measure= (long format, with a rater column) or measures= "
                "(wide format, one column per rater), not both or neither"
            )
        if self.measures and len(self.measures) < 2:
            raise ConfigError("wide format needs at least two measure columns")
        if self.measures and self.raters is not None and len(self.raters) != len(self.measures):
            raise ConfigError(
                f"raters {self.raters} must label the measures {self.measures} one to one"
            )
        labels = self.rater_labels
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ConfigError(f"need at least two distinct rater labels, got {labels}")
        if not self.levels or any(lv not in ("therapist", "client") for lv in self.levels):
            raise ConfigError(f"levels must be among 'therapist', 'client'; got {self.levels}")
        if self.lkj_eta <= 0:
            raise ConfigError("lkj_eta must be positive")
        self.resolved_priors()

    @property
    def wide(self) -> bool:
        return bool(self.measures)

    @property
    def rater_labels(self) -> tuple[str, ...]:
        if self.wide:
            return self.raters or self.measures
        return self.raters or DEFAULT_RATERS

    # -- priors -----------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on each rater's standardized scale.

        ``Intercept`` Normal(0, 1) per rater; ``sd_therapist``, ``sd_client`` HalfNormal(1)
        (the SDs inside ``LKJCholeskyCov``); ``sigma`` HalfNormal(1) per rater. The
        correlation matrices have an LKJ(``lkj_eta``) prior (option, default 2).
        """
        return {
            "Intercept": Prior("Normal", mu=0, sigma=1),
            "sd_therapist": Prior("HalfNormal", sigma=1),
            "sd_client": Prior("HalfNormal", sigma=1),
            "sigma": Prior("HalfNormal", sigma=1),
        }

    # -- data -------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> RaterData:
        """Validate the data and collect the observed cells.

        Raises
        ------
        UnknownRaterError
            Long format: a rater label not declared in ``raters`` (or declared but absent).
        """
        roles = roles or Roles()
        bounds = None
        if self.wide:
            if self.bounds:
                bounds = {m: self.bounds for m in self.measures}
            prepared = prepare(
                data,
                roles,
                id_roles=list(self.levels),
                optional_id_roles=["therapist", "client", "session"],
                measures=list(self.measures),
                bounds=bounds,
                missing_outcome="model",
                grouping_roles=list(self.levels),
            )
            frame = prepared.frame
            Y = frame[list(self.measures)].to_numpy(dtype=float)
            empty = np.isnan(Y).all(axis=1)
            dropped = dict(prepared.dropped)
            if empty.any():
                dropped["every rater missing"] = int(empty.sum())
                frame = frame.loc[~empty]
                Y = Y[~empty]
            prepared.frame = frame
            prepared.dropped = dropped
            missing_cells = {
                lab: int(np.isnan(Y[:, j]).sum()) for j, lab in enumerate(self.rater_labels)
            }
            prepared.missing_modelled = {}
            row_i, r_i = np.nonzero(~np.isnan(Y))
            y = Y[row_i, r_i]
        else:
            if self.bounds:
                bounds = {self.measure: self.bounds}
            prepared = prepare(
                data,
                roles,
                id_roles=[*self.levels, "rater"],
                optional_id_roles=["therapist", "client", "session"],
                measures=[self.measure],
                bounds=bounds,
                missing_outcome="drop",
                grouping_roles=list(self.levels),
            )
            frame = prepared.frame
            rcol = prepared.column("rater")
            lab = frame[rcol].astype(str).to_numpy()
            declared = list(self.rater_labels)
            unknown = [v for v in pd.unique(lab) if v not in declared]
            if unknown:
                raise UnknownRaterError(
                    f"rater label(s) {unknown[:5]} are in the data but not among the declared "
                    f"raters {declared}; declare them with {option_hint('raters', Placeholder('(...)', 'LABEL,...'))}",
                    role="rater",
                    column=rcol,
                    rows=list(frame.index[np.isin(lab, unknown)]),
                )
            absent = [v for v in declared if v not in set(lab)]
            if absent:
                raise UnknownRaterError(
                    f"declared rater(s) {absent} have no rows in the data; leave them out of "
                    f"{option_hint('raters', Placeholder('(...)', 'LABEL,...'))}",
                    role="rater",
                    column=rcol,
                )
            r_i = np.asarray([declared.index(v) for v in lab], dtype=np.int64)
            row_i = np.arange(len(frame))
            y = frame[self.measure].to_numpy(dtype=float)
            missing_cells = {}
            if prepared.has("session"):
                n_sess = prepared.n_groups("session")
                missing_cells = {r: int(n_sess - (r_i == j).sum()) for j, r in enumerate(declared)}
        codes = {lv: prepared.codes(lv) for lv in self.levels}
        design = {
            "y": y,
            "rater": r_i.astype(np.int64),
            **{f"{lv}_codes": codes[lv][0][row_i] for lv in self.levels},
        }
        n_obs = {lab_: int((r_i == j).sum()) for j, lab_ in enumerate(self.rater_labels)}
        for j, lab_ in enumerate(self.rater_labels):
            if n_obs[lab_] < 2 or np.nanstd(y[r_i == j]) == 0:
                raise DataError(
                    f"rater {lab_!r} has {n_obs[lab_]} rating(s) with no variance",
                    role="rater",
                    column=self.measures[j] if self.wide else self.measure,
                )
        base = {f.name: getattr(prepared, f.name) for f in fields(PreparedData)}
        return RaterData(
            **base,
            design=design,
            extra_info={
                "format": "wide" if self.wide else "long",
                "ratings_by_rater": n_obs,
                "missing_ratings_by_rater": missing_cells,
            },
        )

    def _ensure(self, data: PreparedData) -> RaterData:
        if isinstance(data, RaterData) and data.design:
            return data
        return self.prepare(data.frame, data.roles)

    # -- names ------------------------------------------------------------------------------
    def reported(self, data: PreparedData) -> list[str]:
        names = ["Intercept"] + [f"sd_{lv}" for lv in self.levels] + ["sigma"]
        names += [f"share_{lv}" for lv in self.levels] + ["share_residual"]
        names += [f"corr_{lv}" for lv in self.levels]
        names += ["rater_offset", "rater_contrast", "rater_superiority"]
        return names

    def sampled(self, data: PreparedData) -> list[str]:
        skip = ("corr_", "rater_contrast", "rater_superiority")
        return [n for n in self.reported(data) if not n.startswith(skip)]

    # -- model ------------------------------------------------------------------------------
    def _scales(self, d: dict) -> tuple[np.ndarray, np.ndarray]:
        R = len(self.rater_labels)
        loc_scale = [self.location_scale(d["y"][d["rater"] == j]) for j in range(R)]
        return np.array([v[0] for v in loc_scale]), np.array([v[1] for v in loc_scale])

    def build(self, data: PreparedData) -> Built:
        data = self._ensure(data)
        d = data.design
        labels = list(self.rater_labels)
        R = len(labels)
        m, s = self._scales(d)
        r = d["rater"]
        ys = (d["y"] - m[r]) / s[r]
        priors = self.resolved_priors()
        coords = {"rater": labels, "rater2": labels, "cell": np.arange(len(ys))}
        for lv in self.levels:
            coords[lv] = data.codes(lv)[1]
        with pm.Model(coords=coords) as model:
            mu = with_dims(priors["Intercept"], "rater").create_variable("Intercept_std")
            sigma = with_dims(priors["sigma"], "rater").create_variable("sigma_std")
            eta = mu[r]
            cov_levels = 0.0
            for lv in self.levels:
                p = priors[f"sd_{lv}"]
                sd_dist = getattr(pm, p.distribution).dist(**p.parameters, shape=R)
                # compute_corr=False: nutpie's JAX backend panics on the chol_*_corr/_stds
                # deterministics that compute_corr=True registers (nuts-rs 0.18), so the
                # correlation and SDs are derived here from the Cholesky factor instead.
                packed = pm.LKJCholeskyCov(
                    f"chol_{lv}", n=R, eta=self.lkj_eta, sd_dist=sd_dist, compute_corr=False
                )
                chol = pm.expand_packed_triangular(R, packed, lower=True)
                sds = pt.sqrt(pt.sum(chol**2, axis=1))
                corr = pt.dot(chol, chol.T) / pt.outer(sds, sds)
                pm.Deterministic(f"sd_{lv}_std", sds, dims="rater")
                pm.Deterministic(f"corr_{lv}", corr, dims=("rater", "rater2"))
                cov_levels = cov_levels + pt.dot(chol, chol.T)
                z = pm.Normal(f"z_{lv}", 0, 1, dims=(lv, "rater"))
                eff = pt.dot(z, chol.T)
                eta = eta + eff[d[f"{lv}_codes"], r]
            pm.Normal("y", mu=eta, sigma=sigma[r], observed=ys, dims="cell")
            ll = normal_loglik(ys, eta, sigma[r])
            pm.Deterministic("Intercept", m + s * mu, dims="rater")
            total = sigma**2
            for lv in self.levels:
                pm.Deterministic(f"sd_{lv}", s * model[f"sd_{lv}_std"], dims="rater")
                total = total + model[f"sd_{lv}_std"] ** 2
            pm.Deterministic("sigma", s * sigma, dims="rater")
            for lv in self.levels:
                pm.Deterministic(f"share_{lv}", model[f"sd_{lv}_std"] ** 2 / total, dims="rater")
            pm.Deterministic("share_residual", sigma**2 / total, dims="rater")
            means = m + s * mu
            pm.Deterministic("rater_offset", means - pt.mean(means), dims="rater")
            contrast = pm.Deterministic(
                "rater_contrast", means[:, None] - means[None, :], dims=("rater", "rater2")
            )
            # covariance of two perspectives' ratings of one session, in data units
            cov_data = np.outer(s, s) * cov_levels + pt.diag((s * sigma) ** 2)
            var_data = pt.diag(cov_data)
            # (the identity keeps the diagonal, a rater against itself, at 0 / 1 -> 0.5)
            sd_diff = pt.sqrt(var_data[:, None] + var_data[None, :] - 2 * cov_data + np.eye(R))
            pm.Deterministic(
                "rater_superiority",
                0.5 * (1 + pt.erf(contrast / sd_diff / np.sqrt(2.0))),
                dims=("rater", "rater2"),
            )
        return Built(
            model=model,
            design=d,
            scales={"mean": m, "sd": s},
            loglik=ll,
            loglik_name=self.measure or "rating",
            loglik_dim="cell",
            loglik_coords=np.arange(len(ys)),
            loglik_offset=-np.log(s[r]),
        )

    # -- after sampling ---------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        post = idata["posterior"]
        labels = list(self.rater_labels)
        probs = {}
        if "share_therapist" in post.data_vars:
            for lab in labels:
                v = post["share_therapist"].sel(rater=lab)
                probs[f"P(share_therapist[{lab}] > 0.05)"] = float((v > 0.05).mean())
        for lv in self.levels:
            c = post[f"corr_{lv}"]
            for i in range(len(labels)):
                for j in range(i + 1, len(labels)):
                    v = c.sel(rater=labels[i], rater2=labels[j])
                    probs[f"P(corr_{lv}[{labels[i]},{labels[j]}] > 0)"] = float((v > 0).mean())
        for i in range(len(labels)):
            for j in range(len(labels)):
                if i != j:
                    v = post["rater_contrast"].sel(rater=labels[i], rater2=labels[j])
                    key = f"P(rater_offset[{labels[i]}] > rater_offset[{labels[j]}])"
                    probs[key] = float((v > 0).mean())
        built.probabilities.update(probs)
        return idata

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        d = built.design
        name = self.measure or "rating"
        return xr.Dataset(
            {name: ("cell", d["y"]), "rater_index": ("cell", d["rater"])},
            coords={"cell": np.arange(len(d["y"]))},
        )


__all__ = ["RaterData", "RaterPartition", "UnknownRaterError"]
