"""Scenario files: loading, `extends` inheritance, defaults, overrides and TOML output.

A scenario is data: TOML parsed with `tomllib`, checked against `sim.scenarios.parameters`,
never evaluated. `load_scenario` returns a fully resolved `Scenario` (every parameter
present, defaults filled in) or raises `UserError` with every problem found.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from sim.errors import COUNTRY_ALIASES, UserError, did_you_mean, unknown, unknown_country
from sim.inputs import load_toml
from sim.scenarios import parameters as P
from sim.scenarios.check import (
    COUNTRY_CODE,
    SELF_TARIFF,
    check_file_tree,
    check_resolved,
    lever_param,
    unfunded_subsidies,
)
from sim.scenarios.schedule import LeverPaths


def bundled_dir(kind: str) -> Path:
    """The folder of bundled ``scenarios`` or ``experiments`` (source tree or installed wheel)."""
    package = Path(__file__).resolve().parents[1]        # sim/
    for candidate in (package.parent / kind, package / "_bundled" / kind):
        if candidate.is_dir():
            return candidate
    return package.parent / kind


def bundled_names(kind: str = "scenarios") -> list[str]:
    return sorted(p.stem for p in bundled_dir(kind).glob("*.toml"))


def locate(ref: str, kind: str = "scenarios", relative_to: Path | None = None) -> Path:
    """Resolve a bundled name or a path to a `.toml` file; raise `UserError` if absent."""
    as_path = Path(ref)
    if relative_to is not None and not as_path.is_absolute():
        as_path = relative_to / as_path
    if as_path.is_dir() and ("/" in ref or ref.endswith(".toml") or not (bundled_dir(kind) / f"{ref}.toml").is_file()):
        raise UserError(f"{ref}: is a folder, not a .toml file")
    if ref.endswith(".toml") or "/" in ref or as_path.is_file():
        if as_path.is_file():
            return as_path
        if relative_to is None or not (bundled_dir(kind) / f"{ref}.toml").is_file():
            raise UserError(f"{ref}: no such file")
    named = bundled_dir(kind) / f"{ref}.toml"
    if named.is_file():
        return named
    raise UserError(f"{ref}: no bundled {kind[:-1]} of that name and no such file"
                    + did_you_mean(ref, bundled_names(kind))
                    + f"; bundled: {', '.join(bundled_names(kind))}")


def read_toml(path: Path) -> dict:
    return load_toml(path)


#: Country parameters whose table is one value (a path over years): a child's table
#: replaces the parent's whole instead of merging year by year.
WHOLE_TABLES = frozenset(p.name for p in P.COUNTRY_PARAMS if p.kind == "year_table")


def deep_merge(base: dict, child: dict, path: tuple[str, ...] = ()) -> dict:
    """Child values win; tables merge key by key; `schedule` arrays concatenate.

    Year tables (``countries.XXX.working_age``) are replaced whole: merging two
    population paths year by year would splice them into a path neither file states.
    """
    out = copy.deepcopy(base)
    for key, val in child.items():
        here = (*path, key)
        whole = len(here) == 3 and here[0] == "countries" and key in WHOLE_TABLES
        if key == "schedule" and not path and isinstance(val, list) and isinstance(out.get(key, []), list):
            out[key] = out.get(key, []) + copy.deepcopy(val)
        elif isinstance(val, dict) and isinstance(out.get(key), dict) and not whole:
            out[key] = deep_merge(out[key], val, here)
        else:
            out[key] = copy.deepcopy(val)
    return out


def _load_chain(path: Path, chain: tuple[tuple[Path, Path], ...]) -> tuple[dict, list[str], list[tuple[str, int]]]:
    """Merge `path` onto its ancestors.

    Returns the merged tree, every error found, and for each entry of the merged
    ``schedule`` the file it comes from and its index there (so that messages about
    merged schedules name the file and entry the user wrote). `chain` holds the files
    already on the way here, as (resolved path, path as reached).
    """
    resolved = path.resolve()
    if resolved in [r for r, _ in chain]:
        names = [shown.name for _, shown in chain] + [path.name]
        raise UserError(f"{chain[-1][1]}: extends: cycle {' -> '.join(names)}")
    tree = read_toml(path)
    errors = check_file_tree(tree, str(path))
    entries = tree.get("schedule")
    own = [(str(path), i) for i in range(len(entries))] if isinstance(entries, list) else []
    parent_ref = tree.get("extends")
    mark = tree.get("observed")
    tree = {k: v for k, v in tree.items() if k != "observed"}
    if not isinstance(parent_ref, str):
        return tree, errors, own, _observed_at(tree, mark, None, errors)
    try:
        parent_path = locate(parent_ref, relative_to=path.parent)
    except UserError as exc:
        raise UserError(f"{path}: extends: {exc.messages[0]}") from None
    base, base_errors, base_origins, base_observed = _load_chain(parent_path, (*chain, (resolved, path)))
    for code in tree.get("countries", {}) if isinstance(tree.get("countries"), dict) else ():
        if code not in base.get("countries", {}) and COUNTRY_CODE.fullmatch(str(code)):
            errors.append(f"{path}: countries.{code}: "
                          + unknown("country", code, base.get("countries", {}), f"countries of '{parent_ref}'",
                                    COUNTRY_ALIASES))
    child = {k: v for k, v in tree.items() if k != "extends"}
    merged = deep_merge(base, child)
    return merged, base_errors + errors, base_origins + own, _observed_at(merged, mark, base_observed,
                                                                         base_errors + errors)


def _observed_at(merged: dict, mark, inherited, errors) -> dict | None:
    """The observed world's levers as of this file: its own (``observed = true``), the table it
    writes (``[observed]``, as `Scenario.to_toml` does), or those of the nearest ancestor."""
    if mark is True and not errors:
        return levers_in_force(with_defaults(merged))
    if isinstance(mark, dict):
        return copy.deepcopy(mark)
    return inherited


def levers_in_force(data: dict) -> dict:
    """code → {lever: value} in the start year: the country tables, then the schedules for that year."""
    out = {code: {**{lever: country[lever] for lever in P.LEVERS}, "tariffs": dict(country["tariffs"])}
           for code, country in data["countries"].items()}
    for code, lever, value in LeverPaths(Scenario("", data, observed={}), data["run"]["start_year"]).values(
            data["run"]["start_year"]):
        if lever.startswith("tariffs."):
            out[code]["tariffs"][lever[len("tariffs."):]] = value
        else:
            out[code][lever] = value
    return out


def with_defaults(tree: dict) -> dict:
    out = copy.deepcopy(tree)
    out.pop("extends", None)
    out.setdefault("meta", {})
    for section, params in (("run", P.RUN_PARAMS), ("model", P.MODEL_PARAMS)):
        table = out.setdefault(section, {})
        for p in params:
            table.setdefault(p.name, p.default)
    for country in out.setdefault("countries", {}).values():
        for p in P.COUNTRY_PARAMS:
            if p.default is not None:
                country.setdefault(p.name, copy.deepcopy(p.default))
        country["tariffs"].setdefault("default", 0.0)
    out.setdefault("schedule", [])
    return out


@dataclass
class Scenario:
    """A fully resolved scenario: every parameter present, validated.

    `observed` holds the lever values of the observed world in the start year (code → {lever:
    value}): the model calibrates its start year on them, and the scenario's own levers apply
    from then on, so a lever means the same however it is written. It comes from the nearest
    file in the `extends` chain marked ``observed = true`` (the baseline, the historical
    starts), or a written ``[observed]`` table; without either, the scenario's own levers.
    """

    name: str
    data: dict
    path: Path | None = None
    overrides: dict = field(default_factory=dict)
    observed: dict | None = None

    def __post_init__(self):
        written = None
        if "observed" in self.data:               # a scenario as `to_toml` writes it
            written = self.data["observed"]
            self.data = {k: v for k, v in self.data.items() if k != "observed"}
        if self.observed is None:
            self.observed = levers_in_force(self.data)
            for code, levers in (written or {}).items():
                self.observed[code].update(copy.deepcopy(levers))

    @property
    def codes(self) -> list[str]:
        return list(self.data["countries"])

    @property
    def run(self) -> dict:
        return self.data["run"]

    @property
    def model(self) -> dict:
        return self.data["model"]

    @property
    def countries(self) -> dict:
        return self.data["countries"]

    @property
    def title(self) -> str:
        return self.data["meta"].get("title", self.name)

    def __repr__(self) -> str:   # the data holds every parameter: too much for a notebook cell
        run = self.data["run"]
        extra = f", {len(self.overrides)} override(s)" if self.overrides else ""
        return (f"<Scenario {self.name}: {len(self.codes)} countries, {run['start_year']}–{run['end_year']}, "
                f"{run['firms']:,} firms{extra}>")

    @property
    def warnings(self) -> list[str]:
        """Valid settings that probably do not do what was meant, as one-line messages (an AI subsidy
        rate without a fund to pay it); `factoryshift validate` and `run` print them on stderr."""
        source = str(self.path or self.name)
        return [f"{source}: countries.{code}.ai_subsidy_rate: {problem}"
                for code, problem in unfunded_subsidies(self.data)]

    def with_overrides(self, overrides: dict[str, object], source: str = "overrides") -> Scenario:
        """A copy with dotted-path values replaced (``countries.USA.tariffs.CHN``), re-validated."""
        data = copy.deepcopy(self.data)
        errors = []
        for dotted, value in overrides.items():
            problem = check_path(self.data, dotted)
            if problem:
                errors.append(f"{source}: {dotted}: {problem}")
                continue
            *parents, leaf = dotted.split(".")
            node = data
            for part in parents:
                node = node[part]
            node[leaf] = value
        if errors:
            raise UserError(errors)
        validate(data, source)
        return Scenario(self.name, data, self.path, {**self.overrides, **overrides}, copy.deepcopy(self.observed))

    def to_toml(self) -> str:
        """The fully resolved scenario as TOML, with the observed world's levers as an ``[observed]`` table,
        so that the file runs exactly as this scenario does."""
        return tomli_w.dumps(_toml_safe({**self.data, "observed": self.observed}))


def check_path(data: dict, dotted: str) -> str | None:
    """Why `dotted` does not address a scalar scenario parameter, or None if it does."""
    parts = dotted.split(".")
    if parts[0] in ("run", "model") and len(parts) == 2:
        table = data[parts[0]]
        return None if parts[1] in table else "unknown parameter" + did_you_mean(parts[1], table)
    if parts[0] == "countries" and len(parts) in (3, 4):
        if parts[1] not in data["countries"]:
            return unknown_country(parts[1], data["countries"])
        if len(parts) == 4:
            if parts[2] != "tariffs":
                return "only tariffs take a fourth part (countries.XXX.tariffs.ORIGIN)"
            if parts[3] == parts[1]:
                return SELF_TARIFF
            ok = parts[3] == "default" or parts[3] in data["countries"]
            return None if ok else unknown_country(parts[3], data["countries"])
        param = P.COUNTRY.get(parts[2])
        if param is None:
            return "unknown parameter" + did_you_mean(parts[2], P.COUNTRY)
        if param.kind not in ("float", "int", "bool"):
            return f"'{parts[2]}' is not a scalar parameter"
        return None
    return "paths look like run.X, model.X, countries.XXX.X or countries.XXX.tariffs.ORIGIN"


def validate(data: dict, source: str) -> None:
    errors = check_file_tree({k: v for k, v in data.items() if k != "extends"}, source)
    if not errors or resolvable(data):
        errors += consequences_dropped(errors, check_resolved(data, source), source)
    if errors:
        raise UserError(errors)


def load_scenario(ref: str | Path = "baseline") -> Scenario:
    """Load a bundled scenario by name or a `.toml` file by path, resolving `extends`."""
    path = ref if isinstance(ref, Path) else locate(str(ref))
    merged, errors, origins, observed = _load_chain(path, ())
    if errors and not resolvable(merged):
        raise UserError(errors)
    data = with_defaults(merged)
    errors = errors + consequences_dropped(errors, check_resolved(data, str(path), origins), str(path))
    if errors:
        raise UserError(errors)
    scenario = Scenario(path.stem, data, path)
    for code, levers in (observed or {}).items():   # levers the observed file does not name stay the scenario's
        if code in scenario.observed:
            scenario.observed[code].update(copy.deepcopy(levers))
    return scenario


def consequences_dropped(reported: list[str], more: list[str], source: str) -> list[str]:
    """`more` (messages about the merged result of `source`) without those about a key that a
    `reported` message already names, or one under it: an unknown country reported once is not
    also missing each of its required parameters."""
    head = source + ": "
    out = []
    for m in more:
        key = m[len(head):].split(": ", 1)[0] if m.startswith(head) else ""
        parts = key.split(".")
        ancestors = [".".join(parts[:i]) for i in range(1, len(parts) + 1)] if key else []
        if not any(r.startswith(f"{head}{a}: ") for a in ancestors for r in reported):
            out.append(m)
    return out


def resolvable(tree: dict) -> bool:
    """Whether the merged tree has the shape the checks of the merged result need (tables where tables
    belong, schedule entries as tables with a text lever), so they can run despite errors in values."""
    sections = [tree.get(k, {}) for k in ("run", "model", "countries", "meta")]
    countries = tree.get("countries", {})
    entries = tree.get("schedule", [])
    return (isinstance(tree.get("extends", ""), str)
            and all(isinstance(t, dict) for t in sections)
            and all(isinstance(c, dict) and isinstance(c.get("tariffs", {}), dict) for c in countries.values())
            and isinstance(entries, list)
            and all(isinstance(e, dict) and isinstance(e.get("lever", ""), str) for e in entries))


def _toml_safe(value: object) -> object:
    """TOML has no null; drop None values."""
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_safe(v) for v in value]
    return value


__all__ = ["Scenario", "load_scenario", "locate", "bundled_names", "lever_param"]
