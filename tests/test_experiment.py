"""Experiment files, designs and sensitivity analysis (no model runs except where stated)."""

import math
from itertools import product

import numpy as np
import pytest

from sim.cli import main
from sim.errors import UserError
from sim.experiments import analysis, designs
from sim.experiments.designs import Factor
from sim.experiments.experiment import load_experiment, parse_experiment
from sim.scenarios.scenario import bundled_names

HEAD = """
[experiment]
scenario = "baseline"
design = "{design}"
{size}
replicates = 2
seed = 11
firms = 300
[fixed]
"run.end_year" = 2030
"countries.USA.ai_fund" = 1e11
"""

GOOD = HEAD + """
[levers]
"countries.USA.ai_subsidy_rate" = {{ min = 0.0, max = 0.5 }}
"countries.USA.tariffs.CHN" = {{ values = [0.0, 0.25, 0.6] }}
[uncertainties]
"model.theta" = {{ min = 3.0, max = 8.0 }}
[outcomes]
us_2030 = {{ metric = "production_share", country = "USA", year = 2030 }}
us = {{ metric = "production_share", country = "USA" }}
"""


def parse(text: str):
    return parse_experiment(text, source="exp.toml", name="exp")


def test_bundled_experiments_validate_and_fit_a_small_machine():
    names = bundled_names("experiments")
    assert {"us_reshoring_levers", "global_south_alignment", "east_asia_uncertainty"} <= set(names)
    sizes = {}
    for name in names:
        e = load_experiment(name)
        sizes[name] = e.n_runs
        assert e.firms <= 2000 and e.n_runs <= 2000
    assert sizes["us_reshoring_levers"] == 256 * 4
    assert sizes["global_south_alignment"] == 4 ** 3 * 4
    assert sizes["east_asia_uncertainty"] == 128 * (4 + 2) * 2
    assert load_experiment("east_asia_uncertainty").design_kind == "sobol"


def test_grid_size_order_and_levels():
    e = parse(GOOD.format(design="grid", size=""))
    # ranges without `levels` take 5 grid points; values lists their own
    assert e.n_samples == 5 * 3 * 5 and e.n_runs == 150
    X = e.design.X
    assert X.shape == (75, 3)
    assert list(X[:3, 2]) == [3.0, 4.25, 5.5]          # last factor varies fastest
    assert sorted(set(X[:, 1])) == [0.0, 0.25, 0.6]
    text = GOOD.format(design="grid", size="").replace("max = 0.5 }", "max = 0.5, levels = 2 }")
    assert parse(text).n_samples == 2 * 3 * 5
    assert set(map(tuple, parse(text).design.X[:, :2])) == set(product([0.0, 0.5], [0.0, 0.25, 0.6]))


@pytest.mark.parametrize("design, size, n", [("lhs", 20, 20), ("sobol", 16, 16 * (3 + 2)), ("morris", 6, 6 * 4)])
def test_sampled_designs_sizes_and_bounds(design, size, n):
    e = parse(GOOD.format(design=design, size=f"samples = {size}"))
    X = e.design.X
    assert X.shape == (n, 3) == (e.n_samples, 3)
    assert ((0.0 <= X[:, 0]) & (X[:, 0] <= 0.5)).all()
    assert set(X[:, 1]) <= {0.0, 0.25, 0.6}
    assert ((3.0 <= X[:, 2]) & (X[:, 2] <= 8.0)).all()
    assert (e.design.unit >= 0).all() and (e.design.unit <= 1).all()
    np.testing.assert_array_equal(X, parse(GOOD.format(design=design, size=f"samples = {size}")).design.X)


def test_lhs_is_stratified_and_second_order_sobol_is_larger():
    e = parse(GOOD.format(design="lhs", size="samples = 50"))
    for j in range(3):
        assert sorted((e.design.unit[:, j] * 50).astype(int)) == list(range(50))
    text = GOOD.format(design="sobol", size="samples = 8\nsecond_order = true")
    assert parse(text).n_samples == 8 * (2 * 3 + 2)


