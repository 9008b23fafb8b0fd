"""Policy schedules: the value of each scheduled lever in each year.

Semantics (documented in docs/scenarios.md):

* ``step``: the lever equals ``value`` for ``from ≤ year ≤ to`` (``to`` omitted: until the
  end); afterwards it returns to the value it had before the schedule.
* ``ramp``: linear from ``start`` (default: the lever's value in ``from − 1``) in year
  ``from`` to ``value`` in year ``to``; it stays at ``value`` after ``to``.

Paths are computed once, for every year, when the model starts.
"""

from __future__ import annotations


def base_value(country: dict, lever: str):
    """A lever's value in a country's table, before any schedule (``tariffs.X``: X's or the default)."""
    if lever.startswith("tariffs."):
        origin = lever[len("tariffs."):]
        return country["tariffs"].get(origin, country["tariffs"]["default"])
    return country[lever]


def lever_path(base, entries: list[dict], years: range) -> dict[int, float]:
    """One lever's value in each of `years` under its schedule `entries` (semantics above)."""
    path: dict[int, float] = {}
    end = years[-1]
    for e in sorted(entries, key=lambda e: e["from"]):
        frm, to = e["from"], e.get("to", end)
        shape = e.get("shape", "step")
        start = e.get("start", path.get(frm - 1, base))
        for year in years:
            before = path.get(year, base)
            if shape == "step":
                path[year] = e["value"] if frm <= year <= to else before
            elif year >= frm:
                frac = 1.0 if to == frm else min(1.0, (year - frm) / (to - frm))
                path[year] = start + frac * (e["value"] - start)
    return path


class LeverPaths:
    def __init__(self, scenario, start_year: int):
        self.years = range(start_year, scenario.run["end_year"] + 1)
        by_lever: dict[tuple[str, str], list[dict]] = {}
        for e in scenario.data.get("schedule", []):
            by_lever.setdefault((e["country"], e["lever"]), []).append(e)
        self._paths: dict[tuple[str, str], dict[int, float]] = {
            key: lever_path(base_value(scenario.countries[key[0]], key[1]), entries, self.years)
            for key, entries in by_lever.items()}

    def values(self, year: int):
        """(country, lever, value) for every scheduled lever in `year`."""
        for (code, lever), path in self._paths.items():
            if year in path:
                yield code, lever, path[year]

    def sets_tariff(self, code: str, origin: str) -> bool:
        """Whether a schedule sets `code`'s tariff on `origin` explicitly (it then beats `default`)."""
        return (code, f"tariffs.{origin}") in self._paths
