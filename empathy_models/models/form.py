"""Model 3: functional form of the empathy-outcome relation (linear, quadratic, smooth).

    y_i = b0 + f(x_i) + x_cov_i'beta + u_therapist + v_client + e_i

with ``f`` linear (``b1 x``), quadratic (``b1 x + b2 x^2``) or smooth (a linear trend plus a
Hilbert-space Gaussian-process approximation, HSGP, with an exponentiated-quadratic kernel).
Priors live on the standardized scale (outcome and predictor divided by their SD); the
reported coefficients, the vertex and the slopes are on the data's original scale.

Optimum evidence (quadratic and smooth forms). A significant curvature alone does not show an
optimum: a saturating curve gives one too. The model therefore reports

* ``vertex`` (quadratic: ``-beta_linear / (2 beta_quadratic)``; smooth: the position of the
  curve's optimum on a grid over the observed range),
* ``p_quadratic_negative`` = P(beta_quadratic < 0) and ``p_curvature_optimum`` = P(the
  curvature points the way of the declared optimum),
* ``p_vertex_in_range`` = P(vertex inside the observed 5th-95th percentile of the predictor),
* a two-lines check (Simonsohn 2018): separate linear slopes below and above a breakpoint at
  the estimated vertex, ``slope_below_vertex`` and ``slope_above_vertex``, with the
  probability that they have opposite signs (and opposite signs in the optimum's direction).

An optimum is *reported* only when all three agree (see :func:`optimum_table`).

Sign convention: the simulator's session ``outcome`` is a symptom score (higher = worse), so
an optimal level of empathy is a *minimum* of symptoms (``beta_quadratic > 0``). The option
``optimum="minimum"`` (default) or ``"maximum"`` says which way is better.
"""

from __future__ import annotations

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
    DataError,
    DegeneratePredictorError,
    option_hint,
)
from empathy_models.models.base import Built, ModelSpec, jacobian_offset, normal_loglik, register
from empathy_models.models.priors import with_dims

FORMS = ("linear", "quadratic", "smooth")
PARTS = ("raw", "between", "within")
#: Quantiles of the predictor that define "the observed range" for ``p_vertex_in_range``.
RANGE_Q = (0.05, 0.95)
#: Points of the curve stored in the posterior (dim ``grid``).
N_GRID = 60
#: Mean rows per client from which client intercepts are sampled centred (``"auto"``).
CENTER_MIN_ROWS = 4


class ClientOutcomeError(DataError):
    """A client-level outcome varies inside a client although it was declared constant."""


