"""Bayesian hierarchical models for psychotherapy process research."""

from empathy_models import models as _models  # noqa: E402
from empathy_models._version import __version__
from empathy_models.data import PreparedData, Roles, prepare, read_table  # noqa: E402
from empathy_models.inference import fit  # noqa: E402
from empathy_models.models import *  # noqa: E402,F403
from empathy_models.results import (  # noqa: E402
    Result,
    compare,
    contrast_table,
    contributions_table,
    corr_table,
    effects_table,
    impulse_response,
    leave_one_study_out,
    load_result,
    optimum_table,
    prior_sensitivity,
    shares_table,
    slope_table,
    therapist_table,
    write_report,
)

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
    "write_report",
    "contributions_table",
    "contrast_table",
    "corr_table",
    "effects_table",
    "impulse_response",
    "leave_one_study_out",
    "optimum_table",
    "prior_sensitivity",
    "shares_table",
    "slope_table",
    "therapist_table",
    *_models.__all__,
]
