"""The pledges pages in Chromium: the list is scoped and filtered, each role is offered only
what it may do, every change goes through the store (a new revision), and a stale form is a
409 that shows what changed, with the input kept."""

from __future__ import annotations

import re

import pytest

from dashboard.conftest import Live, shot, sign_in, watch

pytestmark = pytest.mark.browser


def _ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("[data-testid=pledges] tbody tr[data-pledge]").evaluate_all(
        "rows => rows.map(r => r.dataset.pledge)")


def test_list_is_scoped_and_filtered(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "gbr-planner")
    seen = watch(page, live)
    page.click("nav >> text=Pledges")
    page.wait_for_url(re.compile(r".*/pledges$"))
    ids = _ids(page)
    _s, _h, body = live.api("GET", "/api/pledges?limit=500", "gbr-planner")
    assert sorted(ids) == sorted(p["id"] for p in body["items"])  # what the API lets GBR see
    assert "GBR-01" in ids and not any(i.startswith("FRA-") for i in ids)
    page.select_option("[data-testid=pledge-filters] select[name=capability]", "inf_bn")
    page.click("[data-testid=pledge-filters] button[type=submit]")
    assert _ids(page) == ["GBR-02"]
    page.goto(live.base + "/pledges?state=withdrawn")
    _s, _h, api = live.api("GET", "/api/pledges?state=withdrawn&limit=500", "gbr-planner")
    assert sorted(_ids(page)) == sorted(p["id"] for p in api["items"])  # (a journey may withdraw one)
    page.goto(live.base + "/pledges?condition=conditional&nation=GBR")
    assert len(_ids(page)) == 16
    page.goto(live.base + "/pledges?condition=unconditional")
    assert _ids(page) == []  # every British pledge carries a condition
    # Another nation's pledge is not there (404, as in the API), and says nothing about it.
    resp = page.goto(live.base + "/pledges/FRA-01")
    assert resp is not None and resp.status == 404
    assert "FRA-01" in page.content() and "hq_bde" not in page.content()
    # GBR may not accept its own pledge (HQ decides): only withdrawal is offered.
    page.goto(live.base + "/pledges/GBR-01")
    moves = page.locator("[data-testid=transition-form] button[name=to]")
    assert moves.evaluate_all("b => b.map(x => x.value)") == ["withdrawn"]
    assert page.locator("[data-testid=edit-form]").count() == 1
    assert page.locator("[data-testid=release-form]").count() == 1
    shot(page, "pledge-gbr-planner")
    assert seen["outside"] == []
    assert [e for e in seen["errors"] if "404" not in e] == []  # only the deliberate 404
    ctx.close()
    # A depot officer reads the same pledge but is offered nothing.
    ctx, page = sign_in(chromium, live, "gbr-depot")
    page.goto(live.base + "/pledges/GBR-01")
    assert page.locator("form[data-testid]").count() == 0
    ctx.close()


def test_hq_accepts_and_the_store_has_the_revision(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "hq-planner")
    page.goto(live.base + "/pledges/GBR-02")
    before = int(page.locator("input[name=revision]").first.input_value())
    assert page.locator("[data-testid=edit-form]").count() == 0  # HQ does not edit GBR's pledge
    assert page.locator("[data-testid=release-form]").count() == 0  # nor decides its release
    page.fill("[data-testid=transition-form] input[name=note]", "force generation conference")
    page.click("[data-testid=move-accepted]")
    page.wait_for_url(re.compile(r".*/pledges/GBR-02\?saved=\d+$"))
    saved = int(page.url.rsplit("=", 1)[1])
    assert saved == before + 1
    assert page.inner_text("[data-testid=pledge-state]") == "accepted"
    assert str(saved) in page.inner_text("[data-testid=saved]")
    _s, headers, pledge = live.api("GET", "/api/pledges/GBR-02", "hq-planner")
    assert pledge["state"] == "accepted" and headers["etag"] == f'"{saved}"'
    _s, _h, audit = live.api("GET", "/api/audit?object_id=GBR-02&action=transition", "hq-admin")
    assert audit["items"] and audit["items"][0]["after"]["state"] == "accepted"
    ctx.close()


def test_a_stale_edit_is_409_with_what_changed_and_the_input_kept(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "gbr-planner")
    page.goto(live.base + "/pledges/GBR-03")
    page.fill("[data-testid=edit-form] input[name=units]", "4")
    # Meanwhile HQ accepts the pledge through the API.
    status, _h, _b = live.api("POST", "/api/pledges/GBR-03/transition", "hq-planner",
                              {"state": "accepted", "note": "meanwhile"})
    assert status == 200
    resp_status = []
    page.on("response", lambda r: resp_status.append(r.status) if "/edit" in r.url else None)
    page.click("[data-testid=edit-form] button[type=submit]")
    page.wait_for_selector("[data-testid=conflict]")
    assert resp_status == [409]
    conflict = page.inner_text("[data-testid=conflict]")
    assert "state" in conflict and "offered" in conflict and "accepted" in conflict
    assert "hq-planner" in conflict and "meanwhile" in conflict
    assert page.input_value("[data-testid=edit-form] input[name=units]") == "4"  # kept
    _s, _h, pledge = live.api("GET", "/api/pledges/GBR-03", "gbr-planner")
    assert pledge["units"] == 2  # nothing was written
    shot(page, "pledge-conflict")
    # Submitting again from this page (now at the current revision) saves it.
    page.click("[data-testid=edit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*\?saved=\d+$"))
    _s, _h, pledge = live.api("GET", "/api/pledges/GBR-03", "gbr-planner")
    assert pledge["units"] == 4 and pledge["state"] == "accepted"
    # Bad input is shown inline, the field kept (the browser's own check switched off, as an
    # old browser or a script would send it).
    page.evaluate("document.querySelector('[data-testid=edit-form]').noValidate = true")
    page.fill("[data-testid=edit-form] input[name=units]", "0")
    page.click("[data-testid=edit-form] button[type=submit]")
    page.wait_for_selector("[data-testid=problem]")
    assert "units" in page.inner_text("[data-testid=problem]")
    assert page.input_value("[data-testid=edit-form] input[name=units]") == "0"
    ctx.close()


def test_releasability_decides_who_sees_the_pledge(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "gbr-planner")
    page.goto(live.base + "/pledges/GBR-04")
    page.fill("[data-testid=release-form] input[name=releasable_to]", "HQ XYZ")
    page.click("[data-testid=release-form] button[type=submit]")
    page.wait_for_selector("[data-testid=problem]")
    assert "XYZ" in page.inner_text("[data-testid=problem]")
    assert page.input_value("[data-testid=release-form] input[name=releasable_to]") == "HQ XYZ"
    page.fill("[data-testid=release-form] input[name=releasable_to]", "HQ FRA")
    page.click("[data-testid=release-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*\?saved=\d+$"))
    shown = page.inner_text("[data-testid=released-to]").split("(")[0]
    assert sorted(x.strip() for x in shown.split(",")) == ["FRA", "HQ"]
    ctx.close()
    ctx, page = sign_in(chromium, live, "fra-planner")
    page.goto(live.base + "/pledges?nation=GBR")
    assert _ids(page) == ["GBR-04"]
    page.goto(live.base + "/pledges/GBR-04")
    assert page.locator("form[data-testid]").count() == 0  # France reads it, changes nothing
    ctx.close()
