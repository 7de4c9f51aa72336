"""Model 4: intervention-moderated effects of the empathy subcomponents.

Does the effect of affect sharing, mentalizing and empathic concern on session outcome depend
on the intervention (e.g. exposure and response prevention, ERP, vs motivational
interviewing, MI)? Each predictor ``x_k`` is split into a between-client part (the client's
mean, centred at the grand mean) and a within-client part (the session's deviation from its
client's mean). On the standardized scale (outcome and every part divided by its SD)::

    y_i = alpha[j] + sum_k (slope_std[k, j] + u_t[k]) * w_ik
                   + sum_k slope_between_std[k, j] * b_ik
                   + x_cov_i' beta + v_t + v_c + e_i,          e_i ~ N(0, sigma^2)

    slope_std[k, j]         ~ N(slope_mean[k], sd_slope_intervention[k])   (partial pooling)
    slope_between_std[k, j] ~ N(slope_between_mean[k], sd_slope_between_intervention[k])
    u_t[k] ~ N(0, sd_slope_therapist[k]),  v_t ~ N(0, sd_therapist),  v_c ~ N(0, sd_client)

with ``j`` the intervention of row ``i`` (per client or per session), ``t`` its therapist and
``c`` its client.

Centering
---------
The split uses **observed-mean centering** (client means of the observed predictor). The
within-client slope is then an exact within-client contrast: the observed within deviation is
orthogonal to every client-level quantity, so the within slopes (the moderated slopes
``slope`` on which the contrasts are built) are not biased by the unreliability of client
means. The between-client slope ``slope_between`` is attenuated towards the within slope when
clients have few sessions (Lüdtke et al., 2008); latent-mean centering would remove that bias
at the cost of one latent mean per client and subcomponent. Because the question here is
about session-level slopes and their contrasts, and three correlated predictors times the
latent means would make the model slow, observed-mean centering is the documented choice
(see ``docs/moderation.md``).

Correlated predictors
---------------------
Every between and within part is standardized before entering the model, so priors act on
comparable scales and the posterior geometry stays well conditioned; the within-client
correlation matrix of the predictors and its condition number are stored in
``Result.info["predictor_correlation"]`` and a :class:`CollinearityWarning` is raised when the
condition number exceeds 30.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

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
    ConstantMeasureError,
    DegeneratePredictorError,
    TooFewGroupsError,
    UnknownLevelError,
)
from empathy_models.models.base import (
    Built,
    ModelSpec,
    draws_function,
    jacobian_offset,
    normal_loglik,
    register,
)
from empathy_models.models.priors import with_dims

DEFAULT_PREDICTORS = ("affect_sharing", "mentalizing", "empathic_concern")
#: Default half-width of the region of practical equivalence: 0.1 SD of the outcome per
#: within-client SD of the predictor (``rope_scale="std"``).
DEFAULT_ROPE = 0.1
CONDITION_MAX = 30.0


class CollinearityWarning(UserWarning):
    """The predictors are so correlated that their separate slopes are poorly identified."""


@register
@dataclass(frozen=True)
class ModeratedEffects(ModelSpec):
    """Intervention-moderated slopes of several predictors, each split between/within.

    Parameters
    ----------
    outcome
        Column of the session-level outcome (higher = whatever the column means; the model
        does not assume a direction).
    predictors
        Predictor columns (default ``affect_sharing``, ``mentalizing``, ``empathic_concern``);
        each is split into a between-client and a within-client part (observed-mean centering).
    covariates
        Further fixed-effect columns (standardized; reported under their column names).
    intervention_levels
        Declared levels of the moderator (the ``intervention`` role), e.g. ``("ERP", "MI")``.
        Default ``None``: the sorted levels in the data, stored in the result's configuration.
        A level in the data but not declared, or declared but without any client, is an
        :class:`~empathy_models.errors.UnknownLevelError`. Contrasts are named
        ``"<later>_minus_<earlier>"`` in this order, for every pair.
    levels
        Grouping levels with a random intercept, among ``"therapist"`` and ``"client"``.
    therapist_slopes
        Therapist random slopes on the within-client parts (one SD per subcomponent, shared
        by interventions).
    marginalized
        Integrate the client random intercepts out analytically (default): the likelihood of
        each client's sessions is a compound-symmetric Gaussian, which removes one parameter
        per client and the funnel between them and ``sd_client``; the log-likelihood is then
        per client (the natural unit for leave-one-client-out LOO). ``False`` samples the
        client intercepts explicitly (per-row log-likelihood).
    centered
        Centred (default) or non-centred parameterization of the intervention-specific
        slopes around their subcomponent mean. Centred suits data sets where every
        intervention has many sessions (the slopes are well identified by the data).
    rope
        Half-width of the region of practical equivalence for the contrasts (default
        :data:`DEFAULT_ROPE` = 0.1).
    rope_scale : {"std", "raw"}
        ``"std"`` (default): the ROPE is on the standardized contrast, outcome SDs per
        within-client SD of the predictor; ``"raw"``: in the outcome's units per unit of the
        predictor.
    missing_outcome, missing_predictor : {"drop", "error"}
        As in :func:`~empathy_models.data.validation.prepare` (default drop-and-count /
        error).
    """

    family = "moderation"

    outcome: str = "outcome"
    predictors: tuple[str, ...] = DEFAULT_PREDICTORS
    covariates: tuple[str, ...] = ()
    intervention_levels: tuple | None = None
    levels: tuple[str, ...] = ("therapist", "client")
    therapist_slopes: bool = True
    centered: bool = True
    marginalized: bool = True
    rope: float = DEFAULT_ROPE
    rope_scale: str = "std"
    missing_outcome: str = "drop"
    missing_predictor: str = "error"

    def __post_init__(self) -> None:
        for name in ("predictors", "covariates", "levels"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        if self.intervention_levels is not None:
            lv = tuple(self.intervention_levels)
            object.__setattr__(self, "intervention_levels", lv)
            if len(set(lv)) != len(lv):
                raise ConfigError(f"intervention_levels must be distinct, got {lv}")
            if len(lv) < 2:
                raise ConfigError(f"moderation needs at least two intervention levels, got {lv}")
        if not self.predictors:
            raise ConfigError("at least one predictor is needed")
        if len(set(self.predictors)) != len(self.predictors):
            raise ConfigError(f"predictors must be distinct, got {self.predictors}")
        overlap = set(self.covariates) & (set(self.predictors) | {self.outcome})
        if overlap or self.outcome in self.predictors:
            raise ConfigError(
                f"outcome, predictors and covariates must not overlap: {sorted(overlap) or self.outcome}"
            )
        bad = [g for g in self.levels if g not in ("therapist", "client")]
        if bad:
            raise ConfigError(f"levels must be among 'therapist', 'client'; got {self.levels}")
        if self.therapist_slopes and "therapist" not in self.levels:
            raise ConfigError("therapist_slopes=True needs 'therapist' in levels")
        if not (self.rope >= 0 and np.isfinite(self.rope)):
            raise ConfigError(f"rope must be a non-negative number, got {self.rope}")
        if self.rope_scale not in ("std", "raw"):
            raise ConfigError(f"rope_scale must be 'std' or 'raw', got {self.rope_scale!r}")
        if self.missing_outcome not in ("drop", "error"):
            raise ConfigError("missing_outcome must be 'drop' or 'error'")
        if self.missing_predictor not in ("drop", "error"):
            raise ConfigError("missing_predictor must be 'drop' or 'error'")
        self.resolved_priors()

    # -- priors -----------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale (outcome SD 1, every predictor part SD 1).

        ``Intercept`` Normal(0, 1) per intervention; ``slope_mean`` and
        ``slope_between_mean`` Normal(0, 0.5) per subcomponent (a standardized slope beyond
        ±1 is implausible for session-level psychotherapy data);
        ``sd_slope_intervention`` and ``sd_slope_between_intervention`` Gamma(2, 6) (mean
        0.33, mode 0.17: spread of the intervention-specific slopes around their mean, i.e.
        the partial pooling; a boundary-avoiding prior, Chung et al. 2013, because with two
        or three interventions this SD is barely identified and a prior with mass at zero
        creates a funnel);
        ``sd_slope_therapist`` HalfNormal(0.25); ``beta`` Normal(0, 1) per covariate;
        ``sd_therapist``, ``sd_client``, ``sigma`` HalfNormal(1).
        """
        return {
            "Intercept": Prior("Normal", mu=0, sigma=1),
            "slope_mean": Prior("Normal", mu=0, sigma=0.5),
            "sd_slope_intervention": Prior("Gamma", alpha=2, beta=6),
            "slope_between_mean": Prior("Normal", mu=0, sigma=0.5),
            "sd_slope_between_intervention": Prior("Gamma", alpha=2, beta=6),
            "sd_slope_therapist": Prior("HalfNormal", sigma=0.25),
            "beta": Prior("Normal", mu=0, sigma=1),
            "sd_therapist": Prior("HalfNormal", sigma=1),
            "sd_client": Prior("HalfNormal", sigma=1),
            "sigma": Prior("HalfNormal", sigma=1),
        }

    # -- configuration ----------------------------------------------------------------------
    def config(self) -> dict:
        """Configuration; levels inferred from the data by :meth:`prepare` are stored."""
        cfg = super().config()
        inferred = getattr(self, "_inferred_levels", None)
        if self.intervention_levels is None and inferred is not None:
            cfg["options"]["intervention_levels"] = list(inferred)
        return cfg

    @classmethod
    def migrate_options(cls, opts: dict, version: str | None = None) -> dict:
        """Version 0.1 called the moderator levels ``levels`` and the grouping levels
        ``groups``."""
        out = dict(opts)
        if "groups" in out:
            out["intervention_levels"] = out.pop("levels", None)
            out["levels"] = out.pop("groups")
        return out

    # -- data -------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> PreparedData:
        """Validate the data; declared levels are checked against the moderator column."""
        roles = roles or Roles()
        col = roles.column("intervention")
        levels = None
        if self.intervention_levels is not None:
            levels = {"intervention": list(self.intervention_levels)}
        prepared = prepare(
            data,
            roles,
            id_roles=[*self.levels, "intervention"],
            optional_id_roles=["session"],
            measures=[self.outcome],
            predictors=[*self.predictors, *self.covariates],
            missing_outcome=self.missing_outcome,
            missing_predictor=self.missing_predictor,
            levels=levels,
            occasion_roles=[r for r in ("client", "session") if r in (*self.levels, "session")],
            grouping_roles=list(self.levels),
        )
        present = pd.unique(prepared.frame[col])
        if self.intervention_levels is None:
            inferred = tuple(_label_list(sorted(present, key=_sort_key)))
            if len(inferred) < 2:
                raise TooFewGroupsError(
                    f"only one intervention level ({inferred[0]!r}) in the data: moderation "
                    "needs at least two",
                    role="intervention",
                    column=col,
                )
            object.__setattr__(self, "_inferred_levels", inferred)
        if "client" in prepared.id_roles:
            ccol = prepared.column("client")
            for lv in self.model_levels():
                n_cl = prepared.frame.loc[prepared.frame[col] == lv, ccol].nunique()
                if n_cl == 0:  # pragma: no cover - prepare() already rejects empty levels
                    raise UnknownLevelError(
                        f"declared level {lv!r} has no clients", role="intervention", column=col
                    )
        self._within_sd(prepared)  # constant within-client parts fail here, before building
        return prepared

    def model_levels(self) -> tuple:
        """Declared levels, or those inferred by the last :meth:`prepare`."""
        if self.intervention_levels is not None:
            return self.intervention_levels
        inferred = getattr(self, "_inferred_levels", None)
        if inferred is None:
            raise ConfigError("levels are unknown until prepare() has seen the data")
        return inferred

    def pairs(self) -> list[tuple[str, int, int]]:
        """``(name, i, j)`` for every pair ``i < j`` of levels: ``levels[j] - levels[i]``."""
        lv = [str(v) for v in self.model_levels()]
        return [
            (f"{lv[j]}_minus_{lv[i]}", i, j) for i, j in itertools.combinations(range(len(lv)), 2)
        ]

    def _level_codes(self, data: PreparedData) -> np.ndarray:
        col = data.roles.column("intervention")
        values = data.frame[col].to_numpy()
        lut = {v: i for i, v in enumerate(self.model_levels())}
        out = np.empty(len(values), dtype=np.int64)
        for n, v in enumerate(values):
            if v in lut:
                out[n] = lut[v]
            elif str(v) in {str(k) for k in lut}:
                out[n] = next(i for k, i in lut.items() if str(k) == str(v))
            else:  # pragma: no cover - prepare() rejects undeclared levels
                raise UnknownLevelError(
                    f"level {v!r} is not declared", role="intervention", column=col
                )
        return out

    def _split(self, data: PreparedData):
        """Between (client mean minus grand mean) and within (row minus client mean) parts."""
        X = data.frame[list(self.predictors)].to_numpy(dtype=float)
        if data.has("client"):
            codes = data.codes("client")[0]
            n = np.bincount(codes).astype(float)
            means = np.column_stack(
                [np.bincount(codes, weights=X[:, k]) / n for k in range(X.shape[1])]
            )
            between = means[codes] - X.mean(axis=0)
            within = X - means[codes]
        else:
            between = np.zeros_like(X)
            within = X - X.mean(axis=0)
        return between, within

    def _within_sd(self, data: PreparedData) -> np.ndarray:
        _, within = self._split(data)
        sd = within.std(axis=0)
        for k, name in enumerate(self.predictors):
            if not sd[k] > 1e-12:
                raise DegeneratePredictorError(
                    "predictor does not vary within clients (every client has one session or a "
                    "constant value), so its within-client slope cannot be estimated",
                    role="predictor",
                    column=name,
                )
        return sd

    def design(self, data: PreparedData) -> dict:
        df = data.frame
        y = df[self.outcome].to_numpy(dtype=float)
        if not y.std() > 0:
            raise ConstantMeasureError("outcome is constant", role="measure", column=self.outcome)
        y_mean, y_sd = self.location_scale(y)
        between, within = self._split(data)
        has_between = between.std(axis=0) > 1e-12
        _, sd_w = self.location_scale(within, axis=0)
        _, sd_b_safe = self.location_scale(between, axis=0)
        sd_b_safe = np.where(has_between, sd_b_safe, 1.0)
        C = df[list(self.covariates)].to_numpy(dtype=float) if self.covariates else None
        if C is not None:
            c_mean, c_sd = self.location_scale(C, axis=0)
            Cs = (C - c_mean) / c_sd
        else:
            c_mean = c_sd = np.zeros(0)
            Cs = np.zeros((len(df), 0))
        W = within / sd_w
        corr = np.corrcoef(W, rowvar=False) if W.shape[1] > 1 else np.ones((1, 1))
        cond = float(np.linalg.cond(corr))
        return {
            "ys": (y - y_mean) / y_sd,
            "y_mean": y_mean,
            "y_sd": y_sd,
            "W": W,
            "B": between / sd_b_safe,
            "sd_w": sd_w,
            "sd_b": sd_b_safe,
            "has_between": has_between,
            "Cs": Cs,
            "c_mean": c_mean,
            "c_sd": c_sd,
            "corr": corr,
            "cond": cond,
            "level": self._level_codes(data),
        }

    def _coords(self, data: PreparedData) -> dict:
        coords = {
            "subcomponent": list(self.predictors),
            "intervention": [str(v) for v in self.model_levels()],
            "pair": [p[0] for p in self.pairs()],
            "covariate": list(self.covariates),
            "obs": np.arange(data.n_rows),
        }
        for g in self.levels:
            if data.has(g):
                coords[g] = data.codes(g)[1]
        return coords

    def use_marginal(self, data: PreparedData) -> bool:
        """Whether the client intercepts are integrated out for this data."""
        return bool(self.marginalized and "client" in self.levels and data.has("client"))

    # -- names ------------------------------------------------------------------------------
    def reported(self, data: PreparedData) -> list[str]:
        names = [
            "intercept",
            "slope",
            "contrast",
            "slope_between",
            "contrast_between",
            "slope_mean",
            "sd_slope_intervention",
        ]
        if self.therapist_slopes:
            names.append("sd_slope_therapist")
        names += [f"sd_{g}" for g in self.levels if data.has(g)]
        names += ["sigma", *self.covariates]
        return names

    # -- model ------------------------------------------------------------------------------
    def build(self, data: PreparedData) -> Built:
        d = self.design(data)
        if d["cond"] > CONDITION_MAX:
            warnings.warn(
                f"the within-client parts of {list(self.predictors)} are highly correlated "
                f"(condition number {d['cond']:.0f} > {CONDITION_MAX:.0f}); their separate slopes "
                "are weakly identified and lean on the priors",
                CollinearityWarning,
                stacklevel=2,
            )
        priors = self.resolved_priors()
        lev = d["level"]
        K, J = len(self.predictors), len(self.model_levels())
        with pm.Model(coords=self._coords(data)) as model:
            alpha = with_dims(priors["Intercept"], "intervention").create_variable("alpha_std")
            slope = self._pooled(priors, "slope", "sd_slope_intervention")
            slope_b = self._pooled(priors, "slope_between", "sd_slope_between_intervention")
            W = pt.as_tensor(d["W"])
            B = pt.as_tensor(d["B"])
            mu = alpha[lev] + pt.sum(slope.T[lev] * W, axis=1)
            mu = mu + pt.sum(slope_b.T[lev] * B * d["has_between"].astype(float), axis=1)
            if self.covariates:
                beta = with_dims(priors["beta"], "covariate").create_variable("beta_std")
                mu = mu + pt.dot(d["Cs"], beta)
            marginal = self.use_marginal(data)
            for g in self.levels:
                if not data.has(g):
                    continue
                codes, _ = data.codes(g)
                sd = priors[f"sd_{g}"].create_variable(f"sd_{g}_std")
                if g == "client" and marginal:
                    continue
                z = pm.Normal(f"z_{g}", 0, 1, dims=g)
                mu = mu + (sd * z)[codes]
            if self.therapist_slopes and data.has("therapist"):
                codes, _ = data.codes("therapist")
                sd_u = with_dims(priors["sd_slope_therapist"], "subcomponent").create_variable(
                    "sd_slope_therapist_std"
                )
                zu = pm.Normal("z_slope_therapist", 0, 1, dims=("therapist", "subcomponent"))
                mu = mu + pt.sum((zu * sd_u)[codes] * W, axis=1)
            sigma = priors["sigma"].create_variable("sigma_std")
            if marginal:
                codes, labels = data.codes("client")
                ll = client_marginal_loglik(d["ys"] - mu, codes, model["sd_client_std"], sigma)
                pm.Potential("marginal_loglik", ll.sum())
                unit, unit_labels = "client", labels
                n_unit = np.bincount(codes, minlength=len(labels))
            else:
                pm.Normal("y", mu=mu, sigma=sigma, observed=d["ys"], dims="obs")
                ll = normal_loglik(d["ys"], mu, sigma)
                unit, unit_labels, n_unit = "obs", np.arange(data.n_rows), np.ones(data.n_rows)
            self._original_scale(model, d, K, J)
        d["mu_graph"] = mu
        d["marginal"] = marginal
        return Built(
            model=model,
            design=d,
            scales={k: d[k] for k in ("y_mean", "y_sd", "sd_w", "sd_b", "c_mean", "c_sd")},
            loglik=ll,
            loglik_name=self.outcome,
            loglik_dim=unit,
            loglik_coords=unit_labels,
            loglik_offset=jacobian_offset(n_unit, d["y_sd"]),
            info={
                "rope": {"half_width": self.rope, "scale": self.rope_scale},
                "moderator_levels": [str(v) for v in self.model_levels()],
                "predictor_correlation": {
                    "predictors": list(self.predictors),
                    "cond": d["cond"],
                    "corr": d["corr"].tolist(),
                },
                "centering": "observed-mean (client means)",
                "likelihood": "client intercepts integrated out" if marginal else "full",
            },
        )

    def _pooled(self, priors, name: str, sd_name: str):
        """Intervention-specific slopes partially pooled around a subcomponent mean.

        Centred form: the mean is integrated out analytically, so the slopes of one
        subcomponent are jointly ``MvNormal(mu_m, sd^2 I + sigma_m^2 11')`` (``mu_m``,
        ``sigma_m`` from the ``<name>_mean`` Normal prior). With two or three interventions
        the mean and the SD are barely identified, and sampling them jointly with the slopes
        creates a funnel; the marginal form removes it. The mean is drawn from its exact
        conditional posterior after sampling (:meth:`postprocess`).
        """
        dims = ("subcomponent", "intervention")
        sd = with_dims(priors[sd_name], "subcomponent").create_variable(f"{sd_name}_std")
        if self.centered:
            mu_m, sigma_m = _normal_parameters(priors[f"{name}_mean"], f"{name}_mean")
            J = len(self.model_levels())
            eye = np.eye(J)
            cov = sd[:, None, None] ** 2 * eye + sigma_m**2 * np.ones((J, J))
            return pm.MvNormal(f"{name}_std", mu=np.full(J, mu_m), cov=cov, dims=dims)
        mean = with_dims(priors[f"{name}_mean"], "subcomponent").create_variable(f"{name}_mean_std")
        z = pm.Normal(f"z_{name}", 0, 1, dims=dims)
        return pm.Deterministic(f"{name}_std", mean[:, None] + sd[:, None] * z, dims=dims)

    def _original_scale(self, model, d, K: int, J: int) -> None:
        y_sd = d["y_sd"]
        pairs = self.pairs()
        i_idx = np.array([p[1] for p in pairs], dtype=np.int64)
        j_idx = np.array([p[2] for p in pairs], dtype=np.int64)
        sc = ("subcomponent", "intervention")
        sp = ("subcomponent", "pair")
        for name, scale in (("slope", d["sd_w"]), ("slope_between", d["sd_b"])):
            s_std = model[f"{name}_std"]
            factor = (y_sd / scale)[:, None]
            s_raw = pm.Deterministic(name, s_std * factor, dims=sc)
            cname = "contrast" if name == "slope" else "contrast_between"
            pm.Deterministic(f"{cname}_std", s_std[:, j_idx] - s_std[:, i_idx], dims=sp)
            pm.Deterministic(cname, s_raw[:, j_idx] - s_raw[:, i_idx], dims=sp)
        if not self.centered:
            pm.Deterministic(
                "slope_mean", model["slope_mean_std"] * y_sd / d["sd_w"], dims="subcomponent"
            )
        pm.Deterministic(
            "sd_slope_intervention",
            model["sd_slope_intervention_std"] * y_sd / d["sd_w"],
            dims="subcomponent",
        )
        # predicted outcome per intervention at the mean of every predictor and covariate
        pm.Deterministic("intercept", d["y_mean"] + y_sd * model["alpha_std"], dims="intervention")
        if self.therapist_slopes and "sd_slope_therapist_std" in model.named_vars:
            pm.Deterministic(
                "sd_slope_therapist",
                model["sd_slope_therapist_std"] * y_sd / d["sd_w"],
                dims="subcomponent",
            )
        for g in self.levels:
            if f"sd_{g}_std" in model.named_vars:
                pm.Deterministic(f"sd_{g}", model[f"sd_{g}_std"] * y_sd)
        pm.Deterministic("sigma", model["sigma_std"] * y_sd)
        for k, c in enumerate(self.covariates):
            pm.Deterministic(c, model["beta_std"][k] * y_sd / d["c_sd"][k])

    # -- after sampling ---------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        """Probability of direction and share inside the ROPE for every contrast."""
        post = idata["posterior"].to_dataset()
        if self.centered:
            post = self._add_pooled_mean(post, built.design)
            idata["posterior"] = xr.DataTree(post)
        probs = {}
        for cname in ("contrast", "contrast_between"):
            for row in contrast_probabilities(post, cname, self.rope, self.rope_scale):
                key = f"{cname}[{row['subcomponent']}, {row['pair']}]"
                probs[f"P({key} > 0)"] = row["p_gt_0"]
                probs[f"pd({key})"] = row["pd"]
                probs[f"P({key} in ROPE)"] = row["p_rope"]
        built.probabilities.update(probs)
        return idata

    def _add_pooled_mean(self, post: xr.Dataset, d: dict) -> xr.Dataset:
        """Draw ``slope_mean`` from its exact conditional posterior (centred form)."""
        priors = self.resolved_priors()
        mu_m, sigma_m = _normal_parameters(priors["slope_mean"], "slope_mean")
        rng = np.random.default_rng(_seed_from(post))
        slopes = post["slope_std"].transpose("chain", "draw", "subcomponent", "intervention")
        sd = post["sd_slope_intervention_std"].transpose("chain", "draw", "subcomponent")
        m = _draw_pooled_mean(slopes.values, sd.values, mu_m, sigma_m, rng)
        dims = ("chain", "draw", "subcomponent")
        post = post.assign(
            slope_mean_std=(dims, m),
            slope_mean=(dims, m * d["y_sd"] / d["sd_w"]),
        )
        return post

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        return xr.Dataset({self.outcome: ("obs", data.frame[self.outcome].to_numpy(dtype=float))})

    def posterior_predictive(self, idata, data, built, *, seed: int = 0, max_draws: int = 200):
        """Replicated outcomes (original scale) for at most ``max_draws`` posterior draws,
        with new draws of the client intercepts when they are integrated out."""
        post = idata["posterior"].to_dataset()
        rng = np.random.default_rng(seed)
        n = post.sizes["chain"] * post.sizes["draw"]
        pick = np.sort(rng.choice(n, size=min(max_draws, n), replace=False))
        d = built.design
        fn, names = draws_function(built.model, d["mu_graph"])
        stacked = {nm: post[nm].values.reshape((n, *post[nm].shape[2:])) for nm in names}
        codes = data.codes("client")[0] if d["marginal"] else None
        reps = np.empty((len(pick), data.n_rows))
        for r, s_ in enumerate(pick):
            mu = fn(*[stacked[nm][s_] for nm in names])
            if d["marginal"]:
                sd_c = float(stacked["sd_client_std"][s_])
                mu = mu + sd_c * rng.standard_normal(int(codes.max()) + 1)[codes]
            reps[r] = mu + float(stacked["sigma_std"][s_]) * rng.standard_normal(data.n_rows)
        reps = d["y_mean"] + d["y_sd"] * reps
        return xr.Dataset(
            {self.outcome: (("chain", "draw", "obs"), reps[None])},
            coords={"chain": [0], "draw": np.arange(len(pick))},
        )