def test_replicate_seeds_are_children_of_one_seed_sequence():
    e = parse(GOOD.format(design="lhs", size="samples = 4"))
    seeds = e.seeds()
    assert [s.spawn_key for s in seeds] == [(0,), (1,)]
    again = np.random.SeedSequence(11, spawn_key=(1,))
    assert (seeds[1].generate_state(4) == again.generate_state(4)).all()
    assert e.run_index(5) == (2, 1)      # runs are numbered sample-major


def test_discrete_levels_map_evenly():
    f = Factor("x", values=(1.0, 2.0, 3.0))
    assert list(f.from_unit(np.array([0.0, 0.33, 0.34, 0.66, 0.67, 1.0]))) == [1, 1, 2, 2, 3, 3]
    g = Factor("n", lo=1, hi=3, integer=True)
    assert list(g.from_unit(np.array([0.0, 0.4, 0.99, 1.0]))) == [1, 2, 3, 3]


# ---------------------------------------------------------------------------------- Ishigami
A, B = 7.0, 0.1


def ishigami(X):
    return np.sin(X[:, 0]) + A * np.sin(X[:, 1]) ** 2 + B * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices():
    v1 = 0.5 * (1 + B * math.pi ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = B ** 2 * math.pi ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


FACTORS = [Factor(f"x{i}", lo=-math.pi, hi=math.pi) for i in (1, 2, 3)]


def test_sobol_recovers_ishigami_indices():
    design = designs.build("sobol", FACTORS, 2 ** 13, seed=3)
    table = analysis.sobol_indices(design, ishigami(design.X))
    s1, st = ishigami_indices()
    np.testing.assert_allclose(table["S1"], s1, atol=0.03)
    np.testing.assert_allclose(table["ST"], st, atol=0.03)
    assert (table["S1_conf"] < 0.05).all() and (table["ST_conf"] < 0.05).all()


def test_morris_recovers_ishigami_elementary_effects():
    """μ* against its exact value: the mean |EE| over every grid point of the 4-level design."""
    levels, delta = 4, 4 / (2 * 3)
    grid = np.linspace(0, 1, levels)
    exact = []
    for i in range(3):
        effects = []
        for point in product(grid, repeat=3):
            if point[i] + delta > 1 + 1e-9:
                continue
            lo = np.array(point)
            hi = lo.copy()
            hi[i] += delta
            f = [ishigami(np.array([-math.pi + 2 * math.pi * p]))[0] for p in (lo, hi)]
            effects.append(abs(f[1] - f[0]) / delta)
        exact.append(np.mean(effects))
    design = designs.build("morris", FACTORS, 1000, seed=5, levels=levels)
    table = analysis.morris_indices(design, ishigami(design.X))
    np.testing.assert_allclose(table["mu_star"], exact, rtol=0.1)
    assert table["mu_star"].iloc[0] > table["mu_star"].iloc[2]
    assert table["sigma"].iloc[2] > 0        # x3 acts only through its interaction with x1


def test_src_recovers_linear_coefficients():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(400, 3))
    y = 3 * X[:, 0] - 1 * X[:, 1] + 0 * X[:, 2] + rng.normal(scale=0.05, size=400)
    coef, lo, hi, r2 = analysis.src(X, y, n_boot=300)
    expected = np.array([3, -1, 0]) * X.std(axis=0) / y.std()
    np.testing.assert_allclose(coef, expected, atol=0.02)
    assert (lo <= coef).all() and (coef <= hi).all() and r2 > 0.99


