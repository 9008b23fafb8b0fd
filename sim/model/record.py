"""Recording (step 8): country aggregates every year, relocation flows, entrants, and optional firm panels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model import robots
from sim.model.adoption import mean_automation
from sim.model.location import KINDS, move_kind
from sim.model.market import country_sums, row_sums_matrix

#: Columns of countries.csv, in order, with their units (documented in docs/ODD.md).
COUNTRY_COLUMNS: dict[str, str] = {
    "year": "year",
    "country": "code",
    "production_share": "share of world output produced here (by location)",
    "hq_share": "share of world output by firms headquartered here",
    "output_usd": "US$/year (value added)",
    "automation": "share of tasks (capacity-weighted mean α)",
    "robot_density": "robots per 10,000 manufacturing employees",
    "robot_stock": "robots",
    "robot_installations": "robots/year",
    "wage": "US$/hour",
    "exchange_rate": "US$ per local currency unit",
    "employment": "persons",
    "labor_supply": "persons",
    "tightness": "employment / labor supply",
    "unit_cost": "US$ per US$ of value added (output-weighted)",
    "ai_readiness": "1",
    "firms": "count (located here at year end)",
    "firms_hq": "count (headquartered here at year end)",
    "entries": "count (entrants producing here)",
    "entries_hq": "count (entrants headquartered here)",
    "exits": "count",
    "adopters": "count",
    "subsidy_requested_usd": "US$",
    "subsidy_spent_usd": "US$",
    "effective_subsidy_rate": "share of AI capex actually paid",
    "ai_fund_usd": "US$ (inf = uncapped)",
    "reshoring_spent_usd": "US$",
    "relocations_in": "firms",
    "relocations_out": "firms",
    "reshored_in": "firms (moves of firms headquartered here back here)",
    "offshored_out": "firms (moves of firms headquartered here from here abroad)",
}
INTEGER_COLUMNS = ("year", "firms", "firms_hq", "entries", "entries_hq", "exits", "adopters", "relocations_in",
                   "relocations_out", "reshored_in", "offshored_out")


def trade_matrix(firms, n_countries) -> np.ndarray:
    """Origin × market: the share of market m's demand supplied from production located in o, Σ_{i: c_i = o} π_im.

    One sparse product (`market.row_sums_matrix`, 1 at (c_i, i)) with π reads π once, row by row; a
    bincount per market would read it column by column. The sums are the same, added in the same
    order (firm by firm).
    """
    return row_sums_matrix(firms.location, np.ones(len(firms.location)), n_countries) @ firms.pi


def country_values(firms, uc, labor, costs, state, par, adopted=None) -> dict[str, np.ndarray]:
    """Country aggregates of this year's production, before firms move, exit or enter.

    `labor` is this year's `LaborMarket`, `adopted` this year's `AdoptionResult` (None at the
    start). Updates `state.robot_stock` (installations compare it with last year's).
    """
    f, n = firms, len(state)
    loc = f.location
    output = country_sums(loc, f.output, n)
    by_hq = country_sums(f.home, f.output, n)
    zeros = np.zeros(n)
    stock = robots.stock(f, costs, state, par)
    installed = robots.installations(stock, state.robot_stock, par["robot_depreciation"])
    state.robot_stock = stock
    return {
        "production_share": output / output.sum(),
        "hq_share": by_hq / by_hq.sum(),
        "output_usd": output,
        "automation": mean_automation(f.automation, f.capacity, loc, n),
        "robot_density": robots.density(stock, labor.employment, state.robot_coverage),
        "robot_stock": stock,
        "robot_installations": zeros if adopted is None else installed,
        "wage": labor.wage,
        "exchange_rate": state.exchange_rate.copy(),
        "employment": labor.employment,
        "labor_supply": labor.supply,
        "tightness": labor.tightness,
        "unit_cost": np.divide(country_sums(loc, uc * f.output, n), output, out=zeros.copy(), where=output > 0),
        "ai_readiness": state.ai_readiness.copy(),
        "adopters": zeros if adopted is None else np.bincount(loc[adopted.adopt], minlength=n),
        "subsidy_requested_usd": zeros if adopted is None else adopted.requested,
        "subsidy_spent_usd": zeros if adopted is None else adopted.spent,
        "effective_subsidy_rate": state.effective_subsidy.copy(),
        "ai_fund_usd": state.ai_fund.copy(),
        "trade": trade_matrix(f, n),
    }


class Recorder:
    def __init__(self, codes: list[str], same_region: np.ndarray, record_firms: bool = False):
        self.codes = codes
        self.same_region = same_region
        self.record_firms = record_firms
        self._rows: dict[str, list[np.ndarray]] = {name: [] for name in COUNTRY_COLUMNS}
        self._moves: list[tuple[int, np.ndarray]] = []
        self._entries: list[tuple[int, np.ndarray]] = []
        self._trade: list[tuple[int, np.ndarray]] = []
        self._firm_frames: list[pd.DataFrame] = []

    def add_year(self, year: int, values: dict[str, np.ndarray], moved, entries, exits, firms) -> None:
        """Step 8: the year's row per country; `firms` counts firms located there at year end.

        `moved` is this year's `RelocationResult`, `entries` the entrants as headquarters × location counts.
        """
        n = len(self.codes)
        hq, rest = np.divmod(moved.moves, n * n)
        origin, dest = np.divmod(rest, n)
        values = {**values,
                  "firms": np.bincount(firms.location, minlength=n),
                  "firms_hq": np.bincount(firms.home, minlength=n),
                  "entries": entries.sum(axis=0), "entries_hq": entries.sum(axis=1), "exits": exits,
                  "reshoring_spent_usd": moved.incentive_spent,
                  "relocations_in": moved.flows.sum(axis=0), "relocations_out": moved.flows.sum(axis=1),
                  "reshored_in": np.bincount(dest[(dest == hq) & (origin != hq)], minlength=n),
                  "offshored_out": np.bincount(origin[(origin == hq) & (dest != hq)], minlength=n)}
        self._rows["year"].append(np.full(n, year))
        self._rows["country"].append(np.array(self.codes))
        for name in list(COUNTRY_COLUMNS)[2:]:
            self._rows[name].append(np.asarray(values[name], dtype=float))
        self._moves.append((year, moved.moves))
        self._trade.append((year, values["trade"]))
        self._entries.append((year, entries))
        if self.record_firms:
            frame = firms.to_frame(self.codes)
            frame.insert(0, "year", year)
            self._firm_frames.append(frame)

    def countries(self) -> pd.DataFrame:
        frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in self._rows.items()})
        for col in INTEGER_COLUMNS:
            frame[col] = frame[col].astype(np.int64)
        return frame

    def flows(self) -> pd.DataFrame:
        """Relocations per year by headquarters, origin, destination and kind (`location.KINDS`)."""
        n, rows = len(self.codes), []
        for year, moves in self._moves:
            keys, counts = np.unique(moves, return_counts=True)
            hq, rest = np.divmod(keys, n * n)
            origin, dest = np.divmod(rest, n)
            kinds = move_kind(hq, origin, dest, self.same_region)
            rows += [(year, self.codes[h], self.codes[o], self.codes[d], KINDS[k], int(c))
                     for h, o, d, k, c in zip(hq, origin, dest, kinds, counts)]
        return pd.DataFrame(rows, columns=["year", "hq", "origin", "destination", "kind", "firms"])

    def trade(self) -> pd.DataFrame:
        """Per year, origin and market: the share of the market's demand supplied from the origin."""
        n = len(self.codes)
        rows = [(year, self.codes[o], self.codes[m], float(t[o, m])) for year, t in self._trade
                for o in range(n) for m in range(n)]
        return pd.DataFrame(rows, columns=["year", "origin", "market", "share"])

    def entrants(self) -> pd.DataFrame:
        """Entrants per year by headquarters and location."""
        rows = [(year, self.codes[h], self.codes[c], int(m[h, c]))
                for year, m in self._entries for h, c in zip(*np.nonzero(m))]
        return pd.DataFrame(rows, columns=["year", "hq", "location", "firms"])

    def firms(self) -> pd.DataFrame | None:
        return pd.concat(self._firm_frames, ignore_index=True) if self._firm_frames else None
