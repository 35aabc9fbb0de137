"""Analyses through the API: queue, follow, fetch (JSON and XLSX), releasability per reader,
bad input, authorisation, and separation from plan runs. On SQLite and PostgreSQL (``svc``)."""

from __future__ import annotations

import time
from io import BytesIO

import pytest
from openpyxl import load_workbook

from api.factories import tiny_scenario
from api.harness import Service
from api.resources import assert_error, audit_entries
from coalition.auth.schemas import HQ, Principal, Role
from coalition.scenario import store
from coalition.scenario.uncertainty import Participation, Uncertainty

SYSTEM = Principal(user_id=None, name="system", nation=HQ, roles=frozenset({Role.ADMIN}))


def uncertain_tiny(key: str):
    """The tiny scenario with France deploying all or nothing, 50/50: by hand, GBR's unit fills
    the essential R1 in every world and R2 is filled only when France comes: P = 1 and 0.5."""
    u = Uncertainty(illustrative=True, participation=(
        Participation(nation="FRA", distribution="discrete", values=(0.0, 1.0),
                      weights=(0.5, 0.5), evidence="I", source="test: a coin"),))
    return tiny_scenario(key).model_copy(update={"uncertainty": u})


@pytest.fixture(scope="module")
def sid(svc: Service) -> int:
    with svc.db() as db:
        return store.create(db, scenario=uncertain_tiny("tiny-uncertain"), principal=SYSTEM).id


def wait(svc: Service, user: str, run_id: int, timeout: float = 120) -> dict:
    c = svc.client(user)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = c.get(f"/api/analyses/{run_id}").json()
        if run["status"] in ("done", "failed", "cancelled"):
            return run
        assert 0 <= run["progress"] <= 1
        time.sleep(0.1)
    raise AssertionError(f"analysis {run_id} did not finish")


def start(svc: Service, user: str, sid: int, **body) -> dict:
    resp = svc.client(user).post("/api/analyses", params={"scenario": str(sid)}, json=body)
    assert resp.status_code in (200, 202), resp.text
    return resp.json()


def by_line(result: dict) -> dict:
    return {ln["line"]: ln["by_day"] for ln in result["lines"]}


