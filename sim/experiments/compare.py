"""`factoryshift compare`: several scenarios, several replicates, common random numbers.

Every scenario is run with the *same* replicate seeds, the children of
``numpy.random.SeedSequence(base_seed).spawn(replicates)`` (common random numbers), so a
difference between two scenarios is a difference of levers, not of luck. Replicates run
in parallel on local processes; each run depends only on its scenario and its seed, so
the results are identical to a serial run.

>>> result = compare(["west_reshoring", "west_reshoring_with_ai"], replicates=4, year=2040,
...                  firms=2000)                                      # doctest: +SKIP
>>> result.table                                                      # doctest: +SKIP
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sim.blas import single_threaded_blas
from sim.errors import UserError, unknown_country
from sim.experiments.parallel import process_pool
from sim.inputs import duplicates
from sim.output import results_folder, to_json
from sim.scenarios.scenario import Scenario, load_scenario

if TYPE_CHECKING:   # imported where used: `factoryshift --help` reads DEFAULT_COUNTRIES without pandas
    import numpy as np
    import pandas as pd

#: Countries shown by default: the essay's protagonists and the relocation destinations.
DEFAULT_COUNTRIES = ("CHN", "USA", "XEU", "IND", "KOR", "VNM", "MEX")
#: Columns of the per-replicate trajectories kept from each run.
KEPT = ("production_share", "automation", "wage", "subsidy_spent_usd", "reshoring_spent_usd")
PERCENTILES = (5, 95)
#: Marks a paired difference whose 5–95% range includes zero, in the table and the plot.
ZERO_MARK = "○"


@dataclass
class CompareResult:
    """Everything a comparison produced.

    runs   : one row per scenario × replicate × year × country (`KEPT` columns).
    table  : one row per scenario × country at `year`: share_mean, share_p5, share_p95,
             diff_share and diff_pp (mean minus the first scenario's mean, as a share and
             in percentage points), diff_pp_p5/diff_pp_p95 (percentiles of the paired
             per-replicate differences, in pp), diff_range_has_zero (that range includes 0)
             and automation_mean.
    bands  : one row per scenario × year × country: mean, median, p5 and p95 of the share.
    flows  : relocations of every run (flows.csv rows plus scenario and replicate).
    """

    scenarios: list[str]
    titles: dict[str, str]
    year: int
    replicates: int
    firms: dict[str, int]
    base_seed: int
    countries: list[str]
    runs: pd.DataFrame
    table: pd.DataFrame
    bands: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    country_names: dict[str, str] = field(default_factory=dict)
    costs: pd.DataFrame = field(default_factory=lambda: _pd().DataFrame())   # magnitudes.scenario_costs
    flows: pd.DataFrame = field(default_factory=lambda: _pd().DataFrame())

    def __repr__(self) -> str:   # the dataclass's would print every data frame
        return (f"<CompareResult {' vs '.join(self.scenarios)}: {self.replicates} replicate(s), year {self.year}, "
                f"{len(self.runs):,} rows>")

    def format_table(self, countries: list[str] | None = None) -> str:
        """The table as text: one block per country, one line per scenario."""
        countries = countries or self.countries
        first = self.scenarios[0]
        firms = sorted(set(self.firms.values()))
        lines = [f"Production share in {self.year}: mean and 5-95% range over {self.replicates} replicate(s) "
                 f"({', '.join(f'{f:,}' for f in firms)} firms); difference of the mean from {first}; "
                 f"{ZERO_MARK} the paired range includes 0",
                 f"{'country':<8}{'scenario':<34}{'mean':>8}{'p5':>8}{'p95':>8}{'diff (pp)':>11}"
                 f"{'paired p5..p95 (pp)':>24}"]
        rows = self.table.set_index(["country", "scenario"])
        for code in countries:
            for name in self.scenarios:
                r = rows.loc[(code, name)]
                diff = "" if name == first else f"{r.diff_pp:+.2f}"
                band = "" if name == first else (f"{r.diff_pp_p5:+.2f} .. {r.diff_pp_p95:+.2f}"
                                                 + (f" {ZERO_MARK}" if r.diff_range_has_zero else "  "))
                lines.append(f"{code:<8}{name[:33]:<34}{100 * r.share_mean:>7.2f}%{100 * r.share_p5:>7.2f}%"
                             f"{100 * r.share_p95:>7.2f}%{diff:>11}{band:>24}".rstrip())
        return "\n".join(lines)

    def write(self, out_dir: str | Path, plot: bool = True, shared_y: bool = False, force: bool = False) -> Path:
        """compare.csv, replicates.csv, flows.csv, manifest.json and the figures (compare and
        relocations, PNG + SVG; `shared_y`: one y scale for every country), swapped in whole
        (`sim.output.results_folder`; a folder of another command is refused unless `force`)."""
        names = ("compare.csv", "replicates.csv", "flows.csv", "costs.csv", "compare.png", "compare.svg",
                 "relocations.png", "relocations.svg")
        with results_folder(out_dir, "compare", outputs=names, force=force) as tmp:
            self.table.to_csv(tmp / "compare.csv", index=False, float_format="%.8g")
            self.runs.to_csv(tmp / "replicates.csv", index=False, float_format="%.8g")
            if not self.costs.empty:
                self.costs.to_csv(tmp / "costs.csv", index=False, float_format="%.8g")
            self.flows.to_csv(tmp / "flows.csv", index=False)
            if plot:
                from sim.plots.compare import compare_figures

                compare_figures(self, tmp, shared_y=shared_y)
            files = sorted(p.name for p in tmp.iterdir()) + ["manifest.json"]
            (tmp / "manifest.json").write_text(to_json(dict(self.manifest, files=files)))
        return Path(out_dir)


def _pd():
    import pandas

    return pandas


# --------------------------------------------------------------------------- running
def replicate_seeds(base_seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """The replicate seeds shared by every scenario (common random numbers)."""
    import numpy as np

    return np.random.SeedSequence(base_seed).spawn(replicates)


def _run_task(task: tuple[Scenario, np.random.SeedSequence, int | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One replicate of one scenario: its `KEPT` columns and its flows (top level, so worker
    processes can import it)."""
    from sim.model.model import FactoryShiftModel

    scenario, seed, firms = task
    with single_threaded_blas():
        model = FactoryShiftModel(scenario, seed=seed, firms=firms).run()
    frame = model.recorder.countries()
    return frame[["year", "country", *KEPT]], model.recorder.flows()


