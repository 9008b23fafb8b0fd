"""The results half of the page: one tab per question, each a figure with its values and CSV."""

from __future__ import annotations

import html

import pandas as pd
import solara
import solara.lab

from sim.app import charts, runs
from sim.app.components import ErrorLines, FigureAndValues, wide
from sim.app.links import style

DEFAULT_COUNTRIES = ("CHN", "USA", "XEU", "IND", "KOR", "VNM", "MEX")

shown = solara.reactive(list(DEFAULT_COUNTRIES))
year = solara.reactive(0)
tab = solara.reactive(0)
diff_metric = solara.reactive("production_share")
auto_metric = solara.reactive("automation")
labor_metric = solara.reactive("wage")
firm_metric = solara.reactive("entries")
flow_config = solara.reactive("current")
flow_kind = solara.reactive("all")


def _guard(build, *args):
    """A figure and its table, or a short message: a plotting failure must not take the page down."""
    try:
        return build(*args), None
    except Exception as exc:  # noqa: BLE001 - shown to the user as one line, the server goes on
        return None, f"This view could not be drawn ({type(exc).__name__}: {str(exc)[:160]})."


@solara.component
def BandsTab(batch, metric: str, countries: list[str], at: int, current: str, reference: str):
    def build():
        table = runs.bands(batch, metric, [current, reference])
        fig = charts.bands_figure(table, metric, countries, batch.codes, current, reference, names=batch.names)
        return fig, wide(table[table["config"].isin([current, reference])], at, countries)

    result, problem = solara.use_memo(lambda: _guard(build), [id(batch), metric, tuple(countries), at])
    ErrorLines([problem] if problem else [])
    if result:
        FigureAndValues(result[0], result[1], f"in {at}", f"{metric}_{at}.csv")


@solara.component
def DifferenceTab(batch, countries: list[str], at: int, current: str, reference: str):
    solara.Select("Quantity", values=[m for m in runs.METRICS if m in batch.countries.columns], value=diff_metric)
    metric = diff_metric.value

    def build():
        table = runs.paired_difference(batch, metric, current, reference)
        fig = charts.difference_figure(table, metric, countries, batch.codes, current, reference, batch.names)
        rows = table[(table["year"] == at) & table["country"].isin(countries)].drop(columns="year")
        return fig, rows.reset_index(drop=True)

    result, problem = solara.use_memo(lambda: _guard(build), [id(batch), metric, tuple(countries), at])
    ErrorLines([problem] if problem else [])
    if result:
        FigureAndValues(result[0], result[1], f"in {at} ({current} minus {reference}, same seeds)",
                        f"difference_{metric}_{at}.csv")


@solara.component
def FlowsTab(batch, countries, at, current, reference):
    solara.Select("Firms per year", values=["entries", "exits", "relocations_in", "relocations_out"],
                  value=firm_metric)
    BandsTab(batch, firm_metric.value, countries, at, current, reference)
    kinds = runs.flow_kinds(batch)
    with solara.Row():
        solara.Select("Relocations of", values=batch.configs, value=flow_config)
        if kinds:
            solara.Select("Kind", values=["all", *kinds], value=flow_kind)
    config = flow_config.value if flow_config.value in batch.configs else batch.configs[0]
    kind = flow_kind.value if flow_kind.value in kinds else None

    def build():
        matrix = runs.flow_matrix(batch, config, kind)
        title = f"Relocated firms, {config}{', ' + kind if kind else ''}: origin × destination"
        return charts.heatmap_figure(matrix, title), matrix.reset_index()

    result, problem = solara.use_memo(lambda: _guard(build), [id(batch), config, kind])
    ErrorLines([problem] if problem else [])
    if result:
        FigureAndValues(result[0], result[1], "(firms, mean per replicate over all years)", f"flows_{config}.csv")


