"""`factoryshift compare`: scenarios over replicates with common random numbers (see `sim.experiments.compare`)."""

from __future__ import annotations

import sys
from pathlib import Path

from sim import inputs
from sim.cli.scenarios import print_warnings
from sim.errors import UserError
from sim.experiments.compare import DEFAULT_COUNTRIES, check_options, compare
from sim.output import FORCE_HELP, check_target
from sim.scenarios.scenario import load_scenario


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare scenarios over replicates with common random numbers",
        description="Run each SCENARIO (bundled name or .toml path; the first is the reference) with the same "
                    "replicate seeds, print production shares in --year with 5-95%% ranges and differences from "
                    "the first scenario, and write compare.csv, replicates.csv, flows.csv, manifest.json and the "
                    "figures compare and relocations (PNG + SVG).")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.add_argument("--replicates", type=int, default=10, help="replicates per scenario (default 10)")
    p.add_argument("--year", type=int, help="year of the table (default: the scenarios' end year)")
    p.add_argument("--out", type=Path, help="output folder (default results/compare/<names>/)")
    p.add_argument("--workers", type=int, help="local processes (default: the number of CPUs; 1 = serial)")
    p.add_argument("--countries", help="comma-separated country codes for the table and plot "
                                       f"(default {','.join(DEFAULT_COUNTRIES)})")
    p.add_argument("--firms", type=int, help="firms per run (default: each scenario's run.firms)")
    p.add_argument("--seed", type=inputs.seed,
                   help="base seed of the replicate seeds (default: the first scenario's run.seed)")
    p.add_argument("--no-plot", action="store_true", help="skip the figures (compare and relocations, PNG + SVG)")
    p.add_argument("--shared-y", action="store_true",
                   help="one y scale for every country's panels (default: each country its own)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument("--progress", action="store_true",
                   help="show progress on stderr even when it is not a terminal (on a terminal: always, as a bar)")
    p.set_defaults(func=run_cli)


def run_cli(args) -> int:
    countries = None
    if args.countries is not None:
        countries = [c.strip().upper() for c in args.countries.split(",") if c.strip()]
        if not countries:
            raise UserError("compare: --countries: give at least one country code")
    errors, loaded = [], []
    for ref in args.scenarios:
        try:
            loaded.append(load_scenario(ref))
        except UserError as exc:
            errors += exc.messages
    if errors:
        raise UserError(errors)
    for scenario in loaded:
        print_warnings(scenario.warnings)
    if args.out is not None:  # a bad folder fails now, not after the runs (options first: nothing written)
        check_options(loaded, args.replicates, args.year, args.firms, args.workers, countries, args.seed)
        check_target(args.out, "compare", args.force)
    result = compare(loaded, replicates=args.replicates, year=args.year, firms=args.firms, workers=args.workers,
                     countries=countries, base_seed=args.seed, progress=args.progress or sys.stderr.isatty())
    out = args.out or Path("results") / "compare" / "-vs-".join(result.scenarios)
    result.write(out, plot=not args.no_plot, shared_y=args.shared_y, force=args.force)
    print(result.format_table())
    if not result.costs.empty:
        from sim.experiments.magnitudes import format_scenario_costs

        print(format_scenario_costs(result.costs, result.year))
    print(f"results written to {out}/")
    return 0
