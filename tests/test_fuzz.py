"""Property-based fuzzing of the scenario and experiment parsers.

Random TOML structures, keys and values must give either a valid object or a `UserError`
whose every message is one line naming the file: never any other exception. Trees are
drawn near the real formats (the baseline's keys, codes and parameter names, with random
values and random keys mixed in), so the fuzzer reaches the deep checks, not only the
"unknown key" at the top. Bounded to a few seconds: derandomized, fixed example counts.
"""

from __future__ import annotations

import math
import string

import numpy as np
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import UserError
from sim.experiments.experiment import parse_experiment
from sim.model.health import NumericalInputError
from sim.model.model import FactoryShiftModel
from sim.scenarios import parameters as P
from sim.scenarios.scenario import Scenario, load_scenario

FAST = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

CODES = ["USA", "CHN", "IND", "DEU", "KOR", "XXX", "usa", "USA\n", "U"]
YEARS = ["2030", "02030", "1899", "2201", "2030.5", "-2030", "²⁰³⁰", "2030\n", "y2030", ""]
WORDS = st.sampled_from([*P.TOP_LEVEL_KEYS, *P.META_KEYS, *P.RUN, *P.MODEL, *P.COUNTRY, *P.SCHEDULE_KEYS,
                         *CODES, *YEARS, "default", "tariffs"]) | st.text(string.printable, max_size=6)

