"""The pure access rules: role grants, releasability, writes narrower than reads, duties."""

from __future__ import annotations

import pytest

from coalition.auth.rules import (
    ALL,
    Marking,
    can_change,
    can_see,
    has_permission,
    require_not_custodian,
    require_not_requester,
)
from coalition.auth.schemas import Principal, Role
from coalition.errors import PermissionDeniedError


def who(nation: str, *roles: str, name: str = "x") -> Principal:
    return Principal(user_id=1, name=name, nation=nation, roles=frozenset(Role(r) for r in roles))


@pytest.mark.parametrize(
    ("roles", "action", "allowed"),
    [
        (("viewer",), "hub.view", True),
        (("viewer",), "audit.view", False),  # the audit trail is not for every viewer
        (("viewer",), "user.view", False),
        (("viewer",), "plan.run", False),
        (("planner",), "plan.run", True),
        (("planner",), "custody.add", False),
        (("depot-officer",), "custody.add", True),
        (("depot-officer",), "pledge.transition", False),
        (("inspector",), "audit.view", True),
        (("inspector",), "custody.count", True),
        (("inspector",), "custody.add", False),
        (("admin",), "user.add", True),
        (("viewer", "planner"), "plan.run", True),
        ((), "hub.view", False),
    ],
)
def test_role_grants(roles: tuple[str, ...], action: str, allowed: bool) -> None:
    assert has_permission(who("GBR", *roles), action) is allowed


def test_releasability() -> None:
    gbr_only = Marking(origin="GBR", releasable_to=("HQ",))
    assert can_see(who("GBR", "viewer"), gbr_only)
    assert can_see(who("HQ", "viewer"), gbr_only)
    assert not can_see(who("FRA", "viewer"), gbr_only)
    assert can_see(who("FRA", "viewer"), Marking(origin="GBR", releasable_to=("FRA",)))
    assert can_see(who("POL", "viewer"), Marking(origin="GBR", releasable_to=(ALL,)))
    assert not can_see(who("HQ", "viewer"), Marking(origin="GBR", releasable_to=()))


def test_release_is_read_only_for_the_receiver() -> None:
    released = Marking(origin="GBR", releasable_to=("FRA", "HQ"))
    assert can_see(who("FRA", "planner"), released)
    assert not can_change(who("FRA", "planner"), released)
    assert can_change(who("GBR", "planner"), released)
    assert can_change(who("HQ", "planner"), released)


def test_separation_of_duties() -> None:
    alice = who("FRA", "depot-officer", name="alice")
    with pytest.raises(PermissionDeniedError, match="separation of duties"):
        require_not_requester(alice, "alice")
    require_not_requester(alice, "bob")
    with pytest.raises(PermissionDeniedError, match="separation of duties"):
        require_not_custodian(alice, {"FRA"})
    require_not_custodian(who("POL", "inspector"), {"FRA"})
    require_not_custodian(alice, set())
