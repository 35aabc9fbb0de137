"""coalition.auth.queries: one page of the audit log as a principal may see it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from coalition.auth.queries import audit_marking, user_nations, visible_audit
from coalition.auth.schemas import HQ, Principal, Role, UserCreate
from coalition.errors import InputError, PermissionDeniedError


def who(nation: str, *roles: Role) -> Principal:
    return Principal(user_id=None, name=f"{nation.lower()}-x", nation=nation, roles=frozenset(roles))


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    from coalition.audit import service as audit
    from coalition.auth import service
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as s:
        for nation in ("GBR", "FRA", "GBR"):
            audit.append(
                s,
                principal=who(nation, Role.PLANNER),
                request_id=f"r-{nation}",
                change=audit.AuditChange("edit", "pledge", f"{nation}-p"),
            )
        service.create_user(s, data=UserCreate(name="pol-one", nation="POL", roles=[Role.VIEWER]))
        yield s
    engine.dispose()


def test_an_entry_belongs_to_the_acting_users_nation() -> None:
    class Entry:
        nation = "FRA"

    m = audit_marking(Entry())
    assert m.origin == "FRA" and m.releasable_to == (HQ,)


def test_a_nations_inspector_sees_its_own_entries_only(db) -> None:  # type: ignore[no-untyped-def]
    gbr = who("GBR", Role.INSPECTOR)
    page = visible_audit(db, gbr, offset=0, limit=50)
    assert page["total"] == 2 and {e["object_id"] for e in page["items"]} == {"GBR-p"}
    assert visible_audit(db, gbr, offset=0, limit=50, nation="FRA")["items"] == []  # not another's
    assert visible_audit(db, gbr, offset=0, limit=50, nation="GBR")["total"] == 2
    assert len(visible_audit(db, gbr, offset=1, limit=1)["items"]) == 1


def test_hq_sees_every_nation_and_can_filter(db) -> None:  # type: ignore[no-untyped-def]
    hq = who(HQ, Role.INSPECTOR)
    assert visible_audit(db, hq, offset=0, limit=50)["total"] >= 3
    fra = visible_audit(db, hq, offset=0, limit=50, nation="FRA")
    assert [e["object_id"] for e in fra["items"]] == ["FRA-p"]


def test_times_need_their_zone_and_a_viewer_may_not_read(db) -> None:  # type: ignore[no-untyped-def]
    hq = who(HQ, Role.INSPECTOR)
    with pytest.raises(InputError) as err:
        visible_audit(db, hq, offset=0, limit=5, since=datetime(2026, 1, 1), until=datetime(2027, 1, 1))
    assert [p.field for p in err.value.problems] == ["since", "until"]
    from datetime import UTC

    later = datetime.now(UTC) + timedelta(days=1)
    assert visible_audit(db, hq, offset=0, limit=5, since=later)["items"] == []
    with pytest.raises(PermissionDeniedError):
        visible_audit(db, who("GBR", Role.VIEWER), offset=0, limit=5)


def test_user_nations_are_the_accounts_nations(db) -> None:  # type: ignore[no-untyped-def]
    assert user_nations(db) == {"POL"}