SCALARS = (st.booleans() | st.integers(-2**70, 2**70) | st.integers(-5, 2300)
           | st.floats(allow_nan=True, allow_infinity=True) | st.floats(-1e3, 1e3)
           | st.text(max_size=8) | st.sampled_from(["step", "ramp", "asia", "baseline", *CODES]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(WORDS, inner, max_size=4), max_leaves=12)


def mostly(good, bad, odds: int = 6):
    """`good` `odds` times out of `odds` + 1: trees near the format reach the checks behind the first."""
    return st.integers(0, odds).flatmap(lambda k: bad if k == 0 else good)


def param_value(param: P.Param):
    """Values near and beyond the parameter's range, of its type and of others."""
    lo = param.lo if param.lo is not None else -1e6
    hi = param.hi if param.hi is not None else 1e6
    inside = st.integers(int(math.ceil(lo)), int(hi)) if param.kind == "int" else st.floats(lo, hi)
    edges = st.sampled_from([v for v in (lo, hi, lo - 1, hi + 1, 0, -1, 1e300, -1e300) if math.isfinite(v)])
    return mostly(inside, edges | SCALARS, 3)


def params(table: tuple[P.Param, ...], max_size: int = 3):
    """A table of parameters of `table`, each with a value near its range (now and then a stray key)."""
    entries = st.sampled_from(table).flatmap(lambda p: st.tuples(st.just(p.name), param_value(p)))
    return st.lists(mostly(entries, st.tuples(WORDS, VALUES), 8), max_size=max_size).map(dict)


def scenario_patch():
    """A child of the baseline that sets random parameters, countries, tables and schedules."""
    scalar_country = tuple(p for p in P.COUNTRY_PARAMS if p.kind in ("float", "int", "bool", "str"))
    year_table = st.dictionaries(mostly(st.sampled_from(["2024", "2030", "2050"]), st.sampled_from(YEARS)),
                                 mostly(st.floats(1, 1e3), SCALARS), max_size=3)
    tariffs = st.dictionaries(mostly(st.sampled_from(["CHN", "USA", "default", "IND"]), st.sampled_from(CODES)),
                              param_value(P.COUNTRY["tariffs"]), max_size=2)
    country = st.tuples(params(scalar_country), st.fixed_dictionaries({}, optional={
        "tariffs": tariffs, "working_age": year_table})).map(lambda t: {**t[0], **t[1]})
    code = mostly(st.sampled_from(["USA", "CHN", "IND", "DEU"]), st.sampled_from(CODES))
    entry = st.fixed_dictionaries({
        "country": code, "lever": mostly(st.sampled_from([*P.LEVERS, "tariffs.CHN", "tariffs.default"]),
                                         st.sampled_from(["tariffs.USA", "x", "tariffs.usa"])),
        "from": mostly(st.integers(2020, 2060), st.integers(-10, 3000) | SCALARS),
        "value": st.floats(0, 1) | param_value(P.COUNTRY["tariffs"])},
        optional={"to": st.integers(2020, 2060) | st.integers(-10, 3000), "shape": st.sampled_from(["step", "ramp"]),
                  "start": st.floats(0, 1) | SCALARS})
    return st.fixed_dictionaries({"extends": st.just("baseline")}, optional={
        "model": params(P.MODEL_PARAMS), "countries": st.dictionaries(code, country, max_size=2),
        "run": params(tuple(p for p in P.RUN_PARAMS if p.name != "firms"), 1),
        "schedule": st.lists(entry, max_size=3), "meta": st.dictionaries(WORDS, SCALARS, max_size=2)})


def assert_user_error_lines(exc: UserError, source: str) -> None:
    assert exc.messages
    for line in exc.messages:
        assert "\n" not in line and "\r" not in line, line
        assert line.startswith(source) or line.startswith("baseline"), line


def load_or_refuse(tmp_path, tree_or_text) -> Scenario | None:
    path = tmp_path / "fuzz.toml"
    text = tree_or_text if isinstance(tree_or_text, str) else tomli_w.dumps(tree_or_text)
    path.write_text(text, encoding="utf-8")
    try:
        return load_scenario(path)
    except UserError as exc:
        assert_user_error_lines(exc, str(path))
        return None


@FAST
@given(tree=st.dictionaries(WORDS, VALUES, max_size=6))
def test_random_trees_are_scenarios_or_one_line_errors(tmp_path_factory, tree):
    load_or_refuse(tmp_path_factory.mktemp("s"), tree)


@FAST
@given(text=st.text(max_size=200) | st.from_regex(r"\[+[a-z.\"]*\]+\n[a-z_]+ *= *[-0-9a-z\"\[\]{}.]*",
                                                     fullmatch=True))
def test_random_text_is_a_scenario_or_a_one_line_error(tmp_path_factory, text):
    load_or_refuse(tmp_path_factory.mktemp("t"), text)


@settings(FAST, max_examples=150)
@given(patch=scenario_patch())
def test_patched_baseline_loads_and_runs_or_is_refused(tmp_path_factory, patch):
    scenario = load_or_refuse(tmp_path_factory.mktemp("p"), patch)
    if scenario is None:
        return
    # a valid scenario also runs: to finite values, or to a one-line error naming the file
    try:
        FactoryShiftModel(scenario, seed=1, firms=40).run(min(scenario.run["end_year"], scenario.run["start_year"] + 2))
    except NumericalInputError as exc:
        assert_user_error_lines(exc, str(scenario.path))


FACTOR_PATHS = ["model.theta", "model.q0", "model.exit_after", "countries.USA.ai_subsidy_rate",
                "countries.USA.tariffs.CHN", "countries.USA.tariffs.USA", "countries.USA.reshoring_home_only",
                "run.end_year", "countries.XXX.wage", "model.thetaa", "countries.USA.name"]


GOOD_PATHS = FACTOR_PATHS[:5]


def factor_spec():
    number = mostly(st.floats(0, 0.5) | st.integers(0, 1), st.floats(-1, 30) | st.integers(-3, 30) | SCALARS)
    also = st.lists(mostly(st.sampled_from(["countries.CHN.ai_subsidy_rate", "countries.IND.ai_subsidy_rate"]),
                           st.sampled_from(FACTOR_PATHS)), max_size=2)
    ranged = st.fixed_dictionaries({"min": number, "max": number},
                                   optional={"levels": st.integers(-1, 6) | SCALARS, "also": also})
    listed = st.fixed_dictionaries({"values": st.lists(number | st.booleans(), max_size=4)}, optional={"also": also})
    return mostly(ranged | listed, SCALARS)


def valid_experiment():
    """An experiment that parses: a design, one or two factors, outcomes, a short horizon."""
    design = st.sampled_from(["grid", "lhs", "sobol", "morris"])
    lever = st.sampled_from([
        ("countries.USA.ai_subsidy_rate", {"min": 0.0, "max": 0.5}),
        ("countries.USA.tariffs.CHN", {"values": [0.0, 0.25, 0.6]}),
        ("countries.IND.coordination", {"values": [0.3, 0.9], "also": ["countries.VNM.coordination"]}),
        ("model.exit_after", {"min": 2, "max": 5})])
    return st.tuples(design, st.lists(lever, min_size=1, max_size=2, unique_by=lambda f: f[0]),
                     st.integers(0, 2**63 - 1)).map(make_experiment) | st.builds(policies_experiment)


def policies_experiment() -> dict:
    """Policies × uncertainties: named policies, each meeting the same futures (an lhs of them)."""
    tree = make_experiment(("lhs", [], 3))
    del tree["levers"]
    tree["experiment"]["policies"] = "list"
    tree["policy"] = [{"name": "low", "countries.USA.tariffs.CHN": 0.1},
                      {"name": "high", "countries.USA.tariffs.CHN": 0.5, "countries.USA.ai_subsidy_rate": 0.3}]
    tree["outcomes"]["us_2026"]["goal"] = "max"
    return tree


def make_experiment(t) -> dict:
    return {
        "experiment": {"scenario": "baseline", "design": t[0], "seed": t[2], "replicates": 2, "firms": 20,
                       **({"samples": 4} if t[0] != "grid" else {})},
        "fixed": {"run.end_year": 2027},
        "levers": {path: spec for path, spec in t[1] if path.startswith("countries")},
        "uncertainties": {path: spec for path, spec in t[1] if path.startswith("model")} or {"model.q0": {
            "min": 0.2, "max": 0.6}},
        "outcomes": {"us_2026": {"metric": "production_share", "country": "USA", "year": 2026},
                     "asia": {"metric": "output_usd", "country": ["CHN", "KOR"], "stat": "mean", "years": [2025, 2027]},
                     "us": {"metric": "automation", "country": "USA"}}}


def paths(tree, here=()):
    """Every path to a table entry or array element of `tree`."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        yield (*here, key)
        yield from paths(value, (*here, key))


def mutate(data, tree: dict) -> dict:
    """Up to three edits of `tree`: a value replaced, a key added or one removed."""
    import copy

    tree = copy.deepcopy(tree)
    for _ in range(data.draw(st.integers(0, 3))):
        where = data.draw(st.sampled_from(sorted(paths(tree), key=str)))
        *parents, leaf = where
        node = tree
        for part in parents:
            node = node[part]
        action = data.draw(st.sampled_from(["set", "set", "add", "drop"]))
        if action == "drop" and isinstance(node, dict):
            del node[leaf]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(WORDS)] = data.draw(VALUES)
        else:
            node[leaf] = data.draw(VALUES)
    return tree


@settings(FAST, max_examples=150)
@given(data=st.data())
def test_random_experiments_parse_or_give_one_line_errors(tmp_path_factory, data):
    tree = mutate(data, data.draw(valid_experiment()))
    folder = tmp_path_factory.mktemp("e")
    try:
        exp = parse_experiment(tomli_w.dumps(tree), source="fuzz.toml", name="fuzz", base_dir=folder)
    except UserError as exc:
        for line in exc.messages:
            assert "\n" not in line and line.startswith(("fuzz.toml", "baseline", "no_such", "./")), line
        return
    assert exp.n_runs >= 1
    design = exp.design                      # the design of a valid experiment can be drawn
    assert np.isfinite(design.X).all() if design.X.dtype.kind == "f" else True
