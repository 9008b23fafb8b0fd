"""Baseline calibration of the 11 FactoryShift regions from the files in sim/data/raw.

Regions: CHN, KOR, JPN, USA, DEU, IND, VNM, MEX (single economies) and the
aggregates XEU = EU-27 minus Germany, XAS = ASEAN minus Vietnam, ROW = World
minus the ten other regions.  Sources, licences and caveats: sim/data/SOURCES.md.

Aggregation rule for World Bank (WDI) country series x (GDP, population):

    x_XEU = x_EUU - x_DEU
    x_XAS = sum of x over XAS_MEMBERS (the ASEAN members in the data panel)
    x_ROW = x_WLD - sum_{r != ROW} x_r

Run ``python -m sim.data.regions`` to print the TOML fragment for the config.
"""
import csv
from pathlib import Path

import numpy as np

RAW = Path(__file__).parent / "raw"

REGIONS: dict[str, str] = {
    "CHN": "China",
    "KOR": "South Korea",
    "JPN": "Japan",
    "USA": "United States",
    "DEU": "Germany",
    "IND": "India",
    "VNM": "Vietnam",
    "MEX": "Mexico",
    "XEU": "Rest of EU-27",
    "XAS": "Rest of ASEAN",
    "ROW": "Rest of world",
}
SINGLE = ("CHN", "KOR", "JPN", "USA", "DEU", "IND", "VNM", "MEX")

# ASEAN minus Vietnam, as far as the data panel goes.  Accepted gap: Brunei,
# Laos and Myanmar are not in any of the files, so they land in ROW.
XAS_MEMBERS = ("THA", "MYS", "IDN", "PHL", "SGP", "KHM")
# EU-27 minus Germany members present in the WPP2019 files (used for growth only).
XEU_WPP_MEMBERS = ("FRA", "ITA", "POL")

# id used by the commonsphere MVA file
ECONOMY_ID = {
    "CHN": "china-eco", "KOR": "southkorea-eco", "JPN": "japan-eco",
    "USA": "usa-eco", "DEU": "germany-eco", "IND": "india-eco",
    "VNM": "vietnam-eco", "MEX": "mexico-eco", "EUU": "eu-eco",
    "THA": "thailand-eco", "MYS": "malaysia-eco", "IDN": "indonesia-eco",
    "PHL": "philippines-eco", "SGP": "singapore-eco", "KHM": "cambodia-eco",
}
# UN M49 numeric codes used by the WPP2019 files
UN_CODE = {
    "CHN": "156", "KOR": "410", "JPN": "392", "USA": "840", "DEU": "276",
    "IND": "356", "VNM": "704", "MEX": "484", "FRA": "250", "ITA": "380",
    "POL": "616", "THA": "764", "MYS": "458", "IDN": "360", "PHL": "608",
    "SGP": "702", "KHM": "116", "WLD": "900",
}
# IFR entity name -> region (XEU gets the EU-27 figure, which includes Germany)
IFR_ENTITY = {
    "China": "CHN", "Republic of Korea": "KOR", "Japan": "JPN",
    "United States": "USA", "Germany": "DEU", "European Union": "XEU",
}
PATH_YEARS = (2024, 2025, 2030, 2035, 2040, 2045, 2050)
LAST_DATA_YEAR = 2024


