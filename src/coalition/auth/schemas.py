"""Typed values of the auth package: roles, the principal, users, tokens, audit entries."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; every stored time is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
"""A timezone-aware UTC time (an answer never carries a naive datetime)."""

HQ = "HQ"
"""The nation code of the coalition headquarters (not an ISO code on purpose)."""

NationOrHQ = Annotated[str, Field(pattern=r"^([A-Z]{3}|HQ)$", description="ISO 3166-1 alpha-3 code, or HQ")]
UserName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-@]*$",
        min_length=1,
        max_length=64,
        description="user name: letters, digits, '_', '.', '-', '@'",
    ),
]


class Role(StrEnum):
    PLANNER = "planner"
    DEPOT_OFFICER = "depot-officer"
    INSPECTOR = "inspector"
    VIEWER = "viewer"
    ADMIN = "admin"


class Principal(BaseModel):
    """Who is asking: the authenticated user as the scoping function sees it."""

    model_config = ConfigDict(frozen=True)

    user_id: int | None
    name: str
    nation: str
    roles: frozenset[Role]
    token_id: int | None = None

    @property
    def is_hq(self) -> bool:
        return self.nation == HQ


#: Who an unauthenticated attempt is audited as (API and dashboard alike).
ANONYMOUS = Principal(user_id=None, name="(anonymous)", nation="-", roles=frozenset())


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: UserName
    nation: NationOrHQ
    roles: list[Role] = Field(min_length=1, max_length=5)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    nation: str
    roles: list[str]
    active: bool
    created_at: UtcDatetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=100)
    days: int | None = Field(
        default=None,
        ge=1,
        le=366,
        description=(
            "validity in days (default 90); a token minted with a token expires no later than its "
            "parent, and by default with it"
        ),
    )
    roles: list[Role] | None = Field(
        default=None,
        max_length=5,
        description=(
            "narrow the token to these roles (default: the parent token's roles, or all of the "
            "user's roles for an admin minting for someone else)"
        ),
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str
    label: str
    created_at: UtcDatetime
    expires_at: UtcDatetime
    revoked_at: UtcDatetime | None
    parent_id: int | None = None
    roles: list[str] | None = None


class IssuedToken(TokenOut):
    """Returned once, when a token is issued: the only time the secret is shown."""

    token: str
    user: str


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UtcDatetime
    user_id: int | None
    user_name: str
    nation: str
    request_id: str
    action: str
    object_type: str
    object_id: str
    before: Any = None
    after: Any = None
    note: str = ""
    seq: int | None = None  # position in the hash chain
    entry_hash: str | None = None


class MeOut(BaseModel):
    """Who the request is authenticated as (roles: those this token may use)."""

    id: int | None
    name: str
    nation: str
    roles: list[str]


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    offset: int
    limit: int


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    offset: int
    limit: int
