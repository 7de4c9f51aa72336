"""Results layer: the Result object, post-fit analyses and figures per family, the report.

* :mod:`~empathy_models.results.result`: :class:`Result`, :func:`load_result`, ``CI_PROB``;
* :mod:`~empathy_models.results.compare`: LOO comparison;
* one module per family with its tables and domain figures (``variance``, ``raters``,
  ``contributions``, ``form``, ``moderation``, ``circuit``, ``meta``, ``agreement`` for the
  agreement and responder-comparison families);
* :mod:`~empathy_models.results.figures`: generic figures on arviz-plots (forest by scale,
  posterior densities, rank plots, PPC, PIT, prior sensitivity);
* :mod:`~empathy_models.results.sensitivity`: prior sensitivity by power-scaling;
* :mod:`~empathy_models.results.report`: the HTML / Markdown report.
"""

from empathy_models.results.agreement import (
    dstudy_table,
    group_comparison_table,
    icc_table,
    plot_dstudy,
    plot_group_contrasts,
    plot_rater_offsets,
    rater_contrast_table,
    rater_offset_table,
)
from empathy_models.results.circuit import (
    impulse_response,
    plot_coupling_forest,
    plot_impulse_response,
    therapist_table,
)
from empathy_models.results.compare import compare
from empathy_models.results.contributions import contributions_table
from empathy_models.results.figures import (
    plot_pit,
    plot_posterior,
    plot_posterior_forest,
    plot_ppc,
    plot_prior_sensitivity,
    plot_rank_diagnostics,
)
from empathy_models.results.form import optimum_table, plot_form
from empathy_models.results.meta import (
    effects_table,
    leave_one_study_out,
    plot_funnel,
    plot_meta_forest,
)
from empathy_models.results.moderation import (
    contrast_table,
    plot_conditional_effects,
    plot_contrast_forest,
    slope_table,
)
from empathy_models.results.raters import corr_table
from empathy_models.results.report import write_report
from empathy_models.results.result import CI_PROB, Result, load_result
from empathy_models.results.sensitivity import prior_sensitivity
from empathy_models.results.variance import plot_shares, shares_table

#: Post-fit tables, also exported from the package root (``em.shares_table(result)``).
TABLES = (
    "contributions_table",
    "dstudy_table",
    "group_comparison_table",
    "icc_table",
    "rater_contrast_table",
    "rater_offset_table",
    "contrast_table",
    "corr_table",
    "effects_table",
    "impulse_response",
    "leave_one_study_out",
    "optimum_table",
    "prior_sensitivity",
    "rater_contrast_table",
    "rater_offset_table",
    "shares_table",
    "slope_table",
    "therapist_table",
)

__all__ = [
    "CI_PROB",
    "TABLES",
    "Result",
    "compare",
    "contributions_table",
    "contrast_table",
    "corr_table",
    "dstudy_table",
    "effects_table",
    "group_comparison_table",
    "icc_table",
    "impulse_response",
    "leave_one_study_out",
    "load_result",
    "optimum_table",
    "plot_conditional_effects",
    "plot_contrast_forest",
    "plot_coupling_forest",
    "plot_dstudy",
    "plot_form",
    "plot_funnel",
    "plot_group_contrasts",
    "plot_impulse_response",
    "plot_meta_forest",
    "plot_pit",
    "plot_posterior",
    "plot_posterior_forest",
    "plot_ppc",
    "plot_prior_sensitivity",
    "plot_rank_diagnostics",
    "plot_rater_offsets",
    "plot_shares",
    "prior_sensitivity",
    "rater_contrast_table",
    "rater_offset_table",
    "shares_table",
    "slope_table",
    "therapist_table",
    "write_report",
]
