"""What a family contributes to the report: tables and figures with a plain-words note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass
class ReportItem:
    """One block of a family's section in the report.

    Attributes
    ----------
    title
        Heading of the block.
    note
        What the block shows, in words (one or two sentences).
    table
        A table to render (optional).
    figure
        A matplotlib figure, or an arviz-plots ``PlotCollection`` (optional).
    """

    title: str
    note: str = ""
    table: pd.DataFrame | None = None
    figure: Any = None


__all__ = ["ReportItem"]
