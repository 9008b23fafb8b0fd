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
    market_shares: dict[str, float]


class FirmPopulation:
    """Structure of arrays over firms plus their market shares ``pi`` (firms × markets)."""

    def __init__(self, n_markets: int):
        for name, dtype in FIELDS.items():
            setattr(self, name, np.empty(0, dtype=dtype))
        self.pi = np.zeros((0, n_markets))
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
            "alive": np.ones(n, dtype=bool), "output": np.zeros(n),
        }
        self.next_id += n
        for name, dtype in FIELDS.items():
            setattr(self, name, np.concatenate([getattr(self, name), np.asarray(new[name]).astype(dtype)]))
        self.pi = np.concatenate([self.pi, np.zeros((n, self.pi.shape[1]))])

    def remove_dead(self) -> None:
        """Move firms with ``alive == False`` to the archive and compact the arrays."""
        dead = ~self.alive
        if not dead.any():
            return
        self._archive.append({name: getattr(self, name)[dead] for name in FIELDS})
        self._archive_pi.append(self.pi[dead])
        keep = ~dead
        for name in FIELDS:
            setattr(self, name, getattr(self, name)[keep])
        self.pi = self.pi[keep]

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
