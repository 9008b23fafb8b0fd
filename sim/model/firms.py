"""The firm population: a structure of numpy arrays, one element per living firm.

Firms are agents to the user — each has a permanent id, can be looked at with
`FirmPopulation.firm(id)` and exported with `to_frame()` — but their state lives in
arrays so that a step is a handful of vector operations, not a Python loop.

Exited firms are removed from the arrays at the end of each step (so no submodel
wastes work on them) and kept, with their state at exit, in a small archive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Per-firm arrays and their dtypes (the market-share matrix `pi` is kept separately).
FIELDS: dict[str, np.dtype] = {
    "id": np.dtype(np.int64),
    "home": np.dtype(np.int8),        # headquarters country index
    "location": np.dtype(np.int8),    # country index where it produces
    "productivity": np.dtype(np.float64),  # φ_i, lognormal, mean 1
    "capacity": np.dtype(np.float64),      # k_i, weight in market allocation
    "automation": np.dtype(np.float64),    # α_i in [0, α_max]
    "age": np.dtype(np.int16),             # years
    "loss_years": np.dtype(np.int16),      # consecutive years of losses
    "alive": np.dtype(np.bool_),
    "output": np.dtype(np.float64),        # Q_i, US$/year (last step)
    "unit_cost": np.dtype(np.float64),     # uc_i of the last allocation, US$ per US$ of value added
}


@dataclass(frozen=True)
class FirmView:
    """A read-only snapshot of one firm (``model.firm(id)``)."""

    id: int
    home: str
    location: str
    productivity: float
    capacity: float
    automation: float
    age: int
    loss_years: int
    alive: bool
    output: float
    unit_cost: float
    market_shares: dict[str, float]


class FirmPopulation:
    """Structure of arrays over firms plus their market shares ``pi`` (firms × markets)."""

    def __init__(self, n_markets: int):
        for name, dtype in FIELDS.items():
            setattr(self, name, np.empty(0, dtype=dtype))
        self.pi = np.zeros((0, n_markets))
        # `remove_dead` leaves spare rows after `pi` for the year's entrants, so `add` does not copy
        # the whole matrix again: `pi` is then the leading rows of `_pi_buffer` (see `_pi_rows`).
        # The buffer `pi` was compacted out of is kept for the next compaction, and `scratch`
        # lends a third one for firms × markets temporaries: no fresh pages every year.
        self._pi_buffer: np.ndarray | None = None
        self._pi_view: np.ndarray | None = None
        self._pi_spare: np.ndarray | None = None
        self._scratch: np.ndarray | None = None
        self.next_id = 0
        self._archive: list[dict[str, np.ndarray]] = []
        self._archive_pi: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.id)

    def add(self, *, home, location, productivity, capacity, automation, age=None) -> None:
        """Append new firms (entrants) with fresh ids and zero market shares."""
        n = len(home)
        new = {
            "id": np.arange(self.next_id, self.next_id + n),
            "home": home, "location": location, "productivity": productivity,
            "capacity": capacity, "automation": automation,
            "age": np.zeros(n) if age is None else age, "loss_years": np.zeros(n),
            "alive": np.ones(n, dtype=bool), "output": np.zeros(n), "unit_cost": np.ones(n),
        }
        self.next_id += n
        for name, dtype in FIELDS.items():
            setattr(self, name, np.concatenate([getattr(self, name), np.asarray(new[name]).astype(dtype)]))
        old = len(self.pi)
        if self.pi is self._pi_view and old + n <= len(self._pi_buffer):
            self._pi_buffer[old:old + n] = 0.0
            self.pi = self._pi_view = self._pi_buffer[:old + n]
        else:
            self.pi = np.concatenate([self.pi, np.zeros((n, self.pi.shape[1]))])

    def remove_dead(self) -> None:
        """Move firms with ``alive == False`` to the archive and compact the arrays."""
        dead = ~self.alive
        if not dead.any():
            return
        gone, keep = np.flatnonzero(dead), np.flatnonzero(~dead)
        self._archive.append({name: getattr(self, name)[gone] for name in FIELDS})
        self._archive_pi.append(np.take(self.pi, gone, axis=0))
        for name in FIELDS:
            setattr(self, name, getattr(self, name)[keep])
        self.pi = self._pi_rows(keep, spare=len(gone) + len(keep) // 32 + 16)

    def _pi_rows(self, rows: np.ndarray, spare: int) -> np.ndarray:
        """``pi[rows]`` as the leading rows of a buffer with at least `spare` free rows after them."""
        size = len(rows) + spare
        buffer = self._pi_spare
        if buffer is None or len(buffer) < size or len(buffer) > 2 * size:
            buffer = np.empty((size + size // 4, self.pi.shape[1]))
        view = buffer[:len(rows)]
        np.take(self.pi, rows, axis=0, out=view, mode="clip")  # not "raise": that buffers `out` (rows are valid)
        self._pi_spare = self._pi_buffer if self.pi is self._pi_view else None
        self._pi_buffer, self._pi_view = buffer, view
        return view

    def scratch(self) -> np.ndarray:
        """A firms × markets array to compute in (contents undefined; valid until the next call)."""
        n = len(self.pi)
        if self._scratch is None or len(self._scratch) < n:
            self._scratch = np.empty((n + n // 8, self.pi.shape[1]))
        return self._scratch[:n]

    def firm(self, firm_id: int, codes: list[str]) -> FirmView:
        """The firm with this id, living or exited."""
        i = np.searchsorted(self.id, firm_id)
        if i < len(self.id) and self.id[i] == firm_id:
            arrays, pi, j = {n: getattr(self, n) for n in FIELDS}, self.pi, i
        else:
            for batch, batch_pi in zip(self._archive, self._archive_pi):
                hits = np.flatnonzero(batch["id"] == firm_id)
                if hits.size:
                    arrays, pi, j = batch, batch_pi, hits[0]
                    break
            else:
                raise KeyError(f"no firm with id {firm_id}")
        row = {n: arrays[n][j].item() for n in FIELDS}
        row["home"], row["location"] = codes[row["home"]], codes[row["location"]]
        return FirmView(**row, market_shares={c: float(s) for c, s in zip(codes, pi[j])})

    def to_frame(self, codes: list[str], include_exited: bool = False) -> pd.DataFrame:
        """One row per firm (optionally also every exited firm), country indices as codes."""
        parts = [{n: getattr(self, n) for n in FIELDS}]
        if include_exited:
            parts += self._archive
        frame = pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)
        cat = pd.CategoricalDtype(codes)
        for col in ("home", "location"):
            frame[col] = pd.Categorical.from_codes(frame[col].astype(int), dtype=cat)
        return frame.sort_values("id", ignore_index=True)
