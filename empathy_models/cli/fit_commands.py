"""``empathy-models fit <family>``: one command per model family, generated from its spec.

Each command takes the data file, one option per field of the family's spec (from the
manifest, see :mod:`empathy_models.cli.manifest`), the column mapping of the roles the family
uses, the sampler settings and the output options (see :mod:`empathy_models.cli.options`).
What differs between families is small and declared in :data:`FAMILIES`: the roles, old flag
names kept working, extra output files, and what is printed after the fit.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from empathy_models.cli import options as o
from empathy_models.cli.output import echo, write_csv, write_outputs
from empathy_models.data.roles import Roles

LEVEL_ROLES = ("therapist", "client", "session")


@dataclasses.dataclass(frozen=True)
class FamilyCLI:
    """What a family's command adds to the generated options.

    Parameters
    ----------
    roles
        Roles the family maps onto columns (``()``: none, e.g. the meta-analysis).
    rows
        What one row of the data is, for ``--help``.
    aliases
        Old flag names kept working (hidden).
    outputs
        Extra output files: ``(flag, help)``.
    sampler_defaults
        Sampler settings that differ from :class:`SamplerSettings`' defaults for this family.
    from_roles
        ``(roles, spec_kwargs)``: fill spec options that follow from the column mapping
        (only those the user did not give).
    after
        ``(result, outputs)``: print or write the family's own results after the fit.
    """

    roles: tuple[str, ...] = LEVEL_ROLES
    rows: str = "one row per session"
    aliases: tuple[o.Alias, ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    sampler_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    from_roles: Callable[[Roles, dict], None] | None = None
    after: Callable[[Any, dict], None] | None = None


#: Aliases of every family that has their target.
COMMON_ALIASES = (
    o.Alias("--covariate", "spec.covariates"),
    o.Alias("--progress/--no-progress", "sampler.progressbar"),
)


# -- family hooks ------------------------------------------------------------------------------
def _form_after(result, outputs: dict) -> None:
    info = result.info
    if "vertex_median" in info:
        verdict = "reported" if info["optimum_reported"] else "NOT reported"
        echo(
            f"vertex {info['vertex_median']:.3g} (90% interval {info['vertex_q05']:.3g} to "
            f"{info['vertex_q95']:.3g}); observed range (5th-95th pct) {info['range_q05']:.3g} "
            f"to {info['range_q95']:.3g}; optimum ({info['optimum']}) {verdict} at evidence "
            f"{info['evidence']}"
        )


def _moderation_roles(roles: Roles, spec: dict) -> None:
    if "therapist_slopes" not in spec and "therapist" not in spec["levels"]:
        spec["therapist_slopes"] = False


def _moderation_after(result, outputs: dict) -> None:
    from empathy_models.results.moderation import contrast_table

    table = contrast_table(result)
    echo(table.to_string(index=False, float_format="{:.3f}".format))
    write_csv(table, outputs.get("contrasts_csv"), index=False)


def _circuit_roles(roles: Roles, spec: dict) -> None:
    spec.setdefault("use_phase", roles.phase is not None)


def _circuit_after(result, outputs: dict) -> None:
    pairs = result.data_summary.get("lag_pairs", {})
    echo(
        f"lag pairs: {pairs.get('n_pairs')} formed, {pairs.get('broken_by_gap')} broken by gaps, "
        f"{pairs.get('broken_by_missing_affect')} by missing affect; "
        f"unequal spacing: {pairs.get('unequal_spacing')}"
    )
    if outputs.get("irf_csv") is not None:
        from empathy_models.results.circuit import impulse_response

        write_csv(impulse_response(result, steps=10), outputs["irf_csv"], index=False)


def _meta_after(result, outputs: dict) -> None:
    if outputs.get("loo_csv") is not None:
        from empathy_models.results.meta import leave_one_study_out

        write_csv(leave_one_study_out(result), outputs["loo_csv"], index=False)
    if outputs.get("forest") is not None or outputs.get("funnel") is not None:
        from empathy_models.results.meta import plot_funnel, plot_meta_forest

        for name, plot in (("forest", plot_meta_forest), ("funnel", plot_funnel)):
            if outputs.get(name) is not None:
                plot(result, outputs[name])
                echo(f"wrote {outputs[name]}")


def _agreement_after(result, outputs: dict) -> None:
    from empathy_models.results.agreement import dstudy_table, icc_table

    echo(icc_table(result).to_string(index=False, float_format="{:.3f}".format))
    echo(dstudy_table(result).to_string(index=False, float_format="{:.3f}".format))


def _comparison_after(result, outputs: dict) -> None:
    from empathy_models.results.agreement import group_comparison_table

    table = group_comparison_table(result)
    echo(table.to_string(index=False, float_format="{:.3f}".format))


FAMILIES: dict[str, FamilyCLI] = {
    "variance": FamilyCLI(
        rows="one row per occasion (session or EMA moment)",
        aliases=(o.Alias("--full", sets={"spec.marginalized": False}),),
    ),
    "raters": FamilyCLI(roles=(*LEVEL_ROLES, "rater"), rows="one row per rating"),
    "contributions": FamilyCLI(
        aliases=(o.Alias("--centered-latent", sets={"spec.centered": True}),),
    ),
    "form": FamilyCLI(after=_form_after),
    "moderation": FamilyCLI(
        roles=(*LEVEL_ROLES, "intervention"),
        aliases=(o.Alias("--moderator", "role.intervention"),),
        outputs=(("--contrasts-csv", "Also write the contrast table as CSV."),),
        from_roles=_moderation_roles,
        after=_moderation_after,
    ),
    "circuit": FamilyCLI(
        roles=(*LEVEL_ROLES, "moment", "phase"),
        rows="one row per EMA moment",
        aliases=(
            o.Alias("--throttle", "spec.throttle_phases"),
            o.Alias("--common-throttle", sets={"spec.therapist_throttle": False}),
        ),
        outputs=(("--irf-csv", "Also write impulse responses (10 steps) as CSV."),),
        from_roles=_circuit_roles,
        after=_circuit_after,
    ),
    "meta": FamilyCLI(
        roles=(),
        rows="one row per effect",
        aliases=(
            o.Alias("--moderator", "spec.moderators"),
            o.Alias(
                "--drop-missing",
                sets={"spec.missing_outcome": "drop", "spec.missing_predictor": "drop"},
            ),
        ),
        outputs=(
            ("--loo-csv", "Write leave-one-study-out estimates (PSIS) as CSV."),
            ("--forest", "Write a forest plot (PNG)."),
            ("--funnel", "Write a funnel plot (PNG)."),
        ),
        # With 0.8 a few divergences can occur when tau is near 0 (docs/meta.md).
        sampler_defaults={"target_accept": 0.9},
        after=_meta_after,
    ),
    "agreement": FamilyCLI(
        roles=("target", "rater", "item", "group"),
        rows="one row per rating",
        after=_agreement_after,
    ),
    "comparison": FamilyCLI(
        roles=("responder", "prompt", "rater", "group", "condition"),
        rows="one row per rating of an answer",
        after=_comparison_after,
    ),
}


# -- building and running ----------------------------------------------------------------------
def family_cli(family: str) -> FamilyCLI:
    return FAMILIES.get(family, FamilyCLI(roles=tuple(o.ROLE_HELP)))


def aliases(family: str, params: Mapping[str, o.GeneratedOption]) -> tuple[o.Alias, ...]:
    """The family's aliases and the common ones whose target it has."""
    common = tuple(
        a for a in COMMON_ALIASES if a.target in params or (a.sets and set(a.sets) <= set(params))
    )
    return family_cli(family).aliases + common


