"""The dashboard page rendered with Solara's test renderer (no browser): inputs, errors, runs, export."""

from __future__ import annotations

import time
import tomllib

import pytest

solara = pytest.importorskip("solara", reason="the dashboard extra is not installed (pip install '.[dashboard]')")
v = pytest.importorskip("ipyvuetify")
ipywidgets = pytest.importorskip("ipywidgets")

from sim.app import page, results, runs  # noqa: E402


@pytest.fixture
def rendered():
    """A fresh page: every per-session value back to its start, small runs."""
    page.bundled_name.set("baseline")
    page.custom.set(None)
    page.pasted.set("")
    page.source_errors.set([])
    page.edits.set({})
    page.country.set("USA")
    page.replicates_text.set("2")
    page.firms_text.set("300")
    page.reference.set(page.BASE_REFERENCE)
    page.saved.set({})
    results.tab.set(0)
    box, rc = solara.render(page.Page(), handle_error=False)
    yield rc
    rc.close()


def field(rc, label: str):
    return rc.find(v.TextField, label=label)


def type_into(rc, label: str, text: str, **match) -> None:
    widget = (rc.find(v.TextField, **match) if match else field(rc, label)).widget
    widget.v_model = text
    widget.fire_event("keyup.enter", None)


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def wait_for_run(timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (page.run_task.finished or page.run_task.error) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert page.run_task.finished or page.run_task.error, "the run did not end"


def alert_text_once(rc, fragment: str, timeout: float = 10.0) -> str:
    """The alerts' text once one holds `fragment` (the page re-renders after the task ends)."""
    deadline = time.monotonic() + timeout
    while True:
        texts = " ".join(str(w.children) for w in rc.find(v.Alert).widgets)
        if fragment in texts or time.monotonic() > deadline:
            return texts
        time.sleep(0.05)


def test_a_bad_lever_value_shows_the_cli_message_in_its_field_and_blocks_the_run(rendered):
    rc = rendered
    assert not rc.find(v.Btn, children=["Run"]).widget.disabled
    type_into(rc, "ai subsidy rate", "1.5")
    widget = field(rc, "ai subsidy rate").widget
    assert widget.error is True
    assert len(widget.messages) == 1
    assert "schedule[" in widget.messages[0] and "value: out of range: 1.5 not in [0, 1]" in widget.messages[0]
    assert rc.find(v.Btn, children=["Run"]).widget.disabled
    # the other levers show their hint, not an error
    assert field(rc, "coordination").widget.error is False
    type_into(rc, "ai subsidy rate", "0.4")
    assert field(rc, "ai subsidy rate").widget.error is False
    assert not rc.find(v.Btn, children=["Run"]).widget.disabled


def test_bad_replicates_and_firms_are_reported_at_their_fields(rendered):
    rc = rendered
    type_into(rc, "Replicates (seeds 1..N)", "0")
    assert field(rc, "Replicates (seeds 1..N)").widget.messages == [
        "dashboard: replicates: must be an integer from 1 to 100, got '0'"]
    type_into(rc, "Firms", "3")
    assert "run.firms: out of range: 3 not in [10, 20,000,000]" in field(rc, "Firms").widget.messages[0]
    assert rc.find(v.Btn, children=["Run"]).widget.disabled


def test_pasted_toml_with_a_mistake_is_reported_in_one_line(rendered):
    rc = rendered
    rc.find(v.Textarea, label="Scenario TOML").widget.v_model = 'extends = "baseline"\n[run]\nfirmz = 10\n'
    rc.find(v.Textarea, label="Scenario TOML").widget.fire_event("focusout", None)
    click(rc, "Use pasted TOML")
    assert page.source_errors.value == ["pasted.toml: run.firmz: unknown parameter (did you mean 'firms'?)"]
    alerts = [w.children for w in rc.find(v.Alert).widgets]
    assert any("pasted.toml: run.firmz: unknown parameter" in str(c) for c in alerts)
    assert not any("Traceback" in str(c) for c in alerts)


def test_run_shows_results_and_exports_the_configured_scenario(rendered):
    rc = rendered
    type_into(rc, "ai subsidy rate", "0.6")
    type_into(rc, "from", "2026", class_="fs-from-ai_subsidy_rate")
    click(rc, "Run")
    wait_for_run()
    assert page.run_task.finished and not page.run_task.error
    batch = page.run_task.value
    assert batch.configs == ["current", "reference"] and batch.seeds == [1, 2] and batch.firms == 300
    rc.find(ipywidgets.Image).wait_for(timeout=10)
    rc.find(v.Html, class_="fs-headline").wait_for(timeout=10)
    assert "2 replicate(s)" in rc.find(v.Html, class_="fs-headline").widget.children[0]
    exported = tomllib.loads(batch.scenarios["current"].to_toml())
    assert {"country": "USA", "lever": "ai_subsidy_rate", "from": 2026, "value": 0.6} in exported["schedule"]
    assert exported["run"]["seed"] == 1 and exported["run"]["firms"] == 300
    usa = batch.countries[batch.countries["country"] == "USA"].groupby("config")["subsidy_requested_usd"].sum()
    assert usa["current"] > 0 == usa["reference"]  # the lever reached the model; the reference has no subsidy


def test_a_failing_run_shows_a_short_message_and_the_page_keeps_working(rendered, monkeypatch):
    rc = rendered
    real = runs.run_one

    def broken(scenario, seed, firms):
        raise FloatingPointError("overflow in the market step")

    monkeypatch.setattr(runs, "run_one", broken)
    runs.CACHE._runs.clear()
    click(rc, "Run")
    wait_for_run()
    assert page.run_task.error
    texts = alert_text_once(rc, "The run failed")
    assert "The run failed inside the model (FloatingPointError: overflow in the market step)" in texts
    assert "Traceback" not in texts and 'File "' not in texts
    monkeypatch.setattr(runs, "run_one", real)
    click(rc, "Run")
    wait_for_run()
    assert page.run_task.finished and not page.run_task.error
