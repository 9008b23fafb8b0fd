"""End to end in a real headless Chromium: serve, load, change a lever, run, export, re-run with the CLI.

Needs Debian's Chromium (``apt-get install chromium``; .ci/run installs it) and the
`playwright` package (test extra), which drives that browser: Playwright's own browser
download is never used. Without Chromium the test is skipped, except under CI, where a
missing browser is a failure. Prints the page load time and the time from pressing Run
to the updated plot. With FACTORYSHIFT_SCREENSHOT=PATH it also saves the screenshot
there (docs/img/dashboard.png in the README is made so).
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = os.environ.get("FACTORYSHIFT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytest.importorskip("solara", reason="the dashboard extra is not installed (pip install '.[dashboard]')")
if not Path(CHROMIUM).is_file():
    if os.environ.get("CI"):
        pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run should have installed it", pytrace=False)
    pytest.skip(f"browser test skipped: Chromium not found at {CHROMIUM} (apt-get install chromium, "
                "or set FACTORYSHIFT_CHROMIUM)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")


@pytest.fixture(scope="module")
def server():
    """`factoryshift dashboard --port 0` in a child process; yields its URL, stops it after."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "sim", "dashboard", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=60)
        assert "dashboard at http://" in first, first
        url = first.split(" at ", 1)[1].split()[0]
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url, lines
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, args=LAUNCH_ARGS,
            headless=True, viewport={"width": 1500, "height": 1000}, accept_downloads=True)
        try:
            yield context.new_page()
        finally:
            context.close()


def plot_src(page) -> str:
    return page.locator("img").first.get_attribute("src") or ""


def wait_for_new_plot(page, old: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_function("old => { const i = document.querySelector('img'); return i && i.src && i.src !== old }",
                           arg=old, timeout=timeout_ms)


def test_change_a_lever_run_and_reproduce_the_export(server, browser_page, tmp_path, capsys):
    url, server_output = server
    page = browser_page
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))

    t0 = time.perf_counter()
    page.goto(url)
    page.locator(".fs-run").wait_for(timeout=60_000)
    load = time.perf_counter() - t0

    page.locator(".fs-replicates input").fill("1")
    page.locator(".fs-replicates input").press("Enter")
    t0 = time.perf_counter()
    page.locator(".fs-run").click()
    page.locator("img").first.wait_for(timeout=60_000)
    first_run = time.perf_counter() - t0
    before = plot_src(page)
    assert before

    # a bad value: the loader's message next to the field, Run disabled, no traceback anywhere
    page.locator(".fs-lever-ai_subsidy_rate input").fill("2")
    page.locator(".fs-lever-ai_subsidy_rate input").press("Enter")
    message = page.locator(".fs-lever-ai_subsidy_rate .v-messages__message")
    sync_api.expect(message).to_contain_text("value: out of range: 2 not in [0, 1]", timeout=10_000)
    assert message.inner_text().count("\n") == 0
    sync_api.expect(page.locator(".fs-run")).to_be_disabled()

    page.locator(".fs-lever-ai_subsidy_rate input").fill("0.6")
    page.locator(".fs-lever-ai_subsidy_rate input").press("Enter")
    page.locator(".fs-from-ai_subsidy_rate input").fill("2026")
    page.locator(".fs-from-ai_subsidy_rate input").press("Enter")
    page.get_by_text("USA ai_subsidy_rate = 0.6 from 2026").wait_for(timeout=10_000)
    page.locator(".fs-lever-reshoring_incentive input").fill("0.8")
    page.locator(".fs-lever-reshoring_incentive input").press("Enter")
    page.get_by_text("USA reshoring_incentive = 0.8 from 2024").wait_for(timeout=10_000)
    sync_api.expect(page.locator(".fs-run")).to_be_enabled()

    t0 = time.perf_counter()
    page.locator(".fs-run").click()
    wait_for_new_plot(page, before)
    update = time.perf_counter() - t0
    assert plot_src(page) != before  # the plot changed
    assert "Traceback" not in page.locator("body").inner_text()

    shares = plot_src(page)
    page.get_by_role("tab", name="Difference").click()
    wait_for_new_plot(page, shares)
    page.locator(".fs-headline").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # the tab's slide-in animation
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot))
    if os.environ.get("FACTORYSHIFT_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["FACTORYSHIFT_SCREENSHOT"])

    page.get_by_role("tab", name="Export & data").click()
    with page.expect_download(timeout=30_000) as toml_download:
        page.locator(".fs-export button, .fs-export .v-btn").first.click()
    exported = tmp_path / "exported.toml"
    toml_download.value.save_as(exported)
    with page.expect_download(timeout=30_000) as csv_download:
        page.locator(".fs-countries-csv button, .fs-countries-csv .v-btn").first.click()
    runs_csv = tmp_path / "runs.csv"
    csv_download.value.save_as(runs_csv)

    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(exported), "--out", str(tmp_path / "cli"),
                           "--no-plot"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(tmp_path / "cli" / "countries.csv")
    runs = pd.read_csv(runs_csv)
    mine = runs[(runs["config"] == "current") & (runs["seed"] == 1)].drop(columns=["config", "seed"])
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), cli, check_exact=True)
    assert not failed, failed  # nothing the page asked for was missing (all assets are local)

    with capsys.disabled():
        print(f"\n[dashboard browser test] page load {load:.2f} s; first run (current + reference, 1 replicate, "
              f"5,000 firms) with plots {first_run:.2f} s; after a lever change, run + plot update {update:.2f} s; "
              f"screenshot {shot}")
