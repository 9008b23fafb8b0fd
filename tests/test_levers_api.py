"""Levers that cannot mislead and a Python API that fits notebooks (issue 14, items 5 and 6)."""

from __future__ import annotations

import inspect
import textwrap

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.errors import BadValueError, UnknownNameError, UserError
from sim.scenarios import parameters as P

BASE = 'extends = "baseline"\n'
CODES = "CHN, KOR, JPN, USA, DEU, IND, VNM, MEX, XEU, XAS, ROW"


def experiment(levers: str, extra: str = "") -> str:
    return textwrap.dedent("""
        [experiment]
        scenario = "baseline"
        design = "grid"
        seed = 1
        firms = 40
        [fixed]
        "run.end_year" = 2026
        {extra}
        [levers]
        {levers}
        [outcomes]
        us = {{ metric = "production_share", country = "USA", year = 2026 }}
        """).format(levers=levers, extra=extra)


def errors_of(tmp_path, capsys, name: str, text: str, command: str = "validate") -> list[str]:
    (tmp_path / name).write_text(text)
    status = main([command, str(tmp_path / name)] + (["--dry-run"] if command == "sweep" else []))
    captured = capsys.readouterr()
    assert status == 2 and "Traceback" not in captured.err
    return captured.err.strip().splitlines()


# ---------------------------------------------------------------------------------- item 5: levers
@pytest.mark.parametrize("value, hint", [(5, "0.05"), (25, "0.25"), (145, "1.45")])
def test_a_tariff_written_as_a_percentage_is_refused_with_the_fraction(tmp_path, capsys, value, hint):
    lines = errors_of(tmp_path, capsys, "t.toml", BASE + f"[countries.USA.tariffs]\nCHN = {value}\n")
    assert lines == [f"error: {tmp_path / 't.toml'}: countries.USA.tariffs.CHN: out of range: {value} not in [0, 2] "
                     f"(ad valorem share) (did you mean {hint}? shares are fractions: 0.05 is 5%)"]


def test_the_same_hint_in_schedules_overrides_and_experiment_factors(tmp_path, capsys):
    schedule = BASE + '[[schedule]]\ncountry = "USA"\nlever = "tariffs.CHN"\nfrom = 2030\nvalue = 5\n'
    assert "schedule[0].value: out of range: 5 not in [0, 2] (ad valorem share) (did you mean 0.05?" in \
        errors_of(tmp_path, capsys, "s.toml", schedule)[0]
    with pytest.raises(UserError, match=r"countries.USA.tariffs.CHN: out of range: 5 .*did you mean 0.05\?"):
        sim.load_scenario("baseline").with_overrides({"countries.USA.tariffs.CHN": 5})
    lever = errors_of(tmp_path, capsys, "x.toml", experiment('"countries.USA.tariffs.CHN" = { min = 0, max = 25 }'),
                      "sweep")
    assert lever == [f"error: {tmp_path / 'x.toml'}: levers.countries.USA.tariffs.CHN.max: out of range: 25 not in "
                     "[0, 2] (ad valorem share) (did you mean 0.25? shares are fractions: 0.05 is 5%)"]


def test_tariff_bound_is_sourced_and_real_tariffs_fit():
    tariffs = P.COUNTRY["tariffs"]
    assert tariffs.hi == 2.0 and "145%" in tariffs.source
    sim.load_scenario("baseline").with_overrides({"countries.USA.tariffs.CHN": 1.45})   # April 2025: accepted