@register
@dataclass(frozen=True)
class FunctionalForm(ModelSpec):
    """Linear, quadratic or smooth relation of an outcome to a predictor, multilevel.

    Parameters
    ----------
    outcome
        Outcome column (e.g. ``"outcome"``, a session symptom score, or ``"post_outcome"``).
    predictor
        Predictor column (e.g. ``"empathy"`` or one subcomponent).
    form : {"linear", "quadratic", "smooth"}
        ``"linear"``, ``"quadratic"`` (default) or ``"smooth"`` (linear trend + HSGP).
    outcome_level : {"session", "client"}
        ``"session"`` (default: one row per session, therapist and client random intercepts)
        or ``"client"`` (one row per client, therapist random intercept; the predictor and
        covariates are client means).
    predictor_part : {"raw", "between", "within"}
        Session level only. ``"raw"`` (default) uses the predictor as observed; ``"between"``
        its client mean; ``"within"`` its deviation from the client mean, with the client mean
        entered as a linear covariate. Observed-mean centering: for latent-mean centering use
        the between/within model (model 2).
    covariates
        Columns entering linearly (reported under their names).
    levels
        Grouping levels with a random intercept (``"therapist"``, ``"client"``); the client
        level is dropped for a client-level outcome.
    optimum : {"minimum", "maximum"}
        ``"minimum"`` (default: the outcome is a symptom score, lower is better, an optimum is
        a U in symptoms, ``beta_quadratic > 0``) or ``"maximum"`` (higher is better).
    client_outcome : {"constant", "mean", "last"}
        Client level only: how session rows become one client row. ``"constant"`` (default;
        the outcome must be the same on every row of a client, e.g. a post-treatment score),
        ``"mean"`` or ``"last"`` (the last row in the data's order).
    n_basis, hsgp_c
        Smooth form: number of HSGP basis functions (20) and boundary factor (1.5).
    evidence
        Posterior probability each optimum criterion must reach to report an optimum (0.95).
    centered
        Random intercepts centred (``True``), non-centred (``False``) or chosen by rule
        (``None``, default: client intercepts centred when clients have >= 4 rows on
        average, therapist non-centred).
    missing_outcome, missing_predictor : {"drop", "error"}
        Missing-value policies (see :func:`empathy_models.prepare`).
    """

    family = "form"

    outcome: str
    predictor: str
    form: str = "quadratic"
    outcome_level: str = "session"
    predictor_part: str = "raw"
    covariates: tuple[str, ...] = ()
    levels: tuple[str, ...] = ("therapist", "client")
    optimum: str = "minimum"
    client_outcome: str = "constant"
    n_basis: int = 20
    hsgp_c: float = 1.5
    evidence: float = 0.95
    centered: bool | None = None
    missing_outcome: str = "drop"
    missing_predictor: str = "error"

    renamed_options = {
        "parameterization": lambda v: {"centered": None if v == "auto" else v == "centered"}
    }

    def __post_init__(self) -> None:
        object.__setattr__(self, "covariates", tuple(self.covariates))
        object.__setattr__(self, "levels", tuple(self.levels))
        if self.form not in FORMS:
            raise ConfigError(f"form must be one of {FORMS}, got {self.form!r}")
        if self.outcome_level not in ("session", "client"):
            raise ConfigError(
                f"outcome_level must be 'session' or 'client', got {self.outcome_level!r}"
            )
        if self.predictor_part not in PARTS:
            raise ConfigError(f"predictor_part must be one of {PARTS}, got {self.predictor_part!r}")
        if self.outcome_level == "client" and self.predictor_part == "within":
            raise ConfigError(
                "a client-level outcome has no within-client part; use predictor_part='raw' "
                "or 'between' (both mean the client mean)"
            )
        bad = [lv for lv in self.levels if lv not in ("therapist", "client")]
        if bad:
            raise ConfigError(f"levels must be among 'therapist', 'client'; got {self.levels}")
        if self.optimum not in ("minimum", "maximum"):
            raise ConfigError(f"optimum must be 'minimum' or 'maximum', got {self.optimum!r}")
        if self.client_outcome not in ("constant", "mean", "last"):
            raise ConfigError("client_outcome must be 'constant', 'mean' or 'last'")
        if self.predictor in self.covariates or self.outcome in self.covariates:
            raise ConfigError("the outcome and the predictor cannot also be covariates")
        if self.outcome == self.predictor:
            raise ConfigError("outcome and predictor must be different columns")
        if int(self.n_basis) < 4:
            raise ConfigError(f"n_basis must be at least 4, got {self.n_basis}")
        if not self.hsgp_c > 1:
            raise ConfigError(f"hsgp_c must be > 1, got {self.hsgp_c}")
        if not 0.5 < self.evidence < 1:
            raise ConfigError(f"evidence must be in (0.5, 1), got {self.evidence}")
        if self.missing_outcome not in ("drop", "error"):
            raise ConfigError("missing_outcome must be 'drop' or 'error' for this model")
        self.resolved_priors()

    # -- priors -----------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale (outcome SD 1, predictor SD 1).

        ``Intercept`` Normal(0, 1); ``beta_linear`` Normal(0, 1); ``beta_quadratic``
        Normal(0, 0.5); ``beta`` (covariates) Normal(0, 1); ``sd_therapist``, ``sd_client``,
        ``sigma`` HalfNormal(1); smooth form: ``hsgp_eta`` HalfNormal(0.5) (SD of the
        smooth deviation from the linear trend) and ``hsgp_ell`` InverseGamma(5, 5)
        (length-scale in predictor SDs, mode 0.83).
        """
        return {
            "Intercept": Prior("Normal", mu=0, sigma=1),
            "beta_linear": Prior("Normal", mu=0, sigma=1),
            "beta_quadratic": Prior("Normal", mu=0, sigma=0.5),
            "beta": Prior("Normal", mu=0, sigma=1),
            "sd_therapist": Prior("HalfNormal", sigma=1),
            "sd_client": Prior("HalfNormal", sigma=1),
            "sigma": Prior("HalfNormal", sigma=1),
            "hsgp_eta": Prior("HalfNormal", sigma=0.5),
            "hsgp_ell": Prior("InverseGamma", alpha=5, beta=5),
        }

    # -- data -------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> PreparedData:
        roles = roles or Roles()
        id_roles = list(self.levels)
        if self.outcome_level == "client" or self.predictor_part != "raw":
            id_roles = list(dict.fromkeys([*id_roles, "client"]))
        return prepare(
            data,
            roles,
            id_roles=id_roles,
            optional_id_roles=["session"] if self.outcome_level == "session" else [],
            measures=[self.outcome],
            predictors=[self.predictor, *self.covariates],
            missing_outcome=self.missing_outcome,
            missing_predictor=self.missing_predictor,
            grouping_roles=self.group_levels_for(roles),
        )

    def group_levels_for(self, roles: Roles | None = None) -> list[str]:
        lv = [r for r in ("therapist", "client") if r in self.levels]
        if self.outcome_level == "client":
            lv = [r for r in lv if r != "client"]
        return lv

    def group_levels(self, data: PreparedData) -> list[str]:
        """Levels with a random intercept, top to bottom."""
        return [r for r in self.group_levels_for() if data.has(r)]

    def centered_levels(self, data: PreparedData, af: pd.DataFrame | None = None) -> list[str]:
        """Levels whose random intercepts are sampled centred.

        Client intercepts are centred when clients have on average at least
        :data:`CENTER_MIN_ROWS` outcome rows (the data then pin each client down and the
        non-centred form mixes badly); therapist intercepts stay non-centred (the therapist
        level is usually weakly identified).
        """
        if self.centered is not None:
            return list(self.group_levels(data)) if self.centered else []
        af = self.analysis_frame(data) if af is None else af
        out = []
        for lv in self.group_levels(data):
            if lv == "client" and len(af) / data.n_groups("client") >= CENTER_MIN_ROWS:
                out.append(lv)
        return out

    @staticmethod
    def _nested_centering(levels, centered) -> bool:
        return "client" in centered and "therapist" in levels

    @staticmethod
    def _client_parent(af: pd.DataFrame) -> np.ndarray:
        """Therapist code of each client code."""
        cc, tc = af["_code_client"].to_numpy(), af["_code_therapist"].to_numpy()
        parent = np.zeros(int(cc.max()) + 1, dtype=np.int64)
        parent[cc] = tc
        return parent

    @property
    def unit_dim(self) -> str:
        """Dimension of the outcome rows (and of the pointwise log-likelihood)."""
        return "client" if self.outcome_level == "client" else "obs"

    def _cov_names(self) -> list[str]:
        extra = [f"{self.predictor}_client_mean"] if self.predictor_part == "within" else []
        return [*self.covariates, *extra]

    def analysis_frame(self, data: PreparedData) -> pd.DataFrame:
        """Rows the model is fitted to: columns ``y``, ``x``, covariates, and group codes.

        At session level one row per validated row; at client level one row per client.
        """
        df = data.frame
        x = df[self.predictor].astype(float)
        if self.outcome_level == "session":
            out = pd.DataFrame({"y": df[self.outcome].astype(float).to_numpy()})
            cov = {c: df[c].astype(float).to_numpy() for c in self.covariates}
            if self.predictor_part == "raw":
                out["x"] = x.to_numpy()
            else:
                cm = x.groupby(df[data.column("client")].to_numpy()).transform("mean").to_numpy()
                if self.predictor_part == "between":
                    out["x"] = cm
                else:
                    out["x"] = x.to_numpy() - cm
                    cov[f"{self.predictor}_client_mean"] = cm
            for c, v in cov.items():
                out[c] = v
            for lv in self.group_levels(data):
                out[f"_code_{lv}"] = data.codes(lv)[0]
            out["_label"] = np.arange(len(out))
            return out
        ccol = data.column("client")
        g = df.groupby(ccol, sort=True)
        y = df[self.outcome].astype(float)
        if self.client_outcome == "constant":
            spread = g[self.outcome].transform(lambda s: s.max() - s.min())
            bad = spread.to_numpy() > 1e-9 * (1 + np.abs(y.to_numpy()))
            if bad.any():
                raise ClientOutcomeError(
                    "the client-level outcome varies inside a client; pass "
                    f"{option_hint('client_outcome', 'mean')} or 'last' to aggregate session rows",
                    role="measure",
                    column=self.outcome,
                    rows=list(df.index[bad]),
                )
            yc = g[self.outcome].first()
        elif self.client_outcome == "mean":
            yc = g[self.outcome].mean()
        else:
            yc = g[self.outcome].last()
        out = pd.DataFrame(
            {"y": yc.to_numpy(dtype=float), "x": g[self.predictor].mean().to_numpy()}
        )
        for c in self.covariates:
            out[c] = g[c].mean().to_numpy()
        if "therapist" in self.group_levels(data):
            tcol = data.column("therapist")
            tcodes, _ = pd.factorize(g[tcol].first().to_numpy(), sort=True)
            out["_code_therapist"] = tcodes.astype(np.int64)
        out["_label"] = yc.index.to_numpy()
        if out["x"].nunique() < 2:
            raise DataError(
                "the client means of the predictor are constant",
                role="predictor",
                column=self.predictor,
            )
        return out

    def _scales(self, af: pd.DataFrame) -> dict:
        y, x = af["y"].to_numpy(), af["x"].to_numpy()
        if not y.std() > 0:
            raise ConstantMeasureError(
                "the outcome is constant", role="measure", column=self.outcome
            )
        if not x.std() > 0:
            raise DegeneratePredictorError(
                "the predictor is constant", role="predictor", column=self.predictor
            )
        covs = self._cov_names()
        C = af[covs].to_numpy(dtype=float) if covs else np.zeros((len(af), 0))
        y_mean, y_sd = self.location_scale(y)
        x_mean, x_sd = self.location_scale(x)
        c_mean, c_sd = self.location_scale(C, axis=0)
        return {
            "y_mean": y_mean,
            "y_sd": y_sd,
            "x_mean": x_mean,
            "x_sd": x_sd,
            "c_mean": c_mean,
            "c_sd": c_sd,
            "q_lo": float(np.quantile(x, RANGE_Q[0])),
            "q_hi": float(np.quantile(x, RANGE_Q[1])),
            "x_min": float(x.min()),
            "x_max": float(x.max()),
        }

    # -- smooth basis ---------------------------------------------------------------------
    def _hsgp_L(self, zs: np.ndarray) -> float:
        return float(self.hsgp_c * np.max(np.abs(zs)))

    def _basis(self, z: np.ndarray, L: float) -> tuple[np.ndarray, np.ndarray]:
        """Laplacian eigenfunctions on [-L, L] (Solin & Sarkka 2020) and their frequencies."""
        j = np.arange(1, int(self.n_basis) + 1)
        omega = np.pi * j / (2 * L)
        phi = np.sin(np.outer(z + L, omega)) / np.sqrt(L)
        return phi, omega

    # -- reported ---------------------------------------------------------------------------
    def reported(self, data: PreparedData) -> list[str]:
        names = []
        if self.form != "smooth":
            names.append("Intercept")
        names.append("beta_linear")
        if self.form == "quadratic":
            names.append("beta_quadratic")
        if self.form == "smooth":
            names += ["hsgp_eta", "hsgp_ell"]
        names += list(self._cov_names())
        names += [f"sd_{lv}" for lv in self.group_levels(data)] + ["sigma"]
        if self.form != "linear":
            names += ["vertex", "slope_below_vertex", "slope_above_vertex"]
        return names

    def sampled(self, data: PreparedData) -> list[str]:
        skip = {"vertex", "slope_below_vertex", "slope_above_vertex"}
        return [n for n in self.reported(data) if n not in skip]

    # -- model ------------------------------------------------------------------------------
    def _coords(self, data: PreparedData, af: pd.DataFrame, sc: dict) -> dict:
        coords = {"covariate": self._cov_names(), self.unit_dim: af["_label"].to_numpy()}
        for lv in self.group_levels(data):
            coords[lv] = data.codes(lv)[1]
        coords["grid"] = np.linspace(sc["x_min"], sc["x_max"], N_GRID)
        if self.form == "smooth":
            coords["basis"] = np.arange(int(self.n_basis))
        return coords

    def build(self, data: PreparedData) -> Built:
        af = self.analysis_frame(data)
        sc = self._scales(af)
        priors = self.resolved_priors()
        ys = (af["y"].to_numpy() - sc["y_mean"]) / sc["y_sd"]
        zs = (af["x"].to_numpy() - sc["x_mean"]) / sc["x_sd"]
        covs = self._cov_names()
        Cs = (af[covs].to_numpy(dtype=float) - sc["c_mean"]) / sc["c_sd"] if covs else None
        coords = self._coords(data, af, sc)
        zg = (coords["grid"] - sc["x_mean"]) / sc["x_sd"]
        centered = self.centered_levels(data, af)
        with pm.Model(coords=coords) as model:
            b0 = priors["Intercept"].create_variable("Intercept_std")
            b1 = priors["beta_linear"].create_variable("beta_linear_std")
            mu_form = b1 * zs
            curve = b1 * zg
            if self.form == "quadratic":
                b2 = priors["beta_quadratic"].create_variable("beta_quadratic_std")
                mu_form = mu_form + b2 * zs**2
                curve = curve + b2 * zg**2
            elif self.form == "smooth":
                L = self._hsgp_L(np.concatenate([zs, zg]))
                phi, omega = self._basis(zs, L)
                phi_g, _ = self._basis(zg, L)
                eta = priors["hsgp_eta"].create_variable("hsgp_eta_std")
                ell = priors["hsgp_ell"].create_variable("hsgp_ell_std")
                zb = pm.Normal("z_basis", 0, 1, dims="basis")
                spd = eta**2 * np.sqrt(2 * np.pi) * ell * pt.exp(-0.5 * ell**2 * omega**2)
                wb = pm.Deterministic("basis_weight_std", pt.sqrt(spd) * zb, dims="basis")
                mu_form = mu_form + pt.dot(phi, wb)
                curve = curve + pt.dot(phi_g, wb)
            mu = b0 + mu_form
            if covs:
                beta = with_dims(priors["beta"], "covariate").create_variable("beta_std")
                mu = mu + pt.dot(Cs, beta)
            levels = self.group_levels(data)
            nested = self._nested_centering(levels, centered) and not data.roles.crossed
            res = {}
            for lv in levels:
                sd = priors[f"sd_{lv}"].create_variable(f"sd_{lv}_std")
                if lv == "client" and nested:
                    # hierarchical centring: client intercept around its therapist's
                    parent = self._client_parent(af)
                    total = pm.Normal("re_client_total", res["therapist"][parent], sd, dims=lv)
                    res[lv] = pm.Deterministic(
                        "re_client", total - res["therapist"][parent], dims=lv
                    )
                    mu = mu + total[af["_code_client"].to_numpy()]
                    continue
                if lv in centered:
                    re = pm.Normal(f"re_{lv}", 0, sd, dims=lv)
                else:
                    re = pm.Deterministic(
                        f"re_{lv}", sd * pm.Normal(f"z_{lv}", 0, 1, dims=lv), dims=lv
                    )
                res[lv] = re
                if not (lv == "therapist" and nested):
                    mu = mu + re[af[f"_code_{lv}"].to_numpy()]
            sigma = priors["sigma"].create_variable("sigma_std")
            pm.Normal("y", mu=mu, sigma=sigma, observed=ys, dims=self.unit_dim)
            self._original_scale(model, data, sc, b0, curve)
        return Built(
            model=model,
            design={"af": af, "ys": ys, "zs": zs, "Cs": Cs},
            scales=sc,
            loglik=normal_loglik(ys, mu, sigma),
            loglik_name=self.outcome,
            loglik_dim=self.unit_dim,
            loglik_coords=af["_label"].to_numpy(),
            loglik_offset=jacobian_offset(np.ones(len(ys)), sc["y_sd"]),
            info={"centered_levels": centered},
        )

    def _original_scale(self, model, data, sc, b0, curve) -> None:
        ym, sy, m, s = sc["y_mean"], sc["y_sd"], sc["x_mean"], sc["x_sd"]
        covs = self._cov_names()
        cov_shift = 0.0
        if covs:
            coef = model["beta_std"] * sy / sc["c_sd"]
            for j, c in enumerate(covs):
                pm.Deterministic(c, coef[j])
            cov_shift = pt.sum(coef * sc["c_mean"])
        # the curve at covariates' means and random effects 0, on the outcome's scale
        pm.Deterministic("curve", ym + sy * (b0 + curve), dims="grid")
        c1 = model["beta_linear_std"]
        if self.form == "linear":
            pm.Deterministic("beta_linear", sy * c1 / s)
            pm.Deterministic("Intercept", ym + sy * (b0 - c1 * m / s) - cov_shift)
        elif self.form == "quadratic":
            c2 = model["beta_quadratic_std"]
            pm.Deterministic("beta_linear", sy * (c1 / s - 2 * c2 * m / s**2))
            pm.Deterministic("beta_quadratic", sy * c2 / s**2)
            pm.Deterministic(
                "Intercept", ym + sy * (b0 - c1 * m / s + c2 * m**2 / s**2) - cov_shift
            )
            pm.Deterministic("vertex", m - c1 * s / (2 * c2))
        else:
            pm.Deterministic("beta_linear", sy * c1 / s)
            pm.Deterministic("hsgp_eta", model["hsgp_eta_std"] * sy)
            pm.Deterministic("hsgp_ell", model["hsgp_ell_std"] * s)
        for lv in self.group_levels(data):
            pm.Deterministic(f"sd_{lv}", model[f"sd_{lv}_std"] * sy)
        pm.Deterministic("sigma", model["sigma_std"] * sy)

    # -- numpy pieces from posterior draws ----------------------------------------------------
    def _draws(self, post: xr.Dataset, data: PreparedData, built: Built):
        """Per-draw (S, n) arrays on the standardized scale: form part, nuisance part
        (intercept + covariates + random effects) and sigma."""
        af, sc, zs = built.design["af"], built.scales, built.design["zs"]

        def flat(name):
            v = post[name].values
            return v.reshape(v.shape[0] * v.shape[1], *v.shape[2:])

        nuis = flat("Intercept_std")[:, None] * np.ones((1, len(af)))
        covs = self._cov_names()
        if covs:
            Cs = (af[covs].to_numpy(dtype=float) - sc["c_mean"]) / sc["c_sd"]
            nuis = nuis + flat("beta_std") @ Cs.T
        for lv in self.group_levels(data):
            re = flat(f"re_{lv}")
            nuis = nuis + re[:, af[f"_code_{lv}"].to_numpy()]
        form = flat("beta_linear_std")[:, None] * zs[None]
        if self.form == "quadratic":
            form = form + flat("beta_quadratic_std")[:, None] * zs[None] ** 2
        elif self.form == "smooth":
            zg = (np.linspace(sc["x_min"], sc["x_max"], N_GRID) - sc["x_mean"]) / sc["x_sd"]
            L = self._hsgp_L(np.concatenate([zs, zg]))
            phi, _ = self._basis(zs, L)
            form = form + flat("basis_weight_std") @ phi.T
        ys = (af["y"].to_numpy() - sc["y_mean"]) / sc["y_sd"]
        return af, sc, zs, ys, form, nuis, flat("sigma_std")

    # -- after sampling ---------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        post = idata["posterior"].to_dataset()
        nc, nd = post.sizes["chain"], post.sizes["draw"]
        af, sc, zs, ys, form, nuis, sigma = self._draws(post, data, built)
        info = {
            "optimum": self.optimum,
            "range_q05": sc["q_lo"],
            "range_q95": sc["q_hi"],
            "evidence": self.evidence,
        }
        probs: dict[str, float] = {}
        if self.form == "linear":
            b1 = post["beta_linear"].values.ravel()
            probs["p_beta_linear_negative"] = float((b1 < 0).mean())
        else:
            if self.form == "smooth":
                grid = post["curve"]["grid"].values
                curve = post["curve"].values
                arg = np.argmin(curve, -1) if self.optimum == "minimum" else np.argmax(curve, -1)
                vertex = grid[arg]
                post["vertex"] = (("chain", "draw"), vertex)
                # interior optimum: not at either end of the grid
                interior = (arg > 0) & (arg < len(grid) - 1)
                probs["p_interior_optimum"] = float(interior.mean())
                p_curv = float(interior.mean())
            else:
                b2 = post["beta_quadratic"].values
                vertex = post["vertex"].values
                probs["p_quadratic_negative"] = float((b2 < 0).mean())
                probs["p_quadratic_positive"] = float((b2 > 0).mean())
                right = b2 > 0 if self.optimum == "minimum" else b2 < 0
                p_curv = float(right.mean())
            probs["p_curvature_optimum"] = p_curv
            in_range = (vertex >= sc["q_lo"]) & (vertex <= sc["q_hi"])
            probs["p_vertex_in_range"] = float(in_range.mean())
            if self.form == "quadratic":
                probs["p_optimum"] = float((right & in_range).mean())
            else:
                probs["p_optimum"] = float((interior & in_range).mean())
            # two-lines check
            xc = float(np.clip(np.median(vertex), sc["q_lo"], sc["q_hi"]))
            info["breakpoint"] = xc
            lo, hi = self._two_lines(post, data, af, sc, zs, ys, sigma, xc)
            scale = sc["y_sd"] / sc["x_sd"]
            lo, hi = lo * scale, hi * scale
            post["slope_below_vertex"] = (("chain", "draw"), lo.reshape(nc, nd))
            post["slope_above_vertex"] = (("chain", "draw"), hi.reshape(nc, nd))
            probs["p_two_lines_opposite"] = float((np.sign(lo) != np.sign(hi)).mean())
            if self.optimum == "minimum":
                p2 = float(((lo < 0) & (hi > 0)).mean())
            else:
                p2 = float(((lo > 0) & (hi < 0)).mean())
            probs["p_two_lines_optimum"] = p2
            info["optimum_reported"] = bool(
                probs["p_optimum"] >= self.evidence and p2 >= self.evidence
            )
            info["vertex_median"] = float(np.median(vertex))
            info["vertex_q05"] = float(np.quantile(vertex, 0.05))
            info["vertex_q95"] = float(np.quantile(vertex, 0.95))
        idata["posterior"] = xr.DataTree(post)
        built.probabilities.update(probs)
        built.info.update(info)
        return idata

    def _two_lines(self, post, data, af, sc, zs, ys, sigma, xc):
        covs = self._cov_names()
        Cs = (
            (af[covs].to_numpy(dtype=float) - sc["c_mean"]) / sc["c_sd"]
            if covs
            else np.zeros((len(af), 0))
        )
        levels = self.group_levels(data)
        groups = [af[f"_code_{lv}"].to_numpy() for lv in levels]
        sds = np.column_stack(
            [post[f"sd_{lv}_std"].values.ravel() for lv in levels] or [np.zeros(len(sigma))]
        )[:, : len(levels)]
        block = None
        if data.roles.crossed and len(groups) > 1:
            block = np.zeros(len(af), dtype=np.int64)  # crossed: one dense block
        zc = (xc - sc["x_mean"]) / sc["x_sd"]
        return two_lines_draws(zs, ys, Cs, groups, sds, sigma, zc, block=block, seed=0)

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        af = built.design["af"]
        return xr.Dataset(
            {
                self.outcome: (self.unit_dim, af["y"].to_numpy()),
                self.predictor: (self.unit_dim, af["x"].to_numpy()),
            },
            coords={self.unit_dim: af["_label"].to_numpy()},
        )

    def posterior_predictive(self, idata, data, built, *, seed: int = 0, max_draws: int = 500):
        """Replicated outcomes given each draw's curve, covariates and random effects."""
        post = idata["posterior"].to_dataset()
        af, sc, zs, ys, form, nuis, sigma = self._draws(post, data, built)
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(sigma), size=min(max_draws, len(sigma)), replace=False))
        mu = form[pick] + nuis[pick]
        rep = mu + sigma[pick, None] * rng.standard_normal(mu.shape)
        rep = sc["y_mean"] + sc["y_sd"] * rep
        return xr.Dataset(
            {self.outcome: (("chain", "draw", self.unit_dim), rep[None])},
            coords={
                "chain": [0],
                "draw": np.arange(len(pick)),
                self.unit_dim: af["_label"].to_numpy(),
            },
        )