class TestMonteCarlo:
    def test_exact_run_full_and_redacted_views(self, svc: Service, sid: int) -> None:
        run = start(svc, "hq-planner", sid, analysis="montecarlo", option="small", exact=True)
        assert run["analysis"] == "montecarlo" and run["requested_by"] == "hq-planner"
        done = wait(svc, "hq-planner", run["id"])
        assert done["status"] == "done", done
        assert done["progress"] == 1 and "figure" not in done["message"]
        hq = svc.client("hq-planner").get(f"/api/analyses/{run['id']}/result").json()
        assert hq["redacted"] is False and hq["exact"] is True and hq["samples"] == 2
        lines = by_line(hq)
        assert {d: (c["p"], c["se"]) for d, c in lines["R1"].items()} == {
            "30": (1.0, 0.0), "60": (1.0, 0.0), "90": (1.0, 0.0)}
        assert {d: c["p"] for d, c in lines["R2"].items()} == {"30": 0.5, "60": 0.5, "90": 0.5}
        # the British planner cannot see the French pledge: bands only, no figure
        gbr_resp = svc.client("gbr-planner").get(f"/api/analyses/{run['id']}/result")
        gbr = gbr_resp.json()
        assert gbr["redacted"] is True
        assert {d: c for d, c in by_line(gbr)["R2"].items()} == {
            "30": {"band": "sometimes"}, "60": {"band": "sometimes"}, "90": {"band": "sometimes"}}
        assert by_line(gbr)["R1"]["30"] == {"band": "always"}
        assert {"coverage", "shortfall", "convergence"} <= set(gbr["withheld"])
        assert "0.5" not in gbr_resp.text and "FRA" not in gbr_resp.text
        ids = [e["object_id"] for e in audit_entries(svc, object_type="analysis")]
        assert str(run["id"]) in ids
        # XLSX: the same view as JSON, per reader
        x = svc.client("hq-planner").get(f"/api/analyses/{run['id']}/result.xlsx")
        assert x.status_code == 200 and x.headers["content-type"].startswith(
            "application/vnd.openxmlformats")
        wb = load_workbook(BytesIO(x.content))
        rows = list(wb["lines"].iter_rows(values_only=True))
        cells = {r[0]: dict(zip(rows[0], r, strict=False)) for r in rows[1:]}
        assert cells["R2"]["by_day.90.p"] == 0.5 and cells["R1"]["by_day.30.p"] == 1
        xg = svc.client("gbr-planner").get(f"/api/analyses/{run['id']}/result.xlsx")
        wbg = load_workbook(BytesIO(xg.content))
        rows = list(wbg["lines"].iter_rows(values_only=True))
        assert "by_day.90.band" in rows[0] and not any(h.split(".")[-1] == "p" for h in rows[0])
        # the same request again is reused, not re-run
        again = svc.client("fra-planner").post("/api/analyses", params={"scenario": str(sid)},
                                               json={"analysis": "montecarlo", "option": "small",
                                                     "exact": True})
        assert again.status_code == 200 and again.json()["reused"] and again.json()["id"] == run["id"]

    def test_bad_input_is_422_and_nothing_queued(self, svc: Service, sid: int) -> None:
        c = svc.client("gbr-planner")
        before = c.get("/api/analyses").json()["total"]
        err = assert_error(c.post("/api/analyses", params={"scenario": str(sid)}, json={
            "analysis": "montecarlo", "option": "smal", "assumptions": ["ceasfire=2026-06-01"]}), 422)
        assert {p["field"] for p in err["problems"]} == {"option", "assumptions"}
        for body in ({"analysis": "montecarlo", "option": "small", "samples": 0},
                     {"analysis": "montecarlo", "option": "small", "samples": 100000},
                     {"analysis": "grid", "option": "small"},
                     {"analysis": "withdrawal", "option": "small", "k": 0},
                     {"analysis": "montecarlo", "option": "small", "bogus": 1},
                     {"analysis": "discover", "option": "small",
                      "assumptions": ["ceasefire=2026-06-01"]}):
            assert_error(c.post("/api/analyses", params={"scenario": str(sid)}, json=body), 422)
        assert c.get("/api/analyses").json()["total"] == before

    def test_viewer_cannot_run_and_unknown_is_404(self, svc: Service, sid: int) -> None:
        assert_error(svc.client("gbr-viewer").post(
            "/api/analyses", params={"scenario": str(sid)},
            json={"analysis": "montecarlo", "option": "small"}), 403)
        c = svc.client("gbr-planner")
        assert_error(c.get("/api/analyses/999999"), 404)
        assert_error(c.get("/api/analyses/999999/result"), 404)
        assert_error(c.get("/api/analyses/999999/result.xlsx"), 404)

    def test_analysis_and_plan_runs_do_not_mix(self, svc: Service, sid: int) -> None:
        run = start(svc, "hq-planner", sid, analysis="montecarlo", option="small", exact=True)
        c = svc.client("hq-planner")
        assert_error(c.get(f"/api/plans/{run['id']}"), 404)
        assert_error(c.get(f"/api/plans/{run['id']}/result"), 404)
        assert run["id"] not in [p["id"] for p in c.get("/api/plans", params={"limit": 500}).json()["items"]]
        plan = c.post("/api/plans", params={"scenario": str(sid)},
                      json={"option": "small", "time_limit": 5}).json()
        assert_error(c.get(f"/api/analyses/{plan['id']}"), 404)
        ids = [a["id"] for a in c.get("/api/analyses", params={"limit": 500}).json()["items"]]
        assert run["id"] in ids and plan["id"] not in ids


