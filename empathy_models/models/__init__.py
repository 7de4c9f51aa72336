"""Model families: one module each, each building a ``pm.Model`` from validated data."""

from empathy_models.models.base import MODEL_FAMILIES, ModelSpec, register
from empathy_models.models.variance import VariancePartition

__all__ = ["MODEL_FAMILIES", "ModelSpec", "VariancePartition", "register"]
