"""coalition.dashboard.context.PageCtx: a page's audit entries go into its own transaction, and
a page that showed nothing restricted writes none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from coalition.audit.models import AuditEntry
from coalition.auth.schemas import Principal, Role
from coalition.dashboard.context import PageCtx

WHO = Principal(user_id=None, name="gbr-x", nation="GBR", roles=frozenset({Role.VIEWER}))


@pytest.fixture
def db(db_url: str) -> Iterator[object]:
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as s:
        yield s
    engine.dispose()


def entries(db) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry).where(AuditEntry.request_id == "page-1").order_by(AuditEntry.seq)))


def test_a_page_records_its_reads_and_changes_in_its_transaction(db) -> None:  # type: ignore[no-untyped-def]
    ctx = PageCtx(state=None, request_id="page-1", principal=WHO, db=db)  # type: ignore[arg-type]
    ctx.audit("view", "pledge", "GBR-p", note="dashboard")
    ctx.audit_read("pledge", ["GBR-a", "GBR-b", "GBR-c"])
    ctx.audit_read("pledge", [])  # nothing restricted on the page: no entry
    got = entries(db)
    assert [(e.action, e.object_type, e.object_id) for e in got] == [
        ("view", "pledge", "GBR-p"),
        ("list", "pledge", "3 record(s)"),
    ]
    assert got[1].note == "dashboard" and got[1].user_name == "gbr-x" and got[1].nation == "GBR"
