"""Bayesian hierarchical models for psychotherapy process research."""

from empathy_models import models as _models  # noqa: E402
from empathy_models._version import __version__
from empathy_models.data import PreparedData, Roles, prepare, read_table  # noqa: E402
from empathy_models.inference import fit  # noqa: E402
from empathy_models.models import *  # noqa: E402,F403
from empathy_models.results import Result, compare, load_result  # noqa: E402

__all__ = [
    "PreparedData",
    "Result",
    "Roles",
    "__version__",
    "compare",
    "fit",
    "load_result",
    "prepare",
    "read_table",
    *_models.__all__,
]
