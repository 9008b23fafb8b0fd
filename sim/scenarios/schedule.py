"""Policy schedules: the value of each scheduled lever in each year.

Semantics (documented in docs/scenarios.md):

* ``step``: the lever equals ``value`` for ``from ≤ year ≤ to`` (``to`` omitted: until the
  end); afterwards it returns to the value it had before the schedule.
* ``ramp``: linear from ``start`` (default: the lever's value in ``from − 1``) in year
  ``from`` to ``value`` in year ``to``; it stays at ``value`` after ``to``.

Paths are computed once, for every year, when the model starts.
"""

from __future__ import annotations


class LeverPaths:
    def __init__(self, scenario, start_year: int):
        end = scenario.run["end_year"]
        self.years = range(start_year, end + 1)
        self._paths: dict[tuple[str, str], dict[int, float]] = {}
        entries = sorted(scenario.data.get("schedule", []), key=lambda e: e["from"])
        for e in entries:
            key = (e["country"], e["lever"])
            path = self._paths.setdefault(key, {})
            base = self._base(scenario, *key)
            frm, to = e["from"], e.get("to", end)
            shape = e.get("shape", "step")
            start = e.get("start", path.get(frm - 1, base))
            for year in self.years:
                before = path.get(year, base)
                if shape == "step":
                    path[year] = e["value"] if frm <= year <= to else before
                elif year >= frm:
                    frac = 1.0 if to == frm else min(1.0, (year - frm) / (to - frm))
                    path[year] = start + frac * (e["value"] - start)

    @staticmethod
    def _base(scenario, code: str, lever: str) -> float:
        country = scenario.countries[code]
        if lever.startswith("tariffs."):
            origin = lever[len("tariffs."):]
            return country["tariffs"].get(origin, country["tariffs"]["default"])
        return country[lever]

    def values(self, year: int):
        """(country, lever, value) for every scheduled lever in `year`."""
        for (code, lever), path in self._paths.items():
            if year in path:
                yield code, lever, path[year]

    def sets_tariff(self, code: str, origin: str) -> bool:
        """Whether a schedule sets `code`'s tariff on `origin` explicitly (it then beats `default`)."""
        return (code, f"tariffs.{origin}") in self._paths
