"""The custody journey in Debian's Chromium: a British depot officer requests a transfer, a
second British officer approves it (the first is never offered the approval), a Polish officer
enters a blind count and an HQ inspector reads its reconciliation. axe-core on every custody
page (light and dark) with no serious or critical violation, the forms reached by keyboard, and
no page wider than a 375 px screen. Screenshots: ``artifacts/journey-custody-*.png``."""

from __future__ import annotations

import re

import pytest

from dashboard.conftest import Live, shot, sign_in, watch
from dashboard.test_accessibility import axe_violations

pytestmark = pytest.mark.browser
SERIAL = "GBR-RADIO-J001"


def _second_officer(live: Live) -> str:
    """A second British depot officer (created through the API by the HQ admin)."""
    name = "gbr-depot-b"
    if name not in live.tokens:
        status, _h, _u = live.api("POST", "/api/users", "hq-admin",
                                  {"name": name, "nation": "GBR", "roles": ["depot-officer"]})
        assert status == 201, _u
        status, _h, token = live.api("POST", f"/api/users/{name}/tokens", "hq-admin", {})
        assert status == 201, token
        live.tokens[name] = token["token"]
    return name


def _radio_at_vinnytsia(live: Live) -> None:
    """A British serial held at DEP-VIN (manifest, dispatch, receipt through the API)."""
    status, _h, body = live.api("POST", "/api/custody-events", "gbr-depot", {"events": [
        {"type": "manifest", "payload": {"manifest": "M-GBR-J1", "origin": "GBR-HOME-DEPOT",
                                         "destination": "UA-VINNYTSIA/DEP-VIN", "receiver": "GBR",
                                         "serials": [{"serial": SERIAL, "item_type": "RADIO"}]}},
        {"type": "dispatch", "payload": {"manifest": "M-GBR-J1"}},
        {"type": "receipt", "payload": {"manifest": "M-GBR-J1",
                                        "location": "UA-VINNYTSIA/DEP-VIN/VIN-AG1",
                                        "serials": [SERIAL]}}]})
    assert status == 201, body


def _fits_375(page, name: str = "") -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 375, "height": 800})
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], (page.url, width)
    if name:
        shot(page, f"{name}-375")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_custody_journey_request_approve_count_reconcile(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    _radio_at_vinnytsia(live)
    second = _second_officer(live)
    found: dict[str, list[str]] = {}

    # 1. the requester: the form, then the request shown as waiting for someone else
    ctx, page = sign_in(chromium, live, "gbr-depot")
    seen = watch(page, live)
    page.click("nav >> text=Ledger")
    page.click("[data-testid=custody-tabs] >> text=Transfers")
    page.fill("[data-testid=transfer-form] textarea[name=serials]", SERIAL)
    page.fill("[data-testid=transfer-form] input[name=to]", "UA-VINNYTSIA/DEP-VIN/VIN-ECM1")
    page.fill("[data-testid=transfer-form] input[name=note]", "journey: to igloo 1")
    page.click("[data-testid=transfer-form] button[type=submit]")
    page.wait_for_selector("[data-testid=transfer-done]")
    tid = re.search(r"done=(\d+)", page.url).group(1)
    row = page.locator(f"[data-testid=transfer-{tid}]")
    assert row.locator("[data-testid=own-request]").count() == 1
    assert page.locator(f"[data-testid=approve-{tid}]").count() == 0
    found["/custody/transfers (requester)"] = axe_violations(page)
    shot(page, "journey-custody-request")
    _fits_375(page, "journey-custody-request")
    ctx.close()

    # 2. the approver, by keyboard: Tab to the approve button, Enter
    ctx, page = sign_in(chromium, live, second)
    page.goto(live.base + "/custody/transfers")
    button = page.locator(f"[data-testid=approve-{tid}]")
    for _ in range(80):
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    else:
        raise AssertionError("the approve button is not reached by keyboard")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=transfer-done]")
    assert "approved" in page.locator(f"[data-testid=transfer-{tid}]").inner_text()
    shot(page, "journey-custody-approved")
    found["/custody/transfers (approver)"] = axe_violations(page)
    ctx.close()
    _s, _h, moved = live.api("GET", f"/api/custody-events?ref=S:{SERIAL}", "gbr-depot")
    assert [e["type"] for e in moved["items"]][-1] == "transfer"
    assert moved["items"][-1]["person"] == second

    # 3. a blind count by Poland (it holds nothing at the Lviv depot)
    ctx, page = sign_in(chromium, live, "pol-depot")
    page.goto(live.base + "/custody/stocktakes")
    found["/custody/stocktakes"] = axe_violations(page)
    page.fill("[data-testid=count-form] input[name=location]", "UA-LVIV/LV-D1/SH-2")
    page.fill("[data-testid=count-form] textarea[name=lots]", "GBR-556-2026-A, 150000")
    page.click("[data-testid=count-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/custody/stocktakes/\d+$"))
    seq = page.url.rsplit("/", 1)[1]
    assert page.locator("[data-testid=recon-withheld]").count() == 1  # not Poland's items
    ctx.close()

    # 4. the HQ inspector reads the reconciliation by lot
    ctx, page = sign_in(chromium, live, "hq-inspector")
    page.goto(live.base + f"/custody/stocktakes/{seq}")
    lot_row = page.locator("[data-testid=recon-lots] tbody tr", has_text="GBR-556-2026-A")
    assert lot_row.count() == 1
    assert lot_row.get_attribute("data-finding") in ("short", "over", "ok")
    assert "150,000" in lot_row.inner_text()
    shot(page, "journey-custody-reconciliation")
    found[f"/custody/stocktakes/{seq}"] = axe_violations(page)
    _fits_375(page, "journey-custody-reconciliation")
    ctx.close()
    bad = {p: v for p, v in found.items() if v}
    assert not bad, bad
    assert seen["outside"] == [] and seen["errors"] == [], seen


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_and_small_screens_on_every_custody_page(chromium, live: Live, dark: bool) -> None:  # type: ignore[no-untyped-def]
    found: dict[str, list[str]] = {}
    for user in ("gbr-depot", "hq-inspector"):
        ctx, page = sign_in(chromium, live, user, dark=dark)
        seen = watch(page, live)
        for path in ("/custody", "/custody?type=receipt&since=2026-03-01&until=2026-03-31",
                     "/custody?since=nonsense", "/custody/events/1", "/custody/transfers",
                     "/custody/stocktakes", "/custody/stocktakes/20",
                     "/custody/checkpoints?seq=1", "/custody/checkpoints?seq=x",
                     "/depots/DEP-VIN/placement" if user == "gbr-depot" else "/depots"):
            page.goto(live.base + path)
            found[f"{user} {path}"] = axe_violations(page)
            if dark and user == "gbr-depot" and path in ("/custody", "/custody/transfers"):
                shot(page, "custody-" + {"/custody": "events", "/custody/transfers": "transfers"}[path] + "-1440-dark")
            if not dark:
                _fits_375(page)
        assert seen["outside"] == [], seen
        ctx.close()
    bad = {p: v for p, v in found.items() if v}
    assert not bad, bad
    assert len(found) == 20


def test_custody_pages_in_french(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "gbr-depot", locale="fr-FR")
    page.goto(live.base + "/custody/transfers?lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Transferts"
    page.goto(live.base + "/custody/stocktakes")
    assert "Saisir un comptage à l’aveugle" in page.inner_text("main")
    shot(page, "journey-custody-fr")
    ctx.close()
