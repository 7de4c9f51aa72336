"""``empathy-models summary``, ``report`` and ``compare``: saved results."""

from __future__ import annotations

from pathlib import Path

import click

from empathy_models.cli.app import app
from empathy_models.cli.output import echo, print_table, write_csv

ResultPath = click.Path(path_type=Path, dir_okay=True)
CsvPath = click.Path(path_type=Path, dir_okay=False)
csv_option = click.option("--csv", type=CsvPath, help="Write the table as CSV.")


@app.command()
@click.argument("result", type=ResultPath)
@csv_option
def summary(result: Path, csv: Path | None) -> None:
    """Print the summary table of a saved result."""
    from empathy_models.results.result import load_result

    r = load_result(result)
    echo(repr(r))
    table = r.summary()
    print_table(table)
    for k, v in r.probabilities.items():
        echo(f"{k} = {v:.3f}")
    write_csv(table, csv, index_label="parameter")


@app.command()
@click.argument("result", type=ResultPath)
@click.option(
    "--out",
    type=CsvPath,
    default=Path("report.md"),
    show_default=True,
    help="Report file: .md (Markdown) or .html.",
)
@click.option("--ci-prob", type=float, default=0.9, show_default=True, help="Interval probability.")
def report(result: Path, out: Path, ci_prob: float) -> None:
    """Write a Markdown or HTML report (tables, probabilities, figure, provenance)."""
    from empathy_models.results.report import write_report
    from empathy_models.results.result import load_result

    path = write_report(load_result(result), out, ci_prob=ci_prob)
    echo(f"wrote {path}")


@app.command()
@click.argument("results", type=ResultPath, nargs=-1, required=True)
@csv_option
def compare(results: tuple[Path, ...], csv: Path | None) -> None:
    """Compare fitted models by PSIS-LOO (elpd, SE, differences, stacking weights)."""
    import pandas as pd

    from empathy_models.results.compare import compare as loo_compare
    from empathy_models.results.result import load_result

    loaded = {}
    for path in results:
        name = path.stem
        while name in loaded:
            name += "_"
        loaded[name] = load_result(path)
    table = loo_compare(loaded)
    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.float_format", "{:.4g}".format
    ):
        echo(table.to_string())
    write_csv(table, csv, index_label="model")
