"""`factoryshift dashboard`: serve the web dashboard (sim/app) with Solara.

Solara is an optional extra; without it the command ends in one line saying how to get it.
"""

from __future__ import annotations

import importlib.util
import os
import socket

from sim.errors import UserError

INSTALL_HINT = "pip install 'factoryshift[dashboard]' (in a source tree: make dashboard)"
APP = "sim.app.page"


def add_parser(sub) -> None:
    p = sub.add_parser("dashboard", help="serve the interactive dashboard in the browser",
                       description="Serve the dashboard: pick a scenario, set levers, run replicates, compare, "
                                   "export the scenario TOML. Needs the 'dashboard' extra.")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.set_defaults(func=run)


def check_options(host: str, port: int) -> int:
    """The port to serve on; `UserError` if the extra is missing or the address cannot be used."""
    missing = [name for name in ("solara", "matplotlib") if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"dashboard: needs the optional 'dashboard' extra ({', '.join(missing)} not installed): "
                        f"{INSTALL_HINT}")
    if not 0 <= port <= 65535:
        raise UserError(f"dashboard: --port: must be between 0 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"dashboard: --host: cannot resolve {host!r} ({exc.strerror})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(f"dashboard: cannot listen on {host}:{port} ({exc.strerror})") from None
        return probe.getsockname()[1]


def quiet_environment() -> None:
    """No telemetry and no version check: the dashboard makes no connection beyond its own port."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_CHECK_VERSION", "False")


def run(args) -> int:
    port = check_options(args.host, args.port)
    quiet_environment()
    from solara.__main__ import run as solara_run

    print(f"FactoryShift dashboard at http://{args.host}:{port}/  (Ctrl+C stops it)", flush=True)
    solara_run.main(args=[APP, "--host", args.host, "--port", str(port), "--production", "--no-open",
                          "--no-check-version", "--log-level", "warning"], standalone_mode=False)
    return 0
