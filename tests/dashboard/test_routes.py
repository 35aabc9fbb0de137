"""The dashboard's sign-in redirect, the handler the app installs for ``LoginRequired``."""

from __future__ import annotations

from starlette.requests import Request

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
