"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real
uvicorn server on 127.0.0.1: sign in -> map -> hub -> plan -> gaps -> depots -> ledger.

Screenshots go to ``artifacts/``. Uses the embedded default scenario, as a new user would.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coalition.api import create_app
from coalition.auth import service
from coalition.auth.schemas import UserCreate
from coalition.settings import Settings
from coalition.store.db import transaction
from dashboard.browser_env import require_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    import uvicorn

    require_chromium()
    data = tmp_path_factory.mktemp("serve")
    settings = Settings(database_url=f"sqlite:///{data / 'coalition.db'}", data_dir=data)
    app = create_app(settings)
    assert app.state.coalition.startup_problem is None, app.state.coalition.startup_problem
    tokens = {}
    with transaction(app.state.coalition.session_factory) as db:
        for name, nation, role in (("gbr-planner", "GBR", "planner"),
                                   ("fra-planner", "FRA", "planner")):
            user = service.create_user(db, data=UserCreate(name=name, nation=nation, roles=[role]))
            tokens[name] = service.issue_token(db, user=user)[1]
    from api.harness import init_ledger

    init_ledger(app, data)  # the illustrative custody history, as `coalition ledger init` does
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield {"base": f"http://127.0.0.1:{port}", "tokens": tokens, "app": app}
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: dict, chromium: object) -> object:
    """The session's Chromium (tests/dashboard/conftest.py); each test opens its own context."""
    return chromium


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(browser, server: dict, user: str):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(server["base"] + "/")
    assert page.url.endswith("/login")
    page.fill("#token", server["tokens"][user])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/map$"))
    return ctx, page


