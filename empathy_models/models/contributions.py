"""Model 2: therapist vs client contributions — latent between/within disaggregation.

A session-level predictor x (alliance, or an empathy subcomponent) is decomposed as

    x_tcs = mu_x + a_t + b_c + d_cs,   a_t ~ N(0, sd_therapist_predictor),
                                        b_c ~ N(0, sd_client_predictor),
                                        d_cs ~ N(0, sigma_predictor)

with a latent therapist mean ``a_t``, a latent client deviation ``b_c`` and the session state
``d_cs = x_tcs - mu_x - a_t - b_c`` (latent-mean centering, as in dynamic SEM: the parts are
estimated jointly with the outcome model, so the uncertainty of a therapist's or client's mean
propagates into the outcome coefficients). The outcome is

* session level (``outcome_level="session"``): the outcome ``lag`` sessions later (default 1,
  the next session) of the same client — the lag never crosses clients;

      y_tc,s+lag = b0 + beta_therapist a_t + beta_client b_c + beta_session d_cs
                   + u_t + v_c + covariates + e

* client level (``outcome_level="client"``): one outcome per client (e.g. post-treatment),

      y_tc = b0 + beta_therapist a_t + beta_client b_c + u_t + covariates + e

``centering="observed"`` replaces ``a_t``, ``b_c``, ``d_cs`` by observed means (therapist mean
of the client means, client mean minus it, session value minus the client mean). It is
biased when clients per therapist or sessions per client are few (the observed therapist mean
holds client and session noise, so ``beta_therapist`` is pulled towards ``beta_client``) and is
offered only as an explicit option, for comparison.

Priors live on the standardized scale (x and y divided by their SD); reported quantities are
on the data's scale. Random effects use non-centred parameterizations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models.data.io import read_table
from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData, prepare
from empathy_models.errors import (
    ConfigError,
    DataError,
    MissingColumnError,
    NonFiniteError,
    NonNumericError,
)
from empathy_models.models.base import Built, ModelSpec, jacobian_offset, normal_loglik, register
from empathy_models.models.priors import with_dims

SESSION_TREND = "session_number"


class PredictorMissingForClientError(DataError):
    """The predictor is missing in every session of a client: its latent deviation has no data."""


class NotConstantWithinClientError(DataError):
    """A client-level column (outcome or covariate) varies within a client."""


@dataclass
class ContributionsData(PreparedData):
    """:class:`PreparedData` plus the outcome pairing and its counts.

    Attributes
    ----------
    design
        Arrays used by the model (predictor rows of each outcome unit, outcome values, ...).
    outcome_info
        Outcome units used and dropped, by reason; merged into :meth:`summary`.
    """

    design: dict = field(default_factory=dict)
    outcome_info: dict = field(default_factory=dict)

    def summary(self) -> dict:
        out = super().summary()
        out.update(self.outcome_info)
        return out


def _numeric_outcome(frame: pd.DataFrame, col: str) -> np.ndarray:
    raw = frame[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & raw.notna()
    if bad.any():
        raise NonNumericError(
            f"non-numeric values such as {raw[bad].astype(str).unique()[:3].tolist()}",
            role="outcome",
            column=col,
            rows=list(frame.index[bad.to_numpy()]),
        )
    arr = num.to_numpy(dtype=float)
    inf = np.isinf(arr)
    if inf.any():
        raise NonFiniteError(
            "infinite values", role="outcome", column=col, rows=list(frame.index[inf])
        )
    return arr


def _check_client_constant(frame: pd.DataFrame, ccol: str, col: str, role: str) -> None:
    n = frame.groupby(ccol, sort=False)[col].nunique(dropna=True)
    bad = n.index[n > 1]
    if len(bad):
        rows = list(frame.index[frame[ccol].isin(bad[:1]).to_numpy()])
        raise NotConstantWithinClientError(
            f"a client-level {role} must be constant within a client; client {bad[0]!r} has "
            f"{int(n.loc[bad[0]])} different values ({len(bad)} such clients)",
            role=role,
            column=col,
            rows=rows,
        )


@register
@dataclass(frozen=True)
class Contributions(ModelSpec):
    """Therapist vs client contributions of a session-level predictor to an outcome.

    Parameters
    ----------
    predictor
        Session-level predictor column (e.g. ``"alliance"``), decomposed into a latent
        therapist mean, a latent client deviation and a session state.
    outcome
        Outcome column: a session-level score (``outcome_level="session"``) or a client-level
        score repeated on every row of the client (``outcome_level="client"``).
    outcome_level : {"session", "client"}
        ``"session"`` (default) or ``"client"``.
    lag
        Session-level outcome only: the outcome of session ``s + lag`` of the *same client* is
        paired with the predictor of session ``s`` (default 1: the next session; 0: the same
        session). Session numbers are matched exactly: a session with no session ``s + lag``
        in its client (the last session(s), or a gap) has no outcome and is counted in the
        results' data summary (``outcome_dropped_by_reason``); its predictor value is still used
        to estimate the latent therapist and client means.
    covariates
        Fixed-effect covariate columns. Session level: taken from the outcome's session row;
        client level: must be constant within a client.
    centering : {"latent", "observed"}
        ``"latent"`` (default) or ``"observed"`` (observed-mean centering; biased with few
        clients per therapist or sessions per client; for comparison only).
    session_trend
        Session level: add the outcome session's number as a covariate (``session_number``).
    missing_predictor : {"error", "drop"}
        ``"error"`` (default) or ``"drop"`` (rows with a missing predictor dropped and counted;
        a client with no predictor value at all is always an error).
    bounds
        Declared scale bounds of the predictor, e.g. ``(1, 7)``.
    centered
        Sample the latent therapist means and client deviations centred (default ``False``:
        non-centred; centred mixes better when every client has many sessions and the
        latent parts are pinned down by the data). The outcome's random intercepts are always
        non-centred.
    """

    family = "contributions"

    predictor: str
    outcome: str
    outcome_level: str = "session"
    lag: int = 1
    covariates: tuple[str, ...] = ()
    centering: str = "latent"
    session_trend: bool = False
    missing_predictor: str = "error"
    bounds: tuple[float, float] | None = None
    centered: bool = False

    renamed_options = {"noncentered": lambda v: {"centered": not v}}

    def __post_init__(self) -> None:
        object.__setattr__(self, "covariates", tuple(self.covariates))
        if self.bounds is not None:
            object.__setattr__(self, "bounds", tuple(self.bounds))
        if self.outcome_level not in ("session", "client"):
            raise ConfigError(
                f"outcome_level must be 'session' or 'client', got {self.outcome_level!r}"
            )
        if self.centering not in ("latent", "observed"):
            raise ConfigError(f"centering must be 'latent' or 'observed', got {self.centering!r}")
        if int(self.lag) != self.lag or self.lag < 0:
            raise ConfigError(f"lag must be a non-negative integer, got {self.lag!r}")
        if self.missing_predictor not in ("error", "drop"):
            raise ConfigError("missing_predictor must be 'error' or 'drop'")
        if self.predictor == self.outcome:
            raise ConfigError("predictor and outcome must be different columns")
        if self.predictor in self.covariates or self.outcome in self.covariates:
            raise ConfigError("the predictor and the outcome cannot also be covariates")
        if self.session_trend and self.outcome_level == "client":
            raise ConfigError("session_trend needs a session-level outcome")
        if SESSION_TREND in self.covariates and self.session_trend:
            raise ConfigError(f"a covariate is already named {SESSION_TREND!r}")
        self.resolved_priors()

    # -- priors -----------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale (x and y divided by their SD).

        Predictor model: ``mu_predictor`` Normal(0, 1); ``sd_therapist_predictor``,
        ``sd_client_predictor``, ``sigma_predictor`` HalfNormal(1). Outcome model:
        ``Intercept`` Normal(0, 1); ``beta_therapist``, ``beta_client``, ``beta_session``
        Normal(0, 1) (per SD of x); ``beta`` Normal(0, 1) per standardized covariate;
        ``sd_therapist``, ``sd_client``, ``sigma`` HalfNormal(1).
        """
        return {
            "mu_predictor": Prior("Normal", mu=0, sigma=1),
            "sd_therapist_predictor": Prior("HalfNormal", sigma=1),
            "sd_client_predictor": Prior("HalfNormal", sigma=1),
            "sigma_predictor": Prior("HalfNormal", sigma=1),
            "Intercept": Prior("Normal", mu=0, sigma=1),
            "beta_therapist": Prior("Normal", mu=0, sigma=2),
            "beta_client": Prior("Normal", mu=0, sigma=2),
            "beta_session": Prior("Normal", mu=0, sigma=2),
            "beta": Prior("Normal", mu=0, sigma=1),
            "sd_therapist": Prior("HalfNormal", sigma=1),
            "sd_client": Prior("HalfNormal", sigma=1),
            "sigma": Prior("HalfNormal", sigma=1),
        }

    @property
    def covariate_names(self) -> tuple[str, ...]:
        return self.covariates + ((SESSION_TREND,) if self.session_trend else ())

    # -- data -------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> ContributionsData:
        """Validate the data and pair each outcome with its predictor row(s).

        Raises
        ------
        PredictorMissingForClientError
            The predictor is missing in every session of some client.
        NotConstantWithinClientError
            A client-level outcome or covariate varies within a client.
        """
        roles = roles or Roles()
        df = read_table(data)
        session_level = self.outcome_level == "session"
        for col, role in [(self.predictor, "predictor"), (self.outcome, "outcome")]:
            if col not in df.columns:
                raise MissingColumnError(
                    f"column {col!r} not found in the data; columns are {list(df.columns)}",
                    role=role,
                    column=col,
                )
        ccol = roles.client
        if ccol is not None and ccol in df.columns:
            allmiss = df[self.predictor].isna().groupby(df[ccol], sort=False).all()
            bad = allmiss.index[allmiss.to_numpy()]
            if len(bad):
                raise PredictorMissingForClientError(
                    f"the predictor is missing in every session of client {bad[0]!r} "
                    f"({len(bad)} such client(s)): its latent client mean has no data; remove "
                    "the client or supply its predictor values",
                    role="predictor",
                    column=self.predictor,
                    rows=list(df.index[df[ccol].isin(bad[:1]).to_numpy()]),
                )
        prepared = prepare(
            df,
            roles,
            id_roles=["therapist", "client"] + (["session"] if session_level else []),
            optional_id_roles=[] if session_level else ["session"],
            predictors=[self.predictor, *self.covariates],
            bounds={self.predictor: self.bounds} if self.bounds else None,
            missing_predictor=self.missing_predictor,
            grouping_roles=["therapist", "client"],
            extra_columns=[self.outcome],
        )
        frame = prepared.frame
        keys = [prepared.column("client")] + (
            [prepared.column("session")] if prepared.has("session") else []
        )
        frame = frame.sort_values(keys, kind="stable")
        prepared.frame = frame
        y_all = _numeric_outcome(frame, self.outcome)
        ccol = prepared.column("client")
        info: dict = {}
        if session_level:
            scol = prepared.column("session")
            sess = pd.to_numeric(frame[scol]).to_numpy().astype(np.int64)
            pos = pd.DataFrame(
                {"c": frame[ccol].to_numpy(), "s": sess, "pos": np.arange(len(frame))}
            )
            target = pos.assign(s=pos["s"] + int(self.lag))
            merged = target.merge(
                pos.rename(columns={"pos": "ypos"}), on=["c", "s"], how="left", sort=False
            )
            has_next = merged["ypos"].notna().to_numpy()
            ypos = merged["ypos"].fillna(-1).to_numpy().astype(np.int64)
            y_pair = np.where(has_next, y_all[np.maximum(ypos, 0)], np.nan)
            ok = has_next & ~np.isnan(y_pair)
            reasons = {}
            if (~has_next).sum():
                reasons[f"no session {self.lag} later in the same client (last session)"] = int(
                    (~has_next).sum()
                )
            if (has_next & np.isnan(y_pair)).sum():
                reasons[f"missing outcome '{self.outcome}' in the later session"] = int(
                    (has_next & np.isnan(y_pair)).sum()
                )
            x_row = np.flatnonzero(ok)
            y_row = ypos[ok]
            unit_labels = np.asarray(
                [
                    f"{c}:{s}"
                    for c, s in zip(frame[ccol].to_numpy()[x_row], sess[x_row], strict=True)
                ],
                dtype=str,
            )
            cov = (
                frame[list(self.covariates)].to_numpy(dtype=float)[y_row]
                if self.covariates
                else None
            )
            cols = [cov] if cov is not None else []
            if self.session_trend:
                cols.append(sess[y_row].astype(float)[:, None])
            X = np.column_stack(cols) if cols else np.zeros((len(x_row), 0))
            y = y_pair[ok]
            unit_rows = x_row
            info["outcome_pairing"] = (
                f"predictor of session s with outcome of session s+{self.lag} of the same client"
            )
        else:
            _check_client_constant(frame, ccol, self.outcome, "outcome")
            for cv in self.covariates:
                _check_client_constant(frame, ccol, cv, "covariate")
            tmp = pd.DataFrame({"c": frame[ccol].to_numpy(), "y": y_all})
            first = (
                tmp.reset_index(drop=True)
                .assign(pos=np.arange(len(frame)))
                .groupby("c", sort=True)
                .agg(y=("y", "max"), pos=("pos", "first"))
            )
            ok = first["y"].notna().to_numpy()
            reasons = {}
            if (~ok).sum():
                reasons[f"missing client-level outcome '{self.outcome}'"] = int((~ok).sum())
            unit_rows = first["pos"].to_numpy()[ok]
            y = first["y"].to_numpy()[ok]
            unit_labels = np.asarray(first.index.to_numpy()[ok]).astype(str)
            X = (
                frame[list(self.covariates)].to_numpy(dtype=float)[unit_rows]
                if self.covariates
                else np.zeros((len(unit_rows), 0))
            )
            info["outcome_pairing"] = "one client-level outcome per client"
        if len(y) < 3:
            raise DataError(
                f"only {len(y)} outcome value(s) can be paired with the predictor",
                role="outcome",
                column=self.outcome,
            )
        if np.nanstd(y) == 0:
            raise DataError("the outcome is constant", role="outcome", column=self.outcome)
        info["outcome_units_used"] = int(len(y))
        info["outcome_units_dropped"] = int(sum(reasons.values()))
        info["outcome_dropped_by_reason"] = reasons
        base = {f.name: getattr(prepared, f.name) for f in fields(PreparedData)}
        return ContributionsData(
            **base,
            design={
                "x": frame[self.predictor].to_numpy(dtype=float),
                "unit_rows": unit_rows.astype(np.int64),
                "y": y.astype(float),
                "X": X.astype(float),
                "unit_labels": unit_labels,
            },
            outcome_info=info,
        )

    def _ensure(self, data: PreparedData) -> ContributionsData:
        if isinstance(data, ContributionsData) and data.design:
            return data
        return self.prepare(data.frame, data.roles)

    # -- names ------------------------------------------------------------------------------
    def reported(self, data: PreparedData) -> list[str]:
        session = self.outcome_level == "session"
        names = ["Intercept", "beta_therapist", "beta_client"]
        names += ["beta_session"] if session else []
        names += ["beta_therapist_minus_client"]
        names += ["beta_client_minus_session", "beta_therapist_minus_session"] if session else []
        names += list(self.covariate_names)
        names += ["sd_therapist"] + (["sd_client"] if session else []) + ["sigma"]
        names += [
            "mu_predictor",
            "sd_therapist_predictor",
            "sd_client_predictor",
            "sigma_predictor",
            "share_therapist_predictor",
            "share_client_predictor",
            "share_session_predictor",
        ]
        return names

    # -- model ------------------------------------------------------------------------------
    def _scales(self, d: dict) -> dict:
        x_mean, x_sd = self.location_scale(d["x"])
        y_mean, y_sd = self.location_scale(d["y"])
        c_mean, c_sd = self.location_scale(d["X"], axis=0)
        return {
            "x_mean": x_mean,
            "x_sd": x_sd,
            "y_mean": y_mean,
            "y_sd": y_sd,
            "c_mean": c_mean,
            "c_sd": c_sd,
        }

    def build(self, data: PreparedData) -> Built:
        data = self._ensure(data)
        d = data.design
        sc = self._scales(d)
        xs = (d["x"] - sc["x_mean"]) / sc["x_sd"]
        ys = (d["y"] - sc["y_mean"]) / sc["y_sd"]
        Xs = (d["X"] - sc["c_mean"]) / sc["c_sd"]
        t_codes, t_labels = data.codes("therapist")
        c_codes, c_labels = data.codes("client")
        rows = d["unit_rows"]
        t_u, c_u = t_codes[rows], c_codes[rows]
        session = self.outcome_level == "session"
        priors = self.resolved_priors()
        coords = {
            "therapist": t_labels,
            "client": c_labels,
            "obs": np.arange(len(xs)),
            "unit": d["unit_labels"],
            "covariate": list(self.covariate_names),
        }
        with pm.Model(coords=coords) as model:
            # predictor model: x = mu + a_t + b_c + d_cs (non-centred)
            mu_x = priors["mu_predictor"].create_variable("mu_predictor_std")
            sd_a = priors["sd_therapist_predictor"].create_variable("sd_therapist_predictor_std")
            sd_b = priors["sd_client_predictor"].create_variable("sd_client_predictor_std")
            sig_x = priors["sigma_predictor"].create_variable("sigma_predictor_std")
            if self.centered:
                a = pm.Normal("a_therapist", 0, sd_a, dims="therapist")
                b = pm.Normal("b_client", 0, sd_b, dims="client")
            else:
                a = sd_a * pm.Normal("z_a_therapist", 0, 1, dims="therapist")
                b = sd_b * pm.Normal("z_b_client", 0, 1, dims="client")
            mean_x = mu_x + a[t_codes] + b[c_codes]
            pm.Normal("x", mu=mean_x, sigma=sig_x, observed=xs, dims="obs")
            if self.centering == "latent":
                part_t, part_c = a[t_u], b[c_u]
                part_s = (xs - mean_x)[rows]
            else:
                obs = observed_parts(xs, t_codes, c_codes)
                part_t = pt.as_tensor(obs["therapist"][rows])
                part_c = pt.as_tensor(obs["client"][rows])
                part_s = pt.as_tensor(obs["session"][rows])
            # outcome model
            b0 = priors["Intercept"].create_variable("Intercept_std")
            bT = priors["beta_therapist"].create_variable("beta_therapist_std")
            bC = priors["beta_client"].create_variable("beta_client_std")
            eta = b0 + bT * part_t + bC * part_c
            if session:
                bS = priors["beta_session"].create_variable("beta_session_std")
                eta = eta + bS * part_s
            if self.covariate_names:
                beta = with_dims(priors["beta"], "covariate").create_variable("beta_std")
                eta = eta + pt.dot(Xs, beta)
            sd_u = priors["sd_therapist"].create_variable("sd_therapist_std")
            z_u = pm.Normal("z_u_therapist", 0, 1, dims="therapist")
            eta = eta + (sd_u * z_u)[t_u]
            if session:
                sd_v = priors["sd_client"].create_variable("sd_client_std")
                z_v = pm.Normal("z_v_client", 0, 1, dims="client")
                eta = eta + (sd_v * z_v)[c_u]
            sigma = priors["sigma"].create_variable("sigma_std")
            pm.Normal("y", mu=eta, sigma=sigma, observed=ys, dims="unit")
            self._original_scale(model, sc)
        return Built(
            model=model,
            design=d,
            scales=sc,
            loglik=normal_loglik(ys, eta, sigma),
            loglik_name=self.outcome,
            loglik_dim="unit",
            loglik_coords=d["unit_labels"],
            loglik_offset=jacobian_offset(np.ones(len(ys)), sc["y_sd"]),
            info={"centering": self.centering},
        )

    def _original_scale(self, model: pm.Model, sc: dict) -> None:
        x_sd, y_sd = sc["x_sd"], sc["y_sd"]
        k = y_sd / x_sd
        bT = pm.Deterministic("beta_therapist", model["beta_therapist_std"] * k)
        bC = pm.Deterministic("beta_client", model["beta_client_std"] * k)
        intercept = sc["y_mean"] + y_sd * model["Intercept_std"]
        if self.covariate_names:
            coef = model["beta_std"] * y_sd / sc["c_sd"]
            intercept = intercept - pt.sum(coef * sc["c_mean"])
        pm.Deterministic("Intercept", intercept)
        if self.outcome_level == "session":
            bS = pm.Deterministic("beta_session", model["beta_session_std"] * k)
        pm.Deterministic("beta_therapist_minus_client", bT - bC)
        if self.outcome_level == "session":
            pm.Deterministic("beta_client_minus_session", bC - bS)
            pm.Deterministic("beta_therapist_minus_session", bT - bS)
        for j, name in enumerate(self.covariate_names):
            pm.Deterministic(name, coef[j])
        pm.Deterministic("sd_therapist", model["sd_therapist_std"] * y_sd)
        if self.outcome_level == "session":
            pm.Deterministic("sd_client", model["sd_client_std"] * y_sd)
        pm.Deterministic("sigma", model["sigma_std"] * y_sd)
        pm.Deterministic("mu_predictor", sc["x_mean"] + x_sd * model["mu_predictor_std"])
        va = model["sd_therapist_predictor_std"] ** 2
        vb = model["sd_client_predictor_std"] ** 2
        vs = model["sigma_predictor_std"] ** 2
        pm.Deterministic("sd_therapist_predictor", model["sd_therapist_predictor_std"] * x_sd)
        pm.Deterministic("sd_client_predictor", model["sd_client_predictor_std"] * x_sd)
        pm.Deterministic("sigma_predictor", model["sigma_predictor_std"] * x_sd)
        tot = va + vb + vs
        pm.Deterministic("share_therapist_predictor", va / tot)
        pm.Deterministic("share_client_predictor", vb / tot)
        pm.Deterministic("share_session_predictor", vs / tot)

    # -- after sampling ---------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        post = idata["posterior"]
        diff = post["beta_therapist_minus_client"]
        probs = {
            "P(beta_therapist < beta_client)": float((diff < 0).mean()),
            "P(beta_therapist > beta_client)": float((diff > 0).mean()),
            "P(beta_therapist < 0)": float((post["beta_therapist"] < 0).mean()),
            "P(beta_client < 0)": float((post["beta_client"] < 0).mean()),
        }
        if "beta_session" in post.data_vars:
            probs["P(beta_session < 0)"] = float((post["beta_session"] < 0).mean())
            probs["P(beta_client < beta_session)"] = float(
                (post["beta_client_minus_session"] < 0).mean()
            )
        probs["P(share_therapist_predictor > 0.05)"] = float(
            (post["share_therapist_predictor"] > 0.05).mean()
        )
        built.probabilities.update(probs)
        return idata

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        d = built.design
        return xr.Dataset(
            {
                self.outcome: ("unit", d["y"]),
                self.predictor: ("obs", d["x"]),
            },
            coords={"unit": d["unit_labels"], "obs": np.arange(len(d["x"]))},
        )

    def posterior_predictive(self, idata, data, built, *, seed: int = 0, max_draws: int = 500):
        """Replicated outcomes (data scale) given each draw's parameters and latent parts."""
        post = idata["posterior"].to_dataset()
        n_draw = post.sizes["draw"]
        step = max(1, int(np.ceil(n_draw * post.sizes["chain"] / max_draws)))
        thin = post.isel(draw=slice(None, None, step))
        with built.model:
            pp = pm.sample_posterior_predictive(
                xr.DataTree.from_dict({"posterior": thin}),
                var_names=["y"],
                random_seed=seed,
                progressbar=False,
            )
        ds = pp["posterior_predictive"].to_dataset()
        sc = built.scales
        return (sc["y_mean"] + sc["y_sd"] * ds).rename({"y": self.outcome})


def observed_parts(x: np.ndarray, t_codes: np.ndarray, c_codes: np.ndarray) -> dict:
    """Observed-mean decomposition of ``x`` per row.

    Client mean = mean of the client's rows; therapist mean = mean of the therapist's client
    means (as in Baldwin, Wampold & Imel 2007); client part = client mean - therapist mean;
    session part = x - client mean. Returns arrays aligned with ``x``.
    """
    n_c = int(c_codes.max()) + 1
    cm = np.bincount(c_codes, weights=x, minlength=n_c) / np.bincount(c_codes, minlength=n_c)
    t_of_c = np.empty(n_c, dtype=np.int64)
    t_of_c[c_codes] = t_codes
    n_t = int(t_codes.max()) + 1
    tm = np.bincount(t_of_c, weights=cm, minlength=n_t) / np.bincount(t_of_c, minlength=n_t)
    return {
        "therapist": tm[t_codes],
        "client": cm[c_codes] - tm[t_codes],
        "session": x - cm[c_codes],
    }


__all__ = [
    "Contributions",
    "ContributionsData",
    "NotConstantWithinClientError",
    "PredictorMissingForClientError",
    "observed_parts",
]
