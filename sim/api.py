"""The Python API behind `factoryshift run`: run a scenario, get data frames, write results.

Importing this module is light (NumPy, pandas and Mesa load when a run starts), so that
``import sim`` and the command line start at once.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import UserError
from sim.output import results_folder, to_json
from sim.provenance import git_commit, library_versions, now_iso
from sim.scenarios.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sim.model.model import FactoryShiftModel


@dataclass(repr=False)
class RunResult:
    """What one run produced. Data frames are attributes, derived tables are properties, and
    what takes arguments or formats is a method:

    * ``countries`` — one row per year × country, the columns of countries.csv (docs/ODD.md, "Outputs");
    * ``flows`` — relocated firms: ``year, hq, origin, destination, kind, firms``;
    * ``entrants`` — entrants: ``year, hq, location, firms``;
    * ``trade`` — the share of each market's demand supplied from each origin: ``year, origin, market, share``;
    * ``firms`` — every firm every year (only with ``record_firms=True``, else None);
    * ``shares`` — production shares as a year × country table (a property);
    * ``manifest`` — what reproduces the run (scenario, seed, firms, versions);
    * ``model`` — the `FactoryShiftModel` itself (``model.firm(42)``, ``model.country("KOR")``);
    * ``summary()`` — each country's share in the first and last year, and the change.

    `run_scenario` returns one; so does ``FactoryShiftModel.results()`` for a model run by hand.
    """

    countries: pd.DataFrame
    flows: pd.DataFrame
    entrants: pd.DataFrame
    trade: pd.DataFrame
    model: FactoryShiftModel
    manifest: dict
    firms: pd.DataFrame | None = None

    @property
    def shares(self) -> pd.DataFrame:
        """Production shares as a year × country table (countries in the scenario's order)."""
        return self.countries.pivot(index="year", columns="country", values="production_share")[
            self.model.state.codes]

    def summary(self) -> pd.DataFrame:
        """Each country's production share in the first and last recorded year, and the change in points."""
        import pandas as pd

        shares = self.shares
        first, last = shares.index[0], shares.index[-1]
        table = pd.DataFrame({f"share_{first}": shares.loc[first], f"share_{last}": shares.loc[last]})
        table["change_pp"] = 100 * (table.iloc[:, 1] - table.iloc[:, 0])
        names = dict(zip(self.model.state.codes, self.model.state.names))
        table.insert(0, "name", [names[c] for c in table.index])
        return table

    def __repr__(self) -> str:
        m = self.manifest
        years = m.get("years") or [None, None]
        extra = "" if self.firms is None else f", firms panel {len(self.firms):,} rows"
        return (f"<RunResult {m.get('scenario')!s}: seed {m.get('seed')}, {m.get('firms', 0):,} firms, "
                f"{years[0]}–{years[1]}; countries {len(self.countries):,} rows, flows {len(self.flows):,} rows"
                f"{extra}>")


def run_scenario(scenario: Scenario | str | Path = "baseline", *, seed: int | np.random.SeedSequence | None = None,
                 firms: int | None = None, until: int | None = None, record_firms: bool = False) -> RunResult:
    """Run a scenario once and return its `RunResult`.

    Parameters
    ----------
    scenario : a bundled scenario's name (``"baseline"``, see ``factoryshift list``), a path to a
        ``.toml`` file, or a `Scenario` (``sim.load_scenario(...).with_overrides({...})``).
    seed : the run's random seed (an integer ≥ 0 or a ``numpy.random.SeedSequence``); default the
        scenario's ``run.seed``. The same seed gives the same numbers, bit for bit.
    firms : firms at the start, 10 to 20,000,000; default the scenario's ``run.firms``.
    until : the last year to simulate, after ``run.start_year`` and at most ``run.end_year``;
        default ``run.end_year``.
    record_firms : also keep every firm every year (``result.firms``; costly for large runs).

    Raises `sim.errors.UserError` (one line per problem) for a bad scenario or option.

    >>> result = run_scenario("baseline", seed=1, firms=2000)   # doctest: +SKIP
    >>> result.summary()                                       # doctest: +SKIP
    """
    from sim.model.model import FactoryShiftModel

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_run_options(scenario, seed=seed, firms=firms, until=until)
    started, t0 = now_iso(), time.perf_counter()
    model = FactoryShiftModel(scenario, seed=seed, firms=firms, record_firms=record_firms)
    model.run(until)
    return result_of(model, started=started, wall_seconds=time.perf_counter() - t0)


def result_of(model: FactoryShiftModel, *, started: str | None = None, wall_seconds: float | None = None) -> RunResult:
    """The `RunResult` of `model` as it stands (``FactoryShiftModel.results()``)."""
    scenario = model.spec
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
        "observed": scenario.observed,
        "versions": library_versions(),
        "git_commit": git_commit(),
        "started": started,
        "wall_seconds": None if wall_seconds is None else round(wall_seconds, 4),
    }
    rec = model.recorder
    return RunResult(rec.countries(), rec.flows(), rec.entrants(), rec.trade(), model, manifest, rec.firms())


