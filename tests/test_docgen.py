"""docs/scenarios.md's reference tables are exactly what `python -m sim.scenarios.docgen` generates."""

from __future__ import annotations

from sim.scenarios import docgen
from sim.scenarios import parameters as P


def test_committed_reference_is_generated():
    for page, generate in docgen.PAGES.items():
        text = page.read_text(encoding="utf-8")
        assert text == docgen.render(text, generate), f"{page.name} is out of date: run `make docs`"


def test_every_parameter_is_documented():
    generated = docgen.generated_reference()
    for param in (*P.RUN_PARAMS, *P.MODEL_PARAMS, *P.COUNTRY_PARAMS):
        assert f"`{param.name}`" in generated
    for key in (*P.META_KEYS, *P.SCHEDULE_KEYS, *P.TOP_LEVEL_KEYS, *P.LEVERS):
        assert f"`{key}`" in generated


def test_check_mode_detects_drift(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"# t\n{docgen.BEGIN}\nstale\n{docgen.END}\ntail\n", encoding="utf-8")
    assert docgen.main(["--check", "--path", str(page)]) == 1
    assert docgen.main(["--path", str(page)]) == 0
    assert docgen.main(["--check", "--path", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# t\n") and text.endswith(f"{docgen.END}\ntail\n") and "`theta`" in text
