#!/usr/bin/env python
"""The results README and PNG plots, rebuilt from the section JSON files.

``python benchmarks/report.py [--out benchmarks/results]`` measures nothing: it rebuilds
``README.md`` and the plots from the ``<section>.json`` files in the folder (``run.py`` does
the same after every run). Each section's tables and plots are its module's
(``sections/*.py``); this file puts them together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from sections import SECTIONS, families, scaling  # noqa: E402

from empathy_models import _io  # noqa: E402

INTRO = (
    "Written by `benchmarks/run.py` (`make bench`, `make bench-peers`); see "
    "`docs/benchmarks.md` for what each number means. Each section keeps the results of "
    "its last run; the JSON files hold every record with machine, versions, seeds and sizes."
)


def summarize(section: str, doc: dict) -> dict:
    return SECTIONS[section].summarize(doc)


def headline(section: str, doc: dict) -> list[str]:
    return SECTIONS[section].headline(doc)


def _load(out: Path, section: str) -> dict | None:
    try:
        return _io.read_json(out / f"{section}.json")
    except ValueError:
        return None


def _machine_line(docs: dict) -> str | None:
    latest = None
    for d in docs.values():
        if d and d.get("runs"):
            latest = d["runs"].get(d.get("latest_run")) or latest
    if not latest:
        return None
    m, v = latest["machine"], latest["versions"]
    return (
        f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('ram_gb')} GB RAM, "
        f"{m.get('platform')}. Versions: "
        + ", ".join(f"{k} {val}" for k, val in v.items() if val)
        + "."
    )


def write_all(out: Path) -> Path:
    """Rebuild ``README.md`` and the plots from every section file in ``out``."""
    docs = {s: _load(out, s) for s in SECTIONS}
    parts = ["# empathy_models benchmark results", INTRO]
    if machine := _machine_line(docs):
        parts.append(machine)
    headlines = []
    if docs["families"]:
        headlines += families.headline(docs["families"])
    if docs["big"]:
        headlines += headline("big", docs["big"])
    if docs.get("agreement"):
        headlines += headline("agreement", docs["agreement"])
    if docs["peers"]:
        headlines += [h for h in headline("peers", docs["peers"]) if "vs" in h][:6]
    if headlines:
        parts.append("\n".join(f"* {h}" for h in headlines))
    for name, section in SECTIONS.items():
        d = docs[name]
        if not d:
            continue
        runs = d.get("runs", {})
        when = ", ".join(sorted({r.get("finished", r.get("started", "")) for r in runs.values()}))
        parts += section.render(d, out)
        parts.append(f"<sub>{name}: mode {d.get('mode')}, measured {when}</sub>")
    if docs["scaling"] or docs["peers"]:
        scaling.plot(docs["scaling"], docs["peers"], out / scaling.PLOT)
        if not docs["scaling"]:
            parts.append(f"![scaling]({scaling.PLOT})")
    # the final line: which sampler the numbers favour
    if docs["families"]:
        parts += families.headline(docs["families"])
    return _io.atomic_write(out / "README.md", "\n\n".join(parts) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    args = p.parse_args(argv)
    print(write_all(args.out.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
