"""Every bundled scenario validates, documents itself and runs."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest

from sim.api import run_scenario
from sim.cli import main
from sim.scenarios.scenario import bundled_dir, bundled_names, load_scenario

NAMES = bundled_names("scenarios")
LIBRARY = [n for n in NAMES if n != "baseline"]
NUMBER_LINE = re.compile(r"^\s*[\w.]+\s*=\s*[-+]?(\d|inf|nan|\{)")


def raw(name: str) -> dict:
    with open(bundled_dir("scenarios") / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def test_library_is_complete():
    expected = {"east_asia_ai_push", "west_reshoring", "west_reshoring_with_ai", "global_south_relocation",
                "global_south_aligned", "korea_demographic_cliff", "korea_demographic_cliff_ai_push", "no_ai_race"}
    assert expected <= set(LIBRARY)


def test_validate_all(capsys):
    assert main(["validate", *NAMES]) == 0
    assert capsys.readouterr().out.count("ok: ") == len(NAMES)


@pytest.mark.parametrize("name", LIBRARY)
def test_meta_and_extends(name):
    tree = raw(name)
    assert isinstance(tree.get("extends"), str), "library scenarios state only what differs from a parent"
    meta = tree["meta"]
    for key in ("title", "description", "claim"):
        assert isinstance(meta.get(key), str) and len(meta[key]) > 20, key
    assert meta.get("sources") and all(isinstance(s, str) for s in meta["sources"])


@pytest.mark.parametrize("name", LIBRARY)
def test_every_number_has_a_comment(name):
    """Units and sources sit next to each number (an inline `#` comment on the line)."""
    text = (bundled_dir("scenarios") / f"{name}.toml").read_text()
    # a fit's record ([meta.calibration], written by `factoryshift calibrate`) is metadata, not a parameter
    text = re.sub(r"\[meta\.calibration[^\n]*\n(?:(?!\[model\]).*\n)*", "", text)
    bare = [line for line in text.splitlines()
            if NUMBER_LINE.match(line) and "#" not in line]
    assert not bare, f"numbers without a unit/source comment: {bare}"


@pytest.mark.parametrize("name", NAMES)
def test_runs_a_few_years(name):
    scenario = load_scenario(name)
    start = scenario.run["start_year"]
    result = run_scenario(scenario, seed=7, firms=800, until=start + 3)
    shares = result.shares
    assert list(shares.index) == list(range(start, start + 4))
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert (shares.to_numpy() >= 0).all()


def test_korea_ai_push_matches_east_asia_push():
    """korea_demographic_cliff_ai_push carries exactly the Korean levers of east_asia_ai_push."""
    push = [e for e in raw("east_asia_ai_push")["schedule"] if e["country"] == "KOR"]
    korea = raw("korea_demographic_cliff_ai_push")["schedule"]
    assert korea == push


def test_year_table_replaced_whole(tmp_path):
    """A child's working_age table replaces the parent's instead of merging year by year."""
    child = tmp_path / "short_table.toml"
    child.write_text('extends = "baseline"\n[countries.KOR]\nworking_age = { 2024 = 36.3, 2050 = 20.0 }\n')
    assert load_scenario(child).countries["KOR"]["working_age"] == {"2024": 36.3, "2050": 20.0}
    cliff = load_scenario("korea_demographic_cliff").countries["KOR"]["working_age"]
    assert cliff["2050"] < load_scenario("baseline").countries["KOR"]["working_age"]["2050"]


def test_no_ai_race_freezes_adoption():
    model = run_scenario("no_ai_race", seed=3, firms=800, until=2030).countries
    assert model["adopters"].sum() == 0
