"""Model 1: variance partition — how much of a measure is the therapist's, the client's, the
session's.

    y_i = x_i'beta + u_therapist + v_client (+ w_session for EMA rows) + e_i

Random intercepts at each grouping level present (therapist > client > session), fixed
covariates, and optionally a random slope of one covariate at client level correlated with
the client intercept. Priors live on the standardized scale (outcome and covariates divided by
their SD); reported quantities are on the data's scale.

Two likelihoods give the same posterior:

* ``marginalized=True`` (default without a random slope): every random intercept is
  integrated out analytically. Rows enter only through per-group sufficient statistics
  (count, mean of y and of x, within-group cross-products), and the nested Gaussian is
  collapsed level by level with the precision-weighted-mean identity (Sherman-Morrison for
  compound symmetry). The cost of a gradient grows with the number of lowest-level groups,
  not rows. The log-likelihood is per top-level group (e.g. per therapist), the natural unit
  for leave-one-group-out LOO.
* ``marginalized=False``: non-centred random effects sampled explicitly; per-row log-likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData, prepare
from empathy_models.errors import ConfigError, ConstantMeasureError
from empathy_models.models.base import Built, ModelSpec, jacobian_offset, normal_loglik, register
from empathy_models.models.priors import with_dims

LEVEL_ORDER = ("therapist", "client", "session")
LOG2PI = float(np.log(2 * np.pi))


@register
@dataclass(frozen=True)
class VariancePartition(ModelSpec):
    """Variance partition of one measure across therapist, client and session.

    Parameters
    ----------
    measure
        Column of the measure (e.g. ``"alliance"``).
    covariates
        Columns entering as fixed effects (reported under their column names).
    levels
        Grouping levels with a random intercept, among ``"therapist"`` and ``"client"``.
        A ``"session"`` level is added automatically when the session role is present and
        sessions hold several rows (EMA moments); with one row per session, the session is the
        residual level and ``share_residual`` is the session-to-session share.
    random_slope
        One covariate whose slope varies by client, correlated with the client intercept.
    marginalized
        Integrate the random intercepts out (default ``None``: yes unless there is a random
        slope or a crossed design).
    bounds
        Declared scale bounds of the measure, e.g. ``(1, 7)``; values outside are an error.
    missing_outcome : {"drop", "model", "error"}
        ``"drop"`` (default, counted) or ``"model"`` (imputed; full form only) or ``"error"``.
        For a Gaussian model with outcomes missing at random, dropping gives the same
        posterior for the parameters as modelling.
    missing_predictor : {"error", "drop"}
        ``"error"`` (default) or ``"drop"`` (counted).
    """

    family = "variance"

    measure: str
    covariates: tuple[str, ...] = ()
    levels: tuple[str, ...] = ("therapist", "client")
    random_slope: str | None = None
    marginalized: bool | None = None
    bounds: tuple[float, float] | None = None
    missing_outcome: str = "drop"
    missing_predictor: str = "error"

    def __post_init__(self) -> None:
        object.__setattr__(self, "covariates", tuple(self.covariates))
        object.__setattr__(self, "levels", tuple(self.levels))
        if self.bounds is not None:
            object.__setattr__(self, "bounds", tuple(self.bounds))
        bad = [lv for lv in self.levels if lv not in ("therapist", "client", "session")]
        if bad or not self.levels:
            raise ConfigError(
                f"levels must be among 'therapist', 'client' (and 'session'); got {self.levels}"
            )
        if self.random_slope is not None:
            if self.random_slope not in self.covariates:
                raise ConfigError(
                    f"random_slope {self.random_slope!r} must also be one of the covariates"
                )
            if "client" not in self.levels:
                raise ConfigError("a random slope needs the client level")
            if self.marginalized:
                raise ConfigError(
                    "marginalized=True integrates random intercepts only; use the full form for a random slope"
                )
        if self.missing_outcome not in ("drop", "model", "error"):
            raise ConfigError("missing_outcome must be 'drop', 'model' or 'error'")
        if self.missing_outcome == "model" and self.marginalized:
            raise ConfigError(
                "missing_outcome='model' needs marginalized=False (dropping is exact here)"
            )
        self.resolved_priors()  # misspelt prior names fail at construction

    # -- priors -----------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale.

        ``Intercept`` Normal(0, 1); ``beta`` Normal(0, 1) per standardized covariate;
        ``sd_therapist``, ``sd_client``, ``sd_session``, ``sigma`` HalfNormal(1) (the outcome's
        SD is 1); with a random slope ``sd_slope_client`` HalfNormal(1) and ``corr_slope_client``
        Beta(2, 2) on (rho + 1) / 2, which is the LKJ(eta=2) prior for a 2x2 correlation.
        """
        p = {
            "Intercept": Prior("Normal", mu=0, sigma=1),
            "beta": Prior("Normal", mu=0, sigma=1),
            "sd_therapist": Prior("HalfNormal", sigma=1),
            "sd_client": Prior("HalfNormal", sigma=1),
            "sd_session": Prior("HalfNormal", sigma=1),
            "sigma": Prior("HalfNormal", sigma=1),
            "sd_slope_client": Prior("HalfNormal", sigma=1),
            "corr_slope_client": Prior("Beta", alpha=2, beta=2),
        }
        return p

    # -- data -------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> PreparedData:
        roles = roles or Roles()
        optional = ["session"] if "session" not in self.levels else []
        prepared = prepare(
            data,
            roles,
            id_roles=[lv for lv in self.levels],
            optional_id_roles=optional + ["moment"],
            measures=[self.measure],
            predictors=list(self.covariates),
            bounds={self.measure: self.bounds} if self.bounds else None,
            missing_outcome=self.missing_outcome,
            missing_predictor=self.missing_predictor,
            grouping_roles=[lv for lv in self.levels if lv != "session"],
        )
        return prepared

    def group_levels(self, data: PreparedData) -> list[str]:
        """Grouping levels with a random intercept, top to bottom."""
        lv = [r for r in LEVEL_ORDER if r in self.levels and data.has(r) and r != "session"]
        if data.has("session") and data.has("client"):
            codes, labels = data.codes("session")
            if len(labels) < data.n_rows:
                lv.append("session")
        return lv

    def use_marginal(self, data: PreparedData) -> bool:
        if self.marginalized is not None:
            if self.marginalized and data.roles.crossed:
                raise ConfigError(
                    "the marginalized likelihood needs nested groups; use marginalized=False"
                )
            return self.marginalized
        return (
            self.random_slope is None and not data.roles.crossed and self.missing_outcome != "model"
        )

    def reported(self, data: PreparedData) -> list[str]:
        lv = self.group_levels(data)
        names = ["Intercept", *self.covariates]
        names += [f"sd_{lv_}" for lv_ in lv] + ["sigma"]
        if self.random_slope:
            names += [f"sd_{self.random_slope}_client", f"corr_{self.random_slope}_client"]
        names += [f"share_{lv_}" for lv_ in lv] + ["share_residual"]
        return names

    def sampled(self, data: PreparedData) -> list[str]:
        return [n for n in self.reported(data) if not n.startswith("share_")]

    # -- model ------------------------------------------------------------------------------
    def design(self, data: PreparedData) -> dict:
        """Standardized outcome and covariates, the observed mask and the scales."""
        df = data.frame
        y = df[self.measure].to_numpy(dtype=float)
        obs = ~np.isnan(y)
        if not np.nanstd(y) > 0:
            raise ConstantMeasureError(
                "the measure is constant; there is no variance to partition",
                role="measure",
                column=self.measure,
            )
        X = (
            df[list(self.covariates)].to_numpy(dtype=float)
            if self.covariates
            else np.zeros((len(df), 0))
        )
        y_mean, y_sd = self.location_scale(y)
        x_mean, x_sd = self.location_scale(X, axis=0)
        return {
            "ys": (y - y_mean) / y_sd,
            "Xs": (X - x_mean) / x_sd,
            "obs": obs,
            "levels": self.group_levels(data),
            "scales": {"y_mean": y_mean, "y_sd": y_sd, "x_mean": x_mean, "x_sd": x_sd},
        }

    def _coords(self, data: PreparedData) -> dict:
        coords = {"covariate": list(self.covariates)}
        for lv in self.group_levels(data):
            coords[lv] = data.codes(lv)[1]
        return coords

    def build(self, data: PreparedData) -> Built:
        d = self.design(data)
        ys, Xs, obs, sc = d["ys"], d["Xs"], d["obs"], d["scales"]
        priors = self.resolved_priors()
        levels = d["levels"]
        marginal = self.use_marginal(data)
        with pm.Model(coords=self._coords(data)) as model:
            b0 = priors["Intercept"].create_variable("Intercept_std")
            beta = (
                with_dims(priors["beta"], "covariate").create_variable("beta_std")
                if self.covariates
                else pt.zeros((0,))
            )
            sds = {lv: priors[f"sd_{lv}"].create_variable(f"sd_{lv}_std") for lv in levels}
            sigma = priors["sigma"].create_variable("sigma_std")
            if marginal:
                stats = marginal_statistics(data, levels, ys, Xs)
                # the outcome's statistics enter as data: a compiled sampler can be reused
                # for another outcome with the same design (simulation studies)
                for key in ("ybar", "wyy") + (("wxy",) if self.covariates else ()):
                    stats[key] = pm.Data(f"stat_{key}", stats[key])
                d["stats"] = stats
                ll = marginal_loglik(stats, b0, beta, [sds[lv] for lv in levels], sigma)
                pm.Potential("marginal_loglik", ll.sum())
                top = levels[0]
                codes, labels = data.codes(top)
                unit, unit_labels = top, labels
                n_unit = np.bincount(codes, minlength=len(labels))
            else:
                mu = b0 + (pt.dot(Xs, beta) if self.covariates else 0.0)
                for lv in levels:
                    codes, _ = data.codes(lv)
                    if lv == "client" and self.random_slope:
                        j = self.covariates.index(self.random_slope)
                        sd_s = priors["sd_slope_client"].create_variable("sd_slope_client_std")
                        r01 = priors["corr_slope_client"].create_variable("corr_slope_client_01")
                        rho = pm.Deterministic("corr_slope_client_std", 2 * r01 - 1)
                        z0 = pm.Normal("z_client", 0, 1, dims="client")
                        z1 = pm.Normal("z_slope_client", 0, 1, dims="client")
                        v0 = sds[lv] * z0
                        v1 = sd_s * (rho * z0 + pt.sqrt(1 - rho**2) * z1)
                        # scaled, not centred: the client intercept SD and the correlation
                        # refer to covariate = 0, as in lme4 and brms
                        x_raw = data.frame[self.random_slope].to_numpy(dtype=float) / sc["x_sd"][j]
                        mu = mu + v0[codes] + v1[codes] * x_raw
                    else:
                        z = pm.Normal(f"z_{lv}", 0, 1, dims=lv)
                        mu = mu + (sds[lv] * z)[codes]
                model.add_coord("obs", np.arange(len(ys)))
                y_obs = np.ma.masked_invalid(ys) if not obs.all() else ys
                pm.Normal("y", mu=mu, sigma=sigma, observed=y_obs, dims="obs")
                ll = normal_loglik(ys[obs], mu[np.flatnonzero(obs)], sigma)
                unit, unit_labels = "obs", np.flatnonzero(obs)
                n_unit = np.ones(int(obs.sum()))
            self._original_scale(model, sc, levels)
        return Built(
            model=model,
            design=d,
            scales=sc,
            loglik=ll,
            loglik_name=self.measure,
            loglik_dim=unit,
            loglik_coords=unit_labels,
            loglik_offset=jacobian_offset(n_unit, sc["y_sd"]),
            info={"likelihood": "marginalized" if marginal else "full"},
        )

    def _original_scale(self, model, sc: dict, levels) -> None:
        y_mean = pm.Data("scale_y_mean", np.asarray(sc["y_mean"], dtype=float))
        y_sd = pm.Data("scale_y_sd", np.asarray(sc["y_sd"], dtype=float))
        x_mean, x_sd = sc["x_mean"], sc["x_sd"]
        b0 = model["Intercept_std"]
        if self.covariates:
            beta = model["beta_std"]
            coef = beta * y_sd / x_sd
            pm.Deterministic("Intercept", y_mean + y_sd * b0 - pt.sum(coef * x_mean))
            for j, c in enumerate(self.covariates):
                pm.Deterministic(c, coef[j])
        else:
            pm.Deterministic("Intercept", y_mean + y_sd * b0)
        sd_std = {lv: model[f"sd_{lv}_std"] for lv in levels}
        if self.random_slope:
            j = self.covariates.index(self.random_slope)
            pm.Deterministic(
                f"sd_{self.random_slope}_client", model["sd_slope_client_std"] * y_sd / x_sd[j]
            )
            pm.Deterministic(f"corr_{self.random_slope}_client", model["corr_slope_client_std"])
        var_total = model["sigma_std"] ** 2
        for lv in levels:
            pm.Deterministic(f"sd_{lv}", sd_std[lv] * y_sd)
            var_total = var_total + sd_std[lv] ** 2
        pm.Deterministic("sigma", model["sigma_std"] * y_sd)
        for lv in levels:
            pm.Deterministic(f"share_{lv}", sd_std[lv] ** 2 / var_total)
        pm.Deterministic("share_residual", model["sigma_std"] ** 2 / var_total)

    # -- after sampling ---------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        post = idata["posterior"]
        probs = built.probabilities
        if "share_therapist" in post.data_vars:
            probs["P(share_therapist > 0.05)"] = float((post["share_therapist"] > 0.05).mean())
        for lv in built.design["levels"]:
            probs[f"P(share_{lv} > 0.10)"] = float((post[f"share_{lv}"] > 0.10).mean())
        return idata

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        return xr.Dataset({self.measure: ("obs", data.frame[self.measure].to_numpy(dtype=float))})

    def posterior_predictive(self, idata, data, built, *, seed: int = 0, max_draws: int = 200):
        """Replicated data sets with new draws of every random effect (a "mixed" predictive
        check of the variance structure), for at most ``max_draws`` posterior draws."""
        post = idata["posterior"]
        rng = np.random.default_rng(seed)
        d = built.design
        levels, Xs, sc = d["levels"], d["Xs"], built.scales
        n_rows = len(d["ys"])
        stacked = post.to_dataset().stack(sample=("chain", "draw"))
        n = stacked.sizes["sample"]
        pick = np.sort(rng.choice(n, size=min(max_draws, n), replace=False))
        reps = np.empty((len(pick), n_rows))
        codes = {lv: data.codes(lv)[0] for lv in levels}
        for r, s in enumerate(pick):
            mu = float(stacked["Intercept_std"].values[s])
            if self.covariates:
                mu = mu + Xs @ stacked["beta_std"].values[:, s]
            for lv in levels:
                sd = float(stacked[f"sd_{lv}_std"].values[s])
                g = codes[lv]
                mu = mu + sd * rng.standard_normal(g.max() + 1)[g]
            reps[r] = mu + float(stacked["sigma_std"].values[s]) * rng.standard_normal(n_rows)
        reps = sc["y_mean"] + sc["y_sd"] * reps
        return xr.Dataset(
            {self.measure: (("chain", "draw", "obs"), reps[None])},
            coords={"chain": [0], "draw": np.arange(len(pick))},
        )


