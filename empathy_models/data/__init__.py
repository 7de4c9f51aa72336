"""Data layer: role mapping, validation, reading files, simulation."""

from empathy_models.data.io import read_table
from empathy_models.data.roles import Roles
from empathy_models.data.validation import PreparedData, prepare

__all__ = ["PreparedData", "Roles", "prepare", "read_table"]
