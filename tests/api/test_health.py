"""coalition.api.routers.health on a bare app with a real engine: ok, or 503 when the database
is unreachable (a load balancer then stops sending traffic); liveness never needs a database."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from coalition import __version__
from coalition.api.routers.health import DOCS_CSP, router


def app_with(url: str, problem: str | None = None) -> TestClient:
    app = FastAPI(docs_url=None, redoc_url=None)  # as the service builds it: its own /docs
    app.include_router(router)
    app.state.coalition = SimpleNamespace(engine=create_engine(url), startup_problem=problem)
    return TestClient(app)


def test_health_reports_the_backend_and_version(tmp_path: Path) -> None:
    resp = app_with(f"sqlite:///{tmp_path / 'h.db'}").get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": __version__, "database": "ok", "backend": "sqlite"}


def test_an_unreachable_database_is_503_degraded_and_liveness_still_answers(tmp_path: Path) -> None:
    c = app_with(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}", problem="default scenario not loaded")
    resp = c.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "degraded" and body["database"].startswith("unreachable: ")
    assert body["problem"] == "default scenario not loaded"
    assert c.get("/health/live").json() == {"status": "ok"}


def test_the_docs_page_is_local_with_its_own_policy() -> None:
    resp = app_with("sqlite://").get("/docs")
    assert resp.headers["content-security-policy"] == DOCS_CSP and "'unsafe-inline'" in DOCS_CSP
    assert "/static/swagger/swagger-ui-bundle.js" in resp.text and "http" not in resp.text.split("<body>")[1]
