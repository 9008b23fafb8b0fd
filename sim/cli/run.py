"""`factoryshift run`: one scenario, one seed; writes results and plots, prints a share table."""

from __future__ import annotations

from pathlib import Path

from sim import inputs
from sim.api import check_run_options, run_scenario, write_results
from sim.cli.scenarios import print_warnings
from sim.errors import UserError, unknown_country
from sim.output import FORCE_HELP, check_target
from sim.scenarios.scenario import load_scenario


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run one scenario and write its results and plots",
                       description="Run one scenario. SCENARIO is a bundled name or a path to a .toml file.")
    p.add_argument("scenario", nargs="?", default="baseline", metavar="SCENARIO")
    p.add_argument("--out", type=Path, help="output folder (default results/<scenario>/)")
    p.add_argument("--seed", type=inputs.seed, help="random seed (default: the scenario's run.seed)")
    p.add_argument("--firms", type=int, help="number of firms (default: the scenario's run.firms)")
    p.add_argument("--until", type=int, metavar="YEAR", help="stop after this year")
    p.add_argument("--no-plot", action="store_true", help="skip the figures (PNG + SVG)")
    p.add_argument("--countries", help="comma-separated country codes to draw (default: all)")
    p.add_argument("--replicates", type=int, default=1, metavar="N",
                   help="with N > 1 the figures show the mean and 5-95%% band of N replicates (seeds spawned "
                        "from --seed, as in compare); countries.csv stays the single run (default 1)")
    p.add_argument("--scale", choices=("linear", "log"), default="linear",
                   help="y axis of the figures: log keeps small countries readable (default linear)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument("--record-firms", action="store_true", help="also write firms.parquet (every firm, every year)")
    p.set_defaults(func=run)


def plot_options(args, scenario):
    """The figures' options (a `sim.plots.RunPlots`, None with --no-plot: Matplotlib is not imported then);
    `UserError` for a bad country or count."""
    countries = None
    if args.countries is not None:
        countries = [c.strip().upper() for c in args.countries.split(",") if c.strip()]
        unknown = [c for c in countries if c not in scenario.codes]
        if not countries or unknown:
            raise UserError(f"run: --countries: {unknown_country((unknown or [''])[0], scenario.codes)}")
    if args.replicates < 1:
        raise UserError(f"run: --replicates: must be an integer ≥ 1, got {args.replicates}")
    if args.no_plot:
        return None
    from sim.plots import RunPlots

    return RunPlots(countries=countries, scale=args.scale)


def replicate_runs(scenario, args):
    """The rows of `args.replicates` replicates for the figures' bands (`sim.experiments.compare`)."""
    from sim.experiments.compare import compare

    seed = scenario.run["seed"] if args.seed is None else args.seed
    reps = compare([scenario], replicates=args.replicates, firms=args.firms, base_seed=seed)
    return reps.runs if args.until is None else reps.runs[reps.runs["year"] <= args.until]


def run(args) -> int:
    scenario = load_scenario(args.scenario)
    print_warnings(scenario.warnings)
    check_run_options(scenario, seed=args.seed, firms=args.firms, until=args.until, cli=True)
    options = plot_options(args, scenario)
    out = check_target(args.out or Path("results") / scenario.name, "run", args.force)  # before the work
    result = run_scenario(scenario, seed=args.seed, firms=args.firms, until=args.until,
                          record_firms=args.record_firms)
    if args.replicates > 1 and not args.no_plot:
        options.replicates = replicate_runs(scenario, args)
    write_results(result, out, plot=False if options is None else options, force=args.force)
    table = result.summary()
    first, last = table.columns[1], table.columns[2]
    print(f"{scenario.title}  (seed {result.manifest['seed']}, {result.manifest['firms']:,} firms, "
          f"{result.manifest['wall_seconds']:.2f} s)")
    print(f"{'country':<24}{first:>12}{last:>12}{'change (pp)':>13}")
    for code, row in table.sort_values(last, ascending=False).iterrows():
        print(f"{row['name'] + ' (' + code + ')':<24}{100 * row[first]:>11.2f}%{100 * row[last]:>11.2f}%"
              f"{row['change_pp']:>+13.2f}")
    print(f"{'sum':<24}{100 * table[first].sum():>11.2f}%{100 * table[last].sum():>11.2f}%")
    print(f"results written to {out}/")
    return 0
