"""Bayesian hierarchical models for psychotherapy process research.

The package imports lazily (PEP 562): ``import empathy_models`` is cheap, and the modelling
stack (PyMC, PyTensor, ArviZ) loads on first use of a name that needs it, e.g. ``em.fit`` or
``em.VariancePartition``. ``__all__`` and ``dir()`` list every public name.
"""

from __future__ import annotations

import importlib

from empathy_models import _cache
from empathy_models._version import __version__

_cache.configure()  # before numba and PyTensor are imported: they read it at import

#: Public names, by the module that defines them (a test checks this against the modules).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "empathy_models.data": ("PreparedData", "Roles", "prepare", "read_table"),
    "empathy_models.inference": ("fit",),
    "empathy_models.data.simulate": (
        "simulate_circuit",
        "simulate_contributions",
        "simulate_form_data",
        "simulate_meta",
        "simulate_moderation_data",
        "simulate_raters",
        "simulate_study",
        "load_shipped_study",
        "simulate_agreement",
        "simulate_comparison",
    ),
    "empathy_models.results": (
        "Result",
        "compare",
        "load_result",
        "write_report",
        "prior_sensitivity",
        "contributions_table",
        "contrast_table",
        "corr_table",
        "effects_table",
        "impulse_response",
        "leave_one_study_out",
        "optimum_table",
        "shares_table",
        "slope_table",
        "therapist_table",
        "icc_table",
        "dstudy_table",
        "rater_offset_table",
        "rater_contrast_table",
        "group_comparison_table",
    ),
    "empathy_models.models": (
        "MODEL_FAMILIES",
        "ModelSpec",
        "register",
        "CircuitData",
        "EmotionalCircuit",
        "TherapistCovariateError",
        "TooFewPairsError",
        "UnequalSpacingWarning",
        "lag_pairs",
        "Contributions",
        "ContributionsData",
        "NotConstantWithinClientError",
        "PredictorMissingForClientError",
        "observed_parts",
        "ClientOutcomeError",
        "FunctionalForm",
        "two_lines_draws",
        "CorrelationRangeError",
        "CountError",
        "MetaAnalysis",
        "MissingModeratorError",
        "NegativeVarianceError",
        "SampleSizeError",
        "ZeroCellError",
        "counts_to_effects",
        "typical_variance",
        "CollinearityWarning",
        "ModeratedEffects",
        "RaterData",
        "RaterPartition",
        "UnknownRaterError",
        "VariancePartition",
        "RaterAgreement",
        "RatingData",
        "anova_icc",
        "ResponderComparison",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["__version__", *_WHERE]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    else:
        try:  # a subpackage or module, e.g. ``em.models`` or ``em.errors``
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            models = importlib.import_module("empathy_models.models")
            if name not in getattr(models, "__all__", ()):  # exported but not listed above
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
            value = getattr(models, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
