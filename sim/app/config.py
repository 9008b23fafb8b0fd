"""From the dashboard's choices to a validated scenario and its TOML file (pure Python).

A lever set in the dashboard becomes a ``[[schedule]]`` step entry: the country's lever
takes ``value`` from year ``from`` to the end of the run. The scenario the dashboard runs
is the one loaded back from the exported TOML text, so "export, then `factoryshift run`"
reproduces the dashboard's run by construction; tests check it through the CLI.

Errors are the loader's own one-line messages (``"<file>: <key>: <problem>"``), sorted
by the field that caused them so the page can show each next to its input.
"""

from __future__ import annotations

import copy
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sim.app.links import Scenario, UserError, bundled_scenarios, load_scenario, parameters, schedule

#: Error key for messages that belong to no single input (shown above the results).
GENERAL = "general"
#: Error key of the scenario source (bundled name, pasted or uploaded TOML).
SOURCE = "source"


@dataclass(frozen=True)
class LeverSpec:
    """A lever as the page shows it: name, unit, valid range, help text."""

    lever: str
    unit: str
    doc: str
    lo: float | None
    hi: float | None
    lo_open: bool

    @property
    def range_text(self) -> str:
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        return f"{'(' if self.lo_open else '['}{lo}, {hi}]"

    @property
    def label(self) -> str:
        if self.lever.startswith("tariffs."):
            return f"tariff on goods from {self.lever.split('.', 1)[1]}"
        return self.lever.replace("_", " ")


def _spec(lever: str, param) -> LeverSpec:
    return LeverSpec(lever, param.unit, param.doc, param.lo, param.hi, param.lo_open)


def lever_specs() -> list[LeverSpec]:
    """Every schedulable lever except tariffs, in the order of `parameters.LEVERS`.

    Read from the parameter table, so a lever added there appears on the page.
    """
    return [_spec(name, parameters.COUNTRY[name]) for name in parameters.LEVERS]


def tariff_spec(origin: str) -> LeverSpec:
    return _spec(f"tariffs.{origin}", parameters.COUNTRY["tariffs"])


@dataclass(frozen=True)
class LeverEdit:
    """`country`'s `lever` is `value` from year `start` on (`start` is the entry's ``from``)."""

    country: str
    lever: str
    value: float | str | None  # text that is no number goes to the loader, which names the problem
    start: int | str | None

    @property
    def key(self) -> str:
        return f"{self.country}.{self.lever}"


def base_value(scenario: Scenario, country: str, lever: str) -> float:
    """The lever's value in the scenario's country table (before any schedule)."""
    return float(schedule.base_value(scenario.countries[country], lever))


def scheduled(scenario: Scenario, country: str, lever: str) -> list[dict]:
    """The scenario's own schedule entries for this lever."""
    return [e for e in scenario.data.get("schedule", []) if e.get("country") == country and e.get("lever") == lever]


# --------------------------------------------------------------------------- schedules
def _cut_before(entries: list[dict], year: int, base: float, first: int, end: int) -> list[dict]:
    """`entries` of one lever ended before `year`, their values before `year` unchanged.

    A scenario may not schedule one lever twice in the same year, so the dashboard's new
    entry needs the scenario's own entries for that lever to stop the year before. A ramp
    cut short ends at the value it had reached then, with its start written out.
    """
    entries = sorted(entries, key=lambda e: e["from"])
    path = schedule.lever_path(base, entries, range(min(first, *(e["from"] for e in entries)), end + 1))
    kept = []
    for e in entries:
        if e["from"] >= year:
            continue
        e = dict(e)
        if e.get("to", end) >= year:
            if e.get("shape", "step") == "ramp":
                e["start"] = e.get("start", path.get(e["from"] - 1, base))
                e["value"] = path[year - 1]
            e["to"] = year - 1
        kept.append(e)
    return kept


def with_edits(data: dict, edits: list[LeverEdit]) -> tuple[dict, dict[int, str]]:
    """The scenario tree with one step entry per edit; returns it and {entry index: edit key}."""
    data = copy.deepcopy(data)
    first, end = data["run"]["start_year"], data["run"]["end_year"]
    schedule = data.setdefault("schedule", [])
    owner: dict[int, str] = {}
    for edit in edits:
        mine = [e for e in schedule if e.get("country") == edit.country and e.get("lever") == edit.lever]
        if isinstance(edit.start, int) and mine and edit.country in data["countries"]:
            others = [e for e in schedule if e not in mine]
            try:
                base = _base_from_data(data, edit.country, edit.lever)
            except KeyError:  # an unknown origin: the loader reports it
                base = 0.0
            schedule[:] = others + _cut_before(mine, edit.start, base, first, end)
        entry = {"country": edit.country, "lever": edit.lever}
        if edit.start is not None:
            entry["from"] = edit.start
        if edit.value is not None:
            entry["value"] = edit.value
        owner[id(entry)] = edit.key
        schedule.append(entry)
    return data, {i: owner[id(e)] for i, e in enumerate(schedule) if id(e) in owner}


