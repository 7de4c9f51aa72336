"""The command objects of ``empathy-models``: the root group and the ``fit`` group.

Command modules (``cmd_*.py``) import :data:`app` from here and add their commands to it;
:class:`AppGroup` imports them the first time it is asked for its commands, so ``app`` is
complete however it was imported (and nothing imports the entry point, :mod:`.main`).
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from empathy_models import errors
from empathy_models._version import __version__
from empathy_models.cli.fit_commands import FitGroup


class AppGroup(click.Group):
    """The root group: loads the ``cmd_*`` modules on first use and runs every command with
    error messages in command-line words (:func:`empathy_models.errors.cli_words`)."""

    _loaded = False

    def _load(self) -> None:
        if AppGroup._loaded:
            return
        AppGroup._loaded = True
        import empathy_models.cli as pkg

        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("cmd_"):
                importlib.import_module(f"empathy_models.cli.{info.name}")

    def list_commands(self, ctx) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx, name: str):
        self._load()
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        with errors.cli_words():
            return super().invoke(ctx)


app = AppGroup(
    "empathy-models",
    help="Bayesian hierarchical models for psychotherapy process research.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
click.version_option(__version__, "--version", prog_name="empathy-models")(app)

fit = FitGroup(
    "fit",
    help="Fit a model family to a CSV, TSV or Parquet file.",
    no_args_is_help=True,
)
app.add_command(fit)
