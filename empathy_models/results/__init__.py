"""Results layer: the Result object, summaries, IO, comparison and plots."""

from empathy_models.results.result import Result, load_result

__all__ = ["Result", "load_result"]
