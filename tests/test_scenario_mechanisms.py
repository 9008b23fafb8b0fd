"""Lever directions between bundled scenarios, averaged over replicates with common seeds.

These check that each scenario's levers push the way its story says where the model says they do, and
record plainly where it does not (the model must be able to answer no). Every comparison uses `compare`,
so both scenarios see the same replicate seeds. Measured at the refit with volume inertia (cal18,
scenarios/calibrated_2015.toml, copied into the baseline) at the settings below (1,500 firms, 8 replicates),
paired differences mean (min..max over replicates):

* Western AI (west_reshoring_with_ai − west_reshoring): US automation in 2040 +0.018 (+0.010..+0.023), but
  the US share in 2040 +0.03 pp (−0.02..+0.16): **no share gain to speak of** (docs/scenarios.md);
* East Asia's push: China's automation in 2040 +0.022 (+0.018..+0.027), its share +0.20 pp (−0.11..+0.84);
* the frozen CHN−USA automation gap (no_ai_race) moves from −0.121 (2024) to −0.105 (2050) by composition,
  while the baseline's closes to −0.006; composition alone moves Korea's automation by +0.137 (Korean firms
  enter, exit and move their plants to ASEAN), the other countries' by at most 0.025;
* Korea's cliff raises Korea's wage in 2040 by US$15.3/h (+27%; +13.6..+17.1) and costs 0.89 pp of share by
  2050 (−1.35..−0.67);
* India (global_south_aligned − global_south_relocation): automation in 2050 +0.048 (+0.016..+0.133), but
  India's share in 2050 +0.09 pp (−0.02..+0.54): **little share gain** from alignment.
"""

from __future__ import annotations

import pytest

from sim.experiments.compare import compare

REPLICATES, FIRMS = 8, 1500


def paired(a: str, b: str, code: str, year: int, column: str = "production_share", replicates: int = REPLICATES):
    """Mean over replicates of `column` for `code` in `year`: (scenario a, scenario b, per-replicate b - a)."""
    runs = compare([a, b], replicates=replicates, firms=FIRMS, year=year, workers=1).runs
    at = runs[(runs["country"] == code) & (runs["year"] == year)].pivot(index="replicate", columns="scenario",
                                                                        values=column)
    return at[a].mean(), at[b].mean(), at[b] - at[a]


def test_western_ai_raises_us_automation():
    base, with_ai, diff = paired("west_reshoring", "west_reshoring_with_ai", "USA", 2040, "automation")
    print(f"USA automation 2040: west_reshoring {base:.4f}, with AI {with_ai:.4f}, diff {list(diff.round(4))}")
    assert with_ai - base > 0.01         # measured +0.018 (0.277 → 0.295) at cal18
    assert (diff > 0).all()


def test_no_ai_race_keeps_the_automation_gap():
    runs = compare(["baseline", "no_ai_race"], replicates=REPLICATES, firms=FIRMS, workers=1).runs
    auto = runs.groupby(["scenario", "year", "country"])["automation"].mean()

    def gap(scenario, year):
        return auto[(scenario, year, "CHN")] - auto[(scenario, year, "USA")]

    frozen_2024, frozen_2050 = gap("no_ai_race", 2024), gap("no_ai_race", 2050)
    print(f"CHN-USA automation gap: 2024 {frozen_2024:.4f}, no_ai_race 2050 {frozen_2050:.4f}, "
          f"baseline 2050 {gap('baseline', 2050):.4f}")
    # measured: −0.121 → −0.105 at these settings, −0.124 → −0.101 at 10,000 firms (docs/scenarios.md); the
    # baseline's gap moves by +0.115
    assert frozen_2050 == pytest.approx(frozen_2024, abs=0.04)
    assert gap("baseline", 2050) - gap("baseline", 2024) > 0.015  # the test can tell a race from none
    for code, bound in (("CHN", 0.08), ("USA", 0.08), ("KOR", 0.2), ("DEU", 0.08), ("IND", 0.08)):
        # composition alone moves a country's capacity-weighted automation (measured: KOR +0.137, others ≤ 0.025)
        assert abs(auto[("no_ai_race", 2050, code)] - auto[("no_ai_race", 2024, code)]) < bound, code


