"""`factoryshift` command line: a thin layer over the Python API.

Exit status: 0 success, 2 bad input (one line per problem, no traceback), 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from sim.errors import UserError

#: Modules that add sub-commands: each has ``add_parser(subparsers)``; the parser's
#: ``func(args) -> int`` does the work.
COMMAND_MODULES = ("sim.cli.run", "sim.cli.scenarios", "sim.cli.compare", "sim.cli.sweep", "sim.cli.history",
                   "sim.cli.discover", "sim.cli.dashboard")


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit 2 with usage; keep it to one line
        raise UserError(f"{self.prog}: {message}")


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
    except Exception as exc:  # an internal failure: say so, exit 1
        if debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
