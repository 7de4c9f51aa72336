"""Model 5: the therapeutic emotional circuit — a dyadic multilevel VAR(1) of client and
therapist affect within sessions.

For moment ``m`` of a session of dyad ``d`` = (therapist ``t``, client), with the dyad's
latent means ``mu_d = (muC_d, muT_d)`` (the dyad random intercepts)::

    C_m = muC_d + phi_cc (C_{m-1} - muC_d) + phi_ct (T_{m-1} - muT_d) + eC_m
    T_m = muT_d + phi_tt (T_{m-1} - muT_d) + phi_tc[t, phase_m] (C_{m-1} - muC_d) + eT_m
    (eC_m, eT_m) ~ MVN(0, Sigma),  Sigma = [[sC^2, r sC sT], [r sC sT, sT^2]]

    phi_tc[t, p] = phi_tc_mean[p] + gamma * z_t + sd_phi_tc * u_t + tau[t, p]
    tau[t, ref] = 0,  tau[t, p] = sd_throttle * v[t, p]  (p != ref)
    mu_d ~ N((mean_client, mean_therapist), diag(sd_alpha_client^2, sd_alpha_therapist^2))

The lagged predictors are centred on the dyad's *latent* mean (latent person-mean
centering, as in dynamic SEM), never on the observed dyad mean. In the intercept form of the
issue, ``alpha_dyad = (I - Phi) mu_d``. ``z_t`` is the therapist covariate standardized
across therapists (mean 0, SD 1 with ddof=1), so ``phi_tc_mean[p]`` is the coupling of a
therapist with an average covariate and ``gamma`` the change in coupling per SD of the
covariate. ``u_t`` is shared by every phase (the spec's ``eta_t``); ``v[t, p]`` lets each
therapist throttle differently (``therapist_throttle=True``). The throttle is
``phi_tc[., a] - phi_tc[., b]`` for ``throttle_phases=(a, b)``; ``b`` is the reference phase.

Lag pairs (the likelihood is conditional on the first moment of every run):

* A pair (m-1, m) is formed only inside one session of one dyad and only when the moments
  are consecutive: integer moments differ by exactly ``moment_step`` (default 1);
  timestamps are paired when adjacent and, if ``max_gap`` is set, not further apart than
  ``max_gap`` seconds. A gap breaks the chain; broken pairs are counted in the data summary.
* A moment with a missing client or therapist affect value is a missing moment: its row is
  dropped (counted) and no pair bridges it (the drop happens after pairing).
* The pair takes the phase of moment ``m`` (the phase in which the therapist responds).
* Unequal spacing (gaps of integer moments; varying intervals of timestamps) is detected and
  reported in the data summary, with an :class:`UnequalSpacingWarning`.

Speed: the Gaussian likelihood depends on the data only through 4x4 cross-product matrices
of ``(C_m, T_m, C_{m-1}, T_{m-1})`` per (dyad, phase) cell, and the dyad means are integrated
out analytically (2x2 algebra per dyad), so a gradient costs O(dyads x phases) whatever the
number of moments. The log-likelihood stored for LOO is per dyad (the dyad left out).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData, prepare
from empathy_models.errors import ConfigError, ConstantMeasureError, DataError, MissingValueError
from empathy_models.models.base import Built, ModelSpec, register
from empathy_models.models.priors import with_dims

LOG2PI = float(np.log(2 * np.pi))
ALL_PHASES = "all"
CENTERED_MIN_PAIRS = 400


class TherapistCovariateError(DataError):
    """A therapist-level covariate varies within a therapist or is missing."""


class TooFewPairsError(DataError):
    """Too few lag pairs (consecutive moments inside a session) to fit the VAR."""


class UnequalSpacingWarning(UserWarning):
    """Moments are unequally spaced (gaps in integer moments or varying time intervals)."""


@dataclass
class CircuitData(PreparedData):
    """:class:`PreparedData` plus the lag-pair bookkeeping of the circuit model.

    Attributes
    ----------
    pairs
        Summary of lag pairs (formed, broken by gaps, session starts, spacing) stored in the
        result's ``data_summary``.
    """

    pairs: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """As :meth:`PreparedData.summary` (group counts computed without string keys, which
        is fast on long EMA frames), plus ``lag_pairs``."""
        out = {
            "rows_input": int(self.n_input),
            "rows_used": int(len(self.frame)),
            "rows_dropped": int(sum(self.dropped.values())),
            "dropped_by_reason": {k: int(v) for k, v in self.dropped.items()},
            "missing_modelled": {k: int(v) for k, v in self.missing_modelled.items()},
        }
        for role in self.id_roles:
            col = self.column(role)
            if role == "session" and self.has("client"):
                n = self.frame.groupby([self.column("client"), col], sort=False).ngroups
            else:
                n = self.frame[col].nunique()
            out[f"n_{role}"] = int(n)
        out["lag_pairs"] = self.pairs
        return out


@register
@dataclass(frozen=True)
class EmotionalCircuit(ModelSpec):
    """Dyadic multilevel VAR(1) of client and therapist affect within sessions.

    Parameters
    ----------
    client_affect, therapist_affect
        Columns of the client's and the therapist's momentary affect.
    therapist_covariate
        Optional therapist-level column (constant within therapist, e.g. trait affect
        sharing) predicting the client -> therapist coupling; reported as
        ``gamma_<column>`` (per SD of the covariate across therapists).
    use_phase
        Let the coupling differ by the ``phase`` role when its column is present.
    phase_levels
        Declared phase labels (unknown or empty labels are errors). Default: sorted labels.
    throttle_phases
        ``(a, b)``: the throttle is coupling in ``a`` minus coupling in ``b`` (reference).
        Default: the first two phase levels, e.g. ``("exposure", "processing")``.
    therapist_throttle
        Therapist-specific throttles (``sd_throttle``); otherwise every therapist's coupling
        shifts by the same amount between phases.
    moment_step
        Integer moments form a lag pair only when they differ by exactly this step.
    max_gap
        Timestamp moments: longest interval (seconds) that still forms a pair (default: any
        adjacent pair; unequal spacing is then only reported).
    centered
        Parameterization of the therapist effects on the coupling: ``None`` (default) picks
        centred when the median number of lag pairs per (therapist, phase) is at least 400,
        non-centred otherwise (see :meth:`use_centered`).
    missing_outcome : {"drop", "error"}
        A missing affect value: ``"drop"`` (default: the moment counts as missing, its row is
        dropped and counted, and no pair bridges it) or ``"error"``.
    """

    family = "circuit"

    client_affect: str = "client_affect"
    therapist_affect: str = "therapist_affect"
    therapist_covariate: str | None = None
    use_phase: bool = True
    phase_levels: tuple[str, ...] | None = None
    throttle_phases: tuple[str, str] | None = None
    therapist_throttle: bool = True
    moment_step: int = 1
    max_gap: float | None = None
    missing_outcome: str = "drop"
    centered: bool | None = None

    renamed_options = {"missing_affect": "missing_outcome"}

    def __post_init__(self) -> None:
        if self.phase_levels is not None:
            object.__setattr__(self, "phase_levels", tuple(str(p) for p in self.phase_levels))
        if self.throttle_phases is not None:
            tp = tuple(str(p) for p in self.throttle_phases)
            if len(tp) != 2 or tp[0] == tp[1]:
                raise ConfigError(f"throttle_phases must be two different phases, got {tp}")
            if self.phase_levels is not None and not set(tp) <= set(self.phase_levels):
                raise ConfigError(
                    f"throttle_phases {tp} must be among phase_levels {self.phase_levels}"
                )
            object.__setattr__(self, "throttle_phases", tp)
        if self.client_affect == self.therapist_affect:
            raise ConfigError("client_affect and therapist_affect must be different columns")
        if int(self.moment_step) < 1:
            raise ConfigError(f"moment_step must be a positive integer, got {self.moment_step}")
        if self.max_gap is not None and not self.max_gap > 0:
            raise ConfigError(f"max_gap must be positive, got {self.max_gap}")
        if self.missing_outcome not in ("drop", "error"):
            raise ConfigError("missing_outcome must be 'drop' or 'error'")
        self.resolved_priors()

    # -- priors -----------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale (each affect divided by its overall SD).

        ``phi_cc``, ``phi_tt``, ``phi_ct`` and ``phi_tc_mean`` Normal(0, 0.5); ``gamma``
        (covariate effect on the coupling) Normal(0, 0.25); ``sd_phi_tc`` HalfNormal(0.2);
        ``sd_throttle`` HalfNormal(0.1); ``mean_client``, ``mean_therapist`` Normal(0, 1);
        ``sd_alpha_client``, ``sd_alpha_therapist``, ``sigma_client``, ``sigma_therapist``
        HalfNormal(1); ``innovation_corr`` Beta(2, 2) on (r + 1) / 2.
        """
        return {
            "phi_cc": Prior("Normal", mu=0, sigma=0.5),
            "phi_tt": Prior("Normal", mu=0, sigma=0.5),
            "phi_ct": Prior("Normal", mu=0, sigma=0.5),
            "phi_tc_mean": Prior("Normal", mu=0, sigma=0.5),
            "gamma": Prior("Normal", mu=0, sigma=0.25),
            "sd_phi_tc": Prior("HalfNormal", sigma=0.2),
            "sd_throttle": Prior("HalfNormal", sigma=0.1),
            "mean_client": Prior("Normal", mu=0, sigma=1),
            "mean_therapist": Prior("Normal", mu=0, sigma=1),
            "sd_alpha_client": Prior("HalfNormal", sigma=1),
            "sd_alpha_therapist": Prior("HalfNormal", sigma=1),
            "sigma_client": Prior("HalfNormal", sigma=1),
            "sigma_therapist": Prior("HalfNormal", sigma=1),
            "innovation_corr": Prior("Beta", alpha=2, beta=2),
        }

    # -- data -------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> CircuitData:
        """Validate the data and build the lag pairs.

        Errors: a missing column (:class:`MissingColumnError`), moments out of order
        (:class:`MomentOrderError`), duplicated moments (:class:`DuplicateOccasionError`), a
        missing phase label (:class:`MissingValueError`), a therapist covariate that varies
        within a therapist (:class:`TherapistCovariateError`), no lag pairs
        (:class:`TooFewPairsError`).
        """
        roles = roles or Roles()
        optional = ["phase"] if self.use_phase else []
        measures = [self.client_affect, self.therapist_affect]
        prepared = prepare(
            data,
            roles,
            id_roles=["therapist", "client", "session", "moment"],
            optional_id_roles=optional,
            measures=measures,
            predictors=[self.therapist_covariate] if self.therapist_covariate else [],
            missing_outcome="error" if self.missing_outcome == "error" else "model",
            levels={"phase": list(self.phase_levels)} if self.phase_levels else None,
            occasion_roles=["therapist", "client", "session", "moment"],
            grouping_roles=["therapist"],
        )
        df = prepared.frame
        if self.therapist_covariate:
            _check_therapist_constant(df, roles.therapist, self.therapist_covariate)
        pairs, info = lag_pairs(
            df,
            roles,
            self.client_affect,
            self.therapist_affect,
            moment_step=self.moment_step,
            max_gap=self.max_gap,
            phase=prepared.has("phase"),
        )
        if info["n_pairs"] == 0:
            raise TooFewPairsError(
                "no lag pairs: no two consecutive moments with both affects observed inside one "
                "session",
                role="moment",
                column=roles.moment,
            )
        miss = df[measures].isna().any(axis=1).to_numpy()
        dropped = dict(prepared.dropped)
        if miss.any():
            dropped["missing affect (moment treated as missing)"] = int(miss.sum())
            df = df.loc[~miss]
        out = CircuitData(
            frame=df,
            roles=prepared.roles,
            id_roles=prepared.id_roles,
            measures=prepared.measures,
            predictors=prepared.predictors,
            n_input=prepared.n_input,
            dropped=dropped,
            missing_modelled={},
            pairs=info,
        )
        out._pair_frame = pairs
        return out

    def _pairs(self, data: PreparedData) -> pd.DataFrame:
        pf = getattr(data, "_pair_frame", None)
        if pf is None:
            pf, _ = lag_pairs(
                data.frame,
                data.roles,
                self.client_affect,
                self.therapist_affect,
                moment_step=self.moment_step,
                max_gap=self.max_gap,
                phase=data.has("phase"),
                warn=False,
            )
        return pf

    def phases(self, data: PreparedData) -> list[str]:
        """Phase labels in model order (``["all"]`` without a phase role)."""
        if not data.has("phase"):
            return [ALL_PHASES]
        if self.phase_levels:
            return list(self.phase_levels)
        return sorted(pd.unique(data.frame[data.column("phase")].astype(str)).tolist())

    def contrast(self, data: PreparedData) -> tuple[str, str] | None:
        ph = self.phases(data)
        if len(ph) < 2:
            return None
        if self.throttle_phases:
            missing = [p for p in self.throttle_phases if p not in ph]
            if missing:
                raise ConfigError(f"throttle_phases {missing} not among the phases {ph}")
            return self.throttle_phases
        return (ph[0], ph[1])

    def covariate_name(self) -> str | None:
        return f"gamma_{self.therapist_covariate}" if self.therapist_covariate else None

    def reported(self, data: PreparedData) -> list[str]:
        names = ["phi_cc", "phi_tt", "phi_ct", "phi_tc_mean", "sd_phi_tc"]
        con = self.contrast(data)
        if con and self.therapist_throttle:
            names.append("sd_throttle")
        if self.therapist_covariate:
            names.append(self.covariate_name())
        names += ["innovation_corr", "sigma_client", "sigma_therapist"]
        names += ["mean_client", "mean_therapist", "sd_alpha_client", "sd_alpha_therapist"]
        if con:
            names += ["throttle", "throttle_therapist"]
        names.append("phi_tc")
        return names

    def sampled(self, data: PreparedData) -> list[str]:
        return self.reported(data)

    # -- model ------------------------------------------------------------------------------
    def _scales(self, data: PreparedData) -> dict:
        df = data.frame
        out = {}
        for key, col in (("C", self.client_affect), ("T", self.therapist_affect)):
            v = df[col].to_numpy(dtype=float)
            if not np.std(v) > 0:
                raise ConstantMeasureError("the affect is constant", role="measure", column=col)
            out[f"m{key}"], out[f"s{key}"] = self.location_scale(v)
        return out

    def design(self, data: PreparedData) -> dict:
        """Sufficient statistics per (dyad, phase) cell and the index maps (numpy)."""
        pf = self._pairs(data)
        sc = self._scales(data)
        roles = data.roles
        ther_labels = data.codes("therapist")[1]
        t_code = pd.Index(ther_labels.astype(str)).get_indexer(pf["therapist"].astype(str))
        dyad_key = pf["therapist"].astype(str) + "\x1f" + pf["client"].astype(str)
        d_code, dyad_labels = pd.factorize(dyad_key, sort=True)
        phases = self.phases(data)
        if data.has("phase"):
            p_code = pd.Index(phases).get_indexer(pf["phase"].astype(str))
        else:
            p_code = np.zeros(len(pf), dtype=np.int64)
        z = np.column_stack(
            [
                (pf["C"].to_numpy() - sc["mC"]) / sc["sC"],
                (pf["T"].to_numpy() - sc["mT"]) / sc["sT"],
                (pf["C_lag"].to_numpy() - sc["mC"]) / sc["sC"],
                (pf["T_lag"].to_numpy() - sc["mT"]) / sc["sT"],
            ]
        )
        n_p = len(phases)
        cell = d_code * n_p + p_code
        cells, cell_idx = np.unique(cell, return_inverse=True)
        n_cell = len(cells)
        n = np.bincount(cell_idx, minlength=n_cell).astype(float)
        s = np.column_stack([np.bincount(cell_idx, z[:, j], n_cell) for j in range(4)])
        M = np.empty((n_cell, 4, 4))
        for j in range(4):
            for k in range(j, 4):
                v = np.bincount(cell_idx, z[:, j] * z[:, k], n_cell)
                M[:, j, k] = v
                M[:, k, j] = v
        cell_dyad = cells // n_p
        cell_phase = cells % n_p
        dyad_ther = np.empty(len(dyad_labels), dtype=np.int64)
        dyad_ther[d_code] = t_code
        cov = None
        if self.therapist_covariate:
            col = self.therapist_covariate
            tv = data.frame.groupby(roles.therapist, sort=False)[col].first()
            tv.index = tv.index.astype(str)
            vals = tv.reindex(ther_labels.astype(str)).to_numpy(dtype=float)
            sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
            if not sd > 0:
                raise TherapistCovariateError(
                    "the therapist covariate is constant across therapists",
                    role="predictor",
                    column=col,
                )
            cov = {"z": (vals - vals.mean()) / sd, "mean": float(vals.mean()), "sd": sd}
        return {
            "n": n,
            "s": s,
            "M": M,
            "cell_dyad": cell_dyad,
            "cell_phase": cell_phase,
            "cell_ther": dyad_ther[cell_dyad],
            "n_dyad": len(dyad_labels),
            "dyad_labels": [k.replace("\x1f", ":") for k in dyad_labels],
            "dyad_ther": dyad_ther,
            "therapists": ther_labels,
            "phases": phases,
            "scales": sc,
            "cov": cov,
        }

    def use_centered(self, des: dict) -> bool:
        """Centred therapist effects when the data per therapist and phase are plentiful.

        Auto rule (``centered=None``): centred when the median number of lag pairs per
        (therapist, phase) is at least ``CENTERED_MIN_PAIRS`` (400): the data then pin each
        therapist's coupling (SE about 1/sqrt(n) on the standardized scale, below the prior's
        typical SD) and the non-centred form would mix slowly.
        """
        if self.centered is not None:
            return bool(self.centered)
        n_tp = np.zeros((len(des["therapists"]), len(des["phases"])))
        np.add.at(n_tp, (des["cell_ther"], des["cell_phase"]), des["n"])
        return bool(np.median(n_tp) >= CENTERED_MIN_PAIRS)

    def build(self, data: PreparedData) -> Built:
        des = self.design(data)
        pr = self.resolved_priors()
        phases = des["phases"]
        n_t, n_p = len(des["therapists"]), len(phases)
        con = self.contrast(data)
        coords = {
            "therapist": list(des["therapists"]),
            "phase": phases,
            "dyad": des["dyad_labels"],
        }
        ref = phases.index(con[1]) if con else 0
        others = [p for p in phases if p != phases[ref]]
        if con and self.therapist_throttle:
            coords["phase_other"] = others
        with pm.Model(coords=coords) as model:
            phi_cc = pr["phi_cc"].create_variable("phi_cc_std")
            phi_tt = pr["phi_tt"].create_variable("phi_tt_std")
            phi_ct = pr["phi_ct"].create_variable("phi_ct_std")
            phi_tc_mean = with_dims(pr["phi_tc_mean"], "phase").create_variable("phi_tc_mean_std")
            sd_phi = pr["sd_phi_tc"].create_variable("sd_phi_tc_std")
            centered = self.use_centered(des)
            if centered:
                eta = pm.Normal("eta_phi_tc_std", 0, sd_phi, dims="therapist")
            else:
                u = pm.Normal("z_phi_tc", 0, 1, dims="therapist")
                eta = pm.Deterministic("eta_phi_tc_std", sd_phi * u, dims="therapist")
            phi_tc = phi_tc_mean[None, :] + eta[:, None]
            if des["cov"] is not None:
                gamma = pr["gamma"].create_variable("gamma_std")
                phi_tc = phi_tc + (gamma * des["cov"]["z"])[:, None]
            if con and self.therapist_throttle:
                sd_thr = pr["sd_throttle"].create_variable("sd_throttle_std")
                if centered:
                    dev = pm.Normal(
                        "throttle_dev_std", 0, sd_thr, dims=("therapist", "phase_other")
                    )
                else:
                    v = pm.Normal("z_throttle", 0, 1, dims=("therapist", "phase_other"))
                    dev = sd_thr * v
                other_idx = [phases.index(p) for p in others]
                tau = pt.zeros((n_t, n_p))[:, other_idx].set(dev)
                phi_tc = phi_tc + tau
            phi_tc = pm.Deterministic("phi_tc_std", phi_tc, dims=("therapist", "phase"))
            m0c = pr["mean_client"].create_variable("mean_client_std")
            m0t = pr["mean_therapist"].create_variable("mean_therapist_std")
            sdac = pr["sd_alpha_client"].create_variable("sd_alpha_client_std")
            sdat = pr["sd_alpha_therapist"].create_variable("sd_alpha_therapist_std")
            sig_c = pr["sigma_client"].create_variable("sigma_client_std")
            sig_t = pr["sigma_therapist"].create_variable("sigma_therapist_std")
            r01 = pr["innovation_corr"].create_variable("innovation_corr_01")
            rho = 2 * r01 - 1
            ll = circuit_loglik(
                des,
                phi_cc,
                phi_tt,
                phi_ct,
                phi_tc,
                (m0c, m0t),
                (sdac, sdat),
                (sig_c, sig_t, rho),
            )
            pm.Potential("circuit_loglik", ll.sum())
            self._original_scale(model, des, con)
        # Jacobian back to the original affect scales, so LOO compares with other fits.
        pairs = np.bincount(des["cell_dyad"], weights=des["n"], minlength=des["n_dyad"])
        sc = des["scales"]
        return Built(
            model=model,
            design=des,
            scales=sc,
            loglik=ll,
            loglik_name="affect",
            loglik_dim="dyad",
            loglik_coords=des["dyad_labels"],
            loglik_offset=-pairs * (np.log(sc["sC"]) + np.log(sc["sT"])),
            info={
                "throttle_contrast": list(con) if con else None,
                "centered": centered,
                "likelihood": "sufficient statistics per (dyad, phase); dyad means integrated out",
            },
        )

    def _original_scale(self, model, des, con) -> None:
        sc = des["scales"]
        ratio_tc = sc["sT"] / sc["sC"]
        pm.Deterministic("phi_cc", model["phi_cc_std"])
        pm.Deterministic("phi_tt", model["phi_tt_std"])
        pm.Deterministic("phi_ct", model["phi_ct_std"] / ratio_tc)
        phi_tc = pm.Deterministic(
            "phi_tc", model["phi_tc_std"] * ratio_tc, dims=("therapist", "phase")
        )
        pm.Deterministic("phi_tc_mean", model["phi_tc_mean_std"] * ratio_tc, dims="phase")
        pm.Deterministic("sd_phi_tc", model["sd_phi_tc_std"] * ratio_tc)
        pm.Deterministic(
            "eta_phi_tc",
            model["eta_phi_tc_std"] * ratio_tc,
            dims="therapist",
        )
        if "sd_throttle_std" in model.named_vars:
            pm.Deterministic("sd_throttle", model["sd_throttle_std"] * ratio_tc)
        if des["cov"] is not None:
            pm.Deterministic(self.covariate_name(), model["gamma_std"] * ratio_tc)
        pm.Deterministic("innovation_corr", 2 * model["innovation_corr_01"] - 1)
        pm.Deterministic("sigma_client", model["sigma_client_std"] * sc["sC"])
        pm.Deterministic("sigma_therapist", model["sigma_therapist_std"] * sc["sT"])
        pm.Deterministic("mean_client", sc["mC"] + sc["sC"] * model["mean_client_std"])
        pm.Deterministic("mean_therapist", sc["mT"] + sc["sT"] * model["mean_therapist_std"])
        pm.Deterministic("sd_alpha_client", model["sd_alpha_client_std"] * sc["sC"])
        pm.Deterministic("sd_alpha_therapist", model["sd_alpha_therapist_std"] * sc["sT"])
        if con:
            ph = des["phases"]
            a, b = ph.index(con[0]), ph.index(con[1])
            pm.Deterministic(
                "throttle",
                (model["phi_tc_mean_std"][a] - model["phi_tc_mean_std"][b]) * ratio_tc,
            )
            pm.Deterministic("throttle_therapist", phi_tc[:, a] - phi_tc[:, b], dims="therapist")

    # -- after sampling ---------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        post = idata["posterior"]
        probs = {}
        con = self.contrast(data)
        if con:
            thr = post["throttle"].values
            p_neg = float((thr < 0).mean())
            probs["P(throttle < 0)"] = p_neg
            probs["pd(throttle)"] = max(p_neg, 1 - p_neg)
            per_t = (post["throttle_therapist"] < post["throttle"]).mean(("chain", "draw"))
            probs["n_therapists P(throttle_therapist < throttle) > 0.9"] = int(
                (per_t.values > 0.9).sum()
            )
        if self.therapist_covariate:
            g = post[self.covariate_name()].values
            probs[f"P({self.covariate_name()} > 0)"] = float((g > 0).mean())
        probs["P(phi_ct > 0)"] = float((post["phi_ct"].values > 0).mean())
        probs["P(innovation_corr > 0)"] = float((post["innovation_corr"].values > 0).mean())
        built.probabilities.update(probs)
        return idata

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        df = data.frame
        return xr.Dataset(
            {
                self.client_affect: ("obs", df[self.client_affect].to_numpy(dtype=float)),
                self.therapist_affect: ("obs", df[self.therapist_affect].to_numpy(dtype=float)),
            }
        )


