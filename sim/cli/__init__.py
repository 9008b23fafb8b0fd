"""`factoryshift` command line: a thin layer over the Python API.

Exit status: 0 success, 2 bad input (one line per problem, no traceback), 1 internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import sys
import traceback
import warnings

from sim.errors import UserError, did_you_mean

#: Modules that add sub-commands: each has ``add_parser(subparsers)``; the parser's
#: ``func(args) -> int`` does the work.
COMMAND_MODULES = ("sim.cli.run", "sim.cli.scenarios", "sim.cli.compare", "sim.cli.sweep", "sim.cli.history",
                   "sim.cli.discover", "sim.cli.dashboard")


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors and a "did you mean" for mistyped options and choices.

    Abbreviations are off: `--fir` is a typo to point out, not an option to guess (and an
    abbreviation that works today breaks when an option with the same start is added).
    """

    def __init__(self, *args, build=None, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        # build(parser) adds the options when the command is used or its help shown: a command whose
        # defaults live in a heavy module (calibrate, hindcast) costs nothing to `factoryshift --help`
        self._build = build

    def _complete(self) -> None:
        if self._build is not None:
            build, self._build = self._build, None
            build(self)

    def format_help(self):
        self._complete()
        return super().format_help()

    def format_usage(self):
        self._complete()
        return super().format_usage()

    def error(self, message: str):  # argparse would exit 2 with usage; keep it to one line
        choice = re.search(r"invalid choice: '?([^'(]*?)'? \(choose from (.*)\)$", message)
        if choice:
            choices = re.findall(r"'([^']*)'", choice.group(2)) or choice.group(2).split(", ")
            message += did_you_mean(choice.group(1), choices)
        raise UserError(f"{self.prog}: {message}")

    def parse_known_args(self, args=None, namespace=None):
        # Each (sub)command reports its own unknown options, so the suggestions come from its options.
        self._complete()
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            options = [o for o in self._option_string_actions if o.startswith("--")]
            words = []
            for extra in extras:
                name = extra.split("=", 1)[0]
                hint = did_you_mean(name, options) if name.startswith("-") else ""
                words.append(f"{'unknown option' if name.startswith('-') else 'unexpected argument'} {extra}{hint}")
            raise UserError(f"{self.prog}: {'; '.join(words)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="factoryshift", description="Where the world's manufacturing goes as AI spreads.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.version:
            from sim import __version__

            print(f"factoryshift {__version__}")
            return 0
        if args.command is None:
            parser.print_help()
            return 2
        # numpy's floating-point warnings never reach the user: sim.model.health stops a run that
        # goes non-finite, with a message that says why
        with np_quiet():
            return int(args.func(args) or 0)
    except UserError as exc:
        for line in exc.messages:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `factoryshift ... | head`: the reader left, which is not an error
        sys.stdout = None
        return 0
    except OSError as exc:
        from sim.output import STORAGE_ERRORS

        if exc.errno not in STORAGE_ERRORS:
            return internal_error(exc, debug)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc} (files written before this are whole)", file=sys.stderr)
        return 2
    except Exception as exc:  # an internal failure: say so, exit 1
        return internal_error(exc, debug)


def internal_error(exc: BaseException, debug: bool) -> int:
    """A bug: say so in one line (the traceback with --debug), exit 1."""
    if debug:
        traceback.print_exc()
    print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
    return 1


@contextlib.contextmanager
def np_quiet():
    """No RuntimeWarning reaches the user. Through the warnings filter, not `numpy.errstate`, so that
    commands that need no NumPy (--help, list, validate, show) do not import it (0.1 s)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
