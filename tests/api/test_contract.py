"""The strict contract: nation codes checked against the scenario, unknown query parameters
and assumption values refused naming them, API field names in problems, 422 for undecodable
bodies, the bearer scheme in the OpenAPI document."""

from __future__ import annotations

from api.harness import Service
from api.resources import assert_error


class TestContract:
    def test_release_to_unknown_nations_is_422(self, svc: Service) -> None:
        c = svc.client("gbr-planner")
        err = assert_error(c.put("/api/pledges/GBR-inf/release",
                                 json={"releasable_to": ["XXX", "FRA", "ZZZ"]}), 422)
        assert [p["field"] for p in err["problems"]] == ["releasable_to[0]", "releasable_to[2]"]
        marking = c.get("/api/pledges/GBR-inf").json()["marking"]
        assert "XXX" not in marking["releasable_to"]  # nothing written

    def test_user_of_unknown_nation_is_422(self, svc: Service) -> None:
        err = assert_error(svc.client("hq-admin").post(
            "/api/users", json={"name": "qq", "nation": "QQQ", "roles": ["viewer"]}), 422)
        assert err["problems"][0]["field"] == "nation"
        assert_error(svc.client("hq-admin").get("/api/users/qq"), 404)

    def test_unknown_query_parameter_is_422_naming_it(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        err = assert_error(c.get("/api/hubs", params={"contry": "UKR"}), 422)
        assert err["problems"][0]["field"] == "contry"
        assert "country" in err["problems"][0]["hint"]
        err = assert_error(c.get("/api/gaps", params={"option": "small", "us_backstop": "maybe"}), 422)
        assert err["problems"][0]["field"] == "us_backstop"
        assert c.get("/api/hubs", params={"country": "UKR"}).status_code == 200

    def test_gap_problems_use_api_field_names(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        err = assert_error(c.get("/api/gaps", params={"option": "smal"}), 422)
        assert err["problems"][0]["field"] == "option"
        err = assert_error(c.get("/api/gaps", params={
            "option": "small", "assume": ["ceasefire=2026-06-01", "us_backstop=true", "ceasefire=maybe"]}), 422)
        fields = [p["field"] for p in err["problems"]]
        assert "assume[2]" in fields and not any(f.startswith("--") for f in fields)

    def test_invalid_utf8_body_is_422(self, svc: Service) -> None:
        err = assert_error(svc.client("gbr-planner").post(
            "/api/pledges/GBR-inf/transition", content=b'{"state": "\xff\xfe"}',
            headers={"content-type": "application/json"}), 422)
        assert err["code"] == "invalid_input"

    def test_dashboard_refuses_a_bad_backstop_value(self, svc: Service) -> None:
        import re

        c = svc.client(None)
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"token": svc.tokens["gbr-viewer"], "csrf": csrf})
        page = c.get("/gaps", params={"option": "small", "us_backstop": "maybe"}).text
        assert "must be true or false" in page
