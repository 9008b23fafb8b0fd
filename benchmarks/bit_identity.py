"""Bit-for-bit check of a refactoring: sha256 of run and sweep outputs, before and after.

Runs, through the command line (so the check does not depend on module paths), the
baseline and two other bundled scenarios at 2,000 firms and a small sweep, and prints the
sha256 of `countries.csv`, `flows.csv` and the sweep's `outcomes.parquet`.

    .venv/bin/python benchmarks/bit_identity.py record FILE   # before the change
    .venv/bin/python benchmarks/bit_identity.py check FILE    # after: exit 1 on any difference

A refactoring that must not change the model (a move, a renaming) passes `check`; a model
change is expected to fail it, and then a new record is taken at the new commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SCENARIOS = ("baseline", "east_asia_ai_push", "west_reshoring_with_ai")
FIRMS = 2000
EXPERIMENT = """
[experiment]
title = "bit identity"
scenario = "baseline"
design = "grid"
replicates = 2
seed = 7
firms = 1000

[levers]
"countries.USA.ai_subsidy_rate" = { values = [0.0, 0.3] }
"countries.USA.tariffs.CHN" = { values = [0.19, 0.6] }

[outcomes]
usa_2040 = { metric = "production_share", country = "USA", year = 2040 }
chn_2050 = { metric = "production_share", country = "CHN", year = 2050 }
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "sim", *args], check=True, stdout=subprocess.DEVNULL)


def digests() -> dict[str, str]:
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in SCENARIOS:
            cli("run", name, "--firms", str(FIRMS), "--no-plot", "--out", str(tmp / name))
            for file in ("countries.csv", "flows.csv"):
                out[f"{name}/{file}"] = sha256(tmp / name / file)
        experiment = tmp / "bits.toml"
        experiment.write_text(EXPERIMENT)
        cli("sweep", str(experiment), "--out", str(tmp / "sweep"), "--executor", "serial", "--no-analyze",
            "--quiet")
        out["sweep/outcomes.parquet"] = sha256(tmp / "sweep" / "outcomes.parquet")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("record", "check", "print"))
    ap.add_argument("file", type=Path, nargs="?")
    args = ap.parse_args(argv)
    now = digests()
    for key, value in now.items():
        print(f"{value}  {key}")
    if args.action == "record":
        args.file.write_text(json.dumps(now, indent=1) + "\n")
    elif args.action == "check":
        before = json.loads(args.file.read_text())
        differ = [k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
        print("identical" if not differ else f"DIFFERENT: {', '.join(differ)}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
