"""The dashboard: its controls, its layout and drawings, and the page used in a real browser.

The browser test starts ``gbsim-dashboard`` on a free port of 127.0.0.1, opens the page in
Debian's Chromium driven by Playwright, presses Step and Play as a student would, checks that the
day counter and the pictures change, saves a screenshot in the test's temporary folder, then
picks another subsidy schedule and presses Reset. It records every request the browser makes:
all must go to 127.0.0.1 and succeed. Where CI requires the browser (``CI=true``: .ci/run
installs it) a missing Chromium fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import inspect
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from sim.api import compose
from sim.dashboard import views
from sim.dashboard.market import (
    BASE_OVERRIDES,
    OWN_COVERAGE,
    DashboardMarket,
    dashboard_overrides,
    default_controls,
    neighbourhood_layout,
)

CHROMIUM = os.environ.get("GBSIM_CHROMIUM", "/usr/bin/chromium")  # Debian's package
# Chromium flags for a test machine (/work/shared/TECH.md): no sandbox as root, no GPU, and none
# of the browser's own traffic (updates, sync, safe browsing) so that every request is the page's.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# ---------------------------------------------------------------------------------------------
# controls -> config


def test_overrides_of_the_controls():
    got = dashboard_overrides("flat", "withdrawal", "0.5", 0.002, 0.05, 800, 7)
    assert got == [*BASE_OVERRIDES, "incentive=flat", "subsidy=withdrawal",
                   "coldchain.coverage_override=0.5", "wom.p_external=0.002",
                   "wom.q_imitation=0.05", "market.consumers=800", "seed=7"]
    cfg = compose(got)
    assert (cfg.subsidy.schedule, cfg.coldchain.coverage_override) == ("withdrawal", 0.5)
    assert (cfg.wom.p_external, cfg.wom.q_imitation) == (0.002, 0.05)
    assert (cfg.market.consumers, cfg.seed) == (800, 7)
    # The subsidising platforms come with the group option, not just the schedule's name.
    assert list(cfg.subsidy.platforms) == list(compose(["subsidy=withdrawal"]).subsidy.platforms)


def test_default_controls_are_the_default_scenario():
    d = default_controls()
    cfg = compose([])
    assert d["incentive_scheme"] == cfg.incentive.scheme
    assert d["subsidy_schedule"] == cfg.subsidy.schedule
    assert (d["p_external"], d["q_imitation"]) == (cfg.wom.p_external, cfg.wom.q_imitation)
    assert d["coldchain_coverage"] == OWN_COVERAGE and cfg.coldchain.coverage_override is None


def test_a_name_known_only_to_the_registry_is_set_by_name(monkeypatch):
    import sim.dashboard.market as market
    monkeypatch.setitem(market.SCHEMES, "tiered_test_only", object)
    got = dashboard_overrides(incentive_scheme="tiered_test_only")
    assert "incentive.scheme=tiered_test_only" in got


@pytest.mark.parametrize("kwargs, word", [
    ({"incentive_scheme": "bonus_for_nothing"}, "incentive scheme"),
    ({"subsidy_schedule": "forever"}, "subsidy schedule"),
    ({"consumers": 50_000}, "consumers=50000"),
])
def test_bad_controls_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        dashboard_overrides(**kwargs)


def test_the_controls_match_the_model_signature():
    """SolaraViz rebuilds the model on Reset with the controls as keyword arguments."""
    pytest.importorskip("solara", reason="the viz extra is not installed")
    from mesa.visualization.solara_viz import _check_model_params

    from sim.dashboard.app import model_params

    params = model_params()
    assert set(params) == set(inspect.signature(DashboardMarket.__init__).parameters) - {"self"}
    _check_model_params(DashboardMarket.__init__, params)  # raises on a mismatch


# ---------------------------------------------------------------------------------------------
# layout and drawings


@pytest.fixture(scope="module")
def market():
    m = DashboardMarket(consumers=600, seed=3)
    for _ in range(40):
        m.step()
    return m


def test_layout_is_fixed_rings_that_do_not_overlap(market):
    net, scene = market.network, market.scene
    again = neighbourhood_layout(net)
    np.testing.assert_array_equal(scene.xy, again.xy)  # no random numbers, no iteration
    nb = net.neighbourhood
    dist = np.linalg.norm(scene.xy - scene.centres[nb], axis=1)
    np.testing.assert_allclose(dist, scene.radii[nb])  # every household on its own ring
    k = len(scene.radii)
    for a in range(k):
        for b in range(a + 1, k):
            gap = np.linalg.norm(scene.centres[a] - scene.centres[b])
            assert gap > scene.radii[a] + scene.radii[b], f"rings {a} and {b} overlap"
    upper = net.adjacency.tocoo()
    across = int(((upper.row < upper.col) & (nb[upper.row] != nb[upper.col])).sum())
    assert len(scene.across) == across  # every tie between neighbourhoods is drawn


def test_network_view_colours_households_by_last_platform(market):
    fig = views.network_figure(market)
    ax = fig.axes[0]
    dots = ax.collections[3]  # rings, chords, ties across, then the households
    face = dots.get_facecolors()
    assert len(face) == market.consumers.n
    none = np.all(np.isclose(face[:, :3], np.array([207, 207, 207]) / 255), axis=1)
    np.testing.assert_array_equal(none, market.consumers.last_platform < 0)
    assert (market.consumers.last_platform >= 0).any(), "40 days in, some households ordered"
    leaders = ax.collections[4]
    assert len(leaders.get_offsets()) == int(market.leaders.view("active").sum())


def test_charts_show_every_day_so_far(market):
    fig = views.chart_figure(market)
    adoption, share = fig.axes[0], fig.axes[1]
    x, y = adoption.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(market.day))
    np.testing.assert_allclose(y, [r["adoption_rate"] for r in market.recorder.daily])
    assert [ln.get_label() for ln in share.lines] == market.platform_names


def test_model_stops_at_the_horizon():
    m = DashboardMarket(consumers=200)
    m.step()
    assert m.running
    m.day = m.cfg.days - 1  # jump to the last day rather than simulate a year
    m.step()
    assert not m.running, "play must stop at the config's horizon"


def test_server_refuses_a_busy_port_with_one_line():
    from sim.dashboard.serve import main, solara_command, solara_env

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {port} on 127.0.0.1 is in use"):
            main(["--port", str(port)])
    cmd = solara_command("127.0.0.1", port)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--no-check-version" in cmd
    assert solara_env({})["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


# ---------------------------------------------------------------------------------------------
# the page in a real browser


def _browser_or_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (make setup installs it)"
    try:
        import solara  # noqa: F401
    except ImportError:
        return "the viz extra (Solara) is not installed (make setup installs it)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gbsim-dashboard exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"gbsim-dashboard did not answer at {url} in {timeout_s} s:\n"
                f"{log.read_text()[-3000:]}")


def _local(url: str) -> bool:
    """A request that stays on this machine: http(s)/ws(s) to 127.0.0.1, or data:/blob: of it."""
    if url.startswith("data:"):
        return True
    if url.startswith("blob:"):
        url = url[len("blob:"):]
    return urlparse(url).hostname == "127.0.0.1"


@pytest.fixture
def dashboard_server(tmp_path):
    reason = _browser_or_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the browser test: {reason}")
        pytest.skip(reason)
    port = _free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.dashboard.serve", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        # Generous: importing Solara and Mesa takes ~10 s on a busy 2-core machine.
        _wait_for_server(url, proc, log, timeout_s=120)
        first_line = log.read_text().splitlines()[0]
        assert url in first_line, f"the command prints its address; it printed {first_line!r}"
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_dashboard_in_a_real_browser(dashboard_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, log = dashboard_server
    requests, failed, errors = [], [], []
    # Each wait allows for a step and two redraws on a 2-core machine shared with other jobs.
    wait_ms = 60_000
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1500, "height": 950})
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)
            page.goto(url)
            day = page.locator(".gbsim-day")
            network = page.locator(".gbsim-network img")
            charts = page.locator(".gbsim-charts img")
            expect(day).to_contain_text("Day 0 of", timeout=wait_ms)
            expect(charts).to_be_visible(timeout=wait_ms)
            expect(network).to_be_visible(timeout=wait_ms)
            net0, charts0 = network.screenshot(), charts.screenshot()

            step = page.get_by_role("button", name="Step")
            for d in range(1, 4):
                step.click()
                expect(day).to_contain_text(f"Day {d} of", timeout=wait_ms)
            expect(page.get_by_text("Time: 3.0")).to_be_visible(timeout=wait_ms)  # Mesa's own
            # The pictures are redrawn asynchronously after the counter: poll until they differ.
            deadline = time.monotonic() + wait_ms / 1000
            while time.monotonic() < deadline and (
                    network.screenshot() == net0 or charts.screenshot() == charts0):
                time.sleep(0.5)
            assert charts.screenshot() != charts0, "the charts did not change after 3 steps"
            assert network.screenshot() != net0, "the network did not change after 3 steps"

            page.get_by_role("button", name="▶").click()  # play
            expect(day).to_contain_text(re.compile(r"Day (?:[6-9]|\d{2,}) of"), timeout=2 * wait_ms)
            page.get_by_role("button", name="❚❚").click()  # pause
            expect(page.get_by_role("button", name="▶")).to_be_visible(timeout=wait_ms)
            played_to = int(day.inner_text().split()[1])
            assert played_to >= 6, f"play advanced the model to day {played_to} only"
            time.sleep(1.0)  # let the last redraw land before the picture is taken
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000

            # A control takes effect on Reset: a new model at day 0 with the new scenario.
            page.get_by_text("launch_war", exact=True).click()
            page.get_by_role("option", name="none").click()
            page.get_by_role("button", name="Reset").click()
            expect(page.locator(".gbsim-scenario")).to_contain_text("none subsidy",
                                                                    timeout=wait_ms)
            expect(day).to_contain_text("Day 0 of", timeout=wait_ms)
        finally:
            browser.close()

    assert requests, "the browser made no request"
    outside = sorted({u for u in requests if not _local(u)})
    assert not outside, f"requests left the machine: {outside[:10]}"
    assert not failed, f"requests failed: {failed[:10]}"
    assert not errors, f"requests answered with an error: {errors[:10]}"
    # A server-side fetch (a CDN proxy miss) would also show in its log as a failed URL.
    assert "Could not load URL" not in log.read_text()
