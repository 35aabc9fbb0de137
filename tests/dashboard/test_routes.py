"""The dashboard's router (every page family mounted) and the sign-in redirect, the handler the
app installs for ``LoginRequired``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request

from coalition.dashboard import account, depot_pages, gaps_page, logs_page, map_pages, page, plan_page, routes
from coalition.dashboard.routes import login_redirect
from coalition.dashboard.security import LoginRequired


def _request() -> Request:
    return Request({"type": "http", "method": "GET", "path": "/plans", "headers": [], "query_string": b""})


def test_login_redirect_goes_to_sign_in_with_the_reason() -> None:
    out = login_redirect(_request(), LoginRequired("session expired"))
    assert out.status_code == 303
    assert out.headers["location"] == "/login?reason=session+expired"


def test_login_redirect_without_a_reason_has_no_query() -> None:
    assert login_redirect(_request(), LoginRequired()).headers["location"] == "/login"
    # Starlette types the handler as taking any exception; another one carries no reason
    assert login_redirect(_request(), RuntimeError("boom")).headers["location"] == "/login"


def test_every_page_family_is_mounted_on_the_dashboard_router() -> None:
    routes.mount_pages()
    routes.mount_pages()  # once: a second call mounts nothing again
    app = FastAPI()
    app.include_router(routes.router)
    families = {
        account: {"login_page": "/login", "tokens_page": "/tokens", "favicon": "/favicon.ico"},
        map_pages: {"map_page": "/map"},
        gaps_page: {"gaps_page": "/gaps", "run_plan": "/plan/run"},
        plan_page: {"plan_page": "/plan"},
        depot_pages: {"depots_page": "/depots"},
        logs_page: {"ledger_page": "/ledger", "audit_page": "/audit"},
    }
    for module, pages in families.items():
        for name, path in pages.items():
            assert getattr(module, name).__module__ == module.__name__
            assert app.url_path_for(name) == path, name
    assert page.NAV[0][1] == "/map"  # the navigation starts where sign-in lands (account.home)
