"""User-facing errors: bad input ends in one line and exit status 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: Longest message printed: a value quoted from a file can be any size.
MAX_MESSAGE = 1000


class UserError(Exception):
    """Bad input from the user (a file, a key, a value). The CLI prints it and exits 2.

    ``messages`` holds every problem found, each a complete one-line message
    ``"<file>: <key.path>: <problem>"``.
    """

    def __init__(self, messages: str | Iterable[str]):
        self.messages = [one_line(m) for m in ([messages] if isinstance(messages, str) else messages)]
        super().__init__("\n".join(self.messages))


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped: a key such as "USA\\n" taken
    from a file must not split the one-line message that names it."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` when a close match exists, else ``""``."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def unknown(what: str, name: object, choices: Iterable, plural: str | None = None,
            aliases: dict[str, str] | None = None) -> str:
    """The one wording of an unknown name everywhere (scenario files, experiment files, options, the API):
    ``"unknown country 'GER' (did you mean 'DEU'?); countries: CHN, KOR, …"``. `aliases` maps names
    people use for a choice that spelling alone would not suggest."""
    choices = [str(c) for c in choices]
    alias = (aliases or {}).get(str(name).upper())
    hint = f" (did you mean '{alias}'?)" if alias in choices else did_you_mean(name, choices)
    return f"unknown {what} {str(name)!r}" + hint + f"; {plural or what + 's'}: {', '.join(choices)}"


#: Codes people use for the model's countries and regions that spelling alone would not suggest: IOC's
#: GER, Korea's ROK, and members of the aggregates (sim/data/regions.py: XEU = EU-27 without Germany,
#: XAS = ASEAN without Vietnam; the United Kingdom is in ROW).
COUNTRY_ALIASES = {"GER": "DEU", "FRG": "DEU", "ROK": "KOR", "PRC": "CHN", "EU": "XEU", "EUR": "XEU",
                   "FRA": "XEU", "ITA": "XEU", "ESP": "XEU", "POL": "XEU", "NLD": "XEU", "ASEAN": "XAS",
                   "THA": "XAS", "IDN": "XAS", "MYS": "XAS", "PHL": "XAS", "SGP": "XAS", "KHM": "XAS",
                   "UK": "ROW", "GBR": "ROW"}


def unknown_country(code: object, codes: Iterable) -> str:
    return unknown("country", code, codes, "countries", COUNTRY_ALIASES)


class UnknownNameError(UserError, KeyError):
    """An unknown name asked of the Python API (``model.country("GER")``): a one-line `UserError`
    that is also a `KeyError`, so ``except KeyError`` keeps working."""

    def __str__(self) -> str:   # KeyError would quote the message
        return "\n".join(self.messages)


class BadValueError(UserError, ValueError):
    """A value the Python API cannot use (``model.run(until=2020)`` on a model in 2030): a one-line
    `UserError` that is also a `ValueError`."""
