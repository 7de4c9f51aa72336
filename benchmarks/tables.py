"""The suite's one table renderer and the number formats of every results table."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import cases

#: Samplers that compile apart from sampling (their ``compile_s`` is meaningful).
NUTPIE = ("nutpie-numba", "nutpie-jax")

#: A column of a records table: its header and how a record's cell reads.
Column = tuple[str, Callable[[dict], str]]


def num(x) -> float | None:
    """``x`` as a finite float, else ``None``."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def fmt(x, digits: int = 1) -> str:
    v = num(x)
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def fmt_rows(n) -> str:
    v = num(n)
    return "–" if v is None else f"{int(v):,}"


def ok(r: dict) -> bool:
    return r.get("status") == "ok"


def status(r: dict) -> str:
    s = r.get("status", "?")
    if s == "ok":
        return "ok"
    err = str(r.get("error", "")).replace("|", "/").replace("\n", " ")
    return f"{s}: {err[:80]}"


def field(key: str, digits: int = 1) -> Callable[[dict], str]:
    """A cell reading: ``key`` of the record, formatted by :func:`fmt`."""
    return lambda r: fmt(r.get(key), digits)


def markdown_table(headers: list[str], rows: Iterable[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def records_table(columns: list[Column], records: Iterable[dict]) -> str:
    """One row per record, one cell per column."""
    rows = [[cell(r) for _, cell in columns] for r in records]
    return markdown_table([h for h, _ in columns], rows)


def sizes_in(records: list[dict]) -> list[str]:
    found = {r.get("size") for r in records}
    return [s for s in cases.SIZES if s in found]


def samplers_in(records: list[dict]) -> list[str]:
    found = {r.get("sampler") for r in records}
    return [s for s in cases.SAMPLERS if s in found]


def families_in(records: list[dict]) -> list[str]:
    found = {r.get("family") for r in records}
    return [f for f in cases.FAMILIES if f in found]


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