def two_lines_draws(
    z: np.ndarray,
    y: np.ndarray,
    covariates: np.ndarray,
    groups: list[np.ndarray],
    sds: np.ndarray,
    sigma: np.ndarray,
    zc: float,
    *,
    block: np.ndarray | None = None,
    max_vc_draws: int = 200,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior draws of the two-lines slopes below and above the breakpoint ``zc``.

    Simonsohn's (2018) interrupted regression ``y = a + b_low (z - zc) 1{z < zc} +
    b_high (z - zc) 1{z >= zc} + c 1{z >= zc} + covariates`` is refitted inside the same
    multilevel structure: for a posterior draw of the variance components (random-intercept
    SDs ``sds[:, level]`` and ``sigma``) the random intercepts are integrated out and the
    fixed effects have the conditional posterior ``N(b_GLS, (X' V^-1 X)^-1)`` under a flat
    prior, with ``V`` the marginal covariance of the rows. One slope pair is drawn per
    posterior draw (the GLS is computed for at most ``max_vc_draws`` variance draws and
    reused cyclically). Nothing of the quadratic's mean structure enters, so the check is
    not built to agree with the quadratic.

    Parameters
    ----------
    z, y
        Standardized predictor and outcome, shape ``(n,)``.
    covariates
        ``(n, p)`` standardized covariates (may have ``p = 0``).
    groups
        Integer codes of each random-intercept level, top level first.
    sds, sigma
        ``(S, L)`` random-intercept SDs and ``(S,)`` residual SDs (standardized scale).
    zc
        Breakpoint on the standardized scale.
    block
        Codes of independent blocks of rows (default: the top level, or one row each).

    Returns
    -------
    slope_below, slope_above
        ``(S,)`` arrays on the standardized scale; NaN when a side has fewer than 3 rows.
    """
    rng = np.random.default_rng(seed)
    n_draws = len(sigma)
    high = (z >= zc).astype(float)
    if high.sum() < 3 or (1 - high).sum() < 3:
        return np.full(n_draws, np.nan), np.full(n_draws, np.nan)
    X = np.column_stack([np.ones_like(z), (z - zc) * (1 - high), (z - zc) * high, high, covariates])
    if block is None:
        block = groups[0] if groups else np.arange(len(z))
    k_draws = min(n_draws, max_vc_draws)
    pick = np.linspace(0, n_draws - 1, k_draws).round().astype(int)
    p = X.shape[1]
    xtvx = np.zeros((k_draws, p, p))
    xtvy = np.zeros((k_draws, p))
    s2 = sigma[pick] ** 2
    order = np.argsort(block, kind="stable")
    bounds = np.flatnonzero(np.diff(block[order])) + 1
    for rows in np.split(order, bounds):
        nb = len(rows)
        V = s2[:, None, None] * np.eye(nb)[None]
        for lev, codes in enumerate(groups):
            same = (codes[rows][:, None] == codes[rows][None, :]).astype(float)
            V = V + (sds[pick, lev] ** 2)[:, None, None] * same[None]
        rhs = np.concatenate([X[rows], y[rows, None]], axis=1)
        sol = np.linalg.solve(V, np.broadcast_to(rhs, (k_draws, nb, p + 1)))
        xtvx += np.einsum("ni,knj->kij", X[rows], sol[:, :, :p])
        xtvy += np.einsum("ni,kn->ki", X[rows], sol[:, :, p])
    cov = np.linalg.inv(xtvx)
    est = np.einsum("kij,kj->ki", cov, xtvy)
    idx = np.arange(n_draws) % k_draws
    sub = cov[:, 1:3, 1:3]
    chol = np.linalg.cholesky(sub + 1e-12 * np.eye(2)[None])
    noise = np.einsum("kij,kj->ki", chol[idx], rng.standard_normal((n_draws, 2)))
    slopes = est[idx, 1:3] + noise
    return slopes[:, 0], slopes[:, 1]


__all__ = [
    "ClientOutcomeError",
    "FunctionalForm",
    "two_lines_draws",
]
