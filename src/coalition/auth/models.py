"""ORM tables of the auth package: users, API tokens and dashboard sessions.

The audit log lives in :mod:`coalition.audit.models` (re-exported here for older imports).
The tables are created by the ``auth`` Alembic branch.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.audit.models import AuditEntry as AuditEntry  # re-exported for older imports
from coalition.store.db import Base


class User(Base):
    __tablename__ = "auth_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    nation: Mapped[str] = mapped_column(String(3), nullable=False)  # ISO3 or "HQ"
    roles: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ApiToken(Base):
    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)  # shown in lists, not secret
    label: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The token this one was minted with (None: issued by an operator or the CLI). Revoking a
    # token revokes every descendant; a child never outlives nor out-ranks its parent.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("auth_tokens.id"), nullable=True, index=True)
    # Roles this token may use (None: all of its user's roles); effective = user's ∩ these.
    roles: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class AuthSession(Base):
    """A dashboard session, kept server-side: the cookie carries only a random secret whose
    SHA-256 is ``secret_hash``. Signing out (or a timeout) ends the row, so a copy of the cookie
    is worthless afterwards."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    token_id: Mapped[int] = mapped_column(ForeignKey("auth_tokens.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
