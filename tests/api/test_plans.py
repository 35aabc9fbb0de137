"""Plans: a background planner run with progress, the result, redaction and bad input."""

from __future__ import annotations

import time

from api.harness import Service
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
