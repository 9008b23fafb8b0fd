"""`factoryshift run`: one scenario, one seed; writes results and plots, prints a share table."""

from __future__ import annotations

from pathlib import Path

from sim.api import check_run_options, run_scenario, write_results
from sim.output import ensure_out_dir
from sim.scenarios.scenario import load_scenario


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run one scenario and write its results and plots",
                       description="Run one scenario. SCENARIO is a bundled name or a path to a .toml file.")
    p.add_argument("scenario", nargs="?", default="baseline", metavar="SCENARIO")
    p.add_argument("--out", type=Path, help="output folder (default results/<scenario>/)")
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's run.seed)")
    p.add_argument("--firms", type=int, help="number of firms (default: the scenario's run.firms)")
    p.add_argument("--until", type=int, metavar="YEAR", help="stop after this year")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG plots")
    p.add_argument("--record-firms", action="store_true", help="also write firms.parquet (every firm, every year)")
    p.set_defaults(func=run)


def run(args) -> int:
    scenario = load_scenario(args.scenario)
    check_run_options(scenario, seed=args.seed, firms=args.firms, until=args.until)
    out = ensure_out_dir(args.out or Path("results") / scenario.name)  # fails before the work, not after
    result = run_scenario(scenario, seed=args.seed, firms=args.firms, until=args.until,
                          record_firms=args.record_firms)
    write_results(result, out, plot=not args.no_plot)
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
