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
* ``employment`` in `start`: `sim.data.regions.employment_in` (WDI industry employment × a constant
  ratio to the official 2024 counts);
* ``exchange_rate`` in `start` and every later year (WDI PA.NUS.FCRF), and ``wage_growth`` every year
  in local currency: (1 + g_c)·(1 + π_c(t)) − 1, with π_c the growth of the PPP conversion factor
  (WDI PA.NUS.PPP: inflation relative to the US) and g_c the assumed trend (`HISTORY`);
* ``robot_stock`` in `start`: for CHN, JPN, KOR, USA, DEU, the robots installed in the 12 years up to
  `start` (IFR's rule) — installations from 2011 (IFR via OWID), 2006–2010 linear between the 2005
  replacement level and 2011, and what remains of `ROBOT_STOCK_2005` (an assumption, 12 equal vintages);
  the rest of the world's stock (IFR world stock
  from 2012, linear from the 2005 assumption before) is shared like the baseline's.

What is an assumption (`HISTORY`, below): wages in 2005 and their trend, productivity growth, the
robot stocks of 2005, the historical policy changes in `POLICY_EVENTS` (those up to `start` are in
force at the start, the later ones are scheduled). The AI cost parameters are set so that their
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
BASELINE_YEAR = 2024
#: Share of manufacturing employment that IFR's density counts (robot stock 2023 / (IFR density 2023 x employment),
#: sim.data.regions), held constant: it turns the start's stock into IFR's measure of density. 1 elsewhere.
ROBOT_COVERAGE = {"CHN": 0.311, "KOR": 0.853, "JPN": 1.118, "USA": 1.009, "DEU": 0.838, "XEU": 0.592}
#: Operational robot stocks at the end of 2005 (units); assumption, close to IFR's estimates for that year
#: (World Robotics 2006), which are not among the project's data files.
ROBOT_STOCK_2005 = {"JPN": 373_000.0, "DEU": 126_000.0, "USA": 140_000.0, "KOR": 62_000.0, "CHN": 12_000.0,
                    "WLD": 923_000.0}

#: region → (wage in 2005 US$/h, trend wage growth g_c 1/yr, productivity growth 1/yr). Assumptions. g_c is the
#: growth of the local-currency wage beyond local inflation relative to the US (so it includes US inflation,
#: about 2.2 %/yr): Japan's yen wages barely grew (g ≈ US inflation), China's grew about 10 %/yr to 2013 and
#: 8 %/yr after (POLICY_EVENTS). USA 2005 is the BLS US$35.67 (2012) discounted at 2.2 %/yr.
HISTORY: dict[str, tuple[float, float, float]] = {
    "CHN": (1.0, 0.100, 0.070),
    "KOR": (15.0, 0.037, 0.025),
    "JPN": (25.0, 0.020, 0.008),
    "USA": (30.4, 0.022, 0.012),
    "DEU": (38.0, 0.030, 0.009),
    "IND": (0.6, 0.050, 0.041),
    "VNM": (0.5, 0.070, 0.049),
    "MEX": (3.5, 0.027, 0.007),
    "XEU": (24.0, 0.030, 0.012),
    "XAS": (2.0, 0.037, 0.022),
    "ROW": (3.0, 0.025, 0.012),
}

#: Historical policy changes (year, country, lever, value, note); assumptions with their event.
POLICY_EVENTS: tuple[tuple[int, str, str, float, str], ...] = (
    (2014, "CHN", "wage_growth", 0.08, "trend wage growth slows after 2013; assumption"),
    (2013, "DEU", "mission", 0.4, "Industrie 4.0 strategy"),
    (2014, "KOR", "mission", 0.7, "Manufacturing Innovation 3.0, smart factories"),
    (2014, "KOR", "ai_subsidy_rate", 0.10, "smart factory programme"),
    (2014, "KOR", "ai_fund", 1.0e9, "smart factory programme"),
    (2015, "CHN", "mission", 0.8, "Made in China 2025"),
    (2015, "CHN", "ai_subsidy_rate", 0.10, "Made in China 2025"),
    (2016, "JPN", "mission", 0.4, "Society 5.0"),
    (2015, "CHN", "ai_fund", 4.0e9, "Made in China 2025"),
    (2018, "USA", "tariffs.CHN", 0.08, "Section 301, first tranches (part of the year)"),
    (2019, "USA", "tariffs.CHN", 0.19, "Section 301, average on China"),
    (2022, "USA", "reshoring_incentive", 0.10, "IRA/CHIPS construction credits"),
)
#: Lever values before the events (the baseline's 2024 values would be anachronistic).
START_LEVERS = {
    "CHN": {"ai_subsidy_rate": 0.0, "ai_fund": 0.0, "mission": 0.0},
    "KOR": {"ai_subsidy_rate": 0.0, "ai_fund": 0.0, "mission": 0.0},
    "JPN": {"mission": 0.0},
    "USA": {"reshoring_incentive": 0.0, "tariffs.CHN": 0.03},
    "DEU": {"mission": 0.0},
    "IND": {"mission": 0.0},
    "VNM": {"mission": 0.0},
    "XEU": {"mission": 0.0},
}
#: The US tariff table of the historical start (`tariffs.CHN` is filled in by year).
USA_TARIFFS = "{{ default = 0.03, CHN = {CHN}, MEX = 0.0 }}"


