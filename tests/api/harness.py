"""Harness for the API, auth and dashboard tests: an app on SQLite or PostgreSQL with the tiny scenario stored as
the default and a client per user (each with its own real bearer token)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coalition.api import create_app
from coalition.scenario import store
from coalition.auth import service
from coalition.auth.schemas import HQ, Principal, UserCreate
from coalition.settings import Settings
from coalition.store.db import transaction
from api.factories import USERS, tiny_scenario


@dataclass
class Service:
    app: object
    tokens: dict[str, str]
    base: TestClient

    def client(self, user: str | None) -> TestClient:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return TestClient(self.app, base_url="https://testserver", headers=headers)

    def db(self):  # a fresh transaction on the app's database
        return transaction(self.app.state.coalition.session_factory)


def init_ledger(app: object, data_dir: Path) -> int:
    """Keys and the illustrative sample custody history, as `coalition ledger init` does."""
    from coalition.inventory.safety import depot_safety
    from coalition.ledger import sample, service as ledger
    from coalition.ledger.keys import KeyRing

    keyring = KeyRing.generate(data_dir / "keys", sorted({*sample.SAMPLE_NATIONS, "HQ"} - {"HQ"}))
    with transaction(app.state.coalition.session_factory) as db:  # type: ignore[attr-defined]
        ledger.register_keys(db, keyring=keyring)
        res = sample.load_sample(db, keyring=keyring,
                                 safety=depot_safety(db, sample.ledger_network(None)))
    return res.last_seq


def build_service(db_url: str, data_dir: Path, **overrides: object) -> Service:
    # Fair-use limits are off unless a test asks for them (tests/api/test_ratelimit.py does).
    overrides = {"rate_limit_per_minute": 0, **overrides}
    settings = Settings(database_url=db_url, data_dir=data_dir, secret_key="test-secret",
                        **overrides)
    app = create_app(settings)
    tokens: dict[str, str] = {}
    system = Principal(user_id=None, name="system", nation=HQ, roles=frozenset())
    with transaction(app.state.coalition.session_factory) as db:
        store.create(db, scenario=tiny_scenario(), principal=system, make_default=True)
        for name, (nation, roles) in USERS.items():
            user = service.create_user(db, data=UserCreate(name=name, nation=nation, roles=roles))
            _row, tokens[name] = service.issue_token(db, user=user)
    init_ledger(app, data_dir)
    return Service(app=app, tokens=tokens, base=TestClient(app, base_url="https://testserver"))




def class_db_url(request, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database URL that lives for a whole test class (SQLite file or a fresh PG schema)."""
    import conftest as root

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'coalition.db'}"
        return
    with root.pg_schema_url() as url:
        yield url


# Fixtures shared by tests/api and tests/auth (each conftest re-exports them).
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