def check_run_options(scenario: Scenario, *, seed=None, firms=None, until=None, cli: bool = False) -> None:
    """`UserError` for a seed, firm count or last year the scenario cannot run with. Messages name the
    options as the caller wrote them: ``--firms`` on the command line (`cli`), ``firms`` in Python."""
    src = str(scenario.path or scenario.name)
    name = (lambda n: f"--{n}") if cli else (lambda n: n)
    errors = []
    if isinstance(seed, (bool, float, str)):   # what numpy.random.default_rng accepts besides: SeedSequence, ...
        errors.append(f"{src}: {name('seed')}: must be an integer ≥ 0 or a numpy SeedSequence, got {seed!r}")
    elif isinstance(seed, numbers.Integral) and seed < 0:
        errors.append(f"{src}: {name('seed')}: must be ≥ 0, got {seed}")
    if firms is not None and (isinstance(firms, bool) or not isinstance(firms, numbers.Integral)):
        errors.append(f"{src}: {name('firms')}: must be an integer, got {firms!r}")
    elif firms is not None and not 10 <= firms <= 20_000_000:
        errors.append(f"{src}: {name('firms')}: must be between 10 and 20,000,000, got {firms}")
    start, end = scenario.run["start_year"], scenario.run["end_year"]
    if until is not None and (isinstance(until, bool) or not isinstance(until, numbers.Integral)):
        errors.append(f"{src}: {name('until')}: must be a year (an integer), got {until!r}")
    elif until is not None and not start < until <= end:
        errors.append(f"{src}: {name('until')}: must be after run.start_year = {start} and at most run.end_year = "
                      f"{end}, got {until}")
    if errors:
        raise UserError(errors)


#: Every file `run` writes (what else is in its folder is the user's, and is kept when it is written again).
RUN_FILES = ("countries.csv", "flows.csv", "entrants.csv", "trade.csv", "firms.parquet", "shares.png", "shares.svg",
             "automation.png",
             "automation.svg", "relocations.png", "relocations.svg", "manifest.json")


def write_results(result: RunResult, out_dir: str | Path, plot=True, force: bool = False) -> Path:
    """Write countries.csv, flows.csv, entrants.csv, manifest.json (and firms.parquet, and the figures: shares,
    automation and relocations as PNG + SVG; `plot` may be a `sim.plots.RunPlots` with their options).

    The folder is built aside and swapped in whole (`sim.output.results_folder`): readers
    see the old result or the new one, never a mix. A folder written by another command is
    refused unless `force`.
    """
    with results_folder(out_dir, "run", outputs=RUN_FILES, force=force) as tmp:
        result.countries.to_csv(tmp / "countries.csv", index=False, float_format="%.17g")
        result.flows.to_csv(tmp / "flows.csv", index=False)
        result.entrants.to_csv(tmp / "entrants.csv", index=False)
        result.trade.to_csv(tmp / "trade.csv", index=False, float_format="%.10g")
        if result.firms is not None:
            result.firms.to_parquet(tmp / "firms.parquet", index=False)
        if plot:
            from sim import plots

            plots.run_figures(result, tmp, plot if isinstance(plot, plots.RunPlots) else None)
        manifest = dict(result.manifest, files=sorted(p.name for p in tmp.iterdir()) + ["manifest.json"])
        (tmp / "manifest.json").write_text(to_json(manifest))
    return Path(out_dir)
