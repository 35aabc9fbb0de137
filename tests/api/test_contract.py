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


NATION_PARAMS = [  # (route, parameter, a valid value); the value QQQ is a nation of nothing
    ("/api/pledges", "nation", "FRA"),
    ("/api/plans", "nation", "GBR"),
    ("/api/audit", "nation", "HQ"),
    ("/api/custody-events", "nation", "DEU"),  # a ledger member outside the scenario
    ("/api/inventory", "title_nation", "GBR"),
    ("/api/reports/accountability", "donor", "GBR"),
]


class TestNationParameters:
    def test_unknown_nation_codes_are_422_naming_the_parameter(self, svc: Service) -> None:
        c = svc.client("hq-admin")
        for route, name, valid in NATION_PARAMS:
            err = assert_error(c.get(route, params={name: "QQQ"}), 422)
            (problem,) = err["problems"]
            assert problem["field"] == name and problem["file"] == "query", (route, problem)
            assert "QQQ" in problem["message"] and "valid:" in problem["hint"], problem
            assert c.get(route, params={name: valid}).status_code == 200, (route, valid)

    def test_a_nation_check_discloses_nothing_scoped(self, svc: Service) -> None:
        # a known nation outside the caller's scope stays a scope question (404), not a 422
        err = assert_error(svc.client("gbr-planner").get(
            "/api/reports/accountability", params={"donor": "FRA"}), 404)
        assert err["code"] == "not_found"


def _sample(schema: dict) -> object:
    kind = schema.get("type")
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    return "x"


def test_every_api_operation_refuses_an_unknown_query_parameter(sqlite_svc: Service) -> None:
    """Walks the OpenAPI document: every /api operation, whatever its method, answers an
    undeclared query parameter with 422 naming it (one service for all, so it stays fast)."""
    spec = sqlite_svc.client("hq-admin").get("/openapi.json").json()
    c = sqlite_svc.client("hq-admin")
    tried, wrong = [], []
    for path, ops in spec["paths"].items():
        if not path.startswith("/api"):
            continue
        for method, op in ops.items():
            url = path
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}",
                                      str(_sample(param.get("schema", {}))))
            resp = c.request(method.upper(), url, params={"colour_of_the_day": "teal"})
            tried.append(f"{method.upper()} {path}")
            problems = resp.json().get("error", {}).get("problems", []) \
                if resp.headers.get("content-type", "").startswith("application/json") else []
            if resp.status_code != 422 or [(p["field"], p["file"]) for p in problems] != [
                    ("colour_of_the_day", "query")]:
                wrong.append((method.upper(), path, resp.status_code, resp.text[:200]))
    assert len(tried) > 40, tried
    assert not wrong, wrong


class TestAssumptionValues:
    def test_gaps_unknown_condition_and_bad_value_name_their_index(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        err = assert_error(c.get("/api/gaps", params={
            "option": "small", "assume": ["ceasefire=2026-06-01", "ceasfire=true"]}), 422)
        assert [p["field"] for p in err["problems"]] == ["assume[1]"], err
        assert "ceasefire" in (err["problems"][0]["hint"] or ""), err

    def test_plan_request_names_the_assumption(self, svc: Service) -> None:
        err = assert_error(svc.client("gbr-planner").post("/api/plans", json={
            "option": "small", "assumptions": ["ceasefire=2026-06-01", "ceasefire=maybe"]}), 422)
        assert [p["field"] for p in err["problems"]] == ["assumptions[1]"], err


def _typed(schema: dict, components: dict) -> bool:
    """A schema that says what the body holds: a model ($ref to an object with properties),
    an object with properties, a list of typed items, or a union of those (and null)."""
    if "$ref" in schema:
        target = components[schema["$ref"].rsplit("/", 1)[1]]
        return _typed(target, components) if "$ref" in target else bool(
            target.get("properties") or target.get("anyOf") or target.get("enum"))
    if schema.get("anyOf"):
        parts = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return bool(parts) and all(_typed(s, components) for s in parts)
    if schema.get("type") == "array":
        return _typed(schema.get("items", {}), components)
    return bool(schema.get("properties"))


def test_the_openapi_document_types_every_json_answer(sqlite_svc: Service) -> None:
    spec = sqlite_svc.client(None).get("/openapi.json").json()
    components = spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"][
            "securitySchemes"]["bearer"]["description"]}
    untyped, undocumented = [], []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            answers = op["responses"]
            success = {c: r for c, r in answers.items() if c.startswith("2")}
            assert success, (method, path)
            for code, answer in success.items():
                content = answer.get("content", {})
                if content and "application/json" not in content:
                    continue  # not a JSON answer (e.g. a spreadsheet download)
                schema = content.get("application/json", {}).get("schema")
                if schema is None or not _typed(schema, components):
                    untyped.append((method.upper(), path, code, schema))
            if path.startswith("/api"):
                assert op.get("security") == [{"bearer": []}], (method, path)
                for code in ("401", "403", "404", "422"):
                    ref = answers.get(code, {}).get("content", {}).get("application/json", {})
                    if ref.get("schema") != {"$ref": "#/components/schemas/ErrorBody"}:
                        undocumented.append((method.upper(), path, code))
    assert not untyped, untyped
    assert not undocumented, undocumented


