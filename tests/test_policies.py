"""Policies × uncertainties, regret, magnitudes and costs, discover on a sweep, validate and --dry-run."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.errors import UserError
from sim.experiments import magnitudes, policies
from sim.experiments.experiment import load_experiment, parse_experiment
from sim.experiments.sweep import read_table, run_sweep

CROSSED = """
[experiment]
scenario = "west_reshoring"
design = "lhs"
samples = 4
replicates = 2
seed = 3
firms = 300
policies = "list"
[fixed]
"run.end_year" = 2030
[[policy]]
name = "no_tariff"
"countries.USA.tariffs.CHN" = 0.0
"countries.USA.reshoring_incentive" = 0.0
[[policy]]
name = "tariff"
"countries.USA.tariffs.CHN" = 0.6
"countries.USA.reshoring_incentive" = 0.0
[[policy]]
name = "tariff_and_incentive"
"countries.USA.tariffs.CHN" = 0.6
"countries.USA.reshoring_incentive" = 0.5
[uncertainties]
"model.theta" = { min = 3.0, max = 8.0 }
"model.q0" = { min = 0.2, max = 0.6 }
[outcomes]
us_2030 = { metric = "production_share", country = "USA", year = 2030, goal = "max" }
us_reshoring_cost = { metric = "reshoring_spent_usd", country = "USA", stat = "sum" }
chn_2030 = { metric = "production_share", country = "CHN", year = 2030 }
"""


@pytest.fixture(scope="module")
def crossed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crossed")
    path = folder / "crossed.toml"
    path.write_text(CROSSED)
    out = folder / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    return path, out


def test_every_policy_meets_the_same_futures_with_the_same_seeds(crossed):
    path, out = crossed
    exp = load_experiment(path)
    assert (exp.n_policies, exp.n_futures, exp.n_runs) == (3, 4, 3 * 4 * 2)
    runs = policies.label_runs(exp, read_table(out / "runs.parquet").to_pandas())
    assert len(runs) == 24 and (runs["status"] == "ok").all()
    unc = ["model.theta", "model.q0"]
    per_policy = [g.sort_values(["future", "replicate"]) for _, g in runs.groupby("policy_id")]
    for g in per_policy[1:]:
        for col in [*unc, "seed_entropy", "spawn_key", "future", "replicate"]:
            assert list(g[col]) == list(per_policy[0][col]), col
    assert list(per_policy[2]["countries.USA.tariffs.CHN"].unique()) == [0.6]
    assert list(per_policy[0]["countries.USA.reshoring_incentive"].unique()) == [0.0]
    # the futures are the design an experiment over the uncertainties alone would draw
    alone = parse_experiment(CROSSED.replace('policies = "list"', "").split("[[policy]]")[0]
                             + CROSSED.split("[uncertainties]")[1].join(["[uncertainties]", ""]),
                             source="alone.toml", name="alone")
    np.testing.assert_array_equal(exp.design.X[:4, 2:], alone.design.X)
    report = (out / "analysis.md").read_text()
    assert "## Policies across futures" in report and "## Magnitudes" in report
    table = pd.read_csv(out / "analysis" / "policies.csv")
    us = table[table["outcome"] == "us_2030"].set_index("policy")
    assert us.loc["no_tariff", "rank"] == 3          # a 60% tariff on China raises the US share in every future
    assert (table.loc[table["outcome"] == "chn_2030", "policy"].size == 3) and "rank" in table


def test_regret_and_robustness_on_a_hand_made_table():
    # three policies (rows) in four futures (columns); higher is better
    values = np.array([[10.0, 10.0, 10.0, 10.0],       # steady
                       [14.0, 13.0, 5.0, 4.0],          # great in two futures, poor in two
                       [12.0, 11.0, 9.0, 6.0]])         # in between
    r = policies.regret(values, "max")
    np.testing.assert_array_equal(r, [[4, 3, 0, 0], [0, 0, 5, 6], [2, 2, 1, 4]])
    table = policies.robustness(values, "max", ["steady", "bold", "middle"])
    assert list(table["regret_max"]) == [4, 6, 4]
    np.testing.assert_allclose(table["regret_p90"], np.quantile(r, 0.9, axis=1))
    # 90% regret (linear quantile of 4 futures): middle 3.4 < steady 3.7 < bold 5.7
    np.testing.assert_allclose(table["regret_p90"], [3.7, 5.7, 3.4])
    assert list(table.sort_values("rank")["policy"]) == ["middle", "steady", "bold"]
    assert list(table["best_in"]) == [2, 2, 0]
    low = policies.robustness(-values, "min", ["steady", "bold", "middle"])    # minimising the negative: same ranks
    assert list(low["rank"]) == list(table["rank"])
    assert "regret_mean" not in policies.robustness(values, None, ["a", "b", "c"])


def test_cost_per_pp_with_its_range_and_refusal_when_the_gain_is_nil():
    rng = np.random.default_rng(0)
    units = np.repeat(np.arange(50), 2)
    codes = np.tile([0, 1], 50)
    spend = np.where(codes == 1, 3e9, 1e9) + rng.normal(0, 1e8, 100)     # +2 bn
    share = np.where(codes == 1, 0.154, 0.150) + rng.normal(0, 1e-4, 100)  # +0.4 pp
    row = magnitudes.cost_per_gain(spend, share, codes, ["low", "high"], units).iloc[0]
    assert row.usd_per_pp == pytest.approx(5e9, rel=0.02)
    assert row.usd_per_pp_lo < row.usd_per_pp < row.usd_per_pp_hi and row.usd_per_pp_hi / row.usd_per_pp_lo < 1.1
    sign = np.repeat(np.where(np.arange(50) % 2 == 0, 1.0, -1.0), 2) * np.where(codes == 1, 1.0, -1.0)
    flat_share = 0.15 + 1e-3 * sign                       # the levels differ by +0.2 pp or -0.2 pp: zero on average
    flat = magnitudes.cost_per_gain(spend, flat_share, codes, ["low", "high"], units).iloc[0]
    assert flat.d_share_pp == pytest.approx(0.0, abs=1e-12) and flat.d_share_lo < 0 < flat.d_share_hi
    assert np.isnan(flat.usd_per_pp) and "no clear share gain" in flat.note
    assert "no clear share gain" in magnitudes.describe_cost(flat)


def test_magnitudes_in_the_sweep_report(crossed):
    _, out = crossed
    means = pd.read_csv(out / "analysis" / "level_means.csv")
    outcomes = read_table(out / "outcomes.parquet").to_pandas()
    runs = read_table(out / "runs.parquet").to_pandas().merge(outcomes, on=["run_id", "sample", "replicate"])
    # named policies' levers are compared as policies, not lever by lever
    assert set(means["factor"]) == {"model.theta", "model.q0"}
    theta = means[(means["factor"] == "model.theta") & (means["outcome"] == "us_2030")]
    assert list(theta["label"]) == sorted(theta["label"], key=float)          # 4 futures: one level each
    lowest = runs["model.theta"].min()
    assert theta["mean"].iloc[0] == pytest.approx(runs.loc[runs["model.theta"] == lowest, "us_2030"].mean(), rel=1e-5)
    assert (out / "analysis" / "per_unit.csv").is_file() and (out / "analysis" / "policy_costs.csv").is_file()
    costs = pd.read_csv(out / "analysis" / "policy_costs.csv")
    assert list(costs["level"]) == ["tariff", "tariff_and_incentive"]
    assert (costs["reference"] == "no_tariff").all()
    # the tariff pays no reshoring incentive: its extra spending is zero, whatever the share does
    assert costs.loc[0, "d_spend_usd"] == 0


def test_discover_on_a_policy_sweep(crossed, capsys):
    _, out = crossed
    assert main(["discover", str(out), "--outcome", "us_2030", "--top", "0.5"]) == 0
    assert "PRIM box" in capsys.readouterr().out
    folder = out / "discovery" / "us_2030"
    text = (folder / "discovery.md").read_text()
    assert "## The trajectory" in text and "## CART" in text
    for name in ("trajectory.csv", "box_limits.csv", "cart_leaves.csv", "tradeoff.png", "box.svg"):
        assert (folder / name).is_file(), name
    n_boxes = len(pd.read_csv(folder / "trajectory.csv"))
    assert main(["discover", str(out), "--outcome", "us_2030", "--top", "0.5", "--box", "0",
                 "--out", str(out / "d0")]) == 0
    assert "## The chosen box: 0 (chosen with --box 0)" in (out / "d0" / "discovery.md").read_text()
    capsys.readouterr()
    assert main(["discover", str(out), "--outcome", "us_2030", "--top", "0.5", "--box", str(n_boxes)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--box: {n_boxes} does not exist" in err[0]
    assert main(["discover", str(out), "--outcome", "us_2030", "--below", "0.5", "--policy", "tarif"]) == 2
    assert "did you mean 'tariff'" in capsys.readouterr().err
    assert main(["discover", str(out), "--outcome", "us2030", "--below", "15", "--above", "0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "did you mean 'us_2030'" in err[0] and "exactly one of" in err[1]


BAD_FILE = """
[experiment]
scenario = "baseline"
design = "lhs"
samples = 4
seed = 1
replicatse = 2
policies = "lsit"
[fixed]
"run.end_year" = 2030
"countries.USA.mva_share" = 0.5
"countries.USA.coordination" = 7.0
[levers]
"countries.USA.ai_subsidy_rat" = { min = 0.0, max = 0.5 }
[uncertainties]
"model.theta" = { min = 3.0, max = 8.0 }
[outcomes]
x = { metric = "production_shares", country = "USA", year = 2030, goal = "maximum" }
"""


def test_validate_reports_every_error_of_an_experiment_and_its_merged_result(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(BAD_FILE)
    assert main(["validate", str(path), "baseline"]) == 2
    out, err = capsys.readouterr()
    assert out.strip() == "ok: baseline"
    lines = err.strip().splitlines()
    expected = ["experiment.replicatse: unknown key (did you mean 'replicates'?)",
                "experiment.policies: unknown policy design 'lsit'", "did you mean 'list'",
                "levers.countries.USA.ai_subsidy_rat: unknown parameter (did you mean 'ai_subsidy_rate'?)",
                "fixed: countries.USA.coordination: out of range",
                "fixed: countries: mva_share must sum to 1",          # the merged result's, reported with the rest
                "outcomes.x.metric: unknown metric 'production_shares'", "outcomes.x.goal: must be \"max\" or \"min\""]
    for text in expected:
        assert sum(text in line for line in lines) == 1, (text, lines)
    assert all(line.startswith(f"error: {path}: ") for line in lines)
    assert len(lines) == 7


def test_validate_accepts_experiments_and_dry_run_writes_nothing(tmp_path, capsys):
    path = tmp_path / "crossed.toml"
    path.write_text(CROSSED)
    assert main(["validate", str(path), "us_reshoring_levers"]) == 0
    out = capsys.readouterr().out
    assert "3 policies (list) × 4 futures (lhs) × 2 replicates = 24 runs" in out
    assert "us_reshoring_levers (" in out
    before = sorted(Path.cwd().iterdir())
    assert main(["sweep", str(path), "--dry-run", "--limit", "9", "--out", str(tmp_path / "never")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "= 24 runs" in out[0] and "nothing run or written" in out[0]
    assert len(out) == 1 + 1 + 9 and "policy" in out[1] and "tariff" in out[-1]
    assert not (tmp_path / "never").exists() and sorted(Path.cwd().iterdir()) == before


NO_TARIFF = 'name = "no_tariff"\n'


@pytest.mark.parametrize("old, new, problem", [
    ('policies = "list"', 'policies = "list"\npolicy_samples = 4',
     "experiment.policy_samples: only policies = \"lhs\""),
    ('policies = "list"', 'policies = "lhs"', "experiment.policy_samples: missing"),
    ('policies = "list"', 'policies = "lhs"', "policy: [[policy]] tables need policies = \"list\""),
    ('design = "lhs"', 'design = "sobol"', "samples its futures with grid or lhs, got 'sobol'"),
    (NO_TARIFF, 'name = "tariff"\n', "policy[1].name: 'tariff' is also the name of policy[0]"),
    (NO_TARIFF, "", "policy[0].name: missing"),
    ('"countries.USA.tariffs.CHN" = 0.0', '"countries.USA.tariffs.CNH" = 0.0',
     "policy[0].countries.USA.tariffs.CNH: unknown country 'CNH' (did you mean 'CHN'?)"),
    ('"countries.USA.tariffs.CHN" = 0.0', '"countries.USA.tariffs.CHN" = -1.0',
     "policy[0].countries.USA.tariffs.CHN: out of range"),
    ('"countries.USA.reshoring_incentive" = 0.5', '"countries.USA.reshoring_incentive" = 0.0',
     "policy.countries.USA.reshoring_incentive: every policy has the same value 0.0"),
    ("[uncertainties]", '[levers]\n"model.e_max" = { min = 0.6, max = 1.0 }\n[uncertainties]',
     "levers: with policies = \"list\" the levers are the paths the [[policy]] tables set"),
])
def test_bad_policy_sections_are_one_line_errors(old, new, problem):
    assert old in CROSSED
    with pytest.raises(UserError) as info:
        parse_experiment(CROSSED.replace(old, new, 1), source="p.toml", name="p")
    assert any(m.startswith("p.toml: ") and problem in m for m in info.value.messages), info.value.messages


def test_a_grid_of_policies_over_sampled_futures(tmp_path):
    text = (CROSSED.split("[[policy]]")[0].replace('policies = "list"', 'policies = "grid"')
            + '[levers]\n"countries.USA.tariffs.CHN" = { values = [0.0, 0.3] }\n'
            + '"countries.USA.reshoring_incentive" = { min = 0.0, max = 0.4, levels = 3 }\n'
            + "[uncertainties]" + CROSSED.split("[uncertainties]")[1]).replace("firms = 300", "firms = 100")
    exp = parse_experiment(text.replace('samples = 4', 'samples = 2').replace("replicates = 2", "replicates = 1"),
                           source="g.toml", name="g")
    assert (exp.n_policies, exp.n_futures, exp.n_runs) == (6, 2, 12)
    assert policies.names(exp) == [f"P{i}" for i in range(6)]
    table = policies.policy_table(exp)
    assert list(table["countries.USA.reshoring_incentive"]) == [0.0, 0.2, 0.4] * 2
    summary = run_sweep(exp, tmp_path / "g", progress=False)
    assert summary.ok == 12


def test_compare_reports_cost_per_pp(tmp_path, capsys):
    assert main(["compare", "west_reshoring", "west_reshoring_with_ai", "--replicates", "2", "--firms", "300",
                 "--year", "2030", "--workers", "1", "--no-plot", "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "per pp of 2030 share" in out
    costs = pd.read_csv(tmp_path / "c" / "costs.csv")
    usa = costs[costs["country"] == "USA"].iloc[0]
    assert usa.d_spend_usd > 0 and usa.scenario == "west_reshoring_with_ai"
    assert np.isfinite(usa.usd_per_pp) == (usa.d_share_lo > 0)


# Fingerprints of the bundled experiments' designs and run tables (values, overrides, seeds, order) at
# commit 4548f43, before policies × uncertainties existed: experiments without policies must not change.
BEFORE = {"us_reshoring_levers": ("3c7de68bcc86", "fc83e1e5db8c8cc8", "ac0cc72496459e72"),
          "global_south_alignment": ("4f0c2ee7c84e", "ba3c46365610a166", "9d0eb93e704a1367"),
          "east_asia_uncertainty": ("5404d797e9d5", "1d19619aaa02fb04", "2284226bf4f508ac")}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_experiments_without_policies_run_as_before(name):
    import hashlib
    import json

    from sim.experiments.sweep import tasks

    e = load_experiment(name)
    sha, design, runs = BEFORE[name]
    if e.sha256[:12] != sha:
        pytest.skip(f"{name}.toml has changed since the fingerprint was taken")
    assert hashlib.sha256(e.design.X.tobytes()).hexdigest()[:16] == design
    table = [(t.run_id, t.sample, t.replicate, json.dumps(t.values, sort_keys=True),
              json.dumps(t.overrides, sort_keys=True), t.entropy, t.spawn_key) for t in tasks(e, range(e.n_runs))]
    assert hashlib.sha256(repr(table).encode()).hexdigest()[:16] == runs


def test_a_policy_may_set_a_tariff_the_base_table_leaves_to_its_default(tmp_path):
    """The base value of `countries.DEU.tariffs.CHN` is DEU's default tariff when the table names no CHN."""
    from sim.experiments.policies import base_value
    from sim.scenarios import load_scenario

    data = load_scenario("baseline").data
    assert "CHN" not in data["countries"]["DEU"]["tariffs"]
    assert base_value(data, "countries.DEU.tariffs.CHN") == data["countries"]["DEU"]["tariffs"]["default"]
