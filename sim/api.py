"""The Python API behind `factoryshift run`: run a scenario, get data frames, write results."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.model.model import FactoryShiftModel
from sim.output import results_folder, to_json
from sim.provenance import git_commit, library_versions, now_iso
from sim.scenarios.scenario import Scenario, load_scenario


@dataclass
class RunResult:
    """What one run produced: ``countries`` (year × country), ``flows``, optional ``firms``."""

    countries: pd.DataFrame
    flows: pd.DataFrame
    model: FactoryShiftModel
    manifest: dict
    firms: pd.DataFrame | None = None

    def shares(self) -> pd.DataFrame:
        """Production shares as a year × country table."""
        return self.countries.pivot(index="year", columns="country", values="production_share")[
            self.model.state.codes]

    def summary(self) -> pd.DataFrame:
        """Each country's production share in the first and last recorded year."""
        shares = self.shares()
        first, last = shares.index[0], shares.index[-1]
        table = pd.DataFrame({f"share_{first}": shares.loc[first], f"share_{last}": shares.loc[last]})
        table["change_pp"] = 100 * (table.iloc[:, 1] - table.iloc[:, 0])
        names = dict(zip(self.model.state.codes, self.model.state.names))
        table.insert(0, "name", [names[c] for c in table.index])
        return table


def run_scenario(scenario: Scenario | str | Path = "baseline", *, seed=None, firms: int | None = None,
                 until: int | None = None, record_firms: bool = False) -> RunResult:
    """Run a scenario (bundled name, path or `Scenario`) and return its `RunResult`.

    >>> result = run_scenario("baseline", seed=1, firms=2000)   # doctest: +SKIP
    >>> result.summary()                                       # doctest: +SKIP
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_run_options(scenario, seed=seed, firms=firms, until=until)
    started, t0 = now_iso(), time.perf_counter()
    model = FactoryShiftModel(scenario, seed=seed, firms=firms, record_firms=record_firms)
    model.run(until)
    wall = time.perf_counter() - t0
    manifest = {
        "command": "run",
        "scenario": scenario.name,
        "scenario_path": str(scenario.path) if scenario.path else None,
        "title": scenario.title,
        "seed": model.seed if isinstance(model.seed, int) else repr(model.seed),
        "firms": model.n0,
        "years": [model.start_year, model.year],
        "overrides": scenario.overrides,
        "parameters": scenario.data,
        "versions": library_versions(),
        "git_commit": git_commit(),
        "started": started,
        "wall_seconds": round(wall, 4),
    }
    return RunResult(model.recorder.countries(), model.recorder.flows(), model, manifest, model.recorder.firms())


def check_run_options(scenario: Scenario, *, seed=None, firms=None, until=None) -> None:
    src = str(scenario.path or scenario.name)
    errors = []
    if seed is not None and isinstance(seed, (int, np.integer)) and seed < 0:
        errors.append(f"{src}: --seed: must be ≥ 0, got {seed}")
    if firms is not None and not 10 <= firms <= 20_000_000:
        errors.append(f"{src}: --firms: must be between 10 and 20,000,000, got {firms}")
    start, end = scenario.run["start_year"], scenario.run["end_year"]
    if until is not None and not start < until <= end:
        errors.append(f"{src}: --until: must be after run.start_year = {start} and at most run.end_year = {end},"
                      f" got {until}")
    if errors:
        raise UserError(errors)


#: Every file `run` writes (what else is in its folder is the user's, and is kept when it is written again).
RUN_FILES = ("countries.csv", "flows.csv", "firms.parquet", "shares.png", "shares.svg", "automation.png",
             "automation.svg", "relocations.png", "relocations.svg", "manifest.json")


def write_results(result: RunResult, out_dir: str | Path, plot=True, force: bool = False) -> Path:
    """Write countries.csv, flows.csv, manifest.json (and firms.parquet, and the figures: shares,
    automation and relocations as PNG + SVG; `plot` may be a `sim.plots.RunPlots` with their options).

    The folder is built aside and swapped in whole (`sim.output.results_folder`): readers
    see the old result or the new one, never a mix. A folder written by another command is
    refused unless `force`.
    """
    with results_folder(out_dir, "run", outputs=RUN_FILES, force=force) as tmp:
        result.countries.to_csv(tmp / "countries.csv", index=False, float_format="%.17g")
        result.flows.to_csv(tmp / "flows.csv", index=False)
        if result.firms is not None:
            result.firms.to_parquet(tmp / "firms.parquet", index=False)
        if plot:
            from sim import plots

            plots.run_figures(result, tmp, plot if isinstance(plot, plots.RunPlots) else None)
        manifest = dict(result.manifest, files=sorted(p.name for p in tmp.iterdir()) + ["manifest.json"])
        (tmp / "manifest.json").write_text(to_json(manifest))
    return Path(out_dir)