# -- marginal likelihood ---------------------------------------------------------------------
def marginal_statistics(
    data: PreparedData, levels: list[str], ys: np.ndarray, Xs: np.ndarray
) -> dict:
    """Sufficient statistics for the nested random-intercept likelihood.

    Returns per lowest-level group counts and means of y and X, per top-level group
    within-group cross-products, and parent maps between consecutive levels.
    """
    g_codes = [data.codes(lv)[0] for lv in levels]
    leaf = g_codes[-1]
    n_leaf = int(leaf.max()) + 1
    counts = np.bincount(leaf, minlength=n_leaf).astype(float)
    ybar = np.bincount(leaf, weights=ys, minlength=n_leaf) / counts
    p = Xs.shape[1]
    xbar = (
        np.column_stack(
            [np.bincount(leaf, weights=Xs[:, j], minlength=n_leaf) / counts for j in range(p)]
        )
        if p
        else np.zeros((n_leaf, 0))
    )
    yw = ys - ybar[leaf]
    Xw = Xs - xbar[leaf]
    top = g_codes[0]
    n_top = int(top.max()) + 1
    wyy = np.bincount(top, weights=yw * yw, minlength=n_top)
    wxy = (
        np.column_stack(
            [np.bincount(top, weights=Xw[:, j] * yw, minlength=n_top) for j in range(p)]
        )
        if p
        else np.zeros((n_top, 0))
    )
    wxx = np.zeros((n_top, p, p))
    for j in range(p):
        for k in range(j, p):
            v = np.bincount(top, weights=Xw[:, j] * Xw[:, k], minlength=n_top)
            wxx[:, j, k] = v
            wxx[:, k, j] = v
    # parent of each group at level l+1 in level l, and top group of each group at every level
    parents = []
    for lev in range(len(levels) - 1):
        child, parent = g_codes[lev + 1], g_codes[lev]
        par = np.empty(int(child.max()) + 1, dtype=np.int64)
        par[child] = parent
        parents.append(par)
    leaf_top = np.empty(n_leaf, dtype=np.int64)
    leaf_top[leaf] = top
    # Cells of lowest-level groups with the same parent and the same row count share one
    # variance, so the lowest-level collapse needs only per-cell sums: in a balanced design a
    # gradient then costs O(parents), not O(lowest-level groups).
    if len(levels) > 1:
        cell, cell_idx = np.unique(
            np.column_stack([parents[-1], counts.astype(np.int64)]), axis=0, return_inverse=True
        )
        cell_idx = cell_idx.ravel()
        n_cell = len(cell)
        cell_top = np.empty(n_cell, dtype=np.int64)
        cell_top[cell_idx] = leaf_top
        cells = {
            "leaf_cell": cell_idx,
            "n_cell": n_cell,
            "cell_k": np.bincount(cell_idx, minlength=n_cell).astype(float),
            "cell_n": cell[:, 1].astype(float),
            "cell_par": cell[:, 0].astype(np.int64),
            "cell_top": cell_top,
            "cell_Sx": _bincount_columns(cell_idx, xbar, n_cell),
            "cell_Sxx": _bincount_columns(
                cell_idx, (xbar[:, :, None] * xbar[:, None, :]).reshape(n_leaf, p * p), n_cell
            ).reshape(n_cell, p, p),
        }
    else:
        cells = {}
    rows_top = np.bincount(top, minlength=n_top).astype(float)
    groups_top = np.bincount(leaf_top, minlength=n_top).astype(float)
    const_top = np.bincount(leaf_top, weights=np.log(counts), minlength=n_top)
    return {
        "counts": counts,
        "ybar": ybar,
        "xbar": xbar,
        "wyy": wyy,
        "wxy": wxy,
        "wxx": wxx,
        "parents": parents,
        "leaf_top": leaf_top,
        "rows_top": rows_top,
        "groups_top": groups_top,
        "logn_top": const_top,
        "n_top": n_top,
        "n_groups": [int(c.max()) + 1 for c in g_codes],
        **cells,
    }


