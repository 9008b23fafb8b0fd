"""Generate the scenario-file reference tables from `sim.scenarios.parameters`.

``python -m sim.scenarios.docgen`` rewrites the part of ``docs/scenarios.md`` (and the parameter
tables of ``docs/ODD.md``) between the markers
``<!-- BEGIN GENERATED -->`` and ``<!-- END GENERATED -->``; ``--check`` only reports
whether the file is up to date (exit 1 if not). ``tests/test_docgen.py`` fails when the
committed page and the parameter table drift apart.

The table functions (`param_table`, `generated_reference`) are plain functions returning
Markdown, so other pages (the ODD) can reuse them.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from sim.scenarios import parameters as P

BEGIN = "<!-- BEGIN GENERATED -->"
END = "<!-- END GENERATED -->"
DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = DOCS / "scenarios.md"
ODD = DOCS / "ODD.md"

KIND_TEXT = {
    "float": "number",
    "int": "integer",
    "bool": "boolean",
    "str": "string",
    "year_table": "table year → number",
    "tariffs": "table origin → number",
}

#: Meaning of each `[meta]` key (keys come from `P.META_KEYS`; the test checks coverage).
META_DOC = {
    "title": ("string", "One-line title, shown by `factoryshift list` and on plots."),
    "description": ("string", "What the scenario changes, in a sentence or two."),
    "claim": ("string", "The essay claim the scenario encodes, in your own words (or why it has none)."),
    "sources": ("array of strings", "Where the numbers the file sets come from; `assumption` is a valid source."),
    "calibrated_by": ("string", "The calibration file whose fitted `[model]` values this scenario carries "
                                "(the baseline: `calibrated_2015`; see docs/validation.md)."),
    "calibration": ("table", "Written by `factoryshift calibrate`: the record of a fit (cutoff, objective value, "
                             "seeds, firms, optimiser settings, bounds). Free-form; not read by the model."),
}

#: Meaning of each `[[schedule]]` key (keys come from `P.SCHEDULE_KEYS`).
SCHEDULE_DOC = {
    "country": ("string", "yes", "Country code whose lever changes; must be a country of the resolved scenario."),
    "lever": ("string", "yes", "One of the levers below, or `tariffs.<ORIGIN>` / `tariffs.default`."),
    "from": ("integer (year)", "yes", "First year the entry applies."),
    "to": ("integer (year)", "ramp: yes; step: no",
           "Last year of a step (default: `run.end_year`); the year a ramp reaches `value`. Not before `from`."),
    "value": ("number", "yes", "The lever's value (step) or the value a ramp reaches in `to`; "
              "same unit and range as the lever."),
    "start": ("number", "no", "Ramp only: the value in year `from` (default: the lever's value in `from − 1`)."),
    "shape": ("string", "no", "`step` (default) or `ramp`."),
}

#: Top-level keys (from `P.TOP_LEVEL_KEYS`).
TOP_DOC = {
    "extends": ("string", "Parent scenario: a bundled name (`baseline`) or a path relative to this file."),
    "observed": ("`true` or table", "`true`: this file's levers are the observed world of its start year, on "
                 "which the start is calibrated (the baseline and the historical starts say so); scenarios that "
                 "extend it change levers from the start year on. A table `CODE = { lever = value, … }` gives "
                 "those lever values explicitly (what `factoryshift show` writes)."),
    "meta": ("table", "Title, description, claim and sources."),
    "run": ("table", "Years, firm count and seed."),
    "model": ("table", "Behavioural parameters shared by all countries."),
    "countries": ("table of tables", "One `[countries.XXX]` table per country or region."),
    "schedule": ("array of tables", "`[[schedule]]` entries: levers that change over time."),
}


def number(value: float) -> str:
    """A number as TOML would take it and a reader can read it: 20_000_000, not 2e+07."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1e4):
        value = int(value)
        if value == 2**63 - 1:
            return "2^63 − 1"
        return f"{value:_}" if abs(value) >= 1_000_000 and value % 1000 == 0 else str(value)
    return f"{value:g}"


def default_text(param: P.Param) -> str:
    d = param.default
    if d is None:
        return "**required**"
    if isinstance(d, dict):
        return "`{ " + ", ".join(f"{k} = {number(v)}" for k, v in d.items()) + " }`"
    if isinstance(d, str):
        return f'`"{d}"`'
    return f"`{number(d)}`"


