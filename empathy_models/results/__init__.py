"""Results layer: the Result object, summaries, IO, comparison and plots."""

from empathy_models.results.compare import compare
from empathy_models.results.result import Result, load_result

__all__ = ["Result", "compare", "load_result"]

from empathy_models.results.agreement import (  # noqa: E402
    dstudy_table,
    group_comparison_table,
    icc_table,
    plot_dstudy,
    plot_group_contrasts,
    plot_rater_offsets,
    rater_contrast_table,
    rater_offset_table,
)

__all__ += [
    "dstudy_table",
    "group_comparison_table",
    "icc_table",
    "plot_dstudy",
    "plot_group_contrasts",
    "plot_rater_offsets",
    "rater_contrast_table",
    "rater_offset_table",
]
