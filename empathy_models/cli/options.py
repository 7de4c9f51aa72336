"""Options of the command line, declared once and generated from the classes that define them.

* Model options: one per field of the family's spec (see :mod:`empathy_models.cli.manifest`).
* Column mapping: one per role of :class:`~empathy_models.data.roles.Roles` (``none`` switches
  a role off) and ``--crossed``.
* Sampler settings: one per field of :class:`~empathy_models.inference.samplers.SamplerSettings`.
* Output: ``--out``, ``--summary-csv`` and ``--posterior-predictive``.

Every generated option has a ``section`` (its heading in ``--help``) and a ``target``
(``"spec.<field>"``, ``"role.<role>"``, ``"sampler.<field>"`` or ``"output.<name>"``). Its
value is ``None`` unless the user gave it, so the spec and the sampler settings apply their
own defaults (shown in ``--help`` from the manifest). :func:`given` collects the values a
user gave, by target.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from empathy_models.cli.manifest import MANIFEST_PATH
from empathy_models.data.roles import ID_ROLES, Roles

ROLE_HELP = {
    "therapist": "Column of therapist ids.",
    "client": "Column of client ids.",
    "session": "Column of session numbers (integers within a client).",
    "moment": "Column of the order of EMA moments within a session (integers or timestamps).",
    "intervention": "Column of intervention labels (e.g. ERP, MI).",
    "phase": "Column of within-session phase labels (e.g. exposure, processing).",
    "rater": "Column of rater labels (long format: client, therapist, observer).",
    "target": "Column of what is rated (a session, a response, a therapist).",
    "item": "Column of the item of a multi-item scale.",
    "group": "Column of a group of targets or raters (e.g. perspective; LLM vs trainee).",
    "responder": "Column of who answered (a language model, a trainee).",
    "prompt": "Column of the prompt answered (e.g. a client statement).",
    "condition": "Column of the condition of an answer (e.g. before / after training).",
}
ITEM_TYPES = {"str": click.STRING, "int": click.INT, "float": click.FLOAT}


@functools.cache
def manifest() -> dict:
    """The recorded manifest of spec and sampler options (see :mod:`~.manifest`)."""
    return json.loads(MANIFEST_PATH.read_text())


# -- value types -------------------------------------------------------------------------------
class Separated(click.ParamType):
    """Comma-separated values of one type; ``length`` fixes their number (e.g. ``1,7``)."""

    def __init__(self, item: str = "str", length: int | None = None) -> None:
        self.item = ITEM_TYPES[item]
        self.length = length
        letters = {"str": "ABCD", "int": "MNOP", "float": "XYZW"}[item]
        self.name = ",".join(letters[:length]) if length else f"{letters[0]},..."

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        if self.length is not None and len(parts) != self.length:
            self.fail(f"expected {self.length} comma-separated values, got {value!r}", param, ctx)
        return tuple(self.item.convert(p, param, ctx) for p in parts)


class KeyValues(click.ParamType):
    """A JSON object, or ``KEY=VALUE`` (VALUE read as JSON when it is JSON, else as text)."""

    name = "JSON|KEY=VALUE"

    def convert(self, value, param, ctx):
        if isinstance(value, dict):
            return value
        text = str(value).strip()
        if text.startswith("{"):
            try:
                out = json.loads(text)
            except json.JSONDecodeError as exc:
                self.fail(f"not valid JSON: {exc}", param, ctx)
            if not isinstance(out, dict):
                self.fail("expected a JSON object", param, ctx)
            return out
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            self.fail(f"expected a JSON object or KEY=VALUE, got {value!r}", param, ctx)
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            parsed = raw
        return {key.strip(): parsed}


# -- the option class --------------------------------------------------------------------------
class GeneratedOption(click.Option):
    """A click option with a ``target`` and a ``section``; its default is shown as text, and
    its value is ``None`` unless given (repeatable values are joined, mappings merged)."""

    def __init__(
        self,
        *args,
        target: str,
        section: str,
        default_text: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.target = target
        self.section = section
        self.default_text = default_text

    def get_help_extra(self, ctx):
        extra = super().get_help_extra(ctx)
        if self.default_text:
            extra["default"] = self.default_text
        return extra

    def finish(self, value: Any) -> Any:
        """The value a user gave, or ``None``."""
        if self.multiple:
            if not value:
                return None
            if isinstance(self.type, KeyValues):
                return functools.reduce(lambda a, b: {**a, **b}, value, {})
            if isinstance(self.type, Separated):
                return tuple(v for part in value for v in part)
            return tuple(value)
        return value


def option(
    flags: Sequence[str],
    target: str,
    section: str,
    *,
    shown: Any = None,
    help: str = "",
    **kwargs,
) -> GeneratedOption:
    """One generated option; ``flags`` are its names (``"--x/--no-x"`` for a switch) and
    ``shown`` the default shown in ``--help`` (its value is ``None`` unless given)."""
    dest = target.replace(".", "__")
    if not kwargs.get("required"):  # (a required option has no default at all)
        kwargs["default"] = None
    return GeneratedOption(
        [*flags, dest],
        target=target,
        section=section,
        default_text=_text(shown),
        help=help,
        **kwargs,
    )


def _text(default: Any) -> str | None:
    if default is None or default == [] or default == ():
        return None
    if isinstance(default, list | tuple):
        return ",".join(str(v) for v in default)
    return str(default)


def from_record(rec: Mapping, target: str, section: str, *, default: Any = ...) -> GeneratedOption:
    """The option of one manifest record (a dataclass field)."""
    default = rec["default"] if default is ... else default
    flag, kind = rec["flag"], rec["kind"]
    help_text = rec["help"]
    kw: dict[str, Any] = {}
    if kind == "bool":
        flags = [f"{flag}/--no-{flag[2:]}"]
        if default is not None:  # shown as the flag that is on by default
            default = flag if default else f"--no-{flag[2:]}"
    else:
        flags = [flag]
        if kind == "tuple":
            kw["type"] = Separated(rec["item"], rec["length"])
            if rec["length"] is None:
                kw["multiple"] = True
                help_text += " Comma-separated; repeatable."
        elif kind == "mapping":
            kw["type"] = KeyValues()
            kw["multiple"] = True
            help_text += " A JSON object, or KEY=VALUE (repeatable)."
        elif rec["choices"]:
            kw["type"] = click.Choice([str(c) for c in rec["choices"]])
        else:
            kw["type"] = ITEM_TYPES[kind]
        if rec.get("required"):
            kw["required"] = True
    return option(flags, target, section, shown=default, help=help_text, **kw)


# -- the shared blocks -------------------------------------------------------------------------
def spec_options(family: str) -> list[GeneratedOption]:
    """One option per field of the family's spec."""
    return [
        from_record(rec, f"spec.{rec['name']}", "Model options")
        for rec in manifest()["families"][family]["fields"]
    ]


