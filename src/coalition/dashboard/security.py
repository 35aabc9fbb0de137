"""Dashboard sign-in state and CSRF protection.

The session cookie (Starlette ``SessionMiddleware``: itsdangerous-signed, HttpOnly,
SameSite=strict, Secure) holds only the id of the API token the user signed in with and a CSRF
secret. The token row is re-checked on every request, so revoking or expiring the token ends the
dashboard session too. Every form carries the CSRF secret and every POST compares it in
constant time (synchroniser-token pattern) on top of the SameSite cookie.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from sqlalchemy.orm import Session

from coalition.auth import service
from coalition.auth.schemas import Principal
from coalition.auth.service import AuthenticationFailed
from coalition.errors import PermissionDeniedError


class LoginRequired(Exception):
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
        raise PermissionDeniedError(
            "the form's CSRF token is missing or wrong; reload the page and submit again"
        )


def session_principal(request: Request, db: Session) -> Principal:
    token_id = request.session.get("token_id")
    if not isinstance(token_id, int):
        raise LoginRequired()
    try:
        return service.authenticate_token_id(db, token_id=token_id)
    except AuthenticationFailed as exc:
        request.session.clear()
        raise LoginRequired(str(exc)) from None


def sign_in(request: Request, db: Session, token: str) -> Principal:
    principal = service.authenticate(db, token=token.strip())
    request.session.clear()  # a fresh session (and CSRF secret) at every sign-in
    request.session["token_id"] = principal.token_id
    request.session["csrf"] = secrets.token_urlsafe(32)
    return principal
