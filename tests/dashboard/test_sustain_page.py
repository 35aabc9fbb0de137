"""The sustainment page (/sustain?job=N) over a finished plan of the tiny scenario: its tables
show the same figures as /api/sustain for the same reader, the caveats are named, and a French
reader's page counts no British unit (the British pledge is not released to France)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from api.test_plans import wait_done
from coalition.auth.schemas import Principal, Role
from coalition.dashboard.charts import CLASS_WORDS
from coalition.dashboard.sustain_page import sustain_view, visible_run
from coalition.errors import NotFoundError, PermissionDeniedError
from coalition.planner.runs import PlanRun
from coalition.sustain.service import build_report
from dashboard.test_i18n import _sign_in, _translations, visible_text
from sustain.builders import scenario, ul, view


def _job(svc: Service) -> int:
    resp = svc.client("hq-planner").post("/api/plans", json={
        "option": "small", "time_limit": 10, "assumptions": ["ceasefire=2026-06-01"]})
    assert resp.status_code in (200, 202), resp.text
    assert wait_done(svc, "hq-planner", resp.json()["id"])["status"] == "done"
    return int(resp.json()["id"])


def _personnel(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'data-personnel="(\d+)"', html)]


def _api_personnel(c: TestClient, job: int) -> list[int]:
    demand = c.get(f"/api/sustain/{job}/demand").json()
    return [r["personnel"] for h in demand["hubs"] for r in h["ranges"]]


def test_sustain_page_matches_the_api_and_hides_restricted_units(sqlite_svc: Service) -> None:  # noqa: F811
    job = _job(sqlite_svc)
    hq = _sign_in(sqlite_svc, "hq-planner")
    fr = _sign_in(sqlite_svc, "fra-planner", **{"Accept-Language": "fr"})
    page = hq.get(f"/sustain?job={job}")
    assert page.status_code == 200
    for testid in ("dos-summary", "dos-table", "class-v", "medical-uncovered", "sustain-flags"):
        assert f'data-testid="{testid}"' in page.text, testid
    assert "<svg class=\"chart\"" in page.text
    hq_people = _personnel(page.text)
    assert hq_people and hq_people == _api_personnel(sqlite_svc.client("hq-planner"), job)
    caveats = sqlite_svc.client("hq-planner").get(f"/api/sustain/{job}/dos").json()["flags"]
    assert caveats and all(f in visible_text(page.text) for f in caveats)
    # the plan page links here
    assert f'href="/sustain?job={job}"' in hq.get(f"/plan?job={job}").text

    fr_page = fr.get(f"/sustain?job={job}")
    assert fr_page.status_code == 200 and '<html lang="fr">' in fr_page.text
    assert "Soutien logistique" in fr_page.text
    fr_people = _personnel(fr_page.text)
    assert fr_people == _api_personnel(sqlite_svc.client("fra-planner"), job)
    # the British battalion's 600 personnel are in HQ's figures and in none of France's
    assert any(p in (600, 1250) for p in hq_people), hq_people
    assert not any(p in (600, 1250) for p in fr_people), fr_people
    assert "Calculé à partir des seuls engagements qui vous sont visibles" in fr_page.text


def test_sustain_page_without_a_plan_and_for_an_unknown_one(sqlite_svc: Service) -> None:  # noqa: F811
    hq = _sign_in(sqlite_svc, "hq-planner")
    assert hq.get("/sustain?job=999999", headers={"accept": "text/html"}).status_code == 404
    assert hq.get("/sustain?job=abc", headers={"accept": "text/html"}).status_code == 422


def test_map_medical_layer_names_the_uncovered_hubs_of_each_readers_view(sqlite_svc: Service) -> None:  # noqa: F811
    job = _job(sqlite_svc)  # the same request as above: the finished run is reused
    for user in ("hq-planner", "fra-planner"):
        page = _sign_in(sqlite_svc, user).get("/map").text
        layer = re.search(r'data-testid="medical-layer">(.*?)</g>', page, re.S)
        assert layer, user
        drawn = set(re.findall(r'data-hub="([^"]+)"', layer.group(1)))
        api = sqlite_svc.client(user).get(f"/api/sustain/{job}/medical").json()
        on_map = set(re.findall(r'<a class="hub" href="/hubs/([^"]+)"', page))
        assert drawn == {u["hub"] for u in api["uncovered"]} & on_map, (user, drawn)
        assert drawn, user  # the tiny plan has no medical unit: its hubs are uncovered
        assert 'data-layer="medical"' in page and f'href="/sustain?job={job}#medical"' in page


def english_left(html: str) -> list[str]:
    """English UI phrases of the catalogue (two words or more, translated differently) shown
    on a page (the check of test_i18n.py, for pages that need a plan or an analysis)."""
    text = visible_text(html)
    return [m.id for m in _translations().values()
            if isinstance(m.id, str) and "%" not in m.id and len(m.id.split()) >= 2
            and m.string != m.id and re.search(rf"(?<!\w){re.escape(m.id)}(?!\w)", text)]


def test_french_sustain_page_has_no_english_ui_string(sqlite_svc: Service) -> None:  # noqa: F811
    job = _job(sqlite_svc)
    fr = _sign_in(sqlite_svc, "hq-planner", **{"Accept-Language": "fr"})
    for path in (f"/sustain?job={job}", "/map"):
        page = fr.get(path).text
        assert '<html lang="fr">' in page
        assert english_left(page) == [], path


# --- the page's logic, called directly ------------------------------------------------------


def _who(nation: str, *roles: Role) -> Principal:
    return Principal(user_id=None, name=f"{nation.lower()}-x", nation=nation, roles=frozenset(roles))


def test_any_reader_with_a_role_sees_a_plan_run_and_nothing_else_is_found() -> None:
    gbr_plan = PlanRun(id=3, kind="plan", nation="GBR", status="done")
    assert visible_run(_who("FRA", Role.VIEWER), gbr_plan, 3) is gbr_plan  # released to all
    assert visible_run(_who("HQ", Role.DEPOT_OFFICER), gbr_plan, 3) is gbr_plan
    with pytest.raises(NotFoundError, match="'4' not found"):
        visible_run(_who("GBR", Role.PLANNER), None, 4)
    with pytest.raises(NotFoundError):  # an analysis run's id is not a plan's
        visible_run(_who("GBR", Role.PLANNER), PlanRun(id=5, kind="analysis", nation="GBR", status="done"), 5)
    with pytest.raises(PermissionDeniedError, match="plan.view"):
        visible_run(_who("GBR"), gbr_plan, 3)  # no role at all


def test_the_view_arranges_the_reports_sections_for_the_page() -> None:
    body = build_report(scenario(), view(ul("u1", "inf", "a", 0, 29), ul("u2", "r2", "b", 10, 59))).to_json()
    body |= {"redacted": False, "basis": "all pledges", "plan": 7}
    got = sustain_view(body)
    assert got["names"] == {h["hub"]: h["name"] for h in body["hubs"]} and set(got["names"]) <= {"a", "b", "c"}
    assert got["names"]["a"] == "A"
    assert [c.hub for c in got["charts"]] == [h["hub"] for h in body["hubs"]]  # a chart per hub, in order
    assert got["dos"] == [{"hub": h["hub"], "stock": h["stock"]} for h in body["hubs"]]
    assert [h["hub"] for h in got["class_v"]["hubs"]] == [h["hub"] for h in body["hubs"]]
    assert got["class_v"]["plan"] == got["medical"]["plan"] == 7  # each section carries the header
    assert {k: got["medical"][k] for k in body["medical"]} == body["medical"]
    assert got["class_words"] is CLASS_WORDS and set(got["chart"]) == {"w", "h", "pad"}
