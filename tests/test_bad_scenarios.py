"""The malformed-input corpus in tests/bad_scenarios: every file fails validation cleanly.

Each corpus file states what its error must say in header comments:

* ``# expect: TEXT`` (one or more): substrings of the error line, e.g. the key path and
  the problem, ``countries.USA.coordination: out of range``;
* ``# file: NAME`` (optional): the file the error is reported against, when it is not the
  file itself (an `extends` cycle is reported where the cycle closes).

`factoryshift validate FILE` must exit 2 and print exactly one line on stderr,
``error: <file>: <key.path>: <problem>``, without a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

CORPUS = Path(__file__).parent / "bad_scenarios"
FILES = sorted(CORPUS.glob("*.toml"))


def expectations(path: Path) -> tuple[list[str], str]:
    expect, file = [], path.name
    for line in path.read_text().splitlines():
        if line.startswith("# expect:"):
            expect.append(line.split(":", 1)[1].strip())
        elif line.startswith("# file:"):
            file = line.split(":", 1)[1].strip()
    return expect, file


def test_corpus_is_large_and_annotated():
    assert len(FILES) >= 20
    for path in FILES:
        assert expectations(path)[0], f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_validate_reports_one_located_line(path, capsys):
    expect, file = expectations(path)
    status = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert "Traceback" not in err and "internal error" not in err
    reported = str(path.parent / file)
    assert line.startswith(f"error: {reported}: "), line
    for text in expect:
        assert text in line, f"{text!r} not in {line!r}"


def test_several_files_report_every_error(capsys):
    picks = [CORPUS / "typo_model_key.toml", CORPUS / "negative_wage.toml"]
    assert main(["validate", "baseline", *map(str, picks)]) == 2
    out, err = capsys.readouterr()
    assert out == "ok: baseline\n"
    assert [line.split(": ")[1] for line in err.splitlines()] == [str(p) for p in picks]


@pytest.mark.parametrize("name", ["typo_country_key", "schedule_not_array", "extends_cycle_a"])
def test_real_process_exit_status_and_single_line(name):
    path = CORPUS / f"{name}.toml"
    expect, file = expectations(path)
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path.parent / file}: ")
    assert all(text in lines[0] for text in expect)
