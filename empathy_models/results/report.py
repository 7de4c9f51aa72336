"""The report of one fitted result: one self-contained HTML file, or Markdown.

:func:`write_report` writes, in this order: a summary; the data (rows used, dropped and why,
groups per level, the column mapping); the model and its priors in words; convergence
diagnostics (R-hat / ESS table and rank plots); the posterior predictive check (when the
result stores replicated data); the estimates, each scale in its own table and forest plot,
the posterior densities and the probabilities; the family's own tables and figures; prior
sensitivity by power-scaling; provenance and the command that reproduces the fit.

HTML embeds every figure as a base64 PNG, so the file stands alone (nothing is written
beside it). Markdown writes its figures into ``<stem>_figures/`` beside the file.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import importlib
import io
import json
import re
import shlex
import warnings
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from empathy_models import _io
from empathy_models._version import __version__
from empathy_models.results.figures import (
    _tree,
    plot_pit,
    plot_posterior,
    plot_posterior_forest,
    plot_ppc,
    plot_prior_sensitivity,
    plot_rank_diagnostics,
    plottable,
    scale_groups,
    scale_label,
)
from empathy_models.results.result import CI_PROB, Result
from empathy_models.results.sensitivity import (
    PSENSE_THRESHOLD,
    prior_sensitivity,
    with_log_prior,
)
from empathy_models.results.style import percent, quantiles

#: Families with a block of their own in the report (module ``results.<name>``).
FAMILY_MODULES = {
    "variance": "variance",
    "raters": "raters",
    "contributions": "contributions",
    "form": "form",
    "moderation": "moderation",
    "circuit": "circuit",
    "meta": "meta",
    "agreement": "agreement",
    "comparison": "agreement",
}
FIGURE_DPI = 96


# -- blocks of the report ----------------------------------------------------------------------
@dataclass
class Text:
    """A paragraph; spans between backticks are set as code."""

    text: str
    note: bool = False


@dataclass
class Table:
    frame: pd.DataFrame
    caption: str = ""
    index: bool = True
    header: bool = True


@dataclass
class Figure:
    obj: Any
    alt: str
    caption: str = ""


@dataclass
class Code:
    text: str
    lang: str = ""


@dataclass
class Row:
    """Blocks shown side by side (HTML; one after the other in Markdown)."""

    blocks: list


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list = field(default_factory=list)
    level: int = 2


# -- helpers ------------------------------------------------------------------------------------
def _fmt(v, col: str = "") -> str:
    """One cell as text: integers with separators, ESS without decimals, 3 decimals else."""
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        v = float(v)
        if not np.isfinite(v):
            return "–" if np.isnan(v) else str(v)
        if col.startswith("ess") or col in ("rows", "count", "n"):
            return f"{v:,.0f}"
        if col.startswith("mcse"):
            return f"{v:.2g}"
        if col in ("prior", "likelihood"):  # power-scaling sensitivities, read against 0.05
            return f"{v:.3f}"
        if v != 0 and abs(v) < 1e-3:
            return f"{v:.2e}"
        if abs(v) >= 1e4:
            return f"{v:,.0f}"
        return f"{v:.3f}"
    if isinstance(v, list | tuple):
        return ", ".join(_fmt(x) for x in v) if len(v) else "none"
    if isinstance(v, dict):
        return json.dumps(v, default=str)
    return str(v)


def _key_values(pairs, caption: str = "") -> Table:
    frame = pd.DataFrame({"value": [v for _, v in pairs]}, index=[k for k, _ in pairs])
    frame.index.name = ""
    return Table(frame, caption=caption, header=False)


def _summary(result, names, ci_prob: float) -> pd.DataFrame:
    """``arviz_stats.summary`` of ``names`` (correlation matrices as their pairs)."""
    import arviz_stats as azs

    tree = _tree(result, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = azs.summary(tree, ci_prob=ci_prob, ci_kind="eti", round_to="none")
    table = table.astype(float)
    lo = [c for c in table.columns if c.endswith("_lb")]
    hi = [c for c in table.columns if c.endswith("_ub")]
    table = table.rename(columns={lo[0]: "lower", hi[0]: "upper"})
    table.index.name = "quantity"
    return table


def _compact(frame: pd.DataFrame, ci_prob: float) -> pd.DataFrame:
    """Merge ``c``, ``c_lower``, ``c_upper`` columns into one ``c`` column of
    ``"mean [lower, upper]"`` text, so wide interval tables fit the page."""
    out = frame.copy()
    for c in list(frame.columns):
        lo, hi = f"{c}_lower", f"{c}_upper"
        if lo in frame.columns and hi in frame.columns:
            out[c] = [
                f"{_fmt(m)} [{_fmt(a)}, {_fmt(b)}]"
                for m, a, b in zip(frame[c], frame[lo], frame[hi], strict=True)
            ]
            out = out.drop(columns=[lo, hi]).rename(columns={c: f"{c} ({percent(ci_prob)})"})
    return out


def _base(label: str) -> str:
    return label.split("[", 1)[0]


def _groups(result) -> str:
    ds = result.data_summary or {}
    parts = [
        f"{ds[k]:,} {k.removeprefix('n_')}{'s' if ds[k] != 1 else ''}"
        for k in ds
        if k.startswith("n_") and isinstance(ds[k], int)
    ]
    return ", ".join(parts)


def _sampler_words(result) -> str:
    s = result.sampler or {}
    name = s.get("sampler", "?")
    if name == "nutpie" and s.get("backend"):
        name += f" ({s['backend']} backend)"
    return (
        f"{name}, {s.get('chains', '?')} chains × {_fmt(s.get('draws', 0))} draws after "
        f"{_fmt(s.get('tune', 0))} tuning steps, target acceptance {s.get('target_accept', '?')}, "
        f"seed {s.get('seed', '?')}"
    )


def _diagnostics(result):
    from empathy_models.inference.diagnostics import Diagnostics

    d = result.diagnostics or {}
    try:
        diag = Diagnostics(**d)
    except TypeError:
        return None, []
    chains = (result.sampler or {}).get("chains") or result.posterior.sizes.get("chain", 1)
    return diag, diag.problems(int(chains))


_PROB_WORDS = {
    "p_beta_linear_negative": "the linear slope is negative",
    "p_quadratic_negative": "the quadratic term is negative (curving down)",
    "p_quadratic_positive": "the quadratic term is positive (curving up)",
    "p_curvature_optimum": "the curvature points toward the stated optimum",
    "p_interior_optimum": "the smooth curve's extreme lies inside the grid",
    "p_vertex_in_range": "the vertex lies inside the observed range (5th to 95th percentile)",
    "p_optimum": "the curvature is right and the vertex lies inside the observed range",
    "p_two_lines_opposite": "the slopes either side of the vertex have opposite signs",
    "p_two_lines_optimum": "the two-lines slopes change sign the way an optimum needs",
}
_PROB_RE = re.compile(r"^P\((?P<q>[^<>]+?) (?P<op>[<>]) (?P<t>[^()<>]+)\)$")


def probability_words(key: str) -> str:
    """A stored probability's name in words (``"P(share_therapist > 0.05)"`` ->
    ``"share_therapist is above 0.05"``)."""
    if key in _PROB_WORDS:
        return _PROB_WORDS[key]
    m = _PROB_RE.match(key)
    if m:
        side = "above" if m["op"] == ">" else "below"
        return f"{m['q']} is {side} {m['t']}"
    if key.startswith("pd(") and key.endswith(")"):
        return f"probability of direction of {key[3:-1]} (the larger of P(> 0) and P(< 0))"
    if key.startswith("P(") and key.endswith(" in ROPE)"):
        return f"{key[2:-9]} lies inside the region of practical equivalence"
    return key


def _prior_words(d) -> str:
    """A prior's stored dict form in words (e.g. ``half-normal, sigma = 1``)."""
    if not isinstance(d, dict) or "dist" not in d:
        return _fmt(d)
    names = {
        "Normal": "normal",
        "HalfNormal": "half-normal",
        "StudentT": "Student-t",
        "HalfStudentT": "half-Student-t",
        "Exponential": "exponential",
        "Gamma": "gamma",
        "InverseGamma": "inverse-gamma",
        "Beta": "beta",
        "Uniform": "uniform",
        "Cauchy": "Cauchy",
        "HalfCauchy": "half-Cauchy",
        "LogNormal": "log-normal",
        "TruncatedNormal": "truncated normal",
    }
    kw = d.get("kwargs", {})
    args = ", ".join(
        f"{k} = {_prior_words(v) if isinstance(v, dict) else _fmt(v)}" for k, v in kw.items()
    )
    word = names.get(d["dist"], d["dist"])
    return f"{word}({args})" if args else word


