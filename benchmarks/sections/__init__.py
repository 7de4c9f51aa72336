"""The benchmark sections, one module each, with one interface.

Every section module has ``run(runner, args) -> (records, settings)`` (measure),
``summarize(doc) -> dict`` (stored as the section file's ``summary``), ``headline(doc)``
(lines printed and quoted at the top of the results README) and ``render(doc, out)`` (its
Markdown blocks for the README, writing its plots into ``out``).
"""

from __future__ import annotations

from . import agreement, big, device, families, peers, scaling

#: Section name -> module, in the order the results README lists them.
SECTIONS = {
    "families": families,
    "scaling": scaling,
    "peers": peers,
    "big": big,
    "agreement": agreement,
    "gpu": device,
}
#: What a plain run measures (the gpu section only runs with ``--device-lane``).
DEFAULT_SECTIONS = ("families", "scaling", "peers", "big", "agreement")