def _run_chunk(chunk: list) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    return [_run_task(t) for t in chunk]


def _execute(tasks: list, workers: int, progress: bool = False) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Results in task order, serially or on `workers` local processes; `progress` on stderr
    (`sim.progress.Progress`: a bar on a terminal, else a line every 10 s)."""
    import concurrent.futures as cf

    from sim.progress import Progress

    bar = Progress(len(tasks), "compare", progress)
    try:
        if workers <= 1 or len(tasks) <= 1:
            results = []
            for t in tasks:
                results.append(_run_task(t))
                bar.update()
            return results
        size = max(1, len(tasks) // (4 * workers))   # a few chunks per worker: balance with little overhead
        chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        with process_pool(min(workers, len(tasks))) as pool:
            futures = {pool.submit(_run_chunk, chunk): k for k, chunk in enumerate(chunks)}
            done: dict[int, list] = {}
            for future in cf.as_completed(futures):
                done[futures[future]] = future.result()
                bar.update(n=len(done[futures[future]]))
        return [result for k in range(len(chunks)) for result in done[k]]
    finally:
        bar.close()


def compare(scenarios: list[str | Path | Scenario], *, replicates: int = 10, year: int | None = None,
            firms: int | None = None, workers: int | None = None, countries: list[str] | None = None,
            base_seed: int | None = None, progress: bool = False) -> CompareResult:
    """Run every scenario `replicates` times with shared seeds and summarise production shares.

    scenarios : bundled names, paths or `Scenario` objects; the first is the reference.
                Names must differ: to compare variants of one scenario built with
                `Scenario.with_overrides`, rename them (``dataclasses.replace(s, name="high_tariff")``).
    year      : the year of the table (default: the earliest end year of the scenarios).
    firms     : firms per run (default: each scenario's ``run.firms``).
    workers   : local processes (default ``os.cpu_count()``; 1 runs serially).
    countries : countries for the printed table and the plot (default `DEFAULT_COUNTRIES`
                present in the scenarios); the data frames always hold every country.
    base_seed : root of the replicate seeds (default: the first scenario's ``run.seed``).
    progress  : show the runs' progress on stderr.
    """
    import pandas as pd

    from sim.experiments.magnitudes import scenario_costs

    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    year, countries, workers, base_seed = check_options(loaded, replicates, year, firms, workers, countries,
                                                        base_seed)
    seeds = replicate_seeds(base_seed, replicates)
    tasks = [(s, seed, firms) for s in loaded for seed in seeds]
    frames = _execute(tasks, workers, progress)
    names = [s.name for s in loaded]
    parts, flow_parts = [], []
    for k, (frame, flows) in enumerate(frames):
        for part, into in ((frame, parts), (flows, flow_parts)):
            part = part.copy()
            part.insert(0, "replicate", k % replicates)
            part.insert(0, "scenario", names[k // replicates])
            into.append(part)
    runs = pd.concat(parts, ignore_index=True)
    table = summarise(runs, names, year)
    bands = trajectory_bands(runs, names)
    used_firms = {s.name: int(firms if firms is not None else s.run["firms"]) for s in loaded}
    manifest = _manifest(loaded, replicates, year, used_firms, base_seed, seeds, workers)
    return CompareResult(names, {s.name: s.title for s in loaded}, year, replicates, used_firms, base_seed,
                         countries, runs, table, bands, manifest,
                         {code: c["name"] for code, c in loaded[0].countries.items()},
                         scenario_costs(runs, names, year), pd.concat(flow_parts, ignore_index=True))


def check_options(loaded: list[Scenario], replicates, year, firms, workers, countries, base_seed):
    """Every input checked before anything runs or is written; `UserError` lists all problems."""
    errors = []
    if not loaded:
        raise UserError("compare: give at least one scenario")
    names = [s.name for s in loaded]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"compare: scenario '{name}' given more than once")
    src = "compare"
    if not isinstance(replicates, numbers.Integral) or isinstance(replicates, bool) or replicates < 1:
        errors.append(f"{src}: --replicates: must be an integer ≥ 1, got {replicates!r}")
    starts = {s.run["start_year"] for s in loaded}
    lo, hi = max(starts), min(s.run["end_year"] for s in loaded)
    if year is None:
        year = hi
    elif not lo <= year <= hi:
        errors.append(f"{src}: --year: must be between {lo} and {hi} (the years every scenario covers), "
                      f"got {year}")
    if firms is not None and not 10 <= firms <= 20_000_000:
        errors.append(f"{src}: --firms: must be between 10 and 20,000,000, got {firms}")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        errors.append(f"{src}: --workers: must be ≥ 1, got {workers}")
    base_seed = loaded[0].run["seed"] if base_seed is None else base_seed
    if not isinstance(base_seed, numbers.Integral) or base_seed < 0:
        errors.append(f"{src}: --seed: must be an integer ≥ 0, got {base_seed!r}")
    common = [c for c in loaded[0].codes if all(c in s.codes for s in loaded)]
    if countries is None:
        countries = [c for c in DEFAULT_COUNTRIES if c in common] or common
    else:
        errors += [f"{src}: --countries: lists {code} twice" for code in duplicates(countries)]
        for code in countries:
            if code not in common:
                errors.append(f"{src}: --countries: {unknown_country(code, common)}")
    if errors:
        raise UserError(errors)
    return year, list(countries), int(workers), int(base_seed)


# --------------------------------------------------------------------------- statistics
def summarise(runs: pd.DataFrame, names: list[str], year: int) -> pd.DataFrame:
    """The compare.csv table: shares at `year` per scenario and country, differences from names[0].

    The same statistics as the plot (`trajectory_bands`, `paired_bands`) at one year.
    """
    import pandas as pd

    at = runs[runs["year"] == year]
    levels = trajectory_bands(at, names).set_index(["scenario", "country"])
    diffs = paired_bands(at, names).set_index(["scenario", "country"])
    auto = at.groupby(["scenario", "country"])["automation"].mean()
    order = list(dict.fromkeys(at["country"]))
    rows = []
    for name in names:
        for code in order:
            level = levels.loc[(name, code)]
            d = diffs.loc[(name, code)] if name != names[0] else pd.Series({"mean": 0.0, "p5": 0.0, "p95": 0.0})
            rows.append({"scenario": name, "country": code, "year": year,
                         "share_mean": level["mean"], "share_p5": level["p5"], "share_p95": level["p95"],
                         "diff_share": d["mean"], "diff_pp": 100.0 * d["mean"],
                         "diff_pp_p5": 100.0 * d["p5"], "diff_pp_p95": 100.0 * d["p95"],
                         "diff_range_has_zero": bool(d["p5"] <= 0.0 <= d["p95"]),
                         "automation_mean": auto.loc[(name, code)]})
    return pd.DataFrame(rows)


def _quantiles(grouped) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "mean": grouped.mean(),
        "median": grouped.median(),
        "p5": grouped.quantile(PERCENTILES[0] / 100),
        "p95": grouped.quantile(PERCENTILES[1] / 100),
    }).reset_index()


def trajectory_bands(runs: pd.DataFrame, names: list[str], column: str = "production_share",
                     key: str = "scenario") -> pd.DataFrame:
    """Mean, median and 5–95% band of `column` over replicates, per `key` (scenario), year and country."""
    bands = _quantiles(runs[runs[key].isin(names)].groupby([key, "year", "country"], sort=False)[column])
    rank = {n: i for i, n in enumerate(names)}
    return bands.sort_values([key, "year", "country"], key=lambda s: s.map(rank) if s.name == key else s,
                             kind="stable").reset_index(drop=True)


def paired_bands(runs: pd.DataFrame, names: list[str], column: str = "production_share", key: str = "scenario",
                 unit: str = "replicate") -> pd.DataFrame:
    """Each of names[1:] minus names[0], replicate by replicate (common seeds), then mean, median and
    5–95% band of those differences per year and country (in the units of `column`)."""
    import pandas as pd

    index = [unit, "year", "country"]
    ref = runs[runs[key] == names[0]].set_index(index)[column]
    parts = []
    for name in names[1:]:
        diff = (runs[runs[key] == name].set_index(index)[column] - ref).dropna()
        parts.append(diff.rename(column).reset_index().assign(**{key: name}))
    if not parts:
        return pd.DataFrame(columns=[key, "year", "country", "mean", "median", "p5", "p95"])
    return trajectory_bands(pd.concat(parts, ignore_index=True), names[1:], column, key)


def _manifest(loaded, replicates, year, firms, base_seed, seeds, workers) -> dict:
    from sim import __version__
    from sim.provenance import git_commit, library_versions, now_iso

    return {
        "command": "compare",
        "scenarios": [{"name": s.name, "path": str(s.path) if s.path else None, "title": s.title}
                      for s in loaded],
        "replicates": replicates,
        "year": year,
        "firms": firms,
        "base_seed": base_seed,
        "replicate_seeds": [{"entropy": str(s.entropy), "spawn_key": list(s.spawn_key)} for s in seeds],
        "seeding": "numpy.random.SeedSequence(base_seed).spawn(replicates); the same seeds for every scenario",
        "workers": workers,
        "factoryshift": __version__,
        "versions": library_versions(),
        "git_commit": git_commit(),
        "created": now_iso(),
    }
