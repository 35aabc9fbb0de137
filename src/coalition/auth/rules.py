"""Pure access-control rules: what a role may do, what a nation may see, separation of duties.

No database here. :mod:`coalition.auth.scope` is the one choke point that applies these rules to
every query; nothing else in the service decides who sees what.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from coalition.auth.schemas import HQ, Principal, Role
from coalition.errors import PermissionDeniedError

ALL = "ALL"
"""Marking value: releasable to every coalition member."""

# Kinds whose "view" is not implied by the viewer wildcard: who holds which account, and the
# audit trail, are themselves sensitive.
PRIVILEGED_KINDS = frozenset({"user", "audit", "token"})

# Action grants per role, as "<kind>.<verb>"; "*.view" means viewing every non-privileged kind.
ROLE_GRANTS: dict[Role, frozenset[str]] = {
    Role.VIEWER: frozenset({"*.view"}),
    Role.PLANNER: frozenset(
        {"*.view", "scenario.add", "pledge.transition", "pledge.release", "plan.run", "gaps.assume"}
    ),
    Role.DEPOT_OFFICER: frozenset(
        {"*.view", "custody.add", "custody.approve", "custody.count", "depot.place", "checkpoint.add"}
    ),
    Role.INSPECTOR: frozenset({"*.view", "custody.count", "ledger.verify", "audit.view", "checkpoint.add"}),
    Role.ADMIN: frozenset({"*"}),
}


class Marking(BaseModel):
    """Releasability of one record: who originated it and to whom it is released."""

    model_config = ConfigDict(frozen=True)

    origin: str = Field(description="ISO3 of the originating nation, or HQ")
    releasable_to: tuple[str, ...] = Field(default=(), description="ISO3 codes, 'HQ' or 'ALL' that may see the record")


PUBLIC = Marking(origin=HQ, releasable_to=(ALL,))


def has_permission(principal: Principal, action: str) -> bool:
    """True when one of the principal's roles grants ``action`` (``"<kind>.<verb>"``)."""
    kind, _, verb = action.partition(".")
    for role in principal.roles:
        grants = ROLE_GRANTS.get(role, frozenset())
        if "*" in grants or action in grants:
            return True
        if verb == "view" and "*.view" in grants and kind not in PRIVILEGED_KINDS:
            return True
    return False


def can_see(principal: Principal, marking: Marking) -> bool:
    """Releasability: own records, records released to the nation (or to HQ for HQ staff), ALL."""
    if marking.origin == principal.nation:
        return True
    released = set(marking.releasable_to)
    return ALL in released or principal.nation in released


def can_change(principal: Principal, marking: Marking) -> bool:
    """Writes are narrower than reads: only the originating nation, or HQ, may change a record.

    A nation to which a record was *released* may read it but not change it.
    """
    return marking.origin == principal.nation or principal.nation == HQ


def can_release(principal: Principal, marking: Marking) -> bool:
    """Only the originating nation decides to whom its record is released."""
    return marking.origin == principal.nation


def require_not_requester(principal: Principal, requested_by: str | None) -> None:
    """Separation of duties: whoever requested a transfer may not approve it."""
    if requested_by is not None and requested_by == principal.name:
        raise PermissionDeniedError(
            f"separation of duties: {principal.name} requested this transfer and may not approve "
            "it; another officer must approve"
        )


def require_not_custodian(principal: Principal, custodians: Iterable[str | None]) -> None:
    """Separation of duties: the custodian of stock may not count it (blind stocktake).

    Custody in the ledger is held by a nation, so the counter must be of another nation (a
    donor's or HQ's inspector).
    """
    holders = {c for c in custodians if c}
    if principal.nation in holders or principal.name in holders:
        raise PermissionDeniedError(
            f"separation of duties: {principal.nation} holds custody of stock at this location "
            "and may not count it; an inspector of another nation or of HQ must count"
        )
