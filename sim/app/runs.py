"""Seeded replicates of several configurations, and the summaries the page plots (pure Python).

Every configuration runs with the same seeds 1..N, so the difference between two of them
in one replicate is a difference of levers, not of luck (paired, common random numbers).
A run depends only on its scenario, seed and firm count, so finished runs are cached and
a change to one configuration re-runs only that one.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

import sim
from sim.app.links import METRICS, Scenario, paired_bands, plot_flows, trajectory_bands

LOW, HIGH = 5, 95


class Cancelled(Exception):
    """The user started another run; this one stops between two replicates."""


@dataclass
class Batch:
    """The replicates of every configuration of one run of the page.

    countries : countries.csv rows of every run, plus ``config`` and ``seed`` columns.
    flows     : flows.csv rows of every run, plus ``config`` and ``seed``.
    """

    configs: list[str]
    seeds: list[int]
    firms: int
    countries: pd.DataFrame
    flows: pd.DataFrame
    wall_seconds: float
    names: dict[str, str]
    scenarios: dict[str, Scenario]

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(self.countries["country"]))


class RunCache:
    """Finished runs by (scenario text, seed, firms); least recently used dropped first."""

    def __init__(self, size: int = 400):
        self.size = size
        self._runs: OrderedDict[tuple, tuple[pd.DataFrame, pd.DataFrame]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(scenario: Scenario, seed: int, firms: int) -> tuple:
        return hashlib.sha256(scenario.to_toml().encode()).hexdigest(), seed, firms

    def get(self, key):
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._runs[key] = value
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)


CACHE = RunCache()


def run_one(scenario: Scenario, seed: int, firms: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """countries and flows of one run, through the same API as `factoryshift run`."""
    result = sim.run_scenario(scenario, seed=seed, firms=firms)
    return result.countries, result.flows


def run_batch(configs: dict[str, Scenario], seeds: list[int], firms: int, *,
              progress: Callable[[int, int], None] | None = None,
              stop: Callable[[], bool] | None = None, cache: RunCache | None = CACHE) -> Batch:
    """Run every configuration with every seed; `progress(done, total)` after each run.

    `stop()` is asked between runs; when it says yes, `Cancelled` is raised.
    """
    t0 = time.perf_counter()
    total = len(configs) * len(seeds)
    parts, flow_parts = [], []
    done = 0
    for label, scenario in configs.items():
        for seed in seeds:
            if stop is not None and stop():
                raise Cancelled()
            key = RunCache.key(scenario, seed, firms) if cache is not None else None
            hit = cache.get(key) if cache is not None else None
            countries, flows = hit if hit is not None else run_one(scenario, seed, firms)
            if cache is not None and hit is None:
                cache.put(key, (countries, flows))
            parts.append(countries.assign(config=label, seed=seed))
            flow_parts.append(flows.assign(config=label, seed=seed))
            done += 1
            if progress is not None:
                progress(done, total)
    first = next(iter(configs.values()))
    names = {code: c["name"] for code, c in first.countries.items()}
    return Batch(list(configs), list(seeds), firms, _front(pd.concat(parts, ignore_index=True)),
                 _front(pd.concat(flow_parts, ignore_index=True)), time.perf_counter() - t0, names,
                 dict(configs))


def _front(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["config", "seed", *[c for c in frame.columns if c not in ("config", "seed")]]]


# --------------------------------------------------------------------------- summaries
def bands(batch: Batch, metric: str, configs: list[str] | None = None) -> pd.DataFrame:
    """Mean and 5-95% range over replicates: config, year, country, mean, p5, p95 (display units)."""
    out = trajectory_bands(batch.countries, configs or batch.configs, metric, key="config")
    return _display(out, metric)


def paired_difference(batch: Batch, metric: str, config: str, reference: str) -> pd.DataFrame:
    """`config` minus `reference` seed by seed, then mean and 5-95% range (display units)."""
    out = paired_bands(batch.countries, [reference, config], metric, key="config", unit="seed")
    return _display(out, metric).drop(columns="config")


def _display(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The plotted statistics (mean, p5, p95) in the unit shown on the page."""
    out = table.drop(columns="median")
    out[["mean", f"p{LOW}", f"p{HIGH}"]] *= METRICS.get(metric, ("", "", 1.0))[2]
    return out


def flow_matrix(batch: Batch, config: str, kind: str | None = None) -> pd.DataFrame:
    """Relocated firms origin x destination, summed over years, mean per replicate.

    `kind` selects one kind of move when the model's flows carry a ``kind`` column.
    """
    return plot_flows.flow_matrix(batch.flows[batch.flows["config"] == config], batch.codes, len(batch.seeds), kind)


def flow_kinds(batch: Batch) -> list[str]:
    if "kind" not in batch.flows.columns:
        return []
    return sorted(str(k) for k in batch.flows["kind"].dropna().unique())


def at_year(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """One year of a `bands` / `paired_difference` table, countries as rows."""
    return table[table["year"] == year].drop(columns="year").reset_index(drop=True)


def compare_table(batch: Batch, year: int, reference: str) -> pd.DataFrame:
    """Share at `year` for every configuration and country, with the paired difference from `reference` (pp)."""
    share = bands(batch, "production_share")
    share = share[share["year"] == year]
    rows = []
    for config in batch.configs:
        diff = paired_difference(batch, "production_share", config, reference)
        diff = diff[diff["year"] == year].set_index("country")
        for _, r in share[share["config"] == config].iterrows():
            d = diff.loc[r["country"]] if r["country"] in diff.index else None
            rows.append({"config": config, "country": r["country"], "share_pct": r["mean"],
                         "share_p5": r[f"p{LOW}"], "share_p95": r[f"p{HIGH}"],
                         "diff_pp": np.nan if d is None else d["mean"],
                         "diff_pp_p5": np.nan if d is None else d[f"p{LOW}"],
                         "diff_pp_p95": np.nan if d is None else d[f"p{HIGH}"],
                         "diff_range_has_zero": None if d is None else bool(d[f"p{LOW}"] <= 0 <= d[f"p{HIGH}"])})
    return pd.DataFrame(rows)
