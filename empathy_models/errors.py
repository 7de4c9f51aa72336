"""Exception and warning classes of the package.

Every problem with a user's data raises a subclass of :class:`DataError`, which is a
``ValueError``. Its message names the role, the column and the first offending rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

MAX_ROWS_SHOWN = 5


# -- option hints: Python keywords in a script, command-line flags under the CLI ---------------
_CLI_WORDS: ContextVar[bool] = ContextVar("empathy_models_cli_words", default=False)
_NO_VALUE = object()


class Placeholder(NamedTuple):
    """A value a user fills in, spelt for Python and for the command line."""

    python: str
    cli: str


#: The user's column name, e.g. in ``Roles(therapist='your_column')`` / ``--therapist COLUMN``.
COLUMN = Placeholder("'your_column'", "COLUMN")


@contextlib.contextmanager
def cli_words() -> Iterator[None]:
    """Inside this block :func:`option_hint` spells options as command-line flags (the
    ``empathy-models`` command sets it for everything it runs)."""
    token = _CLI_WORDS.set(True)
    try:
        yield
    finally:
        _CLI_WORDS.reset(token)


def option_hint(name: str, value: Any = _NO_VALUE, *, role: bool = False) -> str:
    """How a user sets option ``name`` (to ``value``), for an error message.

    In Python: ``name='value'`` (``Roles(name='value')`` with ``role=True``). Under the command
    line (:func:`cli_words`): ``--name value``; ``True`` gives ``--name``, ``False``
    ``--no-name``, ``None`` ``--name none`` and a tuple ``--name a,b``.

    Examples
    --------
    >>> option_hint("missing_predictor", "drop")
    "missing_predictor='drop'"
    >>> with cli_words():
    ...     option_hint("missing_predictor", "drop")
    '--missing-predictor drop'
    """
    if _CLI_WORDS.get():
        flag = "--" + name.replace("_", "-")
        if value is _NO_VALUE or value is True:
            return flag
        if value is False:
            return "--no-" + name.replace("_", "-")
        if value is None:
            return f"{flag} none"
        if isinstance(value, Placeholder):
            return f"{flag} {value.cli}"
        if isinstance(value, tuple | list):
            return f"{flag} {','.join(str(v) for v in value)}"
        return f"{flag} {value}"
    if value is _NO_VALUE:
        text = name
    elif isinstance(value, Placeholder):
        text = f"{name}={value.python}"
    else:
        text = f"{name}={value!r}"
    return f"Roles({text})" if role else text


class EmpathyModelsError(Exception):
    """Base class of every error raised by ``empathy_models``."""


class DataError(EmpathyModelsError, ValueError):
    """Bad input data.

    Parameters
    ----------
    message
        What is wrong, in words.
    role
        The data role concerned (``"therapist"``, ``"measure"``, ...), if any.
    column
        The column in the user's frame, if any.
    rows
        Index labels of the offending rows (the first few are shown).
    """

    def __init__(
        self,
        message: str,
        *,
        role: str | None = None,
        column: str | None = None,
        rows: Sequence | None = None,
    ) -> None:
        self.role = role
        self.column = column
        self.rows = list(rows) if rows is not None else []
        parts = [message]
        where = []
        if role is not None:
            where.append(f"role '{role}'")
        if column is not None:
            where.append(f"column '{column}'")
        if where:
            parts.append(" (" + ", ".join(where) + ")")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:MAX_ROWS_SHOWN])
            more = len(self.rows) - MAX_ROWS_SHOWN
            parts.append(f"; first offending rows: [{shown}]")
            if more > 0:
                parts.append(f" and {more} more")
        super().__init__("".join(parts))


class MissingColumnError(DataError):
    """A column required by a role is not in the data."""


class EmptyDataError(DataError):
    """The data has no rows (left), or a measure has no values."""


class DataFileError(DataError):
    """A data file cannot be read: missing, of an unknown type, unreadable, not valid text,
    or ragged (a row with more fields than the header). The message names the file and,
    where known, the line.

    Parameters
    ----------
    message
        What is wrong, in words.
    path
        The file.
    line
        1-based line number in the file (the header is line 1), if known.
    """

    def __init__(self, message: str, *, path: Any = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        super().__init__(message)


class NonNumericError(DataError):
    """A measure or predictor column holds values that are not numbers."""


class NonFiniteError(DataError):
    """A numeric column holds +/-inf."""


class MissingValueError(DataError):
    """A predictor or id has missing values and no policy allows it."""


class NestingError(DataError):
    """A client appears under two therapists without a declared crossed design."""


class DuplicateOccasionError(DataError):
    """The same occasion (client, session, moment) appears more than once."""


class SessionNumberError(DataError):
    """Session numbers are not non-negative integers."""


class MomentOrderError(DataError):
    """Moments inside a session are not in increasing order."""


class ScaleBoundsError(DataError):
    """A value lies outside the declared scale bounds."""


class DegeneratePredictorError(DataError):
    """A predictor is all missing or constant."""


class ConstantMeasureError(DataError):
    """A measure (an outcome) is constant: there is no variance to model."""


class UnknownLevelError(DataError):
    """A categorical level in the data was not declared to the model (or has no data)."""


class TooFewGroupsError(DataError):
    """Fewer than two groups at a level the model must estimate."""


class ConfigError(EmpathyModelsError, ValueError):
    """A bad model option: an unknown prior name, an unknown sampler, a bad setting."""


class SamplerUnavailableError(EmpathyModelsError, ImportError):
    """The package behind a requested sampler is not installed."""


class ResultFileError(EmpathyModelsError, ValueError):
    """A saved result cannot be read back or fails its integrity checks."""


class TooFewGroupsWarning(UserWarning):
    """Few groups at a level: its variance will be poorly identified by the data."""


class ConvergenceWarning(UserWarning):
    """The sampler's diagnostics (R-hat, ESS, divergences) signal a problem."""


class DroppedRowsWarning(UserWarning):
    """Rows were dropped (and counted) under a missing-value policy."""