def _prior_used(name: str, result) -> bool:
    names = set(result.posterior.data_vars)
    if "log_prior" in result.idata.children:
        names |= set(result.idata["log_prior"].to_dataset().data_vars)
    low = name.lower()
    return any(v == name or v.lower() == low or v.startswith(f"{name}_") for v in names)


# -- reproduction -------------------------------------------------------------------------------
def _spec_fields(result):
    spec = result.spec
    out = []
    for f in fields(spec):
        if f.name == "priors":
            continue
        value = getattr(spec, f.name)
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = MISSING
        out.append((f.name, value, default))
    return spec, out


def _prior_overrides(spec) -> dict:
    from empathy_models.models.priors import priors_to_dict

    defaults = priors_to_dict(spec.default_priors())
    resolved = priors_to_dict(spec.resolved_priors())
    return {k: v for k, v in resolved.items() if defaults.get(k) != v}


def _roles_changed(result) -> dict:
    from empathy_models.data.roles import Roles

    default = Roles().to_dict()
    return {k: v for k, v in (result.roles or {}).items() if default.get(k) != v}


def _data_name(result) -> str:
    return result.data_source or "DATA.csv"


def reproduce_cli(result) -> str:
    """The ``empathy-models fit`` command line that refits ``result`` (best effort: flags are
    named like the spec's options and roles, ``--kebab-case``)."""
    spec, opts = _spec_fields(result)
    words = ["empathy-models", "fit", result.family, _data_name(result)]
    for name, value, default in opts:
        if default is not MISSING and value == default:
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + name.replace("_", "-"))
        elif value is None:
            continue
        elif isinstance(value, tuple | list):
            words += [flag, ",".join(str(v) for v in np.ravel(np.asarray(value, dtype=object)))]
        elif isinstance(value, dict):
            words += [flag, json.dumps(value)]
        else:
            words += [flag, str(value)]
    for role, col in _roles_changed(result).items():
        if isinstance(col, bool):
            if col:
                words.append(f"--{role}")
        else:
            words += [f"--{role}", "none" if col is None else str(col)]
    priors = _prior_overrides(spec)
    if priors:
        words += ["--priors", json.dumps(priors, sort_keys=True)]
    s = result.sampler or {}
    for key in ("sampler", "backend", "draws", "tune", "chains", "seed", "target_accept"):
        if s.get(key) is not None:
            words += ["--" + key.replace("_", "-"), str(s[key])]
    words += ["--out", "result.nc"]
    # keep each flag on the line of its value
    tokens, i = [], 0
    quoted = [shlex.quote(w) for w in words]
    while i < len(quoted):
        if (
            quoted[i].startswith("--")
            and i + 1 < len(quoted)
            and not quoted[i + 1].startswith("--")
        ):
            tokens.append(f"{quoted[i]} {quoted[i + 1]}")
            i += 2
        else:
            tokens.append(quoted[i])
            i += 1
    lines, line = [], ""
    for tok in tokens:
        if line and len(line) + 1 + len(tok) > 88:
            lines.append(line + " \\")
            line = "  " + tok
        else:
            line = f"{line} {tok}" if line else tok
    lines.append(line)
    return "\n".join(lines)


