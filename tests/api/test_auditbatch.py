"""Batched audit writes keep the guarantee: concurrent reads each get their entry, committed
before the answer, in one intact chain; a failed batch fails its requests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from coalition.api.auditbatch import AuditBatcher
from coalition.audit.verify import verify_log
from coalition.auth.schemas import Principal, Role
from coalition.store.db import make_engine, session_factory
from coalition.store.migrate import upgrade

WHO = Principal(user_id=1, name="gbr-viewer", nation="GBR", roles=frozenset({Role.VIEWER}))


def test_concurrent_batches_are_durable_and_chained(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    writer = AuditBatcher(factory)

    async def reads() -> None:
        await asyncio.gather(*(writer.write([dict(
            principal=WHO, request_id=f"r{i}", action="view", object_type="pledge",
            object_id=f"P{i}", note="")]) for i in range(40)))

    asyncio.run(reads())
    with factory() as db:
        report = verify_log(db)
        assert report.ok, report.problems
        assert report.entries == 40
    writer.shutdown()
    engine.dispose()


def test_a_failed_batch_fails_its_requests(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")  # not migrated: no audit tables
    writer = AuditBatcher(session_factory(engine))
    with pytest.raises(Exception):
        asyncio.run(writer.write([dict(principal=WHO, request_id="r", action="view",
                                       object_type="pledge", object_id="P", note="")]))
    writer.shutdown()
    engine.dispose()
