"""`factoryshift list | validate | show`: the scenario library from the command line."""

from __future__ import annotations

import sys

from sim.errors import UserError
from sim.scenarios.scenario import bundled_dir, bundled_names, load_scenario, read_toml


def add_parser(sub) -> None:
    p = sub.add_parser("list", help="bundled scenarios and experiments with their titles")
    p.set_defaults(func=list_bundled)
    p = sub.add_parser("validate", help="check scenario and experiment files; report every error")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=validate)
    p = sub.add_parser("show", help="the fully resolved parameters of a scenario, as TOML")
    p.add_argument("scenario", metavar="SCENARIO")
    p.set_defaults(func=show)


def _title(path, section: str) -> str:
    try:
        table = read_toml(path).get(section, {})
    except UserError:
        return "(unreadable)"
    return table.get("title", "") if isinstance(table, dict) else ""


def list_bundled(args) -> int:
    for kind, section in (("scenarios", "meta"), ("experiments", "experiment")):
        names = bundled_names(kind)
        width = max((len(n) for n in names), default=0) + 3
        print(f"{kind}:")
        for name in names:
            print(f"  {name:<{width}}{_title(bundled_dir(kind) / f'{name}.toml', section)}")
        if not names:
            print("  (none)")
    return 0


def validate(args) -> int:
    from sim.experiments.preview import describe, load_any

    errors: list[str] = []
    for ref in args.files:
        try:
            loaded = load_any(ref)
            print(f"ok: {ref}" + (f" ({describe(loaded)})" if hasattr(loaded, "n_runs") else ""))
            print_warnings(loaded.warnings)
        except UserError as exc:
            errors += exc.messages
    if errors:
        raise UserError(errors)
    return 0


def print_warnings(warnings) -> None:
    """Valid input that probably does not do what was meant: one line each on stderr; the exit status stays 0."""
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)


def show(args) -> int:
    print(load_scenario(args.scenario).to_toml(), end="")
    return 0
