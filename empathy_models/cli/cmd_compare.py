"""``empathy-models compare``: PSIS-LOO comparison of saved results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from empathy_models.cli.main import app


@app.command("compare")
def compare_cmd(
    results: Annotated[
        list[Path], typer.Argument(help="Two or more result files written by `fit`.")
    ],
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the table as CSV.")] = None,
) -> None:
    """Compare fitted models by PSIS-LOO (elpd, SE, differences, stacking weights)."""
    from empathy_models.results.compare import compare
    from empathy_models.results.result import load_result

    loaded = {}
    for path in results:
        name = path.stem
        while name in loaded:
            name += "_"
        loaded[name] = load_result(path)
    table = compare(loaded)
    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.float_format", "{:.4g}".format
    ):
        typer.echo(table.to_string())
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(csv, index_label="model")
        typer.echo(f"wrote {csv}")
