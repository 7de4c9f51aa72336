"""One look for every figure: arviz-plots' ``arviz-variat`` style, its palette, Agg backend.

Generic figures are drawn by :mod:`arviz_plots` (matplotlib backend); the domain figures of
the families (share bars, form curve, impulse responses, ...) are drawn with matplotlib
inside :func:`figure_style`, so both share fonts, colours and spines.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: The ``arviz-variat`` colour cycle, used by the domain figures too.
PALETTE = (
    "#36acc6",
    "#f66d7f",
    "#fac364",
    "#7c2695",
    "#228306",
    "#a252f4",
    "#63f0ea",
    "#a77e4f",
)
#: Colours of the variance components (share bars) and of reference lines.
COMPONENT_COLORS = {
    "therapist": PALETTE[0],
    "client": PALETTE[1],
    "session": PALETTE[2],
    "residual": "#999999",
}
REFERENCE = "0.35"
DPI = 110

_ARVIZ_STYLE = "arviz-variat"
#: Smaller text than the arviz-variat defaults: report figures are read at page width.
_OVERRIDES = {
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
    "font.size": 10,
}


def _style_path() -> str:
    import arviz_plots

    path = Path(arviz_plots.__file__).parent / "styles" / f"{_ARVIZ_STYLE}.mplstyle"
    return str(path) if path.exists() else "default"


@contextlib.contextmanager
def figure_style():
    """Context in which every figure of the package is drawn (style restored on exit)."""
    with plt.style.context([_style_path(), _OVERRIDES]):
        yield


def quantiles(ci_prob: float) -> tuple[float, float]:
    """Lower and upper quantiles of the equal-tailed ``ci_prob`` interval."""
    if not 0 < ci_prob < 1:
        from empathy_models.errors import ConfigError

        raise ConfigError(f"ci_prob must be between 0 and 1, got {ci_prob!r}")
    return (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2


def percent(ci_prob: float) -> str:
    """``0.9 -> "90%"``, ``0.95 -> "95%"``, ``0.975 -> "97.5%"``."""
    return f"{100 * ci_prob:g}%"


def save(fig, path=None, dpi: int = DPI):
    """Save ``fig`` to ``path`` (when given) and return it."""
    if path is not None:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


__all__ = [
    "COMPONENT_COLORS",
    "PALETTE",
    "REFERENCE",
    "figure_style",
    "percent",
    "quantiles",
    "save",
]
