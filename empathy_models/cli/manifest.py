"""The command line's manifest of generated options, ``cli/options.json``.

Every option of a model spec and every sampler setting reaches the command line without being
copied by hand: this module reads the dataclasses that define them (each spec in
:data:`~empathy_models.models.MODEL_FAMILIES` and
:class:`~empathy_models.inference.samplers.SamplerSettings`) and records, per field, its
flag, kind, default, choices and help text. Importing those classes imports PyMC, so the
command line reads the recorded manifest instead and starts in a fraction of a second.

* **Flag**: the field name with dashes (``missing_predictor`` -> ``--missing-predictor``).
* **Kind**: from the type annotation: ``str``, ``bool``, ``int``, ``float`` (each optionally
  ``| None``), ``tuple[X, ...]`` / ``tuple`` (comma-separated, repeatable), ``tuple[X, X]``
  (exactly two comma-separated values), ``Mapping`` (a JSON object or ``KEY=VALUE``).
  A new annotation the command line cannot express fails the generation.
* **Choices**: a ``Literal[...]`` annotation, or else the numpydoc type of the field in the
  class docstring's "Parameters" section written as a set: ``form : {"linear", "quadratic"}``.
* **Help**: the field's description in that section (base classes' sections included, so
  ``standardize`` and ``priors`` come from :class:`~empathy_models.models.base.ModelSpec`).
  An undocumented field fails the generation.

Regenerate after changing a spec or the sampler settings::

    python -m empathy_models.cli.manifest          # writes empathy_models/cli/options.json
    python -m empathy_models.cli.manifest --check  # exit 1 when the file is stale

``tests/test_cli.py`` fails when the file is stale.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import textwrap
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

MANIFEST_PATH = Path(__file__).with_name("options.json")
REGENERATE = "python -m empathy_models.cli.manifest"
SCALARS = {str: "str", bool: "bool", int: "int", float: "float"}


# -- numpydoc ----------------------------------------------------------------------------------
def parse_parameters(doc: str | None) -> dict[str, tuple[str | None, str]]:
    """``{name: (type or None, description)}`` from a numpydoc "Parameters" section.

    A line ``a, b : type`` documents both ``a`` and ``b``. Descriptions are joined into one
    paragraph with reST markup removed.
    """
    if not doc:
        return {}
    lines = _dedent(doc).splitlines()
    out: dict[str, tuple[str | None, str]] = {}
    try:
        start = next(
            i + 2
            for i in range(len(lines) - 1)
            if lines[i].strip() == "Parameters" and set(lines[i + 1].strip()) == {"-"}
        )
    except StopIteration:
        return {}
    names: list[str] = []
    typ: str | None = None
    desc: list[str] = []

    def flush() -> None:
        for n in names:
            out[n] = (typ, plain_text(" ".join(desc)))

    for i in range(start, len(lines)):
        line = lines[i]
        if line and not line[0].isspace():
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if nxt and set(nxt) == {"-"}:  # the next section
                break
            flush()
            head, _, t = line.partition(" : ")
            names = [n.strip() for n in head.split(",") if n.strip()]
            typ = t.strip() or None
            desc = []
        elif line.strip():
            desc.append(line.strip())
    flush()
    return out


def _dedent(doc: str) -> str:
    first, _, rest = doc.partition("\n")
    return first.strip() + "\n" + textwrap.dedent(rest)


def plain_text(text: str) -> str:
    """reST to plain text: ``literal`` -> literal, :role:`~a.b.C` -> C, collapsed spaces."""
    text = re.sub(r":[a-z]+:`~?([^`<]*?)\s*<[^`]*>`", r"\1", text)
    text = re.sub(r":[a-z]+:`~([^`]*)`", lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = re.sub(r":[a-z]+:`([^`]*)`", r"\1", text)
    text = re.sub(r"``([^`]*)``", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def set_choices(typ: str | None) -> list | None:
    """Choices written as a numpydoc set type, ``{"a", "b"}``, or None."""
    if not typ or not (typ.startswith("{") and typ.endswith("}")):
        return None
    return [v.strip().strip("'\"") for v in typ[1:-1].split(",") if v.strip()]


def class_parameters(cls: type) -> dict[str, tuple[str | None, str]]:
    """Documented parameters of ``cls`` and its bases (the class's own entries win)."""
    out: dict[str, tuple[str | None, str]] = {}
    for klass in reversed(cls.__mro__):
        out.update(parse_parameters(klass.__dict__.get("__doc__")))
    return out


# -- fields -------------------------------------------------------------------------------------
def field_record(cls: type, f: dataclasses.Field, hint: Any, docs: Mapping) -> dict:
    """The manifest record of one dataclass field."""
    where = f"{cls.__module__}.{cls.__qualname__}.{f.name}"
    if f.name not in docs or not docs[f.name][1]:
        raise TypeError(
            f"{where} has no description in the numpydoc 'Parameters' section of "
            f"{cls.__qualname__}; document it (the text is the option's --help)"
        )
    typ, help_text = docs[f.name]
    rec: dict[str, Any] = {"name": f.name, "flag": "--" + f.name.replace("_", "-")}
    optional = False
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"{where}: union {hint} has no command-line form")
        hint = rest[0]
    choices = None
    if typing.get_origin(hint) is Literal:
        choices = list(typing.get_args(hint))
        hint = type(choices[0])
    origin = typing.get_origin(hint) or hint
    if hint in SCALARS:
        rec["kind"] = SCALARS[hint]
    elif origin is tuple:
        items = typing.get_args(hint)
        if not items or (len(items) == 2 and items[1] is Ellipsis):
            item, length = (items[0] if items else str), None
        elif len(set(items)) == 1:
            item, length = items[0], len(items)
        else:
            raise TypeError(f"{where}: {hint} has no command-line form")
        if item not in SCALARS or item is bool:
            raise TypeError(f"{where}: tuple items of type {item} have no command-line form")
        rec.update(kind="tuple", item=SCALARS[item], length=length)
    elif isinstance(origin, type) and issubclass(origin, Mapping):
        rec["kind"] = "mapping"
    else:
        raise TypeError(
            f"{where}: type {hint} has no command-line form; extend "
            "empathy_models/cli/manifest.py (field_record) and cli/options.py"
        )
    doc_choices = set_choices(typ)
    if choices is not None and doc_choices is not None and set(doc_choices) != set(choices):
        raise TypeError(f"{where}: docstring choices {doc_choices} differ from {choices}")
    rec["choices"] = choices if choices is not None else doc_choices
    rec["optional"] = optional
    if f.default is not dataclasses.MISSING:
        default = f.default
    elif f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    else:
        default = None
        rec["required"] = True
    rec["default"] = list(default) if isinstance(default, tuple) else default
    rec["help"] = help_text
    return rec


