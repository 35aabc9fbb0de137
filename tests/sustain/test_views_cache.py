"""The sustainment report of a finished run is made once per reader view and kept: the same
reader gets the same report again without it being rebuilt; another view gets its own (a
French reader is never served the report HQ's view made), and without the app's cache nothing
is kept."""

from __future__ import annotations

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from api.test_plans import wait_done
from coalition.auth.schemas import HQ, Principal, Role
from coalition.planner import runs
from coalition.sustain import views


def _who(nation: str) -> Principal:
    return Principal(user_id=None, name=f"{nation}-p", nation=nation, roles=frozenset({Role.PLANNER}))


def test_report_kept_per_run_and_view(sqlite_svc: Service, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    resp = sqlite_svc.client("hq-planner").post("/api/plans", json={
        "option": "small", "time_limit": 10, "assumptions": ["ceasefire=2026-06-01"]})
    job = int(resp.json()["id"])
    assert wait_done(sqlite_svc, "hq-planner", job)["status"] == "done"
    cache = sqlite_svc.app.state.coalition.scenarios  # type: ignore[attr-defined]
    import coalition.sustain.service as service

    built: list[int] = []
    real = service.build_report
    monkeypatch.setattr(service, "build_report", lambda *a, **k: built.append(1) or real(*a, **k))
    with sqlite_svc.db() as db:
        run = runs.get_run(db, job)
        hq1 = views.visible_sustainment(db, _who(HQ), run, cache=cache)
        hq2 = views.visible_sustainment(db, _who(HQ), run, cache=cache)
        fra = views.visible_sustainment(db, _who("FRA"), run, cache=cache)
        fra2 = views.visible_sustainment(db, _who("FRA"), run, cache=cache)
        loose = views.visible_sustainment(db, _who(HQ), run, cache=None)
    assert hq2 is hq1 and fra2 is fra and fra is not hq1
    assert len(built) == 3  # HQ once, France once, and the call without a cache
    assert hq1["redacted"] is False and fra["redacted"] is True
    assert loose is not hq1 and loose["hubs"] == hq1["hubs"]
