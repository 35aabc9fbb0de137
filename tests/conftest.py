"""Shared fixtures: real SQLite and real PostgreSQL databases.

``db_url`` is parametrised over both back ends. PostgreSQL comes from ``COALITION_TEST_PG_URL``
(default: the local server, database ``test``). Each test gets its own schema, dropped after.
When the server is unreachable the PG cases skip with a visible reason, unless
``COALITION_REQUIRE_PG=1`` (set by .ci/run), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_URL = os.environ.get("COALITION_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("COALITION_REQUIRE_PG") == "1"


def _pg_reachable() -> str | None:
    """None when reachable, else the reason."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"{type(exc).__name__}: {exc}"


_PG_STATUS: list[str | None] = []


def pg_status() -> str | None:
    if not _PG_STATUS:
        _PG_STATUS.append(_pg_reachable())
    return _PG_STATUS[0]


def pytest_report_header(config: pytest.Config) -> str:
    reason = pg_status()
    if reason is None:
        return f"PostgreSQL: reachable at {PG_URL}"
    mode = "REQUIRED -> PG tests will FAIL" if REQUIRE_PG else "PG tests will be SKIPPED"
    return f"PostgreSQL: NOT reachable ({reason}); {mode}"


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped on exit.

    Skips when the server is unreachable, or fails when ``COALITION_REQUIRE_PG=1``. Used by the
    per-test ``pg_url`` fixture and by longer-lived fixtures (e.g. tests/api/harness.py)."""
    reason = pg_status()
    if reason is not None:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required (COALITION_REQUIRE_PG=1) but unreachable: {reason}")
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with pg_schema_url() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'coalition.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


def _needs_pg(item: pytest.Item) -> bool:
    """The test asks for ``pg_url`` or runs with a ``"postgresql"`` parameter (``db_url`` and
    the per-module service fixtures are parametrised that way)."""
    if "pg_url" in getattr(item, "fixturenames", ()):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgresql" in callspec.params.values()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every PostgreSQL case ``pg``, so ``-m "not pg"`` runs the rest without a server."""
    for item in items:
        if _needs_pg(item):
            item.add_marker(pytest.mark.pg)
