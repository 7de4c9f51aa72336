"""The package's one JSON helper and one atomic writer.

* :func:`to_plain` turns numpy scalars and arrays, tuples and non-finite floats into plain
  JSON types; :func:`dumps` and :func:`loads` use it, so every JSON the package writes (result
  attributes, study records, benchmark records, truth files) is strict JSON.
* :func:`atomic_write` writes a file under a temporary name in the target folder and renames
  it into place (``os.replace``), so an interrupted write never leaves a partial file.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def to_plain(value: Any, digits: int | None = None) -> Any:
    """Recursively convert ``value`` to plain JSON types.

    numpy scalars and arrays become Python numbers and lists, tuples become lists, dict keys
    become strings and non-finite floats become ``None``. With ``digits`` floats are rounded
    to that many significant digits.
    """
    if isinstance(value, dict):
        return {str(k): to_plain(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v, digits) for v in value]
    if isinstance(value, np.ndarray):
        return [to_plain(v, digits) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return None
        return v if digits is None else float(f"{v:.{digits}g}")
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(obj: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Strict JSON text of ``obj`` (see :func:`to_plain`)."""
    return json.dumps(to_plain(obj), indent=indent, sort_keys=sort_keys, allow_nan=False)


def loads(text: str | bytes | None, default: Any = None) -> Any:
    """Parse JSON text; ``None`` or an empty string gives ``default``. Already-parsed values
    (dicts, lists) are returned as they are, so callers need not know how a value was stored."""
    if text is None or text == "" or text == b"":
        return default
    if not isinstance(text, str | bytes):
        return text
    return json.loads(text)


def atomic_write(path: str | Path, write: Callable[[Path], None] | str | bytes) -> Path:
    """Write ``path`` atomically.

    Parameters
    ----------
    path
        Target file or folder (a ``.zarr`` store is a folder).
    write
        Text or bytes to write, or a callable that writes to the temporary path it is given
        (e.g. ``lambda p: tree.to_netcdf(p)``).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmpname = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmpname)
    try:
        if callable(write):
            tmp.unlink()
            write(tmp)
        else:
            mode = "wb" if isinstance(write, bytes) else "w"
            with open(tmp, mode) as fh:
                fh.write(write)
        if tmp.is_file():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual mode
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, obj: Any, *, indent: int | None = 2) -> Path:
    """Atomically write ``obj`` as strict JSON (with a trailing newline)."""
    return atomic_write(path, dumps(obj, indent=indent) + "\n")


def read_json(path: str | Path, default: Any = None) -> Any:
    """Read a JSON file, or ``default`` when it does not exist."""
    path = Path(path)
    if not path.exists():
        return default
    return json.loads(path.read_text())
