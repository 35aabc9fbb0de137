"""Health endpoints (no authentication): liveness and a database round trip."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from coalition import __version__
from coalition.api.responses import HealthOut, Status

router = APIRouter(tags=["health"])


@router.get("/health/live", summary="Liveness: the process answers (no database)", response_model=Status)
def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health",
    summary="Health: database reachable, default scenario loaded",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "database unreachable"}},
)
def health(request: Request) -> Any:
    state = request.app.state.coalition
    body: dict[str, Any] = {
        "status": "ok",
        "version": __version__,
        "database": "ok",
        "backend": state.engine.dialect.name,
    }
    try:
        with state.engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - report, don't raise
        body.update(status="degraded", database=f"unreachable: {type(exc).__name__}")
    if state.startup_problem:
        body["problem"] = state.startup_problem
    # 503 only when the database is down: a load balancer should then stop sending traffic.
    return JSONResponse(body, status_code=200 if body["database"] == "ok" else 503)


DOCS_CSP = (
    # Swagger UI sets inline styles; everything is still served by the app itself.
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>coalition API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/js/docs-init.js"></script></body></html>
"""


@router.get("/docs", include_in_schema=False)
def docs() -> Any:
    """Swagger UI for the OpenAPI document, from the locally installed swagger-ui-bundle."""
    from fastapi.responses import HTMLResponse

    return HTMLResponse(DOCS_HTML, headers={"content-security-policy": DOCS_CSP})
