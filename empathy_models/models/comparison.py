"""Comparing two groups of responders rated by the same evaluators (e.g. language models vs
trainee therapists answering the same client statements).

Responders (``responder`` role) in two groups (``group``) answer the same prompts
(``prompt``), optionally in several conditions (``condition``, e.g. before / after training
material); several evaluators (``rater``) rate each answer. For the rating of responder ``j``'s
answer to prompt ``p`` in condition ``c`` by evaluator ``e``

    y = mu[group_j, c] + u_j + w_jc + v_jpc + prompt_p + rater_e + error

with responder effects ``u ~ N(0, sd_responder)``, responder-by-condition effects
``w ~ N(0, sd_responder_condition)`` (responders differ in how much the condition changes
them), answer effects ``v ~ N(0, sd_response)`` (identified when answers have several
ratings), zero-sum prompt and evaluator effects (``sd_prompt``, ``sd_rater``) and a Gaussian
error ``sigma``. The nested responder, responder-by-condition and answer effects are
integrated out analytically (the engine of :mod:`~empathy_models.models.agreement`); prompt and
evaluator effects are sampled.

Reported: the cell means ``cell_mean[group, condition]`` (for the prompts and evaluators in
the data), the group difference ``group_diff[condition]`` (first group minus second) and its
average over conditions ``group_diff_mean``, the condition contrasts per group
``condition_diff[group, contrast]`` (each condition minus the first) and their difference
between groups ``interaction[contrast]``, and the probability of superiority
``superiority[condition]``: the probability that a randomly drawn responder of the first group
has a higher true mean rating than one of the second, ``Phi(diff / sqrt(2 (sd_responder^2 +
sd_responder_condition^2)))``, with its rank-biserial form ``rank_biserial = 2 superiority -
1``, the Bayesian counterparts of what a Mann-Whitney test of responder scores reports.
``superiority_response[condition]`` is the same for two single ratings of answers to the same
prompt by the same evaluator.

What the design cannot show: single-turn answers to isolated prompts say nothing about an
ongoing therapeutic relationship (alliance, ruptures and repair, outcome over sessions); the
comparison is about rated answers, and the evaluators' ratings are the measure.
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
from empathy_models.errors import ConfigError, ConstantMeasureError, DataError
from empathy_models.models.agreement import (
    LIKELIHOODS,
    ORDINAL_TODO,
    RatingData,
    centered_choice,
    check_constant_within,
    collapse,
    declared_levels,
    facet_effects,
    make_chain,
    row_sums,
    sufficient_sums,
    with_design,
    y_statistics,
)
from empathy_models.models.base import Built, ModelSpec, check_choice, jacobian_offset, register
from empathy_models.models.priors import with_dims

DESIGN_NOTE = (
    "single-turn answers to isolated prompts say nothing about an ongoing therapeutic "
    "relationship (alliance, ruptures and repair, outcome over sessions)"
)


def normal_cdf(x):
    return 0.5 * (1.0 + pt.erf(x / np.sqrt(2.0)))


@register
@dataclass(frozen=True)
class ResponderComparison(ModelSpec):
    """Two groups of responders answering the same prompts, rated by the same evaluators.

    Parameters
    ----------
    measure
        Column of the ratings; one row per rating, with the ``responder``, ``group``,
        ``prompt`` and ``rater`` (evaluator) roles and optionally ``condition``.
    group_levels
        The two group labels in the order of the contrast: ``group_diff`` is the first minus
        the second (default: sorted labels). The data must hold exactly two groups.
    condition_levels
        Condition labels, the first being the reference of ``condition_diff`` (default:
        sorted labels). Without a condition column there is one condition, ``"all"``.
    likelihood : {"gaussian", "ordinal"}
        Likelihood of the ratings. Only ``"gaussian"`` is available in this version;
        ``"ordinal"`` is reserved for the package's shared ordinal likelihood (differences
        are then reported on the latent scale too).
    centered
        Parameterization of the prompt and evaluator effects: ``True`` centred, ``False``
        non-centred, ``None`` (default) chosen per facet from the data.
    bounds
        Declared scale bounds of the ratings, e.g. ``(1, 7)``; values outside are an error.
    missing_outcome : {"drop", "error"}
        Rows with a missing rating: ``"drop"`` (default; counted in the result) or
        ``"error"``.
    """

    family = "comparison"

    measure: str
    group_levels: tuple[str, ...] = ()
    condition_levels: tuple[str, ...] = ()
    likelihood: str = "gaussian"
    centered: bool | None = None
    bounds: tuple[float, float] | None = None
    missing_outcome: str = "drop"

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_levels", tuple(str(g) for g in self.group_levels))
        object.__setattr__(self, "condition_levels", tuple(str(c) for c in self.condition_levels))
        if self.bounds is not None:
            object.__setattr__(self, "bounds", tuple(self.bounds))
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        check_choice("missing_outcome", self.missing_outcome, ("drop", "error"))
        if self.likelihood == "ordinal":
            raise ConfigError(ORDINAL_TODO)
        if self.group_levels and len(self.group_levels) != 2:
            raise ConfigError(f"group_levels must name exactly two groups, got {self.group_levels}")
        self.resolved_priors()

    # -- priors -------------------------------------------------------------------------------
    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale (ratings divided by their SD).

        ``cell_mean`` Normal(0, 1) per group and condition; ``sd_responder``,
        ``sd_responder_condition``, ``sd_response``, ``sd_prompt``, ``sd_rater`` and
        ``sigma`` HalfNormal(1).
        """
        return {
            "cell_mean": Prior("Normal", mu=0, sigma=1),
            "sd_responder": Prior("HalfNormal", sigma=1),
            "sd_responder_condition": Prior("HalfNormal", sigma=1),
            "sd_response": Prior("HalfNormal", sigma=1),
            "sd_prompt": Prior("HalfNormal", sigma=1),
            "sd_rater": Prior("HalfNormal", sigma=1),
            "sigma": Prior("HalfNormal", sigma=1),
        }

    # -- data ---------------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> RatingData:
        """Validate the ratings and code responders, answers, prompts and evaluators.

        Raises
        ------
        NestingError
            A responder in two groups.
        UnknownLevelError
            A group or condition label not among the declared levels (or declared, absent).
        """
        roles = roles or Roles()
        prepared = prepare(
            data,
            roles,
            id_roles=["responder", "prompt", "rater", "group"],
            optional_id_roles=["condition"],
            measures=[self.measure],
            bounds={self.measure: self.bounds} if self.bounds else None,
            missing_outcome=self.missing_outcome,
            occasion_roles=[],
            grouping_roles=["responder", "prompt", "rater"],
        )
        frame = prepared.frame
        y = frame[self.measure].to_numpy(dtype=float)
        if not np.std(y) > 0:
            raise ConstantMeasureError(
                "the ratings are constant", role="measure", column=self.measure
            )
        check_constant_within(frame, prepared.roles, "group", "responder")
        g, g_lab = declared_levels(frame, prepared.roles, "group", self.group_levels)
        if len(g_lab) != 2:
            raise DataError(
                f"the comparison needs exactly two groups; the data hold {g_lab}",
                role="group",
                column=prepared.column("group"),
            )
        if prepared.has("condition"):
            c, c_lab = declared_levels(frame, prepared.roles, "condition", self.condition_levels)
        else:
            if self.condition_levels:
                raise ConfigError("condition_levels is set but the data have no condition column")
            c, c_lab = np.zeros(len(y), dtype=np.int64), ["all"]
        resp, resp_lab = prepared.codes("responder")
        prompt, prompt_lab = prepared.codes("prompt")
        rater, rater_lab = prepared.codes("rater")
        K = len(c_lab)
        rc = np.unique(resp * K + c, return_inverse=True)[1].ravel()
        answer_key = (resp * K + c) * len(prompt_lab) + prompt
        answer = np.unique(answer_key, return_inverse=True)[1].ravel()
        level_group = np.empty(len(resp_lab), dtype=np.int64)
        level_group[resp] = g
        design = {
            "y": y,
            "responder": resp,
            "responder_condition": rc.astype(np.int64),
            "response": answer.astype(np.int64),
            "prompt": prompt,
            "rater": rater,
            "group": g,
            "condition": c,
            "cell": g * K + c,
            "level_group": level_group,
            "labels": {
                "responder": resp_lab,
                "prompt": prompt_lab,
                "rater": rater_lab,
                "group": np.asarray(g_lab),
                "condition": np.asarray(c_lab),
            },
        }
        per_answer = np.bincount(design["response"])
        info = {
            "n_ratings": int(len(y)),
            "responders_by_group": {
                lab: int((level_group == i).sum()) for i, lab in enumerate(g_lab)
            },
            "ratings_per_answer_max": int(per_answer.max()),
            "design_note": DESIGN_NOTE,
        }
        return with_design(prepared, design, info)

    def _ensure(self, data: PreparedData) -> RatingData:
        if isinstance(data, RatingData) and data.design:
            return data
        return self.prepare(data.frame, data.roles)

    # -- structure -----------------------------------------------------------------------------
    def chain_levels(self, data: RatingData) -> list[str]:
        """The integrated nested levels, top first."""
        d = data.design
        levels = ["responder"]
        if len(d["labels"]["condition"]) > 1:
            levels.append("responder_condition")
        if np.bincount(d["response"]).max() > 1:
            levels.append("response")
        return levels

    def reported(self, data: PreparedData) -> list[str]:
        data = self._ensure(data)
        multi = len(data.design["labels"]["condition"]) > 1
        names = ["cell_mean", "group_diff"]
        if multi:
            names += ["group_diff_mean", "condition_diff", "interaction"]
        names += ["superiority", "rank_biserial", "superiority_response"]
        names += [f"sd_{lv}" for lv in self.chain_levels(data)]
        names += ["sd_prompt", "sd_rater", "sigma"]
        return names

    def sampled(self, data: PreparedData) -> list[str]:
        return [n for n in self.reported(data) if not n.startswith(("superiority", "rank"))]

    # -- model --------------------------------------------------------------------------------
    def build(self, data: PreparedData) -> Built:
        data = self._ensure(data)
        d = data.design
        lab = d["labels"]
        y_mean, y_sd = self.location_scale(d["y"])
        ys = (d["y"] - y_mean) / y_sd
        G, K = 2, len(lab["condition"])
        sampled = ["prompt", "rater"]
        if self.centered is None:
            cent = dict(zip(sampled, centered_choice(ys, [d[f] for f in sampled]), strict=True))
        else:
            cent = dict.fromkeys(sampled, bool(self.centered))
        levels = self.chain_levels(data)
        priors = self.resolved_priors()
        coords = {
            "group": list(lab["group"]),
            "condition": list(lab["condition"]),
            "contrast": list(lab["condition"][1:]),
            "responder": lab["responder"],
            "prompt": lab["prompt"],
            "rater": lab["rater"],
        }
        with pm.Model(coords=coords) as model:
            y = pt.as_tensor(ys)  # per-unit log-likelihood only; the density reads statistics
            loc = pm.Data("scale_y_mean", np.asarray(y_mean, dtype=float))
            scale = pm.Data("scale_y_sd", np.asarray(y_sd, dtype=float))
            mu = with_dims(priors["cell_mean"], ("group", "condition")).create_variable(
                "cell_mean_std"
            )
            sds = {
                lv: priors[f"sd_{lv}"].create_variable(f"sd_{lv}_std") for lv in (*levels, *sampled)
            }
            sigma = priors["sigma"].create_variable("sigma_std")
            terms = {"cell": (pt.reshape(mu, (G * K,)), d["cell"])}
            for f in sampled:
                terms[f] = (facet_effects(f, sds[f], centered=cent[f])[0], d[f])
            chain = make_chain(levels, [d[lv] for lv in levels])
            chain_sds = [sds[lv] for lv in levels]
            ystats = y_statistics(ys, {f: c for f, (_, c) in terms.items()}, chain)
            stats = {k: pm.Data(f"stat_{k}", v) for k, v in ystats.items()}
            stats.update(bottom=chain.codes[-1], n_bottom=chain.sizes[-1])
            S, Q = sufficient_sums(stats, terms, len(ys))
            total, _, _ = collapse(S, Q, chain, chain_sds, sigma, per_unit=False)
            pm.Potential("marginal_loglik", total)
            S, Q = row_sums(y, terms.values(), chain, per_unit=True)
            ll, _, _ = collapse(S, Q, chain, chain_sds, sigma, per_unit=True)
            self._derived(model, mu, sds, sigma, loc, scale, K)
        return Built(
            model=model,
            design={**d, "levels": levels, "centered": cent},
            scales={"y_mean": y_mean, "y_sd": y_sd},
            loglik=ll,
            loglik_name=self.measure,
            loglik_dim="responder",
            loglik_coords=lab["responder"],
            loglik_offset=jacobian_offset(chain.rows_top, y_sd),
            info={
                "likelihood": self.likelihood,
                "integrated": levels,
                "sampled": sampled,
                "centered": cent,
                "contrast": f"{lab['group'][0]} - {lab['group'][1]}",
                "design_note": DESIGN_NOTE,
            },
        )

    def _derived(self, model, mu, sds, sigma, loc, scale, K: int) -> None:
        cell = pm.Deterministic("cell_mean", loc + scale * mu, dims=("group", "condition"))
        for name, sd in sds.items():
            pm.Deterministic(f"sd_{name}", scale * sd)
        pm.Deterministic("sigma", scale * sigma)
        diff = pm.Deterministic("group_diff", cell[0] - cell[1], dims="condition")
        v_resp = sds["responder"] ** 2
        if "responder_condition" in sds:
            v_resp = v_resp + sds["responder_condition"] ** 2
        v_one = v_resp + sigma**2
        if "response" in sds:
            v_one = v_one + sds["response"] ** 2
        ps = pm.Deterministic(
            "superiority", normal_cdf(diff / scale / pt.sqrt(2 * v_resp)), dims="condition"
        )
        pm.Deterministic("rank_biserial", 2 * ps - 1, dims="condition")
        pm.Deterministic(
            "superiority_response",
            normal_cdf(diff / scale / pt.sqrt(2 * v_one)),
            dims="condition",
        )
        if K > 1:
            pm.Deterministic("group_diff_mean", pt.mean(diff))
            cdiff = pm.Deterministic(
                "condition_diff", cell[:, 1:] - cell[:, :1], dims=("group", "contrast")
            )
            pm.Deterministic("interaction", cdiff[0] - cdiff[1], dims="contrast")

    # -- after sampling -------------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        post = idata["posterior"]
        probs = built.probabilities
        groups = [str(g) for g in post["group"].values]
        a, b = groups
        for c in post["condition"].values:
            v = post["group_diff"].sel(condition=c)
            probs[f"P({a} > {b} | {c})"] = float((v > 0).mean())
        if "group_diff_mean" in post:
            probs[f"P({a} > {b})"] = float((post["group_diff_mean"] > 0).mean())
            for c in post["contrast"].values:
                for g in groups:
                    v = post["condition_diff"].sel(group=g, contrast=c)
                    probs[f"P(condition_diff[{g}, {c}] > 0)"] = float((v > 0).mean())
                v = post["interaction"].sel(contrast=c)
                probs[f"P(interaction[{c}] > 0)"] = float((v > 0).mean())
        return idata

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        d = built.design
        return xr.Dataset({self.measure: ("obs", d["y"])}, coords={"obs": np.arange(len(d["y"]))})


__all__ = ["ResponderComparison"]
