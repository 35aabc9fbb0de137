"""Plans: a background planner run with progress, the result, redaction and bad input."""

from __future__ import annotations

import time

from api.harness import Service, sqlite_svc  # noqa: F401 - the fixture
from api.resources import assert_error, audit_entries


def wait_done(svc: Service, user: str, job_id: int, timeout: float = 60) -> dict:
    c = svc.client(user)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/api/plans/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        assert 0 <= job["progress"] <= 1
        time.sleep(0.1)
    raise AssertionError(f"plan job {job_id} did not finish: {job}")


class TestPlans:
    def test_run_fetch_and_redact(self, svc: Service) -> None:
        c = svc.client("gbr-planner")
        resp = c.post("/api/plans", json={"option": "small", "time_limit": 10,
                                          "assumptions": ["ceasefire=2026-06-01"]})
        assert resp.status_code == 202, resp.text
        job = resp.json()
        assert job["status"] == "queued" and job["requested_by"] == "gbr-planner"
        assert [e["action"] for e in audit_entries(svc, request_id=resp.headers["x-request-id"])] == ["create"]
        done = wait_done(svc, "gbr-planner", job["id"])
        assert done["status"] == "done", done
        # The British planner sees its own unit line and nothing of the French one (derived-data
        # policy: not even its hub or dates), only whether the coalition fills each line.
        plan = c.get(f"/api/plans/{job['id']}/result").json()
        lines = plan["unit_lines"]
        assert lines and all(line["nation"] == "GBR" for line in lines)
        assert "FRA-inf" not in str(plan) and "FRA" not in str(plan["rotations"])
        assert plan["redacted"] and "kpis" not in plan
        assert all(isinstance(f["coalition_filled"], bool) for f in plan["fill"])
        # HQ sees both nations' detail.
        hq = svc.client("hq-planner").get(f"/api/plans/{job['id']}/result").json()
        assert {line["nation"] for line in hq["unit_lines"]} == {"GBR", "FRA"}

    def test_viewer_cannot_run(self, svc: Service) -> None:
        assert_error(svc.client("gbr-viewer").post("/api/plans", json={"option": "small"}), 403)

    def test_bad_input_is_422_and_nothing_queued(self, svc: Service) -> None:
        c = svc.client("gbr-planner")
        before = c.get("/api/plans").json()["total"]
        err = assert_error(c.post("/api/plans", json={"option": "smal",
                                                      "assumptions": ["ceasfire=2026-06-01"]}), 422)
        fields = {p["field"] for p in err["problems"]}
        assert fields == {"option", "assumptions[0]"}
        assert any("did you mean 'small'" in (p["hint"] or "") for p in err["problems"])
        assert_error(c.post("/api/plans", json={"option": 5}), 422)
        assert_error(c.post("/api/plans", content=b"{not json", headers={"content-type": "application/json"}), 422)
        assert c.get("/api/plans").json()["total"] == before

    def test_result_of_unknown_job_is_404(self, svc: Service) -> None:
        assert_error(svc.client("gbr-planner").get("/api/plans/999999/result"), 404)


class TestRunControl:
    def test_cancel_is_the_requesters_and_reuse_is_reported(self, svc: Service) -> None:
        gbr, fra = svc.client("gbr-planner"), svc.client("fra-planner")
        body = {"option": "small", "time_limit": 10, "seed": 4242,
                "assumptions": ["ceasefire=2026-07-01"]}
        first = gbr.post("/api/plans", json=body)
        assert first.status_code == 202, first.text
        run = first.json()
        assert run["queue_position"] in (1, None) or run["status"] != "queued"
        err = assert_error(fra.post(f"/api/plans/{run['id']}/cancel"), 403)
        assert "gbr-planner" in err["message"]
        done = wait_done(svc, "gbr-planner", run["id"])
        assert done["status"] == "done"
        again = fra.post("/api/plans", json=body)
        assert again.status_code == 200 and again.json()["reused"] is True
        assert again.json()["id"] == run["id"]
        assert_error(gbr.post(f"/api/plans/{run['id']}/cancel"), 409)  # finished: nothing to cancel
        listed = gbr.get("/api/plans", params={"status": "done", "nation": "GBR"}).json()
        assert run["id"] in [r["id"] for r in listed["items"]]
        assert all(r["status"] == "done" and r["nation"] == "GBR" for r in listed["items"])


