"""Strict checks of scenario trees against the parameter table in `sim.scenarios.parameters`.

Every check appends a one-line message ``"<source>: <key.path>: <problem>"`` to a list,
so a file with several mistakes reports them all at once.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from sim.errors import did_you_mean, unknown_country
from sim.inputs import is_year, single_line
from sim.scenarios import parameters as P

#: Always used with fullmatch: "USA\n" is not a code ($ would match before the final newline).
COUNTRY_CODE = re.compile(r"[A-Z]{3}")
#: The years a scenario may name (year tables, schedules).
YEARS = (1900, 2200)


class Checker:
    """Collects error messages for one source file."""

    def __init__(self, source: str):
        self.source = source
        self.errors: list[str] = []

    def add(self, path: str, problem: str) -> None:
        self.add_in(self.source, path, problem)

    def add_in(self, source: str, path: str, problem: str) -> None:
        """A message about another file than `self.source` (a parent reached by `extends`)."""
        self.errors.append(f"{source}: {path}: {problem}" if path else f"{source}: {problem}")

    # -- generic --------------------------------------------------------------------
    def table(self, value: object, path: str) -> bool:
        if not isinstance(value, dict):
            self.add(path, f"must be a table, got {type_name(value)}")
            return False
        return True

    def keys(self, table: dict, allowed: tuple[str, ...] | list[str], path: str, what: str = "key") -> None:
        """Keys not in `allowed`; `what` names them ("parameter" in run, model and country tables, as
        experiment files and overlays say of the same paths)."""
        for key in table:
            if key not in allowed:
                self.add(join(path, key), f"unknown {what}" + did_you_mean(key, allowed))

    def value(self, param: P.Param, value: object, path: str) -> None:
        """Type and range of one parameter value."""
        kind = param.kind
        if kind in ("float", "int"):
            self.number(value, path, param, integer=(kind == "int"))
        elif kind == "bool":
            if not isinstance(value, bool):
                self.add(path, f"must be true or false, got {type_name(value)}")
        elif kind == "str":
            if not isinstance(value, str):
                self.add(path, f"must be a string, got {type_name(value)}")
            elif not value.strip() or not single_line(value):
                self.add(path, f"must be one line of text, got {value!r}")
            elif param.choices and value not in param.choices:
                self.add(path, f"must be one of {', '.join(param.choices)}, got '{value}'"
                         + did_you_mean(value, param.choices))
        elif kind == "year_table":
            self.year_table(value, path, param)
        elif kind == "tariffs":
            if self.table(value, path):
                for origin, rate in value.items():
                    if origin != "default" and not COUNTRY_CODE.fullmatch(str(origin)):
                        self.add(join(path, origin), "must be `default` or a 3-letter country code")
                    else:
                        self.number(rate, join(path, origin), param)
        else:  # pragma: no cover - the parameter table is ours
            raise AssertionError(f"unknown parameter kind {kind}")

    def number(self, value: object, path: str, param: P.Param, integer: bool = False) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(path, f"must be {'an integer' if integer else 'a number'}"
                     f"{unit_text(param)}, got {type_name(value)} {value!r}")
            return False
        if integer and not isinstance(value, int):
            self.add(path, f"must be an integer, got {value!r}")
            return False
        if isinstance(value, float) and math.isnan(value):
            self.add(path, "must be a number, got nan")
            return False
        if math.isinf(value) and not (param.name == "ai_fund" and value > 0):
            self.add(path, f"must be finite, got {value}")
            return False
        low_bad = param.lo is not None and (value <= param.lo if param.lo_open else value < param.lo)
        high_bad = param.hi is not None and value > param.hi
        if low_bad or high_bad:
            self.add(path, f"out of range: {value!r} not in {param.range_text()}{unit_text(param)}"
                     + (percent_hint(value, param) if high_bad else ""))
            return False
        return True

    def year_table(self, value: object, path: str, param: P.Param) -> None:
        if not self.table(value, path):
            return
        if not value:
            self.add(path, "needs at least one year")
        for year, number in value.items():   # plain 4-digit keys, so no year can be written twice ("02030")
            if not is_year(year) or not YEARS[0] <= int(year) <= YEARS[1]:
                self.add(join(path, year), f"keys must be years ({YEARS[0]}–{YEARS[1]}), written as 4 digits")
            else:
                self.number(number, join(path, year), param)


def check_file_tree(tree: dict, source: str) -> list[str]:
    """Structure, types and ranges of one scenario file as written (before `extends`)."""
    c = Checker(source)
    c.keys(tree, P.TOP_LEVEL_KEYS, "")
    if "extends" in tree and not isinstance(tree["extends"], str):
        c.add("extends", f"must be a string, got {type_name(tree['extends'])}")
    if "observed" in tree:
        check_observed(c, tree["observed"])
    if "meta" in tree and c.table(tree["meta"], "meta"):
        c.keys(tree["meta"], P.META_KEYS, "meta")
        for key, val in tree["meta"].items():
            if key == "sources":
                if not (isinstance(val, list) and all(isinstance(s, str) for s in val)):
                    c.add("meta.sources", "must be a list of strings")
            elif key == "calibration":
                c.table(val, "meta.calibration")
            elif key in P.META_KEYS and not isinstance(val, str):
                c.add(join("meta", key), f"must be a string, got {type_name(val)}")
            elif key == "title" and not single_line(val):
                c.add("meta.title", f"must be one line of text, got {val!r}")
    for section, params in (("run", P.RUN), ("model", P.MODEL)):
        if section in tree and c.table(tree[section], section):
            c.keys(tree[section], list(params), section, "parameter")
            for key, val in tree[section].items():
                if key in params:
                    c.value(params[key], val, join(section, key))
    if "countries" in tree and c.table(tree["countries"], "countries"):
        for code, country in tree["countries"].items():
            path = join("countries", code)
            if not COUNTRY_CODE.fullmatch(str(code)):
                c.add(path, "country codes are 3 capital letters (ISO 3166 alpha-3 or a documented aggregate)")
            if c.table(country, path):
                c.keys(country, list(P.COUNTRY), path, "parameter")
                for key, val in country.items():
                    if key in P.COUNTRY:
                        c.value(P.COUNTRY[key], val, join(path, key))
    if "schedule" in tree:
        entries = tree["schedule"]
        if not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
            c.add("schedule", "must be an array of tables ([[schedule]])")
        else:
            for i, entry in enumerate(entries):
                check_schedule_entry(c, entry, f"schedule[{i}]")
    return c.errors


def check_observed(c: Checker, value: object) -> None:
    """``observed = true`` (this file's levers are the observed start year) or a table CODE → {lever: value}."""
    if value is True:
        return
    if not isinstance(value, dict):
        c.add("observed", f"must be true or a table of countries' lever values, got {type_name(value)}")
        return
    for code, levers in value.items():
        path = join("observed", code)
        if not COUNTRY_CODE.match(str(code)):
            c.add(path, "country codes are 3 capital letters")
        elif c.table(levers, path):
            allowed = [*P.LEVERS, "tariffs"]
            c.keys(levers, allowed, path)
            for key, val in levers.items():
                if key in allowed:
                    c.value(P.COUNTRY[key], val, join(path, key))


def check_schedule_entry(c: Checker, entry: dict, path: str) -> None:
    c.keys(entry, P.SCHEDULE_KEYS, path)
    for key in ("country", "lever", "from", "value"):
        if key not in entry:
            c.add(join(path, key), "missing")
    for key in ("from", "to"):
        if key in entry and (isinstance(entry[key], bool) or not isinstance(entry[key], int)):
            c.add(join(path, key), f"must be a year (integer), got {entry[key]!r}")
        elif key in entry and not YEARS[0] <= entry[key] <= YEARS[1]:
            c.add(join(path, key), f"must be a year from {YEARS[0]} to {YEARS[1]}, got {entry[key]}")
    shape = entry.get("shape", "step")
    if shape not in P.SCHEDULE_SHAPES:
        c.add(join(path, "shape"), f"must be one of {', '.join(P.SCHEDULE_SHAPES)}, got {shape!r}"
              + did_you_mean(shape, P.SCHEDULE_SHAPES))
    if shape == "ramp" and "to" not in entry:
        c.add(join(path, "to"), "a ramp needs `to` (the year it reaches `value`)")
    frm, to = entry.get("from"), entry.get("to")
    if all(isinstance(y, int) and not isinstance(y, bool) and YEARS[0] <= y <= YEARS[1] for y in (frm, to)) \
            and to < frm:
        c.add(join(path, "to"), f"{to} is before from = {frm}")
    lever = entry.get("lever")
    param = lever_param(lever) if isinstance(lever, str) else None
    if "lever" in entry and param is None:
        choices = [*P.LEVERS, "tariffs.<ORIGIN>"]
        c.add(join(path, "lever"), f"unknown lever {lever!r}" + did_you_mean(lever, choices)
              + f"; levers: {', '.join(choices)}")
    for key in ("value", "start"):
        if key in entry and param is not None:
            c.number(entry[key], join(path, key), param)


def lever_param(lever: str) -> P.Param | None:
    if lever in P.LEVERS:
        return P.COUNTRY[lever]
    head, _, origin = lever.partition(".")
    if head == "tariffs" and (origin == "default" or COUNTRY_CODE.fullmatch(origin)):
        return P.COUNTRY["tariffs"]
    return None


#: The model never applies a tariff of a market on its own goods (the tariff matrix has a zero diagonal).
SELF_TARIFF = "a country's tariff on its own goods is never applied; remove it"


def check_resolved(tree: dict, source: str, origins: list[tuple[str, int]] | None = None) -> list[str]:
    """Completeness and cross-field rules of a fully merged scenario.

    `origins` gives, for each merged schedule entry, the file it was written in and its
    index there; messages about schedules then point at that file and entry. Without it
    the entries are numbered as in the merged list and reported against `source`.
    """
    c = Checker(source)
    run = tree["run"]
    if isinstance(run["start_year"], int) and isinstance(run["end_year"], int) and run["end_year"] <= run["start_year"]:
        c.add("run.end_year", f"{run['end_year']} must be after run.start_year = {run['start_year']}")
    countries = tree["countries"]
    codes = list(countries)
    if len(codes) < 2:
        c.add("countries", "a scenario needs at least two countries")
    required = [p.name for p in P.COUNTRY_PARAMS if p.default is None]
    for code, country in countries.items():
        for key in required:
            if key not in country:
                c.add(f"countries.{code}.{key}", "missing (required for every country)")
        for origin in country.get("tariffs", {}):
            if origin != "default" and origin not in countries:
                c.add(f"countries.{code}.tariffs.{origin}", unknown_country(origin, codes))
            elif origin == code:
                c.add(f"countries.{code}.tariffs.{origin}", SELF_TARIFF)
    demands = [country.get("demand") for country in countries.values()]
    if all(isinstance(d, (int, float)) for d in demands) and not sum(demands) > 0:
        c.add("countries", "demand is 0 in every country: there is no market to produce for")
    shares = [country.get("mva_share") for country in countries.values()]
    if all(isinstance(s, (int, float)) for s in shares) and abs(sum(shares) - 1.0) > 1e-3:
        c.add("countries", f"mva_share must sum to 1 across countries, got {sum(shares):.6f}")
    entries = tree.get("schedule", [])
    where = ScheduleOrigins(source, origins, len(entries))
    for i, entry in enumerate(entries):
        if entry.get("country") not in countries:
            c.add_in(where.file(i), f"{where.path(i)}.country", unknown_country(entry.get("country"), codes))
        lever = entry.get("lever", "")
        if lever.startswith("tariffs.") and lever[8:] not in (*codes, "default"):
            c.add_in(where.file(i), f"{where.path(i)}.lever", unknown_country(lever[8:], codes))
        elif lever == f"tariffs.{entry.get('country')}":
            c.add_in(where.file(i), f"{where.path(i)}.lever", SELF_TARIFF)
    check_overlaps(c, entries, run["end_year"], where)
    return c.errors


def unfunded_subsidies(tree: dict) -> list[tuple[str, str]]:
    """(country, problem) for each country whose AI subsidy rate is above 0 in a year in which its AI fund
    is 0 (under US$1, which the model treats as 0): the subsidy pays nothing then. A warning, not an error:
    the file is valid, but it probably does not say what its author meant. Schedules count (a fund
    scheduled from 2025 funds a rate from 2025). `tree` is a resolved scenario (defaults filled in)."""
    from sim.scenarios.schedule import base_value, lever_path

    run = tree["run"]
    years = range(run["start_year"], run["end_year"] + 1)
    entries: dict[tuple[str, str], list[dict]] = {}
    for e in tree.get("schedule", []):
        entries.setdefault((e.get("country"), e.get("lever")), []).append(e)
    out = []
    for code, country in tree["countries"].items():
        paths = {lever: lever_path(base_value(country, lever), entries.get((code, lever), []), years)
                 for lever in ("ai_subsidy_rate", "ai_fund")}
        bare = [y for y in years if paths["ai_subsidy_rate"].get(y, country["ai_subsidy_rate"]) > 0
                and paths["ai_fund"].get(y, country["ai_fund"]) < 1.0]
        if bare:
            rate = paths["ai_subsidy_rate"].get(bare[0], country["ai_subsidy_rate"])
            contiguous = bare[-1] - bare[0] == len(bare) - 1
            when = (str(bare[0]) if len(bare) == 1 else f"{bare[0]}–{bare[-1]}" if contiguous
                    else f"{len(bare)} years from {bare[0]}")
            out.append((code, f"the subsidy rate is {rate:g} but ai_fund is 0 in {when}: no subsidy is paid "
                              f"then (set countries.{code}.ai_fund, `inf` for no cap)"))
    return out


class ScheduleOrigins:
    """Where each merged schedule entry was written: its file and its index in that file."""

    def __init__(self, source: str, origins: list[tuple[str, int]] | None, n: int):
        self.source = source
        self.origins = origins if origins is not None and len(origins) == n else None

    def file(self, i: int) -> str:
        return self.origins[i][0] if self.origins else self.source

    def path(self, i: int) -> str:
        return f"schedule[{self.origins[i][1] if self.origins else i}]"

    def other(self, j: int, i: int) -> str:
        """Entry j as seen from a message about entry i (its file is named if different)."""
        if self.file(j) == self.file(i):
            return self.path(j)
        return f"{self.path(j)} of {Path(self.file(j)).name}"


def check_overlaps(c: Checker, entries: list[dict], end_year: int, where: ScheduleOrigins | None = None) -> None:
    where = where or ScheduleOrigins(c.source, None, len(entries))
    seen: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for i, e in enumerate(entries):
        key = (e.get("country"), e.get("lever"))
        lo, hi = e.get("from"), e.get("to", end_year)
        if not isinstance(lo, int) or not isinstance(hi, int):
            continue
        for j, lo2, hi2 in seen.get(key, []):
            if lo <= hi2 and lo2 <= hi:
                c.add_in(where.file(i), where.path(i), f"overlaps {where.other(j, i)} for {key[0]}.{key[1]} "
                         f"({lo}–{hi} vs {lo2}–{hi2})")
        seen.setdefault(key, []).append((i, lo, hi))


def percent_hint(value: float, param: P.Param) -> str:
    """" (did you mean 0.05? …)" for a share written as a percentage (a tariff of 5 is 500%, not 5%)."""
    if "share" not in param.unit:
        return ""
    fraction = value / 100
    if not (param.lo is None or fraction >= param.lo) or not (param.hi is None or fraction <= param.hi):
        return ""
    return f" (did you mean {fraction:g}? shares are fractions: 0.05 is 5%)"


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def type_name(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def unit_text(param: P.Param) -> str:
    return f" ({param.unit})" if param.unit and param.unit != "1" else ""
