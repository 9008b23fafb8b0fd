"""The dashboard page (`factoryshift dashboard` serves it; ``solara run sim.app.page`` too).

Left: the scenario, the run settings and the levers of one country at a time. Right: the
results of the last run, one tab per question. Runs go to a background thread, so the
page keeps answering while replicates run; a new run makes the running one stop.
"""

from __future__ import annotations

import html

import solara
import solara.lab

from sim.app import config, runs
from sim.app.components import ErrorLines, LeverRow, text_value, year_value
from sim.app.links import UserError
from sim.app.results import Results

BASE_REFERENCE = "the scenario without my levers"
CURRENT, REFERENCE = "current", "reference"
MAX_REPLICATES = 100

# Module-level reactive values are per browser session in Solara.
bundled_name = solara.reactive("baseline")
custom = solara.reactive(None)  # the Scenario loaded from pasted or uploaded TOML
pasted = solara.reactive("")
source_errors = solara.reactive([])
edits = solara.reactive({})  # "USA.ai_subsidy_rate" -> (value text, year text)
country = solara.reactive("USA")
replicates_text = solara.reactive("5")
firms_text = solara.reactive("5000")
reference = solara.reactive(BASE_REFERENCE)
saved = solara.reactive({})  # configuration name -> Scenario
save_name = solara.reactive("")
save_errors = solara.reactive([])


@solara.lab.task
def run_task(configs: dict, seeds: list[int], firms: int):
    def progress(done: int, total: int) -> None:
        run_task.progress = 100.0 * done / total

    return runs.run_batch(configs, seeds, firms, progress=progress, stop=lambda: not run_task.is_current())


