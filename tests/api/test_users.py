"""coalition.api.routers.users: whose tokens a principal may manage (the routes run over HTTP in
tests/auth/test_tokens.py and tests/auth/test_security.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from coalition.api.routers.users import _token_owner, _user_marking
from coalition.auth import service
from coalition.auth.schemas import HQ, Principal, Role, UserCreate
from coalition.errors import NotFoundError, PermissionDeniedError


@pytest.fixture
def db(db_url: str) -> Iterator[object]:
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as s:
        for name, nation in (("ann", "GBR"), ("bob", "GBR"), ("eve", "FRA")):
            service.create_user(s, data=UserCreate(name=name, nation=nation, roles=[Role.VIEWER]))
        yield s
    engine.dispose()


def ctx(db: object, name: str, nation: str, *roles: Role) -> SimpleNamespace:
    return SimpleNamespace(db=db, principal=Principal(user_id=None, name=name, nation=nation, roles=frozenset(roles)))


def test_an_account_is_its_nations_and_released_to_hq() -> None:
    m = _user_marking(SimpleNamespace(nation="FRA"))
    assert m.origin == "FRA" and m.releasable_to == (HQ,)


def test_users_manage_their_own_tokens_whatever_their_roles(db: object) -> None:
    assert _token_owner(ctx(db, "ann", "GBR", Role.VIEWER), "ann", "token.view").name == "ann"


def test_an_admin_manages_tokens_in_scope_only(db: object) -> None:
    gbr_admin = ctx(db, "root-gbr", "GBR", Role.ADMIN)
    assert _token_owner(gbr_admin, "bob", "token.view").name == "bob"
    with pytest.raises(NotFoundError):
        _token_owner(gbr_admin, "eve", "token.view")  # another nation's account: as if absent
    with pytest.raises(NotFoundError):
        _token_owner(gbr_admin, "nobody", "token.view")
    assert _token_owner(ctx(db, "hq-root", HQ, Role.ADMIN), "eve", "token.add").name == "eve"


def test_without_admin_another_users_tokens_are_refused(db: object) -> None:
    with pytest.raises(PermissionDeniedError, match="do not allow .token.view."):
        _token_owner(ctx(db, "ann", "GBR", Role.PLANNER), "bob", "token.view")
