"""Reading user data from CSV, Parquet or a DataFrame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from empathy_models.errors import DataError, EmptyDataError


def read_table(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a data table.

    Parameters
    ----------
    source
        A path to a ``.csv`` / ``.tsv`` / ``.parquet`` file, or a DataFrame (copied, never
        modified).

    Returns
    -------
    pandas.DataFrame
        A new frame owned by the caller of this function.
    """
    if isinstance(source, pd.DataFrame):
        df = source.copy(deep=True)
    else:
        path = Path(source)
        suffix = path.suffix.lower()
        if suffix not in (".parquet", ".pq", ".tsv", ".csv"):
            raise DataError(
                f"unsupported file type {suffix!r} for {path}: use .csv, .tsv or .parquet"
            )
        if not path.exists():
            raise DataError(f"data file not found: {path}")
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        elif suffix == ".tsv":
            df = pd.read_csv(path, sep="\t")
        elif suffix == ".csv":
            df = pd.read_csv(path)
        else:
            raise DataError(
                f"unsupported file type {suffix!r} for {path}: use .csv, .tsv or .parquet"
            )
    if len(df) == 0:
        raise EmptyDataError("the data has no rows")
    return df
