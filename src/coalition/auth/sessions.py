"""Server-side dashboard sessions: begin at sign-in, end at sign-out or timeout.

The browser's cookie carries only a random session secret (and the CSRF secret); the row keyed
by its SHA-256 says whether the session is still alive. Signing out ends the row, so a copy of
the cookie taken before sign-out gets 401 from the API and a sign-in page from the dashboard.
Idle and absolute timeouts come from :class:`coalition.settings.Settings`. The token the user
signed in with is re-checked on every request too (revoked or expired token: session over).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coalition.auth.models import AuthSession
from coalition.auth.schemas import Principal
from coalition.auth.service import AuthenticationFailed, authenticate_token_id
from coalition.auth.tokens import aware, hash_token, now
from coalition.store.db import rowcount

COOKIE_KEY = "sid"  # the key of the session secret inside the signed cookie
TOUCH_EVERY = timedelta(seconds=30)  # last_seen is written at most this often per session


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, settings: object) -> SessionLimits:
        return cls(
            idle=timedelta(minutes=getattr(settings, "session_idle_minutes", 30)),
            absolute=timedelta(hours=getattr(settings, "session_absolute_hours", 8)),
        )


def begin(session: Session, *, token_id: int) -> str:
    """Open a session for a signed-in token; returns the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    at = now()
    session.add(AuthSession(secret_hash=hash_token(secret), token_id=token_id, created_at=at, last_seen_at=at))
    session.flush()
    return secret


def end(session: Session, *, secret: str, reason: str = "sign-out") -> bool:
    """End the session (idempotent); True when a live session was ended."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.secret_hash == hash_token(secret), AuthSession.ended_at.is_(None))
        .values(ended_at=now(), end_reason=reason)
    )
    return bool(rowcount(result))


def resolve(session: Session, *, secret: str, limits: SessionLimits) -> Principal:
    """The principal of a live session, else :class:`AuthenticationFailed`."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        raise AuthenticationFailed("no session")
    row = session.scalar(select(AuthSession).where(AuthSession.secret_hash == hash_token(secret)))
    if row is None:
        raise AuthenticationFailed("unknown session")
    if row.ended_at is not None:
        raise AuthenticationFailed(f"session ended ({row.end_reason or 'signed out'})")
    at = now()
    reason = None
    if at - aware(row.created_at) >= limits.absolute:
        reason = "session expired (absolute timeout)"
    elif at - aware(row.last_seen_at) >= limits.idle:
        reason = "session ended after being idle"
    if reason is not None:  # time only moves on: the session stays dead without a write
        raise AuthenticationFailed(reason)
    principal = authenticate_token_id(session, token_id=row.token_id)
    if at - aware(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = at
    return principal
