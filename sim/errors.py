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


def unknown(what: str, name: object, choices: Iterable, plural: str | None = None) -> str:
    """The one wording of an unknown name everywhere (scenario files, experiment files, options, the API):
    ``"unknown country 'GER' (did you mean 'DEU'?); countries: CHN, KOR, …"``."""
    choices = [str(c) for c in choices]
    return (f"unknown {what} {str(name)!r}" + did_you_mean(name, choices)
            + f"; {plural or what + 's'}: {', '.join(choices)}")


def unknown_country(code: object, codes: Iterable) -> str:
    return unknown("country", code, codes, "countries")


class UnknownNameError(UserError, KeyError):
    """An unknown name asked of the Python API (``model.country("GER")``): a one-line `UserError`
    that is also a `KeyError`, so ``except KeyError`` keeps working."""

    def __str__(self) -> str:   # KeyError would quote the message
        return "\n".join(self.messages)


class BadValueError(UserError, ValueError):
    """A value the Python API cannot use (``model.run(until=2020)`` on a model in 2030): a one-line
    `UserError` that is also a `ValueError`."""