def test_a_subsidy_rate_without_a_fund_warns_at_validation(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(BASE + "[countries.USA]\nai_subsidy_rate = 0.3\n")
    assert main(["validate", str(tmp_path / "s.toml")]) == 0
    out, err = capsys.readouterr()
    assert out == f"ok: {tmp_path / 's.toml'}\n"
    assert err == (f"warning: {tmp_path / 's.toml'}: countries.USA.ai_subsidy_rate: the subsidy rate is 0.3 but "
                   "ai_fund is 0 in 2024–2050: no subsidy is paid then (set countries.USA.ai_fund, `inf` for no cap)\n")
    # a fund scheduled later covers the years from then on only
    (tmp_path / "f.toml").write_text(BASE + '[countries.USA]\nai_subsidy_rate = 0.3\n[[schedule]]\ncountry = "USA"\n'
                                            'lever = "ai_fund"\nfrom = 2030\nvalue = 1e9\n')
    assert sim.load_scenario(tmp_path / "f.toml").warnings[0].endswith(
        "the subsidy rate is 0.3 but ai_fund is 0 in 2024–2029: no subsidy is paid then (set countries.USA.ai_fund, "
        "`inf` for no cap)")
    (tmp_path / "e.toml").write_text(experiment('"countries.IND.ai_subsidy_rate" = { values = [0.0, 0.3] }'))
    assert main(["validate", str(tmp_path / "e.toml")]) == 0
    assert "warning: " + str(tmp_path / "e.toml") + ": levers.countries.IND.ai_subsidy_rate: the subsidy rate is 0.3" \
        in capsys.readouterr().err


def test_bundled_files_give_no_warning():
    from sim.experiments.experiment import load_experiment
    from sim.scenarios.scenario import bundled_names

    assert not [w for n in bundled_names("scenarios") for w in sim.load_scenario(n).warnings]
    assert not [w for n in bundled_names("experiments") for w in load_experiment(n).warnings]


@pytest.mark.parametrize("levers, where", [
    ('"countries.USA.tariffs.USA" = { values = [0.0, 0.5] }', "levers.countries.USA.tariffs.USA"),
    ('"countries.USA.tariffs.CHN" = { values = [0.0, 0.5], also = ["countries.CHN.tariffs.CHN"] }',
     "levers.countries.USA.tariffs.CHN.also.countries.CHN.tariffs.CHN"),
])
def test_a_lever_the_model_never_applies_is_not_a_factor(tmp_path, capsys, levers, where):
    lines = errors_of(tmp_path, capsys, "x.toml", experiment(levers), "sweep")
    assert lines == [f"error: {tmp_path / 'x.toml'}: {where}: a country's tariff on its own goods is never applied; "
                     "remove it"]


def test_a_default_tariff_that_applies_to_no_origin_is_not_a_factor(tmp_path, capsys):
    named = "\n".join(f"{c} = 0.1" for c in CODES.split(", ") if c != "USA")
    (tmp_path / "all.toml").write_text(BASE + f"[countries.USA.tariffs]\n{named}\n")
    text = experiment('"countries.USA.tariffs.default" = { values = [0.0, 0.5] }').replace('"baseline"', '"all.toml"')
    lines = errors_of(tmp_path, capsys, "x.toml", text, "sweep")
    assert lines == [f"error: {tmp_path / 'x.toml'}: levers.countries.USA.tariffs.default: the default tariff applies "
                     "to no origin: countries.USA.tariffs names every other country; vary a named origin instead"]


def test_unknown_names_read_alike_in_scenarios_experiments_and_options(tmp_path, capsys):
    text = BASE + "[countries.USA.tariffs]\nCNH = 0.1\n[model]\nthetta = 5.0\n"
    scenario = errors_of(tmp_path, capsys, "s.toml", text)
    lever = errors_of(tmp_path, capsys, "x.toml", experiment('"countries.USA.tariffs.CNH" = { values = [0.0, 0.5] }\n'
                                                             '"model.thetta" = { values = [4.0, 5.0] }'), "sweep")
    unknown = f"unknown country 'CNH' (did you mean 'CHN'?); countries: {CODES}"
    assert f"countries.USA.tariffs.CNH: {unknown}" in scenario[1] and "model.thetta: unknown parameter (did you " \
        "mean 'theta'?)" in scenario[0]
    assert lever[0].endswith(f"levers.countries.USA.tariffs.CNH: {unknown}")
    assert lever[1].endswith("levers.model.thetta: unknown parameter (did you mean 'theta'?)")
    assert main(["run", "--countries", "USA,CNH", "--no-plot"]) == 2
    assert capsys.readouterr().err == f"error: run: --countries: {unknown}\n"
    assert main(["compare", "baseline", "--countries", "USA,UK"]) == 2      # codes in use elsewhere: the region
    assert capsys.readouterr().err == ("error: compare: --countries: unknown country 'UK' (did you mean 'ROW'?); "
                                       f"countries: {CODES}\n")


# ---------------------------------------------------------------------------------- item 6: the Python API
def test_run_scenario_has_a_real_signature_and_docstring():
    assert sim.run_scenario is sim.api.run_scenario
    params = inspect.signature(sim.run_scenario).parameters
    assert list(params) == ["scenario", "seed", "firms", "until", "record_firms"]
    assert "firms : firms at the start" in sim.run_scenario.__doc__


def test_api_errors_name_arguments_not_options():
    with pytest.raises(UserError) as info:
        sim.run_scenario("baseline", firms=5, until=2060)
    text = str(info.value)
    assert "--" not in text and "firms: must be between 10 and 20,000,000, got 5" in text and "until: must be" in text


@pytest.fixture(scope="module")
def short_run():
    return sim.run_scenario("baseline", seed=3, firms=300, until=2030)


def test_result_tables_are_attributes_and_repr_is_short(short_run):
    shares = short_run.shares
    assert isinstance(shares, pd.DataFrame) and list(shares.index) == list(range(2024, 2031))
    assert shares.loc[2030].sum() == pytest.approx(1.0)
    assert repr(short_run) == (f"<RunResult baseline: seed 3, 300 firms, 2024–2030; countries 77 rows, flows "
                               f"{len(short_run.flows)} rows>")
    assert short_run.summary()["change_pp"].abs().sum() > 0


def test_model_results_is_the_one_way_to_the_data_frames(short_run):
    model = sim.FactoryShiftModel("baseline", seed=3, firms=300).run(until=2030)
    result = model.results()
    pd.testing.assert_frame_equal(result.countries, short_run.countries)
    pd.testing.assert_frame_equal(result.shares, short_run.shares)


def test_model_errors_are_one_line_and_keep_their_python_types():
    model = sim.FactoryShiftModel("baseline", seed=3, firms=100).run(until=2027)
    with pytest.raises(KeyError) as info:
        model.country("GER")
    assert isinstance(info.value, UnknownNameError) and str(info.value) == f"country('GER'): unknown country " \
        f"'GER' (did you mean 'DEU'?); countries: {CODES}"
    with pytest.raises(ValueError) as info:
        model.run(until=2025)
    assert isinstance(info.value, BadValueError) and str(info.value) == (
        "run(until=2025): the model is already in 2027 and cannot go back; build a new FactoryShiftModel to stop "
        "in 2025")
    with pytest.raises(BadValueError, match="after the scenario's run.end_year = 2050"):
        model.run(until=2051)
    with pytest.raises(KeyError, match=r"firm\(999999\): no firm with that id"):
        model.firm(999999)
    assert model.run(until=2027).year == 2027          # the current year: nothing to do, no error


def test_the_model_checks_its_arguments_in_python_terms():
    with pytest.raises(UserError) as info:
        sim.FactoryShiftModel("baseline", firms=5)
    assert str(info.value).endswith("baseline.toml: firms: must be between 10 and 20,000,000, got 5")


def test_notebook_objects_have_short_reprs():
    from sim.experiments.experiment import load_experiment

    assert repr(sim.load_scenario("baseline")) == "<Scenario baseline: 11 countries, 2024–2050, 10,000 firms>"
    assert repr(load_experiment("us_policies_futures")) == ("<Experiment us_policies_futures: 5 policies (list) × "
                                                            "32 futures (lhs) × 2 replicates = 320 runs>")
