"""Outcomes of an experiment: what is measured in each run, its validation and its evaluation.

An outcome is a `metric` (a countries.csv column) of one country or the sum over several
(additive metrics only), taken in one `year`, aggregated by a `stat` over `years`, or —
with neither — kept as a trajectory (one value per year).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import did_you_mean, unknown_country
from sim.inputs import duplicates
from sim.scenarios.check import Checker


def country_columns() -> tuple[str, ...]:
    """The columns of countries.csv: the keys of `sim.model.record.COUNTRY_COLUMNS`.

    Read from the module's source while they are written as a literal, because importing the
    model's modules imports pandas and SciPy (0.35 s), which validating an experiment file does
    not otherwise need (`factoryshift validate` starts in well under 0.4 s). If the table stops
    being a literal, the module is imported instead; tests/test_cli_start.py checks that both agree.
    """
    source = Path(__file__).resolve().parents[1] / "model" / "record.py"   # not find_spec: it imports sim.model
    try:
        with open(source, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in tree.body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                if any(isinstance(t, ast.Name) and t.id == "COUNTRY_COLUMNS" for t in targets):
                    return tuple(ast.literal_eval(node.value))
    except (OSError, ValueError, SyntaxError, TypeError):
        pass
    from sim.model.record import COUNTRY_COLUMNS

    return tuple(COUNTRY_COLUMNS)


KEYS = ("metric", "country", "year", "stat", "years", "goal")
GOALS = ("max", "min")
STATS = ("mean", "min", "max", "sum", "change")
METRICS = tuple(c for c in country_columns() if c not in ("year", "country"))
#: Columns that may be summed over several countries (``country = ["IND", "XAS"]``).
ADDITIVE = ("production_share", "hq_share", "output_usd", "robot_stock", "robot_installations", "employment",
            "labor_supply", "firms", "firms_hq", "entries", "entries_hq", "exits", "adopters", "subsidy_requested_usd",
            "subsidy_spent_usd", "ai_fund_usd", "reshoring_spent_usd", "relocations_in", "relocations_out",
            "reshored_in", "offshored_out")
RESERVED = ("run_id", "sample", "replicate", "year", "status", "error", "seconds", "seed_entropy", "spawn_key")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")   # fullmatch: "x\n" is not a name


@dataclass(frozen=True)
class Outcome:
    """A measured quantity: `metric` of `countries` (summed) in `year`, a `stat` over `years`, or a trajectory."""

    name: str
    metric: str
    countries: tuple[str, ...]
    year: int | None = None
    stat: str | None = None
    years: tuple[int, int] | None = None
    goal: str | None = None          # "max" or "min": which way is better (ranks policies by regret)

    @property
    def scalar(self) -> bool:
        return self.year is not None or self.stat is not None

    def series(self, frame) -> tuple[np.ndarray, np.ndarray]:
        """(years, values) of the metric, summed over the outcome's countries."""
        rows = frame[frame["country"].isin(self.countries)]
        years = rows["year"].to_numpy()
        uniq, inverse = np.unique(years, return_inverse=True)
        return uniq, np.bincount(inverse, rows[self.metric].to_numpy(dtype=float), minlength=len(uniq))

    def evaluate(self, frame) -> float | np.ndarray:
        years, values = self.series(frame)
        if self.year is not None:
            return float(values[np.searchsorted(years, self.year)])
        if self.stat is None:
            return values
        lo, hi = self.years or (years[0], years[-1])
        window = values[(years >= lo) & (years <= hi)]
        if self.stat == "change":
            return float(window[-1] - window[0])
        return float(getattr(np, self.stat)(window))

    def describe(self) -> str:
        where = "+".join(self.countries)
        if self.year is not None:
            return f"{self.metric} of {where} in {self.year}"
        if self.stat is not None:
            span = f"{self.years[0]}–{self.years[1]}" if self.years else "all years"
            return f"{self.stat} of {self.metric} of {where} over {span}"
        return f"{self.metric} of {where}, every year"


def parse_outcomes(c: Checker, table: object, data: dict) -> list[Outcome]:
    """Validate the [outcomes] table against the resolved scenario `data`; problems go to `c`."""
    if table is None:
        c.add("outcomes", "missing table [outcomes] (at least one outcome)")
        return []
    if not c.table(table, "outcomes"):
        return []
    if not table:
        c.add("outcomes", "needs at least one outcome")
    codes = list(data["countries"])
    start, end = data["run"]["start_year"], data["run"]["end_year"]
    out = []
    for name, spec in table.items():
        where = f"outcomes.{name}"
        if not NAME.fullmatch(name) or name in RESERVED:
            c.add(where, "outcome names are identifiers (letters, digits, _) other than "
                  + ", ".join(RESERVED))
            continue
        if not c.table(spec, where):
            continue
        n_errors = len(c.errors)
        c.keys(spec, KEYS, where)
        metric = spec.get("metric")
        if metric is None:
            c.add(f"{where}.metric", "missing")
        elif metric not in METRICS:
            c.add(f"{where}.metric", f"unknown metric {metric!r} (a countries.csv column)"
                  + did_you_mean(metric, METRICS))
        country = spec.get("country")
        countries = country if isinstance(country, list) else [country]
        if country is None:
            c.add(f"{where}.country", "missing")
        elif not countries or not all(isinstance(x, str) for x in countries):
            c.add(f"{where}.country", "must be a country code or a list of codes")
        else:
            for code in countries:
                if code not in codes:
                    c.add(f"{where}.country", unknown_country(code, codes))
            for code in duplicates(countries):
                c.add(f"{where}.country", f"lists {code} twice (a sum counts each country once)")
            if len(countries) > 1 and metric in METRICS and metric not in ADDITIVE:
                c.add(f"{where}.country", f"{metric} cannot be summed over countries; use one country")
        year, stat, years = spec.get("year"), spec.get("stat"), spec.get("years")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not start <= year <= end):
            c.add(f"{where}.year", f"must be a year from {start} to {end} (the run's years), got {year!r}")
        if stat is not None:
            if stat not in STATS:
                c.add(f"{where}.stat", f"unknown stat {stat!r}; stats: {', '.join(STATS)}" + did_you_mean(stat, STATS))
            if year is not None:
                c.add(f"{where}.stat", "give either year (a value in one year) or stat (over years), not both")
        if years is not None:
            if stat is None:
                c.add(f"{where}.years", "years = [from, to] goes with stat")
            elif (not isinstance(years, list) or len(years) != 2
                  or not all(isinstance(y, int) and not isinstance(y, bool) and start <= y <= end for y in years)
                  or years[0] >= years[1]):
                c.add(f"{where}.years", f"must be [from, to] with {start} ≤ from < to ≤ {end}, got {years!r}")
        goal = spec.get("goal")
        if goal is not None and goal not in GOALS:
            c.add(f"{where}.goal", f"must be \"max\" or \"min\" (which way is better), got {goal!r}"
                  + did_you_mean(str(goal), GOALS))
        if len(c.errors) == n_errors:
            out.append(Outcome(name, metric, tuple(countries), year, stat, tuple(years) if years else None, goal))
    return out