def client_marginal_loglik(resid, codes: np.ndarray, sd_client, sigma):
    """Log-likelihood per client with its random intercept integrated out.

    For ``n`` residuals ``r`` with covariance ``sigma^2 I + tau^2 11'`` (Sherman-Morrison)::

        log p = -n/2 log 2pi - (n-1) log sigma - 1/2 log(sigma^2 + n tau^2)
                - (sum r^2 - tau^2 (sum r)^2 / (sigma^2 + n tau^2)) / (2 sigma^2)
    """
    G = int(codes.max()) + 1
    n = np.bincount(codes, minlength=G).astype(float)
    s1 = pt.zeros((G,))[codes].inc(resid)
    s2 = pt.zeros((G,))[codes].inc(resid**2)
    s2_, t2 = sigma**2, sd_client**2
    denom = s2_ + n * t2
    quad = (s2 - t2 * s1**2 / denom) / s2_
    return -0.5 * n * np.log(2 * np.pi) - (n - 1) * pt.log(sigma) - 0.5 * pt.log(denom) - 0.5 * quad


# -- probabilities of the contrasts ---------------------------------------------------------
def contrast_probabilities(
    post: xr.Dataset, cname: str, rope: float, rope_scale: str
) -> list[dict]:
    """Direction and ROPE probabilities of every ``(subcomponent, pair)`` contrast.

    One dict per contrast: ``quantity``, ``subcomponent``, ``pair``, ``p_gt_0``, ``p_lt_0``,
    probability of direction ``pd`` and ``p_rope``, the share of draws inside ``|c| < rope``
    on the ``rope_scale`` (``"std"``: the standardized contrast; otherwise original units).
    Used by :meth:`ModeratedEffects.postprocess` and by
    :func:`empathy_models.results.moderation.contrast_table`.
    """
    raw = post[cname]
    ref = post[f"{cname}_std"] if rope_scale == "std" else raw
    rows = []
    for sub in raw["subcomponent"].values:
        for pair in raw["pair"].values:
            v = raw.sel(subcomponent=sub, pair=pair).values.ravel()
            r = ref.sel(subcomponent=sub, pair=pair).values.ravel()
            p_gt = float((v > 0).mean())
            p_lt = float((v < 0).mean())
            rows.append(
                {
                    "quantity": cname,
                    "subcomponent": str(sub),
                    "pair": str(pair),
                    "p_gt_0": p_gt,
                    "p_lt_0": p_lt,
                    "pd": max(p_gt, p_lt),
                    "p_rope": float((np.abs(r) < rope).mean()),
                }
            )
    return rows


