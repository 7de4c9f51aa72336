"""Results layer: the Result object, summaries, IO, comparison and plots."""

from empathy_models.results.compare import compare
from empathy_models.results.result import Result, load_result

__all__ = ["Result", "compare", "load_result"]
