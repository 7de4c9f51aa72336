"""Simulation-based calibration (SBC, Talts et al. 2018) of every model family.

For each family a :class:`SBCProblem` holds a small design and a simulator that draws the
parameters from the family's own default priors (read from ``spec.default_priors()``) and
then data from the model's generative process; marginalized likelihoods (variance, meta,
moderation's client intercepts, the circuit's dyad means) are simulated from the equivalent
full model with the integrated-out effects drawn explicitly. The model is fitted, the
posterior draws are thinned to ``L`` roughly independent draws and the rank of the true value
among them is recorded for each checked parameter. Under a correct implementation the ranks
are uniform on ``0..L``.

Scale. Every family standardizes its data before applying its priors (priors are declared
on the standardized scale), a data-dependent transformation that no fixed prior can
reproduce. SBC therefore fits each family with ``standardize=False`` (the spec option that
makes the standardize hook the identity) and simulates data on the scale the priors are
declared on: the likelihood, the priors, the parameterizations and the derived quantities
are the package's own code; only the centring/scaling step is bypassed. Predictors
(covariates, moderators, the parts of a split predictor) are drawn per replicate and
conditioned on.

Uniformity: a chi-square test of the ranks in ``bins`` equal bins per parameter
(``scipy.stats.chisquare``), Holm-corrected across the parameters of a family.
ECDF-difference plots with simultaneous bands: :func:`plot_sbc` (``arviz_plots.plot_ecdf_pit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from empathy_models.data.roles import Roles
from empathy_models.errors import ConfigError
from empathy_models.models.circuit import EmotionalCircuit
from empathy_models.models.contributions import Contributions
from empathy_models.models.form import FunctionalForm
from empathy_models.models.meta import MetaAnalysis, typical_variance
from empathy_models.models.moderation import ModeratedEffects
from empathy_models.models.raters import RaterPartition
from empathy_models.models.variance import VariancePartition
from empathy_models.studies.engine import sampler_seed
from empathy_models.studies.fitting import (
    SamplingPlan,
    draw_prior,
    fit_replicate,
)

#: Ranks are taken among this many thinned posterior draws (ranks 0..L).
DEFAULT_L = 99


def _vec(name: str, values) -> dict[str, float]:
    arr = np.asarray(values, dtype=float).ravel()
    return {f"{name}[{i}]": float(v) for i, v in enumerate(arr)}


def lkj_corr(n: int, eta: float, rng: np.random.Generator) -> np.ndarray:
    """A correlation matrix from LKJ(eta), C-vine method (Lewandowski et al. 2009)."""
    beta = eta + (n - 1) / 2
    P = np.zeros((n, n))
    S = np.eye(n)
    for k in range(n - 1):
        beta -= 0.5
        for i in range(k + 1, n):
            P[k, i] = 2 * rng.beta(beta, beta) - 1
            p = P[k, i]
            for m in range(k - 1, -1, -1):
                p = p * np.sqrt((1 - P[m, i] ** 2) * (1 - P[m, k] ** 2)) + P[m, i] * P[m, k]
            S[k, i] = S[i, k] = p
    return S


# -- the problems -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SBCProblem:
    """A family's SBC design: ``spec()``, ``roles()`` and ``simulate(rng) -> (frame, truth)``.

    ``truth`` maps posterior variable names to true values; ``name[i]`` is element ``i`` of
    the variable's non-sample dims flattened in C order.
    """

    family: str = ""

    def spec(self):
        raise NotImplementedError

    def roles(self) -> Roles | None:
        return None

    def simulate(self, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, float]]:
        raise NotImplementedError

    def priors(self):
        return self.spec().resolved_priors()


def _ids(T: int, C: int, S: int):
    th = np.repeat(np.arange(T), C * S)
    cl = np.repeat(np.arange(T * C), S)
    se = np.tile(np.arange(1, S + 1), T * C)
    return th, cl, se


@dataclass(frozen=True)
class VarianceSBC(SBCProblem):
    family: str = "variance"
    therapists: int = 8
    clients: int = 4
    sessions: int = 4

    def spec(self):
        return VariancePartition(measure="y", standardize=False)

    def simulate(self, rng):
        p = self.priors()
        T, C, S = self.therapists, self.clients, self.sessions
        b0 = draw_prior(p["Intercept"], rng)
        sd_t, sd_c, sig = (draw_prior(p[k], rng) for k in ("sd_therapist", "sd_client", "sigma"))
        th, cl, se = _ids(T, C, S)
        y = b0 + sd_t * rng.standard_normal(T)[th] + sd_c * rng.standard_normal(T * C)[cl]
        y = y + sig * rng.standard_normal(len(th))
        frame = pd.DataFrame({"therapist": th, "client": cl, "session": se, "y": y})
        tot = sd_t**2 + sd_c**2 + sig**2
        truth = {
            "Intercept": b0,
            "sd_therapist": sd_t,
            "sd_client": sd_c,
            "sigma": sig,
            "share_therapist": sd_t**2 / tot,
            "share_client": sd_c**2 / tot,
            "share_residual": sig**2 / tot,
        }
        return frame, truth


@dataclass(frozen=True)
class MetaSBC(SBCProblem):
    family: str = "meta"
    studies: int = 10
    effects_per_study: int = 2

    def spec(self):
        return MetaAnalysis(
            effect="y", variance="v", study="study", moderators=("x",), standardize=False
        )

    def simulate(self, rng):
        p = self.priors()
        n = self.studies * self.effects_per_study
        study = np.repeat(np.arange(self.studies), self.effects_per_study)
        x = rng.standard_normal(n)
        v = rng.uniform(0.05, 0.5, n)
        mu_std = draw_prior(p["mu"], rng)
        b_std = draw_prior(p["beta"], rng)
        tau = draw_prior(p["tau"], rng)
        tau_s = draw_prior(p["tau_study"], rng)
        theta = mu_std + b_std * x + tau_s * rng.standard_normal(self.studies)[study]
        theta = theta + tau * rng.standard_normal(n)
        y = theta + np.sqrt(v) * rng.standard_normal(n)
        frame = pd.DataFrame({"study": [f"S{s:02d}" for s in study], "x": x, "y": y, "v": v})
        vt = typical_variance(v)
        tot = tau**2 + tau_s**2 + vt
        truth = {
            "mu": mu_std,
            "beta_x": b_std,
            "tau": tau,
            "tau_study": tau_s,
            "i2": (tau**2 + tau_s**2) / tot,
            "i2_study": tau_s**2 / tot,
        }
        return frame, truth


@dataclass(frozen=True)
class ContributionsSBC(SBCProblem):
    family: str = "contributions"
    therapists: int = 6
    clients: int = 3
    sessions: int = 5

    def spec(self):
        return Contributions(predictor="x", outcome="y", lag=1, standardize=False)

    def simulate(self, rng):
        p = self.priors()
        T, C, S = self.therapists, self.clients, self.sessions
        g = {k: draw_prior(p[k], rng) for k in p if k != "beta"}
        th, cl, se = _ids(T, C, S)
        a = g["sd_therapist_predictor"] * rng.standard_normal(T)
        b = g["sd_client_predictor"] * rng.standard_normal(T * C)
        d = g["sigma_predictor"] * rng.standard_normal(len(th))
        x = g["mu_predictor"] + a[th] + b[cl] + d
        u = g["sd_therapist"] * rng.standard_normal(T)
        vc = g["sd_client"] * rng.standard_normal(T * C)
        # the outcome of session s + 1 follows the predictor's parts of session s
        d_prev = np.r_[np.nan, d[:-1]]
        y = (
            g["Intercept"]
            + g["beta_therapist"] * a[th]
            + g["beta_client"] * b[cl]
            + g["beta_session"] * d_prev
            + u[th]
            + vc[cl]
            + g["sigma"] * rng.standard_normal(len(th))
        )
        first = se == 1  # never an outcome (no previous session): any value
        y[first] = rng.standard_normal(int(first.sum()))
        frame = pd.DataFrame({"therapist": th, "client": cl, "session": se, "x": x, "y": y})
        va, vb, vs = (
            g[k] ** 2 for k in ("sd_therapist_predictor", "sd_client_predictor", "sigma_predictor")
        )
        names = [
            "Intercept", "beta_therapist", "beta_client", "beta_session", "sd_therapist",
            "sd_client", "sigma", "mu_predictor", "sd_therapist_predictor",
            "sd_client_predictor", "sigma_predictor",
        ]  # fmt: skip
        truth = {k: g[k] for k in names}
        truth["beta_therapist_minus_client"] = g["beta_therapist"] - g["beta_client"]
        truth["share_therapist_predictor"] = va / (va + vb + vs)
        return frame, truth


@dataclass(frozen=True)
class FormSBC(SBCProblem):
    family: str = "form"
    therapists: int = 6
    clients: int = 4
    sessions: int = 4

    def spec(self):
        return FunctionalForm(outcome="y", predictor="x", form="quadratic", standardize=False)

    def simulate(self, rng):
        p = self.priors()
        T, C, S = self.therapists, self.clients, self.sessions
        keys = ("Intercept", "beta_linear", "beta_quadratic", "sd_therapist", "sd_client", "sigma")
        g = {k: draw_prior(p[k], rng) for k in keys}
        th, cl, se = _ids(T, C, S)
        x = rng.standard_normal(len(th))
        y = g["Intercept"] + g["beta_linear"] * x + g["beta_quadratic"] * x**2
        y = y + g["sd_therapist"] * rng.standard_normal(T)[th]
        y = y + g["sd_client"] * rng.standard_normal(T * C)[cl]
        y = y + g["sigma"] * rng.standard_normal(len(th))
        frame = pd.DataFrame({"therapist": th, "client": cl, "session": se, "x": x, "y": y})
        truth = dict(g)
        truth["vertex"] = -g["beta_linear"] / (2 * g["beta_quadratic"])
        return frame, truth


@dataclass(frozen=True)
class RatersSBC(SBCProblem):
    family: str = "raters"
    therapists: int = 6
    clients: int = 3
    sessions: int = 3

    def spec(self):
        return RaterPartition(measure="y", standardize=False)

    def simulate(self, rng):
        spec = self.spec()
        p = spec.resolved_priors()
        R = len(spec.rater_labels)
        T, C, S = self.therapists, self.clients, self.sessions
        mu = draw_prior(p["Intercept"], rng, R)
        sigma = draw_prior(p["sigma"], rng, R)
        th, cl, se = _ids(T, C, S)
        eta = mu[None, :].repeat(len(th), 0)
        truth = {**_vec("Intercept", mu), **_vec("sigma", sigma)}
        total = sigma**2
        sds = {}
        for lv, n_g, codes in (("therapist", T, th), ("client", T * C, cl)):
            sd = draw_prior(p[f"sd_{lv}"], rng, R)
            corr = lkj_corr(R, spec.lkj_eta, rng)
            chol = np.linalg.cholesky(corr) * sd[:, None]
            eff = rng.standard_normal((n_g, R)) @ chol.T
            eta = eta + eff[codes]
            truth.update(_vec(f"sd_{lv}", sd))
            iu = np.triu_indices(R, 1)
            for i, j in zip(*iu, strict=True):
                truth[f"corr_{lv}[{i * R + j}]"] = corr[i, j]
            total = total + sd**2
            sds[lv] = sd
        for lv, sd in sds.items():
            truth.update(_vec(f"share_{lv}", sd**2 / total))
        y = eta + sigma[None, :] * rng.standard_normal(eta.shape)
        labels = np.array(spec.rater_labels)
        frame = pd.DataFrame(
            {
                "therapist": np.repeat(th, R),
                "client": np.repeat(cl, R),
                "session": np.repeat(se, R),
                "rater": np.tile(labels, len(th)),
                "y": y.ravel(),
            }
        )
        return frame, truth


@dataclass(frozen=True)
class ModerationSBC(SBCProblem):
    family: str = "moderation"
    therapists: int = 6
    clients: int = 4
    sessions: int = 4
    predictors: tuple[str, ...] = ("x1", "x2", "x3")

    def spec(self):
        return ModeratedEffects(
            outcome="y",
            predictors=self.predictors,
            intervention_levels=("ERP", "MI"),
            standardize=False,
        )

    def simulate(self, rng):
        spec = self.spec()
        p = spec.resolved_priors()
        T, C, S = self.therapists, self.clients, self.sessions
        K, J = len(self.predictors), 2
        th, cl, se = _ids(T, C, S)
        arm = np.tile(np.array(["ERP", "MI"]).repeat(C // 2), T)  # balanced per therapist
        frame = pd.DataFrame({"therapist": th, "client": cl, "session": se})
        frame["intervention"] = arm[cl]
        for name in self.predictors:
            frame[name] = rng.standard_normal(len(th))
        frame["y"] = rng.standard_normal(len(th))  # placeholder: the design ignores y
        d = spec.design(spec.prepare(frame))
        lev, W, B = d["level"], d["W"], d["B"] * d["has_between"].astype(float)
        truth = {}

        def pooled(name, sd_name):
            mean = draw_prior(p[f"{name}_mean"], rng, K)
            sd = draw_prior(p[sd_name], rng, K)
            slope = mean[:, None] + sd[:, None] * rng.standard_normal((K, J))
            truth.update(_vec(f"{name}_std", slope))
            truth.update(_vec(f"{sd_name}_std", sd))
            return slope

        alpha = draw_prior(p["Intercept"], rng, J)
        truth.update(_vec("alpha_std", alpha))
        slope = pooled("slope", "sd_slope_intervention")
        slope_b = pooled("slope_between", "sd_slope_between_intervention")
        sd_t, sd_c, sig = (draw_prior(p[k], rng) for k in ("sd_therapist", "sd_client", "sigma"))
        sd_u = draw_prior(p["sd_slope_therapist"], rng, K)
        u = rng.standard_normal((T, K)) * sd_u
        y = alpha[lev] + np.sum(slope.T[lev] * W, 1) + np.sum(slope_b.T[lev] * B, 1)
        y = y + np.sum(u[th] * W, 1)
        y = y + sd_t * rng.standard_normal(T)[th] + sd_c * rng.standard_normal(T * C)[cl]
        y = y + sig * rng.standard_normal(len(th))
        frame["y"] = y
        truth.update(_vec("sd_slope_therapist_std", sd_u))
        truth.update(sd_therapist_std=sd_t, sd_client_std=sd_c, sigma_std=sig)
        return frame, truth


@dataclass(frozen=True)
class CircuitSBC(SBCProblem):
    family: str = "circuit"
    therapists: int = 5
    clients: int = 2
    sessions: int = 2
    moments: int = 8
    phases: tuple[str, ...] = ("processing", "exposure")

    def spec(self):
        return EmotionalCircuit(
            phase_levels=self.phases,
            throttle_phases=("exposure", "processing"),
            centered=False,
            standardize=False,
        )

    def simulate(self, rng):
        p = self.priors()
        T, C, S, M = self.therapists, self.clients, self.sessions, self.moments
        g = {
            k: draw_prior(p[k], rng)
            for k in (
                "phi_cc", "phi_tt", "phi_ct", "sd_phi_tc", "sd_throttle", "mean_client",
                "mean_therapist", "sd_alpha_client", "sd_alpha_therapist", "sigma_client",
                "sigma_therapist", "innovation_corr",
            )
        }  # fmt: skip
        phm = draw_prior(p["phi_tc_mean"], rng, 2)  # (processing, exposure)
        eta = g["sd_phi_tc"] * rng.standard_normal(T)
        thr = g["sd_throttle"] * rng.standard_normal(T)
        tc = np.column_stack([phm[0] + eta, phm[1] + eta + thr])  # therapist x phase
        rho = 2 * g["innovation_corr"] - 1
        sc, st = g["sigma_client"], g["sigma_therapist"]
        L = np.linalg.cholesky(np.array([[sc**2, rho * sc * st], [rho * sc * st, st**2]]))
        n_dy = T * C
        t_of = np.repeat(np.arange(T), C)
        mu = np.column_stack(
            [
                g["mean_client"] + g["sd_alpha_client"] * rng.standard_normal(n_dy),
                g["mean_therapist"] + g["sd_alpha_therapist"] * rng.standard_normal(n_dy),
            ]
        )
        ph_idx = (np.arange(M) >= M // 2).astype(int)
        n_ser = n_dy * S
        d_of = np.repeat(np.arange(n_dy), S)
        x = np.zeros((n_ser, M, 2))
        # the likelihood conditions on each run's first moment: draw it free of the parameters
        x[:, 0] = rng.standard_normal((n_ser, 2))
        m_d = mu[d_of]
        tcs = tc[t_of[d_of]]
        for m in range(1, M):
            e = rng.standard_normal((n_ser, 2)) @ L.T
            dc = x[:, m - 1, 0] - m_d[:, 0]
            dt = x[:, m - 1, 1] - m_d[:, 1]
            x[:, m, 0] = m_d[:, 0] + g["phi_cc"] * dc + g["phi_ct"] * dt + e[:, 0]
            x[:, m, 1] = m_d[:, 1] + g["phi_tt"] * dt + tcs[:, ph_idx[m]] * dc + e[:, 1]
        frame = pd.DataFrame(
            {
                "therapist": np.repeat(t_of[d_of], M),
                "client": np.repeat(d_of, M),
                "session": np.repeat(np.tile(np.arange(1, S + 1), n_dy), M),
                "moment": np.tile(np.arange(1, M + 1), n_ser),
                "phase": np.tile(np.array(self.phases)[ph_idx], n_ser),
                "client_affect": x[..., 0].ravel(),
                "therapist_affect": x[..., 1].ravel(),
            }
        )
        truth = {k: g[k] for k in g if k != "innovation_corr"}
        truth["innovation_corr"] = rho
        truth.update(_vec("phi_tc_mean", phm))
        truth["throttle"] = phm[1] - phm[0]
        return frame, truth


PROBLEMS: dict[str, type[SBCProblem]] = {
    "variance": VarianceSBC,
    "meta": MetaSBC,
    "contributions": ContributionsSBC,
    "form": FormSBC,
    "raters": RatersSBC,
    "moderation": ModerationSBC,
    "circuit": CircuitSBC,
}


def problem(family: str) -> SBCProblem:
    if family not in PROBLEMS:
        raise ConfigError(
            f"no SBC design for family {family!r}; choose one of {', '.join(PROBLEMS)}"
        )
    return PROBLEMS[family]()


# -- the task ------------------------------------------------------------------------------------
def posterior_values(post, name: str) -> np.ndarray:
    """Draws (chain-major, flattened) of ``name`` or ``name[i]``."""
    base, _, idx = name.partition("[")
    da = post[base]
    arr = da.transpose("chain", "draw", ...).values
    arr = arr.reshape(arr.shape[0] * arr.shape[1], -1)
    return arr[:, int(idx[:-1]) if idx else 0]


def thin_indices(n: int, L: int) -> np.ndarray:
    """``L`` evenly spaced indices into ``n`` draws (chains concatenated)."""
    if n < L:
        raise ConfigError(f"need at least L={L} posterior draws for SBC ranks, got {n}")
    return np.unique(np.linspace(0, n - 1, L).round().astype(int))


@dataclass(frozen=True)
class SBCTask:
    """One SBC replicate of ``family``: draw, simulate, fit, rank (picklable)."""

    family: str
    plan: SamplingPlan = field(default_factory=SamplingPlan)
    L: int = DEFAULT_L

    def config(self) -> dict:
        return {"kind": "sbc", "family": self.family, "plan": self.plan.to_dict(), "L": self.L}

    def __call__(self, index: int, ss: np.random.SeedSequence) -> list[dict]:
        prob = problem(self.family)
        s_seed = sampler_seed(ss)
        rng = np.random.default_rng(ss)
        frame, truth = prob.simulate(rng)
        spec = prob.spec()
        prepared = spec.prepare(frame, prob.roles())
        post, info = fit_replicate(spec, prepared, self.plan, s_seed)
        rows = []
        for name, value in truth.items():
            draws = posterior_values(post, name)
            thin = draws[thin_indices(len(draws), self.L)]
            q = np.quantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95])
            rows.append(
                {
                    "family": self.family,
                    "parameter": name,
                    "truth": float(value),
                    "rank": int(np.sum(thin < value)),
                    "L": len(thin),
                    "mean": float(draws.mean()),
                    "sd": float(draws.std()),
                    "q05": float(q[0]),
                    "q25": float(q[1]),
                    "q50": float(q[2]),
                    "q75": float(q[3]),
                    "q95": float(q[4]),
                    "divergences": info["divergences"],
                }
            )
        return rows


# -- analysis ------------------------------------------------------------------------------------
def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        adj[i] = running
    return adj


def uniformity(table: pd.DataFrame, bins: int = 20) -> pd.DataFrame:
    """Per family and parameter: chi-square test of uniform ranks, Holm-corrected per family.

    Ranks ``0..L`` are put in ``bins`` equal bins (``L + 1`` must be divisible by ``bins``;
    the default L = 99 gives 100 rank values, 5 per bin). Columns: ``family``, ``parameter``,
    ``sims``, ``chi2``, ``p``, ``p_holm``.
    """
    ok = table[table["status"] == "ok"]
    out = []
    for fam, ft in ok.groupby("family", sort=True):
        rows = []
        for par, pt_ in ft.groupby("parameter", sort=False):
            L = int(pt_["L"].iloc[0])
            if (L + 1) % bins:
                raise ConfigError(f"L + 1 = {L + 1} ranks do not split into {bins} equal bins")
            counts = np.bincount(pt_["rank"].to_numpy() * bins // (L + 1), minlength=bins)
            chi2, pval = stats.chisquare(counts)
            rows.append(
                {"family": fam, "parameter": par, "sims": len(pt_), "chi2": chi2, "p": pval}
            )
        fr = pd.DataFrame(rows)
        fr["p_holm"] = holm(fr["p"].to_numpy())
        out.append(fr)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def family_summary(table: pd.DataFrame, alpha: float = 0.01, bins: int = 20) -> pd.DataFrame:
    """One row per family: sims, failed replicates, parameters, min Holm p, pass/fail."""
    uni = uniformity(table, bins=bins)
    rows = []
    for fam, fu in uni.groupby("family", sort=True):
        ft = table[table["family"] == fam] if "family" in table else table
        n_ok = ft.loc[ft["status"] == "ok", "replicate"].nunique()
        n_failed = table.loc[
            (table["status"] == "failed") & (table["replicate"].isin(ft["replicate"])), "replicate"
        ].nunique()
        worst = fu.loc[fu["p_holm"].idxmin()]
        div = ft.groupby("replicate")["divergences"].first()
        rows.append(
            {
                "family": fam,
                "sims": int(n_ok),
                "failed": int(n_failed),
                "parameters": len(fu),
                "min_p_holm": float(worst["p_holm"]),
                "worst_parameter": worst["parameter"],
                "share_with_divergences": float((div > 0).mean()),
                "pass": bool(worst["p_holm"] > alpha),
            }
        )
    return pd.DataFrame(rows)


def pit_tree(table: pd.DataFrame, family: str, seed: int = 0):
    """DataTree with group ``prior_sbc`` of PIT values ``(rank + U) / (L + 1)`` (jittered so
    ties do not matter), one variable per parameter, for ``arviz_plots.plot_ecdf_pit``."""
    import xarray as xr

    ft = table[(table["status"] == "ok") & (table["family"] == family)]
    rng = np.random.default_rng(seed)
    data = {}
    for par, pt_ in ft.groupby("parameter", sort=False):
        u = (pt_["rank"].to_numpy() + rng.uniform(size=len(pt_))) / (pt_["L"].to_numpy() + 1)
        key = par.replace("[", "_").replace("]", "")
        data[key] = xr.DataArray(u[None, :], dims=("chain", "draw"))
    return xr.DataTree.from_dict({"prior_sbc": xr.Dataset(data)})


def plot_sbc(table: pd.DataFrame, family: str, path: str | Path) -> Path:
    """ECDF-difference plots (PIT ECDF minus the uniform CDF) of every parameter of
    ``family`` with ArviZ's simultaneous uniformity test (``method="pot_c"``, suspicious
    points highlighted); written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import arviz_plots as azp
    import matplotlib.pyplot as plt

    dt = pit_tree(table, family)
    pc = azp.plot_ecdf_pit(dt, group="prior_sbc", backend="matplotlib")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pc.savefig(path, dpi=80, bbox_inches="tight")
    plt.close("all")
    return path


def run_sbc(
    family: str,
    sims: int,
    *,
    seed: int = 0,
    out_dir: str | Path,
    plan: SamplingPlan | None = None,
    L: int = DEFAULT_L,
    scheduler: str | None = None,
    workers: int = 2,
    client=None,
    progress: bool = True,
    stop_after: int | None = None,
) -> pd.DataFrame:
    """Run (or resume) an SBC study of ``family``; returns the tidy rank table."""
    from empathy_models.studies.engine import run_study

    problem(family)
    task = SBCTask(family, plan or SamplingPlan(), L)
    return run_study(
        task, sims, seed=seed, out_dir=out_dir, scheduler=scheduler, workers=workers,
        client=client, progress=progress, stop_after=stop_after,
    )  # fmt: skip


__all__ = [
    "PROBLEMS",
    "SBCProblem",
    "SBCTask",
    "family_summary",
    "holm",
    "lkj_corr",
    "pit_tree",
    "plot_sbc",
    "problem",
    "run_sbc",
    "uniformity",
]
