"""`factoryshift dashboard` with bad input or without its extra: one line, exit status 2."""

from __future__ import annotations

import importlib.util
import socket

from sim.cli import dashboard as cli_dashboard
from sim.cli import main


def test_without_the_extra_it_says_how_to_install_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["dashboard"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: dashboard: needs the optional 'dashboard' extra (solara not installed): "
                   "pip install 'factoryshift[dashboard]' (in a source tree: make dashboard)"]


def test_a_port_in_use_or_out_of_range_is_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: dashboard: cannot listen on 127.0.0.1:{port} (")
    assert main(["dashboard", "--port", "70000"]) == 2
    assert capsys.readouterr().err.strip() == "error: dashboard: --port: must be between 0 and 65535, got 70000"
    assert main(["dashboard", "--host", "no-such-host.invalid"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: dashboard: --host: cannot resolve 'no-such-host.invalid'")


def test_port_zero_picks_a_free_port():
    port = cli_dashboard.check_options("127.0.0.1", 0)
    assert 0 < port < 65536
