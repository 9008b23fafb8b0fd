"""The executed tutorial: docs/tutorial.py runs to the end, and docs/tutorial.ipynb has its cells."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def notebook_module():
    spec = importlib.util.spec_from_file_location("docs_notebook", DOCS / "notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_runs(tmp_path):
    env = dict(os.environ, FACTORYSHIFT_TUTORIAL_OUT=str(tmp_path / "out"), MPLBACKEND="Agg")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(DOCS / "tutorial.py")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"[tutorial] {seconds:.1f} s")
    out = tmp_path / "out"
    for name in ("baseline/shares.svg", "baseline/relocations.png", "compare/compare.png", "compare/relocations.svg",
                 "west_reshoring_shares.png", "usa_mex_compare.png"):
        assert (out / name).is_file(), name
    sweeps = list(out.glob("sweep-*"))
    assert len(sweeps) == 1 and (sweeps[0] / "analysis.md").is_file()
    assert "Production share in 2040" in proc.stdout and "32/32 runs done" in proc.stdout


def test_notebook_has_the_script_cells():
    """docs/tutorial.ipynb is docs/tutorial.py cell for cell (make docs regenerates it)."""
    import nbformat

    module = notebook_module()
    wanted = module.cells((DOCS / "tutorial.py").read_text())
    nb = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    nbformat.validate(nb)
    assert [(c.cell_type, c.source) for c in nb.cells] == wanted
    assert (DOCS / "tutorial.ipynb").read_text() == module.render((DOCS / "tutorial.py").read_text())
