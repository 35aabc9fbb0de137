"""Every scenario resource through the generic tests: each class only declares its data."""

from __future__ import annotations

import tempfile
from pathlib import Path

from api.factories import tiny_scenario
from api.resources import ResourceTests, Write
from coalition.scenario.service import save_scenario_file


def _scenario_file(scenario_id: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = save_scenario_file(tiny_scenario(scenario_id), Path(tmp) / "s.json")
        return path.read_bytes()


class TestNations(ResourceTests):
    path = "/api/nations"
    key = "code"
    ident = "GBR"
    filters = {"role": ("enabler", {"POL"}), "groups": ("EU", {"FRA", "POL"})}


class TestInstruments(ResourceTests):
    path = "/api/instruments"
    ident = "doi-paris"
    filters = {"parties": ("UKR", {"doi-paris"}), "kind": ("mou", set())}


class TestCapabilities(ResourceTests):
    path = "/api/capabilities"
    key = "code"
    ident = "inf-bn"


class TestForceOptions(ResourceTests):
    path = "/api/force-options"
    ident = "small"


class TestRequirements(ResourceTests):
    path = "/api/requirements"
    ident = "R1"
    filters = {"hub": ("LVIV", {"R2"}), "priority": ("essential", {"R1"})}


class TestHubs(ResourceTests):
    path = "/api/hubs"
    ident = "KYIV"
    filters = {"country": ("UKR", {"KYIV", "LVIV"}), "region": ("west", {"LVIV"})}


class TestRearNodes(ResourceTests):
    path = "/api/rear-nodes"
    ident = "RZE"


class TestCorridors(ResourceTests):
    path = "/api/corridors"
    ident = "RZE-LVIV"
    filters = {"hub": ("KYIV", {"RZE-KYIV"}), "mode": ("road", {"RZE-LVIV"})}


class TestPledges(ResourceTests):
    path = "/api/pledges"
    ident = "GBR-inf"
    reader = "gbr-viewer"
    hidden_ident = "FRA-inf"  # French detail is not released to the UK
    sensitive = True
    filters = {"nation": ("FRA", set()), "state": ("offered", {"GBR-inf"})}
    writes = (
        Write("POST", "/api/pledges/GBR-inf/transition", {"state": "withdrawn"},
              allowed="gbr-planner", forbidden_role="gbr-viewer", audit_type="pledge",
              audit_id="GBR-inf", then_get="/api/pledges/GBR-inf",
              then_expect={"state": "withdrawn"}),
        Write("POST", "/api/pledges/FRA-inf/transition", {"state": "accepted"},
              allowed="hq-planner", out_of_scope="gbr-planner", audit_type="pledge",
              audit_id="FRA-inf", then_get="/api/pledges/FRA-inf",
              then_expect={"state": "accepted"}),
        Write("PUT", "/api/pledges/GBR-inf/release", {"releasable_to": ["FRA", "HQ"]},
              allowed="gbr-planner", forbidden_role="gbr-viewer", out_of_scope="fra-planner",
              audit_type="pledge", audit_id="GBR-inf"),
    )


class TestScenarios(ResourceTests):
    path = "/api/scenarios"
    key = "key"
    ident = "tiny"
    writes = (
        Write("POST", "/api/scenarios", None, allowed="gbr-planner", forbidden_role="gbr-viewer",
              expect_status=201, audit_type="scenario",
              files={"file": ("tiny2.json", _scenario_file("tiny2"), "application/json")}),
    )

    def test_get(self, svc):  # scenarios are addressed by key or numeric id
        resp = svc.client(self.reader).get("/api/scenarios/tiny")
        assert resp.status_code == 200 and resp.json()["key"] == "tiny"


class TestUsers(ResourceTests):
    path = "/api/users"
    key = "name"
    ident = "gbr-viewer"
    reader = "gbr-admin"
    hidden_ident = "fra-planner"  # a British admin does not see French accounts
    unknown_ident = "nobody"
    writes = (
        Write("POST", "/api/users", {"name": "new-gbr", "nation": "GBR", "roles": ["viewer"]},
              allowed="gbr-admin", forbidden_role="gbr-planner", expect_status=201,
              audit_type="user", audit_id="new-gbr", then_get="/api/users/new-gbr",
              then_expect={"nation": "GBR", "roles": ["viewer"]}),
    )

    def test_unauthenticated_is_401(self, svc):  # type: ignore[no-untyped-def]
        super().test_unauthenticated_is_401(svc)
        from api.resources import assert_error

        assert_error(svc.client("gbr-viewer").get(self.path), 403)  # viewers do not list users
