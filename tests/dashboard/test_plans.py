"""A plan's name and pin on the dashboard (coalition.dashboard.plans): plain POST forms with
CSRF, shown only to who may use them, a bad name inline with the name kept, pinned plans first
with a marker, names in the comparison picker and only for readers they are released to."""

from __future__ import annotations

import re

import pytest

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from api.test_plans import wait_done
from coalition.auth.schemas import Principal, Role
from coalition.dashboard.context import PageCtx
from coalition.dashboard.plans import CHANGES_PAGE, _done, _download, changes_page
from coalition.errors import NotFoundError
from coalition.planner.workbook import compare
from dashboard.test_i18n import _sign_in


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _done_plans(svc: Service, n: int) -> list[int]:
    ids = []
    for seed in range(n):
        resp = svc.client("gbr-planner").post("/api/plans", json={
            "option": "small", "time_limit": 5, "seed": 900 + seed, "assumptions": ["ceasefire=2026-06-01"]})
        ids.append(int(resp.json()["id"]))
    for job in ids:
        assert wait_done(svc, "gbr-planner", job)["status"] == "done"
    return ids


def test_rename_pin_and_see_it_first(sqlite_svc: Service) -> None:  # noqa: F811
    first, second = _done_plans(sqlite_svc, 2)
    c = _sign_in(sqlite_svc, "gbr-planner")
    page = c.get(f"/plan?job={first}").text
    assert 'data-testid="name-form"' in page and 'data-testid="pin-form"' in page
    resp = c.post(f"/plan/{first}/name", data={"csrf": _csrf(page), "name": "  Commons vote  "},
                  follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/plan?job={first}#label"
    page = c.get(f"/plan?job={first}").text
    assert '<span data-testid="plan-name">Commons vote</span>' in page
    assert 'value="Commons vote"' in page  # the form shows the current name
    resp = c.post(f"/plan/{first}/pin", data={"csrf": _csrf(page), "pinned": "true"}, follow_redirects=False)
    assert resp.status_code == 303
    page = c.get(f"/plan?job={second}").text
    recent = re.search(r'data-testid="recent-runs">(.*?)</ul>', page, re.S).group(1)
    jobs = [int(j) for j in re.findall(r'<li data-job="(\d+)"', recent)]
    assert jobs[0] == first and jobs.index(second) > 0  # pinned first although older
    assert re.search(rf'<li data-job="{first}" data-pinned="true">', recent)
    picker = re.search(r'data-testid="compare-form">(.*?)</form>', page, re.S).group(1)
    assert re.search(rf'<option value="{first}">📌 #{first} Commons vote — small', picker)
    cmp = c.get(f"/plans/compare?a={second}&b={first}").text
    assert '<span class="small" data-testid="name-2">Commons vote</span>' in cmp
    # France sees the plan and the pin, neither the name nor a form
    fra = _sign_in(sqlite_svc, "fra-planner")
    page = fra.get(f"/plan?job={first}").text
    assert 'data-testid="pinned-marker"' in page and "Commons vote" not in page
    assert 'data-testid="name-form"' not in page and f'action="/plan/{first}/pin"' not in page
    assert "Commons vote" not in fra.get(f"/plan?job={second}").text
    # unpin from the list on another plan's page: back to that page
    page = c.get(f"/plan?job={second}").text
    resp = c.post(f"/plan/{first}/pin", data={"csrf": _csrf(page), "pinned": "false", "back": str(second)},
                  follow_redirects=False)
    assert resp.headers["location"] == f"/plan?job={second}#label"
    assert 'data-testid="pinned-marker"' not in c.get(f"/plan?job={first}").text


def test_a_bad_name_comes_back_inline_with_the_input_kept(sqlite_svc: Service) -> None:  # noqa: F811
    resp = sqlite_svc.client("gbr-planner").post("/api/plans", json={"option": "small", "time_limit": 1})
    job = int(resp.json()["id"])
    c = _sign_in(sqlite_svc, "gbr-planner")
    csrf = _csrf(c.get(f"/plan?job={job}").text)
    typed = "x" * 121
    resp = c.post(f"/plan/{job}/name", data={"csrf": csrf, "name": typed})
    assert resp.status_code == 422
    assert 'data-testid="label-problem"' in resp.text and "1 to 120 characters" in resp.text
    assert f'name="name" value="{typed}" maxlength="1000" aria-invalid="true"' in resp.text
    fr = _sign_in(sqlite_svc, "gbr-planner", **{"Accept-Language": "fr-FR"})
    resp = fr.post(f"/plan/{job}/name", data={"csrf": _csrf(fr.get(f"/plan?job={job}").text), "name": "  "})
    assert resp.status_code == 422 and "de 1 à 120 caractères" in resp.text
    assert sqlite_svc.client("gbr-planner").get(f"/api/plans/{job}").json()["name"] is None


def test_only_who_may_label_sees_the_forms_and_the_rest_is_refused(sqlite_svc: Service) -> None:  # noqa: F811
    resp = sqlite_svc.client("gbr-planner").post("/api/plans", json={"option": "small", "time_limit": 1})
    job = int(resp.json()["id"])
    gbr = _sign_in(sqlite_svc, "gbr-planner")
    assert gbr.post(f"/plan/{job}/pin", data={"pinned": "true"}).status_code == 403  # no CSRF token
    for user in ("gbr-depot", "hq-inspector", "fra-planner"):
        c = _sign_in(sqlite_svc, user)
        page = c.get(f"/plan?job={job}").text
        assert 'data-testid="name-form"' not in page and 'data-testid="pin-form"' not in page
        assert c.post(f"/plan/{job}/name", data={"csrf": _csrf(page), "name": "mine"}).status_code == 403
        assert c.post(f"/plan/{job}/pin", data={"csrf": _csrf(page), "pinned": "true"}).status_code == 403
    missing = gbr.post("/plan/999999/pin", data={"csrf": _csrf(gbr.get("/plan").text), "pinned": "true"})
    assert missing.status_code == 404
    hq = _sign_in(sqlite_svc, "hq-planner")
    assert 'data-testid="name-form"' in hq.get(f"/plan?job={job}").text  # HQ may label any plan
    seen = sqlite_svc.client("gbr-planner").get(f"/api/plans/{job}").json()
    assert seen["name"] is None and seen["pinned"] is False


# --- the module's logic, called directly ----------------------------------------------------


def _lines(n: int, hub: str = "KYIV") -> dict[str, object]:
    return {"unit_lines": [{"unit": f"U{i:03}", "requirement": "R1", "rotation": 1, "hub": hub} for i in range(n)]}


def test_the_comparison_pages_every_changed_line_once() -> None:
    changes = compare(_lines(0), _lines(450)).changes  # 450 lines added
    assert len(changes) == 450 and CHANGES_PAGE == 200
    pages = [changes_page(changes, n, 7, 9) for n in (1, 2, 3)]
    assert [p["pages"] for p in pages] == [3, 3, 3] and [len(p["shown"]) for p in pages] == [200, 200, 50]
    assert [c for p in pages for c in p["shown"]] == list(changes)
    assert pages[0]["page_links"] == {"prev": None, "next": "/plans/compare?a=7&b=9&page=2#changes"}
    assert pages[1]["page_links"] == {
        "prev": "/plans/compare?a=7&b=9&page=1#changes",
        "next": "/plans/compare?a=7&b=9&page=3#changes",
    }
    assert pages[2]["page_links"]["next"] is None


def test_a_page_past_the_last_is_the_last_and_no_change_is_one_empty_page() -> None:
    changes = compare(_lines(5), _lines(5, hub="LVIV")).changes  # 5 lines moved
    assert [c.what for c in changes] == ["moved"] * 5
    last = changes_page(changes, 99, 1, 2, size=2)
    assert (last["page"], last["pages"], len(last["shown"])) == (3, 3, 1)
    assert last["page_links"]["prev"] == "/plans/compare?a=1&b=2&page=2#changes"
    none = changes_page(compare(_lines(3), _lines(3)).changes, 4, 1, 2)
    assert (none["page"], none["pages"], none["shown"]) == (1, 1, ())
    assert none["page_links"] == {"prev": None, "next": None}


def test_a_download_is_an_attachment_named_for_the_plan() -> None:
    resp = _download(b"a,b\n", "unit-lines-4-small.csv", "text/csv; charset=utf-8")
    assert resp.body == b"a,b\n" and resp.media_type == "text/csv; charset=utf-8"
    assert resp.headers["content-disposition"] == 'attachment; filename="unit-lines-4-small.csv"'


def test_a_run_is_found_by_job_or_is_404(sqlite_svc: Service) -> None:  # noqa: F811
    resp = sqlite_svc.client("gbr-planner").post("/api/plans", json={"option": "small", "time_limit": 1})
    job = int(resp.json()["id"])
    who = Principal(user_id=None, name="gbr-x", nation="GBR", roles=frozenset({Role.PLANNER}))
    with sqlite_svc.db() as db:
        ctx = PageCtx(state=sqlite_svc.app.state.coalition, request_id="t", principal=who, db=db)
        assert _done(ctx, job).id == job
        with pytest.raises(NotFoundError):
            _done(ctx, job + 1000)