def _normal_parameters(prior: Prior, name: str) -> tuple[float, float]:
    if prior.distribution != "Normal" or not all(
        np.isscalar(prior.parameters.get(k)) for k in ("mu", "sigma")
    ):
        raise ConfigError(
            f"prior {name!r} must be a Normal with fixed mu and sigma when centered=True "
            "(the mean is integrated out analytically); use centered=False for other priors"
        )
    return float(prior.parameters["mu"]), float(prior.parameters["sigma"])


def _draw_pooled_mean(slopes: np.ndarray, sd: np.ndarray, mu_m: float, sigma_m: float, rng):
    """Exact draws of the pooled mean given the slopes (..., J) and the SD (...,)."""
    J = slopes.shape[-1]
    prec = 1.0 / sigma_m**2 + J / sd**2
    mean = (mu_m / sigma_m**2 + slopes.sum(axis=-1) / sd**2) / prec
    return mean + rng.standard_normal(mean.shape) / np.sqrt(prec)


def _seed_from(post: xr.Dataset) -> int:
    """A seed derived from the draws themselves, so reruns give identical results."""
    v = np.ascontiguousarray(post["sigma_std"].values, dtype=float)
    return int(np.frombuffer(v.tobytes()[:8].ljust(8, b"0"), dtype=np.uint64)[0] % (2**32))


def _sort_key(v):
    return (0, v, "") if isinstance(v, (int, float, np.integer, np.floating)) else (1, 0, str(v))


def _label_list(values) -> list:
    return [v.item() if isinstance(v, np.generic) else v for v in values]


__all__ = [
    "CollinearityWarning",
    "ModeratedEffects",
]