def in_force(start: int) -> dict[tuple[str, str], float]:
    """(country, lever) → its value in `start`: START_LEVERS, then every policy event up to `start`."""
    values = {(c, lever): v for c, levers in START_LEVERS.items() for lever, v in levers.items()}
    values |= {(c, lever): v for year, c, lever, v, _ in POLICY_EVENTS if year <= start}
    return values


def trend_in(year: int, code: str) -> float:
    """g_c in force in `year` (HISTORY, changed by POLICY_EVENTS)."""
    return in_force(year).get((code, "wage_growth"), HISTORY[code][1])


def wage_growth_path(start: int, end: int) -> pd.DataFrame:
    """Local-currency wage growth (1 + g_c(t))·(1 + π_c(t)) − 1 for start < t ≤ end, year × region."""
    rows = {}
    for year in range(start + 1, end + 1):
        inflation = cal.relative_inflation(year)
        rows[year] = {r: (1.0 + trend_in(year, r)) * (1.0 + inflation[r]) - 1.0 for r in cal.REGIONS}
    return pd.DataFrame.from_dict(rows, orient="index")[list(cal.REGIONS)]


def wage_in(start: int, code: str) -> float:
    """The US$ wage of `code` in `start`: its 2005 level, grown in local currency by the yearly growth of
    `wage_growth_path` and converted at the exchange rates of 2005 and `start`."""
    level = HISTORY[code][0]
    if start > FIRST_YEAR:
        level *= float((1.0 + wage_growth_path(FIRST_YEAR, start)[code]).prod())
        level *= cal.exchange_rates(start)[code] / cal.exchange_rates(FIRST_YEAR)[code]
    return level


def robot_stock_in(start: int) -> dict[str, float]:
    """Robot stocks by region at the end of `start` (module docstring); reads robot data up to `start` only."""
    five = [c for c in cal.ROBOT_COLUMNS if c != "WLD"]
    installs = cal.robot_installations(2011, start) if start >= 2011 else {}
    life = cal.ROBOT_LIFE
    out = {}
    for c in five:
        first = ROBOT_STOCK_2005[c] / life                  # replacement level of 2005
        later = installs.get(2011, {}).get(c, first)
        yearly = {y: installs[y][c] if y in installs else float(np.interp(y, [FIRST_YEAR, 2011], [first, later]))
                  for y in range(FIRST_YEAR + 1, start + 1)}
        # IFR's rule: a robot counts for `life` years; the 2005 stock is taken as `life` equal vintages
        remaining = max(0, life - (start - FIRST_YEAR)) / life
        out[c] = ROBOT_STOCK_2005[c] * remaining + sum(yearly[y] for y in range(max(FIRST_YEAR + 1, start - life + 1),
                                                                                 start + 1))
    # the world stock is data from 2012; before, the 2005 assumption grown 4 %/yr (about what links it to 2012)
    world = cal.world_robot_stock(start) if start >= 2012 else ROBOT_STOCK_2005["WLD"] * 1.04 ** (start - FIRST_YEAR)
    rest = max(world - sum(out.values()), 0.0)
    employment = cal.employment_in(start)
    weights = {r: cal.REST_DENSITY[r] * employment[r] for r in cal.REST_DENSITY}
    out |= {r: rest * w / sum(weights.values()) for r, w in weights.items()}
    return {r: out[r] for r in cal.REGIONS}


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


def _declined_to(start: int, value_2024: float, decline: float = 0.05) -> float:
    """x(start) such that x(start)·(1 − decline)^(2024 − start) = x(2024)."""
    return value_2024 / (1.0 - decline) ** (BASELINE_YEAR - start)


# ------------------------------------------------------------------ the scenario

