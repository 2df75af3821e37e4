"""The dashboard: its controls, its layout and drawings, and the page used in a real browser.

The browser test starts ``gbsim-dashboard`` on a free port of 127.0.0.1, opens the page in
Debian's Chromium driven by Playwright and works through it as a student would: the tab's title
and the controls' values, a click on a household and the inspector's selector, Step, Play until
days pass and the charts are redrawn, Pause, a screenshot in the test's temporary folder, then
another network preset and subsidy schedule on Reset. It records every request the browser makes:
all must go to 127.0.0.1 and succeed. Where CI requires the browser (``CI=true``: .ci/run
installs it) a missing Chromium fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from sim import strategy
from sim.api import compose
from sim.dashboard import views
from sim.dashboard.inspector import household_state, leader_state
from sim.dashboard.market import (
    BASE_OVERRIDES,
    NETWORK_CHOICES,
    OWN_COVERAGE,
    DashboardMarket,
    dashboard_overrides,
    default_controls,
    neighbourhood_layout,
)
from sim.dashboard.serve import serving
from sim.leaders.table import person_of

CHROMIUM = os.environ.get("GBSIM_CHROMIUM", "/usr/bin/chromium")  # Debian's package
# Chromium flags for a test machine (/work/shared/TECH.md): no sandbox as root, no GPU, and none
# of the browser's own traffic (updates, sync, safe browsing) so that every request is the page's.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# ---------------------------------------------------------------------------------------------
# controls -> config


def test_overrides_of_the_controls():
    got = dashboard_overrides("flat", "withdrawal", "0.5", 0.002, 0.05, 800, 7, "village_cluster")
    tiers = [f"coldchain.coverage_{t}=0.5" for t in ("central", "grid", "last_mile")]
    names = list(compose(BASE_OVERRIDES).platforms)
    assert got == [*BASE_OVERRIDES, "market=village_cluster", "incentive=flat",
                   "subsidy=withdrawal", *tiers,
                   *[f"platforms.{n}.strategy.{t}" for n in names for t in tiers],
                   "wom.p_external=0.002", "wom.q_imitation=0.05", "market.consumers=800",
                   "seed=7"]
    cfg = compose(got)
    assert cfg.subsidy.schedule == "withdrawal"
    # every platform's routes at the chosen coverage, its own coverage included
    for s in strategy.strategies(cfg).values():
        c = s.coldchain
        assert (c.coverage_central, c.coverage_grid, c.coverage_last_mile) == (0.5, 0.5, 0.5)
    assert (cfg.wom.p_external, cfg.wom.q_imitation) == (0.002, 0.05)
    assert (cfg.market.consumers, cfg.seed, cfg.market.network) == (800, 7, "village_cluster")


def test_default_controls_are_the_default_scenario():
    d = default_controls()
    cfg = compose([])
    assert d["incentive_scheme"] == cfg.incentive.scheme
    assert d["subsidy_schedule"] == cfg.subsidy.schedule
    assert (d["p_external"], d["q_imitation"]) == (cfg.wom.p_external, cfg.wom.q_imitation)
    assert d["coldchain_coverage"] == OWN_COVERAGE
    assert d["network"] == cfg.market.network
    # Reset builds the model from exactly these values, as keyword arguments.
    assert set(d) == set(inspect.signature(DashboardMarket.__init__).parameters) - {"self"}


def test_a_name_known_only_to_the_registry_is_set_by_name(monkeypatch):
    import sim.dashboard.market as market
    monkeypatch.setitem(market.SCHEMES, "tiered_test_only", object)
    got = dashboard_overrides(incentive_scheme="tiered_test_only")
    assert "incentive.scheme=tiered_test_only" in got


def test_the_default_levers_are_the_default_scenario_and_a_lever_moves_one_platform():
    d = default_controls()
    base = strategy.strategies(compose(dashboard_overrides()))
    same = strategy.strategies(compose(dashboard_overrides(levers=d["levers"])))
    assert same == base
    moved = strategy.strategies(compose(dashboard_overrides(
        levers={**d["levers"], "incumbent_commission": 0.15})))
    assert moved["incumbent"].incentive.commission_rate == 0.15
    assert moved["entrant"] == base["entrant"] and moved["discounter"] == base["discounter"]


def test_a_strategy_lever_becomes_an_override(monkeypatch):
    """The hook for per-platform strategy levers: a declared lever is written as its key."""
    import sim.dashboard.market as market
    monkeypatch.setitem(market.STRATEGY_LEVERS, "entrant_coupon",
                        ("Entrant's coupon", "subsidy.coupon_yuan", [0, 2, 4]))
    assert dashboard_overrides(levers={"entrant_coupon": 2})[-1] == "subsidy.coupon_yuan=2"
    with pytest.raises(ValueError, match="strategy lever"):
        dashboard_overrides(levers={"entrant_coupon": 3})


@pytest.mark.parametrize("kwargs, word", [
    ({"incentive_scheme": "bonus_for_nothing"}, "incentive scheme"),
    ({"subsidy_schedule": "forever"}, "subsidy schedule"),
    ({"consumers": 50_000}, "consumers=50000"),
    ({"network": "complete"}, "network 'complete'"),  # no ties to lay out
    ({"levers": {"price_cut": 0.1}}, "strategy lever"),  # none declared yet
])
def test_bad_controls_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        dashboard_overrides(**kwargs)


# ---------------------------------------------------------------------------------------------
# layout, drawings and the inspector


@pytest.fixture(scope="module")
def market():
    m = DashboardMarket(consumers=600, seed=3)
    for _ in range(40):
        m.step()
    return m


@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_layout_is_fixed_rings_that_do_not_overlap(network):
    net = DashboardMarket(consumers=600, seed=3, network=network).network
    scene = neighbourhood_layout(net)
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


def _points(option, name):
    return [s for s in option["series"] if s.get("name") == name]


def test_network_view_colours_households_by_last_platform(market):
    scene = views.scene_option(market.scene)
    option = views.network_option(market, scene, selected=("household", 7))
    last = market.consumers.last_platform
    assert (last >= 0).any(), "40 days in, some households ordered"
    seen = []
    for j, name in enumerate(market.platform_names):
        (series,) = _points(option, name)
        idx = sorted(p[2] for p in series["data"])
        assert idx == np.flatnonzero(last == j).tolist(), f"{name}'s households"
        seen += idx
    for name in ("adopted, no order yet", "not adopted"):
        seen += [p[2] for p in _points(option, name)[0]["data"]]
    assert sorted(seen) == list(range(market.consumers.n)), "every household drawn once"
    (leaders,) = _points(option, views.LEADER_SERIES)
    assert len(leaders["data"]) == int(market.leaders.view("active").sum())
    (ring,) = _points(option, views.SELECTED_SERIES)
    np.testing.assert_allclose(ring["data"][0], market.scene.xy[7], atol=0.05)
    # The page sends the options as JSON: no NaN (JSON has none), nothing numpy.
    json.dumps(option, allow_nan=False)
    json.dumps(scene, allow_nan=False)
    assert len(scene["series"][2]["data"]) == len(market.scene.across)


def test_charts_show_every_day_so_far(market):
    options = views.chart_options(market)
    assert list(options) == [key for key, _ in views.CHARTS]
    json.dumps(options, allow_nan=False)
    adoption = options["adoption"]["series"][0]["data"]
    np.testing.assert_allclose(adoption, [r["adoption_rate"] for r in market.recorder.daily],
                               atol=5e-5)  # sent with 4 decimals
    assert len(adoption) == market.day
    names = market.platform_names
    for key in ("share", "price", "leaders"):
        assert [s["name"] for s in options[key]["series"]] == names, key
    for key in ("margin", "churn"):  # two lines a platform: solid and dashed
        assert [s["name"] for s in options[key]["series"]] == [n for n in names for _ in "ab"]
    # A margin is a fraction of revenue: its axis is fixed to [-1, 1] so that the -30 of a
    # platform's first days without revenue does not flatten the rest.
    assert (options["margin"]["yAxis"]["min"], options["margin"]["yAxis"]["max"]) == (-1, 1)
    tables = market.recorder.tables()
    leaders = tables["platforms"].pivot(index="day", columns="platform", values="active_leaders")
    for s in options["leaders"]["series"]:
        assert s["data"] == leaders[s["name"]].tolist()
    quits = tables["leader_stats"].pivot(index="day", columns="platform", values="quits")
    for s in options["churn"]["series"][1::2]:
        expect = quits[s["name"]].rolling(views.CHURN_DAYS, min_periods=1).sum()
        np.testing.assert_allclose(s["data"], expect)


def test_inspector_reads_the_agents_state(market):
    c = market.consumers
    i = int(np.flatnonzero(c.last_platform >= 0)[0])
    state = household_state(market, i)
    assert state["household"].startswith(f"{i} (")
    assert state["orders to date"] == f"{int(c.orders[i]):,}"
    assert market.platform_names[int(c.last_platform[i])] in state["last order"]
    assert household_state(market, c.n) is None
    t = market.leaders
    row = int(np.flatnonzero(t.view("active") & (person_of(t) == np.arange(t.n)))[0])
    lead = leader_state(market, row)
    assert lead["group leader"].startswith(f"{row} (household {int(t.home[row])}")
    assert "quit probability at next review" in lead
    assert leader_state(market, t.n + 5) is None


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
    log = tmp_path / "server.log"
    # Generous: importing Solara and Mesa takes ~10 s on a busy 2-core machine.
    with serving(log, timeout_s=120) as (url, _proc):
        first_line = log.read_text().splitlines()[0]
        assert url in first_line, f"the command prints its address; it printed {first_line!r}"
        yield url, log


def _day(page) -> int:
    return int(re.search(r"Day (\d+) of", page.locator(".gbsim-day").inner_text()).group(1))


def _household_pixel(box, scene: dict, xy) -> tuple[float, float]:
    """Where household ``xy`` is drawn in the network view's box (its grid and axes ranges)."""
    g, (w, h) = views.NETWORK_GRID, views.NETWORK_PX
    x0, x1 = scene["xAxis"]["min"], scene["xAxis"]["max"]
    y0, y1 = scene["yAxis"]["min"], scene["yAxis"]["max"]
    pw, ph = w - g["left"] - g["right"], h - g["top"] - g["bottom"]
    return (box["x"] + g["left"] + (xy[0] - x0) / (x1 - x0) * pw,
            box["y"] + g["top"] + (y1 - xy[1]) / (y1 - y0) * ph)


