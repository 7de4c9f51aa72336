"""Printing and writing what a command produced."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def echo(text: str) -> None:
    click.echo(text)


def fail(message: str) -> None:
    """One line on stderr, ``error: ...``, and exit status 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def print_table(table) -> None:
    """The summary columns of a result's table (mean, sd, interval, ESS, R-hat)."""
    import pandas as pd

    cols = [
        c
        for c in table.columns
        if c in ("mean", "sd", "ess_bulk", "ess_tail", "r_hat") or c.startswith("eti")
    ]
    with pd.option_context(
        "display.width", 160, "display.max_rows", 200, "display.float_format", "{:.4g}".format
    ):
        echo(table[cols].to_string())


def write_csv(table, path: Path | None, **kwargs) -> None:
    """Write ``table`` as CSV to ``path`` (when given) and say so."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, **kwargs)
    echo(f"wrote {path}")


def write_outputs(result, out: Path, summary_csv: Path | None) -> None:
    """Save the result, print its summary, probabilities and diagnostics; optionally write
    the summary as CSV."""
    result.save(out)
    table = result.summary()
    print_table(table)
    for k, v in result.probabilities.items():
        echo(f"{k} = {v:.3f}")
    write_csv(table, summary_csv, index_label="parameter")
    d = {k: (float("nan") if v is None else v) for k, v in result.diagnostics.items()}
    echo(
        f"diagnostics: max R-hat {d['max_rhat']:.3f}, min bulk ESS {d['min_ess_bulk']:.0f}, "
        f"min tail ESS {d['min_ess_tail']:.0f}, divergences {d['divergences']}"
    )
    echo(f"wrote {out}")
