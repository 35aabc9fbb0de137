"""Dashboard sign-in state and CSRF protection.

The session cookie (Starlette ``SessionMiddleware``: itsdangerous-signed, HttpOnly,
SameSite=strict, Secure) holds only a random session secret and a CSRF secret; the session
itself lives server-side (:mod:`coalition.auth.sessions`), so signing out ends it for every copy
of the cookie, and idle/absolute timeouts come from settings. The token the user signed in with
is re-checked on every request, so revoking or expiring it ends the session too. Every form
carries the CSRF secret and every POST compares it in constant time (synchroniser-token
pattern) on top of the SameSite cookie.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from sqlalchemy.orm import Session

from coalition.auth import service, sessions
from coalition.auth.schemas import Principal
from coalition.auth.service import AuthenticationFailed
from coalition.errors import CoalitionError, PermissionDeniedError

SESSION_KEY = sessions.COOKIE_KEY


class LoginRequired(CoalitionError):
    """No valid dashboard session: redirect to the sign-in page."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(str(expected), str(submitted)):
        raise PermissionDeniedError("the form's CSRF token is missing or wrong; reload the page and submit again")


def has_session(request: Request) -> bool:
    return "session" in request.scope and isinstance(request.session.get(SESSION_KEY), str)


def cookie_principal(request: Request, db: Session) -> Principal:
    """The principal of the request's session cookie (API and dashboard share this)."""
    if not has_session(request):
        raise AuthenticationFailed("no session")
    limits = sessions.SessionLimits.of(request.app.state.coalition.settings)
    return sessions.resolve(db, secret=request.session[SESSION_KEY], limits=limits)


def session_principal(request: Request, db: Session) -> Principal:
    if not has_session(request):
        raise LoginRequired()
    try:
        principal = cookie_principal(request, db)
    except AuthenticationFailed as exc:
        request.session.clear()
        raise LoginRequired(str(exc)) from None
    request.scope["coalition.principal"] = principal  # for the audit entry of a later denial
    return principal


def sign_in(request: Request, db: Session, token: str) -> Principal:
    principal = service.authenticate(db, token=token.strip())
    assert principal.token_id is not None
    request.session.clear()  # a fresh session (and CSRF secret) at every sign-in
    request.session[SESSION_KEY] = sessions.begin(db, token_id=principal.token_id)
    request.session["csrf"] = secrets.token_urlsafe(32)
    return principal


def sign_out(request: Request, db: Session) -> None:
    """End the server-side session (every copy of the cookie dies with it) and clear ours."""
    secret = request.session.get(SESSION_KEY)
    if isinstance(secret, str):
        sessions.end(db, secret=secret)
    request.session.clear()
