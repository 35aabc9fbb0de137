"""Sustainment routes: the sections of a finished plan's sustainment report, typed, audited, with
the releasability of derived data (the British planner's figures never count a French unit) and
documented 4xx for bad input."""

from __future__ import annotations

import pytest

from api.harness import Service
from api.resources import assert_error
from api.test_plans import wait_done

ROUTES = ("demand", "dos", "class-v", "medical")


@pytest.fixture(scope="module")
def job(svc: Service) -> int:
    c = svc.client("gbr-planner")
    resp = c.post("/api/plans", json={"option": "small", "time_limit": 10,
                                      "assumptions": ["ceasefire=2026-06-01"]})
    assert resp.status_code in (200, 202), resp.text
    assert wait_done(svc, "gbr-planner", resp.json()["id"])["status"] == "done"
    return resp.json()["id"]


class TestSustainRoutes:
    def test_every_section_for_hq_counts_the_whole_force(self, svc: Service, job: int) -> None:
        hq = svc.client("hq-planner")
        plan = hq.get(f"/api/plans/{job}/result").json()
        demand = hq.get(f"/api/sustain/{job}/demand").json()
        assert demand["redacted"] is False and demand["basis"] == "all pledges"
        # personnel per hub and day = the plan's unit lines present that day (re-derived here)
        for h in demand["hubs"]:
            for r in h["ranges"]:
                here = sum(u["personnel"] for u in plan["unit_lines"]
                           if u["hub"] == h["hub"] and u["arrival_day"] <= r["start_day"] <= u["tour_end_day"])
                assert r["personnel"] == here
                assert set(r["classes"]) == {"I", "water", "II", "III(B)", "III(P)", "IV", "V", "VI", "VIII", "IX"}
                assert "demand_kg" in r["classes"]["I"] and "demand_l" in r["classes"]["water"]
        for name in ("dos", "class-v", "medical"):
            body = hq.get(f"/api/sustain/{job}/{name}").json()
            assert body["plan"] == job and isinstance(body["flags"], list)
        cv = hq.get(f"/api/sustain/{job}/class-v").json()
        assert all("legal_class_v_days" in h and "limiting" in h for h in cv["hubs"])
        med = hq.get(f"/api/sustain/{job}/medical").json()
        assert {"share_within_1h", "share_within_2h", "ranges", "uncovered"} <= set(med)

    def test_a_partial_reader_sees_figures_of_its_own_units_only(self, svc: Service, job: int) -> None:
        gbr, hq = svc.client("gbr-planner"), svc.client("hq-planner")
        mine = [u for u in gbr.get(f"/api/plans/{job}/result").json()["unit_lines"]]
        assert mine and all(u["nation"] == "GBR" for u in mine)
        full = hq.get(f"/api/plans/{job}/result").json()["unit_lines"]
        assert any(u["nation"] == "FRA" for u in full)  # there is something to hide
        for name in ROUTES:
            resp = gbr.get(f"/api/sustain/{job}/{name}")
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["redacted"] is True and "visible to you" in body["basis"]
            assert "FRA" not in resp.text
        demand = gbr.get(f"/api/sustain/{job}/demand").json()
        peak = max((r["personnel"] for h in demand["hubs"] for r in h["ranges"]), default=0)
        assert peak <= sum(u["personnel"] for u in mine)

    def test_bad_input_is_a_documented_4xx(self, svc: Service, job: int) -> None:
        c = svc.client("gbr-planner")
        assert_error(c.get("/api/sustain/999999/demand"), 404)
        assert_error(c.get("/api/sustain/0/demand"), 422)
        assert_error(c.get("/api/sustain/abc/medical"), 422)
        assert_error(c.get(f"/api/sustain/{job}/demand", params={"bogus": 1}), 422)
        doc = c.get("/openapi.json").json()
        for name in ROUTES:
            op = doc["paths"][f"/api/sustain/{{job_id}}/{name}"]["get"]
            assert {"404", "409", "422"} <= set(op["responses"])
        assert_error(svc.client(None).get(f"/api/sustain/{job}/demand"), 401)