@pytest.mark.browser
def test_dashboard_in_a_real_browser(dashboard_server, tmp_path):
    """A student's session: the titled page, controls showing their values, Step, a click on a
    household, Play until days pass, the charts redrawn, then another network on Reset."""
    from playwright.sync_api import expect, sync_playwright

    from sim.dashboard.app import TITLE

    url, log = dashboard_server
    requests, failed, errors = [], [], []
    # Each wait allows for a step and a redraw on a 2-core machine shared with other jobs.
    wait_ms = 60_000
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1500, "height": 1000})
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)
            page.goto(url)
            day = page.locator(".gbsim-day")
            expect(day).to_contain_text("Day 0 of", timeout=wait_ms)
            assert page.title() == TITLE, "the browser tab names the dashboard"
            assert page.get_by_text("Page 0", exact=True).count() == 0
            # Controls show their values.
            for text in ("Households: 1,000", "Seed: 0", "Speed: ", "Bass q (word of mouth): "):
                expect(page.get_by_text(text).first).to_be_visible(timeout=wait_ms)
            canvases = page.locator(".gbsim-charts canvas")
            expect(canvases.first).to_be_visible(timeout=wait_ms)
            assert canvases.count() == len(views.CHARTS)
            charts0 = page.locator(".gbsim-charts").screenshot()

            # A click on a household's dot shows its state (no leaders yet on day 0).
            local = DashboardMarket(**default_controls())  # the page's model: same controls
            scene = views.scene_option(local.scene)
            target = 500
            # ECharts draws once its script has loaded: click again until the click lands.
            inspector = page.locator(".gbsim-inspector")
            picked = re.compile(r"household: (4[89]\d|50\d|51\d) \(")
            deadline = time.monotonic() + wait_ms / 1000
            while not picked.search(inspector.inner_text()) and time.monotonic() < deadline:
                network = page.locator(".gbsim-network")
                network.scroll_into_view_if_needed()  # the charts' screenshot scrolled away
                box = network.bounding_box()  # in the viewport, as mouse.click
                page.mouse.click(*_household_pixel(box, scene, local.scene.xy[target]))
                time.sleep(1.0)
            expect(inspector).to_contain_text(picked, timeout=1000)
            # ... and the selector picks one by number.
            pick = page.locator(".gbsim-pick-household input")
            pick.fill("7")
            pick.press("Enter")
            expect(inspector).to_contain_text("household: 7 (", timeout=wait_ms)

            step = page.get_by_role("button", name="Step")
            for d in range(1, 4):
                step.click()
                expect(day).to_contain_text(f"Day {d} of", timeout=wait_ms)

            page.get_by_role("button", name="▶").click()  # play
            expect(day).to_contain_text(re.compile(r"Day (?:[2-9]\d|\d{3}) of"),
                                        timeout=2 * wait_ms)
            page.get_by_role("button", name="❚❚").click()  # pause
            expect(page.get_by_role("button", name="▶")).to_be_visible(timeout=wait_ms)
            # A step in flight when Pause was pressed may still land, and the page shows it at
            # its next redraw (<= 1/8 s): wait until the day holds for half a second. Were the
            # model still playing (~17 days a second) it would never hold, and the check after
            # the sleep below fails.
            played_to = _day(page)
            for _ in range(20):
                time.sleep(0.5)
                if (now := _day(page)) == played_to:
                    break
                played_to = now
            assert played_to >= 20, f"play advanced the model to day {played_to} only"
            expect(page.locator(".gbsim-charts-day")).to_contain_text(f"day {played_to}",
                                                                      timeout=wait_ms)
            time.sleep(1.0)  # the browser draws the last options
            assert page.locator(".gbsim-charts").screenshot() != charts0, "charts not redrawn"
            time.sleep(2.0)
            assert _day(page) == played_to, "pause stops the days"
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000

            # A control takes effect on Reset: a new model at day 0 with the new scenario.
            page.get_by_text("county", exact=True).click()
            page.get_by_role("option", name="small_world").click()
            page.get_by_text("launch_war", exact=True).click()
            page.get_by_role("option", name="none").click()
            page.get_by_role("button", name="Reset").click()
            scenario = page.locator(".gbsim-scenario")
            expect(scenario).to_contain_text("small_world network", timeout=wait_ms)
            expect(scenario).to_contain_text("none subsidy", timeout=wait_ms)
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
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