class TestPlanLabels:
    """PATCH /api/plans/{id}: name and pin, who may, who reads a name, 4xx, audit."""

    def _queued(self, svc: Service, seed: int) -> int:
        resp = svc.client("gbr-planner").post("/api/plans", json={
            "option": "small", "time_limit": 1, "seed": seed, "assumptions": ["ceasefire=2026-06-01"]})
        assert resp.status_code in (200, 202), resp.text
        return int(resp.json()["id"])

    def test_rename_and_pin_audited_and_the_name_released_to_its_nation_and_hq(self, svc: Service) -> None:
        job = self._queued(svc, 7001)
        gbr = svc.client("gbr-planner")
        resp = gbr.patch(f"/api/plans/{job}", json={"name": "  Commons vote passes ", "pinned": True})
        assert resp.status_code == 200, resp.text
        out = resp.json()
        assert (out["name"], out["pinned"], out["pinned_by"]) == ("Commons vote passes", True, "gbr-planner")
        entries = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert sorted((e["action"], e["object_id"]) for e in entries) == [("pin", str(job)), ("rename", str(job))]
        assert svc.client("hq-planner").get(f"/api/plans/{job}").json()["name"] == "Commons vote passes"
        fra_view = svc.client("fra-planner").get(f"/api/plans/{job}").json()
        assert fra_view["name"] is None and fra_view["pinned"] is True  # the pin is no secret
        fra_list = svc.client("fra-planner").get("/api/plans", params={"pinned": "true"}).json()
        assert job in [r["id"] for r in fra_list["items"]] and "Commons vote" not in str(fra_list)
        # only the name: the pin stays
        again = gbr.patch(f"/api/plans/{job}", json={"name": None})
        assert again.status_code == 200 and again.json()["name"] is None and again.json()["pinned"] is True

    def test_pinned_plans_list_first_and_filter(self, svc: Service) -> None:
        first, second = self._queued(svc, 7101), self._queued(svc, 7102)
        gbr = svc.client("gbr-planner")
        assert gbr.patch(f"/api/plans/{first}", json={"pinned": True}).status_code == 200
        items = gbr.get("/api/plans", params={"limit": 200}).json()["items"]
        pinned = [r["pinned"] for r in items]
        assert pinned == sorted(pinned, reverse=True)  # every pinned plan before any other
        assert [r["id"] for r in items].index(first) < [r["id"] for r in items].index(second)
        only = gbr.get("/api/plans", params={"pinned": "true", "limit": 200}).json()["items"]
        assert first in [r["id"] for r in only] and all(r["pinned"] for r in only)
        unpinned = gbr.get("/api/plans", params={"pinned": "false", "limit": 200}).json()["items"]
        assert second in [r["id"] for r in unpinned] and not any(r["pinned"] for r in unpinned)
        assert gbr.patch(f"/api/plans/{first}", json={"pinned": False}).json()["pinned"] is False

    def test_403_for_other_roles_and_nations_404_for_unknown_422_naming_the_field(self, svc: Service) -> None:
        job = self._queued(svc, 7201)
        for user in ("fra-planner", "gbr-depot", "hq-inspector", "gbr-viewer"):
            resp = svc.client(user).patch(f"/api/plans/{job}", json={"name": "mine now", "pinned": True})
            assert_error(resp, 403)
        assert svc.client("gbr-planner").get(f"/api/plans/{job}").json()["name"] is None  # unchanged
        assert_error(svc.client("gbr-planner").patch("/api/plans/999999", json={"pinned": True}), 404)
        gbr = svc.client("gbr-planner")
        for body in ({"name": "   "}, {"name": "x" * 121}, {"name": "a\tb"}, {"name": 5}, {"nme": "x"}):
            err = assert_error(gbr.patch(f"/api/plans/{job}", json=body), 422)
            assert {p["field"] for p in err["problems"]} == {"name" if "name" in body else "nme"}, err
        # HQ may label any nation's plan; its name is then HQ's
        hq = svc.client("hq-planner")
        assert hq.patch(f"/api/plans/{job}", json={"name": "HQ review"}).json()["name"] == "HQ review"
        assert gbr.get(f"/api/plans/{job}").json()["name"] is None

    def test_the_operation_is_in_the_openapi_document(self, svc: Service) -> None:
        spec = svc.client("gbr-viewer").get("/openapi.json").json()
        op = spec["paths"]["/api/plans/{job_id}"]["patch"]
        assert {"403", "404", "422"} <= set(op["responses"])
        schema = spec["components"]["schemas"]["PlanLabel"]
        assert set(schema["properties"]) == {"name", "pinned"}
        listing = spec["paths"]["/api/plans"]["get"]
        assert "pinned" in {p["name"] for p in listing["parameters"]}


# --- coalition.api.routers.plans.start_plan directly (no HTTP, no solve) ----------------------


def _ctx(svc: Service, db, user: str):  # type: ignore[no-untyped-def]
    from coalition.api.deps import Ctx
    from coalition.auth import service

    principal = service.authenticate(db, token=svc.tokens[user])
    return Ctx(state=svc.app.state.coalition, request_id=f"direct-{user}", principal=principal, db=db)


def test_start_plan_queues_once_caps_the_time_and_checks_first(sqlite_svc: Service) -> None:  # noqa: F811
    import pytest
    from sqlalchemy import func, select

    from coalition.api.routers.plans import PlanRequest, _run_marking, start_plan
    from coalition.errors import InputError, PermissionDeniedError
    from coalition.planner.runs import PlanRun

    def count(db) -> int:  # type: ignore[no-untyped-def]
        return int(db.scalar(select(func.count()).select_from(PlanRun)))

    svc = sqlite_svc
    cap = svc.app.state.coalition.settings.plan_time_limit_max
    with svc.db() as db:
        before = count(db)
        ctx = _ctx(svc, db, "gbr-planner")
        with pytest.raises(InputError) as err:
            start_plan(ctx, PlanRequest(option="smal", assumptions=["ceasfire=2026-06-01"]), None)
        assert {p.field for p in err.value.problems} == {"option", "assumptions[0]"}
        with pytest.raises(PermissionDeniedError):
            start_plan(_ctx(svc, db, "gbr-viewer"), PlanRequest(option="small"), None)
        run, reused = start_plan(ctx, PlanRequest(option="small", time_limit=600, seed=4242), None)
        assert not reused and run.status == "queued" and run.nation == "GBR"
        assert run.options["time_limit"] == min(600, cap)
        assert ctx.audited  # the new run's audit entry
        assert count(db) == before + 1  # the refused requests queued nothing
    assert _run_marking(run).releasable_to == ("ALL",) and _run_marking(run).origin == "GBR"
