"""Fixtures for the API tests (see harness.py).

``svc`` lives for a whole test module and runs it once on SQLite and once on PostgreSQL: building
the app (migrations, users, tokens) once per class keeps the generic resource tests fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.harness import Service, build_service, class_db_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def svc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    urls = class_db_url(request, tmp_path_factory)
    url = next(urls)
    s = build_service(url, tmp_path_factory.mktemp("data"))
    yield s
    s.app.state.coalition.engine.dispose()
    next(urls, None)


@pytest.fixture(scope="class")
def sqlite_svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    d = tmp_path_factory.mktemp("sq")
    s = build_service(f"sqlite:///{d / 'coalition.db'}", d)
    yield s
    s.app.state.coalition.engine.dispose()
