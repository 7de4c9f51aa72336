"""The data card (Markdown) of a simulated study: files, columns, parameters and truth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from empathy_models.data.simulate.design import SUBCOMPONENTS, StudyDesign

if TYPE_CHECKING:
    from empathy_models.data.simulate.study import SimulatedStudy

_COLUMN_DOCS: dict[str, dict[str, str]] = {
    "therapists": {
        "therapist": "therapist id (`T001`, ...)",
        "trait_affect_sharing": "trait affect sharing (standard normal scale); the client-rated therapist effect on `affect_sharing` is `sd_therapist_affect_sharing` times this",
        "trait_mentalizing": "trait mentalizing (standard normal), likewise for `mentalizing`",
        "trait_empathic_concern": "trait empathic concern (standard normal), likewise for `empathic_concern`",
        "regulation": "empathy-regulation skill (standard normal); correlates `corr_regulation_phi_tc` with the therapist's coupling effect `eta`",
    },
    "clients": {
        "therapist": "therapist id",
        "client": "client id, globally unique (`T001_C01`): each client has one therapist",
        "intervention": "`ERP` (exposure and response prevention) or `MI` (motivational interviewing), balanced within therapist",
        "severity": "baseline symptom severity (symptom scale)",
        "post_outcome": "post-treatment symptom score (higher = worse)",
    },
    "sessions": {
        "therapist": "therapist id",
        "client": "client id",
        "session": "session number 1..S",
        "intervention": "the client's intervention",
        "affect_sharing": "client-rated affect sharing (continuous 1-7)",
        "mentalizing": "client-rated mentalizing (1-7)",
        "empathic_concern": "client-rated empathic concern (1-7)",
        "empathy": "mean of the three client-rated subcomponents (computed before rounding)",
        "alliance": "client-rated alliance (1-7)",
        "outcome": "session symptom score (higher = worse)",
    },
    "ratings": {
        "therapist": "therapist id",
        "client": "client id",
        "session": "session number",
        "rater": "`client`, `therapist` or `observer`; the `client` rows equal the `sessions` table",
        "affect_sharing": "rating (1-7)",
        "mentalizing": "rating (1-7)",
        "empathic_concern": "rating (1-7)",
        "alliance": "rating (1-7)",
    },
    "moments": {
        "therapist": "therapist id",
        "client": "client id",
        "session": "session number",
        "moment": "EMA prompt 1..M inside the session",
        "phase": "`processing` (first and last M//3 moments) or `exposure` (the middle ones), in every session",
        "client_affect": "client affect (centered scale, mean 0 across dyads)",
        "therapist_affect": "therapist affect (centered scale)",
    },
}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def regeneration_code(study: SimulatedStudy, folder: str = "<folder>") -> str:
    """Python code that regenerates ``study`` into ``folder`` (fields that differ from the
    :class:`StudyDesign` defaults spelled out)."""
    default = StudyDesign().to_dict()
    changed = [f"{k}={v!r}" for k, v in study.design.to_dict().items() if v != default[k]]
    return (
        "from empathy_models.data.simulate import StudyDesign, simulate_study\n"
        f"design = StudyDesign({', '.join(changed)})\n"
        f"simulate_study(design, seed={study.seed}).write({folder!r}, data_card=True)"
    )


def data_card(study: SimulatedStudy, command: str | None = None) -> str:
    """Markdown data card of a simulated study: files, columns, parameters and truth.

    Parameters
    ----------
    study
        The study.
    command
        The command that regenerates it (default: the Python code of
        :func:`regeneration_code`).

    Returns
    -------
    str
        The card's Markdown text.
    """
    sections = (
        _header(study, command),
        _files(study),
        _model(),
        _parameters(study.design),
        _truth_variance(study.truth),
        _truth_moderation(study.truth),
        _truth_form(study.truth),
        _truth_circuit_outcomes(study.truth),
    )
    return "\n".join(line for section in sections for line in section)


def _header(study: SimulatedStudy, command: str | None) -> list[str]:
    d, t = study.design, study.truth
    code = (command or regeneration_code(study)).splitlines()
    return [
        "# Simulated study: data card",
        "",
        "Simulated psychotherapy process study with known truth, written by "
        "`empathy_models.data.simulate` (see that package's docstring for the full generative "
        "model). Nothing in it is real data.",
        "",
        f"* Seed: `{study.seed}`",
        f"* Design: {d.n_therapists} therapists x {d.clients_per_therapist} clients x "
        f"{d.sessions_per_client} sessions x {d.moments_per_session} EMA moments; "
        f"true form `{d.form}`.",
        f"* Terms of the session outcome that are on: alliance = {d.alliance_effects}, "
        f"moderation = {d.moderation_effects}, form = {d.form_effect}.",
        "* Regenerate (from the repository root, with the package installed):",
        "",
        "  ```",
        *(f"  {line}" for line in code),
        "  ```",
        "",
        "  The files are byte-identical on every run.",
        "* Floats are written with 4 decimals; `truth.json` holds the true values at full "
        "precision, `design.json` the seed and every generating parameter.",
        f"* Ratings clipped to [{d.rating_min:g}, {d.rating_max:g}]: "
        f"{t['clipped']['total']} values; moments deleted: {t['missing']['moments_deleted']}; "
        f"outcomes missing: {t['missing']['outcomes_missing']}.",
        "",
    ]


def _files(study: SimulatedStudy) -> list[str]:
    lines = ["## Files and columns", ""]
    for name, frame in study.tables().items():
        lines += [f"### `{name}.csv` ({len(frame)} rows)", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {_COLUMN_DOCS[name].get(c, '')} |" for c in frame.columns]
        lines.append("")
    lines += [
        "`truth.json`: the true parameters, named as the models name them; `design.json`: seed "
        "and design.",
        "",
    ]
    return lines


def _model() -> list[str]:
    return [
        "## Generative model (short)",
        "",
        "* ratings: `x = mu_k + offset_rater + therapist + client + session` effects, SDs "
        "below; effects correlated across raters and subcomponents at each level; alliance "
        "independent of the subcomponents.",
        "* session outcome: `Intercept + beta_severity (severity - severity_mean) + u_t + u_c - "
        "time_slope (session - 1) + sum_k slope[k, intervention] (x_k - mu_k) + f(empathy) + "
        "beta_T a_t + beta_C b_c + beta_S d_cs + e` (a_t, b_c, d_cs: latent therapist mean, "
        "client deviation and session state of client-rated alliance).",
        "* post outcome: `post_intercept + post_beta_severity (severity - severity_mean) + "
        "post_beta_T a_t + post_beta_C b_c + u_t + e`.",
        "* EMA: latent-mean-centered VAR(1) of (client, therapist) affect per session, "
        "`phi_tc[t, phase] = gamma_0 + gamma_phase + gamma_affect_sharing z(trait AS) + eta_t`; "
        "the first moment of each session is drawn from the stationary distribution, so lags "
        "never cross sessions.",
        "",
    ]


def _parameters(design: StudyDesign) -> list[str]:
    lines = ["## Generating parameters (`StudyDesign`)", "", "| parameter | value |", "|---|---|"]
    return [*lines, *(f"| `{k}` | {_fmt(v)} |" for k, v in design.to_dict().items())]


def _truth_variance(t: dict[str, Any]) -> list[str]:
    lines = ["", "## True values", ""]
    lines += ["### Variance partition of client-rated measures (`truth['variance']`)", ""]
    keys = (
        "sd_therapist",
        "sd_client",
        "sigma",
        "share_therapist",
        "share_client",
        "share_residual",
        "Intercept",
    )
    lines += ["| measure | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for m, v in t["variance"].items():
        lines.append(f"| {m} | " + " | ".join(f"{v[k]:.4f}" for k in keys) + " |")
    lines += [
        "",
        "### Alliance contributions (`truth['contributions']`, `truth['contributions_client']`)",
        "",
    ]
    for block in ("contributions", "contributions_client"):
        vals = {
            k: v
            for k, v in t[block].items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        lines.append(f"* `{block}`: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in vals.items()))
    return lines


def _truth_moderation(t: dict[str, Any]) -> list[str]:
    lines = ["", "### Moderation (`truth['moderation']`)", ""]
    lines += [
        "| subcomponent | ERP | MI | MI_minus_ERP | marginal ERP | marginal MI |",
        "|---|---|---|---|---|---|",
    ]
    mod = t["moderation"]
    for k in SUBCOMPONENTS:
        lines.append(
            f"| {k} | {mod['slope'][k]['ERP']:.4f} | {mod['slope'][k]['MI']:.4f} | "
            f"{mod['contrast'][k]['MI_minus_ERP']:.4f} | {mod['marginal']['slope'][k]['ERP']:.4f} | "
            f"{mod['marginal']['slope'][k]['MI']:.4f} |"
        )
    return [
        *lines,
        "",
        "Slopes multiply the total deviation of the client-rated subcomponent from its design "
        'mean (`mu_<subcomponent>`); "marginal" = what a model linear in the subcomponents '
        "recovers while the form term is on.",
        "",
    ]


_FORM_KEYS = (
    "form",
    "term",
    "center",
    "beta_linear",
    "beta_quadratic",
    "beta_linear_raw",
    "vertex",
    "vertex_in_range",
    "slope_below_vertex",
    "slope_above_vertex",
    "empathy_sd",
    "empathy_q05",
    "empathy_q95",
)
_CIRCUIT_KEYS = (
    "phi_cc",
    "phi_tt",
    "phi_ct",
    "phi_tc_mean",
    "sd_phi_tc",
    "gamma_affect_sharing",
    "throttle",
    "innovation_corr",
    "sigma_client",
    "sigma_therapist",
    "max_abs_eigenvalue",
)


def _truth_form(t: dict[str, Any]) -> list[str]:
    form = t["form"]
    lines = ["### Functional form (`truth['form']`)", ""]
    lines += [f"* `{k}`: {_fmt(form[k])}" for k in _FORM_KEYS if k in form]
    marg = form["marginal"]
    lines.append(
        f"* `marginal` (empathy-only model with the moderation term on): beta_linear = "
        f"{_fmt(marg['beta_linear'])}, beta_quadratic = {_fmt(marg['beta_quadratic'])}, "
        f"vertex = {_fmt(marg['vertex'])}"
    )
    return lines


def _truth_circuit_outcomes(t: dict[str, Any]) -> list[str]:
    circ = t["circuit"]
    lines = ["", "### Emotional circuit (`truth['circuit']`)", ""]
    lines += [f"* `{k}`: {_fmt(circ[k])}" for k in _CIRCUIT_KEYS]
    outcome = ", ".join(
        f"{k} = {_fmt(v)}" for k, v in t["outcome"].items() if k not in ("note", "terms_on")
    )
    return [
        *lines,
        "* per-therapist couplings: `truth['circuit']['phi_tc']` (therapist -> phase -> value)",
        "",
        "### Outcomes",
        "",
        "* `outcome`: " + outcome,
        "* `post_outcome`: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in t["post_outcome"].items()),
        "",
    ]


__all__ = ["data_card", "regeneration_code"]
