"""API tokens: issue, mint from a parent, list, revoke (with every descendant).

Tokens: 32 random bytes from :mod:`secrets`, shown once as ``coa_<urlsafe base64>``, stored only
as their SHA-256 hex digest. A slow password hash (bcrypt, argon2) exists to make guessing
*low-entropy* human passwords expensive; a 256-bit random token cannot be guessed, so a single
SHA-256 is enough and keeps every authenticated request to one indexed lookup.

Lineage: a token used to mint another becomes its parent. The child's expiry is at most the
parent's, its roles at most the parent's effective roles, and revoking a token revokes every
token below it — so a leaked short-lived token cannot be turned into a long-lived one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coalition.auth.models import ApiToken, User
from coalition.auth.schemas import Principal, Role
from coalition.errors import InputError, NotFoundError, Problem

TOKEN_PREFIX = "coa_"
MAX_DAYS = 366


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def covered(user_roles: set[str] | list[str], role: str) -> bool:
    """Whether a user's roles include ``role`` (admin includes every role)."""
    return role in user_roles or Role.ADMIN.value in user_roles


def effective_roles(user_roles: list[str], token_roles: list[str] | None) -> frozenset[Role]:
    """What a request made with this token may do: its user's roles, narrowed by the token."""
    if token_roles is None:
        return frozenset(Role(r) for r in user_roles)
    return frozenset(Role(r) for r in token_roles if covered(user_roles, r))


def issue_token(
    session: Session,
    *,
    user: User,
    days: int | None = 90,
    label: str = "",
    roles: list[str] | None = None,
    parent: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret (the only time it exists in clear).

    ``days=None`` with a parent: the child expires with its parent (at most 90 days)."""
    if days is None:
        days = 90
        inherit = parent is not None
    else:
        inherit = False
    if not 1 <= days <= MAX_DAYS:
        raise InputError([Problem(f"token validity must be 1..{MAX_DAYS} days", field="days")])
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    issued = now()
    expires = issued + timedelta(days=days)
    if inherit and parent is not None:
        expires = min(expires, aware(parent.expires_at))
    if parent is not None and expires > aware(parent.expires_at):
        raise InputError(
            [
                Problem(
                    f"a token minted with token {parent.id} must expire by "
                    f"{aware(parent.expires_at).isoformat()} (its parent's remaining validity)",
                    field="days",
                    hint="ask for fewer days, or use a longer-lived token",
                )
            ]
        )
    token = ApiToken(
        user_id=user.id,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        label=label,
        created_at=issued,
        expires_at=expires,
        parent_id=parent.id if parent is not None else None,
        roles=sorted(set(roles)) if roles is not None else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def mint_token(
    session: Session,
    *,
    by: Principal,
    user: User,
    days: int | None,
    label: str = "",
    roles: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """A token minted by a request: a child of the request's own token (when it used one).

    The parent row is locked (``FOR UPDATE`` on PostgreSQL) so a concurrent revocation of the
    parent either happens first (then this is refused as revoked) or cascades to this child.
    """
    user_roles = set(user.roles)
    wanted = set(roles) if roles is not None else None
    if wanted is not None and not all(covered(user_roles, r) for r in wanted):
        raise InputError(
            [
                Problem(
                    f"user '{user.name}' does not hold role(s) "
                    f"{sorted(r for r in wanted if not covered(user_roles, r))}",
                    field="roles",
                    hint=f"choose from {sorted(user_roles)}",
                )
            ]
        )
    if by.token_id is None:  # an operator (CLI) or an internal caller: a root token
        return issue_token(session, user=user, days=days, label=label, roles=roles)
    parent = session.scalar(select(ApiToken).where(ApiToken.id == by.token_id).with_for_update())
    if parent is None or parent.revoked_at is not None:
        from coalition.auth.service import AuthenticationFailed

        raise AuthenticationFailed("token revoked")
    parent_roles = {r.value for r in by.roles}
    if Role.ADMIN.value not in parent_roles or user.id == parent.user_id:
        # Without admin rights (or for oneself) a child is at most the parent's own roles.
        if wanted is None:
            wanted = {r for r in parent_roles if covered(user_roles, r)}
        over = sorted(r for r in wanted if not covered(parent_roles, r))
        if over:
            raise InputError(
                [
                    Problem(
                        f"a token minted with token {parent.id} may carry at most its roles "
                        f"{sorted(parent_roles)}; {over} would widen it",
                        field="roles",
                    )
                ]
            )
    return issue_token(
        session, user=user, days=days, label=label, roles=sorted(wanted) if wanted is not None else None, parent=parent
    )


def list_tokens(session: Session, *, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def descendants(session: Session, token_id: int) -> list[int]:
    """Ids of every token minted, directly or not, from ``token_id`` (breadth first)."""
    out: list[int] = []
    frontier = [token_id]
    while frontier:
        children = list(session.scalars(select(ApiToken.id).where(ApiToken.parent_id.in_(frontier))))
        out.extend(children)
        frontier = children
    return out


def revoke_token(session: Session, *, user: User, token_id: int) -> ApiToken:
    """Revoke a token and all its descendants (whoever they belong to); idempotent."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFoundError(f"token {token_id} not found")
    revoke_tree(session, token)
    return token


def revoke_tree(session: Session, token: ApiToken) -> list[int]:
    at = now()
    if token.revoked_at is None:
        token.revoked_at = at
    below = descendants(session, token.id)
    if below:
        session.execute(
            update(ApiToken).where(ApiToken.id.in_(below), ApiToken.revoked_at.is_(None)).values(revoked_at=at)
        )
    session.flush()
    return below