class TestWithdrawal:
    def test_rows_a_reader_sees(self, svc: Service, sid: int) -> None:
        run = start(svc, "hq-planner", sid, analysis="withdrawal", option="small", k=1,
                    shapley=4)
        assert wait(svc, "hq-planner", run["id"])["status"] == "done"
        hq = svc.client("hq-planner").get(f"/api/analyses/{run['id']}/result").json()
        assert sorted(r["nations"][0] for r in hq["n_1"]) == ["FRA", "GBR"]
        assert all(r["delta_essential_coverage_pct"] is not None for r in hq["n_1"])
        assert hq["shapley"] and hq["worst_k"]["nations"]
        resp = svc.client("gbr-planner").get(f"/api/analyses/{run['id']}/result")
        gbr = resp.json()
        assert [r["nations"] for r in gbr["n_1"]] == [["GBR"]]  # only sets it sees in full
        [row] = gbr["n_1"]
        assert set(row) == {"nations", "lines_broken", "lines_broken_days"}
        assert {"shapley", "worst_k", "baseline"} <= set(gbr["withheld"])
        assert "FRA" not in resp.text


def test_result_of_unfinished_run_is_409(svc: Service, sid: int) -> None:
    from coalition.analysis import jobs

    with svc.db() as db:  # queued, not dispatched yet
        run, _ = jobs.queue_analysis(
            db, Principal(user_id=None, name="hq-planner", nation=HQ, roles=frozenset({Role.PLANNER})),
            jobs.AnalysisRequest(analysis="montecarlo", option="small", exact=True, seed=77),
            scenario_ref=str(sid), cache=None, time_limit_max=30)
        rid = run.id
    err = assert_error(svc.client("hq-planner").get(f"/api/analyses/{rid}/result"), 409)
    assert "queued" in err["message"]
    svc.app.state.coalition.runs.dispatch()
    assert wait(svc, "hq-planner", rid)["status"] == "done"


# --- coalition.api.routers.analysis' handlers called directly (nothing is run) ---------------


def test_an_analysis_is_queued_followed_and_cancelled_by_its_requester(sqlite_svc: Service) -> None:  # noqa: F811
    import json as _json

    from fastapi import BackgroundTasks

    from coalition.analysis import jobs
    from coalition.api.deps import Ctx, PageParams
    from coalition.api.routers.analysis import (
        analysis_result,
        cancel_analysis,
        create_analysis,
        get_analysis,
        list_analyses,
    )
    from coalition.auth import service
    from coalition.errors import ConflictError, InputError

    svc = sqlite_svc
    with svc.db() as db:
        def ctx(user: str) -> Ctx:
            principal = service.authenticate(db, token=svc.tokens[user])
            return Ctx(state=svc.app.state.coalition, request_id=f"a-{user}", principal=principal, db=db)

        gbr = ctx("gbr-planner")
        body = jobs.AnalysisRequest(analysis="montecarlo", option="small", samples=3, quick=True, seed=777)
        background = BackgroundTasks()
        resp = create_analysis(gbr, body, background, scenario=None)
        out = _json.loads(resp.body)
        assert resp.status_code == 202 and out["status"] == "queued" and out["reused"] is False
        assert gbr.audited and len(background.tasks) == (1 if svc.app.state.coalition.runs is not None else 0)
        run_id = out["id"]
        assert get_analysis(gbr, run_id).status == "queued"
        listed = list_analyses(gbr, PageParams(0, 50), status_="queued", option="small")
        assert run_id in [r.id for r in listed.items]
        with pytest.raises(ConflictError):
            analysis_result(gbr, run_id)  # not done: 409
        assert cancel_analysis(gbr, run_id, BackgroundTasks()).status == "cancelled"
        with pytest.raises(InputError):
            create_analysis(gbr, body.model_copy(update={"option": "smal"}), BackgroundTasks(), scenario=None)