def scenario_text(start: int = FIRST_YEAR, end: int = LAST_YEAR) -> str:
    """The TOML of the historical scenario (reads data for years ≤ `end` only)."""
    check_years(start, end)
    shares = cal.mva_shares(start)
    demand = cal.demand_usd(start)
    robots = robot_stock_in(start)
    employment = cal.employment_in(start)
    levers = in_force(start)
    growth = demand_growth(start, end)
    wages = wage_growth_path(start, end)
    rates = {year: cal.exchange_rates(year) for year in range(start, end + 1)}
    working = {year: cal.working_age_millions(year) for year in range(start, end + 1)}
    lines = [
        f"# FactoryShift historical start: the world of {start}, run to {end}.",
        f"# Generated by `python -m sim.history.start --from {start} --to {end}` (sim/history/start.py);"
        " do not edit by hand:",
        "# tests/test_history.py checks that this file matches the generator.",
        'extends = "baseline"',
        f"observed = true   # its levers are the world as observed in {start}",
        "",
        "[meta]",
        f'title = "Hindcast: the world of {start}, run to {end}"',
        f'description = "Starts from {start} manufacturing shares, demand, employment, exchange rates, robot stocks '
        f'and workforces, with demand, wage and exchange-rate paths taken from data each year up to {end}."',
        'claim = "Tests whether the mechanisms reproduce the observed shift of world manufacturing '
        '(China from under 10% of world MVA in 2005 to about 28%), out of sample after the fitting cutoff."',
        "sources = [",
        '  "World Bank WDI NV.IND.MANF.CD (MVA, current US$), NY.GDP.MKTP.CD, SP.POP.TOTL, SP.POP.1564.TO.ZS, '
        'PA.NUS.FCRF, PA.NUS.PPP, SL.TLF.TOTL.IN, SL.IND.EMPL.MA.ZS, SL.IND.EMPL.FE.ZS, CC BY 4.0",',
        '  "IFR robot installations and world operational stock via OWID (CC BY 4.0)",',
        '  "Wages, wage trends, productivity growth, 2005 robot stocks and policy events: assumptions in '
        'sim/history/start.py (HISTORY, ROBOT_STOCK_2005, POLICY_EVENTS)",',
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
        wa = ", ".join(f"{y} = {working[y][r]:.1f}" for y in working)
        lines += [
            "",
            f"[countries.{r}]",
            f"mva_share = {shares[r]:.6f}  # share; WDI NV.IND.MANF.CD {start}",
            f"demand = {demand[r]:.4e}  # US$/yr; world MVA x (0.5 MVA share + 0.5 GDP share), {start}".replace(
                "e+", "e"),
            f"employment = {employment[r]:.4g}  # million; WDI industry employment x EMPLOYMENT_RATIO, {start}",
            f"exchange_rate = {rates[start][r]:.6g}  # US$ per LCU; WDI PA.NUS.FCRF {start}",
            "# foreign_share: as in the baseline (assumption: held since 2005)",
            f"robot_stock = {robots[r]:.0f}  # robots; sim/history/start.py robot_stock_in({start})",
            f"robot_density = {1e4 * robots[r] / (ROBOT_COVERAGE.get(r, 1.0) * employment[r] * 1e6):.4g}"
            f"  # robots/10k employees IFR counts; stock / (ROBOT_COVERAGE x employment)",
            f"working_age = {{ {wa} }}  # million; WDI",
            f"wage = {wage_in(start, r):.4g}  # US$/h; assumption (sim/history/start.py HISTORY)",
            f"productivity_growth = {HISTORY[r][2]}  # 1/yr; assumption",
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
    schedule.append("  # local-currency wage growth into the next year: (1 + trend)(1 + inflation relative to the US) "
                    "- 1, "
                    "trend assumed (HISTORY), inflation WDI PA.NUS.PPP")
    for year, row in wages.iterrows():
        if year - 1 > start:       # the wage of year t is set in step t - 1 (labor.next_wage)
            for r in cal.REGIONS:
                schedule.append(f'  {{ country = "{r}", lever = "wage_growth", from = {year - 1}, to = {year - 1}, '
                                f"value = {row[r]:.6f} }},")
    schedule.append("  # exchange rates by year, US$ per LCU: WDI PA.NUS.FCRF")
    for year in range(start + 1, end + 1):
        for r in cal.REGIONS:
            if r not in ("XAS", "ROW"):
                schedule.append(f'  {{ country = "{r}", lever = "exchange_rate", from = {year}, to = {year}, '
                                f"value = {rates[year][r]:.6g} }},")
    schedule.append("  # historical policy events: assumptions, sim/history/start.py POLICY_EVENTS")
    events = [e for e in POLICY_EVENTS if start < e[0] <= end and e[2] != "wage_growth"]
    for i, (year, country, lever, value, note) in enumerate(events):
        later = [e[0] for e in events[i + 1:] if (e[1], e[2]) == (country, lever)]
        to = f", to = {later[0] - 1}" if later else ""
        schedule.append(f'  {{ country = "{country}", lever = "{lever}", from = {year}{to}, value = {value} }},'
                        f"  # {note}")
    schedule.append("]")
    at = lines.index('extends = "baseline"') + 2
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


__all__ = ["observed_shares", "scenario_text", "starting_scenario", "demand_growth", "robot_stock_in"]
