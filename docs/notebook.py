"""docs/tutorial.ipynb from docs/tutorial.py (percent format): the same cells, no outputs.

    python docs/notebook.py          # (make docs) rewrite the notebook
    python docs/notebook.py --check  # exit 1 if the notebook is out of date

tests/test_tutorial.py runs the script and checks the notebook is in sync with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPT, NOTEBOOK = HERE / "tutorial.py", HERE / "tutorial.ipynb"


def cells(text: str) -> list[tuple[str, str]]:
    """(kind, source) of each ``# %%`` cell; markdown cells lose their leading ``# ``."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            out.append(("markdown" if "[markdown]" in line else "code", []))
        elif out:
            out[-1][1].append(line)
    result = []
    for kind, lines in out:
        if kind == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        result.append((kind, "\n".join(lines).strip("\n")))
    return result


def notebook(text: str) -> dict:
    def cell(i: int, kind: str, source: str) -> dict:
        base = {"cell_type": kind, "id": f"cell-{i}", "metadata": {}, "source": source.splitlines(keepends=True)}
        return base | ({"execution_count": None, "outputs": []} if kind == "code" else {})

    return {"cells": [cell(i, k, s) for i, (k, s) in enumerate(cells(text))],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def render(text: str) -> str:
    return json.dumps(notebook(text), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    wanted = render(SCRIPT.read_text())
    if "--check" in sys.argv:
        sys.exit(0 if NOTEBOOK.is_file() and NOTEBOOK.read_text() == wanted else 1)
    NOTEBOOK.write_text(wanted)
