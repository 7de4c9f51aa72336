"""Regenerate the shipped simulated study in ``data/simulated_study``.

Usage (from the repository root)::

    .venv/bin/python scripts/make_shipped_data.py

Calls :func:`~empathy_models.data.simulate.write_shipped_study`: the study simulated by
:func:`~empathy_models.data.simulate.simulate_study` from the shipped design
(:func:`~empathy_models.data.simulate.shipped_design`: 40 therapists x 6 clients x 10 sessions
x 12 EMA moments, inverted-U form, every effect on) with the seed
:data:`~empathy_models.data.simulate.SHIPPED_SEED`, and its data card. The written files are
byte-identical on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO))

from empathy_models.data.simulate import write_shipped_study  # noqa: E402


def main() -> int:
    """Write the shipped study and its data card; print the folder and file sizes."""
    out = write_shipped_study(REPO / "data" / "simulated_study")
    total = 0
    for path in sorted(out.iterdir()):
        size = path.stat().st_size
        total += size
        print(f"{path.relative_to(REPO)}  {size / 1024:.1f} KiB")
    print(f"total {total / 1024 / 1024:.2f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
