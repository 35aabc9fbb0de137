"""Depots and storehouses through the generic resource tests, on the embedded scenario's depots:
DEP-VIN sits at Vinnytsia (lead nation GBR), DEP-JAS at Rzeszow-Jasionka (Poland)."""

from __future__ import annotations

from api.harness import Service, sqlite_svc  # noqa: F401 - the fixture
from api.resources import ResourceTests, Write, assert_error

EMBEDDED = {"scenario": "paris-2026"}
Q = "?scenario=paris-2026"


class TestDepots(ResourceTests):
    path = "/api/depots"
    ident = "DEP-VIN"
    hidden_ident = "DEP-JAS"  # Polish depot: not released to the UK
    params = EMBEDDED
    sensitive = True
    filters = {"hub": ("UA-VINNYTSIA", {"DEP-VIN"})}
    writes = (
        Write("POST", f"/api/depots/DEP-VIN/placements{Q}",
              {"lines": [{"lot": "VIN-155-A01", "quantity": 10}], "method": "first-fit"},
              allowed="gbr-depot", forbidden_role="gbr-viewer", out_of_scope="fra-depot",
              audit_type="depot", audit_id="DEP-VIN"),
    )


class TestStorehouses(ResourceTests):
    path = "/api/storehouses"
    ident = "VIN-ECM1"
    hidden_ident = "JAS-ECM1"
    params = EMBEDDED
    filters = {"depot": ("DEP-JAS", set())}  # not visible to the UK viewer


class TestDepotChecks:
    def test_check_and_licences(self, svc: Service) -> None:
        c = svc.client("gbr-depot")
        report = c.get(f"/api/depots/DEP-VIN/check{Q}").json()
        assert report["depot"] == "DEP-VIN" and report["storehouses"]
        assert all(r["depot"] == "DEP-VIN" for r in report["storehouses"])
        lic = c.get(f"/api/depots/DEP-VIN/licences{Q}").json()
        assert lic["total"] == len(report["storehouses"])
        assert_error(c.get(f"/api/depots/DEP-JAS/check{Q}"), 404)
        # HQ sees both depots (released to HQ by default).
        hq = svc.client("hq-inspector").get("/api/depots", params=EMBEDDED).json()
        assert {d["id"] for d in hq["items"]} == {"DEP-VIN", "DEP-JAS", "LV-D1"}

    def test_placement_bad_lot_is_422(self, svc: Service) -> None:
        err = assert_error(svc.client("gbr-depot").post(
            f"/api/depots/DEP-VIN/placements{Q}",
            json={"lines": [{"lot": "VIN-ATGM-F0l", "quantity": 1}]}), 422)
        assert err["problems"][0]["row"] == 1 and err["problems"][0]["field"] == "lot"
        assert "VIN-ATGM-F01" in err["problems"][0]["hint"]

    def test_placement_refuses_duplicate_lot_lines(self, svc: Service) -> None:
        err = assert_error(svc.client("gbr-depot").post(
            f"/api/depots/DEP-VIN/placements{Q}",
            json={"lines": [{"lot": "VIN-155-A01", "quantity": 1}, {"lot": "VIN-155-A01", "quantity": 2}]}), 422)
        assert err["problems"][0]["row"] == 2 and "row 1" in err["problems"][0]["message"]

    def test_placement_lines_carry_unverified_flags_and_pass_the_gate(self, svc: Service) -> None:
        out = svc.client("gbr-depot").post(
            f"/api/depots/DEP-VIN/placements{Q}",
            json={"lines": [{"lot": "VIN-155-A01", "quantity": 10}], "method": "first-fit"}).json()
        assert out["placed"] and all(set(p) >= {"lot", "storehouse", "quantity", "unverified"} for p in out["placed"])
        assert all(p["unverified"] for p in out["placed"])  # nothing in the rulebook is primary-verified
        assert out["check_after"]["new_errors"] == [] and out["unverified_defaults"]


# --- coalition.api.routers.depots' handlers called directly (no HTTP) ------------------------


def test_the_depot_handlers_show_what_the_reader_may_see(sqlite_svc: Service) -> None:  # noqa: F811
    import json

    import pytest

    from coalition.api.deps import Ctx, PageParams
    from coalition.api.routers.depots import get_depot, list_depots, visible_depots
    from coalition.auth import service
    from coalition.auth.scope import OutOfScope
    from coalition.scenario import store

    svc = sqlite_svc
    with svc.db() as db:
        def ctx(user: str) -> Ctx:
            principal = service.authenticate(db, token=svc.tokens[user])
            return Ctx(state=svc.app.state.coalition, request_id=f"d-{user}", principal=principal, db=db)

        gbr, hq = ctx("gbr-viewer"), ctx("hq-admin")
        body = json.loads(list_depots(gbr, PageParams(0, 50), hub=None, scenario="paris-2026").body)
        ids = [d["id"] for d in body["items"]]
        assert "DEP-VIN" in ids and "DEP-JAS" not in ids and body["total"] == len(ids)
        (vin,) = [d for d in body["items"] if d["id"] == "DEP-VIN"]
        assert vin["nation"] == "GBR" and vin["marking"]["origin"] == "GBR" and vin["storehouses"] > 0
        by_hub = json.loads(list_depots(hq, PageParams(0, 50), hub="UA-VINNYTSIA", scenario="paris-2026").body)
        assert [d["id"] for d in by_hub["items"]] == ["DEP-VIN"]
        everything = json.loads(list_depots(hq, PageParams(0, 50), hub=None, scenario="paris-2026").body)
        assert {"DEP-VIN", "DEP-JAS"} <= {d["id"] for d in everything["items"]}
        assert get_depot(gbr, "DEP-VIN", scenario="paris-2026")["id"] == "DEP-VIN"
        with pytest.raises(OutOfScope):
            get_depot(gbr, "DEP-JAS", scenario="paris-2026")
        sid, _rev, state = store.current_state(db, ref="paris-2026")
        assert [d.id for d in visible_depots(gbr, sid, state.scenario)] == ids
