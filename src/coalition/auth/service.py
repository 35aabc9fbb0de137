"""DB operations of the auth package (keyword-only functions; the caller owns the transaction).

Token issue, lineage and revocation live in :mod:`coalition.auth.tokens`, dashboard sessions in
:mod:`coalition.auth.sessions`; the names are re-exported here for existing callers.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from coalition.audit.models import AuditEntry
from coalition.audit.service import AuditChange as AuditChange  # `X as X`: re-exported for callers
from coalition.auth.models import ApiToken, User
from coalition.auth.schemas import Principal, Role, UserCreate
from coalition.auth.tokens import TOKEN_PREFIX as TOKEN_PREFIX  # `X as X`: re-exported for callers
from coalition.auth.tokens import aware as _aware
from coalition.auth.tokens import effective_roles as effective_roles
from coalition.auth.tokens import hash_token as hash_token
from coalition.auth.tokens import issue_token as issue_token
from coalition.auth.tokens import list_tokens as list_tokens
from coalition.auth.tokens import mint_token as mint_token
from coalition.auth.tokens import now as now
from coalition.auth.tokens import revoke_token as revoke_token
from coalition.errors import CoalitionError, ConflictError, NotFoundError

if TYPE_CHECKING:
    from coalition.audit.service import AuditFilter


def create_user(session: Session, *, data: UserCreate) -> User:
    if session.scalar(select(User.id).where(User.name == data.name)) is not None:
        raise ConflictError(f"user '{data.name}' already exists")
    user = User(
        name=data.name,
        nation=data.nation,
        roles=sorted({r.value for r in data.roles}),
        active=True,
        created_at=now(),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, *, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        known = list(session.scalars(select(User.name).limit(200)))
        from coalition.errors import closest

        hint = closest(name, known)
        raise NotFoundError(f"user '{name}' not found" + (f" (did you mean '{hint}'?)" if hint else ""))
    return user


def list_users(session: Session, *, offset: int = 0, limit: int = 50) -> tuple[list[User], int]:
    total = session.scalar(select(func.count()).select_from(User)) or 0
    rows = list(session.scalars(select(User).order_by(User.id).offset(offset).limit(limit)))
    return rows, total


def principal_of(user: User, token_id: int | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        name=user.name,
        nation=user.nation,
        roles=frozenset(Role(r) for r in user.roles),
        token_id=token_id,
    )


def system_principal(name: str = "system") -> Principal:
    """The actor of operator commands (CLI): no user row, HQ, no roles."""
    return Principal(user_id=None, name=name, nation="HQ", roles=frozenset())


class AuthenticationFailed(CoalitionError):
    """Token missing, unknown, expired or revoked (HTTP 401). The reason is safe to show."""


_AUTH_QUERY = (
    select(
        ApiToken.id.label("token_id"),
        ApiToken.token_hash,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.roles.label("token_roles"),
        User.id.label("user_id"),
        User.name,
        User.nation,
        User.roles,
        User.active,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def authenticate(session: Session, *, token: str) -> Principal:
    """Resolve a bearer token to a principal; one indexed lookup."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise AuthenticationFailed("malformed token")
    digest = hash_token(token)
    # Columns, not ORM objects: this runs on every request and entity loading costs more than
    # the query itself.
    row = session.execute(_AUTH_QUERY, {"digest": digest}).first()
    # compare_digest keeps the final comparison constant-time (the index lookup is on the hash).
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise AuthenticationFailed("unknown token")
    if row.revoked_at is not None:
        raise AuthenticationFailed("token revoked")
    if _aware(row.expires_at) <= now():
        raise AuthenticationFailed("token expired")
    if not row.active:
        raise AuthenticationFailed("user deactivated")
    return Principal(
        user_id=row.user_id,
        name=row.name,
        nation=row.nation,
        roles=effective_roles(row.roles, row.token_roles),
        token_id=row.token_id,
    )


def authenticate_token_id(session: Session, *, token_id: int) -> Principal:
    """Re-validate a dashboard session's token on every request (revocation, expiry)."""
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.id == token_id)
    ).first()
    if row is None:
        raise AuthenticationFailed("unknown token")
    return _check_token(*row)


def _check_token(token_row: ApiToken, user: User) -> Principal:
    if token_row.revoked_at is not None:
        raise AuthenticationFailed("token revoked")
    if _aware(token_row.expires_at) <= now():
        raise AuthenticationFailed("token expired")
    if not user.active:
        raise AuthenticationFailed("user deactivated")
    return Principal(
        user_id=user.id,
        name=user.name,
        nation=user.nation,
        roles=effective_roles(user.roles, token_row.roles),
        token_id=token_row.id,
    )


SHOWN_IDS_MAX = 500


def read_list_entry(ids: list[Any]) -> tuple[str, dict[str, Any]]:
    """(object_id, after) of the one entry for a list or page that showed restricted records:
    which ones (the first 500, and how many more)."""
    shown = [str(i) for i in ids]
    return (f"{len(shown)} record(s)", {"ids": shown[:SHOWN_IDS_MAX], "more": max(0, len(shown) - SHOWN_IDS_MAX)})


def record_audit(
    session: Session,
    *,
    principal: Principal,
    request_id: str,
    change: AuditChange,
) -> AuditEntry:
    """Append one chained audit entry in the caller's transaction (:mod:`coalition.audit`)."""
    from coalition.audit import service as audit

    return audit.append(session, principal=principal, request_id=request_id, change=change)


def list_audit(
    session: Session, where: AuditFilter, *, offset: int = 0, limit: int = 50
) -> tuple[list[AuditEntry], int]:
    from coalition.audit import service as audit

    return audit.list_audit(session, where, offset=offset, limit=limit)
