"""`factoryshift discover`: scenario discovery (PRIM, CART) on a sweep folder (see `sim.experiments.discover`)."""

from __future__ import annotations

from pathlib import Path

from sim.output import FORCE_HELP, check_target


def add_parser(sub) -> None:
    p = sub.add_parser(
        "discover", help="scenario discovery: where in the levers and uncertainties an outcome is below/above X",
        description="PRIM (peeling and pasting, coverage-density trade-off, quasi-p-values) and CART on the runs "
                    "of the sweep folder DIR. A run is a case of interest if --outcome is below or above a "
                    "threshold or in the top fraction of runs. Writes discovery.md, trajectory.csv, box_limits.csv, "
                    "cart_leaves.csv and plots to --out (default DIR/discovery/OUTCOME/, with --policy "
                    "DIR/discovery/OUTCOME-POLICY/). See docs/experiments.md.")
    p.add_argument("dir", type=Path, metavar="DIR")
    p.add_argument("--outcome", required=True, metavar="NAME", help="a scalar outcome of the experiment")
    p.add_argument("--below", type=float, metavar="X", help="cases of interest: outcome < X")
    p.add_argument("--above", type=float, metavar="X", help="cases of interest: outcome > X")
    p.add_argument("--top", type=float, metavar="Q", help="cases of interest: the top fraction Q of runs (0 < Q < 1)")
    p.add_argument("--box", type=int, metavar="K", help="choose box K of the PRIM trajectory (default: the highest "
                   "coverage among boxes with density >= --min-density)")
    p.add_argument("--policy", metavar="NAME", help="only the runs of one policy (policies x uncertainties "
                   "experiments): in which futures does it succeed or fail?")
    p.add_argument("--min-density", type=float, default=0.8, help="density of the default box (default 0.8)")
    p.add_argument("--peel-alpha", type=float, default=0.05, help="share of a box peeled at a time (default 0.05)")
    p.add_argument("--paste-alpha", type=float, default=0.05, help="share pasted at a time (default 0.05)")
    p.add_argument("--mass-min", type=float, default=0.05, help="smallest box, as a share of runs (default 0.05)")
    p.add_argument("--cart-depth", type=int, default=3, help="depth of the CART tree (default 3)")
    p.add_argument("--out", type=Path, metavar="OUT", help="output folder (default DIR/discovery/OUTCOME[-POLICY]/)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.experiments.discover import default_out, discover

    found = discover(args.dir, args.outcome, below=args.below, above=args.above, top=args.top, box=args.box,
                     policy=args.policy, peel_alpha=args.peel_alpha, paste_alpha=args.paste_alpha,
                     mass_min=args.mass_min, min_density=args.min_density, cart_depth=args.cart_depth)
    out = check_target(args.out or default_out(args.dir, args.outcome, args.policy), "discover", args.force)
    path = found.write(out, force=args.force)
    print(found.summary())
    print(f"discovery written to {path}")
    return 0