# ---------------------------------------------------------------------------------- bad files
BAD = [
    ('"countries.USA.ai_subsidy_rat" = { min = 0.0, max = 0.5 }', "levers.countries.USA.ai_subsidy_rat",
     "did you mean 'ai_subsidy_rate'"),
    ('"countries.USX.ai_subsidy_rate" = { min = 0.0, max = 0.5 }', "unknown country", "did you mean 'USA'"),
    ('"model.thetta" = { min = 3.0, max = 8.0 }', "levers.model.thetta", "did you mean 'theta'"),
    ('"countries.USA.ai_subsidy_rate" = { min = 0.5, max = 0.1 }', "levers.countries.USA.ai_subsidy_rate",
     "must be less than max"),
    ('"countries.USA.ai_subsidy_rate" = { min = 0.0, max = 1.5 }', "ai_subsidy_rate.max", "out of range"),
    ('"run.firms" = { min = 100, max = 200 }', "levers.run.firms", "cannot vary"),
]


def write_experiment(tmp_path, levers: str, outcome: str = 'metric = "production_share", country = "USA", year = 2030',
                     design: str = "lhs"):
    text = (HEAD.format(design=design, size="samples = 4") + "[levers]\n" + levers
            + "\n[outcomes]\nx = { " + outcome + " }\n")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def cli_error(path, capsys, tmp_path) -> str:
    rc = main(["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "serial"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert not (tmp_path / "out").exists()          # nothing was touched
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("lever, where, problem", BAD)
def test_bad_factors_are_one_line_errors(tmp_path, capsys, lever, where, problem):
    err = cli_error(write_experiment(tmp_path, lever), capsys, tmp_path)
    assert err.startswith(f"error: {tmp_path / 'bad.toml'}: ") and where in err and problem in err


@pytest.mark.parametrize("outcome, problem", [
    ('metric = "production_shares", country = "USA", year = 2030', "did you mean 'production_share'"),
    ('metric = "production_share", country = "US", year = 2030', "unknown country 'US'"),
    ('metric = "production_share", country = "USA", year = 2070', "must be a year from 2024 to 2030"),
    ('metric = "wage", country = ["USA", "DEU"], year = 2030', "cannot be summed"),
    ('metric = "production_share", country = "USA", stat = "median"', "unknown stat"),
])
def test_bad_outcomes_are_one_line_errors(tmp_path, capsys, outcome, problem):
    lever = '"countries.USA.ai_subsidy_rate" = { min = 0.0, max = 0.5 }'
    err = cli_error(write_experiment(tmp_path, lever, outcome), capsys, tmp_path)
    assert "outcomes.x" in err and problem in err


def test_unknown_design_and_missing_keys(tmp_path, capsys):
    lever = '"countries.USA.ai_subsidy_rate" = { min = 0.0, max = 0.5 }'
    err = cli_error(write_experiment(tmp_path, lever, design="latin"), capsys, tmp_path)
    assert "experiment.design: unknown design 'latin'" in err
    with pytest.raises(UserError) as info:
        parse(GOOD.format(design="sobol", size="samples = 12"))
    assert "power of 2" in info.value.messages[0]
    with pytest.raises(UserError) as info:
        parse(GOOD.format(design="grid", size="samples = 12"))
    assert "remove samples" in info.value.messages[0]
    with pytest.raises(UserError) as info:
        parse(GOOD.format(design="lhs", size="samples = 4").replace('seed = 11', 'sed = 11'))
    assert any("unknown key" in m and "did you mean 'seed'" in m for m in info.value.messages)


def test_scheduled_lever_sets_the_schedule_value():
    text = GOOD.format(design="lhs", size="samples = 4").replace('"baseline"', '"west_reshoring"')
    e = parse(text)
    from sim.experiments.experiment import apply_overrides, scheduled_entries

    (i,) = scheduled_entries(e.base.data, "countries.USA.tariffs.CHN")
    s = apply_overrides(e.base, {"countries.USA.tariffs.CHN": 0.6, "countries.USA.ai_subsidy_rate": 0.2}, "t")
    assert s.data["schedule"][i]["value"] == 0.6
    assert s.countries["USA"]["tariffs"]["CHN"] == e.base.countries["USA"]["tariffs"]["CHN"]
    assert s.countries["USA"]["ai_subsidy_rate"] == 0.2
