"""Sampler dispatch, the ``fit`` entry point and convergence diagnostics."""

from empathy_models.inference.diagnostics import Diagnostics, diagnose
from empathy_models.inference.fit import fit
from empathy_models.inference.samplers import SAMPLERS, SamplerSettings, sample

__all__ = ["Diagnostics", "SAMPLERS", "SamplerSettings", "diagnose", "fit", "sample"]
