"""The dashboard in a real browser (Debian's Chromium driven by Playwright) on the
backpressure scenario: a source at 1000 rows/s into a view whose blocking UDF
manages about 500. The page must draw the edge into the slow fragment and the actors
sending to it as backpressured, and name that fragment with the cause sys.bottlenecks
gives; what it draws is compared with sys.backpressure and sys.bottlenecks."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the dashboard extra (starlette) is not installed")

from sqlstream import dashboard
from sqlstream.database import Database
from tests.observability.scenario import (
    SLOW_SYNC,
    Feeder,
    open_scenario,
    query,
    setup_datagen,
)

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI") == "true"


def _need_browser() -> Any:
    """Playwright's sync API, or a skip with the reason (a failure in CI, whose
    .ci/run installs Chromium and the test extra)."""
    reasons = []
    try:
        from playwright import sync_api
    except ImportError:
        reasons.append("the Python package playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        reasons.append(f"{CHROMIUM} is missing (apt-get install chromium)")
    if reasons:
        if IN_CI:
            pytest.fail("browser test cannot run in CI: " + "; ".join(reasons))
        pytest.skip("; ".join(reasons))
    return sync_api


# What the page drew, read from its graph (Cytoscape's elements) and its text.
PAGE_STATE = """() => {
  const cy = window.sqlstreamDashboard.state.cy;
  const roots = cy.nodes('.fragment.root').map(n => n.data());
  const actors = cy.nodes('.actor').map(n => ({...n.data(), fill: n.style('background-color')}));
  const edges = cy.edges().map(e => ({...e.data(), line: e.style('line-color')}));
  const banner = document.getElementById('bottleneck');
  return {roots, actors, edges, bannerHidden: banner.hidden, banner: banner.innerText};
}"""


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(float(x)) for x in css[css.index("(") + 1:css.index(")")].split(",")[:3])


def _settled(seen: dict[str, Any], root_id: int) -> bool:
    """Every actor with an edge into the root shows at least 80% backpressure."""
    actors = {a["actor_id"]: a for a in seen["actors"]}
    senders = [actors[int(e["source"][1:])] for e in seen["edges"]
               if actors[int(e["target"][1:])]["fragment_id"] == root_id]
    return bool(senders) and all(a["backpressure_ratio"] >= 0.8 for a in senders)


class Scenario:
    """The scenario in one of its two forms: a table fed by a thread ("table"), or a
    datagen source asked for 1000 rows/s (the issue's own form, "datagen"). A short
    metrics window lets the ratios settle within seconds."""

    def __init__(self, form: str) -> None:
        self.feeder: Feeder | None = None
        if form == "table":
            self.db, self.s = open_scenario(SLOW_SYNC, window_s=2.0)
            self.feeder = Feeder(self.db)
            self.feeder.start()
        else:
            self.db = Database.open(None, metrics_window_s=2.0)
            self.s = self.db.session()
            setup_datagen(self.s.execute, SLOW_SYNC)

    def close(self) -> None:
        if self.feeder is not None:
            self.feeder.stop()
        # Dropped first, the view does not hold the closing checkpoint behind the
        # seconds of rows queued in front of its UDF.
        self.s.execute("DROP MATERIALIZED VIEW v")
        self.db.close()
        assert self.feeder is None or self.feeder.error is None


@pytest.mark.parametrize("form", ["table", "datagen"])
def test_page_draws_the_bottleneck_as_the_sys_tables_name_it(tmp_path, form: str) -> None:  # type: ignore[no-untyped-def]
    sync_api = _need_browser()
    scenario = Scenario(form)
    s = scenario.s
    board = dashboard.start(scenario.db, 0)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(board.url + "#v")
                page.wait_for_selector("#graph[data-ready=true]", timeout=15000)
                # Until the page and the sys tables agree on the root, and the actors
                # sending to it are blocked most of the window (it fills within seconds
                # of the feeder's start).
                deadline = time.monotonic() + 40
                while True:
                    seen = page.evaluate(PAGE_STATE)
                    named = query(s, "SELECT relation, fragment_id, operator, cause "
                                     "FROM sys.bottlenecks")
                    pushing = query(s, "SELECT actor_id, backpressure_ratio FROM sys.backpressure"
                                       f" WHERE downstream_fragment_id = {named[0][1]}"
                                    ) if named else []
                    if named and seen["roots"] and \
                            seen["roots"][0]["fragment_id"] == named[0][1] and \
                            seen["roots"][0]["cause"] == named[0][3] and \
                            _settled(seen, named[0][1]):
                        break
                    assert time.monotonic() < deadline, (seen["roots"], named)
                    time.sleep(0.5)
                page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            finally:
                browser.close()
    finally:
        board.stop()
        scenario.close()
    assert errors == []
    [(relation, root_id, operator, cause)] = named
    assert (relation, cause) == ("v", "external calls")
    [root] = seen["roots"]
    assert root["relation"] == "v"
    # Named with its cause on the graph and in the banner, with evidence and suggestion.
    assert not seen["bannerHidden"]
    assert cause in seen["banner"] and operator in seen["banner"]
    assert "evidence" in seen["banner"] and "ALTER MATERIALIZED VIEW v" in seen["banner"]
    # The root's actors are drawn busy (red); what sends to them is drawn backpressured:
    # its actors dark, the edges into the root red and thick, as sys.backpressure has it.
    actors = {a["actor_id"]: a for a in seen["actors"]}
    for a in actors.values():
        if a["fragment_id"] == root_id:
            assert a["state"] == "busy", a
            r, g, b = _rgb(a["fill"])
            assert r > g + 60 and r > b + 60, a
    into_root = [e for e in seen["edges"]
                 if actors[int(e["target"][1:])]["fragment_id"] == root_id]
    assert into_root and pushing
    assert {int(e["source"][1:]) for e in into_root} == {aid for aid, _r in pushing}
    for e in into_root:
        sender = actors[int(e["source"][1:])]
        assert sender["state"] == "backpressured" and max(_rgb(sender["fill"])) < 110, sender
        assert e["level"] == "high" and _rgb(e["line"]) == (217, 83, 79), e
        assert dict(pushing)[int(e["source"][1:])] >= 0.5
    assert (tmp_path / "dashboard.png").stat().st_size > 20_000
