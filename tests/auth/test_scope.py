"""coalition.auth.scope: the one access-control choke point. Roles decide the verb (403), the
marking decides the record: unreadable is 404 like an unknown id (OutOfScope, so the boundary
can audit it), readable but not ours to change is 403, and a write that moves a record out of
scope is refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, Principal, Role
from coalition.auth.scope import OutOfScope, restrict
from coalition.errors import NotFoundError, PermissionDeniedError


@dataclass(frozen=True)
class Rec:
    id: str
    origin: str
    released: tuple[str, ...] = ()


def marking(r: Rec) -> Marking:
    return Marking(origin=r.origin, releasable_to=r.released)


RECORDS = [Rec("pol", "POL"), Rec("fra", "FRA", ("POL",)), Rec("deu", "DEU"), Rec("hq", HQ, ("ALL",))]


def who(nation: str, *roles: Role) -> Principal:
    return Principal(user_id=1, name=f"{nation.lower()}-user", nation=nation, roles=frozenset(roles))


def test_a_role_without_the_verb_is_refused_naming_the_roles() -> None:
    with pytest.raises(PermissionDeniedError, match=r"your roles \(viewer\) do not allow 'pledge.transition'"):
        restrict(who("POL", Role.VIEWER), "pledge.transition", marking)
    with pytest.raises(PermissionDeniedError, match=r"\(none\)"):
        restrict(who("POL"), "scenario.view", marking)


def test_filter_keeps_own_released_and_public_records() -> None:
    scope = restrict(who("POL", Role.VIEWER), "pledge.view", marking)
    assert [r.id for r in scope.filter(RECORDS)] == ["pol", "fra", "hq"]


def test_unreadable_is_404_like_unknown_and_marked_out_of_scope() -> None:
    scope = restrict(who("POL", Role.VIEWER), "pledge.view", marking)
    with pytest.raises(OutOfScope) as hidden:
        scope.get(RECORDS, lambda r: r.id, "deu")
    with pytest.raises(NotFoundError) as unknown:
        scope.get(RECORDS, lambda r: r.id, "nope")
    assert not isinstance(unknown.value, OutOfScope)
    # the two answers read alike: existence is not disclosed
    assert str(hidden.value) == "pledge 'deu' not found" and str(unknown.value) == "pledge 'nope' not found"
    assert (hidden.value.kind, hidden.value.ident) == ("pledge", "deu")


def test_readable_but_not_ours_is_403_and_hq_may_change_it() -> None:
    planner = restrict(who("POL", Role.PLANNER), "pledge.transition", marking)
    assert planner.check(RECORDS[0], "pol").id == "pol"
    with pytest.raises(PermissionDeniedError, match="belongs to FRA"):
        planner.check(RECORDS[1], "fra")  # released to POL: readable, not changeable
    hq = restrict(who(HQ, Role.PLANNER), "pledge.transition", marking)
    with pytest.raises(OutOfScope):
        hq.check(RECORDS[2], "deu")  # not released to HQ: HQ cannot even see it
    assert hq.check(Rec("x", "DEU", (HQ,)), "x").id == "x"  # released to HQ: HQ may change it


def test_a_write_that_leaves_the_scope_is_refused() -> None:
    scope = restrict(who("POL", Role.PLANNER), "pledge.transition", marking)
    assert scope.verify_written(Rec("pol", "POL"), "pol").id == "pol"
    with pytest.raises(PermissionDeniedError, match="outside your scope; nothing was saved"):
        scope.verify_written(Rec("pol", "FRA", ("POL",)), "pol")
    with pytest.raises(PermissionDeniedError):
        scope.verify_written(None, "pol")
