"""Solara components of the dashboard: inputs with their errors, figures with their value tables."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import solara

from sim.app.config import LeverSpec


def text_value(text: str | None):
    """What an input's text stands for in a scenario: a number, or the text itself.

    Text that is not a number goes into the scenario as a string, so the scenario loader
    answers with the same message `factoryshift validate` would give for that file.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def css(name: str) -> str:
    """A lever name as a CSS class (``tariffs.CHN`` -> ``tariffs-CHN``), for tests and styling."""
    return name.replace(".", "-")


def year_value(text: str | None, default: int):
    value = text_value(text)
    if value is None:
        return default
    return value


@solara.component
def LeverRow(spec: LeverSpec, base: float, note: str, value_text: str, year_text: str, first_year: int,
             on_change: Callable[[str, str], None], errors: list[str]):
    """One lever: its new value and the year it takes effect; the loader's errors under them."""
    with solara.Row(gap="6px", style={"align-items": "flex-start"}, classes=["fs-lever"]):
        solara.InputText(
            spec.label, value=value_text, on_value=lambda text: on_change(text or "", year_text),
            error="\n".join(errors) if errors else False,
            message=f"now {base:g}{note}; {spec.range_text}{'' if spec.unit in ('', '1') else ' ' + spec.unit}",
            placeholder=f"{base:g}", style={"flex": "3 1 0"}, classes=[f"fs-lever-{css(spec.lever)}"])
        solara.InputText(
            "from", value=year_text, on_value=lambda text: on_change(value_text, text or ""),
            placeholder=str(first_year), style={"flex": "1 1 0"}, classes=[f"fs-from-{css(spec.lever)}"])


@solara.component
def ErrorLines(messages: list[str], classes: list[str] | None = None):
    """One red line per message, as the command line prints them."""
    if messages:
        with solara.Column(gap="2px", classes=["fs-errors", *(classes or [])]):
            for message in messages:
                solara.Error(message, dense=True, icon=False)


@solara.component
def FigureAndValues(figure, values: pd.DataFrame | None, caption: str = "", csv_name: str = "values.csv"):
    """A figure, then the plotted values in a table with a CSV download."""
    solara.FigureMatplotlib(figure, format="png")
    if values is not None and not values.empty:
        with solara.Details(summary=f"Values {caption}".strip(), expand=False):
            solara.DataFrame(values.round(4), items_per_page=15)
        solara.FileDownload(values.to_csv(index=False, float_format="%.17g"), filename=csv_name,
                            label=f"Download {csv_name}", mime_type="text/csv")


def wide(table: pd.DataFrame, year: int, countries: list[str]) -> pd.DataFrame:
    """One year of a bands table: a row per country with mean and band."""
    rows = table[(table["year"] == year) & (table["country"].isin(countries))]
    return rows.drop(columns=["year"]).reset_index(drop=True)
