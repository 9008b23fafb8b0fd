"""The first gate of every input: files read as bounded UTF-8 TOML, option values checked as they are parsed.

Scenario files, experiment files, calibration overlays and command-line options all pass
through here before their own checks (`sim.scenarios.check`, `sim.experiments.experiment`),
so the limits are the same everywhere and every problem ends as a one-line `UserError`
naming the file or option: never a traceback, never an "internal error".
"""

from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from sim.errors import UserError

#: Largest input file read: the bundled ones are a few kB.
MAX_BYTES = 4 * 1024 * 1024
#: Deepest nesting of tables and arrays (scenarios need 4: countries.USA.tariffs.CHN).
MAX_DEPTH = 12
#: Most tables, arrays and values in one file.
MAX_ITEMS = 200_000
#: A year written as a key or value: four ASCII digits, nothing else ("02030", "２０３０", "2030\n" are not).
YEAR = re.compile(r"[0-9]{4}")
SEED_MAX = 2**63 - 1


def read_text(path: str | Path, what: str | None = None) -> str:
    """The UTF-8 text of file `path`; `what` (an option such as "--params") prefixes the messages."""
    path = Path(path)
    head = f"{what}: {path}" if what else str(path)
    if path.is_dir():
        raise UserError(f"{head}: is a folder, not a file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{head}: no such file") from None
    except OSError as exc:
        raise UserError(f"{head}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise UserError(f"{head}: larger than {MAX_BYTES // (1024 * 1024)} MiB; not an input file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{head}: not UTF-8 text (byte {exc.start})") from None


def parse_toml(text: str, source: str) -> dict:
    """TOML text as a tree, within `MAX_DEPTH` and `MAX_ITEMS`; a one-line `UserError` otherwise."""
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        raise UserError(f"{source}: nested too deeply (more than {MAX_DEPTH} levels of tables and arrays)") from None
    check_shape(tree, source)
    return tree


def load_toml(path: str | Path, what: str | None = None) -> dict:
    return parse_toml(read_text(path, what), str(path))


def check_shape(tree: dict, source: str) -> None:
    """Nesting depth and size of a parsed tree, walked without recursion."""
    stack, items = [(tree, 1, "")], 0
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise UserError(f"{source}: {where}: nested too deeply (more than {MAX_DEPTH} levels of tables "
                            f"and arrays)")
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in children:
            items += 1
            if items > MAX_ITEMS:
                raise UserError(f"{source}: more than {MAX_ITEMS:,} values; not an input file")
            if isinstance(value, (dict, list)):
                here = f"{where}[{key}]" if isinstance(node, list) else f"{where}.{key}" if where else str(key)
                stack.append((value, depth + 1, here))


def is_year(key: object) -> bool:
    """A plain year: four ASCII digits as a key, or an integer (not a boolean) as a value."""
    if isinstance(key, bool):
        return False
    if isinstance(key, int):
        return 1000 <= key <= 9999
    return isinstance(key, str) and YEAR.fullmatch(key) is not None


def duplicates(items: Iterable) -> list:
    """Values that occur more than once (1 and 1.0 are one value, true and 1 are not), in order of their
    second occurrence; values from a file can be anything, so unhashable ones compare by their text."""
    seen, twice = set(), []
    for item in items:
        try:
            key = (isinstance(item, bool), item, hash(item))
        except TypeError:
            key = ("text", repr(item), 0)
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return [key[1] for key in twice]


def single_line(text: str) -> bool:
    """No line break or other control character (a name, a title, a code)."""
    return all(ch.isprintable() for ch in text)


# ---------------------------------------------------------------------------------- option types
def integer(lo: int, hi: int | None = None):
    """An argparse `type` for an integer in [lo, hi]: out of range is a one-line error naming the option."""
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            if hi is None:
                raise argparse.ArgumentTypeError(f"must be ≥ {lo}, got {value}")
            raise argparse.ArgumentTypeError(f"must be ≥ {lo} and ≤ {hi:,}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


#: Seeds: numpy's SeedSequence takes any integer ≥ 0; the scenario files' run.seed allows 0 … 2⁶³ − 1.
seed = integer(0, SEED_MAX)


def file_path(text: str) -> Path:
    """An argparse `type` for an input file: a folder is refused while the options are parsed."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder, not a file")
    if "\0" in text:
        raise argparse.ArgumentTypeError("contains a NUL character")
    return path