def range_text(param: P.Param) -> str:
    if param.choices:
        return ", ".join(f"`{c}`" for c in param.choices)
    if param.lo is None and param.hi is None:
        return ""
    lo = "−inf" if param.lo is None else number(param.lo)
    hi = "inf" if param.hi is None else number(param.hi)
    if param.name == "ai_fund":
        hi = "inf (uncapped)"
    return f"{'(' if param.lo_open else '['}{lo}, {hi}]"


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def param_table(params: tuple[P.Param, ...], lever_mark: bool = False) -> str:
    """A Markdown table of parameters: key, type, unit, default, range, meaning, source."""
    head = ["key", "type", "unit", "default", "range", "meaning", "source"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in params:
        name = f"`{p.name}`" + (" ⏱" if lever_mark and p.name in P.LEVERS else "")
        rows.append("| " + " | ".join(cell(x) for x in (
            name, KIND_TEXT.get(p.kind, p.kind), p.unit or "–", default_text(p), range_text(p) or "–",
            p.doc, "–" if p.kind in ("str", "bool") and p.source == "assumption" else p.source)) + " |")
    return "\n".join(rows)


def _simple_table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(out)


def country_table() -> str:
    """The countries and regions of the bundled baseline: code, name, trade region, start-year MVA share."""
    from sim.scenarios.scenario import load_scenario

    base = load_scenario("baseline")
    rows = [[f"`{code}`", c["name"], f"`{c['region']}`", f"{100 * c['mva_share']:.1f}%"]
            for code, c in base.countries.items()]
    return _simple_table(["code", "name", "region", f"share of world MVA {base.run['start_year']}"], rows)


def generated_reference() -> str:
    """The generated part of docs/scenarios.md (between the markers, exclusive)."""
    pairs = ((P.META_KEYS, META_DOC), (P.SCHEDULE_KEYS, SCHEDULE_DOC), (P.TOP_LEVEL_KEYS, TOP_DOC))
    missing = [key for keys, doc in pairs for key in keys if key not in doc]
    if missing:  # a key added to sim.scenarios.parameters needs its sentence here
        raise AssertionError(f"sim.scenarios.docgen has no description for: {', '.join(missing)}")
    levers = [P.COUNTRY[name] for name in P.LEVERS]
    parts = [
        "<!-- This section is generated from sim/scenarios/parameters.py by `python -m sim.scenarios.docgen`"
        " (`make docs`). Do not edit it by hand. -->",
        "",
        "### Top-level keys",
        "",
        _simple_table(["key", "type", "meaning"], [[f"`{k}`", *TOP_DOC[k]] for k in P.TOP_LEVEL_KEYS]),
        "",
        "### `[meta]`",
        "",
        "Not used by the model; checked for type. Every bundled scenario states all four.",
        "",
        _simple_table(["key", "type", "meaning"], [[f"`{k}`", *META_DOC[k]] for k in P.META_KEYS]),
        "",
        "### `[run]`",
        "",
        param_table(P.RUN_PARAMS),
        "",
        "### `[model]`",
        "",
        param_table(P.MODEL_PARAMS),
        "",
        "### `[countries.XXX]`",
        "",
        "One table per country or region; **required** keys have no default and must be given for"
        " every country (the baseline gives them; a file that `extends` it need not repeat them)."
        " ⏱ marks levers that `[[schedule]]` entries may change over time.",
        "",
        param_table(P.COUNTRY_PARAMS, lever_mark=True),
        "",
        "### Countries of the baseline",
        "",
        "Generated from `scenarios/baseline.toml`. A file that `extends` the baseline uses these codes;"
        " it cannot add countries (a complete file without `extends` can define its own).",
        "",
        country_table(),
        "",
        "### `[[schedule]]`",
        "",
        _simple_table(["key", "type", "required", "meaning"], [[f"`{k}`", *SCHEDULE_DOC[k]] for k in P.SCHEDULE_KEYS]),
        "",
        f"`shape` is one of {', '.join(f'`{s}`' for s in P.SCHEDULE_SHAPES)}.",
        "",
        "#### Levers",
        "",
        _simple_table(["lever", "unit", "range", "meaning"],
                      [[f"`{p.name}`", p.unit or "–", range_text(p) or "–", p.doc] for p in levers]
                      + [["`tariffs.<ORIGIN>`", P.COUNTRY["tariffs"].unit, range_text(P.COUNTRY["tariffs"]),
                          "Tariff this market puts on goods from ORIGIN (a country code of the scenario)."],
                         ["`tariffs.default`", P.COUNTRY["tariffs"].unit, range_text(P.COUNTRY["tariffs"]),
                          "Tariff on every origin this market does not name explicitly (in its `tariffs` "
                          "table or by its own `tariffs.<ORIGIN>` schedule)."]]),
    ]
    return "\n".join(parts)


def odd_parameters() -> str:
    """The generated parameter tables of docs/ODD.md, section 8."""
    return "\n".join([
        "<!-- Generated from sim/scenarios/parameters.py by `python -m sim.scenarios.docgen` (`make docs`)."
        " Do not edit by hand. -->",
        "", "#### Global (`[model]`)", "", param_table(P.MODEL_PARAMS),
        "", "#### Per country (`[countries.XXX]`; ⏱ = can follow a schedule)", "",
        param_table(P.COUNTRY_PARAMS, lever_mark=True),
        "", "#### Run (`[run]`)", "", param_table(P.RUN_PARAMS),
    ])


#: Every generated page and the function that generates its marked section.
PAGES = {DOC: generated_reference, ODD: odd_parameters}


def render(text: str, generate=generated_reference) -> str:
    """`text` with the generated section replaced."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"needs exactly one {BEGIN} ... {END} pair")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{generate()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.scenarios.docgen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is out of date; write nothing")
    parser.add_argument("--path", type=Path, help="one page to update with the scenario reference "
                        "(default: docs/scenarios.md and docs/ODD.md)")
    args = parser.parse_args(argv)
    pages = {args.path: generated_reference} if args.path else PAGES
    stale = 0
    for path, generate in pages.items():
        text = path.read_text(encoding="utf-8")
        new = render(text, generate)
        if new == text:
            print(f"{path} is up to date")
        elif args.check:
            print(f"{path}: out of date; run `python -m sim.scenarios.docgen`", file=sys.stderr)
            stale += 1
        else:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path}")
    return 1 if stale else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