def test_times_carry_their_zone(svc: Service) -> None:
    c = svc.client("hq-admin")
    scenario = c.get("/api/scenarios/1").json()
    revision = c.get("/api/scenarios/1/revisions").json()["items"][0]
    from datetime import datetime

    for text in (scenario["created_at"], revision["created_at"]):
        assert datetime.fromisoformat(text).utcoffset() is not None, text


# --- coalition.api.contract's pieces directly ------------------------------------------------


def test_check_nations_names_field_index_and_a_guess() -> None:
    import pytest

    from coalition.api.contract import check_nations
    from coalition.errors import InputError
    from coalition.scenario.service import load_scenario

    sc = load_scenario()
    codes = sorted(n.code for n in sc.nations)
    check_nations([codes[0], "HQ"], sc, field="releasable_to")  # valid: nothing raised
    with pytest.raises(InputError) as err:
        check_nations([codes[0], "GBX", "ALL"], sc, field="releasable_to", file="body")
    got = [(p.file, p.field) for p in err.value.problems]
    assert got == [("body", "releasable_to[1]"), ("body", "releasable_to[2]")]
    assert err.value.problems[0].hint.startswith("did you mean 'GBR'? valid: ")
    check_nations(["ALL"], sc, field="m", extra=("HQ", "ALL"))  # where a marking allows it
    with pytest.raises(InputError) as err:
        check_nations(["zzz"], sc, field="nation", indexed=False)
    assert err.value.problems[0].field == "nation" and f"scenario '{sc.id}'" in err.value.problems[0].message


def test_api_fields_renames_cli_flags_and_finds_the_assumption_index() -> None:
    from coalition.api.contract import api_fields
    from coalition.errors import InputError, Problem

    exc = InputError([
        Problem("unknown option 'x'", field="--option", hint="h"),
        Problem("bad date", field="--at"),
        Problem("unknown condition 'truce'", field="--assume"),
        Problem("'ceasefire=maybe' is not a date", field="--assume"),
        Problem("an assumption is wrong somewhere", field="--assume"),
        Problem("untouched", file="f.csv", row=3, field="units", severity="warning"),
    ])
    out = api_fields(exc, assume=["ceasefire=maybe", "truce=2026-01-01"], name="assumptions")
    fields = [p.field for p in out.problems]
    assert fields == ["option", "at", "assumptions[1]", "assumptions[0]", "assumptions", "units"]
    last = out.problems[-1]
    assert (last.file, last.row, last.severity) == ("f.csv", 3, "warning") and out.problems[0].hint == "h"


def test_strict_query_refuses_undeclared_parameters_with_a_guess() -> None:
    from fastapi import APIRouter, Depends, FastAPI
    from fastapi.testclient import TestClient

    from coalition.api.contract import strict_query
    from coalition.errors import InputError

    app = FastAPI()
    router = APIRouter(dependencies=[Depends(strict_query)])

    @router.get("/things")
    def things(option: str | None = None) -> dict[str, str | None]:
        return {"option": option}

    @router.get("/bare")
    def bare() -> dict[str, str]:
        return {}

    app.include_router(router)

    @app.exception_handler(InputError)
    def _problems(_request, exc: InputError):  # type: ignore[no-untyped-def]
        from fastapi.responses import JSONResponse

        return JSONResponse([{"field": p.field, "hint": p.hint} for p in exc.problems], status_code=422)

    c = TestClient(app)
    assert c.get("/things", params={"option": "a"}).json() == {"option": "a"}
    resp = c.get("/things", params={"optoin": "a", "zzz": "1"})
    assert resp.status_code == 422
    (one, two) = resp.json()
    assert one == {"field": "optoin", "hint": "did you mean 'option'? this route takes: option"}
    assert two["field"] == "zzz"
    assert c.get("/bare", params={"x": "1"}).json()[0]["hint"] == "this route takes no query parameters"