def _segment_sum(values, index: np.ndarray, size: int):
    return pt.zeros((size,), dtype=values.dtype)[index].inc(values)


def marginal_loglik(stats: dict, b0, beta, sds: list, sigma):
    """Log-likelihood per top-level group with all random intercepts integrated out.

    ``sds`` are the random-intercept SDs from the top level down to the lowest level.
    """
    s2 = sigma**2
    p = stats["xbar"].shape[1]
    # within-lowest-group part: sum of squared within deviations, a quadratic in beta
    if p:
        w = stats["wyy"] - 2 * pt.dot(stats["wxy"], beta) + pt.dot(pt.dot(stats["wxx"], beta), beta)
        m = stats["ybar"] - b0 - pt.dot(stats["xbar"], beta)
    else:
        w = pt.as_tensor(stats["wyy"])
        m = stats["ybar"] - b0
    ll_top = (
        -0.5 * (stats["rows_top"] - stats["groups_top"]) * (LOG2PI + pt.log(s2))
        - 0.5 * stats["logn_top"]
        - 0.5 * w / s2
    )
    n_top = stats["n_top"]
    top_of = stats["leaf_top"]
    a = s2 / stats["counts"] + sds[-1] ** 2
    first = len(sds) - 2
    if len(sds) > 1:
        # lowest level from per-cell sums (see marginal_statistics)
        ll_top, m, a, top_of = _collapse_cells(stats, ll_top, b0, beta, sds, s2)
        first -= 1
    # collapse the remaining levels bottom-up: children means m with variance a around the
    # parent effect
    for level in range(first, -1, -1):
        par = stats["parents"][level]
        n_par = stats["n_groups"][level]
        prec = 1.0 / a
        P = _segment_sum(prec, par, n_par)
        mbar = _segment_sum(m * prec, par, n_par) / P
        resid = prec * (m - mbar[par]) ** 2
        term = -0.5 * (LOG2PI + pt.log(a)) - 0.5 * resid
        par_top = np.empty(n_par, dtype=np.int64)
        par_top[par] = top_of
        ll_top = (
            ll_top
            + _segment_sum(term, top_of, n_top)
            + _segment_sum(0.5 * (LOG2PI - pt.log(P)), par_top, n_top)
        )
        m = mbar
        a = 1.0 / P + sds[level] ** 2
        top_of = par_top
    # top level: m ~ N(0, a), one per top group
    ll_top = ll_top - 0.5 * (LOG2PI + pt.log(a)) - 0.5 * m**2 / a
    return ll_top


