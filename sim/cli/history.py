"""`factoryshift calibrate` and `factoryshift hindcast`: fit to history, then test out of sample."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from sim import inputs
from sim.errors import UserError
from sim.output import FORCE_HELP, check_file_target, check_target, results_file


def add_parser(sub) -> None:
    # The options are added when the command is used (`build=`): their defaults come from sim.history,
    # which imports pandas and SciPy, and `factoryshift --help` must not wait for them.
    sub.add_parser(
        "calibrate", help="fit behavioural parameters to observed patterns up to a cutoff", build=_calibrate_options,
        description="Fit the behavioural parameters (docs/validation.md) to the observed patterns from --from to "
                    "--until (shares of world MVA, European relocation rates, FDI destinations, wages and "
                    "employment, robots) by differential evolution over common-random-number replicates, and write "
                    "them as a scenario overlay. No observation after --until is read.")
    sub.add_parser(
        "hindcast", help="run from the historical start and score the years after the cutoff", build=_hindcast_options,
        description="Run replicates from --from to --to with the calibrated parameters and report the error (pp of "
                    "world MVA share, MAE and RMSE) after --until, next to persistence, linear-trend and GDP-scaled "
                    "forecasts and the model restarted from the observed shares at --until. Writes hindcast.csv, "
                    "extra.csv, errors.csv, hindcast.png and manifest.json.")


def _calibrate_options(p) -> None:
    from sim.history import fit
    from sim.history import start as history

    p.add_argument("--from", dest="start", type=int, default=history.FIRST_YEAR, help="first year (default 2005)")
    p.add_argument("--until", type=int, default=2015, help="last fitted year, the data cutoff (default 2015)")
    p.add_argument("--seeds", type=int, help="replicate runs per evaluation (default "
                   f"{fit.Settings.seeds}; quick {fit.Settings.quick().seeds})")
    p.add_argument("--firms", type=int,
                   help=f"firms per run (default {fit.Settings.firms}; quick {fit.Settings.quick().firms})")
    p.add_argument("--params", help="comma-separated parameters to fit (default "
                                    f"{','.join(fit.DEFAULT_PARAMS)})")
    p.add_argument("--maxiter", type=int, help="generations of the optimiser (default "
                   f"{fit.Settings.maxiter}; quick {fit.Settings.quick().maxiter})")
    p.add_argument("--popsize", type=int, help="population per parameter (default "
                   f"{fit.Settings.popsize}; quick {fit.Settings.quick().popsize})")
    p.add_argument("--refine", type=int, metavar="PASSES", help="rounds of coordinate steps after the optimiser "
                   f"(default {fit.Settings.refine}; quick {fit.Settings.quick().refine}; 0: none)")
    p.add_argument("--seed", type=inputs.seed, default=fit.Settings.seed,
                   help="seed of the optimiser and the replicates")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="local processes (default 2)")
    p.add_argument("--quick", action="store_true", help="a small fit that finishes in well under a minute")
    p.add_argument("--out", type=Path, help="overlay file to write (default results/calibrated_UNTIL.toml)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--force", action="store_true", help="replace --out even if it is not a calibration overlay")
    p.add_argument("--start-from", type=Path, metavar="FILE", help="a calibration overlay whose values join the "
                   "optimiser's first population (clipped to the bounds)")
    p.add_argument("--profile", type=int, metavar="POINTS", help="also profile J along every fitted parameter at "
                   "POINTS values (profile.csv, identification.csv, profile.png next to --out)")
    p.set_defaults(func=run_calibrate)


def _hindcast_options(h) -> None:
    from sim.history import fit
    from sim.history import start as history

    h.add_argument("--params", type=inputs.file_path,
                   help="calibration overlay (default: scenarios/calibrated_UNTIL.toml)")
    h.add_argument("--from", dest="start", type=int, default=history.FIRST_YEAR)
    h.add_argument("--until", type=int, default=2015, help="data cutoff of the fit (default 2015)")
    h.add_argument("--to", type=int, default=history.LAST_YEAR, help="last year (default 2024)")
    h.add_argument("--seeds", type=int, default=20, help="replicate runs (default 20)")
    h.add_argument("--firms", type=int, help="firms per run (default: the calibration's, else 2000)")
    h.add_argument("--seed", type=inputs.seed, default=fit.Settings.seed, help="base seed of the replicates")
    h.add_argument("--out", type=Path, help="output folder (default results/hindcast/)")
    h.add_argument("--no-restart", action="store_true",
                   help="skip the second model forecast started from the observed shares at --until")
    h.add_argument("--no-plot", action="store_true", help="skip hindcast.png")
    h.add_argument("--hold", metavar="LEVER", help="comma-separated levers the historical start schedules (e.g. "
                   "exchange_rate) held at their start-year values: what the data path of each is worth")
    h.add_argument("--force", action="store_true", help=FORCE_HELP)
    h.set_defaults(func=run_hindcast)


def is_overlay(path: Path) -> bool:
    """Whether `path` is a calibration overlay (what `calibrate --out` may replace without --force)."""
    import tomllib

    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8")).get("meta")
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("calibration"), dict)


def _check_positive(**options) -> None:
    for name, value in options.items():
        if value is not None and value < 1:
            raise UserError(f"--{name}: must be at least 1, got {value}")


def run_calibrate(args) -> int:
    from sim.history import fit
    from sim.history import start as history

    _check_positive(seeds=args.seeds, firms=args.firms, maxiter=args.maxiter, popsize=args.popsize,
                    workers=args.workers)
    if args.refine is not None and args.refine < 0:
        raise UserError(f"--refine: must be 0 or more, got {args.refine}")
    history.check_years(args.start, args.until, "--from", "--until")
    if args.until - args.start < 3:
        raise UserError(f"--until: {args.until} leaves fewer than 3 fitted years after --from {args.start}")
    chosen = {k: v for k, v in (("seeds", args.seeds), ("firms", args.firms), ("maxiter", args.maxiter),
                                ("popsize", args.popsize), ("refine", args.refine)) if v is not None}
    if args.params is not None:
        chosen["params"] = tuple(n.strip() for n in args.params.split(",") if n.strip())
    make = fit.Settings.quick if args.quick else fit.Settings
    if args.start_from is not None:
        from sim.history.hindcast import load_params

        earlier, _, _ = load_params(args.start_from, args.until)
        names = chosen.get("params", fit.DEFAULT_PARAMS)
        chosen["x0"] = fit.start_point(earlier, names)
    settings = make(start=args.start, until=args.until, seed=args.seed, workers=args.workers, **chosen)
    fit.check_params(settings.params)                                    # before any work
    out = args.out or Path("results") / f"calibrated_{args.until}.toml"
    check_file_target(out, option="--out", ours=is_overlay, what="a calibration overlay", force=args.force)
    result = fit.fit(settings, progress=not args.quiet)                # reads nothing after --until
    command = "factoryshift calibrate " + shlex.join(sys.argv[2:] if sys.argv[1:2] == ["calibrate"] else [])
    with results_file(out, option="--out", ours=is_overlay, what="a calibration overlay", force=args.force) as tmp:
        tmp.write_text(fit.overlay_text(result, command.strip()), encoding="utf-8")
    print(f"J = {result.objective:.4f} over {args.start + 1}-{args.until} ({result.evaluations} evaluations of "
          f"{settings.seeds} x {settings.firms:,} firms, {result.seconds:.0f} s); errors: "
          + ", ".join(f"{k} {v:.3g}" for k, v in result.errors.items()))
    for name, value in result.values.items():
        print(f"  {name:<28}{value:>10.4g}   bounds [{fit.FIT[name].lo:g}, {fit.FIT[name].hi:g}]")
    print(f"overlay written to {out}")
    if args.profile:
        table = fit.profile(result, points=args.profile)
        folder = out.with_suffix("")
        folder.mkdir(parents=True, exist_ok=True)
        table.to_csv(folder / "profile.csv", index=False, float_format="%.6g")
        ident = fit.identification(table)
        ident.to_csv(folder / "identification.csv", index=False, float_format="%.6g")
        from sim import plots

        plots.profiles(table, folder / "profile.png")
        print(ident.to_string(index=False))
        print(f"profiles written to {folder}/")
    return 0


def run_hindcast(args) -> int:
    from sim.history.hindcast import hindcast, load_params

    _check_positive(seeds=args.seeds, firms=args.firms)
    params, record, path = load_params(args.params, args.until)
    if isinstance(record.get("until"), int) and record["until"] != args.until:
        fitted = record["until"]
        why = ("so the scores include years the fit saw" if fitted > args.until
               else f"so {fitted + 1}-{args.until} are neither fitted nor scored")
        print(f"warning: {path} was fitted to data up to {fitted} but --until is {args.until}, {why}", file=sys.stderr)
    firms = args.firms or (record["firms"] if isinstance(record.get("firms"), int) and record["firms"] >= 10
                           else 2000)
    out = check_target(args.out or Path("results") / "hindcast", "hindcast", args.force)
    hold = tuple(n.strip() for n in (args.hold or "").split(",") if n.strip())
    result = hindcast(params, start=args.start, until=args.until, to=args.to, seeds=args.seeds, firms=firms,
                      seed=args.seed, restart=not args.no_restart, params_file=str(path), hold=hold)
    result.write(out, plot=not args.no_plot, force=args.force)
    print(result.format_errors())
    print(f"results written to {out}/")
    return 0
