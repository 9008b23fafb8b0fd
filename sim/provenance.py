"""What a result needs to be reproduced: versions, git commit, time."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

LIBRARIES = ("numpy", "mesa", "pandas", "scipy", "pyarrow", "matplotlib")


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version  # here: 15 ms that --help need not pay

    out = {"python": platform.python_version()}
    for name in ("factoryshift", *LIBRARIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """HEAD of the source tree the package runs from (``+dirty`` if it has changes), or None."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