def test_alignment_raises_india_automation():
    # India's share does not gain (module docstring): the claim holds for automation only
    a0, a1, diff = paired("global_south_relocation", "global_south_aligned", "IND", 2050, "automation")
    print(f"IND automation 2050: relocation {a0:.4f}, aligned {a1:.4f}, diff per replicate {list(diff.round(4))}")
    assert a1 > a0 + 0.024 and (diff > 0).all()    # measured +0.048 (module docstring)


def test_korean_cliff_raises_wages_and_costs_share():
    base, cliff, diff = paired("baseline", "korea_demographic_cliff", "KOR", 2040, "wage")
    print(f"KOR wage 2040: baseline {base:.2f}, cliff {cliff:.2f}")
    assert cliff > base * 1.05 and (diff > 0).all()
    base, cliff, diff = paired("baseline", "korea_demographic_cliff", "KOR", 2050)
    print(f"KOR 2050: baseline {base:.4f}, cliff {cliff:.4f}, diff {list(diff.round(4))}")
    assert cliff < base - 0.001  # on average; single replicates range −1.35..−0.67 pp


def test_east_asia_push_raises_china_automation():
    base, push, diff = paired("baseline", "east_asia_ai_push", "CHN", 2040, "automation")
    assert push > base + 0.015
    assert (diff > 0).all()


# ------------------------------------------------------------------ relocation and entry (Model v2)
CLAIM_SEEDS, CLAIM_FIRMS, CLAIM_END = (1, 2, 3), 2000, 2040
WEST, SOUTH = ("USA", "DEU", "XEU"), ("IND", "VNM", "XAS")


def claim_runs(name):
    from sim import FactoryShiftModel, load_scenario

    scenario = load_scenario(name).with_overrides({"run.firms": CLAIM_FIRMS, "run.end_year": CLAIM_END})
    return [FactoryShiftModel(scenario, seed=s).run().recorder for s in CLAIM_SEEDS]


@pytest.fixture(scope="module")
def claims():
    return {n: claim_runs(n) for n in ("baseline", "west_reshoring", "global_south_relocation",
                                       "global_south_aligned")}


def moves_into(recorders, codes):
    import numpy as np

    return np.array([float(r.flows().query("destination in @codes").firms.sum()) for r in recorders])


def test_west_reshoring_moves_firms_into_the_us_and_eu(claims):
    """Measured (seeds 1-3, 2,000 firms, 2025-2040): 43, 21, 35 moves into USA+DEU+XEU in the baseline, 46, 21, 36
    under west_reshoring (+1.3 a run). Nearly all of them happen in the baseline too: **west_reshoring's own
    levers add about one move a run** (docs/scenarios.md)."""
    base, west = moves_into(claims["baseline"], WEST), moves_into(claims["west_reshoring"], WEST)
    assert west.min() > 10
    assert west.mean() > base.mean()
    assert (west >= base).all()


def test_the_global_south_scenarios_differ_through_relocation_and_entry(claims):
    """Measured (seeds 1-3): moves into IND+VNM+XAS 40, 37, 97 (baseline), 41, 36, 82 (relocation at the
    actual pace: −5 a run), 44, 41, 96 (aligned: +7.3 a run on global_south_relocation)."""
    flows = {n: [r.flows() for r in claims[n]] for n in ("baseline", "global_south_relocation",
                                                          "global_south_aligned")}
    entrants = {n: [r.entrants() for r in claims[n]] for n in flows}
    for a, b in (("baseline", "global_south_relocation"), ("global_south_relocation", "global_south_aligned")):
        assert any(not x.equals(y) for x, y in zip(flows[a], flows[b])) or \
            any(not x.equals(y) for x, y in zip(entrants[a], entrants[b])), (a, b)
    slow = moves_into(claims["global_south_relocation"], SOUTH)
    aligned = moves_into(claims["global_south_aligned"], SOUTH)
    assert aligned.mean() > slow.mean() + 3.0
    assert (aligned >= slow).all()