def role_options(roles: Iterable[str]) -> list[GeneratedOption]:
    """Column mapping: ``--<role> COLUMN`` per role (``none`` switches it off), and
    ``--crossed`` when the roles include therapist and client."""
    roles = [r for r in ID_ROLES if r in set(roles)]
    out = [
        option(
            [f"--{role}"],
            f"role.{role}",
            "Column mapping",
            shown=role,
            metavar="COLUMN",
            help=f"{ROLE_HELP[role]} 'none' switches the role off"
            + (" (and its level)." if role in ("therapist", "client", "session") else "."),
        )
        for role in roles
    ]
    if {"therapist", "client"} <= set(roles):
        out.append(
            option(
                ["--crossed"],
                "role.crossed",
                "Column mapping",
                is_flag=True,
                help="Clients may see several therapists (a crossed design).",
            )
        )
    return out


def sampler_options(
    *,
    preset: str = "fit",
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
) -> list[GeneratedOption]:
    """One option per :class:`SamplerSettings` field (``preset="study"``: the defaults of
    simulation studies; ``defaults`` overrides the shown defaults)."""
    block = manifest()["sampler"]
    shown = dict(block["study_defaults"]) if preset == "study" else {}
    shown.update(defaults or {})
    keep = set(include) if include is not None else None
    return [
        from_record(rec, f"sampler.{rec['name']}", "Sampler", default=shown.get(rec["name"], ...))
        for rec in block["fields"]
        if (keep is None or rec["name"] in keep) and rec["name"] not in set(exclude)
    ]


