"""Recording (step 8): country aggregates every year, flows, and optional firm panels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.adoption import mean_automation
from sim.model.market import country_sums

#: Columns of countries.csv, in order, with their units (documented in docs/ODD.md).
COUNTRY_COLUMNS: dict[str, str] = {
    "year": "year",
    "country": "code",
    "production_share": "share of world output",
    "output_usd": "US$/year (2024 prices)",
    "automation": "share of tasks (capacity-weighted mean α)",
    "robot_density_index": "robots per 10,000 employees (α mapped back)",
    "wage": "US$/hour",
    "employment": "persons",
    "labor_supply": "persons",
    "tightness": "employment / labor supply",
    "unit_cost": "US$ per US$ of output (output-weighted)",
    "ai_readiness": "1",
    "firms": "count",
    "entries": "count",
    "exits": "count",
    "adopters": "count",
    "subsidy_requested_usd": "US$",
    "subsidy_spent_usd": "US$",
    "ai_fund_usd": "US$ (inf = uncapped)",
    "reshoring_spent_usd": "US$",
    "relocations_in": "firms",
    "relocations_out": "firms",
}


def country_values(firms, uc, labor, state, par, adopted=None) -> dict[str, np.ndarray]:
    """Country aggregates of this year's production, before firms move, exit or enter.

    `labor` is this year's `LaborMarket`, `adopted` this year's `AdoptionResult` (None at the start).
    """
    f, n = firms, len(state)
    loc = f.location
    output = country_sums(loc, f.output, n)
    automation = mean_automation(f.automation, f.capacity, loc, n)
    zeros = np.zeros(n)
    density = par["automation_per_robot_density"]
    return {
        "production_share": output / output.sum(),
        "output_usd": output,
        "automation": automation,
        "robot_density_index": automation / density if density > 0 else zeros,
        "wage": labor.wage,
        "employment": labor.employment,
        "labor_supply": labor.supply,
        "tightness": labor.tightness,
        "unit_cost": np.divide(country_sums(loc, uc * f.output, n), output, out=zeros.copy(), where=output > 0),
        "ai_readiness": state.ai_readiness.copy(),
        "adopters": zeros if adopted is None else np.bincount(loc[adopted.adopt], minlength=n),
        "subsidy_requested_usd": zeros if adopted is None else adopted.requested,
        "subsidy_spent_usd": zeros if adopted is None else adopted.spent,
        "ai_fund_usd": state.ai_fund.copy(),
    }


class Recorder:
    def __init__(self, codes: list[str], record_firms: bool = False):
        self.codes = codes
        self.record_firms = record_firms
        self._rows: dict[str, list[np.ndarray]] = {name: [] for name in COUNTRY_COLUMNS}
        self._flows: list[tuple[int, np.ndarray]] = []
        self._firm_frames: list[pd.DataFrame] = []

    def add(self, year: int, values: dict[str, np.ndarray], flows: np.ndarray | None = None, firms=None) -> None:
        n = len(self.codes)
        self._rows["year"].append(np.full(n, year))
        self._rows["country"].append(np.array(self.codes))
        for name in list(COUNTRY_COLUMNS)[2:]:
            self._rows[name].append(np.asarray(values[name], dtype=float))
        if flows is not None:
            self._flows.append((year, flows))
        if self.record_firms and firms is not None:
            frame = firms.to_frame(self.codes)
            frame.insert(0, "year", year)
            self._firm_frames.append(frame)

    def add_year(self, year: int, values: dict[str, np.ndarray], moved, entries, exits, firms) -> None:
        """Step 8: the year's row per country; `firms` counts firms located there at year end.

        `moved` is this year's `RelocationResult` (flows and incentives paid).
        """
        n = len(self.codes)
        values = {**values,
                  "firms": np.bincount(firms.location, minlength=n),
                  "entries": entries, "exits": exits,
                  "reshoring_spent_usd": moved.incentive_spent,
                  "relocations_in": moved.flows.sum(axis=0), "relocations_out": moved.flows.sum(axis=1)}
        self.add(year, values, moved.flows, firms)

    def countries(self) -> pd.DataFrame:
        frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in self._rows.items()})
        for col in ("firms", "entries", "exits", "adopters", "relocations_in", "relocations_out", "year"):
            frame[col] = frame[col].astype(np.int64)
        return frame

    def flows(self) -> pd.DataFrame:
        rows = [(year, self.codes[o], self.codes[d], int(f[o, d]))
                for year, f in self._flows for o, d in zip(*np.nonzero(f))]
        return pd.DataFrame(rows, columns=["year", "origin", "destination", "firms"])

    def firms(self) -> pd.DataFrame | None:
        return pd.concat(self._firm_frames, ignore_index=True) if self._firm_frames else None
