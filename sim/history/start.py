"""The historical world, 2005–2024: a starting scenario for any year from data, and the
observed shares a hindcast is judged against.

`scenario_text(start, end)` writes the scenario of a world that starts in `start` and runs to
`end`. It reads **no observation after `end`**: calibrating with ``end = until`` therefore
cannot peek at the out-of-sample years (tests/test_history.py perturbs every later data point
and checks that nothing changes). `scenarios/hindcast_2005.toml` is `scenario_text(2005, 2024)`.

What comes from data (sim/data/SOURCES.md), for every region, by the rules of
`sim.data.regions`:

* ``mva_share``: share of world MVA in `start` (WDI NV.IND.MANF.CD);
* ``demand``: absorption in `start`, world MVA × (½ MVA share + ½ GDP share);
* ``demand_growth`` each later year, as a yearly `[[schedule]]`:

      D_r(t) / D_r(t−1) = [GDP_r(t) / GDP_r(t−1)] · [MI(t) / MI(t−1)],   MI(t) = MVA_W(t) / GDP_W(t)

  (current US$: demand moves with the region's nominal dollar income, scaled by the world's
  manufacturing intensity);
* ``working_age`` every year (WDI SP.POP.TOTL × SP.POP.1564.TO.ZS);
* ``robot_density`` in `start`, proxied from the earliest robot data by country (2012
  installations, OWID/IFR): density_r = D₀ · (I_r / MVA_r) / (I_W / MVA_W), with D₀ the world
  density of `start` (`world_robot_density`); regions without their own series share the
  residual intensity (world minus the five countries with data).

What is an assumption (`HISTORY`, below): wages, productivity and their growth, the
historical policy changes in `POLICY_EVENTS` (those up to `start` are in force at the start,
the later ones are scheduled). The AI cost parameters are set so that their
decline reaches the baseline's 2024 values.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data import regions as cal
from sim.errors import UserError

FIRST_YEAR = 2005   # the first year with MVA data for every region (Vietnam starts in 2005)
LAST_YEAR = 2024    # the last year of world MVA data
ROBOT_YEAR = 2012   # the first year of robot installations by country
BASELINE_YEAR = 2024
WORLD_ROBOT_DENSITY_START = 50.0  # robots / 10k employees in the start year; assumption (IFR: 66 in 2015)

#: region → (wage in 2005 US$/h, wage growth 1/yr, productivity in 2005 (USA 2005 = 1), its growth 1/yr).
#: Assumptions: trend paths near the baseline's 2024 values (e.g. USA $30.4 x 1.022^19 = $46); USA 2005 is
#: the BLS International Labor Comparisons $35.67 (2012) discounted at 2.2 %/yr; China $1.0 in 2005 growing
#: 12 %/yr to 2013 and 7 %/yr after (POLICY_EVENTS), i.e. $2.5 in 2013 and $5.2 in 2024 before the model's
#: tightness term.
HISTORY: dict[str, tuple[float, float, float, float]] = {
    "CHN": (1.0, 0.120, 0.065, 0.070),
    "KOR": (15.0, 0.030, 0.55, 0.025),
    "JPN": (25.0, -0.004, 0.70, 0.008),
    "USA": (30.4, 0.022, 1.00, 0.012),
    "DEU": (38.0, 0.015, 0.90, 0.009),
    "IND": (0.9, 0.043, 0.035, 0.041),
    "VNM": (0.7, 0.076, 0.030, 0.049),
    "MEX": (3.5, 0.019, 0.20, 0.007),
    "XEU": (24.0, 0.015, 0.65, 0.012),
    "XAS": (2.0, 0.037, 0.10, 0.022),
    "ROW": (5.0, 0.025, 0.20, 0.012),
}

#: Historical policy changes (year, country, lever, value, note); assumptions with their event.
POLICY_EVENTS: tuple[tuple[int, str, str, float, str], ...] = (
    (2014, "CHN", "wage_growth", 0.07, "trend wage growth slows after 2013; assumption"),
    (2014, "KOR", "ai_subsidy_rate", 0.10, "smart factory programme"),
    (2014, "KOR", "ai_fund", 1.0e9, "smart factory programme"),
    (2015, "CHN", "ai_subsidy_rate", 0.10, "Made in China 2025"),
    (2015, "CHN", "ai_fund", 4.0e9, "Made in China 2025"),
    (2018, "USA", "tariffs.CHN", 0.08, "Section 301, first tranches (part of the year)"),
    (2019, "USA", "tariffs.CHN", 0.19, "Section 301, average on China"),
    (2022, "USA", "reshoring_incentive", 0.10, "IRA/CHIPS construction credits"),
)
#: Lever values before the events (the baseline's 2024 values would be anachronistic).
START_LEVERS = {
    "CHN": {"ai_subsidy_rate": 0.0, "ai_fund": 0.0},
    "KOR": {"ai_subsidy_rate": 0.0, "ai_fund": 0.0},
    "USA": {"reshoring_incentive": 0.0, "tariffs.CHN": 0.03},
}
#: The US tariff table of the historical start (`tariffs.CHN` is filled in by year).
USA_TARIFFS = "{{ default = 0.03, CHN = {CHN}, MEX = 0.0 }}"


def in_force(start: int) -> dict[tuple[str, str], float]:
    """(country, lever) → its value in `start`: START_LEVERS, then every policy event up to `start`."""
    values = {(c, lever): v for c, levers in START_LEVERS.items() for lever, v in levers.items()}
    values |= {(c, lever): v for year, c, lever, v, _ in POLICY_EVENTS if year <= start}
    return values


def wage_in(start: int, code: str) -> float:
    """The wage of `code` in `start`: its 2005 level grown each year by the trend growth in force."""
    level, growth = HISTORY[code][0], HISTORY[code][1]
    for year in range(FIRST_YEAR + 1, start + 1):
        level *= 1.0 + in_force(year).get((code, "wage_growth"), growth)
    return level


def world_robot_density(start: int, end: int) -> float:
    """World robots per 10k employees in `start`: WORLD_ROBOT_DENSITY_START (an assumption) in 2005,
    linear to IFR's first world figure (66, data year 2015); for later starts the latest IFR world
    figure with a data year ≤ `start` (the file holds 2015, 2016, 2019, 2021–2023). Only figures
    for data years ≤ `end` are read; without any, the assumed 2005 level is kept."""
    world = {int(r["data_year"]): float(r["robots_per_10000_manufacturing_employees"])
             for r in cal._rows("ifr_robot_density_press_releases_transcribed.csv")
             if r["entity"] == "World" and int(r["data_year"]) <= end}
    if not world:
        return WORLD_ROBOT_DENSITY_START
    first = min(world)
    if start <= first:
        return float(np.interp(start, [FIRST_YEAR, first], [WORLD_ROBOT_DENSITY_START, world[first]]))
    return world[max(y for y in world if y <= start)]


def check_years(start: int, end: int, option_start: str = "--from", option_end: str = "--to") -> None:
    if not FIRST_YEAR <= start < LAST_YEAR:
        raise UserError(f"{option_start}: {start} is outside the data ({FIRST_YEAR}–{LAST_YEAR - 1})")
    if not start < end <= LAST_YEAR:
        raise UserError(f"{option_end}: {end} must be after {option_start} = {start} and at most {LAST_YEAR}")


# ------------------------------------------------------------------ observations

def observed_shares(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> pd.DataFrame:
    """Shares of world MVA, year × region, for first ≤ year ≤ last (WDI, `sim.data.regions` rules).

    The US series ends in 2021; later US values are its 2021 level grown with US nominal GDP
    (and ROW, the residual, absorbs the difference).
    """
    rows = {year: cal.mva_shares(year) for year in range(first, last + 1)}
    frame = pd.DataFrame.from_dict(rows, orient="index")[list(cal.REGIONS)]
    frame.index.name = "year"
    return frame


# ------------------------------------------------------------------ inputs

def demand_growth(start: int, end: int) -> pd.DataFrame:
    """g_r(t) for start < t ≤ end (module docstring), year × region."""
    def level(year):
        gdp = cal.gdp_usd(year)
        kappa = cal.world_mva(year) / cal._wdi("NY.GDP.MKTP.CD", year)["WLD"]
        return pd.Series(gdp) * kappa

    levels = pd.DataFrame({year: level(year) for year in range(start, end + 1)}).T
    return (levels / levels.shift(1) - 1.0).iloc[1:]


def robot_density_proxy(start: int = FIRST_YEAR, end: int = LAST_YEAR, year: int = ROBOT_YEAR) -> dict[str, float]:
    """Robot density in `start` from robot installations per unit of MVA in `year` (module docstring),
    scaled to the world level of `world_robot_density(start, end)`."""
    col = {"CHN": "china", "JPN": "japan", "USA": "us", "KOR": "korea", "DEU": "germany", "WLD": "world"}
    row = next(r for r in cal._rows("commonsphere_owid_ifr_robot_installations.csv") if int(r["year"]) == year)
    installs = {code: float(row[name]) for code, name in col.items()}
    mva = cal.mva_by_region(year)
    world = cal.world_mva(year)
    own = [c for c in installs if c != "WLD"]
    rest_intensity = ((installs["WLD"] - sum(installs[c] for c in own))
                      / (world - sum(mva[c] for c in own)))
    world_intensity = installs["WLD"] / world
    level = world_robot_density(start, end)
    return {r: level * (installs[r] / mva[r] if r in own else rest_intensity) / world_intensity for r in cal.REGIONS}


def _declined_to(start: int, value_2024: float, decline: float = 0.05) -> float:
    """x(start) such that x(start)·(1 − decline)^(2024 − start) = x(2024)."""
    return value_2024 / (1.0 - decline) ** (BASELINE_YEAR - start)


# ------------------------------------------------------------------ the scenario

def scenario_text(start: int = FIRST_YEAR, end: int = LAST_YEAR) -> str:
    """The TOML of the historical scenario (reads data for years ≤ `end` only)."""
    check_years(start, end)
    if end < ROBOT_YEAR:
        raise UserError(f"--until/--to: {end} is before {ROBOT_YEAR}, the first year of robot data by country "
                        "(the start's automation proxy needs it)")
    shares = cal.mva_shares(start)
    demand = cal.demand_usd(start)
    robots = robot_density_proxy(start, end)
    levers = in_force(start)
    growth = demand_growth(start, end)
    working = {year: cal.working_age_millions(year) for year in range(start, end + 1)}
    lines = [
        f"# FactoryShift historical start: the world of {start}, run to {end}.",
        f"# Generated by `python -m sim.history.start --from {start} --to {end}` (sim/history/start.py);"
        " do not edit by hand:",
        "# tests/test_history.py checks that this file matches the generator.",
        'extends = "baseline"',
        "",
        "[meta]",
        f'title = "Hindcast: the world of {start}, run to {end}"',
        f'description = "Starts from {start} manufacturing shares, demand and workforces, with demand growth and '
        f'working-age paths taken from data each year up to {end}."',
        'claim = "Tests whether the mechanisms reproduce the observed shift of world manufacturing '
        '(China from under 10% of world MVA in 2005 to about 28%), out of sample after the fitting cutoff."',
        "sources = [",
        '  "World Bank WDI NV.IND.MANF.CD (MVA, current US$), NY.GDP.MKTP.CD, SP.POP.TOTL, SP.POP.1564.TO.ZS, '
        'CC BY 4.0",',
        '  "IFR annual robot installations via OWID (CC BY 4.0), 2012, as an automation proxy",',
        '  "Wages, productivity and policy events: assumptions in sim/history/start.py (HISTORY, POLICY_EVENTS)",',
        "]",
        "",
        "[run]",
        f"start_year = {start}  # year",
        f"end_year = {end}    # year",
        "",
        "[model]",
        f"ai_unit_cost = {_declined_to(start, 0.05):.6f}         # declines 5%/yr to the baseline's 0.05 in 2024",
        f"ai_capex_per_output = {_declined_to(start, 0.4):.6f}  # declines 5%/yr to the baseline's 0.4 in 2024",
    ]
    for r in cal.REGIONS:
        _, wage_g, prod, prod_g = HISTORY[r]
        years = start - FIRST_YEAR
        wa = ", ".join(f"{y} = {working[y][r]:.1f}" for y in working)
        lines += [
            "",
            f"[countries.{r}]",
            f"mva_share = {shares[r]:.6f}  # share; WDI NV.IND.MANF.CD {start}",
            f"demand = {demand[r]:.4e}  # US$/yr; world MVA x (0.5 MVA share + 0.5 GDP share), {start}".replace(
                "e+", "e"),
            f"robot_density = {robots[r]:.1f}  # robots/10k; proxy from {ROBOT_YEAR} installations per MVA "
            f"(sim/history/start.py)",
            f"working_age = {{ {wa} }}  # million; WDI",
            f"wage = {wage_in(start, r):.4g}  # US$/h; assumption (sim/history/start.py HISTORY)",
            f"wage_growth = {levers.get((r, 'wage_growth'), wage_g)}  # 1/yr; assumption",
            f"productivity = {prod * (1 + prod_g) ** years:.4g}  # USA 2005 = 1; assumption",
            f"productivity_growth = {prod_g}  # 1/yr; assumption",
        ]
        for lever in START_LEVERS.get(r, {}):
            value = levers[(r, lever)]
            if lever == "tariffs.CHN":
                lever, value = "tariffs", USA_TARIFFS.format(CHN=value)
            lines.append(f"{lever} = {value}  # in {start}: sim/history/start.py START_LEVERS and POLICY_EVENTS;"
                         " assumption")
    schedule = ["schedule = [",
                f"  # demand growth by year, 1/yr: WDI GDP (current US$) x world manufacturing intensity, "
                f"{start + 1}-{end}"]
    for year, row in growth.iterrows():
        for r in cal.REGIONS:
            schedule.append(f'  {{ country = "{r}", lever = "demand_growth", from = {year}, to = {year}, '
                         f"value = {row[r]:.6f} }},  # 1/yr; WDI")
    schedule.append("  # historical policy events: assumptions, sim/history/start.py POLICY_EVENTS")
    events = [e for e in POLICY_EVENTS if start < e[0] <= end]
    for i, (year, country, lever, value, note) in enumerate(events):
        later = [e[0] for e in events[i + 1:] if (e[1], e[2]) == (country, lever)]
        to = f", to = {later[0] - 1}" if later else ""
        schedule.append(f'  {{ country = "{country}", lever = "{lever}", from = {year}{to}, value = {value} }},'
                        f"  # {note}")
    schedule.append("]")
    at = lines.index('extends = "baseline"') + 1
    lines[at:at] = ["", *schedule]
    return "\n".join(lines) + "\n"


def starting_scenario(start: int = FIRST_YEAR, end: int = LAST_YEAR):
    """The historical scenario as a `Scenario` (built from data in memory, never from later years)."""
    from sim.scenarios.scenario import load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"hindcast_{start}.toml"
        path.write_text(scenario_text(start, end), encoding="utf-8")
        scenario = load_scenario(path)
    scenario.path = None
    return scenario


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sim.history.start", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="start", type=int, default=FIRST_YEAR)
    parser.add_argument("--to", dest="end", type=int, default=LAST_YEAR)
    args = parser.parse_args(argv)
    print(scenario_text(args.start, args.end), end="")


if __name__ == "__main__":
    main()


__all__ = ["observed_shares", "scenario_text", "starting_scenario", "demand_growth", "robot_density_proxy"]