def reproduce_python(result) -> str:
    """A Python snippet that refits ``result``."""
    spec, opts = _spec_fields(result)
    args = []
    for name, value, default in opts:
        if default is MISSING or value != default:
            args.append(f"{name}={value!r}")
    priors = _prior_overrides(spec)
    if priors:
        args.append(f"priors={priors!r}")
    roles = _roles_changed(result)
    role_args = ", ".join(f"{k}={v!r}" for k, v in roles.items())
    s = result.sampler or {}
    fit_args = [
        f"{k}={s[k]!r}"
        for k in ("sampler", "backend", "draws", "tune", "chains", "seed", "target_accept")
        if s.get(k) is not None
    ]
    if "posterior_predictive" in result.idata.children:
        fit_args.append("posterior_predictive=True")
    inner = ",\n    ".join(args)
    fit_inner = ",\n    ".join(fit_args)
    return (
        "import empathy_models as em\n\n"
        f"spec = em.{type(spec).__name__}(\n    {inner},\n)\n"
        f"roles = em.Roles({role_args})\n"
        f"result = em.fit(\n    spec,\n    {_data_name(result)!r},\n    roles,\n    {fit_inner},\n)\n"
        'result.save("result.nc")\n'
        'em.write_report(result, "report.html")\n'
    )


# -- sections ------------------------------------------------------------------------------------
def _summary_section(result, ci_prob, diag, problems, psense) -> Section:
    ds = result.data_summary or {}
    pairs = [
        ("model", _family_sentence(result)),
        (
            "data",
            f"{_fmt(ds.get('rows_used'))} rows used of {_fmt(ds.get('rows_input'))} "
            f"({_fmt(ds.get('rows_dropped', 0))} dropped); {_groups(result)}",
        ),
        ("sampler", _sampler_words(result)),
    ]
    if diag is not None:
        verdict = (
            "no problems"
            if not problems
            else f"{len(problems)} problem{'s' if len(problems) > 1 else ''} (see diagnostics)"
        )
        pairs.append(
            (
                "convergence",
                f"{verdict}: max R-hat {diag.max_rhat:.3f}, min bulk ESS "
                f"{diag.min_ess_bulk:,.0f}, min tail ESS {diag.min_ess_tail:,.0f}, "
                f"{diag.divergences} divergent transitions",
            )
        )
    pp = "posterior_predictive" in result.idata.children
    pairs.append(("posterior predictive check", "shown below" if pp else "not stored"))
    if psense is not None:
        flagged = psense.index[psense["diagnosis"] != "✓"].tolist()
        pairs.append(
            (
                "prior sensitivity",
                "no quantity flagged"
                if not flagged
                else f"flagged: {', '.join(flagged)} (see prior sensitivity)",
            )
        )
    probs = result.probabilities
    if probs:
        shown = list(probs.items())[:4]
        pairs.append(
            (
                "probabilities",
                "; ".join(f"{k} = {v:.3f}" for k, v in shown) + ("; ..." if len(probs) > 4 else ""),
            )
        )
    return Section("Summary", "summary", [_key_values(pairs)])


