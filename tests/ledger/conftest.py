"""Fixtures for ledger tests: a migrated database (SQLite and PostgreSQL) with demo keys."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from coalition.ledger import service
from coalition.ledger.keyevents import trust_from_keyring
from coalition.ledger.keys import KeyRing
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade

from .ledger_helpers import NATIONS, Ledger


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys")
    KeyRing.generate(d, NATIONS)  # generating once keeps the tests fast
    return d


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file at the newest schema, migrated once per session (the migrations themselves
    are tested in tests/store, tests/auth and tests/scenario)."""
    path = tmp_path_factory.mktemp("migrated") / "coalition.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closes the WAL: the file alone is the database
    return path


@pytest.fixture
def ledger(db_url: str, keys_dir: Path, migrated_sqlite: Path) -> Iterator[Ledger]:
    if db_url.startswith("sqlite:///"):
        # a copy of the migrated file instead of running every migration again (about 0.3 s a
        # test); PostgreSQL gets its fresh schema migrated as before
        target = Path(db_url.removeprefix("sqlite:///"))
        if not target.exists():
            shutil.copyfile(migrated_sqlite, target)
    engine = make_engine(db_url)
    upgrade(engine)  # a no-op on the copy: the same path as a fresh database
    factory = session_factory(engine)
    keyring = KeyRing.load(keys_dir)
    trust = trust_from_keyring(keyring)
    with transaction(factory) as s:
        service.register_keys(s, keyring=keyring, trust=trust)
    yield Ledger(db_url, factory, keyring, keys_dir, trust)
    engine.dispose()