# -- lag pairs -------------------------------------------------------------------------------
def _check_therapist_constant(df: pd.DataFrame, tcol: str, col: str) -> None:
    miss = df[col].isna()
    if miss.any():
        raise TherapistCovariateError(
            f"{int(miss.sum())} missing value(s) of the therapist covariate",
            role="predictor",
            column=col,
            rows=list(df.index[miss.to_numpy()]),
        )
    nun = df.groupby(tcol, sort=False)[col].nunique()
    bad = nun.index[nun > 1]
    if len(bad):
        rows = list(df.index[df[tcol].isin(bad[:1]).to_numpy()])
        raise TherapistCovariateError(
            f"the therapist covariate must be constant within therapist; therapist {bad[0]!r} "
            f"has {int(nun.loc[bad[0]])} different values ({len(bad)} such therapists). Merge "
            "the therapist-level table by therapist id first",
            role="predictor",
            column=col,
            rows=rows,
        )


def lag_pairs(
    frame: pd.DataFrame,
    roles: Roles,
    client_affect: str,
    therapist_affect: str,
    *,
    moment_step: int = 1,
    max_gap: float | None = None,
    phase: bool = True,
    warn: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """Lag pairs (m-1, m) inside sessions, never across a session boundary or a gap.

    Parameters
    ----------
    frame
        Validated rows (moments in increasing order inside each session).
    roles
        Column mapping (therapist, client, session, moment, phase).
    client_affect, therapist_affect
        Affect columns; a moment with either value missing is a missing moment.
    moment_step
        Integer moments pair only when they differ by exactly this step.
    max_gap
        Timestamps pair when adjacent and at most this many seconds apart (None: any).
    phase
        Carry the phase of moment ``m`` into the pair.
    warn
        Warn (:class:`UnequalSpacingWarning`) when spacing is unequal.

    Returns
    -------
    pairs
        One row per pair: therapist, client, session, moment, (phase), C, T, C_lag, T_lag.
    info
        Counts: ``n_pairs``, ``n_sessions``, ``session_starts`` (first rows of sessions),
        ``broken_by_gap`` (adjacent rows in a session not paired because of a gap),
        ``broken_by_missing_affect`` (pairs lost because one moment has a missing affect),
        ``rows_without_pair``, ``spacing`` (intervals seen) and ``unequal_spacing``.
    """
    tcol, ccol, scol, mcol = roles.therapist, roles.client, roles.session, roles.moment
    df = frame.sort_values([tcol, ccol, scol, mcol], kind="stable")
    mom = df[mcol]
    is_time = pd.api.types.is_datetime64_any_dtype(mom)
    if not is_time and not pd.api.types.is_numeric_dtype(mom):
        num = pd.to_numeric(mom, errors="coerce")
        if num.isna().any():
            mom = pd.to_datetime(mom, errors="coerce")
            is_time = True
        else:
            mom = num
    if is_time:
        mval = (mom - mom.min()).dt.total_seconds().to_numpy()
    else:
        mval = mom.to_numpy(dtype=float)
    keys = df.groupby([tcol, ccol, scol], sort=False).ngroup().to_numpy()
    same = np.zeros(len(df), dtype=bool)
    same[1:] = keys[1:] == keys[:-1]
    diff = np.full(len(df), np.nan)
    diff[1:] = mval[1:] - mval[:-1]
    if is_time:
        consecutive = same & (diff <= max_gap if max_gap is not None else True)
    else:
        consecutive = same & np.isclose(diff, moment_step)
    C = df[client_affect].to_numpy(dtype=float)
    T = df[therapist_affect].to_numpy(dtype=float)
    ok = ~(np.isnan(C) | np.isnan(T))
    ok_prev = np.zeros(len(df), dtype=bool)
    ok_prev[1:] = ok[:-1]
    pair = consecutive & ok & ok_prev
    d_in = diff[same]
    gaps = same & ~consecutive
    spacing: dict = {"unit": "seconds" if is_time else "moment"}
    if d_in.size:
        spacing.update(
            {
                "min": float(d_in.min()),
                "median": float(np.median(d_in)),
                "max": float(d_in.max()),
            }
        )
    if is_time:
        unequal = bool(d_in.size and d_in.max() > 1.5 * max(d_in.min(), 1e-12))
    else:
        unequal = bool(gaps.any())
    # rows that are in no pair at all
    in_pair = pair.copy()
    in_pair[:-1] |= pair[1:]
    info = {
        "n_pairs": int(pair.sum()),
        "n_sessions": int((~same).sum()),
        "session_starts": int((~same).sum()),
        "broken_by_gap": int(gaps.sum()),
        "broken_by_missing_affect": int((consecutive & ~(ok & ok_prev)).sum()),
        "rows_without_pair": int((~in_pair & ok).sum()),
        "moment_kind": "timestamp" if is_time else "integer",
        "moment_step": None if is_time else int(moment_step),
        "max_gap_seconds": max_gap,
        "spacing": spacing,
        "unequal_spacing": unequal,
        "policy": (
            "pairs only inside a session, between consecutive moments (integer step "
            f"{moment_step}"
            + (f"; timestamps within {max_gap} s" if max_gap else "")
            + "); gaps and missing moments break the chain; pair phase = phase of moment m"
        ),
    }
    if warn and unequal:
        what = (
            f"{info['broken_by_gap']} gap(s) between integer moments (step != {moment_step}); "
            "those lag pairs are not formed"
            if not is_time
            else f"intervals between moments range from {spacing.get('min')} to "
            f"{spacing.get('max')} s; a VAR(1) assumes equal spacing"
            + ("" if max_gap else " (set max_gap to break long gaps)")
        )
        warnings.warn(
            f"unequally spaced moments (column {mcol!r}): {what}",
            UnequalSpacingWarning,
            stacklevel=3,
        )
    prev = np.roll(np.arange(len(df)), 1)
    idx = np.flatnonzero(pair)
    out = pd.DataFrame(
        {
            "therapist": df[tcol].to_numpy()[idx],
            "client": df[ccol].to_numpy()[idx],
            "session": df[scol].to_numpy()[idx],
            "moment": df[mcol].to_numpy()[idx],
            "C": C[idx],
            "T": T[idx],
            "C_lag": C[prev[idx]],
            "T_lag": T[prev[idx]],
        }
    )
    if phase:
        pcol = roles.phase
        ph = df[pcol]
        if ph.isna().any():  # prepare() already refuses this; kept for direct calls
            raise MissingValueError(
                "missing phase label", role="phase", column=pcol, rows=list(df.index[ph.isna()])
            )
        out["phase"] = ph.astype(str).to_numpy()[idx]
    return out, info


# -- likelihood ------------------------------------------------------------------------------
def circuit_loglik(des, phi_cc, phi_tt, phi_ct, phi_tc, means, sds, innov):
    """Log-likelihood per dyad, dyad means integrated out (standardized scale).

    Per (dyad, phase) cell with ``B = [[phi_cc, phi_ct], [phi_tc, phi_tt]]`` and
    ``u = y - B x``, the residual is ``u - (I - B) mu``. With ``S_uu``, ``s_u`` the cell sums
    (from the 4x4 cross-products) the cell contributes ``-n log 2pi - n/2 log|Sigma|
    - 1/2 tr(Lambda S_uu) + mu' K' Lambda s_u - n/2 mu' K' Lambda K mu`` (``K = I - B``,
    ``Lambda = Sigma^-1``); the Gaussian integral over ``mu ~ N(m0, D)`` is closed-form.
    """
    n, s, M = des["n"], des["s"], des["M"]
    cd, cp, ct = des["cell_dyad"], des["cell_phase"], des["cell_ther"]
    n_dyad = des["n_dyad"]
    sig_c, sig_t, rho = innov
    c = phi_tc[ct, cp]  # per cell
    one = pt.ones_like(c)
    zero = pt.zeros_like(c)
    # u_C = w_C' z, u_T = w_T' z  with z = (yC, yT, xC, xT)
    wC = pt.stack([one, zero, -phi_cc * one, -phi_ct * one], axis=1)  # (K, 4)
    wT = pt.stack([zero, one, -c, -phi_tt * one], axis=1)
    Mw_C = (M * wC[:, None, :]).sum(-1)  # (K, 4)
    Mw_T = (M * wT[:, None, :]).sum(-1)
    Scc = (wC * Mw_C).sum(-1)
    Stt = (wT * Mw_T).sum(-1)
    Sct = (wC * Mw_T).sum(-1)
    suC = (wC * s).sum(-1)
    suT = (wT * s).sum(-1)
    det_sig = sig_c**2 * sig_t**2 * (1 - rho**2)
    l11 = sig_t**2 / det_sig
    l22 = sig_c**2 / det_sig
    l12 = -rho * sig_c * sig_t / det_sig
    cell_ll = (
        -n * LOG2PI - 0.5 * n * pt.log(det_sig) - 0.5 * (l11 * Scc + l22 * Stt + 2 * l12 * Sct)
    )
    # K = I - B
    k11, k12, k21, k22 = 1 - phi_cc, -phi_ct * one, -c, 1 - phi_tt
    k11 = k11 * one
    k22 = k22 * one
    # K' Lambda
    a11 = k11 * l11 + k21 * l12
    a12 = k11 * l12 + k21 * l22
    a21 = k12 * l11 + k22 * l12
    a22 = k12 * l12 + k22 * l22
    # Q cell = n K' Lambda K ; b cell = K' Lambda s_u
    q11 = n * (a11 * k11 + a12 * k21)
    q12 = n * (a11 * k12 + a12 * k22)
    q22 = n * (a21 * k12 + a22 * k22)
    b1 = a11 * suC + a12 * suT
    b2 = a21 * suC + a22 * suT

    def seg(x):
        return pt.zeros((n_dyad,), dtype=x.dtype)[cd].inc(x)

    Q11, Q12, Q22, B1, B2 = seg(q11), seg(q12), seg(q22), seg(b1), seg(b2)
    ll = seg(cell_ll)
    m0c, m0t = means
    dc, dt = sds[0] ** 2, sds[1] ** 2
    P11, P12, P22 = Q11 + 1 / dc, Q12, Q22 + 1 / dt
    r1, r2 = B1 + m0c / dc, B2 + m0t / dt
    detP = P11 * P22 - P12**2
    quad = (P22 * r1**2 - 2 * P12 * r1 * r2 + P11 * r2**2) / detP
    ll = (
        ll
        - 0.5 * pt.log(dc * dt)
        - 0.5 * pt.log(detP)
        - 0.5 * (m0c**2 / dc + m0t**2 / dt)
        + 0.5 * quad
    )
    return ll


__all__ = [
    "CircuitData",
    "EmotionalCircuit",
    "TherapistCovariateError",
    "TooFewPairsError",
    "UnequalSpacingWarning",
    "lag_pairs",
]