def class_records(cls: type) -> list[dict]:
    """Records of every public init field of the dataclass ``cls``, in field order
    (keyword-only fields, such as :class:`ModelSpec`'s ``standardize`` and ``priors``, last)."""
    hints = typing.get_type_hints(cls)
    docs = class_parameters(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")]
    fields.sort(key=lambda f: f.kw_only is True)  # the class's own options before the shared ones
    return [field_record(cls, f, hints[f.name], docs) for f in fields]


def build() -> dict:
    """The manifest, from the live classes (imports the modelling stack)."""
    from empathy_models.inference.samplers import SamplerSettings, study_preset
    from empathy_models.models import MODEL_FAMILIES

    families = {}
    for family in sorted(MODEL_FAMILIES):
        cls = MODEL_FAMILIES[family]
        families[family] = {
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "summary": plain_text((cls.__doc__ or "").strip().splitlines()[0]),
            "fields": class_records(cls),
        }
    study = study_preset().to_dict()
    default = SamplerSettings().to_dict()
    return {
        "generated_by": REGENERATE,
        "sampler": {
            "class": f"{SamplerSettings.__module__}:{SamplerSettings.__qualname__}",
            "fields": class_records(SamplerSettings),
            "study_defaults": {k: v for k, v in study.items() if v != default[k]},
        },
        "families": families,
    }


def dumps(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the manifest, or with ``--check`` report whether the written one is current."""
    argv = sys.argv[1:] if argv is None else argv
    text = dumps(build())
    current = MANIFEST_PATH.read_text() if MANIFEST_PATH.exists() else ""
    if "--check" in argv:
        if text != current:
            print(f"{MANIFEST_PATH} is stale; run {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    if text != current:
        from empathy_models._io import atomic_write

        atomic_write(MANIFEST_PATH, text)
        print(f"wrote {MANIFEST_PATH}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