def _rows(filename: str) -> list[dict[str, str]]:
    with open(RAW / filename, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _wdi(indicator: str, year: int) -> dict[str, float]:
    """Country code -> value of WDI `indicator` in `year` (file wdi_<indicator>.csv)."""
    return {r["Country Code"]: float(r["Value"])
            for r in _rows(f"wdi_{indicator}.csv")
            if int(r["Year"]) == year and r["Value"]}


def _aggregate(x: dict[str, float]) -> dict[str, float]:
    """Country values (incl. EUU and WLD) -> region values, by the module rule."""
    out = {c: x[c] for c in SINGLE}
    out["XEU"] = x["EUU"] - x["DEU"]
    out["XAS"] = sum(x[c] for c in XAS_MEMBERS)
    out["ROW"] = x["WLD"] - sum(out.values())
    return out


# --------------------------------------------------------------------------- MVA

def world_mva(year: int = 2024) -> float:
    """World manufacturing value added, current US$ (WDI NV.IND.MANF.CD, WLD)."""
    for r in _rows("commonsphere_wdi_manufacturing_value_added_world.csv"):
        if int(r["year"]) == year:
            return float(r["value"])
    raise KeyError(f"no world MVA for {year} (file covers 1997-2024)")


def _mva_economy(year: int) -> dict[str, float]:
    """Code -> MVA in US$ for `year` (file values are billions of US$, times 1e9)."""
    by_id = {r["economy_id"]: float(r["value"]) * 1e9
             for r in _rows("commonsphere_wdi_manufacturing_value_added_by_economy.csv")
             if int(r["year"]) == year}
    return {code: by_id[eid] for code, eid in ECONOMY_ID.items() if eid in by_id}


def usa_mva(year: int = 2024) -> float:
    """US MVA in US$.  The World Bank series ends in 2021, so for later years

        MVA_USA(t) = MVA_USA(2021) * GDP_USA(t) / GDP_USA(2021)

    i.e. the 2021 value grown with US nominal GDP (WDI NY.GDP.MKTP.CD).  This
    assumes a constant manufacturing share of US GDP after 2021.
    """
    mva = _mva_economy(year)
    if "USA" in mva:
        return mva["USA"]
    last = 2021
    return (_mva_economy(last)["USA"]
            * _wdi("NY.GDP.MKTP.CD", year)["USA"] / _wdi("NY.GDP.MKTP.CD", last)["USA"])


def mva_by_region(year: int = 2024) -> dict[str, float]:
    """Manufacturing value added by region, current US$.

        MVA_XEU = MVA_EU27 - MVA_DEU
        MVA_XAS = MVA of THA + MYS + IDN + PHL + SGP + KHM
        MVA_USA = 2021 value grown with US nominal GDP (see usa_mva)
        MVA_ROW = MVA_World - sum of the other ten regions

    Brunei, Laos and Myanmar (ASEAN) are not in the by-economy file and are
    counted in ROW (an accepted gap: about US$ 20 bn around 2020, roughly 3 %
    of the XAS total, per the 2023-vintage WB bulk file; Myanmar is most of it).
    """
    x = _mva_economy(year)
    x["USA"] = usa_mva(year)
    x["WLD"] = world_mva(year)
    return _aggregate(x)


def mva_shares(year: int = 2024) -> dict[str, float]:
    """s_r = MVA_r / MVA_World; sums to 1 because ROW is the residual."""
    w = world_mva(year)
    return {r: v / w for r, v in mva_by_region(year).items()}


# ---------------------------------------------------------------- GDP / demand

def gdp_usd(year: int = 2024) -> dict[str, float]:
    """GDP by region, current US$ (WDI NY.GDP.MKTP.CD, module aggregation rule)."""
    return _aggregate(_wdi("NY.GDP.MKTP.CD", year))


def demand_usd(year: int = 2024) -> dict[str, float]:
    """Manufacturing absorption (demand) by region, US$.  Assumption:

        D_r = MVA_World * (0.5 * MVA_r / MVA_World + 0.5 * GDP_r / GDP_World)

    i.e. absorption lies half-way between where goods are made (MVA share)
    and where income is (GDP share).  Both shares sum to 1, so sum_r D_r =
    MVA_World.  Trade imbalances are thereby damped, not measured.
    """
    w = world_mva(year)
    s_mva = mva_shares(year)
    gdp = gdp_usd(year)
    gdp_world = sum(gdp.values())
    return {r: w * (0.5 * s_mva[r] + 0.5 * gdp[r] / gdp_world) for r in REGIONS}


# ------------------------------------------------------------ working-age pop

def working_age_millions(year: int = 2024) -> dict[str, float]:
    """Population aged 15-64 by region, millions (WDI):

        L_c = SP.POP.TOTL_c * SP.POP.1564.TO.ZS_c / 100 / 1e6

    aggregated by the module rule (XEU = EUU - DEU, XAS = panel ASEAN,
    ROW = WLD - rest).
    """
    pop = _wdi("SP.POP.TOTL", year)
    pct = _wdi("SP.POP.1564.TO.ZS", year)
    return _aggregate({c: pop[c] * pct[c] / 100 / 1e6 for c in pop})


def _wpp_15_64() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """UN code -> (years, persons 15-64 in thousands), WPP2019 (estimates to 2020,
    medium variant from 2025), male + female summed over 15-19 .. 60-64."""
    total: dict[str, dict[int, float]] = {}
    for sex in ("M", "F"):
        for kind in ("", "projMed"):
            for r in _rows(f"wpp2019_pop{sex}{kind}_15-64.csv"):
                d = total.setdefault(r["country_code"], {})
                for key, val in r.items():
                    if key.isdigit():
                        d[int(key)] = d.get(int(key), 0.0) + float(val)
    return {c: (np.array(sorted(d)), np.array([d[y] for y in sorted(d)]))
            for c, d in total.items()}


def _wpp_growth(members, years, wpp) -> np.ndarray:
    """g(t) = sum_members WPP(t) / sum_members WPP(2024), WPP interpolated
    linearly between its 5-year points."""
    def level(t):
        return sum(np.interp(t, *wpp[UN_CODE[c]]) for c in members)
    return np.array([level(t) for t in years]) / level(2024)


def working_age_paths(years=PATH_YEARS) -> dict[str, dict[int, float]]:
    """Working-age (15-64) population paths by region, millions.

        L_r(t) = L_r^WDI(2024) * WPP_r(t) / WPP_r(2024)

    with WPP = UN WPP2019 (medium variant after 2020), linear between 5-year
    points.  Growth proxies where WPP2019 has no matching aggregate:
      * XEU: growth of FRA + ITA + POL (EU members in the WPP files, no DEU);
      * XAS: growth of THA + MYS + IDN + PHL + SGP + KHM;
      * ROW: residual in levels, L_ROW(t) = L_WLD^WDI(2024) * WPP_WLD(t) /
        WPP_WLD(2024) - sum_{r != ROW} L_r(t), so regions add up to the World.
    Caveat: WPP2019 is two revisions old (it is higher for China than WPP2024);
    only its growth rates are used, the 2024 level is WDI.
    """
    years = tuple(years)
    wpp = _wpp_15_64()
    base = working_age_millions(2024)
    wld = _wdi("SP.POP.TOTL", 2024)["WLD"] * _wdi("SP.POP.1564.TO.ZS", 2024)["WLD"] / 1e8
    members = {c: (c,) for c in SINGLE}
    members["XEU"] = XEU_WPP_MEMBERS
    members["XAS"] = XAS_MEMBERS
    paths = {r: base[r] * _wpp_growth(m, years, wpp) for r, m in members.items()}
    paths["ROW"] = wld * _wpp_growth(("WLD",), years, wpp) - sum(paths.values())
    return {r: dict(zip(years, map(float, paths[r]))) for r in REGIONS}


# ---------------------------------------------------------------- robots

ROBOT_LIFE = 12           # years: IFR counts a robot as operational for 12 years after installation
ROBOT_COLUMNS = {"CHN": "china", "JPN": "japan", "USA": "us", "KOR": "korea", "DEU": "germany", "WLD": "world"}


def _ifr(year: int) -> dict[str, float]:
    """IFR entity -> robot density of data year `year` as published in World Robotics 2024 (the
    edition with the latest figures; editions revise back years, e.g. China 2022: 392 in WR2023,
    402 in WR2024), else the latest edition that has the year."""
    rows = [r for r in _rows("ifr_robot_density_press_releases_transcribed.csv") if int(r["data_year"]) == year]
    out: dict[str, float] = {}
    for r in sorted(rows, key=lambda r: r["ifr_edition"]):
        out[r["entity"]] = float(r["robots_per_10000_manufacturing_employees"])
    return out


def _ifr_2023() -> dict[str, float]:
    return _ifr(2023)


def robot_density_2023() -> dict[str, float | None]:
    """Robots per 10,000 manufacturing employees, 2023 (IFR World Robotics 2024, transcribed press
    figures). XEU takes the EU-27 figure (219, which includes Germany). XAS, IND, VNM, MEX, ROW: None."""
    ifr = _ifr_2023()
    out: dict[str, float | None] = {r: None for r in REGIONS}
    for entity, region in IFR_ENTITY.items():
        out[region] = ifr[entity]
    return out


def robot_density_world(year: int = 2023) -> float:
    """World robot density (IFR): 162 in 2023."""
    return _ifr(year)["World"]


def robot_installations(first: int = 2011, last: int = LAST_DATA_YEAR) -> dict[int, dict[str, float]]:
    """year -> {CHN, JPN, USA, KOR, DEU, WLD: robots installed} (IFR via OWID; 2011 from the OWID file,
    2012-2024 from the commonsphere copy, which agrees with it where both have a year)."""
    out: dict[int, dict[str, float]] = {}
    for r in _rows("owid_annual-industrial-robots-installed.csv"):
        if r["Code"] in ROBOT_COLUMNS and first <= int(r["Year"]) <= last:
            out.setdefault(int(r["Year"]), {})[r["Code"]] = float(r["Annual industrial robots installed"])
    for r in _rows("commonsphere_owid_ifr_robot_installations.csv"):
        if first <= int(r["year"]) <= last:
            out[int(r["year"])] = {code: float(r[col]) for code, col in ROBOT_COLUMNS.items()}
    return out


def world_robot_stock(year: int) -> float:
    """World operational stock of industrial robots (IFR via OWID), units, 2012-2024."""
    for r in _rows("commonsphere_owid_ifr_robot_operational_stock_world.csv"):
        if int(r["year"]) == year:
            return float(r["value"])
    raise KeyError(f"no world robot stock for {year} (file covers 2012-2024)")


def robot_stock(year: int) -> dict[str, float]:
    """Operational robot stock by region in `year`:

        stock_c = sum of c's installations in the ROBOT_LIFE years up to `year`

    for the five countries with installations (IFR's own rule: a robot stays 12 years), and the
    rest of the world's stock (world stock minus the five) shared among XEU, IND, VNM, MEX, XAS and
    ROW by their assumed densities (`REST_DENSITY`) times employment. Needs installations back to
    year - 11 (2023 and 2024 only)."""
    inst = robot_installations(year - ROBOT_LIFE + 1, year)
    if len(inst) < ROBOT_LIFE:
        raise KeyError(f"robot stocks need installations {year - ROBOT_LIFE + 1}-{year}")
    out = {c: sum(inst[y][c] for y in inst) for c in ROBOT_COLUMNS if c != "WLD"}
    rest = world_robot_stock(year) - sum(out.values())
    weights = {r: REST_DENSITY[r] * EMPLOYMENT[r][0] for r in REST_DENSITY}
    total = sum(weights.values())
    out |= {r: rest * w / total for r, w in weights.items()}
    return {r: out[r] for r in REGIONS}


# ---------------------------------------------------------------- labor (literature figures, not data files)

#: Manufacturing employment around 2024, million persons, with its source (official counts where found).
EMPLOYMENT: dict[str, tuple[float, str]] = {
    "CHN": (120.0, "assumption: Conference Board ILC 114 M (2013); WDI industry share x labor force x 0.6 gives 149 M"),
    "KOR": (4.40, "Statistics Korea, Economically Active Population Survey, Nov 2024"),
    "JPN": (10.46, "Statistics Bureau of Japan, Labour Force Survey, 2024 average"),
    "USA": (12.8, "BLS Current Employment Statistics, manufacturing (NAICS 31-33), 2024"),
    "DEU": (7.4, "Destatis national accounts, persons employed in manufacturing (7.4 M in 2006; held, assumption)"),
    "IND": (65.0, "assumption: PLFS 2017-18 counted 57 M manufacturing workers (Economic Survey 2020-21)"),
    "VNM": (11.9, "General Statistics Office of Viet Nam, labour force survey 2023 (as reported)"),
    "MEX": (9.81, "INEGI, Encuesta Nacional de Ocupacion y Empleo, Nov 2024"),
    "XEU": (22.6, "Eurostat structural business statistics: EU-27 30.0 M persons employed (2022) minus DEU"),
    "XAS": (36.0, "assumption: WDI industry employment share x labor force x 0.6 (median ratio where counts exist)"),
    "ROW": (162.0, "assumption: WDI industry employment share x labor force x 0.6 (median ratio where counts exist)"),
}
#: Hours actually worked per manufacturing worker and year (assumption: OECD average annual hours, rounded).
ANNUAL_HOURS: dict[str, float] = {"CHN": 2150, "KOR": 1950, "JPN": 1750, "USA": 1950, "DEU": 1350, "IND": 2300,
                                  "VNM": 2300, "MEX": 2250, "XEU": 1650, "XAS": 2200, "ROW": 2000}
#: Robot density of the regions IFR does not publish (robots per 10,000 employees; assumption: they share the
#: world stock the five largest countries leave in proportion to density x employment).
REST_DENSITY = {"XEU": 150.0, "IND": 10.0, "VNM": 20.0, "MEX": 40.0, "XAS": 60.0, "ROW": 30.0}


def industry_employment_proxy(year: int) -> dict[str, float]:
    """Industry (ISIC B–F) employment by region, persons, from WDI modelled ILO estimates:

        labor force (SL.TLF.TOTL.IN) × (0.6·male share + 0.4·female share in industry) / 100

    (0.4 = women's share of employment, an assumption; the labor force counts the unemployed too).
    Only its change over time is used (`employment_in`)."""
    lf, male, female = _wdi("SL.TLF.TOTL.IN", year), _wdi("SL.IND.EMPL.MA.ZS", year), _wdi("SL.IND.EMPL.FE.ZS", year)
    return _aggregate({c: lf[c] * (0.6 * male[c] + 0.4 * female[c]) / 100 for c in lf if c in male and c in female})


#: Official count ÷ industry proxy in 2024 (EMPLOYMENT ÷ `industry_employment_proxy(2024)`), computed once and
#: kept constant: a region's manufacturing employment in another year is this ratio times that year's proxy.
EMPLOYMENT_RATIO = {"CHN": 0.4831, "KOR": 0.6010, "JPN": 0.6193, "USA": 0.3644, "DEU": 0.6048, "IND": 0.4482,
                    "VNM": 0.6006, "MEX": 0.6517, "XEU": 0.5088, "XAS": 0.6009, "ROW": 0.6019}


def employment_in(year: int) -> dict[str, float]:
    """Manufacturing employment by region in `year`, million persons: EMPLOYMENT_RATIO × industry proxy."""
    proxy = industry_employment_proxy(year)
    return {r: EMPLOYMENT_RATIO[r] * proxy[r] / 1e6 for r in REGIONS}


# ---------------------------------------------------------------- exchange rates

EURO = ("DEU", "XEU")  # XEU: the euro (Poland, the only non-euro member in the data, moves it by < 1.5 %)


def exchange_rates(year: int) -> dict[str, float]:
    """US$ per local currency unit by region (1 / WDI PA.NUS.FCRF). DEU and XEU: the euro (EMU row);
    XAS and ROW: baskets without a common currency, held at 1 (their wages are in US$)."""
    lcu = _wdi("PA.NUS.FCRF", year)
    out = {r: 1.0 / lcu[r] for r in SINGLE if r not in EURO}
    out |= {r: 1.0 / lcu["EMU"] for r in EURO}
    out |= {"XAS": 1.0, "ROW": 1.0}
    return {r: out[r] for r in REGIONS}


def relative_inflation(year: int) -> dict[str, float]:
    """Growth of the PPP conversion factor (WDI PA.NUS.PPP, LCU per international $) from year − 1 to `year`:
    the region's inflation relative to the US. XEU takes Germany's (same currency); XAS, ROW: 0."""
    now, before = _wdi("PA.NUS.PPP", year), _wdi("PA.NUS.PPP", year - 1)
    out = {r: now[r] / before[r] - 1.0 for r in SINGLE}
    out |= {"XEU": out["DEU"], "XAS": 0.0, "ROW": 0.0}
    return {r: out[r] for r in REGIONS}


# ---------------------------------------------------------------- TOML output

MVA_NOTE = {
    "USA": "2021 WB value x US nominal GDP growth 2021->2024",
    "XEU": "EU-27 minus Germany",
    "XAS": "THA+MYS+IDN+PHL+SGP+KHM; BRN/LAO/MMR in ROW",
    "ROW": "world minus the other regions",
}
WA_NOTE = {
    "XEU": "; growth of FRA+ITA+POL",
    "XAS": "; growth of panel ASEAN members",
    "ROW": "; world path minus other regions",
}


def toml_fragment(year: int = 2024) -> str:
    """The data-derived keys of the [countries.XXX] tables of the baseline, one table per region."""
    shares = mva_shares(year)
    demand = demand_usd(year)
    density = robot_density_2023()
    stock = robot_stock(2023)
    rates = exchange_rates(year)
    paths = working_age_paths()
    lines = [f"# generated by `python -m sim.data.regions` (base year {year})"]
    for r, name in REGIONS.items():
        mva_src = "WDI NV.IND.MANF.CD share of world MVA"
        if r in MVA_NOTE:
            mva_src += f" ({MVA_NOTE[r]})"
        wa = ", ".join(f"{y} = {v:.1f}" for y, v in paths[r].items())
        employed, source = EMPLOYMENT[r]
        lines += ["", f"[countries.{r}]",
                  f'name = "{name}"  # source: sim.data.regions.REGIONS',
                  f"mva_share = {shares[r]:.6f}  # source: {mva_src}",
                  f"demand = {demand[r]:.3e}".replace("e+", "e")
                  + "  # source: world MVA x (0.5 MVA share + 0.5 GDP share), assumption",
                  f"employment = {employed}  # million; {source}",
                  f"annual_hours = {ANNUAL_HOURS[r]:.0f}  # hours/yr; assumption (OECD average annual hours, rounded)",
                  f"exchange_rate = {rates[r]:.6g}  # US$ per LCU; "
                  + ("WDI PA.NUS.FCRF" if r not in ("XAS", "ROW") else "basket held at 1 (wages in US$)"),
                  f"robot_stock = {stock[r]:.0f}  # robots, 2023; "
                  + ("IFR installations 2012-2023 (12-year life)" if r in ROBOT_COLUMNS
                     else "world stock minus the five, by assumed density x employment")]
        if density[r] is not None:
            src = "IFR WR2024 EU-27 figure (incl. DEU)" if r == "XEU" else "IFR WR2024"
            lines.append(f"robot_density = {int(density[r])}  # source: {src}, 2023, press")
        lines.append(f"working_age = {{ {wa} }}  # source: WDI 2024 level x WPP2019 "
                     f"medium growth, millions{WA_NOTE.get(r, '')}")
    return "\n".join(lines) + "\n"


def main() -> None:
    print(toml_fragment(), end="")


if __name__ == "__main__":
    main()