def _family_sentence(result) -> str:
    from empathy_models.models.base import MODEL_FAMILIES

    klass = MODEL_FAMILIES.get(result.family)
    doc = (klass.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ") if klass else ""
    opts = result.config.get("options", {})
    target = opts.get("measure") or opts.get("outcome")
    extra = f" Outcome: {target}." if target else ""
    return f"{doc}{extra}".strip() or result.family


def _data_section(result) -> Section:
    ds = result.data_summary or {}
    blocks = []
    rows = [
        ("rows in the input", ds.get("rows_input")),
        ("rows used", ds.get("rows_used")),
        ("rows dropped", ds.get("rows_dropped", 0)),
    ]
    blocks.append(_key_values(rows, caption="Rows"))
    dropped = ds.get("dropped_by_reason") or {}
    if dropped:
        t = pd.DataFrame({"rows": list(dropped.values())}, index=list(dropped.keys()))
        t.index.name = "reason dropped"
        blocks.append(Table(t, caption="Rows dropped, by reason"))
    else:
        blocks.append(Text("No row was dropped."))
    modelled = ds.get("missing_modelled") or {}
    if modelled:
        t = pd.DataFrame({"values": list(modelled.values())}, index=list(modelled.keys()))
        t.index.name = "missing values modelled"
        blocks.append(Table(t, caption="Missing values modelled (kept, not dropped)"))
    groups = {k.removeprefix("n_"): v for k, v in ds.items() if k.startswith("n_")}
    if groups:
        t = pd.DataFrame({"groups": list(groups.values())}, index=list(groups.keys()))
        t.index.name = "level"
        blocks.append(Table(t, caption="Groups per level"))
    roles = {k: v for k, v in (result.roles or {}).items() if not isinstance(v, bool)}
    used = set(result.training_data.columns)
    mapped = {k: v for k, v in roles.items() if v is not None and v in used}
    t = pd.DataFrame({"column": list(mapped.values())}, index=list(mapped.keys()))
    t.index.name = "role"
    blocks.append(Table(t, caption="Column mapping (role → the data's column)"))
    unused = [k for k in roles if k not in mapped]
    if unused:
        blocks.append(Text(f"Roles not used by this model: {', '.join(unused)}.", note=True))
    if (result.roles or {}).get("crossed"):
        blocks.append(Text("Clients may see several therapists (crossed design)."))
    return Section("Data", "data", blocks)


def _model_section(result) -> Section:
    blocks = [Text(_family_sentence(result))]
    info = result.info
    if info:
        blocks.append(_key_values(list(info.items()), caption="How the model was fitted"))
    spec, opts = _spec_fields(result)
    t = pd.DataFrame(
        {
            "value": [_fmt(v) if v is not None else "none" for _, v, _ in opts],
            "default": ["" if d is MISSING else ("yes" if v == d else "no") for _, v, d in opts],
        },
        index=[n for n, _, _ in opts],
    )
    t.index.name = "option"
    blocks.append(Table(t, caption="Options of the model"))
    cfg_priors = result.config.get("options", {}).get("priors", {})
    overrides = _prior_overrides(spec)
    names = list(cfg_priors)
    t = pd.DataFrame(
        {
            "prior": [_prior_words(cfg_priors[n]) for n in names],
            "set by the user": [n in overrides for n in names],
            "used by this fit": [_prior_used(n, result) for n in names],
        },
        index=names,
    )
    t.index.name = "parameter"
    scale = (
        "on the standardized scale (outcome and predictors divided by their SD): a normal(0, 1) "
        "prior on a coefficient says effects of about one SD are plausible, half-normal(1) on "
        "an SD says a level rarely holds more than all the variance"
        if getattr(spec, "standardize", True)
        else "on the data's own units (standardize=False)"
    )
    blocks.append(Table(t, caption="Priors"))
    blocks.append(Text(f"Priors are declared {scale}.", note=True))
    return Section("Model and priors", "model", blocks)


def _diagnostics_section(result, names, ci_prob, diag, problems) -> Section:
    from empathy_models.inference.diagnostics import ESS_PER_CHAIN_MIN, RHAT_MAX

    chains = int(result.posterior.sizes.get("chain", 1))
    ess_ok = ESS_PER_CHAIN_MIN * chains
    blocks = []
    blocks.append(Text(f"Sampler: {_sampler_words(result)}."))
    timing = result.timing or {}
    if timing:
        blocks.append(
            Text(
                f"Wall time {timing.get('total_s', float('nan')):.1f} s "
                f"(compiling {timing.get('compile_s', float('nan')):.1f} s, sampling "
                f"{timing.get('sample_s', float('nan')):.1f} s).",
                note=True,
            )
        )
    if problems:
        blocks.append(Text("Problems: " + "; ".join(problems) + "."))
    elif diag is not None:
        blocks.append(
            Text(
                f"No problems: every R-hat ≤ {RHAT_MAX}, every bulk and tail ESS ≥ "
                f"{ESS_PER_CHAIN_MIN} per chain, {diag.divergences} divergent transitions."
            )
        )
    if names:
        t = _summary(result, names, ci_prob)
        cols = [c for c in ("r_hat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd") if c in t]
        t = t[cols].copy()
        check = []
        for _, row in t.iterrows():
            bad = []
            if np.isfinite(row.get("r_hat", np.nan)) and row["r_hat"] > RHAT_MAX:
                bad.append(f"R-hat > {RHAT_MAX}")
            if min(row.get("ess_bulk", np.inf), row.get("ess_tail", np.inf)) < ess_ok:
                bad.append(f"ESS < {ess_ok}")
            check.append(", ".join(bad) or "ok")
        t["check"] = check
        blocks.append(
            Table(
                t,
                caption=(
                    f"R-hat and effective sample sizes (flagged: R-hat > {RHAT_MAX} or ESS < "
                    f"{ess_ok}, i.e. {ESS_PER_CHAIN_MIN} per chain)"
                ),
            )
        )
    rank = plot_rank_diagnostics(result, names)
    if rank is not None:
        blocks.append(
            Figure(
                rank,
                "rank plots",
                "Rank plots: each chain's fractional ranks minus uniform (Δ-ECDF) with a "
                "simultaneous 99% envelope; chains exploring the same posterior stay inside it "
                "(arviz_plots.plot_rank).",
            )
        )
    return Section("Convergence diagnostics", "diagnostics", blocks)


def _ppc_section(result) -> Section:
    from empathy_models.models.base import ModelSpec

    ppc = plot_ppc(result)
    if ppc is None:
        spec = result.spec
        if type(spec).posterior_predictive is ModelSpec.posterior_predictive:
            text = (
                f"The {result.family} family does not simulate replicated data yet, so there is "
                "no posterior predictive check for it."
            )
        else:
            text = (
                "This result stores no replicated data. Refit with "
                "`em.fit(..., posterior_predictive=True)` (Python) or with the command "
                "line's `--posterior-predictive` to see the data against data sets "
                "simulated from the posterior."
            )
        return Section("Posterior predictive check", "ppc", [Text(text)])
    blocks = [
        Figure(
            ppc,
            "posterior predictive densities",
            "Distributions of 50 data sets simulated from the posterior (light) over the "
            "observed data's (dark) (arviz_plots.plot_ppc_dist). Replicates draw new random "
            "effects where the model has them, so this checks the whole variance structure.",
        )
    ]
    pit = plot_pit(result)
    if pit is not None:
        blocks.append(
            Figure(
                pit,
                "PIT ECDF",
                "Probability integral transform: for each observation P(replicate ≤ observed); "
                "for a calibrated model these are uniform and the ECDF difference stays inside "
                "the envelope (arviz_plots.plot_ppc_pit). An S shape means the predictive "
                "spread is too wide or too narrow. The envelope assumes independent "
                "observations: within a therapist or client the PIT values are correlated (the "
                "replicates draw new group effects), so with many rows per group small "
                "excursions are expected and the p-value overstates the evidence of misfit.",
            )
        )
    return Section("Posterior predictive check", "ppc", [Row(blocks)])


def _estimates_section(result, names, ci_prob) -> Section:
    blocks = [
        Text(
            f"Posterior means, SDs and {percent(ci_prob)} equal-tailed intervals. Each scale has "
            "its own table and forest plot (thick bar: 50% interval; thin bar: "
            f"{percent(ci_prob)} interval)."
        )
    ]
    if names:
        table = _summary(result, names, ci_prob)[["mean", "sd", "lower", "upper"]]
        forests = plot_posterior_forest(result, ci_prob, names)
        for scale, group in scale_groups(result, names).items():
            rows = [i for i in table.index if _base(i) in group]
            row = [Table(table.loc[rows], caption=scale_label(scale, result))]
            if scale in forests:
                row.append(Figure(forests[scale], f"forest plot: {scale}"))
            blocks.append(Row(row))
        dens = plot_posterior(result, ci_prob, names)
        if dens is not None:
            blocks.append(
                Figure(
                    dens,
                    "posterior densities",
                    f"Posterior densities, each on its own axis, with the mean and the "
                    f"{percent(ci_prob)} interval (arviz_plots.plot_dist).",
                )
            )
    left_out = [n for n in result.reported if n in result.posterior and n not in names]
    if left_out:
        blocks.append(
            Text(
                f"Not tabulated here (more than a dozen elements each): {', '.join(left_out)}; "
                "see the family's tables below or `result.summary()`.",
                note=True,
            )
        )
    probs = result.probabilities
    if probs:
        t = pd.DataFrame(
            {"probability": list(probs.values()), "that": [probability_words(k) for k in probs]},
            index=list(probs),
        )
        t.index.name = "stored as"
        blocks.append(Table(t, caption="Posterior probabilities"))
    return Section("Estimates", "estimates", blocks)


def _family_section(result, ci_prob) -> Section | None:
    mod_name = FAMILY_MODULES.get(result.family)
    if mod_name is None:
        return None
    mod = importlib.import_module(f"empathy_models.results.{mod_name}")
    blocks = []
    for item in mod.report_items(result, ci_prob):
        blocks.append(Section(item.title, "", [], level=3))
        if item.note:
            blocks.append(Text(item.note))
        row = []
        if item.table is not None:
            row.append(Table(_compact(item.table, ci_prob)))
        if item.figure is not None:
            row.append(Figure(item.figure, item.title))
        blocks.append(Row(row))
    name = FAMILY_TITLES.get(result.family, result.family).lower()
    return Section(f"Results of the {name}", "family", blocks)


def _sensitivity_section(result, psense) -> Section:
    if psense is None:
        reason = (
            "the result stores no log-likelihood"
            if "log_likelihood" not in result.idata.children
            else "its log prior could not be computed"
        )
        return Section(
            "Prior sensitivity",
            "sensitivity",
            [Text(f"Not available: {reason}. Refit with this version of empathy_models.")],
        )
    flagged = psense[psense["diagnosis"] != "✓"]
    if flagged.empty:
        verdict = (
            f"No quantity reaches the {PSENSE_THRESHOLD} threshold for the prior: the "
            "posterior is driven by the data, not by the priors."
        )
    else:
        verdict = (
            f"Flagged ({len(flagged)}): "
            + "; ".join(f"{i}: {d}" for i, d in flagged["diagnosis"].items())
            + ". Check the prior of these quantities and the data they rest on."
        )
    blocks = [
        Text(
            "Power-scaling raises the prior (or the likelihood) to a power α near 1 and "
            "measures, by importance sampling of the existing draws, how fast each posterior "
            "moves (Kallioinen et al. 2024; arviz_stats.psense_summary). Values are a rate of "
            f"change (cumulative Jensen–Shannon distance per log α); above {PSENSE_THRESHOLD} "
            "a quantity is sensitive. Prior-sensitive and likelihood-sensitive: prior-data "
            "conflict. Prior-sensitive but not likelihood-sensitive: the prior dominates a weak "
            "likelihood. Group-level effects are not scaled; the priors a user sets by name are."
        ),
        Text(verdict),
        Table(psense, caption="Power-scaling sensitivity"),
    ]
    # the flagged and most prior-sensitive quantities first
    order = psense.assign(_ok=psense["diagnosis"] == "✓").sort_values(
        ["_ok", "prior"], ascending=[True, False]
    )
    fig = plot_prior_sensitivity(result, list(dict.fromkeys(_base(i) for i in order.index)))
    if fig is not None:
        blocks.append(
            Figure(
                fig,
                "power-scaled posteriors",
                "Posteriors with the prior (left) or the likelihood (right) power-scaled by "
                "α = 0.8 and 1.25 (arviz_plots.plot_psense_dist).",
            )
        )
    return Section("Prior sensitivity", "sensitivity", blocks)


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("pymc", "pytensor", "arviz-stats", "arviz-plots", "numpy", "pandas", "nutpie"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            continue
    return ", ".join(out)


def _provenance_section(result) -> Section:
    post_attrs = result.idata["posterior"].attrs
    attrs = dict(post_attrs)
    if "sample_stats" in result.idata.children:
        attrs = {**result.idata["sample_stats"].attrs, **attrs}
    lib = attrs.get("inference_library")
    lib_v = attrs.get("inference_library_version")
    created = str(post_attrs.get("created_at", "?"))
    try:
        created = _dt.datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        pass
    ds = result.data_summary or {}
    pairs = [
        ("fitted with", f"empathy_models {result.version or '?'}"),
        ("fitted on", created),
        ("sampled by", f"{lib} {lib_v}" if lib else "?"),
        ("sampler settings", _sampler_words(result)),
        ("data", result.data_source or "a data frame passed to fit()"),
        ("rows used", _fmt(ds.get("rows_used"))),
        ("data digest (SHA-256 of the rows used)", result.idata.attrs.get("data_digest", "?")),
        (
            "report written",
            f"{_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} by empathy_models "
            f"{__version__}",
        ),
        ("libraries (report)", _versions()),
    ]
    blocks = [
        _key_values(pairs),
        Text(
            "To refit: the command line (flags named like the options above; the data file "
            "must hold the rows whose digest is shown):"
        ),
        Code(reproduce_cli(result), "bash"),
        Text("or in Python:"),
        Code(reproduce_python(result), "python"),
        Text(
            "Same data, same settings and the same seed give the same draws on the same "
            "machine and library versions.",
            note=True,
        ),
    ]
    return Section("Provenance and reproduction", "provenance", blocks)


def build_report(result: Result, ci_prob: float = CI_PROB) -> list[Section]:
    """The report's sections (see the module docstring), ready to render."""
    quantiles(ci_prob)
    tree = with_log_prior(result)  # computed once here when the file lacks it
    if tree is not None and tree is not result.idata:
        result = Result(tree)
    names = plottable(result)
    diag, problems = _diagnostics(result)
    psense = prior_sensitivity(result, names)
    sections = [
        _summary_section(result, ci_prob, diag, problems, psense),
        _data_section(result),
        _model_section(result),
        _diagnostics_section(result, names, ci_prob, diag, problems),
        _ppc_section(result),
        _estimates_section(result, names, ci_prob),
    ]
    fam = _family_section(result, ci_prob)
    if fam is not None:
        sections.append(fam)
    sections += [_sensitivity_section(result, psense), _provenance_section(result)]
    return sections


# -- rendering --------------------------------------------------------------------------------
def _figure_png(obj) -> bytes:
    import matplotlib.pyplot as plt
    from PIL import Image

    fig = obj.get_viz("figure") if hasattr(obj, "get_viz") else obj
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    # a 256-colour palette keeps line art and text sharp at a third of the size
    img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB").quantize(colors=256)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _inline(text: str) -> str:
    """Escape HTML and turn ```code``` spans into ``<code>``."""
    parts = text.split("`")
    return "".join(
        f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts)
    )


def _html_table(t: Table) -> str:
    frame = t.frame
    idx_names = [n or "" for n in frame.index.names] if t.index else []
    head = "".join(f"<th>{html.escape(str(n))}</th>" for n in idx_names)
    head += "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for idx, row in frame.iterrows():
        cells = []
        if t.index:
            keys = idx if isinstance(idx, tuple) else (idx,)
            cells += [f'<th scope="row">{html.escape(_fmt(k))}</th>' for k in keys]
        for col, v in zip(frame.columns, row.to_numpy(), strict=True):
            text = _fmt(v, str(col))
            num = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_
            )
            cls = ["num"] if num else []
            if text not in ("ok", "✓", "", "yes", "no") and str(col) in ("check", "diagnosis"):
                cls.append("flag")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            cells.append(f"<td{attr}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_inline(t.caption)}</caption>" if t.caption else ""
    thead = f"<thead><tr>{head}</tr></thead>" if t.header else ""
    cls = "" if t.header else ' class="kv"'
    return (
        f'<div class="tablewrap"><table{cls}>{cap}{thead}'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --head: #f3f5f7; --accent: #1e7f97; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", Helvetica, Arial,
  sans-serif; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 32px 64px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; padding-bottom: 8px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
.subtitle { color: var(--muted); margin: 0; }
nav { font-size: 13.5px; margin: 10px 0 8px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16.5px; margin: 26px 0 6px; }
p { margin: 8px 0; max-width: 900px; }
p.note { color: var(--muted); font-size: 13.5px; }
code { font: 13px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--head);
  padding: 1px 4px; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px;
  overflow-x: auto; font: 12.5px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.tablewrap { overflow-x: auto; margin: 10px 0 14px; }
table { border-collapse: collapse; font-size: 13.5px; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
  vertical-align: top; }
thead th { background: var(--head); border-bottom: 2px solid var(--line); font-weight: 600; }
tbody th { font-weight: 500; white-space: nowrap; }
table.kv tbody th { color: var(--muted); font-weight: 500; padding-right: 18px; }
table.kv tbody tr:first-child th, table.kv tbody tr:first-child td { border-top: 1px solid var(--line); }
pre code { background: none; padding: 0; font: inherit; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.flag { color: #b3261e; font-weight: 600; }
figure { margin: 12px 0 20px; }
.row { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.row > .cell { flex: 0 1 auto; min-width: 0; max-width: 100%; }
caption { white-space: nowrap; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid #eef0f2; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; max-width: 900px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
"""


FAMILY_TITLES = {
    "variance": "Variance partition",
    "raters": "Multi-rater partition",
    "contributions": "Therapist and client contributions",
    "form": "Functional form",
    "moderation": "Intervention-moderated effects",
    "circuit": "Emotional circuit",
    "meta": "Meta-analysis",
    "agreement": "Rater agreement",
    "comparison": "Responder comparison",
}


def _title(result) -> tuple[str, str]:
    opts = result.config.get("options", {})
    target = opts.get("measure") or opts.get("outcome") or ""
    name = FAMILY_TITLES.get(result.family, f"{result.family} model")
    title = name + (f" of {target}" if target else "")
    sub = (
        f"empathy_models report · fitted with version {result.version or '?'} · "
        f"{_fmt((result.data_summary or {}).get('rows_used'))} rows · {_sampler_words(result)}"
    )
    return title, sub


def render_html(result: Result, sections: list[Section]) -> str:
    """Render the sections as one self-contained HTML page."""
    title, sub = _title(result)
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    body = []
    for sec in sections:
        body.append(f'<section id="{sec.anchor}"><h2>{html.escape(sec.title)}</h2>')
        body += [_html_block(b) for b in sec.blocks]
        body.append("</section>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f'<header><h1>{html.escape(title)}</h1><p class="subtitle">{html.escape(sub)}</p>'
        f"<nav>{nav}</nav></header>"
        + "\n".join(body)
        + "<footer>Written by empathy_models "
        + html.escape(__version__)
        + "; figures are embedded, the file stands alone.</footer></main></body></html>\n"
    )


def _html_block(b) -> str:
    if isinstance(b, Row):
        inner = "".join(f'<div class="cell">{_html_block(x)}</div>' for x in b.blocks)
        return f'<div class="row">{inner}</div>'
    if isinstance(b, Section):
        return f"<h{b.level}>{html.escape(b.title)}</h{b.level}>"
    if isinstance(b, Text):
        cls = ' class="note"' if b.note else ""
        return f"<p{cls}>{_inline(b.text)}</p>"
    if isinstance(b, Table):
        return _html_table(b)
    if isinstance(b, Code):
        return f"<pre><code>{html.escape(b.text)}</code></pre>"
    if isinstance(b, Figure):
        data = base64.b64encode(_figure_png(b.obj)).decode("ascii")
        cap = f"<figcaption>{_inline(b.caption)}</figcaption>" if b.caption else ""
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(b.alt)}">'
            f"{cap}</figure>"
        )
    raise TypeError(type(b))


def markdown_table(frame: pd.DataFrame, digits: int = 3, index: bool = True) -> str:
    """Render a DataFrame as a GitHub Markdown table (index as the first columns)."""
    idx_names = [n or "" for n in frame.index.names] if index else []
    cols = idx_names + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in frame.iterrows():
        keys = (idx if isinstance(idx, tuple) else (idx,)) if index else ()
        cells = [_fmt(k) for k in keys] + [
            _fmt(v, str(c)) for c, v in zip(frame.columns, row.to_numpy(), strict=True)
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def render_markdown(result: Result, sections: list[Section], path: Path) -> str:
    """Render the sections as Markdown; figures go to ``<stem>_figures/`` beside ``path``."""
    title, sub = _title(result)
    fig_dir = path.with_name(f"{path.stem}_figures")
    lines = [f"# {title}", "", sub, ""]
    n = 0
    for sec in sections:
        lines += [f"## {sec.title}", ""]
        flat = []
        for b in sec.blocks:
            flat += b.blocks if isinstance(b, Row) else [b]
        for b in flat:
            if isinstance(b, Section):
                lines += [f"### {b.title}", ""]
            elif isinstance(b, Text):
                lines += [f"*{b.text}*" if b.note else b.text, ""]
            elif isinstance(b, Table):
                if b.caption:
                    lines += [f"**{b.caption}**", ""]
                lines += [markdown_table(b.frame, index=b.index), ""]
            elif isinstance(b, Code):
                lines += [f"```{b.lang}", b.text, "```", ""]
            elif isinstance(b, Figure):
                n += 1
                fig_dir.mkdir(parents=True, exist_ok=True)
                slug = re.sub(r"[^a-z0-9]+", "_", b.alt.lower()).strip("_")
                name = f"{n:02d}_{slug}.png"
                (fig_dir / name).write_bytes(_figure_png(b.obj))
                lines += [f"![{b.alt}]({fig_dir.name}/{name})", ""]
                if b.caption:
                    lines += [f"*{b.caption}*", ""]
    return "\n".join(lines)


def write_report(result: Result, path: str | Path, ci_prob: float = CI_PROB) -> Path:
    """Write the report of ``result``: HTML (``.html``/``.htm``, one self-contained file) or
    Markdown (any other suffix, figures in ``<stem>_figures/`` beside it).

    Parameters
    ----------
    result
        A fitted :class:`~empathy_models.Result` (any family).
    path
        Where to write the report.
    ci_prob
        Probability of every interval in the report (default
        :data:`~empathy_models.results.result.CI_PROB`).

    Returns
    -------
    pathlib.Path
        The report's path. The write is atomic.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sections = build_report(result, ci_prob)
    if path.suffix.lower() in (".html", ".htm"):
        text = render_html(result, sections)
    else:
        text = render_markdown(result, sections, path)
    _io.atomic_write(path, text.encode("utf-8"))
    return path


__all__ = [
    "build_report",
    "markdown_table",
    "probability_words",
    "render_html",
    "render_markdown",
    "reproduce_cli",
    "reproduce_python",
    "write_report",
]
