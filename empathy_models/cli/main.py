"""Entry point of the ``empathy-models`` command (``empathy_models.cli.main:main``)."""

from __future__ import annotations

import sys

from empathy_models.cli.app import app
from empathy_models.cli.output import fail
from empathy_models.errors import EmpathyModelsError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the command line: data and usage errors exit with status 2 and one line on stderr
    (``error: ...``), never a traceback."""
    try:
        app.main(args=argv, prog_name="empathy-models", standalone_mode=True)
    except EmpathyModelsError as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(str(exc))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