@solara.component
def CompareTab(batch, countries, at, reference):
    def build():
        configs = [reference] + [c for c in batch.configs if c != reference]
        table = runs.bands(batch, "production_share", configs)
        diffs = pd.concat([runs.paired_difference(batch, "production_share", c, reference).assign(config=c)
                           for c in configs[1:]], ignore_index=True)
        fig = charts.compare_figure(table, diffs, "production_share", countries, configs, at, batch.names)
        values = runs.compare_table(batch, at, reference)
        return fig, values[values["country"].isin(countries)].reset_index(drop=True)

    result, problem = solara.use_memo(lambda: _guard(build), [id(batch), tuple(countries), at])
    ErrorLines([problem] if problem else [])
    if result:
        FigureAndValues(result[0], result[1], f"in {at}: share (%) and paired difference from {reference} (pp)",
                        f"compare_{at}.csv")


@solara.component
def ExportTab(batch, current: str, changed: bool):
    scenario = batch.scenarios[current]
    text = scenario.to_toml()
    if changed:
        solara.Warning("The inputs changed since this run; this is the file of the run shown. Press Run to update.",
                       dense=True)
    solara.Text(
        f"The configuration '{current}' of this run as a scenario file: `factoryshift run {scenario.name}.toml` "
        "reproduces replicate 1 (seed 1) bit for bit; --seed K gives replicate K.")
    with solara.Column(classes=["fs-export"]):
        solara.FileDownload(text, filename=f"{scenario.name}.toml", label="Download scenario TOML",
                            mime_type="application/toml")
    with solara.Column(classes=["fs-countries-csv"]):
        solara.FileDownload(lambda: batch.countries.to_csv(index=False, float_format="%.17g"),
                            filename="countries_all_runs.csv", label="Download countries.csv of every run",
                            mime_type="text/csv")
    solara.FileDownload(lambda: batch.flows.to_csv(index=False), filename="flows_all_runs.csv",
                        label="Download flows.csv of every run", mime_type="text/csv")
    solara.HTML("pre", html.escape(text), style="font-size: 0.8em; max-height: 40em; overflow: auto")


@solara.component
def Results(batch, built, current: str, reference: str):
    first, last = int(batch.countries["year"].min()), int(batch.countries["year"].max())
    at = year.value if first <= year.value <= last else last
    countries = [c for c in shown.value if c in batch.codes] or batch.codes
    solara.Text(f"{len(batch.seeds)} replicate(s) (seeds {batch.seeds[0]}..{batch.seeds[-1]}) × "
                f"{len(batch.configs)} configurations ({', '.join(batch.configs)}), {batch.firms:,} firms; "
                f"{batch.wall_seconds:.2f} s", classes=["fs-headline"])
    with solara.Row(style={"align-items": "center"}):
        solara.SelectMultiple("Countries", values=countries, all_values=batch.codes,
                              on_value=lambda v: shown.set(list(v)))
        solara.SliderInt("Year of the tables", value=at, min=first, max=last, on_value=year.set)
    with solara.lab.Tabs(value=tab, lazy=True):
        with solara.lab.Tab("Shares"):
            BandsTab(batch, "production_share", countries, at, current, reference)
        with solara.lab.Tab("Difference"):
            DifferenceTab(batch, countries, at, current, reference)
        with solara.lab.Tab("Automation"):
            robots = style.robot_column(batch.countries.columns)
            solara.ToggleButtonsSingle(value=auto_metric, values=["automation", robots])
            BandsTab(batch, auto_metric.value if auto_metric.value in batch.countries else "automation", countries,
                     at, current, reference)
        with solara.lab.Tab("Labor"):
            solara.ToggleButtonsSingle(value=labor_metric, values=["wage", "employment"])
            BandsTab(batch, labor_metric.value, countries, at, current, reference)
        with solara.lab.Tab("Firms & flows"):
            FlowsTab(batch, countries, at, current, reference)
        with solara.lab.Tab("Compare"):
            CompareTab(batch, countries, at, reference)
        with solara.lab.Tab("Export & data"):
            ExportTab(batch, current, built.scenario is None or
                      built.scenario.to_toml() != batch.scenarios[current].to_toml())