def _base_from_data(data: dict, country: str, lever: str) -> float:
    table = data["countries"][country]
    if lever.startswith("tariffs."):
        return table["tariffs"].get(lever.split(".", 1)[1], table["tariffs"]["default"])
    return table[lever]


# --------------------------------------------------------------------------- building
@dataclass
class Built:
    """A configuration turned into a scenario: the scenario (None if invalid), its TOML, errors by field."""

    scenario: Scenario | None
    toml: str
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not self.errors


def build(base: Scenario, edits: list[LeverEdit], *, firms: int | None, seed: int = 1,
          name: str = "dashboard") -> Built:
    """Apply `edits` to `base`, set ``run.firms``/``run.seed``, export, load back and validate.

    `seed` is the first replicate's seed, so `factoryshift run` of the exported file
    reproduces that replicate; later replicates use ``--seed 2``, ``--seed 3``, ...
    """
    source = f"{name}.toml"
    data, owners = with_edits(base.data, edits)
    data["run"]["seed"] = seed
    if firms is not None:
        data["run"]["firms"] = firms
    data["meta"] = dict(data.get("meta", {}), title=f"{base.title} (dashboard)",
                        description=describe(base, edits))
    errors: dict[str, list[str]] = {}
    first, end = data["run"]["start_year"], data["run"]["end_year"]
    for i, key in owners.items():
        start = data["schedule"][i].get("from")
        if isinstance(start, int) and not first <= start <= end:
            errors.setdefault(key, []).append(f"{source}: schedule[{i}].from: must be a year from run.start_year = "
                                              f"{first} to run.end_year = {end}, got {start}")
    # the edits are counterfactual levers on the base's observed world, which the file carries
    text = Scenario(name, data, observed=base.observed).to_toml()
    scenario = None
    try:
        scenario = scenario_from_text(text, name)
    except UserError as exc:
        for message in exc.messages:
            errors.setdefault(field_of(message, owners), []).append(message)
    return Built(scenario if not errors else None, text, errors)


def describe(base: Scenario, edits: list[LeverEdit]) -> str:
    said = "; ".join(f"{e.country} {e.lever} = {e.value} from {e.start}" for e in edits
                     if e.value is not None and e.start is not None)
    return f"Made in the FactoryShift dashboard from '{base.name}'" + (f": {said}." if said else " without changes.")


_SCHEDULE_INDEX = re.compile(r"^[^:]*: schedule\[(\d+)\]")


def field_of(message: str, owners: dict[int, str]) -> str:
    """The input a loader message is about: an edit's key, ``firms``, ``seed`` or `GENERAL`."""
    match = _SCHEDULE_INDEX.match(message)
    if match and int(match.group(1)) in owners:
        return owners[int(match.group(1))]
    for key in ("firms", "seed"):
        if f": run.{key}:" in message:
            return key
    return GENERAL


# --------------------------------------------------------------------------- sources
def scenario_from_text(text: str, name: str = "pasted") -> Scenario:
    """Load TOML text as the file ``<name>.toml`` would be; `UserError` messages name that file.

    ``extends`` may name a bundled scenario; a relative path has no folder to be relative to.
    """
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).stem) or "pasted"
    with tempfile.TemporaryDirectory(prefix="factoryshift-dashboard-") as tmp:
        path = Path(tmp) / f"{stem}.toml"
        path.write_text(text, encoding="utf-8")
        try:
            scenario = load_scenario(path)
        except UserError as exc:
            raise UserError([m.replace(str(path), path.name).replace(f"{tmp}/", "") for m in exc.messages]) from None
    return Scenario(scenario.name, scenario.data, None, scenario.overrides)


def scenario_from_bytes(content: bytes, name: str) -> Scenario:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{Path(name).name}: not UTF-8 text (byte {exc.start})") from None
    return scenario_from_text(text, name)


def bundled() -> list[str]:
    return bundled_scenarios()


def load_bundled(name: str) -> Scenario:
    return load_scenario(name)
