"""Batched audit writes keep the guarantee: concurrent reads each get their entry, committed
before the answer, in one intact chain; a failed batch fails its requests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from coalition.api.auditbatch import AuditBatcher
from coalition.audit.service import AuditChange
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
        await asyncio.gather(
            *(
                writer.write(
                    [
                        dict(
                            principal=WHO,
                            request_id=f"r{i}",
                            change=AuditChange(action="view", object_type="pledge", object_id=f"P{i}", note=""),
                        )
                    ]
                )
                for i in range(40)
            )
        )

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
        asyncio.run(
            writer.write(
                [
                    dict(
                        principal=WHO,
                        request_id="r",
                        change=AuditChange(action="view", object_type="pledge", object_id="P"),
                    )
                ]
            )
        )
    writer.shutdown()
    engine.dispose()


def test_a_crash_right_after_the_answers_loses_no_audit_entry(tmp_path: Path) -> None:
    """A real server process answers audited reads (batched entries) and is killed (SIGKILL)
    the moment the last answer arrives: every answered read has its entry in the log."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from sqlalchemy import select

    from api.harness import build_service
    from coalition.audit.models import AuditEntry

    svc = build_service(f"sqlite:///{tmp_path / 'coalition.db'}", tmp_path)
    url = str(svc.app.state.coalition.engine.url)
    svc.app.state.coalition.engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "COALITION_DATABASE_URL": url,
        "COALITION_DATA_DIR": str(tmp_path),
        "COALITION_SECRET_KEY": "test-secret",
        "COALITION_RATE_LIMIT_PER_MINUTE": "0",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import uvicorn; uvicorn.run('coalition.api.app:create_worker_app', "
            f"factory=True, host='127.0.0.1', port={port}, log_level='warning')",
        ],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/health/live", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {svc.tokens['gbr-viewer']}"}

        def read(i: int) -> str | None:
            rid = f"crash-{i}"
            r = httpx.get(base + "/api/pledges/GBR-inf", timeout=30, headers={**headers, "X-Request-ID": rid})
            return rid if r.status_code == 200 else None

        with ThreadPoolExecutor(8) as pool:
            answered = [rid for rid in pool.map(read, range(24)) if rid]
        # a gap picture starts the server's CPU worker process, which must not outlive it
        assert httpx.get(base + "/api/gaps", params={"option": "small"}, headers=headers, timeout=60).status_code == 200
        children = [
            c for task in Path(f"/proc/{server.pid}/task").iterdir() for c in (task / "children").read_text().split()
        ]
        assert children, "the CPU worker process was not started"
        os.kill(server.pid, signal.SIGKILL)  # no shutdown, no flush: the process is gone
        server.wait(timeout=10)
        deadline = time.monotonic() + 15
        alive = children
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [c for c in children if _running(int(c))]
        assert not alive, f"worker processes outlived their server: {alive}"
    finally:
        if server.poll() is None:
            server.kill()
    assert len(answered) == 24
    engine = make_engine(url)
    with session_factory(engine)() as db:
        logged = set(
            db.scalars(
                select(AuditEntry.request_id).where(AuditEntry.action == "view", AuditEntry.request_id.like("crash-%"))
            )
        )
        assert set(answered) <= logged, sorted(set(answered) - logged)
        assert verify_log(db).ok
    engine.dispose()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