def test_planner_journey(browser, server: dict) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(browser, server, "gbr-planner")
    blocked: list[str] = []
    page.on("request", lambda r: blocked.append(r.url)
            if not r.url.startswith(server["base"]) and not r.url.startswith("data:") else None)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # Map: every hub of the default scenario, the contact line, the buffer zone, corridors.
    assert "gbr-planner · GBR · planner" in page.inner_text("[data-testid=whoami]")
    hubs = page.locator("svg.map a.hub")
    assert hubs.count() == 15
    assert page.locator("svg.map polyline.contact").count() == 1
    assert page.locator("svg.map polyline.buffer").count() == 1
    assert page.locator("svg.map line.corridor").count() > 10
    assert page.locator("svg.map g.country.UKR path").count() >= 1
    cookie = next(c for c in ctx.cookies() if c["name"] == "coalition_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    shot(page, "01-map")

    # Click a hub -> hub detail.
    page.locator('svg.map a.hub[data-hub="UA-LVIV"]').click()
    page.wait_for_url(re.compile(r".*/hubs/UA-LVIV$"))
    assert page.inner_text("[data-testid=hub-title]").startswith("Lviv")
    shot(page, "02-hub")

    # Plan page: run the planner with an assumed ceasefire; progress, then the Gantt.
    assert page.locator("nav >> text=Audit").count() == 0  # planners do not read the audit log
    page.click("nav >> text=Plan")
    page.select_option("[data-testid=plan-form] select[name=option]", "small")
    page.fill("[data-testid=plan-form] input[name=ceasefire]", "2026-06-01")
    page.fill("[data-testid=plan-form] input[name=other]", "parliament.GBR=true")
    page.fill("[data-testid=plan-form] input[name=time_limit]", "10")
    page.click("[data-testid=plan-form] button[type=submit]")
    page.wait_for_selector("[data-testid=gantt]", timeout=60_000)
    # The plan also uses pledges not released to the UK: coalition totals are withheld
    # (derived-data policy, docs/access-control.md) and only British unit lines are drawn.
    assert "withheld" in page.inner_text("[data-testid=redacted]")
    assert page.locator("[data-testid=coverage]").count() == 0
    bars = page.locator("svg.gantt rect.bar")
    assert bars.count() > 0
    # Own units in full (the Commons vote assumed), nothing of other nations'.
    assert page.locator("svg.gantt rect.bar title", has_text=" GBR GBR-").count() == bars.count()
    html = page.content()
    assert "restricted (another nation)" not in html
    assert "FRA-" not in html
    shot(page, "03-plan")

    # Gaps: the same assumptions give the heatmap; change the US backstop -> replan offered.
    page.goto(server["base"] + "/gaps?option=small&ceasefire=2026-06-01&other=parliament.GBR%3Dtrue")
    assert page.locator("[data-testid=heatmap] td.cell").count() > 3
    assert page.locator("[data-testid=plan-heatmap] td.cell").count() > 3
    filled_before = page.inner_text("[data-testid=gap-totals]")
    shot(page, "04-gaps")
    page.select_option("[data-testid=assume-form] select[name=us_backstop]", "true")
    page.click("[data-testid=assume-form] button[type=submit]")
    page.wait_for_selector("[data-testid=replan-form]")
    page.click("[data-testid=replan-form] button[type=submit]")
    page.wait_for_selector("[data-testid=gantt]", timeout=60_000)
    assert "us_backstop=true" in page.content()
    # Back on the map, hubs carry the latest plan's fill as coloured rings.
    page.click("nav >> text=Map")
    assert page.locator("svg.map circle.fillring").count() >= 5
    shot(page, "01b-map-with-plan-fill")
    page.goto(server["base"] + "/gaps?option=small&ceasefire=2026-06-01&us_backstop=true"
              "&other=parliament.GBR%3Dtrue")
    assert page.locator("[data-testid=plan-heatmap]").count() == 1
    # Assuming the US backstop activates US-conditioned pledges of other nations, which are not
    # released to the UK: the British planner's own totals do not move (derived-data policy).
    assert page.inner_text("[data-testid=gap-totals]") == filled_before

    # Depots and ledger pages render for a planner.
    page.click("nav >> text=Depots")
    page.wait_for_url(re.compile(r".*/depots$"))
    depots = page.locator("[data-testid=depot]")
    assert depots.count() == 1  # the British-led Vinnytsia depot; the Polish one is not released
    assert "Vinnytsia" in depots.first.inner_text() or "VIN" in depots.first.inner_text()
    assert page.locator("[data-testid=depot] table.data tr").count() > 3
    shot(page, "05-depots")
    page.click("nav >> text=Ledger")
    page.wait_for_url(re.compile(r".*/ledger$"))
    health = page.inner_text("[data-testid=ledger-health]")
    # the sample history's last checkpoint covers every event (its count is not fixed: a
    # stocktake is one count event per title nation)
    events = re.search(r"Events: (\d+)", health)
    assert "verified" in health and events and int(events.group(1)) > 20
    assert f"size {events.group(1)}" in health
    rows = page.locator("[data-testid=ledger-events] tr")
    assert 2 <= rows.count() <= 16
    seqs = page.locator("[data-testid=ledger-events] td.num").all_inner_texts()
    assert events.group(1) in seqs and "13" not in seqs and "14" not in seqs  # German-only events hidden
    shot(page, "06-ledger")

    # A French pledge's detail is not there for a British planner.
    resp = page.goto(server["base"] + "/api/pledges?nation=FRA")
    assert resp is not None and resp.status == 200
    assert '"total":0' in page.content().replace(" ", "")

    assert blocked == [], f"requests left the app: {blocked}"
    assert errors == [], f"console errors (CSP?): {errors} {failed}"
    ctx.close()


def test_bad_token_and_sign_out(browser, server: dict) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(server["base"] + "/login")
    page.fill("#token", "coa_forged-token")
    page.click("button[type=submit]")
    assert "Sign-in failed" in page.inner_text("[role=alert]")
    ctx.close()
    ctx, page = sign_in(browser, server, "fra-planner")
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r".*/login$"))
    page.goto(server["base"] + "/plan")
    assert page.url.endswith("/login")
    ctx.close()


def test_openapi_docs_render_offline(browser, server: dict) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context()
    page = ctx.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(server["base"]) and not r.url.startswith("data:") else None)
    page.goto(server["base"] + "/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 40
    shot(page, "07-api-docs")
    assert outside == []
    ctx.close()
