"""Writing results: output folders checked before any work, files moved in atomically, plain JSON."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sim.errors import UserError


def ensure_out_dir(path: str | Path, option: str = "--out") -> Path:
    """Create the output folder (and parents) or say in one line why it cannot be used.

    Called before a run starts, so a bad folder fails in a second, not after the work.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(f"{option}: {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option}: {out}: cannot create the folder: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"{option}: {out}: the folder is not writable")
    return out


@contextlib.contextmanager
def staged_files(out_dir: str | Path) -> Iterator[Path]:
    """Write into a temporary folder inside `out_dir`; on success move each file in with
    `os.replace` (atomic per file), so a crash never leaves a half-written file behind and
    files from an earlier run stay whole until replaced."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        yield tmp
        for item in tmp.iterdir():
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def json_safe(value):
    """Plain JSON: non-finite floats as strings ("inf"), numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def to_json(value) -> str:
    return json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n"
