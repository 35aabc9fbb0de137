"""Denied attempts leave audit entries of their own (the request's transaction rolls back);
unknown ids do not; audit times are timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime

from fastapi import UploadFile
from pydantic import BaseModel, Field

from api.harness import Service
from api.resources import assert_error, audit_entries


class TestDenialsAudited:
    def test_401_is_audited_as_anonymous(self, svc: Service) -> None:
        resp = svc.client(None).get("/api/hubs", headers={"Authorization": "Bearer coa_" + "Z" * 43})
        assert_error(resp, 401)
        (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert entry["action"] == "denied-401" and entry["user_name"] == "(anonymous)"
        assert entry["object_id"] == "GET /api/hubs" and "unknown token" in entry["note"]

    def test_404_on_a_real_object_is_audited_but_not_on_an_unknown_id(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        real = c.get("/api/pledges/FRA-inf")
        unknown = c.get("/api/pledges/NO-SUCH")
        assert assert_error(real, 404)["message"] == assert_error(unknown, 404)["message"].replace(
            "NO-SUCH", "FRA-inf")  # the answers do not tell them apart
        (entry,) = audit_entries(svc, request_id=real.headers["x-request-id"])
        assert (entry["action"], entry["object_type"], entry["object_id"]) == (
            "denied-404", "pledge", "FRA-inf")
        assert entry["user_name"] == "gbr-viewer" and entry["nation"] == "GBR"
        assert audit_entries(svc, request_id=unknown.headers["x-request-id"]) == []

    def test_audit_times_are_utc_aware(self, svc: Service) -> None:
        assert svc.client("gbr-viewer").get("/api/pledges/GBR-inf").status_code == 200
        for entry in audit_entries(svc)[:5]:
            at = datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
            assert at.utcoffset() is not None and at.utcoffset().total_seconds() == 0


class TestOtherDenialsAudited:
    def test_another_nations_report_is_a_logged_404(self, svc: Service) -> None:
        resp = svc.client("gbr-viewer").get("/api/reports/accountability", params={"donor": "FRA"})
        assert_error(resp, 404)
        (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert (entry["action"], entry["object_type"], entry["object_id"]) == (
            "denied-404", "accountability-report", "FRA")


# --- coalition.api.errors on a bare app: every exception, one shape ---------------------------


class _CodeBody(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{3}$")


def _bare_app(html: bool = False):  # type: ignore[no-untyped-def]
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from coalition.api import errors
    from coalition.api.offload import WorkerTimeout
    from coalition.api.ratelimit import RateLimited
    from coalition.errors import ConflictError, InputError, IntegrityError, PermissionDeniedError, Problem

    app = FastAPI()
    page = (lambda _req, status, text: HTMLResponse(f"<p>{status}: {text}</p>", status_code=status)) if html else None
    errors.install(app, page)

    raisers = {
        "one": InputError([Problem("bad units", file="pledges.csv", row=2, field="units")]),
        "two": InputError([Problem("a"), Problem("b")]),
        "stale": ConflictError("stale revision"),
        "integrity": IntegrityError("hash mismatch"),
        "rate": RateLimited(7, 10),
        "slow": WorkerTimeout(2.0, retry_after_s=2),
        "boom": RuntimeError("secret internals"),
        "denied": PermissionDeniedError("planners only"),
    }
    raisers["stale"].details = {"current_revision": 4}  # type: ignore[attr-defined]

    @app.get("/api/raise/{what}")
    def _raise(what: str) -> None:
        raise raisers[what]

    @app.get("/page/{what}")
    def _page(what: str) -> None:
        raise raisers[what]

    @app.post("/api/body")
    def _body(body: _CodeBody) -> _CodeBody:
        return body

    return app


def _client(html: bool = False):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    return TestClient(_bare_app(html), raise_server_exceptions=False)


def test_domain_errors_map_to_their_status_in_the_one_shape() -> None:
    c = _client()
    want = {"one": (422, "invalid_input"), "two": (422, "invalid_input"), "stale": (409, "conflict"),
            "integrity": (409, "integrity_failure"), "rate": (429, "too_many_requests"),
            "slow": (503, "worker_timeout"), "boom": (500, "internal_error"), "denied": (403, "forbidden")}
    for what, (status, code) in want.items():
        resp = c.get(f"/api/raise/{what}")
        body = resp.json()
        assert resp.status_code == status and set(body) == {"error"}, (what, body)
        assert body["error"]["status"] == status and body["error"]["code"] == code, what
    one = c.get("/api/raise/one").json()["error"]
    assert one["problems"] == [{"file": "pledges.csv", "row": 2, "field": "units", "message": "bad units",
                                "hint": None, "severity": "error"}]
    assert c.get("/api/raise/two").json()["error"]["message"] == "2 problems in the input"


def test_headers_say_when_to_retry_and_which_revision_is_current() -> None:
    c = _client()
    assert c.get("/api/raise/rate").headers["retry-after"] == "7"
    assert c.get("/api/raise/slow").headers["retry-after"] == "2"
    stale = c.get("/api/raise/stale")
    assert stale.headers["etag"] == '"4"' and stale.json()["error"]["current_revision"] == 4


def test_no_traceback_or_internal_text_reaches_the_client() -> None:
    text = _client().get("/api/raise/boom").text
    assert "secret internals" not in text and "Traceback" not in text and "request id" in text


def test_a_denial_whose_audit_record_cannot_be_written_is_still_denied() -> None:
    """The bare app has no database: recording the 403 fails, is logged, the answer stands."""
    resp = _client().get("/api/raise/denied")
    assert resp.status_code == 403 and resp.json()["error"]["message"] == "planners only"


def test_validation_problems_name_the_place_and_the_pattern() -> None:
    c = _client()
    err = c.post("/api/body", json={"code": "gb"}).json()["error"]
    assert err["status"] == 422 and err["message"] == "1 problem(s) in the request"
    (p,) = err["problems"]
    assert (p["file"], p["field"], p["hint"]) == ("body", "code", "must match ^[A-Z]{3}$")
    bad = c.post("/api/body", content=b"{not json", headers={"content-type": "application/json"}).json()
    assert bad["error"]["message"] == "malformed JSON body"
    nowhere = c.get("/api/nothing-here").json()["error"]
    assert nowhere["status"] == 404 and nowhere["message"] == "no such endpoint: GET /api/nothing-here"


def test_dashboard_pages_get_html_and_the_api_json() -> None:
    c = _client(html=True)
    page = c.get("/page/two", headers={"accept": "text/html"})
    assert page.status_code == 422 and page.text == "<p>422: 2 problems in the input: a; b</p>"
    api = c.get("/api/raise/two", headers={"accept": "text/html"})  # an API path: JSON whatever it asks
    assert api.json()["error"]["code"] == "invalid_input"
    assert c.get("/page/two").json()["error"]["status"] == 422  # a page asked for JSON gets JSON


def test_the_openapi_document_declares_the_error_answers() -> None:
    from fastapi import FastAPI

    from coalition.api.errors import EXPENSIVE, document_errors

    app = FastAPI()

    @app.post("/api/scenarios")
    def _upload(file: UploadFile) -> dict[str, str]:
        return {}

    @app.get("/api/hubs")
    def _hubs() -> list[str]:
        return []

    @app.get("/health/live")
    def _live(x: int = 0) -> dict[str, str]:
        return {}

    document_errors(app)
    spec = app.openapi()
    assert app.openapi() is spec  # built once
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    post = spec["paths"]["/api/scenarios"]["post"]["responses"]
    assert ("post", "/api/scenarios") in EXPENSIVE
    assert {"401", "403", "404", "409", "413", "422", "429", "503"} <= set(post)
    assert post["429"]["headers"]["Retry-After"]["schema"]["minimum"] == 1
    get = spec["paths"]["/api/hubs"]["get"]
    assert "409" not in get["responses"] and "429" not in get["responses"] and get["security"] == [{"bearer": []}]
    assert get["responses"]["404"]["content"]["application/json"]["schema"] == ref
    health = spec["paths"]["/health/live"]["get"]
    assert "security" not in health and health["responses"]["422"]["content"]["application/json"]["schema"] == ref
    assert "HTTPValidationError" not in spec["components"]["schemas"] and "ErrorBody" in spec["components"]["schemas"]
