"""Reading user data from CSV, TSV, Parquet or a DataFrame.

A file that cannot be read raises :class:`~empathy_models.errors.DataFileError` naming the file
and, where known, the line (for example a ragged row: more fields than the header).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from empathy_models.errors import DataFileError, EmptyDataError

SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


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

    Raises
    ------
    DataFileError
        The file is missing, of another type, unreadable, not UTF-8 text, or ragged.
    EmptyDataError
        The table has no rows.
    """
    if isinstance(source, pd.DataFrame):
        df = source.copy(deep=True)
    else:
        df = _read_file(Path(source))
    if len(df) == 0:
        raise EmptyDataError("the data has no rows")
    return df


def _read_file(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataFileError(
            f"unsupported file type {suffix!r} for {path}: use .csv, .tsv or .parquet", path=path
        )
    if not path.exists():
        raise DataFileError(f"data file not found: {path}", path=path)
    try:
        if suffix in (".parquet", ".pq"):
            try:
                return pd.read_parquet(path)
            except OSError:
                raise
            except Exception as exc:  # pyarrow raises its own classes for a non-Parquet file
                raise DataFileError(f"cannot read {path} as Parquet: {exc}", path=path) from None
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise EmptyDataError(f"the data file {path} is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        raise _parser_error(path, str(exc)) from None
    except UnicodeDecodeError as exc:
        line = _first_undecodable_line(path)
        where = f", line {line}" if line else ""
        raise DataFileError(
            f"cannot read {path}{where}: not UTF-8 text ({exc.reason}); save the file as UTF-8",
            path=path,
            line=line,
        ) from None
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc.strerror or exc}", path=path) from None


def _parser_error(path: Path, message: str) -> DataFileError:
    """A pandas parser message turned into one naming the file and the line."""
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        want, line, saw = (int(g) for g in m.groups())
        return DataFileError(
            f"{path}, line {line}: {saw} fields where the header has {want} (a ragged row; "
            "check for an unquoted separator inside a value)",
            path=path,
            line=line,
        )
    m = re.search(r"starting at row (\d+)", message)
    if m:  # the parser counts rows from 0, the header being row 0
        line = int(m.group(1)) + 1
        return DataFileError(
            f"{path}, line {line}: a quoted value is never closed", path=path, line=line
        )
    m = re.search(r"line (\d+)", message)
    line = int(m.group(1)) if m else None
    where = f", line {line}" if line else ""
    detail = message.split("C error: ")[-1].strip()
    return DataFileError(f"cannot parse {path}{where}: {detail}", path=path, line=line)


def _first_undecodable_line(path: Path) -> int | None:
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None
