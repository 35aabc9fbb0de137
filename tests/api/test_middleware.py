"""coalition.api.middleware.ServiceMiddleware around a tiny ASGI app: request ids, security
headers, and the body limit (refused before the app reads a byte more)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from coalition.api.middleware import CSP, ServiceMiddleware

LIMIT = 100


def client() -> tuple[TestClient, list[int]]:
    calls: list[int] = []

    async def echo(request: Request) -> Response:
        body = await request.body()
        calls.append(len(body))
        return PlainTextResponse(body.decode() + "|" + request.scope.get("request_id", ""))

    async def framed(request: Request) -> Response:
        return PlainTextResponse("x", headers={"x-frame-options": "SAMEORIGIN", "cache-control": "max-age=60"})

    app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST", "PUT"]), Route("/framed", framed)])
    return TestClient(ServiceMiddleware(app, max_body_bytes=LIMIT)), calls


def test_a_safe_request_id_is_kept_and_any_other_is_replaced() -> None:
    c, _ = client()
    resp = c.get("/echo", headers={"x-request-id": "abc-123.X_y"})
    assert resp.headers["x-request-id"] == "abc-123.X_y" and resp.text.endswith("|abc-123.X_y")
    for bad in ("has space", "x" * 65, "<script>", ""):
        got = c.get("/echo", headers={"x-request-id": bad}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", got), bad
    assert c.get("/echo").headers["x-request-id"] != c.get("/echo").headers["x-request-id"]


def test_security_headers_are_added_but_never_override_the_apps_own() -> None:
    c, _ = client()
    h = c.get("/echo").headers
    assert h["content-security-policy"] == CSP and "frame-ancestors 'none'" in CSP
    assert (h["x-frame-options"], h["x-content-type-options"], h["cache-control"]) == ("DENY", "nosniff", "no-store")
    own = c.get("/framed").headers
    assert own["x-frame-options"] == "SAMEORIGIN" and own["cache-control"] == "max-age=60"
    assert own.get_list("x-frame-options") == ["SAMEORIGIN"]  # not doubled


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    c, calls = client()
    body = "a" * LIMIT
    assert c.post("/echo", content=body).text.startswith(body + "|")
    assert c.put("/echo", content=b"").status_code == 200 and calls == [LIMIT, 0]


def test_a_declared_length_over_the_limit_is_413_and_the_app_is_never_called() -> None:
    c, calls = client()
    resp = c.post("/echo", content="a" * (LIMIT + 1), headers={"x-request-id": "r1"})
    assert resp.status_code == 413 and calls == []
    err = resp.json()["error"]
    assert (err["code"], err["request_id"]) == ("payload_too_large", "r1") and f"{LIMIT} bytes" in err["message"]
    assert resp.headers["x-frame-options"] == "DENY"  # the refusal carries the headers too


def test_a_streamed_body_is_cut_off_at_the_limit_without_a_declared_length() -> None:
    c, calls = client()

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 40  # 200 bytes in all, no Content-Length

    resp = c.post("/echo", content=chunks())
    assert resp.status_code == 413 and calls == []


def test_a_get_is_not_read_and_a_malformed_length_is_checked_by_reading() -> None:
    c, calls = client()
    assert c.get("/echo").status_code == 200
    resp = c.post("/echo", content="a" * (LIMIT + 5), headers={"content-length": "many"})
    assert resp.status_code == 413 and calls == [0]  # only the GET reached the app
