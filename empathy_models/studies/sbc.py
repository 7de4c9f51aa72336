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
from empathy_models.data.simulate.agreement import agreement_data, crossed_design
from empathy_models.data.simulate.circuit import circuit_data
from empathy_models.data.simulate.contributions import contributions_data
from empathy_models.data.simulate.form import form_data
from empathy_models.data.simulate.meta import meta_data
from empathy_models.data.simulate.moderation import draw_moderation_outcome
from empathy_models.data.simulate.raters import raters_data
from empathy_models.data.simulate.variance import variance_data, variance_truth
from empathy_models.errors import ConfigError
from empathy_models.models.agreement import RaterAgreement
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
        g = {k: draw_prior(p[k], rng) for k in ("Intercept", "sd_therapist", "sd_client", "sigma")}
        params = dict(sd_therapist=g["sd_therapist"], sd_client=g["sd_client"], sigma=g["sigma"])
        frame = variance_data(
            rng, self.therapists, self.clients, self.sessions, intercept=g["Intercept"], **params
        )
        return frame, variance_truth(g["Intercept"], **params)


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
        mu_std, b_std, tau, tau_s = (
            draw_prior(p[k], rng) for k in ("mu", "beta", "tau", "tau_study")
        )
        # n from 5 to 22: sampling variances 1 / (n - 3) from 0.05 to 0.5; the moderator acts
        # per unit of x (standardize=False: the model does not standardize it either)
        frame = meta_data(
            rng, self.studies, mu=mu_std, tau=tau, tau_study=tau_s,
            effects_per_study=self.effects_per_study, n_range=(5, 23), moderator=None,
            numeric_moderator=("x", b_std), numeric_per_sd=False, form="effect",
        )  # fmt: skip
        frame = frame.rename(columns={"yi": "y", "vi": "v"})[["study", "x", "y", "v"]]
        v = frame["v"].to_numpy()
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
        g = {k: draw_prior(p[k], rng) for k in p if k != "beta"}
        names = [
            "beta_therapist", "beta_client", "beta_session", "sd_therapist", "sd_client",
            "sigma", "mu_predictor", "sd_therapist_predictor", "sd_client_predictor",
            "sigma_predictor",
        ]  # fmt: skip
        # with lag 1 the first session's outcome is never modelled; the post outcome is unused
        frame = contributions_data(
            rng, self.therapists, self.clients, self.sessions, intercept=g["Intercept"],
            **{k: g[k] for k in names}, post_intercept=0.0, post_sd_therapist=1.0,
            post_sigma=1.0, lag=1, predictor="x", outcome="y",
        )  # fmt: skip
        va, vb, vs = (
            g[k] ** 2 for k in ("sd_therapist_predictor", "sd_client_predictor", "sigma_predictor")
        )
        truth = {"Intercept": g["Intercept"], **{k: g[k] for k in names}}
        truth["beta_therapist_minus_client"] = g["beta_therapist"] - g["beta_client"]
        truth["share_therapist_predictor"] = va / (va + vb + vs)
        return frame.drop(columns="post_outcome"), truth


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
        keys = ("Intercept", "beta_linear", "beta_quadratic", "sd_therapist", "sd_client", "sigma")
        g = {k: draw_prior(p[k], rng) for k in keys}
        b1, b2 = g["beta_linear"], g["beta_quadratic"]
        frame = form_data(
            rng, self.therapists, self.clients, self.sessions, lambda x: b1 * x + b2 * x**2,
            predictor_mean=0.0, predictor_sds=(0.0, 0.0, 1.0), intercept=g["Intercept"],
            sd_therapist=g["sd_therapist"], sd_client=g["sd_client"], sigma=g["sigma"],
            predictor="x", outcome="y",
        )  # fmt: skip
        truth = dict(g)
        truth["vertex"] = -b1 / (2 * b2)
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
        mu = draw_prior(p["Intercept"], rng, R)
        sigma = draw_prior(p["sigma"], rng, R)
        truth = {**_vec("Intercept", mu), **_vec("sigma", sigma)}
        total = sigma**2
        sds, cov = {}, {}
        for lv in ("therapist", "client"):
            sd = draw_prior(p[f"sd_{lv}"], rng, R)
            corr = lkj_corr(R, spec.lkj_eta, rng)
            cov[lv] = np.outer(sd, sd) * corr
            truth.update(_vec(f"sd_{lv}", sd))
            for i, j in zip(*np.triu_indices(R, 1), strict=True):
                truth[f"corr_{lv}[{i * R + j}]"] = corr[i, j]
            total = total + sd**2
            sds[lv] = sd
        for lv, sd in sds.items():
            truth.update(_vec(f"share_{lv}", sd**2 / total))
        frame = raters_data(
            rng, self.therapists, self.clients, self.sessions, raters=spec.rater_labels,
            means=mu, cov_therapist=cov["therapist"], cov_client=cov["client"], sigma=sigma,
            measure="y",
        )  # fmt: skip
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
        # the model's own within/between parts (observed client means), conditioned on
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
        frame["y"] = draw_moderation_outcome(
            rng, lev, th, cl, W, B, intercept=alpha, slope=slope, slope_between=slope_b,
            sd_slope_therapist=sd_u, sd_therapist=sd_t, sd_client=sd_c, sigma=sig,
        )  # fmt: skip
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
        rho = 2 * g["innovation_corr"] - 1
        # the likelihood conditions on each run's first moment: draw it free of the parameters
        frame, _ = circuit_data(
            rng, T, C, S, M, phi_cc=g["phi_cc"], phi_tt=g["phi_tt"], phi_ct=g["phi_ct"],
            phi_tc_mean=dict(zip(self.phases, phm, strict=True)), sd_phi_tc=g["sd_phi_tc"],
            sd_throttle=g["sd_throttle"], gamma=0.0, sigma_client=g["sigma_client"],
            sigma_therapist=g["sigma_therapist"], innovation_corr=rho,
            mean=(g["mean_client"], g["mean_therapist"]),
            sd_mean=(g["sd_alpha_client"], g["sd_alpha_therapist"]), start="free",
        )  # fmt: skip
        truth = {k: g[k] for k in g if k != "innovation_corr"}
        truth["innovation_corr"] = rho
        truth.update(_vec("phi_tc_mean", phm))
        truth["throttle"] = phm[1] - phm[0]
        return frame.drop(columns="trait"), truth