def replicates_value() -> tuple[int | None, list[str]]:
    value = text_value(replicates_text.value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_REPLICATES:
        return value, []
    return None, [f"dashboard: replicates: must be an integer from 1 to {MAX_REPLICATES}, "
                  f"got {replicates_text.value!r}"]


def edit_list(scenario) -> list[config.LeverEdit]:
    first = scenario.run["start_year"]
    out = []
    for key, (value_text, year_text) in edits.value.items():
        code, lever = key.split(".", 1)
        if code in scenario.countries and (value_text or "").strip():
            out.append(config.LeverEdit(code, lever, text_value(value_text), year_value(year_text, first)))
    return out


def set_edit(key: str, value_text: str, year_text: str) -> None:
    new = dict(edits.value)
    if value_text.strip() or year_text.strip():
        new[key] = (value_text, year_text)
    else:
        new.pop(key, None)
    edits.value = new


def use_pasted(text: str, name: str = "pasted") -> None:
    try:
        scenario = config.scenario_from_text(text, name)
    except UserError as exc:
        source_errors.value = exc.messages
        return
    source_errors.value = []
    custom.value = scenario


def on_file(info) -> None:
    try:
        scenario = config.scenario_from_bytes(info["data"], info["name"])
    except UserError as exc:
        source_errors.value = exc.messages
        return
    source_errors.value = []
    custom.value = scenario


def pick_bundled(name: str) -> None:
    bundled_name.value = name
    custom.value = None
    source_errors.value = []


@solara.component
def ScenarioSource(base):
    names = config.bundled()
    solara.Select("Scenario", values=names, value=bundled_name.value if custom.value is None else None,
                  on_value=pick_bundled, classes=["fs-scenario"])
    if custom.value is not None:
        solara.Info(f"Using your file {custom.value.name}.toml: {base.title}", dense=True)
    with solara.Details(summary="Paste or upload a scenario TOML", expand=bool(source_errors.value)):
        solara.InputTextArea("Scenario TOML", value=pasted, rows=6)
        solara.Button("Use pasted TOML", on_click=lambda: use_pasted(pasted.value), outlined=True,
                      classes=["fs-use-pasted"])
        solara.FileDrop(label="…or drop a .toml file here", on_file=on_file, lazy=False)
    ErrorLines(source_errors.value, classes=["fs-source-errors"])


@solara.component
def LeverPanel(base, errors: dict[str, list[str]]):
    codes = list(base.countries)
    code = country.value if country.value in codes else codes[0]
    first = base.run["start_year"]
    names = {c: base.countries[c]["name"] for c in codes}
    solara.Select("Country", values=codes, value=code, on_value=country.set, classes=["fs-country"])
    solara.Text(f"{names[code]}: a value here holds from its year to {base.run['end_year']} "
                "(empty: the scenario's own value and schedule).", style={"font-size": "0.85em"})

    def row(spec):
        key = f"{code}.{spec.lever}"
        value_text, year_text = edits.value.get(key, ("", ""))
        entries = config.scheduled(base, code, spec.lever)
        note = f", scheduled from {entries[0]['from']}" if entries else ""
        LeverRow(spec, config.base_value(base, code, spec.lever), note, value_text, year_text, first,
                 lambda v, y, key=key: set_edit(key, v, y), errors.get(key, []))

    for spec in config.lever_specs():
        row(spec)
    with solara.Details(summary=f"Tariffs levied by {code}, by origin"):
        for origin in [c for c in codes if c != code] + ["default"]:
            row(config.tariff_spec(origin))


@solara.component
def EditSummary(base, built):
    items = edit_list(base)
    if not items:
        solara.Text("No levers changed yet.", style={"font-size": "0.85em"})
        return
    lines = "".join(f"<li>{html.escape(f'{e.country} {e.lever} = {e.value} from {e.start}')}</li>" for e in items)
    solara.HTML("div", f"<b>Your levers</b><ul>{lines}</ul>", classes=["fs-edits"])
    solara.Button("Clear all levers", on_click=lambda: edits.set({}), text=True, classes=["fs-clear"])
    shown = {f"{country.value}.{s.lever}" for s in config.lever_specs()}
    elsewhere = [m for key, ms in built.errors.items() if key not in shown and key not in ("firms", "seed")
                 for m in ms]
    ErrorLines(elsewhere)


@solara.component
def Comparison(built):
    def add():
        name = save_name.value.strip()
        problems = []
        if not name:
            problems.append("dashboard: configuration name: give a name")
        elif name in (CURRENT, REFERENCE) or name in saved.value:
            problems.append(f"dashboard: configuration name: '{name}' is taken")
        if not built.ok:
            problems.append("dashboard: the current configuration has errors; fix them first")
        save_errors.value = problems
        if not problems:
            saved.value = {**saved.value, name: built.scenario}
            save_name.value = ""

    with solara.Row(style={"align-items": "center"}):
        solara.InputText("Name for the comparison", value=save_name, classes=["fs-save-name"])
        solara.Button("Add current", on_click=add, outlined=True, classes=["fs-save"])
    ErrorLines(save_errors.value)
    for name in saved.value:
        with solara.Row(style={"align-items": "center"}):
            solara.Text(name)
            solara.Button(icon_name="mdi-delete", text=True,
                          on_click=lambda name=name: saved.set({k: v for k, v in saved.value.items() if k != name}))


@solara.component
def Page():
    solara.Title("FactoryShift dashboard")
    base = solara.use_memo(lambda: custom.value if custom.value is not None else config.load_bundled(
        bundled_name.value), [custom.value, bundled_name.value])
    n_replicates, replicate_errors = replicates_value()
    firms = text_value(firms_text.value)
    built = solara.use_memo(
        lambda: config.build(base, edit_list(base), firms=firms, seed=1, name=f"{base.name}_dashboard"),
        [base, edits.value, firms_text.value])

    def start():
        ref = base if reference.value == BASE_REFERENCE else config.load_bundled(reference.value)
        configs = {CURRENT: built.scenario, REFERENCE: ref, **saved.value}
        run_task(configs, list(range(1, n_replicates + 1)), int(firms))

    with solara.Columns([1, 2.6], gutters_dense=True):
        with solara.Column(gap="8px", style={"min-width": "340px"}):
            solara.HTML("h3", "FactoryShift dashboard")
            solara.Text(base.title)
            ScenarioSource(base)
            with solara.Row(gap="6px"):
                solara.InputText("Replicates (seeds 1..N)", value=replicates_text,
                                 error="\n".join(replicate_errors) or False, classes=["fs-replicates"])
                solara.InputText("Firms", value=firms_text, error="\n".join(built.errors.get("firms", [])) or False,
                                 classes=["fs-firms"])
            solara.Select("Differences from", values=[BASE_REFERENCE, *config.bundled()], value=reference,
                          classes=["fs-reference"])
            with solara.Row():
                solara.Button("Run", on_click=start, color="primary", disabled=not built.ok or bool(replicate_errors),
                              classes=["fs-run"])
                if run_task.pending:
                    solara.Button("Stop", on_click=run_task.cancel, text=True, classes=["fs-stop"])
            if run_task.pending:
                solara.ProgressLinear(run_task.progress if run_task.progress is not None else True)
            ErrorLines(built.errors.get(config.GENERAL, []) + built.errors.get("seed", []))
            EditSummary(base, built)
            LeverPanel(base, built.errors)
            with solara.Details(summary="Compare configurations side by side"):
                Comparison(built)
        with solara.Column():
            if run_task.error:
                exc = run_task.exception
                messages = exc.messages if isinstance(exc, UserError) else [
                    f"The run failed inside the model ({type(exc).__name__}: {str(exc)[:200]}); "
                    "the dashboard is still running, change the inputs and run again."]
                ErrorLines(messages, classes=["fs-run-failed"])
            batch = run_task.latest
            if batch is None:
                solara.Info("Set levers on the left, then press Run. The first run also runs the reference, "
                            "with the same seeds, so differences are paired.")
            else:
                Results(batch, built, CURRENT, REFERENCE)