def _bincount_columns(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Column-wise ``np.bincount`` of a 2-D array: (n, p) -> (size, p)."""
    return (
        np.column_stack(
            [
                np.bincount(index, weights=values[:, j], minlength=size)
                for j in range(values.shape[1])
            ]
        )
        if values.shape[1]
        else np.zeros((size, 0))
    )


def _cell_sum(values, stats: dict):
    """Sum per-lowest-group values (1-D or 2-D) into cells; numpy, or symbolic when the
    values come from ``pm.Data`` (simulation studies swap the outcome after compiling)."""
    if isinstance(values, np.ndarray):
        if values.ndim == 1:
            return np.bincount(stats["leaf_cell"], weights=values, minlength=stats["n_cell"])
        return _bincount_columns(stats["leaf_cell"], values, stats["n_cell"])
    shape = (stats["n_cell"], stats["xbar"].shape[1]) if values.ndim > 1 else (stats["n_cell"],)
    return pt.zeros(shape, dtype=values.dtype)[stats["leaf_cell"]].inc(values)


def _collapse_cells(stats: dict, ll_top, b0, beta, sds: list, s2):
    """Integrate out the lowest-level effects and collapse onto their parents from cell sums.

    For the k children of one cell (same parent, same row count n) with means
    ``m_i = ybar_i - b0 - xbar_i'beta`` and common variance ``a = s2/n + sd^2``, the terms
    ``sum_i log N(m_i | mbar, a)`` need only ``k``, ``sum m_i`` and ``sum m_i^2``.
    """
    ybar = stats["ybar"]
    k, n = stats["cell_k"], stats["cell_n"]
    par, top = stats["cell_par"], stats["cell_top"]
    n_par = stats["n_groups"][-2]
    Sy = _cell_sum(ybar, stats)
    Syy = _cell_sum(ybar * ybar, stats)
    Sm = Sy - k * b0
    Smm = Syy - 2 * b0 * Sy + k * b0**2
    if stats["cell_Sx"].shape[1]:
        Sxy = _cell_sum(ybar[:, None] * stats["xbar"], stats)
        Sx = stats["cell_Sx"]
        Sm = Sm - pt.dot(Sx, beta)
        Smm = Smm - 2 * pt.dot(Sxy - b0 * Sx, beta) + pt.dot(pt.dot(stats["cell_Sxx"], beta), beta)
    a = s2 / n + sds[-1] ** 2
    prec = 1.0 / a
    P = _segment_sum(k * prec, par, n_par)
    mbar = _segment_sum(Sm * prec, par, n_par) / P
    mb = mbar[par]
    resid = prec * (Smm - 2 * mb * Sm + k * mb**2)
    term = -0.5 * k * (LOG2PI + pt.log(a)) - 0.5 * resid
    par_top = np.empty(n_par, dtype=np.int64)
    par_top[par] = top
    ll_top = (
        ll_top
        + _segment_sum(term, top, stats["n_top"])
        + _segment_sum(0.5 * (LOG2PI - pt.log(P)), par_top, stats["n_top"])
    )
    return ll_top, mbar, 1.0 / P + sds[-2] ** 2, par_top


__all__ = ["VariancePartition"]