@functools.cache
def fit_command(family: str) -> click.Command:
    """The ``fit <family>`` command, generated from the manifest."""
    cli = family_cli(family)
    entry = o.manifest()["families"][family]
    params: list[click.Parameter] = [
        *o.spec_options(family),
        *o.role_options(cli.roles),
        *o.sampler_options(defaults=cli.sampler_defaults),
        *o.output_options(f"{family}.nc"),
        *(o.extra_option(flag, text) for flag, text in cli.outputs),
    ]
    by_target = {p.target: p for p in params}
    params += [a.make(by_target, i) for i, a in enumerate(aliases(family, by_target))]
    flags = [f for p in params for f in (*p.opts, *p.secondary_opts)]
    duplicated = sorted({f for f in flags if flags.count(f) > 1})
    if duplicated:
        raise RuntimeError(f"fit {family}: flags {duplicated} are declared twice")
    cls_name = entry["class"].rsplit(":", 1)[-1]
    return o.SectionedCommand(
        family,
        params=[click.Argument(["data"], type=click.Path(path_type=Path), metavar="DATA"), *params],
        callback=functools.partial(run_fit, family),
        short_help=entry["summary"],
        help=(
            f"{entry['summary']}\n\nDATA: a CSV, TSV or Parquet file, {cli.rows}. The model "
            f"options are the fields of empathy_models.{cls_name}, with dashes for underscores."
        ),
    )


def spec_kwargs(family: str, given: dict, roles: Roles | None) -> dict:
    """Spec options given by the user, completed by what follows from the column mapping."""
    spec = o.split(given, "spec")
    if roles is None:
        return spec
    cli = family_cli(family)
    fields = {rec["name"]: rec for rec in o.manifest()["families"][family]["fields"]}
    if "levels" in fields and "levels" not in spec:  # a level switched off by --ROLE none
        spec["levels"] = tuple(
            lv for lv in fields["levels"]["default"] if lv not in cli.roles or roles.column(lv)
        )
    if cli.from_roles is not None:
        cli.from_roles(roles, spec)
    return spec


def run_fit(family: str, data: Path, **values) -> None:
    from empathy_models.data.io import read_table

    cli = family_cli(family)
    command = click.get_current_context().command
    by_target = {p.target: p for p in command.params if isinstance(p, o.GeneratedOption)}
    given = o.given(command, values, aliases(family, by_target))
    roles = o.roles_from(given) if cli.roles else None
    spec_kw = spec_kwargs(family, given, roles)
    sampler_kw = {**cli.sampler_defaults, **o.split(given, "sampler")}
    outputs = o.split(given, "output")

    frame = read_table(data)  # file errors come before the modelling stack is loaded
    module, _, name = o.manifest()["families"][family]["class"].partition(":")
    spec = getattr(importlib.import_module(module), name)(**spec_kw)
    from empathy_models.inference.fit import fit

    pp = outputs.get("posterior_predictive")
    result = fit(spec, frame, roles, posterior_predictive=pp is not False, **sampler_kw)
    write_outputs(result, outputs.get("out", Path(f"{family}.nc")), outputs.get("summary_csv"))
    if cli.after is not None:
        cli.after(result, outputs)


class FitGroup(click.Group):
    """``empathy-models fit``: its commands are built from the manifest when asked for."""

    def list_commands(self, ctx) -> list[str]:
        return sorted(o.manifest()["families"])

    def get_command(self, ctx, name: str) -> click.Command | None:
        if name not in o.manifest()["families"]:
            return None
        return fit_command(name)