@dataclass(frozen=True)
class AgreementSBC(SBCProblem):
    """A partially crossed rating design: each target rated by ``raters_per_target`` of the
    raters (assigned cyclically, so the design and the compiled model stay the same across
    replicates) on ``items`` items; the targets (with the target x rater interaction nested
    in them) are integrated out, the raters and items sampled."""

    family: str = "agreement"
    targets: int = 12
    raters: int = 6
    raters_per_target: int = 4
    items: int = 2

    def spec(self):
        return RaterAgreement(measure="y", standardize=False)

    def simulate(self, rng):
        p = self.priors()
        keys = ("Intercept", "sd_target", "sd_rater", "sd_item", "sd_target_rater", "sigma")
        g = {k: draw_prior(p[k], rng) for k in keys}
        ids = crossed_design(
            rng, self.targets, self.raters, raters_per_target=self.raters_per_target,
            n_items=self.items, balanced=True,
        )  # fmt: skip
        frame, eff = agreement_data(
            rng, ids, intercept=g["Intercept"], sd_target=g["sd_target"], sd_rater=g["sd_rater"],
            sigma=g["sigma"], sd_item=g["sd_item"], sd_target_rater=g["sd_target_rater"],
            measure="y",
        )  # fmt: skip
        vt, vr, vtr, s2 = (g[k] ** 2 for k in ("sd_target", "sd_rater", "sd_target_rater", "sigma"))
        k, n_items = float(self.raters_per_target), float(self.items)
        noise_rel = vtr + s2 / n_items
        noise_abs = vr + noise_rel
        truth = dict(g)
        truth["icc_agreement"] = vt / (vt + noise_abs)
        truth["icc_consistency"] = vt / (vt + noise_rel)
        truth["icc_agreement_k"] = vt / (vt + noise_abs / k)
        truth["icc_consistency_k"] = vt / (vt + noise_rel / k)
        truth.update(_vec("rater_offset", eff["rater"][:3]))
        return frame, truth


PROBLEMS: dict[str, type[SBCProblem]] = {
    "variance": VarianceSBC,
    "meta": MetaSBC,
    "contributions": ContributionsSBC,
    "form": FormSBC,
    "raters": RatersSBC,
    "moderation": ModerationSBC,
    "circuit": CircuitSBC,
    "agreement": AgreementSBC,
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
    "AgreementSBC",
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
