"""Fixtures for ledger tests: a migrated database (SQLite and PostgreSQL) with demo keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from .ledger_helpers import NATIONS, Ledger

from coalition.ledger import service
from coalition.ledger.keyevents import trust_from_keyring
from coalition.ledger.keys import KeyRing
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys")
    KeyRing.generate(d, NATIONS)  # generating once keeps the tests fast
    return d


@pytest.fixture
def ledger(db_url: str, keys_dir: Path) -> Iterator[Ledger]:
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    keyring = KeyRing.load(keys_dir)
    trust = trust_from_keyring(keyring)
    with transaction(factory) as s:
        service.register_keys(s, keyring=keyring, trust=trust)
    yield Ledger(db_url, factory, keyring, keys_dir, trust)
    engine.dispose()