def output_options(default_out: str) -> list[GeneratedOption]:
    return [
        option(
            ["--out"],
            "output.out",
            "Output",
            shown=default_out,
            type=click.Path(path_type=Path, dir_okay=True),
            help="Result file to write (.nc, or .zarr for a zarr store).",
        ),
        option(
            ["--summary-csv"],
            "output.summary_csv",
            "Output",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Also write the summary table as CSV.",
        ),
        option(
            ["--posterior-predictive/--no-posterior-predictive"],
            "output.posterior_predictive",
            "Output",
            shown=True,
            help="Store replicated data from the posterior (the report's predictive checks).",
        ),
    ]


def extra_option(flag: str, help: str) -> GeneratedOption:
    """A family's own output file (e.g. ``--irf-csv``), shown under "Output"."""
    target = f"output.{flag[2:].replace('-', '_')}"
    return option(
        [flag], target, "Output", type=click.Path(path_type=Path, dir_okay=False), help=help
    )


@dataclasses.dataclass(frozen=True)
class Alias:
    """An old flag kept working (hidden from ``--help``).

    ``Alias("--covariate", "spec.covariates")`` passes its value to the target;
    ``Alias("--full", sets={"spec.marginalized": False})`` is a switch setting fixed values;
    ``Alias("--progress/--no-progress", "sampler.progressbar")`` renames a switch.
    """

    flag: str
    target: str | None = None
    sets: Mapping[str, Any] | None = None

    def make(self, params: Mapping[str, GeneratedOption], index: int) -> GeneratedOption:
        name = f"alias.{index}"
        if self.sets is not None:
            return option([self.flag], name, "Options", is_flag=True, hidden=True)
        base = params[self.target]
        if base.is_flag:  # a switch, e.g. Alias("--progress/--no-progress", ...)
            return option([self.flag], name, "Options", hidden=True)
        return option(
            [self.flag], name, "Options", type=base.type, multiple=base.multiple, hidden=True
        )


def given(command: click.Command, values: Mapping[str, Any], aliases: Sequence[Alias] = ()):
    """The values a user gave, by target (``{"spec.measure": "alliance", ...}``); an alias
    fills its target (giving both an alias and its target is a usage error)."""
    out: dict[str, Any] = {}
    by_name = {}
    for p in command.params:
        if isinstance(p, GeneratedOption):
            by_name[p.target] = p
            v = p.finish(values.get(p.name))
            if v is not None and not p.target.startswith("alias."):
                out[p.target] = v
    for i, alias in enumerate(aliases):
        v = by_name[f"alias.{i}"].finish(values.get(f"alias__{i}"))
        if v is None:
            continue
        updates = dict(alias.sets) if alias.sets is not None else {alias.target: v}
        for target, value in updates.items():
            if target in out:
                raise click.UsageError(
                    f"{alias.flag} is an older name of {by_name[target].opts[0]}; give one of them"
                )
            out[target] = value
    return out


def split(values: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """``{field: value}`` of the targets ``kind.<field>``."""
    prefix = kind + "."
    return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}


def roles_from(values: Mapping[str, Any]) -> Roles:
    """:class:`Roles` from the given column mapping; ``none`` switches a role off."""
    kw = {
        role: (None if str(col).lower() == "none" else col)
        for role, col in split(values, "role").items()
    }
    return Roles(**kw)


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists its options under section headings (in the order
    they first appear; ``--help`` last)."""

    def format_options(self, ctx, formatter):
        groups: dict[str, list] = {}
        help_record = None
        for p in self.get_params(ctx):
            rec = None if isinstance(p, click.Argument) else p.get_help_record(ctx)
            if rec is None:
                continue
            if p.name == "help":
                help_record = rec
                continue
            groups.setdefault(getattr(p, "section", "Options"), []).append(rec)
        if help_record is not None:
            groups.setdefault("Options", []).append(help_record)
        for section, records in groups.items():
            with formatter.section(section):
                formatter.write_dl(records)


def add(params: Sequence[click.Parameter]) -> Callable:
    """Decorator adding generated ``params`` to a command made with ``@group.command``."""

    def deco(cmd: click.Command) -> click.Command:
        cmd.params.extend(params)
        return cmd

    return deco
