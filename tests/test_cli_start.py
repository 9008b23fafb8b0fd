"""The command line starts at once: commands import only the libraries they use (issue 14, item 7).

Timings are in benchmarks/cli_start.py; these tests check the cause (which modules a command
imports), which does not depend on the machine's load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "pandas", "scipy", "mesa", "matplotlib", "SALib", "dask", "distributed", "pyarrow", "tqdm")


def imported_after(*commands: list[str]) -> set[str]:
    """The top-level packages imported by running `commands` (main(argv) in turn) in one fresh process."""
    code = ("import json, sys, contextlib, io\nfrom sim.cli import main\n"
            f"for argv in {commands!r}:\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            "        try:\n"
            "            assert main(argv) in (0, 2), argv\n"
            "        except SystemExit as exc:  # --help\n"
            "            assert exc.code == 0, argv\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_list_validate_show_import_no_heavy_library():
    loaded = imported_after(["--help"], ["list"], ["validate", "scenarios/west_reshoring.toml"], ["show", "baseline"],
                            ["run", "--help"], ["sweep", "--help"], ["compare", "--help"], ["--version"],
                            ["rnu"])
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_validating_an_experiment_needs_numpy_only():
    loaded = imported_after(["validate", "experiments/us_reshoring_levers.toml",
                             "experiments/us_policies_futures.toml"])
    assert not loaded & (set(HEAVY) - {"numpy"}), loaded & set(HEAVY)


def test_a_run_without_figures_imports_neither_matplotlib_nor_the_rest_of_mesa(tmp_path):
    argv = ["run", "--firms", "40", "--until", "2026", "--no-plot", "--out", str(tmp_path / "r")]
    unused = ("matplotlib", "SALib", "dask", "networkx", "scipy.spatial", "mesa.discrete_space", "mesa.batchrunner")
    code = (f"import sys; from sim.cli import main\nassert main({argv!r}) == 0\n"
            f"print(sorted(m for m in {unused!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_light_mesa_becomes_the_whole_package_on_first_use():
    code = ("import sys; import sim.model.model; import mesa\n"
            "assert 'mesa.discrete_space' not in sys.modules\n"
            "from mesa import DataCollector; import mesa.discrete_space\n"
            "print(mesa.__version__, mesa.Model is sim.model.model.mesa.Model, hasattr(mesa, 'batch_run'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    version, same, complete = out.stdout.split()
    assert version.startswith("3.") and same == "True" and complete == "True"


def test_metric_names_read_from_source_equal_the_recorder_columns():
    from sim.experiments.outcomes import country_columns
    from sim.model.record import COUNTRY_COLUMNS

    assert country_columns() == tuple(COUNTRY_COLUMNS)


def test_commands_built_on_use_still_show_their_options(capsys):
    from sim.cli import main
    from sim.history import fit

    assert main(["calibrate", "--quik"]) == 2
    assert "did you mean '--quick'?" in capsys.readouterr().err
    try:
        main(["calibrate", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert ",".join(fit.DEFAULT_PARAMS) in capsys.readouterr().out.replace("\n", "").replace(" ", "")
