"""Simulation studies on Dask: simulation-based calibration, parameter recovery, power.

* :mod:`~empathy_models.studies.engine`: :func:`run_study` runs replicates on a
  ``dask.distributed`` cluster (local processes by default, or a scheduler address), seeds
  replicate ``i`` by ``SeedSequence([seed, i])``, writes one file per replicate (resume,
  failures recorded) and returns a tidy table.
* :mod:`~empathy_models.studies.sbc`: SBC for every model family.
* :mod:`~empathy_models.studies.recovery`: bias, RMSE and interval coverage.
* :mod:`~empathy_models.studies.power`: power curves for the therapist share, a moderation
  contrast and the quadratic optimum.

Needs the ``dask`` extra (``pip install 'empathy_models[dask]'``).
"""

from empathy_models.studies.engine import load_study, run_study
from empathy_models.studies.fitting import SamplingPlan
from empathy_models.studies.power import plot_power, power_table, run_power
from empathy_models.studies.recovery import recovery_table, run_recovery
from empathy_models.studies.sbc import family_summary, plot_sbc, run_sbc, uniformity

__all__ = [
    "SamplingPlan",
    "family_summary",
    "load_study",
    "plot_power",
    "plot_sbc",
    "power_table",
    "recovery_table",
    "run_power",
    "run_recovery",
    "run_sbc",
    "run_study",
    "uniformity",
]
